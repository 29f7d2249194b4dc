/*
 * main.c - the minivm command line.
 *
 *   minivm run GUEST.bin [--mode real|protected|long] [--mem SIZE]
 *                        [--rom ADDR=FILE] [--ram ADDR=SIZE] [--dirty]
 *                        [--max-exits N] [--timeout SEC] [--trace] [--regs]
 *                        [--stats]
 *
 * Exit status: 0 the guest halted; 1 it stopped abnormally (unhandled exit,
 * triple fault, exit limit, timeout) or KVM failed; 2 bad command line or
 * input; 3 a stage is not written yet (a lab TODO); the guest's own status
 * when it stops with the exit hypercall (lab 05).
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minivm.h"
#include "virtlab/cleanup.h"
#include "virtlab/x86.h"

enum { EXIT_GUEST = 1, EXIT_USAGE = 2, EXIT_TODO = 3 };

/* A memory slot asked for on the command line (lab 03). */
struct slot_spec {
    uint64_t gpa;
    size_t size;      /* --ram */
    const char *file; /* --rom: its content */
};

struct cli {
    struct mvm_options opt;
    const char *guest;
    bool regs;  /* --regs */
    bool dirty; /* --dirty */
    bool stats; /* --stats */
    struct slot_spec slots[MVM_MAX_SLOTS];
    int nslots;
};

static void usage(FILE *out)
{
    fputs("usage: minivm run GUEST.bin [options]\n"
          "       minivm boot [--kernel FILE] ... (lab 07: see minivm boot "
          "--help)\n"
          "       minivm restore|receive|inspect ... (lab 08: see minivm "
          "restore --help)\n"
          "\n"
          "Run a flat guest image, loaded at 0x1000 and started there,\n"
          "until it halts. What it prints (port 0xe9, the UART at 0x3f8,\n"
          "the print hypercall, the virtio console) goes to stdout; the\n"
          "UART receives stdin.\n"
          "\n"
          "options:\n"
          "  --mode MODE      the CPU mode the guest starts in: real\n"
          "                   (default, lab 01), protected or long (lab 02)\n"
          "  --mem SIZE       guest RAM at 0 (default 4M; K, M, G suffixes)\n"
          "  --rom ADDR=FILE  a read-only memory slot at ADDR holding FILE\n"
          "  --ram ADDR=SIZE  more RAM at ADDR, with a dirty log (lab 03)\n"
          "  --dirty          when the guest halts, list the pages it wrote\n"
          "                   in each --ram slot\n"
          "  --max-exits N    stop a guest after N exits (default none)\n"
          "  --timeout SEC    stop a guest after SEC seconds (default 10,\n"
          "                   0 for none)\n"
          "  --trace          print every exit, decoded, on stderr\n"
          "  --regs           print the registers when the guest halts\n"
          "  --stats          count the exits per byte the guest printed\n"
          "  --timer          minivm emulates an 8254 timer (ports 0x40-0x43)\n"
          "                   and injects its IRQ 0 as vector 0x20 (lab 06)\n"
          "  --irqchip        KVM's in-kernel PICs, IOAPIC, LAPIC and 8254;\n"
          "                   stdin reaches the UART, which interrupts on\n"
          "                   IRQ 4 through an irqfd (lab 06)\n",
          out);
    fputs(MVM_SNAP_USAGE, out); /* lab 08 */
    fputs("  -h, --help       this text\n", out);
}

static int fail(int status, const char *what)
{
    return mvm_fail("minivm", status, what);
}

/* "ADDR=VALUE" for --rom and --ram. */
static int parse_slot(struct cli *c, const char *opt, const char *arg, bool rom)
{
    struct slot_spec *s = &c->slots[c->nslots];
    const char *eq = strchr(arg, '=');
    char addr[32];
    int r;

    if (c->nslots == MVM_MAX_SLOTS)
        return vl_err_plain(ENOSPC, "%s: at most %d slots", opt, MVM_MAX_SLOTS);
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(addr))
        return vl_err_plain(EINVAL, "%s takes ADDR=%s, not \"%s\"", opt,
                            rom ? "FILE" : "SIZE", arg);
    memcpy(addr, arg, (size_t)(eq - arg));
    addr[eq - arg] = '\0';
    *s = (struct slot_spec){0};
    if ((r = mvm_parse_count(opt, addr, &s->gpa)) < 0)
        return r;
    if (rom)
        s->file = eq + 1;
    else if ((r = mvm_parse_size(eq + 1, &s->size)) < 0)
        return vl_err_ctx(r, "%s", opt);
    c->nslots++;
    return 0;
}

