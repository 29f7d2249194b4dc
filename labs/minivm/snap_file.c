/*
 * snap_file.c - minivm's snapshot file and migration stream (lab 08's
 * driver side): the format, its writer and its validating reader, and the
 * field-by-field serialization of minivm's device models. None of this is
 * a lab; what KVM state to save and in which order to restore it is the
 * lab (labs/08-snapshots/snapshot.c).
 *
 * The format (snap.h) is self-describing: a header with a magic and a
 * version, then sections with a tag, a length and a CRC-32, so a reader
 * can tell a truncated file from a corrupted one from a file of another
 * version, and say which. Inside the VM, CPU and DEV sections each piece
 * of state is a record (u32 tag, u32 length, bytes). KVM's own state
 * structures (struct kvm_regs, kvm_sregs, ...) are the kernel's ABI, fixed
 * by <linux/kvm.h> and free of pointers: they travel as they are, and the
 * reader checks each one's length. minivm's device models have pointers
 * (the console's FILE *) and private layouts: they travel field by field.
 *
 * A snapshot file, or a migration stream, is input minivm must not trust:
 * every length is checked before it is used.
 */
#include "minivm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/load.h"

/* ---- CRC-32C (Castagnoli: iSCSI, ext4, btrfs) --------------------------
 * x86's SSE4.2 computes it with one instruction per 8 bytes (CRC32), a
 * table does it anywhere else, eight bytes at a time ("slicing by 8"). */

static uint32_t crc_table[8][256];
static bool crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                              crc_table[0][crc_table[t - 1][i] & 0xff];
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = crc;

    while (len >= 8) {
        uint64_t v;

        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return (uint32_t)c;
}

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
    while (len >= 8) {
        uint32_t lo, hi;

        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
              crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
              crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

static uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    crc = crc_hw ? crc32c_hw(crc, data, len) : crc32c_sw(crc, data, len);
    return ~crc;
}

static const char *tag_text(uint32_t tag, char buf[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)(tag >> (8 * i));

        buf[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    buf[4] = '\0';
    return buf;
}

/* ---- writing ---------------------------------------------------------- */

struct sec_header {
    uint32_t tag, instance, len, crc;
};

static int out_reserve(struct mvm_snap_out *out, size_t more)
{
    size_t cap = out->cap ? out->cap : 1u << 16;
    uint8_t *b;

    if (out->len + more <= out->cap)
        return 0;
    while (cap < out->len + more)
        cap *= 2;
    b = realloc(out->buf, cap);
    if (!b)
        return vl_err_plain(ENOMEM, "no memory for the snapshot's buffer");
    out->buf = b;
    out->cap = cap;
    return 0;
}

static int out_append(struct mvm_snap_out *out, const void *data, size_t len)
{
    int r = out_reserve(out, len);

    if (r < 0)
        return r;
    if (data)
        memcpy(out->buf + out->len, data, len);
    else
        memset(out->buf + out->len, 0, len);
    out->len += len;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Write the buffer; a migration with --bandwidth sleeps to keep to it. */
static int out_drain(struct mvm_snap_out *out)
{
    int r;

    if (!out->len)
        return 0;
    if ((r = vl_write_full(out->fd, out->buf, out->len)) < 0)
        return vl_err(r, "writing the snapshot");
    out->bytes += out->len;
    if (out->bw_bytes_per_s) {
        uint64_t due, now;

        if (!out->bw_start_ns)
            out->bw_start_ns = now_ns();
        out->bw_bytes += out->len;
        due = out->bw_start_ns +
              out->bw_bytes * 1000000000ULL / out->bw_bytes_per_s;
        now = now_ns();
        if (due > now) {
            struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000000),
                                  .tv_nsec = (long)((due - now) % 1000000000)};

            nanosleep(&ts, NULL);
        }
    }
    out->len = 0;
    return 0;
}

static int sec_open(struct mvm_snap_out *out, uint32_t tag, uint32_t instance)
{
    struct sec_header h = {.tag = tag, .instance = instance};
    int r;

    out->sec_start = out->len;
    if ((r = out_append(out, &h, sizeof(h))) < 0)
        return r;
    out->sec_open = true;
    out->sec_tag = tag;
    return 0;
}

static int sec_close(struct mvm_snap_out *out)
{
    struct sec_header h;
    size_t payload;

    if (!out->sec_open)
        return 0;
    memcpy(&h, out->buf + out->sec_start, sizeof(h));
    payload = out->len - out->sec_start - sizeof(h);
    if (payload > MVM_SNAP_SECTION_MAX)
        return vl_err_plain(E2BIG, "a snapshot section of %zu bytes", payload);
    if (h.tag == MVM_SEC_MEM)
        memcpy(out->buf + out->sec_start + sizeof(h), &out->mem_count, 4);
    h.len = (uint32_t)payload;
    h.crc = crc32_update(0, &h, 12);
    h.crc = crc32_update(h.crc, out->buf + out->sec_start + sizeof(h), payload);
    memcpy(out->buf + out->sec_start, &h, sizeof(h));
    out->sec_open = false;
    out->mem_count = 0;
    /* Write whole sections only, a megabyte at a time. */
    return out->len >= (1u << 20) ? out_drain(out) : 0;
}

int mvm_snap_out_init(struct mvm_snap_out *out, int fd)
{
    uint32_t hdr[2] = {MVM_SNAP_VERSION, MVM_SNAP_HEADER_SIZE};

    *out = (struct mvm_snap_out){.fd = fd};
    if (out_append(out, MVM_SNAP_MAGIC, 8) < 0 ||
        out_append(out, hdr, sizeof(hdr)) < 0)
        return -ENOMEM;
    return 0;
}

void mvm_snap_out_free(struct mvm_snap_out *out)
{
    free(out->buf);
    out->buf = NULL;
    out->len = out->cap = 0;
}

