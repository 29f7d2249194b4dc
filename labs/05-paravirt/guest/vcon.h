/*
 * vcon.h - the guest's driver for minivm's virtio console (virtio 1.2,
 * 4.2 "Virtio Over MMIO", 2.7 "Split Virtqueues"), polled, transmit only.
 *
 * The driver owns three areas in its own memory and tells the device where
 * they are: the descriptor table (what each buffer is), the available ring
 * (which chains the driver offers) and the used ring (which the device has
 * finished with). Bytes move through shared memory; the only VM exit per
 * batch is the notification, a write to QueueNotify.
 *
 * x86 is little-endian, as virtio 1.x is: no byte swapping here.
 */
#ifndef LAB05_VCON_H
#define LAB05_VCON_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "pv.h"
#include "rt.h"

#define VQ_NUM 16 /* entries: a power of two <= QueueNumMax */

/* The split virtqueue with its alignment rules (virtio 1.2, 2.7):
 * descriptor table 16, available ring 2, used ring 4 bytes. */
static struct {
    struct vring_desc desc[VQ_NUM] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[VQ_NUM], used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags, idx;
        struct vring_used_elem ring[VQ_NUM];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
} vq;

static uint16_t vq_free;    /* the next descriptor to hand out */
static uint16_t vq_pending; /* chains added since the last notification */

static inline uint32_t vcon_read(unsigned reg)
{
    return mmio_read32(VCON_BASE + reg);
}

static inline void vcon_write_reg(unsigned reg, uint32_t v)
{
    mmio_write32(VCON_BASE + reg, v);
}

static inline void vcon_set_addr(unsigned low_reg, const void *p)
{
    uint64_t a = (uint64_t)(uintptr_t)p; /* identity-mapped */

    vcon_write_reg(low_reg, (uint32_t)a);
    vcon_write_reg(low_reg + 4, (uint32_t)(a >> 32));
}

/*
 * Device initialization (virtio 1.2, 3.1.1): reset, ACKNOWLEDGE, DRIVER,
 * negotiate features, FEATURES_OK (and check the device kept it), set up
 * the queue, DRIVER_OK. Returns 0, or -1 when the device is not a modern
 * virtio console.
 */
static inline int vcon_init(void)
{
    uint32_t status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    if (vcon_read(VIRTIO_MMIO_MAGIC_VALUE) != 0x74726976 || /* "virt" */
        vcon_read(VIRTIO_MMIO_VERSION) != 2 ||
        vcon_read(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_CONSOLE)
        return -1;
    vcon_write_reg(VIRTIO_MMIO_STATUS, 0);
    vcon_write_reg(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    vcon_write_reg(VIRTIO_MMIO_STATUS, status);

    /* VIRTIO_F_VERSION_1 is bit 32: bit 0 of feature word 1. */
    vcon_write_reg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    if (!(vcon_read(VIRTIO_MMIO_DEVICE_FEATURES) & 1))
        return -1;
    vcon_write_reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vcon_write_reg(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    status |= VIRTIO_CONFIG_S_FEATURES_OK;
    vcon_write_reg(VIRTIO_MMIO_STATUS, status);
    if (!(vcon_read(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
        return -1;

    vcon_write_reg(VIRTIO_MMIO_QUEUE_SEL, 0);
    if (vcon_read(VIRTIO_MMIO_QUEUE_NUM_MAX) < VQ_NUM)
        return -1;
    vcon_write_reg(VIRTIO_MMIO_QUEUE_NUM, VQ_NUM);
    vcon_set_addr(VIRTIO_MMIO_QUEUE_DESC_LOW, vq.desc);
    vcon_set_addr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, &vq.avail);
    vcon_set_addr(VIRTIO_MMIO_QUEUE_USED_LOW, &vq.used);
    vcon_write_reg(VIRTIO_MMIO_QUEUE_READY, 1);

    vcon_write_reg(VIRTIO_MMIO_STATUS, status | VIRTIO_CONFIG_S_DRIVER_OK);
    return 0;
}

/*
 * Notify the device and check what it gave back. The notification is a VM
 * exit, and minivm consumes the whole ring before it returns: afterwards
 * every chain must be in the used ring. Returns 0 or -1.
 */
static inline int vcon_kick(void)
{
    uint16_t want;

    if (!vq_pending)
        return 0;
    barrier(); /* the ring entries and idx are in memory before the exit */
    vcon_write_reg(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    barrier(); /* the device wrote the used ring: read it afresh */
    want = vq.avail.idx;
    if (*(volatile uint16_t *)&vq.used.idx != want)
        return -1;
    /* The last chain's head went back in the used ring's last entry. */
    if (vq.used.ring[(uint16_t)(want - 1) % VQ_NUM].id !=
        vq.avail.ring[(uint16_t)(want - 1) % VQ_NUM])
        return -1;
    vcon_write_reg(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    vq_free = 0; /* every descriptor is free again */
    vq_pending = 0;
    return 0;
}

/*
 * Offer one chain of n buffers (virtio 1.2, 2.7.13): fill free
 * descriptors, linked with VRING_DESC_F_NEXT, put the head in the next
 * available-ring entry, and only then advance avail.idx: the device may
 * look at the ring as soon as idx says so. Not notified yet: several
 * chains can go with one notification (vcon_kick()).
 */
static inline int vcon_add(const void *const *bufs, const uint32_t *lens, int n)
{
    uint16_t head;

    if (n < 1 || n > VQ_NUM)
        return -1;
    if (vq_free + n > VQ_NUM && vcon_kick() < 0)
        return -1;
    head = vq_free;
    for (int i = 0; i < n; i++) {
        uint16_t d = vq_free++;

        vq.desc[d] = (struct vring_desc){
            .addr = (uint64_t)(uintptr_t)bufs[i],
            .len = lens[i],
            .flags = i + 1 < n ? VRING_DESC_F_NEXT : 0,
            .next = i + 1 < n ? (uint16_t)(d + 1) : 0,
        };
    }
    vq.avail.ring[vq.avail.idx % VQ_NUM] = head;
    barrier(); /* the entry before the index that publishes it */
    vq.avail.idx++;
    vq_pending++;
    return 0;
}

/* Print len bytes through the virtqueue: one buffer, one notification. */
static inline int vcon_write(const void *buf, uint32_t len)
{
    if (vcon_add(&buf, &len, 1) < 0)
        return -1;
    return vcon_kick();
}

static inline int vcon_puts(const char *s)
{
    return vcon_write(s, (uint32_t)strlen(s));
}

#endif
