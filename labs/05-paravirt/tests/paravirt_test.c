/*
 * paravirt_test.c - the tests of lab 05, one group per TODO, then the
 * guests end to end.
 *
 * The VM comes from libvirtlab (lab 01's reference), slots from lab 03,
 * long mode from lab 02 and the device bus from lab 04; the hypercall,
 * the guest buffers, the virtqueue and the console's registers come from
 * your paravirt.c. The unit tests write rings straight into guest memory
 * and call your functions on them.
 */
#define _GNU_SOURCE /* strcasestr */
#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <string.h>
#include <time.h>

#include "../guest/pv.h"
#include "mvm_test.h"

TestSuite(paravirt, .init = setup, .fini = teardown, .timeout = 60);

/* The guests' copy of the ABI must say what minivm.h says. */
_Static_assert(HC_PORT == MVM_HC_PORT && HC_PRINT == MVM_HC_PRINT &&
                   HC_TIME == MVM_HC_TIME && HC_EXIT == MVM_HC_EXIT &&
                   HC_PRINT_MAX == MVM_HC_PRINT_MAX,
               "pv.h and minivm.h disagree on the hypercall ABI");
_Static_assert(HC_E2BIG == E2BIG && HC_EFAULT == EFAULT &&
                   HC_ENOSYS == ENOSYS && HC_EOVERFLOW == EOVERFLOW,
               "pv.h has the wrong errno values");
_Static_assert(VCON_BASE == MVM_VCON_ADDR && RAM_END == MVM_DEFAULT_MEM,
               "pv.h and minivm.h disagree on the layout");

/* expr must fail with -err and a message that mentions `needle` in any
 * case ("loop" matches "Loops"). */
