/*
 * interrupts.c - minivm stage 6: interrupts.
 *
 * Until now the guest asked and minivm answered: every exit came from
 * something the guest did (an OUT, an MMIO access, a HLT), and input was
 * polled. Real devices speak first: a timer expires, a byte arrives, and
 * the CPU stops whatever it runs to call the handler the guest's IDT
 * names. In this lab minivm learns to interrupt its guest, in two steps:
 *
 *  A. No interrupt controller in the kernel. minivm emulates an 8254
 *     timer itself and injects its tick with KVM_INTERRUPT, but only when
 *     the guest can take it (IF=1, no interrupt shadow); otherwise it
 *     asks KVM to exit as soon as it can (request_interrupt_window). A
 *     timer signal kicks a vCPU that spins inside KVM_RUN, and HLT with
 *     interrupts on means "wait for the next tick", not "stop".
 *  B. KVM's in-kernel irqchip: the 8259 PICs, the IOAPIC, a local APIC
 *     and the 8254 PIT, emulated inside the kernel, where delivery and
 *     HLT cost no exit. minivm only drives device lines: KVM_IRQ_LINE, or
 *     an irqfd that another thread signals with a write to an eventfd -
 *     the UART's IRQ 4 when input arrives while the vCPU sleeps in HLT.
 *
 * References: Documentation/virt/kvm/api.rst 4.16 (KVM_INTERRUPT), 4.24
 * (KVM_CREATE_IRQCHIP), 4.25 (KVM_IRQ_LINE), 4.57 and 4.58 (KVM_GET_LAPIC,
 * KVM_SET_LAPIC), 4.71 (KVM_CREATE_PIT2), 4.75 (KVM_IRQFD), 5 (kvm_run:
 * request_interrupt_window, ready_for_interrupt_injection, if_flag,
 * immediate_exit); Intel SDM Vol. 3A, chapter 6 "Interrupt and Exception
 * Handling" and the chapter "Advanced Programmable Interrupt Controller
 * (APIC)"; the Intel 8254 and 8259A data sheets; PC16550D data sheet
 * ("Interrupt Identification Register"). labs/06-interrupts/README.md
 * walks through the steps.
 */
#define MVM_LAB        "06-interrupts"
#define MVM_STAGE_FILE "interrupts.c"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "minivm.h"

#define NS_PER_S 1000000000ULL

/* ---- part A: minivm injects ------------------------------------------ */

/*
 * TODO 1: the guest writes `value` to register `reg` of minivm's 8254
 * (MVM_PIT_PORT + reg; Intel 8254 data sheet, "Control Word Format",
 * "Write Operations"). `now_ns` is CLOCK_MONOTONIC: when the write
 * happens. minivm emulates counter 0, the one wired to IRQ 0 on a PC;
 * everything else is refused with -EINVAL and a message that says what
 * minivm does not emulate (a VMM that ignores a register it does not
 * know leaves the guest waiting for a tick that never comes).
 *  reg 3, the control word: SC1 SC0 | RW1 RW0 | M2 M1 M0 | BCD.
 *     - SC (bits 7:6): 0 selects counter 0; 1 and 2 are the other
 *       counters, 3 the read-back command: refuse;
 *     - RW (bits 5:4): how counts are written: MVM_PIT_RW_LSB, _MSB or
 *       _LSB_MSB (low byte, then high byte); 0 latches the count for a
 *       read, which minivm does not emulate: refuse;
 *     - M (bits 3:1): modes 0 (interrupt on terminal count: one tick),
 *       2 (rate generator) and 3 (square wave: periodic too); 6 and 7
 *       are 2 and 3 again (the data sheet's "X10", "X11"); refuse 1, 4
 *       and 5;
 *     - BCD (bit 0): refuse.
 *     Keep mode and rw. A control word stops the counter until its new
 *     count is written (next_ns = 0) and restarts the LSB/MSB sequence.
 *  reg 0, counter 0's count: one byte for RW_LSB (the MSB is 0) or
 *     RW_MSB (the LSB is 0); for RW_LSB_MSB the first byte is the LSB,
 *     kept in pit->lsb, and the count loads with the second. No control
 *     word yet (rw 0): refuse. A count loads like this:
 *     - a count of 0 means 65536, the largest (the counter wraps);
 *     - in mode 2 a count of 1 is illegal (data sheet, "Mode 2"): refuse;
 *     - period_ns = count / MVM_PIT_HZ seconds, in nanoseconds, rounded
 *       to the nearest; never below MVM_PIT_MIN_PERIOD_NS;
 *     - the first tick is one period after now_ns (next_ns).
 *  reg 1 and 2, counters 1 and 2: refuse.
 * Return 0.
 */