int mvm_snap_put_page(struct mvm_snap_out *out, uint64_t gpa, const void *data)
{
    uint64_t rec = gpa | (data ? 0 : MVM_PAGE_ZERO);
    int r;

    if (gpa % MVM_PAGE_SIZE)
        return vl_err_plain(EINVAL, "page record at 0x%llx: not page-aligned",
                            (unsigned long long)gpa);
    if (out->sec_open &&
        (out->sec_tag != MVM_SEC_MEM || out->mem_count == MVM_SNAP_MEM_BATCH))
        if ((r = sec_close(out)) < 0)
            return r;
    if (!out->sec_open) {
        if ((r = sec_open(out, MVM_SEC_MEM, 0)) < 0 ||
            (r = out_append(out, NULL, 4)) < 0) /* count, set at close */
            return r;
    }
    if ((r = out_append(out, &rec, sizeof(rec))) < 0)
        return r;
    if (data && (r = out_append(out, data, MVM_PAGE_SIZE)) < 0)
        return r;
    out->mem_count++;
    if (data)
        out->pages++;
    else
        out->zero_pages++;
    return 0;
}

int mvm_snap_flush(struct mvm_snap_out *out)
{
    int r = sec_close(out);

    return r < 0 ? r : out_drain(out);
}

/* A record inside a VM, CPU or DEV section. */
static int put_rec(struct mvm_snap_out *out, uint32_t tag, const void *data,
                   uint32_t len)
{
    uint32_t h[2] = {tag, len};
    int r = out_append(out, h, sizeof(h));

    return r < 0 ? r : out_append(out, data, len);
}

/* Field-by-field records: a little buffer of fixed-width fields. */
struct fields {
    uint8_t b[512];
    uint32_t n;
};

static void f_u8(struct fields *f, uint8_t v)
{
    f->b[f->n++] = v;
}

static void f_u32(struct fields *f, uint32_t v)
{
    memcpy(f->b + f->n, &v, 4);
    f->n += 4;
}

static void f_u64(struct fields *f, uint64_t v)
{
    memcpy(f->b + f->n, &v, 8);
    f->n += 8;
}

static void f_bytes(struct fields *f, const void *p, uint32_t len)
{
    memcpy(f->b + f->n, p, len);
    f->n += len;
}

int mvm_regions(struct minivm *vm, struct mvm_region *r, int max)
{
    int n = 0;

    if (vm->mem && n < max)
        r[n++] = (struct mvm_region){
            .slot = 0, .gpa = 0, .size = vm->mem_size, .hva = vm->mem};
    for (int i = 0; i < vm->nslots && n < max; i++)
        r[n++] = (struct mvm_region){.slot = vm->slots[i].slot,
                                     .flags = vm->slots[i].flags,
                                     .gpa = vm->slots[i].gpa,
                                     .size = vm->slots[i].size,
                                     .hva = vm->slots[i].hva};
    return n;
}

/* INFO flags */
#define INFO_IRQCHIP 1u /* the in-kernel irqchip (lab 06, --irqchip) */
#define INFO_TIMER   2u /* minivm's own 8254 (lab 06, --timer) */

int mvm_snap_put_info(struct minivm *vm, struct mvm_snap_out *out)
{
    struct fields f = {0};
    int r;

    f_u32(&f, (uint32_t)(vm->smp.ncpus > 1 ? vm->smp.ncpus : 1));
    f_u32(&f, (vm->irq.irqchip ? INFO_IRQCHIP : 0) |
                  (vm->irq.timer ? INFO_TIMER : 0));
    f_u64(&f, vm->mem_size);
    f_u64(&f, vm->pt_root);
    f_u64(&f, vm->pt_next);
    f_u32(&f, (uint32_t)vm->nslots);
    for (int i = 0; i < vm->nslots; i++) {
        f_u32(&f, vm->slots[i].slot);
        f_u32(&f, vm->slots[i].flags);
        f_u64(&f, vm->slots[i].gpa);
        f_u64(&f, vm->slots[i].size);
    }
    if ((r = sec_close(out)) < 0 || (r = sec_open(out, MVM_SEC_INFO, 0)) < 0 ||
        (r = out_append(out, f.b, f.n)) < 0)
        return r;
    return sec_close(out);
}

/* Device records of the DEV section. */
#define REC_UART MVM_SNAP_TAG('U', 'A', 'R', 'T')
#define REC_TDEV MVM_SNAP_TAG('T', 'D', 'E', 'V')
#define REC_VCON MVM_SNAP_TAG('V', 'C', 'O', 'N')
#define REC_IRQ  MVM_SNAP_TAG('I', 'R', 'Q', ' ')
#define REC_VMST MVM_SNAP_TAG('V', 'M', 'S', 'T')
/* vCPU records of a CPU section: KVM's structures as they are. */
#define REC_REGS MVM_SNAP_TAG('R', 'E', 'G', 'S')
#define REC_SREG MVM_SNAP_TAG('S', 'R', 'E', 'G')
#define REC_XSAV MVM_SNAP_TAG('X', 'S', 'A', 'V')
#define REC_XCRS MVM_SNAP_TAG('X', 'C', 'R', 'S')
#define REC_EVTS MVM_SNAP_TAG('E', 'V', 'T', 'S')
#define REC_MPST MVM_SNAP_TAG('M', 'P', 'S', 'T')
#define REC_LAPC MVM_SNAP_TAG('L', 'A', 'P', 'C')
#define REC_MSRS MVM_SNAP_TAG('M', 'S', 'R', 'S')
/* VM records */
#define REC_CLCK MVM_SNAP_TAG('C', 'L', 'C', 'K')
#define REC_PIC0 MVM_SNAP_TAG('P', 'I', 'C', '0')
#define REC_PIC1 MVM_SNAP_TAG('P', 'I', 'C', '1')
#define REC_IOAP MVM_SNAP_TAG('I', 'O', 'A', 'P')
#define REC_PIT2 MVM_SNAP_TAG('P', 'I', 'T', '2')

static const uint32_t chip_rec[MVM_NCHIPS] = {REC_PIC0, REC_PIC1, REC_IOAP};

