#!/bin/sh
# test-minivm-cli.sh - the minivm command as a user meets it: output, exit
# statuses and messages, on the reference build and on the skeleton.
set -u
cd "$(dirname "$0")/.."
MINIVM=build/bin/minivm
G=build/minivm/guest
SKELETON=build/labs/minivm
make -s -C labs >/dev/null || exit 1   # the skeleton's minivm, from labs/
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect NAME STATUS PATTERN -- COMMAND...: run COMMAND, check its exit
# status and that PATTERN (grep -E) appears in its stdout or stderr.
expect() {
    name=$1 want=$2 pattern=$3
    shift 4
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ] && cat "$tmp/out" "$tmp/err" | grep -qE -- "$pattern"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name: status $got (want $want), pattern /$pattern/"
        sed 's/^/     | /' "$tmp/out" "$tmp/err" | head -15
    fi
}

expect "hello prints and halts" 0 "^Hello from the guest!$" -- \
    $MINIVM run $G/hello.bin
expect "hello reports its exit count" 0 "halted after 23 exits" -- \
    $MINIVM run $G/hello.bin
expect "--trace decodes each exit" 0 \
    "exit 1: KVM_EXIT_IO out port 0xe9 size 1 data 'H' at rip 0x1" -- \
    $MINIVM run $G/hello.bin --trace
expect "options before the command" 0 "exit 23: KVM_EXIT_HLT" -- \
    $MINIVM --trace run $G/hello.bin
expect "runaway guest stops at --max-exits" 1 "after 10 exits \(--max-exits\)" -- \
    $MINIVM run $G/spin.bin --max-exits 10
expect "silent guest stops at --timeout" 1 "after 1 s \(--timeout\)" -- \
    $MINIVM run $G/loop.bin --timeout 1
expect "unhandled port is named" 1 "KVM_EXIT_IO in port 0x60 size 1" -- \
    $MINIVM run $G/badport.bin
expect "triple fault is explained" 1 "triple fault" -- \
    $MINIVM run $G/triple.bin
expect "registers are dumped after a failure" 1 "^RIP=" -- \
    $MINIVM run $G/triple.bin
expect "missing guest file" 2 "open nope.bin: No such file" -- \
    $MINIVM run nope.bin
expect "bad --mem" 2 "--mem: \"12Q\": unknown unit" -- \
    $MINIVM run $G/hello.bin --mem 12Q
expect "memory too small for the image" 2 "does not fit .*use --mem" -- \
    $MINIVM run $G/hello.bin --mem 4K
expect "memory not page-aligned" 2 "multiple of the page size" -- \
    $MINIVM run $G/hello.bin --mem 5000
expect "no command" 2 "usage: minivm run" -- $MINIVM
expect "two guests" 2 "exactly one guest" -- $MINIVM run a b
expect "--help" 0 "--max-exits N" -- $MINIVM --help
expect "--mode protected runs a 32-bit guest" 0 \
    "^32-bit protected mode: CR0.PE=1, CS=0x08$" -- \
    $MINIVM run $G/prot32.bin --mode protected
expect "--mode long runs a 64-bit guest" 0 \
    "^64-bit long mode: EFER.LMA=1, wrote above 4 GiB$" -- \
    $MINIVM run $G/long64.bin --mode long
expect "long mode needs 4 MiB" 2 "at least 4 MiB of guest memory \(--mem 4M\)" -- \
    $MINIVM run $G/long64.bin --mode long --mem 1M
expect "unknown mode" 2 "--mode: unknown mode \"virtual\"" -- \
    $MINIVM run $G/hello.bin --mode virtual
printf R >"$tmp/rom.img"
expect "--rom: read, write ignored, read again" 1 "^RR$" -- \
    $MINIVM run $G/rom.bin --mode protected --rom 0x800000="$tmp/rom.img"
expect "--rom: a hole stops the guest" 1 "unbacked guest-physical 0xa00000" -- \
    $MINIVM run $G/rom.bin --mode protected --rom 0x800000="$tmp/rom.img"
expect "--ram --dirty lists the pages written" 0 \
    "4 dirty pages 0xc00000 0xc03000 0xc07000 0xc08000" -- \
    $MINIVM run $G/dirty.bin --mode protected --ram 0xc00000=64K --dirty
expect "--ram over RAM is refused" 2 "overlaps RAM" -- \
    $MINIVM run $G/hello.bin --ram 0x1000=4K
expect "--rom needs ADDR=FILE" 2 "--rom takes ADDR=FILE" -- \
    $MINIVM run $G/hello.bin --rom 0x800000