#define assert_fails_ci(expr, err, needle)                                     \
    do {                                                                       \
        vl_err_clear();                                                        \
        long _r = (long)(expr);                                                \
        cr_assert_eq(_r, -(long)(err), "%s returned %ld, expected -%s", #expr, \
                     _r, #err);                                                \
        cr_assert(strcasestr(vl_errmsg(), (needle)) != NULL,                   \
                  "the error of %s should mention \"%s\": \"%s\"", #expr,      \
                  (needle), vl_errmsg());                                      \
    } while (0)

#define ROM_GPA 0x800000 /* a read-only slot of lab 03 */

/* A VM with RAM only (4 MiB at 0, lab 01's reference), nothing running. */
static void boot_ram(void)
{
    static const uint8_t hlt[] = {0xf4};

    boot_with_libvirtlab(hlt, sizeof(hlt));
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- TODO 1: guest buffers -------------------------------------------- */

Test(paravirt, guest_buffer_refuses_long_and_wrapping_buffers)
{
    void *host = (void *)1;

    boot_ram();
    vl_assert_ok(mvm_guest_buffer(&vm, 0x2000, 64, 64, &host));
    cr_assert_eq(host, vm.mem + 0x2000, "a length equal to max is fine");
    assert_fails_ci(mvm_guest_buffer(&vm, 0x2000, 65, 64, &host), E2BIG, "");
    assert_fails_ci(mvm_guest_buffer(&vm, UINT64_MAX - 7, 16, 64, &host),
                    EOVERFLOW, "");
    assert_fails_ci(
        mvm_guest_buffer(&vm, 0x2000, UINT64_MAX, UINT64_MAX, &host), EOVERFLOW,
        "");
    host = (void *)1;
    cr_assert_eq(mvm_guest_buffer(&vm, HOLE_GPA, 0, 64, &host), 0,
                 "an empty buffer needs no memory: %s", vl_errmsg());
    cr_assert_null(host, "an empty buffer has no host address");
}

Test(paravirt, guest_buffer_must_lie_in_one_slot)
{
    void *host = NULL;

    boot_ram();
    vl_assert_ok(mvm_guest_buffer(&vm, RAM_END - 16, 16, 64, &host));
    cr_assert_eq(host, vm.mem + RAM_END - 16, "the last bytes of RAM");
    assert_fails_ci(mvm_guest_buffer(&vm, RAM_END - 8, 16, 64, &host), EFAULT,
                    "0x3ffff8");
    assert_fails_ci(mvm_guest_buffer(&vm, HOLE_GPA, 16, 64, &host), EFAULT,
                    "0x10000000");
    assert_fails_ci(mvm_guest_buffer(&vm, DEVICE_GPA, 4, 64, &host), EFAULT,
                    "0xd0000000");
    /* Slots of lab 03: one right after RAM, one further up. */
    vl_assert_ok(mvm_add_slot(&vm, RAM_END, 0x10000, 0));
    vl_assert_ok(mvm_add_slot(&vm, ROM_GPA, 0x10000, KVM_MEM_READONLY));
    vl_assert_ok(mvm_guest_buffer(&vm, ROM_GPA + 0x100, 0x100, 0x1000, &host));
    cr_assert_eq(host, vm.slots[1].hva + 0x100, "a buffer in a slot");
    vl_assert_ok(mvm_guest_buffer(&vm, RAM_END, 0x10000, 0x10000, &host));
    cr_assert_eq(host, vm.slots[0].hva);
    assert_fails_ci(mvm_guest_buffer(&vm, RAM_END - 8, 16, 64, &host), EFAULT,
                    "0x3ffff8"); /* RAM and a slot: two host mappings */
    assert_fails_ci(mvm_guest_buffer(&vm, ROM_GPA + 0xfff0, 32, 64, &host),
                    EFAULT, "0x80fff0");
}

/* ---- TODO 2: hypercalls ----------------------------------------------- */

/* A real-mode guest at MVM_LOAD_ADDR: `outl %eax, (%dx)` then HLT. */
static const uint8_t hc_guest[] = {0x66, 0xef, 0xf4};
#define HC_GUEST_HLT_END (MVM_LOAD_ADDR + sizeof(hc_guest))

/*
 * Make hypercall nr(a0, a1) from hc_guest: run to the OUT, hand the exit
 * to mvm_hypercall(), and (when it says MVM_CONTINUE) run on to the HLT.
 * Returns the guest's RAX then; *next is what mvm_hypercall() returned.
 */
static int64_t hypercall_from_guest(uint64_t nr, uint64_t a0, uint64_t a1,
                                    int *next)
{
    struct kvm_regs regs;

    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    regs.rax = nr;
    regs.rdi = a0;
    regs.rsi = a1;
    regs.rdx = MVM_HC_PORT;
    regs.rip = MVM_LOAD_ADDR;
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_SET_REGS, &regs), 0);
    cr_assert_eq(run_once(), KVM_EXIT_IO);
    cr_assert_eq(vm.run->io.port, MVM_HC_PORT);
    vl_err_clear();
    *next = mvm_hypercall(&vm);
    if (*next != MVM_CONTINUE)
        return 0;
    cr_assert_eq(run_once(), KVM_EXIT_HLT,
                 "after a hypercall the guest goes on (to its HLT), got exit "
                 "%u",
                 vm.run->exit_reason);
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    cr_assert_eq(regs.rip, HC_GUEST_HLT_END,
                 "RIP 0x%llx: the OUT runs once, then the HLT",
                 (unsigned long long)regs.rip);
    return (int64_t)regs.rax;
}

