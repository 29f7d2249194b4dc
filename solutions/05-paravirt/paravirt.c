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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)gpa; */
    /* stub: (void)len; */
    /* stub: (void)max; */
    /* stub: (void)host; */
    /* stub: return MVM_TODO(1, "validate a guest buffer"); */
    void *p;

    *host = NULL;
    if (len > max)
        return vl_err_plain(E2BIG,
                            "guest buffer at 0x%llx: %llu bytes, more than "
                            "the %llu allowed",
                            (unsigned long long)gpa, (unsigned long long)len,
                            (unsigned long long)max);
    if (len > UINT64_MAX - gpa)
        return vl_err_plain(EOVERFLOW,
                            "guest buffer at 0x%llx of %llu bytes wraps "
                            "around the end of the address space",
                            (unsigned long long)gpa, (unsigned long long)len);
    if (len == 0)
        return 0;
    p = mvm_guest_ptr(vm, gpa, (size_t)len);
    if (!p)
        return vl_err_ctx(-EFAULT,
                          "guest buffer [0x%llx, 0x%llx) is not all in "
                          "guest memory",
                          (unsigned long long)gpa,
                          (unsigned long long)(gpa + len));
    *host = p;
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(2, "handle a hypercall"); */
    struct kvm_regs regs;
    struct timespec ts;
    int64_t ret;
    void *buf;

    if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
        return vl_err(errno, "KVM_GET_REGS");
    switch (regs.rax) {
    case MVM_HC_PRINT:
        ret = mvm_guest_buffer(vm, regs.rdi, regs.rsi, MVM_HC_PRINT_MAX, &buf);
        if (ret == 0 && regs.rsi &&
            fwrite(buf, 1, regs.rsi, vm->opt.console) != regs.rsi)
            ret = vl_err(EIO, "writing to the console");
        if (ret == 0)
            ret = (int64_t)regs.rsi;
        break;
    case MVM_HC_TIME:
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
            ret = vl_err(errno, "clock_gettime");
        else
            ret = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        break;
    case MVM_HC_EXIT:
        vm->exited = true;
        vm->exit_status = (int)(regs.rdi & 0xff);
        return MVM_STOP;
    default:
        ret = vl_err_plain(ENOSYS, "no hypercall number %llu",
                           (unsigned long long)regs.rax);
        break;
    }
    if (ret < 0 && vm->opt.trace)
        fprintf(vm->opt.log, "minivm: hypercall %llu returns %lld: %s\n",
                (unsigned long long)regs.rax, (long long)ret, vl_errmsg());
    regs.rax = (uint64_t)ret;
    if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return vl_err(errno, "KVM_SET_REGS");
    return MVM_CONTINUE;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)vq; */
    /* stub: (void)head; */
    /* stub: (void)iov; */
    /* stub: (void)max_iov; */
    /* stub: return MVM_TODO(3, "walk a descriptor chain"); */
    struct vring_desc *table;
    uint64_t total = 0;
    uint16_t i = head;
    void *p;
    int n = 0, r;

    r = mvm_guest_buffer(vm, vq->desc, VQ_DESC_SIZE(vq->num),
                         VQ_DESC_SIZE(MVM_VQ_NUM_MAX), &p);
    if (r < 0)
        return vl_err_ctx(-EPROTO, "the descriptor table of %u entries",
                          vq->num);
    table = p;
    for (uint32_t count = 0;; count++) {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;

        if (i >= vq->num)
            return vl_err_plain(EPROTO,
                                "descriptor %u (in the chain from head %u) "
                                "is out of range: the queue has %u",
                                i, head, vq->num);
        if (count == vq->num)
            return vl_err_plain(EPROTO,
                                "the chain from head %u loops: more than "
                                "%u descriptors",
                                head, vq->num);
        addr = le64toh(GUEST_READ_ONCE(table[i].addr));
        len = le32toh(GUEST_READ_ONCE(table[i].len));
        flags = le16toh(GUEST_READ_ONCE(table[i].flags));
        next = le16toh(GUEST_READ_ONCE(table[i].next));
        if (flags & VRING_DESC_F_INDIRECT)
            return vl_err_plain(EPROTO,
                                "descriptor %u is indirect "
                                "(VRING_DESC_F_INDIRECT), a feature the "
                                "device does not offer",
                                i);
        if (flags & VRING_DESC_F_WRITE)
            return vl_err_plain(EPROTO,
                                "descriptor %u is device-writable "
                                "(VRING_DESC_F_WRITE), but the transmit "
                                "queue only reads",
                                i);
        if (len > MVM_VQ_CHAIN_MAX - total)
            return vl_err_plain(EPROTO,
                                "the chain from head %u is huge: more than "
                                "%u bytes",
                                head, MVM_VQ_CHAIN_MAX);
        if (n == max_iov)
            return vl_err_plain(EPROTO,
                                "the chain from head %u has more than %d "
                                "descriptors",
                                head, max_iov);
        if ((r = mvm_guest_buffer(vm, addr, len, MVM_VQ_CHAIN_MAX, &p)) < 0)
            return vl_err_ctx(-EPROTO, "descriptor %u", i);
        iov[n++] = (struct mvm_iov){.base = p, .len = len};
        total += len;
        if (!(flags & VRING_DESC_F_NEXT))
            return n;
        i = next;
    }
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)con; */
    /* stub: (void)vq_broken; */
    /* stub: return MVM_TODO(4, "process the available ring"); */
    struct mvm_vq *vq = &con->vq;
    struct mvm_iov iov[MVM_VQ_IOV_MAX];
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t avail_idx, pending;
    void *p;
    int done = 0, n;

    if (!vq->ready)
        return vl_err_plain(EPROTO, "virtio-console notified, but queue 0 "
                                    "is not ready (QueueReady 0)");
    if (mvm_guest_buffer(vm, vq->avail, VQ_AVAIL_SIZE(vq->num),
                         VQ_AVAIL_SIZE(MVM_VQ_NUM_MAX), &p) < 0)
        return vq_broken(con, vl_err_ctx(-EPROTO, "the available ring"));
    avail = p;
    if (mvm_guest_buffer(vm, vq->used, VQ_USED_SIZE(vq->num),
                         VQ_USED_SIZE(MVM_VQ_NUM_MAX), &p) < 0)
        return vq_broken(con, vl_err_ctx(-EPROTO, "the used ring"));
    used = p;

    avail_idx = le16toh(__atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE));
    pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending > vq->num)
        return vq_broken(
            con, vl_err_plain(EPROTO,
                              "the available ring's idx jumped to %u with "
                              "%u taken: %u pending in a queue of %u",
                              avail_idx, vq->last_avail, pending, vq->num));
    for (; pending; pending--) {
        uint16_t slot = vq->last_avail % vq->num;
        uint16_t head = le16toh(GUEST_READ_ONCE(avail->ring[slot]));

        n = mvm_vq_chain(vm, vq, head, iov, MVM_VQ_IOV_MAX);
        if (n < 0)
            return vq_broken(
                con, vl_err_ctx(n, "available ring entry %u", vq->last_avail));
        for (int i = 0; i < n; i++) {
            if (iov[i].len && con->out)
                fwrite(iov[i].base, 1, iov[i].len, con->out);
            con->bytes += iov[i].len;
        }
        used->ring[slot].id = htole32(head);
        used->ring[slot].len = htole32(0);
        vq->last_avail++;
        __atomic_store_n(&used->idx, htole16(vq->last_avail), __ATOMIC_RELEASE);
        con->buffers++;
        done++;
    }
    if (done)
        con->interrupt_status |= VIRTIO_MMIO_INT_VRING;
    return done;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)con; */
    /* stub: (void)offset; */
    /* stub: (void)value; */
    /* stub: return MVM_TODO(5, "the console's registers"); */
    (void)vm;
    switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        *value = VCON_MAGIC;
        break;
    case VIRTIO_MMIO_VERSION:
        *value = VCON_VERSION;
        break;
    case VIRTIO_MMIO_DEVICE_ID:
        *value = VIRTIO_ID_CONSOLE;
        break;
    case VIRTIO_MMIO_VENDOR_ID:
        *value = VCON_VENDOR_ID;
        break;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        *value = con->dev_features_sel < 2
                     ? (uint32_t)(VCON_FEATURES >> (32 * con->dev_features_sel))
                     : 0;
        break;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        *value = con->queue_sel == 0 ? MVM_VQ_NUM_MAX : 0;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        *value = con->queue_sel == 0 && con->vq.ready;
        break;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        *value = con->interrupt_status;
        break;
    case VIRTIO_MMIO_STATUS:
        *value = con->status;
        break;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        *value = 0;
        break;
    default:
        return vl_err_plain(EINVAL,
                            "virtio-console: no readable register at "
                            "offset 0x%llx",
                            (unsigned long long)offset);
    }
    return MVM_CONTINUE;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vq; */
    /* stub: (void)offset; */
    /* stub: (void)value; */
    /* stub: return MVM_TODO(5, "the queue's set-up registers"); */
    uint64_t *addr;
    unsigned shift = (offset & 4) ? 32 : 0;

    switch (offset) {
    case VIRTIO_MMIO_QUEUE_NUM:
        if (value == 0 || value > MVM_VQ_NUM_MAX || (value & (value - 1)))
            return vl_err_plain(EINVAL,
                                "virtio-console: QueueNum %u: a power of "
                                "two up to %u, please",
                                value, MVM_VQ_NUM_MAX);
        vq->num = value;
        return MVM_CONTINUE;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        addr = &vq->desc;
        break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        addr = &vq->avail;
        break;
    default:
        addr = &vq->used;
        break;
    }
    *addr = (*addr & ~(0xffffffffULL << shift)) | (uint64_t)value << shift;
    return MVM_CONTINUE;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)vq; */
    /* stub: (void)in_readonly_slot; */
    /* stub: return MVM_TODO(5, "check the queue's areas"); */
    const struct {
        const char *name;
        uint64_t addr, size, align;
    } areas[] = {
        {"descriptor table", vq->desc, VQ_DESC_SIZE(vq->num), 16},
        {"available ring", vq->avail, VQ_AVAIL_SIZE(vq->num), 2},
        {"used ring", vq->used, VQ_USED_SIZE(vq->num), 4},
    };
    void *p;

    if (vq->num == 0)
        return vl_err_plain(EPROTO, "virtio-console: queue 0 made ready "
                                    "without a QueueNum");
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
        if (areas[i].addr % areas[i].align)
            return vl_err_plain(EPROTO,
                                "virtio-console: the %s at 0x%llx is not "
                                "%llu-byte aligned",
                                areas[i].name,
                                (unsigned long long)areas[i].addr,
                                (unsigned long long)areas[i].align);
        if (mvm_guest_buffer(vm, areas[i].addr, areas[i].size, areas[i].size,
                             &p) < 0)
            return vl_err_ctx(-EPROTO, "virtio-console: the %s", areas[i].name);
    }
    if (in_readonly_slot(vm, vq->used))
        return vl_err_plain(EPROTO,
                            "virtio-console: the used ring at 0x%llx is in "
                            "read-only memory, but the device writes it",
                            (unsigned long long)vq->used);
    vq->ready = true;
    return MVM_CONTINUE;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)con; */
    /* stub: (void)offset; */
    /* stub: (void)value; */
    /* stub: (void)vq_setup; */
    /* stub: (void)vq_enable; */
    /* stub: (void)vcon_reset; */
    /* stub: return MVM_TODO(5, "the console's registers"); */
    unsigned shift;
    int r;

    switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        con->dev_features_sel = value;
        return MVM_CONTINUE;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        con->drv_features_sel = value;
        return MVM_CONTINUE;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (value && (con->drv_features_sel >= 2 ||
                      ((uint64_t)value << (32 * con->drv_features_sel)) &
                          ~VCON_FEATURES))
            return vl_err_plain(EINVAL,
                                "virtio-console: the driver accepts "
                                "features 0x%x of word %u, which the device "
                                "does not offer",
                                value, con->drv_features_sel);
        if (con->drv_features_sel < 2) {
            shift = 32 * con->drv_features_sel;
            con->drv_features =
                (con->drv_features & ~(0xffffffffULL << shift)) |
                (uint64_t)value << shift;
        }
        return MVM_CONTINUE;
    case VIRTIO_MMIO_QUEUE_SEL:
        con->queue_sel = value;
        return MVM_CONTINUE;
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
    case VIRTIO_MMIO_QUEUE_READY:
        if (con->queue_sel != 0)
            return vl_err_plain(EINVAL,
                                "virtio-console: queue %u does not exist "
                                "(its QueueNumMax is 0)",
                                con->queue_sel);
        if (offset == VIRTIO_MMIO_QUEUE_READY) {
            if (value > 1)
                return vl_err_plain(EINVAL, "virtio-console: QueueReady %u",
                                    value);
            con->vq.ready = false;
            return value ? vq_enable(vm, &con->vq) : MVM_CONTINUE;
        }
        if (con->vq.ready)
            return vl_err_plain(EINVAL,
                                "virtio-console: queue 0 is in use: set "
                                "it up before QueueReady = 1 (offset "
                                "0x%llx)",
                                (unsigned long long)offset);
        return vq_setup(&con->vq, offset, value);
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        con->notifies++;
        if (value != 0)
            return vl_err_plain(EINVAL,
                                "virtio-console: notified queue %u, but "
                                "only queue 0 exists",
                                value);
        r = mvm_vq_process(vm, con);
        return r < 0 ? r : MVM_CONTINUE;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        con->interrupt_status &= ~value;
        return MVM_CONTINUE;
    case VIRTIO_MMIO_STATUS:
        if (value == 0) {
            vcon_reset(con);
            return MVM_CONTINUE;
        }
        /* FEATURES_OK only for a modern driver (virtio 1.2, 3.1.1 and 6). */
        if (!(con->drv_features & (1ULL << VIRTIO_F_VERSION_1)))
            value &= ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK;
        con->status = value | (con->status & VIRTIO_CONFIG_S_NEEDS_RESET);
        return MVM_CONTINUE;
    default:
        return vl_err_plain(EINVAL,
                            "virtio-console: no writable register at "
                            "offset 0x%llx",
                            (unsigned long long)offset);
    }
    /* SOLUTION END */
}
