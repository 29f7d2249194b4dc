/*
 * paravirt.c - minivm stage 5: paravirtualization.
 *
 * Lab 04 emulated real hardware: the guest's UART driver cannot tell
 * minivm's 16550 from a real one, and pays for it with two VM exits per
 * byte. A paravirtual guest knows it runs on a hypervisor and talks to it
 * through interfaces made for that: a hypercall (one exit, whatever the
 * request) and a virtio device whose buffers sit in shared memory (one
 * exit per batch of buffers). In this lab you write minivm's side of
 * both: a hypercall ABI (print, time, exit) and a virtio-mmio console
 * with one split virtqueue. Both read guest memory the guest controls:
 * every pointer, length and index it hands over is checked before use.
 *
 * References: Virtual I/O Device (VIRTIO) Version 1.2, 2.7 "Split
 * Virtqueues" and 4.2 "Virtio Over MMIO"; api.rst 4.10 (KVM_RUN), 4.11
 * and 4.12 (KVM_GET_REGS, KVM_SET_REGS), 5 (KVM_EXIT_IO);
 * Documentation/virt/kvm/x86/hypercalls.rst. labs/05-paravirt/README.md
 * walks through the steps.
 */
#define MVM_LAB        "05-paravirt"
#define MVM_STAGE_FILE "paravirt.c"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <time.h>

#include <linux/virtio_config.h> /* VIRTIO_CONFIG_S_*, VIRTIO_F_VERSION_1 */
#include <linux/virtio_ids.h>    /* VIRTIO_ID_CONSOLE */
#include <linux/virtio_ring.h>   /* struct vring_desc, vring_avail, ... */

#include "minivm.h"

/* virtio 1.2, 4.2.2: MagicValue reads "virt" in little-endian order. */
#define VCON_MAGIC     0x74726976
/* virtio 1.2, 4.2.2: Version 2 is the modern (non-legacy) interface. */
#define VCON_VERSION   2
/* Any vendor id will do: "MVM" in little-endian order. */
#define VCON_VENDOR_ID 0x004d564d
/* The only feature offered: VIRTIO_F_VERSION_1, bit 32, which says "this
 * is a modern virtio device" (virtio 1.2, 6 "Reserved Feature Bits"). */
#define VCON_FEATURES  (1ULL << VIRTIO_F_VERSION_1)

/*
 * Read a field of guest memory exactly once, as Linux's READ_ONCE() does.
 * The guest owns that memory and, on another vCPU, may change it while we
 * look at it. Copy each field once into a local, check the local, use the
 * local: a value checked in one read and used from a second read is a
 * time-of-check-to-time-of-use (TOCTOU) hole. A plain C read would let the
 * compiler read the field again whenever it likes.
 */
#define GUEST_READ_ONCE(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* The sizes of the three areas of a split virtqueue of `num` entries
 * (virtio 1.2, 2.7: flags, idx, ring[num] and the event index field). */
#define VQ_DESC_SIZE(num)  (sizeof(struct vring_desc) * (uint64_t)(num))
#define VQ_AVAIL_SIZE(num) (6 + 2 * (uint64_t)(num))
#define VQ_USED_SIZE(num)  (6 + sizeof(struct vring_used_elem) * (uint64_t)(num))

/*
 * The driver broke the queue's rules: the device says so by setting
 * DEVICE_NEEDS_RESET in its status (virtio 1.2, 2.1 "Device Status
 * Field") and stops; only a reset (STATUS = 0) makes it usable again.
 * Returns r.
 */
static int vq_broken(struct mvm_vcon *con, int r)
{
    con->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    return r;
}

/* Is guest-physical gpa in a slot the guest cannot write (lab 03)? */
static bool in_readonly_slot(const struct minivm *vm, uint64_t gpa)
{
    for (int i = 0; i < vm->nslots; i++) {
        const struct mvm_slot *s = &vm->slots[i];

        if ((s->flags & KVM_MEM_READONLY) && gpa >= s->gpa &&
            gpa - s->gpa < s->size)
            return true;
    }
    return false;
}