Test(paravirt, hypercall_print_time_and_exit)
{
    static const char text[] = "printed by a hypercall\n";
    int64_t before, t, after;
    int next;

    boot_with_libvirtlab(hc_guest, sizeof(hc_guest));
    memcpy(vm.mem + 0x2000, text, sizeof(text) - 1);
    cr_assert_eq(
        hypercall_from_guest(MVM_HC_PRINT, 0x2000, sizeof(text) - 1, &next),
        (int64_t)sizeof(text) - 1,
        "print answers the length in RAX (mvm_hypercall returned "
        "%d: %s)",
        next, vl_errmsg());
    cr_assert_str_eq(capture_text(&console), text);

    before = now_ns();
    t = hypercall_from_guest(MVM_HC_TIME, 0, 0, &next);
    after = now_ns();
    cr_assert_eq(next, MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert(t >= before && t <= after,
              "time %lld ns is not between %lld and %lld (CLOCK_REALTIME)",
              (long long)t, (long long)before, (long long)after);

    hypercall_from_guest(MVM_HC_EXIT, 0x1234, 0, &next);
    cr_assert_eq(next, MVM_STOP, "exit stops the guest: %s", vl_errmsg());
    cr_assert(vm.exited, "vm.exited");
    cr_assert_eq(vm.exit_status, 0x34, "an exit status has 8 bits");
}

Test(paravirt, hypercall_errors_go_back_to_the_guest)
{
    int next;

    boot_with_libvirtlab(hc_guest, sizeof(hc_guest));
    cr_assert_eq(hypercall_from_guest(MVM_HC_PRINT, HOLE_GPA, 16, &next),
                 -EFAULT,
                 "print from a hole: -EFAULT in RAX (mvm_hypercall "
                 "returned %d: %s)",
                 next, vl_errmsg());
    cr_assert_eq(
        hypercall_from_guest(MVM_HC_PRINT, 0x2000, MVM_HC_PRINT_MAX + 1, &next),
        -E2BIG);
    cr_assert_eq(hypercall_from_guest(MVM_HC_PRINT, WRAP_GPA, 0x20, &next),
                 -EOVERFLOW);
    cr_assert_eq(hypercall_from_guest(MVM_HC_PRINT, RAM_END - 8, 16, &next),
                 -EFAULT);
    cr_assert_eq(hypercall_from_guest(MVM_HC_PRINT, HOLE_GPA, 0, &next), 0);
    cr_assert_eq(hypercall_from_guest(99, 0, 0, &next), -ENOSYS,
                 "an unknown hypercall: -ENOSYS in RAX");
    cr_assert_str_eq(capture_text(&console), "", "nothing was printable");
    cr_assert(!vm.exited, "errors never stop the guest");
}

Test(paravirt, hello_guest_prints_reads_the_clock_and_exits_7)
{
    const char *out, *p;
    long long t;
    int64_t before, after;

    vm.opt.max_exits = 100;
    boot_long_guest_file("pv_hello.bin");
    before = now_ns();
    vl_assert_ok(mvm_run(&vm));
    after = now_ns();
    out = capture_text(&console);
    cr_assert(strncmp(out, "Hello from a hypercall!\nhost time: ", 35) == 0,
              "pv_hello printed \"%s\"", out);
    p = out + 35;
    t = strtoll(p, NULL, 10);
    cr_assert(t >= before && t <= after,
              "the guest's time %lld is not between %lld and %lld", t,
              (long long)before, (long long)after);
    cr_assert(strstr(out, " ns since 1970\ntwo reads apart: "), "\"%s\"", out);
    cr_assert(vm.exited, "pv_hello ends with the exit hypercall");
    cr_assert_eq(vm.exit_status, 7);
    cr_assert_lt(vm.exits, 20, "one exit per hypercall: %llu exits",
                 (unsigned long long)vm.exits);
}

Test(paravirt, badptr_guest_gets_an_error_code_for_each_bad_buffer)
{
    const char *out;

    vm.opt.max_exits = 200;
    boot_long_guest_file("pv_badptr.bin");
    vl_assert_ok(mvm_run(&vm));
    out = capture_text(&console);
    cr_assert_str_eq(out, "badptr: printing from the last bytes of RAM: ok!\n"
                          "badptr: 8 of 8 answers right\n");
    cr_assert(vm.exited && vm.exit_status == 0,
              "pv_badptr exits 0 when every answer was right (exited %d, "
              "status %d)",
              vm.exited, vm.exit_status);
}

/* ---- TODO 3: descriptor chains ---------------------------------------- */

/* Rings written by the tests, in RAM. */
#define DESC_GPA  0x100000
#define AVAIL_GPA 0x101000
#define USED_GPA  0x102000
#define BUF_GPA   0x110000
#define QNUM      8

static struct vring_desc *desc_table(void)
{
    return (struct vring_desc *)(vm.mem + DESC_GPA);
}

static struct vring_avail *avail_ring(void)
{
    return (struct vring_avail *)(vm.mem + AVAIL_GPA);
}

static struct vring_used *used_ring(void)
{
    return (struct vring_used *)(vm.mem + USED_GPA);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    desc_table()[i] = (struct vring_desc){
        .addr = htole64(addr),
        .len = htole32(len),
        .flags = htole16(flags),
        .next = htole16(next),
    };
}

/* Put `text` in guest memory at gpa; returns its length. */
static uint32_t put_text(uint64_t gpa, const char *text)
{
    memcpy(vm.mem + gpa, text, strlen(text));
    return (uint32_t)strlen(text);
}

/* RAM, and queue 0 of vm.vcon set up by hand over the rings above. */
static struct mvm_vq *boot_with_queue(void)
{
    boot_ram();
    memset(vm.mem + DESC_GPA, 0, 0x3000);
    vm.vcon = (struct mvm_vcon){
        .out = console.f,
        .vq = {.num = QNUM,
               .desc = DESC_GPA,
               .avail = AVAIL_GPA,
               .used = USED_GPA,
               .ready = true},
    };
    return &vm.vcon.vq;
}

/* The driver's side: offer the chain at `head`, publish avail->idx. */
static void offer(uint16_t head)
{
    struct vring_avail *a = avail_ring();
    uint16_t idx = le16toh(a->idx);

    a->ring[idx % QNUM] = htole16(head);
    a->idx = htole16((uint16_t)(idx + 1));
}

Test(paravirt, vq_chain_collects_the_buffers_in_order)
{
    struct mvm_vq *vq = boot_with_queue();
    struct mvm_iov iov[MVM_VQ_IOV_MAX];
    uint32_t l1 = put_text(BUF_GPA, "one "),
             l2 = put_text(BUF_GPA + 16, "two "),
             l3 = put_text(BUF_GPA + 32, "three");

    /* 5 -> 2 -> 7: a chain need not be in table order. */
    set_desc(5, BUF_GPA, l1, VRING_DESC_F_NEXT, 2);
    set_desc(2, BUF_GPA + 16, l2, VRING_DESC_F_NEXT, 7);
    set_desc(7, BUF_GPA + 32, l3, 0, 3); /* no NEXT: `next` means nothing */
    cr_assert_eq(vl_assert_ok(mvm_vq_chain(&vm, vq, 5, iov, MVM_VQ_IOV_MAX)),
                 3);
    cr_assert_eq(iov[0].base, vm.mem + BUF_GPA);
    cr_assert_eq(iov[0].len, l1);
    cr_assert_eq(iov[1].base, vm.mem + BUF_GPA + 16);
    cr_assert_eq(iov[2].base, vm.mem + BUF_GPA + 32);
    cr_assert_eq(iov[2].len, l3);
    cr_assert_eq(vl_assert_ok(mvm_vq_chain(&vm, vq, 7, iov, MVM_VQ_IOV_MAX)),
                 1);
    /* A chain through every descriptor is long, not a loop. */
    for (unsigned i = 0; i < QNUM; i++)
        set_desc(i, BUF_GPA, 1, i + 1 < QNUM ? VRING_DESC_F_NEXT : 0,
                 (uint16_t)(i + 1));
    cr_assert_eq(vl_assert_ok(mvm_vq_chain(&vm, vq, 0, iov, MVM_VQ_IOV_MAX)),
                 QNUM);
}

Test(paravirt, vq_chain_rejects_bad_indexes_and_loops)
{
    struct mvm_vq *vq = boot_with_queue();
    struct mvm_iov iov[MVM_VQ_IOV_MAX];

    set_desc(0, BUF_GPA, 4, 0, 0);
    assert_fails_ci(mvm_vq_chain(&vm, vq, QNUM, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "8");
    set_desc(1, BUF_GPA, 4, VRING_DESC_F_NEXT, 200);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 1, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "200");
    set_desc(3, BUF_GPA, 4, VRING_DESC_F_NEXT, 3); /* itself */
    assert_fails_ci(mvm_vq_chain(&vm, vq, 3, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "loop");
    set_desc(4, BUF_GPA, 4, VRING_DESC_F_NEXT, 5); /* 4 -> 5 -> 6 -> 4 */
    set_desc(5, BUF_GPA, 4, VRING_DESC_F_NEXT, 6);
    set_desc(6, BUF_GPA, 4, VRING_DESC_F_NEXT, 4);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 5, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "loop");
}

Test(paravirt, vq_chain_rejects_indirect_writable_huge_and_unbacked)
{
    struct mvm_vq *vq = boot_with_queue();
    struct mvm_iov iov[MVM_VQ_IOV_MAX];

    set_desc(0, BUF_GPA, 16, VRING_DESC_F_INDIRECT, 0);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 0, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "indirect");
    set_desc(0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
    set_desc(1, BUF_GPA, 16, VRING_DESC_F_WRITE, 0);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 0, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "writ");
    set_desc(1, BUF_GPA, UINT32_MAX, 0, 0);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 0, iov, MVM_VQ_IOV_MAX), EPROTO, "");
    /* Each of two buffers is fine, together they are too much. */
    set_desc(0, 0x100000, MVM_VQ_CHAIN_MAX / 2 + 1, VRING_DESC_F_NEXT, 1);
    set_desc(1, 0x200000, MVM_VQ_CHAIN_MAX / 2 + 1, 0, 0);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 0, iov, MVM_VQ_IOV_MAX), EPROTO, "");
    set_desc(0, HOLE_GPA, 16, 0, 0);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 0, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "0x10000000");
    set_desc(0, RAM_END - 8, 16, 0, 0);
    assert_fails_ci(mvm_vq_chain(&vm, vq, 0, iov, MVM_VQ_IOV_MAX), EPROTO,
                    "0x3ffff8");
    for (unsigned i = 0; i < 4; i++)
        set_desc(i, BUF_GPA, 1, i < 3 ? VRING_DESC_F_NEXT : 0,
                 (uint16_t)(i + 1));
    assert_fails_ci(mvm_vq_chain(&vm, vq, 0, iov, 3), EPROTO, "");
    cr_assert_eq(vl_assert_ok(mvm_vq_chain(&vm, vq, 0, iov, 4)), 4);
}

