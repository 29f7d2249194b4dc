/*
 * devices.c - minivm stage 4: devices.
 *
 * A guest talks to its devices in two ways: IN and OUT instructions reach
 * the 64 Ki I/O ports, and ordinary loads and stores reach memory-mapped
 * registers in a hole of the physical address space. Under KVM both end
 * in an exit to minivm (KVM_EXIT_IO, KVM_EXIT_MMIO), and minivm plays the
 * device. In this lab you build the bus that routes each access to the
 * device that claims its address, a 16550A UART complete enough for
 * Linux's 8250 driver, and a small MMIO device with a doorbell.
 *
 * References: api.rst 5 "KVM_EXIT_IO" and "KVM_EXIT_MMIO"; National
 * Semiconductor PC16550D data sheet (registers, FIFOs, loopback);
 * <linux/serial_reg.h>; Linux drivers/tty/serial/8250/8250_port.c
 * (autoconfig()). labs/04-devices/README.md walks through the steps.
 */
#define MVM_LAB        "04-devices"
#define MVM_STAGE_FILE "devices.c"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "minivm.h"

#define PORT_SPACE_END 0x10000 /* x86 has 64 Ki ports: 0 to 0xffff */

/* IIR bits 7:6 read 11 when the FIFOs are on (PC16550D, "Interrupt
 * Identification Register"): the bits Linux tells a 16550A from a 16450
 * by. */
#define UART_IIR_FIFOS_ON 0xc0

static const char *space_name(enum mvm_space space)
{
    return space == MVM_SPACE_PORT ? "port" : "MMIO";
}

/* Do [a, a+as) and [b, b+bs) share a byte? (No overflow: sizes > 0 and
 * neither range wraps.) */
static bool ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

/*
 * TODO 1: put a device on the bus: copy *dev into bus->dev[bus->ndev++].
 * A bus is a list of {space, base, len, handlers} (kvmtool's, QEMU's
 * memory regions, Firecracker's all look like this). Refuse, with a
 * message naming the device:
 *  - len 0, a range whose end wraps past 2^64, a port range going past
 *    port 0xffff, a space that is neither MVM_SPACE_PORT nor
 *    MVM_SPACE_MMIO, a missing read or write callback: -EINVAL;
 *  - a range sharing a byte with a device of the SAME space: -EEXIST,
 *    naming both devices and their ranges. Ports and memory are separate
 *    address spaces: port 0x1000 and MMIO 0x1000 never clash. Ranges that
 *    merely touch ([0, 8) and [8, 16)) do not overlap;
 *  - a full bus (MVM_MAX_DEVICES): -ENOSPC.
 * Two devices answering one address would both act on every access (a
 * read would return whichever answered last): the bus must refuse.
 */
int mvm_bus_register(struct mvm_bus *bus, const struct mvm_device *dev)
{
    /* SOLUTION BEGIN */
    /* stub: (void)bus; */
    /* stub: (void)dev; */
    /* stub: (void)ranges_overlap; */
    /* stub: return MVM_TODO(1, "register a device on the bus"); */
    const char *name = dev->name ? dev->name : "(unnamed)";
    uint64_t end = dev->base + dev->len;

    if (dev->space != MVM_SPACE_PORT && dev->space != MVM_SPACE_MMIO)
        return vl_err_plain(EINVAL, "device %s: unknown address space %d", name,
                            (int)dev->space);
    if (dev->len == 0 || end < dev->base)
        return vl_err_plain(EINVAL,
                            "device %s: %s range at 0x%llx of 0x%llx bytes "
                            "is empty or wraps around",
                            name, space_name(dev->space),
                            (unsigned long long)dev->base,
                            (unsigned long long)dev->len);
    if (dev->space == MVM_SPACE_PORT && end > PORT_SPACE_END)
        return vl_err_plain(EINVAL,
                            "device %s: ports [0x%llx, 0x%llx) go past the "
                            "last I/O port 0xffff",
                            name, (unsigned long long)dev->base,
                            (unsigned long long)end);
    if (!dev->read || !dev->write)
        return vl_err_plain(EINVAL,
                            "device %s has no %s callback: every device "
                            "must answer reads and writes",
                            name, dev->read ? "write" : "read");
    for (int i = 0; i < bus->ndev; i++) {
        const struct mvm_device *d = &bus->dev[i];

        if (d->space == dev->space &&
            ranges_overlap(dev->base, dev->len, d->base, d->len))
            return vl_err_plain(
                EEXIST,
                "device %s at %s [0x%llx, 0x%llx) overlaps %s at "
                "[0x%llx, 0x%llx)",
                name, space_name(dev->space), (unsigned long long)dev->base,
                (unsigned long long)end, d->name, (unsigned long long)d->base,
                (unsigned long long)(d->base + d->len));
    }
    if (bus->ndev == MVM_MAX_DEVICES)
        return vl_err_plain(ENOSPC, "device %s: the bus is full (%d devices)",
                            name, MVM_MAX_DEVICES);
    bus->dev[bus->ndev++] = *dev;
    return 0;
    /* SOLUTION END */
}

