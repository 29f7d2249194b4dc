/*
 * vq_fuzz.c - libFuzzer harness for lab 05's virtqueue console.
 *
 * The guest writes the descriptor table, the available ring, every
 * address, length and index in them, and the console's registers: all of
 * it is hostile input to minivm. This harness hands random rings and
 * register writes to mvm_vq_process(), mvm_vq_chain() and
 * mvm_vcon_write()/mvm_vcon_read() of solutions/05-paravirt/paravirt.c on
 * a struct minivm without KVM: guest memory is a buffer of our own, 64 KiB
 * of RAM at guest-physical 0 plus a 4 KiB memory slot (lab 03) at
 * SLOT_GPA, and mvm_guest_buffer()/mvm_guest_ptr() find guest buffers in
 * them as they do under KVM. The buffers sit between poisoned guard zones,
 * so ASan reports any access that strays outside guest memory.
 *
 * An input is (all numbers little-endian):
 *
 *   0      num: nums[byte % 16] (powers of two, 0, and others that
 *          QUEUE_NUM refuses, to see the ring code cope)
 *   1      bit 0: ready; bit 1: the slot is read-only (KVM_MEM_READONLY);
 *          bit 2: also walk one chain with mvm_vq_chain()
 *   2..7   desc, avail, used: 16-bit offsets, placed by byte 10
 *   8..9   last_avail
 *   10     2 bits per area (desc 1:0, avail 3:2, used 5:4): 0 in RAM at
 *          the offset, 1 in the slot, 2 that far below the end of RAM,
 *          3 that far below 2^64
 *   11     the number of register operations that follow (0-31)
 *   12..13 the head of the chain for bit 2; 14: its max_iov (1-64)
 *   15     unused
 *   then   5 bytes per register operation: bit 7 of the first byte read
 *          (1) or write (0); bits 6:0 pick a register from regs[] (or,
 *          past its end, the offset in the value's bits 27:16); then the
 *          32-bit value
 *   rest   guest memory: copied to RAM at 0, and its first 4 KiB into
 *          the slot
 *
 * The header sets the queue's fields directly (struct mvm_vq) and calls
 * mvm_vq_process(): a queue no register write could make (a num of 3, a
 * ring past the end of memory) must be refused, not followed. The
 * addresses are aligned as QueueReady insists (16, 2 and 4 bytes), the
 * only promise of the register file the ring code may rely on. Then the
 * register operations run, QUEUE_NOTIFY processing the queue again.
 *
 * Checked after each call, stopping with a message and __builtin_trap():
 *  - the result is >= 0, or -errno (-4095..-1) with a message recorded;
 *  - mvm_vq_process() and QUEUE_NOTIFY write guest memory only in the
 *    used ring; mvm_vq_chain() writes none;
 *  - the bytes the console counts (con->bytes) are the bytes written to
 *    con->out; a result of n >= 0 consumed n chains (con->buffers,
 *    last_avail), set VIRTIO_MMIO_INT_VRING if n > 0, left a used entry
 *    {id < num, len 0} in each slot it used, and used->idx = last_avail;
 *  - mvm_vq_chain() returns at most max_iov buffers, each inside guest
 *    memory, MVM_VQ_CHAIN_MAX bytes in all at most;
 *  - QueueNum takes only powers of two up to MVM_VQ_NUM_MAX; a QueueReady
 *    = 1 that succeeds leaves a queue a device can use: a QueueNum set,
 *    each area aligned and inside guest memory, the used ring writable;
 *  - MagicValue, Version and DeviceID always read 0x74726976, 2 and 3.
 *
 * FUZZ_TRACE=1 in the environment prints each call and its result.
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <sanitizer/asan_interface.h>

#include "minivm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE   (64u << 10)
#define SLOT_GPA   0x100000ULL
#define SLOT_SIZE  (4u << 10)
#define GUARD      (64u << 10) /* poisoned bytes on each side */
#define HEADER     16
#define OP_SIZE    5
#define VCON_MAGIC 0x74726976 /* "virt" */

static const uint32_t nums[16] = {
    1,
    2,
    4,
    8,
    16,
    32,
    128,
    MVM_VQ_NUM_MAX,
    0,
    3,
    6,
    255,
    MVM_VQ_NUM_MAX + 1,
    4096,
    65535,
    65536,
};

