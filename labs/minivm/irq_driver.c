/*
 * irq_driver.c - minivm's driver for interrupts (lab 06): the plumbing
 * around the lab's stage functions. None of this is a lab; the concepts
 * live in labs/06-interrupts/interrupts.c.
 *
 *  - the kick: a POSIX timer that sends the vCPU thread a signal at the
 *    next tick of minivm's PIT, so KVM_RUN returns even while the guest
 *    spins with no exits (QEMU kicks its vCPU threads with SIG_IPI);
 *  - HLT waits: sleeping until the next tick;
 *  - --timer: minivm's PIT on the bus (ports 0x40-0x43);
 *  - --irqchip: the LAPIC's virtual wire, an irqfd for the UART's IRQ 4,
 *    a lock around the UART, and the input thread that feeds it.
 */
#define _GNU_SOURCE /* gettid, sigev_notify_thread_id */
#include "minivm.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "virtlab/cleanup.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* QEMU kicks its vCPU threads with SIGUSR1 too (SIG_IPI). */
#define KICK_SIGNAL SIGUSR1
/* immediate_exit as the kick sets it; the --timeout guard sets 1. */
#define KICK_MARK   2

struct mvm_irq_host {
    /* the kick */
    bool have_timer;
    timer_t timer;
    uint64_t kick_deadline; /* armed for this time (0: disarmed) */

    /* --irqchip: the UART, shared by the vCPU and the input thread */
    pthread_mutex_t lock;
    pthread_cond_t room; /* the receiver has room again */
    bool locking;        /* the bus goes through uart_locked_*() */
    int (*uart_read)(struct minivm *, void *, uint64_t, void *, unsigned);
    int (*uart_write)(struct minivm *, void *, uint64_t, const void *,
                      unsigned);
    bool input_started;
    pthread_t input;
    int input_fd; /* what the UART receives */
    int stop_fd;  /* an eventfd: the input thread must end */
    int irqfd;    /* the UART's irqfd, made by setup_irqchip() */
    bool stopping;
    bool hangup;          /* the input ended: DCD dropped */
    uint64_t input_bytes; /* bytes the input thread put in the UART */
};

uint64_t mvm_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct mvm_irq_host *irq_host(struct minivm *vm)
{
    struct mvm_irq_host *h = vm->irq.host;

    if (h)
        return h;
    h = calloc(1, sizeof(*h));
    if (!h) {
        vl_err_plain(ENOMEM, "no memory for minivm's interrupt state");
        return NULL;
    }
    h->input_fd = -1;
    h->stop_fd = -1;
    h->irqfd = -1;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->room, NULL);
    vm->irq.host = h;
    return h;
}

/* ---- the kick ---------------------------------------------------------
 * A signal makes KVM_RUN return with EINTR (api.rst 4.10). If it lands
 * just before KVM_RUN starts, kvm_run.immediate_exit makes the next
 * KVM_RUN return EINTR at once (api.rst 5, immediate_exit): no kick is
 * lost. The --timeout guard of minivm.c uses immediate_exit too (it
 * writes 1); the kick writes KICK_MARK, and only where nobody wrote
 * before, so clearing its own mark never erases the guard's. */
static struct kvm_run *volatile kick_run;
static volatile sig_atomic_t kick_fired;

static void on_kick(int sig)
{
    struct kvm_run *run = kick_run;
    uint8_t none = 0;

    (void)sig;
    kick_fired = 1;
    if (run)
        __atomic_compare_exchange_n(&run->immediate_exit, &none, KICK_MARK,
                                    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static int kick_timer_create(struct minivm *vm, struct mvm_irq_host *h)
{
    /* SA_RESTART: the kick must not break the vCPU thread's other system
     * calls (a write() to a full pipe). KVM_RUN returns EINTR anyway: it
     * is never restarted. */
    struct sigaction sa = {.sa_handler = on_kick, .sa_flags = SA_RESTART};
    struct sigevent ev = {
        .sigev_notify = SIGEV_THREAD_ID,
        .sigev_signo = KICK_SIGNAL,
    };
    sigset_t set;

    sigemptyset(&sa.sa_mask);
    if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
        return vl_err(errno, "sigaction for the timer's kick");
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    ev.sigev_notify_thread_id = gettid(); /* this thread runs the vCPU */
    if (timer_create(CLOCK_MONOTONIC, &ev, &h->timer) < 0)
        return vl_err(errno, "timer_create for the timer's kick");
    kick_run = vm->run;
    kick_fired = 0;
    h->have_timer = true;
    return 0;
}

int mvm_irq_kick_at(struct minivm *vm, uint64_t deadline_ns)
{
    struct mvm_irq_host *h = vm->irq.host;
    struct itimerspec its = {0};
    int r;

    if (!h || !h->have_timer) {
        if (deadline_ns == 0)
            return 0;
        if (!(h = irq_host(vm)))
            return -ENOMEM;
        if ((r = kick_timer_create(vm, h)) < 0)
            return r;
    }
    if (deadline_ns == h->kick_deadline)
        return 0;
    its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ULL);
    its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ULL);
    if (timer_settime(h->timer, TIMER_ABSTIME, &its, NULL) < 0)
        return vl_err(errno, "timer_settime for the timer's kick");
    h->kick_deadline = deadline_ns;
    return 0;
}

