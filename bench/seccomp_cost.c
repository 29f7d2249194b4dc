/*
 * seccomp_cost.c - what a seccomp filter costs per system call: getppid()
 * with no filter, under minictr's default profile compiled as libseccomp
 * writes it by default (one comparison after another, in the order of the
 * rules), and under the same profile compiled as a binary tree of syscall
 * numbers (SCMP_FLTATR_CTL_OPTIMIZE = 2, seccomp_attr_set(3)).
 *
 * A filter cannot be removed once loaded (seccomp(2)), so each variant runs
 * in a forked child of its own: the child builds the filter with lab 13's
 * mct_seccomp_build() (security.c of $(STAGES), the reference solution by
 * default), loads it with mct_seccomp_apply() and then times slices of
 * getppid() calls when the parent asks, through a pipe. The parent
 * alternates the slices between the three children (A B C C B A ...), so
 * drift and bursts of load on the machine land on all of them alike, and
 * each variant's cost is its median slice (bench/common/ratio.h explains
 * why). getppid() is the cheapest system call there is: what the filter
 * adds shows best there.
 *
 * Two more children measure the BPF program itself, which the kernel's
 * cache skips for getppid() (uncache_getppid() below).
 *
 * Exit status: 0 within the goal (the binary tree at most as slow as the
 * list, give or take 10%, when the program runs), 1 over it, 2 on a usage
 * or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/error.h"

#include "common/ratio.h"

#ifndef BENCH_PROFILE
#define BENCH_PROFILE "labs/minictr/seccomp/default.json"
#endif

#define GOAL_TREE_VS_LIST 1.10 /* the binary tree may not be slower */

#define DEFAULT_ROUNDS 5
#define DEFAULT_CALLS  200000 /* per variant per round */
#define DEFAULT_SLICE  2000   /* calls per timed slice */
#define WARMUP_CALLS   20000
#define MAX_CALLS      100000000L

enum { V_NONE, V_LIST, V_TREE, V_LIST_ARG, V_TREE_ARG, NVARIANTS };
static const char *const vnames[NVARIANTS] = {
    "no filter", "default profile", "binary tree",
    "default profile, getppid with an argument condition",
    "binary tree, getppid with an argument condition"};

/* security.c calls these driver functions (labs/minictr/minictr.c); the
 * benchmark links security.c alone. */
void mct_say(const struct minictr *ct, const char *fmt, ...)
{
    (void)ct, (void)fmt;
}
int mct_todo(const char *lab, const char *file, int step, const char *what)
{
    return vl_err_plain(ENOSYS, "TODO %d in labs/%s/%s is not done yet: %s",
                        step, lab, file, what);
}
const char *mct_seccomp_default_profile(char *buf, size_t len)
{
    (void)buf, (void)len;
    return BENCH_PROFILE;
}
void mct_seccomp_release(struct minictr *ct)
{
    if (ct->seccomp)
        seccomp_release(ct->seccomp);
    ct->seccomp = NULL;
}

struct child {
    pid_t pid;
    int cmd, res; /* pipes: slice sizes to it, ns per call back */
};

/*
 * Since Linux 5.11 the kernel caches, per system call, "this filter always
 * allows it whatever the arguments" (seccomp_cache_prepare() in
 * kernel/seccomp.c; /proc/PID/seccomp_cache) and then skips the BPF program
 * altogether: for getppid() under the default profile the filter costs
 * almost nothing. To measure the program itself, these variants move
 * getppid from the allowlist into an entry of its own with a condition
 * that always holds (its argument 0, which it ignores, is not 0xdeadbeef):
 * same verdict, but it depends on an argument, so nothing is cached.
 */
static void uncache_getppid(json_t *profile)
{
    json_t *e, *names, *n;
    size_t i, j;

    json_array_foreach(json_object_get(profile, "syscalls"), i, e)
    {
        names = json_object_get(e, "names");
        json_array_foreach(names, j, n)
        {
            if (json_string_value(n) &&
                !strcmp(json_string_value(n), "getppid")) {
                json_array_remove(names, j);
                break;
            }
        }
    }
    json_array_append_new(
        json_object_get(profile, "syscalls"),
        json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}", "names", "getppid",
                  "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value",
                  (json_int_t)0xdeadbeef, "op", "SCMP_CMP_NE"));
}

/* The default profile, optimised or not, as lab 13 builds it. */
static int build_filter(struct minictr *ct, int variant)
{
    json_error_t jerr;
    json_t *p;
    int r;

    if (variant == V_NONE)
        return 0;
    p = json_load_file(BENCH_PROFILE, 0, &jerr);
    if (!p)
        return vl_err_plain(EINVAL, "%s:%d: %s", BENCH_PROFILE, jerr.line,
                            jerr.text);
    json_object_set_new(
        p, "optimize",
        json_integer(variant == V_TREE || variant == V_TREE_ARG ? 2 : 1));
    if (variant == V_LIST_ARG || variant == V_TREE_ARG)
        uncache_getppid(p);
    r = mct_caps_decide(ct);
    if (r == 0)
        r = mct_seccomp_build(ct, p, BENCH_PROFILE);
    json_decref(p);
    return r;
}

/* The child: load the filter, then time slices until the pipe closes. */
static void child_main(struct minictr *ct, int cmd, int res)
{
    long n;

    if (ct->seccomp && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                        mct_seccomp_apply(ct) < 0)) {
        fprintf(stderr, "seccomp_cost: loading the filter: %s\n", vl_errmsg());
        _exit(2);
    }
    while (read(cmd, &n, sizeof(n)) == sizeof(n)) {
        double t0 = ratio_now_ns(), ns;

        for (long i = 0; i < n; i++)
            syscall(SYS_getppid);
        ns = (ratio_now_ns() - t0) / (double)n;
        if (write(res, &ns, sizeof(ns)) != sizeof(ns))
            _exit(2);
    }
    _exit(0);
}

