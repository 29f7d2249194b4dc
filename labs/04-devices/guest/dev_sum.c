/*
 * dev_sum.c - uses minivm's test device on MMIO (testdev.h): checks its
 * magic, queues 1..SUM_LAST, rings SUM and prints the answer; then rings
 * a command the device does not know and shows STATUS = ERROR.
 */
#include "guest.h"
#include "rt.h"
#include "testdev.h"
#include "uart.h"

static void print_status(uint32_t status)
{
    char hex[21];

    uart_puts(status == TESTDEV_DONE    ? "DONE"
              : status == TESTDEV_ERROR ? "ERROR"
                                        : fmt_hex(hex, status));
}

int main(void)
{
    char num[21];
    uint32_t status;

    uart_init();
    if (!testdev_present()) {
        uart_puts("testdev: no test device at 0xd0000000 (bad magic ");
        uart_puts(fmt_hex(num, testdev_read(TESTDEV_MAGIC)));
        uart_puts(")\n");
        return 1;
    }
    uart_puts("testdev: magic \"MVTD\" at 0xd0000000\n");

    testdev_reset();
    for (uint32_t i = 1; i <= SUM_LAST; i++)
        testdev_write(TESTDEV_DATA, i);
    status = testdev_command(TESTDEV_CMD_SUM);
    uart_puts("testdev: queued 1..");
    uart_puts(fmt_u64(num, SUM_LAST));
    uart_puts(", rang SUM: STATUS = ");
    print_status(status);
    uart_puts(", DATA = ");
    uart_puts(fmt_u64(num, testdev_read(TESTDEV_DATA)));
    uart_puts("\n");

    status = testdev_command(BAD_COMMAND);
    uart_puts("testdev: rang command ");
    uart_puts(fmt_hex(num, BAD_COMMAND));
    uart_puts(": STATUS = ");
    print_status(status);
    uart_puts("\n");
    return 0;
}