static int put_vm(struct minivm *vm, struct mvm_snap_out *out)
{
    _vl_cleanup_free_ struct mvm_vm_state *st = calloc(1, sizeof(*st));
    int r;

    if (!st)
        return vl_err_plain(ENOMEM, "no memory for the VM's state");
    if ((r = mvm_vm_save(vm, st)) < 0)
        return vl_err_ctx(r, "saving the VM's state");
    if ((r = sec_open(out, MVM_SEC_VM, 0)) < 0 ||
        (r = put_rec(out, REC_CLCK, &st->clock, sizeof(st->clock))) < 0)
        return r;
    if (st->has_irqchip) {
        for (int i = 0; i < MVM_NCHIPS; i++)
            if ((r = put_rec(out, chip_rec[i], &st->chip[i],
                             sizeof(st->chip[i]))) < 0)
                return r;
        if ((r = put_rec(out, REC_PIT2, &st->pit, sizeof(st->pit))) < 0)
            return r;
    }
    return sec_close(out);
}

static int put_cpu(struct minivm *vm, struct mvm_snap_out *out,
                   struct mvm_cpu *cpu)
{
    _vl_cleanup_free_ struct mvm_vcpu_state *st = calloc(1, sizeof(*st));
    struct fields f = {0};
    int r;

    if (!st)
        return vl_err_plain(ENOMEM, "no memory for a vCPU's state");
    if ((r = mvm_vcpu_save(vm, cpu, st)) < 0)
        return vl_err_ctx(r, "saving vCPU %d", cpu->id);
    if (st->nmsrs > MVM_MAX_MSRS)
        return vl_err_plain(E2BIG, "vCPU %d: %u MSRs, more than %d", cpu->id,
                            st->nmsrs, MVM_MAX_MSRS);
    f_u32(&f, st->nmsrs);
    for (uint32_t i = 0; i < st->nmsrs; i++) {
        f_u32(&f, st->msrs[i].index);
        f_u64(&f, st->msrs[i].data);
    }
    if ((r = sec_open(out, MVM_SEC_CPU, (uint32_t)cpu->id)) < 0 ||
        (r = put_rec(out, REC_REGS, &st->regs, sizeof(st->regs))) < 0 ||
        (r = put_rec(out, REC_SREG, &st->sregs, sizeof(st->sregs))) < 0 ||
        (r = put_rec(out, REC_XSAV, &st->xsave, sizeof(st->xsave))) < 0 ||
        (r = put_rec(out, REC_XCRS, &st->xcrs, sizeof(st->xcrs))) < 0 ||
        (r = put_rec(out, REC_EVTS, &st->events, sizeof(st->events))) < 0 ||
        (r = put_rec(out, REC_MPST, &st->mp_state, sizeof(st->mp_state))) < 0 ||
        (r = put_rec(out, REC_MSRS, f.b, f.n)) < 0)
        return r;
    if (st->has_lapic &&
        (r = put_rec(out, REC_LAPC, &st->lapic, sizeof(st->lapic))) < 0)
        return r;
    return sec_close(out);
}

static void uart_fields(struct fields *f, const struct mvm_uart *u)
{
    f_u8(f, u->ier);
    f_u8(f, u->fcr);
    f_u8(f, u->lcr);
    f_u8(f, u->mcr);
    f_u8(f, u->lsr);
    f_u8(f, u->msr);
    f_u8(f, u->scr);
    f_u8(f, u->dll);
    f_u8(f, u->dlm);
    f_u8(f, u->thr_ipending);
    f_bytes(f, u->rx, MVM_UART_FIFO);
    f_u32(f, u->rx_head);
    f_u32(f, u->rx_count);
    f_u64(f, u->tx_bytes);
}

static void testdev_fields(struct fields *f, const struct mvm_testdev *t)
{
    f_u32(f, t->status);
    f_u32(f, t->answer);
    f_u32(f, t->ndata);
    for (int i = 0; i < MVM_TESTDEV_DEPTH; i++)
        f_u32(f, t->data[i]);
    f_u64(f, t->doorbells);
}

static void vcon_fields(struct fields *f, const struct mvm_vcon *c)
{
    f_u32(f, c->status);
    f_u32(f, c->dev_features_sel);
    f_u32(f, c->drv_features_sel);
    f_u64(f, c->drv_features);
    f_u32(f, c->queue_sel);
    f_u32(f, c->interrupt_status);
    f_u32(f, c->vq.num);
    f_u64(f, c->vq.desc);
    f_u64(f, c->vq.avail);
    f_u64(f, c->vq.used);
    f_u8(f, c->vq.ready);
    f_u32(f, c->vq.last_avail);
    f_u64(f, c->bytes);
    f_u64(f, c->buffers);
    f_u64(f, c->notifies);
}

/* Lab 06's state. The PIT's next tick is a CLOCK_MONOTONIC time of this
 * host: it travels as "how long from now". */
static void irq_fields(struct fields *f, const struct mvm_irq *q)
{
    uint64_t now = now_ns();
    const struct mvm_pit *p = &q->pit;

    f_u8(f, p->mode);
    f_u8(f, p->rw);
    f_u8(f, p->msb_next);
    f_u8(f, p->lsb);
    f_u32(f, p->count);
    f_u64(f, p->period_ns);
    f_u64(f, p->next_ns ? (p->next_ns > now ? p->next_ns - now : 1) : 0);
    f_u64(f, q->pending);
    f_u64(f, q->raised);
    f_u64(f, q->injected);
    f_u64(f, q->window_requests);
    f_u64(f, q->window_exits);
    f_u64(f, q->kicks);
    f_u64(f, q->hlt_waits);
    f_u8(f, q->uart_line);
    f_u64(f, q->uart_edges);
}

static void vmst_fields(struct fields *f, const struct minivm *vm)
{
    f_u64(f, vm->exits);
    f_u64(f, vm->rom_writes);
    f_u8(f, vm->exited);
    f_u32(f, (uint32_t)vm->exit_status);
    f_u8(f, vm->input_eof);
}

