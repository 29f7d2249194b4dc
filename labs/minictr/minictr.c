/*
 * minictr.c - minictr's driver: the order of the steps (the diagram at the
 * top of minictr.h), the guard rails around the stages and the clean-up on
 * every path. None of this is a lab; the concepts live in the stage files.
 *
 * Fallbacks, so that a student at lab 09 can already run containers: lab
 * 10 not started (its TODO 1 says -ENOSYS): chroot() into the rootfs
 * instead, with a warning; lab 11 not done and root: no user namespace;
 * lab 12 not done and no limit asked: no cgroup. Any other TODO stops
 * minictr with the TODO's message (exit 125).
 */
#define _GNU_SOURCE
#include "minictr.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "virtlab/cleanup.h"

/* The signals minictr passes on to the container (lab 09 TODO 6). The
 * driver blocks them from the start, so one that arrives while the
 * container is being set up waits for mct_wait() instead of killing
 * minictr half-way (which would leave the cgroup behind). */
static const int forwarded_signals[] = {SIGTERM, SIGINT,  SIGHUP,
                                        SIGQUIT, SIGUSR1, SIGUSR2};

/* The host's namespaces, read before the clone. The child (a copy of this
 * process) compares its own with them before it changes anything that
 * would otherwise change the host: its hostname, its mounts. */
static struct {
    uint64_t uts, net, mnt;
} host_ns;

void mct_init_struct(struct minictr *ct, const struct mct_options *opt)
{
    *ct = (struct minictr){
        .log = stderr,
        .pidfd = -1,
        .hs = {.fd = {-1, -1}},
        .host_uid = getuid(),
        .host_gid = getgid(),
    };
    if (opt)
        ct->opt = *opt;
    if (!ct->opt.hostname)
        ct->opt.hostname = MCT_DEFAULT_HOSTNAME;
}

void mct_destroy(struct minictr *ct)
{
    vl_handshake_close(&ct->hs);
    vl_close(&ct->pidfd);
    mct_seccomp_release(ct);
    mct_bundle_release(ct);
}

/* Set by autograder/build.mk, which compiles the driver. */
#ifndef MCT_SECCOMP_DEFAULT
#define MCT_SECCOMP_DEFAULT "/usr/local/share/virtlab/seccomp/default.json"
#endif

const char *mct_seccomp_default_profile(char *buf, size_t len)
{
    const char *e = getenv(MCT_SECCOMP_ENV);
    ssize_t n;
    char *slash;

    if (e && *e)
        return e;
    if (access(MCT_SECCOMP_DEFAULT, R_OK) == 0)
        return MCT_SECCOMP_DEFAULT;
    n = readlink("/proc/self/exe", buf, len - 1);
    if (n > 0) {
        buf[n] = '\0';
        for (int up = 0; up < 2 && (slash = strrchr(buf, '/')); up++)
            *slash = '\0';
        if (strlen(buf) + 40 < len) {
            strcat(buf, "/share/virtlab/seccomp/default.json");
            if (access(buf, R_OK) == 0)
                return buf;
        }
    }
    return MCT_SECCOMP_DEFAULT;
}

void mct_seccomp_release(struct minictr *ct)
{
    if (ct->seccomp)
        seccomp_release(ct->seccomp);
    ct->seccomp = NULL;
}

void mct_say(const struct minictr *ct, const char *fmt, ...)
{
    va_list ap;

    if (!ct->opt.verbose || !ct->log)
        return;
    va_start(ap, fmt);
    fputs("minictr: ", ct->log);
    vfprintf(ct->log, fmt, ap);
    fputc('\n', ct->log);
    va_end(ap);
}

int mct_todo(const char *lab, const char *file, int step, const char *what)
{
    return vl_err_plain(ENOSYS,
                        "TODO %d in labs/%s/%s is not done yet: %s (step %d "
                        "of labs/%s/README.md)",
                        step, lab, file, what, step, lab);
}

/* ---- the container's side ------------------------------------------------ */

