/*
 * interrupts_test.c - the tests of lab 06, one group per TODO, then the
 * guests end to end.
 *
 * The VM comes from libvirtlab (lab 01's reference), long mode from lab
 * 02, the device bus and the UART from lab 04 and the hypercalls from lab
 * 05; the timer, the injection, the run loop, the irqchip, the irqfd and
 * the UART's interrupt line come from your interrupts.c. Unit tests set
 * kvm_run's fields by hand, or read the in-kernel PIC's state back with
 * KVM_GET_IRQCHIP, to see exactly what your functions did.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../guest/intr.h"
#include "mvm_test.h"

TestSuite(interrupts, .init = setup, .fini = teardown, .timeout = 60);

/* The guests' copy of the numbers must say what minivm.h says. */
_Static_assert(PIT_HZ == MVM_PIT_HZ && PIT_CH0 == MVM_PIT_PORT &&
                   PIT_CONTROL == MVM_PIT_PORT + 3,
               "intr.h and irq.h disagree on the 8254");
_Static_assert(TIMER_VECTOR == MVM_TIMER_VECTOR && UART_IRQ == MVM_UART_IRQ,
               "intr.h and irq.h disagree on IRQ 0's vector or IRQ 4");
_Static_assert(HC_PORT == MVM_HC_PORT && HC_PRINT == MVM_HC_PRINT &&
                   HC_TIME == MVM_HC_TIME && HC_EXIT == MVM_HC_EXIT,
               "intr.h and minivm.h disagree on the hypercall ABI");

#define MS       1000000ULL  /* nanoseconds */
#define T0       (1000 * MS) /* "now" in the timer's unit tests */
#define PERIOD10 10000151ULL /* 11932 / 1193182 Hz, in ns, rounded */

/* A new VM in place of the test's, with the same options. */
static void fresh_vm(void)
{
    struct mvm_options opt = vm.opt;

    mvm_destroy(&vm);
    mvm_init(&vm, &opt);
}

/* ---- TODO 1: minivm's 8254 ------------------------------------------- */

static void pit_ok(struct mvm_pit *pit, unsigned reg, uint8_t value)
{
    vl_err_clear();
    cr_assert_eq(mvm_pit_write(pit, T0, reg, value), 0,
                 "writing 0x%02x to port 0x%x: %s", value, MVM_PIT_PORT + reg,
                 vl_errmsg());
}

/* Control word `cw`, then the count's bytes as `cw` says. */
static void pit_load(struct mvm_pit *pit, uint8_t cw, uint16_t count)
{
    unsigned rw = (cw >> 4) & 3;

    pit_ok(pit, 3, cw);
    if (rw != 2)
        pit_ok(pit, 0, (uint8_t)count);
    if (rw != 1)
        pit_ok(pit, 0, (uint8_t)(count >> 8));
}