/*
 * TODO 2: the device of `space` whose range holds ALL of [addr, addr+len),
 * or NULL. An access that starts inside a device and runs past its end
 * (a 4-byte read of the last byte), or one that wraps around, belongs to
 * nobody. Finding nothing is not an error here: record none.
 */
const struct mvm_device *mvm_bus_find(const struct mvm_bus *bus,
                                      enum mvm_space space, uint64_t addr,
                                      unsigned len)
{
    /* SOLUTION BEGIN */
    /* stub: (void)bus; */
    /* stub: (void)space; */
    /* stub: (void)addr; */
    /* stub: (void)len; */
    /* stub: MVM_TODO(2, "find the device at an address"); */
    /* stub: return NULL; */
    for (int i = 0; i < bus->ndev; i++) {
        const struct mvm_device *d = &bus->dev[i];

        if (d->space == space && addr >= d->base && addr - d->base < d->len &&
            len <= d->len - (addr - d->base))
            return d;
    }
    return NULL;
    /* SOLUTION END */
}

/*
 * TODO 3: one access of `len` bytes at `addr` of `space`, a read into
 * `data` or a write from it. Find the device (TODO 2) and call its read()
 * or write() with the offset from its base: a device model knows its
 * registers by offset, never by where the bus put it. Return what the
 * device returns (MVM_CONTINUE, MVM_STOP or -errno). When the device
 * fails, add context naming the device and the exit (mvm_exit_text(vm)
 * carries the guest's RIP) to its message.
 * Nobody there: -ENODEV, with a message naming the space and address
 * ("port 0x2f8"), the direction and size, and mvm_exit_text(vm). A VMM
 * must not make up an answer: the guest would go on with a value no
 * hardware gave it, and the bug would surface far away.
 */
int mvm_bus_access(struct minivm *vm, enum mvm_space space, uint64_t addr,
                   void *data, unsigned len, bool is_write)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)space; */
    /* stub: (void)addr; */
    /* stub: (void)data; */
    /* stub: (void)len; */
    /* stub: (void)is_write; */
    /* stub: (void)space_name; */
    /* stub: return MVM_TODO(3, "dispatch an access"); */
    const struct mvm_device *d = mvm_bus_find(&vm->bus, space, addr, len);
    uint64_t offset;
    int r;

    if (!d)
        return vl_err_plain(ENODEV,
                            "no device at %s 0x%llx for a %u-byte %s: %s",
                            space_name(space), (unsigned long long)addr, len,
                            is_write ? "write" : "read", mvm_exit_text(vm));
    offset = addr - d->base;
    if (is_write)
        r = d->write(vm, d->opaque, offset, data, len);
    else
        r = d->read(vm, d->opaque, offset, data, len);
    if (r < 0)
        return vl_err_ctx(r, "%s at %s 0x%llx (%s)", d->name, space_name(space),
                          (unsigned long long)addr, mvm_exit_text(vm));
    return r;
    /* SOLUTION END */
}

