/*
 * snapshot_test.c - the tests of lab 08's first part (snapshot.c, TODOs
 * 1-4), then snapshots end to end: saved by one minivm process, restored
 * by another, the guest's output goes on byte for byte.
 *
 * The VMs come from libvirtlab and the reference stages of labs 01-06; the
 * state is saved and restored by your snapshot.c. Where a test needs the
 * state saved independently of your TODO 1 (to test TODO 2 alone), it
 * asks KVM itself.
 */
#define _GNU_SOURCE
#include "snap_test.h"

TestSuite(snapshot, .init = setup, .fini = snap_teardown, .timeout = 30);

/* snap_count reads its input with `in al, dx`: one byte, opcode 0xec. */
#define IN_AL_DX 0xec

/* The MSRs snapshot.c must save, where this KVM lists them. */
static const uint32_t expected_msrs[] = {
    MVM_MSR_TSC,          MVM_MSR_SYSENTER_CS,
    MVM_MSR_SYSENTER_ESP, MVM_MSR_SYSENTER_EIP,
    MVM_MSR_PAT,          MVM_MSR_STAR,
    MVM_MSR_LSTAR,        MVM_MSR_CSTAR,
    MVM_MSR_SFMASK,       MVM_MSR_KERNEL_GS_BASE,
};

static bool kvm_lists_msr(uint32_t msr)
{
    struct {
        struct kvm_msr_list l;
        uint32_t idx[512];
    } list = {.l.nmsrs = 512};

    cr_assert_eq(ioctl(vm.kvm_fd, KVM_GET_MSR_INDEX_LIST, &list), 0);
    for (uint32_t i = 0; i < list.l.nmsrs; i++)
        if (list.idx[i] == msr)
            return true;
    return false;
}

static uint64_t get_msr(int fd, uint32_t msr)
{
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e;
    } m = {.h.nmsrs = 1, .e.index = msr};

    cr_assert_eq(ioctl(fd, KVM_GET_MSRS, &m), 1, "KVM_GET_MSRS 0x%x", msr);
    return m.e.data;
}

static const struct kvm_msr_entry *saved_msr(const struct mvm_vcpu_state *st,
                                             uint32_t msr)
{
    for (uint32_t i = 0; i < st->nmsrs; i++)
        if (st->msrs[i].index == msr)
            return &st->msrs[i];
    return NULL;
}

/* snap_count in long mode, run by the test until `exits` exits (lab 01's
 * loop stops there with -ELOOP). */
static void snap_count_until(uint64_t exits)
{
    boot_long_guest_file("snap_count.bin");
    vm.opt.max_exits = exits;
    cr_assert_eq(mvm_run(&vm), -ELOOP, "snap_count ended before %llu exits",
                 (unsigned long long)exits);
    vl_err_clear();
    mvm_smp_adopt_bsp(&vm);
}

/* ---- TODO 1: saving a vCPU -------------------------------------------- */

