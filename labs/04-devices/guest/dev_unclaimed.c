/*
 * dev_unclaimed.c - writes to COM2 (port 0x2f8), where minivm has no
 * device. The VMM must stop the guest and say which port and where in
 * the guest (RIP); making up a value would hide the bug.
 */
#include "guest.h"
#include "rt.h"
#include "uart.h"

int main(void)
{
    uart_init();
    uart_puts("unclaimed: writing 'A' to COM2 (port 0x2f8), where minivm "
              "has no device\n");
    outb(UNCLAIMED_PORT, 'A');
    uart_puts("unclaimed: minivm let the write through: wrong\n");
    return 1;
}