/*
 * TODO 1: find the guest buffer [gpa, gpa+len) in host memory.
 * Everything a guest passes is an attack on the host until checked: a
 * length larger than any request needs, an address near 2^64 whose end
 * wraps around to 0, a range over a hole or running off the end of RAM.
 * Check, in this order, with a message that says what is wrong:
 *  - len > max: -E2BIG;
 *  - gpa + len overflows 64 bits: -EOVERFLOW;
 *  - len == 0: nothing to check, *host = NULL, return 0;
 *  - the range must lie entirely inside ONE memory slot, RAM or a slot of
 *    lab 03, never partly: mvm_guest_ptr() says where; else -EFAULT,
 *    naming the range.
 * Set *host to the host address of the first byte and return 0.
 */
int mvm_guest_buffer(struct minivm *vm, uint64_t gpa, uint64_t len,
                     uint64_t max, void **host)
{
    (void)vm;
    (void)gpa;
    (void)len;
    (void)max;
    (void)host;
    return MVM_TODO(1, "validate a guest buffer");
}

/*
 * TODO 2: handle a hypercall. The guest wrote EAX to port MVM_HC_PORT
 * (minivm.h, "The hypercall ABI"); its registers hold the request.
 * KVM_GET_REGS (api.rst 4.11): RAX is the call number, RDI and RSI the
 * arguments.
 *  - MVM_HC_PRINT(gpa, len): write the guest's bytes to vm->opt.console;
 *    len at most MVM_HC_PRINT_MAX, the buffer checked by
 *    mvm_guest_buffer(). Result: len.
 *  - MVM_HC_TIME(): the host's CLOCK_REALTIME in nanoseconds
 *    (clock_gettime(2)).
 *  - MVM_HC_EXIT(status): the guest is done. vm->exited = true,
 *    vm->exit_status = status & 0xff (a process exit status is 8 bits),
 *    and return MVM_STOP without touching the registers.
 *  - any other number: -ENOSYS, as KVM answers an unknown KVM_HC_* call
 *    (hypercalls.rst).
 * Put the result in RAX; an error is -errno in RAX, and the guest goes on:
 * a bad argument is the guest's problem, never a reason to stop or crash
 * the host. Write the registers back with KVM_SET_REGS (api.rst 4.12),
 * RIP unchanged: KVM finishes the OUT, and moves RIP past it, on the next
 * KVM_RUN (api.rst 5: "For KVM_EXIT_IO ... the corresponding operations
 * are complete (and guest state is consistent) only after userspace has
 * re-entered the kernel with KVM_RUN"). Return MVM_CONTINUE.
 */
int mvm_hypercall(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(2, "handle a hypercall");
}

/*
 * TODO 3: walk the descriptor chain that starts at descriptor `head`
 * (virtio 1.2, 2.7.5 "The Virtqueue Descriptor Table"). The table, at
 * guest-physical vq->desc, holds vq->num struct vring_desc
 * (<linux/virtio_ring.h>): addr, len, flags, next, little-endian
 * (le64toh(), le32toh(), le16toh()). A descriptor with VRING_DESC_F_NEXT
 * continues at descriptor `next`. The guest wrote all of it: read each
 * field once (GUEST_READ_ONCE), then check before you follow. Each of
 * these is a malformed chain, -EPROTO with a message naming the
 * descriptor and what is wrong:
 *  - a descriptor index (head or next) >= vq->num: out of range;
 *  - more than vq->num descriptors: the chain loops;
 *  - VRING_DESC_F_INDIRECT: a feature the device does not offer;
 *  - VRING_DESC_F_WRITE: a buffer for the device to write, but a
 *    transmit queue only reads;
 *  - more than MVM_VQ_CHAIN_MAX bytes in all: a huge chain;
 *  - more than max_iov descriptors;
 *  - a buffer mvm_guest_buffer() refuses: -EPROTO, its message as the
 *    cause (vl_err_ctx).
 * Fill iov[] with each buffer's host address and length, in chain order,
 * and return how many there are.
 */
