/*
 * snap_smp.c - minivm's vCPU threads (lab 08's driver side): the kick
 * signal, starting and joining the threads, waiting for the VM, and the
 * set-up around the application processors. None of this is a lab; the
 * run loop of each thread, the pause protocol and the creation of the APs
 * are (labs/08-snapshots/smp.c).
 */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include "minivm.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/x86.h"

/*
 * The kick (smp.c's mvm_smp_kick()): a signal that makes KVM_RUN return
 * EINTR. Its handler does nothing; what matters is that it interrupts the
 * ioctl (no SA_RESTART).
 */
#define SMP_KICK_SIGNAL MVM_SMP_KICK

static void on_kick(int sig)
{
    (void)sig;
}

static int install_kick(void)
{
    struct sigaction sa = {.sa_handler = on_kick};

    sigemptyset(&sa.sa_mask);
    if (sigaction(SMP_KICK_SIGNAL, &sa, NULL) < 0)
        return vl_err(errno, "installing the kick signal's handler");
    return 0;
}

void mvm_smp_adopt_bsp(struct minivm *vm)
{
    struct mvm_cpu *c = &vm->smp.cpu[0];

    if (c->started) /* the threads own vm->vcpu_fd now */
        return;
    c->id = 0;
    c->fd = vm->vcpu_fd;
    c->run = vm->run;
    if (vm->smp.ncpus < 1)
        vm->smp.ncpus = 1;
}

void mvm_smp_destroy(struct minivm *vm)
{
    struct mvm_smp *s = &vm->smp;

    mvm_smp_join(vm);
    if (s->stuck) {
        /* A thread may still be in KVM_RUN: leave its vCPU to exit(). */
        vm->run = NULL;
        vm->vcpu_fd = -1;
        return;
    }
    /* vCPU 0 is vm->vcpu_fd: mvm_destroy() closes it. */
    for (int i = 1; i < s->ncpus && i < MVM_MAX_VCPUS; i++) {
        struct mvm_cpu *c = &s->cpu[i];

        if (c->run && c->run != MAP_FAILED)
            munmap(c->run, vm->run_size);
        c->run = NULL;
        if (c->fd > 0)
            close(c->fd);
        c->fd = -1;
    }
    if (s->threads) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        s->threads = false;
    }
    s->ncpus = 0;
}

/*
 * An AP climbs from real mode to long mode itself, and KVM checks what
 * the guest does against the vCPU's CPUID: without the "long mode" bit
 * (CPUID 0x80000001 EDX bit 29), its WRMSR of EFER.LME is a #GP. vCPU 0
 * never needs it here (minivm puts it in long mode with KVM_SET_SREGS),
 * but an AP does: give it what KVM supports (api.rst 4.46
 * KVM_GET_SUPPORTED_CPUID, 4.20 KVM_SET_CPUID2), with its own APIC ID in
 * leaf 1 (EBX bits 31:24) and leaf 0xb (EDX), as QEMU does.
 */
static int ap_cpuid(struct minivm *vm, struct mvm_cpu *c)
{
    enum { MAX = 100 };
    _vl_cleanup_free_ struct kvm_cpuid2 *cpuid =
        calloc(1, sizeof(*cpuid) + MAX * sizeof(cpuid->entries[0]));

    if (!cpuid)
        return vl_err_plain(ENOMEM, "no memory for CPUID");
    cpuid->nent = MAX;
    if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        return vl_err(errno, "KVM_GET_SUPPORTED_CPUID");
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

        if (e->function == 1)
            e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)c->id << 24;
        if (e->function == 0xb || e->function == 0x1f)
            e->edx = (uint32_t)c->id;
    }
    if (ioctl(c->fd, KVM_SET_CPUID2, cpuid) < 0)
        return vl_err(errno, "vCPU %d: KVM_SET_CPUID2", c->id);
    return 0;
}