/*
 * TODO 4: handle KVM_EXIT_IO (api.rst 5, "KVM_EXIT_IO"). vm->run->io says
 * the direction (KVM_EXIT_IO_IN/OUT), the size of each item (1, 2 or 4
 * bytes), the port, the count, and where the data is: data_offset bytes
 * from the start of kvm_run. An OUT's data is there to read; an IN's
 * answer must be left there, and KVM hands it to the guest on the next
 * KVM_RUN. count > 1 is string I/O (rep outsb, rep insw): `count` items
 * at the SAME port, one after another in the buffer.
 * KVM promises data_offset + size * count lies inside the vm->run_size
 * bytes of the mapping; a VMM checks what it is told before it writes
 * through it: -EFAULT with a message if not.
 * Hand each item to mvm_bus_access() (TODO 3); stop at the first error
 * or MVM_STOP and return it, else MVM_CONTINUE.
 */
int mvm_handle_io(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(4, "handle KVM_EXIT_IO"); */
    struct kvm_run *run = vm->run;
    uint64_t size = run->io.size, count = run->io.count;
    uint64_t off = run->io.data_offset;
    bool out = run->io.direction == KVM_EXIT_IO_OUT;
    uint8_t *data;

    if (off > vm->run_size || size * count > vm->run_size - off)
        return vl_err_plain(EFAULT,
                            "KVM_EXIT_IO data [0x%llx, +%llu) is not inside "
                            "the %zu bytes of kvm_run",
                            (unsigned long long)off,
                            (unsigned long long)(size * count), vm->run_size);
    data = (uint8_t *)run + off;
    for (uint64_t i = 0; i < count; i++) {
        int r = mvm_bus_access(vm, MVM_SPACE_PORT, run->io.port,
                               data + i * size, (unsigned)size, out);

        if (r != MVM_CONTINUE)
            return r;
    }
    return MVM_CONTINUE;
    /* SOLUTION END */
}

/*
 * TODO 5: a byte arrives on the UART's wire (from minivm's stdin, or from
 * its own transmitter in loopback). With the FIFOs on (FCR bit 0) the
 * receiver holds up to MVM_UART_FIFO bytes in uart->rx, a ring: the
 * oldest at rx_head, rx_count of them. With the FIFOs off it holds ONE
 * byte (the Receiver Buffer Register).
 * No room: an overrun (PC16550D, LSR bit 1): set UART_LSR_OE and lose a
 * byte: in FIFO mode the new byte (the FIFO keeps its 16), without the
 * FIFO the unread one (the new byte overwrites RBR). Either way the
 * receiver has data: set UART_LSR_DR.
 */
void mvm_uart_receive(struct mvm_uart *uart, uint8_t byte)
{
    /* SOLUTION BEGIN */
    /* stub: (void)uart; */
    /* stub: (void)byte; */
    unsigned room = (uart->fcr & UART_FCR_ENABLE_FIFO) ? MVM_UART_FIFO : 1;

    uart->lsr |= UART_LSR_DR;
    if (uart->rx_count >= room) {
        uart->lsr |= UART_LSR_OE;
        if (room == 1)
            uart->rx[uart->rx_head] = byte;
        return;
    }
    uart->rx[(uart->rx_head + uart->rx_count) % MVM_UART_FIFO] = byte;
    uart->rx_count++;
    /* SOLUTION END */
}
/* SOLUTION BEGIN */

/* The modem status inputs (MSR bits 7:4) as the guest sees them. In
 * loopback the UART wires its own outputs to them (PC16550D, MCR bit 4):
 * RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 -> DCD. Otherwise they are the
 * other end's lines; minivm's "cable" holds CTS, DSR and DCD up. */
static uint8_t uart_modem_lines(const struct mvm_uart *uart)
{
    uint8_t mcr = uart->mcr, lines = 0;

    if (!(mcr & UART_MCR_LOOP))
        return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    if (mcr & UART_MCR_RTS)
        lines |= UART_MSR_CTS;
    if (mcr & UART_MCR_DTR)
        lines |= UART_MSR_DSR;
    if (mcr & UART_MCR_OUT1)
        lines |= UART_MSR_RI;
    if (mcr & UART_MCR_OUT2)
        lines |= UART_MSR_DCD;
    return lines;
}

/* New input lines: MSR's delta bits (3:0) record each change until the
 * guest reads MSR; TERI only for RI's trailing edge (1 -> 0). */