Test(interrupts, pit_write_programs_counter_0)
{
    struct mvm_pit pit = {0};

    pit_ok(&pit, 3, 0x34); /* counter 0, LSB then MSB, mode 2 */
    cr_assert_eq(pit.mode, 2);
    cr_assert_eq(pit.rw, MVM_PIT_RW_LSB_MSB);
    cr_assert_eq(pit.next_ns, 0, "a control word alone does not start it");
    pit_ok(&pit, 0, 11932 & 0xff);
    cr_assert_eq(pit.next_ns, 0, "the count loads with its MSB, not before");
    pit_ok(&pit, 0, 11932 >> 8);
    cr_assert_eq(pit.count, 11932, "LSB first, then MSB");
    cr_assert_eq(pit.period_ns, PERIOD10,
                 "11932 / 1193182 Hz = %llu ns, rounded; got %llu", PERIOD10,
                 (unsigned long long)pit.period_ns);
    cr_assert_eq(pit.next_ns, T0 + PERIOD10, "the first tick: one period on");

    pit_load(&pit, 0x36, 0); /* mode 3, count 0 */
    cr_assert_eq(pit.mode, 3);
    cr_assert_eq(pit.count, 65536, "a count of 0 is 65536");
    cr_assert_eq(pit.period_ns, 54925401, "65536 counts: 54.925401 ms");

    pit_load(&pit, 0x14, 100); /* LSB only, mode 2 */
    cr_assert_eq(pit.count, 100);
    pit_load(&pit, 0x24, 0x1200); /* MSB only */
    cr_assert_eq(pit.count, 0x1200, "MSB only: the LSB is 0");
    pit_load(&pit, 0x3c, 1000); /* mode "6" is mode 2 */
    cr_assert_eq(pit.mode, 2, "modes 6 and 7 are modes 2 and 3");
    pit_load(&pit, 0x30, 5966); /* mode 0: one tick, 5 ms on */
    cr_assert_eq(pit.mode, 0);
    cr_assert_eq(pit.next_ns, T0 + 5000075);

    /* A control word in the middle restarts the LSB/MSB sequence. */
    pit_ok(&pit, 3, 0x34);
    pit_ok(&pit, 0, 0x99);
    pit_ok(&pit, 3, 0x34);
    pit_ok(&pit, 0, 0x34);
    pit_ok(&pit, 0, 0x12);
    cr_assert_eq(pit.count, 0x1234, "the LSB before the control word is gone");

    pit_load(&pit, 0x34, 2); /* 1.7 us: far too fast for a VMM */
    cr_assert_eq(pit.period_ns, MVM_PIT_MIN_PERIOD_NS,
                 "periods below %llu ns are raised to it, as KVM's PIT does",
                 MVM_PIT_MIN_PERIOD_NS);
}

Test(interrupts, pit_write_refuses_what_it_does_not_emulate)
{
    static const uint8_t words[] = {
        0x74, /* counter 1 */
        0xb4, /* counter 2 */
        0xe2, /* read-back */
        0x04, /* counter latch */
        0x32, /* mode 1 */
        0x38, /* mode 4 */
        0x3a, /* mode 5 */
        0x35, /* BCD */
    };
    struct mvm_pit pit = {0};

    vl_assert_fails(mvm_pit_write(&pit, T0, 0, 0x10), EINVAL, "");
    cr_assert_eq(pit.next_ns, 0, "no control word, no count");
    for (size_t i = 0; i < sizeof(words); i++) {
        vl_err_clear();
        cr_assert_eq(mvm_pit_write(&pit, T0, 3, words[i]), -EINVAL,
                     "control word 0x%02x must be refused with -EINVAL",
                     words[i]);
        cr_assert(*vl_errmsg(), "say why 0x%02x is refused", words[i]);
    }
    vl_assert_fails(mvm_pit_write(&pit, T0, 1, 0x10), EINVAL, "");
    vl_assert_fails(mvm_pit_write(&pit, T0, 2, 0x10), EINVAL, "");
    pit_ok(&pit, 3, 0x14);
    vl_assert_fails(mvm_pit_write(&pit, T0, 0, 1), EINVAL, "");
    cr_assert_eq(pit.next_ns, 0, "a refused count starts nothing");
}

/* ---- TODO 2: ticks from the clock ----------------------------------- */

Test(interrupts, pit_ticks_follow_the_clock_without_drift)
{
    struct mvm_pit pit = {0};
    uint64_t p = PERIOD10;

    cr_assert_eq(mvm_pit_ticks(&pit, T0), 0, "nothing loaded: no ticks");
    pit_load(&pit, 0x34, 11932);
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + p - 1), 0, "not yet");
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + p), 1, "one period: one tick");
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + p), 0, "the same tick only once");
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + 3 * p + p / 2), 2,
                 "looked late: the ticks at 2 and 3 periods");
    cr_assert_eq(pit.next_ns, T0 + 4 * p, "the next at 4 periods, not later");
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + 4 * p + p / 5), 1,
                 "4 periods have passed: the looks' lateness must not add up");
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + 10 * p), 6);
    cr_assert_eq(pit.next_ns, T0 + 11 * p);

    pit_load(&pit, 0x30, 11932); /* mode 0 */
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + p / 2), 0);
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + 5 * p), 1,
                 "mode 0: one tick, however late the look");
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + 50 * p), 0, "and never again");
    cr_assert_eq(pit.next_ns, 0);
    pit_load(&pit, 0x30, 11932);
    cr_assert_eq(mvm_pit_ticks(&pit, T0 + p), 1, "a new count re-arms it");
}