static const uint16_t regs[] = {
    VIRTIO_MMIO_MAGIC_VALUE,       VIRTIO_MMIO_VERSION,
    VIRTIO_MMIO_DEVICE_ID,         VIRTIO_MMIO_VENDOR_ID,
    VIRTIO_MMIO_DEVICE_FEATURES,   VIRTIO_MMIO_DEVICE_FEATURES_SEL,
    VIRTIO_MMIO_DRIVER_FEATURES,   VIRTIO_MMIO_DRIVER_FEATURES_SEL,
    VIRTIO_MMIO_QUEUE_SEL,         VIRTIO_MMIO_QUEUE_NUM_MAX,
    VIRTIO_MMIO_QUEUE_NUM,         VIRTIO_MMIO_QUEUE_READY,
    VIRTIO_MMIO_QUEUE_NOTIFY,      VIRTIO_MMIO_INTERRUPT_STATUS,
    VIRTIO_MMIO_INTERRUPT_ACK,     VIRTIO_MMIO_STATUS,
    VIRTIO_MMIO_QUEUE_DESC_LOW,    VIRTIO_MMIO_QUEUE_DESC_HIGH,
    VIRTIO_MMIO_QUEUE_AVAIL_LOW,   VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
    VIRTIO_MMIO_QUEUE_USED_LOW,    VIRTIO_MMIO_QUEUE_USED_HIGH,
    VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_CONFIG,
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

static bool trace;
static const char *step = "set-up"; /* for messages */
static uint64_t printed;            /* bytes that reached con->out */

static void __attribute__((format(printf, 1, 2), noreturn))
broken(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "vq_fuzz: invariant broken in %s: ", step);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    __builtin_trap();
}

/* ---- guest memory ---------------------------------------------------- */

struct guest {
    uint8_t *ram, *slot;       /* between poisoned guard zones */
    uint8_t ram_was[RAM_SIZE]; /* a copy, to see what changed */
    uint8_t slot_was[SLOT_SIZE];
};

/* `size` bytes with GUARD poisoned bytes on each side. Kept for the whole
 * run (and reachable: no leak). */
static uint8_t *guarded_alloc(size_t size)
{
    uint8_t *p = malloc(GUARD + size + GUARD);

    if (!p)
        abort();
    ASAN_POISON_MEMORY_REGION(p, GUARD);
    ASAN_POISON_MEMORY_REGION(p + GUARD + size, GUARD);
    return p + GUARD;
}

/* Is [gpa, gpa+len) all in RAM or all in the slot? */
static bool in_guest(uint64_t gpa, uint64_t len)
{
    if (gpa <= RAM_SIZE && len <= RAM_SIZE - gpa)
        return true;
    return gpa >= SLOT_GPA && gpa - SLOT_GPA <= SLOT_SIZE &&
           len <= SLOT_SIZE - (gpa - SLOT_GPA);
}

/* Is host [p, p+len) all in RAM or all in the slot? */
static bool host_in_guest(const struct guest *g, const void *p, size_t len)
{
    const uint8_t *b = p;

    if (b >= g->ram && b <= g->ram + RAM_SIZE)
        return len <= (size_t)(g->ram + RAM_SIZE - b);
    if (b >= g->slot && b <= g->slot + SLOT_SIZE)
        return len <= (size_t)(g->slot + SLOT_SIZE - b);
    return false;
}

static void snapshot(struct guest *g)
{
    memcpy(g->ram_was, g->ram, RAM_SIZE);
    memcpy(g->slot_was, g->slot, SLOT_SIZE);
}

/* The first byte of now[0..size) that differs from was[] outside the
 * guest-physical range [lo, hi), now[] being guest-physical base...; or
 * -1. */
static long changed_outside(const uint8_t *now, const uint8_t *was,
                            uint64_t base, uint64_t size, uint64_t lo,
                            uint64_t hi)
{
    /* [0, a) and [b, size) are outside [lo, hi), as offsets from base. */
    uint64_t a = lo <= base ? 0 : lo - base < size ? lo - base : size;
    uint64_t b = hi <= base ? 0 : hi - base < size ? hi - base : size;

    if (b < a)
        b = a;
    if (!memcmp(now, was, a) && !memcmp(now + b, was + b, size - b))
        return -1;
    for (uint64_t i = 0; i < size; i++)
        if (now[i] != was[i] && (i < a || i >= b))
            return (long)i;
    return -1;
}

/* Every byte that changed since snapshot() must be in the guest-physical
 * range [lo, hi) (lo == hi: nothing may change). */
static void check_writes(const struct guest *g, uint64_t lo, uint64_t hi)
{
    long i = changed_outside(g->ram, g->ram_was, 0, RAM_SIZE, lo, hi);

    if (i >= 0)
        broken("guest-physical 0x%lx written, outside [0x%llx, 0x%llx)", i,
               (unsigned long long)lo, (unsigned long long)hi);
    i = changed_outside(g->slot, g->slot_was, SLOT_GPA, SLOT_SIZE, lo, hi);
    if (i >= 0)
        broken("guest-physical 0x%llx (the slot) written, outside [0x%llx, "
               "0x%llx)",
               (unsigned long long)(SLOT_GPA + (uint64_t)i),
               (unsigned long long)lo, (unsigned long long)hi);
}

