/*
 * mct_test.h - fixtures shared by the tests of every minictr lab (09-16).
 *
 * Include it FIRST in a test file (it defines _GNU_SOURCE). What it gives:
 *
 *  - where things are: mct_rootfs() (the test rootfs, build/rootfs, or
 *    $MCT_ROOTFS), mct_binary() (the minictr built next to the tests from
 *    the stage under test + the reference of every other stage, or
 *    $MCT_BINARY), mct_probe_path() (vlab-probe on the host's side);
 *  - running minictr as a user would, with a hard time limit:
 *      struct mct_result r;
 *      mct_run_cli(&r, 10, "--hostname", "box", "--",
 *                  "/bin/vlab-probe", "env", NULL);
 *      cr_assert_eq(r.status, 0, "%s", r.err);
 *      char *h = mct_kv(r.out, "hostname");   (strdup'd, or NULL)
 *      ...  free(h); mct_result_free(&r);
 *    mct_run_cli() adds "run --rootfs <mct_rootfs()>"; mct_run_cli_rootfs()
 *    takes another rootfs (a copy), mct_run_cli_as() runs minictr as
 *    another host user (lab 11), mct_cli() passes the arguments alone
 *    ("check", "--help", bad command lines);
 *  - running it in the background, to act while the container runs:
 *    mct_start_cli(), mct_proc_wait_for() (a text in its stdout),
 *    mct_proc_signal(), mct_proc_container_pid(), mct_proc_finish();
 *  - a private copy of the rootfs: mct_rootfs_copy(), mct_rootfs_remove();
 *  - the leftover check every lab should end its runs with:
 *    mct_snapshot() before, mct_assert_no_leftovers() after (mounts, fds,
 *    the container's cgroup, processes left behind);
 *  - calling stage functions in-process, in a forked child in fresh
 *    namespaces, to test one TODO alone: mct_call_new(), mct_call_run().
 *
 * A test that needs what the machine lacks skips with the reason
 * (mct_require_root() and friends), it never passes silently.
 */
#ifndef MCT_TEST_H
#define MCT_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "minictr.h"
#include "virtlab/mount.h"
#include "virtlab/ns.h"

#ifndef VL_ROOTFS
#define VL_ROOTFS "build/rootfs"
#endif
#ifndef VL_MINICTR
#define VL_MINICTR "build/bin/minictr"
#endif

#define MCT_MAX_ARGS 64

/* ---- where things are -----------------------------------------------------
 */

/* The test rootfs: busybox and /bin/vlab-probe (`make rootfs`). */
static inline const char *mct_rootfs(void)
{
    const char *e = getenv("MCT_ROOTFS");

    return e && *e ? e : VL_ROOTFS;
}

/* The minictr binary under test. */
static inline const char *mct_binary(void)
{
    const char *e = getenv("MCT_BINARY");

    return e && *e ? e : VL_MINICTR;
}

/* vlab-probe as the host sees it (static: it runs outside a container too,
 * e.g. as the command of an mct_init() called in-process). */
static inline const char *mct_probe_path(void)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/bin/vlab-probe", mct_rootfs());
    return path;
}

/* The rootfs and minictr must exist: a missing one is a build problem. */
static inline void mct_require_built(void)
{
    cr_assert(access(mct_probe_path(), X_OK) == 0,
              "no test rootfs at %s (%s): run `make rootfs`", mct_rootfs(),
              strerror(errno));
    cr_assert(access(mct_binary(), X_OK) == 0, "no minictr at %s (%s)",
              mct_binary(), strerror(errno));
}

/* Skip (never pass) when not root: containers as root need it. */
static inline void mct_require_root(void)
{
    if (geteuid() != 0)
        cr_skip_test("needs root (this test runs containers as root)");
}

/* ---- running minictr -------------------------------------------------------
 */

struct mct_result {
    int status;     /* minictr's exit status; 128 + N when signal N
                     * killed it; -1 when it hit the time limit */
    bool timed_out; /* the time limit killed it (SIGKILL) */
    pid_t pid;      /* its pid: its cgroup was named minictr-<pid> */
    double seconds; /* how long it ran */
    char *out;      /* its stdout and stderr (always terminated) */
    char *err;
};