Test(snapshot, vcpu_save_finishes_the_pending_in_first)
{
    static struct mvm_vcpu_state st;
    struct kvm_regs regs;
    uint8_t *insn, lsr;

    boot_long_guest_file("snap_count.bin");
    /* Run to the first IN: the UART's LSR, read by uart_putc(). */
    for (int i = 0; i < 100; i++) {
        uint32_t why = run_once();

        vm.exits++;
        if (why == KVM_EXIT_IO && vm.run->io.direction == KVM_EXIT_IO_IN)
            break;
        cr_assert_geq(mvm_handle_exit(&vm), 0, "%s", vl_errmsg());
    }
    cr_assert_eq(vm.run->io.direction, KVM_EXIT_IO_IN, "no IN in 100 exits");
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    insn = mvm_gpa(&vm, regs.rip, 1);
    cr_assert(insn && *insn == IN_AL_DX,
              "RIP 0x%llx at the exit should point at the IN",
              (unsigned long long)regs.rip);
    cr_assert_eq(mvm_handle_exit(&vm), MVM_CONTINUE, "%s", vl_errmsg());
    lsr = *((uint8_t *)vm.run + vm.run->io.data_offset);
    mvm_smp_adopt_bsp(&vm);

    vl_assert_ok(mvm_vcpu_save(&vm, &vm.smp.cpu[0], &st));
    cr_assert_eq(st.regs.rip, regs.rip + 1,
                 "saved RIP 0x%llx: the IN at 0x%llx must be finished "
                 "(KVM_RUN with immediate_exit) before the registers are "
                 "read",
                 (unsigned long long)st.regs.rip, (unsigned long long)regs.rip);
    cr_assert_eq(st.regs.rax & 0xff, lsr,
                 "saved AL 0x%llx: the IN's value (0x%x) must be in RAX",
                 (unsigned long long)(st.regs.rax & 0xff), lsr);
    cr_assert_eq(vm.run->immediate_exit, 0, "immediate_exit left set");
}

Test(snapshot, vcpu_save_gets_the_registers_msrs_and_more)
{
    static struct mvm_vcpu_state st;
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    struct kvm_mp_state mp;

    snap_count_until(301);
    vl_assert_ok(mvm_vcpu_save(&vm, &vm.smp.cpu[0], &st));
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    sregs = get_sregs();
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_MP_STATE, &mp), 0);
    cr_assert(!memcmp(&st.regs, &regs, sizeof(regs)), "regs differ from KVM's");
    cr_assert_eq(st.sregs.cr3, sregs.cr3, "sregs: CR3");
    cr_assert_eq(st.sregs.efer, sregs.efer, "sregs: EFER");
    cr_assert_eq(st.sregs.cs.l, 1, "sregs: the guest runs in 64-bit mode");
    cr_assert_geq(st.xcrs.nr_xcrs, 1, "XCRS: XCR0 missing");
    cr_assert_eq(st.xcrs.xcrs[0].value & 1, 1, "XCR0 always has x87");
    cr_assert_eq(st.mp_state.mp_state, mp.mp_state, "mp_state");
    cr_assert(!st.has_lapic, "no in-kernel irqchip, so no LAPIC state");
    for (size_t i = 0; i < sizeof(expected_msrs) / sizeof(expected_msrs[0]);
         i++) {
        const struct kvm_msr_entry *e = saved_msr(&st, expected_msrs[i]);

        if (!kvm_lists_msr(expected_msrs[i]))
            continue;
        cr_assert_not_null(e, "MSR 0x%x is not in the saved state",
                           expected_msrs[i]);
        if (expected_msrs[i] != MVM_MSR_TSC)
            cr_assert_eq(e->data, get_msr(vm.vcpu_fd, expected_msrs[i]),
                         "MSR 0x%x: saved 0x%llx", expected_msrs[i],
                         (unsigned long long)e->data);
    }
    cr_assert_neq(saved_msr(&st, MVM_MSR_KERNEL_GS_BASE)->data, 0,
                  "snap_count set KERNEL_GS_BASE: the saved value is 0");
}

/* ---- TODO 2: restoring a vCPU ----------------------------------------- */

