/*
 * guest_memory_test.c - the tests of lab 03, one group per TODO.
 *
 * RAM (slot 0) comes from libvirtlab, protected and long mode from the
 * reference of lab 02; slots, translation, MMIO, the page walk and the
 * dirty log come from your memory.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../guest/guest.h"
#include "mvm_test.h"
#include "virtlab/x86.h"

TestSuite(guest_memory, .init = setup, .fini = teardown, .timeout = 60);

static void boot_empty(void)
{
    static const uint8_t hlt[] = {0xf4};

    boot_with_libvirtlab(hlt, sizeof(hlt));
}

/* Would KVM accept a new slot over [gpa, gpa+size)? Not if one is there. */
static bool kvm_has_memory_at(uint64_t gpa)
{
    static uint8_t page[PAGE] __attribute__((aligned(PAGE)));
    struct kvm_userspace_memory_region probe = {
        .slot = 30,
        .guest_phys_addr = gpa,
        .memory_size = PAGE,
        .userspace_addr = (uintptr_t)page,
    };

    if (ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &probe) < 0)
        return errno == EEXIST;
    probe.memory_size = 0; /* size 0 deletes the probe slot again */
    ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &probe);
    return false;
}

/* ---- TODO 1: slots ---------------------------------------------------------
 */

Test(guest_memory, adds_slots_with_holes_between)
{
    int a, b;

    boot_empty();
    a = vl_assert_ok(mvm_add_slot(&vm, ROM_ADDR, 0x10000, KVM_MEM_READONLY));
    b = vl_assert_ok(
        mvm_add_slot(&vm, DIRTY_ADDR, DIRTY_SIZE, KVM_MEM_LOG_DIRTY_PAGES));
    cr_assert(a >= 1 && b >= 1 && a != b,
              "slot numbers %d and %d: slot 0 "
              "is RAM, each slot needs its own",
              a, b);
    cr_assert_eq(vm.nslots, 2);
    cr_assert_eq(vm.slots[0].gpa, ROM_ADDR);
    cr_assert_eq(vm.slots[0].flags, KVM_MEM_READONLY);
    cr_assert_not_null(vm.slots[0].hva);
    cr_assert(kvm_has_memory_at(ROM_ADDR), "KVM does not know the slot");
    cr_assert(kvm_has_memory_at(DIRTY_ADDR + DIRTY_SIZE - PAGE));
    cr_assert(!kvm_has_memory_at(HOLE_ADDR), "the hole must stay a hole");
}

Test(guest_memory, refuses_bad_or_overlapping_slots)
{
    boot_empty();
    vl_assert_ok(mvm_add_slot(&vm, ROM_ADDR, 0x10000, 0));
    vl_assert_fails(mvm_add_slot(&vm, 0x100000, PAGE, 0), EEXIST, "RAM");
    vl_assert_fails(mvm_add_slot(&vm, ROM_ADDR + 0xf000, 0x2000, 0), EEXIST,
                    "overlaps");
    vl_assert_fails(mvm_add_slot(&vm, ROM_ADDR - PAGE, 0x2000, 0), EEXIST,
                    "overlaps");
    vl_assert_fails(mvm_add_slot(&vm, HOLE_ADDR + 1, PAGE, 0), EINVAL,
                    "aligned");
    vl_assert_fails(mvm_add_slot(&vm, HOLE_ADDR, 0, 0), EINVAL, "");
    vl_assert_fails(mvm_add_slot(&vm, UINT64_MAX - PAGE + 1, 2 * PAGE, 0),
                    EINVAL, "");
    vl_assert_fails(mvm_add_slot(&vm, HOLE_ADDR, PAGE, 0x80), EINVAL, "flags");
    cr_assert_eq(vm.nslots, 1, "refused slots must not be recorded");
}

Test(guest_memory, refuses_too_many_slots)
{
    boot_empty();
    for (int i = 0; i < MVM_MAX_SLOTS; i++)
        vl_assert_ok(
            mvm_add_slot(&vm, 0x1000000 + (uint64_t)i * 0x100000, PAGE, 0));
    vl_assert_fails(mvm_add_slot(&vm, 0x4000000, PAGE, 0), ENOSPC, "");
}