bool mvm_irq_kicked(struct minivm *vm)
{
    uint8_t mark = KICK_MARK;

    if (!kick_fired)
        return false;
    kick_fired = 0;
    if (vm->run)
        __atomic_compare_exchange_n(&vm->run->immediate_exit, &mark, 0, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return true;
}

int mvm_irq_wait(struct minivm *vm, uint64_t deadline_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(deadline_ns / 1000000000ULL),
        .tv_nsec = (long)(deadline_ns % 1000000000ULL),
    };

    while (mvm_now_ns() < deadline_ns) {
        /* The guard's mark: the --timeout guard fired. */
        if (vm->run && vm->run->immediate_exit == 1)
            return -EINTR;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    if (vm->run && vm->run->immediate_exit == 1)
        return -EINTR;
    /* The kick for this deadline has fired (or will, at once): take it
     * now instead of in a KVM_RUN that returns EINTR straight away. */
    mvm_irq_kicked(vm);
    return 0;
}

/* ---- --timer: minivm's PIT on the bus -------------------------------- */

static int pit_bus_read(struct minivm *vm, void *opaque, uint64_t offset,
                        void *data, unsigned len)
{
    (void)vm, (void)opaque, (void)data, (void)len;
    return vl_err_plain(EINVAL,
                        "minivm's 8254 cannot be read (port 0x%llx): it "
                        "emulates counter 0's writes only",
                        (unsigned long long)(MVM_PIT_PORT + offset));
}

static int pit_bus_write(struct minivm *vm, void *opaque, uint64_t offset,
                         const void *data, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        int r = mvm_pit_write(opaque, mvm_now_ns(), (unsigned)offset + i,
                              ((const uint8_t *)data)[i]);

        if (r < 0)
            return r;
    }
    (void)vm;
    return MVM_CONTINUE;
}

/* ---- --irqchip: the UART behind a lock -------------------------------- */

/*
 * How many bytes the other end of the line may send now. It uses
 * hardware flow control: it sends only while the UART asserts Request To
 * Send (MCR.RTS), so nothing arrives before the guest's driver is ready
 * (its FIFO reset would throw it away), and never more than the receiver
 * holds (lab 04's model: 16 bytes with the FIFO on, else 1).
 */
static unsigned uart_room(const struct mvm_uart *u)
{
    unsigned size = (u->fcr & UART_FCR_ENABLE_FIFO) ? MVM_UART_FIFO : 1;

    if (u->mcr & UART_MCR_LOOP)
        return 0; /* the receiver listens to the UART's own transmitter */
    if (!(u->mcr & UART_MCR_RTS))
        return 0;
    return u->rx_count < size ? size - u->rx_count : 0;
}

/* The input ended: the other end "hangs up", as a modem drops Data
 * Carrier Detect (PC16550D, MSR bits 7 and 3). A driver with IER.MSI set
 * gets a modem status interrupt; Linux's tty layer hangs up on it. */
static void uart_hangup(struct minivm *vm)
{
    struct mvm_uart *u = &vm->uart;

    if (u->mcr & UART_MCR_LOOP)
        return; /* in loopback MSR shows MCR; the drop waits */
    if (u->msr & UART_MSR_DCD)
        u->msr = (u->msr & ~UART_MSR_DCD) | UART_MSR_DDCD;
}

static void report_thread_error(struct minivm *vm, const char *what)
{
    fprintf(vm->opt.log, "minivm: %s: %s\n", what, vl_errmsg());
}

static int uart_locked_read(struct minivm *vm, void *opaque, uint64_t offset,
                            void *data, unsigned len)
{
    struct mvm_irq_host *h = vm->irq.host;
    int r, r2;

    pthread_mutex_lock(&h->lock);
    r = h->uart_read(vm, opaque, offset, data, len);
    if ((r2 = mvm_uart_update_irq(vm)) < 0 && r >= 0)
        r = r2;
    if (uart_room(&vm->uart))
        pthread_cond_signal(&h->room);
    pthread_mutex_unlock(&h->lock);
    return r;
}

