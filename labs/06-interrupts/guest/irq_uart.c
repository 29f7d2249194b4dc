/*
 * irq_uart.c - part B: an interrupt-driven UART driver. The 16550 raises
 * IRQ 4 when bytes arrive (IER.RDI) or the line hangs up (IER.MSI, DCD
 * drops); the handler empties the receiver into a ring buffer and sends
 * the PIC its EOI; the main loop sleeps in HLT between lines, and
 * echoes each line upper-cased. minivm's input thread feeds the UART
 * from stdin and pulses IRQ 4 through an irqfd; at the end of the input
 * it drops DCD, and the guest says goodbye with the exit hypercall.
 *
 *   printf 'hello\nworld\n' | minivm run --mode long --irqchip \
 *       build/labs/guest/irq_uart.bin
 */
#include <linux/serial_reg.h>

#include "guest.h"

#define COM1     0x3f8
#define RING     256 /* a power of two */
#define LINE_MAX 128
/* Hardware flow control: with the ring this full, drop RTS, and the
 * other end stops sending (minivm's input thread obeys it); what is
 * already on its way fits in the rest. Linux's tty layer "throttles" a
 * serial port the same way. */
#define THROTTLE (RING - 2 * 16)
#define MCR_ON   (UART_MCR_DTR | UART_MCR_OUT2)

static volatile uint8_t ring[RING];
static volatile uint32_t ring_head, ring_tail; /* ISR writes head */
static volatile int hung_up, throttled;
static volatile uint64_t irqs, lost;

static void uart_init(void)
{
    outb(COM1 + UART_LCR, UART_LCR_DLAB);
    outb(COM1 + UART_DLL, 1); /* 115200 baud */
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, UART_LCR_WLEN8);
    outb(COM1 + UART_FCR,
         UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    /* OUT2 opens the gate between the UART's INTR pin and IRQ 4. */
    outb(COM1 + UART_MCR, MCR_ON | UART_MCR_RTS);
    outb(COM1 + UART_IER, UART_IER_RDI | UART_IER_MSI);
    /* The line may be down already: no change of DCD will say so. */
    if (!(inb(COM1 + UART_MSR) & UART_MSR_DCD))
        hung_up = 1;
}

/* Polled output: this lab is about input. */
static void uart_putc(char c)
{
    while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
        ;
    outb(COM1 + UART_TX, (uint8_t)c);
}

static void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* Empty the receiver into the ring (with interrupts off, or in the
 * handler). */
static void uart_drain(void)
{
    while (inb(COM1 + UART_LSR) & UART_LSR_DR) {
        uint8_t b = inb(COM1 + UART_RX);

        if (ring_head - ring_tail < RING)
            ring[ring_head++ % RING] = b;
        else
            lost++;
        if (ring_head - ring_tail >= THROTTLE && !throttled) {
            outb(COM1 + UART_MCR, MCR_ON); /* RTS off */
            throttled = 1;
        }
    }
}

/*
 * IRQ 4. The 8259 is edge-triggered: while the UART's line stays high
 * there is no new edge, so the handler must leave nothing pending - it
 * reads IIR until "no interrupt" (IIR bit 0), and the receiver until
 * LSR.DR is clear - or it never hears from the UART again.
 */
__attribute__((interrupt)) static void on_uart(struct interrupt_frame *f)
{
    uint8_t iir;

    (void)f;
    irqs++;
    while (!((iir = inb(COM1 + UART_IIR)) & UART_IIR_NO_INT)) {
        switch (iir & UART_IIR_ID) {
        case UART_IIR_RDI:
        case UART_IIR_RLSI:
            uart_drain();
            break;
        case UART_IIR_MSI:
            if (!(inb(COM1 + UART_MSR) & UART_MSR_DCD))
                hung_up = 1;
            break;
        default: /* THR empty: not enabled */
            break;
        }
    }
    pic_eoi();
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int main(void)
{
    char line[LINE_MAX + 2];
    unsigned len = 0;
    uint64_t lines = 0;

    idt_init();
    idt_set(UART_VECTOR, on_uart);
    pic_init((uint8_t) ~(1u << UART_IRQ), 0xff); /* IRQ 4 only */
    uart_init();
    cli();
    for (;;) {
        while (ring_tail == ring_head && !hung_up)
            sti_hlt_cli(); /* sleep until the UART interrupts */
        if (ring_tail == ring_head)
            uart_drain(); /* hung up: what is left in the receiver */
        if (ring_tail == ring_head)
            break; /* hung up, and everything read */
        while (ring_tail != ring_head) {
            char c = (char)ring[ring_tail++ % RING];

            if (c == '\n' || len == LINE_MAX) {
                line[len++] = '\n';
                line[len] = '\0';
                sti(); /* the next line may arrive while this one prints */
                uart_puts(line);
                cli();
                len = 0;
                lines++;
            }
            if (c != '\n')
                line[len++] = upper(c);
        }
        if (throttled) { /* the ring is empty again: RTS back on */
            throttled = 0;
            outb(COM1 + UART_MCR, MCR_ON | UART_MCR_RTS);
        }
    }
    if (len) { /* a last line without its newline */
        line[len++] = '\n';
        line[len] = '\0';
        uart_puts(line);
        lines++;
    }
    hc_puts("irq_uart: ");
    hc_putu(lines);
    hc_puts(lines == 1 ? " line" : " lines");
    hc_puts(", then the line hung up\n");
    hc_exit(lost ? GUEST_FAILED : GUEST_OK);
}
