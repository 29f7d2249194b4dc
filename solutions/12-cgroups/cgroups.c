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
/* SOLUTION BEGIN */
/* --memory: bytes, or a number with a K, M or G suffix (powers of 1024). */
static int parse_memory(const char *s, uint64_t *bytes)
{
    uint64_t n = 0, unit = 1;
    const char *p = s;

    if (*p < '0' || *p > '9')
        goto bad;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            goto too_large;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (tolower(*p) == 'k')
        unit = 1ull << 10;
    else if (tolower(*p) == 'm')
        unit = 1ull << 20;
    else if (tolower(*p) == 'g')
        unit = 1ull << 30;
    if (unit > 1)
        p++;
    if (*p != '\0')
        goto bad;
    if (n > UINT64_MAX / unit)
        goto too_large;
    n *= unit;
    if (n < MCT_MEMORY_MIN)
        return vl_err_plain(EINVAL,
                            "--memory \"%s\": too small: a container needs "
                            "at least 4M",
                            s);
    *bytes = n;
    return 0;
bad:
    return vl_err_plain(EINVAL,
                        "--memory \"%s\": not a size: give bytes or a number "
                        "with K, M or G (64M, 1G)",
                        s);
too_large:
    return vl_err_plain(EINVAL,
                        "--memory \"%s\": too large (overflows 64 bits)", s);
}

/* --pids: a whole number of processes (threads count too), 1 or more. */
static int parse_pids(const char *s, uint64_t *pids)
{
    uint64_t n = 0;
    const char *p = s;

    for (; *p >= '0' && *p <= '9' && n <= MCT_PIDS_MAX; p++)
        n = n * 10 + (uint64_t)(*p - '0');
    if (p == s || *p != '\0' || n < 1 || n > MCT_PIDS_MAX)
        return vl_err_plain(EINVAL,
                            "--pids \"%s\": give a whole number of processes "
                            "from 1 to %llu",
                            s, MCT_PIDS_MAX);
    *pids = n;
    return 0;
}

/*
 * --cpus: a decimal number of CPUs ("0.5", "2", "1.25"), turned into a CFS
 * quota per MCT_CPU_PERIOD_US. Parsed digit by digit, not with strtod():
 * 0.1 has no exact binary value, and the quota must be exact.
 */
static int parse_cpus(const char *s, uint64_t *quota_us)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t whole = 0, frac = 0, scale = MCT_CPU_PERIOD_US;
    const char *p = s;

    for (; *p >= '0' && *p <= '9' && whole <= 1u << 20; p++)
        whole = whole * 10 + (uint64_t)(*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
            scale /= 10;
            frac += (uint64_t)(*p - '0') * scale;
        }
    if (p == s || *p != '\0' || (p[-1] == '.' && p - 1 == s))
        return vl_err_plain(EINVAL,
                            "--cpus \"%s\": give a decimal number of CPUs "
                            "(0.5, 2), at most 5 decimals",
                            s);
    if (online < 1)
        online = 1;
    if (whole > (uint64_t)online || (whole == (uint64_t)online && frac))
        return vl_err_plain(EINVAL,
                            "--cpus \"%s\": more than the %ld CPUs online: "
                            "give more than 0 and at most %ld",
                            s, online, online);
    *quota_us = whole * MCT_CPU_PERIOD_US + frac;
    if (*quota_us < MCT_CPU_QUOTA_MIN_US)
        return vl_err_plain(EINVAL,
                            "--cpus \"%s\": too small: give at least 0.01 "
                            "(the kernel's smallest CFS quota is 1 ms per "
                            "%u ms period)",
                            s, MCT_CPU_PERIOD_US / 1000);
    return 0;
}
/* SOLUTION END */

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
    /* SOLUTION BEGIN */
    /* stub: (void)opt; */
    /* stub: *l = (struct mct_limits){0}; */
    /* stub: if (opt->memory || opt->pids || opt->cpus) */
    /* stub:     return MCT_TODO(1, "parse the limits"); */
    /* stub: return 0; */
    int r;

    *l = (struct mct_limits){0};
    if (opt->memory && (r = parse_memory(opt->memory, &l->memory_bytes)) < 0)
        return r;
    if (opt->pids && (r = parse_pids(opt->pids, &l->pids)) < 0)
        return r;
    if (opt->cpus) {
        if ((r = parse_cpus(opt->cpus, &l->cpu_quota_us)) < 0)
            return r;
        l->cpu_period_us = MCT_CPU_PERIOD_US;
    }
    return 0;
    /* SOLUTION END */
}
/* SOLUTION BEGIN */
/*
 * cgroup v2 (cgroup-v2.rst): memory.max is the hard limit in bytes;
 * memory.swap.max = 0 keeps the container from swapping out instead of
 * being OOM-killed (without it, a machine with swap lets the container use
 * memory.max of RAM plus as much swap as it likes). pids.max counts tasks
 * (processes and threads). cpu.max is "QUOTA PERIOD" in microseconds.
 */
