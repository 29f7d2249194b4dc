/* uart.c - the guest's polled 16550A driver (see uart.h). */
#include "uart.h"

#include "rt.h"

void uart_init(void)
{
    outb(COM1 + UART_IER, 0); /* no interrupts: we poll */
    /* DLAB = 1 turns offsets 0 and 1 into the divisor latch. The UART
     * divides its 1.8432 MHz clock by 16 * divisor: 1 gives 115200 baud. */
    outb(COM1 + UART_LCR, UART_LCR_DLAB);
    outb(COM1 + UART_DLL, 1);
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, UART_LCR_WLEN8); /* 8N1, and DLAB = 0 again */
    outb(COM1 + UART_FCR,
         UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    outb(COM1 + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
}

void uart_putc(char c)
{
    while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
        ;
    outb(COM1 + UART_TX, (uint8_t)c);
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

char uart_getc(void)
{
    while (!(inb(COM1 + UART_LSR) & UART_LSR_DR))
        ;
    return (char)inb(COM1 + UART_RX);
}
