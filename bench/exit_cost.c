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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "virtlab/error.h"
#include "virtlab/kvm.h"
#include "virtlab/kvm_exit.h"

#include "common/ratio.h"

#define GOAL_RATIO 1.05 /* libvirtlab may cost at most 5% more per exit */

#define DEFAULT_ROUNDS 5
#define DEFAULT_EXITS  20000 /* per loop per round: ~0.3 s at 15 us/exit */
#define DEFAULT_SLICE  10    /* exits per timed slice */
#define WARMUP_EXITS   2000  /* per loop, before the first timed slice */
#define MAX_EXITS      100000000L

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

/* The harness's loop: RATIO_BASE is bare, RATIO_MEASURED libvirtlab. */
static int run_loop(void *ctx, int which, long n)
{
    struct bench *b = ctx;

    return which == RATIO_BASE ? loop_bare(&b->vcpu, n)
                               : loop_libvirtlab(&b->vcpu, n);
}

static const struct ratio_spec spec = {
    .prog = "exit_cost",
    .count_opt = "exits",
    .count_help = "exits per loop per round",
    .unit = "exit",
    .names = {"bare", "libvirtlab"},
    .default_count = DEFAULT_EXITS,
    .default_rounds = DEFAULT_ROUNDS,
    .default_slice = DEFAULT_SLICE,
    .warmup = WARMUP_EXITS,
    .max_count = MAX_EXITS,
    .units_per_count = 1,
    .loop = run_loop,
};

static int report(const struct ratio_opts *o, const struct ratio_result *res)
{
    bool ok = res->ratio <= GOAL_RATIO;

    printf("exit cost: bare KVM_RUN %.0f ns/exit, libvirtlab vl_vcpu_run "
           "%.0f ns/exit, ratio %.3f (goal <= %.2f): %s\n",
           res->ns[RATIO_BASE], res->ns[RATIO_MEASURED], res->ratio, GOAL_RATIO,
           ok ? "OK" : "OVER GOAL");
    printf("  %ld rounds x %ld exits per loop in slices of %ld; "
           "per-round ratios %.3f..%.3f\n",
           o->rounds, res->per_round, o->slice, res->lo, res->hi);
    return ok ? 0 : RATIO_EXIT_OVER;
}

int main(int argc, char **argv)
{
    struct bench b __attribute__((cleanup(bench_destroy))) = BENCH_INIT;
    struct ratio_result res;
    struct ratio_opts o;
    int r;

    if (ratio_parse(&spec, argc, argv, &o) < 0)
        return RATIO_EXIT_ERROR;
    if (vl_kvm_open(&b.kvm) < 0) {
        ratio_skip_no_kvm();
        return RATIO_EXIT_SKIP;
    }
    r = bench_setup(&b);
    if (r == 0)
        r = ratio_measure(&spec, &b, &o, &res);
    if (r < 0) {
        fprintf(stderr, "exit_cost: %s\n", vl_errmsg());
        return RATIO_EXIT_ERROR;
    }
    return report(&o, &res);
}
