/*
 * cpu_modes_test.c - the tests of lab 02, one group per TODO.
 *
 * The VM, its memory and its vCPU come from libvirtlab (the reference for
 * lab 01); everything about CPU modes comes from your modes.c. Later TODOs
 * use earlier ones (entering a mode needs the GDT), as minivm does.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../guest/guest.h"
#include "mvm_test.h"
#include "virtlab/x86.h"

/* The descriptors every OS tutorial writes by hand (SDM Vol. 3A, 3.4.5). */
#define DESC_CODE32 0x00cf9a000000ffffULL /* flat, 32-bit, execute/read */
#define DESC_DATA   0x00cf92000000ffffULL /* flat, read/write */
#define DESC_CODE64 0x00af9a000000ffffULL /* L=1, D=0 */

static const uint8_t access_code = 0x9a; /* P, DPL 0, S, code, readable */
static const uint8_t access_data = 0x92; /* P, DPL 0, S, data, writable */

TestSuite(cpu_modes, .init = setup, .fini = teardown, .timeout = 60);

/* A VM with memory and a vCPU, nothing in it yet. */
static void boot_empty(void)
{
    static const uint8_t hlt[] = {0xf4};

    boot_with_libvirtlab(hlt, sizeof(hlt));
}

static uint64_t table_entry(uint64_t table_gpa, unsigned index)
{
    uint64_t e;

    memcpy(&e, vm.mem + table_gpa + 8 * index, sizeof(e));
    return e;
}

/* ---- TODO 1: descriptors ---------------------------------------------------
 */

Test(cpu_modes, encodes_flat_descriptors)
{
    cr_assert_eq(
        mvm_gdt_descriptor(0, 0xfffff, access_code, 0xc), DESC_CODE32,
        "flat 32-bit code: got 0x%016llx",
        (unsigned long long)mvm_gdt_descriptor(0, 0xfffff, access_code, 0xc));
    cr_assert_eq(mvm_gdt_descriptor(0, 0xfffff, access_data, 0xc), DESC_DATA);
    cr_assert_eq(mvm_gdt_descriptor(0, 0xfffff, access_code, 0xa), DESC_CODE64);
}

Test(cpu_modes, encodes_base_and_limit_pieces)
{
    /* base 0x12345678 is cut into 0x5678 (bits 16-31), 0x34 (32-39) and
     * 0x12 (56-63); limit 0xa1234 into 0x1234 (0-15) and 0xa (48-51). */
    cr_assert_eq(mvm_gdt_descriptor(0x12345678, 0xa1234, access_data, 0x4),
                 0x124a923456781234ULL, "got 0x%016llx",
                 (unsigned long long)mvm_gdt_descriptor(0x12345678, 0xa1234,
                                                        access_data, 0x4));
}

/* ---- TODO 2: hidden parts
 * ----------------------------------------------------- */

Test(cpu_modes, decodes_descriptor_into_kvm_segment)
{
    struct kvm_segment s;

    mvm_segment_from_descriptor(DESC_CODE32, 0x08, &s);
    cr_assert_eq(s.selector, 0x08);
    cr_assert_eq(s.base, 0);
    cr_assert_eq(s.limit, 0xffffffff,
                 "with G=1 the limit counts 4 KiB pages: kvm_segment wants "
                 "bytes, 0xffffffff, not 0x%x",
                 s.limit);
    cr_assert_eq(s.type, 0xa);
    cr_assert(s.present && s.s && s.db && s.g && !s.l && !s.unusable);
    cr_assert_eq(s.dpl, 0);

    mvm_segment_from_descriptor(DESC_CODE64, 0x18, &s);
    cr_assert(s.l && !s.db, "a 64-bit code segment has L=1 and D=0");

    mvm_segment_from_descriptor(0x124a923456781234ULL, 0x10, &s);
    cr_assert_eq(s.base, 0x12345678, "base 0x%llx", (unsigned long long)s.base);
    cr_assert_eq(s.limit, 0xa1234, "with G=0 the limit is in bytes");
    cr_assert(!s.g && s.db && s.type == 2);
}

Test(cpu_modes, not_present_descriptor_is_unusable)
{
    struct kvm_segment s;

    mvm_segment_from_descriptor(DESC_DATA & ~(1ULL << 47), 0x10, &s);
    cr_assert(!s.present && s.unusable);
}

/* ---- TODO 3: the GDT
 * ------------------------------------------------------------ */