static int start_child(struct child *c, int variant)
{
    struct minictr ct = {.log = stderr};
    int to[2], from[2], r;

    if ((r = build_filter(&ct, variant)) < 0)
        return vl_err_ctx(r, "building the %s filter", vnames[variant]);
    if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
        return vl_err(errno, "pipe2");
    fflush(NULL);
    c->pid = fork();
    if (c->pid < 0)
        return vl_err(errno, "fork");
    if (c->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(to[1]);
        close(from[0]);
        child_main(&ct, to[0], from[1]);
    }
    mct_seccomp_release(&ct);
    close(to[0]);
    close(from[1]);
    c->cmd = to[1];
    c->res = from[0];
    return 0;
}

/* One slice of n calls in child c: its ns per call, or < 0. */
static double slice(const struct child *c, long n)
{
    double ns;

    if (write(c->cmd, &n, sizeof(n)) != sizeof(n) ||
        read(c->res, &ns, sizeof(ns)) != sizeof(ns))
        return -1;
    return ns;
}

/* Close every pipe first: a child started later holds copies of the
 * earlier children's pipes (fork), so it must see its EOF and exit before
 * they can see theirs. */
static void stop_children(struct child *c)
{
    for (int v = 0; v < NVARIANTS; v++) {
        if (c[v].pid <= 0)
            continue;
        close(c[v].cmd);
        close(c[v].res);
    }
    for (int v = NVARIANTS - 1; v >= 0; v--) {
        if (c[v].pid > 0)
            waitpid(c[v].pid, NULL, 0);
        c[v].pid = 0;
    }
}

static int loop_unused(void *ctx, int which, long count)
{
    (void)ctx, (void)which, (void)count;
    return 0;
}

static const struct ratio_spec spec = {
    .prog = "seccomp_cost",
    .count_opt = "calls",
    .count_help = "getppid() calls per variant per round",
    .unit = "call",
    .names = {"no filter", "filtered"},
    .default_count = DEFAULT_CALLS,
    .default_rounds = DEFAULT_ROUNDS,
    .default_slice = DEFAULT_SLICE,
    .warmup = WARMUP_CALLS,
    .max_count = MAX_CALLS,
    .units_per_count = 1,
    .loop = loop_unused,
};

int main(int argc, char **argv)
{
    struct child c[NVARIANTS] = {{0}};
    double *ns[NVARIANTS] = {0}, med[NVARIANTS];
    long slices, k = 0;
    struct ratio_opts o;
    int status = 2;

    if (ratio_parse(&spec, argc, argv, &o) < 0)
        return RATIO_EXIT_ERROR;
    slices = o.count / o.slice;
    if (slices < 1)
        slices = 1;
    for (int v = 0; v < NVARIANTS; v++) {
        ns[v] = calloc((size_t)(slices * o.rounds), sizeof(double));
        if (!ns[v] || start_child(&c[v], v) < 0) {
            fprintf(stderr, "seccomp_cost: %s\n",
                    ns[v] ? vl_errmsg() : "out of memory");
            goto out;
        }
        if (slice(&c[v], WARMUP_CALLS) < 0) {
            fprintf(stderr, "seccomp_cost: the %s child died\n", vnames[v]);
            goto out;
        }
    }
    for (long r = 0; r < o.rounds; r++) {
        for (long s = 0; s < slices; s++, k++) {
            for (int i = 0; i < NVARIANTS; i++) {
                /* A..E, then E..A: each one first as often as last. */
                int v = k % 2 ? NVARIANTS - 1 - i : i;

                if ((ns[v][k] = slice(&c[v], o.slice)) < 0) {
                    fprintf(stderr, "seccomp_cost: the %s child died\n",
                            vnames[v]);
                    goto out;
                }
            }
        }
        if (o.verbose)
            printf("  round %ld: %.1f / %.1f / %.1f / %.1f / %.1f ns per "
                   "call\n",
                   r + 1, ns[V_NONE][k - 1], ns[V_LIST][k - 1],
                   ns[V_TREE][k - 1], ns[V_LIST_ARG][k - 1],
                   ns[V_TREE_ARG][k - 1]);
    }
    for (int v = 0; v < NVARIANTS; v++)
        med[v] = ratio_median(ns[v], k);
    {
        bool ok = med[V_TREE_ARG] <= med[V_LIST_ARG] * GOAL_TREE_VS_LIST;

        printf("getppid(): no filter %.1f ns per call; as a ratio to it:\n",
               med[V_NONE]);
        printf("  default profile %.2f, as a binary tree %.2f "
               "(the kernel's cache skips the filter)\n",
               med[V_LIST] / med[V_NONE], med[V_TREE] / med[V_NONE]);
        printf("  with getppid's verdict depending on an argument (the BPF "
               "program runs): list %.2f, binary tree %.2f\n",
               med[V_LIST_ARG] / med[V_NONE], med[V_TREE_ARG] / med[V_NONE]);
        printf("  tree / list %.3f (goal <= %.2f): %s; %ld rounds x %ld "
               "calls per variant in slices of %ld\n",
               med[V_TREE_ARG] / med[V_LIST_ARG], GOAL_TREE_VS_LIST,
               ok ? "OK" : "OVER GOAL", o.rounds, slices * o.slice, o.slice);
        status = ok ? 0 : RATIO_EXIT_OVER;
    }
out:
    stop_children(c);
    for (int v = 0; v < NVARIANTS; v++)
        free(ns[v]);
    return status;
}
