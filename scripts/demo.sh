#!/bin/sh
# demo.sh - `make demo`: what this machine offers, then minivm (built from
# the reference solutions) running a few guests of each lab.
set -u
cd "$(dirname "$0")/.."
B=build
G=$B/minivm/guest

say() { printf '\n\033[1m%s\033[0m\n' "$*" 2>/dev/null || printf '\n%s\n' "$*"; }
[ -t 1 ] || say() { printf '\n%s\n' "$*"; }

say "== 1. What this machine offers (vlab-doctor)"
$B/bin/vlab-doctor
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "No usable /dev/kvm: minivm cannot run guests here (see above)."
    exit 1
fi

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

say "== Next"
cat <<'TXT'
minivm above was built from solutions/. Yours lives in labs/:
  cat labs/01-kvm-basics/README.md     the first lab, step by step
                                       (labs 02-05: labs/NN-*/README.md)
  make -C labs run                     build and run YOUR minivm
  make -C labs test LAB=01             lab 01's tests on your code
  make grade LAB=01                    your points
TXT
