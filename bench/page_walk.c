/*
 * page_walk.c - what lab 03's software page walk, mvm_walk(), costs per
 * address, against asking KVM the same question with ioctl(KVM_TRANSLATE),
 * over the same addresses in the same run.
 *
 * The VM is set up as the lab tests do it (libvirtlab, then the fds and
 * the mapping handed to a struct minivm): 4 MiB of RAM at guest-physical 0,
 * one vCPU, the page tables of lab 02 (mvm_build_page_tables()), and the
 * vCPU switched to long mode with CR3 at them, so that KVM walks the very
 * tables minivm walks. The vCPU never runs. Each address is translated two
 * ways:
 *
 *   KVM_TRANSLATE  ioctl(vcpu_fd, KVM_TRANSLATE) (api.rst 4.15): a system
 *                  call, and KVM's own walk of the guest's tables;
 *   mvm_walk       mvm_walk(vm, cr3, va, ...) (lab 03, TODO 4): the same
 *                  walk in our own process, through minivm's mapping of
 *                  guest memory.
 *
 * The addresses are a fixed mix of what lab 02's tables hold (4 KiB pages
 * in the first 2 MiB, the 2 MiB page above them, the 2 MiB page at
 * MVM_HIGH_VADDR) and of addresses they do not map. Before timing, both
 * ways must agree on every address, and with the layout lab 02 promises;
 * while timing, every answer is checked again.
 *
 * As in exit_cost.c, the result is a ratio measured in one run: the passes
 * over the addresses are timed in short slices that alternate between the
 * two loops (A B B A A B ...), and each loop's cost is its median slice.
 * The build decides whose walk is measured: the reference solutions by
 * default, the student's own with `make bench STAGES=labs`.
 *
 * Exit status: 0 within the goal, 1 over it, 2 on a usage or setup error
 * or when the two ways disagree, 77 (the automake "skipped" code) when
 * /dev/kvm cannot be used here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "minivm.h"
#include "virtlab/error.h"
#include "virtlab/kvm.h"
#include "virtlab/x86.h"

#include "common/ratio.h"

/* Where the stage files come from: the Makefile's STAGES. */
#ifndef BENCH_STAGES
#define BENCH_STAGES "solutions"
#endif

#define GOAL_RATIO 0.5 /* the walk may cost at most half a KVM_TRANSLATE */

#define DEFAULT_PASSES 300 /* per loop per round: ~0.25 s at 13 us/address */
#define DEFAULT_ROUNDS 5
#define DEFAULT_SLICE  1  /* passes per timed slice */
#define WARMUP_PASSES  20 /* per loop, before the first timed slice */
#define MAX_PASSES     10000000L

#define GUEST_MEM_SIZE (4u << 20) /* MVM_LONG_MIN_MEM: all lab 02 maps */

#define UNMAPPED UINT64_MAX /* a probe's pa when nothing maps its va */

/* ---- the addresses -------------------------------------------------- */

enum kind { PAGE_4K, PAGE_2M, HIGH, NOT_MAPPED, NKINDS };

static const char *const kind_names[NKINDS] = {
    [PAGE_4K] = "4 KiB pages",
    [PAGE_2M] = "2 MiB page",
    [HIGH] = "high 2 MiB page",
    [NOT_MAPPED] = "not mapped",
};

/* One address to translate, and what lab 02's tables map it to. */
struct probe {
    uint64_t va;
    uint64_t pa; /* UNMAPPED if nothing */
    enum kind kind;
};

#define N_4K       32
#define N_2M       16
#define N_HIGH     8
#define N_UNMAPPED 8
#define NPROBES    (N_4K + N_2M + N_HIGH + N_UNMAPPED)

/*
 * Addresses lab 02's tables leave unmapped, the walk stopping at each
 * level: PD entries (past the end of RAM at 4 MiB, at 256 MiB, and just
 * past the high mapping, in its own PD), a PDPT entry (at 1 GiB), and PML4
 * entries (at 512 GiB, further up the lower half, at its very top, and at
 * the start of the upper half).
 */