int mvm_vq_chain(struct minivm *vm, const struct mvm_vq *vq, uint16_t head,
                 struct mvm_iov *iov, int max_iov)
{
    (void)vm;
    (void)vq;
    (void)head;
    (void)iov;
    (void)max_iov;
    return MVM_TODO(3, "walk a descriptor chain");
}

/*
 * TODO 4: the driver notified us: consume what it made available
 * (virtio 1.2, 2.7.13 "Supplying Buffers to The Device" and 2.7.14
 * "Receiving Used Buffers From The Device", from the device's side).
 * The queue must be ready (-EPROTO otherwise). The available ring
 * (struct vring_avail at vq->avail) says how far the driver got: its idx
 * counts every buffer ever made available, modulo 2^16; vq->last_avail
 * counts those we took. So (uint16_t)(idx - last_avail) entries are
 * pending, and more than vq->num of them is impossible: a broken ring.
 * Read idx with an acquire load (__atomic_load_n(..., __ATOMIC_ACQUIRE)):
 * the ring entries it announces must not be read before it.
 * For each pending entry:
 *  - head = avail->ring[last_avail % num], read once;
 *  - mvm_vq_chain(), MVM_VQ_IOV_MAX buffers at most; write the bytes to
 *    con->out and count them in con->bytes, the chain in con->buffers;
 *  - give it back in the used ring (struct vring_used at vq->used):
 *    ring[same slot] = {id = head, len = 0} (the device wrote 0 bytes
 *    into the buffers), little-endian;
 *  - last_avail++, and publish used->idx = last_avail with a release
 *    store (__atomic_store_n(..., __ATOMIC_RELEASE)): the driver reads
 *    idx, then the entries; they must be in memory before idx says so.
 * Then set VIRTIO_MMIO_INT_VRING in con->interrupt_status ("the used ring
 * changed") and return the number of chains consumed.
 * A malformed ring (the idx jump, a bad chain) is -EPROTO, with
 * VIRTIO_CONFIG_S_NEEDS_RESET set in con->status: vq_broken() does both.
 */
int mvm_vq_process(struct minivm *vm, struct mvm_vcon *con)
{
    (void)vm;
    (void)con;
    (void)vq_broken;
    return MVM_TODO(4, "process the available ring");
}

/*
 * TODO 5: the console's registers, virtio-mmio version 2 (virtio 1.2,
 * 4.2.2 "MMIO Device Register Layout"; the offsets are VIRTIO_MMIO_* of
 * <linux/virtio_mmio.h>). minivm's bus hands you 32-bit accesses only.
 * Reading:
 *  - MAGIC_VALUE VCON_MAGIC, VERSION VCON_VERSION, DEVICE_ID
 *    VIRTIO_ID_CONSOLE, VENDOR_ID VCON_VENDOR_ID;
 *  - DEVICE_FEATURES: bits 32 * DEVICE_FEATURES_SEL and up of
 *    VCON_FEATURES (so only 0 and 1 select anything);
 *  - QUEUE_NUM_MAX: MVM_VQ_NUM_MAX for queue 0 (QUEUE_SEL), 0 for every
 *    other queue: it does not exist; QUEUE_READY likewise;
 *  - INTERRUPT_STATUS, STATUS: con's; CONFIG_GENERATION: 0 (the config
 *    space never changes).
 * Writing:
 *  - DEVICE_FEATURES_SEL, DRIVER_FEATURES_SEL, QUEUE_SEL: remember;
 *  - DRIVER_FEATURES: bits 32 * DRIVER_FEATURES_SEL and up of
 *    con->drv_features (a bit we do not offer: -EINVAL);
 *  - QUEUE_NUM and the three areas' addresses (QUEUE_DESC_LOW/_HIGH,
 *    QUEUE_AVAIL_LOW/_HIGH, QUEUE_USED_LOW/_HIGH): only for queue 0, only
 *    while it is not ready (-EINVAL otherwise), then vq_setup() below;
 *  - QUEUE_READY (queue 0 only): 1 checks the queue and makes it ready
 *    (vq_enable() below), 0 stops using it; other values -EINVAL;
 *  - QUEUE_NOTIFY: count it in con->notifies; the value is the queue
 *    (only 0 exists: -EINVAL); then mvm_vq_process();
 *  - INTERRUPT_ACK: clear those bits of con->interrupt_status;
 *  - STATUS: 0 resets the device (virtio 1.2, 4.2.2): queue, features,
 *    selectors, interrupt status and status cleared (the counters and
 *    con->out stay). Anything else is the driver's progress
 *    (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK: 3.1.1): keep it, but
 *    refuse FEATURES_OK (leave it clear: 3.1.1, 6) when the driver accepted
 *    less than VIRTIO_F_VERSION_1, and keep NEEDS_RESET once we set it.
 * Any other offset, or a write to a read-only register: -EINVAL, naming
 * the offset. Return 0 (MVM_CONTINUE) on success.
 */
