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
    (void)base;
    (void)limit;
    (void)access;
    (void)flags;
    MVM_TODO(1, "encode a segment descriptor");
    return 0;
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
    (void)desc;
    (void)selector;
    memset(seg, 0, sizeof(*seg));
    MVM_TODO(2, "decode a descriptor into a kvm_segment");
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
    (void)vm;
    (void)sregs;
    return MVM_TODO(3, "write the GDT and set GDTR");
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
    (void)vm;
    (void)entry;
    (void)load_flat_segments;
    (void)set_entry_regs;
    return MVM_TODO(4, "enter protected mode");
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

int mvm_map_page(struct minivm *vm, uint64_t va, uint64_t pa,
                 uint64_t page_size)
{
    (void)vm;
    (void)va;
    (void)pa;
    (void)page_size;
    return MVM_TODO(5, "map a page in the page tables");
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
    (void)vm;
    return MVM_TODO(6, "build the page tables");
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
    (void)vm;
    (void)entry;
    return MVM_TODO(7, "enter long mode");
}