/* The test's own save, with KVM's ioctls: TODO 2 is tested alone. */
static void save_with_kvm(int fd, struct kvm_run *run,
                          struct mvm_vcpu_state *st)
{
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e[MVM_MAX_MSRS];
    } m = {0};

    run->immediate_exit = 1;
    cr_assert_eq(ioctl(fd, KVM_RUN, 0), -1);
    run->immediate_exit = 0;
    cr_assert_eq(ioctl(fd, KVM_GET_REGS, &st->regs), 0);
    cr_assert_eq(ioctl(fd, KVM_GET_SREGS, &st->sregs), 0);
    cr_assert_eq(ioctl(fd, KVM_GET_XSAVE, &st->xsave), 0);
    cr_assert_eq(ioctl(fd, KVM_GET_XCRS, &st->xcrs), 0);
    cr_assert_eq(ioctl(fd, KVM_GET_VCPU_EVENTS, &st->events), 0);
    cr_assert_eq(ioctl(fd, KVM_GET_MP_STATE, &st->mp_state), 0);
    for (size_t i = 0; i < sizeof(expected_msrs) / sizeof(expected_msrs[0]);
         i++)
        if (kvm_lists_msr(expected_msrs[i]))
            m.e[m.h.nmsrs++].index = expected_msrs[i];
    cr_assert_eq(ioctl(fd, KVM_GET_MSRS, &m), (int)m.h.nmsrs);
    st->nmsrs = m.h.nmsrs;
    memcpy(st->msrs, m.e, sizeof(m.e[0]) * m.h.nmsrs);
}

/* The whole output of snap_count with no input, run in-process. */
static char *snap_count_output(void)
{
    struct capture c;
    struct minivm full;
    struct mvm_options opt = vm.opt;
    void *image;
    size_t len;
    char *text;

    capture_open(&c);
    opt.console = c.f;
    opt.max_exits = 0;
    opt.mode = MVM_MODE_LONG;
    mvm_init(&full, &opt);
    load_guest_file("snap_count.bin", &image, &len);
    vl_assert_ok(mvm_boot_flat(&full, image, len));
    free(image);
    vl_assert_ok(mvm_run(&full));
    text = strdup(capture_text(&c));
    mvm_destroy(&full);
    capture_close(&c);
    return text;
}

Test(snapshot, vcpu_restore_goes_on_in_a_new_vm)
{
    static struct mvm_vcpu_state st, again;
    struct capture out_b;
    struct mvm_options opt;
    struct minivm b;
    char *full = snap_count_output(), *joined;

    snap_count_until(301);
    save_with_kvm(vm.vcpu_fd, vm.run, &st);

    /* A second VM: the same memory and devices, a vCPU that never ran. */
    capture_open(&out_b);
    opt = vm.opt;
    opt.console = out_b.f;
    opt.max_exits = 0;
    mvm_init(&b, &opt);
    vl_assert_ok(mvm_create_reference(&b));
    memcpy(b.mem, vm.mem, vm.mem_size);
    vl_assert_ok(mvm_setup_devices(&b)); /* b.pt_root is 0: no mapping */
    b.uart = vm.uart;
    b.uart.out = out_b.f;
    b.pt_root = vm.pt_root;
    b.exits = vm.exits;
    mvm_smp_adopt_bsp(&b);

    vl_assert_ok(mvm_vcpu_restore(&b, &b.smp.cpu[0], &st));
    save_with_kvm(b.vcpu_fd, b.run, &again);
    cr_assert(!memcmp(&again.regs, &st.regs, sizeof(st.regs)),
              "KVM_SET_REGS: RIP 0x%llx, saved 0x%llx",
              (unsigned long long)again.regs.rip,
              (unsigned long long)st.regs.rip);
    cr_assert_eq(again.sregs.cr3, st.sregs.cr3, "KVM_SET_SREGS: CR3");
    cr_assert_eq(again.sregs.efer, st.sregs.efer, "KVM_SET_SREGS: EFER");
    for (uint32_t i = 0; i < st.nmsrs; i++)
        if (st.msrs[i].index != MVM_MSR_TSC)
            cr_assert_eq(again.msrs[i].data, st.msrs[i].data,
                         "KVM_SET_MSRS: MSR 0x%x is 0x%llx, saved 0x%llx",
                         st.msrs[i].index,
                         (unsigned long long)again.msrs[i].data,
                         (unsigned long long)st.msrs[i].data);
    cr_assert_geq(again.msrs[0].data, st.msrs[0].data,
                  "KVM_SET_MSRS: the TSC went back from %llu to %llu",
                  (unsigned long long)st.msrs[0].data,
                  (unsigned long long)again.msrs[0].data);

    cr_assert_eq(mvm_run(&b), 0, "the restored guest stopped: %s", vl_errmsg());
    cr_assert(b.exited && b.exit_status == 0, "snap_count's exit status");
    cr_assert(asprintf(&joined, "%s%s", capture_text(&console),
                       capture_text(&out_b)) > 0);
    cr_assert_str_eq(joined, full,
                     "the output before the save and after the restore "
                     "should be the uninterrupted output");
    mvm_destroy(&b);
    capture_close(&out_b);
}

