/*
 * modes.c - minivm stage 2: CPU modes.
 *
 * Lab 01 ran its guest in real mode, the 16-bit mode every x86 CPU starts
 * in. Here you move the vCPU to 32-bit protected mode and to 64-bit long
 * mode, without running a single guest instruction to get there: you write
 * the tables the CPU reads (the GDT, the page tables) into guest memory,
 * and the registers that point at them into kvm_sregs.
 *
 * References: Intel SDM Vol. 3A, 3.4.5 "Segment Descriptors", 9.9
 * "Mode Switching", 4.5 "4-Level Paging"; AMD APM Vol. 2, 14.6 "Enabling
 * and Activating Long Mode"; api.rst 4.13/4.14 (KVM_GET/SET_SREGS).
 * labs/02-cpu-modes/README.md walks through the steps.
 */
#define MVM_LAB        "02-cpu-modes"
#define MVM_STAGE_FILE "modes.c"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "minivm.h"
#include "virtlab/x86.h"

/*
 * TODO 1: encode a segment descriptor (SDM Vol. 3A, 3.4.5, Figure 3-8).
 * Eight bytes, with base and limit cut into pieces for historical reasons:
 *   bits  0-15 limit 15:0        bits 32-39 base 23:16
 *   bits 16-31 base 15:0         bits 40-47 access (P DPL S Type)
 *   bits 48-51 limit 19:16       bits 52-55 flags (G D/B L AVL)
 *   bits 56-63 base 31:24
 * `limit` is the raw 20-bit field (0xfffff with G=1 means 4 GiB).
 */
uint64_t mvm_gdt_descriptor(uint32_t base, uint32_t limit, uint8_t access,
                            uint8_t flags)
{
    /* SOLUTION BEGIN */
    /* stub: (void)base; */
    /* stub: (void)limit; */
    /* stub: (void)access; */
    /* stub: (void)flags; */
    /* stub: MVM_TODO(1, "encode a segment descriptor"); */
    /* stub: return 0; */
    return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
           (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
           (uint64_t)(flags & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
    /* SOLUTION END */
}

/*
 * TODO 2: decode a descriptor into the "hidden part" of a segment register.
 * When a program loads a selector, the CPU reads the descriptor from the GDT
 * and caches base, limit and attributes in the segment register. KVM lets
 * us write that cache directly: struct kvm_segment. Fill every field:
 * selector, base, limit (in BYTES: with G=1 the raw limit counts 4 KiB
 * pages, so 0xfffff becomes 0xffffffff), type, present, dpl, db, s, l, g,
 * avl, and unusable = !present.
 */
void mvm_segment_from_descriptor(uint64_t desc, uint16_t selector,
                                 struct kvm_segment *seg)
{
    /* SOLUTION BEGIN */
    /* stub: (void)desc; */
    /* stub: (void)selector; */
    /* stub: memset(seg, 0, sizeof(*seg)); */
    /* stub: MVM_TODO(2, "decode a descriptor into a kvm_segment"); */
    uint8_t access = (desc >> 40) & 0xff;
    uint8_t flags = (desc >> 52) & 0xf;
    uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));

    *seg = (struct kvm_segment){
        .selector = selector,
        .base = ((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000),
        .limit = flags & VL_SEG_FLAG_G ? (limit << 12) | 0xfff : limit,
        .type = access & 0xf,
        .present = !!(access & VL_SEG_ACCESS_P),
        .dpl = (access >> 5) & 3,
        .s = !!(access & VL_SEG_ACCESS_S),
        .db = !!(flags & VL_SEG_FLAG_DB),
        .l = !!(flags & VL_SEG_FLAG_L),
        .g = !!(flags & VL_SEG_FLAG_G),
        .avl = !!(flags & VL_SEG_FLAG_AVL),
        .unusable = !(access & VL_SEG_ACCESS_P),
    };
    /* SOLUTION END */
}

/*
 * TODO 3: write the GDT into guest memory and point GDTR at it.
 * At MVM_GDT_ADDR, MVM_GDT_ENTRIES descriptors, little-endian:
 *   [0] null (the CPU never uses entry 0)
 *   [1] MVM_SEL_CODE32: base 0, limit 4 GiB, present, DPL 0, code,
 *       execute/read, 32-bit (D/B), 4 KiB granularity
 *   [2] MVM_SEL_DATA:   the same, but data, read/write
 *   [3] MVM_SEL_CODE64: like [1] but 64-bit: L = 1 and D/B = 0
 * Then sregs->gdt.base = MVM_GDT_ADDR and sregs->gdt.limit = the table's
 * size in bytes minus 1. Use mvm_gpa() to reach guest memory safely.
 */
int mvm_setup_gdt(struct minivm *vm, struct kvm_sregs *sregs)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)sregs; */
    /* stub: return MVM_TODO(3, "write the GDT and set GDTR"); */
    const uint8_t code =
        VL_SEG_ACCESS_P | VL_SEG_ACCESS_S | VL_SEG_TYPE_CODE | VL_SEG_TYPE_READ;
    const uint8_t data = VL_SEG_ACCESS_P | VL_SEG_ACCESS_S | VL_SEG_TYPE_WRITE;
    const uint64_t gdt[MVM_GDT_ENTRIES] = {
        0,
        mvm_gdt_descriptor(0, 0xfffff, code, VL_SEG_FLAG_G | VL_SEG_FLAG_DB),
        mvm_gdt_descriptor(0, 0xfffff, data, VL_SEG_FLAG_G | VL_SEG_FLAG_DB),
        mvm_gdt_descriptor(0, 0xfffff, code, VL_SEG_FLAG_G | VL_SEG_FLAG_L),
    };
    void *where = mvm_gpa(vm, MVM_GDT_ADDR, sizeof(gdt));

    if (!where)
        return vl_err_ctx(-EFAULT, "writing the GDT");
    memcpy(where, gdt, sizeof(gdt));
    sregs->gdt.base = MVM_GDT_ADDR;
    sregs->gdt.limit = sizeof(gdt) - 1;
    return 0;
    /* SOLUTION END */
}