/* ---- TODO 3: injection ------------------------------------------------- */

/*
 * A real-mode guest whose IVT sends vector 0x20 to a handler at 0x1100
 * that prints 'I' on port 0xe9; the main program at 0x1000 halts.
 */
static const uint8_t main_hlt[] = {0xf4};
static const uint8_t handler_prints_i[] = {0xb0, 'I', 0xe6, 0xe9, 0xf4};
#define HANDLER_ADDR 0x1100

static void boot_ivt_guest(void)
{
    uint16_t ivt[2] = {HANDLER_ADDR, 0};

    boot_with_libvirtlab(main_hlt, sizeof(main_hlt));
    memcpy(vm.mem + HANDLER_ADDR, handler_prints_i, sizeof(handler_prints_i));
    memcpy(vm.mem + 4 * MVM_TIMER_VECTOR, ivt, sizeof(ivt));
}

/* kvm_run as KVM would leave it after an exit, then mvm_irq_deliver(). */
static void deliver_with(int ready, int if_flag)
{
    vm.run->ready_for_interrupt_injection = (uint8_t)ready;
    vm.run->if_flag = (uint8_t)if_flag;
    vm.run->request_interrupt_window = 0xaa; /* must be set either way */
    vl_assert_ok(mvm_irq_deliver(&vm));
}

Test(interrupts, deliver_injects_only_into_an_open_window)
{
    boot_ivt_guest();
    vm.irq.pending = 1;
    deliver_with(0, 0);
    cr_assert_eq(vm.irq.injected, 0, "IF = 0: no injection");
    cr_assert_eq(vm.irq.pending, 1, "the tick waits; it is never dropped");
    cr_assert_eq(vm.run->request_interrupt_window, 1,
                 "a tick waits: ask KVM to exit when the window opens");
    cr_assert_eq(vm.irq.window_requests, 1);
    deliver_with(0, 1);
    cr_assert_eq(vm.irq.injected, 0,
                 "IF = 1 in an interrupt shadow (after STI): not ready");
    cr_assert_eq(vm.run->request_interrupt_window, 1);
    deliver_with(1, 0);
    cr_assert_eq(vm.irq.injected, 0, "ready, but IF = 0: check both");
    deliver_with(1, 1);
    cr_assert_eq(vm.irq.injected, 1, "the window is open: inject");
    cr_assert_eq(vm.irq.pending, 0);
    cr_assert_eq(vm.run->request_interrupt_window, 0,
                 "nothing waits: no window needed (KVM would exit at every "
                 "STI for nothing)");
    cr_assert_eq(vm.irq.window_requests, 3);
    deliver_with(1, 1);
    cr_assert_eq(vm.irq.injected, 1, "nothing pending, nothing injected");
    cr_assert_eq(vm.run->request_interrupt_window, 0);

    vm.irq.pending = 3;
    deliver_with(1, 1);
    cr_assert_eq(vm.irq.injected, 2, "one injection per KVM_RUN");
    cr_assert_eq(vm.irq.pending, 2);
    cr_assert_eq(vm.run->request_interrupt_window, 1,
                 "two more wait: the window again, for the next");
}

Test(interrupts, injected_tick_runs_the_guests_handler_for_vector_0x20)
{
    struct kvm_regs regs;

    boot_ivt_guest();
    /* Closed window: nothing may reach the guest, which halts. */
    vm.irq.pending = 1;
    deliver_with(1, 0);
    cr_assert_eq(run_once(), KVM_EXIT_HLT,
                 "with IF = 0 the guest must run on to its HLT, got exit %u",
                 vm.run->exit_reason);
    cr_assert_str_eq(capture_text(&console), "");

    /* Open window, for real this time: IF = 1 in the vCPU too. */
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    regs.rip = MVM_LOAD_ADDR;
    regs.rflags = 0x202;
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_SET_REGS, &regs), 0);
    deliver_with(1, 1);
    cr_assert_eq(vm.irq.injected, 1);
    cr_assert_eq(run_once(), KVM_EXIT_IO,
                 "the handler of vector 0x%x prints: got exit %u",
                 MVM_TIMER_VECTOR, vm.run->exit_reason);
    cr_assert_eq(vm.run->io.port, MVM_DEBUG_PORT);
    cr_assert_eq(*((uint8_t *)vm.run + vm.run->io.data_offset), 'I',
                 "the guest ran the handler of vector 0x%x", MVM_TIMER_VECTOR);
}

