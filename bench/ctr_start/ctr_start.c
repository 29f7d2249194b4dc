/*
 * ctr_start.c - how long a container takes from start to exit: minictr
 * against crun and runc (Debian's), each running /bin/true in the same
 * rootfs, interleaved in one run. minictr three ways: on a rootfs
 * directory, from an image (lab 14), and on the very OCI bundle crun and
 * runc run (lab 16):
 *
 *   minictr         minictr run --rootfs B/rootfs --read-only
 *                       --seccomp unconfined -- /bin/true
 *   minictr-image   minictr run --store S/store --seccomp unconfined
 *                       vlab-bench -- /bin/true
 *   minictr-bundle  minictr --root S/minictr run --bundle B ID
 *   crun            crun --root S/crun run --bundle B ID
 *   runc            runc --root S/runc run --bundle B ID
 *
 * The image is `minictr image import` of a tar of build/rootfs into a
 * store in our temp dir, once, before the timing. --seccomp unconfined:
 * the bundle's config.json (`runc spec`) has no seccomp section, so no
 * runtime loads a filter (minictr's default profile would be the one
 * difference; without lab 13 built the option is left out).
 *
 * B is one OCI bundle (runtime-spec, "Filesystem Bundle"): config.json from
 * `runc spec` with process.terminal false and args ["/bin/true"], and a
 * copy of build/rootfs that minictr runs from too. The default spec's
 * container has what minictr's has: new pid, network, ipc, uts and mount
 * namespaces, a read-only root after pivot_root(2), /proc, /sys, a /dev,
 * masked paths, and a cgroup (minictr as root makes one with memory and
 * pids; runc and crun make one in every v1 hierarchy). Each run is timed
 * from fork(2) to waitpid(2) of the runtime, with a unique container id;
 * `run` deletes the container when it exits (runc(8), crun(1)), and each
 * runtime keeps its state under S, in our temp dir.
 *
 * On a cgroup v1 "hybrid" machine crun 1.8 refuses to start (it reads the
 * empty cgroup2 tree at /sys/fs/cgroup/unified as if it were v2), so the
 * benchmark first moves itself into a private mount namespace
 * (mount_namespaces(7)) and covers that tree with an empty tmpfs there,
 * once, before any timing (crun_mounts() says why not an unmount);
 * minictr and runc go back to the machine's mount namespace to run. The
 * machine's own mounts are never touched.
 *
 * The runs alternate runtime by runtime in a rotating order, so drift
 * lands on all alike; each runtime's cost is its median run. The goal is
 * minictr / crun <= 1 for each way of running minictr: it starts a
 * container no slower than crun, the fastest of the two production
 * runtimes.
 *
 * Exit status: 0 within the goal (every minictr variant that could be
 * measured), 1 over it, 2 on an error, 77 when no minictr variant or no
 * crun can be measured here (not built, not installed, not root). A
 * variant that cannot run (image or bundle support not built) is left out
 * with the reason ("skipped: ..."), the others still count.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "virtlab/error.h"

#include "common/ratio.h"

#ifndef BENCH_ROOTFS
#define BENCH_ROOTFS "build/rootfs"
#endif
#ifndef BENCH_MINICTR
#define BENCH_MINICTR "build/bin/minictr"
#endif

#define GOAL_RATIO 1.0 /* minictr / crun: at least as fast as crun */

#define DEFAULT_ROUNDS 5
#define DEFAULT_RUNS   10 /* per runtime per round: 50 each in all */
#define WARMUP_RUNS    2  /* per runtime: also checks that it works */
#define MAX_RUNS       10000
#define ERRLOG_MAX     1024 /* bytes of a failed run's stderr we show */

#define CGROUP_V1_ROOT  "/sys/fs/cgroup"
#define CGROUP_UNIFIED  "/sys/fs/cgroup/unified"
#define CGROUP_MAXDEPTH 4 /* how deep the leftover check looks */

/* minictr's variants first (RT_MINICTR .. RT_BUNDLE), then the others. */
enum runtime { RT_MINICTR, RT_IMAGE, RT_BUNDLE, RT_CRUN, RT_RUNC, RT_COUNT };
#define RT_NMINICTR RT_CRUN

