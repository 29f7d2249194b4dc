/*
 * minivm.c - minivm's driver: set-up, tear-down and the guard rails around
 * the stages. None of this is a lab; the concepts live in the stage files.
 */
#include "minivm.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/load.h"
#include "virtlab/x86.h"
#include "virtlab/x86_check.h"

void mvm_options_default(struct mvm_options *opt)
{
    *opt = (struct mvm_options){
        .mem_size = MVM_DEFAULT_MEM,
        .console = stdout,
        .input_fd = -1,
        .log = stderr,
    };
}

void mvm_init(struct minivm *vm, const struct mvm_options *opt)
{
    *vm = (struct minivm){.kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1};
    vm->irq.uart_irqfd = -1; /* lab 06: no irqfd yet */
    if (opt)
        vm->opt = *opt;
    else
        mvm_options_default(&vm->opt);
}

void mvm_destroy(struct minivm *vm)
{
    int i;

    mvm_smp_destroy(vm); /* lab 08: the vCPU threads, then the APs' fds */
    mvm_irq_destroy(vm); /* lab 06: its input thread first, then the fds */
    if (vm->run)
        munmap(vm->run, vm->run_size);
    vm->run = NULL;
    vl_close(&vm->vcpu_fd);
    /* Close the VM before unmapping its memory: while the VM lives, KVM may
     * still access the pages behind its memory slot. */
    vl_close(&vm->vm_fd);
    if (vm->mem)
        munmap(vm->mem, vm->mem_size);
    vm->mem = NULL;
    for (i = 0; i < vm->nslots; i++)
        munmap(vm->slots[i].hva, vm->slots[i].size);
    vm->nslots = 0;
    vl_close(&vm->kvm_fd);
}

int mvm_todo(const char *lab, const char *file, int step, const char *what)
{
    return vl_err_plain(ENOSYS,
                        "TODO %d in labs/%s/%s is not done yet: %s (step %d "
                        "of labs/%s/README.md)",
                        step, lab, file, what, step, lab);
}

int mvm_boot_flat(struct minivm *vm, const void *image, size_t len)
{
    int r;

    if ((r = mvm_open_kvm(vm)) < 0)
        return r;
    if ((r = mvm_create_vm(vm)) < 0)
        return vl_err_ctx(r, "creating the VM");
    /* lab 06, --irqchip: before the first vCPU */
    if (vm->opt.irqchip && (r = mvm_irq_create_irqchip(vm)) < 0)
        return vl_err_ctx(r, "creating the in-kernel irqchip");
    if ((r = mvm_add_memory(vm, vm->opt.mem_size)) < 0)
        return vl_err_ctx(r, "giving the guest %zu bytes of memory",
                          vm->opt.mem_size);
    if ((r = mvm_load_image(vm, MVM_LOAD_ADDR, image, len)) < 0)
        return vl_err_ctx(r, "loading the guest image");
    if ((r = mvm_create_vcpu(vm)) < 0)
        return vl_err_ctx(r, "creating the vCPU");
    switch (vm->opt.mode) {
    case MVM_MODE_REAL:
        if ((r = mvm_reset_vcpu(vm, MVM_LOAD_ADDR)) < 0)
            return vl_err_ctx(r, "setting up the vCPU's registers");
        break;
    case MVM_MODE_PROTECTED:
        if ((r = mvm_enter_protected(vm, MVM_LOAD_ADDR)) < 0)
            return vl_err_ctx(r, "entering protected mode");
        break;
    case MVM_MODE_LONG:
        if ((r = mvm_build_page_tables(vm)) < 0)
            return vl_err_ctx(r, "building the page tables");
        if ((r = mvm_enter_long(vm, MVM_LOAD_ADDR)) < 0)
            return vl_err_ctx(r, "entering long mode");
        break;
    }
    if ((r = mvm_setup_devices(vm)) < 0)
        return vl_err_ctx(r, "setting up the devices");
    if ((r = mvm_irq_setup(vm)) < 0) /* lab 06: --timer, --irqchip */
        return vl_err_ctx(r, "setting up interrupts");
    return 0;
}