/* ---- TODO 4: the available and used rings ----------------------------- */

Test(paravirt, vq_process_prints_and_returns_the_buffers)
{
    struct mvm_vq *vq = boot_with_queue();
    struct vring_used *used = used_ring();

    set_desc(3, BUF_GPA, put_text(BUF_GPA, "Hello, "), VRING_DESC_F_NEXT, 6);
    set_desc(6, BUF_GPA + 16, put_text(BUF_GPA + 16, "virtqueue"), 0, 0);
    set_desc(0, BUF_GPA + 32, put_text(BUF_GPA + 32, "!\n"), 0, 0);
    offer(3);
    offer(0);
    cr_assert_eq(vl_assert_ok(mvm_vq_process(&vm, &vm.vcon)), 2,
                 "two chains were available");
    cr_assert_str_eq(capture_text(&console), "Hello, virtqueue!\n");
    cr_assert_eq(le16toh(used->idx), 2, "used->idx counts the used chains");
    cr_assert_eq(le32toh(used->ring[0].id), 3, "used entry 0: the head 3");
    cr_assert_eq(le32toh(used->ring[0].len), 0, "the device wrote 0 bytes");
    cr_assert_eq(le32toh(used->ring[1].id), 0);
    cr_assert_eq(vq->last_avail, 2);
    cr_assert_eq(vm.vcon.bytes, 18);
    cr_assert_eq(vm.vcon.buffers, 2);
    cr_assert(vm.vcon.interrupt_status & VIRTIO_MMIO_INT_VRING,
              "tell the driver the used ring changed");
    cr_assert_eq(vm.vcon.status & VIRTIO_CONFIG_S_NEEDS_RESET, 0);

    cr_assert_eq(vl_assert_ok(mvm_vq_process(&vm, &vm.vcon)), 0,
                 "nothing new: nothing to do");
    offer(0);
    cr_assert_eq(vl_assert_ok(mvm_vq_process(&vm, &vm.vcon)), 1);
    cr_assert_str_eq(capture_text(&console), "Hello, virtqueue!\n!\n");
    cr_assert_eq(le16toh(used->idx), 3);
    cr_assert_eq(le32toh(used->ring[2].id), 0);
}

