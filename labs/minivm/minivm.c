/*
 * minivm.c - minivm's driver: set-up, tear-down and the guard rails around
 * the stages. None of this is a lab; the concepts live in the stage files.
 */
#include "minivm.h"

#include <errno.h>
#include <limits.h>
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
        .log = stderr,
    };
}

void mvm_init(struct minivm *vm, const struct mvm_options *opt)
{
    *vm = (struct minivm){.kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1};
    if (opt)
        vm->opt = *opt;
    else
        mvm_options_default(&vm->opt);
}

void mvm_destroy(struct minivm *vm)
{
    int i;

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
    return 0;
}

int mvm_create_reference(struct minivm *vm)
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
    r = mvm_run(vm);
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
    if (vm->run->exit_reason == KVM_EXIT_MMIO)
        return mvm_handle_mmio(vm);
    return vl_err_plain(EIO, "unhandled exit: %s", mvm_exit_text(vm));
}

void mvm_trace_exit(struct minivm *vm)
{
    fprintf(vm->opt.log, "minivm: exit %llu: %s\n",
            (unsigned long long)vm->exits, mvm_exit_text(vm));
}

/* ---- input ----------------------------------------------------------- */

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
