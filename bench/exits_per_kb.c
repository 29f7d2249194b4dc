/*
 * exits_per_kb.c - how many VM exits printing costs: lab 04's emulated
 * 16550 UART against lab 05's virtqueue console, per KiB printed.
 *
 * Two long-mode guests of labs/05-paravirt/guest/ print the same BULK_LEN
 * (4096) bytes:
 *
 *   pv_bulk_uart  through the UART with lab 04's polled driver: per byte
 *                 a read of LSR and a write of THR, two port-I/O exits;
 *   pv_bulk_vq    through the virtio console: the driver's set-up (MMIO
 *                 register accesses), a few chains in shared memory, one
 *                 notification (one MMIO exit) for all of them.
 *
 * Each runs under minivm as the lab tests boot it (libvirtlab makes the
 * VM, lab 02 the page tables and long mode, mvm_setup_devices() the bus),
 * with the console captured, and vm.exits counted. The result is the
 * exits per KiB of each and the ratio virtqueue / UART.
 *
 * Exits are counts, not times: the same guest takes the same exits on any
 * machine, fast or slow, so one run of each is the measurement (--rounds
 * runs more and checks that they agree). Both guests must print the same
 * non-empty text, and exit cleanly; otherwise the benchmark fails.
 *
 * Exit status: 0 within the goal, 1 over it, 2 on a usage or setup error
 * or a guest that misbehaves, 77 (the automake "skipped" code) when
 * /dev/kvm cannot be used here.
 */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivm.h"
#include "virtlab/error.h"
#include "virtlab/kvm.h"

#include "common/ratio.h"

/* Where the stage files come from: the Makefile's STAGES. */
#ifndef BENCH_STAGES
#define BENCH_STAGES "solutions"
#endif
/* Where the Makefile built the guests. */
#ifndef BENCH_GUEST_DIR
#define BENCH_GUEST_DIR "build/bench/guest"
#endif

#define GOAL_RATIO 0.05 /* the virtqueue: at most 1/20 of the UART's exits */

#define GUEST_MEM_SIZE (4u << 20) /* MVM_LONG_MIN_MEM */
#define MAX_EXITS      100000     /* the UART needs ~2 per byte: 8 Ki */
#define TIMEOUT_S      120        /* ~14 us per exit here: about 0.2 s */
#define MAX_ROUNDS     100

enum { UART, VQ, NGUESTS };

static const char *const guest_names[NGUESTS] = {
    [UART] = "pv_bulk_uart",
    [VQ] = "pv_bulk_vq",
};

/* One run of one guest. */
struct result {
    uint64_t exits;
    char *text; /* what it printed (malloc()ed) */
    size_t len;
    double ms; /* wall-clock, for context only */
};

static void result_free(struct result *res)
{
    free(res->text);
    *res = (struct result){0};
}

/*
 * `image` loaded and the vCPU in long mode, as the lab tests boot a C
 * guest (mvm_test.h, boot_long_guest_file()): libvirtlab makes the VM
 * (lab 01's reference), lab 02 the page tables and long mode, lab 04's
 * bus takes the devices.
 */
static int boot_long(struct minivm *vm, const char *name, const void *image,
                     size_t len)
{
    void *where;
    int r;

    if ((r = mvm_create_reference(vm)) < 0)
        return r;
    if (!(where = mvm_gpa(vm, MVM_LOAD_ADDR, len)))
        return vl_err_ctx(-EFAULT, "loading %s", name);
    memcpy(where, image, len);
    if ((r = mvm_build_page_tables(vm)) < 0)
        return vl_err_ctx(r, "building the page tables (lab 02, %s)",
                          BENCH_STAGES);
    if ((r = mvm_enter_long(vm, MVM_LOAD_ADDR)) < 0)
        return vl_err_ctx(r, "entering long mode (lab 02, %s)", BENCH_STAGES);
    if ((r = mvm_setup_devices(vm)) < 0)
        return vl_err_ctx(r, "putting the devices on the bus (lab 04, %s)",
                          BENCH_STAGES);
    return 0;
}

/* Run one guest to its HLT, its console captured in res->text. */
static int run_guest(const char *name, const void *image, size_t len,
                     struct result *res)
{
    struct minivm vm;
    struct mvm_options opt;
    double t0;
    int r;

    *res = (struct result){0};
    mvm_options_default(&opt);
    opt.mode = MVM_MODE_LONG;
    opt.mem_size = GUEST_MEM_SIZE;
    opt.max_exits = MAX_EXITS;
    opt.timeout_s = TIMEOUT_S;
    opt.console = open_memstream(&res->text, &res->len);
    if (!opt.console)
        return vl_err(errno, "open_memstream");
    mvm_init(&vm, &opt); /* every fd -1: safe to destroy from here on */

    r = boot_long(&vm, name, image, len);
    if (r == 0) {
        t0 = ratio_now_ns();
        r = mvm_run_guarded(&vm);
        res->ms = (ratio_now_ns() - t0) / 1e6;
        if (r < 0)
            r = vl_err_ctx(r, "running %s (%s) after %llu exits", name,
                           BENCH_STAGES, (unsigned long long)vm.exits);
    }
    if (r >= 0 && vm.exited && vm.exit_status != 0)
        r = vl_err_plain(EPROTO, "%s exited with status %d", name,
                         vm.exit_status);
    res->exits = vm.exits;
    mvm_destroy(&vm);
    /* Closing the stream leaves the text in res->text. */
    if (fclose(opt.console) != 0 && r >= 0)
        r = vl_err(errno, "capturing the console");
    return r < 0 ? r : 0;
}