Test(paravirt, vq_process_wraps_the_16_bit_indexes)
{
    struct mvm_vq *vq = boot_with_queue();
    struct vring_avail *avail = avail_ring();
    struct vring_used *used = used_ring();

    /* Free-running indexes: 65534 chains went by before this test. */
    vq->last_avail = 65534;
    avail->idx = htole16(65534);
    used->idx = htole16(65534);
    set_desc(1, BUF_GPA, put_text(BUF_GPA, "a"), 0, 0);
    set_desc(2, BUF_GPA + 16, put_text(BUF_GPA + 16, "b"), 0, 0);
    set_desc(4, BUF_GPA + 32, put_text(BUF_GPA + 32, "c"), 0, 0);
    offer(1); /* ring[65534 % 8 = 6] */
    offer(2); /* ring[7] */
    offer(4); /* ring[0], avail->idx wraps to 1 */
    cr_assert_eq(le16toh(avail->idx), 1);
    cr_assert_eq(vl_assert_ok(mvm_vq_process(&vm, &vm.vcon)), 3,
                 "avail->idx 1 is three past 65534, modulo 2^16");
    cr_assert_str_eq(capture_text(&console), "abc");
    cr_assert_eq(vq->last_avail, 1);
    cr_assert_eq(le16toh(used->idx), 1);
    cr_assert_eq(le32toh(used->ring[6].id), 1);
    cr_assert_eq(le32toh(used->ring[7].id), 2);
    cr_assert_eq(le32toh(used->ring[0].id), 4);
}