static inline void mct_result_free(struct mct_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Run as another host user (lab 11): uid/gid, no supplementary groups. */
struct mct_as {
    uid_t uid;
    gid_t gid;
};

/* A minictr running in the background. */
struct mct_proc {
    pid_t pid;
    int fd[2]; /* its stdout and stderr (read ends), -1 at EOF */
    char *buf[2];
    size_t len[2], cap[2];
    struct timespec start;
    bool reaped;
    int wstatus;
};

static inline double mct_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Start argv[0] (a path) with stdin from /dev/null, stdout and stderr into
 * pipes, in its own process group; as `as` when not NULL. It dies with the
 * test (PR_SET_PDEATHSIG), so a crashed test leaves no minictr behind. */
static inline void mct_start_argv(struct mct_proc *p, const struct mct_as *as,
                                  char *const argv[])
{
    int out[2], err[2];

    *p = (struct mct_proc){.pid = -1, .fd = {-1, -1}};
    /* Orphans of minictr's tree come back to us, so the leftover check
     * can find processes a container left behind (prctl(2),
     * PR_SET_CHILD_SUBREAPER). */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0,
              "pipe2: %s", strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    fflush(NULL);
    p->pid = fork();
    cr_assert(p->pid >= 0, "fork: %s", strerror(errno));
    if (p->pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        sigset_t none;

        setpgid(0, 0);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++)
            signal(s, SIG_DFL);
        dup2(null, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (as) {
            if (setgroups(0, NULL) || setresgid(as->gid, as->gid, as->gid) ||
                setresuid(as->uid, as->uid, as->uid)) {
                dprintf(2, "mct_test: cannot become %u:%u: %s\n", as->uid,
                        as->gid, strerror(errno));
                _exit(126);
            }
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(argv[0], argv);
        dprintf(2, "mct_test: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    p->fd[0] = out[0];
    p->fd[1] = err[0];
    for (int i = 0; i < 2; i++) {
        p->cap[i] = 4096;
        p->buf[i] = calloc(1, p->cap[i]);
        cr_assert_not_null(p->buf[i]);
    }
}

/* Read what is there, waiting up to timeout_ms; false when both are at EOF. */
static inline bool mct_proc_pump(struct mct_proc *p, int timeout_ms)
{
    struct pollfd pfd[2];
    char chunk[4096];

    for (int i = 0; i < 2; i++)
        pfd[i] = (struct pollfd){.fd = p->fd[i], .events = POLLIN};
    if (p->fd[0] < 0 && p->fd[1] < 0)
        return false;
    if (poll(pfd, 2, timeout_ms) <= 0)
        return true;
    for (int i = 0; i < 2; i++) {
        ssize_t n;

        if (p->fd[i] < 0 || !pfd[i].revents)
            continue;
        n = read(p->fd[i], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(p->fd[i]);
            p->fd[i] = -1;
            continue;
        }
        while (p->len[i] + (size_t)n + 1 > p->cap[i]) {
            p->cap[i] *= 2;
            p->buf[i] = realloc(p->buf[i], p->cap[i]);
            cr_assert_not_null(p->buf[i]);
        }
        memcpy(p->buf[i] + p->len[i], chunk, (size_t)n);
        p->len[i] += (size_t)n;
        p->buf[i][p->len[i]] = '\0';
    }
    return true;
}

/* Wait (up to timeout_sec) until `needle` appears in its stdout. */
static inline bool mct_proc_wait_for(struct mct_proc *p, const char *needle,
                                     double timeout_sec)
{
    double end = mct_now() + timeout_sec;

    while (!strstr(p->buf[0], needle)) {
        if (mct_now() >= end || !mct_proc_pump(p, 50))
            return strstr(p->buf[0], needle) != NULL;
    }
    return true;
}

/* What it printed so far. */
static inline const char *mct_proc_out(const struct mct_proc *p)
{
    return p->buf[0];
}
static inline const char *mct_proc_err(const struct mct_proc *p)
{
    return p->buf[1];
}

static inline void mct_proc_signal(struct mct_proc *p, int sig)
{
    if (!p->reaped)
        kill(p->pid, sig);
}

/* The first child of process pid (from /proc/PID/task/PID/children), or
 * -1. For a running minictr: the container's PID 1 as the host sees it. */
static inline pid_t mct_first_child(pid_t pid)
{
    char path[64];
    long child = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    if (fscanf(f, "%ld", &child) != 1)
        child = -1;
    fclose(f);
    return (pid_t)child;
}

/* The container's PID 1 (host pid) of a running minictr, waiting up to
 * timeout_sec for it to appear; -1 if there is none. */
static inline pid_t mct_proc_container_pid(struct mct_proc *p,
                                           double timeout_sec)
{
    double end = mct_now() + timeout_sec;
    pid_t c;

    while ((c = mct_first_child(p->pid)) < 0 && mct_now() < end)
        usleep(10000);
    return c;
}

/*
 * A minictr killed by SIGKILL cannot remove its cgroup: the fixture does,
 * so that a test that hits its time limit leaves nothing on the machine.
 * Removes every directory minictr-PID under VL_CGROUP_ROOT{,/ *}/virtlab
 * once the processes in it are gone (they die with the container's PID
 * 1), trying for up to a second.
 */
static inline void mct_cgroup_cleanup_after_kill(pid_t pid)
{
    const char *where[] = {VL_CGROUP_ROOT, VL_CGROUP_ROOT "/*"};

    for (int tries = 0; tries < 50; tries++) {
        size_t left = 0;

        for (size_t i = 0; i < 2; i++) {
            char pat[PATH_MAX];
            glob_t g;

            snprintf(pat, sizeof(pat), "%s/virtlab/minictr-%d", where[i], pid);
            if (glob(pat, GLOB_ONLYDIR, NULL, &g) == 0)
                for (size_t j = 0; j < g.gl_pathc; j++)
                    if (rmdir(g.gl_pathv[j]) < 0 && errno != ENOENT)
                        left++;
            globfree(&g);
        }
        if (!left)
            return;
        usleep(20000);
    }
}

/*
 * Wait until it exits (SIGKILL to its process group after timeout_sec,
 * and its cgroup removed), collect the rest of its output and its status
 * into *r. p's buffers are r's now (mct_result_free()).
 */
static inline void mct_proc_finish(struct mct_proc *p, struct mct_result *r,
                                   double timeout_sec)
{
    double end = mct_now() + timeout_sec, drain_end = 0;

    *r = (struct mct_result){.pid = p->pid};
    for (;;) {
        bool open = mct_proc_pump(p, 20);

        if (!p->reaped && waitpid(p->pid, &p->wstatus, WNOHANG) == p->pid) {
            p->reaped = true;
            drain_end = mct_now() + 1.0;
        }
        if (p->reaped && (!open || mct_now() >= drain_end))
            break;
        if (!p->reaped && mct_now() >= end) {
            r->timed_out = true;
            kill(-p->pid, SIGKILL);
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &p->wstatus, 0);
            mct_cgroup_cleanup_after_kill(p->pid);
            p->reaped = true;
            drain_end = mct_now() + 1.0;
        }
    }
    for (int i = 0; i < 2; i++)
        if (p->fd[i] >= 0)
            close(p->fd[i]);
    r->seconds =
        mct_now() - ((double)p->start.tv_sec + (double)p->start.tv_nsec / 1e9);
    if (r->timed_out)
        r->status = -1;
    else if (WIFEXITED(p->wstatus))
        r->status = WEXITSTATUS(p->wstatus);
    else
        r->status = 128 + WTERMSIG(p->wstatus);
    r->out = p->buf[0];
    r->err = p->buf[1];
    *p = (struct mct_proc){.pid = -1, .fd = {-1, -1}, .reaped = true};
}

/* argv = [minictr, (run --rootfs ROOTFS when rootfs), args..., NULL] */
static inline void mct_build_argv(char **argv, const char *rootfs,
                                  const char *first, va_list ap)
{
    int n = 0;

    argv[n++] = (char *)mct_binary();
    if (rootfs) {
        argv[n++] = "run";
        argv[n++] = "--rootfs";
        argv[n++] = (char *)rootfs;
    }
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        cr_assert(n < MCT_MAX_ARGS - 1, "too many arguments");
        argv[n++] = (char *)a;
    }
    argv[n] = NULL;
}

static inline void mct_vrun(struct mct_result *r, const struct mct_as *as,
                            double timeout_sec, const char *rootfs,
                            const char *first, va_list ap)
{
    char *argv[MCT_MAX_ARGS];
    struct mct_proc p;

    mct_build_argv(argv, rootfs, first, ap);
    mct_start_argv(&p, as, argv);
    mct_proc_finish(&p, r, timeout_sec);
}

/*
 * minictr run --rootfs <mct_rootfs()> ARGS... (NULL-terminated), killed
 * after timeout_sec. The result's status is minictr's exit status.
 */
static inline void mct_run_cli(struct mct_result *r, double timeout_sec,
                               const char *arg, ...)
{
    va_list ap;

    va_start(ap, arg);
    mct_vrun(r, NULL, timeout_sec, mct_rootfs(), arg, ap);
    va_end(ap);
}

/* The same with another rootfs (a copy from mct_rootfs_copy()). */
static inline void mct_run_cli_rootfs(struct mct_result *r, double timeout_sec,
                                      const char *rootfs, const char *arg, ...)
{
    va_list ap;

    va_start(ap, arg);
    mct_vrun(r, NULL, timeout_sec, rootfs, arg, ap);
    va_end(ap);
}

/* The same, run as host user uid:gid (no supplementary groups). The
 * rootfs must be readable by that user: mct_rootfs_copy_owned(). */
static inline void mct_run_cli_as(struct mct_result *r, uid_t uid, gid_t gid,
                                  double timeout_sec, const char *rootfs,
                                  const char *arg, ...)
{
    struct mct_as as = {uid, gid};
    va_list ap;

    va_start(ap, arg);
    mct_vrun(r, &as, timeout_sec, rootfs, arg, ap);
    va_end(ap);
}

/* minictr ARGS... exactly as given ("check", "--help", bad lines). */
static inline void mct_cli(struct mct_result *r, double timeout_sec,
                           const char *arg, ...)
{
    va_list ap;

    va_start(ap, arg);
    mct_vrun(r, NULL, timeout_sec, NULL, arg, ap);
    va_end(ap);
}

/* minictr run --rootfs ROOTFS ARGS... in the background (rootfs NULL: the
 * test rootfs); then mct_proc_wait_for(), ..., mct_proc_finish(). */
static inline void mct_start_cli(struct mct_proc *p, const char *rootfs,
                                 const char *arg, ...)
{
    char *argv[MCT_MAX_ARGS];
    va_list ap;

    va_start(ap, arg);
    mct_build_argv(argv, rootfs ? rootfs : mct_rootfs(), arg, ap);
    va_end(ap);
    mct_start_argv(p, NULL, argv);
}

/* ---- vlab-probe's output ----------------------------------------------------
 */

/* The value of "key=value" at the start of a line of out (the first such
 * line), strdup'd; NULL when there is none. */
static inline char *mct_kv(const char *out, const char *key)
{
    size_t klen = strlen(key);
    const char *l = out;

    while (l && *l) {
        if (!strncmp(l, key, klen) && l[klen] == '=') {
            const char *v = l + klen + 1;

            return strndup(v, strcspn(v, "\n"));
        }
        if ((l = strchr(l, '\n')))
            l++;
    }
    return NULL;
}

/* The number of key=N; fails the test when the key is missing. */
static inline long long mct_kv_num(const char *out, const char *key)
{
    char *v = mct_kv(out, key), *end;
    long long n;

    cr_assert_not_null(v, "vlab-probe printed no %s= in:\n%s", key, out);
    n = strtoll(v, &end, 0);
    cr_assert(*v && !*end, "%s=%s is not a number", key, v);
    free(v);
    return n;
}

/* ---- a private copy of the rootfs ---------------------------------------- */

/* Run argv (from PATH) and wait; its exit status, or -1. */
static inline int mct_system(char *const argv[])
{
    pid_t pid;
    int st;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Copy the test rootfs to a new directory /tmp/mct-rootfs-XXXXXX and write
 * its path to dir (PATH_MAX bytes). Remove it with mct_rootfs_remove(). */
static inline void mct_rootfs_copy(char *dir)
{
    char src[PATH_MAX];

    snprintf(dir, PATH_MAX, "/tmp/mct-rootfs-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    chmod(dir, 0755);
    snprintf(src, sizeof(src), "%s/.", mct_rootfs());
    cr_assert_eq(mct_system((char *[]){"cp", "-a", src, dir, NULL}), 0,
                 "cp -a %s %s failed", src, dir);
}

/* The same, owned by uid:gid throughout (for minictr run as that user). */
static inline void mct_rootfs_copy_owned(char *dir, uid_t uid, gid_t gid)
{
    char owner[64];

    mct_rootfs_copy(dir);
    snprintf(owner, sizeof(owner), "%u:%u", uid, gid);
    cr_assert_eq(mct_system((char *[]){"chown", "-R", "-h", owner, dir, NULL}),
                 0, "chown -R %s %s failed", owner, dir);
}

/* Remove a copy (never crossing into a mount left on it). */
static inline void mct_rootfs_remove(const char *dir)
{
    if (!dir || !*dir)
        return;
    mct_system((char *[]){"rm", "-rf", "--one-file-system", (char *)dir, NULL});
    cr_expect(access(dir, F_OK) != 0, "could not remove %s", dir);
}

/* ---- leftovers
 * ------------------------------------------------------------------ */

struct mct_snapshot {
    int mounts; /* lines of our /proc/self/mountinfo */
    int fds;    /* our open fds */
};

static inline int mct_count_mounts(void)
{
    return vl_mount_count_under(0, "/");
}

static inline void mct_snapshot(struct mct_snapshot *s)
{
    s->mounts = mct_count_mounts();
    s->fds = vl_count_fds();
}

/* The cgroup directory a minictr with pid `pid` made and left, or NULL:
 * /sys/fs/cgroup/virtlab/minictr-PID (v2) or /sys/fs/cgroup/<ANY>/virtlab/
 * minictr-PID (v1 hierarchies, and a hybrid's unified tree). strdup'd. */
static inline char *mct_cgroup_leftover(pid_t pid)
{
    const char *where[] = {VL_CGROUP_ROOT, VL_CGROUP_ROOT "/*"};
    char *found = NULL;

    for (size_t i = 0; i < 2 && !found; i++) {
        char pat[PATH_MAX];
        glob_t g;

        snprintf(pat, sizeof(pat), "%s/virtlab/minictr-%d", where[i], pid);
        if (glob(pat, GLOB_ONLYDIR, NULL, &g) == 0 && g.gl_pathc > 0)
            found = strdup(g.gl_pathv[0]);
        globfree(&g);
    }
    return found;
}

/*
 * Processes left behind: with PR_SET_CHILD_SUBREAPER (set by
 * mct_start_argv) whatever minictr's tree left running is re-parented to
 * us. Reaps children that end within a second (a container's processes
 * die with its PID 1, a little after minictr), kills and reaps the rest and
 * returns how many there were. Do not call it while your own children run.
 */
static inline int mct_reap_leftover_processes(char *desc, size_t len)
{
    double end = mct_now() + 1.0;
    int left = 0;
    pid_t c;

    if (desc && len)
        desc[0] = '\0';
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if ((c = mct_first_child(getpid())) < 0)
            return left;
        if (mct_now() < end) {
            usleep(20000);
            continue;
        }
        if (desc && strlen(desc) + 64 < len) {
            char path[64], comm[32] = "?";
            FILE *f;

            snprintf(path, sizeof(path), "/proc/%d/comm", c);
            if ((f = fopen(path, "re"))) {
                if (fgets(comm, sizeof(comm), f))
                    comm[strcspn(comm, "\n")] = '\0';
                fclose(f);
            }
            snprintf(desc + strlen(desc), len - strlen(desc), " %d (%s)", c,
                     comm);
        }
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
        left++;
    }
}

/*
 * After a run: nothing may be left. r is the run (its minictr pid names
 * the cgroup; may be NULL), rootfs the rootfs it used (may be NULL).
 * Checks mounts (none under the rootfs, as many as before in our mount
 * namespace), our fds, the cgroup minictr-<pid>, processes.
 */
static inline void mct_assert_no_leftovers(const struct mct_snapshot *before,
                                           const struct mct_result *r,
                                           const char *rootfs)
{
    char procs[512];
    char *cg = r ? mct_cgroup_leftover(r->pid) : NULL;
    int n;

    cr_assert_null(cg, "minictr left its cgroup %s behind", cg);
    n = mct_reap_leftover_processes(procs, sizeof(procs));
    cr_assert_eq(n, 0, "%d process%s left running after minictr ended:%s", n,
                 n == 1 ? "" : "es", procs);
    if (rootfs)
        cr_assert_eq(vl_mount_count_under(0, rootfs), 0,
                     "mounts left under %s on the host (propagation not "
                     "private?)",
                     rootfs);
    if (before) {
        cr_assert_eq(mct_count_mounts(), before->mounts,
                     "the host has %d mounts, %d before the run",
                     mct_count_mounts(), before->mounts);
        cr_assert_eq(vl_count_fds(), before->fds,
                     "%d fds open, %d before the run", vl_count_fds(),
                     before->fds);
    }
}

/* ---- stage functions in-process, in fresh namespaces -------------------- */

/*
 * A call of stage code in a child process, through shared memory so the
 * child's results come back: fn(arg) runs in a process cloned with
 * `flags` (CLONE_NEW* bits; 0 for a plain fork) and its return value, the
 * library's error message and anything it wrote into data come back here.
 * With CLONE_NEWPID fn runs as PID 1 of the new namespace (mct_init()!).
 * Allocate with mct_call_new() (shared, zeroed), free with mct_call_free().
 */
struct mct_call {
    /* set before mct_call_run() */
    bool mount_proc; /* with CLONE_NEWNS: make every mount private, then
                      * mount a proc of the new pid namespace on /proc */
    int (*fn)(void *arg);
    void *arg;
    /* results */
    bool returned;           /* fn returned (did not crash or _exit) */
    int ret;                 /* what it returned */
    int wstatus;             /* the child's wait status */
    bool timed_out;          /* killed after the time limit */
    char err[VL_ERRMSG_MAX]; /* vl_errmsg() when fn returned */
    char data[16384] __attribute__((aligned(16))); /* free for fn (shared) */
};

static inline struct mct_call *mct_call_new(void)
{
    void *m = mmap(NULL, sizeof(struct mct_call), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    cr_assert(m != MAP_FAILED, "mmap: %s", strerror(errno));
    return m;
}

static inline void mct_call_free(struct mct_call *c)
{
    if (c)
        munmap(c, sizeof(*c));
}

static inline int mct_call_trampoline(void *arg)
{
    struct mct_call *c = arg;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (c->mount_proc) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL) < 0) {
            snprintf(c->err, sizeof(c->err), "mct_call: mounting /proc: %s",
                     strerror(errno));
            return 126;
        }
    }
    vl_err_clear();
    c->ret = c->fn(c->arg);
    snprintf(c->err, sizeof(c->err), "%s", vl_errmsg());
    c->returned = true;
    return 0;
}

/*
 * Run c->fn(c->arg) in a child in new namespaces `flags`; wait up to
 * timeout_sec (then SIGKILL). Returns c->ret when fn returned, else
 * INT_MIN (crashed, exited or timed out: see c->wstatus, c->timed_out).
 * Mount namespaces: pass CLONE_NEWNS and set c->mount_proc, or make
 * mounts private yourself before mounting anything - a mount in a new
 * mount namespace that is still shared propagates to the host.
 */
static inline int mct_call_run(struct mct_call *c, uint64_t flags,
                               double timeout_sec)
{
    double end = mct_now() + timeout_sec;
    pid_t pid, w;

    cr_assert(!c->mount_proc || (flags & CLONE_NEWNS),
              "mount_proc needs CLONE_NEWNS");
    c->returned = c->timed_out = false;
    c->ret = INT_MIN;
    c->err[0] = '\0';
    fflush(NULL);
    pid = vl_clone(flags, mct_call_trampoline, c, NULL);
    cr_assert(pid > 0, "vl_clone: %s", vl_errmsg());
    while ((w = waitpid(pid, &c->wstatus, WNOHANG)) == 0) {
        if (mct_now() >= end) {
            c->timed_out = true;
            kill(pid, SIGKILL);
            waitpid(pid, &c->wstatus, 0);
            break;
        }
        usleep(5000);
    }
    return c->returned ? c->ret : INT_MIN;
}

/* Fill opt for a container of the test rootfs running argv. */
static inline void mct_test_options(struct mct_options *opt, char **argv)
{
    *opt = (struct mct_options){
        .rootfs = mct_rootfs(),
        .hostname = MCT_DEFAULT_HOSTNAME,
        .argv = argv,
    };
}

#endif