/* The host address of guest-physical gpa, if [gpa, gpa+len) is guest
 * memory. */
static void *host(const struct guest *g, uint64_t gpa, uint64_t len)
{
    if (!in_guest(gpa, len))
        return NULL;
    return gpa < SLOT_GPA ? g->ram + gpa : g->slot + (gpa - SLOT_GPA);
}

/* ---- the console's output, counted ------------------------------------ */

static ssize_t count_write(void *cookie, const char *buf, size_t len)
{
    (void)cookie, (void)buf;
    printed += len;
    return (ssize_t)len;
}

static FILE *counting_file(void)
{
    FILE *f =
        fopencookie(NULL, "w", (cookie_io_functions_t){.write = count_write});

    if (!f)
        abort();
    setvbuf(f, NULL, _IONBF, 0); /* every fwrite() reaches count_write() */
    return f;
}

/* ---- the checks -------------------------------------------------------- */

/* A stage function's result: >= 0, or -errno with a message. */
static void check_result(int r)
{
    if (trace)
        fprintf(stderr, "  -> %d%s%s\n", r, r < 0 ? ": " : "",
                r < 0 ? vl_errmsg() : "");
    if (r < -4095)
        broken("returned %d: not -errno", r);
    if (r < 0 && !*vl_errmsg())
        broken("returned %d with no message recorded", r);
}

static bool power_of_two(uint32_t n)
{
    return n && !(n & (n - 1));
}

/* The used ring of `vq`, as guest-physical [lo, hi): idx, the ring and
 * avail_event (virtio 1.2, 2.7.8). */
static void used_area(const struct mvm_vq *vq, uint64_t *lo, uint64_t *hi)
{
    uint64_t size = 6 + 8 * (uint64_t)vq->num;

    *lo = vq->used;
    *hi = vq->used + size < vq->used ? UINT64_MAX : vq->used + size;
}

/* After mvm_vq_process() (directly or through QUEUE_NOTIFY) returned r,
 * the queue was `was` and the console had consumed `buffers` chains. */
static void check_processed(const struct guest *g, const struct mvm_vcon *con,
                            const struct mvm_vq *was, uint64_t buffers, int r)
{
    uint64_t lo, hi;

    used_area(was, &lo, &hi);
    check_writes(g, lo, hi);
    if (con->bytes != printed)
        broken("the console counts %llu bytes, %llu reached con->out",
               (unsigned long long)con->bytes, (unsigned long long)printed);
    if (r < 0)
        return;
    if (con->buffers - buffers != (uint64_t)r ||
        (uint16_t)(con->vq.last_avail - was->last_avail) != (uint16_t)r)
        broken("returned %d, but buffers went %llu -> %llu and last_avail "
               "%u -> %u",
               r, (unsigned long long)buffers, (unsigned long long)con->buffers,
               was->last_avail, con->vq.last_avail);
    if (r > 0 && !(con->interrupt_status & VIRTIO_MMIO_INT_VRING))
        broken("consumed %d chains, VIRTIO_MMIO_INT_VRING not set", r);
    if (r > 0 && was->num == 0)
        broken("consumed %d chains from a queue of 0 entries", r);
    /* minivm's device keeps one index, last_avail: it takes the chains in
     * order and gives each back at once, so the used ring's idx (how many
     * it gave back, mod 2^16) must equal it. */
    if (r > 0) {
        const struct vring_used *used = host(g, was->used, 4);

        if (!used || le16toh(used->idx) != con->vq.last_avail)
            broken("consumed %d chains: used->idx %d, last_avail %u", r,
                   used ? le16toh(used->idx) : -1, con->vq.last_avail);
    }
    for (int k = 0; k < r; k++) {
        uint16_t slot = (uint16_t)(was->last_avail + k) % was->num;
        const struct vring_used *used = host(g, was->used, hi - lo);
        uint32_t id, len;

        if (!used)
            broken("consumed %d chains with the used ring at 0x%llx outside "
                   "guest memory",
                   r, (unsigned long long)was->used);
        id = le32toh(used->ring[slot].id);
        len = le32toh(used->ring[slot].len);
        if (id >= was->num || len != 0)
            broken("used ring slot %u holds {id %u, len %u}: a head < %u and "
                   "len 0 (nothing written) expected",
                   slot, id, len, was->num);
    }
}