int mvm_smp_init_aps(struct minivm *vm)
{
    int r;

    for (int i = 1; i < vm->smp.ncpus; i++) {
        struct mvm_cpu *c = &vm->smp.cpu[i];
        struct kvm_lapic_state lapic;

        if ((r = ap_cpuid(vm, c)) < 0)
            return r;
        /*
         * Give the AP's local APIC its own state back, as QEMU does for
         * every vCPU at reset (KVM_SET_LAPIC, api.rst 4.58). Setting it
         * makes KVM rebuild its map from APIC IDs to vCPUs; without that,
         * on some kernels (the course machine's), an AP created after
         * vCPU 0 is missing from the map, and an INIT or SIPI sent to its
         * APIC ID alone is lost (a broadcast still reaches it).
         */
        if (ioctl(c->fd, KVM_GET_LAPIC, &lapic) < 0 ||
            ioctl(c->fd, KVM_SET_LAPIC, &lapic) < 0)
            return vl_err(errno, "vCPU %d: KVM_GET_LAPIC/KVM_SET_LAPIC", i);
    }
    return 0;
}

int mvm_smp_setup(struct minivm *vm, int ncpus)
{
    uint32_t *info;
    int r;

    mvm_smp_adopt_bsp(vm);
    if (ncpus <= 1 || vm->smp.ncpus >= ncpus) /* one vCPU, or restored */
        return 0;
    if ((r = mvm_smp_create_aps(vm, ncpus)) < 0)
        return vl_err_ctx(r, "creating the application processors");
    if ((r = mvm_smp_init_aps(vm)) < 0)
        return r;
    /* The guest talks to its local APIC through this page (the ICR sends
     * INIT and SIPI): map it like the device window. */
    if (vm->pt_root &&
        (r = mvm_map_page(vm, MVM_LAPIC_ADDR, MVM_LAPIC_ADDR, VL_PAGE_2M)) < 0)
        return vl_err_ctx(r, "mapping the local APIC's page");
    if (!(info = mvm_gpa(vm, MVM_SMP_INFO_ADDR, sizeof(*info))))
        return -EFAULT;
    *info = (uint32_t)ncpus;
    return 0;
}

struct thread_arg {
    struct minivm *vm;
    struct mvm_cpu *cpu;
};

static void *vcpu_thread(void *p)
{
    struct thread_arg *a = p;
    struct minivm *vm = a->vm;
    struct mvm_cpu *cpu = a->cpu;
    int r;

    free(a);
    r = mvm_vcpu_loop(vm, cpu);
    pthread_mutex_lock(&vm->smp.lock);
    if (r < 0 && !vm->smp.stop)
        mvm_smp_stop_locked(vm, r);
    else if (!vm->smp.stop)
        mvm_smp_stop_locked(vm, 0);
    cpu->running = false;
    pthread_cond_broadcast(&vm->smp.cond);
    pthread_mutex_unlock(&vm->smp.lock);
    return NULL;
}

void mvm_smp_stop_locked(struct minivm *vm, int r)
{
    struct mvm_smp *s = &vm->smp;

    if (!s->stop) {
        s->stop = true;
        s->result = r;
        snprintf(s->error, sizeof(s->error), "%s", r < 0 ? vl_errmsg() : "");
    }
    for (int i = 0; i < s->ncpus; i++)
        if (s->cpu[i].running)
            mvm_smp_kick(&s->cpu[i]);
    pthread_cond_broadcast(&s->cond);
}