/* Load a segment register's hidden part from our own GDT in memory. */
static void load_segment(struct minivm *vm, struct kvm_segment *seg,
                         uint16_t selector)
{
    uint64_t desc;

    memcpy(&desc, vm->mem + MVM_GDT_ADDR + (selector & ~7u), sizeof(desc));
    mvm_segment_from_descriptor(desc, selector, seg);
}

/* CS from `code` and DS, ES, FS, GS, SS from MVM_SEL_DATA: what a kernel
 * does with a far jump and five segment loads after changing modes. */
static void load_flat_segments(struct minivm *vm, struct kvm_sregs *sregs,
                               uint16_t code)
{
    load_segment(vm, &sregs->cs, code);
    load_segment(vm, &sregs->ds, MVM_SEL_DATA);
    load_segment(vm, &sregs->es, MVM_SEL_DATA);
    load_segment(vm, &sregs->fs, MVM_SEL_DATA);
    load_segment(vm, &sregs->gs, MVM_SEL_DATA);
    load_segment(vm, &sregs->ss, MVM_SEL_DATA);
}

/* The registers every mode starts with: RIP at the entry, a stack, and
 * RFLAGS with only its reserved bit 1 set (interrupts off). */
static int set_entry_regs(struct minivm *vm, uint64_t entry)
{
    struct kvm_regs regs = {
        .rip = entry,
        .rsp = MVM_STACK_TOP,
        .rflags = VL_RFLAGS_RESERVED1,
    };

    if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return vl_err(errno, "KVM_SET_REGS");
    return 0;
}

/*
 * TODO 4: enter 32-bit protected mode at `entry`.
 * KVM_GET_SREGS, then mvm_setup_gdt(); set CR0.PE; load CS with
 * MVM_SEL_CODE32 and DS, ES, FS, GS, SS with MVM_SEL_DATA - each from its
 * GDT entry, as the CPU would on a far jump and segment loads
 * (load_flat_segments() above does it with your TODO 2). KVM_SET_SREGS; if KVM
 * refuses the state, return mvm_sregs_error(vm, &sregs): it names the field KVM
 * did not like. Then set_entry_regs(vm, entry).
 */
