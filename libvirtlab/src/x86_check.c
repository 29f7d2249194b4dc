/*
 * x86_check.c - name the field of a vCPU state that KVM or the CPU will
 * refuse (virtlab/x86_check.h).
 *
 * Three judges, three kinds of fatal problem:
 *  - KVM_SET_SREGS: kvm_is_valid_sregs() in arch/x86/kvm/x86.c refuses
 *    inconsistent CR0/CR4/EFER and CS.L outside long mode with EINVAL;
 *  - VM entry: Intel VMX checks the segment registers, RFLAGS and more
 *    (SDM Vol. 3C, 26.3.1 "Checks on the Guest State Area") and fails the
 *    entry (KVM_EXIT_FAIL_ENTRY);
 *  - the first instruction: a fetch that faults with no IDT to handle it
 *    ends in a triple fault (KVM_EXIT_SHUTDOWN).
 * Warnings are states all three accept that are almost surely a mistake.
 */
#include "virtlab/x86_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "outbuf.h"
#include "virtlab/error.h"
#include "virtlab/x86.h"

/* A segment descriptor read from the GDT as one little-endian 64-bit value
 * (SDM Vol. 3A, 3.4.5, Figure 3-8 "Segment Descriptor"). */
#define DESC_SIZE         8
#define DESC_LIMIT_LO(d)  ((uint32_t)((d)&0xffff))
#define DESC_BASE_LO(d)   (((d) >> 16) & 0xffffff)
#define DESC_ACCESS(d)    ((unsigned)((d) >> 40) & 0xff)
#define DESC_LIMIT_HI(d)  ((uint32_t)((d) >> 48) & 0xf)
#define DESC_FLAGS(d)     ((unsigned)((d) >> 52) & 0xf)
#define DESC_BASE_HI(d)   (((d) >> 56) & 0xff)
#define ACCESS_DPL(a)     (((a) >> 5) & 3)
#define ACCESS_TYPE(a)    ((a)&0xf)
#define SELECTOR_RPL_MASK 0x3 /* requested privilege level, bits 1:0 */
#define SELECTOR_TI       0x4 /* table indicator: 1 = the LDT */
#define SELECTOR_INDEX(s) ((unsigned)(s) >> 3)

/*
 * With G = 1 the CPU scales the descriptor's 20-bit limit by 4 KiB and fills
 * the low 12 bits with ones; kvm_segment.limit is that byte limit.
 */
#define LIMIT_LOW_BITS   0xfffu      /* limit[11:0] */
#define LIMIT_HIGH_BITS  0xfff00000u /* limit[31:20] */
#define LIMIT_PAGE_SHIFT 12

#define TSS16_BUSY 0x3 /* system type: 16-bit busy TSS */

#define RESET_CS_BASE  0xffff0000ULL /* SDM Vol. 3A, 9.1.4 */
#define REAL_MODE_SIZE 0x10000ULL    /* what one real-mode segment reaches */
#define VA_BITS        48            /* canonical addresses, 4-level paging */
#define PAGE_LEVELS    4

struct check {
    const struct kvm_sregs *s;
    const struct kvm_regs *regs; /* NULL: no RIP/RFLAGS checks */
    const uint8_t *mem;          /* NULL: do not read guest memory */
    uint64_t mem_size;           /* 0: no memory checks */
    struct vl_x86_report *out;
    int nfatal;
    bool pe;        /* CR0.PE: protected mode */
    bool pg;        /* CR0.PG: paging */
    bool long_mode; /* EFER.LME && CR0.PG: what KVM calls long mode */
    bool code64;    /* long mode with CS.L = 1: 64-bit code */
};

__attribute__((format(printf, 4, 0))) static void
vadd(struct check *c, bool is_fatal, const char *field, const char *fmt,
     va_list ap)
{
    struct vl_x86_report *r = c->out;
    struct vl_x86_problem *p;

    if (is_fatal)
        c->nfatal++;
    if (r->n >= VL_X86_MAX_PROBLEMS) {
        r->more++;
        return;
    }
    p = &r->p[r->n++];
    snprintf(p->field, sizeof(p->field), "%s", field);
    vsnprintf(p->text, sizeof(p->text), fmt, ap);
    p->fatal = is_fatal;
}

