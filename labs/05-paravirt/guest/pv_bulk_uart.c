/*
 * pv_bulk_uart.c - print BULK_LEN bytes through the emulated 16550 (lab
 * 04's polled driver): a read of LSR and a write of THR, two VM exits, for
 * every byte. Compare with pv_bulk_vq.c:
 *
 *   minivm run --mode long build/labs/guest/pv_bulk_uart.bin --stats
 */
#include "bulk.h"
#include "uart.h"

static char text[BULK_LEN];

int main(void)
{
    bulk_fill(text);
    uart_init();
    for (int i = 0; i < BULK_LEN; i++)
        uart_putc(text[i]);
    return 0;
}