static const uint64_t unmapped_vas[N_UNMAPPED] = {
    0x400000,
    0x10000000,
    0x40000000,
    0x8000000000ULL,
    0x123456789000ULL,
    0x7fffffffffffULL,
    0xffff800000000000ULL,
    MVM_HIGH_VADDR + VL_PAGE_2M,
};

/*
 * 32 addresses in 4 KiB pages, every 16th page of the first 2 MiB (so 32
 * entries spread over its page table), 16 in the 2 MiB page at 2 MiB, 8
 * in the 2 MiB page at MVM_HIGH_VADDR, each at another offset inside its
 * page; then the unmapped ones.
 */
static void make_probes(struct probe *p)
{
    size_t n = 0;

    for (uint64_t i = 0; i < N_4K; i++) {
        uint64_t va = i * (VL_PAGE_2M / N_4K) + (i * 0x88) % VL_PAGE_4K;

        p[n++] = (struct probe){va, va, PAGE_4K};
    }
    for (uint64_t i = 0; i < N_2M; i++) {
        uint64_t va = VL_PAGE_2M + i * (VL_PAGE_2M / N_2M) + i * 0x1008;

        p[n++] = (struct probe){va, va, PAGE_2M};
    }
    for (uint64_t i = 0; i < N_HIGH; i++) {
        uint64_t off = i * (VL_PAGE_2M / N_HIGH) + i * 0x2010;

        p[n++] =
            (struct probe){MVM_HIGH_VADDR + off, MVM_HIGH_PHYS + off, HIGH};
    }
    for (size_t i = 0; i < N_UNMAPPED; i++)
        p[n++] = (struct probe){unmapped_vas[i], UNMAPPED, NOT_MAPPED};
}

/* ---- the VM under test ---------------------------------------------- */

struct bench {
    struct minivm vm; /* owns every fd and mapping */
    struct probe probes[NPROBES];
};

/* Long mode with CR3 = vm->pt_root, as the tests' paging_on_with_libvirtlab()
 * does it: enough for KVM_TRANSLATE to walk our tables. */
static int paging_on(struct minivm *vm)
{
    struct kvm_sregs s;

    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        return vl_err(errno, "KVM_GET_SREGS");
    s.cr3 = vm->pt_root;
    s.cr4 |= VL_CR4_PAE;
    s.efer |= VL_EFER_LME | VL_EFER_LMA;
    s.cr0 |= VL_CR0_PE | VL_CR0_PG;
    s.cs.l = 1;
    s.cs.db = 0;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
        return mvm_sregs_error(vm, &s);
    return 0;
}

static void bench_destroy(struct bench *b)
{
    mvm_destroy(&b->vm);
}

static int bench_setup(struct bench *b)
{
    int r;

    make_probes(b->probes);
    r = mvm_build_page_tables(&b->vm);
    if (r < 0)
        return vl_err_ctx(r, "building the page tables (lab 02, %s)",
                          BENCH_STAGES);
    return paging_on(&b->vm);
}

/* ---- the two loops -------------------------------------------------- */

static int mismatch(const struct probe *p, const char *who, uint64_t got)
{
    if (got == UNMAPPED)
        return vl_err_plain(EPROTO,
                            "va 0x%llx: %s says not mapped, expected pa "
                            "0x%llx",
                            (unsigned long long)p->va, who,
                            (unsigned long long)p->pa);
    if (p->pa == UNMAPPED)
        return vl_err_plain(EPROTO,
                            "va 0x%llx: %s says pa 0x%llx, expected not "
                            "mapped",
                            (unsigned long long)p->va, who,
                            (unsigned long long)got);
    return vl_err_plain(EPROTO, "va 0x%llx: %s says pa 0x%llx, expected 0x%llx",
                        (unsigned long long)p->va, who, (unsigned long long)got,
                        (unsigned long long)p->pa);
}

/* KVM's answer for one address: its pa, or UNMAPPED. */
static inline int kvm_translate(int vcpu_fd, uint64_t va, uint64_t *pa)
{
    struct kvm_translation tr = {.linear_address = va};

    if (ioctl(vcpu_fd, KVM_TRANSLATE, &tr) < 0)
        return vl_err(errno, "KVM_TRANSLATE of va 0x%llx",
                      (unsigned long long)va);
    *pa = tr.valid ? tr.physical_address : UNMAPPED;
    return 0;
}