/* A queue QueueReady = 1 accepted must be one the device can use. */
static void check_ready_queue(const struct minivm *vm, const struct mvm_vq *vq)
{
    const struct {
        const char *name;
        uint64_t addr, size, align;
    } areas[] = {
        {"descriptor table", vq->desc, 16 * (uint64_t)vq->num, 16},
        {"available ring", vq->avail, 6 + 2 * (uint64_t)vq->num, 2},
        {"used ring", vq->used, 6 + 8 * (uint64_t)vq->num, 4},
    };

    if (vq->num == 0)
        broken("QueueReady accepted a queue without a QueueNum");
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
        if (areas[i].addr % areas[i].align ||
            !in_guest(areas[i].addr, areas[i].size))
            broken("QueueReady accepted the %s at 0x%llx (%llu bytes)",
                   areas[i].name, (unsigned long long)areas[i].addr,
                   (unsigned long long)areas[i].size);
    if (vm->slots[0].flags & KVM_MEM_READONLY && vq->used >= SLOT_GPA)
        broken("QueueReady accepted a used ring in read-only memory");
}

/* mvm_vq_chain() on the header's queue. */
static void walk_chain(struct minivm *vm, struct guest *g, uint16_t head,
                       int max_iov)
{
    struct mvm_iov iov[MVM_VQ_IOV_MAX];
    uint64_t total = 0;
    int n;

    step = "mvm_vq_chain";
    if (trace)
        fprintf(stderr, "mvm_vq_chain(head %u, max_iov %d)\n", head, max_iov);
    snapshot(g);
    vl_err_clear();
    n = mvm_vq_chain(vm, &vm->vcon.vq, head, iov, max_iov);
    check_result(n);
    check_writes(g, 0, 0);
    if (n > max_iov)
        broken("%d buffers returned, max_iov is %d", n, max_iov);
    for (int i = 0; i < n; i++) {
        if (iov[i].len && !host_in_guest(g, iov[i].base, iov[i].len))
            broken("buffer %d (%u bytes) is not in guest memory", i,
                   iov[i].len);
        total += iov[i].len;
    }
    if (total > MVM_VQ_CHAIN_MAX)
        broken("a chain of %llu bytes, more than MVM_VQ_CHAIN_MAX",
               (unsigned long long)total);
}

/* ---- the input --------------------------------------------------------- */

static uint16_t le16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* An area's guest-physical address from its offset and placement, aligned
 * as QueueReady requires. */
static uint64_t place(uint16_t offset, unsigned where, uint64_t align)
{
    uint64_t gpa = 0;

    switch (where & 3) {
    case 0:
        gpa = offset;
        break;
    case 1:
        gpa = SLOT_GPA + offset;
        break;
    case 2:
        gpa = (uint64_t)RAM_SIZE - offset;
        break;
    case 3:
        gpa = UINT64_MAX - offset;
        break;
    }
    return gpa & ~(align - 1);
}

