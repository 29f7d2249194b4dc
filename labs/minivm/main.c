/*
 * main.c - the minivm command line.
 *
 *   minivm run GUEST.bin [--mode real|protected|long] [--mem SIZE]
 *                        [--max-exits N] [--timeout SEC] [--trace] [--regs]
 *
 * Exit status: 0 the guest halted; 1 it stopped abnormally (unhandled exit,
 * triple fault, exit limit, timeout) or KVM failed; 2 bad command line or
 * input; 3 a stage is not written yet (a lab TODO).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "minivm.h"
#include "virtlab/cleanup.h"

enum { EXIT_GUEST = 1, EXIT_USAGE = 2, EXIT_TODO = 3 };

static void usage(FILE *out)
{
    fputs("usage: minivm run GUEST.bin [options]\n"
          "\n"
          "Run a flat guest image, loaded at 0x1000 and started there,\n"
          "until it halts. Bytes it writes to port 0xe9 are printed on\n"
          "stdout.\n"
          "\n"
          "options:\n"
          "  --mode MODE      the CPU mode the guest starts in: real\n"
          "                   (default, lab 01), protected or long (lab 02)\n"
          "  --mem SIZE       guest memory (default 4M; K, M, G suffixes)\n"
          "  --max-exits N    stop a guest after N exits (default none)\n"
          "  --timeout SEC    stop a guest after SEC seconds (default 10,\n"
          "                   0 for none)\n"
          "  --trace          print every exit, decoded, on stderr\n"
          "  --regs           print the registers when the guest halts\n"
          "  -h, --help       this text\n",
          out);
}

static int fail(int status, const char *what)
{
    fprintf(stderr, "minivm: %s%s%s\n", what, *vl_errmsg() ? ": " : "",
            vl_errmsg());
    return status;
}

static int parse_args(int argc, char **argv, struct mvm_options *opt,
                      const char **guest, bool *regs)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'M'},
        {"mem", required_argument, NULL, 'm'},
        {"max-exits", required_argument, NULL, 'x'},
        {"timeout", required_argument, NULL, 't'},
        {"trace", no_argument, NULL, 'T'},
        {"regs", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'M':
            if (mvm_parse_mode(optarg, &opt->mode) < 0)
                return vl_err_ctx(-EINVAL, "--mode");
            break;
        case 'm':
            if (mvm_parse_size(optarg, &opt->mem_size) < 0)
                return vl_err_ctx(-EINVAL, "--mem");
            break;
        case 'x':
            errno = 0;
            opt->max_exits = strtoull(optarg, &end, 0);
            if (errno || *end || optarg[0] == '-')
                return vl_err_plain(EINVAL,
                                    "--max-exits takes a count, "
                                    "not \"%s\"",
                                    optarg);
            break;
        case 't':
            errno = 0;
            opt->timeout_s = (unsigned)strtoul(optarg, &end, 0);
            if (errno || *end || optarg[0] == '-')
                return vl_err_plain(EINVAL,
                                    "--timeout takes seconds, "
                                    "not \"%s\"",
                                    optarg);
            break;
        case 'T':
            opt->trace = true;
            break;
        case 'r':
            *regs = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return vl_err_plain(EINVAL, "see minivm --help");
        }
    }
    if (optind >= argc || strcmp(argv[optind], "run"))
        return vl_err_plain(EINVAL, "expected a command: minivm run "
                                    "GUEST.bin (see minivm --help)");
    if (optind + 2 != argc)
        return vl_err_plain(EINVAL, "minivm run takes exactly one guest "
                                    "image (see minivm --help)");
    *guest = argv[optind + 1];
    return 0;
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

int main(int argc, char **argv)
{
    _vl_cleanup_free_ void *image = NULL;
    struct mvm_options opt;
    struct minivm vm;
    const char *guest = NULL;
    bool regs = false;
    size_t len = 0;
    int r;

    mvm_options_default(&opt);
    opt.timeout_s = 10;
    /* Keep the guest's output and our messages in order when both go to
     * the same terminal or file. */
    setvbuf(stdout, NULL, _IONBF, 0);
    if (parse_args(argc, argv, &opt, &guest, &regs) < 0) {
        usage(stderr);
        return fail(EXIT_USAGE, "bad command line");
    }
    if (mvm_read_file(guest, &image, &len) < 0)
        return fail(EXIT_USAGE, "cannot load the guest");

    mvm_init(&vm, &opt);
    r = mvm_boot_flat(&vm, image, len);
    if (r == -EINVAL || r == -E2BIG) {
        mvm_destroy(&vm);
        return fail(EXIT_USAGE, "cannot start the guest");
    }
    if (r == 0)
        r = mvm_run_guarded(&vm);
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
    fprintf(stderr, "minivm: guest halted after %llu exit%s\n",
            (unsigned long long)vm.exits, vm.exits == 1 ? "" : "s");
    if (regs)
        vl_vcpu_fd_dump(stderr, vm.vcpu_fd);
    mvm_destroy(&vm);
    return 0;
}
