#!/bin/sh
# demo.sh - `make demo`: what this machine offers, then minivm and minictr
# (built from the reference solutions) at work: a few guests and containers
# of each lab.
set -u
cd "$(dirname "$0")/.."
B=build
G=$B/minivm/guest

say() { printf '\n\033[1m%s\033[0m\n' "$*" 2>/dev/null || printf '\n%s\n' "$*"; }
[ -t 1 ] || say() { printf '\n%s\n' "$*"; }

say "== 1. What this machine offers (vlab-doctor)"
$B/bin/vlab-doctor
kvm=yes
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "No usable /dev/kvm: minivm cannot run guests here (see above);"
    echo "skipping to the containers (sections 12-15)."
    kvm=
fi

if [ -n "$kvm" ]; then
    say "== 2. A first guest: hello.bin, then the exits it caused (--trace)"
    echo "\$ minivm run $G/hello.bin"
    $B/bin/minivm run $G/hello.bin
    echo
    echo "\$ minivm run $G/hello.bin --trace 2>&1 >/dev/null   # the exits alone"
    $B/bin/minivm run $G/hello.bin --trace 2>&1 >/dev/null | sed -n '1,3p;21,$p'

    say "== 3. A guest that computes 1 + 2 + ... + 1000 in EAX: sum.bin"
    echo "\$ minivm run $G/sum.bin --regs   # 500500 = 0x7a314"
    $B/bin/minivm run $G/sum.bin --regs 2>&1 | sed -n '1,2p'

    say "== 4. Guests that misbehave, and what minivm says"
    echo "\$ minivm run $G/spin.bin --max-exits 20"
    $B/bin/minivm run $G/spin.bin --max-exits 20 2>&1 | sed -n '1p'
    echo
    echo "\$ minivm run $G/triple.bin"
    $B/bin/minivm run $G/triple.bin 2>&1 | sed -n '1,2p' | cut -c1-300

    say "== 5. CPU modes (lab 02): the vCPU starts in protected or long mode"
    echo "\$ minivm run $G/prot32.bin --mode protected"
    $B/bin/minivm run $G/prot32.bin --mode protected
    echo
    echo "\$ minivm run $G/long64.bin --mode long --regs   # R15 = the 64-bit sum"
    $B/bin/minivm run $G/long64.bin --mode long --regs 2>&1 | sed -n '1,2p;6p'

    say "== 6. Guest memory (lab 03): ROM, holes and the dirty log"
    printf R >"${TMPDIR:-/tmp}/virtlab-demo-rom.img"
    echo "\$ minivm run $G/rom.bin --mode protected --rom 0x800000=rom.img   # rom.img holds 'R'"
    $B/bin/minivm run $G/rom.bin --mode protected \
        --rom 0x800000="${TMPDIR:-/tmp}/virtlab-demo-rom.img" 2>&1 | sed -n '1,2p' | cut -c1-160
    rm -f "${TMPDIR:-/tmp}/virtlab-demo-rom.img"
    echo
    echo "\$ minivm run $G/dirty.bin --mode protected --ram 0xc00000=64K --dirty"
    $B/bin/minivm run $G/dirty.bin --mode protected --ram 0xc00000=64K --dirty

    say "== 7. Devices (lab 04): a 16550A UART and a test device on the bus"
    echo "\$ minivm run $G/dev_probe.bin --mode long   # Linux's 8250 probe, in a C guest"
    $B/bin/minivm run $G/dev_probe.bin --mode long </dev/null 2>&1 | tail -n 2
    echo
    printf '%s\n' "\$ printf 'hello, uart\\nquit\\n' | minivm run $G/dev_echo.bin --mode long"
    printf 'hello, uart\nquit\n' | $B/bin/minivm run $G/dev_echo.bin --mode long 2>/dev/null | sed -n 2p
    echo
    echo "\$ minivm run $G/dev_sum.bin --mode long   # MMIO at 0xd0000000"
    $B/bin/minivm run $G/dev_sum.bin --mode long </dev/null 2>/dev/null | sed -n 2p
    echo
    echo "\$ minivm run $G/dev_unclaimed.bin --mode long   # a port nobody claims"
    $B/bin/minivm run $G/dev_unclaimed.bin --mode long </dev/null 2>&1 | grep -m1 '^minivm: guest stopped' | cut -c1-200

    say "== 8. Paravirtualization (lab 05): hypercalls and a virtqueue console"
    echo "\$ minivm run $G/pv_hello.bin --mode long; echo status \$?"
    $B/bin/minivm run $G/pv_hello.bin --mode long </dev/null >"${TMPDIR:-/tmp}/virtlab-demo.out" 2>&1
    status=$?
    sed -n '1,2p;4p' "${TMPDIR:-/tmp}/virtlab-demo.out"
    rm -f "${TMPDIR:-/tmp}/virtlab-demo.out"
    echo "status $status"
    for how in uart vq; do
        echo
        echo "\$ minivm run $G/pv_bulk_$how.bin --mode long --stats >/dev/null"
        $B/bin/minivm run $G/pv_bulk_$how.bin --mode long --stats </dev/null 2>&1 >/dev/null | tail -n 1
    done

    say "== 9. Interrupts (lab 06): injected by minivm, then by KVM's irqchip"
    echo "\$ minivm run $G/irq_cli.bin --mode long --timer --stats   # minivm's timer, KVM_INTERRUPT"
    $B/bin/minivm run $G/irq_cli.bin --mode long --timer --stats </dev/null 2>&1 | grep -E '^irq_cli|timer:'
    echo
    echo "\$ minivm run $G/irq_pit.bin --mode long --irqchip --stats   # KVM's PIT, PIC and LAPIC"
    $B/bin/minivm run $G/irq_pit.bin --mode long --irqchip --stats </dev/null 2>&1 | grep -E '^irq_pit|after'
    echo
    printf '%s\n' "\$ printf 'hello\\nworld\\n' | minivm run $G/irq_uart.bin --mode long --irqchip   # IRQ 4 via an irqfd"
    printf 'hello\nworld\n' | $B/bin/minivm run $G/irq_uart.bin --mode long --irqchip 2>/dev/null | tail -n 3

    say "== 10. Booting Linux (lab 07): Debian's kernel, up to its command line"
    if scripts/kernel.sh $B/kernel >/dev/null 2>&1; then
        echo "\$ minivm boot --kernel $B/kernel/vmlinux --timeout 120   # the default --append: early console on ttyS0"
        echo "(about a minute where KVM emulates guest code, far less with hardware"
        echo " virtualization; the demo stops reading at that line)"
        $B/bin/minivm boot --kernel $B/kernel/vmlinux --timeout 120 </dev/null 2>&1 |
            sed -n '/Linux version/{s/^\(.\{150\}\).*/\1.../;p};/BIOS-e820/p;/ACPI: RSDP/p;/Kernel command line/{p;q}'
    else
        echo "skipped: no kernel (\`make kernel\` needs Debian's archive)"
    fi

    say "== 11. Snapshots, live migration, SMP (lab 08)"
    T=$(mktemp -d /tmp/virtlab-demo.XXXXXX)
    printf abcdefghijklmnop >"$T/in"
    echo "\$ minivm run $G/snap_count.bin --mode long --snapshot s.mvm --save-after 301 <in"
    $B/bin/minivm run $G/snap_count.bin --mode long --snapshot "$T/s.mvm" \
        --save-after 301 <"$T/in" 2>&1 | tail -n 2
    echo
    echo "\$ minivm restore s.mvm   # a new process goes on where the first stopped"
    $B/bin/minivm restore "$T/s.mvm" </dev/null 2>&1 | sed -n '1,2p;$p'
    echo
    echo "\$ minivm receive --listen unix:mig.sock &"
    echo "\$ minivm run $G/mig_dirty.bin --mode long --migrate-to unix:mig.sock --migrate-after 10"
    $B/bin/minivm receive --listen "unix:$T/mig.sock" </dev/null >"$T/dst.out" 2>&1 &
    dst=$!
    sleep 0.5
    $B/bin/minivm run $G/mig_dirty.bin --mode long \
        --migrate-to "unix:$T/mig.sock" --migrate-after 10 </dev/null 2>&1 |
        grep '^minivm: migration'
    wait $dst
    echo "(the destination:)"
    tail -n 2 "$T/dst.out"
    echo
    echo "\$ minivm run $G/smp_count.bin --mode long --smp 4   # APs started by INIT-SIPI-SIPI"
    $B/bin/minivm run $G/smp_count.bin --mode long --smp 4 </dev/null 2>&1 | sed -n '1,4p;$p'
    rm -rf "$T"