expect "--rom with a missing file" 2 "open /nonexistent" -- \
    $MINIVM run $G/hello.bin --rom 0x800000=/nonexistent
for mode in real protected long; do
    expect "a guest writing garbage everywhere is stopped ($mode mode)" 1 \
        "^minivm: guest stopped" -- \
        $MINIVM run $G/chaos.bin --mode $mode --max-exits 10000 --timeout 5
done
: >"$tmp/empty.bin"
expect "empty image" 2 "empty" -- $MINIVM run "$tmp/empty.bin"
expect "skeleton names the first TODO" 3 \
    "TODO 1 in labs/01-kvm-basics/vm.c is not done yet" -- \
    $SKELETON run $G/hello.bin

# lab 04: devices on the bus (C guests in long mode)
expect "a C guest prints through the UART" 0 \
    "^Hello from a C guest, through the 16550A UART at 0x3f8!$" -- \
    $MINIVM run $G/dev_hello.bin --mode long
expect "polled UART output: 2 exits per byte" 0 "halted after 204 exits" -- \
    $MINIVM run $G/dev_hello.bin --mode long
expect "Linux's 8250 checks find a 16550A" 0 \
    "^serial8250: ttyS0 at I/O 0x3f8 \(irq = 4\) is a 16550A$" -- \
    $MINIVM run $G/dev_probe.bin --mode long
expect "stdin reaches the UART's receiver" 0 "^HELLO, MINIVM$" -- \
    sh -c "printf 'hello, minivm\\nquit\\n' | $MINIVM run $G/dev_echo.bin --mode long"
expect "a guest waiting for input at EOF stops at --max-exits" 1 \
    "after 500 exits \(--max-exits\)" -- \
    sh -c "printf 'abc\\n' | $MINIVM run $G/dev_echo.bin --mode long --max-exits 500"
expect "rep insb reaches minivm as one exit" 0 \
    "KVM_EXIT_IO in port 0x3f8 size 1 count 16" -- \
    $MINIVM run $G/dev_loopback.bin --mode long --trace
expect "the MMIO test device sums 1..10" 0 \
    "rang SUM: STATUS = DONE, DATA = 55$" -- $MINIVM run $G/dev_sum.bin --mode long
expect "an unknown test device command is an error" 0 \
    "rang command 0x99: STATUS = ERROR$" -- $MINIVM run $G/dev_sum.bin --mode long
expect "an unclaimed port stops the guest, naming port and RIP" 1 \
    "no device at port 0x2f8 for a 1-byte write: .* at rip 0x" -- \
    $MINIVM run $G/dev_unclaimed.bin --mode long
expect "a 16-bit MMIO access to the test device is refused" 1 \
    "testdev at MMIO 0xd0000004 .*a 2-byte read at offset 0x4" -- \
    $MINIVM run $G/dev_badwidth.bin --mode long

# lab 05: hypercalls and the virtio console
expect "the print hypercall prints" 7 "^Hello from a hypercall!$" -- \
    $MINIVM run $G/pv_hello.bin --mode long
expect "the time hypercall answers in RAX" 7 "^host time: [0-9]{19} ns since 1970$" -- \
    $MINIVM run $G/pv_hello.bin --mode long
expect "the exit hypercall is minivm's exit status" 7 \
    "guest exited with status 7 after 10 exits" -- \
    $MINIVM run $G/pv_hello.bin --mode long
expect "bad hypercall buffers get error codes" 0 "^badptr: 8 of 8 answers right$" -- \
    $MINIVM run $G/pv_badptr.bin --mode long
expect "--trace says why a hypercall failed" 0 \
    "hypercall 1 returns -75: .*wraps around" -- \
    $MINIVM run $G/pv_badptr.bin --mode long --trace
expect "a guest prints through the virtqueue" 0 "^one chain, three buffers!$" -- \
    $MINIVM run $G/pv_vcon.bin --mode long
expect "a descriptor chain that loops stops the guest" 1 \
    "the chain from head 0 loops: more than 16 descriptors" -- \
    $MINIVM run $G/pv_vq_loop.bin --mode long
expect "--stats: the UART takes 2 exits per byte" 0 \
    "4096 bytes printed with 8200 exits: 2.002 exits per byte" -- \
    $MINIVM run $G/pv_bulk_uart.bin --mode long --stats
