/*
 * pv_bulk_vq.c - print the same BULK_LEN bytes as pv_bulk_uart.c through
 * the virtqueue: four chains of a quarter each, one notification. The
 * exits are the driver's set-up, the notification and the final HLT.
 *
 *   minivm run --mode long build/labs/guest/pv_bulk_vq.bin --stats
 */
#include "bulk.h"
#include "hypercall.h"
#include "vcon.h"

#define CHAINS 4

static char text[BULK_LEN];

int main(void)
{
    bulk_fill(text);
    if (vcon_init() < 0) {
        hc_puts("bulk_vq: no virtio console\n");
        hc_exit(1);
    }
    for (int i = 0; i < CHAINS; i++) {
        const void *buf = text + i * (BULK_LEN / CHAINS);
        uint32_t len = BULK_LEN / CHAINS;

        if (vcon_add(&buf, &len, 1) < 0) {
            hc_puts("bulk_vq: no room in the queue\n");
            hc_exit(1);
        }
    }
    if (vcon_kick() < 0) {
        hc_puts("bulk_vq: the device did not use the buffers\n");
        hc_exit(1);
    }
    return 0;
}