int mvm_vcon_read(struct minivm *vm, struct mvm_vcon *con, uint64_t offset,
                  uint32_t *value)
{
    (void)vm;
    (void)con;
    (void)offset;
    (void)value;
    return MVM_TODO(5, "the console's registers");
}

/*
 * TODO 5, QUEUE_NUM and the areas' addresses for mvm_vcon_write() (the
 * selector and QueueReady are checked there). QUEUE_NUM: a power of two,
 * 1 to MVM_VQ_NUM_MAX (-EINVAL otherwise). QUEUE_DESC_LOW/_HIGH,
 * QUEUE_AVAIL_LOW/_HIGH, QUEUE_USED_LOW/_HIGH: the low or high 32 bits of
 * vq->desc, vq->avail, vq->used (each _HIGH is 4 bytes after its _LOW).
 */
static int vq_setup(struct mvm_vq *vq, uint64_t offset, uint32_t value)
{
    (void)vq;
    (void)offset;
    (void)value;
    return MVM_TODO(5, "the queue's set-up registers");
}

/*
 * TODO 5, QUEUE_READY = 1 for mvm_vcon_write(): check the queue before
 * the device uses it; -EPROTO, naming the area, when QueueNum is not set,
 * when an area is not aligned (descriptor table 16, available ring 2, used
 * ring 4 bytes; virtio 1.2, 2.7) or not all in guest memory
 * (mvm_guest_buffer(), sizes VQ_DESC_SIZE, VQ_AVAIL_SIZE, VQ_USED_SIZE),
 * or when the used ring is in read-only memory (in_readonly_slot(): the
 * device writes it). Then the queue is ready.
 */
static int vq_enable(struct minivm *vm, struct mvm_vq *vq)
{
    (void)vm;
    (void)vq;
    (void)in_readonly_slot;
    return MVM_TODO(5, "check the queue's areas");
}

/* virtio 1.2, 4.2.2: writing 0 to STATUS resets the device to its initial
 * state. minivm's own counters and console survive the reset. */
static void vcon_reset(struct mvm_vcon *con)
{
    *con = (struct mvm_vcon){.out = con->out,
                             .bytes = con->bytes,
                             .buffers = con->buffers,
                             .notifies = con->notifies};
}

int mvm_vcon_write(struct minivm *vm, struct mvm_vcon *con, uint64_t offset,
                   uint32_t value)
{
    (void)vm;
    (void)con;
    (void)offset;
    (void)value;
    (void)vq_setup;
    (void)vq_enable;
    (void)vcon_reset;
    return MVM_TODO(5, "the console's registers");
}