Test(cpu_modes, writes_gdt_and_sets_gdtr)
{
    struct kvm_sregs s = {0};

    boot_empty();
    vl_assert_ok(mvm_setup_gdt(&vm, &s));
    cr_assert_eq(s.gdt.base, MVM_GDT_ADDR);
    cr_assert_eq(s.gdt.limit, 8 * MVM_GDT_ENTRIES - 1,
                 "GDTR.limit is the size in bytes minus one, not %u",
                 s.gdt.limit);
    cr_assert_eq(table_entry(MVM_GDT_ADDR, 0), 0, "entry 0 is null");
    cr_assert_eq(table_entry(MVM_GDT_ADDR, 1), DESC_CODE32);
    cr_assert_eq(table_entry(MVM_GDT_ADDR, 2), DESC_DATA);
    cr_assert_eq(table_entry(MVM_GDT_ADDR, 3), DESC_CODE64);
}

/* ---- TODO 4: protected mode -------------------------------------------------
 */

Test(cpu_modes, enters_protected_mode)
{
    struct kvm_sregs s;

    boot_empty();
    vl_assert_ok(mvm_enter_protected(&vm, 0x1000));
    s = get_sregs();
    cr_assert(s.cr0 & VL_CR0_PE, "CR0.PE must be set");
    cr_assert(!(s.cr0 & VL_CR0_PG), "no paging in this protected mode");
    cr_assert_eq(s.cs.selector, MVM_SEL_CODE32);
    cr_assert(s.cs.db && !s.cs.l && s.cs.limit == 0xffffffff);
    cr_assert_eq(s.ss.selector, MVM_SEL_DATA);
    cr_assert_eq(s.ds.selector, MVM_SEL_DATA);
    cr_assert(s.ss.type & VL_SEG_TYPE_WRITE, "SS must be writable data");
    cr_assert_eq(s.gdt.base, MVM_GDT_ADDR);
}

Test(cpu_modes, runs_32bit_guest)
{
    uint32_t result;

    vm.opt.max_exits = 1000;
    boot_guest_file("prot32.bin");
    vl_assert_ok(mvm_enter_protected(&vm, MVM_LOAD_ADDR));
    vl_assert_ok(mvm_run(&vm));
    cr_assert_str_eq(capture_text(&console),
                     "32-bit protected mode: CR0.PE=1, CS=0x08\n");
    memcpy(&result, vm.mem + RESULT_ADDR, sizeof(result));
    cr_assert_eq(result, RESULT32, "the 32-bit guest stored 0x%x", result);
}

/* ---- TODO 5: mapping pages
 * ------------------------------------------------------ */

Test(cpu_modes, maps_4k_page)
{
    boot_empty();
    vl_assert_ok(mvm_map_page(&vm, 0x1000, 0x1000, VL_PAGE_4K));
    vl_assert_ok(mvm_map_page(&vm, 0x7fff0000, 0x5000, VL_PAGE_4K));
    cr_assert_geq(vm.pt_root, MVM_PT_BASE,
                  "allocate tables with "
                  "mvm_pt_alloc()");
    paging_on_with_libvirtlab();
    cr_assert_eq(translate(0x1234), 0x1234);
    cr_assert_eq(translate(0x7fff0abc), 0x5abc);
    cr_assert_eq(translate(0x2000), UINT64_MAX, "0x2000 was never mapped");
    /* 4 KiB pages: the PD entry points to a page table, no PS bit. */
    {
        uint64_t pdpt = table_entry(vm.pt_root, 0) & VL_PTE_ADDR_MASK;
        uint64_t pd = table_entry(pdpt, 0) & VL_PTE_ADDR_MASK;

        cr_assert(!(table_entry(pd, 0) & VL_PTE_PS));
    }
}

Test(cpu_modes, maps_2m_page)
{
    boot_empty();
    vl_assert_ok(mvm_map_page(&vm, 0x40000000, 0x200000, VL_PAGE_2M));
    paging_on_with_libvirtlab();
    cr_assert_eq(translate(0x40000000), 0x200000);
    cr_assert_eq(translate(0x401ffff8), 0x3ffff8, "the whole 2 MiB maps");
    cr_assert_eq(translate(0x40200000), UINT64_MAX);
}

