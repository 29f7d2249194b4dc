/*
 * memory.c - minivm stage 3: guest memory.
 *
 * Guest-physical memory is a patchwork: RAM here, ROM there, holes between
 * them where devices live. KVM builds it from memory slots, each a range of
 * guest-physical addresses backed by a range of our own memory. In this
 * lab you add slots (read-only ones too), translate guest-physical
 * addresses across them, handle what the guest does in the holes, walk the
 * guest's page tables in software as the MMU does, and ask KVM which pages
 * the guest wrote (the heart of live migration).
 *
 * References: api.rst 4.35 (KVM_SET_USER_MEMORY_REGION, KVM_MEM_READONLY,
 * KVM_MEM_LOG_DIRTY_PAGES), 4.8 (KVM_GET_DIRTY_LOG), 4.15
 * (KVM_TRANSLATE); Intel SDM Vol. 3A, 4.5 "4-Level Paging".
 * labs/03-guest-memory/README.md walks through the steps.
 */
#define MVM_LAB        "03-guest-memory"
#define MVM_STAGE_FILE "memory.c"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minivm.h"
#include "virtlab/cleanup.h"
#include "virtlab/x86.h"

/* Do [a, a+as) and [b, b+bs) share a byte? (No overflow: sizes > 0.) */
static int ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

/*
 * TODO 1: add a memory slot of `size` bytes at guest-physical `gpa`.
 * Like lab 01's slot 0, but anywhere, with flags: KVM_MEM_READONLY (the
 * guest can read it; its writes exit to us as KVM_EXIT_MMIO) and/or
 * KVM_MEM_LOG_DIRTY_PAGES (KVM records which pages the guest writes).
 * Refuse, with a message:
 *  - other flags, a size of 0, a gpa or size that is not page-aligned,
 *    and a range that wraps around: -EINVAL;
 *  - a range overlapping RAM at [0, vm->mem_size) or another slot: -EEXIST;
 *  - more than MVM_MAX_SLOTS slots: -ENOSPC.
 * mmap() the memory, register it with KVM_SET_USER_MEMORY_REGION under slot
 * number vm->nslots + 1 (slot 0 is lab 01's RAM), unmap it again if KVM
 * refuses, record it in vm->slots[vm->nslots++], and return the slot number.
 */
int mvm_add_slot(struct minivm *vm, uint64_t gpa, uint64_t size, uint32_t flags)
{
    (void)vm;
    (void)gpa;
    (void)size;
    (void)flags;
    (void)ranges_overlap;
    return MVM_TODO(1, "add a memory slot");
}

/*
 * TODO 2: the host address of guest-physical [gpa, gpa+len).
 * Look in RAM (slot 0: vm->mem, vm->mem_size) and in every slot of
 * vm->slots. The whole range must lie inside ONE slot: two slots that
 * touch in guest-physical memory are not contiguous on the host. Otherwise
 * record an error (-EFAULT) naming the address and return NULL.
 */
void *mvm_guest_ptr(struct minivm *vm, uint64_t gpa, size_t len)
{
    (void)vm;
    (void)gpa;
    (void)len;
    MVM_TODO(2, "translate guest-physical addresses");
    return NULL;
}

/*
 * TODO 3: handle KVM_EXIT_MMIO (api.rst 5, "KVM_EXIT_MMIO"): the guest
 * accessed guest-physical vm->run->mmio.phys_addr, and no RAM slot let it.
 *  - A write into a KVM_MEM_READONLY slot is a write to ROM: count it in
 *    vm->rom_writes, ignore it (ROM does not change) and MVM_CONTINUE.
 *  - Anything else is an access to a hole: fail with -EFAULT and a message
 *    that names the address (mvm_exit_text(vm) decodes the whole exit).
 *    (Lab 04 puts devices in the holes.)
 */
int mvm_handle_mmio(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(3, "handle MMIO exits");
}

/*
 * TODO 4: walk the guest's page tables in software (SDM Vol. 3A, 4.5).
 * cr3 holds the PML4's guest-physical address (use its VL_PTE_ADDR_MASK
 * bits). For each level, PML4 -> PDPT -> PD -> PT, read the entry for `va`
 * (VL_PML4_INDEX(va) ...) through mvm_guest_ptr():
 *  - not present (no VL_PTE_P): -EFAULT, and a message naming the level,
 *    the index and the table ("PD entry 5 of table 0x12000 is not present
 *    for va 0x..."): that is what a page fault would tell the guest;
 *  - VL_PTE_PS in a PDPT entry: a 1 GiB page; in a PD entry: a 2 MiB
 *    page; the walk ends there and the low bits of va are the offset;
 *  - permissions accumulate: the page is writable only if EVERY level has
 *    VL_PTE_RW, user-accessible only if every level has VL_PTE_US.
 * A va whose bits 63:47 are not all equal is not canonical: -EINVAL.
 * On success *pa is the guest-physical address, *perms MVM_WALK_* bits.
 */
int mvm_walk(struct minivm *vm, uint64_t cr3, uint64_t va, uint64_t *pa,
             unsigned *perms)
{
    (void)vm;
    (void)cr3;
    (void)va;
    (void)pa;
    (void)perms;
    return MVM_TODO(4, "walk the page tables");
}

/*
 * TODO 5: which pages of slot `slot` did the guest write since the last
 * call? KVM_GET_DIRTY_LOG (api.rst 4.8) fills a bitmap, one bit per page of
 * the slot (bit i = page i, in 64-bit words), and clears its record, so
 * the next call reports only newer writes. The slot must have been added
 * with KVM_MEM_LOG_DIRTY_PAGES (-EINVAL otherwise, and for a slot number
 * not in vm->slots). Store the guest-physical address of each dirty page in
 * gpas[], at most `max` of them, and return how many pages were dirty.
 * Free the bitmap on every path.
 */
int mvm_dirty_pages(struct minivm *vm, uint32_t slot, uint64_t *gpas,
                    size_t max)
{
    (void)vm;
    (void)slot;
    (void)gpas;
    (void)max;
    return MVM_TODO(5, "read the dirty log");
}