/* ---- TODO 2: translation ---------------------------------------------------
 */

Test(guest_memory, translates_across_slots)
{
    uint8_t *p;

    boot_empty();
    vl_assert_ok(mvm_add_slot(&vm, ROM_ADDR, 0x2000, 0));
    cr_assert_eq(mvm_guest_ptr(&vm, 0x1234, 4), vm.mem + 0x1234);
    p = mvm_guest_ptr(&vm, ROM_ADDR + 0x10, 0x100);
    cr_assert_eq(p, vm.slots[0].hva + 0x10);
    cr_assert_not_null(mvm_guest_ptr(&vm, ROM_ADDR + 0x1fff, 1));
    cr_assert_null(mvm_guest_ptr(&vm, ROM_ADDR + 0x1fff, 2),
                   "a range running out of its slot must be refused");
    cr_assert_null(mvm_guest_ptr(&vm, HOLE_ADDR, 1), "a hole has no memory");
    cr_assert_null(mvm_guest_ptr(&vm, vm.mem_size - 4, 8));
    cr_assert_null(mvm_guest_ptr(&vm, UINT64_MAX, 2));
    vl_err_clear();
    mvm_guest_ptr(&vm, HOLE_ADDR, 1);
    cr_assert(strstr(vl_errmsg(), "0xa00000") != NULL,
              "name the address: \"%s\"", vl_errmsg());
}

/* ---- TODO 3: MMIO -----------------------------------------------------------
 */

Test(guest_memory, rom_writes_are_ignored_and_holes_stop_the_guest)
{
    int r;

    vm.opt.max_exits = 100;
    boot_guest_file("rom.bin");
    vl_assert_ok(mvm_add_slot(&vm, ROM_ADDR, 0x10000, KVM_MEM_READONLY));
    vm.slots[0].hva[0] = 'R'; /* the ROM's content, put there by the VMM */
    vl_assert_ok(mvm_enter_protected(&vm, MVM_LOAD_ADDR));
    vl_err_clear();
    r = mvm_run(&vm);
    cr_assert_str_eq(capture_text(&console), "RR\n",
                     "the guest reads 'R', writes 'X' (ignored), reads 'R'");
    cr_assert_eq(vm.rom_writes, 1, "count the write to ROM");
    cr_assert_eq(vm.slots[0].hva[0], 'R', "ROM must not change");
    cr_assert_eq(r, -EFAULT,
                 "reading a hole must stop the guest (-EFAULT), "
                 "got %d: %s",
                 r, vl_errmsg());
    cr_assert(strstr(vl_errmsg(), "0xa00000") != NULL,
              "name the address of the hole: \"%s\"", vl_errmsg());
}

/* ---- TODO 4: the page walk
 * --------------------------------------------------- */

/* The entry of the reference tables that maps va at `level` (3 = PML4,
 * 0 = PT), following the tables lab 02 built; to edit by hand. */
static uint64_t *entry_of(uint64_t va, int level)
{
    uint64_t t = vm.pt_root;

    for (int l = 3;; l--) {
        uint64_t *e =
            (uint64_t *)(vm.mem + t + 8 * ((va >> (12 + 9 * l)) & 0x1ff));

        if (l == level)
            return e;
        t = *e & VL_PTE_ADDR_MASK;
    }
}

static uint64_t *pte_of(uint64_t va)
{
    return entry_of(va, 0);
}

/* The permissions walk_matches_kvm_translate gives its pages. */
static unsigned expected_perms(uint64_t va)
{
    switch (va >> 12) {
    case 0x5:
        return 0;
    case 0x6:
        return MVM_WALK_WRITABLE | MVM_WALK_USER;
    case 0x7:
        return MVM_WALK_USER;
    default:
        return MVM_WALK_WRITABLE;
    }
}