/* One register operation of the input. */
static void register_op(struct minivm *vm, struct guest *g, const uint8_t *op)
{
    struct mvm_vcon *con = &vm->vcon;
    bool is_read = op[0] & 0x80;
    unsigned pick = op[0] & 0x7f;
    uint32_t value = le32_at(op + 1);
    uint64_t offset = pick < NREGS ? regs[pick] : (value >> 16) & 0xfff;
    struct mvm_vq was = con->vq;
    uint64_t buffers = con->buffers;
    bool notify = !is_read && offset == VIRTIO_MMIO_QUEUE_NOTIFY;
    int r;

    step = is_read ? "mvm_vcon_read" : "mvm_vcon_write";
    if (trace && is_read)
        fprintf(stderr, "%s(0x%03llx)\n", step, (unsigned long long)offset);
    if (trace && !is_read)
        fprintf(stderr, "%s(0x%03llx, 0x%x)\n", step,
                (unsigned long long)offset, value);
    if (notify)
        snapshot(g);
    vl_err_clear();
    if (is_read) {
        uint32_t v = 0;

        r = mvm_vcon_read(vm, con, offset, &v);
        if (trace && r >= 0)
            fprintf(stderr, "  = 0x%x\n", v);
        if ((offset == VIRTIO_MMIO_MAGIC_VALUE && (r < 0 || v != VCON_MAGIC)) ||
            (offset == VIRTIO_MMIO_VERSION && (r < 0 || v != 2)) ||
            (offset == VIRTIO_MMIO_DEVICE_ID &&
             (r < 0 || v != VIRTIO_ID_CONSOLE)))
            broken("register 0x%llx reads 0x%x (result %d)",
                   (unsigned long long)offset, v, r);
    } else {
        r = mvm_vcon_write(vm, con, offset, value);
    }
    check_result(r);
    if (!is_read && offset == VIRTIO_MMIO_QUEUE_NUM && r >= 0 &&
        (!power_of_two(value) || value > MVM_VQ_NUM_MAX ||
         con->vq.num != value))
        broken("QueueNum %u accepted (num now %u): a power of two up to %u "
               "expected",
               value, con->vq.num, MVM_VQ_NUM_MAX);
    /* QUEUE_NOTIFY says 0 (done) or -errno, not how many chains it took:
     * count them in con->buffers. */
    if (notify)
        check_processed(g, con, &was, buffers,
                        r < 0 ? -1 : (int)(con->buffers - buffers));
    if (!was.ready && con->vq.ready)
        check_ready_queue(vm, &con->vq);
    if (con->bytes != printed)
        broken("the console counts %llu bytes, %llu reached con->out",
               (unsigned long long)con->bytes, (unsigned long long)printed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct guest *g;
    static FILE *out, *devnull;
    struct mvm_options opt;
    struct minivm vm;
    struct mvm_vq was;
    size_t nops, image;
    uint64_t buffers;
    int r;

    if (size < HEADER)
        return -1; /* not an input: do not add it to the corpus */
    if (!g) {
        g = calloc(1, sizeof(*g));
        devnull = fopen("/dev/null", "w");
        if (!g || !devnull)
            abort();
        g->ram = guarded_alloc(RAM_SIZE);
        g->slot = guarded_alloc(SLOT_SIZE);
        out = counting_file();
        trace = getenv("FUZZ_TRACE") != NULL;
    }
    printed = 0;
    step = "set-up";

    mvm_options_default(&opt);
    opt.console = out;
    opt.log = devnull;
    opt.mem_size = RAM_SIZE;
    mvm_init(&vm, &opt);
    if (mvm_setup_devices(&vm) < 0) { /* the console at power-on */
        fprintf(stderr, "vq_fuzz: mvm_setup_devices: %s\n", vl_errmsg());
        abort();
    }
    vm.mem = g->ram;
    vm.mem_size = RAM_SIZE;
    vm.slots[0] = (struct mvm_slot){
        .slot = 1,
        .flags = data[1] & 2 ? KVM_MEM_READONLY : 0,
        .gpa = SLOT_GPA,
        .size = SLOT_SIZE,
        .hva = g->slot,
    };
    vm.nslots = 1;

    nops = data[11] & 31;
    if (size - HEADER < nops * OP_SIZE)
        nops = (size - HEADER) / OP_SIZE;
    image = HEADER + nops * OP_SIZE;
    memset(g->ram, 0, RAM_SIZE);
    memset(g->slot, 0, SLOT_SIZE);
    memcpy(g->ram, data + image,
           size - image < RAM_SIZE ? size - image : RAM_SIZE);
    memcpy(g->slot, data + image,
           size - image < SLOT_SIZE ? size - image : SLOT_SIZE);

    /* The queue as the header says, set directly. */
    vm.vcon.vq = (struct mvm_vq){
        .num = nums[data[0] % 16],
        .desc = place(le16_at(data + 2), data[10], 16),
        .avail = place(le16_at(data + 4), data[10] >> 2, 2),
        .used = place(le16_at(data + 6), data[10] >> 4, 4),
        .ready = data[1] & 1,
        .last_avail = le16_at(data + 8),
    };
    if (data[1] & 4)
        walk_chain(&vm, g, le16_at(data + 12), 1 + data[14] % MVM_VQ_IOV_MAX);

    step = "mvm_vq_process";
    if (trace)
        fprintf(stderr,
                "mvm_vq_process(num %u, desc 0x%llx, avail 0x%llx, used "
                "0x%llx, ready %d, last_avail %u)\n",
                vm.vcon.vq.num, (unsigned long long)vm.vcon.vq.desc,
                (unsigned long long)vm.vcon.vq.avail,
                (unsigned long long)vm.vcon.vq.used, vm.vcon.vq.ready,
                vm.vcon.vq.last_avail);
    was = vm.vcon.vq;
    buffers = vm.vcon.buffers;
    snapshot(g);
    vl_err_clear();
    r = mvm_vq_process(&vm, &vm.vcon);
    check_result(r);
    check_processed(g, &vm.vcon, &was, buffers, r);

    for (size_t i = 0; i < nops; i++)
        register_op(&vm, g, data + HEADER + i * OP_SIZE);
    return 0;
}