/* ---- TODO 4: the run loop ---------------------------------------------- */

/* A guest of this lab in long mode, with minivm's 8254 on the bus. */
static void boot_timer_guest(const char *name)
{
    vm.opt.timer = true; /* mvm_run_guarded() runs mvm_irq_run() */
    vm.opt.max_exits = 5000;
    vm.opt.timeout_s = 5;
    boot_long_guest_file(name);
    vl_assert_ok(mvm_irq_setup(&vm));
}

/* The number after `label` in the guest's output. */
static uint64_t number_after(const char *out, const char *label)
{
    const char *p = strstr(out, label);

    cr_assert_not_null(p, "no \"%s\" in the guest's output:\n%s", label, out);
    return strtoull(p + strlen(label), NULL, 10);
}

Test(interrupts, ticks_guest_waits_in_hlt_and_is_kicked_while_spinning)
{
    const char *out;
    uint64_t n;

    boot_timer_guest("irq_ticks.bin");
    vl_assert_ok(mvm_run_guarded(&vm));
    out = capture_text(&console);
    cr_assert(vm.exited && vm.exit_status == GUEST_OK,
              "irq_ticks ends with the exit hypercall, status 0 (exited %d, "
              "status %d): \n%s",
              vm.exited, vm.exit_status, out);
    n = number_after(out, "irq_ticks: ");
    cr_assert_geq(n, TICKS_HLT + TICKS_SPIN, "%s", out);
    cr_assert_eq(n, vm.irq.injected,
                 "the guest counted %llu ticks, minivm injected %llu",
                 (unsigned long long)n, (unsigned long long)vm.irq.injected);
    cr_assert_eq(vm.irq.raised, vm.irq.injected + vm.irq.pending,
                 "every tick raised is injected or still pending: %llu "
                 "raised, %llu injected, %llu pending",
                 (unsigned long long)vm.irq.raised,
                 (unsigned long long)vm.irq.injected,
                 (unsigned long long)vm.irq.pending);
    cr_assert_geq(vm.irq.hlt_waits, 1,
                  "HLT with IF = 1 waits for the next tick (hlt_waits)");
    cr_assert_geq(vm.irq.kicks, 1,
                  "the ticks of the spin loop came through kicks");
}

Test(interrupts, cli_guest_gets_no_tick_inside_cli_and_each_one_after_sti)
{
    const char *out;

    boot_timer_guest("irq_cli.bin");
    vl_assert_ok(mvm_run_guarded(&vm));
    out = capture_text(&console);
    cr_assert(strstr(out, "irq_cli: one-shot: 0 ticks inside CLI, then it "
                          "arrived right after STI\n"),
              "the one-shot tick must wait for STI, then come at once (the "
              "interrupt window):\n%s",
              out);
    cr_assert_eq(number_after(out, "irq_cli: periodic: "), 0,
                 "no tick inside CLI:\n%s", out);
    cr_assert(vm.exited && vm.exit_status == GUEST_OK, "%s", out);
    cr_assert_geq(vm.irq.window_requests, 1, "window requests");
    cr_assert_geq(vm.irq.window_exits, 1,
                  "KVM_EXIT_IRQ_WINDOW_OPEN brought the ticks after STI");
    cr_assert_eq(vm.irq.pending, 0, "the guest stopped its timer: all in");
    cr_assert_eq(vm.irq.raised, vm.irq.injected,
                 "no tick lost: %llu raised, %llu injected",
                 (unsigned long long)vm.irq.raised,
                 (unsigned long long)vm.irq.injected);
    cr_assert_eq(
        number_after(strstr(out, "irq_cli: periodic: "), "inside CLI, then "),
        vm.irq.injected - 1,
        "the guest saw every tick of the CLI section after STI "
        "(%llu injected in all):\n%s",
        (unsigned long long)vm.irq.injected, out);
    cr_assert_geq(vm.irq.injected, 1 + CLI_SECTION_MS / 2,
                  "a 1 kHz timer through a %d ms CLI section", CLI_SECTION_MS);
}