static void uart_set_modem_lines(struct mvm_uart *uart, uint8_t lines)
{
    uint8_t old = uart->msr & 0xf0, changed = old ^ lines;
    uint8_t delta = uart->msr & UART_MSR_ANY_DELTA;

    if (changed & UART_MSR_CTS)
        delta |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR)
        delta |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD)
        delta |= UART_MSR_DDCD;
    if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
        delta |= UART_MSR_TERI;
    uart->msr = lines | delta;
}

/* Empty the receiver (FIFO or holding register). */
static void uart_clear_rx(struct mvm_uart *uart)
{
    uart->rx_head = 0;
    uart->rx_count = 0;
    uart->lsr &= ~UART_LSR_DR;
}

/* THR: the byte leaves at once (minivm's wire has no baud rate), so the
 * transmitter is empty again and says so. */
static void uart_transmit(struct mvm_uart *uart, uint8_t byte)
{
    if (uart->mcr & UART_MCR_LOOP) {
        mvm_uart_receive(uart, byte);
    } else {
        if (uart->out)
            fputc(byte, uart->out);
        uart->tx_bytes++;
    }
    uart->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    uart->thr_ipending = true;
}
/* SOLUTION END */

/*
 * TODO 6: the guest writes `value` to UART register `reg` (0-7, the
 * UART_* offsets of <linux/serial_reg.h>; PC16550D, "Registers"):
 *  0  LCR.DLAB ? DLL (divisor low byte) : THR. A THR byte goes to
 *     uart->out (count it in tx_bytes), or in loopback (MCR.LOOP) to the
 *     receiver (TODO 5). minivm sends it at once: THRE and TEMT stay set,
 *     and a "THR empty" interrupt becomes pending (thr_ipending).
 *  1  DLAB ? DLM (divisor high byte) : IER, low 4 bits. Turning THRI on
 *     while THR is empty makes a THR-empty interrupt pending.
 *  2  FCR (write-only; reads of 2 are IIR): turning the FIFOs on or off
 *     empties them, UART_FCR_CLEAR_RCVR empties the receiver (and clears
 *     LSR.DR); keep the enable and receive trigger bits in uart->fcr.
 *  3  LCR, all 8 bits (bit 7 is DLAB).
 *  4  MCR, 5 bits. MSR's lines follow: in loopback CTS = RTS, DSR = DTR,
 *     RI = OUT1, DCD = OUT2; out of it, the cable's CTS | DSR | DCD. Each
 *     change sets its delta bit (DCTS, DDSR, DDCD; TERI when RI goes
 *     from 1 to 0).
 *  5  LSR, 6 MSR: the UART's status; writes are ignored.
 *  7  SCR: any byte, for software (the 16450 added it).
 * The baud rate is CLOCK / (16 * divisor): divisor 1 is 115200 baud.
 */
void mvm_uart_write(struct mvm_uart *uart, unsigned reg, uint8_t value)
{
    /* SOLUTION BEGIN */
    /* stub: (void)uart; */
    /* stub: (void)reg; */
    /* stub: (void)value; */
    bool dlab = uart->lcr & UART_LCR_DLAB;

    switch (reg) {
    case UART_TX:
        if (dlab)
            uart->dll = value;
        else
            uart_transmit(uart, value);
        break;
    case UART_IER:
        if (dlab) {
            uart->dlm = value;
            break;
        }
        if (!(uart->ier & UART_IER_THRI) && (value & UART_IER_THRI) &&
            (uart->lsr & UART_LSR_THRE))
            uart->thr_ipending = true;
        uart->ier = value & 0x0f;
        break;
    case UART_FCR:
        if ((value ^ uart->fcr) & UART_FCR_ENABLE_FIFO ||
            (value & UART_FCR_CLEAR_RCVR))
            uart_clear_rx(uart);
        uart->fcr = value & (UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK);
        break;
    case UART_LCR:
        uart->lcr = value;
        break;
    case UART_MCR:
        uart->mcr = value & 0x1f;
        uart_set_modem_lines(uart, uart_modem_lines(uart));
        break;
    case UART_SCR:
        uart->scr = value;
        break;
    default: /* LSR, MSR: read-only */
        break;
    }
    /* SOLUTION END */
}