static const char *const rt_names[RT_COUNT] = {
    "minictr", "minictr-image", "minictr-bundle", "crun", "runc"};

#define BENCH_IMAGE "vlab-bench" /* its name in our store */

struct bench {
    char dir[64];                   /* our temp dir: bundle/, state/, stderr */
    char bundle[128];               /* dir/bundle: config.json, rootfs/ */
    char rootfs[160];               /* dir/bundle/rootfs */
    char errlog[128];               /* the last run's stderr */
    char store[128];                /* dir/store: minictr's image store */
    bool unconfined;                /* minictr takes --seccomp unconfined */
    char path[RT_COUNT][PATH_MAX];  /* each runtime's executable */
    char state[RT_COUNT][128];      /* --root of bundle runtimes */
    bool usable[RT_COUNT];          /* found, and its warm-up runs worked */
    char why[RT_COUNT][ERRLOG_MAX]; /* why not */
    long runs;                      /* container ids: vlab-bench-PID-N */
    pid_t minictr_pids[MAX_RUNS * RT_NMINICTR]; /* for leftover checks */
    long n_minictr;
    int host_mnt; /* the machine's mount namespace, -1: not left */
};

/* ---- helpers ---------------------------------------------------------- */

/* The executable NAME in $PATH (like execvp(3)), resolved once so that
 * the timed runs do not search. */