/* ---- TODO 3: the VM's state ------------------------------------------- */

/* A VM with the in-kernel irqchip and no vCPU yet: KVM, RAM and the
 * irqchip from the reference stages. */
static void vm_with_irqchip(struct minivm *v, bool irqchip)
{
    vl_assert_ok(mvm_open_kvm(v));
    vl_assert_ok(mvm_create_vm(v));
    if (irqchip)
        vl_assert_ok(mvm_irq_create_irqchip(v));
    vl_assert_ok(mvm_add_memory(v, v->opt.mem_size));
}

Test(snapshot, vm_state_moves_the_irqchip_the_pit_and_the_clock)
{
    static struct mvm_vm_state st;
    struct kvm_irqchip pic = {.chip_id = KVM_IRQCHIP_PIC_MASTER};
    struct kvm_irqchip ioapic = {.chip_id = KVM_IRQCHIP_IOAPIC};
    struct kvm_pit_state2 pit;
    struct kvm_clock_data clock = {.clock = 10000000000ULL};
    struct minivm b, c;

    vm_with_irqchip(&vm, true);
    /* Give every piece a value of its own. */
    cr_assert_eq(ioctl(vm.vm_fd, KVM_GET_IRQCHIP, &pic), 0);
    pic.chip.pic.imr = 0xa5;
    cr_assert_eq(ioctl(vm.vm_fd, KVM_SET_IRQCHIP, &pic), 0);
    cr_assert_eq(ioctl(vm.vm_fd, KVM_GET_IRQCHIP, &ioapic), 0);
    ioapic.chip.ioapic.redirtbl[3].fields.vector = 0x33;
    cr_assert_eq(ioctl(vm.vm_fd, KVM_SET_IRQCHIP, &ioapic), 0);
    cr_assert_eq(ioctl(vm.vm_fd, KVM_GET_PIT2, &pit), 0);
    pit.channels[0].count = 1234;
    pit.channels[0].mode = 2;
    cr_assert_eq(ioctl(vm.vm_fd, KVM_SET_PIT2, &pit), 0);
    cr_assert_eq(ioctl(vm.vm_fd, KVM_SET_CLOCK, &clock), 0);

    vl_assert_ok(mvm_vm_save(&vm, &st));
    cr_assert(st.has_irqchip, "the VM has the in-kernel irqchip");
    cr_assert_eq(st.chip[KVM_IRQCHIP_PIC_MASTER].chip.pic.imr, 0xa5,
                 "KVM_GET_IRQCHIP of the master PIC");
    cr_assert_eq(
        st.chip[KVM_IRQCHIP_IOAPIC].chip.ioapic.redirtbl[3].fields.vector, 0x33,
        "KVM_GET_IRQCHIP of the IOAPIC");
    cr_assert_eq(st.pit.channels[0].count, 1234, "KVM_GET_PIT2");
    cr_assert_geq(st.clock.clock, 10000000000ULL, "KVM_GET_CLOCK");

    mvm_init(&b, &vm.opt);
    vm_with_irqchip(&b, true);
    vl_assert_ok(mvm_vm_restore(&b, &st));
    pic = (struct kvm_irqchip){.chip_id = KVM_IRQCHIP_PIC_MASTER};
    ioapic = (struct kvm_irqchip){.chip_id = KVM_IRQCHIP_IOAPIC};
    cr_assert_eq(ioctl(b.vm_fd, KVM_GET_IRQCHIP, &pic), 0);
    cr_assert_eq(ioctl(b.vm_fd, KVM_GET_IRQCHIP, &ioapic), 0);
    cr_assert_eq(ioctl(b.vm_fd, KVM_GET_PIT2, &pit), 0);
    cr_assert_eq(ioctl(b.vm_fd, KVM_GET_CLOCK, &clock), 0);
    cr_assert_eq(pic.chip.pic.imr, 0xa5, "KVM_SET_IRQCHIP: the PIC's IMR");
    cr_assert_eq(ioapic.chip.ioapic.redirtbl[3].fields.vector, 0x33,
                 "KVM_SET_IRQCHIP: the IOAPIC's redirection table");
    cr_assert_eq(pit.channels[0].count, 1234, "KVM_SET_PIT2: the count");
    cr_assert(clock.clock >= st.clock.clock &&
                  clock.clock < st.clock.clock + 2000000000ULL,
              "KVM_SET_CLOCK: the guest's clock is %llu ns, it was %llu",
              (unsigned long long)clock.clock,
              (unsigned long long)st.clock.clock);
    mvm_destroy(&b);

    mvm_init(&c, &vm.opt);
    vm_with_irqchip(&c, false);
    vl_assert_fails(mvm_vm_restore(&c, &st), EINVAL, "irqchip");
    vl_assert_ok(mvm_vm_save(&c, &st));
    cr_assert(!st.has_irqchip, "this VM has no irqchip to save");
    mvm_destroy(&c);
}