int mvm_pit_write(struct mvm_pit *pit, uint64_t now_ns, unsigned reg,
                  uint8_t value)
{
    /* SOLUTION BEGIN */
    /* stub: (void)pit; */
    /* stub: (void)now_ns; */
    /* stub: (void)reg; */
    /* stub: (void)value; */
    /* stub: return MVM_TODO(1, "emulate the 8254's counter 0"); */
    unsigned sc = value >> MVM_PIT_SC_SHIFT;
    unsigned rw = (value >> MVM_PIT_RW_SHIFT) & 3;
    unsigned mode = (value >> MVM_PIT_MODE_SHIFT) & 7;
    uint32_t count;

    if (reg == 3) {
        if (sc != 0)
            return vl_err_plain(
                EINVAL,
                "8254 control word 0x%02x: %s is not "
                "emulated (minivm has counter 0 only)",
                value, sc == 3 ? "the read-back command" : "counter 1 or 2");
        if (rw == 0)
            return vl_err_plain(EINVAL,
                                "8254 control word 0x%02x: the counter latch "
                                "command is not emulated (minivm's PIT "
                                "cannot be read)",
                                value);
        if (mode >= 6)
            mode -= 4;
        if (mode != 0 && mode != 2 && mode != 3)
            return vl_err_plain(EINVAL,
                                "8254 control word 0x%02x: mode %u is not "
                                "emulated (use mode 0, 2 or 3)",
                                value, mode);
        if (value & MVM_PIT_BCD)
            return vl_err_plain(EINVAL,
                                "8254 control word 0x%02x: BCD counting is "
                                "not emulated",
                                value);
        pit->mode = (uint8_t)mode;
        pit->rw = (uint8_t)rw;
        pit->msb_next = false;
        pit->next_ns = 0;
        return 0;
    }
    if (reg != 0)
        return vl_err_plain(EINVAL,
                            "8254 port 0x%x: counter %u is not emulated "
                            "(minivm has counter 0 only)",
                            MVM_PIT_PORT + reg, reg);
    switch (pit->rw) {
    case MVM_PIT_RW_LSB:
        count = value;
        break;
    case MVM_PIT_RW_MSB:
        count = (uint32_t)value << 8;
        break;
    case MVM_PIT_RW_LSB_MSB:
        if (!pit->msb_next) {
            pit->lsb = value;
            pit->msb_next = true;
            return 0;
        }
        pit->msb_next = false;
        count = pit->lsb | (uint32_t)value << 8;
        break;
    default:
        return vl_err_plain(EINVAL, "8254 counter 0 written before any "
                                    "control word (port 0x43)");
    }
    if (count == 0)
        count = 0x10000;
    if (count == 1 && pit->mode == 2)
        return vl_err_plain(EINVAL, "8254 counter 0: a count of 1 is illegal "
                                    "in mode 2");
    pit->count = count;
    pit->period_ns = (count * NS_PER_S + MVM_PIT_HZ / 2) / MVM_PIT_HZ;
    if (pit->period_ns < MVM_PIT_MIN_PERIOD_NS)
        pit->period_ns = MVM_PIT_MIN_PERIOD_NS;
    pit->next_ns = now_ns + pit->period_ns;
    return 0;
    /* SOLUTION END */
}

/*
 * TODO 2: how many ticks has counter 0 produced up to `now_ns`? The
 * counter runs in the hardware whether anyone looks or not; minivm only
 * looks from time to time (at each exit, or when its timer signal
 * arrives, a little late). So compute the ticks from the clock, never
 * from the number of looks:
 *  - nothing loaded (next_ns 0), or now_ns before next_ns: 0;
 *  - mode 0 fires once: next_ns = 0, return 1 (a new count re-arms it);
 *  - modes 2 and 3 are periodic: every period that ended at or before
 *    now_ns is a tick. Advance next_ns by whole periods, from where it
 *    was: next_ns = now_ns + period_ns would drift a little later at
 *    each look, and the guest's clock would run slow.
 */
