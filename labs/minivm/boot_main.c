/*
 * boot_main.c - `minivm boot`: boot a Linux kernel (lab 07).
 *
 *   minivm boot [--kernel FILE] [--initrd FILE] [--append "..."]
 *               [--mem SIZE] [--timeout SEC] [--max-exits N] [--no-acpi]
 *               [--trace]
 *
 * Exit status: 0 the guest powered off (ACPI S5); 4 it reset the machine
 * (the keyboard controller's reset, or a triple fault); 1 it stopped
 * otherwise (an exit minivm cannot handle, --timeout, --max-exits) or KVM
 * failed; 2 bad command line, or a kernel or initrd minivm cannot boot;
 * 3 a stage is not written yet (a lab TODO); the guest's own status when
 * it stops with lab 05's exit hypercall.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "minivm.h"
#include "virtlab/cleanup.h"
#include "virtlab/kvm.h"

enum {
    BOOT_POWEROFF = 0,
    BOOT_STOPPED = 1,
    BOOT_USAGE = 2,
    BOOT_TODO = 3,
    BOOT_RESET = 4,
};

struct boot_cli {
    struct mvm_options opt;
    const char *kernel; /* NULL: the host's /boot/vmlinuz-$(uname -r) */
    const char *initrd;
    const char *append;
    bool acpi;
    char host_kernel[300];
};

static void boot_usage(FILE *out)
{
    fputs("usage: minivm boot [--kernel FILE] [options]\n"
          "\n"
          "Boot a Linux kernel - a bzImage or an uncompressed ELF vmlinux,\n"
          "told apart by their content - through the x86 boot protocol's\n"
          "64-bit entry (lab 07). The console is the UART (COM1, ttyS0):\n"
          "what the kernel prints goes to stdout, stdin goes to the UART.\n"
          "\n"
          "options:\n"
          "  --kernel FILE    the kernel (default: the host's\n"
          "                   /boot/vmlinuz-$(uname -r), if readable;\n"
          "                   `make kernel` gets Debian's into build/kernel)\n"
          "  --initrd FILE    an initial RAM disk (a cpio archive)\n"
          "  --append TEXT    the kernel command line (default:\n"
          "                   \"" MVM_BOOT_DEFAULT_APPEND "\")\n"
          "  --mem SIZE       guest RAM (default 256M; K, M, G suffixes)\n"
          "  --timeout SEC    stop the guest after SEC seconds (default 0,\n"
          "                   none)\n"
          "  --max-exits N    stop the guest after N exits (default none)\n"
          "  --no-acpi        no ACPI tables (then Linux cannot power off)\n"
          "  --trace          print every exit, decoded, on stderr\n"
          "  -h, --help       this text\n"
          "\n"
          "exit status: 0 the guest powered off; 4 it reset (reboot);\n"
          "1 it stopped otherwise (timeout, exit limit, an error); 2 bad\n"
          "command line or kernel; 3 a lab TODO is not done yet.\n",
          out);
}

static int boot_fail(int status, const char *what)
{
    return mvm_fail("minivm boot", status, what);
}

/* The host's own kernel, as kvmtool picks it when given none. */
static int host_kernel(struct boot_cli *c)
{
    struct utsname u;

    if (uname(&u) < 0)
        return vl_err(errno, "uname");
    snprintf(c->host_kernel, sizeof(c->host_kernel), "/boot/vmlinuz-%s",
             u.release);
    if (access(c->host_kernel, R_OK) < 0)
        return vl_err_plain(ENOENT,
                            "no --kernel, and the host's kernel %s is not "
                            "readable (%s): give --kernel FILE, or run `make "
                            "kernel` and use build/kernel/vmlinux",
                            c->host_kernel, strerror(errno));
    c->kernel = c->host_kernel;
    return 0;
}