expect "--stats: the virtqueue takes 26 exits for 4096 bytes" 0 \
    "4096 bytes printed with 26 exits: 0.006 exits per byte" -- \
    $MINIVM run $G/pv_bulk_vq.bin --mode long --stats

# lab 06: interrupts (--timer: minivm's 8254 and KVM_INTERRUPT; --irqchip:
# KVM's PIC, LAPIC and PIT, the UART's IRQ 4 through an irqfd)
expect "--timer: ticks in HLT and while spinning" 0 \
    "^irq_ticks: [0-9]+ ticks, the first in HLT, the last while spinning$" -- \
    $MINIVM run $G/irq_ticks.bin --mode long --timer
expect "--timer: no tick inside CLI, the pending one right after STI" 0 \
    "^irq_cli: one-shot: 0 ticks inside CLI, then it arrived right after STI$" -- \
    $MINIVM run $G/irq_cli.bin --mode long --timer
expect "--stats counts the ticks" 0 "^minivm: timer: [0-9]+ ticks raised" -- \
    $MINIVM run $G/irq_ticks.bin --mode long --timer --stats
expect "--irqchip: 50 ticks of KVM's 8254 for 4 exits" 0 \
    "guest exited with status 0 after 4 exits" -- \
    $MINIVM run $G/irq_pit.bin --mode long --irqchip
expect "--irqchip: stdin interrupts the guest on IRQ 4" 0 "^HELLO, MINIVM$" -- \
    sh -c "printf 'hello, minivm\\n' | $MINIVM run $G/irq_uart.bin --mode long --irqchip"
expect "--irqchip: the end of stdin hangs the line up" 0 \
    "^irq_uart: 0 lines, then the line hung up$" -- \
    sh -c "$MINIVM run $G/irq_uart.bin --mode long --irqchip </dev/null"
expect "--timer and --irqchip together are refused" 2 "pick one" -- \
    $MINIVM run $G/irq_ticks.bin --mode long --timer --irqchip

# lab 07: `minivm boot`, bad kernels (Debian's, when `make kernel` has run)
expect "boot: a file that is no kernel" 2 \
    "neither a bzImage \\(\"HdrS\" at 0x202\\) nor an ELF vmlinux" -- \
    $MINIVM boot --kernel /etc/passwd
if [ -s build/kernel/vmlinuz ] && [ -s build/kernel/vmlinux ]; then
    head -c 5000 build/kernel/vmlinuz >"$tmp/vmlinuz.cut"
    expect "boot: a truncated bzImage" 2 "truncated: .* but the file has 5000 bytes" -- \
        $MINIVM boot --kernel "$tmp/vmlinuz.cut"
    expect "boot: too little --mem for the vmlinux" 2 "use --mem [0-9]+M or more" -- \
        $MINIVM boot --kernel build/kernel/vmlinux --mem 8M
else
    echo "skip boot: truncated kernel, --mem (no build/kernel: run \`make kernel\`)"
fi

# lab 08: a snapshot restored by a second process prints what an
# uninterrupted run prints; damaged files are refused
printf abcdefghijklmnop >"$tmp/in"
$MINIVM run $G/snap_count.bin --mode long <"$tmp/in" >"$tmp/whole" 2>/dev/null
$MINIVM run $G/snap_count.bin --mode long --snapshot "$tmp/s.mvm" \
    --save-after 301 <"$tmp/in" >"$tmp/first" 2>/dev/null
$MINIVM restore "$tmp/s.mvm" </dev/null >"$tmp/second" 2>/dev/null
expect "save, then restore in a new process: the same output" 0 "^same$" -- \
    sh -c "cat '$tmp/first' '$tmp/second' | cmp -s - '$tmp/whole' && echo same"
expect "inspect lists the sections" 0 "minivm snapshot, version 1" -- \
    $MINIVM inspect "$tmp/s.mvm"
head -c 3000 "$tmp/s.mvm" >"$tmp/cut.mvm"
expect "a truncated snapshot is refused" 2 "cut.mvm is truncated" -- \
    $MINIVM restore "$tmp/cut.mvm"
expect "a file that is no snapshot is refused" 2 "is not a minivm snapshot" -- \
    $MINIVM restore /etc/passwd
expect "receive gives up after --timeout" 2 "no migration arrived .* within 1 s" -- \
    $MINIVM receive --listen "unix:$tmp/mig.sock" --timeout 1
expect "--smp 4: the APs come up by INIT-SIPI-SIPI" 0 "^total 160 = 4 CPUs x 40$" -- \
    $MINIVM run $G/smp_count.bin --mode long --smp 4

echo "minivm cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
