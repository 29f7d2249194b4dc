/*
 * dev_badwidth.c - a 16-bit read of the test device, whose registers
 * are 32 bits wide. A device model must refuse accesses it does not
 * define; minivm stops the guest and says which.
 */
#include "guest.h"
#include "rt.h"
#include "uart.h"

int main(void)
{
    char hex[21];
    uint16_t v;

    uart_init();
    uart_puts("badwidth: a 16-bit read of the test device's STATUS\n");
    v = *(volatile uint16_t *)(TESTDEV_BASE + TESTDEV_STATUS);
    uart_puts("badwidth: the device answered ");
    uart_puts(fmt_hex(hex, v));
    uart_puts(": wrong\n");
    return 1;
}