uint64_t mvm_pit_ticks(struct mvm_pit *pit, uint64_t now_ns)
{
    /* SOLUTION BEGIN */
    /* stub: (void)pit; */
    /* stub: (void)now_ns; */
    /* stub: MVM_TODO(2, "count the timer's ticks"); */
    /* stub: return 0; */
    uint64_t n;

    if (!pit->next_ns || now_ns < pit->next_ns)
        return 0;
    if (pit->mode == 0) {
        pit->next_ns = 0;
        return 1;
    }
    n = (now_ns - pit->next_ns) / pit->period_ns + 1;
    pit->next_ns += n * pit->period_ns;
    return n;
    /* SOLUTION END */
}

/*
 * TODO 3: deliver the ticks that wait in vm->irq.pending, as far as the
 * guest can take them now. The guest blocks interrupts with RFLAGS.IF = 0
 * (CLI), and for one instruction after STI or MOV SS (the "interrupt
 * shadow"; Intel SDM Vol. 3A, 6.8.1 and 6.8.3). KVM reports both in
 * kvm_run, as they were when KVM_RUN returned (api.rst 5):
 * ready_for_interrupt_injection (no shadow, nothing else in the way) and
 * if_flag. Inject only when both are 1: KVM_INTERRUPT (api.rst 4.16) with
 * vector MVM_TIMER_VECTOR queues the interrupt for the next KVM_RUN and
 * does NOT check IF itself - a VMM that injects into a closed window
 * hands the guest an interrupt in the middle of its CLI section (or fails
 * the VM entry, depending on the hardware). One injection per KVM_RUN:
 * pending--, injected++.
 * If ticks still wait (the window was closed, or more than one is
 * pending), set run->request_interrupt_window = 1: KVM then exits with
 * KVM_EXIT_IRQ_WINDOW_OPEN as soon as the guest can take an interrupt,
 * so minivm can inject it at once; count it in window_requests. Else set
 * request_interrupt_window = 0, or KVM exits at every STI for nothing.
 * Ticks are never dropped: a tick that comes while the guest has IF=0
 * waits, like an 8259's IRR bit (minivm keeps a count, as KVM's PIT does
 * in its "reinject" mode).
 */
int mvm_irq_deliver(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(3, "inject the pending ticks"); */
    struct kvm_run *run = vm->run;
    struct mvm_irq *irq = &vm->irq;

    if (irq->pending && run->ready_for_interrupt_injection && run->if_flag) {
        struct kvm_interrupt intr = {.irq = MVM_TIMER_VECTOR};

        if (ioctl(vm->vcpu_fd, KVM_INTERRUPT, &intr) < 0)
            return vl_err(errno, "KVM_INTERRUPT vector 0x%x", MVM_TIMER_VECTOR);
        irq->pending--;
        irq->injected++;
    }
    run->request_interrupt_window = irq->pending ? 1 : 0;
    if (irq->pending)
        irq->window_requests++;
    return 0;
    /* SOLUTION END */
}
/* SOLUTION BEGIN */

/* Part A's timer: the ticks due by now join the pending ones. */
static void timer_poll(struct minivm *vm)
{
    uint64_t n;

    if (!vm->irq.timer)
        return;
    n = mvm_pit_ticks(&vm->irq.pit, mvm_now_ns());
    vm->irq.raised += n;
    vm->irq.pending += n;
}
/* SOLUTION END */

/*
 * TODO 4: the run loop of lab 01 (mvm_run), grown for interrupts. Each
 * time round:
 *  - the --max-exits limit, as in lab 01 (-ELOOP, naming --max-exits);
 *  - when minivm's timer is on (vm->irq.timer): the ticks due by now
 *    (mvm_pit_ticks(&vm->irq.pit, mvm_now_ns())) join vm->irq.pending
 *    and count in vm->irq.raised;
 *  - mvm_irq_deliver() (TODO 3);
 *  - mvm_irq_kick_at(vm, vm->irq.pit.next_ns): a guest that spins with
 *    no exits would keep KVM_RUN busy forever and never get its tick, so
 *    minivm's driver sends this thread a signal at the next tick, as
 *    QEMU kicks its vCPU threads (0 means no tick: no signal);
 *  - KVM_RUN. EINTR: if mvm_irq_kicked(vm) says it was the kick, count it
 *    in vm->exits and vm->irq.kicks, trace it, and go round again;
 *    otherwise another signal (the --timeout guard) ends the run: return
 *    -EINTR;
 *  - count the exit in vm->exits and trace it (vm->opt.trace), then:
 *    - KVM_EXIT_IRQ_WINDOW_OPEN: the window asked for in TODO 3 is open:
 *      count it in vm->irq.window_exits, go round (TODO 3 injects);
 *    - KVM_EXIT_HLT with if_flag 1: the guest waits for an interrupt
 *      (the "sti; hlt" idiom of every idle loop). Count it in
 *      vm->irq.hlt_waits; if ticks are pending, go round at once; if the
 *      timer is on and armed (vm->irq.timer, vm->irq.pit.next_ns != 0),
 *      mvm_irq_wait(vm, vm->irq.pit.next_ns) sleeps until its next tick
 *      (return its error); if nothing can ever interrupt the guest, it
 *      halted for good: return 0;
 *    - KVM_EXIT_HLT with if_flag 0: nothing will wake it: return 0, as
 *      in lab 01;
 *    - anything else: mvm_handle_exit() (lab 01), and stop as mvm_run
 *      does on MVM_STOP (0) or an error.
 * `minivm run --timer` runs this loop. With the in-kernel irqchip (part
 * B) KVM handles HLT and delivery inside the kernel: lab 01's loop does.
 */