Test(interrupts, run_loop_halts_for_good_and_keeps_its_limits)
{
    static const uint8_t cli_hlt[] = {0xfa, 0xf4};
    static const uint8_t sti_hlt[] = {0xfb, 0xf4};
    static const uint8_t print_loop[] = {0xb0, 'A', 0xe6, 0xe9, 0xeb, 0xfa};
    static const uint8_t spin[] = {0xeb, 0xfe};

    boot_with_libvirtlab(cli_hlt, sizeof(cli_hlt));
    cr_assert_eq(mvm_irq_run(&vm), 0, "cli; hlt: halted for good (%s)",
                 vl_errmsg());
    fresh_vm();
    boot_with_libvirtlab(sti_hlt, sizeof(sti_hlt));
    cr_assert_eq(mvm_irq_run(&vm), 0,
                 "sti; hlt with no timer: nothing can wake it, stop (%s)",
                 vl_errmsg());

    fresh_vm();
    vm.opt.max_exits = 5;
    boot_with_libvirtlab(print_loop, sizeof(print_loop));
    vl_assert_fails(mvm_irq_run(&vm), ELOOP, "--max-exits");
    cr_assert_eq(vm.exits, 5);

    /* A guest that never exits: only a signal stops it. A signal that is
     * not the kick - the --timeout guard's, which also sets kvm_run's
     * immediate_exit to 1 - ends the run with -EINTR. */
    fresh_vm();
    vm.opt.max_exits = 1000;
    boot_with_libvirtlab(spin, sizeof(spin));
    vm.run->immediate_exit = 1;
    vl_err_clear();
    cr_assert_eq(mvm_irq_run(&vm), -EINTR,
                 "KVM_RUN's EINTR was not the kick: return -EINTR (%s)",
                 vl_errmsg());
}

/* ---- part B: the in-kernel irqchip --------------------------------------- */

/* KVM, a VM and its RAM from libvirtlab (lab 01's reference), then the
 * irqchip as `minivm run --irqchip` makes it: before any vCPU. */
static void create_vm_with_irqchip(bool vcpu)
{
    struct vl_kvm kvm;
    struct vl_vm lvm;
    struct vl_vcpu cpu;
    void *mem;

    vl_assert_ok(vl_kvm_open(&kvm));
    vm.kvm_fd = kvm.fd;
    vl_assert_ok(vl_vm_create(&lvm, &kvm));
    vm.vm_fd = lvm.fd;
    vl_assert_ok(vl_vm_add_memory(&lvm, 0, 0, vm.opt.mem_size, 0, &mem));
    vm.mem = mem;
    vm.mem_size = vm.opt.mem_size;
    vl_assert_ok(mvm_irq_create_irqchip(&vm));
    if (!vcpu)
        return;
    vl_assert_ok(vl_vcpu_create(&cpu, &lvm, 0));
    vm.vcpu_fd = cpu.fd;
    vm.run = cpu.run;
    vm.run_size = cpu.run_size;
    vl_assert_ok(vl_vcpu_reset_real(&cpu, MVM_LOAD_ADDR, MVM_STACK_TOP));
}

static struct kvm_pic_state pic_master(void)
{
    struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_PIC_MASTER};

    cr_assert_eq(ioctl(vm.vm_fd, KVM_GET_IRQCHIP, &chip), 0,
                 "KVM_GET_IRQCHIP: %s", strerror(errno));
    return chip.chip.pic;
}

static uint32_t lapic_reg(unsigned reg)
{
    struct kvm_lapic_state s;
    uint32_t v;

    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_LAPIC, &s), 0, "KVM_GET_LAPIC");
    memcpy(&v, &s.regs[reg], sizeof(v));
    return v;
}

/* The LAPIC as a real CPU's comes out of reset (SDM Vol. 3A, "Local APIC
 * State After Power-Up or Reset"): software-disabled, LVT entries masked.
 * minivm asks KVM for that state; an old KVM may not know how. */
