/*
 * snapshot.c - minivm stage 8, part 1: snapshots.
 *
 * A snapshot freezes a VM into a file; a new minivm process reads it and
 * the guest goes on as if nothing happened: its output continues byte for
 * byte where the first process stopped. For that, minivm must save ALL of
 * the state that makes the guest what it is. Guest memory is the bulk
 * but the easy part. The rest lives inside KVM, and KVM hands each piece
 * out with a KVM_GET_* ioctl and takes it back with the matching KVM_SET_*:
 * per vCPU the registers, the special registers, the FPU/XSAVE area, the
 * MSRs, pending events, the multiprocessor state and the local APIC; per
 * VM the interrupt controllers, the timer and the clock. In this part you
 * write the save and restore of each, and the memory with its zero pages.
 * minivm's driver (labs/minivm/snap_file.c) puts what you save into a
 * file and hands it back to your restore functions.
 *
 * References: Documentation/virt/kvm/api.rst 4.10 (KVM_RUN), 5 (the
 * kvm_run structure: immediate_exit, and the note on finishing
 * KVM_EXIT_IO and KVM_EXIT_MMIO), 4.11-4.14 (KVM_GET/SET_REGS, _SREGS),
 * 4.3 (KVM_GET_MSR_INDEX_LIST), 4.18-4.19 (KVM_GET/SET_MSRS), 4.31-4.32
 * (KVM_GET/SET_VCPU_EVENTS), 4.38-4.39 (KVM_GET/SET_MP_STATE), 4.42-4.45
 * (KVM_GET/SET_XSAVE, _XCRS), 4.57-4.58 (KVM_GET/SET_LAPIC), 4.26-4.27
 * (KVM_GET/SET_IRQCHIP), 4.72-4.73 (KVM_GET/SET_PIT2), 4.29-4.30
 * (KVM_GET/SET_CLOCK); QEMU's target/i386/kvm/kvm.c (kvm_arch_put_registers)
 * for the order. labs/08-snapshots/README.md walks through the steps.
 */
#define MVM_LAB        "08-snapshots"
#define MVM_STAGE_FILE "snapshot.c"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "minivm.h"
#include "virtlab/cleanup.h"

/* The MSRs a guest like minivm's (or Linux) relies on, that live nowhere
 * else: the TSC, the SYSENTER and SYSCALL entry points, what SWAPGS swaps
 * in, the page attribute table, MISC_ENABLE, RDTSCP's TSC_AUX. */
static const uint32_t wanted_msrs[] = {
    MVM_MSR_TSC,          MVM_MSR_SYSENTER_CS,    MVM_MSR_SYSENTER_ESP,
    MVM_MSR_SYSENTER_EIP, MVM_MSR_MISC_ENABLE,    MVM_MSR_PAT,
    MVM_MSR_STAR,         MVM_MSR_LSTAR,          MVM_MSR_CSTAR,
    MVM_MSR_SFMASK,       MVM_MSR_KERNEL_GS_BASE, MVM_MSR_TSC_AUX,
};

/*
 * The MSRs this KVM can save, as KVM_GET_MSR_INDEX_LIST (api.rst 4.3, a
 * system ioctl on vm->kvm_fd) lists them: a malloc()ed struct kvm_msr_list
 * in *list. Call it with nmsrs = 0 first: it fails with E2BIG and says
 * how many there are.
 */
static int msr_index_list(struct minivm *vm, struct kvm_msr_list **list)
{
    struct kvm_msr_list probe = {.nmsrs = 0};
    struct kvm_msr_list *l;

    if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
        return vl_err(errno, "KVM_GET_MSR_INDEX_LIST");
    l = malloc(sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
    if (!l)
        return vl_err_plain(ENOMEM, "no memory for the MSR list");
    l->nmsrs = probe.nmsrs;
    if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
        free(l);
        return vl_err(errno, "KVM_GET_MSR_INDEX_LIST");
    }
    *list = l;
    return 0;
}

static bool listed(const struct kvm_msr_list *l, uint32_t msr)
{
    for (uint32_t i = 0; i < l->nmsrs; i++)
        if (l->indices[i] == msr)
            return true;
    return false;
}

