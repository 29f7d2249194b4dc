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
    (void)bus;
    (void)dev;
    (void)ranges_overlap;
    return MVM_TODO(1, "register a device on the bus");
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
    (void)bus;
    (void)space;
    (void)addr;
    (void)len;
    MVM_TODO(2, "find the device at an address");
    return NULL;
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
    (void)vm;
    (void)space;
    (void)addr;
    (void)data;
    (void)len;
    (void)is_write;
    (void)space_name;
    return MVM_TODO(3, "dispatch an access");
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
    (void)vm;
    return MVM_TODO(4, "handle KVM_EXIT_IO");
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
    (void)uart;
    (void)byte;
}

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
    (void)uart;
    (void)reg;
    (void)value;
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
    (void)uart;
    (void)reg;
    return 0xff;
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
    (void)td;
    (void)offset;
    (void)len;
    (void)value;
    return MVM_TODO(8, "read the test device's registers");
}

int mvm_testdev_write(struct mvm_testdev *td, uint64_t offset, unsigned len,
                      uint32_t value)
{
    (void)td;
    (void)offset;
    (void)len;
    (void)value;
    return MVM_TODO(8, "write the test device's registers");
}
