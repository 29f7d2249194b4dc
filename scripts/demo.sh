#!/bin/sh
# demo.sh - `make demo`: what this machine offers, then minivm (built from
# the reference solutions) running the lab 01 guests.
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

say "== Next"
cat <<'TXT'
minivm above was built from solutions/. Yours lives in labs/:
  cat labs/01-kvm-basics/README.md     the first lab, step by step
  make -C labs run                     build and run YOUR minivm
  make -C labs test LAB=01             lab 01's tests on your code
  make grade LAB=01                    your points
TXT
