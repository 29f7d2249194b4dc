/*
 * x86_check_test.c - the entry-failure explainer (virtlab/x86_check.h).
 * Each test starts from a correct real, protected (flat 32-bit) or long
 * (64-bit) state with its GDT, IDT and page tables in a fake guest memory,
 * makes one mistake a student makes in lab 02, and checks that the
 * explainer names the field. The last test shows KVM refusing a state with
 * a bare EINVAL, and the explainer saying why.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "virtlab/kvm.h"
#include "virtlab/x86.h"
#include "virtlab/x86_check.h"

/* Guest-physical layout of the fake guest memory. */
#define MEM_SIZE  0x10000ULL
#define GDT_ADDR  0x500ULL
#define IDT_ADDR  0x800ULL
#define IDT_LIMIT 0x1ff /* 32 gates of 16 bytes */
#define CODE_ADDR 0x1000ULL
#define PML4_ADDR 0x2000ULL
#define PDPT_ADDR 0x3000ULL
#define PD_ADDR   0x4000ULL
#define STACK_TOP 0x8000ULL

/* GDT entries: null, flat 32-bit code, flat data, 64-bit code. */
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18
#define GDT_LIMIT  (4 * 8 - 1)

#define FLAT_LIMIT      0xffffffffu /* 4 GiB, as a byte limit */
#define RAW_FLAT_LIMIT  0xfffff     /* the same, as a descriptor's 20 bits */
#define REAL_LIMIT      0xffff
#define TSS_LIMIT       0x67
#define CODE_TYPE       (VL_SEG_TYPE_CODE | VL_SEG_TYPE_READ | VL_SEG_TYPE_ACCESSED)
#define DATA_TYPE       (VL_SEG_TYPE_WRITE | VL_SEG_TYPE_ACCESSED)
#define RFLAGS_ON_RESET VL_RFLAGS_RESERVED1

static uint8_t mem[MEM_SIZE];
static struct kvm_sregs s;
static struct kvm_regs regs;
static struct vl_x86_report rep;
static char text[8192];

static const struct kvm_segment code32 = {
    .selector = SEL_CODE32,
    .limit = FLAT_LIMIT,
    .type = CODE_TYPE,
    .present = 1,
    .s = 1,
    .db = 1, /* 32-bit code */
    .g = 1,
};

static const struct kvm_segment code64 = {
    .selector = SEL_CODE64,
    .limit = FLAT_LIMIT,
    .type = CODE_TYPE,
    .present = 1,
    .s = 1,
    .l = 1, /* 64-bit code: L = 1, D/B = 0 */
    .g = 1,
};

static const struct kvm_segment data = {
    .selector = SEL_DATA,
    .limit = FLAT_LIMIT,
    .type = DATA_TYPE,
    .present = 1,
    .s = 1,
    .db = 1,
    .g = 1,
};

static const struct kvm_segment tss = {
    .limit = TSS_LIMIT,
    .type = VL_SEG_TYPE_TSS_BUSY,
    .present = 1,
};