Test(guest_memory, walk_matches_kvm_translate)
{
    static const uint64_t extra[] = {
        0x0,
        0x7ff,
        0x1fffff,
        0x200000,
        0x3fffff,
        0x400000,
        0x10000000,
        MVM_HIGH_VADDR,
        MVM_HIGH_VADDR + 0x1fffff,
        MVM_HIGH_VADDR + 0x200000,
        0x7fffffffffffULL,
        0x123456789000ULL,
    };
    int checked = 0;

    boot_empty();
    vl_assert_ok(mvm_build_page_tables(&vm));
    /* Vary the permissions: read-only, user, and read-only user pages.
     * A page is user-accessible only if every level says US: open the
     * upper levels of the first 2 MiB, so each PTE decides. */
    for (int level = 3; level >= 1; level--)
        *entry_of(0, level) |= VL_PTE_US;
    *pte_of(0x5000) &= ~VL_PTE_RW;
    *pte_of(0x6000) |= VL_PTE_US;
    *pte_of(0x7000) = (*pte_of(0x7000) | VL_PTE_US) & ~VL_PTE_RW;
    /* US on the leaf alone does not make a page user-accessible. */
    *entry_of(MVM_HIGH_VADDR, 1) |= VL_PTE_US;
    *pte_of(0x8000) &= ~VL_PTE_P;
    paging_on_with_libvirtlab();

    /* Every page of the first 2 MiB and a bit, at a varying offset, then
     * addresses at the edges of the other mappings. */
    for (uint64_t i = 0; i < 0x220 + sizeof(extra) / sizeof(extra[0]); i++) {
        uint64_t addr = i < 0x220 ? (i << 12) + i % 0x1000 : extra[i - 0x220];
        struct kvm_translation tr = {.linear_address = addr};
        uint64_t pa = 0;
        unsigned perms = 0;
        int r = mvm_walk(&vm, vm.pt_root, addr, &pa, &perms);

        cr_assert_eq(ioctl(vm.vcpu_fd, KVM_TRANSLATE, &tr), 0);
        cr_assert_eq(r == 0, tr.valid != 0,
                     "va 0x%llx: KVM says %s, your walk returned %d (%s)",
                     (unsigned long long)addr,
                     tr.valid ? "mapped" : "not mapped", r, vl_errmsg());
        if (!tr.valid)
            continue;
        cr_assert_eq(pa, tr.physical_address,
                     "va 0x%llx: KVM says pa 0x%llx, you 0x%llx",
                     (unsigned long long)addr,
                     (unsigned long long)tr.physical_address,
                     (unsigned long long)pa);
        /* On x86 KVM_TRANSLATE always says writeable = 1, usermode = 0
         * (it walks as a kernel read), so check permissions against what
         * this test changed above. */
        cr_assert_eq(perms, expected_perms(addr),
                     "va 0x%llx: permissions %u, expected %u",
                     (unsigned long long)addr, perms, expected_perms(addr));
        checked++;
    }
    cr_assert_gt(checked, 500);
}

Test(guest_memory, walk_names_the_missing_level)
{
    uint64_t pa;
    unsigned perms;

    boot_empty();
    vl_assert_ok(mvm_build_page_tables(&vm));
    *pte_of(0x8000) &= ~VL_PTE_P;
    vl_assert_fails(mvm_walk(&vm, vm.pt_root, 0x8000, &pa, &perms), EFAULT,
                    "PT entry 8");
    vl_assert_fails(mvm_walk(&vm, vm.pt_root, 0x8000000000ULL, &pa, &perms),
                    EFAULT, "PML4 entry 1");
    vl_assert_fails(mvm_walk(&vm, vm.pt_root, 0x40000000, &pa, &perms), EFAULT,
                    "PDPT entry 1");
    vl_assert_fails(mvm_walk(&vm, vm.pt_root, 0x800000000000ULL, &pa, &perms),
                    EINVAL, "canonical");
}