int mvm_irq_run(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(4, "the run loop with interrupts"); */
    struct kvm_run *run = vm->run;
    int r;

    for (;;) {
        if (vm->opt.max_exits && vm->exits >= vm->opt.max_exits)
            return vl_err_plain(ELOOP,
                                "guest still running after %llu exits "
                                "(--max-exits): a loop that never halts? "
                                "Raise --max-exits if it should run longer",
                                (unsigned long long)vm->exits);
        timer_poll(vm);
        if ((r = mvm_irq_deliver(vm)) < 0)
            return r;
        if ((r = mvm_irq_kick_at(vm, vm->irq.pit.next_ns)) < 0)
            return r;
        if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno != EINTR)
                return vl_err(errno, "KVM_RUN");
            if (!mvm_irq_kicked(vm))
                return -EINTR;
            vm->exits++;
            vm->irq.kicks++;
            if (vm->opt.trace)
                mvm_trace_exit(vm);
            continue;
        }
        vm->exits++;
        if (vm->opt.trace)
            mvm_trace_exit(vm);
        switch (run->exit_reason) {
        case KVM_EXIT_IRQ_WINDOW_OPEN:
            vm->irq.window_exits++;
            continue;
        case KVM_EXIT_HLT:
            if (!run->if_flag)
                return 0;
            vm->irq.hlt_waits++;
            if (vm->irq.pending)
                continue;
            if (!vm->irq.timer || !vm->irq.pit.next_ns)
                return 0;
            if ((r = mvm_irq_wait(vm, vm->irq.pit.next_ns)) < 0)
                return r;
            continue;
        default:
            break;
        }
        r = mvm_handle_exit(vm);
        if (r < 0)
            return r;
        if (r == MVM_STOP)
            return 0;
    }
    /* SOLUTION END */
}

/* ---- part B: the in-kernel irqchip ----------------------------------- */

/*
 * TODO 5: the in-kernel irqchip. KVM_CREATE_IRQCHIP (api.rst 4.24) gives
 * the VM the interrupt controllers of a PC, emulated inside the kernel:
 * the two 8259 PICs, an IOAPIC, and a local APIC for every vCPU created
 * afterwards - so it must come before the first KVM_CREATE_VCPU (-EBUSY
 * with a message if a vCPU exists: vm->vcpu_fd >= 0). KVM_CREATE_PIT2
 * (api.rst 4.71) adds the 8254 on ports 0x40-0x43, its counter 0 on IRQ
 * 0; flags KVM_PIT_SPEAKER_DUMMY also answers port 0x61 (the speaker and
 * counter 2's gate), which guests probe. Set vm->irq.irqchip.
 * From now on KVM handles HLT, the PIC's and the PIT's ports, and the
 * delivery of interrupts inside the kernel: none of them exits to minivm.
 */
int mvm_irqchip_create(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(5, "create the in-kernel irqchip and PIT"); */
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

    if (vm->vcpu_fd >= 0)
        return vl_err_plain(EBUSY, "KVM_CREATE_IRQCHIP must come before the "
                                   "first vCPU is created");
    if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return vl_err(errno, "KVM_CREATE_IRQCHIP");
    if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
        return vl_err(errno, "KVM_CREATE_PIT2");
    vm->irq.irqchip = true;
    return 0;
    /* SOLUTION END */
}