static int boot_parse(int argc, char **argv, struct boot_cli *c)
{
    static const struct option longopts[] = {
        {"kernel", required_argument, NULL, 'k'},
        {"initrd", required_argument, NULL, 'i'},
        {"append", required_argument, NULL, 'a'},
        {"mem", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'},
        {"max-exits", required_argument, NULL, 'x'},
        {"no-acpi", no_argument, NULL, 'n'},
        {"trace", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    uint64_t n;
    int ch, r = 0;

    optind = 1;
    while (r == 0 &&
           (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k':
            c->kernel = optarg;
            break;
        case 'i':
            c->initrd = optarg;
            break;
        case 'a':
            c->append = optarg;
            break;
        case 'm':
            if ((r = mvm_parse_size(optarg, &c->opt.mem_size)) < 0)
                r = vl_err_ctx(r, "--mem");
            break;
        case 't':
            if ((r = mvm_parse_count("--timeout", optarg, &n)) == 0)
                c->opt.timeout_s = (unsigned)n;
            break;
        case 'x':
            r = mvm_parse_count("--max-exits", optarg, &c->opt.max_exits);
            break;
        case 'n':
            c->acpi = false;
            break;
        case 'T':
            c->opt.trace = true;
            break;
        case 'h':
            boot_usage(stdout);
            exit(0);
        default:
            r = vl_err_plain(EINVAL, "see minivm boot --help");
        }
    }
    if (r < 0)
        return r;
    if (optind != argc)
        return vl_err_plain(EINVAL,
                            "minivm boot takes no argument \"%s\": the kernel "
                            "is --kernel FILE",
                            argv[optind]);
    return 0;
}

/* The VM's first steps with the student's own lab 01 and lab 06. */
static int boot_create(struct minivm *vm)
{
    int r;

    if ((r = mvm_open_kvm(vm)) < 0)
        return r;
    if ((r = mvm_create_vm(vm)) < 0)
        return vl_err_ctx(r, "creating the VM");
    if ((r = mvm_irqchip_create(vm)) < 0)
        return vl_err_ctx(r, "creating the in-kernel irqchip");
    if ((r = mvm_add_memory(vm, vm->opt.mem_size)) < 0)
        return vl_err_ctx(r, "giving the guest %zu MiB of memory",
                          vm->opt.mem_size >> 20);
    if ((r = mvm_create_vcpu(vm)) < 0)
        return vl_err_ctx(r, "creating the vCPU");
    return 0;
}

static void boot_banner(const struct minivm *vm, const struct boot_cli *c,
                        const char *cmdline)
{
    const struct mvm_kernel *k = &vm->kernel;

    fprintf(stderr,
            "minivm: booting %s %s: %zu MiB, loaded at 0x%llx, "
            "entry 0x%llx",
            mvm_kernel_format_name(k->format), c->kernel, vm->mem_size >> 20,
            (unsigned long long)k->load_addr, (unsigned long long)k->entry);
    if (k->format == MVM_KERNEL_BZIMAGE)
        fprintf(stderr, ", protocol %u.%02u", k->hdr.version >> 8,
                k->hdr.version & 0xff);
    if (k->pvh_entry)
        fprintf(stderr, " (PVH entry 0x%llx not used)",
                (unsigned long long)k->pvh_entry);
    fputc('\n', stderr);
    if (k->initrd_size)
        fprintf(stderr, "minivm: initrd %s: %llu bytes at 0x%llx\n", c->initrd,
                (unsigned long long)k->initrd_size,
                (unsigned long long)k->initrd_addr);
    fprintf(stderr, "minivm: command line: %s\n", cmdline);
}

static int boot_status(struct minivm *vm, int r)
{
    if (r == -ENOSYS)
        return boot_fail(BOOT_TODO, "stopped");
    if (r < 0 && vm->run && vm->run->exit_reason == KVM_EXIT_SHUTDOWN) {
        /* A triple fault: on a PC the CPU then resets, the last way
         * Linux's reboot tries (BOOT_TRIPLE). */
        vl_err_clear();
        vm->kernel.power = MVM_POWER_RESET;
        r = 0;
    }
    if (r < 0) {
        boot_fail(BOOT_STOPPED, "guest stopped");
        return BOOT_STOPPED;
    }
    switch (vm->kernel.power) {
    case MVM_POWER_OFF:
        fprintf(stderr, "minivm: the guest powered off after %llu exits\n",
                (unsigned long long)vm->exits);
        return BOOT_POWEROFF;
    case MVM_POWER_RESET:
        fprintf(stderr,
                "minivm: the guest reset the machine (reboot) after "
                "%llu exits\n",
                (unsigned long long)vm->exits);
        return BOOT_RESET;
    case MVM_POWER_ON:
        break;
    }
    if (vm->exited) {
        fprintf(stderr, "minivm: guest exited with status %d\n",
                vm->exit_status);
        return vm->exit_status;
    }
    fprintf(stderr, "minivm: the guest halted after %llu exits\n",
            (unsigned long long)vm->exits);
    return BOOT_STOPPED;
}

int mvm_main_boot(int argc, char **argv)
{
    _vl_cleanup_free_ void *kernel = NULL;
    _vl_cleanup_free_ void *initrd = NULL;
    struct boot_cli c = {.acpi = true};
    struct mvm_boot_spec spec;
    struct minivm vm;
    size_t klen = 0, ilen = 0;
    int r, status;

    mvm_options_default(&c.opt);
    c.opt.mem_size = MVM_BOOT_DEF_MEM;
    setvbuf(stdout, NULL, _IONBF, 0);
    c.opt.input_fd = STDIN_FILENO;
    if (boot_parse(argc, argv, &c) < 0) {
        boot_usage(stderr);
        return boot_fail(BOOT_USAGE, "bad command line");
    }
    if (!c.kernel && host_kernel(&c) < 0)
        return boot_fail(BOOT_USAGE, "no kernel to boot");
    if (mvm_read_file(c.kernel, &kernel, &klen) < 0)
        return boot_fail(BOOT_USAGE, "cannot read the kernel");
    if (c.initrd && mvm_read_file(c.initrd, &initrd, &ilen) < 0)
        return boot_fail(BOOT_USAGE, "cannot read the initrd");
    spec = (struct mvm_boot_spec){
        .kernel = kernel,
        .kernel_len = klen,
        .initrd = c.initrd ? initrd : NULL,
        .initrd_len = ilen,
        .cmdline = c.append ? c.append : MVM_BOOT_DEFAULT_APPEND,
        .acpi = c.acpi,
    };

    mvm_init(&vm, &c.opt);
    r = boot_create(&vm);
    if (r == 0)
        r = mvm_boot_linux(&vm, &spec);
    if (r == -ENOEXEC || r == -EPROTONOSUPPORT || r == -E2BIG || r == -EINVAL) {
        mvm_destroy(&vm);
        return boot_fail(BOOT_USAGE, "cannot boot this kernel");
    }
    if (r == 0) {
        boot_banner(&vm, &c, spec.cmdline);
        r = mvm_run_guarded(&vm);
    }
    status = boot_status(&vm, r);
    mvm_destroy(&vm);
    return status;
}