/* The header and entries of KVM_GET_MSRS / KVM_SET_MSRS (api.rst 4.18):
 * struct kvm_msrs's two header words, then room for the entries its
 * flexible array stands for (a struct with a flexible array cannot sit
 * inside another struct in standard C). */
struct msrs {
    uint32_t nmsrs, pad;
    struct kvm_msr_entry e[MVM_MAX_MSRS];
};
_Static_assert(offsetof(struct msrs, e) == offsetof(struct kvm_msrs, entries),
               "struct msrs must lay out as struct kvm_msrs");

/*
 * TODO 1: save one vCPU's state into *st. The vCPU is out of KVM_RUN (its
 * thread parked, or no thread at all), and its last exit was handled.
 *
 * First, finish that exit. For KVM_EXIT_IO and KVM_EXIT_MMIO, "the
 * corresponding operations are complete (and guest state is consistent)
 * only after userspace has re-entered the kernel with KVM_RUN" (api.rst
 * 5, the note after the exit reasons). After an IN, the value minivm
 * answered is in kvm_run, not yet in RAX, and RIP still points at the IN;
 * after an OUT, on Intel and AMD hosts, RIP still points at the OUT.
 * Saved now, the restored guest would run the instruction again: read
 * the UART's next byte (the first one lost), or print a byte twice.
 * api.rst says what to do: "userspace should ensure that the operation
 * is completed before performing a live migration. Userspace can re-enter
 * the guest with an unmasked signal pending or with the immediate_exit
 * field set to complete pending operations without allowing any further
 * instructions to be executed." So: cpu->run->immediate_exit = 1,
 * KVM_RUN on cpu->fd, which must fail with EINTR (another result: -EIO
 * with a message), then immediate_exit = 0.
 *
 * Then get, from cpu->fd:
 *  - KVM_GET_REGS, KVM_GET_SREGS (api.rst 4.11, 4.13);
 *  - KVM_GET_XSAVE and KVM_GET_XCRS: the x87/SSE/AVX registers and XCR0
 *    (4.42, 4.44);
 *  - KVM_GET_VCPU_EVENTS (4.31): an exception, interrupt or NMI KVM is
 *    about to deliver, the interrupt shadow after STI/MOV SS, the SIPI
 *    vector of an AP;
 *  - KVM_GET_MP_STATE (4.38): running, halted, an AP waiting for SIPI;
 *  - KVM_GET_LAPIC (4.57) when the VM has the in-kernel irqchip
 *    (vm->irq.irqchip; set st->has_lapic): the local APIC lives in KVM;
 *  - the MSRs (KVM_GET_MSRS, 4.18): each of wanted_msrs[] that this KVM
 *    lists (msr_index_list(), listed()), into st->msrs[] and st->nmsrs.
 *    KVM_GET_MSRS returns how many it read: fewer than asked is an error
 *    naming the first MSR it could not read.
 * Each failing ioctl: its errno, with a message naming it.
 */
int mvm_vcpu_save(struct minivm *vm, struct mvm_cpu *cpu,
                  struct mvm_vcpu_state *st)
{
    (void)vm;
    (void)cpu;
    (void)st;
    (void)msr_index_list;
    (void)listed;
    (void)wanted_msrs;
    return MVM_TODO(1, "save a vCPU's state");
}

/*
 * TODO 2: restore a vCPU from *st, into a vCPU that has never run (a new
 * minivm process made it, as lab 01 does). The order matters: KVM reads
 * some state in the light of other state. minivm's order, close to QEMU's
 * kvm_arch_put_registers():
 *  1. KVM_SET_SREGS first: it sets the CPU mode (CR0, CR4, EFER) and the
 *     local APIC's base. A new APIC base can reset the local APIC or
 *     switch it to x2APIC mode, where its ID reads differently: the LAPIC
 *     state must come after it.
 *  2. KVM_SET_REGS: the general registers, RIP and RFLAGS, in that mode.
 *  3. KVM_SET_XCRS, then KVM_SET_XSAVE: XCR0 says which XSAVE components
 *     the guest enabled.
 *  4. KVM_SET_MSRS: every saved MSR. It returns how many it set; fewer
 *     than st->nmsrs is an error naming the first refused MSR. Writing
 *     IA32_TSC makes the guest's TSC go on from the saved value, not
 *     from 0; KERNEL_GS_BASE, LSTAR and friends are where the guest's
 *     kernel finds its per-CPU data and its system-call entry.
 *  5. KVM_SET_LAPIC, when st->has_lapic.
 *  6. KVM_SET_MP_STATE: running, halted, or an AP still waiting for its
 *     SIPI. A new vCPU's state is not the saved one: an AP is created
 *     waiting for INIT and SIPI, and restored without its MP state it
 *     would wait for a SIPI that came long ago.
 *  7. KVM_SET_VCPU_EVENTS last: what KVM was about to inject. KVM_SET_SREGS
 *     carries a pending interrupt of its own (interrupt_bitmap); the
 *     events must have the last word.
 * Each failing ioctl: its errno, with a message naming it.
 */