Test(guest_memory, walk_follows_large_pages)
{
    uint64_t pa = 0;
    unsigned perms = 0;
    uint64_t *pml4, *pdpt;

    boot_empty();
    vl_assert_ok(mvm_build_page_tables(&vm));
    vl_assert_ok(mvm_walk(&vm, vm.pt_root, 0x2abcde, &pa, &perms));
    cr_assert_eq(pa, 0x2abcde, "inside a 2 MiB page");
    vl_assert_ok(
        mvm_walk(&vm, vm.pt_root, MVM_HIGH_VADDR + 0x12345, &pa, &perms));
    cr_assert_eq(pa, MVM_HIGH_PHYS + 0x12345);
    cr_assert_eq(perms, MVM_WALK_WRITABLE);
    /* A 1 GiB page at 512 GiB, made by hand: PML4[1] -> PDPT[0] with PS. */
    pml4 = (uint64_t *)(vm.mem + vm.pt_root);
    pdpt = (uint64_t *)(vm.mem + 0x2f000);
    memset(pdpt, 0, PAGE);
    pml4[1] = 0x2f000 | VL_PTE_P | VL_PTE_US;
    pdpt[0] = 0x40000000 | VL_PTE_P | VL_PTE_PS | VL_PTE_RW;
    vl_assert_ok(
        mvm_walk(&vm, vm.pt_root, 0x8000000000ULL + 0x3fffffff, &pa, &perms));
    cr_assert_eq(pa, 0x7fffffff, "1 GiB page: pa 0x%llx",
                 (unsigned long long)pa);
    cr_assert_eq(perms, 0,
                 "RW only on the PDPTE, US only on the PML4E: "
                 "neither writable nor user, got %u",
                 perms);
}

/* ---- TODO 5: the dirty log
 * ----------------------------------------------------- */

Test(guest_memory, dirty_log_reports_exactly_the_written_pages)
{
    uint64_t gpas[16];
    int slot, n;

    vm.opt.max_exits = 100;
    boot_guest_file("dirty.bin");
    slot = vl_assert_ok(
        mvm_add_slot(&vm, DIRTY_ADDR, DIRTY_SIZE, KVM_MEM_LOG_DIRTY_PAGES));
    vl_assert_ok(mvm_enter_protected(&vm, MVM_LOAD_ADDR));
    n = vl_assert_ok(mvm_dirty_pages(&vm, (uint32_t)slot, gpas, 16));
    cr_assert_eq(n, 0, "nothing is dirty before the guest runs");
    vl_assert_ok(mvm_run(&vm));
    n = vl_assert_ok(mvm_dirty_pages(&vm, (uint32_t)slot, gpas, 16));
    cr_assert_eq(n, 4, "pages 0, 3, 7 and 8 are dirty, you found %d", n);
    cr_assert_eq(gpas[0], DIRTY_ADDR);
    cr_assert_eq(gpas[1], DIRTY_ADDR + 3 * PAGE_SIZE);
    cr_assert_eq(gpas[2], DIRTY_ADDR + 7 * PAGE_SIZE);
    cr_assert_eq(gpas[3], DIRTY_ADDR + 8 * PAGE_SIZE);
    n = vl_assert_ok(mvm_dirty_pages(&vm, (uint32_t)slot, gpas, 16));
    cr_assert_eq(n, 0, "reading the log clears it");
    /* At most `max` entries are written, the count is still complete. */
    vm.slots[0].hva[0] = 1; /* the VMM's own writes are not logged */
    cr_assert_eq(mvm_dirty_pages(&vm, (uint32_t)slot, gpas, 1), 0);
}

Test(guest_memory, dirty_log_needs_the_flag)
{
    uint64_t gpas[4];
    int slot;

    boot_empty();
    slot = vl_assert_ok(mvm_add_slot(&vm, ROM_ADDR, PAGE, 0));
    vl_assert_fails(mvm_dirty_pages(&vm, (uint32_t)slot, gpas, 4), EINVAL,
                    "KVM_MEM_LOG_DIRTY_PAGES");
    vl_assert_fails(mvm_dirty_pages(&vm, 7, gpas, 4), EINVAL, "");
}
