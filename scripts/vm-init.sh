#!/bin/busybox sh
# vm-init.sh - /init of the initramfs that scripts/test-cgroup2.sh boots in
# QEMU: a machine with nothing but cgroup v2, like a student's systemd
# machine, on which the cgroup tests run for real. No systemd: this script
# is PID 1 and does by hand what systemd does at boot for cgroups.
#
# Two serial ports: ttyS0 is the kernel's console (and the tests' own
# output: the log to read when something goes wrong), ttyS1 the results
# channel the host parses, kept free of kernel messages (an OOM kill prints
# on the console in the middle of a line). On ttyS1:
#   VLAB-VM booted uptime=SECONDS kernel=RELEASE
#   VLAB-VM check NAME ok|FAIL DETAILS    (what the machine offers)
#   VLAB-BEGIN NAME                       (then the binary's TAP report)
#   VLAB-END NAME rc=STATUS seconds=N
#   VLAB-VM done
# and then the machine powers off. The host reads the test list from
# /vlab/tests ("NAME PATH" lines) and extra environment from /vlab/env.
#
# References: the kernel's Documentation/filesystems/ramfs-rootfs-initramfs.rst
# (why /init, and why the initramfs cannot be pivot_root(2)ed),
# Documentation/admin-guide/cgroup-v2.rst (mounting, subtree_control, the
# no-internal-process rule, memory.events), bootparam(7).
PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
export PATH
bb=/bin/busybox