Test(paravirt, vq_process_reports_malformed_rings)
{
    struct mvm_vq *vq = boot_with_queue();

    vq->ready = false;
    assert_fails_ci(mvm_vq_process(&vm, &vm.vcon), EPROTO, "");
    vq->ready = true;

    /* 9 pending in a queue of 8: the driver cannot have done that. */
    avail_ring()->idx = htole16(9);
    assert_fails_ci(mvm_vq_process(&vm, &vm.vcon), EPROTO, "");
    cr_assert(vm.vcon.status & VIRTIO_CONFIG_S_NEEDS_RESET,
              "a broken ring sets DEVICE_NEEDS_RESET");
    cr_assert_eq(vq->last_avail, 0, "nothing was consumed");

    vm.vcon.status = 0;
    avail_ring()->idx = 0;
    set_desc(0, BUF_GPA, 4, VRING_DESC_F_NEXT, 0);
    offer(0);
    assert_fails_ci(mvm_vq_process(&vm, &vm.vcon), EPROTO, "loop");
    cr_assert(vm.vcon.status & VIRTIO_CONFIG_S_NEEDS_RESET);

    vm.vcon.status = 0;
    vq->desc = HOLE_GPA; /* a table where no memory is */
    assert_fails_ci(mvm_vq_process(&vm, &vm.vcon), EPROTO, "");
    cr_assert_str_eq(capture_text(&console), "", "nothing to print");
}

/* ---- TODO 5: the console's registers ---------------------------------- */

static uint32_t reg_read(uint64_t offset)
{
    uint32_t v = 0xdeadbeef;

    vl_assert_ok(mvm_vcon_read(&vm, &vm.vcon, offset, &v));
    return v;
}

static void reg_write(uint64_t offset, uint32_t value)
{
    vl_assert_ok(mvm_vcon_write(&vm, &vm.vcon, offset, value));
}

static void set_area(unsigned low, uint64_t gpa)
{
    reg_write(low, (uint32_t)gpa);
    reg_write(low + 4, (uint32_t)(gpa >> 32));
}

