/*
 * migrate.c - minivm stage 8, part 2: live migration.
 *
 * A snapshot stops the guest for as long as it takes to write all of its
 * memory. Live migration moves a running guest to another minivm (another
 * host, in real life) and stops it only for a moment. The algorithm is
 * pre-copy (Clark et al., "Live Migration of Virtual Machines", NSDI
 * 2005): copy all memory while the guest runs (round 0); the guest keeps
 * writing, so copy again the pages it dirtied meanwhile (rounds 1, 2, ...),
 * each round shorter than the last while the guest writes less than the
 * link carries; when the dirty set is small, or after a number of rounds,
 * stop the vCPUs, copy the last dirty pages and the vCPU and device state
 * (stop-and-copy), and let the destination resume. The downtime is only
 * that last step.
 *
 * KVM tells minivm which pages the guest wrote: the dirty log of lab 03
 * (KVM_MEM_LOG_DIRTY_PAGES on a slot, KVM_GET_DIRTY_LOG). Here you use it
 * the way QEMU does, with KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: reading the
 * log and re-arming it are two steps, and their order is what keeps a
 * write from being lost. minivm's driver (labs/minivm/snap_main.c) opens
 * the socket and sends the stream; the destination is `minivm receive`.
 *
 * References: api.rst 4.8 (KVM_GET_DIRTY_LOG), 4.35
 * (KVM_SET_USER_MEMORY_REGION), 4.117 (KVM_CLEAR_DIRTY_LOG), 7.18
 * (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2); Clark et al., NSDI 2005, sections
 * 3 and 4. labs/08-snapshots/README.md walks through the steps.
 */
#define MVM_LAB        "08-snapshots"
#define MVM_STAGE_FILE "migrate.c"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "minivm.h"
#include "virtlab/cleanup.h"

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Is this page all zero? The first byte is, and each byte equals the
 * next. */
static bool page_is_zero(const uint8_t *p)
{
    return p[0] == 0 && !memcmp(p, p + 1, MVM_PAGE_SIZE - 1);
}

/*
 * TODO 5: the dirty log, as a migration uses it.
 * mvm_dirty_log_start(): from now on KVM records every page the guest
 * writes, in every region the guest can write (mvm_regions(); not the
 * KVM_MEM_READONLY ones):
 *  - KVM_ENABLE_CAP on vm->vm_fd with KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
 *    args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE (api.rst 7.18): from
 *    then on KVM_GET_DIRTY_LOG only reads the log; KVM_CLEAR_DIRTY_LOG
 *    clears it and write-protects those pages again;
 *  - KVM_SET_USER_MEMORY_REGION again for each region, with the same
 *    slot, address, size and host address, and KVM_MEM_LOG_DIRTY_PAGES
 *    added to its flags (api.rst 4.35: the flags of a slot can change).
 *    Record the flag in vm->slots[] for the slots of lab 03.
 * mvm_dirty_round(): one round. For each logged region:
 *  - KVM_GET_DIRTY_LOG (4.8) into a bitmap, one bit per page of the
 *    region (bit i of the 64-bit word i / 64 is page i);
 *  - KVM_CLEAR_DIRTY_LOG (4.117) with that same bitmap, BEFORE you read
 *    any of those pages: a write that lands after the clear is caught by
 *    the next round; cleared after the copy, a write in between would be
 *    lost for good;
 *  - then send each dirty page with mvm_snap_put_page(): its bytes, or,
 *    when it is all zero now (page_is_zero()), a zero record (data NULL).
 *    Unlike round 0, a zero page must go too: the destination still holds
 *    what the page was before.
 * Count the pages in round->pages and round->zero_pages, and return the
 * number of pages sent.
 */
int mvm_dirty_log_start(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(5, "start the dirty log"); */
    struct kvm_enable_cap cap = {
        .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
        .args = {KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE},
    };
    struct mvm_region reg[MVM_MAX_REGIONS];
    int n = mvm_regions(vm, reg, MVM_MAX_REGIONS);

    if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return vl_err(errno, "KVM_ENABLE_CAP KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 "
                             "(Linux 5.8 or later)");
    for (int i = 0; i < n; i++) {
        struct kvm_userspace_memory_region m = {
            .slot = reg[i].slot,
            .flags = reg[i].flags | KVM_MEM_LOG_DIRTY_PAGES,
            .guest_phys_addr = reg[i].gpa,
            .memory_size = reg[i].size,
            .userspace_addr = (uintptr_t)reg[i].hva,
        };

        if (reg[i].flags & KVM_MEM_READONLY)
            continue;
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
            return vl_err(errno,
                          "KVM_SET_USER_MEMORY_REGION: dirty log on "
                          "slot %u",
                          reg[i].slot);
        if (i > 0)
            vm->slots[i - 1].flags = m.flags;
    }
    return 0;
    /* SOLUTION END */
}