void mct_exec_command(struct minictr *ct)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    const char *what;
    sigset_t none;
    int err;

    /* A new program starts with the dispositions and mask it inherits
     * (signal(7), "Signal mask and pending signals"; execve(2) resets only
     * handled signals): hand the command a clean slate, not PID 1's. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Lab 16: a bundle's rlimits, env, user, cwd, capabilities. */
    if (ct->opt.bundle)
        mct_bundle_exec_setup(ct);
    setenv("PATH",
           "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);

    /* Lab 13: the seccomp filter is the very last thing before execve(2),
     * so that it judges the command's system calls, not minictr's. */
    if (ct->seccomp && mct_seccomp_apply(ct) < 0) {
        fprintf(stderr, "minictr: loading the seccomp filter: %s\n",
                vl_errmsg());
        _exit(MCT_EXIT_FAILED);
    }
    execvp(ct->opt.argv[0], ct->opt.argv);
    err = errno;
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        what = "it is not in the rootfs";
        break;
    case EACCES:
        what = "it is not executable (its mode, or a noexec mount)";
        break;
    case ENOEXEC:
        what = "it is not a program this kernel runs (a script without "
               "#!, or another architecture)";
        break;
    default:
        what = "execvp failed";
        break;
    }
    fprintf(stderr,
            "minictr: cannot run \"%s\" in the container: %s (%s): %s\n",
            ct->opt.argv[0], what, ct->opt.rootfs ? ct->opt.rootfs : "?",
            strerror(err));
    _exit(err == ENOENT || err == ENOTDIR ? MCT_EXIT_NOTFOUND
                                          : MCT_EXIT_NOEXEC);
}

/* Refuse to go on when the container shares namespace `ns` with the host:
 * what the next step changes would change the host (a bug of lab 09 TODO
 * 1 must not rename this machine or remount its filesystems). */
static int require_own_ns(const char *ns, uint64_t host_id, const char *flag)
{
    uint64_t id;
    int r;

    if (!host_id)
        return 0;
    if ((r = vl_ns_id(0, ns, &id)) < 0)
        return r;
    if (id == host_id)
        return vl_err_plain(EINVAL,
                            "the container shares the host's %s namespace "
                            "(%s is missing from mct_namespace_flags(), lab "
                            "09 TODO 1): minictr will not change the host's "
                            "%s",
                            ns, flag,
                            !strcmp(ns, "mnt") ? "mounts" : "settings");
    return 0;
}

/* Lab 10 not started: chroot() into the rootfs, the pre-namespace way. */
static int chroot_fallback(struct minictr *ct)
{
    char proc[PATH_MAX];
    int r;

    vl_err_clear();
    fprintf(ct->log,
            "minictr: warning: lab 10 (labs/10-filesystem) is not done: the "
            "container only gets chroot(\"%s\"), no /dev of its own, and "
            "chroot can be escaped\n",
            ct->opt.rootfs);
    /* Our mounts must not propagate to the host (mount_namespaces(7)). */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return vl_err(errno, "making the mounts private");
    if (ct->opt.image && (r = mct_image_mount(ct)) < 0)
        return vl_err_ctx(r, "mounting the image's layers");
    snprintf(proc, sizeof(proc), "%s/proc", ct->opt.rootfs);
    if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        mct_say(ct, "no /proc in the container: mount proc: %s",
                strerror(errno));
    if (chroot(ct->opt.rootfs) < 0)
        return vl_err(errno, "chroot %s", ct->opt.rootfs);
    if (chdir("/") < 0)
        return vl_err(errno, "chdir /");
    return 0;
}

static int setup_filesystem(struct minictr *ct)
{
    static const struct {
        int (*fn)(struct minictr *ct);
        const char *what;
    } steps[] = {
        {mct_fs_bind_rootfs, "binding the rootfs"},
        {mct_fs_mount_proc_sys, "mounting /proc and /sys"},
        {mct_fs_make_dev, "making /dev"},
        {mct_fs_pivot_root, "pivot_root into the rootfs"},
        {mct_fs_mask_paths, "masking paths"},
        {mct_fs_readonly_root, "making the root read-only"},
    };
    int r;

    if ((r = require_own_ns("mnt", host_ns.mnt, "CLONE_NEWNS")) < 0)
        return r;
    if (ct->opt.bundle) /* Lab 16: the config's mounts */
        return mct_bundle_setup_fs(ct);
    r = mct_fs_private(ct);
    if (r == -ENOSYS)
        return chroot_fallback(ct);
    if (r < 0)
        return vl_err_ctx(r, "making the mounts private");
    if (ct->opt.image && (r = mct_image_mount(ct)) < 0)
        return vl_err_ctx(r, "mounting the image's layers");
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        mct_say(ct, "%s", steps[i].what);
        if ((r = steps[i].fn(ct)) < 0)
            return vl_err_ctx(r, "%s", steps[i].what);
    }
    return 0;
}