/* Queue 0 over the test's rings, through the registers. */
static void setup_queue_by_registers(void)
{
    reg_write(VIRTIO_MMIO_QUEUE_SEL, 0);
    reg_write(VIRTIO_MMIO_QUEUE_NUM, QNUM);
    set_area(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
    set_area(VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
    set_area(VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
}

Test(paravirt, vcon_registers_identify_a_virtio_console)
{
    uint32_t v;

    boot_ram();
    cr_assert_eq(reg_read(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976, "\"virt\"");
    cr_assert_eq(reg_read(VIRTIO_MMIO_VERSION), 2, "virtio-mmio version 2");
    cr_assert_eq(reg_read(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
    reg_read(VIRTIO_MMIO_VENDOR_ID);
    reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    cr_assert_eq(reg_read(VIRTIO_MMIO_DEVICE_FEATURES), 0, "features 0-31");
    reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    cr_assert_eq(reg_read(VIRTIO_MMIO_DEVICE_FEATURES),
                 1u << (VIRTIO_F_VERSION_1 - 32), "VIRTIO_F_VERSION_1");
    reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    cr_assert_eq(reg_read(VIRTIO_MMIO_DEVICE_FEATURES), 0);
    reg_write(VIRTIO_MMIO_QUEUE_SEL, 0);
    cr_assert_eq(reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX), MVM_VQ_NUM_MAX);
    cr_assert_eq(reg_read(VIRTIO_MMIO_QUEUE_READY), 0);
    reg_write(VIRTIO_MMIO_QUEUE_SEL, 1);
    cr_assert_eq(reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX), 0, "no queue 1");
    cr_assert_eq(reg_read(VIRTIO_MMIO_CONFIG_GENERATION), 0);
    cr_assert_eq(reg_read(VIRTIO_MMIO_STATUS), 0);
    cr_assert_eq(reg_read(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_fails_ci(mvm_vcon_read(&vm, &vm.vcon, 0x0fc + 0x100, &v), EINVAL,
                    "0x1fc");
    assert_fails_ci(mvm_vcon_read(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_PFN, &v),
                    EINVAL, "0x40");
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_MAGIC_VALUE, 1),
                    EINVAL, "");
}

Test(paravirt, vcon_queue_setup_is_checked_before_use)
{
    struct mvm_vq *vq = &vm.vcon.vq;

    boot_ram();
    vl_assert_ok(mvm_add_slot(&vm, ROM_GPA, 0x10000, KVM_MEM_READONLY));
    reg_write(VIRTIO_MMIO_QUEUE_SEL, 1);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_NUM, 8),
                    EINVAL, "");
    reg_write(VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_NUM, 12),
                    EINVAL, "");
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_NUM, 512),
                    EINVAL, "");
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_READY, 1),
                    EPROTO, "");
    setup_queue_by_registers();
    set_area(VIRTIO_MMIO_QUEUE_USED_LOW, 0x1234500000004ULL);
    cr_assert_eq(vq->num, QNUM);
    cr_assert_eq(vq->desc, DESC_GPA);
    cr_assert_eq(vq->avail, AVAIL_GPA);
    cr_assert_eq(vq->used, 0x1234500000004ULL, "both halves of the address");

    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_READY, 1),
                    EPROTO, "used");
    set_area(VIRTIO_MMIO_QUEUE_USED_LOW, ROM_GPA);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_READY, 1),
                    EPROTO, "read-only");
    set_area(VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA + 2);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_READY, 1),
                    EPROTO, "align");
    set_area(VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
    set_area(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA + 8);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_READY, 1),
                    EPROTO, "align");
    set_area(VIRTIO_MMIO_QUEUE_DESC_LOW, RAM_END - 16 * QNUM + 16);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_READY, 1),
                    EPROTO, "descriptor");
    cr_assert(!vq->ready, "a queue that failed its checks is not ready");

    set_area(VIRTIO_MMIO_QUEUE_DESC_LOW, RAM_END - 16 * QNUM);
    reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
    cr_assert(vq->ready);
    cr_assert_eq(reg_read(VIRTIO_MMIO_QUEUE_READY), 1);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_NUM, 4),
                    EINVAL, "");
    assert_fails_ci(
        mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x2000),
        EINVAL, "");
    cr_assert_eq(vq->desc, RAM_END - 16 * QNUM, "a live queue stays put");
    reg_write(VIRTIO_MMIO_QUEUE_READY, 0);
    cr_assert(!vq->ready);
    reg_write(VIRTIO_MMIO_QUEUE_NUM, 4);
}

Test(paravirt, vcon_features_status_and_reset)
{
    const uint32_t driver =
        VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    boot_ram();
    reg_write(VIRTIO_MMIO_STATUS, driver);
    /* A legacy driver (no VERSION_1): the device refuses FEATURES_OK. */
    reg_write(VIRTIO_MMIO_STATUS, driver | VIRTIO_CONFIG_S_FEATURES_OK);
    cr_assert_eq(reg_read(VIRTIO_MMIO_STATUS), driver);
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    assert_fails_ci(
        mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 28),
        EINVAL, "");
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 0);
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    cr_assert_eq(vm.vcon.drv_features, 1ULL << VIRTIO_F_VERSION_1);
    reg_write(VIRTIO_MMIO_STATUS, driver | VIRTIO_CONFIG_S_FEATURES_OK);
    cr_assert_eq(reg_read(VIRTIO_MMIO_STATUS),
                 driver | VIRTIO_CONFIG_S_FEATURES_OK);

    setup_queue_by_registers();
    reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
    reg_write(VIRTIO_MMIO_STATUS,
              driver | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    vm.vcon.bytes = 5;
    vm.vcon.notifies = 6;
    vm.vcon.vq.last_avail = 7;
    vm.vcon.interrupt_status = VIRTIO_MMIO_INT_VRING;
    reg_write(VIRTIO_MMIO_STATUS, 0);
    cr_assert_eq(reg_read(VIRTIO_MMIO_STATUS), 0, "reset");
    cr_assert(!vm.vcon.vq.ready && vm.vcon.vq.num == 0 &&
                  vm.vcon.vq.desc == 0 && vm.vcon.vq.last_avail == 0,
              "a reset forgets the queue");
    cr_assert_eq(vm.vcon.drv_features, 0, "a reset forgets the features");
    cr_assert_eq(vm.vcon.interrupt_status, 0);
    cr_assert(vm.vcon.bytes == 5 && vm.vcon.notifies == 6,
              "minivm's counters survive a reset");
}

