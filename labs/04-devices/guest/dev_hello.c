/*
 * dev_hello.c - the first C guest: a greeting through the 16550A UART at
 * 0x3f8 (the polled driver of labs/minivm/guest/uart.c) and a number
 * that needs 64 bits.
 *
 *   make -C labs run GUEST=dev_hello ARGS="--mode long"
 */
#include "rt.h"
#include "uart.h"

/* 20! = 2432902008176640000 needs 62 bits: one register in long mode. */
static uint64_t factorial(unsigned n)
{
    uint64_t f = 1;

    while (n > 1)
        f *= n--;
    return f;
}

int main(void)
{
    char num[21];

    uart_init();
    uart_puts("Hello from a C guest, through the 16550A UART at 0x3f8!\n");
    uart_puts("20! = ");
    uart_puts(fmt_u64(num, factorial(20)));
    uart_puts(" (needs 62 bits)\n");
    return 0;
}