/* The child's steps between "go" and "ready" (the diagram's right side). */
static int child_setup(struct minictr *ct)
{
    int r;

    if (ct->userns) {
        if ((r = mct_userns_become_root(ct)) < 0)
            return vl_err_ctx(r, "becoming root in the user namespace");
        /* A change of credentials clears the parent-death signal
         * (prctl(2), PR_SET_PDEATHSIG): set it again. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
    if (ct->opt.hostname) { /* Lab 16: a bundle may set none */
        if ((r = require_own_ns("uts", host_ns.uts, "CLONE_NEWUTS")) < 0)
            return r;
        if ((r = mct_set_hostname(ct)) < 0)
            return vl_err_ctx(r, "setting the hostname");
    }
    if (!ct->opt.host_net) {
        if ((r = require_own_ns("net", host_ns.net, "CLONE_NEWNET")) < 0)
            return r;
        if ((r = mct_loopback_up(ct)) < 0)
            return vl_err_ctx(r, "bringing up lo");
    }
    if (ct->opt.bridge_net && (r = mct_net_configure(ct)) < 0)
        return vl_err_ctx(r, "configuring the container's eth0");
    if ((r = setup_filesystem(ct)) < 0)
        return r;
    /* Last: dropping capabilities ends what this process may set up. */
    if (ct->caps_set && !ct->opt.bundle && /* a bundle's: the command's */
        (r = mct_caps_apply(ct)) < 0)
        return vl_err_ctx(r, "dropping capabilities");
    return 0;
}

int mct_child_main(void *arg)
{
    struct minictr *ct = arg;
    int r;

    /* If minictr dies, so does the container (its PID 1 takes the whole
     * PID namespace with it: pid_namespaces(7)). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* A session of its own, without a controlling
     * terminal: TIOCSTI on the user's terminal then needs CAP_SYS_ADMIN
     * (ioctl_tty(2); CVE-2016-7545, CVE-2017-5226; runc's nsexec does the
     * same). */
    setsid();
    vl_handshake_child(&ct->hs);
    /* Wait until the parent has set us up from outside (maps, cgroup). */
    if (vl_handshake_wait(&ct->hs, false, -1) < 0)
        _exit(MCT_EXIT_FAILED); /* minictr failed or is gone */
    r = child_setup(ct);
    if (r < 0) {
        vl_handshake_send(&ct->hs, r);
        _exit(MCT_EXIT_FAILED);
    }
    /* Lab 16: a created container outlives `minictr create`, which
     * exits once it reads "ready": no parent-death signal from here on. */
    if (ct->bundle.detach)
        prctl(PR_SET_PDEATHSIG, 0);
    if (vl_handshake_send(&ct->hs, 0) < 0)
        _exit(MCT_EXIT_FAILED);
    vl_handshake_close(&ct->hs);
    /* "created": wait here, set up, until `minictr start`. */
    if (ct->bundle.exec_fifo > 0 &&
        (r = mct_exec_fifo_wait(ct->bundle.exec_fifo)) < 0) {
        fprintf(stderr, "minictr: waiting for start: %s\n", vl_errmsg());
        _exit(MCT_EXIT_FAILED);
    }
    /* Nothing minictr inherited or opened reaches the
     * container: an fd of the host's (a directory, a namespace) is a way
     * out, in the command and in PID 1's /proc/1/fd (CVE-2024-21626). */
    syscall(SYS_close_range, 3, ~0U, 0);

    r = mct_init(ct);
    if (r < 0) {
        fprintf(stderr, "minictr: the container's init: %s\n", vl_errmsg());
        _exit(MCT_EXIT_FAILED);
    }
    _exit(r & 0xff);
}

/* ---- the parent's side -----------------------------------------------------
 */

static bool limits_asked(const struct minictr *ct)
{
    return ct->opt.memory || ct->opt.pids || ct->opt.cpus ||
           ct->limits.memory_bytes || ct->limits.pids || /* a bundle's */
           ct->limits.cpu_quota_us;
}