/*
 * TODO 6: raise or lower an interrupt line of the in-kernel irqchip with
 * KVM_IRQ_LINE (api.rst 4.25): `irq` is the GSI, which for ISA devices is
 * their IRQ number (the UART at 0x3f8 is IRQ 4), and `level` 1 or 0 is
 * the wire's level. The ISA inputs of the 8259 are edge-triggered (8259A
 * data sheet, ICW1's LTIM = 0, what every PC uses): the PIC latches a
 * request in its IRR when a line goes from low to high, so a line that
 * stays high interrupts once - it must go low before it can interrupt
 * again. No irqchip (vm->irq.irqchip false): -ENXIO with a message.
 */
int mvm_irq_line(struct minivm *vm, unsigned irq, int level)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm, (void)irq, (void)level; */
    /* stub: return MVM_TODO(6, "drive an interrupt line"); */
    struct kvm_irq_level line = {.irq = irq, .level = level};

    if (!vm->irq.irqchip)
        return vl_err_plain(ENXIO, "no in-kernel irqchip: call "
                                   "mvm_irqchip_create() first");
    if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0)
        return vl_err(errno, "KVM_IRQ_LINE %u level %d", irq, level);
    return 0;
    /* SOLUTION END */
}

/* The local APIC's registers are 32-bit words in struct kvm_lapic_state,
 * in the x86's byte order. */
static uint32_t lapic_get(const struct kvm_lapic_state *s, unsigned reg)
{
    uint32_t v;

    memcpy(&v, &s->regs[reg], sizeof(v));
    return v;
}

static void lapic_set(struct kvm_lapic_state *s, unsigned reg, uint32_t v)
{
    memcpy(&s->regs[reg], &v, sizeof(v));
}

/*
 * TODO 7: connect the 8259 to the CPU through the local APIC: "virtual
 * wire mode" (Intel MultiProcessor Specification 1.4, 3.6.2.2; SDM Vol.
 * 3A, APIC chapter, "Local Vector Table"). With a local APIC, the PIC's INTR
 * output reaches the CPU through the APIC's LINT0 pin, and LINT0 delivers
 * nothing until its LVT entry says how. Out of reset the LVT entries are
 * masked and the APIC is software-disabled (SDM Vol. 3A, "Local APIC
 * State After Power-Up or Reset"); a
 * PC's firmware sets virtual wire mode before it boots the OS, and minivm
 * is the firmware here. Read the LAPIC with KVM_GET_LAPIC (api.rst 4.57:
 * its register page, a 32-bit register at each MVM_APIC_* offset), then:
 *  - SVR: software-enable the APIC (MVM_APIC_SVR_ENABLE) with spurious
 *    vector MVM_APIC_SPURIOUS_VEC (while it is disabled, every LVT entry
 *    stays masked);
 *  - LVT0: delivery mode ExtINT (MVM_APIC_DM_EXTINT <<
 *    MVM_APIC_DM_SHIFT), not masked: "ask the 8259 for the vector";
 *  - LVT1: delivery mode NMI, not masked (a PC wires NMI to LINT1);
 * and write it back with KVM_SET_LAPIC (4.58). No irqchip: -ENXIO.
 * (lapic_get() and lapic_set() read and write one register.)
 */
int mvm_lapic_virtual_wire(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)lapic_get; */
    /* stub: (void)lapic_set; */
    /* stub: return MVM_TODO(7, "set the LAPIC's virtual wire mode"); */
    struct kvm_lapic_state s;
    uint32_t svr;

    if (!vm->irq.irqchip)
        return vl_err_plain(ENXIO, "no in-kernel irqchip, so no local APIC: "
                                   "call mvm_irqchip_create() first");
    if (ioctl(vm->vcpu_fd, KVM_GET_LAPIC, &s) < 0)
        return vl_err(errno, "KVM_GET_LAPIC");
    svr = lapic_get(&s, MVM_APIC_SVR) & ~0xffu;
    lapic_set(&s, MVM_APIC_SVR,
              svr | MVM_APIC_SVR_ENABLE | MVM_APIC_SPURIOUS_VEC);
    lapic_set(&s, MVM_APIC_LVT0, MVM_APIC_DM_EXTINT << MVM_APIC_DM_SHIFT);
    lapic_set(&s, MVM_APIC_LVT1, MVM_APIC_DM_NMI << MVM_APIC_DM_SHIFT);
    if (ioctl(vm->vcpu_fd, KVM_SET_LAPIC, &s) < 0)
        return vl_err(errno, "KVM_SET_LAPIC");
    return 0;
    /* SOLUTION END */
}