/* Baseline: ask KVM, one system call per address. */
static int loop_translate(struct bench *b, long passes)
{
    int fd = b->vm.vcpu_fd;

    for (long n = 0; n < passes; n++) {
        for (size_t i = 0; i < NPROBES; i++) {
            const struct probe *p = &b->probes[i];
            uint64_t pa = 0;
            int r = kvm_translate(fd, p->va, &pa);

            if (r < 0)
                return r;
            if (pa != p->pa)
                return mismatch(p, "KVM_TRANSLATE", pa);
        }
    }
    return 0;
}

/* Measured: minivm's walk, in our own process. A failed walk (a page
 * fault, with its message) is the walk's answer for an unmapped va. */
static int loop_walk(struct bench *b, long passes)
{
    struct minivm *vm = &b->vm;
    uint64_t cr3 = vm->pt_root;

    for (long n = 0; n < passes; n++) {
        for (size_t i = 0; i < NPROBES; i++) {
            const struct probe *p = &b->probes[i];
            uint64_t pa = 0;
            unsigned perms = 0;
            int r = mvm_walk(vm, cr3, p->va, &pa, &perms);

            if (r < 0)
                pa = UNMAPPED;
            if (pa != p->pa)
                return mismatch(p, "mvm_walk", pa);
        }
    }
    return 0;
}

/*
 * Before timing: for every address, mvm_walk() and KVM_TRANSLATE must give
 * the same answer, and KVM's must be what lab 02's layout promises (so the
 * mix of pages is the one this benchmark claims to measure).
 */
static int check_agreement(struct bench *b)
{
    struct minivm *vm = &b->vm;

    for (size_t i = 0; i < NPROBES; i++) {
        const struct probe *p = &b->probes[i];
        uint64_t kvm_pa = 0, pa = 0;
        unsigned perms = 0;
        int r, kr;

        vl_err_clear();
        r = mvm_walk(vm, vm->pt_root, p->va, &pa, &perms);
        if (r == -ENOSYS) /* a TODO not done yet: its message says which */
            return vl_err_ctx(r, "mvm_walk (%s)", BENCH_STAGES);
        if (r < 0)
            pa = UNMAPPED;
        kr = kvm_translate(vm->vcpu_fd, p->va, &kvm_pa);
        if (kr < 0)
            return kr;
        if (kvm_pa != p->pa) {
            mismatch(p, "KVM_TRANSLATE", kvm_pa);
            return vl_err_ctx(-EPROTO,
                              "the page tables of lab 02 (%s) do not hold "
                              "the layout it promises",
                              BENCH_STAGES);
        }
        if (pa == kvm_pa)
            continue;
        if (r < 0)
            return vl_err_ctx(-EPROTO,
                              "va 0x%llx: KVM_TRANSLATE says pa 0x%llx, "
                              "mvm_walk (%s) failed",
                              (unsigned long long)p->va,
                              (unsigned long long)kvm_pa, BENCH_STAGES);
        mismatch(p, "mvm_walk", pa);
        return vl_err_ctx(-EPROTO, "mvm_walk (%s) disagrees with KVM_TRANSLATE",
                          BENCH_STAGES);
    }
    return 0;
}

/*
 * --verbose: each kind of address on its own, for context (not part of
 * the result): the cheapest of a few short bursts of each, both ways.
 */