static int put_dev(struct minivm *vm, struct mvm_snap_out *out)
{
    struct fields f;
    int r;

    if ((r = sec_open(out, MVM_SEC_DEV, 0)) < 0)
        return r;
    f.n = 0;
    uart_fields(&f, &vm->uart);
    if ((r = put_rec(out, REC_UART, f.b, f.n)) < 0)
        return r;
    f.n = 0;
    testdev_fields(&f, &vm->testdev);
    if ((r = put_rec(out, REC_TDEV, f.b, f.n)) < 0)
        return r;
    f.n = 0;
    vcon_fields(&f, &vm->vcon);
    if ((r = put_rec(out, REC_VCON, f.b, f.n)) < 0)
        return r;
    f.n = 0;
    irq_fields(&f, &vm->irq);
    if ((r = put_rec(out, REC_IRQ, f.b, f.n)) < 0)
        return r;
    f.n = 0;
    vmst_fields(&f, vm);
    if ((r = put_rec(out, REC_VMST, f.b, f.n)) < 0)
        return r;
    return sec_close(out);
}

int mvm_snap_put_state(struct minivm *vm, struct mvm_snap_out *out)
{
    int n = vm->smp.ncpus > 1 ? vm->smp.ncpus : 1;
    int r;

    mvm_smp_adopt_bsp(vm);
    if ((r = sec_close(out)) < 0 || (r = put_vm(vm, out)) < 0)
        return r;
    for (int i = 0; i < n; i++)
        if ((r = put_cpu(vm, out, &vm->smp.cpu[i])) < 0)
            return r;
    if ((r = put_dev(vm, out)) < 0 || (r = sec_open(out, MVM_SEC_END, 0)) < 0 ||
        (r = sec_close(out)) < 0)
        return r;
    return out_drain(out);
}

int mvm_snap_save(struct minivm *vm, const char *path, uint64_t *bytes)
{
    struct mvm_snap_out out;
    int fd, r;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vl_err(errno, "creating the snapshot %s", path);
    r = mvm_snap_out_init(&out, fd);
    if (r == 0)
        r = mvm_snap_put_info(vm, &out);
    if (r == 0 && (r = mvm_snap_save_memory(vm, &out)) >= 0)
        r = mvm_snap_put_state(vm, &out);
    if (r >= 0 && bytes)
        *bytes = out.bytes;
    mvm_snap_out_free(&out);
    if (close(fd) < 0 && r >= 0)
        r = vl_err(errno, "closing the snapshot %s", path);
    if (r < 0)
        unlink(path);
    return r < 0 ? vl_err_ctx(r, "saving the VM to %s", path) : 0;
}

/* ---- reading ---------------------------------------------------------- */

struct snap_in {
    int fd;
    const char *what; /* "snap.mvm", "the migration stream" */
    uint64_t off;     /* bytes read so far */
    int nsec;         /* sections read */
};

/* Read exactly len bytes; 0 at a clean end of file before any byte when
 * eof_ok, else a "truncated" error naming what was being read. */
static int read_exact(struct snap_in *in, void *buf, size_t len,
                      const char *doing, bool eof_ok)
{
    ssize_t got = vl_read_full(in->fd, buf, len);

    if (got < 0)
        return vl_err((int)got, "%s: reading %s at offset %llu", in->what,
                      doing, (unsigned long long)in->off);
    if (got == 0 && len > 0 && eof_ok)
        return 0;
    if ((size_t)got < len)
        return vl_err_plain(EPROTO,
                            "%s is truncated: %s at offset %llu needs %zu "
                            "bytes, only %zd are left",
                            in->what, doing, (unsigned long long)in->off, len,
                            got);
    in->off += len;
    return 1;
}

static int read_header(struct snap_in *in)
{
    uint8_t h[MVM_SNAP_HEADER_SIZE];
    uint32_t version, size;
    int r;

    if ((r = read_exact(in, h, sizeof(h), "the header", false)) < 0)
        return r;
    if (memcmp(h, MVM_SNAP_MAGIC, 8))
        return vl_err_plain(EINVAL,
                            "%s is not a minivm snapshot: it starts with "
                            "%02x %02x %02x %02x, not \"%s\"",
                            in->what, h[0], h[1], h[2], h[3], MVM_SNAP_MAGIC);
    memcpy(&version, h + 8, 4);
    memcpy(&size, h + 12, 4);
    if (version != MVM_SNAP_VERSION)
        return vl_err_plain(ENOTSUP,
                            "%s is a version %u snapshot; this minivm reads "
                            "version %u only",
                            in->what, version, MVM_SNAP_VERSION);
    if (size != MVM_SNAP_HEADER_SIZE)
        return vl_err_plain(EPROTO, "%s: a header of %u bytes, not %u",
                            in->what, size, MVM_SNAP_HEADER_SIZE);
    return 0;
}

/* The next section: header checked, payload read and its CRC checked.
 * 0 at the end of the input (END never came: the caller says truncated). */
static int read_section(struct snap_in *in, struct sec_header *h,
                        uint8_t **payload)
{
    char t[5];
    uint64_t at = in->off;
    uint32_t crc;
    int r;

    *payload = NULL;
    r = read_exact(in, h, sizeof(*h), "a section header", true);
    if (r <= 0)
        return r;
    if (h->len > MVM_SNAP_SECTION_MAX)
        return vl_err_plain(EBADMSG,
                            "%s is corrupted: section %d ('%s') at offset "
                            "%llu claims %u bytes, more than the %u a "
                            "section may have",
                            in->what, in->nsec, tag_text(h->tag, t),
                            (unsigned long long)at, h->len,
                            MVM_SNAP_SECTION_MAX);
    *payload = malloc(h->len ? h->len : 1);
    if (!*payload)
        return vl_err_plain(ENOMEM, "no memory for a snapshot section");
    if ((r = read_exact(in, *payload, h->len, "a section's payload", false)) <
        0)
        return r;
    crc = crc32_update(0, h, 12);
    crc = crc32_update(crc, *payload, h->len);
    if (crc != h->crc)
        return vl_err_plain(EBADMSG,
                            "%s is corrupted: section %d ('%s', %u bytes) at "
                            "offset %llu fails its checksum (CRC-32C %08x, "
                            "the file says %08x)",
                            in->what, in->nsec, tag_text(h->tag, t), h->len,
                            (unsigned long long)at, crc, h->crc);
    in->nsec++;
    return 1;
}