int mvm_smp_start(struct minivm *vm)
{
    struct mvm_smp *s = &vm->smp;
    sigset_t kick, old;
    int r = 0;

    mvm_smp_adopt_bsp(vm);
    if ((r = install_kick()) < 0)
        return r;
    if (!s->threads) {
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->threads = true;
    }
    s->stop = s->pause = s->stuck = false;
    s->result = 0;
    s->error[0] = '\0';
    /* The vCPU threads take the kick; every other thread blocks it, so a
     * kick never lands on the main thread by mistake. */
    sigemptyset(&kick);
    sigaddset(&kick, SMP_KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &kick, &old);
    /* With the lock held, no thread can kick another whose thread id is
     * not written yet: kicks happen under the lock. */
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->ncpus; i++) {
        struct thread_arg *a = malloc(sizeof(*a));
        sigset_t mask = old;
        int e;

        if (!a) {
            r = vl_err_plain(ENOMEM, "no memory for a vCPU thread");
            break;
        }
        *a = (struct thread_arg){vm, &s->cpu[i]};
        sigdelset(&mask, SMP_KICK_SIGNAL);
        pthread_sigmask(SIG_SETMASK, &mask, NULL); /* inherited */
        s->cpu[i].running = true;
        s->cpu[i].parked = false;
        e = pthread_create(&s->cpu[i].thread, NULL, vcpu_thread, a);
        pthread_sigmask(SIG_BLOCK, &kick, NULL);
        if (e) {
            s->cpu[i].running = false;
            free(a);
            r = vl_err(e, "starting the thread of vCPU %d", i);
            break;
        }
        s->cpu[i].started = true;
    }
    if (r < 0)
        mvm_smp_stop_locked(vm, r);
    pthread_mutex_unlock(&s->lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

/* The lock, but not forever: a vCPU thread that holds it and never comes
 * back (it waits in an ioctl on another vCPU that runs) must not hang
 * minivm. */
static int lock_until(struct mvm_smp *s, const struct timespec *dl)
{
    if (!dl)
        return pthread_mutex_lock(&s->lock);
    return pthread_mutex_timedlock(&s->lock, dl);
}

static const char stuck_msg[] =
    "a vCPU thread holds the bus lock and does not come back: does it run "
    "an ioctl on another vCPU's fd? A vCPU ioctl waits while that vCPU is "
    "in KVM_RUN";

int mvm_smp_wait(struct minivm *vm, uint64_t exits, unsigned timeout_s)
{
    struct mvm_smp *s = &vm->smp;
    struct timespec now, dl;
    int r;

    /*
     * Poll rather than wait on smp.cond: pthread_cond_timedwait() must
     * take the bus lock again before it returns, and a vCPU thread that
     * never gives it back (see stuck_msg) would hang minivm for good.
     * Reads without the lock are fine here: a value one exit late only
     * delays the answer by a millisecond.
     */
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_s;
    for (;;) {
        if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
            return 1;
        if (exits && __atomic_load_n(&vm->exits, __ATOMIC_RELAXED) >= exits)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timeout_s &&
            (now.tv_sec > dl.tv_sec ||
             (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec)))
            break;
        usleep(1000);
    }
    r = vl_err_plain(ETIMEDOUT,
                     "guest still running after %u s (--timeout) and %llu "
                     "exits: raise --timeout if it should run longer",
                     timeout_s, (unsigned long long)vm->exits);
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 1;
    if (lock_until(s, &dl) == 0) {
        mvm_smp_stop_locked(vm, r);
        pthread_mutex_unlock(&s->lock);
    } else {
        s->stuck = true;
        r = vl_err_plain(ETIMEDOUT, "%s", stuck_msg);
    }
    return r;
}

int mvm_smp_join(struct minivm *vm)
{
    struct mvm_smp *s = &vm->smp;
    struct timespec dl;
    bool any = false, locked;
    int r;

    if (!s->threads)
        return 0;
    for (int i = 0; i < s->ncpus; i++)
        any |= s->cpu[i].started;
    if (!any)
        return s->result;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 2;
    locked = !s->stuck && lock_until(s, &dl) == 0;
    if (!locked && !s->stop) { /* kick them anyway */
        s->stop = true;
        s->result = vl_err_plain(ETIMEDOUT, "%s", stuck_msg);
        snprintf(s->error, sizeof(s->error), "%s", stuck_msg);
    }
    mvm_smp_stop_locked(vm, 0);
    if (locked)
        pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->ncpus; i++) {
        if (!s->cpu[i].started)
            continue;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 2;
        if (pthread_timedjoin_np(s->cpu[i].thread, NULL, &dl)) {
            /* Left behind: its fds and kvm_run stay until exit. */
            s->stuck = true;
            continue;
        }
        s->cpu[i].started = false;
    }
    /* vCPU 0 is vm->vcpu_fd again, for what comes after the threads. */
    vm->vcpu_fd = s->cpu[0].fd;
    vm->run = s->cpu[0].run;
    for (int i = 0; i < s->ncpus && !s->stuck; i++)
        if (s->cpu[i].run)
            s->cpu[i].run->immediate_exit = 0;
    r = s->result;
    if (r < 0)
        vl_err_plain(-r, "%s", s->error);
    return r;
}
