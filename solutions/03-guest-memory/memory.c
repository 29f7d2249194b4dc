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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)gpa; */
    /* stub: (void)size; */
    /* stub: (void)flags; */
    /* stub: (void)ranges_overlap; */
    /* stub: return MVM_TODO(1, "add a memory slot"); */
    const uint32_t known = KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    struct kvm_userspace_memory_region region;
    struct mvm_slot *s;
    void *mem;

    if (flags & ~known)
        return vl_err_plain(EINVAL,
                            "slot flags 0x%x: only KVM_MEM_READONLY "
                            "and KVM_MEM_LOG_DIRTY_PAGES are known",
                            flags);
    if (size == 0 || size % page || gpa % page || gpa + size < gpa)
        return vl_err_plain(EINVAL,
                            "slot at 0x%llx of 0x%llx bytes: both must be "
                            "page-aligned, the size non-zero, no wrap-around",
                            (unsigned long long)gpa, (unsigned long long)size);
    if (ranges_overlap(gpa, size, 0, vm->mem_size))
        return vl_err_plain(EEXIST, "slot at 0x%llx overlaps RAM [0, 0x%zx)",
                            (unsigned long long)gpa, vm->mem_size);
    for (int i = 0; i < vm->nslots; i++)
        if (ranges_overlap(gpa, size, vm->slots[i].gpa, vm->slots[i].size))
            return vl_err_plain(EEXIST,
                                "slot at 0x%llx overlaps slot %u at "
                                "0x%llx",
                                (unsigned long long)gpa, vm->slots[i].slot,
                                (unsigned long long)vm->slots[i].gpa);
    if (vm->nslots == MVM_MAX_SLOTS)
        return vl_err_plain(ENOSPC, "all %d extra slots are in use",
                            MVM_MAX_SLOTS);

    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return vl_err(errno, "mmap of %llu bytes", (unsigned long long)size);
    region = (struct kvm_userspace_memory_region){
        .slot = (uint32_t)vm->nslots + 1,
        .flags = flags,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        int err =
            vl_err(errno, "KVM_SET_USER_MEMORY_REGION (slot %u)", region.slot);

        munmap(mem, size);
        return err;
    }
    s = &vm->slots[vm->nslots++];
    *s = (struct mvm_slot){.slot = region.slot,
                           .flags = flags,
                           .gpa = gpa,
                           .size = size,
                           .hva = mem};
    return (int)s->slot;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)gpa; */
    /* stub: (void)len; */
    /* stub: MVM_TODO(2, "translate guest-physical addresses"); */
    /* stub: return NULL; */
    if (gpa < vm->mem_size && len <= vm->mem_size - gpa)
        return vm->mem + gpa;
    for (int i = 0; i < vm->nslots; i++) {
        const struct mvm_slot *s = &vm->slots[i];

        if (gpa >= s->gpa && gpa - s->gpa < s->size &&
            len <= s->size - (gpa - s->gpa))
            return s->hva + (gpa - s->gpa);
    }
    vl_err_plain(EFAULT,
                 "guest-physical [0x%llx, +0x%zx) is not inside one memory "
                 "slot",
                 (unsigned long long)gpa, len);
    return NULL;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(3, "handle MMIO exits"); */
    uint64_t addr = vm->run->mmio.phys_addr;

    for (int i = 0; i < vm->nslots; i++) {
        const struct mvm_slot *s = &vm->slots[i];

        if (vm->run->mmio.is_write && (s->flags & KVM_MEM_READONLY) &&
            addr >= s->gpa && addr - s->gpa < s->size) {
            vm->rom_writes++;
            return MVM_CONTINUE;
        }
    }
    return vl_err_plain(EFAULT,
                        "the guest touched unbacked guest-physical "
                        "0x%llx: %s",
                        (unsigned long long)addr, mvm_exit_text(vm));
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)cr3; */
    /* stub: (void)va; */
    /* stub: (void)pa; */
    /* stub: (void)perms; */
    /* stub: return MVM_TODO(4, "walk the page tables"); */
    static const char *const names[] = {"PT", "PD", "PDPT", "PML4"};
    uint64_t table = cr3 & VL_PTE_ADDR_MASK;
    unsigned p = MVM_WALK_WRITABLE | MVM_WALK_USER;
    int64_t top = (int64_t)va >> 47;

    if (top != 0 && top != -1)
        return vl_err_plain(EINVAL, "va 0x%llx is not canonical",
                            (unsigned long long)va);
    for (int level = 3; level >= 0; level--) {
        unsigned index = (va >> (12 + 9 * level)) & 0x1ff;
        uint64_t *entry = mvm_guest_ptr(vm, table + 8 * index, 8);

        if (!entry)
            return vl_err_ctx(-EFAULT, "reading the %s at 0x%llx", names[level],
                              (unsigned long long)table);
        if (!(*entry & VL_PTE_P))
            return vl_err_plain(EFAULT,
                                "%s entry %u of table 0x%llx is not present "
                                "for va 0x%llx",
                                names[level], index, (unsigned long long)table,
                                (unsigned long long)va);
        if (!(*entry & VL_PTE_RW))
            p &= ~MVM_WALK_WRITABLE;
        if (!(*entry & VL_PTE_US))
            p &= ~MVM_WALK_USER;
        if (level == 0 ||
            ((level == 1 || level == 2) && (*entry & VL_PTE_PS))) {
            uint64_t offset_mask = (1ULL << (12 + 9 * level)) - 1;

            *pa =
                (*entry & VL_PTE_ADDR_MASK & ~offset_mask) | (va & offset_mask);
            *perms = p;
            return 0;
        }
        table = *entry & VL_PTE_ADDR_MASK;
    }
    return -EFAULT; /* not reached: level 0 always returns */
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)slot; */
    /* stub: (void)gpas; */
    /* stub: (void)max; */
    /* stub: return MVM_TODO(5, "read the dirty log"); */
    const struct mvm_slot *s = NULL;
    _vl_cleanup_free_ uint64_t *bitmap = NULL;
    struct kvm_dirty_log log = {.slot = slot};
    uint64_t pages, words;
    size_t n = 0;

    for (int i = 0; i < vm->nslots; i++)
        if (vm->slots[i].slot == slot)
            s = &vm->slots[i];
    if (!s || !(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
        return vl_err_plain(EINVAL,
                            "slot %u has no dirty log (add it with "
                            "KVM_MEM_LOG_DIRTY_PAGES)",
                            slot);
    pages = s->size / VL_PAGE_4K;
    words = (pages + 63) / 64;
    bitmap = calloc(words, sizeof(*bitmap));
    if (!bitmap)
        return vl_err(ENOMEM, "dirty bitmap");
    log.dirty_bitmap = bitmap;
    if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
        return vl_err(errno, "KVM_GET_DIRTY_LOG (slot %u)", slot);
    for (uint64_t i = 0; i < pages; i++) {
        if (!(bitmap[i / 64] & (1ULL << (i % 64))))
            continue;
        if (n < max)
            gpas[n] = s->gpa + i * VL_PAGE_4K;
        n++;
    }
    return (int)n;
    /* SOLUTION END */
}