/* Reading the fields of a payload, with bounds. */
struct cursor {
    const uint8_t *p;
    uint32_t left;
    bool bad; /* ran past the end */
};

static void c_take(struct cursor *c, void *dst, uint32_t len)
{
    if (c->bad || len > c->left) {
        c->bad = true;
        memset(dst, 0, len);
        return;
    }
    memcpy(dst, c->p, len);
    c->p += len;
    c->left -= len;
}

static uint8_t c_u8(struct cursor *c)
{
    uint8_t v;

    c_take(c, &v, 1);
    return v;
}

static uint32_t c_u32(struct cursor *c)
{
    uint32_t v;

    c_take(c, &v, 4);
    return v;
}

static uint64_t c_u64(struct cursor *c)
{
    uint64_t v;

    c_take(c, &v, 8);
    return v;
}

/* The next record of a VM, CPU or DEV section: 1, 0 at its end, or an
 * error when a record overruns the section. */
static int next_rec(struct snap_in *in, struct cursor *c, const char *sec,
                    uint32_t *tag, struct cursor *rec)
{
    uint32_t len;
    char t[5];

    if (c->left == 0)
        return 0;
    *tag = c_u32(c);
    len = c_u32(c);
    if (c->bad || len > c->left)
        return vl_err_plain(EBADMSG,
                            "%s is corrupted: a record '%s' in the %s "
                            "section overruns it",
                            in->what, c->bad ? "?" : tag_text(*tag, t), sec);
    *rec = (struct cursor){.p = c->p, .left = len};
    c->p += len;
    c->left -= len;
    return 1;
}

/* A record holding one of KVM's structures: its length must match. */
static int take_struct(struct snap_in *in, struct cursor *rec, uint32_t tag,
                       const char *sec, void *dst, size_t size)
{
    char t[5];

    if (rec->left != size)
        return vl_err_plain(EBADMSG,
                            "%s: record '%s' of the %s section has %u bytes; "
                            "this minivm's <linux/kvm.h> says %zu",
                            in->what, tag_text(tag, t), sec, rec->left, size);
    c_take(rec, dst, (uint32_t)size);
    return 0;
}

/* What the reader collects before it restores anything. */
struct loaded {
    bool info, vm_sec, dev;
    uint32_t ncpus;
    uint32_t cpus_seen; /* bit per vCPU id */
    struct mvm_vm_state vmst;
    struct mvm_vcpu_state cpu[MVM_MAX_VCPUS];
    struct cursor dev_rec[5]; /* UART, TDEV, VCON, IRQ, VMST */
    uint8_t *dev_payload;
};

static int load_info(struct minivm *vm, struct snap_in *in, struct cursor *c,
                     struct loaded *ld);

static int load_mem(struct minivm *vm, struct snap_in *in, struct cursor *c)
{
    uint32_t n = c_u32(c);

    for (uint32_t i = 0; i < n; i++) {
        uint64_t rec = c_u64(c);
        const void *data = NULL;
        int r;

        if (!(rec & MVM_PAGE_ZERO)) {
            if (c->bad || c->left < MVM_PAGE_SIZE)
                break;
            data = c->p;
            c->p += MVM_PAGE_SIZE;
            c->left -= MVM_PAGE_SIZE;
        }
        if (c->bad)
            break;
        r = mvm_snap_load_page(vm, rec & ~(uint64_t)(MVM_PAGE_SIZE - 1), data);
        if (r < 0)
            return vl_err_ctx(r, "%s: section %d, page record %u", in->what,
                              in->nsec - 1, i);
    }
    if (c->bad || c->left)
        return vl_err_plain(EBADMSG,
                            "%s is corrupted: MEM section %d says %u pages "
                            "but does not hold them",
                            in->what, in->nsec - 1, n);
    return 0;
}

static int load_vm(struct snap_in *in, struct cursor *c, struct loaded *ld)
{
    struct cursor rec;
    uint32_t tag;
    int r, chips = 0;
    bool clock = false, pit = false;

    while ((r = next_rec(in, c, "VM", &tag, &rec)) > 0) {
        switch (tag) {
        case REC_CLCK:
            r = take_struct(in, &rec, tag, "VM", &ld->vmst.clock,
                            sizeof(ld->vmst.clock));
            clock = true;
            break;
        case REC_PIC0:
        case REC_PIC1:
        case REC_IOAP: {
            int i = tag == REC_PIC0 ? 0 : tag == REC_PIC1 ? 1 : 2;

            r = take_struct(in, &rec, tag, "VM", &ld->vmst.chip[i],
                            sizeof(ld->vmst.chip[i]));
            chips |= 1 << i;
            break;
        }
        case REC_PIT2:
            r = take_struct(in, &rec, tag, "VM", &ld->vmst.pit,
                            sizeof(ld->vmst.pit));
            pit = true;
            break;
        default:
            break; /* a newer minivm's record: skip it */
        }
        if (r < 0)
            return r;
    }
    if (r < 0)
        return r;
    if (!clock)
        return vl_err_plain(EBADMSG, "%s: the VM section has no clock record",
                            in->what);
    ld->vmst.has_irqchip = chips != 0 || pit;
    if (ld->vmst.has_irqchip && (chips != 7 || !pit))
        return vl_err_plain(EBADMSG,
                            "%s: the VM section has only some of the "
                            "irqchip's records (PIC0, PIC1, IOAP, PIT2)",
                            in->what);
    ld->vm_sec = true;
    return 0;
}

static int load_cpu(struct snap_in *in, uint32_t id, struct cursor *c,
                    struct loaded *ld)
{
    struct mvm_vcpu_state *st;
    struct cursor rec;
    uint32_t tag, seen = 0;
    int r;