static void print_kinds(struct bench *b)
{
    enum { REPEAT = 10, TRIES = 11 };
    struct minivm *vm = &b->vm;

    for (int k = 0; k < NKINDS; k++) {
        double best[RATIO_NLOOPS] = {0};
        int count = 0;

        for (size_t i = 0; i < NPROBES; i++)
            count += b->probes[i].kind == (enum kind)k;
        for (int t = 0; t < TRIES; t++) {
            for (int which = 0; which < RATIO_NLOOPS; which++) {
                double t0 = ratio_now_ns(), ns;

                for (int n = 0; n < REPEAT; n++) {
                    for (size_t i = 0; i < NPROBES; i++) {
                        const struct probe *p = &b->probes[i];
                        uint64_t pa;
                        unsigned perms;

                        if (p->kind != (enum kind)k)
                            continue;
                        if (which == RATIO_MEASURED)
                            mvm_walk(vm, vm->pt_root, p->va, &pa, &perms);
                        else
                            kvm_translate(vm->vcpu_fd, p->va, &pa);
                    }
                }
                ns = (ratio_now_ns() - t0) / ((double)REPEAT * count);
                if (t == 0 || ns < best[which])
                    best[which] = ns;
            }
        }
        printf("  %-16s (%2d addresses): KVM_TRANSLATE %.0f ns, mvm_walk "
               "%.1f ns, ratio %.3f\n",
               kind_names[k], count, best[RATIO_BASE], best[RATIO_MEASURED],
               best[RATIO_MEASURED] / best[RATIO_BASE]);
    }
}

/* The harness's loop: RATIO_BASE is KVM_TRANSLATE, RATIO_MEASURED the
 * walk. */
static int run_loop(void *ctx, int which, long passes)
{
    return which == RATIO_BASE ? loop_translate(ctx, passes)
                               : loop_walk(ctx, passes);
}

static const struct ratio_spec spec = {
    .prog = "page_walk",
    .count_opt = "passes",
    .count_help = "passes over all the addresses per loop per round",
    .unit = "address",
    .names = {"KVM_TRANSLATE", "mvm_walk"},
    .default_count = DEFAULT_PASSES,
    .default_rounds = DEFAULT_ROUNDS,
    .default_slice = DEFAULT_SLICE,
    .warmup = WARMUP_PASSES,
    .max_count = MAX_PASSES,
    .units_per_count = NPROBES,
    .loop = run_loop,
};

/* ---- main ----------------------------------------------------------- */

static int report(const struct ratio_opts *o, const struct ratio_result *res)
{
    bool ok = res->ratio <= GOAL_RATIO;

    printf("page walk: KVM_TRANSLATE %.0f ns/address, mvm_walk (%s) %.1f "
           "ns/address, ratio %.3f (goal <= %.2f): %s\n",
           res->ns[RATIO_BASE], BENCH_STAGES, res->ns[RATIO_MEASURED],
           res->ratio, GOAL_RATIO, ok ? "OK" : "OVER GOAL");
    printf("  %d addresses (%d in 4 KiB pages, %d in 2 MiB pages, %d not "
           "mapped); %ld rounds x %ld passes per loop in slices of %ld; "
           "per-round ratios %.3f..%.3f\n",
           NPROBES, N_4K, N_2M + N_HIGH, N_UNMAPPED, o->rounds, res->per_round,
           o->slice, res->lo, res->hi);
    return ok ? 0 : RATIO_EXIT_OVER;
}

int main(int argc, char **argv)
{
    struct bench b __attribute__((cleanup(bench_destroy)));
    struct ratio_result res;
    struct ratio_opts o;
    struct mvm_options opt;
    struct vl_kvm kvm;
    int r;

    mvm_options_default(&opt);
    opt.mem_size = GUEST_MEM_SIZE;
    mvm_init(&b.vm, &opt); /* every fd -1: safe to destroy from here on */
    if (ratio_parse(&spec, argc, argv, &o) < 0)
        return RATIO_EXIT_ERROR;
    if (vl_kvm_open(&kvm) < 0) {
        ratio_skip_no_kvm();
        return RATIO_EXIT_SKIP;
    }
    vl_kvm_close(&kvm);
    /* The VM as the lab tests make it: libvirtlab, handed to minivm. */
    r = mvm_create_reference(&b.vm);
    if (r == 0)
        r = bench_setup(&b);
    if (r == 0)
        r = check_agreement(&b);
    if (r == 0)
        r = ratio_measure(&spec, &b, &o, &res);
    if (r < 0) {
        fprintf(stderr, "page_walk: %s\n", vl_errmsg());
        return RATIO_EXIT_ERROR;
    }
    if (o.verbose)
        print_kinds(&b);
    return report(&o, &res);
}
