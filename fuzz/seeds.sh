#!/bin/sh
# seeds.sh - write the seed inputs of fuzz/corpus/ (maintainers: run it
# after changing an input format; the seeds are committed).
#
# A seed is a realistic input the fuzzer starts from and mutates: the
# register sequence Linux's 8250 driver uses to identify a 16550A, a
# well-formed ring with two chains, and so on. The formats are described
# at the top of uart_fuzz.c and vq_fuzz.c.
set -eu
cd "$(dirname "$0")"
U=corpus/uart_fuzz
V=corpus/vq_fuzz
rm -rf "$U" "$V"
mkdir -p "$U" "$V"

# Bytes of a number, little-endian: le BYTES VALUE. Octal escapes: the
# only ones every printf(1) knows.
le() {
    i=0
    while [ "$i" -lt "$1" ]; do
        # shellcheck disable=SC2059 # the format is the escape itself
        printf "\\$(printf '%03o' $((($2 >> (8 * i)) & 255)))"
        i=$((i + 1))
    done
}

# ---- uart_fuzz: 2 bytes a step, "w REG VALUE", "r REG", "rx VALUE",
# "burst VALUE" (uart_fuzz.c). Registers by offset, as <linux/serial_reg.h>.
uart_seed() {
    name=$1
    shift
    for s in "$@"; do
        # Split "w 1 0x0f" into its words (the callers split at |).
        ifs=$IFS
        IFS=' '
        # shellcheck disable=SC2086
        set -- $s
        IFS=$ifs
        case $1 in
        w) le 1 "$2" && le 1 "$3" ;;
        r) le 1 $((8 + $2)) && le 1 0 ;;
        rx) le 1 16 && le 1 "$2" ;;
        burst) le 1 24 && le 1 "$2" ;;
        esac
    done >"$U/$name"
}

# The guest run-time's uart_init(): 115200 8N1, FIFOs on, DTR RTS OUT2.
INIT="w 1 0|w 3 0x80|w 0 1|w 1 0|w 3 0x03|w 2 0x07|w 4 0x0b"

# Linux 8250_port.c: autoconfig() (IER test, loopback test, EFR probe,
# FIFO bits in IIR), autoconfig_16550a() (EFR, divisor latch, 16750
# test), the scratch test, then serial8250_do_startup()'s THRE test.
IFS='|'
# shellcheck disable=SC2086 # the steps are split at |
uart_seed linux_autoconfig \
    "r 1" "w 1 0" "r 1" "w 1 0x0f" "r 1" "w 1 0" "r 4" "r 3" \
    "w 4 0x1a" "r 6" "w 4 0" \
    "w 3 0xbf" "w 2 0" "w 3 0" "w 2 1" "r 2" \
    "w 3 0x80" "r 2" "w 3 0xbf" "r 2" "w 3 0" \
    "w 3 0x80" "r 0" "r 1" "w 0 0x0c" "w 1 0" "r 0" "r 1" "w 3 0" \
    "w 2 0x21" "r 2" "w 2 1" "w 3 0x80" "w 2 0x21" "r 2" "w 2 1" "w 3 0" \
    "w 7 0xa5" "r 7" "w 7 0x5a" "r 7" \
    "w 2 1" "w 2 7" "w 2 0" "r 0" "w 1 0" \
    "w 2 0xc7" "w 3 0x03" "w 4 0x0b" "w 1 0x02" "r 5" "r 2" "w 1 0" "r 2"
# shellcheck disable=SC2086
uart_seed guest_hello_echo $INIT \
    "r 5" "w 0 0x68" "r 5" "w 0 0x69" "r 5" "w 0 0x0a" \
    "rx 0x6f" "rx 0x6b" "rx 0x0a" "r 5" "r 0" "r 5" "r 0" "r 5" "r 0" "r 5"
# shellcheck disable=SC2086
uart_seed loopback_overrun $INIT "w 4 0x1f" "r 6" \
    "w 0 0x30" "w 0 0x31" "w 0 0x32" "w 0 0x33" "w 0 0x34" "w 0 0x35" \
    "w 0 0x36" "w 0 0x37" "w 0 0x38" "w 0 0x39" "w 0 0x3a" "w 0 0x3b" \
    "w 0 0x3c" "w 0 0x3d" "w 0 0x3e" "w 0 0x3f" "w 0 0x40" "r 5" "r 0" \
    "r 0" "w 2 0" "w 0 0x61" "w 0 0x62" "r 5" "r 0" "w 4 0x0b" "r 6"
# shellcheck disable=SC2086
uart_seed interrupts $INIT "w 1 0x0f" "r 2" "burst 0x41" "r 2" "r 5" "r 2" \
    "r 0" "r 0" "w 2 0x07" "r 2" "w 4 0x1b" "r 2" "r 6" "r 2" "w 1 0" "r 2"
unset IFS