    if (id >= ld->ncpus)
        return vl_err_plain(EBADMSG,
                            "%s: a CPU section for vCPU %u, but the VM has "
                            "%u vCPUs",
                            in->what, id, ld->ncpus);
    if (ld->cpus_seen & (1u << id))
        return vl_err_plain(EBADMSG, "%s: two CPU sections for vCPU %u",
                            in->what, id);
    st = &ld->cpu[id];
    while ((r = next_rec(in, c, "CPU", &tag, &rec)) > 0) {
        switch (tag) {
        case REC_REGS:
            r = take_struct(in, &rec, tag, "CPU", &st->regs, sizeof(st->regs));
            seen |= 1;
            break;
        case REC_SREG:
            r = take_struct(in, &rec, tag, "CPU", &st->sregs,
                            sizeof(st->sregs));
            seen |= 2;
            break;
        case REC_XSAV:
            r = take_struct(in, &rec, tag, "CPU", &st->xsave,
                            sizeof(st->xsave));
            seen |= 4;
            break;
        case REC_XCRS:
            r = take_struct(in, &rec, tag, "CPU", &st->xcrs, sizeof(st->xcrs));
            seen |= 8;
            break;
        case REC_EVTS:
            r = take_struct(in, &rec, tag, "CPU", &st->events,
                            sizeof(st->events));
            seen |= 16;
            break;
        case REC_MPST:
            r = take_struct(in, &rec, tag, "CPU", &st->mp_state,
                            sizeof(st->mp_state));
            seen |= 32;
            break;
        case REC_MSRS:
            st->nmsrs = c_u32(&rec);
            if (st->nmsrs > MVM_MAX_MSRS || rec.left != st->nmsrs * 12u)
                return vl_err_plain(EBADMSG,
                                    "%s: vCPU %u's MSR record is malformed "
                                    "(%u MSRs in %u bytes)",
                                    in->what, id, st->nmsrs, rec.left);
            for (uint32_t i = 0; i < st->nmsrs; i++) {
                st->msrs[i].index = c_u32(&rec);
                st->msrs[i].data = c_u64(&rec);
            }
            seen |= 64;
            break;
        case REC_LAPC:
            r = take_struct(in, &rec, tag, "CPU", &st->lapic,
                            sizeof(st->lapic));
            st->has_lapic = true;
            break;
        default:
            break;
        }
        if (r < 0)
            return r;
    }
    if (r < 0)
        return r;
    if (seen != 127)
        return vl_err_plain(EBADMSG,
                            "%s: vCPU %u's section misses records (it needs "
                            "REGS, SREG, XSAV, XCRS, EVTS, MPST and MSRS)",
                            in->what, id);
    ld->cpus_seen |= 1u << id;
    return 0;
}

static int load_dev(struct snap_in *in, struct cursor *c, struct loaded *ld)
{
    static const uint32_t want[5] = {REC_UART, REC_TDEV, REC_VCON, REC_IRQ,
                                     REC_VMST};
    struct cursor rec;
    uint32_t tag;
    int r;

    while ((r = next_rec(in, c, "DEV", &tag, &rec)) > 0)
        for (int i = 0; i < 5; i++)
            if (tag == want[i])
                ld->dev_rec[i] = rec;
    if (r < 0)
        return r;
    for (int i = 0; i < 5; i++) {
        char t[5];

        if (!ld->dev_rec[i].p)
            return vl_err_plain(EBADMSG,
                                "%s: the DEV section has no '%s' record",
                                in->what, tag_text(want[i], t));
    }
    ld->dev = true;
    return 0;
}

/* The devices, field by field, into the models mvm_setup_devices() set up
 * (their console pointers stay). */
static int restore_devices(struct minivm *vm, struct snap_in *in,
                           struct loaded *ld)
{
    struct cursor *c = ld->dev_rec;
    struct mvm_uart *u = &vm->uart;
    struct mvm_testdev *t = &vm->testdev;
    struct mvm_vcon *v = &vm->vcon;
    struct mvm_irq *q = &vm->irq;
    uint64_t next;

    u->ier = c_u8(&c[0]);
    u->fcr = c_u8(&c[0]);
    u->lcr = c_u8(&c[0]);
    u->mcr = c_u8(&c[0]);
    u->lsr = c_u8(&c[0]);
    u->msr = c_u8(&c[0]);
    u->scr = c_u8(&c[0]);
    u->dll = c_u8(&c[0]);
    u->dlm = c_u8(&c[0]);
    u->thr_ipending = c_u8(&c[0]);
    c_take(&c[0], u->rx, MVM_UART_FIFO);
    u->rx_head = c_u32(&c[0]) % MVM_UART_FIFO;
    u->rx_count = c_u32(&c[0]);
    u->tx_bytes = c_u64(&c[0]);
    if (u->rx_count > MVM_UART_FIFO)
        c[0].bad = true;

    t->status = c_u32(&c[1]);
    t->answer = c_u32(&c[1]);
    t->ndata = c_u32(&c[1]);
    for (int i = 0; i < MVM_TESTDEV_DEPTH; i++)
        t->data[i] = c_u32(&c[1]);
    t->doorbells = c_u64(&c[1]);
    if (t->ndata > MVM_TESTDEV_DEPTH)
        c[1].bad = true;

    v->status = c_u32(&c[2]);
    v->dev_features_sel = c_u32(&c[2]);
    v->drv_features_sel = c_u32(&c[2]);
    v->drv_features = c_u64(&c[2]);
    v->queue_sel = c_u32(&c[2]);
    v->interrupt_status = c_u32(&c[2]);
    v->vq.num = c_u32(&c[2]);
    v->vq.desc = c_u64(&c[2]);
    v->vq.avail = c_u64(&c[2]);
    v->vq.used = c_u64(&c[2]);
    v->vq.ready = c_u8(&c[2]);
    v->vq.last_avail = (uint16_t)c_u32(&c[2]);
    v->bytes = c_u64(&c[2]);
    v->buffers = c_u64(&c[2]);
    v->notifies = c_u64(&c[2]);
    if (v->vq.num > MVM_VQ_NUM_MAX)
        c[2].bad = true;

