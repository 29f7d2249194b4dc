/*
 * exit_cost.c - what one port-I/O exit costs through libvirtlab's run loop,
 * against a bare ioctl(KVM_RUN) loop on the same guest in the same run.
 *
 * The guest is an endless loop of `out %al, $0xf0`: every KVM_RUN enters
 * the guest, executes one OUT, and comes back to user space with
 * KVM_EXIT_IO (api.rst 4.10 "KVM_RUN" and 5. "The kvm_run structure").
 * Each exit is timed two ways on the same vCPU:
 *
 *   bare        ioctl(vcpu_fd, KVM_RUN, 0), then check run->exit_reason;
 *   libvirtlab  vl_vcpu_run(vcpu), then the same check.
 *
 * Host speed varies too much (8-15 us per exit on an emulating nested KVM,
 * about 1 us on hardware) for an absolute number to mean anything, so the
 * result is the ratio libvirtlab / bare, measured in one run. The exits are
 * timed in short slices (10 exits by default) that alternate between the two
 * loops (A B B A A B ...), so any drift or burst of load in the host lands on
 * both loops alike; each loop's cost is its median slice, which drops the
 * slices a timer interrupt or another process happened to hit. Timing whole
 * rounds of 20,000 exits instead swings by +-20% on a shared machine, far
 * more than the few nanoseconds the library adds.
 *
 * Exit status: 0 within the goal, 1 over it, 2 on a usage or setup error,
 * 77 (the automake "skipped" code) when /dev/kvm cannot be used here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "virtlab/error.h"
#include "virtlab/kvm.h"
#include "virtlab/kvm_exit.h"

#define GOAL_RATIO 1.05 /* libvirtlab may cost at most 5% more per exit */

#define DEFAULT_EXITS  20000 /* per loop per round: ~0.3 s at 15 us/exit */
#define DEFAULT_ROUNDS 5
#define DEFAULT_SLICE  10   /* exits per timed slice */
#define WARMUP_EXITS   2000 /* per loop, before the first timed slice */
#define MAX_ROUNDS     1000
#define MAX_EXITS      100000000L

#define EXIT_SKIP  77 /* automake's "test skipped" */
#define EXIT_ERROR 2

#define GUEST_MEM_SLOT 0
#define GUEST_MEM_GPA  0x0
#define GUEST_MEM_SIZE 0x10000 /* 64 KiB: all a real-mode segment can see */
#define GUEST_ENTRY    0x1000
#define GUEST_STACK    0x8000 /* unused by the guest, but somewhere sane */
#define BENCH_PORT     0xf0

/*
 * The guest, 16-bit real mode, loaded at GUEST_ENTRY (0x1000). Each pass
 * through the loop is one OUT, so one KVM_EXIT_IO per KVM_RUN; KVM resumes
 * after the OUT on the next KVM_RUN (api.rst 5., KVM_EXIT_IO).
 */
static const uint8_t guest_code[] = {
    0xb0, 0x00,       /* 0x1000: mov  $0x0, %al                     */
    0xe6, BENCH_PORT, /* 0x1002: out  %al, $0xf0  -> KVM_EXIT_IO    */
    0xeb, 0xfc,       /* 0x1004: jmp  0x1002      (rel8 -4 from 0x1006) */
};

/* ---- the VM under test ---------------------------------------------- */

struct bench {
    struct vl_kvm kvm;
    struct vl_vm vm;
    struct vl_vcpu vcpu;
};

/* Every fd -1, so bench_destroy() works on a half-built bench. */
#define BENCH_INIT                                                             \
    {                                                                          \
        .kvm = {.fd = -1}, .vm = {.fd = -1}, .vcpu = {.fd = -1},               \
    }

/* Destroy functions accept half-built objects: vCPU, then VM, then KVM. */
static void bench_destroy(struct bench *b)
{
    vl_vcpu_destroy(&b->vcpu);
    vl_vm_destroy(&b->vm);
    vl_kvm_close(&b->kvm);
}

/* One VM, 64 KiB of RAM holding the guest, one vCPU in real mode. */
static int bench_setup(struct bench *b)
{
    int r;

    r = vl_vm_create(&b->vm, &b->kvm);
    if (r < 0)
        return r;
    r = vl_vm_add_memory(&b->vm, GUEST_MEM_SLOT, GUEST_MEM_GPA, GUEST_MEM_SIZE,
                         0, NULL);
    if (r < 0)
        return r;
    r = vl_vm_write(&b->vm, GUEST_ENTRY, guest_code, sizeof(guest_code));
    if (r < 0)
        return vl_err_ctx(r, "loading the guest");
    r = vl_vcpu_create(&b->vcpu, &b->vm, 0);
    if (r < 0)
        return r;
    return vl_vcpu_reset_real(&b->vcpu, GUEST_ENTRY, GUEST_STACK);
}