int mvm_dirty_round(struct minivm *vm, struct mvm_snap_out *out,
                    struct mvm_round *round)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)out; */
    /* stub: (void)round; */
    /* stub: (void)page_is_zero; */
    /* stub: return MVM_TODO(5, "send the dirty pages"); */
    struct mvm_region reg[MVM_MAX_REGIONS];
    int n = mvm_regions(vm, reg, MVM_MAX_REGIONS), sent = 0, r;

    for (int i = 0; i < n; i++) {
        uint64_t npages = reg[i].size / MVM_PAGE_SIZE;
        _vl_cleanup_free_ uint64_t *bitmap =
            calloc((npages + 63) / 64, sizeof(uint64_t));
        struct kvm_dirty_log log = {.slot = reg[i].slot,
                                    .dirty_bitmap = bitmap};
        struct kvm_clear_dirty_log clear = {.slot = reg[i].slot,
                                            .num_pages = (uint32_t)npages,
                                            .dirty_bitmap = bitmap};

        if (reg[i].flags & KVM_MEM_READONLY)
            continue;
        if (!bitmap)
            return vl_err_plain(ENOMEM, "no memory for a dirty bitmap");
        if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
            return vl_err(errno, "KVM_GET_DIRTY_LOG slot %u", reg[i].slot);
        if (ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0)
            return vl_err(errno, "KVM_CLEAR_DIRTY_LOG slot %u", reg[i].slot);
        for (uint64_t p = 0; p < npages; p++) {
            const uint8_t *page = reg[i].hva + p * MVM_PAGE_SIZE;
            bool zero;

            if (!(bitmap[p / 64] & (1ULL << (p % 64))))
                continue;
            zero = page_is_zero(page);
            r = mvm_snap_put_page(out, reg[i].gpa + p * MVM_PAGE_SIZE,
                                  zero ? NULL : page);
            if (r < 0)
                return r;
            round->pages++;
            round->zero_pages += zero;
            sent++;
        }
    }
    return sent;
    /* SOLUTION END */
}

/*
 * TODO 6: pre-copy, from the source's side. The driver has connected to
 * the destination and sent the VM's shape (INFO); the vCPU threads run
 * the guest. Fill *mig as you go (its max_rounds and stop_pages are set):
 *  1. start the dirty log (mvm_dirty_log_start()) BEFORE round 0: every
 *     write from then on is caught, the ones made while round 0 copies
 *     too;
 *  2. round 0: all of memory, as a snapshot saves it
 *     (mvm_snap_save_memory(): zero pages skipped, the destination's
 *     memory is zero) - mig->round[0];
 *  3. rounds 1, 2, ...: mvm_dirty_round() while the guest runs, into
 *     mig->round[k]; stop after the round that sent mig->stop_pages
 *     pages or fewer (the dirty set is small: the downtime will be
 *     short), or after mig->max_rounds of them (a guest that writes
 *     faster than we copy never converges; max_rounds 0: none at all);
 *  4. stop-and-copy: mig->stop_ns = now, then stop every vCPU
 *     (mvm_smp_pause(), TODO 9); one last mvm_dirty_round() into
 *     mig->final - the pages written since the last round, which no
 *     round has sent yet; then the vCPU, VM and device state with
 *     mvm_snap_put_state() (it ends the stream), its size in
 *     mig->state_bytes.
 * After each round mvm_snap_flush(out): the pages go out now, and
 * out->bytes counts them; a round's bytes and ns are its out->bytes and
 * now_ns() differences. mig->nrounds counts round 0 and the live rounds.
 * The driver waits for the destination's "resumed" and prints the report.
 */
int mvm_precopy(struct minivm *vm, struct mvm_snap_out *out,
                struct mvm_migration *mig)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)out; */
    /* stub: (void)mig; */
    /* stub: (void)now_ns; */
    /* stub: return MVM_TODO(6, "pre-copy the running guest"); */
    uint64_t t, bytes;
    int r;

    if ((r = mvm_dirty_log_start(vm)) < 0)
        return r;

    t = now_ns();
    bytes = out->bytes;
    if ((r = mvm_snap_save_memory(vm, out)) < 0 ||
        (r = mvm_snap_flush(out)) < 0)
        return r;
    mig->round[0] = (struct mvm_round){
        .pages = out->pages, .bytes = out->bytes - bytes, .ns = now_ns() - t};
    mig->nrounds = 1;

    for (unsigned k = 1; k <= mig->max_rounds && k < MVM_MIG_ROUNDS_KEPT; k++) {
        struct mvm_round *round = &mig->round[k];

        t = now_ns();
        bytes = out->bytes;
        if ((r = mvm_dirty_round(vm, out, round)) < 0 ||
            (r = mvm_snap_flush(out)) < 0)
            return r;
        round->bytes = out->bytes - bytes;
        round->ns = now_ns() - t;
        mig->nrounds++;
        if (round->pages <= mig->stop_pages)
            break;
    }

    mig->stop_ns = now_ns();
    if ((r = mvm_smp_pause(vm)) < 0)
        return r;
    t = now_ns();
    bytes = out->bytes;
    if ((r = mvm_dirty_round(vm, out, &mig->final)) < 0 ||
        (r = mvm_snap_flush(out)) < 0)
        return r;
    mig->final.bytes = out->bytes - bytes;
    mig->final.ns = now_ns() - t;
    bytes = out->bytes;
    if ((r = mvm_snap_put_state(vm, out)) < 0)
        return r;
    mig->state_bytes = out->bytes - bytes;
    return 0;
    /* SOLUTION END */
}
