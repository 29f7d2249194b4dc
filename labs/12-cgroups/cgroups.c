/*
 * cgroups.c - minictr stage 12: control groups.
 *
 * Namespaces decide what a container can SEE; control groups decide how
 * much it may USE. A cgroup is a directory in the cgroup filesystem; the
 * processes listed in its cgroup.procs share its limits, and their
 * children stay in it. In this lab minictr parses --memory, --pids and
 * --cpus, creates one cgroup per container with those limits, moves the
 * container's PID 1 into it before the container runs anything, finds out
 * after the end whether the kernel's OOM killer struck, and removes the
 * cgroup again - on every path, also when something failed.
 *
 * Two versions exist. cgroup v2 is one tree (cgroup2 at /sys/fs/cgroup)
 * where each directory enables controllers for its children; cgroup v1 is
 * one tree per controller (/sys/fs/cgroup/memory, .../pids, .../cpu), so a
 * container's cgroup is a directory in each. Many machines run a hybrid.
 *
 * References: cgroups(7); the kernel's Documentation/admin-guide/
 * cgroup-v2.rst ("Memory", "PID", "CPU" under "Controllers"),
 * Documentation/admin-guide/cgroup-v1/memory.rst and pids.rst,
 * Documentation/scheduler/sched-bwc.rst (CFS bandwidth control).
 * labs/12-cgroups/README.md walks through the steps.
 */
#define MCT_LAB        "12-cgroups"
#define MCT_STAGE_FILE "cgroups.c"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "minictr.h"

/* A smaller container cannot even start: the runtime's PID 1 and a shell
 * already need a few MiB (Docker's minimum for --memory is 6M). */
#define MCT_MEMORY_MIN       (4ull << 20)
/* pids.max accepts at most PID_MAX_LIMIT (include/linux/threads.h, 4M on
 * 64-bit machines): no machine can have more processes than that. */
#define MCT_PIDS_MAX         4194304ull
/* The smallest CFS quota the kernel accepts: 1 ms (sched-bwc.rst,
 * "Management": "the minimum quota allowed ... is 1ms"). */
#define MCT_CPU_QUOTA_MIN_US 1000ull