/* ---- the two loops -------------------------------------------------- */

/* The exit the guest makes each time: an OUT to BENCH_PORT. */
static inline bool is_bench_exit(const struct kvm_run *run, uint32_t reason)
{
    return reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
           run->io.port == BENCH_PORT;
}

static int unexpected_exit(const struct kvm_run *run, uint32_t reason)
{
    char why[512];

    vl_exit_explain(run, why, sizeof(why));
    return vl_err_plain(EPROTO, "expected an OUT to port 0x%x, got %s%s%s",
                        BENCH_PORT, vl_exit_reason_name(reason),
                        why[0] ? "\n" : "", why);
}

/* Baseline: what a VMM written against the raw API does per exit. */
static int loop_bare(struct vl_vcpu *vcpu, long n)
{
    struct kvm_run *run = vcpu->run;
    int fd = vcpu->fd;

    for (long i = 0; i < n; i++) {
        if (ioctl(fd, KVM_RUN, 0) < 0)
            return vl_err(errno, "KVM_RUN failed");
        if (!is_bench_exit(run, run->exit_reason))
            return unexpected_exit(run, run->exit_reason);
    }
    return 0;
}

/* Measured: the same exits through the library's run call. */
static int loop_libvirtlab(struct vl_vcpu *vcpu, long n)
{
    for (long i = 0; i < n; i++) {
        int r = vl_vcpu_run(vcpu);

        if (r == -EINTR) /* the library leaves that one unexplained */
            return vl_err(EINTR, "KVM_RUN interrupted");
        if (r < 0)
            return r;
        if (!is_bench_exit(vcpu->run, (uint32_t)r))
            return unexpected_exit(vcpu->run, (uint32_t)r);
    }
    return 0;
}

enum { BARE, LIBVIRTLAB, NLOOPS };

static int (*const loops[NLOOPS])(struct vl_vcpu *, long) = {
    [BARE] = loop_bare,
    [LIBVIRTLAB] = loop_libvirtlab,
};

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Run n exits through one loop; *ns_per_exit receives the mean cost. */
static int time_loop(int which, struct vl_vcpu *vcpu, long n,
                     double *ns_per_exit)
{
    double t0 = now_ns();
    int r = loops[which](vcpu, n);

    *ns_per_exit = (now_ns() - t0) / (double)n;
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median of v[0..n); sorts v. */
static double median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the command line ----------------------------------------------- */

struct options {
    long exits; /* per loop per round */
    long rounds;
    long slice; /* exits per timed slice */
    bool verbose;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: exit_cost [--exits N] [--rounds R] [--slice S] "
            "[--verbose]\n"
            "  --exits N   exits per loop per round (default %d)\n"
            "  --rounds R  rounds (default %d)\n"
            "  --slice S   exits per timed slice; the two loops alternate "
            "slice by slice\n"
            "              (default %d)\n"
            "  --verbose   print every round\n",
            DEFAULT_EXITS, DEFAULT_ROUNDS, DEFAULT_SLICE);
}