/*
 * TODO 8: an irqfd for interrupt line `gsi` (api.rst 4.75, KVM_IRQFD):
 * make an eventfd (eventfd(2); EFD_CLOEXEC | EFD_NONBLOCK) and bind it to
 * the GSI with KVM_IRQFD. From then on, any thread (or process, or the
 * kernel itself: vhost, VFIO) that adds to the eventfd's counter makes
 * KVM pulse the line - raise it and lower it at once, one edge - without
 * an ioctl on the VM and without waiting for the vCPU, even while it
 * sleeps inside KVM_RUN in HLT. `gsi` is the interrupt line (4 for the
 * UART), not the vector the guest's PIC turns it into. Return the fd;
 * close it again if KVM refuses. No irqchip: -ENXIO.
 */
int mvm_irqfd(struct minivm *vm, unsigned gsi)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)gsi; */
    /* stub: return MVM_TODO(8, "bind an eventfd to an interrupt line"); */
    struct kvm_irqfd req;
    int fd, r;

    if (!vm->irq.irqchip)
        return vl_err_plain(ENXIO, "no in-kernel irqchip: an irqfd needs "
                                   "mvm_irqchip_create() first");
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return vl_err(errno, "eventfd");
    req = (struct kvm_irqfd){.fd = (uint32_t)fd, .gsi = gsi};
    if (ioctl(vm->vm_fd, KVM_IRQFD, &req) < 0) {
        r = vl_err(errno, "KVM_IRQFD gsi %u", gsi);
        close(fd);
        return r;
    }
    return fd;
    /* SOLUTION END */
}

/*
 * TODO 9: the UART's interrupt output, wired to IRQ 4. The 16550 asks for
 * an interrupt while one of the conditions its IER enables holds - the
 * ones IIR reports (lab 04's mvm_uart_read(), register 2; PC16550D,
 * "Interrupt Identification Register"): a line status error (IER.RLSI
 * and one of LSR.OE/PE/FE/BI), received data (IER.RDI and LSR.DR), THR
 * empty (IER.THRI and uart->thr_ipending), a modem status change (IER.MSI
 * and an MSR delta bit). On a PC the chip's INTR pin reaches the ISA bus
 * only through a gate that MCR.OUT2 opens - the reason Linux's 8250
 * driver sets OUT2 - and in loopback (MCR.LOOP) the OUT pins are
 * disconnected, so the line stays low. Compute that level (without
 * touching the UART: reading IIR would clear THR empty).
 * If it equals vm->irq.uart_line, nothing happens. Else record it there,
 * and tell the irqchip:
 *  - rising, with an irqfd (vm->irq.uart_irqfd >= 0): add 1 to the
 *    eventfd (an 8-byte write, eventfd(2)) - KVM pulses IRQ 4; count the
 *    edge in vm->irq.uart_edges;
 *  - rising, without one: mvm_irq_line(vm, MVM_UART_IRQ, 1); count it;
 *  - falling: without an irqfd, mvm_irq_line(vm, MVM_UART_IRQ, 0); with
 *    one, nothing (the pulse already lowered the line).
 * The 8259 is edge-triggered: the next interrupt needs a new rising edge,
 * which only comes if the falling one was seen - minivm must notice when
 * the guest empties the receiver. The caller holds the UART's lock: the
 * vCPU thread (the guest reads and writes registers) and minivm's input
 * thread (a byte arrives) both call this.
 */
int mvm_uart_update_irq(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(9, "drive the UART's interrupt line"); */
    const struct mvm_uart *u = &vm->uart;
    bool level, pending;
    uint64_t one = 1;

    pending =
        ((u->ier & UART_IER_RLSI) && (u->lsr & UART_LSR_BRK_ERROR_BITS)) ||
        ((u->ier & UART_IER_RDI) && (u->lsr & UART_LSR_DR)) ||
        ((u->ier & UART_IER_THRI) && u->thr_ipending) ||
        ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_ANY_DELTA));
    level = pending && (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP);
    if (level == vm->irq.uart_line)
        return 0;
    vm->irq.uart_line = level;
    if (level)
        vm->irq.uart_edges++;
    if (vm->irq.uart_irqfd < 0)
        return mvm_irq_line(vm, MVM_UART_IRQ, level);
    if (!level)
        return 0;
    if (write(vm->irq.uart_irqfd, &one, sizeof(one)) != sizeof(one))
        return vl_err(errno, "signalling the UART's irqfd");
    return 0;
    /* SOLUTION END */
}
