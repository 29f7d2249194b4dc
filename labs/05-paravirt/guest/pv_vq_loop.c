/*
 * pv_vq_loop.c - a malicious driver: a descriptor chain that loops,
 * descriptor 0 -> 1 -> 0 -> ... A device that follows `next` blindly
 * spins forever inside the host; minivm must notice, stop the guest and
 * say why.
 *
 *   minivm run --mode long build/labs/guest/pv_vq_loop.bin
 */
#include "hypercall.h"
#include "vcon.h"

static const char text[] = "this chain never ends ";

int main(void)
{
    if (vcon_init() < 0) {
        hc_puts("vq_loop: no virtio console\n");
        hc_exit(1);
    }
    for (int i = 0; i < 2; i++)
        vq.desc[i] = (struct vring_desc){
            .addr = (uint64_t)(uintptr_t)text,
            .len = sizeof(text) - 1,
            .flags = VRING_DESC_F_NEXT,
            .next = (uint16_t)(1 - i),
        };
    vq.avail.ring[0] = 0;
    barrier();
    vq.avail.idx = 1;
    barrier();
    vcon_write_reg(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    /* Not reached when minivm stops the guest. */
    hc_puts("vq_loop: the device accepted a chain that loops\n");
    hc_exit(1);
}