Test(paravirt, vcon_notify_runs_the_queue)
{
    boot_ram();
    memset(vm.mem + DESC_GPA, 0, 0x3000);
    vm.vcon.out = console.f;
    setup_queue_by_registers();
    reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
    set_desc(0, BUF_GPA, put_text(BUF_GPA, "notified\n"), 0, 0);
    offer(0);
    reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    cr_assert_str_eq(capture_text(&console), "notified\n");
    cr_assert_eq(vm.vcon.notifies, 1);
    cr_assert_eq(le16toh(used_ring()->idx), 1);
    cr_assert_eq(reg_read(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    reg_write(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    cr_assert_eq(reg_read(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_NOTIFY, 1),
                    EINVAL, "");
    set_desc(0, BUF_GPA, 1, VRING_DESC_F_NEXT, 0);
    offer(0);
    assert_fails_ci(mvm_vcon_write(&vm, &vm.vcon, VIRTIO_MMIO_QUEUE_NOTIFY, 0),
                    EPROTO, "loop");
}

/* ---- the guests end to end -------------------------------------------- */

Test(paravirt, vcon_guest_prints_through_the_virtqueue)
{
    vm.opt.max_exits = 200;
    boot_long_guest_file("pv_vcon.bin");
    vl_assert_ok(mvm_run(&vm));
    cr_assert_str_eq(capture_text(&console), "Hello through the virtqueue!\n"
                                             "one chain, three buffers!\n"
                                             "two chains, one notification\n");
    cr_assert(!vm.exited, "pv_vcon halts, it does not exit");
    cr_assert_eq(vm.vcon.buffers, 4, "4 chains");
    cr_assert_eq(vm.vcon.notifies, 3, "3 notifications");
    cr_assert(vm.vcon.status & VIRTIO_CONFIG_S_DRIVER_OK);
}

Test(paravirt, vq_loop_guest_is_stopped_and_named)
{
    int r;

    vm.opt.max_exits = 200;
    boot_long_guest_file("pv_vq_loop.bin");
    vl_err_clear();
    r = mvm_run(&vm);
    cr_assert_eq(r, -EPROTO, "a chain that loops stops the guest: %d (%s)", r,
                 vl_errmsg());
    cr_assert(strcasestr(vl_errmsg(), "loop"), "say why: \"%s\"", vl_errmsg());
    cr_assert(vm.vcon.status & VIRTIO_CONFIG_S_NEEDS_RESET);
    cr_assert_str_eq(capture_text(&console), "");
}

/* Run one guest in a fresh VM; its exits and the bytes it printed. */
static void run_bulk(const char *guest, uint64_t *exits, size_t *bytes)
{
    struct mvm_options opt = vm.opt;
    size_t before = strlen(capture_text(&console));

    mvm_destroy(&vm);
    mvm_init(&vm, &opt);
    boot_long_guest_file(guest);
    vl_assert_ok(mvm_run(&vm));
    *exits = vm.exits;
    *bytes = strlen(capture_text(&console)) - before;
}

Test(paravirt, virtqueue_needs_far_fewer_exits_per_byte_than_the_uart)
{
    uint64_t uart_exits, vq_exits;
    size_t uart_bytes, vq_bytes;
    const char *out;

    vm.opt.max_exits = 3 * BULK_LEN;
    run_bulk("pv_bulk_uart.bin", &uart_exits, &uart_bytes);
    run_bulk("pv_bulk_vq.bin", &vq_exits, &vq_bytes);
    cr_assert_eq(uart_bytes, BULK_LEN);
    cr_assert_eq(vq_bytes, BULK_LEN, "the virtqueue printed %zu bytes",
                 vq_bytes);
    capture_text(&console); /* flushes */
    out = console.buf;
    cr_assert(console.len == 2 * BULK_LEN &&
                  memcmp(out, out + BULK_LEN, BULK_LEN) == 0,
              "both guests print the same text");
    cr_assert_gt((double)uart_exits / BULK_LEN, 1.0,
                 "the UART: %llu exits for %d bytes",
                 (unsigned long long)uart_exits, BULK_LEN);
    cr_assert_lt((double)vq_exits / BULK_LEN, 0.05,
                 "the virtqueue: %llu exits for %d bytes",
                 (unsigned long long)vq_exits, BULK_LEN);
}
