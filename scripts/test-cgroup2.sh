#!/bin/sh
# test-cgroup2.sh [TEST-BINARY...] - run the cgroup tests on a real cgroup v2
# machine: Debian's kernel booted in QEMU (TCG: no KVM needed) from an
# initramfs, with cgroup2 mounted at /sys/fs/cgroup and nothing else
# (`make test-cgroup2`).
#
# Why: this machine (like many CI runners) has a v1/hybrid hierarchy, while
# students mostly run pure cgroup v2; the v2 code of libvirtlab and of lab
# 12 must be tested on v2 for real, not only on paper.
#
# Without arguments it builds and runs, without sanitizers (speed: TCG is
# an emulator), libvirtlab's cgroup_test and lab 12's stage-test built from
# the reference solutions (autograder/build.mk, PROGRAM=minictr), with the
# minictr built next to it and the test rootfs (build/rootfs) at the same
# absolute paths as here. With arguments it runs those Criterion binaries.
#
# The initramfs holds busybox (Debian's busybox-static), scripts/vm-init.sh
# as /init, the binaries and every shared library ldd lists for them (and
# libgcc_s, which glibc dlopens), GNU cp/rm/chown for the fixtures. The
# init prints each binary's TAP report between VLAB-BEGIN/VLAB-END markers
# on the second serial port; this script parses it and prints, per binary,
# how many tests passed, failed and were skipped. Left in build/vm/: the
# VM's console (console.log), the results channel (results.log) and each
# binary's TAP report (NAME.tap).
#
# Exit status: 0 all passed; 1 a test failed, a binary crashed, the VM died
# or timed out; 77 QEMU or the kernel cannot be had here (a skip, with the
# reason). Knobs: VM_TIMEOUT (seconds, default 300), VM_MEM (MB, 1024),
# VM_SMP (2), VM_ACCEL (tcg; kvm needs a KVM that runs Linux guests:
# this machine's nested one stops on an emulation failure), VM_KERNEL (vmlinux
# or vmlinuz, see below), VM_CG_ENABLE (controllers /init enables in the
# root's cgroup.subtree_control, default "+memory +pids +cpu"; "" leaves it
# to the code under test), VM_HOST_TOOLS (host programs the tests run,
# default "cp rm chown"), VM_APPEND (more kernel parameters), VERBOSE=1
# (print the VM's console).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
t_start=$(date +%s.%N)

prog=test-cgroup2
VM=$ROOT/build/vm
KERNEL_DIR=${KERNEL_DIR:-$ROOT/build/kernel}
ROOTFS=${ROOTFS:-$ROOT/build/rootfs}
VM_TIMEOUT=${VM_TIMEOUT:-300}
VM_MEM=${VM_MEM:-1024}
VM_SMP=${VM_SMP:-2}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_CG_ENABLE=${VM_CG_ENABLE-+memory +pids +cpu}
QEMU=${QEMU:-qemu-system-x86_64}