int mvm_enter_protected(struct minivm *vm, uint64_t entry)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)entry; */
    /* stub: (void)load_flat_segments; */
    /* stub: (void)set_entry_regs; */
    /* stub: return MVM_TODO(4, "enter protected mode"); */
    struct kvm_sregs sregs;
    int r;

    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return vl_err(errno, "KVM_GET_SREGS");
    if ((r = mvm_setup_gdt(vm, &sregs)) < 0)
        return r;
    sregs.cr0 |= VL_CR0_PE;
    load_flat_segments(vm, &sregs, MVM_SEL_CODE32);
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return mvm_sregs_error(vm, &sregs);
    return set_entry_regs(vm, entry);
    /* SOLUTION END */
}

/*
 * TODO 5: map one page: virtual `va` to physical `pa`, `page_size` bytes
 * (VL_PAGE_4K or VL_PAGE_2M), writable, in 4-level paging (SDM Vol. 3A,
 * 4.5, Figure 4-8 and 4-9).
 * Refuse with -EINVAL a page size that is neither, a va or pa that is not
 * a multiple of it, and a va at or above 2^47 (this lab maps only the lower
 * half of the address space).
 * The first call allocates the PML4 (mvm_pt_alloc()) and stores its
 * guest-physical address in vm->pt_root. Then walk PML4 -> PDPT -> PD
 * (-> PT for 4 KiB), indexing each level with VL_PML4_INDEX(va) and so on;
 * where an entry is not present, allocate the next table and store its
 * address | VL_PTE_P | VL_PTE_RW. A 2 MiB page is a PD entry with
 * VL_PTE_PS; a 4 KiB page a PT entry. Mapping over an existing page (or
 * a 4 KiB page inside a 2 MiB one) is an error: -EEXIST.
 * Tables hold guest-physical addresses: reach them with mvm_gpa().
 */
/* SOLUTION BEGIN */
/* The table an entry points to, allocating it if the entry is empty. */
static uint64_t *next_table(struct minivm *vm, uint64_t *entry)
{
    uint64_t gpa;
    uint64_t *table;

    if (*entry & VL_PTE_P)
        return mvm_gpa(vm, *entry & VL_PTE_ADDR_MASK, VL_PAGE_4K);
    table = mvm_pt_alloc(vm, &gpa);
    if (table)
        *entry = gpa | VL_PTE_P | VL_PTE_RW;
    return table;
}
/* SOLUTION END */

int mvm_map_page(struct minivm *vm, uint64_t va, uint64_t pa,
                 uint64_t page_size)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)va; */
    /* stub: (void)pa; */
    /* stub: (void)page_size; */
    /* stub: return MVM_TODO(5, "map a page in the page tables"); */
    uint64_t *pml4, *pdpt, *pd, *pt;
    uint64_t *pde;

    if (page_size != VL_PAGE_4K && page_size != VL_PAGE_2M)
        return vl_err_plain(EINVAL, "page size 0x%llx: use 4 KiB or 2 MiB",
                            (unsigned long long)page_size);
    if (va % page_size || pa % page_size)
        return vl_err_plain(EINVAL,
                            "va 0x%llx and pa 0x%llx must be "
                            "multiples of the page size 0x%llx",
                            (unsigned long long)va, (unsigned long long)pa,
                            (unsigned long long)page_size);
    if (va >> 47)
        return vl_err_plain(EINVAL, "va 0x%llx is not in the lower half",
                            (unsigned long long)va);
    if (!vm->pt_root) {
        if (!mvm_pt_alloc(vm, &vm->pt_root))
            return -ENOMEM;
    }
    pml4 = mvm_gpa(vm, vm->pt_root, VL_PAGE_4K);
    if (!pml4 || !(pdpt = next_table(vm, &pml4[VL_PML4_INDEX(va)])))
        return -ENOMEM;
    if (pdpt[VL_PDPT_INDEX(va)] & VL_PTE_PS)
        return vl_err_plain(EEXIST, "va 0x%llx is inside a 1 GiB page",
                            (unsigned long long)va);
    if (!(pd = next_table(vm, &pdpt[VL_PDPT_INDEX(va)])))
        return -ENOMEM;
    pde = &pd[VL_PD_INDEX(va)];
    if (page_size == VL_PAGE_2M) {
        if (*pde & VL_PTE_P)
            return vl_err_plain(EEXIST, "va 0x%llx is already mapped",
                                (unsigned long long)va);
        *pde = pa | VL_PTE_P | VL_PTE_RW | VL_PTE_PS;
        return 0;
    }
    if (*pde & VL_PTE_PS)
        return vl_err_plain(EEXIST, "va 0x%llx is inside a 2 MiB page",
                            (unsigned long long)va);
    if (!(pt = next_table(vm, pde)))
        return -ENOMEM;
    if (pt[VL_PT_INDEX(va)] & VL_PTE_P)
        return vl_err_plain(EEXIST, "va 0x%llx is already mapped",
                            (unsigned long long)va);
    pt[VL_PT_INDEX(va)] = pa | VL_PTE_P | VL_PTE_RW;
    return 0;
    /* SOLUTION END */
}

