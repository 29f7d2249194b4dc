/*
 * uart_fuzz.c - libFuzzer harness for lab 04's 16550A UART model.
 *
 * A guest can write any byte to any of the UART's 8 ports in any order,
 * and the host can push input bytes at any time: nothing of that may
 * crash minivm or leave the model in a state a real 16550A cannot be in.
 * Each input is a program of 2-byte steps run on a UART at power-on state
 * (mvm_setup_devices() of labs/minivm/minivm.c sets it):
 *
 *   byte 0: bits 2:0 the register (0-7), bits 4:3 the operation:
 *           0 mvm_uart_write(reg, value)   1 mvm_uart_read(reg)
 *           2 mvm_uart_receive(value)      3 receive (value & 31) + 1
 *                                            bytes value, value+1, ...
 *   byte 1: the value
 *
 * Next to the UART the harness keeps its own small model of what the
 * PC16550D data sheet says the guest must see (the registers it wrote,
 * the bytes waiting in the receiver, the bytes transmitted) and checks
 * after every step, stopping with a message and __builtin_trap() when an
 * invariant breaks:
 *  - rx_count <= MVM_UART_FIFO (<= 1 while the FIFO is off), rx_head in
 *    range, and RBR gives the received bytes oldest first;
 *  - LSR.DR is set exactly when a byte waits; THRE and TEMT are always set
 *    (minivm transmits at once); OE exactly when a byte reached a full
 *    receiver since LSR was last read (the byte is lost with the FIFO on,
 *    overwrites RBR with it off); PE, FE, BI never (minivm's wire has no
 *    errors);
 *  - IIR's low nibble is 0x1, 0x6, 0x4, 0xC, 0x2 or 0x0, and names a cause
 *    that is enabled in IER and present (and a line-status cause wins);
 *    bits 7:6 are 11 exactly while the FIFO is on; reading IIR when it
 *    names THR empty clears that interrupt;
 *  - SCR, LCR, IER (low 4 bits), MCR (low 5 bits), DLL and DLM read back
 *    what was last written; MSR's lines follow MCR in loopback (CTS = RTS,
 *    DSR = DTR, RI = OUT1, DCD = OUT2), else show CTS, DSR and DCD;
 *  - tx_bytes counts the THR writes outside loopback; in loopback the byte
 *    reaches the receiver instead.
 * The checks read registers of a copy of the UART, so checking changes
 * nothing (reading LSR, IIR or MSR has side effects).
 *
 * FUZZ_TRACE=1 in the environment prints every step (to replay a crash:
 * FUZZ_TRACE=1 build/fuzz/uart_fuzz build/fuzz/crashes/uart_fuzz/crash-...).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum op { OP_WRITE, OP_READ, OP_RECEIVE, OP_BURST };

static const char *const op_names[] = {"write", "read", "receive", "burst"};

/* What the guest must see, from the data sheet (not from the model). */
struct expect {
    uint8_t lcr, ier, mcr, scr, dll, dlm;
    bool fifo_on;              /* the last FCR write set FCR0 */
    uint8_t rx[MVM_UART_FIFO]; /* waiting bytes, oldest first */
    unsigned rx_n;
    bool overrun; /* a byte arrived at a full receiver since LSR was read */
    uint64_t tx;  /* bytes transmitted */
    size_t step;  /* for messages */
    const char *what;
};

static bool trace;

static void __attribute__((format(printf, 2, 3), noreturn))
broken(const struct expect *e, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr,
            "uart_fuzz: invariant broken after step %zu (%s): ", e->step,
            e->what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    __builtin_trap();
}

/* Read a register of a copy of the UART: the real one does not change. */
static uint8_t peek(const struct mvm_uart *u, unsigned reg)
{
    struct mvm_uart copy = *u;

    return mvm_uart_read(&copy, reg);
}

static bool dlab(const struct expect *e)
{
    return e->lcr & UART_LCR_DLAB;
}

static unsigned rx_room(const struct expect *e)
{
    return e->fifo_on ? MVM_UART_FIFO : 1;
}

/*
 * A byte reaches the receiver (from the wire or, in loopback, from THR).
 * Into a full receiver it is an overrun (data sheet, LSR bit 1): with the
 * FIFO on the new byte is lost, without it the new byte overwrites RBR.
 */
static void expect_receive(struct expect *e, uint8_t byte)
{
    if (e->rx_n < rx_room(e)) {
        e->rx[e->rx_n++] = byte;
        return;
    }
    e->overrun = true;
    if (!e->fifo_on)
        e->rx[0] = byte;
}

static uint8_t expect_pop(struct expect *e)
{
    uint8_t byte = e->rx[0];

    memmove(e->rx, e->rx + 1, --e->rx_n);
    return byte;
}

