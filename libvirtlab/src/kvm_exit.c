/*
 * kvm_exit.c - exits and vCPU state as text (virtlab/kvm_exit.h).
 * Reference: api.rst section 5, "The kvm_run structure"; Intel SDM Vol. 3C,
 * Appendix C "VMX Basic Exit Reasons"; AMD APM Vol. 2, 15.6 "#VMEXIT".
 */
#include "virtlab/kvm_exit.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <string.h>

#include "outbuf.h"
#include "virtlab/x86_check.h"

static const char *const reason_names[] = {
#define R(n) [KVM_EXIT_##n] = "KVM_EXIT_" #n
    R(UNKNOWN),
    R(EXCEPTION),
    R(IO),
    R(HYPERCALL),
    R(DEBUG),
    R(HLT),
    R(MMIO),
    R(IRQ_WINDOW_OPEN),
    R(SHUTDOWN),
    R(FAIL_ENTRY),
    R(INTR),
    R(SET_TPR),
    R(TPR_ACCESS),
    R(S390_SIEIC),
    R(S390_RESET),
    R(DCR),
    R(NMI),
    R(INTERNAL_ERROR),
    R(OSI),
    R(PAPR_HCALL),
    R(S390_UCONTROL),
    R(WATCHDOG),
    R(S390_TSCH),
    R(EPR),
    R(SYSTEM_EVENT),
    R(S390_STSI),
    R(IOAPIC_EOI),
    R(HYPERV),
    R(ARM_NISV),
    R(X86_RDMSR),
    R(X86_WRMSR),
    R(DIRTY_RING_FULL),
    R(AP_RESET_HOLD),
    R(X86_BUS_LOCK),
    R(XEN),
    R(RISCV_SBI),
    R(RISCV_CSR),
    R(NOTIFY),
#undef R
};

const char *vl_exit_reason_name(uint32_t reason)
{
    static __thread char other[32];

    if (reason < sizeof(reason_names) / sizeof(reason_names[0]) &&
        reason_names[reason])
        return reason_names[reason];
    snprintf(other, sizeof(other), "KVM_EXIT_%u", reason);
    return other;
}

/* x86 exception vectors (SDM Vol. 3A, 6.15 "Exception and Interrupt
 * Reference"). */
static const char *exception_name(unsigned vector)
{
    static const char *const names[] = {
        "#DE divide error",
        "#DB debug",
        "NMI",
        "#BP breakpoint",
        "#OF overflow",
        "#BR bound range",
        "#UD invalid opcode",
        "#NM device not available",
        "#DF double fault",
        "coprocessor overrun",
        "#TS invalid TSS",
        "#NP segment not present",
        "#SS stack-segment fault",
        "#GP general protection",
        "#PF page fault",
        "reserved",
        "#MF x87 error",
        "#AC alignment check",
        "#MC machine check",
        "#XM SIMD exception",
        "#VE virtualization exception",
    };

    if (vector < sizeof(names) / sizeof(names[0]))
        return names[vector];
    return "unknown exception";
}