static int create_reference(struct minivm *vm, bool irqchip)
{
    struct vl_kvm kvm;
    struct vl_vm lvm;
    struct vl_vcpu vcpu;
    void *mem;
    int r;

    /* Each fd and mapping moves into vm as soon as it exists, so
     * mvm_destroy() frees whatever was made if a later step fails. */
    if ((r = vl_kvm_open(&kvm)) < 0)
        return r;
    vm->kvm_fd = kvm.fd;
    if ((r = vl_vm_create(&lvm, &kvm)) < 0)
        return r;
    vm->vm_fd = lvm.fd;
    /* The PC's interrupt controllers and timer, in the kernel: before the
     * vCPU, which gets its local APIC when it is created (lab 06). */
    if (irqchip && (r = mvm_irqchip_create(vm)) < 0)
        return vl_err_ctx(r, "creating the in-kernel irqchip (lab 06)");
    if ((r = vl_vm_add_memory(&lvm, 0, 0, vm->opt.mem_size, 0, &mem)) < 0)
        return r;
    vm->mem = mem;
    vm->mem_size = vm->opt.mem_size;
    if ((r = vl_vcpu_create(&vcpu, &lvm, 0)) < 0)
        return r;
    vm->vcpu_fd = vcpu.fd;
    vm->run = vcpu.run;
    vm->run_size = vcpu.run_size;
    return vl_vcpu_reset_real(&vcpu, MVM_LOAD_ADDR, MVM_STACK_TOP);
}

int mvm_create_reference(struct minivm *vm)
{
    return create_reference(vm, false);
}

int mvm_create_reference_irqchip(struct minivm *vm)
{
    return create_reference(vm, true);
}

void *mvm_gpa(struct minivm *vm, uint64_t gpa, size_t len)
{
    if (!vm->mem || gpa > vm->mem_size || len > vm->mem_size - gpa) {
        vl_err_plain(EFAULT,
                     "guest-physical [0x%llx, +0x%zx) is not in "
                     "the guest's %zu bytes of memory",
                     (unsigned long long)gpa, len, vm->mem_size);
        return NULL;
    }
    return vm->mem + gpa;
}

uint64_t *mvm_pt_alloc(struct minivm *vm, uint64_t *gpa)
{
    uint64_t *page;

    if (vm->pt_next == 0)
        vm->pt_next = MVM_PT_BASE;
    if (vm->pt_next >= MVM_PT_END) {
        vl_err_plain(ENOMEM,
                     "out of page-table pages: [0x%x, 0x%x) is "
                     "used up",
                     MVM_PT_BASE, MVM_PT_END);
        return NULL;
    }
    page = mvm_gpa(vm, vm->pt_next, VL_PAGE_4K);
    if (!page)
        return NULL;
    memset(page, 0, VL_PAGE_4K);
    *gpa = vm->pt_next;
    vm->pt_next += VL_PAGE_4K;
    return page;
}

static const char *const mode_names[] = {
    [MVM_MODE_REAL] = "real",
    [MVM_MODE_PROTECTED] = "protected",
    [MVM_MODE_LONG] = "long",
};

const char *mvm_mode_name(enum mvm_mode mode)
{
    return (unsigned)mode < 3 ? mode_names[mode] : "?";
}

int mvm_parse_mode(const char *text, enum mvm_mode *mode)
{
    for (unsigned i = 0; i < 3; i++)
        if (!strcmp(text, mode_names[i])) {
            *mode = (enum mvm_mode)i;
            return 0;
        }
    return vl_err_plain(EINVAL,
                        "unknown mode \"%s\": use real, protected "
                        "or long",
                        text);
}

/* ---- the wall-clock guard --------------------------------------------
 * A guest in a loop with no I/O never exits to us, so counting exits
 * cannot stop it. A timer signal can: KVM_RUN returns EINTR when a signal
 * arrives (api.rst 4.10). If the signal lands just before KVM_RUN starts,
 * setting kvm_run.immediate_exit makes the next KVM_RUN return EINTR at
 * once, so the stop is never lost (api.rst 5, immediate_exit). */
static struct kvm_run *volatile guarded_run;
static volatile sig_atomic_t guard_fired;

static void on_guard_alarm(int sig)
{
    (void)sig;
    guard_fired = 1;
    if (guarded_run)
        guarded_run->immediate_exit = 1;
}

static void guard_set(unsigned seconds, struct kvm_run *run)
{
    struct itimerval it = {.it_value = {.tv_sec = seconds}};
    struct sigaction sa = {.sa_handler = on_guard_alarm};

    guarded_run = run;
    guard_fired = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: KVM_RUN gets EINTR */
    setitimer(ITIMER_REAL, &it, NULL);
}