static int set_limits_v2(struct minictr *ct)
{
    const struct mct_limits *l = &ct->limits;
    char v[64];
    int r;

    if (l->memory_bytes) {
        snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory_bytes);
        if ((r = vl_cgroup_set(&ct->cg, "memory.max", v)) < 0)
            return r;
        r = vl_cgroup_set(&ct->cg, "memory.swap.max", "0");
        if (r == -ENOENT) /* no swap accounting (CONFIG_MEMCG_SWAP) */
            vl_err_clear();
        else if (r < 0)
            return r;
    }
    if (l->pids) {
        snprintf(v, sizeof(v), "%llu", (unsigned long long)l->pids);
        if ((r = vl_cgroup_set(&ct->cg, "pids.max", v)) < 0)
            return r;
    }
    if (l->cpu_quota_us) {
        snprintf(v, sizeof(v), "%llu %llu", (unsigned long long)l->cpu_quota_us,
                 (unsigned long long)l->cpu_period_us);
        if ((r = vl_cgroup_set(&ct->cg, "cpu.max", v)) < 0)
            return r;
    }
    return 0;
}

/*
 * cgroup v1: memory.limit_in_bytes (cgroup-v1/memory.rst, 2.5), and
 * memory.memsw.limit_in_bytes, memory plus swap, set equal so that no swap
 * is left (it must be >= limit_in_bytes, so it comes second). pids.max
 * (cgroup-v1/pids.rst). cpu.cfs_period_us, then cpu.cfs_quota_us
 * (sched-bwc.rst): the kernel checks each write against the other value.
 */
static int set_limits_v1(struct minictr *ct)
{
    const struct mct_limits *l = &ct->limits;
    char v[32];
    int r;

    if (l->memory_bytes) {
        snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory_bytes);
        if ((r = vl_cgroup_set(&ct->cg, "memory.limit_in_bytes", v)) < 0)
            return r;
        r = vl_cgroup_set(&ct->cg, "memory.memsw.limit_in_bytes", v);
        if (r == -ENOENT) /* no swap accounting (swapaccount=0) */
            vl_err_clear();
        else if (r < 0)
            return r;
    }
    if (l->pids) {
        snprintf(v, sizeof(v), "%llu", (unsigned long long)l->pids);
        if ((r = vl_cgroup_set(&ct->cg, "pids.max", v)) < 0)
            return r;
    }
    if (l->cpu_quota_us) {
        snprintf(v, sizeof(v), "%llu", (unsigned long long)l->cpu_period_us);
        if ((r = vl_cgroup_set(&ct->cg, "cpu.cfs_period_us", v)) < 0)
            return r;
        snprintf(v, sizeof(v), "%llu", (unsigned long long)l->cpu_quota_us);
        if ((r = vl_cgroup_set(&ct->cg, "cpu.cfs_quota_us", v)) < 0)
            return r;
    }
    return 0;
}

/* v2 on a v2 machine; on a hybrid one only when its cgroup2 tree offers
 * every controller we need (usually it offers none); else v1. 0: none. */