/*
 * TODO 6: the page tables of minivm's long mode.
 *  - the first 2 MiB identity-mapped (virtual = physical) with 4 KiB
 *    pages: that is where the GDT, the code and the stack are;
 *  - the rest of guest memory, from 2 MiB to vm->mem_size rounded down to
 *    2 MiB, identity-mapped with 2 MiB pages;
 *  - MVM_HIGH_VADDR (4 GiB) mapped to MVM_HIGH_PHYS with one 2 MiB page,
 *    to show that a 64-bit guest reaches addresses no 32-bit code can.
 * Refuse less than MVM_LONG_MIN_MEM of memory with -EINVAL (mention
 * --mem). Stop at the first mvm_map_page() error.
 */
int mvm_build_page_tables(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(6, "build the page tables"); */
    uint64_t a;
    int r;

    if (vm->mem_size < MVM_LONG_MIN_MEM)
        return vl_err_plain(EINVAL,
                            "long mode needs at least %u MiB of guest "
                            "memory (--mem %uM)",
                            MVM_LONG_MIN_MEM >> 20, MVM_LONG_MIN_MEM >> 20);
    for (a = 0; a < VL_PAGE_2M; a += VL_PAGE_4K)
        if ((r = mvm_map_page(vm, a, a, VL_PAGE_4K)) < 0)
            return r;
    for (a = VL_PAGE_2M; a + VL_PAGE_2M <= vm->mem_size; a += VL_PAGE_2M)
        if ((r = mvm_map_page(vm, a, a, VL_PAGE_2M)) < 0)
            return r;
    return mvm_map_page(vm, MVM_HIGH_VADDR, MVM_HIGH_PHYS, VL_PAGE_2M);
    /* SOLUTION END */
}

/*
 * TODO 7: enter 64-bit long mode at `entry` (AMD APM Vol. 2, 14.6.1; SDM
 * Vol. 3A, 9.8.5). A real CPU gets there step by step from protected mode;
 * through KVM_SET_SREGS we set the end state at once, and it must be
 * consistent:
 *  - the GDT (mvm_setup_gdt()), CR3 = vm->pt_root (-EINVAL if there are no
 *    page tables yet), CR4.PAE (long mode uses 64-bit table entries);
 *  - EFER.LME (we want long mode) and EFER.LMA (it is active, which the
 *    CPU itself would set once paging is on with LME);
 *  - CR0.PE and CR0.PG;
 *  - CS from MVM_SEL_CODE64 (L = 1: 64-bit code), the data segments from
 *    MVM_SEL_DATA;
 * then KVM_SET_SREGS (mvm_sregs_error() if refused) and
 * set_entry_regs(vm, entry).
 */
int mvm_enter_long(struct minivm *vm, uint64_t entry)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)entry; */
    /* stub: return MVM_TODO(7, "enter long mode"); */
    struct kvm_sregs sregs;
    int r;

    if (!vm->pt_root)
        return vl_err_plain(EINVAL, "long mode needs page tables: build "
                                    "them first (mvm_build_page_tables)");
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return vl_err(errno, "KVM_GET_SREGS");
    if ((r = mvm_setup_gdt(vm, &sregs)) < 0)
        return r;
    sregs.cr3 = vm->pt_root;
    sregs.cr4 |= VL_CR4_PAE;
    sregs.efer |= VL_EFER_LME | VL_EFER_LMA;
    sregs.cr0 |= VL_CR0_PE | VL_CR0_PG;
    load_flat_segments(vm, &sregs, MVM_SEL_CODE64);
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return mvm_sregs_error(vm, &sregs);
    return set_entry_regs(vm, entry);
    /* SOLUTION END */
}