static void guard_clear(void)
{
    struct itimerval off = {0};

    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    guarded_run = NULL;
}

int mvm_run_guarded(struct minivm *vm)
{
    int r;

    if (vm->opt.timeout_s && vm->run)
        guard_set(vm->opt.timeout_s, vm->run);
    /* lab 06, --timer: the run loop that injects minivm's ticks (with
     * --irqchip KVM delivers them, and lab 01's loop will do) */
    r = vm->opt.timer ? mvm_irq_run(vm) : mvm_run(vm);
    if (vm->opt.timeout_s && vm->run) {
        guard_clear();
        vm->run->immediate_exit = 0;
    }
    if (r == -EINTR && guard_fired)
        return vl_err_plain(ETIMEDOUT,
                            "guest still running after %u s (--timeout) and "
                            "%llu exits: a loop that never halts, or a loop "
                            "with no I/O? Raise --timeout if it should run "
                            "longer",
                            vm->opt.timeout_s, (unsigned long long)vm->exits);
    return r;
}

/* ---- describing exits ------------------------------------------------ */

const char *mvm_exit_text(struct minivm *vm)
{
    static __thread char line[256];
    struct kvm_regs regs = {0};

    if (!vm->run)
        return "(no vCPU)";
    /* RIP is not in kvm_run; ask KVM for it (api.rst 4.11). */
    if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
        regs.rip = 0;
    vl_exit_describe(vm->run, regs.rip, line, sizeof(line));
    return line;
}

int mvm_sregs_error(struct minivm *vm, const struct kvm_sregs *sregs)
{
    struct vl_x86_report rep;
    int r = vl_err(errno, "KVM_SET_SREGS");

    /* KVM only says EINVAL; the checker says which field is wrong. */
    vl_x86_check_state(sregs, NULL, vm->mem, vm->mem_size, &rep);
    vl_x86_report_hint(&rep);
    return r;
}

void mvm_explain_state(struct minivm *vm, FILE *out)
{
    struct vl_x86_report rep;
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    char text[4096];

    if (vm->vcpu_fd < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0 ||
        ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
        return;
    if (vl_x86_check_state(&sregs, &regs, vm->mem, vm->mem_size, &rep) < 0 ||
        rep.n == 0)
        return;
    vl_x86_report_format(&rep, text, sizeof(text));
    fprintf(out, "minivm: the vCPU state looks wrong (%s):\n%s",
            vl_x86_mode_name(&sregs), text);
}

int mvm_unhandled_exit(struct minivm *vm)
{
    struct kvm_run *run = vm->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        /* No devices yet (lab 04 not written): lab 01's behaviour. */
        if (vm->bus.ndev)
            return mvm_handle_io(vm);
        break;
    case KVM_EXIT_MMIO:
        if (vm->bus.ndev && mvm_bus_find(&vm->bus, MVM_SPACE_MMIO,
                                         run->mmio.phys_addr, run->mmio.len))
            return mvm_bus_access(vm, MVM_SPACE_MMIO, run->mmio.phys_addr,
                                  run->mmio.data, run->mmio.len,
                                  run->mmio.is_write);
        return mvm_handle_mmio(vm);
    default:
        break;
    }
    return vl_err_plain(EIO, "unhandled exit: %s", mvm_exit_text(vm));
}

/* ---- devices: the adapters between the bus and each model ------------ */

/* Move up to 4 bytes of a bus access to or from a 32-bit register value:
 * the bus carries the bytes in x86's order, little-endian. */
static uint32_t le_value(const void *data, unsigned len)
{
    uint32_t v = 0;

    memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
    return v;
}

static void le_store(void *data, unsigned len, uint32_t v)
{
    memset(data, 0, len);
    memcpy(data, &v, len < sizeof(v) ? len : sizeof(v));
}

/*
 * Host input reaches the UART's receiver when the guest looks for it (a
 * read of RBR or LSR): a polled driver reads LSR until DR is set, so that
 * is when new bytes matter. Never more than the FIFO holds, so the host
 * never causes an overrun, and nothing while the UART is in loopback (its
 * receiver is then wired to its own transmitter).
 */