    q->pit.mode = c_u8(&c[3]);
    q->pit.rw = c_u8(&c[3]);
    q->pit.msb_next = c_u8(&c[3]);
    q->pit.lsb = c_u8(&c[3]);
    q->pit.count = c_u32(&c[3]);
    q->pit.period_ns = c_u64(&c[3]);
    next = c_u64(&c[3]);
    q->pit.next_ns = next ? now_ns() + next : 0;
    q->pending = c_u64(&c[3]);
    q->raised = c_u64(&c[3]);
    q->injected = c_u64(&c[3]);
    q->window_requests = c_u64(&c[3]);
    q->window_exits = c_u64(&c[3]);
    q->kicks = c_u64(&c[3]);
    q->hlt_waits = c_u64(&c[3]);
    q->uart_line = c_u8(&c[3]);
    q->uart_edges = c_u64(&c[3]);

    vm->exits = c_u64(&c[4]);
    vm->rom_writes = c_u64(&c[4]);
    vm->exited = c_u8(&c[4]);
    vm->exit_status = (int)c_u32(&c[4]);
    vm->input_eof = c_u8(&c[4]);

    for (int i = 0; i < 5; i++)
        if (c[i].bad || c[i].left)
            return vl_err_plain(EBADMSG,
                                "%s: device record %d of the DEV section has "
                                "the wrong size or a value out of range",
                                in->what, i);
    return 0;
}

/* INFO: make the VM it describes, as `minivm run` would, from the stage
 * functions (labs 01, 03, 06; lab 08's APs). */
static int load_info(struct minivm *vm, struct snap_in *in, struct cursor *c,
                     struct loaded *ld)
{
    uint32_t flags, nslots;
    uint64_t mem, pt_root, pt_next;
    int r;

    ld->ncpus = c_u32(c);
    flags = c_u32(c);
    mem = c_u64(c);
    pt_root = c_u64(c);
    pt_next = c_u64(c);
    nslots = c_u32(c);
    if (c->bad || ld->ncpus < 1 || ld->ncpus > MVM_MAX_VCPUS ||
        nslots > MVM_MAX_SLOTS || mem == 0 || mem % MVM_PAGE_SIZE ||
        mem > MVM_MMIO_BASE)
        return vl_err_plain(EBADMSG,
                            "%s: the INFO section is malformed (%u vCPUs, "
                            "%llu bytes of RAM, %u slots)",
                            in->what, ld->ncpus, (unsigned long long)mem,
                            nslots);
    if (vm->opt.mem_size && vm->opt.mem_size != mem)
        return vl_err_plain(EINVAL,
                            "%s holds a guest with %llu KiB of RAM, but "
                            "--mem asks for %zu KiB: drop --mem, or give "
                            "the snapshot's size",
                            in->what, (unsigned long long)(mem >> 10),
                            vm->opt.mem_size >> 10);
    vm->opt.mem_size = (size_t)mem;
    vm->opt.irqchip = flags & INFO_IRQCHIP;
    vm->opt.timer = flags & INFO_TIMER;
    if (ld->ncpus > 1 && !vm->opt.irqchip)
        return vl_err_plain(EBADMSG,
                            "%s: %u vCPUs without the in-kernel irqchip",
                            in->what, ld->ncpus);
    if ((r = mvm_open_kvm(vm)) < 0 || (r = mvm_create_vm(vm)) < 0)
        return r;
    if (vm->opt.irqchip && (r = mvm_irq_create_irqchip(vm)) < 0)
        return vl_err_ctx(r, "creating the in-kernel irqchip");
    if ((r = mvm_add_memory(vm, vm->opt.mem_size)) < 0)
        return vl_err_ctx(r, "giving the guest %zu bytes of memory",
                          vm->opt.mem_size);
    for (uint32_t i = 0; i < nslots; i++) {
        uint32_t slot = c_u32(c), sflags = c_u32(c);
        uint64_t gpa = c_u64(c), size = c_u64(c);

        (void)slot; /* mvm_add_slot() numbers them in the same order */
        if (c->bad)
            return vl_err_plain(EBADMSG, "%s: the INFO section is truncated",
                                in->what);
        if ((r = mvm_add_slot(vm, gpa, size, sflags)) < 0)
            return vl_err_ctx(r, "%s: slot %u at 0x%llx", in->what, i,
                              (unsigned long long)gpa);
    }
    if ((r = mvm_create_vcpu(vm)) < 0)
        return vl_err_ctx(r, "creating vCPU 0");
    mvm_smp_adopt_bsp(vm);
    if (ld->ncpus > 1 && ((r = mvm_smp_create_aps(vm, (int)ld->ncpus)) < 0 ||
                          (r = mvm_smp_init_aps(vm)) < 0))
        return vl_err_ctx(r, "creating the application processors");
    /* The devices on the bus, without touching the page tables: they are
     * in guest memory already, and the snapshot holds them. */
    vm->pt_root = 0;
    if ((r = mvm_setup_devices(vm)) < 0 || (r = mvm_irq_setup(vm)) < 0)
        return vl_err_ctx(r, "setting up the devices");
    vm->pt_root = pt_root;
    vm->pt_next = pt_next;
    ld->info = true;
    return 0;
}

/* Restore the collected state, in order: the VM's irqchip and timer, each
 * vCPU, then minivm's devices. */
static int restore_state(struct minivm *vm, struct snap_in *in,
                         struct loaded *ld)
{
    int r;

    if (!ld->vm_sec || !ld->dev || ld->cpus_seen != (1u << ld->ncpus) - 1)
        return vl_err_plain(EBADMSG, "%s ends without the state of %s",
                            in->what,
                            !ld->vm_sec ? "the VM"
                            : !ld->dev  ? "the devices"
                                        : "every vCPU");
    if (ld->vmst.has_irqchip != vm->irq.irqchip)
        return vl_err_plain(EBADMSG,
                            "%s: the VM section %s irqchip state, but the "
                            "INFO section says the VM %s an irqchip",
                            in->what, ld->vmst.has_irqchip ? "has" : "lacks",
                            vm->irq.irqchip ? "has" : "has no");
    if ((r = mvm_vm_restore(vm, &ld->vmst)) < 0)
        return vl_err_ctx(r, "restoring the VM's state");
    for (uint32_t i = 0; i < ld->ncpus; i++)
        if ((r = mvm_vcpu_restore(vm, &vm->smp.cpu[i], &ld->cpu[i])) < 0)
            return vl_err_ctx(r, "restoring vCPU %u", i);
    return restore_devices(vm, in, ld);
}