static int choose_version(const struct vl_cgroup_info *info,
                          const char *const *ctrls)
{
    bool v2_has_all = true;

    if (info->version == 2)
        return 2;
    for (size_t i = 0; ctrls[i]; i++)
        v2_has_all = v2_has_all && list_has(info->v2_controllers, ctrls[i]);
    if (info->hybrid && info->v2_mount[0] && v2_has_all)
        return 2;
    return info->version;
}
/* SOLUTION END */

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
    /* SOLUTION BEGIN */
    /* stub: (void)list_has; */
    /* stub: const struct mct_limits *l = &ct->limits; */
    /* stub: if (l->memory_bytes || l->pids || l->cpu_quota_us) */
    /* stub:     return MCT_TODO(2, "create the container's cgroup"); */
    /* stub: return 0; */
    const struct mct_limits *l = &ct->limits;
    const char *ctrls[4] = {NULL};
    size_t n = 0;
    char name[32];
    int r, version;

    if (!l->memory_bytes && !l->pids && !l->cpu_quota_us)
        return 0;
    if ((r = vl_cgroup_detect(&ct->cginfo)) < 0)
        return r;
    if (l->memory_bytes)
        ctrls[n++] = "memory";
    if (l->pids)
        ctrls[n++] = "pids";
    if (l->cpu_quota_us)
        ctrls[n++] = "cpu";
    version = choose_version(&ct->cginfo, ctrls);
    if (version == 0)
        return vl_err_plain(ENOENT, "this machine has no cgroups mounted "
                                    "under " VL_CGROUP_ROOT);
    snprintf(name, sizeof(name), "minictr-%d", (int)getpid());
    r = vl_cgroup_create(&ct->cg, &ct->cginfo, version, name, ctrls);
    if (r < 0) {
        ct->cg = (struct vl_cgroup){0};
        return r;
    }
    r = version == 2 ? set_limits_v2(ct) : set_limits_v1(ct);
    if (r < 0) {
        /* Keep the message: removing may record errors of its own. */
        char msg[VL_ERRMSG_MAX];

        snprintf(msg, sizeof(msg), "%s", vl_errmsg());
        mct_cgroup_destroy(ct);
        return vl_err_plain(r, "%s", msg);
    }
    mct_say(ct, "cgroup v%d %s", version,
            version == 2 ? ct->cg.path : ct->cg.v1[0].dir);
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: if (ct->cg.version) */
    /* stub:     return MCT_TODO(3, "move the container into it"); */
    /* stub: return 0; */
    char pid[16];
    int r;

    if (ct->cg.version == 0)
        return 0;
    snprintf(pid, sizeof(pid), "%d", (int)ct->pid);
    r = vl_cgroup_set(&ct->cg, "cgroup.procs", pid);
    if (r < 0)
        return vl_err_ctx(r, "pid %s", pid);
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: if (ct->cg.version) */
    /* stub:     return MCT_TODO(4, "read the OOM kills"); */
    /* stub: return 0; */
    uint64_t kills = 0, failcnt = 0;
    int r;

    ct->oom_killed = false;
    ct->oom_kills = 0;
    if (ct->cg.version == 0)
        return 0;
    if (ct->cg.version == 2)
        r = vl_cgroup_get_key(&ct->cg, "memory.events", "oom_kill", &kills);
    else
        r = vl_cgroup_get_key(&ct->cg, "memory.oom_control", "oom_kill",
                              &kills);
    if (r == -ENOENT && ct->cg.version == 1) {
        /* A kernel older than 4.13, or no memory hierarchy at all. */
        r = vl_cgroup_get_u64(&ct->cg, "memory.failcnt", &failcnt);
        ct->oom_killed = r == 0 && failcnt > 0;
    }
    if (r == -ENOENT) {
        vl_err_clear();
        return 0;
    }
    if (r < 0)
        return vl_err_ctx(r, "reading the container's OOM kills");
    if (kills > 0) {
        ct->oom_killed = true;
        ct->oom_kills = kills;
    }
    return 0;
    /* SOLUTION END */
}
/* SOLUTION BEGIN */
/* Remove one cgroup directory: rmdir(2) of a directory whose files are
 * the kernel's (cgroups(7)). */
static void remove_dir(const struct minictr *ct, const char *dir)
{
    if (rmdir(dir) < 0 && errno != ENOENT)
        fprintf(ct->log ? ct->log : stderr,
                "minictr: warning: the cgroup %s is left behind: rmdir: %s\n",
                dir, strerror(errno));
}
/* SOLUTION END */

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
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    if (ct->cg.version == 0)
        return;
    if (vl_cgroup_kill(&ct->cg, 2000) < 0)
        fprintf(ct->log ? ct->log : stderr, "minictr: warning: %s\n",
                vl_errmsg());
    if (ct->cg.version == 2)
        remove_dir(ct, ct->cg.path);
    for (size_t i = 0; ct->cg.version == 1 && i < ct->cg.nv1; i++)
        remove_dir(ct, ct->cg.v1[i].dir);
    ct->cg = (struct vl_cgroup){0};
    /* SOLUTION END */
}