Test(cpu_modes, refuses_bad_or_conflicting_mappings)
{
    boot_empty();
    vl_assert_fails(mvm_map_page(&vm, 0x1000, 0x1000, 0x3000), EINVAL,
                    "page size");
    vl_assert_fails(mvm_map_page(&vm, 0x1800, 0x1000, VL_PAGE_4K), EINVAL,
                    "multiple");
    vl_assert_fails(mvm_map_page(&vm, 0x200000, 0x1000, VL_PAGE_2M), EINVAL,
                    "multiple");
    vl_assert_fails(mvm_map_page(&vm, 1ULL << 47, 0, VL_PAGE_4K), EINVAL,
                    "lower half");
    vl_assert_ok(mvm_map_page(&vm, 0x600000, 0x200000, VL_PAGE_2M));
    vl_assert_fails(mvm_map_page(&vm, 0x601000, 0x1000, VL_PAGE_4K), EEXIST,
                    "2 MiB");
    vl_assert_ok(mvm_map_page(&vm, 0x1000, 0x1000, VL_PAGE_4K));
    vl_assert_fails(mvm_map_page(&vm, 0x1000, 0x2000, VL_PAGE_4K), EEXIST,
                    "already mapped");
}

/* ---- TODO 6: minivm's tables
 * ---------------------------------------------------- */

Test(cpu_modes, builds_identity_and_high_mappings)
{
    boot_empty();
    vl_assert_ok(mvm_build_page_tables(&vm));
    paging_on_with_libvirtlab();
    cr_assert_eq(translate(0x1000), 0x1000, "code at 0x1000");
    cr_assert_eq(translate(MVM_GDT_ADDR), MVM_GDT_ADDR, "the GDT");
    cr_assert_eq(translate(0x1ff000), 0x1ff000, "the last 4 KiB page");
    cr_assert_eq(translate(0x3ffff0), 0x3ffff0, "memory above 2 MiB");
    cr_assert_eq(translate(MVM_HIGH_VADDR + 0x10), MVM_HIGH_PHYS + 0x10,
                 "4 GiB should map to MVM_HIGH_PHYS");
    cr_assert_eq(translate(vm.mem_size), UINT64_MAX,
                 "nothing past the end of memory");
    {
        uint64_t pdpt = table_entry(vm.pt_root, 0) & VL_PTE_ADDR_MASK;
        uint64_t pd = table_entry(pdpt, 0) & VL_PTE_ADDR_MASK;

        cr_assert(!(table_entry(pd, 0) & VL_PTE_PS),
                  "the first 2 MiB should use 4 KiB pages");
        cr_assert(table_entry(pd, 1) & VL_PTE_PS,
                  "2 MiB and up should use 2 MiB pages");
    }
}

Test(cpu_modes, refuses_too_little_memory_for_long_mode)
{
    vm.opt.mem_size = 1 << 20;
    boot_empty();
    vl_assert_fails(mvm_build_page_tables(&vm), EINVAL, "--mem");
}

/* ---- TODO 7: long mode
 * ---------------------------------------------------------- */

Test(cpu_modes, enters_long_mode)
{
    struct kvm_sregs s;

    boot_empty();
    vl_assert_ok(mvm_build_page_tables(&vm));
    vl_assert_ok(mvm_enter_long(&vm, 0x1000));
    s = get_sregs();
    cr_assert_eq(s.cr3, vm.pt_root, "CR3 holds the PML4's address");
    cr_assert(s.cr4 & VL_CR4_PAE, "CR4.PAE");
    cr_assert(s.efer & VL_EFER_LME, "EFER.LME");
    cr_assert(s.efer & VL_EFER_LMA, "EFER.LMA");
    cr_assert((s.cr0 & (VL_CR0_PE | VL_CR0_PG)) == (VL_CR0_PE | VL_CR0_PG),
              "CR0.PE and CR0.PG");
    cr_assert_eq(s.cs.selector, MVM_SEL_CODE64);
    cr_assert(s.cs.l && !s.cs.db, "CS.L=1 and CS.D=0 for 64-bit code");
}

Test(cpu_modes, refuses_long_mode_without_tables)
{
    boot_empty();
    vl_assert_fails(mvm_enter_long(&vm, 0x1000), EINVAL, "page tables");
}

Test(cpu_modes, runs_64bit_guest_above_4gib)
{
    struct kvm_regs regs;
    uint64_t stored;

    vm.opt.max_exits = 1000;
    boot_guest_file("long64.bin");
    vl_assert_ok(mvm_build_page_tables(&vm));
    vl_assert_ok(mvm_enter_long(&vm, MVM_LOAD_ADDR));
    vl_assert_ok(mvm_run(&vm));
    cr_assert_str_eq(capture_text(&console),
                     "64-bit long mode: EFER.LMA=1, wrote above 4 GiB\n");
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    cr_assert_eq(regs.r15, RESULT64);
    memcpy(&stored, vm.mem + HIGH_PHYS + HIGH_OFFSET, sizeof(stored));
    cr_assert_eq(stored, RESULT64,
                 "the store through 4 GiB should land at "
                 "MVM_HIGH_PHYS");
}