fi

# ---- minictr (labs 09-16): containers need root ----------------------------
C=$B/bin/minictr
R=$B/rootfs
P=/bin/vlab-probe
ctr() { # show the command (on stderr: before what a pipe filters), run it,
         # show its status when not 0
    line='$ minictr'
    for a in "$@"; do
        case $a in
        *[[:space:]\"\$]*) line="$line '$a'" ;;
        *) line="$line $a" ;;
        esac
    done
    printf '%s\n' "$line" >&2
    "$C" "$@"
    st=$?
    [ $st -eq 0 ] || echo "(exit status $st)"
}
if [ "$(id -u)" -ne 0 ]; then
    say "== 12-19. Containers: skipped (minictr needs root; try sudo make demo)"
else
    say "== 12. Namespaces (lab 09): its own hostname, PID 1 and network"
    ctr run --rootfs $R --hostname demo -- $P env | grep -E '^(hostname|pid|netifs|lo_up)='
    ctr run --rootfs $R -- $P pid1
    ctr run --rootfs $R -- sh -c 'exit 42'
    ctr run --rootfs $R -- $P kill TERM

    say "== 13. The container's filesystem (lab 10): pivot_root, /proc, /dev, masks"
    ctr run --rootfs $R --read-only -- sh -c 'echo mounts: $(cut -d" " -f2 /proc/mounts); touch /x'
    ctr run --rootfs $R -- $P masked | grep -E '=(null|empty|ro)$|sysctl'
    marker=/tmp/virtlab-demo-host-marker.$$
    : >"$marker"
    ctr run --rootfs $R -- $P escape "$marker"
    rm -f "$marker"

    say "== 14. User namespaces (lab 11): root inside, uid 100000 outside"
    ctr run --rootfs $R --userns -- $P ids | grep -E '^(uid|uid_map|cap_eff)='
    echo "(and as the unprivileged user nobody, with its own copy of the rootfs:)" >&2
    tmp=$(mktemp -d /tmp/virtlab-demo.XXXXXX)
    cp -a $R "$tmp/rootfs" && chown -R nobody: "$tmp/rootfs" && chmod 755 "$tmp"
    cp $C "$tmp/minictr"
    echo "\$ setpriv --reuid nobody --regid nogroup --clear-groups minictr run --rootfs COPY -- $P ids" >&2
    setpriv --reuid nobody --regid nogroup --clear-groups \
        "$tmp/minictr" run --rootfs "$tmp/rootfs" -- $P ids 2>&1 | grep -E '^(uid|uid_map|setgroups)=|minictr:'
    rm -rf --one-file-system "$tmp"

    say "== 15. cgroups (lab 12): a fork bomb, a memory hog, half a CPU"
    ctr run --rootfs $R --pids 32 -- $P forkbomb
    ctr run --rootfs $R --memory 64M -- $P memhog 256
    ctr run --rootfs $R --cpus 0.5 -- $P spin 1 | grep cpu_ratio

    say "== 16. Capabilities and seccomp (lab 13): what root in a container may not do"
    ctr run --rootfs $R -- $P caps | grep -E '^(cap_eff|no_new_privs|seccomp)='
    ctr run --rootfs $R -- $P try mount unshare-user keyctl ptrace raw-socket module reboot chown
    ctr run --rootfs $R --cap-add SYS_PTRACE --cap-drop CHOWN -- $P try ptrace chown
    ctr run --rootfs $R --seccomp unconfined -- $P try keyctl unshare-user

    say "== 17. Images (lab 14): an OCI store, layers, whiteouts, copy-on-write"
    S=$(mktemp -d /tmp/virtlab-demo-store.XXXXXX)
    tar -C $R -cf "$S/busybox.tar" .
    mkdir -p "$S/l2/etc" "$S/l2/srv" && : >"$S/l2/etc/.wh.hostname" &&
        echo hello >"$S/l2/srv/index.html" && tar -C "$S/l2" -cf "$S/web.tar" .
    ctr image import --store "$S/store" "$S/busybox.tar" busybox
    ctr image import --store "$S/store" --from busybox "$S/web.tar" web
    ctr image ls --store "$S/store"
    ctr run --store "$S/store" web -- sh -c 'cat /srv/index.html; ls /etc; rm /bin/vi; head -1 /proc/mounts | cut -d, -f1'
    ctr run --store "$S/store" web -- ls /bin/vi
    echo "(one byte of the layer's blob changed, its unpacked copy removed:)" >&2
    blob=$(ls -S "$S/store/blobs/sha256" | head -1)
    printf x | dd of="$S/store/blobs/sha256/$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
    rm -rf "$S/store/layers/"*
    ctr run --store "$S/store" busybox -- true 2>&1 | fold -s -w 100
    rm -rf --one-file-system "$S"

    say "== 18. Networking (lab 15): two containers on a bridge, in a throwaway network namespace"
    unshare -n -m sh -c '
        C=$1 R=$2 P=$3
        mount --make-rprivate / && mount -t tmpfs tmpfs /run || exit 1
        out=/run/demo-server.out
        echo "\$ minictr run --rootfs $R --net bridge --ip 10.89.0.10 -- $P tcp-serve 7000 &"
        "$C" run --rootfs "$R" --net bridge --ip 10.89.0.10 -- $P tcp-serve 7000 >$out 2>&1 &
        for i in 1 2 3 4 5 6 7 8 9 10; do grep -q listening $out && break; sleep 0.5; done
        echo "\$ minictr run --rootfs $R --net bridge -- $P netinfo"
        "$C" run --rootfs "$R" --net bridge -- $P netinfo | grep -E "^(ifaces|addr_eth0|gateway)="
        echo "\$ minictr run --rootfs $R --net bridge -- $P tcp-connect 10.89.0.10 7000 hello"
        "$C" run --rootfs "$R" --net bridge -- $P tcp-connect 10.89.0.10 7000 hello
        wait; echo "(the server printed:)"; cat $out
        echo "\$ minictr run -v --rootfs $R --net bridge -- true 2>&1 | grep RTM_NEWROUTE"
        "$C" run -v --rootfs "$R" --net bridge -- true 2>&1 | grep RTM_NEWROUTE | cut -c1-160
        echo "\$ ip -br link    # after the containers: only lo is left"; ip -br link
    ' sh "$C" "$R" "$P"

    say "== 19. The OCI runtime (lab 16): a bundle; create, start, exec, kill, delete as containerd drives runc"
    D=$(mktemp -d /tmp/virtlab-demo-oci.XXXXXX)
    mkdir "$D/bundle"
    cat >"$D/bundle/config.json" <<EOF
{"ociVersion": "1.0.2",
 "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
             "args": ["sh", "-c", "echo hello from \$(hostname); exec sleep 60"],
             "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
 "root": {"path": "$(realpath $R)", "readonly": true}, "hostname": "ocibox",
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                          {"type": "uts"}, {"type": "mount"}]}}
EOF
    ctr --root "$D/state" create --bundle "$D/bundle" demo
    ctr --root "$D/state" state demo | grep -E '"(status|pid)"'
    ctr --root "$D/state" start demo
    sleep 0.2
    ctr --root "$D/state" exec demo -- sh -c 'echo exec: hostname $(hostname), pid $$'
    ctr --root "$D/state" ps --format json demo
    ctr --root "$D/state" kill demo SIGKILL
    sleep 0.2
    ctr --root "$D/state" state demo | grep '"status"'
    ctr --root "$D/state" delete demo
    rm -rf "$D"
fi

say "== Next"
cat <<'TXT'
minivm and minictr above were built from solutions/. Yours live in labs/:
  cat labs/01-kvm-basics/README.md     the first lab, step by step
                                       (labs 02-08: labs/NN-*/README.md)
  make -C labs run                     build and run YOUR minivm
  make -C labs test LAB=01             lab 01's tests on your code
  make grade LAB=01                    your points
  cat labs/09-namespaces/README.md     the first container lab
  make -C labs run LAB=09 ARGS="-- /bin/sh"
                                       YOUR minictr (see that README)
TXT