static int uart_locked_write(struct minivm *vm, void *opaque, uint64_t offset,
                             const void *data, unsigned len)
{
    struct mvm_irq_host *h = vm->irq.host;
    int r, r2;

    pthread_mutex_lock(&h->lock);
    r = h->uart_write(vm, opaque, offset, data, len);
    /* Lab 04's model puts the cable's lines back on an MCR write: after
     * a hang-up, DCD stays down. */
    if (h->hangup)
        uart_hangup(vm);
    if ((r2 = mvm_uart_update_irq(vm)) < 0 && r >= 0)
        r = r2;
    if (uart_room(&vm->uart))
        pthread_cond_signal(&h->room);
    pthread_mutex_unlock(&h->lock);
    return r;
}

/* Put n bytes into the UART as its receiver makes room for them: the
 * other end of a serial line with hardware flow control never overruns
 * the receiver. false when told to stop. */
static bool input_feed(struct minivm *vm, const uint8_t *buf, size_t n)
{
    struct mvm_irq_host *h = vm->irq.host;
    size_t i = 0;

    pthread_mutex_lock(&h->lock);
    while (i < n && !h->stopping) {
        unsigned room = uart_room(&vm->uart);

        if (!room) {
            pthread_cond_wait(&h->room, &h->lock);
            continue;
        }
        for (; room && i < n; room--, i++) {
            mvm_uart_receive(&vm->uart, buf[i]);
            h->input_bytes++;
        }
        if (mvm_uart_update_irq(vm) < 0)
            report_thread_error(vm, "input thread");
    }
    pthread_mutex_unlock(&h->lock);
    return i == n;
}

/*
 * The input thread: the vCPU thread sleeps inside KVM_RUN while the guest
 * waits in HLT (the in-kernel LAPIC handles HLT), so someone else must
 * read the host's input and raise the UART's interrupt - through the
 * irqfd, which needs no vCPU and no VM ioctl.
 */
static void *input_main(void *arg)
{
    struct minivm *vm = arg;
    struct mvm_irq_host *h = vm->irq.host;
    uint8_t buf[256];

    for (;;) {
        struct pollfd p[2] = {{.fd = h->input_fd, .events = POLLIN},
                              {.fd = h->stop_fd, .events = POLLIN}};
        ssize_t n;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        n = read(h->input_fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n > 0) {
            if (!input_feed(vm, buf, (size_t)n))
                break;
            continue;
        }
        pthread_mutex_lock(&h->lock); /* end of input, or an error */
        vm->input_eof = true;
        h->hangup = true;
        uart_hangup(vm);
        if (mvm_uart_update_irq(vm) < 0)
            report_thread_error(vm, "input thread");
        pthread_mutex_unlock(&h->lock);
        break;
    }
    return NULL;
}

static int input_start(struct minivm *vm, struct mvm_irq_host *h)
{
    sigset_t all, old;
    int r;

    h->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (h->stop_fd < 0)
        return vl_err(errno, "eventfd for the input thread");
    /* Signals are for the vCPU thread (the --timeout guard must interrupt
     * KVM_RUN): the input thread blocks them all, and inherits that. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&h->input, NULL, input_main, vm);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r)
        return vl_err(r, "starting the input thread");
    h->input_started = true;
    return 0;
}

static struct mvm_device *find_device(struct minivm *vm, const char *name)
{
    for (int i = 0; i < vm->bus.ndev; i++)
        if (vm->bus.dev[i].name && !strcmp(vm->bus.dev[i].name, name))
            return &vm->bus.dev[i];
    return NULL;
}

static int setup_irqchip(struct minivm *vm)
{
    struct mvm_irq_host *h;
    struct mvm_device *uart;
    int r, fd;

    if (!vm->irq.irqchip)
        return vl_err_plain(EINVAL, "--irqchip: the in-kernel irqchip must "
                                    "be created before the vCPU "
                                    "(mvm_irq_create_irqchip())");
    if ((r = mvm_lapic_virtual_wire(vm)) < 0)
        return vl_err_ctx(r, "connecting the PIC to the LAPIC");
    if (!(h = irq_host(vm)))
        return -ENOMEM;
    if ((uart = find_device(vm, "uart"))) {
        h->uart_read = uart->read;
        h->uart_write = uart->write;
        uart->read = uart_locked_read;
        uart->write = uart_locked_write;
        h->locking = true;
    }
    if ((fd = mvm_irqfd(vm, MVM_UART_IRQ)) < 0)
        return vl_err_ctx(fd, "an irqfd for the UART's IRQ %d", MVM_UART_IRQ);
    vm->irq.uart_irqfd = h->irqfd = fd;
    if (uart && vm->opt.input_fd >= 0) {
        /* From now on the input thread alone reads the input: lab 04's
         * polled path (a read of LSR or RBR) must not. */
        h->input_fd = vm->opt.input_fd;
        vm->opt.input_fd = -1;
        if ((r = input_start(vm, h)) < 0)
            return r;
    }
    return 0;
}