/*
 * TODO 7: the guest reads UART register `reg`:
 *  0  DLAB ? DLL : RBR: the oldest received byte, taken out (0 when
 *     there is none); LSR.DR clears when the receiver is empty.
 *  1  DLAB ? DLM : IER.
 *  2  IIR: the most important pending interrupt the IER enables
 *     (PC16550D, "Interrupt Identification Register"):
 *       0x06 line status: LSR.OE/PE/FE/BI, IER.RLSI;
 *       0x04 data ready: LSR.DR, IER.RDI;
 *       0x02 THR empty: thr_ipending, IER.THRI; reading IIR when this
 *            is the answer clears thr_ipending;
 *       0x00 modem status: any MSR delta bit, IER.MSI;
 *       0x01 nothing pending.
 *     Bits 7:6 are 11 while the FIFOs are on: that is how software tells
 *     a 16550A from a 16450.
 *  3  LCR.  4  MCR.
 *  5  LSR; reading it clears the error bits OE, PE, FE and BI.
 *  6  MSR; reading it clears the delta bits (3:0).
 *  7  SCR.
 * Linux's 8250 driver identifies the UART by these answers
 * (8250_port.c, autoconfig()): a scratch test, an IER test (0, then
 * 0x0f, read back), a loopback test (MCR = LOOP | OUT2 | RTS must read
 * MSR & 0xf0 == 0x90) and the IIR's FIFO bits after FCR = 1.
 */
uint8_t mvm_uart_read(struct mvm_uart *uart, unsigned reg)
{
    /* SOLUTION BEGIN */
    /* stub: (void)uart; */
    /* stub: (void)reg; */
    /* stub: return 0xff; */
    bool dlab = uart->lcr & UART_LCR_DLAB;
    uint8_t v;

    switch (reg) {
    case UART_RX:
        if (dlab)
            return uart->dll;
        if (!uart->rx_count)
            return 0;
        v = uart->rx[uart->rx_head];
        uart->rx_head = (uart->rx_head + 1) % MVM_UART_FIFO;
        if (--uart->rx_count == 0)
            uart->lsr &= ~UART_LSR_DR;
        return v;
    case UART_IER:
        return dlab ? uart->dlm : uart->ier;
    case UART_IIR:
        if ((uart->ier & UART_IER_RLSI) &&
            (uart->lsr & UART_LSR_BRK_ERROR_BITS)) {
            v = UART_IIR_RLSI;
        } else if ((uart->ier & UART_IER_RDI) && (uart->lsr & UART_LSR_DR)) {
            v = UART_IIR_RDI;
        } else if ((uart->ier & UART_IER_THRI) && uart->thr_ipending) {
            v = UART_IIR_THRI;
            uart->thr_ipending = false;
        } else if ((uart->ier & UART_IER_MSI) &&
                   (uart->msr & UART_MSR_ANY_DELTA)) {
            v = UART_IIR_MSI;
        } else {
            v = UART_IIR_NO_INT;
        }
        if (uart->fcr & UART_FCR_ENABLE_FIFO)
            v |= UART_IIR_FIFOS_ON;
        return v;
    case UART_LCR:
        return uart->lcr;
    case UART_MCR:
        return uart->mcr;
    case UART_LSR:
        v = uart->lsr;
        uart->lsr &= ~UART_LSR_BRK_ERROR_BITS;
        return v;
    case UART_MSR:
        v = uart->msr;
        uart->msr &= ~UART_MSR_ANY_DELTA;
        return v;
    case UART_SCR:
        return uart->scr;
    default:
        return 0xff; /* no register: an ISA bus floats high */
    }
    /* SOLUTION END */
}

/*
 * TODO 8: minivm's test device (the MVM_TESTDEV_* comments in minivm.h),
 * the shape of most real devices: status, data, doorbell.
 * Its registers are 32 bits wide and aligned: any other access (a
 * 2-byte read, offset 0x6) is -EINVAL, naming the size and the offset;
 * so is an offset past DOORBELL (0x0c).
 * Read:  MAGIC -> MVM_TESTDEV_MAGIC_VALUE; STATUS -> td->status;
 *        DATA -> td->answer; DOORBELL (write-only) -> 0.
 * Write: MAGIC, STATUS are read-only: like hardware, ignore the write.
 *        DATA queues the word in td->data (full at MVM_TESTDEV_DEPTH:
 *        STATUS = ERROR, the word is dropped) and clears STATUS.DONE.
 *        DOORBELL is a command; count it in td->doorbells:
 *          SUM: answer = the queued words added (mod 2^32), the queue
 *               emptied, STATUS = DONE;
 *          RESET: everything back to 0 (doorbells counts on);
 *          anything else: STATUS = ERROR.
 */