# ---- stage 1: leave the initramfs ------------------------------------------
# The initramfs is the kernel's "rootfs" mount, which has no parent mount:
# pivot_root(2) refuses it (EINVAL) and so would every container runtime
# (minictr's lab 10 included). Like a real distribution's initramfs, copy
# everything into a tmpfs and switch_root(8) to it (busybox's switch_root
# empties the initramfs, chroots and execs the new init).
if [ "$1" != stage2 ]; then
    $bb mount -t devtmpfs devtmpfs /dev
    exec 0<>/dev/console 1>&0 2>&0
    $bb mkdir -p /newroot
    $bb mount -t tmpfs -o mode=0755 tmpfs /newroot
    for f in /*; do
        case $f in /newroot | /dev) ;; *) $bb cp -a "$f" /newroot/ ;; esac
    done
    $bb mkdir -p /newroot/dev
    $bb mount --move /dev /newroot/dev
    # shellcheck disable=SC2093 # it only returns when it fails
    exec $bb switch_root /newroot /init stage2
    echo "vm-init: switch_root failed" >&2
    $bb poweroff -f
fi

# ---- stage 2: PID 1 on a tmpfs root ----------------------------------------
$bb --install -s
mkdir -p /proc /sys /tmp /run /root /dev/pts /dev/shm
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
chmod 1777 /tmp
hostname vlab-vm

res=/dev/ttyS1
stty -F $res raw 115200 2>/dev/null
say() { echo "$*" >$res; echo "vm-init: $*"; }
die() {
    say "VLAB-VM error $*"
    poweroff -f
    echo o >/proc/sysrq-trigger
}

read -r up _ </proc/uptime
say "VLAB-VM booted uptime=$up kernel=$(uname -r)"

# cgroup2 at /sys/fs/cgroup, with the options systemd uses (nsdelegate:
# a cgroup namespace is a delegation boundary; memory_recursiveprot).
mkdir -p /sys/fs/cgroup
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
    die "cannot mount cgroup2 at /sys/fs/cgroup"
cg=/sys/fs/cgroup

# Hand the controllers down from the root, as systemd does: the root
# cgroup is exempt from the no-internal-process rule. VM_CG_ENABLE="" on
# the host leaves it to the code under test.
enable="+memory +pids +cpu"
[ -r /vlab/cg-enable ] && enable=$(cat /vlab/cg-enable)
for c in $enable; do
    echo "$c" >$cg/cgroup.subtree_control ||
        die "cannot enable $c in $cg/cgroup.subtree_control"
done

# PID 1 in init.scope, the tests in tests.scope (a login session's scope on
# a systemd machine): nothing runs in the root cgroup, as there.
mkdir -p $cg/init.scope $cg/tests.scope
echo $$ >$cg/init.scope/cgroup.procs
swapoff -a 2>/dev/null # there is no swap: an OOM kill is an OOM kill

check() { # NAME CONDITION-RESULT DETAILS
    if [ "$2" = 0 ]; then say "VLAB-VM check $1 ok $3"
    else say "VLAB-VM check $1 FAIL $3"; fi
}
fstype=$(stat -f -c %t $cg)
[ "$fstype" = 63677270 ] # CGROUP2_SUPER_MAGIC, linux/magic.h
check cgroup2 $? "statfs(/sys/fs/cgroup).f_type = 0x$fstype"
ctrls=$(cat $cg/cgroup.controllers)
for c in memory pids cpu; do
    case " $ctrls " in *" $c "*) r=0 ;; *) r=1 ;; esac
    check "controller-$c" $r "cgroup.controllers: $ctrls"
done

# The lab 12 OOM test relies on memory.events' oom_kill: a hog in a cgroup
# with memory.max 16M (and no swap) must be killed and counted. The hog is
# busybox awk doubling a string until the kernel stops it.
# (With VM_CG_ENABLE="" memory is enabled for the check only.)
oom=$cg/vlab-oom-check
st=- kills=- lent=
grep -qw memory $cg/cgroup.subtree_control ||
    { echo +memory >$cg/cgroup.subtree_control && lent=1; }
if mkdir $oom && echo 16M >$oom/memory.max; then
    echo 0 >$oom/memory.swap.max 2>/dev/null
    sh -c "echo \$\$ >$oom/cgroup.procs &&
           exec awk 'BEGIN { s = \"x\"; for (;;) s = s s }'" >/dev/null 2>&1
    st=$?
    kills=$(sed -n 's/^oom_kill //p' $oom/memory.events)
fi
rmdir $oom 2>/dev/null
[ -z "$lent" ] || echo -memory >$cg/cgroup.subtree_control
[ "$st" = 137 ] && [ "$kills" -ge 1 ] 2>/dev/null
check oom_kill $? "hog exit status $st, memory.events oom_kill $kills"

# ---- the tests -------------------------------------------------------------
cd /tmp || die "no /tmp"
# shellcheck disable=SC1091
[ -r /vlab/env ] && . /vlab/env
jobs=$(grep -c ^processor /proc/cpuinfo)
while read -r name bin; do
    [ -n "$name" ] || continue
    say "VLAB-BEGIN $name"
    read -r t0 _ </proc/uptime
    sh -c 'echo $$ >/sys/fs/cgroup/tests.scope/cgroup.procs && exec "$@"' \
        sh "$bin" --tap="/tmp/$name.tap" --jobs "$jobs" --short-filename \
        --color=never </dev/null
    rc=$?
    read -r t1 _ </proc/uptime
    [ -r "/tmp/$name.tap" ] && cat "/tmp/$name.tap" >$res
    say "VLAB-END $name rc=$rc seconds=$(awk "BEGIN{print $t1-$t0}")"
    # Whatever a test left behind is a bug the host should hear about. The
    # shared, empty "virtlab" parent (vl_cgroup_parent()) may stay, like a
    # systemd slice; it goes before the next binary, which starts afresh.
    left=$(cd $cg && find . -mindepth 1 -type d ! -path ./init.scope \
           ! -path ./tests.scope ! -path ./virtlab | tr '\n' ' ')
    [ -z "$left" ]
    check "no-leftover-cgroups-after-$name" $? "${left:-none}"
    rmdir $cg/virtlab 2>/dev/null
done </vlab/tests

say "VLAB-VM done"
sync
poweroff -f
echo o >/proc/sysrq-trigger