static uint64_t le_value(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void describe_io(struct vl_outbuf *o, const struct kvm_run *run)
{
    const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
    int out_dir = run->io.direction == KVM_EXIT_IO_OUT;

    vl__out(o, " %s port 0x%x size %u", out_dir ? "out" : "in", run->io.port,
            run->io.size);
    if (run->io.count != 1)
        vl__out(o, " count %u", run->io.count);
    if (!out_dir)
        return;
    if (run->io.size == 1 && isprint(data[0]))
        vl__out(o, " data '%c'", data[0]);
    else if (run->io.size == 1 && data[0] == '\n')
        vl__out(o, " data '\\n'");
    else
        vl__out(o, " data 0x%" PRIx64, le_value(data, run->io.size));
}

static void describe_mmio(struct vl_outbuf *o, const struct kvm_run *run)
{
    vl__out(o, " %s addr 0x%llx len %u", run->mmio.is_write ? "write" : "read",
            (unsigned long long)run->mmio.phys_addr, run->mmio.len);
    if (run->mmio.is_write)
        vl__out(o, " data 0x%" PRIx64, le_value(run->mmio.data, run->mmio.len));
}

static const char *system_event_name(uint32_t type)
{
    switch (type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        return "shutdown";
    case KVM_SYSTEM_EVENT_RESET:
        return "reset";
    case KVM_SYSTEM_EVENT_CRASH:
        return "crash";
    default:
        return "other";
    }
}

int vl_exit_describe(const struct kvm_run *run, uint64_t rip, char *buf,
                     size_t len)
{
    struct vl_outbuf o = {buf, len, 0};

    if (len)
        buf[0] = '\0';
    vl__out(&o, "%s", vl_exit_reason_name(run->exit_reason));
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        describe_io(&o, run);
        break;
    case KVM_EXIT_MMIO:
        describe_mmio(&o, run);
        break;
    case KVM_EXIT_EXCEPTION:
        vl__out(&o, " %s (vector %u) error code 0x%x",
                exception_name(run->ex.exception), run->ex.exception,
                run->ex.error_code);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        vl__out(
            &o, " hardware reason 0x%llx",
            (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        vl__out(&o, " suberror %u", run->internal.suberror);
        break;
    case KVM_EXIT_HYPERCALL:
        vl__out(&o, " nr %llu", (unsigned long long)run->hypercall.nr);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        vl__out(&o, " %s", system_event_name(run->system_event.type));
        break;
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
        vl__out(&o, " msr 0x%x data 0x%llx", run->msr.index,
                (unsigned long long)run->msr.data);
        break;
    default:
        break;
    }
    vl__out(&o, " at rip 0x%llx", (unsigned long long)rip);
    return (int)o.used;
}

/* VMX basic exit reasons that mean the VM entry itself failed
 * (SDM Vol. 3C, 27.8 "VM-Entry Failures During or After Loading Guest
 * State"; bit 31 of the exit reason is set for these). */
static void explain_fail_entry(struct vl_outbuf *o, const struct kvm_run *run)
{
    uint64_t hw = run->fail_entry.hardware_entry_failure_reason;
    uint32_t basic = (uint32_t)hw & 0xffff;

    vl__out(o,
            "The CPU refused to enter the guest (VM entry failed on cpu %u, "
            "hardware reason 0x%llx).\n",
            run->fail_entry.cpu, (unsigned long long)hw);
    if (hw == UINT64_MAX) {
        vl__out(o, "AMD SVM: VMRUN failed its consistency checks on the guest "
                   "state (APM Vol. 2, 15.5.1).\n");
    } else if (basic == 33) {
        vl__out(o,
                "Intel VMX exit reason 33: invalid guest state. A register "
                "value is inconsistent with the CPU mode: check CR0 (PE, PG),"
                " CR4 (PAE), EFER (LME, LMA), and the segment registers' "
                "type, present bit, DPL, L and D/B bits (SDM Vol. 3C, 26.3.1"
                " \"Checks on the Guest State Area\").\n");
    } else if (basic == 34) {
        vl__out(o, "Intel VMX exit reason 34: an MSR could not be loaded on "
                   "entry (check the MSRs set with KVM_SET_MSRS).\n");
    } else if (basic == 41) {
        vl__out(o, "Intel VMX exit reason 41: a machine-check event during VM "
                   "entry (a host hardware problem).\n");
    }
    vl__out(o,
            "Dump the registers (--trace) and compare them with the mode you "
            "meant to set up.");
}

static void explain_internal(struct vl_outbuf *o, const struct kvm_run *run)
{
    uint32_t n = run->internal.ndata;

    switch (run->internal.suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
        vl__out(o, "KVM had to emulate a guest instruction and could not "
                   "(KVM_INTERNAL_ERROR_EMULATION). The guest ran an "
                   "instruction KVM's emulator lacks, or ran code from memory "
                   "KVM cannot read (MMIO, or no memory slot at RIP). On hosts "
                   "that emulate all guest code (nested KVM without hardware "
                   "help) this includes cmpxchg16b and SSE/AVX instructions: "
                   "keep guests integer-only.");
        break;
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        vl__out(o,
                "An exception happened while KVM was delivering another one "
                "(KVM_INTERNAL_ERROR_SIMUL_EX): the IDT, the GDT or the stack "
                "the handler needs is broken.");
        break;
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        vl__out(
            o, "KVM could not deliver an event to the guest "
               "(KVM_INTERNAL_ERROR_DELIVERY_EV): usually the IDT, GDT or a "
               "page table lies in memory that is not RAM (no slot, or MMIO).");
        break;
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        vl__out(o, "The hardware exited for a reason KVM does not handle "
                   "(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON).");
        break;
    default:
        vl__out(o, "KVM internal error, suberror %u.", run->internal.suberror);
    }
    if (n > 16)
        n = 16;
    if (n) {
        vl__out(o, "\nData from KVM:");
        for (uint32_t i = 0; i < n; i++)
            vl__out(o, " 0x%llx", (unsigned long long)run->internal.data[i]);
    }
}

int vl_exit_explain(const struct kvm_run *run, char *buf, size_t len)
{
    struct vl_outbuf o = {buf, len, 0};

    if (len)
        buf[0] = '\0';
    switch (run->exit_reason) {
    case KVM_EXIT_FAIL_ENTRY:
        explain_fail_entry(&o, run);
        break;
    case KVM_EXIT_SHUTDOWN:
        vl__out(&o,
                "The guest shut down: on x86 this is almost always a triple "
                "fault. An exception could not be delivered, then neither "
                "could the double fault it caused, so the CPU reset the "
                "machine (SDM Vol. 3A, 6.15, interrupt 8). Look for a "
                "missing or broken IDT (lidt), a bad GDT entry, an invalid "
                "stack, or a page-table mistake at the RIP below.");
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        explain_internal(&o, run);
        break;
    case KVM_EXIT_EXCEPTION:
        vl__out(&o,
                "The guest raised %s and KVM handed it to the VMM; a guest "
                "without its own handler cannot go on.",
                exception_name(run->ex.exception));
        break;
    case KVM_EXIT_UNKNOWN:
        vl__out(&o,
                "KVM does not know why the guest stopped (hardware exit "
                "reason 0x%llx).",
                (unsigned long long)run->hw.hardware_exit_reason);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        vl__out(&o, "The guest asked for a system %s.",
                system_event_name(run->system_event.type));
        break;
    default:
        break;
    }
    return (int)o.used;
}

/* ---- registers ------------------------------------------------------ */

static void dump_segment(FILE *out, const char *name,
                         const struct kvm_segment *s)
{
    fprintf(out,
            "%-3s=%04x base=%016llx limit=%08x type=%x %s dpl=%u%s%s%s%s\n",
            name, s->selector, (unsigned long long)s->base, s->limit, s->type,
            s->s ? "code/data" : "system", s->dpl,
            s->present ? " P" : " not-present", s->db ? " D/B" : "",
            s->l ? " L" : "", s->g ? " G" : "");
}

void vl_regs_dump(FILE *out, const struct kvm_regs *r,
                  const struct kvm_sregs *s)
{
    if (r) {
        fprintf(out, "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n",
                r->rax, r->rbx, r->rcx, r->rdx);
        fprintf(out, "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n",
                r->rsi, r->rdi, r->rbp, r->rsp);
        fprintf(out, "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n", r->r8,
                r->r9, r->r10, r->r11);
        fprintf(out, "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n",
                r->r12, r->r13, r->r14, r->r15);
        fprintf(out, "RIP=%016llx RFLAGS=%016llx [%s%s%s%s%s%s]\n", r->rip,
                r->rflags, r->rflags & (1u << 0) ? " CF" : "",
                r->rflags & (1u << 6) ? " ZF" : "",
                r->rflags & (1u << 7) ? " SF" : "",
                r->rflags & (1u << 9) ? " IF" : "",
                r->rflags & (1u << 10) ? " DF" : "",
                r->rflags & (1u << 11) ? " OF" : "");
    }
    if (!s)
        return;
    dump_segment(out, "CS", &s->cs);
    dump_segment(out, "DS", &s->ds);
    dump_segment(out, "ES", &s->es);
    dump_segment(out, "FS", &s->fs);
    dump_segment(out, "GS", &s->gs);
    dump_segment(out, "SS", &s->ss);
    dump_segment(out, "TR", &s->tr);
    dump_segment(out, "LDT", &s->ldt);
    fprintf(out, "GDT base=%016llx limit=%04x   IDT base=%016llx limit=%04x\n",
            (unsigned long long)s->gdt.base, s->gdt.limit,
            (unsigned long long)s->idt.base, s->idt.limit);
    fprintf(out, "CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n", s->cr0,
            s->cr2, s->cr3, s->cr4);
    fprintf(out, "CR8=%016llx EFER=%016llx APIC=%016llx\n", s->cr8, s->efer,
            s->apic_base);
    fprintf(out, "mode: %s\n", vl_x86_mode_name(s));
}

int vl_vcpu_fd_dump(FILE *out, int vcpu_fd)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;

    if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
        ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
        fprintf(out, "(registers unavailable: %s)\n", strerror(errno));
        return -errno;
    }
    vl_regs_dump(out, &regs, &sregs);
    return 0;
}