static bool find_in_path(const char *name, char *out, size_t size)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL;
    bool found = false;

    copy = strdup(path && *path ? path
                                : "/usr/local/bin:/usr/bin:/bin:"
                                  "/usr/sbin:/sbin");
    for (dir = strtok_r(copy, ":", &save); copy && dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        snprintf(out, size, "%s/%s", dir, name);
        found = access(out, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* Run argv (a helper command, not timed) and wait; 0 if it exited 0. */
static int run_quiet(char *const argv[])
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return vl_err(errno, "fork for %s", argv[0]);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0)
        return vl_err(errno, "waiting for %s", argv[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return vl_err_plain(EIO, "%s %s failed (status 0x%x)", argv[0],
                            argv[1] ? argv[1] : "", status);
    return 0;
}

static void read_errlog(const struct bench *b, char *out, size_t size)
{
    int fd = open(b->errlog, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, out, size - 1) : -1;

    if (fd >= 0)
        close(fd);
    out[n > 0 ? n : 0] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
}

static int rm_entry(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* ---- setup -------------------------------------------------------------- */

/*
 * crun's mount namespace, on a v1 "hybrid" machine only: a private copy
 * of ours (mount_namespaces(7)) with every mount made private first
 * (MS_REC | MS_PRIVATE), or what follows would propagate back to the
 * host through the shared peer groups ("Shared subtrees"); then an empty
 * tmpfs over the cgroup2 tree, so crun sees plain v1. Not an unmount:
 * crun then makes a directory (with a cgroup.procs file) per container
 * in every /sys/fs/cgroup/<dir>, and under an unmounted "unified" that
 * would land in the host's tmpfs, hidden below its cgroup2 mount, for
 * good. In a tmpfs of our own it goes away with the namespace.
 *
 * The bench itself moves there; b->host_mnt keeps the machine's mount
 * namespace for minictr and runc, which run there as usual (setns(2)).
 */
static int crun_mounts(struct bench *b)
{
    struct statfs sfs;

    b->host_mnt = -1;
    if (statfs(CGROUP_V1_ROOT, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC ||
        statfs(CGROUP_UNIFIED, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
        return 0; /* pure v1 or pure v2: nothing to hide */
    b->host_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (b->host_mnt < 0)
        return vl_err(errno, "opening /proc/self/ns/mnt");
    if (unshare(CLONE_NEWNS) < 0)
        return vl_err(errno, "unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return vl_err(errno, "making / private in our mount namespace");
    if (mount("vlab-bench", CGROUP_UNIFIED, "tmpfs",
              MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=755") < 0)
        return vl_err(errno, "mounting a tmpfs over " CGROUP_UNIFIED
                             " in our private mount namespace");
    return 0;
}

/* Back to the machine's mount namespace (only the bench's single-threaded
 * children and the bench at its end call this). */
static int host_mounts(const struct bench *b)
{
    if (b->host_mnt >= 0 && setns(b->host_mnt, CLONE_NEWNS) < 0)
        return vl_err(errno, "setns to the host's mount namespace");
    return 0;
}

/* config.json: `runc spec` (or `crun spec`), then no terminal and
 * /bin/true as the process (runtime-spec config.md, "process"). */
static int make_config(struct bench *b)
{
    char config[192];
    json_error_t jerr;
    json_t *root, *process;
    int r = 0;

    if (b->path[RT_RUNC][0] || b->path[RT_CRUN][0]) {
        char *tool = b->path[RT_RUNC][0] ? b->path[RT_RUNC] : b->path[RT_CRUN];
        char *argv[] = {tool, "spec", "--bundle", b->bundle, NULL};

        if ((r = run_quiet(argv)) < 0)
            return vl_err_ctx(r, "writing the OCI config with %s spec", tool);
    } else {
        return vl_err_plain(ENOENT, "neither runc nor crun is installed");
    }
    snprintf(config, sizeof(config), "%s/config.json", b->bundle);
    root = json_load_file(config, 0, &jerr);
    if (!root)
        return vl_err_plain(EINVAL, "%s: %s", config, jerr.text);
    process = json_object_get(root, "process");
    if (!json_is_object(process)) {
        json_decref(root);
        return vl_err_plain(EINVAL, "%s has no process object", config);
    }
    json_object_set_new(process, "terminal", json_false());
    json_object_set_new(process, "args", json_pack("[s]", "/bin/true"));
    if (json_dump_file(root, config, JSON_INDENT(2)) < 0)
        r = vl_err_plain(EIO, "writing %s", config);
    json_decref(root);
    return r;
}

static int make_bundle(struct bench *b)
{
    char *cp[] = {"cp", "-a", BENCH_ROOTFS, b->rootfs, NULL};
    struct stat st;
    int r;

    if (stat(BENCH_ROOTFS "/bin/true", &st) < 0)
        return vl_err(errno, BENCH_ROOTFS "/bin/true: build the rootfs "
                                          "first (make rootfs)");
    snprintf(b->dir, sizeof(b->dir), "/tmp/vlab-ctr-start.XXXXXX");
    if (!mkdtemp(b->dir))
        return vl_err(errno, "creating a temp dir");
    snprintf(b->bundle, sizeof(b->bundle), "%s/bundle", b->dir);
    snprintf(b->rootfs, sizeof(b->rootfs), "%s/rootfs", b->bundle);
    snprintf(b->errlog, sizeof(b->errlog), "%s/stderr", b->dir);
    if (mkdir(b->bundle, 0755) < 0)
        return vl_err(errno, "mkdir %s", b->bundle);
    if ((r = run_quiet(cp)) < 0)
        return vl_err_ctx(r, "copying the rootfs");
    for (int rt = RT_BUNDLE; rt < RT_COUNT; rt++) {
        snprintf(b->state[rt], sizeof(b->state[rt]), "%s/state-%s", b->dir,
                 rt_names[rt]);
        if (mkdir(b->state[rt], 0700) < 0)
            return vl_err(errno, "mkdir %s", b->state[rt]);
    }
    return make_config(b);
}

/* Run argv (a helper command, not timed) with its stderr in b->errlog;
 * on failure the reason is that stderr. */
static int run_logged(struct bench *b, char *const argv[])
{
    char out[ERRLOG_MAX];
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return vl_err(errno, "fork for %s", argv[0]);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int err =
            open(b->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (null < 0 || err < 0 || host_mounts(b) < 0)
            _exit(120);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0)
        return vl_err(errno, "waiting for %s", argv[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    read_errlog(b, out, sizeof(out));
    return vl_err_plain(EIO, "%s %s: status 0x%x: %s", argv[0], argv[1], status,
                        out[0] ? out : "(nothing on stderr)");
}

/*
 * The image of the minictr-image runs (lab 14): a tar of the rootfs
 * imported into a store in our temp dir, once. Without image support in
 * minictr, that variant is left out with the reason.
 */
static void make_image(struct bench *b)
{
    char tar[192],
        *tar_argv[] = {"/bin/tar", "-C", BENCH_ROOTFS, "-cf", tar, ".", NULL};
    char *import[] = {b->path[RT_IMAGE], "image", "import",    "--store",
                      b->store,          tar,     BENCH_IMAGE, NULL};
    int r;

    if (!b->usable[RT_IMAGE])
        return;
    snprintf(b->store, sizeof(b->store), "%s/store", b->dir);
    snprintf(tar, sizeof(tar), "%s/rootfs.tar", b->dir);
    if ((r = run_logged(b, tar_argv)) == 0)
        r = run_logged(b, import);
    unlink(tar);
    if (r < 0) {
        b->usable[RT_IMAGE] = false;
        snprintf(b->why[RT_IMAGE], sizeof(b->why[RT_IMAGE]),
                 "skipped: minictr image support not built? %s", vl_errmsg());
    }
}

/* Does this minictr take --seccomp unconfined (lab 13 built)? */
static void check_unconfined(struct bench *b)
{
    char *argv[] = {
        b->path[RT_MINICTR], "run", "--rootfs",  b->rootfs, "--seccomp",
        "unconfined",        "--",  "/bin/true", NULL};

    b->unconfined = b->usable[RT_MINICTR] && run_logged(b, argv) == 0;
    vl_err_clear();
}

/* ---- one container run -------------------------------------------------- */

static void exec_runtime(struct bench *b, enum runtime rt, const char *id)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int err = open(b->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (null < 0 || err < 0)
        _exit(120);
    if (rt != RT_CRUN && host_mounts(b) < 0) {
        dprintf(err, "%s\n", vl_errmsg());
        _exit(120);
    }
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    switch (rt) {
    case RT_MINICTR:
        if (b->unconfined)
            execl(b->path[rt], "minictr", "run", "--rootfs", b->rootfs,
                  "--read-only", "--seccomp", "unconfined", "--", "/bin/true",
                  (char *)NULL);
        else
            execl(b->path[rt], "minictr", "run", "--rootfs", b->rootfs,
                  "--read-only", "--", "/bin/true", (char *)NULL);
        break;
    case RT_IMAGE:
        if (b->unconfined)
            execl(b->path[rt], "minictr", "run", "--store", b->store,
                  "--seccomp", "unconfined", BENCH_IMAGE, "--", "/bin/true",
                  (char *)NULL);
        else
            execl(b->path[rt], "minictr", "run", "--store", b->store,
                  BENCH_IMAGE, "--", "/bin/true", (char *)NULL);
        break;
    case RT_BUNDLE:
        execl(b->path[rt], "minictr", "--root", b->state[rt], "run", "--bundle",
              b->bundle, id, (char *)NULL);
        break;
    case RT_CRUN:
    case RT_RUNC:
        execl(b->path[rt], rt_names[rt], "--root", b->state[rt], "run",
              "--bundle", b->bundle, id, (char *)NULL);
        break;
    case RT_COUNT:
        break;
    }
    dprintf(STDERR_FILENO, "exec %s: %s\n", b->path[rt], strerror(errno));
    _exit(127);
}

/* Start one container running /bin/true and wait for its end; *ms gets
 * the time from fork(2) to waitpid(2). */
static int run_one(struct bench *b, enum runtime rt, double *ms)
{
    char id[64], out[ERRLOG_MAX];
    double t0 = ratio_now_ns();
    int status;
    pid_t pid;

    snprintf(id, sizeof(id), "vlab-bench-%d-%ld", (int)getpid(), b->runs++);
    pid = fork();
    if (pid < 0)
        return vl_err(errno, "fork");
    if (pid == 0)
        exec_runtime(b, rt, id);
    if (rt < RT_NMINICTR && b->n_minictr < (long)(sizeof(b->minictr_pids) /
                                                  sizeof(b->minictr_pids[0])))
        b->minictr_pids[b->n_minictr++] = pid;
    if (waitpid(pid, &status, 0) < 0)
        return vl_err(errno, "waiting for %s", rt_names[rt]);
    *ms = (ratio_now_ns() - t0) / 1e6;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    read_errlog(b, out, sizeof(out));
    return vl_err_plain(EIO, "%s run (container %s) %s %d: %s", rt_names[rt],
                        id, WIFEXITED(status) ? "exited with" : "killed by",
                        WIFEXITED(status) ? WEXITSTATUS(status)
                                          : WTERMSIG(status),
                        out[0] ? out : "(nothing on stderr)");
}

/* Find each runtime and run it WARMUP_RUNS times; what fails is left out
 * of the measurement, with the reason. */
static void check_runtimes(struct bench *b)
{
    for (int rt = 0; rt < RT_COUNT; rt++) {
        double ms;
        int r = 0;

        if (!b->usable[rt])
            continue;
        for (int i = 0; i < WARMUP_RUNS && r == 0; i++)
            r = run_one(b, rt, &ms);
        if (r < 0) {
            b->usable[rt] = false;
            snprintf(b->why[rt], sizeof(b->why[rt]), "%s%s",
                     rt == RT_BUNDLE ? "skipped: minictr bundle support not "
                                       "built? "
                                     : "",
                     vl_errmsg());
        }
    }
}

static void find_runtimes(struct bench *b)
{
    struct stat st;

    for (int rt = 0; rt < RT_NMINICTR; rt++) {
        if (stat(BENCH_MINICTR, &st) == 0 && access(BENCH_MINICTR, X_OK) == 0) {
            snprintf(b->path[rt], sizeof(b->path[rt]), "%s", BENCH_MINICTR);
            b->usable[rt] = true;
        } else {
            snprintf(b->why[rt], sizeof(b->why[rt]), "%s not built (make all)",
                     BENCH_MINICTR);
        }
    }
    for (int rt = RT_CRUN; rt < RT_COUNT; rt++) {
        b->usable[rt] =
            find_in_path(rt_names[rt], b->path[rt], sizeof(b->path[rt]));
        if (!b->usable[rt]) {
            b->path[rt][0] = '\0';
            snprintf(b->why[rt], sizeof(b->why[rt]),
                     "%s not installed (make deps)", rt_names[rt]);
        }
    }
}

/* ---- measuring ------------------------------------------------------ */

struct result {
    double ms[RT_COUNT]; /* median ms per run */
    /* the smallest and largest per-round ratio variant / other */
    double lo[RT_NMINICTR][RT_COUNT], hi[RT_NMINICTR][RT_COUNT];
};

/* Both measured: the ratio of minictr variant m to runtime other. */
static bool both(const struct bench *b, int m, int other)
{
    return b->usable[m] && b->usable[other];
}

/*
 * rounds x runs starts per usable runtime. Within a round, pass i runs
 * each runtime once, in an order rotated by i (minictr, minictr-image,
 * minictr-bundle, crun, runc; then from minictr-image on; ...), so each
 * takes each place in the order equally often.
 */
static int measure(struct bench *b, const struct ratio_opts *o,
                   struct result *res)
{
    long total = o->rounds * o->count;
    double *ms[RT_COUNT] = {NULL};
    int r = 0;

    for (int rt = 0; rt < RT_COUNT; rt++) {
        ms[rt] = calloc((size_t)total, sizeof(double));
        if (!ms[rt])
            r = vl_err(ENOMEM, "allocating %ld samples", total);
        for (int m = 0; m < RT_NMINICTR; m++) {
            res->lo[m][rt] = 1e9;
            res->hi[m][rt] = 0;
        }
    }
    for (long round = 0; r == 0 && round < o->rounds; round++) {
        long first = round * o->count;
        double med[RT_COUNT] = {0};

        for (long i = first; r == 0 && i < first + o->count; i++)
            for (int k = 0; r == 0 && k < RT_COUNT; k++) {
                int rt = (int)((i + k) % RT_COUNT);

                if (b->usable[rt])
                    r = run_one(b, rt, &ms[rt][i]);
            }
        for (int rt = 0; r == 0 && rt < RT_COUNT; rt++) {
            double copy[MAX_RUNS];

            if (!b->usable[rt])
                continue;
            memcpy(copy, ms[rt] + first, (size_t)o->count * sizeof(double));
            med[rt] = ratio_median(copy, o->count);
        }
        for (int m = 0; r == 0 && m < RT_NMINICTR; m++)
            for (int rt = RT_CRUN; rt < RT_COUNT; rt++) {
                double ratio = med[m] / med[rt];

                if (!both(b, m, rt))
                    continue;
                res->lo[m][rt] =
                    ratio < res->lo[m][rt] ? ratio : res->lo[m][rt];
                res->hi[m][rt] =
                    ratio > res->hi[m][rt] ? ratio : res->hi[m][rt];
            }
        if (r == 0 && o->verbose) {
            printf("  round %ld:", round + 1);
            for (int rt = 0; rt < RT_COUNT; rt++)
                if (b->usable[rt])
                    printf(" %s %.1f ms", rt_names[rt], med[rt]);
            for (int m = 0; m < RT_NMINICTR; m++)
                if (both(b, m, RT_CRUN))
                    printf("%s %.3f", m ? "," : "; /crun",
                           med[m] / med[RT_CRUN]);
            printf("\n");
        }
    }
    for (int rt = 0; rt < RT_COUNT; rt++) {
        if (r == 0 && b->usable[rt])
            res->ms[rt] = ratio_median(ms[rt], total);
        free(ms[rt]);
    }
    return r;
}

/* ---- no leftovers ------------------------------------------------------- */

static bool leftover_name(const struct bench *b, const char *name)
{
    char prefix[48];
    int pid;

    snprintf(prefix, sizeof(prefix), "vlab-bench-%d-", (int)getpid());
    if (strncmp(name, prefix, strlen(prefix)) == 0)
        return true;
    if (sscanf(name, "minictr-%d", &pid) == 1)
        for (long i = 0; i < b->n_minictr; i++)
            if (b->minictr_pids[i] == pid)
                return true;
    return false;
}

/* Remove (rmdir(2): cgroups are empty by now) and count the cgroups our
 * containers left under dir, depth-first. */
static int sweep_cgroups(const struct bench *b, const char *dir, int depth,
                         char *found, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char sub[PATH_MAX];

        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        if (depth < CGROUP_MAXDEPTH)
            n += sweep_cgroups(b, sub, depth + 1, found, size);
        if (leftover_name(b, e->d_name)) {
            size_t len = strlen(found);

            snprintf(found + len, size - len, "%s%s", len ? ", " : "", sub);
            rmdir(sub);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Containers still in a runtime's state dir (each is a directory), and
 * in the image store's containers/ (lab 14: one per running container). */
static int count_states(const struct bench *b, char *found, size_t size)
{
    char store_ctrs[160];
    int n = 0;

    snprintf(store_ctrs, sizeof(store_ctrs), "%s/containers", b->store);
    for (int rt = RT_BUNDLE; rt <= RT_COUNT; rt++) {
        const char *dir = rt == RT_COUNT ? store_ctrs : b->state[rt];
        DIR *d = dir[0] && (rt < RT_COUNT || b->store[0]) ? opendir(dir) : NULL;
        struct dirent *e;

        while (d && (e = readdir(d)))
            if (e->d_name[0] != '.') {
                size_t len = strlen(found);

                snprintf(found + len, size - len, "%s%s %s", len ? ", " : "",
                         rt == RT_COUNT ? "image store container"
                                        : rt_names[rt],
                         e->d_name);
                n++;
            }
        if (d)
            closedir(d);
    }
    return n;
}

/* Check nothing is left, then remove our temp dir; an error names what
 * was left (and removed). */
static int cleanup(struct bench *b)
{
    char found[2048] = "";
    int n = 0, r;

    if (b->state[RT_BUNDLE][0])
        n += count_states(b, found, sizeof(found));
    if (b->dir[0])
        nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    /* The machine's cgroups, not the tmpfs crun saw (crun_mounts()). */
    if ((r = host_mounts(b)) < 0)
        return vl_err_ctx(r, "checking for leftover cgroups");
    if (b->host_mnt >= 0)
        close(b->host_mnt);
    n += sweep_cgroups(b, CGROUP_V1_ROOT, 0, found, sizeof(found));
    if (n)
        return vl_err_plain(EBUSY, "containers left %d thing(s) behind: %s", n,
                            found);
    return 0;
}

/* ---- main ------------------------------------------------------------ */

static const struct ratio_spec spec = {
    .prog = "ctr_start",
    .count_opt = "runs",
    .count_help = "container starts per runtime per round",
    .unit = "run",
    .default_count = DEFAULT_RUNS,
    .default_rounds = DEFAULT_ROUNDS,
    .default_slice = 1,
    .max_count = MAX_RUNS,
    .units_per_count = 1,
};

/* How each minictr variant runs, for the report. */
static const char *const variant_how[RT_NMINICTR] = {
    "run --rootfs DIR", "run IMAGE (lab 14)", "run --bundle B (lab 16)"};

static int report(const struct bench *b, const struct ratio_opts *o,
                  const struct result *res)
{
    int measured = 0, over = 0;

    printf("container start (median ms per run):");
    for (int rt = 0, n = 0; rt < RT_COUNT; rt++)
        if (b->usable[rt])
            printf("%s %s %.1f", n++ ? "," : "", rt_names[rt], res->ms[rt]);
    printf("\n");
    for (int m = 0; m < RT_NMINICTR; m++) {
        double ratio;

        if (!both(b, m, RT_CRUN))
            continue;
        ratio = res->ms[m] / res->ms[RT_CRUN];
        measured++;
        over += ratio > GOAL_RATIO;
        printf("  %-15s %-24s ratio %s/crun %.3f (goal <= %.2f): %s\n",
               rt_names[m], variant_how[m], rt_names[m], ratio, GOAL_RATIO,
               ratio <= GOAL_RATIO ? "OK" : "OVER GOAL");
    }
    printf(
        "  %ld rounds x %ld runs per runtime, interleaved; /bin/true in "
        "one bundle%s%s",
        o->rounds, o->count,
        b->unconfined ? "; minictr --seccomp unconfined like the bundle" : "",
        b->host_mnt >= 0 ? "; crun with the cgroup2 tree hidden (hybrid)" : "");
    for (int m = 0; m < RT_NMINICTR; m++)
        for (int rt = RT_CRUN; rt < RT_COUNT; rt++)
            if (both(b, m, rt))
                printf("; %s/%s %.3f (rounds %.3f..%.3f)", rt_names[m],
                       rt_names[rt], res->ms[m] / res->ms[rt], res->lo[m][rt],
                       res->hi[m][rt]);
    printf("\n");
    for (int rt = 0; rt < RT_COUNT; rt++)
        if (!b->usable[rt])
            printf("  %s left out: %s\n", rt_names[rt], b->why[rt]);
    if (!measured) {
        printf("SKIP: the goal needs crun and at least one way of running "
               "minictr\n");
        return RATIO_EXIT_SKIP;
    }
    return over ? RATIO_EXIT_OVER : 0;
}

int main(int argc, char **argv)
{
    static struct bench b; /* large: minictr_pids */
    struct ratio_opts o;
    struct result res = {.ms = {0}};
    int r, status;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (ratio_parse(&spec, argc, argv, &o) < 0)
        return RATIO_EXIT_ERROR;
    if (o.slice != 1) {
        fprintf(stderr, "ctr_start: --slice is always 1 here: the runtimes "
                        "alternate container by container\n");
        return RATIO_EXIT_ERROR;
    }
    if (geteuid() != 0) {
        printf("SKIP: container runtimes need root here (rootful crun, "
               "runc and minictr)\n");
        return RATIO_EXIT_SKIP;
    }
    b.host_mnt = -1;
    find_runtimes(&b);
    if ((r = crun_mounts(&b)) == 0 && (r = make_bundle(&b)) == 0) {
        check_unconfined(&b);
        make_image(&b);
        check_runtimes(&b);
        r = measure(&b, &o, &res);
    }
    status = r < 0 ? RATIO_EXIT_ERROR : report(&b, &o, &res);
    if (r < 0)
        fprintf(stderr, "ctr_start: %s\n", vl_errmsg());
    if ((r = cleanup(&b)) < 0) {
        fprintf(stderr, "ctr_start: %s\n", vl_errmsg());
        status = RATIO_EXIT_ERROR;
    }
    return status;
}