static int parse_args(int argc, char **argv, struct cli *c)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'M'},
        {"mem", required_argument, NULL, 'm'},
        {"rom", required_argument, NULL, 'R'},
        {"ram", required_argument, NULL, 'A'},
        {"dirty", no_argument, NULL, 'd'},
        {"max-exits", required_argument, NULL, 'x'},
        {"timeout", required_argument, NULL, 't'},
        {"trace", no_argument, NULL, 'T'},
        {"regs", no_argument, NULL, 'r'},
        {"stats", no_argument, NULL, 's'},
        {"timer", no_argument, NULL, 'I'},   /* lab 06 */
        {"irqchip", no_argument, NULL, 'K'}, /* lab 06 */
        MVM_SNAP_LONGOPTS,                   /* lab 08 */
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    uint64_t n;
    int ch, r = 0;

    while (r == 0 &&
           (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'M':
            if ((r = mvm_parse_mode(optarg, &c->opt.mode)) < 0)
                r = vl_err_ctx(r, "--mode");
            break;
        case 'm':
            if ((r = mvm_parse_size(optarg, &c->opt.mem_size)) < 0)
                r = vl_err_ctx(r, "--mem");
            break;
        case 'R':
        case 'A':
            r = parse_slot(c, ch == 'R' ? "--rom" : "--ram", optarg, ch == 'R');
            break;
        case 'd':
            c->dirty = true;
            break;
        case 'x':
            r = mvm_parse_count("--max-exits", optarg, &c->opt.max_exits);
            break;
        case 't':
            if ((r = mvm_parse_count("--timeout", optarg, &n)) == 0)
                c->opt.timeout_s = (unsigned)n;
            break;
        case 'T':
            c->opt.trace = true;
            break;
        case 'r':
            c->regs = true;
            break;
        case 's':
            c->stats = true;
            break;
        case 'I':
            c->opt.timer = true;
            break;
        case 'K':
            c->opt.irqchip = true;
            break;
        case MVM_OPT_SMP ... MVM_OPT_LAST: /* lab 08 */
            r = mvm_snap_option(&c->opt, ch, optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            r = vl_err_plain(EINVAL, "see minivm --help");
        }
    }
    if (r < 0)
        return r;
    if (optind >= argc || strcmp(argv[optind], "run"))
        return vl_err_plain(EINVAL, "expected a command: minivm run "
                                    "GUEST.bin (see minivm --help)");
    if (optind + 2 != argc)
        return vl_err_plain(EINVAL, "minivm run takes exactly one guest "
                                    "image (see minivm --help)");
    c->guest = argv[optind + 1];
    return 0;
}

/* Add the --rom and --ram slots (lab 03's mvm_add_slot()). */
static int add_slots(struct minivm *vm, const struct cli *c)
{
    for (int i = 0; i < c->nslots; i++) {
        const struct slot_spec *s = &c->slots[i];
        _vl_cleanup_free_ void *data = NULL;
        size_t len = s->size;
        uint8_t *where;
        int r;

        if (s->file && (r = mvm_read_file(s->file, &data, &len)) < 0)
            return vl_err_ctx(r, "--rom");
        if (s->gpa < MVM_MMIO_BASE + MVM_MMIO_SIZE &&
            s->gpa + len > MVM_MMIO_BASE)
            return vl_err_plain(
                EEXIST,
                "%s at 0x%llx overlaps minivm's device window "
                "[0x%llx, 0x%llx)",
                s->file ? "--rom" : "--ram", (unsigned long long)s->gpa,
                (unsigned long long)MVM_MMIO_BASE,
                (unsigned long long)(MVM_MMIO_BASE + MVM_MMIO_SIZE));
        r = mvm_add_slot(vm, s->gpa, (len + VL_PAGE_4K - 1) & ~(VL_PAGE_4K - 1),
                         s->file ? KVM_MEM_READONLY : KVM_MEM_LOG_DIRTY_PAGES);
        if (r < 0)
            return vl_err_ctx(r, "%s at 0x%llx", s->file ? "--rom" : "--ram",
                              (unsigned long long)s->gpa);
        if (data && len && (where = mvm_guest_ptr(vm, s->gpa, len)))
            memcpy(where, data, len);
    }
    return 0;
}