/* A whole decimal number in [1, max] for option --name. */
static bool parse_count(const char *name, const char *s, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max) {
        fprintf(stderr,
                "exit_cost: --%s wants a whole number from 1 to %ld, "
                "not \"%s\"\n",
                name, max, s);
        return false;
    }
    *out = v;
    return true;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"exits", required_argument, NULL, 'n'},
        {"rounds", required_argument, NULL, 'r'},
        {"slice", required_argument, NULL, 's'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool ok = true;
    int c;

    *o = (struct options){
        .exits = DEFAULT_EXITS,
        .rounds = DEFAULT_ROUNDS,
        .slice = DEFAULT_SLICE,
    };
    while (ok &&
           (c = getopt_long(argc, argv, "n:r:s:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            ok = parse_count("exits", optarg, MAX_EXITS, &o->exits);
            break;
        case 'r':
            ok = parse_count("rounds", optarg, MAX_ROUNDS, &o->rounds);
            break;
        case 's':
            ok = parse_count("slice", optarg, MAX_EXITS, &o->slice);
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
        }
    }
    if (!ok || optind != argc) {
        usage(stderr);
        return -EINVAL;
    }
    if (o->slice > o->exits)
        o->slice = o->exits;
    return 0;
}

/* ---- measuring ------------------------------------------------------ */

/* ns/exit of every timed slice of each loop, round after round. */
struct samples {
    long per_round; /* slices per loop per round */
    long n;         /* slices per loop in all */
    double *ns[NLOOPS];
    double *round_ratio; /* per round: median libvirtlab / median bare */
};

static void samples_free(struct samples *s)
{
    for (int which = 0; which < NLOOPS; which++)
        free(s->ns[which]);
    free(s->round_ratio);
}

static int samples_alloc(struct samples *s, const struct options *o)
{
    *s = (struct samples){.per_round = o->exits / o->slice};
    s->n = s->per_round * o->rounds;
    for (int which = 0; which < NLOOPS; which++)
        s->ns[which] = calloc((size_t)s->n, sizeof(double));
    s->round_ratio = calloc((size_t)o->rounds, sizeof(double));
    if (!s->ns[BARE] || !s->ns[LIBVIRTLAB] || !s->round_ratio)
        return vl_err(ENOMEM,
                      "allocating room for %ld timed slices (lower --exits "
                      "or --rounds, or raise --slice)",
                      s->n);
    return 0;
}

/*
 * One round: per_round slice pairs, the first loop of each pair alternating
 * (bare first in even pairs, libvirtlab first in odd ones).
 */
static int measure_round(struct bench *b, const struct options *o,
                         struct samples *s, long round)
{
    long first = round * s->per_round;
    double *ns[NLOOPS], bare, lib;

    for (long i = first; i < first + s->per_round; i++) {
        for (int k = 0; k < NLOOPS; k++) {
            int which = i % 2 ? NLOOPS - 1 - k : k;
            int r = time_loop(which, &b->vcpu, o->slice, &s->ns[which][i]);

            if (r < 0)
                return r;
        }
    }

    /* The round's medians; sorting its own slices leaves the others. */
    for (int which = 0; which < NLOOPS; which++)
        ns[which] = s->ns[which] + first;
    bare = median(ns[BARE], s->per_round);
    lib = median(ns[LIBVIRTLAB], s->per_round);

    s->round_ratio[round] = lib / bare;
    if (o->verbose)
        printf("  round %ld: bare %.0f ns/exit, libvirtlab %.0f ns/exit, "
               "ratio %.3f\n",
               round + 1, bare, lib, s->round_ratio[round]);
    return 0;
}

static int measure(struct bench *b, const struct options *o, struct samples *s)
{
    double ignored;
    int r;

    /* Fault in the guest page and kvm_run, warm the caches and the
     * branch predictors of both code paths before timing anything. */
    for (int which = 0; which < NLOOPS; which++) {
        r = time_loop(which, &b->vcpu, WARMUP_EXITS, &ignored);
        if (r < 0)
            return r;
    }
    for (long round = 0; round < o->rounds; round++) {
        r = measure_round(b, o, s, round);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- main ----------------------------------------------------------- */

static int report(const struct options *o, struct samples *s)
{
    double bare = median(s->ns[BARE], s->n);
    double lib = median(s->ns[LIBVIRTLAB], s->n);
    double ratio = lib / bare;
    double lo = s->round_ratio[0], hi = s->round_ratio[0];
    bool ok = ratio <= GOAL_RATIO;

    for (long i = 1; i < o->rounds; i++) {
        lo = s->round_ratio[i] < lo ? s->round_ratio[i] : lo;
        hi = s->round_ratio[i] > hi ? s->round_ratio[i] : hi;
    }
    printf("exit cost: bare KVM_RUN %.0f ns/exit, libvirtlab vl_vcpu_run "
           "%.0f ns/exit, ratio %.3f (goal <= %.2f): %s\n",
           bare, lib, ratio, GOAL_RATIO, ok ? "OK" : "OVER GOAL");
    printf("  %ld rounds x %ld exits per loop in slices of %ld; "
           "per-round ratios %.3f..%.3f\n",
           o->rounds, s->per_round * o->slice, o->slice, lo, hi);
    return ok ? 0 : 1;
}

/* "SKIP: no usable /dev/kvm (<why>)", then the library's hints. */
static void skip_no_kvm(void)
{
    const char *msg = vl_errmsg();
    const char *hints = strchr(msg, '\n');
    int len = hints ? (int)(hints - msg) : (int)strlen(msg);

    printf("SKIP: no usable %s (%.*s)%s\n", VL_KVM_DEVICE, len, msg,
           hints ? hints : "");
}

int main(int argc, char **argv)
{
    struct bench b __attribute__((cleanup(bench_destroy))) = BENCH_INIT;
    struct samples s __attribute__((cleanup(samples_free))) = {0};
    struct options o;
    int r;

    if (parse_options(argc, argv, &o) < 0)
        return EXIT_ERROR;
    if (vl_kvm_open(&b.kvm) < 0) {
        skip_no_kvm();
        return EXIT_SKIP;
    }
    r = samples_alloc(&s, &o);
    if (r == 0)
        r = bench_setup(&b);
    if (r == 0)
        r = measure(&b, &o, &s);
    if (r < 0) {
        fprintf(stderr, "exit_cost: %s\n", vl_errmsg());
        return EXIT_ERROR;
    }
    return report(&o, &s);
}