static void lapic_reset_state(void)
{
    struct kvm_lapic_state s;
    uint32_t masked = MVM_APIC_LVT_MASKED, svr = MVM_APIC_SPURIOUS_VEC;

    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_LAPIC, &s), 0, "KVM_GET_LAPIC");
    memcpy(&s.regs[MVM_APIC_LVT0], &masked, sizeof(masked));
    memcpy(&s.regs[MVM_APIC_LVT1], &masked, sizeof(masked));
    memcpy(&s.regs[MVM_APIC_SVR], &svr, sizeof(svr));
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_SET_LAPIC, &s), 0, "KVM_SET_LAPIC");
}

Test(interrupts, irqchip_and_pit_come_before_the_vcpu)
{
    struct kvm_pit_state2 pit;
    static const uint8_t hlt[] = {0xf4};

    create_vm_with_irqchip(false);
    cr_assert(vm.irq.irqchip, "mvm_irqchip_create() sets vm->irq.irqchip");
    pic_master(); /* KVM_GET_IRQCHIP works: there is a PIC */
    cr_assert_eq(ioctl(vm.vm_fd, KVM_GET_PIT2, &pit), 0,
                 "KVM_GET_PIT2: no in-kernel PIT (%s)", strerror(errno));
    fresh_vm();
    boot_with_libvirtlab(hlt, sizeof(hlt)); /* a vCPU exists already */
    vl_assert_fails(mvm_irqchip_create(&vm), EBUSY, "");
    cr_assert(!vm.irq.irqchip);
}

Test(interrupts, irq_line_drives_a_pic_input)
{
    struct kvm_pic_state pic;

    create_vm_with_irqchip(true);
    vl_assert_ok(mvm_irq_line(&vm, MVM_UART_IRQ, 1));
    pic = pic_master();
    cr_assert_eq(pic.last_irr & 0x10, 0x10, "IRQ 4 is high");
    cr_assert_eq(pic.irr & 0x10, 0x10, "the PIC latched the rising edge");
    vl_assert_ok(mvm_irq_line(&vm, MVM_UART_IRQ, 0));
    pic = pic_master();
    cr_assert_eq(pic.last_irr & 0x10, 0, "IRQ 4 is low again");
    cr_assert_eq(pic.irr & 0x10, 0x10, "an edge stays latched until taken");
    vl_assert_ok(mvm_irq_line(&vm, 3, 1));
    cr_assert_eq(pic_master().last_irr, 0x08, "IRQ 3 is GSI 3");

    fresh_vm();
    boot_with_libvirtlab(main_hlt, sizeof(main_hlt));
    vl_assert_fails(mvm_irq_line(&vm, MVM_UART_IRQ, 1), ENXIO, "");
}

Test(interrupts, virtual_wire_passes_the_pic_through_lint0)
{
    uint32_t svr;

    create_vm_with_irqchip(true);
    lapic_reset_state();
    vl_assert_ok(mvm_lapic_virtual_wire(&vm));
    cr_assert_eq(
        lapic_reg(MVM_APIC_LVT0), MVM_APIC_DM_EXTINT << MVM_APIC_DM_SHIFT,
        "LVT0: ExtINT, not masked (got 0x%x)", lapic_reg(MVM_APIC_LVT0));
    cr_assert_eq(lapic_reg(MVM_APIC_LVT1), MVM_APIC_DM_NMI << MVM_APIC_DM_SHIFT,
                 "LVT1: NMI, not masked (got 0x%x)", lapic_reg(MVM_APIC_LVT1));
    svr = lapic_reg(MVM_APIC_SVR);
    cr_assert(svr & MVM_APIC_SVR_ENABLE, "SVR: APIC software-enabled");
    cr_assert_eq(svr & 0xff, MVM_APIC_SPURIOUS_VEC, "SVR's spurious vector");

    fresh_vm();
    boot_with_libvirtlab(main_hlt, sizeof(main_hlt));
    vl_assert_fails(mvm_lapic_virtual_wire(&vm), ENXIO, "");
}

/* A guest of this lab in long mode with the in-kernel irqchip, set up as
 * `minivm run --irqchip` does. */