int mvm_snap_load(struct minivm *vm, int fd, const char *what)
{
    _vl_cleanup_free_ struct loaded *ld = calloc(1, sizeof(*ld));
    struct snap_in in = {.fd = fd, .what = what};
    struct sec_header h;
    char t[5];
    int r;

    if (!ld)
        return vl_err_plain(ENOMEM, "no memory to read %s", what);
    if ((r = read_header(&in)) < 0)
        return r;
    for (;;) {
        _vl_cleanup_free_ uint8_t *payload = NULL;
        struct cursor c;

        r = read_section(&in, &h, &payload);
        if (r < 0)
            goto out;
        if (r == 0) {
            r = vl_err_plain(EPROTO,
                             "%s is truncated: it ends after %d sections "
                             "(%llu bytes) without an END section",
                             what, in.nsec, (unsigned long long)in.off);
            goto out;
        }
        c = (struct cursor){.p = payload, .left = h.len};
        if (!ld->info && h.tag != MVM_SEC_INFO) {
            r = vl_err_plain(EBADMSG, "%s: the first section is '%s', not INFO",
                             what, tag_text(h.tag, t));
            goto out;
        }
        switch (h.tag) {
        case MVM_SEC_INFO:
            r = ld->info ? vl_err_plain(EBADMSG, "%s: two INFO sections", what)
                         : load_info(vm, &in, &c, ld);
            break;
        case MVM_SEC_MEM:
            r = load_mem(vm, &in, &c);
            break;
        case MVM_SEC_VM:
            r = load_vm(&in, &c, ld);
            break;
        case MVM_SEC_CPU:
            r = load_cpu(&in, h.instance, &c, ld);
            break;
        case MVM_SEC_DEV:
            r = load_dev(&in, &c, ld);
            if (r == 0) { /* the records point into the payload: keep it */
                ld->dev_payload = payload;
                payload = NULL;
            }
            break;
        case MVM_SEC_END:
            r = restore_state(vm, &in, ld);
            goto out;
        default:
            r = vl_err_plain(EBADMSG,
                             "%s: section %d has an unknown tag '%s' (a "
                             "newer minivm's snapshot?)",
                             what, in.nsec - 1, tag_text(h.tag, t));
            break;
        }
        if (r < 0)
            goto out;
    }
out:
    free(ld->dev_payload);
    return r < 0 ? r : 0;
}

int mvm_snap_load_file(struct minivm *vm, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int r;

    if (fd < 0)
        return vl_err(errno, "opening the snapshot %s", path);
    r = mvm_snap_load(vm, fd, path);
    close(fd);
    return r;
}

int mvm_snap_inspect(const char *path, FILE *out)
{
    struct snap_in in = {.what = path};
    struct sec_header h;
    uint64_t pages = 0, zero = 0, ram = 0;
    char t[5];
    int r;

    in.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in.fd < 0)
        return vl_err(errno, "opening the snapshot %s", path);
    if ((r = read_header(&in)) < 0)
        goto out;
    fprintf(out, "%s: minivm snapshot, version %u\n", path, MVM_SNAP_VERSION);
    for (;;) {
        _vl_cleanup_free_ uint8_t *payload = NULL;
        uint64_t at = in.off;
        struct cursor c;

        if ((r = read_section(&in, &h, &payload)) <= 0) {
            if (r == 0)
                r = vl_err_plain(EPROTO, "%s is truncated: no END section",
                                 path);
            goto out;
        }
        c = (struct cursor){.p = payload, .left = h.len};
        if (h.tag == MVM_SEC_MEM) {
            uint32_t n = c_u32(&c);

            for (uint32_t i = 0; i < n && !c.bad; i++) {
                uint64_t rec = c_u64(&c);

                if (rec & MVM_PAGE_ZERO) {
                    zero++;
                } else {
                    pages++;
                    c.p += MVM_PAGE_SIZE;
                    c.left -= c.left < MVM_PAGE_SIZE ? c.left : MVM_PAGE_SIZE;
                }
            }
            continue; /* summed up below */
        }
        fprintf(out, "  %-4s %2u  %7u bytes at offset %llu", tag_text(h.tag, t),
                h.instance, h.len, (unsigned long long)at);
        if (h.tag == MVM_SEC_INFO) {
            uint32_t ncpus = c_u32(&c), flags = c_u32(&c);

            ram = c_u64(&c);
            fprintf(out, ": %u vCPU%s, %llu KiB of RAM%s%s", ncpus,
                    ncpus == 1 ? "" : "s", (unsigned long long)(ram >> 10),
                    flags & INFO_IRQCHIP ? ", in-kernel irqchip" : "",
                    flags & INFO_TIMER ? ", minivm's timer" : "");
        } else if (h.tag == MVM_SEC_CPU || h.tag == MVM_SEC_VM ||
                   h.tag == MVM_SEC_DEV) {
            struct cursor rec;
            uint32_t tag;

            fprintf(out, ":");
            while (next_rec(&in, &c, "", &tag, &rec) > 0)
                fprintf(out, " %s", tag_text(tag, t));
        }
        fprintf(out, "\n");
        if (h.tag == MVM_SEC_END)
            break;
    }
    fprintf(out,
            "  memory: %llu pages stored (%llu KiB), %llu zero pages "
            "recorded, %llu KiB of RAM not stored (zero)\n",
            (unsigned long long)pages, (unsigned long long)(pages * 4),
            (unsigned long long)zero,
            (unsigned long long)(ram >> 10 > pages * 4 ? (ram >> 10) - pages * 4
                                                       : 0));
    r = 0;
out:
    close(in.fd);
    return r;
}