int mvm_testdev_read(struct mvm_testdev *td, uint64_t offset, unsigned len,
                     uint32_t *value)
{
    /* SOLUTION BEGIN */
    /* stub: (void)td; */
    /* stub: (void)offset; */
    /* stub: (void)len; */
    /* stub: (void)value; */
    /* stub: return MVM_TODO(8, "read the test device's registers"); */
    if (len != 4 || offset % 4)
        return vl_err_plain(EINVAL,
                            "the test device's registers are 32 bits wide "
                            "and aligned: a %u-byte read at offset 0x%llx",
                            len, (unsigned long long)offset);
    switch (offset) {
    case MVM_TESTDEV_MAGIC:
        *value = MVM_TESTDEV_MAGIC_VALUE;
        return MVM_CONTINUE;
    case MVM_TESTDEV_STATUS:
        *value = td->status;
        return MVM_CONTINUE;
    case MVM_TESTDEV_DATA:
        *value = td->answer;
        return MVM_CONTINUE;
    case MVM_TESTDEV_DOORBELL:
        *value = 0;
        return MVM_CONTINUE;
    default:
        return vl_err_plain(EINVAL,
                            "the test device has no register at offset "
                            "0x%llx (the last is DOORBELL at 0x%x)",
                            (unsigned long long)offset, MVM_TESTDEV_DOORBELL);
    }
    /* SOLUTION END */
}
/* SOLUTION BEGIN */

/* A command rung on the doorbell. */
static void testdev_command(struct mvm_testdev *td, uint32_t cmd)
{
    uint64_t doorbells = td->doorbells + 1;
    uint32_t sum = 0;

    switch (cmd) {
    case MVM_TESTDEV_CMD_SUM:
        for (unsigned i = 0; i < td->ndata; i++)
            sum += td->data[i];
        td->answer = sum;
        td->ndata = 0;
        td->status = MVM_TESTDEV_DONE;
        break;
    case MVM_TESTDEV_CMD_RESET:
        *td = (struct mvm_testdev){0};
        break;
    default:
        td->status = MVM_TESTDEV_ERROR;
        break;
    }
    td->doorbells = doorbells;
}
/* SOLUTION END */

int mvm_testdev_write(struct mvm_testdev *td, uint64_t offset, unsigned len,
                      uint32_t value)
{
    /* SOLUTION BEGIN */
    /* stub: (void)td; */
    /* stub: (void)offset; */
    /* stub: (void)len; */
    /* stub: (void)value; */
    /* stub: return MVM_TODO(8, "write the test device's registers"); */
    if (len != 4 || offset % 4)
        return vl_err_plain(EINVAL,
                            "the test device's registers are 32 bits wide "
                            "and aligned: a %u-byte write at offset 0x%llx",
                            len, (unsigned long long)offset);
    switch (offset) {
    case MVM_TESTDEV_MAGIC:
    case MVM_TESTDEV_STATUS:
        return MVM_CONTINUE; /* read-only */
    case MVM_TESTDEV_DATA:
        td->status &= ~MVM_TESTDEV_DONE;
        if (td->ndata == MVM_TESTDEV_DEPTH)
            td->status = MVM_TESTDEV_ERROR;
        else
            td->data[td->ndata++] = value;
        return MVM_CONTINUE;
    case MVM_TESTDEV_DOORBELL:
        testdev_command(td, value);
        return MVM_CONTINUE;
    default:
        return vl_err_plain(EINVAL,
                            "the test device has no register at offset "
                            "0x%llx (the last is DOORBELL at 0x%x)",
                            (unsigned long long)offset, MVM_TESTDEV_DOORBELL);
    }
    /* SOLUTION END */
}