/*
 * --timeout: a watchdog process that sleeps, then SIGKILLs the container's
 * PID 1 through a pidfd (no pid-reuse race) and tells us on a pipe. A
 * process rather than SIGALRM so that it works whatever signal mask the
 * student's mct_wait() uses; it never exits on its own (it waits to be
 * killed), so a mct_wait() that reaps with waitpid(-1) never sees it.
 */
struct watchdog {
    pid_t pid;
    int fired_fd; /* read end: one byte once it has fired */
};

static void watchdog_start(struct watchdog *w, int pidfd, int sec)
{
    int p[2];

    *w = (struct watchdog){.pid = -1, .fired_fd = -1};
    if (sec <= 0 || pidfd < 0 || pipe2(p, O_CLOEXEC) < 0)
        return;
    w->pid = fork();
    if (w->pid == 0) {
        struct timespec left = {.tv_sec = sec};
        unsigned lo = (unsigned)(pidfd < p[1] ? pidfd : p[1]);
        unsigned hi = (unsigned)(pidfd < p[1] ? p[1] : pidfd);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Keep only the pidfd and the pipe: nothing of minictr's (the
         * handshake above all) may stay open in here. */
        if (lo > 3)
            syscall(SYS_close_range, 3, lo - 1, 0);
        if (hi > lo + 1)
            syscall(SYS_close_range, lo + 1, hi - 1, 0);
        syscall(SYS_close_range, hi + 1, ~0U, 0);
        while (nanosleep(&left, &left) < 0 && errno == EINTR)
            ;
        if (write(p[1], "!", 1) < 0)
            _exit(1);
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        for (;;)
            pause();
    }
    close(p[1]);
    if (w->pid < 0)
        close(p[0]);
    else
        w->fired_fd = p[0];
}

/* Stop it; true when it had fired. */
static bool watchdog_stop(struct watchdog *w)
{
    char c;
    bool fired = false;

    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        w->pid = -1;
    }
    if (w->fired_fd >= 0) {
        fired = read(w->fired_fd, &c, 1) == 1;
        vl_close(&w->fired_fd);
    }
    return fired;
}

/* SIGKILL the container's PID 1 (the kernel then kills every process of
 * its PID namespace) and reap it. */