static void uart_take_input(struct minivm *vm, struct mvm_uart *u)
{
    unsigned room = (u->fcr & UART_FCR_ENABLE_FIFO) ? MVM_UART_FIFO : 1;
    uint8_t buf[MVM_UART_FIFO];
    struct pollfd p = {.fd = vm->opt.input_fd, .events = POLLIN};
    ssize_t n;

    if (p.fd < 0 || vm->input_eof || (u->mcr & UART_MCR_LOOP) ||
        u->rx_count >= room)
        return;
    if (poll(&p, 1, 0) != 1)
        return;
    n = read(p.fd, buf, room - u->rx_count);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        vm->input_eof = true;
    for (ssize_t i = 0; i < n; i++)
        mvm_uart_receive(u, buf[i]);
}

/* A wide IN or OUT on the UART's ports touches consecutive registers, one
 * byte each, as on the ISA bus. */
static int uart_bus_read(struct minivm *vm, void *opaque, uint64_t offset,
                         void *data, unsigned len)
{
    struct mvm_uart *u = opaque;

    for (unsigned i = 0; i < len; i++) {
        unsigned reg = (unsigned)offset + i;

        if (reg == UART_LSR || (reg == UART_RX && !(u->lcr & UART_LCR_DLAB)))
            uart_take_input(vm, u);
        ((uint8_t *)data)[i] = mvm_uart_read(u, reg);
    }
    return MVM_CONTINUE;
}

static int uart_bus_write(struct minivm *vm, void *opaque, uint64_t offset,
                          const void *data, unsigned len)
{
    (void)vm;
    for (unsigned i = 0; i < len; i++)
        mvm_uart_write(opaque, (unsigned)offset + i,
                       ((const uint8_t *)data)[i]);
    return MVM_CONTINUE;
}

static int testdev_bus_read(struct minivm *vm, void *opaque, uint64_t offset,
                            void *data, unsigned len)
{
    uint32_t v = 0;
    int r = mvm_testdev_read(opaque, offset, len, &v);

    (void)vm;
    if (r >= 0)
        le_store(data, len, v);
    return r;
}

static int testdev_bus_write(struct minivm *vm, void *opaque, uint64_t offset,
                             const void *data, unsigned len)
{
    (void)vm;
    return mvm_testdev_write(opaque, offset, len, le_value(data, len));
}

/* virtio-mmio's registers are 32 bits wide (virtio 1.2, 4.2.2): refuse
 * any other access before the console model sees it. */
static int vcon_width(uint64_t offset, unsigned len, const char *what)
{
    if (len == 4)
        return 0;
    return vl_err_plain(EINVAL,
                        "virtio-mmio registers are 32 bits wide: a %u-byte "
                        "%s at offset 0x%llx",
                        len, what, (unsigned long long)offset);
}

static int vcon_bus_read(struct minivm *vm, void *opaque, uint64_t offset,
                         void *data, unsigned len)
{
    uint32_t v = 0;
    int r;

    if ((r = vcon_width(offset, len, "read")) < 0)
        return r;
    r = mvm_vcon_read(vm, opaque, offset, &v);
    if (r >= 0)
        le_store(data, len, v);
    return r;
}

static int vcon_bus_write(struct minivm *vm, void *opaque, uint64_t offset,
                          const void *data, unsigned len)
{
    int r = vcon_width(offset, len, "write");

    if (r < 0)
        return r;
    return mvm_vcon_write(vm, opaque, offset, le_value(data, len));
}

/* The hypercall port only takes the 32-bit OUT of the ABI. */
static int hc_bus_read(struct minivm *vm, void *opaque, uint64_t offset,
                       void *data, unsigned len)
{
    (void)vm, (void)opaque, (void)offset, (void)data, (void)len;
    return vl_err_plain(EINVAL,
                        "the hypercall port 0x%x is write-only: "
                        "make a hypercall with outl %%eax, (%%dx)",
                        MVM_HC_PORT);
}

static int hc_bus_write(struct minivm *vm, void *opaque, uint64_t offset,
                        const void *data, unsigned len)
{
    (void)opaque, (void)data;
    if (offset != 0 || len != 4)
        return vl_err_plain(EINVAL,
                            "a hypercall is a 32-bit OUT to port 0x%x "
                            "(outl %%eax, (%%dx)), not a %u-byte one to "
                            "0x%llx",
                            MVM_HC_PORT, len,
                            (unsigned long long)(MVM_HC_PORT + offset));
    return mvm_hypercall(vm);
}

