/*
 * smp.c - minivm stage 8, part 3: several vCPUs.
 *
 * A multiprocessor guest needs one vCPU per processor, and a VMM runs each
 * vCPU in a thread of its own: KVM_RUN blocks while the vCPU runs, so one
 * thread cannot run two. The processors do not all start at once. On a PC
 * only the bootstrap processor (BSP, vCPU 0) runs after reset; every
 * application processor (AP) waits in its local APIC until the BSP sends
 * it INIT, then a STARTUP IPI (SIPI) whose vector says where to begin:
 * real mode, at vector * 4096 (Intel SDM Vol. 3A, 9.4 "Multiple-Processor
 * (MP) Initialization", 9.4.4.1 "Typical BSP Initialization Sequence").
 * With KVM's in-kernel irqchip (lab 06) the LAPICs, and this protocol,
 * live in the kernel: an AP's KVM_RUN simply blocks until its SIPI. So the
 * VMM creates the APs and starts their threads, and the guest itself
 * starts them, as on hardware.
 *
 * The threads share minivm: its devices, its console, its counters. Each
 * exit is handled under one lock (the "bus lock"), and to stop the VM or
 * to snapshot it the VMM must get every thread out of KVM_RUN: a signal
 * kicks it out, and kvm_run's immediate_exit closes the race where the
 * signal comes just before KVM_RUN.
 *
 * References: Intel SDM Vol. 3A, 9.4 (MP initialization) and 11.6
 * ("Issuing Interprocessor Interrupts"); api.rst 4.7 (KVM_CREATE_VCPU),
 * 4.10 (KVM_RUN, EINTR), 5 (kvm_run's immediate_exit), 4.38
 * (KVM_GET_MP_STATE), "vcpu ioctls should be issued from the same thread
 * that was used to create the vcpu" (api.rst 1); QEMU's cpus.c and kvm-all.c
 * (qemu_cpu_kick(), kvm_cpu_exec()). labs/08-snapshots/README.md walks through
 * the steps.
 */
#define MVM_LAB        "08-snapshots"
#define MVM_STAGE_FILE "smp.c"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minivm.h"

/*
 * TODO 7: create the application processors 1 .. ncpus-1, after vCPU 0
 * (vm->vcpu_fd, already in vm->smp.cpu[0]).
 *  - The APs need the in-kernel irqchip (vm->irq.irqchip): their local
 *    APICs hold them until INIT and SIPI. Without it: -EINVAL, saying so.
 *    ncpus must be 1 to MVM_MAX_VCPUS (-EINVAL).
 *  - For each id: KVM_CREATE_VCPU with that id (api.rst 4.7; the id is
 *    also the vCPU's APIC ID), mmap() its kvm_run (vm->run_size bytes,
 *    as lab 01 did for vCPU 0), and fill vm->smp.cpu[id] (id, fd, run).
 *    Count it in vm->smp.ncpus as soon as it exists (= id + 1), so that
 *    mvm_destroy() frees it even when a later one fails.
 *  - Do NOT set an AP's registers or make it runnable: KVM made it
 *    KVM_MP_STATE_UNINITIALIZED (api.rst 4.38: "the vcpu is an
 *    application processor (AP) which has not yet received an INIT
 *    signal"), and that is right. Its KVM_RUN will block until the BSP's
 *    INIT and SIPI, after which KVM itself sets CS:IP to the SIPI's
 *    vector. An AP made runnable now would start at the reset vector,
 *    0xfffffff0, long before the guest has put any code anywhere.
 */
int mvm_smp_create_aps(struct minivm *vm, int ncpus)
{
    (void)vm;
    (void)ncpus;
    return MVM_TODO(7, "create the application processors");
}

/*
 * TODO 8: the run loop of one vCPU's thread: lab 01's loop, made safe for
 * several vCPUs. vm->smp (snap.h) is shared by every thread: read and
 * write it, and vm->exits, only with vm->smp.lock held. Repeat:
 *  - with the lock: if smp.stop, return 0; if smp.pause, park
 *    (mvm_vcpu_park(), TODO 9) and look again;
 *  - without the lock: KVM_RUN on cpu->fd (never vm->vcpu_fd: that is
 *    whoever's exit is being handled). EINTR means a kick (TODO 9): set
 *    cpu->run->immediate_exit back to 0 and go round, to see why. EAGAIN
 *    too: an AP that waited for INIT got it, and KVM wants KVM_RUN again
 *    (QEMU's kvm_cpu_exec() treats both alike). Any other error: return
 *    it with a message naming the vCPU;
 *  - an exit: take the lock and handle it as lab 01's loop does, with the
 *    stage functions of labs 01-05. They use vm->vcpu_fd and vm->run, so
 *    point those at THIS vCPU first. Count it in vm->exits and
 *    cpu->exits; trace it (vm->opt.trace: mvm_trace_exit()); then
 *    mvm_handle_exit(). MVM_STOP or an error ends the VM for every vCPU:
 *    mvm_smp_stop_locked(vm, 0 or the error), which kicks the others,
 *    and return it. So does vm->opt.max_exits (-ELOOP naming
 *    --max-exits). When smp.pause_at is not 0 and vm->exits reaches it
 *    (--save-after N), set smp.pause and kick the other vCPUs
 *    (mvm_smp_kick(), TODO 9): none may run on past that exit. After
 *    each exit, pthread_cond_broadcast(&smp.cond): the driver waits
 *    there for "N exits" (--save-after, --migrate-after).
 */
int mvm_vcpu_loop(struct minivm *vm, struct mvm_cpu *cpu)
{
    (void)vm;
    (void)cpu;
    return MVM_TODO(8, "the run loop of a vCPU thread");
}

/*
 * TODO 9: getting every vCPU out of KVM_RUN, and back in.
 * mvm_smp_kick(): make the thread of `cpu` leave KVM_RUN soon. A signal
 * (MVM_SMP_KICK, whose handler the driver installed without SA_RESTART)
 * makes a running KVM_RUN fail with EINTR (api.rst 4.10). But the thread
 * may be just about to call KVM_RUN: the signal would come too early and
 * be lost. So first set cpu->run->immediate_exit = 1: a KVM_RUN that
 * starts with it set returns EINTR at once (api.rst 5, immediate_exit). Then
 * pthread_kill() the thread. mvm_vcpu_park(), on the vCPU's own thread, called
 * without the lock: with smp.lock held, mark cpu->parked,
 * pthread_cond_broadcast(), and wait on smp.cond while smp.pause is set and
 * smp.stop is not; then clear cpu->parked. mvm_smp_pause(), on the driver's
 * thread: with smp.lock held, set smp.pause, kick every vCPU that is running
 * (cpu->running), then wait on smp.cond until each running vCPU is parked. If
 * the VM stops meanwhile (smp.stop): -ESHUTDOWN, "the guest stopped". Return 0
 * with every vCPU out of KVM_RUN: its state can be read and memory no longer
 * changes. mvm_smp_resume(): clear smp.pause and wake the parked threads.
 */
void mvm_smp_kick(struct mvm_cpu *cpu)
{
    (void)cpu;
}

int mvm_vcpu_park(struct minivm *vm, struct mvm_cpu *cpu)
{
    (void)vm;
    (void)cpu;
    return MVM_TODO(9, "park a vCPU thread");
}

int mvm_smp_pause(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(9, "pause every vCPU");
}

void mvm_smp_resume(struct minivm *vm)
{
    (void)vm;
}