/* ---- TODO 4: memory --------------------------------------------------- */

#define SLOT_GPA 0x800000ULL

Test(snapshot, memory_skips_the_pages_that_are_all_zero)
{
    static const uint8_t hlt[] = {0xf4};
    struct page_rec recs[64];
    struct mvm_snap_out out;
    uint8_t *data;
    size_t len;
    int n;

    boot_with_libvirtlab(hlt, sizeof(hlt)); /* page 0x1000 */
    vl_assert_ok(mvm_add_slot(&vm, SLOT_GPA, 0x10000, 0));
    vm.mem[0x5000] = 0x11;                /* a first byte */
    vm.mem[0x9fff] = 0x22;                /* only the last byte */
    vm.mem[vm.mem_size - 2048] = 0x33;    /* the last page of RAM */
    vm.slots[0].hva[0x2000 + 100] = 0x44; /* a page of the slot */

    out_open(&out, "mem.snap");
    n = mvm_snap_save_memory(&vm, &out);
    data = out_close(&out, &len);
    cr_assert_eq(n, 5,
                 "5 pages hold data; mvm_snap_save_memory() says %d: "
                 "%s",
                 n, vl_errmsg());
    n = parse_pages(data, len, recs, 64);
    cr_assert_eq(n, 5, "%d page records in the stream, not 5", n);
    cr_assert(find_rec(recs, n, 0x1000) && find_rec(recs, n, 0x5000) &&
                  find_rec(recs, n, vm.mem_size - 4096) &&
                  find_rec(recs, n, SLOT_GPA + 0x2000),
              "a page with data is missing");
    cr_assert_not_null(find_rec(recs, n, 0x9000),
                       "page 0x9000 has data in its last byte only: it is "
                       "not a zero page");
    cr_assert_eq(find_rec(recs, n, 0x9000)->last, 0x22);
    cr_assert_eq(find_rec(recs, n, 0x5000)->first, 0x11);
    free(data);
}

