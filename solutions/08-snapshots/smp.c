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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)ncpus; */
    /* stub: return MVM_TODO(7, "create the application processors"); */
    struct mvm_smp *s = &vm->smp;

    if (!vm->irq.irqchip)
        return vl_err_plain(EINVAL,
                            "%d vCPUs need the in-kernel irqchip: the APs "
                            "wait for INIT and SIPI in their local APICs "
                            "(mvm_irqchip_create() before vCPU 0)",
                            ncpus);
    if (ncpus < 1 || ncpus > MVM_MAX_VCPUS)
        return vl_err_plain(EINVAL, "%d vCPUs: 1 to %d, please", ncpus,
                            MVM_MAX_VCPUS);
    mvm_smp_adopt_bsp(vm);
    for (int id = s->ncpus; id < ncpus; id++) {
        struct mvm_cpu *c = &s->cpu[id];
        void *run;
        int fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);

        if (fd < 0)
            return vl_err(errno, "KVM_CREATE_VCPU %d", id);
        *c = (struct mvm_cpu){.id = id, .fd = fd};
        s->ncpus = id + 1;
        run =
            mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (run == MAP_FAILED)
            return vl_err(errno, "mmap of vCPU %d's kvm_run", id);
        c->run = run;
    }
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)cpu; */
    /* stub: return MVM_TODO(8, "the run loop of a vCPU thread"); */
    struct mvm_smp *s = &vm->smp;
    int r;

    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->pause && !s->stop) {
            pthread_mutex_unlock(&s->lock);
            if ((r = mvm_vcpu_park(vm, cpu)) < 0)
                return r;
            pthread_mutex_lock(&s->lock);
        }
        if (s->stop) {
            pthread_mutex_unlock(&s->lock);
            return 0;
        }
        pthread_mutex_unlock(&s->lock);

        if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                cpu->run->immediate_exit = 0;
                continue;
            }
            return vl_err(errno, "KVM_RUN on vCPU %d", cpu->id);
        }

        pthread_mutex_lock(&s->lock);
        vm->vcpu_fd = cpu->fd;
        vm->run = cpu->run;
        vm->exits++;
        cpu->exits++;
        if (vm->opt.trace)
            mvm_trace_exit(vm);
        r = mvm_handle_exit(vm);
        if (r >= 0 && r != MVM_STOP && vm->opt.max_exits &&
            vm->exits >= vm->opt.max_exits)
            r = vl_err_plain(ELOOP,
                             "guest still running after %llu exits "
                             "(--max-exits): a loop that never halts? Raise "
                             "--max-exits if it should run longer",
                             (unsigned long long)vm->exits);
        if (r < 0 || r == MVM_STOP) {
            mvm_smp_stop_locked(vm, r < 0 ? r : 0);
        } else if (s->pause_at && vm->exits >= s->pause_at && !s->pause) {
            s->pause = true;
            for (int i = 0; i < s->ncpus; i++)
                if (&s->cpu[i] != cpu && s->cpu[i].running)
                    mvm_smp_kick(&s->cpu[i]);
        }
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
            return r;
        if (r == MVM_STOP)
            return 0;
    }
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)cpu; */
    cpu->run->immediate_exit = 1;
    pthread_kill(cpu->thread, MVM_SMP_KICK);
    /* SOLUTION END */
}

int mvm_vcpu_park(struct minivm *vm, struct mvm_cpu *cpu)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)cpu; */
    /* stub: return MVM_TODO(9, "park a vCPU thread"); */
    struct mvm_smp *s = &vm->smp;

    pthread_mutex_lock(&s->lock);
    cpu->parked = true;
    pthread_cond_broadcast(&s->cond);
    while (s->pause && !s->stop)
        pthread_cond_wait(&s->cond, &s->lock);
    cpu->parked = false;
    pthread_mutex_unlock(&s->lock);
    return 0;
    /* SOLUTION END */
}

int mvm_smp_pause(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(9, "pause every vCPU"); */
    struct mvm_smp *s = &vm->smp;
    int r = 0;

    pthread_mutex_lock(&s->lock);
    s->pause = true;
    for (int i = 0; i < s->ncpus; i++)
        if (s->cpu[i].running)
            mvm_smp_kick(&s->cpu[i]);
    for (;;) {
        int waiting = 0;

        if (s->stop) {
            r = vl_err_plain(ESHUTDOWN, "the guest stopped before every "
                                        "vCPU was paused");
            break;
        }
        for (int i = 0; i < s->ncpus; i++)
            waiting += s->cpu[i].running && !s->cpu[i].parked;
        if (!waiting)
            break;
        pthread_cond_wait(&s->cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
    /* SOLUTION END */
}

void mvm_smp_resume(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    pthread_mutex_lock(&vm->smp.lock);
    vm->smp.pause = false;
    pthread_cond_broadcast(&vm->smp.cond);
    pthread_mutex_unlock(&vm->smp.lock);
    /* SOLUTION END */
}