int mvm_irq_create_irqchip(struct minivm *vm)
{
    /* A real CPU's local APIC comes out of reset with LINT0 masked; KVM
     * unmasks it as ExtINT for old guests unless asked not to (api.rst,
     * KVM_CAP_DISABLE_QUIRKS2, KVM_X86_QUIRK_LINT0_REENABLED). minivm asks,
     * so setting the virtual wire (lab 06, TODO 7) is the firmware's job,
     * as on hardware. (KVM_CAP_DISABLE_QUIRKS is the older form of the
     * same request; a KVM with neither keeps the quirk: harmless.) */
    struct kvm_enable_cap cap = {
        .cap = KVM_CAP_DISABLE_QUIRKS2,
        .args = {KVM_X86_QUIRK_LINT0_REENABLED},
    };

    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2) <= 0)
        cap.cap = KVM_CAP_DISABLE_QUIRKS;
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap.cap) > 0)
        ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap);
    return mvm_irqchip_create(vm);
}

int mvm_irq_setup(struct minivm *vm)
{
    const struct mvm_device pit = {"pit",         MVM_SPACE_PORT, MVM_PIT_PORT,
                                   MVM_PIT_PORTS, pit_bus_read,   pit_bus_write,
                                   &vm->irq.pit};
    int r;

    if (vm->opt.timer && vm->opt.irqchip)
        return vl_err_plain(EINVAL, "--timer and --irqchip both emulate the "
                                    "8254: pick one");
    if (vm->opt.timer) {
        if ((r = mvm_bus_register(&vm->bus, &pit)) < 0)
            return vl_err_ctx(r, "putting the 8254 on the bus");
        vm->irq.timer = true;
    }
    if (vm->opt.irqchip)
        return setup_irqchip(vm);
    return 0;
}

void mvm_irq_destroy(struct minivm *vm)
{
    struct mvm_irq_host *h = vm->irq.host;
    uint64_t one = 1;

    if (h) {
        if (h->input_started) {
            pthread_mutex_lock(&h->lock);
            h->stopping = true;
            pthread_cond_broadcast(&h->room);
            pthread_mutex_unlock(&h->lock);
            if (write(h->stop_fd, &one, sizeof(one)) < 0)
                perror("minivm: stopping the input thread");
            pthread_join(h->input, NULL);
        }
        vl_close(&h->stop_fd);
        if (h->irqfd >= 0 && vm->irq.uart_irqfd == h->irqfd)
            vm->irq.uart_irqfd = -1;
        vl_close(&h->irqfd);
        if (h->have_timer) {
            /* The handler stays: a kick already on its way must not find
             * SIGUSR1's default action, which ends the process. */
            timer_delete(h->timer);
            kick_run = NULL;
        }
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->room);
        free(h);
        vm->irq.host = NULL;
    }
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

void mvm_irq_report(struct minivm *vm, FILE *out)
{
    const struct mvm_irq *q = &vm->irq;
    unsigned long long in = q->host ? q->host->input_bytes : 0;

    if (q->timer)
        fprintf(out,
                "minivm: timer: %llu tick%s raised, %llu injected, %llu "
                "pending; %llu KVM_RUN%s with the interrupt window "
                "requested, %llu window exit%s; %llu kick%s; %llu HLT "
                "wait%s\n",
                (unsigned long long)q->raised, plural(q->raised),
                (unsigned long long)q->injected, (unsigned long long)q->pending,
                (unsigned long long)q->window_requests,
                plural(q->window_requests), (unsigned long long)q->window_exits,
                plural(q->window_exits), (unsigned long long)q->kicks,
                plural(q->kicks), (unsigned long long)q->hlt_waits,
                plural(q->hlt_waits));
    if (q->irqchip)
        fprintf(out,
                "minivm: irqchip: %llu byte%s of input, %llu rising edge%s "
                "of the UART's IRQ %d\n",
                in, plural(in), (unsigned long long)q->uart_edges,
                plural(q->uart_edges), MVM_UART_IRQ);
}