Test(snapshot, load_page_takes_only_pages_of_guest_memory)
{
    static const uint8_t hlt[] = {0xf4};
    static uint8_t page[MVM_PAGE_SIZE];

    boot_with_libvirtlab(hlt, sizeof(hlt));
    vl_assert_ok(mvm_add_slot(&vm, SLOT_GPA, 0x10000, 0));
    memset(page, 0x5a, sizeof(page));
    vl_assert_ok(mvm_snap_load_page(&vm, 0x7000, page));
    cr_assert_eq(vm.mem[0x7000], 0x5a);
    cr_assert_eq(vm.mem[0x7fff], 0x5a);
    vl_assert_ok(mvm_snap_load_page(&vm, SLOT_GPA + 0x1000, page));
    cr_assert_eq(vm.slots[0].hva[0x1fff], 0x5a, "a page of a lab 03 slot");
    vl_assert_ok(mvm_snap_load_page(&vm, 0x7000, NULL));
    cr_assert_eq(vm.mem[0x7000] | vm.mem[0x7fff], 0, "a zero page record");
    vl_assert_fails(mvm_snap_load_page(&vm, 0x7010, page), EPROTO, "0x7010");
    vl_assert_fails(mvm_snap_load_page(&vm, vm.mem_size, page), EPROTO,
                    "0x400000");
    vl_assert_fails(mvm_snap_load_page(&vm, 0x10000000, page), EPROTO,
                    "0x10000000");
    vl_assert_fails(mvm_snap_load_page(&vm, UINT64_MAX & ~4095ULL, page),
                    EPROTO, "0xfffffffffffff000");
}

/* ---- end to end: two processes ---------------------------------------- */

#define INPUT "abcdefghijklmnop" /* snap_count takes one byte per step */

/* The exit numbers of the UART's RBR reads (`in` from port 0x3f8) in a
 * --trace of snap_count. */
static int rbr_reads(const char *trace, uint64_t *exits, int max)
{
    const char *p = trace;
    int n = 0;

    while (n < max && (p = strstr(p, "minivm: exit "))) {
        unsigned long long e;
        char rest[64];

        if (sscanf(p, "minivm: exit %llu: %63[^\n]", &e, rest) == 2 &&
            strstr(rest, "KVM_EXIT_IO in port 0x3f8 "))
            exits[n++] = e;
        p++;
    }
    return n;
}

Test(snapshot, a_new_process_goes_on_byte_for_byte)
{
    char *input = test_path("input"), *snap = test_path("s.mvm"), *joined;
    char line_full[128], line_b[128];
    struct run_args full_args = {.guest = "snap_count.bin", .trace = true};
    struct proc full, a, b;
    uint64_t rbr[8], splits[3];

    spit(input, INPUT, strlen(INPUT));
    cr_assert_eq(run_guest(&full, "full", input, 20, &full_args), 0,
                 "snap_count failed: %s", full.err);
    cr_assert_geq(rbr_reads(full.err, rbr, 8), 2, "no RBR reads in the trace");
    /* After the input is in the UART's FIFO: an exit in the middle of a
     * line (an OUT), the second RBR read (an IN that takes a byte), and
     * one more OUT. */
    splits[0] = 20;
    splits[1] = rbr[1];
    splits[2] = 301;
    for (int i = 0; i < 3; i++) {
        struct run_args save = {.guest = "snap_count.bin",
                                .snapshot = snap,
                                .save_after = splits[i]};

        cr_assert_eq(run_guest(&a, "a", input, 20, &save), 0,
                     "saving after %llu exits failed: %s",
                     (unsigned long long)splits[i], a.err);
        cr_assert(strstr(a.err, "saved the VM after"), "%s", a.err);
        cr_assert_eq(run_cli(&b, "b", NULL, 20, ARGS("restore", snap)), 0,
                     "restoring (saved after %llu exits) failed: %s",
                     (unsigned long long)splits[i], b.err);
        cr_assert(asprintf(&joined, "%s%s", a.out, b.out) > 0);
        cr_assert_str_eq(joined, full.out,
                         "saved after %llu exits, then restored by another "
                         "process: the output differs from the uninterrupted "
                         "run",
                         (unsigned long long)splits[i]);
        cr_assert_str_eq(last_line(b.err, line_b, sizeof(line_b)),
                         last_line(full.err, line_full, sizeof(line_full)),
                         "the exit count goes on too");
        free(joined);
    }
}