static void boot_irqchip_guest(const char *name)
{
    void *image;
    size_t len;

    vm.opt.irqchip = true;
    vm.opt.max_exits = 20000;
    vm.opt.timeout_s = 2;
    load_guest_file(name, &image, &len);
    create_vm_with_irqchip(true);
    memcpy(vm.mem + MVM_LOAD_ADDR, image, len);
    free(image);
    vl_assert_ok(mvm_build_page_tables(&vm));
    vl_assert_ok(mvm_enter_long(&vm, MVM_LOAD_ADDR));
    vl_assert_ok(mvm_setup_devices(&vm));
    vl_assert_ok(mvm_irq_setup(&vm));
}

Test(interrupts, pit_guest_ticks_inside_the_kernel)
{
    const char *out;

    boot_irqchip_guest("irq_pit.bin");
    vl_assert_ok(mvm_run_guarded(&vm));
    out = capture_text(&console);
    cr_assert_eq(number_after(out, "irq_pit: "), PIT_GUEST_TICKS, "%s", out);
    cr_assert(vm.exited && vm.exit_status == GUEST_OK, "%s", out);
    cr_assert_leq(vm.exits, 10,
                  "the PIC, the PIT, HLT and the interrupts stay in the "
                  "kernel: %llu exits for 3 hypercalls",
                  (unsigned long long)vm.exits);
    cr_assert_eq(vm.irq.raised, 0, "minivm's own timer was not used");
}

/* Wait up to 500 ms for the PIC's IRR to show `bits`. */
static uint8_t wait_irr(uint8_t bits)
{
    uint8_t irr = 0;

    for (int i = 0; i < 500; i++) {
        irr = pic_master().irr;
        if ((irr & bits) == bits)
            break;
        usleep(1000);
    }
    return irr;
}

Test(interrupts, irqfd_pulses_its_line)
{
    uint64_t one = 1;
    struct kvm_pic_state pic;
    int fd;

    create_vm_with_irqchip(true);
    fd = (int)vl_assert_ok(mvm_irqfd(&vm, MVM_UART_IRQ));
    cr_assert_eq(pic_master().irr, 0);
    cr_assert_eq(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
    cr_assert_eq(wait_irr(0x10), 0x10,
                 "a write to the eventfd raises IRQ 4 (the GSI, not the "
                 "vector 0x%x): PIC IRR 0x%02x",
                 UART_VECTOR, pic_master().irr);
    pic = pic_master();
    cr_assert_eq(pic.last_irr & 0x10, 0, "an irqfd pulses: the line is low");
    close(fd);

    fresh_vm();
    boot_with_libvirtlab(main_hlt, sizeof(main_hlt));
    vl_assert_fails(mvm_irqfd(&vm, MVM_UART_IRQ), ENXIO, "");
}

/* Set the UART's registers through lab 04's model. */
static void uart_set(unsigned reg, uint8_t v)
{
    mvm_uart_write(&vm.uart, reg, v);
}

static int irq4_level(void)
{
    return !!(pic_master().last_irr & 0x10);
}

Test(interrupts, uart_line_follows_the_uart)
{
    uint64_t n = 0;
    int efd;

    create_vm_with_irqchip(true);
    vm.uart = (struct mvm_uart){.lsr = UART_LSR_TEMT | UART_LSR_THRE};

    /* Received data, enabled in IER, through OUT2: the line goes high. */
    uart_set(UART_IER, UART_IER_RDI);
    uart_set(UART_MCR, UART_MCR_OUT2);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 0, "nothing received: low");
    mvm_uart_receive(&vm.uart, 'a');
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 1, "data ready and IER.RDI: IRQ 4 high");
    cr_assert(vm.irq.uart_line);
    cr_assert_eq(vm.irq.uart_edges, 1);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(vm.irq.uart_edges, 1, "still high: no new edge");
    mvm_uart_read(&vm.uart, UART_RX);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 0,
                 "the guest read the byte: IRQ 4 must go low, or the next "
                 "byte makes no edge");
    cr_assert(!vm.irq.uart_line);

    /* The PC's gate: no OUT2 (or loopback), no IRQ. */
    uart_set(UART_MCR, 0);
    mvm_uart_receive(&vm.uart, 'b');
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 0, "MCR.OUT2 clear: the line stays low");
    uart_set(UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 0, "in loopback: low");
    uart_set(UART_MCR, UART_MCR_OUT2);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 1, "OUT2 again, data still there: high");
    uart_set(UART_IER, 0);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 0, "IER 0: low");

    /* The other sources: THR empty, a modem status change. */
    vm.uart.thr_ipending = true;
    uart_set(UART_IER, UART_IER_THRI);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 1, "THR empty and IER.THRI: high");
    cr_assert_eq(mvm_uart_read(&vm.uart, UART_IIR) & UART_IIR_ID,
                 UART_IIR_THRI);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 0, "IIR read cleared THR empty: low");
    uart_set(UART_IER, UART_IER_MSI);
    vm.uart.msr |= UART_MSR_DDCD;
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 1, "a modem status change and IER.MSI: high");
    mvm_uart_read(&vm.uart, UART_MSR);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(irq4_level(), 0);

    /* With an irqfd: one write per rising edge, nothing when it falls. */
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    cr_assert_geq(efd, 0);
    vm.irq.uart_irqfd = efd; /* not bound to KVM: the test counts */
    vm.uart.msr |= UART_MSR_DDCD;
    vl_assert_ok(mvm_uart_update_irq(&vm));
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(read(efd, &n, sizeof(n)), (ssize_t)sizeof(n),
                 "a rising edge writes the irqfd");
    cr_assert_eq(n, 1, "one edge, one event (got %llu)", (unsigned long long)n);
    mvm_uart_read(&vm.uart, UART_MSR);
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(read(efd, &n, sizeof(n)), -1, "falling: nothing to send");
    vm.uart.msr |= UART_MSR_DDCD;
    vl_assert_ok(mvm_uart_update_irq(&vm));
    cr_assert_eq(read(efd, &n, sizeof(n)), (ssize_t)sizeof(n));
    cr_assert_eq(n, 1, "the next edge");
    vm.irq.uart_irqfd = -1;
    close(efd);
}