/* ---- the command line ----------------------------------------------- */

struct opts {
    long rounds;
    bool verbose;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: exits_per_kb [--rounds R] [--verbose]\n"
            "  --rounds R  runs of each guest (default 1: exits are counts, "
            "the same\n"
            "              every run; more runs check that)\n"
            "  --verbose   print every run\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
    const struct option longopts[] = {
        {"rounds", required_argument, NULL, 'r'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    char *end;
    int c;

    *o = (struct opts){.rounds = 1};
    while ((c = getopt_long(argc, argv, "r:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            errno = 0;
            o->rounds = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || o->rounds < 1 ||
                o->rounds > MAX_ROUNDS) {
                fprintf(stderr,
                        "exits_per_kb: --rounds wants a whole number from 1 "
                        "to %d, not \"%s\"\n",
                        MAX_ROUNDS, optarg);
                return -EINVAL;
            }
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

/* ---- measuring ------------------------------------------------------ */

struct bench {
    void *image[NGUESTS];
    size_t len[NGUESTS];
    struct result res[NGUESTS]; /* the first round */
};

static void bench_free(struct bench *b)
{
    for (int g = 0; g < NGUESTS; g++) {
        free(b->image[g]);
        result_free(&b->res[g]);
    }
}

static int load_guests(struct bench *b)
{
    char path[512];
    int r;

    for (int g = 0; g < NGUESTS; g++) {
        snprintf(path, sizeof(path), "%s/%s.bin", BENCH_GUEST_DIR,
                 guest_names[g]);
        if ((r = mvm_read_file(path, &b->image[g], &b->len[g])) < 0)
            return vl_err_ctx(r, "loading the guest (make -C bench builds it)");
    }
    return 0;
}

/* Each guest once per round; later rounds must repeat the first. */
static int measure(struct bench *b, const struct opts *o)
{
    for (long round = 0; round < o->rounds; round++) {
        for (int g = 0; g < NGUESTS; g++) {
            struct result res __attribute__((cleanup(result_free)));
            struct result *first = &b->res[g];
            int r = run_guest(guest_names[g], b->image[g], b->len[g], &res);

            if (r < 0)
                return r;
            if (o->verbose)
                printf("  round %ld: %-12s %6llu exits, %5zu bytes printed, "
                       "%.0f ms\n",
                       round + 1, guest_names[g], (unsigned long long)res.exits,
                       res.len, res.ms);
            if (round == 0) {
                *first = res;
                res = (struct result){0}; /* kept: not freed */
            } else if (res.exits != first->exits || res.len != first->len) {
                return vl_err_plain(
                    EPROTO,
                    "%s took %llu exits for %zu bytes in "
                    "round %ld, %llu for %zu in round 1: "
                    "the same guest should take the same "
                    "exits",
                    guest_names[g], (unsigned long long)res.exits, res.len,
                    round + 1, (unsigned long long)first->exits, first->len);
            }
        }
    }
    return 0;
}

/* Both guests printed the same text, and something. */
static int check_output(const struct bench *b)
{
    const struct result *u = &b->res[UART], *v = &b->res[VQ];

    if (u->len == 0)
        return vl_err_plain(EPROTO, "%s printed nothing", guest_names[UART]);
    if (u->len != v->len || memcmp(u->text, v->text, u->len) != 0)
        return vl_err_plain(EPROTO,
                            "%s printed %zu bytes and %s %zu, not the same "
                            "text: the two must print the same to compare",
                            guest_names[UART], u->len, guest_names[VQ], v->len);
    return 0;
}

static double per_kib(const struct result *res)
{
    return (double)res->exits * 1024.0 / (double)res->len;
}

static int report(const struct bench *b, const struct opts *o)
{
    const struct result *u = &b->res[UART], *v = &b->res[VQ];
    double ratio = per_kib(v) / per_kib(u);
    bool ok = ratio <= GOAL_RATIO;

    printf("exits per KiB printed: UART (%s) %.1f, virtqueue (%s) %.1f, "
           "ratio %.4f (goal <= %.2f): %s\n",
           BENCH_STAGES, per_kib(u), BENCH_STAGES, per_kib(v), ratio,
           GOAL_RATIO, ok ? "OK" : "OVER GOAL");
    printf("  %zu bytes each (the same text); UART %llu exits (%.2f per "
           "byte), virtqueue %llu exits; %ld run%s of each, exits counted, "
           "not timed\n",
           u->len, (unsigned long long)u->exits,
           (double)u->exits / (double)u->len, (unsigned long long)v->exits,
           o->rounds, o->rounds == 1 ? "" : "s");
    return ok ? 0 : RATIO_EXIT_OVER;
}

int main(int argc, char **argv)
{
    struct bench b __attribute__((cleanup(bench_free))) = {0};
    struct vl_kvm kvm;
    struct opts o;
    int r;

    if (parse(argc, argv, &o) < 0)
        return RATIO_EXIT_ERROR;
    if (vl_kvm_open(&kvm) < 0) {
        ratio_skip_no_kvm();
        return RATIO_EXIT_SKIP;
    }
    vl_kvm_close(&kvm);
    r = load_guests(&b);
    if (r == 0)
        r = measure(&b, &o);
    if (r == 0)
        r = check_output(&b);
    if (r < 0) {
        fprintf(stderr, "exits_per_kb: %s\n", vl_errmsg());
        return RATIO_EXIT_ERROR;
    }
    return report(&b, &o);
}