say() { echo "$prog: $*"; }
die() { echo "$prog: $*" >&2; exit 1; }
skip() { echo "$prog: SKIP: $*" >&2; exit 77; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- what this needs ---------------------------------------------------------
command -v "$QEMU" >/dev/null 2>&1 ||
    skip "$QEMU is not installed: cgroup v2 is not tested (install Debian's" \
         "qemu-system-x86: make deps)"
for tool in cpio gzip ldd timeout; do
    command -v $tool >/dev/null 2>&1 || die "$tool is missing (make deps)"
done
BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
    [ -x "$b" ] && { BUSYBOX=$b; break; }
done
[ -n "$BUSYBOX" ] || die "busybox is missing: install busybox-static (make deps)"
if ! scripts/kernel.sh "$KERNEL_DIR"; then
    skip "no Debian kernel in $KERNEL_DIR (scripts/kernel.sh said why, above):" \
         "cgroup v2 is not tested"
fi

# Which image QEMU boots. Debian's kernel is built with CONFIG_PVH: its
# vmlinux carries the XEN_ELFNOTE_PHYS32_ENTRY note (ELF note type 18), and
# QEMU starts an ELF -kernel with that note straight at its 32-bit entry
# (the PVH boot ABI, xen/include/public/arch-x86/hvm/start_info.h). That
# skips the bzImage's decompressor, slow under TCG: about 4 s less per boot.
# VM_KERNEL=vmlinuz boots the bzImage the classic way.
VM_KERNEL=${VM_KERNEL:-}
if [ -z "$VM_KERNEL" ]; then
    VM_KERNEL=vmlinuz
    if command -v readelf >/dev/null 2>&1 &&
       readelf -n "$KERNEL_DIR/vmlinux" 2>/dev/null |
           grep -qE '^ *Xen .*(\(0x00000012\)|PHYS32_ENTRY)'; then
        VM_KERNEL=vmlinux
    fi
fi

mkdir -p "$VM"
exec 9>"$VM/.lock"
command -v flock >/dev/null 2>&1 && flock 9
rm -f "$VM"/*.tap

# ---- the test binaries ---------------------------------------------------------
# "NAME PATH" lines for the VM's /vlab/tests.
tests=""
add_test() {
    [ -x "$2" ] || die "$2: no such test binary"
    tests="$tests$1 $2
"
}
if [ $# -gt 0 ]; then
    i=0
    for b in "$@"; do
        i=$((i + 1))
        dir=$(cd "$(dirname "$b")" && pwd)
        # NAME: "2-DIR-BINARY" (several stage-tests differ by folder).
        add_test "$i-$(basename "$dir")-$(basename "$b")" "$dir/$(basename "$b")"
    done
    MCT_BINARY=${MCT_BINARY:-}
else
    LAB12_TESTS=$(ls labs/12-cgroups/tests/*_test.c 2>/dev/null || true)
    [ -f libvirtlab/tests/cgroup_test.c ] ||
        die "libvirtlab/tests/cgroup_test.c is missing"
    [ -n "$LAB12_TESTS" ] || die "labs/12-cgroups/tests/*_test.c is missing"
    say "building the tests without sanitizers in build/vm"
    make -s lib
    # The top-level Makefile's own rule for build/tests/cgroup_test, with a
    # library built without sanitizers in build/vm/nosan/lib-san.
    make -s B="$VM/nosan" SAN= "$VM/nosan/tests/cgroup_test"
    # Lab 12 as the grader builds it (autograder/build.mk), from the
    # reference solutions of every minictr stage.
    STAGES=
    for f in "$ROOT"/solutions/09-*/*.c "$ROOT"/solutions/1[0-6]-*/*.c; do
        if [ -e "$f" ]; then STAGES="$STAGES $f"; fi
    done
    make -s -f autograder/build.mk ROOT="$ROOT" OUT="$VM/lab12" \
        PROGRAM=minictr LIBDIR="$ROOT/build/lib" OPT="-O1 -g" \
        ROOTFS="$ROOTFS" STAGE_SRCS="$STAGES" \
        TESTS="$(echo "$ROOT"/labs/12-cgroups/tests/*_test.c)" \
        "$VM/lab12/stage-test"
    add_test cgroup_test "$VM/nosan/tests/cgroup_test"
    add_test lab12 "$VM/lab12/stage-test"
    MCT_BINARY=$VM/lab12/minictr
fi
MCT_ROOTFS=${MCT_ROOTFS:-$ROOTFS}

# ---- the initramfs -------------------------------------------------------------
say "building the initramfs"
stage=$VM/initramfs
rm -rf "$stage"
mkdir -p "$stage/usr" "$stage/vlab" "$stage/etc"
# The same /bin, /lib... layout as here (merged /usr: symlinks), so that the
# loader and libraries land where the binaries look for them.
for d in bin sbin lib lib64 libx32; do
    if [ -L "/$d" ]; then
        ln -s "$(readlink "/$d")" "$stage/$d"
        mkdir -p "$stage$(readlink -f "/$d")"
    elif [ -d "/$d" ]; then
        mkdir -p "$stage/$d"
    fi
done
mkdir -p "$stage/usr/bin" "$stage/usr/sbin" "$stage/usr/lib"

# FILE at its own absolute path in the image, with its shared libraries.
put() {
    mkdir -p "$stage$(dirname "$1")"
    cp -L "$1" "$stage$1"
}
put_with_libs() {
    put "$1"
    # ldd: "libx.so => /path (addr)", "/lib64/ld-linux-x86-64.so.2 (addr)";
    # a static binary has none ("not a dynamic executable").
    for lib in $(ldd "$1" 2>/dev/null |
                 sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
        [ -e "$stage$lib" ] || put "$lib"
    done
}
cp -L "$BUSYBOX" "$stage/bin/busybox"
if ldd "$BUSYBOX" >/dev/null 2>&1; then put_with_libs "$BUSYBOX"; fi
# The fixtures run a few host tools with GNU options busybox lacks
# (mct_test.h: rm --one-file-system, cp -a, chown -h): Debian's coreutils,
# in /usr/local/bin, ahead of busybox in the VM's PATH.
for tool in ${VM_HOST_TOOLS-cp rm chown}; do
    path=$(command -v "$tool") || die "$tool is missing on this machine"
    put_with_libs "$path"
    mkdir -p "$stage/usr/local/bin"
    mv "$stage$path" "$stage/usr/local/bin/$tool"
done
cp scripts/vm-init.sh "$stage/init"
chmod 755 "$stage/init" "$stage/bin/busybox"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

# A stage-test finds its minictr next to it (autograder/build.mk's
# VL_MINICTR), unless $MCT_BINARY says otherwise: take it along.
echo "$tests" | while read -r name bin; do
    [ -n "$name" ] || continue
    put_with_libs "$bin"
    sibling=$(dirname "$bin")/minictr
    if [ -x "$sibling" ]; then put_with_libs "$sibling"; fi
done
printf '%s' "$tests" >"$stage/vlab/tests"
printf '%s\n' "$VM_CG_ENABLE" >"$stage/vlab/cg-enable"
{
    echo "export TMPDIR=/tmp HOME=/root NO_COLOR=1"
    if [ -d "$MCT_ROOTFS" ]; then
        echo "export MCT_ROOTFS='$MCT_ROOTFS'"
        mkdir -p "$stage$(dirname "$MCT_ROOTFS")"
        cp -a "$MCT_ROOTFS" "$stage$MCT_ROOTFS"
    fi
    if [ -n "$MCT_BINARY" ]; then
        echo "export MCT_BINARY='$MCT_BINARY'"
        put_with_libs "$MCT_BINARY"
    fi
    # minictr's default seccomp profile (lab 13), where the build says
    profile=$ROOT/labs/minictr/seccomp/default.json
    echo "export MINICTR_SECCOMP_PROFILE='$profile'"
    mkdir -p "$stage$(dirname "$profile")"
    cp "$profile" "$stage$profile"
} >"$stage/vlab/env"

# Libraries loaded with dlopen(3), which ldd cannot see: glibc's
# pthread_cancel()/pthread_exit() unwind with libgcc_s.so.1 and abort
# ("libgcc_s.so.1 must be installed for pthread_cancel to work") without
# it. They sit next to the libc the binaries use.
libc=$(find "$stage" -path "$stage$MCT_ROOTFS" -prune -o -name libc.so.6 \
       -print | head -n 1)
for lib in ${VM_DLOPEN_LIBS-libgcc_s.so.1}; do
    [ -n "$libc" ] || break # static binaries only
    path=$(dirname "${libc#"$stage"}")/$lib
    [ -e "$path" ] || die "$path is missing on this machine"
    put "$path"
done

initrd=$VM/initramfs.cpio.gz
# Everything root-owned in the VM (-R 0:0), also when built by a user.
(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$initrd"
say "initramfs: $(du -k "$initrd" | cut -f1) KiB ($(du -sk "$stage" | cut -f1) KiB" \
    "unpacked); kernel $(cat "$KERNEL_DIR/version") ($VM_KERNEL)"

# ---- boot ------------------------------------------------------------------------
console=$VM/console.log
results=$VM/results.log
: >"$console"
: >"$results"
say "booting QEMU ($VM_ACCEL, $VM_SMP CPUs, ${VM_MEM} MB; at most ${VM_TIMEOUT} s)"
t_qemu=$(date +%s.%N)
# ttyS0: the console; ttyS1: the results channel (vm-init.sh). -nodefaults:
# no VGA, network card or floppy for the kernel to probe. panic=-1 and
# -no-reboot: a kernel panic (or /init dying) ends QEMU at once.
timeout -k 10 "$VM_TIMEOUT" "$QEMU" -accel "$VM_ACCEL" -m "$VM_MEM" \
    -smp "$VM_SMP" -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$KERNEL_DIR/$VM_KERNEL" -initrd "$initrd" \
    -append "console=ttyS0 quiet panic=-1 ${VM_APPEND:-}" \
    -serial "file:$console" -serial "file:$results" \
    </dev/null >"$VM/qemu.log" 2>&1 &
qpid=$!
# Interrupted: stop QEMU too (timeout passes the signal on to it).
trap 'kill $qpid 2>/dev/null; exit 130' INT TERM HUP
# Progress: the markers as they come.
shown=0
t_boot=
while kill -0 $qpid 2>/dev/null; do
    sleep 0.2
    if [ -z "$t_boot" ] && grep -q '^VLAB-VM booted' "$results"; then
        t_boot=$(elapsed "$t_qemu")
    fi
    n=$(tr -d '\r' <"$results" | grep -c '' || true)
    if [ "$n" -gt "$shown" ]; then
        tr -d '\r' <"$results" | sed -n "$((shown + 1)),${n}p" |
            sed -n 's/^VLAB-VM \(.*\)/  vm: \1/p; s/^VLAB-\(BEGIN\|END\) \(.*\)/  \1 \2/p'
        shown=$n
    fi
done
qrc=0
wait $qpid || qrc=$?
t_vm=$(elapsed "$t_qemu")
tr -d '\r' <"$results" >"$results.txt"
[ "${VERBOSE:-}" = 1 ] && { echo "---- console ----"; tr -d '\r' <"$console"; }

# ---- results -----------------------------------------------------------------------
bad=0
problem() { echo "$prog: FAIL: $*"; bad=1; }
tail_shown=
console_tail() { # once: what the VM said last
    [ -z "$tail_shown" ] || return 0
    tail_shown=1
    echo "---- last lines of the VM's console ($console) ----"
    tr -d '\r' <"$console" | tail -n "${1:-30}"
    echo "----"
}
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
    problem "QEMU did not finish within ${VM_TIMEOUT} s (VM_TIMEOUT)"
    # e.g. "KVM internal error ... emulation failure" with VM_ACCEL=kvm on
    # a nested KVM that cannot emulate every instruction: QEMU just stops.
    [ ! -s "$VM/qemu.log" ] || head -n 12 "$VM/qemu.log"
elif [ "$qrc" -ne 0 ]; then
    problem "QEMU failed (exit status $qrc):"
    cat "$VM/qemu.log"
fi
booted=$(sed -n 's/^VLAB-VM booted uptime=\([0-9.]*\).*/\1/p' "$results.txt")
if [ -z "$booted" ]; then
    problem "the VM never reached /init"
    console_tail 40
fi
grep -q '^VLAB-VM error' "$results.txt" &&
    problem "$(sed -n 's/^VLAB-VM error //p' "$results.txt")"
grep '^VLAB-VM check .* FAIL' "$results.txt" | while read -r _ _ what _ details; do
    echo "$prog: FAIL: VM check $what: $details"
done
grep -q '^VLAB-VM check .* FAIL' "$results.txt" && bad=1
if grep -qE 'Kernel panic|BUG:|Oops' "$console"; then
    problem "the kernel crashed ($console):"
    tr -d '\r' <"$console" | grep -E -B 3 -A 12 'Kernel panic|BUG:|Oops' |
        head -n 20
    tail_shown=1
fi

tp=0 tf=0 ts=0
while read -r name bin; do
    [ -n "$name" ] || continue
    # The binary's TAP report: the lines between its markers.
    sed -n "/^VLAB-BEGIN $name\$/,/^VLAB-END $name /p" "$results.txt" \
        >"$VM/$name.tap"
    end=$(sed -n "s/^VLAB-END $name rc=\([0-9]*\) seconds=\([0-9.]*\).*/\1 \2/p" \
          "$VM/$name.tap")
    p=$(grep -c '^ok ' "$VM/$name.tap" || true)
    s=$(grep -c '^ok .*# SKIP' "$VM/$name.tap" || true)
    f=$(grep -c '^not ok ' "$VM/$name.tap" || true)
    p=$((p - s))
    tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
    if ! grep -q "^VLAB-BEGIN $name\$" "$VM/$name.tap"; then
        problem "$name did not run (the VM stopped before)"
        continue
    fi
    if [ -z "$end" ]; then
        say "$name: $p passed, $f failed, $s skipped - CRASHED: no VLAB-END"
        problem "$name did not finish (the VM died or timed out under it)"
        console_tail 40
        continue
    fi
    rc=${end% *}
    secs=${end#* }
    say "$name: $p passed, $f failed, $s skipped (exit $rc, $secs s in the VM)"
    # Failures with their diagnostics; skips counted by reason.
    awk '/^not ok /  { show = 1; print "    " $0; next }
         /^ok .*# SKIP/ { r = $0; sub(/.*# SKIP */, "", r)
                          if (!(r in n)) order[++k] = r; n[r]++ }
         /^(ok|VLAB-)/ { show = 0 }
         show && /^ / { print "    " $0 }
         END { for (i = 1; i <= k; i++)
                   printf "    skipped %d: %s\n", n[order[i]], order[i] }' \
        "$VM/$name.tap"
    [ "$f" -eq 0 ] || problem "$name: $f test(s) failed"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        problem "$name exited with status $rc without a failed test (crash?)"
        console_tail 40
    fi
    [ $((p + f + s)) -gt 0 ] || problem "$name ran no test"
done <"$VM/initramfs/vlab/tests"
grep -q '^VLAB-VM done' "$results.txt" ||
    problem "the VM did not reach the end of its tests"
[ "$bad" -eq 0 ] || [ "${VERBOSE:-}" = 1 ] || [ -z "$booted" ] ||
    echo "$prog: the VM's console is in $console"

say "boot ${t_boot:-?} s (QEMU start until /init is ready; kernel uptime" \
    "${booted:-?} s), VM ${t_vm} s, total $(elapsed "$t_start") s"
echo "$prog: $tp passed, $tf failed, $ts skipped"
exit $bad