/* The other end of the serial line: writes the chunks, with pauses, so
 * the input comes while the guest sleeps in HLT; then hangs up. */
struct writer {
    int fd;
    const char *const *chunks;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct timespec pause = {.tv_nsec = 30 * 1000000L};

    for (const char *const *c = w->chunks; *c; c++) {
        nanosleep(&pause, NULL);
        if (write(w->fd, *c, strlen(*c)) < 0)
            break;
    }
    close(w->fd);
    return NULL;
}

Test(interrupts, uart_guest_echoes_its_input_with_interrupts)
{
    static const char *const chunks[] = {
        "hello, minivm\n",
        "interrupts ",
        "arrive while the vCPU sleeps\n",
        "0123456789abcdefghijklmnopqrstuvwxyz 0123456789abcdefghijklmnopqrstu"
        "vwxyz 0123456789abcdefghijklmnopqrstuvwxyz\n",
        NULL,
    };
    int p[2];
    pthread_t t;
    struct writer w;
    int r;

    cr_assert_eq(pipe(p), 0);
    vm.opt.input_fd = p[0];
    boot_irqchip_guest("irq_uart.bin");
    w = (struct writer){.fd = p[1], .chunks = chunks};
    cr_assert_eq(pthread_create(&t, NULL, writer_main, &w), 0);
    r = mvm_run_guarded(&vm);
    pthread_join(t, NULL);
    close(p[0]);
    vl_assert_ok(r);
    cr_assert_str_eq(capture_text(&console),
                     "HELLO, MINIVM\n"
                     "INTERRUPTS ARRIVE WHILE THE VCPU SLEEPS\n"
                     "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789ABCDEFGH"
                     "IJKLMNOPQRSTUVWXYZ 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
                     "irq_uart: 3 lines, then the line hung up\n");
    cr_assert(vm.exited && vm.exit_status == GUEST_OK,
              "irq_uart exits 0 (status %d)", vm.exit_status);
    /* How many edges depends on the machine's speed: a chunk that comes
     * before the guest emptied the receiver makes none. */
    cr_assert_geq(vm.irq.uart_edges, 1, "IRQ 4 rose through the irqfd");
}