/* MSR's four lines: in loopback they are MCR's outputs, wired back. */
static uint8_t expected_lines(const struct expect *e)
{
    if (!(e->mcr & UART_MCR_LOOP))
        return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    return (e->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
           (e->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
           (e->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
           (e->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static void check_iir(const struct mvm_uart *u, const struct expect *e)
{
    const uint8_t errors =
        UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI;
    uint8_t iir = peek(u, UART_IIR), lsr = peek(u, UART_LSR);
    uint8_t msr = peek(u, UART_MSR), id = iir & 0x0f;
    bool line = (e->ier & UART_IER_RLSI) && (lsr & errors);

    if ((iir & 0xc0) != (e->fifo_on ? 0xc0 : 0) || (iir & 0x30))
        broken(e,
               "IIR 0x%02x: bits 7:6 must be 11 exactly while the FIFO "
               "is on (it is %s), bits 5:4 zero",
               iir, e->fifo_on ? "on" : "off");
    if (line && id != UART_IIR_RLSI)
        broken(e,
               "IIR 0x%02x with LSR 0x%02x and IER 0x%02x: a line status "
               "interrupt has the highest priority (0x6)",
               iir, lsr, e->ier);
    switch (id) {
    case UART_IIR_NO_INT:
    case UART_IIR_RLSI:
        break;
    case UART_IIR_RDI:
    case UART_IIR_RX_TIMEOUT:
        if (!(e->ier & UART_IER_RDI) || !u->rx_count)
            broken(e,
                   "IIR 0x%02x says data is ready, IER 0x%02x, %u bytes "
                   "waiting",
                   iir, e->ier, u->rx_count);
        break;
    case UART_IIR_THRI:
        if (!(e->ier & UART_IER_THRI))
            broken(e,
                   "IIR 0x%02x says THR empty, IER 0x%02x does not enable "
                   "it",
                   iir, e->ier);
        break;
    case UART_IIR_MSI:
        if (!(e->ier & UART_IER_MSI) || !(msr & UART_MSR_ANY_DELTA))
            broken(e, "IIR 0x%02x says modem status, IER 0x%02x, MSR 0x%02x",
                   iir, e->ier, msr);
        break;
    default:
        broken(e, "IIR 0x%02x: no 16550A interrupt has id 0x%x", iir, id);
    }
    if (id == UART_IIR_RLSI && !line)
        broken(e, "IIR 0x%02x says line status, LSR 0x%02x, IER 0x%02x", iir,
               lsr, e->ier);
    if (e->ier == 0 && id != UART_IIR_NO_INT)
        broken(e, "IIR 0x%02x with every interrupt disabled in IER", iir);
}

/* Everything the guest could see now, on copies of the UART. */
static void check(const struct mvm_uart *u, const struct expect *e)
{
    uint8_t lsr = peek(u, UART_LSR), msr = peek(u, UART_MSR);

    if (u->rx_count > MVM_UART_FIFO || u->rx_head >= MVM_UART_FIFO)
        broken(e, "rx_count %u, rx_head %u: the FIFO has %d entries",
               u->rx_count, u->rx_head, MVM_UART_FIFO);
    if (!e->fifo_on && u->rx_count > 1)
        broken(e, "%u bytes waiting with the FIFO off: the receiver holds 1",
               u->rx_count);
    if (u->rx_count != e->rx_n)
        broken(e, "%u bytes waiting, expected %u", u->rx_count, e->rx_n);
    if (!(lsr & UART_LSR_DR) != !u->rx_count)
        broken(e, "LSR 0x%02x: DR must be set exactly when a byte waits (%u)",
               lsr, u->rx_count);
    if ((lsr & (UART_LSR_THRE | UART_LSR_TEMT)) !=
        (UART_LSR_THRE | UART_LSR_TEMT))
        broken(e,
               "LSR 0x%02x: THRE and TEMT clear, a polled driver waits "
               "forever",
               lsr);
    if (!(lsr & UART_LSR_OE) != !e->overrun)
        broken(e,
               "LSR 0x%02x: OE must be set exactly when a byte reached a "
               "full receiver since LSR was last read (%s)",
               lsr, e->overrun ? "one did" : "none did");
    if (lsr & (UART_LSR_PE | UART_LSR_FE | UART_LSR_BI | UART_LSR_FIFOE))
        broken(e,
               "LSR 0x%02x: parity, framing or break error on a wire "
               "that has none",
               lsr);
    if ((msr & 0xf0) != expected_lines(e))
        broken(e, "MSR 0x%02x with MCR 0x%02x: lines should be 0x%02x", msr,
               e->mcr, expected_lines(e));
    if (u->tx_bytes != e->tx)
        broken(e, "tx_bytes %llu, expected %llu",
               (unsigned long long)u->tx_bytes, (unsigned long long)e->tx);
    if (peek(u, UART_SCR) != e->scr || peek(u, UART_LCR) != e->lcr ||
        peek(u, UART_MCR) != e->mcr)
        broken(e,
               "SCR/LCR/MCR read 0x%02x/0x%02x/0x%02x, written "
               "0x%02x/0x%02x/0x%02x",
               peek(u, UART_SCR), peek(u, UART_LCR), peek(u, UART_MCR), e->scr,
               e->lcr, e->mcr);
    if (dlab(e) && (peek(u, UART_DLL) != e->dll || peek(u, UART_DLM) != e->dlm))
        broken(e, "divisor latch reads 0x%02x%02x, written 0x%02x%02x",
               peek(u, UART_DLM), peek(u, UART_DLL), e->dlm, e->dll);
    if (!dlab(e) && peek(u, UART_IER) != e->ier)
        broken(e, "IER reads 0x%02x, expected 0x%02x", peek(u, UART_IER),
               e->ier);
    check_iir(u, e);
}

static void do_write(struct mvm_uart *u, struct expect *e, unsigned reg,
                     uint8_t v)
{
    bool was_on = e->fifo_on;
    unsigned before = u->rx_count;

    mvm_uart_write(u, reg, v);
    switch (reg) {
    case UART_TX: /* = UART_DLL */
        if (dlab(e))
            e->dll = v;
        else if (e->mcr & UART_MCR_LOOP)
            expect_receive(e, v);
        else
            e->tx++;
        break;
    case UART_IER: /* = UART_DLM */
        if (dlab(e))
            e->dlm = v;
        else
            e->ier = v & 0x0f;
        break;
    case UART_FCR:
        /* Changing FCR0 clears both FIFOs, so does RCVR clear while the
         * FIFO is on (data sheet, FCR). A model may also clear on RCVR
         * with FCR0 off (QEMU does): accept that, nothing else. */
        e->fifo_on = v & UART_FCR_ENABLE_FIFO;
        if (was_on != e->fifo_on || (e->fifo_on && (v & UART_FCR_CLEAR_RCVR)) ||
            ((v & UART_FCR_CLEAR_RCVR) && before && !u->rx_count))
            e->rx_n = 0;
        break;
    case UART_LCR:
        e->lcr = v;
        break;
    case UART_MCR:
        e->mcr = v & 0x1f;
        break;
    case UART_SCR:
        e->scr = v;
        break;
    default: /* LSR, MSR: writes are ignored */
        break;
    }
}

static void do_read(struct mvm_uart *u, struct expect *e, unsigned reg)
{
    uint8_t v = mvm_uart_read(u, reg);

    if (trace)
        fprintf(stderr, "  -> 0x%02x\n", v);
    if (reg == UART_RX && !dlab(e) && e->rx_n) {
        uint8_t want = expect_pop(e);

        if (v != want)
            broken(e, "RBR gave 0x%02x, the oldest byte received is 0x%02x", v,
                   want);
    }
    if (reg == UART_LSR)
        e->overrun = false; /* reading LSR clears OE */
    /* Reading IIR when it names THR empty clears that interrupt (data
     * sheet, table IV): the next read must not name it again. */
    if (reg == UART_IIR && (v & 0x0f) == UART_IIR_THRI &&
        (peek(u, UART_IIR) & 0x0f) == UART_IIR_THRI)
        broken(e, "IIR named THR empty twice in a row: reading it must "
                  "clear that interrupt");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    struct mvm_options opt;
    struct minivm vm;
    struct expect e = {.what = "power-on"};

    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        if (!devnull)
            abort();
        trace = getenv("FUZZ_TRACE") != NULL;
    }
    mvm_options_default(&opt);
    opt.console = opt.log = devnull;
    mvm_init(&vm, &opt);
    /* The UART at power-on, as minivm sets it up (no KVM needed). */
    if (mvm_setup_devices(&vm) < 0) {
        fprintf(stderr, "uart_fuzz: mvm_setup_devices: %s\n", vl_errmsg());
        abort();
    }
    check(&vm.uart, &e);

    for (size_t i = 0; i + 1 < size; i += 2) {
        enum op op = (data[i] >> 3) & 3;
        unsigned reg = data[i] & 7;
        uint8_t v = data[i + 1];

        e.step = i / 2 + 1;
        e.what = op_names[op];
        if (trace && op == OP_READ)
            fprintf(stderr, "step %zu: read reg %u\n", e.step, reg);
        else if (trace && op == OP_WRITE)
            fprintf(stderr, "step %zu: write reg %u = 0x%02x\n", e.step, reg,
                    v);
        else if (trace)
            fprintf(stderr, "step %zu: %s 0x%02x%s\n", e.step, op_names[op], v,
                    op == OP_BURST ? " ..." : "");
        switch (op) {
        case OP_WRITE:
            do_write(&vm.uart, &e, reg, v);
            break;
        case OP_READ:
            do_read(&vm.uart, &e, reg);
            break;
        case OP_RECEIVE:
            mvm_uart_receive(&vm.uart, v);
            expect_receive(&e, v);
            break;
        case OP_BURST:
            for (unsigned n = 0; n <= (v & 31u); n++) {
                mvm_uart_receive(&vm.uart, (uint8_t)(v + n));
                expect_receive(&e, (uint8_t)(v + n));
            }
            break;
        }
        check(&vm.uart, &e);
    }
    return 0;
}