int mvm_vcpu_restore(struct minivm *vm, struct mvm_cpu *cpu,
                     const struct mvm_vcpu_state *st)
{
    (void)vm;
    (void)cpu;
    (void)st;
    return MVM_TODO(2, "restore a vCPU's state");
}

/*
 * TODO 3: the VM-wide state KVM keeps, on vm->vm_fd.
 * mvm_vm_save():
 *  - KVM_GET_CLOCK (api.rst 4.29): the guest's kvmclock, in ns;
 *  - with the in-kernel irqchip (vm->irq.irqchip; set st->has_irqchip):
 *    KVM_GET_IRQCHIP (4.26) for each of the three chips, st->chip[i]
 *    with chip_id = i: KVM_IRQCHIP_PIC_MASTER (0), KVM_IRQCHIP_PIC_SLAVE
 *    (1), KVM_IRQCHIP_IOAPIC (2); and KVM_GET_PIT2 (4.72), the 8254.
 * mvm_vm_restore(), into a VM that has the same irqchip or none
 * (-EINVAL when st->has_irqchip says otherwise than vm->irq.irqchip):
 * KVM_SET_IRQCHIP for each chip, KVM_SET_PIT2, then KVM_SET_CLOCK with
 * the saved clock and flags 0, last, right before the vCPUs run again:
 * the guest's clock goes on from where it stopped, and the time the VM
 * spent in the file does not count (flags KVM_CLOCK_REALTIME would make
 * it count: api.rst 4.30).
 */
int mvm_vm_save(struct minivm *vm, struct mvm_vm_state *st)
{
    (void)vm;
    (void)st;
    return MVM_TODO(3, "save the VM's state");
}

int mvm_vm_restore(struct minivm *vm, const struct mvm_vm_state *st)
{
    (void)vm;
    (void)st;
    return MVM_TODO(3, "restore the VM's state");
}

/*
 * TODO 4: guest memory, the bulk of a snapshot.
 * mvm_snap_save_memory(): every page of every region (mvm_regions(): RAM,
 * then the slots of lab 03) goes to the snapshot with
 * mvm_snap_put_page(out, gpa, host address) - except the pages that are
 * all zero. A new VM's memory comes from mmap(MAP_ANONYMOUS): the kernel
 * gives it zero-filled, so a zero page needs no bytes in the file. Most of
 * a small guest's RAM was never touched: skipping it makes the file a
 * fraction of the RAM. A page is zero only if ALL its 4096 bytes are (a
 * page with one byte set at its very end is not). Return the number of
 * pages written.
 * mvm_snap_load_page(): the reader hands you one page record: gpa and its
 * 4096 bytes, or data NULL for a page recorded as all zero. The file is
 * input you cannot trust: the page must be page-aligned and lie entirely
 * inside guest memory (mvm_guest_ptr() of lab 03); otherwise -EPROTO
 * naming the address. Copy the bytes in (or zero the page).
 */
int mvm_snap_save_memory(struct minivm *vm, struct mvm_snap_out *out)
{
    (void)vm;
    (void)out;
    return MVM_TODO(4, "save guest memory");
}

int mvm_snap_load_page(struct minivm *vm, uint64_t gpa, const void *data)
{
    (void)vm;
    (void)gpa;
    (void)data;
    return MVM_TODO(4, "load a page of guest memory");
}