__attribute__((format(printf, 3, 4))) static void
fatal(struct check *c, const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vadd(c, true, field, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
warning(struct check *c, const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vadd(c, false, field, fmt, ap);
    va_end(ap);
}

/* A problem of a segment register: the field is "<seg>.<attr>". */
__attribute__((format(printf, 5, 6))) static void
seg_problem(struct check *c, bool is_fatal, const char *seg, const char *attr,
            const char *fmt, ...)
{
    char field[sizeof(((struct vl_x86_problem *)0)->field)];
    va_list ap;

    snprintf(field, sizeof(field), "%s.%s", seg, attr);
    va_start(ap, fmt);
    vadd(c, is_fatal, field, fmt, ap);
    va_end(ap);
}

/* Does guest-physical [addr, addr + len) lie in RAM? */
static bool in_ram(const struct check *c, uint64_t addr, uint64_t len)
{
    return addr <= c->mem_size && len <= c->mem_size - addr;
}

static uint64_t read_u64(const struct check *c, uint64_t gpa)
{
    uint64_t v;

    memcpy(&v, c->mem + gpa, sizeof(v));
    return v;
}

/* ---- control registers and EFER ------------------------------------- */

/* SDM Vol. 3A, 2.5: both are #GP on MOV to CR0; KVM refuses them too. */
static void check_cr0(struct check *c)
{
    uint64_t cr0 = c->s->cr0;

    if ((cr0 & VL_CR0_PG) && !(cr0 & VL_CR0_PE))
        fatal(c, "CR0.PG",
              "paging needs protected mode: set CR0.PE too, or clear PG. "
              "The CPU raises #GP; KVM_SET_SREGS fails with EINVAL (SDM "
              "Vol. 3A 2.5)");
    if ((cr0 & VL_CR0_NW) && !(cr0 & VL_CR0_CD))
        fatal(c, "CR0.NW",
              "not-write-through without cache-disable is invalid: clear NW "
              "or set CD too. The CPU raises #GP; KVM_SET_SREGS fails with "
              "EINVAL (SDM Vol. 3A 2.5)");
}

/*
 * Long mode is enabled by EFER.LME and becomes active, EFER.LMA = 1, when
 * paging is turned on with CR4.PAE set (SDM Vol. 3A, 9.8.5). The CPU sets
 * LMA itself; KVM_SET_SREGS loads the state as given and insists that
 * LMA == (LME && CR0.PG).
 */
static void check_efer(struct check *c)
{
    uint64_t efer = c->s->efer;
    bool lme = efer & VL_EFER_LME;
    bool lma = efer & VL_EFER_LMA;

    if (lma && !(lme && c->pg))
        fatal(c, "EFER.LMA",
              "long mode active without %s: LMA must equal LME && CR0.PG, or "
              "KVM_SET_SREGS fails with EINVAL. Clear LMA, or set both (SDM "
              "Vol. 3A 9.8.5)",
              !lme && !c->pg ? "EFER.LME and CR0.PG"
              : !lme         ? "EFER.LME"
                             : "CR0.PG");
    if (c->long_mode && !lma)
        fatal(c, "EFER.LMA",
              "EFER.LME and CR0.PG are set, so set EFER.LMA too: the CPU "
              "sets it when paging turns on, but KVM_SET_SREGS takes the "
              "state as given and fails with EINVAL (SDM Vol. 3A 9.8.5)");
    if (c->long_mode && !(c->s->cr4 & VL_CR4_PAE))
        fatal(c, "CR4.PAE",
              "long mode needs CR4.PAE = 1: 4-level paging uses 64-bit "
              "entries. The CPU raises #GP; KVM_SET_SREGS fails with EINVAL "
              "(SDM Vol. 3A 9.8.5)");
    if (lme && !c->pg)
        warning(c, "CR0.PG",
                "EFER.LME is set but paging is off: long mode is enabled, "
                "not active, until CR0.PG = 1 (with PE, PAE and LMA) (SDM "
                "Vol. 3A 9.8.5)");
}

/* ---- segment registers ---------------------------------------------- */

/* The L and D/B flags of CS choose 64-bit, 32-bit or 16-bit code
 * (SDM Vol. 3A, 3.4.5, "L (64-bit code segment) flag"). */
static void check_cs_size(struct check *c)
{
    const struct kvm_segment *cs = &c->s->cs;

    if (c->long_mode && cs->l && cs->db)
        fatal(c, "CS.DB",
              "CS.L = 1 with CS.DB = 1 is reserved: a 64-bit code segment "
              "has DB = 0. VM entry fails (SDM Vol. 3A 3.4.5; Vol. 3C "
              "26.3.1.2)");
    if (!c->long_mode && cs->l)
        fatal(c, "CS.L",
              "CS.L = 1 outside long mode: the CPU would ignore it, but "
              "KVM_SET_SREGS fails with EINVAL. Clear it, or enter long mode "
              "(EFER.LME, EFER.LMA, CR0.PG) (SDM Vol. 3A 3.4.5)");
    if (c->long_mode && !cs->l)
        warning(c, "CS.L",
                "compatibility mode: 64-bit code will be decoded as 32-bit. "
                "For 64-bit code set CS.L = 1 and CS.DB = 0 (SDM Vol. 3A "
                "3.4.5)");
}

/*
 * VMX checks CS in every mode (SDM Vol. 3C, 26.3.1.2): present, S = 1, a
 * code type; in real mode a writable data type is accepted too. The CS
 * that KVM_GET_SREGS returns for a new vCPU passes.
 */
static void check_cs(struct check *c)
{
    const struct kvm_segment *cs = &c->s->cs;
    bool code = cs->type & VL_SEG_TYPE_CODE;

    if (!cs->present)
        fatal(c, "CS.P",
              "CS is not present: set present = 1. VM entry fails (SDM Vol. "
              "3A 3.4.5; Vol. 3C 26.3.1.2)");
    if (!cs->s)
        fatal(c, "CS.S",
              "CS has S = 0, a system descriptor: code and data segments "
              "have S = 1. VM entry fails (SDM Vol. 3A 3.4.5; Vol. 3C "
              "26.3.1.2)");
    if (!code && (c->pe || !(cs->type & VL_SEG_TYPE_WRITE)))
        fatal(c, "CS.type",
              "CS type 0x%x is a data segment (bit 3 clear): use 0xb, code "
              "execute/read accessed. VM entry fails (SDM Vol. 3A 3.4.5.1; "
              "Vol. 3C 26.3.1.2)",
              cs->type);
}

/*
 * SS holds the privilege level: CPL = SS.DPL, and a non-conforming CS must
 * have the same DPL. SS itself must be a writable data segment (SDM Vol.
 * 3A, 5.7 "Privilege Level Checking When Loading the SS Register").
 */
static void check_ss(struct check *c)
{
    const struct kvm_segment *ss = &c->s->ss;
    const struct kvm_segment *cs = &c->s->cs;
    bool conforming = cs->type & VL_SEG_TYPE_CONFORMING;

    if (!c->pe)
        return;
    if (!ss->present && !c->code64)
        warning(c, "SS.P",
                "SS is not present: the first push, call or interrupt "
                "faults. Load a writable data segment, type 0x3 (SDM Vol. "
                "3A 5.7)");
    if (ss->present && (!ss->s || (ss->type & VL_SEG_TYPE_CODE) ||
                        !(ss->type & VL_SEG_TYPE_WRITE)))
        fatal(c, "SS.type",
              "SS must be a writable data segment (type 0x3, S = 1), not "
              "type 0x%x with S = %u. VM entry fails (SDM Vol. 3A 5.7; Vol. "
              "3C 26.3.1.2)",
              ss->type, ss->s);
    if ((cs->type & VL_SEG_TYPE_CODE) && !conforming && ss->dpl != cs->dpl)
        fatal(c, "SS.DPL",
              "SS.DPL %u differs from CS.DPL %u: the CPL is SS.DPL and must "
              "equal CS.DPL; use 0 for both in a kernel. VM entry fails (SDM "
              "Vol. 3A 5.7; Vol. 3C 26.3.1.2)",
              ss->dpl, cs->dpl);
}

/*
 * DS, ES, FS, GS: a not-present register is "unusable", which is fine as
 * long as it was loaded from a null selector; a non-null one says the
 * descriptor is missing. A usable one must be data or readable code.
 */
static void check_data_segment(struct check *c, const char *name,
                               const struct kvm_segment *seg)
{
    bool null = (seg->selector & ~SELECTOR_RPL_MASK) == 0;

    if (!c->pe)
        return;
    if (!seg->present && !null)
        seg_problem(c, !c->code64, name, "P",
                    "%s = 0x%x is not present: %s. Set present = 1, or use "
                    "selector 0 for a register you do not use (SDM Vol. 3A "
                    "3.4.5)",
                    name, seg->selector,
                    c->code64 ? "reloading it faults"
                              : "the first access through it faults");
    if (seg->present && (!seg->s || ((seg->type & VL_SEG_TYPE_CODE) &&
                                     !(seg->type & VL_SEG_TYPE_READ))))
        seg_problem(c, true, name, "type",
                    "%s must be a data segment (type 0x3) or readable code, "
                    "not type 0x%x with S = %u. VM entry fails (SDM Vol. 3C "
                    "26.3.1.2)",
                    name, seg->type, seg->s);
}

/*
 * VMX checks the byte limit against G in every mode (SDM Vol. 3C,
 * 26.3.1.2): if any bit of limit[11:0] is 0, G must be 0; if any bit of
 * limit[31:20] is 1, G must be 1. Unusable (not present) registers are
 * not checked.
 */
static void check_limit(struct check *c, const char *name,
                        const struct kvm_segment *seg)
{
    uint32_t limit = seg->limit;

    if (!seg->present)
        return;
    if (seg->g && (limit & LIMIT_LOW_BITS) != LIMIT_LOW_BITS)
        seg_problem(c, true, name, "G",
                    "%s.limit 0x%x with G = 1: 4 KiB granularity makes the "
                    "low 12 bits 0xfff. Use limit 0x%x or G = 0. VM entry "
                    "fails (SDM Vol. 3C 26.3.1.2)",
                    name, limit, limit | LIMIT_LOW_BITS);
    else if (!seg->g && (limit & LIMIT_HIGH_BITS))
        seg_problem(c, true, name, "G",
                    "%s.limit 0x%x is above 1 MiB, which needs G = 1 (4 KiB "
                    "granularity). VM entry fails (SDM Vol. 3C 26.3.1.2)",
                    name, limit);
    else if (seg->g && !(limit & LIMIT_HIGH_BITS) && !c->code64)
        seg_problem(c, false, name, "limit",
                    "%s.limit 0x%x with G = 1 looks like the descriptor's "
                    "20-bit limit: kvm_sregs takes the limit in bytes: 0x%x "
                    "(SDM Vol. 3A 3.4.5)",
                    name, limit,
                    (uint32_t)(limit << LIMIT_PAGE_SHIFT) | LIMIT_LOW_BITS);
}

/*
 * The task register must hold a busy TSS even if the guest never switches
 * tasks: type 11 (32/64-bit), or 3 (16-bit) outside long mode, S = 0,
 * present (SDM Vol. 3C, 26.3.1.2).
 */
static void check_tr(struct check *c)
{
    const struct kvm_segment *tr = &c->s->tr;

    if (tr->present && !tr->s &&
        (tr->type == VL_SEG_TYPE_TSS_BUSY ||
         (tr->type == TSS16_BUSY && !c->long_mode)))
        return;
    fatal(c, "TR.type",
          "TR must be a present busy TSS: type 0x%x, S = 0, present = 1 "
          "(it is type 0x%x, S = %u, present = %u). KVM_GET_SREGS gives a "
          "valid one. VM entry fails (SDM Vol. 3C 26.3.1.2)",
          VL_SEG_TYPE_TSS_BUSY, tr->type, tr->s, tr->present);
}

static void check_segments(struct check *c)
{
    const struct kvm_sregs *s = c->s;

    check_cs_size(c);
    check_cs(c);
    check_ss(c);
    check_data_segment(c, "DS", &s->ds);
    check_data_segment(c, "ES", &s->es);
    check_data_segment(c, "FS", &s->fs);
    check_data_segment(c, "GS", &s->gs);
    check_limit(c, "CS", &s->cs);
    check_limit(c, "SS", &s->ss);
    check_limit(c, "DS", &s->ds);
    check_limit(c, "ES", &s->es);
    check_limit(c, "FS", &s->fs);
    check_limit(c, "GS", &s->gs);
    check_tr(c);
}

/* ---- RIP and RFLAGS ------------------------------------------------- */

static bool canonical(uint64_t va)
{
    int64_t high = (int64_t)va >> (VA_BITS - 1);

    return high == 0 || high == -1;
}

static void check_rip(struct check *c)
{
    const struct kvm_segment *cs = &c->s->cs;
    uint64_t rip;

    if (!c->regs)
        return;
    rip = c->regs->rip;
    if (c->code64 && !canonical(rip))
        fatal(c, "RIP",
              "RIP 0x%llx is not canonical: bits 63:47 must all equal bit "
              "47. The first fetch raises #GP (SDM Vol. 1 3.3.7.1)",
              (unsigned long long)rip);
    if (!c->code64 && cs->present && rip > cs->limit)
        fatal(c, "RIP",
              "RIP 0x%llx lies beyond CS.limit 0x%x: the first fetch raises "
              "#GP. Give the limit in bytes, or move the code (SDM Vol. 3A "
              "5.3)",
              (unsigned long long)rip, cs->limit);
    if (!c->pe && cs->base == RESET_CS_BASE && rip < REAL_MODE_SIZE)
        warning(c, "CS.base",
                "CS.base is still at the RESET base 0xffff0000: the first "
                "fetch is at 0x%llx. Set base = selector << 4 (SDM Vol. 3A "
                "9.1.4)",
                (unsigned long long)(cs->base + rip));
}

/* SDM Vol. 1, 3.4.3 "EFLAGS Register"; Vol. 3C, 26.3.1.4 "Checks on Guest
 * RIP, RFLAGS, and SSP". */
static void check_rflags(struct check *c)
{
    uint64_t rflags;

    if (!c->regs)
        return;
    rflags = c->regs->rflags;
    if (!(rflags & VL_RFLAGS_RESERVED1))
        warning(c, "RFLAGS",
                "bit 1 of RFLAGS is reserved and must be 1: write 0x2 plus "
                "the flags you want. KVM_SET_REGS sets it for you; VM entry "
                "would fail without it (SDM Vol. 1 3.4.3; Vol. 3C 26.3.1.4)");
    if ((rflags & VL_RFLAGS_VM) && (c->long_mode || !c->pe))
        fatal(c, "RFLAGS.VM",
              "RFLAGS.VM (virtual-8086 mode, bit 17) is set in %s: clear "
              "it. VM entry fails (SDM Vol. 3C 26.3.1.4)",
              c->long_mode ? "long mode, which has no virtual-8086 mode"
                           : "real mode");
}

/* ---- page tables ---------------------------------------------------- */

static const char *const entry_names[PAGE_LEVELS] = {"PML4E", "PDPTE", "PDE",
                                                     "PTE"};
static const char *const table_names[PAGE_LEVELS] = {"PML4", "PDPT", "PD",
                                                     "PT"};

/* CR3 holds the guest-physical address of the top-level table. */
static void check_cr3(struct check *c)
{
    uint64_t root = c->s->cr3 & VL_PTE_ADDR_MASK;

    if (!c->pg || !c->mem_size || in_ram(c, root, VL_PAGE_4K))
        return;
    fatal(c, "CR3",
          "CR3 points outside guest memory: the page-table root 0x%llx + 4 "
          "KiB ends past RAM at 0x%llx. The first fetch page-faults, then "
          "the guest triple-faults (SDM Vol. 3A 4.5)",
          (unsigned long long)root, (unsigned long long)c->mem_size);
}

/*
 * Check one entry of the walk; returns true when the walk goes on to the
 * next level. A not-present entry or a reserved bit makes the first fetch
 * page-fault (SDM Vol. 3A, 4.7 "Page-Fault Exceptions").
 */
static bool check_entry(struct check *c, int level, uint64_t index, uint64_t at,
                        uint64_t entry, uint64_t va)
{
    const char *name = entry_names[level];

    if (!(entry & VL_PTE_P)) {
        fatal(c, name,
              "%s %llu (at 0x%llx) for RIP 0x%llx is not present: the first "
              "fetch page-faults and the guest triple-faults. Set VL_PTE_P "
              "(SDM Vol. 3A 4.5)",
              name, (unsigned long long)index, (unsigned long long)at,
              (unsigned long long)va);
        return false;
    }
    if (entry & VL_PTE_NX) {
        fatal(c, name,
              (c->s->efer & VL_EFER_NXE)
                  ? "%s %llu (at 0x%llx) marks RIP 0x%llx execute-disable "
                    "(bit 63): the first fetch page-faults (SDM Vol. 3A 4.6)"
                  : "%s %llu (at 0x%llx) for RIP 0x%llx sets bit 63 (NX) "
                    "without EFER.NXE, a reserved bit: the first fetch "
                    "page-faults (SDM Vol. 3A 4.5)",
              name, (unsigned long long)index, (unsigned long long)at,
              (unsigned long long)va);
        return false;
    }
    if (!(entry & VL_PTE_PS) || level == PAGE_LEVELS - 1)
        return true;
    if (level == 0)
        fatal(c, name,
              "PML4E %llu (at 0x%llx) sets PS (bit 7), a reserved bit: the "
              "first fetch page-faults (SDM Vol. 3A 4.5)",
              (unsigned long long)index, (unsigned long long)at);
    else if (level == 1)
        warning(c, name,
                "PDPTE %llu (at 0x%llx) maps a 1 GiB page: the guest's CPUID "
                "must list 1-GByte pages (KVM_SET_CPUID2), or the fetch "
                "page-faults. 2 MiB pages always work (SDM Vol. 3A 4.1.4)",
                (unsigned long long)index, (unsigned long long)at);
    return false;
}

/*
 * Walk the 4-level page tables for the first instruction as the CPU will
 * (SDM Vol. 3A, 4.5, Figure 4-8). Only in long mode, only with RIP and the
 * guest memory; 5-level paging (CR4.LA57) is not walked.
 */
static void walk_rip(struct check *c)
{
    const struct kvm_sregs *s = c->s;
    uint64_t table = s->cr3 & VL_PTE_ADDR_MASK;
    uint64_t va, index[PAGE_LEVELS];

    if (!c->long_mode || !c->regs || !c->mem || !c->mem_size ||
        !(s->cr4 & VL_CR4_PAE) || (s->cr4 & VL_CR4_LA57))
        return;
    /* In 64-bit mode the CS base is ignored; compatibility mode is 32-bit. */
    va = c->code64 ? c->regs->rip : (uint32_t)(s->cs.base + c->regs->rip);
    index[0] = VL_PML4_INDEX(va);
    index[1] = VL_PDPT_INDEX(va);
    index[2] = VL_PD_INDEX(va);
    index[3] = VL_PT_INDEX(va);
    for (int level = 0; level < PAGE_LEVELS; level++) {
        uint64_t at = table + index[level] * sizeof(uint64_t);
        uint64_t entry;

        if (!in_ram(c, at, sizeof(uint64_t))) {
            if (level > 0) /* level 0: check_cr3() said so already */
                fatal(c, entry_names[level - 1],
                      "the %s for RIP 0x%llx is at 0x%llx, outside guest "
                      "memory (RAM ends at 0x%llx): the first fetch "
                      "page-faults (SDM Vol. 3A 4.5)",
                      table_names[level], (unsigned long long)va,
                      (unsigned long long)table,
                      (unsigned long long)c->mem_size);
            return;
        }
        entry = read_u64(c, at);
        if (!check_entry(c, level, index[level], at, entry, va))
            return;
        table = entry & VL_PTE_ADDR_MASK;
    }
}

/* ---- descriptor tables ---------------------------------------------- */

static void decode_descriptor(uint64_t d, struct kvm_segment *seg)
{
    uint32_t raw_limit = DESC_LIMIT_LO(d) | DESC_LIMIT_HI(d) << 16;
    unsigned access = DESC_ACCESS(d);
    unsigned flags = DESC_FLAGS(d);
    bool g = flags & VL_SEG_FLAG_G;

    *seg = (struct kvm_segment){
        .base = DESC_BASE_LO(d) | DESC_BASE_HI(d) << 24,
        .limit = g ? raw_limit << LIMIT_PAGE_SHIFT | LIMIT_LOW_BITS : raw_limit,
        .type = ACCESS_TYPE(access),
        .present = !!(access & VL_SEG_ACCESS_P),
        .dpl = ACCESS_DPL(access),
        .s = !!(access & VL_SEG_ACCESS_S),
        .l = !!(flags & VL_SEG_FLAG_L),
        .db = !!(flags & VL_SEG_FLAG_DB),
        .g = g,
    };
}

/*
 * The hidden part of CS is what the CPU uses now; the GDT entry is what it
 * loads on the next far jump, interrupt or iret (SDM Vol. 3A, 3.4.3
 * "Segment Registers"). The accessed bit is set by the CPU on load, and in
 * 64-bit mode base and limit are ignored.
 */
static void compare_cs_descriptor(struct check *c, uint64_t at)
{
    const struct kvm_segment *cs = &c->s->cs;
    struct kvm_segment d;
    char diff[64] = "";
    size_t n = 0;

#define DIFF(cond, name)                                                       \
    do {                                                                       \
        if ((cond) && n < sizeof(diff))                                        \
            n += (size_t)snprintf(diff + n, sizeof(diff) - n, " %s", name);    \
    } while (0)

    decode_descriptor(read_u64(c, at), &d);
    DIFF(!c->code64 && d.base != cs->base, "base");
    DIFF(!c->code64 && d.limit != cs->limit, "limit");
    DIFF((d.type | VL_SEG_TYPE_ACCESSED) != (cs->type | VL_SEG_TYPE_ACCESSED),
         "type");
    DIFF(d.s != cs->s, "S");
    DIFF(d.dpl != cs->dpl, "DPL");
    DIFF(d.present != cs->present, "P");
    DIFF(d.l != cs->l, "L");
    DIFF(d.db != cs->db, "DB");
#undef DIFF
    if (n)
        warning(c, "GDT",
                "GDT entry %u (selector 0x%x) differs from the hidden CS "
                "in:%s. The next far jump or interrupt reloads CS from the "
                "GDT (SDM Vol. 3A 3.4.3)",
                SELECTOR_INDEX(cs->selector), cs->selector, diff);
}

static void check_gdt(struct check *c)
{
    const struct kvm_segment *cs = &c->s->cs;
    const struct kvm_dtable *gdt = &c->s->gdt;
    unsigned index = SELECTOR_INDEX(cs->selector);

    if (!c->pe || (cs->selector & ~SELECTOR_RPL_MASK) == 0 ||
        (cs->selector & SELECTOR_TI))
        return;
    if ((uint32_t)index * DESC_SIZE + DESC_SIZE - 1 > gdt->limit) {
        warning(c, "CS.selector",
                "CS.selector 0x%x (GDT entry %u) lies beyond gdt.limit 0x%x: "
                "reloading CS raises #GP. gdt.limit is 8 * entries - 1 (SDM "
                "Vol. 3A 3.5.1)",
                cs->selector, index, gdt->limit);
        return;
    }
    if (!c->mem_size)
        return;
    if (!in_ram(c, gdt->base, (uint64_t)gdt->limit + 1)) {
        warning(c, "GDT",
                "the GDT at 0x%llx (limit 0x%x) is not inside guest memory "
                "(RAM ends at 0x%llx): reloading CS from it faults (SDM Vol. "
                "3A 3.5.1)",
                (unsigned long long)gdt->base, gdt->limit,
                (unsigned long long)c->mem_size);
        return;
    }
    if (c->mem)
        compare_cs_descriptor(c, gdt->base + (uint64_t)index * DESC_SIZE);
}

static void check_idt(struct check *c)
{
    const struct kvm_dtable *idt = &c->s->idt;

    if (!c->pe)
        return;
    if (idt->limit == 0)
        warning(c, "IDT",
                "no IDT: any exception will triple-fault. Fine for a first "
                "guest; load one (idt.base, idt.limit) to see faults (SDM "
                "Vol. 3A 6.10)");
    else if (c->mem_size && !in_ram(c, idt->base, (uint64_t)idt->limit + 1))
        warning(c, "IDT",
                "the IDT at 0x%llx (limit 0x%x) is not inside guest memory "
                "(RAM ends at 0x%llx): the first exception triple-faults (SDM "
                "Vol. 3A 6.10)",
                (unsigned long long)idt->base, idt->limit,
                (unsigned long long)c->mem_size);
}

/* ---- the API -------------------------------------------------------- */

int vl_x86_check_state(const struct kvm_sregs *s, const struct kvm_regs *regs,
                       const void *mem, uint64_t mem_size,
                       struct vl_x86_report *out)
{
    struct check c;

    if (!s || !out)
        return vl_err_plain(EINVAL, "checking the x86 state: no %s given",
                            s ? "report" : "kvm_sregs");
    memset(out, 0, sizeof(*out));
    c = (struct check){
        .s = s,
        .regs = regs,
        .mem = mem,
        .mem_size = mem_size,
        .out = out,
        .pe = s->cr0 & VL_CR0_PE,
        .pg = s->cr0 & VL_CR0_PG,
        .long_mode = (s->efer & VL_EFER_LME) && (s->cr0 & VL_CR0_PG),
    };
    c.code64 = c.long_mode && s->cs.l;

    check_cr0(&c);
    check_efer(&c);
    check_segments(&c);
    check_rip(&c);
    check_rflags(&c);
    check_cr3(&c);
    walk_rip(&c);
    check_gdt(&c);
    check_idt(&c);
    return c.nfatal;
}

int vl_vcpu_check_state(struct vl_vcpu *vcpu, struct vl_x86_report *out)
{
    const struct vl_region *ram = vl_vm_region_of(vcpu->vm, 0);
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    int r;

    r = vl_vcpu_get_sregs(vcpu, &sregs);
    if (r >= 0)
        r = vl_vcpu_get_regs(vcpu, &regs);
    if (r < 0)
        return vl_err_ctx(r, "checking the state of vCPU %d", vcpu->id);
    return vl_x86_check_state(&sregs, &regs, ram ? ram->hva : NULL,
                              ram ? ram->size : 0, out);
}

int vl_x86_report_format(const struct vl_x86_report *r, char *buf, size_t len)
{
    struct vl_outbuf o = {buf, len, 0};

    if (len)
        buf[0] = '\0';
    for (int i = 0; i < r->n; i++)
        vl__out(&o, "  %s%s: %s\n", r->p[i].field,
                r->p[i].fatal ? "" : " (warning)", r->p[i].text);
    if (r->more)
        vl__out(&o, "  ... and %d more\n", r->more);
    return (int)o.used;
}

void vl_x86_report_hint(const struct vl_x86_report *r)
{
    for (int i = 0; i < r->n; i++)
        vl_err_hint("%s%s: %s", r->p[i].field,
                    r->p[i].fatal ? "" : " (warning)", r->p[i].text);
}

const struct vl_x86_problem *vl_x86_report_find(const struct vl_x86_report *r,
                                                const char *field)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->p[i].field, field) == 0)
            return &r->p[i];
    return NULL;
}

const char *vl_x86_mode_name(const struct kvm_sregs *s)
{
    if (!(s->cr0 & VL_CR0_PE))
        return "real mode";
    if (s->efer & VL_EFER_LMA)
        return s->cs.l ? "long mode (64-bit)" : "long mode (compatibility)";
    if (s->cr0 & VL_CR0_PG)
        return "protected mode with paging";
    return "protected mode";
}
