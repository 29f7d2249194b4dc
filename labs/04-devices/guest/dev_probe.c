/*
 * dev_probe.c - is there a 16550A at 0x3f8? The checks Linux's 8250
 * driver makes before it trusts a serial port (drivers/tty/serial/8250/
 * 8250_port.c: autoconfig(), autoconfig_16550a(), size_fifo()), then the
 * line Linux prints when they pass. Each check shows what it wrote and
 * what it read back.
 */
#include "rt.h"
#include "uart.h"

#define FIFO_DEPTH 16 /* a 16550A's receive FIFO */

static int failed;

/* "0x0c": v in exactly `digits` hex digits. */
static const char *hex(char *buf, unsigned v, int digits)
{
    static const char d[] = "0123456789abcdef";
    int j = 0;

    buf[j++] = '0';
    buf[j++] = 'x';
    while (digits--)
        buf[j++] = d[(v >> (4 * digits)) & 0xf];
    buf[j] = '\0';
    return buf;
}

/* The end of a check's line: ok, or FAILED and what a 16550A answers. */
static void verdict(int ok, const char *expected)
{
    if (ok) {
        uart_puts(": ok\n");
        return;
    }
    uart_puts(": FAILED, a 16550A gives ");
    uart_puts(expected);
    uart_puts("\n");
    failed = 1;
}

/* The scratch register keeps any byte (the 16450 added it; the 8250 has
 * none). Two patterns, so a register stuck at one value cannot pass. */
static uint8_t scratch[2];
static void scratch_test(void)
{
    outb(COM1 + UART_SCR, 0xa5);
    scratch[0] = inb(COM1 + UART_SCR);
    outb(COM1 + UART_SCR, 0x5a);
    scratch[1] = inb(COM1 + UART_SCR);
}

/* autoconfig(): IER keeps 0 and 0x0f (an empty bus reads 0xff). */
static uint8_t ier[2];
static void ier_test(void)
{
    uint8_t save = inb(COM1 + UART_IER);

    outb(COM1 + UART_IER, 0);
    ier[0] = inb(COM1 + UART_IER) & 0x0f;
    outb(COM1 + UART_IER, 0x0f);
    ier[1] = inb(COM1 + UART_IER) & 0x0f;
    outb(COM1 + UART_IER, save);
}

/* autoconfig(): in loopback, RTS and OUT2 come back as CTS and DCD. */
static uint8_t loop_msr;
static void loopback_test(void)
{
    uint8_t save = inb(COM1 + UART_MCR);

    outb(COM1 + UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    loop_msr = inb(COM1 + UART_MSR) & 0xf0;
    outb(COM1 + UART_MCR, save);
}

/* autoconfig(): FCR = 1, then IIR bits 7:6 say which chip: 00 an 8250 or
 * 16450 (no FIFO), 10 a 16550 (its FIFO is broken), 11 a 16550A. */
static uint8_t fifo_iir;
static void fifo_test(void)
{
    outb(COM1 + UART_FCR, UART_FCR_ENABLE_FIFO);
    fifo_iir = inb(COM1 + UART_IIR);
}

/* The divisor latch behind LCR.DLAB keeps what is written: 0x000c is
 * 9600 baud. Put the old one back. */
static unsigned divisor;
static void divisor_test(void)
{
    uint8_t lcr = inb(COM1 + UART_LCR), dll, dlm;

    outb(COM1 + UART_LCR, lcr | UART_LCR_DLAB);
    dll = inb(COM1 + UART_DLL);
    dlm = inb(COM1 + UART_DLM);
    outb(COM1 + UART_DLL, 0x0c);
    outb(COM1 + UART_DLM, 0x00);
    divisor = inb(COM1 + UART_DLL) | inb(COM1 + UART_DLM) << 8;
    outb(COM1 + UART_DLL, dll);
    outb(COM1 + UART_DLM, dlm);
    outb(COM1 + UART_LCR, lcr);
}

/* size_fifo(): in loopback, send more than the FIFO holds and count what
 * the receiver kept; the rest was lost to an overrun. */
static unsigned depth;
static void fifo_depth_test(void)
{
    uint8_t mcr = inb(COM1 + UART_MCR);

    outb(COM1 + UART_FCR,
         UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    outb(COM1 + UART_MCR, UART_MCR_LOOP);
    for (unsigned i = 0; i < 2 * FIFO_DEPTH; i++)
        outb(COM1 + UART_TX, (uint8_t)i);
    depth = 0;
    while ((inb(COM1 + UART_LSR) & UART_LSR_DR) && depth < 256) {
        inb(COM1 + UART_RX);
        depth++;
    }
    outb(COM1 + UART_MCR, mcr);
    (void)inb(COM1 + UART_LSR); /* reading LSR clears the overrun */
}

int main(void)
{
    char a[8], b[8], num[21];

    /* Probe first, as Linux does; then set the UART up to print. */
    scratch_test();
    ier_test();
    loopback_test();
    fifo_test();
    divisor_test();
    fifo_depth_test();
    uart_init();

    uart_puts("probe: scratch: wrote 0xa5, 0x5a; read ");
    uart_puts(hex(a, scratch[0], 2));
    uart_puts(", ");
    uart_puts(hex(b, scratch[1], 2));
    verdict(scratch[0] == 0xa5 && scratch[1] == 0x5a, "0xa5, 0x5a");
    uart_puts("probe: IER: wrote 0x00, 0x0f; read ");
    uart_puts(hex(a, ier[0], 2));
    uart_puts(", ");
    uart_puts(hex(b, ier[1], 2));
    verdict(ier[0] == 0 && ier[1] == 0x0f, "0x00, 0x0f");
    uart_puts("probe: loopback: MCR = 0x1a; MSR & 0xf0 = ");
    uart_puts(hex(a, loop_msr, 2));
    verdict(loop_msr == 0x90, "0x90");
    uart_puts("probe: FIFO: FCR = 0x01; IIR = ");
    uart_puts(hex(a, fifo_iir, 2));
    verdict(fifo_iir >> 6 == 3, "bits 7:6 = 11 (0xc1)");
    uart_puts("probe: divisor latch: wrote 0x000c; read ");
    uart_puts(hex(a, divisor, 4));
    verdict(divisor == 0x000c, "0x000c");
    uart_puts("probe: receive FIFO: ");
    uart_puts(fmt_u64(num, depth));
    uart_puts(" bytes");
    verdict(depth == FIFO_DEPTH, "16");

    if (failed) {
        uart_puts("probe: not a 16550A\n");
        return 1;
    }
    uart_puts("serial8250: ttyS0 at I/O 0x3f8 (irq = 4) is a 16550A\n");
    return 0;
}
