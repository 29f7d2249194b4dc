/*
 * dev_loopback.c - the UART talks to itself. In loopback (MCR bit 4) the
 * transmitter feeds the receiver: 16 bytes sent fill the receive FIFO,
 * and one `rep insb` takes them all back. For string input KVM reads
 * ahead (arch/x86/kvm/emulate.c, pio_in_emulated()): the 16 reads of RBR
 * reach minivm as ONE KVM_EXIT_IO with count 16.
 */
#include "rt.h"
#include "uart.h"

#define N 16

int main(void)
{
    static const char sent[N + 1] = "loopback works!\n";
    char got[N + 1];
    uint8_t *dst = (uint8_t *)got;
    size_t count = N;
    uint8_t lsr;

    uart_init();
    outb(COM1 + UART_MCR, UART_MCR_LOOP);
    for (int i = 0; i < N; i++)
        outb(COM1 + UART_TX, (uint8_t)sent[i]);
    lsr = inb(COM1 + UART_LSR);
    /* RCX bytes from port DX to [RDI]: one exit for the whole FIFO. */
    __asm__ volatile("rep insb"
                     : "+D"(dst), "+c"(count)
                     : "d"((uint16_t)(COM1 + UART_RX))
                     : "memory");
    outb(COM1 + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    got[N] = '\0';

    uart_puts(lsr & UART_LSR_DR ? "DR set, " : "DR NOT set, ");
    uart_puts(lsr & UART_LSR_OE ? "overrun, " : "no overrun, ");
    uart_puts("read back: ");
    uart_puts(got);
    return 0;
}