/* Is word in the space-separated list ("cpu memory pids")? */
static bool list_has(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/*
 * TODO 1: parse the limits of the command line into *l (all 0 first: 0
 * means no limit). Each option is NULL when not given.
 *  - opt->memory "64M": bytes, or a number with a suffix K, M or G (or k,
 *    m, g; powers of 1024). At least 4M ("too small"); a value that
 *    overflows 64 bits is refused ("too large"). -> l->memory_bytes.
 *  - opt->pids "32": a whole number, at least 1. -> l->pids.
 *  - opt->cpus "0.5": a decimal number of CPUs, more than 0 and at most
 *    the number of CPUs online (sysconf(_SC_NPROCESSORS_ONLN)). It becomes
 *    a CFS quota: l->cpu_period_us = MCT_CPU_PERIOD_US and l->cpu_quota_us
 *    = cpus * MCT_CPU_PERIOD_US, which must be at least 1000 us, the
 *    kernel's minimum (sched-bwc.rst).
 * Refuse anything else ("64MB", "-1", "", "1e3", "0.5x") with -EINVAL and
 * a message naming the option and the value, and saying what is accepted:
 *   --memory "64X": not a size: give bytes or a number with K, M or G (64M)
 */
int mct_parse_limits(const struct mct_options *opt, struct mct_limits *l)
{
    (void)opt;
    *l = (struct mct_limits){0};
    if (opt->memory || opt->pids || opt->cpus)
        return MCT_TODO(1, "parse the limits");
    return 0;
}

/*
 * TODO 2: create the container's cgroup and set its limits, in the parent
 * before the container exists.
 *  - No limit asked: return 0 without a cgroup (ct->cg.version stays 0).
 *    The PID namespace already makes sure that nothing outlives the
 *    container (pid_namespaces(7): when its init dies, the kernel kills
 *    the rest), so a cgroup without limits would only cost time and be
 *    one more thing to clean up (the README says more).
 *  - Which controllers: "memory" for --memory, "pids" for --pids, "cpu"
 *    for --cpus.
 *  - Which version: vl_cgroup_detect(&ct->cginfo). v2 on a v2 machine, or
 *    on a hybrid one whose cgroup2 tree has all the controllers needed
 *    (ct->cginfo.v2_controllers; list_has() helps); else v1.
 *  - vl_cgroup_create() under the name "minictr-<minictr's pid>".
 *  - The limits: v2 memory.max (bytes), memory.swap.max "0" when the
 *    file exists (-ENOENT: the kernel does not account swap), pids.max,
 *    cpu.max "QUOTA PERIOD"; v1 memory.limit_in_bytes, then
 *    memory.memsw.limit_in_bytes the same when it exists, pids.max,
 *    cpu.cfs_period_us then cpu.cfs_quota_us. vl_cgroup_set() writes one.
 *  - On any error remove what was made (mct_cgroup_destroy) and return the
 *    error (the driver prefixes "creating the container's cgroup: ").
 */
int mct_cgroup_create(struct minictr *ct)
{
    (void)list_has;
    const struct mct_limits *l = &ct->limits;
    if (l->memory_bytes || l->pids || l->cpu_quota_us)
        return MCT_TODO(2, "create the container's cgroup");
    return 0;
}

/*
 * TODO 3: move the container into its cgroup: write its PID 1 (ct->pid) to
 * cgroup.procs (vl_cgroup_set() writes it in every v1 hierarchy). Nothing
 * to do without a cgroup (ct->cg.version == 0).
 * The driver calls this while the child still waits for "go": a process
 * is only limited once it is in the cgroup, and what it forks from then on
 * is born in it (cgroups(7), "Creating cgroups and moving processes").
 * Moved any later, the container's first processes would run unlimited.
 */
int mct_cgroup_attach(struct minictr *ct)
{
    if (ct->cg.version)
        return MCT_TODO(3, "move the container into it");
    return 0;
}

/*
 * TODO 4: after the container ended: did the kernel's OOM killer kill one
 * of its processes because of the memory limit? Set ct->oom_killed and
 * ct->oom_kills (how many kills).
 *  - v2: the "oom_kill" key of memory.events (cgroup-v2.rst, "Memory
 *    Interface Files"); vl_cgroup_get_key() reads one key.
 *  - v1: the "oom_kill" key of memory.oom_control (kernel 4.13 and later);
 *    on older kernels memory.failcnt > 0 (the limit was hit) is the only,
 *    weaker, sign: then oom_killed is true and oom_kills 0 (unknown).
 * No cgroup, or no memory controller in it (-ENOENT): nothing to check,
 * return 0. The driver prints the report.
 */
int mct_cgroup_check_oom(struct minictr *ct)
{
    if (ct->cg.version)
        return MCT_TODO(4, "read the OOM kills");
    return 0;
}

/*
 * TODO 5: remove the container's cgroup, on every path (the driver calls
 * this after the end and after every failure). A cgroup that still holds
 * a process cannot be removed: rmdir(2) fails with EBUSY. So first kill
 * what is left (vl_cgroup_kill(): cgroup.kill on v2 since Linux 5.14,
 * else kill(2) over cgroup.procs, waiting until it is empty), then rmdir
 * the directory (v2: ct->cg.path; v1: each ct->cg.v1[i].dir). Do not stop
 * at the first error: warn on ct->log ("minictr: warning: ...") and go on.
 * Idempotent: set ct->cg.version to 0 at the end (and do nothing when it
 * is 0 already).
 */
void mct_cgroup_destroy(struct minictr *ct)
{
    (void)ct;
}