# ---- vq_fuzz: a 16-byte header, register operations, guest memory
# (vq_fuzz.c). One ring image for all: the descriptor table at 0x100,
# the available ring at 0x200, the used ring at 0x300, and three buffers:
# chain 0 = descriptors 0 -> 1 ("hello, " "virtqueue\n"), chain 2 =
# descriptor 2 ("again\n"); the available ring offers both (idx 2).
image=$(mktemp)
trap 'rm -f "$image"' EXIT
head -c 1104 /dev/zero >"$image"
poke() { # poke OFFSET, bytes on stdin
    dd of="$image" bs=1 seek=$(($1)) conv=notrunc status=none
}
desc() { # desc INDEX ADDR LEN FLAGS NEXT
    { le 8 "$2" && le 4 "$3" && le 2 "$4" && le 2 "$5"; } | poke $((0x100 + 16 * $1))
}
desc 0 0x400 7 1 1
desc 1 0x420 10 0 0
desc 2 0x440 6 0 0
{ le 2 0 && le 2 2 && le 2 0 && le 2 2; } | poke 0x200
printf 'hello, ' | poke 0x400
printf 'virtqueue\n' | poke 0x420
printf 'again\n' | poke 0x440
cp "$image" "$image.ring"
trap 'rm -f "$image" "$image.ring"' EXIT

# header NUMSEL FLAGS DESC AVAIL USED LAST_AVAIL WHERE NOPS HEAD MAX_IOV
header() {
    le 1 "$1" && le 1 "$2" && le 2 "$3" && le 2 "$4" && le 2 "$5" &&
        le 2 "$6" && le 1 "$7" && le 1 "$8" && le 2 "$9" && le 1 "${10}" &&
        le 1 0
}
# op r|w REGINDEX [VALUE]: the index into regs[] of vq_fuzz.c
op() {
    if [ "$1" = r ]; then le 1 $((0x80 + $2)); else le 1 "$2"; fi
    le 4 "${3:-0}"
}
MAGIC=0 VERSION=1 DEVICE_ID=2 DEV_FEATURES=4 DEV_FEATURES_SEL=5
DRV_FEATURES=6 DRV_FEATURES_SEL=7 QUEUE_SEL=8 QUEUE_NUM_MAX=9 QUEUE_NUM=10
QUEUE_READY=11 QUEUE_NOTIFY=12 INT_STATUS=13 INT_ACK=14 STATUS=15
DESC_LOW=16 DESC_HIGH=17 AVAIL_LOW=18 AVAIL_HIGH=19 USED_LOW=20 USED_HIGH=21

# num 16 (nums[4]), ready, walk chain 0 too; the ring as is.
{ header 4 5 0x100 0x200 0x300 0 0 0 0 63 && cat "$image"; } >"$V/ring_2_chains"

# The same ring set up as Linux's virtio_mmio and virtio core do it:
# probe, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, the queue, DRIVER_OK,
# a notify, the interrupt acknowledged.
{
    header 4 0 0x100 0x200 0x300 0 0 30 0 63
    op r $MAGIC && op r $VERSION && op r $DEVICE_ID
    op w $STATUS 1 && op w $STATUS 3
    op w $DEV_FEATURES_SEL 1 && op r $DEV_FEATURES
    op w $DEV_FEATURES_SEL 0 && op r $DEV_FEATURES
    op w $DRV_FEATURES_SEL 1 && op w $DRV_FEATURES 1
    op w $DRV_FEATURES_SEL 0 && op w $DRV_FEATURES 0
    op w $STATUS 11 && op r $STATUS
    op w $QUEUE_SEL 0 && op r $QUEUE_NUM_MAX && op w $QUEUE_NUM 16
    op w $DESC_LOW 0x100 && op w $DESC_HIGH 0
    op w $AVAIL_LOW 0x200 && op w $AVAIL_HIGH 0
    op w $USED_LOW 0x300 && op w $USED_HIGH 0
    op w $QUEUE_READY 1 && op w $STATUS 15 && op w $QUEUE_NOTIFY 0
    op r $INT_STATUS && op w $INT_ACK 1 && op r $QUEUE_READY
    cat "$image"
} >"$V/linux_driver_init"

# A driver that resets the device after using it (as Linux does when the
# driver is unbound) and sets the queue up again: the header's ring is
# processed, STATUS = 0, then the queue anew and a notification.
{
    header 4 1 0x100 0x200 0x300 0 0 12 0 63
    op w $STATUS 0 && op r $STATUS && op r $QUEUE_READY
    op w $STATUS 1 && op w $STATUS 3 && op w $QUEUE_NUM 16
    op w $DESC_LOW 0x100 && op w $AVAIL_LOW 0x200 && op w $USED_LOW 0x300
    op w $QUEUE_READY 1 && op w $QUEUE_NOTIFY 0 && op r $INT_STATUS
    cat "$image"
} >"$V/reset_and_again"

# The rings in the memory slot (placement 1 for all three areas).
{ header 4 5 0x100 0x200 0x300 0 0x15 0 0 63 && cat "$image"; } >"$V/rings_in_slot"

# The available index wraps: last_avail 0xfffe, idx 1: entries 14, 15, 0.
{ le 2 0 && le 2 1 && le 2 0; } | poke 0x200
{ le 2 0 && le 2 2; } | poke $((0x204 + 2 * 14))
{ header 4 1 0x100 0x200 0x300 0xfffe 0 0 0 63 && cat "$image"; } >"$V/avail_idx_wraps"

# A chain that loops: descriptor 0 -> 0.
cp "$image.ring" "$image"
desc 0 0x400 7 1 0
{ le 2 0 && le 2 1 && le 2 0; } | poke 0x200
{ header 4 5 0x100 0x200 0x300 0 0 0 0 63 && cat "$image"; } >"$V/chain_loops"

echo "seeds: $(find "$U" -type f | wc -l) in $U, $(find "$V" -type f |
    wc -l) in $V"