Test(snapshot, a_snapshot_file_is_small_and_self_describing)
{
    char *snap = test_path("s.mvm"), *info;
    struct run_args save = {
        .guest = "snap_count.bin", .snapshot = snap, .save_after = 100};
    struct proc a;
    struct stat sb;

    cr_assert_eq(run_guest(&a, "a", NULL, 20, &save), 0, "%s", a.err);
    cr_assert_eq(stat(snap, &sb), 0);
    cr_assert_lt(sb.st_size, 256 << 10,
                 "a snapshot of a 4 MiB guest that touched a few pages "
                 "takes %lld bytes: are zero pages skipped?",
                 (long long)sb.st_size);
    info = inspect(snap);
    cr_assert(strstr(info, "INFO") && strstr(info, "1 vCPU"), "%s", info);
    cr_assert(strstr(info, "REGS SREG XSAV XCRS EVTS MPST MSRS"), "%s", info);
    cr_assert(strstr(info, "UART TDEV VCON IRQ  VMST"), "%s", info);
    cr_assert(strstr(info, "END"), "%s", info);
}

/* A good snapshot, saved in this process with your TODOs 1, 3 and 4. */
static uint8_t *good_snapshot(size_t *len)
{
    char *path = test_path("good.mvm");
    uint64_t bytes;

    snap_count_until(301);
    vl_assert_ok(mvm_snap_save(&vm, path, &bytes));
    return (uint8_t *)slurp(path, len);
}

/* Load `data` as a snapshot into a new VM: its result, message kept. */
static int load_bytes(const uint8_t *data, size_t len, size_t mem)
{
    char *path = test_path("bad.mvm");
    struct mvm_options opt = vm.opt;
    struct minivm b;
    int r;

    spit(path, data, len);
    opt.mem_size = mem;
    mvm_init(&b, &opt);
    vl_err_clear();
    r = mvm_snap_load_file(&b, path);
    mvm_destroy(&b);
    free(path);
    return r;
}

/* The offset of the first section with this tag. */
static size_t section_at(const uint8_t *data, size_t len, uint32_t tag)
{
    size_t off = MVM_SNAP_HEADER_SIZE;

    while (off + 16 <= len) {
        uint32_t h[4];

        memcpy(h, data + off, 16);
        if (h[0] == tag)
            return off;
        off += 16 + h[2];
    }
    cr_assert_fail("no such section");
    return 0;
}

Test(snapshot, damaged_snapshots_are_refused_with_the_reason)
{
    size_t len, cpu;
    uint8_t *good = good_snapshot(&len), *bad = malloc(len);

    cr_assert_not_null(bad);
    vl_assert_ok(load_bytes(good, len, 0));

    vl_assert_fails(load_bytes(good, 10, 0), EPROTO, "truncated");
    vl_assert_fails(load_bytes(good, len / 2, 0), EPROTO, "truncated");
    vl_assert_fails(load_bytes(good, len - 16, 0), EPROTO, "truncated");

    memcpy(bad, good, len);
    memcpy(bad, "ELF\x7f\0\0\0\0", 8);
    vl_assert_fails(load_bytes(bad, len, 0), EINVAL, "not a minivm snapshot");

    memcpy(bad, good, len);
    bad[8] = 2;
    vl_assert_fails(load_bytes(bad, len, 0), ENOTSUP, "version 2");

    memcpy(bad, good, len);
    cpu = section_at(bad, len, MVM_SEC_CPU);
    bad[cpu + 16 + 100] ^= 0x40; /* a bit of the registers */
    vl_assert_fails(load_bytes(bad, len, 0), EBADMSG, "checksum");

    vl_assert_fails(load_bytes(good, len, 8u << 20), EINVAL, "RAM");
    free(bad);
}