int mvm_setup_devices(struct minivm *vm)
{
    const struct mvm_device devs[] = {
        {"uart", MVM_SPACE_PORT, MVM_UART_PORT, 8, uart_bus_read,
         uart_bus_write, &vm->uart},
        {"hypercall", MVM_SPACE_PORT, MVM_HC_PORT, 4, hc_bus_read, hc_bus_write,
         NULL},
        {"testdev", MVM_SPACE_MMIO, MVM_TESTDEV_ADDR, MVM_TESTDEV_LEN,
         testdev_bus_read, testdev_bus_write, &vm->testdev},
        {"virtio-console", MVM_SPACE_MMIO, MVM_VCON_ADDR, MVM_VCON_LEN,
         vcon_bus_read, vcon_bus_write, &vm->vcon},
    };
    int r;

    if (vm->mem_size > MVM_MMIO_BASE)
        return vl_err_plain(EINVAL,
                            "%zu MiB of RAM would cover minivm's device "
                            "window at 0x%llx: use --mem %lluM or less",
                            vm->mem_size >> 20,
                            (unsigned long long)MVM_MMIO_BASE,
                            (unsigned long long)MVM_MMIO_BASE >> 20);
    /* Power-on state of each device (PC16550D data sheet, table 5: LSR
     * says the transmitter is empty; QEMU also reports the modem lines
     * CTS, DSR and DCD up, as a null-modem cable would). */
    vm->uart = (struct mvm_uart){
        .lsr = UART_LSR_TEMT | UART_LSR_THRE,
        .msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS,
        .out = vm->opt.console,
    };
    vm->testdev = (struct mvm_testdev){0};
    vm->vcon = (struct mvm_vcon){.out = vm->opt.console};
    vm->bus.ndev = 0;
    for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
        r = mvm_bus_register(&vm->bus, &devs[i]);
        if (r == -ENOSYS && i == 0) {
            vl_err_clear(); /* lab 04 not written yet: no devices */
            return 0;
        }
        if (r < 0)
            return vl_err_ctx(r, "putting the %s on the bus", devs[i].name);
    }
    /* Long mode: the guest reaches physical addresses through its page
     * tables only; map the device window as it is. */
    if (vm->pt_root &&
        (r = mvm_map_page(vm, MVM_MMIO_BASE, MVM_MMIO_BASE, VL_PAGE_2M)) < 0)
        return vl_err_ctx(r, "mapping the device window");
    return 0;
}

void mvm_trace_exit(struct minivm *vm)
{
    fprintf(vm->opt.log, "minivm: exit %llu: %s\n",
            (unsigned long long)vm->exits, mvm_exit_text(vm));
}

/* ---- input ----------------------------------------------------------- */

int mvm_fail(const char *prog, int status, const char *what)
{
    fprintf(stderr, "%s: %s%s%s\n", prog, what, *vl_errmsg() ? ": " : "",
            vl_errmsg());
    return status;
}

int mvm_parse_count(const char *opt, const char *arg, uint64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoull(arg, &end, 0);
    if (errno || *end || arg[0] == '-' || end == arg)
        return vl_err_plain(EINVAL, "%s takes a number, not \"%s\"", opt, arg);
    return 0;
}

int mvm_read_file(const char *path, void **data, size_t *len)
{
    /* No cap of our own: an image larger than guest memory is refused when
     * it is loaded, with a message that says so. */
    return vl_load_file(path, 0, SIZE_MAX - 1, data, len, NULL);
}

int mvm_parse_size(const char *text, size_t *bytes)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    errno = 0;
    v = strtoull(text, &end, 0);
    if (errno || end == text || text[0] == '-')
        return vl_err_plain(EINVAL, "\"%s\" is not a size (try 2M, 640K)",
                            text);
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        break;
    }
    if (*end && strcmp(end, "iB") && strcmp(end, "B"))
        return vl_err_plain(EINVAL,
                            "\"%s\": unknown unit \"%s\" (use K, M "
                            "or G)",
                            text, end);
    if (v > (SIZE_MAX >> shift))
        return vl_err_plain(ERANGE, "\"%s\" is too large", text);
    *bytes = (size_t)(v << shift);
    return 0;
}