/* A GDT entry from its parts (SDM Vol. 3A, 3.4.5, Figure 3-8). */
static uint64_t gdt_entry(uint32_t base, uint32_t raw_limit, uint8_t access,
                          uint8_t flags)
{
    return (raw_limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
           (uint64_t)access << 40 | (uint64_t)((raw_limit >> 16) & 0xf) << 48 |
           (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

static void put_u64(uint64_t gpa, uint64_t v)
{
    memcpy(mem + gpa, &v, sizeof(v));
}

/* GDT, page tables (identity map of the first 2 MiB) and a hlt at RIP. */
static void fill_memory(void)
{
    uint8_t access = VL_SEG_ACCESS_P | VL_SEG_ACCESS_S;

    memset(mem, 0, sizeof(mem));
    put_u64(GDT_ADDR + SEL_CODE32,
            gdt_entry(0, RAW_FLAT_LIMIT, access | CODE_TYPE,
                      VL_SEG_FLAG_G | VL_SEG_FLAG_DB));
    put_u64(GDT_ADDR + SEL_DATA,
            gdt_entry(0, RAW_FLAT_LIMIT, access | DATA_TYPE,
                      VL_SEG_FLAG_G | VL_SEG_FLAG_DB));
    put_u64(GDT_ADDR + SEL_CODE64,
            gdt_entry(0, RAW_FLAT_LIMIT, access | CODE_TYPE,
                      VL_SEG_FLAG_G | VL_SEG_FLAG_L));
    put_u64(PML4_ADDR, PDPT_ADDR | VL_PTE_P | VL_PTE_RW);
    put_u64(PDPT_ADDR, PD_ADDR | VL_PTE_P | VL_PTE_RW);
    put_u64(PD_ADDR, 0 | VL_PTE_P | VL_PTE_RW | VL_PTE_PS); /* 2 MiB at 0 */
    mem[CODE_ADDR] = 0xf4;                                  /* hlt */
}

static void fill_regs(void)
{
    regs = (struct kvm_regs){
        .rip = CODE_ADDR,
        .rsp = STACK_TOP,
        .rflags = RFLAGS_ON_RESET,
    };
}

static struct kvm_segment real_segment(uint8_t type)
{
    return (struct kvm_segment){
        .limit = REAL_LIMIT,
        .type = type,
        .present = 1,
        .s = 1,
    };
}

/* Real mode with every segment at base 0 (what vl_vcpu_reset_real does). */
static void real_state(void)
{
    fill_memory();
    fill_regs();
    s = (struct kvm_sregs){
        .cr0 = VL_CR0_ET,
        .cs = real_segment(CODE_TYPE),
        .ss = real_segment(DATA_TYPE),
        .tr = tss,
    };
    s.ds = s.es = s.fs = s.gs = s.ss;
}

/* Flat 32-bit protected mode, no paging (SDM Vol. 3A, 9.9.1). */
static void protected_state(void)
{
    fill_memory();
    fill_regs();
    s = (struct kvm_sregs){
        .cr0 = VL_CR0_PE | VL_CR0_ET,
        .cs = code32,
        .ss = data,
        .tr = tss,
        .gdt = {.base = GDT_ADDR, .limit = GDT_LIMIT},
        .idt = {.base = IDT_ADDR, .limit = IDT_LIMIT},
    };
    s.ds = s.es = s.fs = s.gs = s.ss;
}

/* 64-bit long mode with identity paging (SDM Vol. 3A, 9.8.5). */
static void long_state(void)
{
    protected_state();
    s.cr0 |= VL_CR0_PG;
    s.cr3 = PML4_ADDR;
    s.cr4 = VL_CR4_PAE;
    s.efer = VL_EFER_LME | VL_EFER_LMA;
    s.cs = code64;
}

/* Run the checker; every message must name a field and cite the manual. */
static int check(void)
{
    int nfatal = vl_x86_check_state(&s, &regs, mem, sizeof(mem), &rep);

    vl_x86_report_format(&rep, text, sizeof(text));
    cr_assert_geq(nfatal, 0);
    for (int i = 0; i < rep.n; i++) {
        cr_assert_neq(rep.p[i].field[0], '\0', "%s", text);
        cr_assert(strstr(rep.p[i].text, "SDM Vol.") != NULL,
                  "no manual section in: %s", rep.p[i].text);
        cr_assert_lt(strlen(rep.p[i].text), sizeof(rep.p[i].text) - 1,
                     "message truncated: %s", rep.p[i].text);
    }
    return nfatal;
}

/* The report names field, as fatal or as a warning. */
static const struct vl_x86_problem *expect(const char *field, bool fatal)
{
    const struct vl_x86_problem *p = vl_x86_report_find(&rep, field);

    cr_assert_not_null(p, "%s not named; the report:\n%s", field, text);
    cr_assert_eq(p->fatal, fatal, "%s should be %s:\n%s", field,
                 fatal ? "fatal" : "a warning", text);
    return p;
}

/* The mistake is the only problem found. */
static const struct vl_x86_problem *expect_only(const char *field, bool fatal)
{
    int nfatal = check();

    cr_assert_eq(rep.n, 1, "expected only %s; the report:\n%s", field, text);
    cr_assert_eq(nfatal, fatal ? 1 : 0, "%s", text);
    return expect(field, fatal);
}

static void expect_text(const struct vl_x86_problem *p, const char *needle)
{
    cr_assert(strstr(p->text, needle) != NULL, "%s: \"%s\" should mention %s",
              p->field, p->text, needle);
}

/* ---- correct states --------------------------------------------------- */

Test(x86_check, correct_real_mode_has_no_problem)
{
    real_state();
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, correct_protected_mode_has_no_problem)
{
    protected_state();
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, correct_long_mode_has_no_problem)
{
    long_state();
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, works_without_regs_and_memory)
{
    long_state();
    s.cr3 = MEM_SIZE * 16; /* outside RAM, but RAM is not known */
    cr_assert_eq(vl_x86_check_state(&s, NULL, NULL, 0, &rep), 0);
    cr_assert_eq(rep.n, 0);
}

Test(x86_check, refuses_null_arguments)
{
    vl_assert_fails(vl_x86_check_state(NULL, NULL, NULL, 0, &rep), EINVAL,
                    "kvm_sregs");
    vl_assert_fails(vl_x86_check_state(&s, NULL, NULL, 0, NULL), EINVAL,
                    "report");
}

/* ---- control registers and EFER ------------------------------------- */

Test(x86_check, paging_without_protection)
{
    protected_state();
    s.cr0 = VL_CR0_PG | VL_CR0_ET;
    s.cs = real_segment(CODE_TYPE);
    s.cr3 = PML4_ADDR;
    expect_only("CR0.PG", true);
}

Test(x86_check, not_write_through_without_cache_disable)
{
    protected_state();
    s.cr0 |= VL_CR0_NW;
    expect_only("CR0.NW", true);
    s.cr0 |= VL_CR0_CD; /* what KVM gives a new vCPU: legal */
    cr_assert_eq(check(), 0, "%s", text);
}

Test(x86_check, long_mode_active_without_paging)
{
    protected_state();
    s.efer = VL_EFER_LME | VL_EFER_LMA;
    check();
    expect_text(expect("EFER.LMA", true), "CR0.PG");
    expect("CR0.PG", false); /* LME without PG: enabled, not active */
}

Test(x86_check, long_mode_active_without_lme)
{
    long_state();
    s.efer = VL_EFER_LMA;
    s.cs = code32;
    expect_text(expect_only("EFER.LMA", true), "EFER.LME");
}

Test(x86_check, lme_and_paging_without_lma)
{
    long_state();
    s.efer = VL_EFER_LME;
    expect_text(expect_only("EFER.LMA", true), "KVM_SET_SREGS");
}

Test(x86_check, long_mode_without_pae)
{
    long_state();
    s.cr4 &= ~VL_CR4_PAE;
    expect_text(expect_only("CR4.PAE", true), "9.8.5");
}

/* ---- CS size: L and D/B --------------------------------------------- */

Test(x86_check, cs_l_and_db_together)
{
    long_state();
    s.cs.db = 1;
    cr_assert_eq(check(), 1, "%s", text);
    expect_text(expect("CS.DB", true), "reserved");
}

Test(x86_check, cs_l_outside_long_mode)
{
    protected_state();
    s.cs = code64; /* a 64-bit CS (and its GDT entry) in 32-bit mode */
    expect_text(expect_only("CS.L", true), "EINVAL");
}

Test(x86_check, long_mode_with_32_bit_cs_is_compatibility_mode)
{
    long_state();
    s.cs = code32;
    expect_text(expect_only("CS.L", false),
                "compatibility mode: 64-bit code will be decoded as 32-bit");
    cr_assert_str_eq(vl_x86_mode_name(&s), "long mode (compatibility)");
}

/* ---- CS, SS, data segments ------------------------------------------ */

Test(x86_check, cs_not_present)
{
    protected_state();
    s.cs.present = 0;
    check();
    expect("CS.P", true);
}

Test(x86_check, cs_is_a_data_segment)
{
    protected_state();
    s.cs.type = DATA_TYPE;
    check();
    expect_text(expect("CS.type", true), "0xb");
}

Test(x86_check, cs_is_a_system_segment)
{
    protected_state();
    s.cs.s = 0;
    check();
    expect("CS.S", true);
}

Test(x86_check, zeroed_real_mode_cs)
{
    real_state();
    s.cs = (struct kvm_segment){.limit = REAL_LIMIT};
    check();
    expect("CS.P", true);
    expect("CS.S", true);
    expect("CS.type", true);
}

Test(x86_check, ss_is_read_only)
{
    protected_state();
    s.ss.type = VL_SEG_TYPE_ACCESSED; /* read-only data */
    expect_only("SS.type", true);
}

Test(x86_check, ss_is_code)
{
    protected_state();
    s.ss = code32;
    expect_only("SS.type", true);
}

Test(x86_check, ss_dpl_differs_from_cs_dpl)
{
    protected_state();
    s.ss.dpl = 3;
    expect_text(expect_only("SS.DPL", true), "CPL");
}

Test(x86_check, ss_not_present_in_protected_mode)
{
    protected_state();
    s.ss = (struct kvm_segment){0};
    expect_only("SS.P", false);
    long_state();
    s.ss = (struct kvm_segment){0}; /* a null SS is fine in 64-bit mode */
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, data_segment_selector_not_present)
{
    protected_state();
    s.ds.present = 0;
    expect_only("DS.P", true);
}

Test(x86_check, null_data_segments_are_fine)
{
    protected_state();
    s.ds = s.es = s.fs = s.gs = (struct kvm_segment){0};
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, data_segment_not_present_in_64_bit_mode_is_a_warning)
{
    long_state();
    s.fs.present = 0;
    expect_only("FS.P", false);
}

Test(x86_check, execute_only_code_in_a_data_register)
{
    protected_state();
    s.es = code32;
    s.es.type = VL_SEG_TYPE_CODE | VL_SEG_TYPE_ACCESSED;
    expect_only("ES.type", true);
}

Test(x86_check, task_register_must_be_a_busy_tss)
{
    protected_state();
    s.tr = (struct kvm_segment){0}; /* sregs built from zero */
    expect_only("TR.type", true);
    long_state();
    s.tr.type = 3; /* a 16-bit busy TSS: not in long mode */
    expect_only("TR.type", true);
}

/* ---- limits and granularity ----------------------------------------- */

Test(x86_check, raw_descriptor_limit_with_granularity)
{
    protected_state();
    s.cs.limit = RAW_FLAT_LIMIT; /* the classic: 0xfffff pages, not bytes */
    cr_assert_eq(check(), 0, "%s", text);
    expect_text(expect("CS.limit", false),
                "kvm_sregs takes the limit in bytes: 0xffffffff");
    expect_text(expect("GDT", false), "limit"); /* the GDT has it right */
}

Test(x86_check, raw_limit_is_ignored_in_64_bit_mode)
{
    long_state();
    s.cs.limit = RAW_FLAT_LIMIT;
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, limit_above_1mib_needs_granularity)
{
    protected_state();
    s.ds.g = 0;
    expect_text(expect_only("DS.G", true), "26.3.1.2");
}

Test(x86_check, granularity_needs_low_limit_bits_set)
{
    protected_state();
    s.ss.limit = 0x1000;
    expect_text(expect_only("SS.G", true), "0x1fff");
}

Test(x86_check, rip_beyond_cs_limit)
{
    protected_state();
    s.cs.limit = 0xfff; /* a byte limit: the first 4 KiB only */
    s.cs.g = 0;
    cr_assert_eq(check(), 1, "%s", text);
    expect_text(expect("RIP", true), "CS.limit");
}

/* ---- real mode ------------------------------------------------------ */

Test(x86_check, real_mode_bases_need_not_follow_selectors)
{
    real_state();
    s.ds.selector = 0x1234; /* base stays 0: unreal tricks are fine */
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, real_mode_still_at_reset_base)
{
    real_state();
    s.cs.selector = 0xf000;
    s.cs.base = 0xffff0000;
    expect_text(expect_only("CS.base", false), "RESET");
    cr_assert_eq(vl_x86_check_state(&s, NULL, mem, sizeof(mem), &rep), 0);
    cr_assert_eq(rep.n, 0, "without regs RIP is unknown");
}

/* ---- paging --------------------------------------------------------- */

Test(x86_check, cr3_outside_guest_memory)
{
    long_state();
    s.cr3 = MEM_SIZE;
    expect_text(expect_only("CR3", true), "outside guest memory");
    cr_assert_eq(vl_x86_check_state(&s, &regs, NULL, 0, &rep), 0,
                 "no memory checks when the RAM size is 0");
}

Test(x86_check, cr3_bounds_need_no_memory_view)
{
    long_state();
    s.cr3 = MEM_SIZE;
    cr_assert_eq(vl_x86_check_state(&s, &regs, NULL, MEM_SIZE, &rep), 1);
    cr_assert_not_null(vl_x86_report_find(&rep, "CR3"));
}

Test(x86_check, pml4_entry_for_rip_not_present)
{
    long_state();
    put_u64(PML4_ADDR, 0);
    expect_text(expect_only("PML4E", true), "not present");
}

Test(x86_check, page_directory_entry_for_rip_not_present)
{
    long_state();
    regs.rip = VL_PAGE_2M + CODE_ADDR; /* the PD maps only the first 2 MiB */
    expect_only("PDE", true);
}

Test(x86_check, page_table_outside_guest_memory)
{
    long_state();
    put_u64(PDPT_ADDR, (MEM_SIZE * 4) | VL_PTE_P | VL_PTE_RW);
    expect_text(expect_only("PDPTE", true), "outside guest memory");
}

Test(x86_check, walk_into_a_4k_page_table)
{
    long_state();
    put_u64(PD_ADDR, 0x5000 | VL_PTE_P | VL_PTE_RW); /* a PT at 0x5000 */
    put_u64(0x5000 + VL_PT_INDEX(CODE_ADDR) * 8, CODE_ADDR | VL_PTE_P);
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
    put_u64(0x5000 + VL_PT_INDEX(CODE_ADDR) * 8, CODE_ADDR);
    expect_only("PTE", true);
}

Test(x86_check, nx_without_efer_nxe_is_reserved)
{
    long_state();
    put_u64(PD_ADDR, VL_PTE_P | VL_PTE_RW | VL_PTE_PS | VL_PTE_NX);
    expect_text(expect_only("PDE", true), "EFER.NXE");
    s.efer |= VL_EFER_NXE;
    expect_text(expect_only("PDE", true), "execute-disable");
}

Test(x86_check, one_gib_page_needs_cpuid)
{
    long_state();
    put_u64(PDPT_ADDR, VL_PTE_P | VL_PTE_RW | VL_PTE_PS);
    expect_text(expect_only("PDPTE", false), "KVM_SET_CPUID2");
}

Test(x86_check, non_canonical_rip)
{
    long_state();
    regs.rip = 0x0000800000001000ULL;
    check();
    expect_text(expect("RIP", true), "canonical");
}

/* ---- GDT and IDT ---------------------------------------------------- */

Test(x86_check, cs_selector_beyond_gdt_limit)
{
    protected_state();
    s.gdt.limit = 8 - 1; /* the null descriptor only */
    expect_text(expect_only("CS.selector", false), "gdt.limit");
}

Test(x86_check, gdt_outside_guest_memory)
{
    protected_state();
    s.gdt.base = MEM_SIZE - 8;
    expect_only("GDT", false);
}

Test(x86_check, gdt_entry_disagrees_with_hidden_cs)
{
    long_state();
    s.cs.selector = SEL_CODE32; /* the 32-bit entry behind a 64-bit CS */
    expect_text(expect_only("GDT", false), "L DB");
}

Test(x86_check, gdt_entry_with_other_base)
{
    protected_state();
    put_u64(GDT_ADDR + SEL_CODE32,
            gdt_entry(0x10000, RAW_FLAT_LIMIT,
                      VL_SEG_ACCESS_P | VL_SEG_ACCESS_S | CODE_TYPE,
                      VL_SEG_FLAG_G | VL_SEG_FLAG_DB));
    expect_text(expect_only("GDT", false), "far jump or interrupt");
}

Test(x86_check, no_idt)
{
    protected_state();
    s.idt = (struct kvm_dtable){0};
    expect_text(expect_only("IDT", false), "triple-fault");
    real_state(); /* real mode uses the vector table at 0 */
    cr_assert_eq(check(), 0, "%s", text);
    cr_assert_eq(rep.n, 0, "%s", text);
}

Test(x86_check, idt_outside_guest_memory)
{
    long_state();
    s.idt.base = MEM_SIZE;
    expect_only("IDT", false);
}

/* ---- RFLAGS --------------------------------------------------------- */

Test(x86_check, rflags_reserved_bit_clear)
{
    protected_state();
    regs.rflags = 0;
    expect_text(expect_only("RFLAGS", false), "0x2");
}

Test(x86_check, rflags_vm_in_long_mode)
{
    long_state();
    regs.rflags |= VL_RFLAGS_VM;
    expect_only("RFLAGS.VM", true);
}

/* ---- reports and mode names ----------------------------------------- */

Test(x86_check, formats_one_line_per_problem)
{
    long_state();
    s.cr4 = 0;
    s.cs = code32;
    cr_assert_eq(check(), 1, "%s", text);
    cr_assert_eq(rep.n, 2, "%s", text);
    cr_assert_eq(vl_x86_report_format(&rep, text, sizeof(text)),
                 (int)strlen(text));
    cr_assert_eq(strncmp(text, "  CR4.PAE: long mode needs CR4.PAE = 1", 38), 0,
                 "%s", text);
    cr_assert(strstr(text, "\n  CS.L (warning): compatibility mode") != NULL,
              "%s", text);
    cr_assert_eq(text[strlen(text) - 1], '\n');
}

Test(x86_check, format_truncates_safely)
{
    char tiny[12];
    int n;

    long_state();
    s.cr4 = 0;
    check();
    n = vl_x86_report_format(&rep, tiny, sizeof(tiny));
    cr_assert_gt(n, (int)sizeof(tiny));
    cr_assert_str_eq(tiny, "  CR4.PAE: ");
    cr_assert_eq(vl_x86_report_format(&rep, NULL, 0), n);
    rep.n = 0;
    cr_assert_eq(vl_x86_report_format(&rep, tiny, sizeof(tiny)), 0);
    cr_assert_str_eq(tiny, "");
}

Test(x86_check, keeps_count_of_problems_beyond_the_report)
{
    int nfatal;

    long_state();
    memset(&s, 0, sizeof(s)); /* every segment zero, but long mode */
    s.cr0 = VL_CR0_PE | VL_CR0_PG | VL_CR0_NW;
    s.efer = VL_EFER_LME | VL_EFER_LMA;
    s.cr3 = MEM_SIZE;
    s.cs.l = 1;
    s.cs.db = 1;
    s.ds.selector = s.es.selector = s.fs.selector = SEL_DATA;
    s.gs.selector = SEL_DATA;
    s.ss = code32;
    s.ss.g = 0;
    s.ds.present = s.es.present = s.fs.present = s.gs.present = 0;
    regs.rflags = VL_RFLAGS_VM;
    nfatal = check();
    cr_assert_eq(rep.n, VL_X86_MAX_PROBLEMS, "%s", text);
    cr_assert_gt(rep.more, 0, "%s", text);
    cr_assert_gt(nfatal, 10, "%s", text);
    cr_assert(strstr(text, "more\n") != NULL, "%s", text);
}

Test(x86_check, appends_problems_to_the_error_chain)
{
    long_state();
    s.cr4 = 0;
    check();
    vl_err_plain(EINVAL, "KVM_SET_SREGS failed: Invalid argument");
    vl_x86_report_hint(&rep);
    cr_assert(strstr(vl_errmsg(), "Invalid argument\n  hint: CR4.PAE: ") !=
                  NULL,
              "%s", vl_errmsg());
}

Test(x86_check, names_modes)
{
    real_state();
    cr_assert_str_eq(vl_x86_mode_name(&s), "real mode");
    protected_state();
    cr_assert_str_eq(vl_x86_mode_name(&s), "protected mode");
    s.cr0 |= VL_CR0_PG;
    cr_assert_str_eq(vl_x86_mode_name(&s), "protected mode with paging");
    long_state();
    cr_assert_str_eq(vl_x86_mode_name(&s), "long mode (64-bit)");
    s.cs.l = 0;
    cr_assert_str_eq(vl_x86_mode_name(&s), "long mode (compatibility)");
}

/* ---- with KVM ------------------------------------------------------- */

/* Copy the mode-defining fields of s over what KVM gave the vCPU (which
 * keeps its APIC base and the rest). */
static void load_mode(struct kvm_sregs *into)
{
    into->cr0 = s.cr0;
    into->cr3 = s.cr3;
    into->cr4 = s.cr4;
    into->efer = s.efer;
    into->cs = s.cs;
    into->ds = s.ds;
    into->es = s.es;
    into->fs = s.fs;
    into->gs = s.gs;
    into->ss = s.ss;
    into->tr = s.tr;
    into->gdt = s.gdt;
    into->idt = s.idt;
}

/*
 * Long mode without CR4.PAE: KVM says only "Invalid argument" (or, on a
 * host that takes it, the guest fails to run); the explainer names CR4.PAE.
 * With PAE set the same state runs its one hlt.
 */
Test(x86_check, explains_what_kvm_refuses)
{
    struct vl_kvm kvm;
    struct vl_vm vm;
    struct vl_vcpu vcpu;
    struct kvm_sregs sregs;
    void *ram;
    int r;

    vl_require_kvm();
    long_state();
    vl_assert_ok(vl_kvm_open(&kvm));
    vl_assert_ok(vl_vm_create(&vm, &kvm));
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, MEM_SIZE, 0, &ram));
    vl_assert_ok(vl_vm_write(&vm, 0, mem, sizeof(mem)));
    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    vl_assert_ok(vl_vcpu_get_sregs(&vcpu, &sregs));
    load_mode(&sregs);
    sregs.cr4 &= ~VL_CR4_PAE;
    vl_assert_ok(vl_vcpu_set_regs(&vcpu, &regs));

    vl_err_clear();
    r = vl_vcpu_set_sregs(&vcpu, &sregs);
    if (r == 0) {
        r = vl_assert_ok(vl_vcpu_run(&vcpu));
        cr_assert(r == KVM_EXIT_FAIL_ENTRY || r == KVM_EXIT_SHUTDOWN ||
                      r == KVM_EXIT_INTERNAL_ERROR,
                  "KVM took long mode without PAE and exited with %d", r);
    } else {
        cr_assert_eq(r, -EINVAL, "%s", vl_errmsg());
        cr_assert(strstr(vl_errmsg(), "KVM_SET_SREGS") != NULL);
    }
    cr_assert_eq(vl_x86_check_state(&sregs, &regs, ram, MEM_SIZE, &rep), 1);
    cr_assert(vl_x86_report_find(&rep, "CR4.PAE")->fatal);
    vl_x86_report_hint(&rep);
    cr_assert(strstr(vl_errmsg(), "hint: CR4.PAE:") != NULL, "%s", vl_errmsg());

    sregs.cr4 |= VL_CR4_PAE;
    vl_assert_ok(vl_vcpu_set_sregs(&vcpu, &sregs));
    vl_assert_ok(vl_vcpu_set_regs(&vcpu, &regs));
    cr_assert_eq(vl_assert_ok(vl_vcpu_run(&vcpu)), KVM_EXIT_HLT);
    cr_assert_eq(vl_assert_ok(vl_vcpu_check_state(&vcpu, &rep)), 0);
    cr_assert_eq(rep.n, 0, "after hlt");
    vl_vcpu_destroy(&vcpu);
    vl_vm_destroy(&vm);
    vl_kvm_close(&kvm);
}