static void kill_container(struct minictr *ct, int pidfd)
{
    if (ct->pid <= 0)
        return;
    if (pidfd >= 0)
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    else
        kill(ct->pid, SIGKILL);
    while (waitpid(ct->pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Lab 12 before the clone: the limits (before anything else: a bad
 * value is a command-line error)... */
static int prepare_limits(struct minictr *ct)
{
    int r;

    if (ct->opt.bundle) /* Lab 16: config.json set ct->limits */
        return 0;
    r = mct_parse_limits(&ct->opt, &ct->limits);
    if (r == -ENOSYS && !limits_asked(ct)) {
        vl_err_clear();
        ct->limits = (struct mct_limits){0};
        r = 0;
    }
    return r;
}

/* ... and the cgroup, once lab 11 has decided on a user namespace. */
static int prepare_cgroup(struct minictr *ct, bool *have_cgroup)
{
    int r = mct_cgroup_create(ct);

    *have_cgroup = false;
    if (r < 0 && limits_asked(ct))
        return vl_err_ctx(r, "creating the container's cgroup");
    if (r == -ENOSYS) {
        mct_say(ct, "lab 12 is not done: no cgroup for the container");
    } else if (r < 0) {
        fprintf(ct->log, "minictr: warning: no cgroup for the container: %s\n",
                vl_errmsg());
    } else if (ct->cg.version) {
        *have_cgroup = true;
    }
    vl_err_clear();
    return 0;
}

/* Lab 13 before the clone: the capabilities and the seccomp filter. Not
 * done and not asked for: the container keeps what it has (a bundle's
 * config.json has decided both already). */
static int prepare_security(struct minictr *ct)
{
    int r;

    if (ct->opt.bundle)
        return 0;
    r = mct_caps_decide(ct);
    if (r == -ENOSYS && !ct->opt.cap_add && !ct->opt.cap_drop) {
        vl_err_clear();
        ct->caps_set = false;
        mct_say(ct, "lab 13 is not done: the container keeps every "
                    "capability");
    } else if (r < 0) {
        return vl_err_ctx(r, "choosing the capabilities");
    }
    r = mct_seccomp_prepare(ct);
    if (r == -ENOSYS && !ct->opt.seccomp) {
        vl_err_clear();
        mct_say(ct, "lab 13 is not done: no seccomp filter");
    } else if (r < 0) {
        return vl_err_ctx(r, "preparing the seccomp filter");
    }
    return 0;
}

/* Lab 14 before the clone: an image's layers and the container's upper
 * directory; ct->opt.rootfs then points at where the overlay will be. */
static int prepare_image(struct minictr *ct)
{
    int r;

    if (!ct->opt.image)
        return 0;
    if ((r = mct_image_prepare(ct)) < 0)
        return vl_err_ctx(r, "preparing image \"%s\"", ct->opt.image);
    return 0;
}

/* Lab 11 before the clone: a user namespace or not, and its maps. */
static int prepare_userns(struct minictr *ct)
{
    int r;

    if (ct->opt.bundle) /* Lab 16: config.json set the maps */
        return 0;
    r = mct_userns_maps(ct);
    if (r == -ENOSYS && getuid() == 0 && !ct->opt.userns) {
        vl_err_clear();
        ct->userns = false;
        mct_say(ct, "lab 11 is not done: no user namespace (we are root)");
        return 0;
    }
    if (r < 0) {
        r = vl_err_ctx(r, "user namespace maps");
        if (getuid() != 0)
            vl_err_hint("without a user namespace (lab 11), minictr "
                        "must run as root");
    }
    return r;
}

static void record_host_ns(void)
{
    host_ns.uts = host_ns.net = host_ns.mnt = 0;
    vl_ns_id(0, "uts", &host_ns.uts);
    vl_ns_id(0, "net", &host_ns.net);
    vl_ns_id(0, "mnt", &host_ns.mnt);
    vl_err_clear();
}

static void report_oom(struct minictr *ct)
{
    char limit[64];
    uint64_t mib = 1024 * 1024;
    int r = mct_cgroup_check_oom(ct);

    if (r < 0) {
        mct_say(ct, "could not check for an OOM kill: %s", vl_errmsg());
        return;
    }
    if (!ct->oom_killed)
        return;
    if (ct->limits.memory_bytes && ct->limits.memory_bytes % mib == 0)
        snprintf(limit, sizeof(limit), "%llu MiB",
                 (unsigned long long)(ct->limits.memory_bytes / mib));
    else if (ct->limits.memory_bytes)
        snprintf(limit, sizeof(limit), "%llu bytes",
                 (unsigned long long)ct->limits.memory_bytes);
    else
        snprintf(limit, sizeof(limit), "none");
    fprintf(ct->log,
            "minictr: the container was killed by the OOM killer (memory "
            "limit %s, %s oom_kill %llu)\n",
            limit, ct->cg.version == 1 ? "memory.oom_control" : "memory.events",
            (unsigned long long)ct->oom_kills);
}

/* Everything from the clone to the container's end; the caller cleans
 * up the cgroup. Returns the container's status or -errno. */
static int run_container(struct minictr *ct, bool have_cgroup)
{
    _vl_cleanup_close_ int pidfd = -1;
    struct watchdog wd;
    int r;

    record_host_ns();
    r = ct->opt.bundle ? mct_bundle_spawn(ct, mct_child_main)
                       : mct_spawn(ct, mct_child_main);
    if (r < 0)
        return vl_err_ctx(r, "creating the container");
    if (ct->pid <= 0)
        return vl_err_plain(ECHILD, "mct_spawn() succeeded but set no "
                                    "ct->pid (lab 09 TODO 2)");
    {
        char flags[256];

        mct_say(ct, "container PID 1 is pid %d on the host, namespaces %s",
                ct->pid,
                vl_ns_flags_str(ct->clone_flags, flags, sizeof(flags)));
    }
    /* Our own pidfd, whatever mct_spawn did with ct->pidfd. */
    pidfd = (int)syscall(SYS_pidfd_open, ct->pid, 0);
    watchdog_start(&wd, pidfd, ct->opt.timeout_sec);

    if (ct->userns && (r = mct_userns_write_maps(ct)) < 0) {
        r = vl_err_ctx(r, "writing the user namespace's id maps");
        goto kill;
    }
    if (have_cgroup && (r = mct_cgroup_attach(ct)) < 0) {
        r = vl_err_ctx(r, "moving the container into its cgroup");
        goto kill;
    }
    if (ct->opt.bridge_net && (r = mct_net_setup(ct)) < 0) {
        r = vl_err_ctx(r, "connecting the container to the bridge");
        goto kill;
    }
    mct_say(ct, "go");
    if ((r = vl_handshake_send(&ct->hs, 0)) < 0) {
        r = vl_err_ctx(r, "telling the container to go on");
        goto kill;
    }
    if ((r = vl_handshake_wait(&ct->hs, false, -1)) < 0) {
        if (watchdog_stop(&wd))
            r = vl_err_plain(ETIMEDOUT,
                             "the container was not ready "
                             "after --timeout %d s",
                             ct->opt.timeout_sec);
        else
            r = vl_err_ctx(r, "setting up the container");
        goto kill;
    }
    vl_handshake_close(&ct->hs);
    /* Lab 16: create stops here; the container keeps what it holds
     * until `minictr delete`. */
    if (ct->bundle.exec_fifo > 0) {
        watchdog_stop(&wd);
        mct_say(ct, "created: PID 1 waits for start");
        return 0;
    }
    mct_say(ct, "ready: running %s", ct->opt.argv[0]);

    r = mct_wait(ct);
    if (r < 0) {
        r = vl_err_ctx(r, "waiting for the container");
        goto kill;
    }
    if (watchdog_stop(&wd))
        fprintf(ct->log,
                "minictr: the container ran longer than --timeout %d s: "
                "killed it\n",
                ct->opt.timeout_sec);
    if (have_cgroup)
        report_oom(ct);
    mct_say(ct, "the container ended with status %d", r);
    return r;

kill:
    watchdog_stop(&wd);
    kill_container(ct, pidfd);
    return r;
}

/* What the container held outside itself, whatever the way it ended: its
 * veth and bridge (lab 15), its overlay's directories (lab 14), its cgroup
 * (lab 12). */
static void release_container(struct minictr *ct)
{
    if (ct->opt.bridge_net)
        mct_net_cleanup(ct);
    if (ct->opt.image)
        mct_image_cleanup(ct);
    mct_cgroup_destroy(ct);
}

/* Lab 16: `minictr delete`, in another process than create's. */
void mct_release_container(struct minictr *ct)
{
    struct vl_cgroup made = ct->cg;

    release_container(ct);
    vl_cgroup_remove_parent(&made);
}

int mct_run(struct minictr *ct)
{
    sigset_t fwd, old;
    struct timespec zero = {0};
    struct vl_cgroup made;
    bool have_cgroup = false;
    int r;

    if (!ct->log)
        ct->log = stderr;
    sigemptyset(&fwd);
    for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(int); i++)
        sigaddset(&fwd, forwarded_signals[i]);
    sigprocmask(SIG_BLOCK, &fwd, &old);

    r = prepare_limits(ct);
    if (r == 0)
        r = prepare_security(ct);
    if (r == 0)
        r = prepare_image(ct);
    if (r == 0)
        r = prepare_userns(ct);
    if (r == 0)
        r = prepare_cgroup(ct, &have_cgroup);
    if (r == 0)
        r = run_container(ct, have_cgroup);
    /* Lab 16: created; `minictr delete` releases the rest. */
    if (r == 0 && ct->bundle.exec_fifo > 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 0;
    }

    /* Every path ends here: the cgroup goes (lab 12 TODO 5), then its
     * virtlab/ parent if no other container uses it; signals that came too
     * late for the container are dropped, the mask restored. */
    made = ct->cg;
    if (r < 0) {
        _vl_cleanup_free_ char *why = strdup(vl_errmsg());

        release_container(ct);
        r = vl_err_plain(r, "%s", why ? why : "");
    } else {
        release_container(ct);
    }
    vl_cgroup_remove_parent(&made);
    vl_handshake_close(&ct->hs);
    while (sigtimedwait(&fwd, NULL, &zero) > 0)
        ;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return r;
}