/* --dirty: the pages the guest wrote in each dirty-logged slot. */
static void print_dirty(struct minivm *vm)
{
    uint64_t gpas[64];

    for (int i = 0; i < vm->nslots; i++) {
        const struct mvm_slot *s = &vm->slots[i];
        int n;

        if (!(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
            continue;
        n = mvm_dirty_pages(vm, s->slot, gpas, 64);
        if (n < 0) {
            fprintf(stderr, "minivm: slot %u: %s\n", s->slot, vl_errmsg());
            continue;
        }
        fprintf(stderr, "minivm: slot %u at 0x%llx: %d dirty page%s", s->slot,
                (unsigned long long)s->gpa, n, n == 1 ? "" : "s");
        for (int j = 0; j < n && j < 64; j++)
            fprintf(stderr, " 0x%llx", (unsigned long long)gpas[j]);
        fprintf(stderr, "%s\n", n > 64 ? " ..." : "");
    }
}

/* After an abnormal stop, say what KVM reported and show the vCPU. */
static void explain_stop(struct minivm *vm)
{
    char why[2048];

    if (!vm->run)
        return;
    if (vl_exit_explain(vm->run, why, sizeof(why)) > 0)
        fprintf(stderr, "minivm: %s\n", why);
    fprintf(stderr, "minivm: vCPU state at the stop:\n");
    vl_vcpu_fd_dump(stderr, vm->vcpu_fd);
    mvm_explain_state(vm, stderr);
}

/*
 * The guest's console, counted: --stats divides the exits by the bytes
 * the guest printed, whichever device printed them (lab 05 compares the
 * UART with the virtqueue this way).
 */
static uint64_t printed;
static FILE *console_out;

static ssize_t count_write(void *cookie, const char *buf, size_t len)
{
    size_t done = 0;

    (void)cookie;
    while (done < len) {
        ssize_t n = write(STDOUT_FILENO, buf + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)n;
    }
    printed += len;
    return (ssize_t)len;
}

static FILE *counting_stdout(void)
{
    FILE *f = fopencookie(NULL, "w",
                          (cookie_io_functions_t){
                              .write = count_write,
                          });

    if (f)
        setvbuf(f, NULL, _IONBF, 0);
    return f ? f : stdout;
}

static void report_halt(struct minivm *vm, const struct cli *c)
{
    if (vm->exited)
        fprintf(stderr,
                "minivm: guest exited with status %d after %llu "
                "exit%s\n",
                vm->exit_status, (unsigned long long)vm->exits,
                vm->exits == 1 ? "" : "s");
    else
        fprintf(stderr, "minivm: guest halted after %llu exit%s\n",
                (unsigned long long)vm->exits, vm->exits == 1 ? "" : "s");
    if (c->stats)
        fprintf(stderr,
                "minivm: %llu byte%s printed with %llu exits: %.3f exits "
                "per byte\n",
                (unsigned long long)printed, printed == 1 ? "" : "s",
                (unsigned long long)vm->exits,
                printed ? (double)vm->exits / (double)printed : 0.0);
    if (c->stats)
        mvm_irq_report(vm, stderr); /* lab 06 */
    if (vm->rom_writes)
        fprintf(stderr, "minivm: %llu write%s to ROM ignored\n",
                (unsigned long long)vm->rom_writes,
                vm->rom_writes == 1 ? "" : "s");
    if (c->dirty)
        print_dirty(vm);
    if (c->regs)
        vl_vcpu_fd_dump(stderr, vm->vcpu_fd);
}

int main(int argc, char **argv)
{
    _vl_cleanup_free_ void *image = NULL;
    struct cli c = {0};
    struct minivm vm;
    size_t len = 0;
    int r;

    /* lab 07: `minivm boot` (labs/minivm/boot_main.c) */
    if (argc > 1 && !strcmp(argv[1], "boot"))
        return mvm_main_boot(argc - 1, argv + 1);
    /* lab 08: `minivm restore|receive|inspect` (labs/minivm/snap_main.c) */
    if (argc > 1 && mvm_snap_command(argv[1]))
        return mvm_main_snap(argc - 1, argv + 1);

    mvm_options_default(&c.opt);
    c.opt.timeout_s = 10;
    /* Keep the guest's output and our messages in order when both go to
     * the same terminal or file. */
    setvbuf(stdout, NULL, _IONBF, 0);
    c.opt.console = console_out = counting_stdout();
    c.opt.input_fd = STDIN_FILENO;
    if (parse_args(argc, argv, &c) < 0) {
        usage(stderr);
        return fail(EXIT_USAGE, "bad command line");
    }
    if (mvm_read_file(c.guest, &image, &len) < 0)
        return fail(EXIT_USAGE, "cannot load the guest");

    mvm_init(&vm, &c.opt);
    r = mvm_boot_flat(&vm, image, len);
    if (r == 0)
        r = add_slots(&vm, &c);
    if (r == 0) /* lab 08: options that must go together */
        r = mvm_snap_check(&vm.opt);
    if (r == -EINVAL || r == -E2BIG || r == -EEXIST || r == -ENOENT) {
        mvm_destroy(&vm);
        return fail(EXIT_USAGE, "cannot start the guest");
    }
    if (r == 0) /* lab 08's run with --smp, --snapshot, --migrate-to */
        r = mvm_snap_run(&vm); /* ... else mvm_run_guarded() */
    if (r == -ENOSYS) {
        mvm_destroy(&vm);
        return fail(EXIT_TODO, "stopped");
    }
    if (r < 0) {
        fail(EXIT_GUEST, "guest stopped");
        explain_stop(&vm);
        mvm_destroy(&vm);
        return EXIT_GUEST;
    }
    if (!vm.smp.moved) /* lab 08: saved, or migrated elsewhere */
        report_halt(&vm, &c);
    mvm_destroy(&vm);
    return vm.exited ? vm.exit_status : 0;
}
