/*
 * ns.c - processes in new namespaces (virtlab/ns.h).
 *
 * References: namespaces(7), clone(2) ("clone3()"), unshare(2), setns(2),
 * user_namespaces(7), pid_namespaces(7).
 */
#define _GNU_SOURCE
#include "virtlab/ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* Linux 5.6: clone3(2) and unshare(2) */
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000 /* Linux 5.2 */
#endif

/* The names of /proc/PID/ns/ (namespaces(7), "The /proc/[pid]/ns/
 * directory") and the flag that creates each (clone(2), "CLONE_NEW*"). */
const struct vl_ns_type vl_ns_types[] = {
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
    {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
    {"user", CLONE_NEWUSER},     {"uts", CLONE_NEWUTS}, {NULL, 0},
};

/* The CLONE_NEW* flags by name, in the order a reader expects them. */
static const struct {
    uint64_t flag;
    const char *name;
    const char *max; /* its limit in /proc/sys/user/ */
} ns_flags[] = {
    {CLONE_NEWUSER, "CLONE_NEWUSER", "max_user_namespaces"},
    {CLONE_NEWNS, "CLONE_NEWNS", "max_mnt_namespaces"},
    {CLONE_NEWPID, "CLONE_NEWPID", "max_pid_namespaces"},
    {CLONE_NEWUTS, "CLONE_NEWUTS", "max_uts_namespaces"},
    {CLONE_NEWIPC, "CLONE_NEWIPC", "max_ipc_namespaces"},
    {CLONE_NEWNET, "CLONE_NEWNET", "max_net_namespaces"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP", "max_cgroup_namespaces"},
    {CLONE_NEWTIME, "CLONE_NEWTIME", "max_time_namespaces"},
};
#define NS_FLAGS_COUNT (sizeof(ns_flags) / sizeof(ns_flags[0]))

static uint64_t all_ns_flags(void)
{
    uint64_t all = 0;

    for (size_t i = 0; i < NS_FLAGS_COUNT; i++)
        all |= ns_flags[i].flag;
    return all;
}

const char *vl_ns_flags_str(uint64_t flags, char *buf, size_t len)
{
    uint64_t rest = flags & ~all_ns_flags();
    size_t n = 0;

    if (!len)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < NS_FLAGS_COUNT && n < len; i++)
        if (flags & ns_flags[i].flag) {
            int w = snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
                             ns_flags[i].name);

            n += w > 0 ? (size_t)w : 0;
        }
    if ((rest || !flags) && n < len)
        snprintf(buf + n, len - n, "%s0x%llx", n ? "|" : "",
                 (unsigned long long)rest);
    return buf;
}

/* ---- why creating a namespace failed ------------------------------------- */

/* The /proc/sys/user/max_* limits of the namespaces in flags. */
static void hint_limits(uint64_t flags)
{
    char list[256] = "";
    size_t n = 0;

    for (size_t i = 0; i < NS_FLAGS_COUNT; i++)
        if ((flags & ns_flags[i].flag) && n < sizeof(list)) {
            int w = snprintf(list + n, sizeof(list) - n, "%suser.%s",
                             n ? ", " : "", ns_flags[i].max);

            n += w > 0 ? (size_t)w : 0;
        }
    vl_err_hint("a namespace limit is reached or set to 0 (%s; see "
                "/proc/sys/user/): raise it with `sudo sysctl`, or check "
                "for leftover namespaces (namespaces(7), \"The "
                "/proc/sys/user directory\").",
                list[0] ? list : "user.max_*_namespaces");
}

/* The initial user namespace maps all ids to themselves: uid_map reads
 * "0 0 4294967295" (user_namespaces(7)). */
static bool in_initial_userns(void)
{
    unsigned long long in = 1, out = 1, count = 0;
    FILE *f = fopen("/proc/self/uid_map", "re");
    bool initial;

    if (!f)
        return true;
    initial = fscanf(f, "%llu %llu %llu", &in, &out, &count) == 3 && in == 0 &&
              out == 0 && count == 4294967295ULL;
    fclose(f);
    return initial;
}

/*
 * Record why clone(2)/unshare(2) (what) refused flags, after the ERRORS
 * sections of clone(2) and unshare(2).
 */
static int ns_fail(int err, const char *what, uint64_t flags)
{
    char names[256];

    vl_ns_flags_str(flags, names, sizeof(names));
    vl_err(err, "%s(%s)", what, names);
    switch (err) {
    case EPERM:
        if (geteuid() != 0 && !(flags & CLONE_NEWUSER))
            vl_err_hint("creating namespaces needs CAP_SYS_ADMIN: run as "
                        "root (sudo), or add CLONE_NEWUSER to create them "
                        "inside a user namespace of your own (rootless).");
        else if (flags & CLONE_NEWUSER)
            vl_err_hint("user namespaces may be restricted here: "
                        "kernel.unprivileged_userns_clone=0 (Debian), "
                        "kernel.apparmor_restrict_unprivileged_userns=1 "
                        "(Ubuntu 23.10+), a chroot, or a container's seccomp "
                        "profile; `vlab-doctor` says which.");
        else if (!in_initial_userns())
            vl_err_hint("root of a user namespace, yet refused: Ubuntu's "
                        "AppArmor restriction "
                        "(kernel.apparmor_restrict_unprivileged_userns=1) "
                        "takes its capabilities away, or a seccomp profile "
                        "blocks it.");
        else
            vl_err_hint("even root is refused: inside a container, its "
                        "seccomp profile or a missing CAP_SYS_ADMIN blocks "
                        "it (docker run --privileged).");
        break;
    case ENOSPC:
    case EUSERS: /* before Linux 4.9: nesting too deep */
        hint_limits(flags);
        if (flags & CLONE_NEWUSER)
            vl_err_hint("user namespaces nest at most 32 deep "
                        "(user_namespaces(7), \"Nesting\").");
        break;
    case EINVAL:
        if ((flags & CLONE_NEWUSER) && (flags & CLONE_FS))
            vl_err_hint("CLONE_NEWUSER cannot be combined with CLONE_FS "
                        "(clone(2), ERRORS).");
        else if ((flags & CLONE_NEWPID) && (flags & CLONE_THREAD))
            vl_err_hint("CLONE_NEWPID cannot be combined with CLONE_THREAD "
                        "(clone(2), ERRORS).");
        else if ((flags & CLONE_NEWIPC) && (flags & CLONE_SYSVSEM))
            vl_err_hint("CLONE_NEWIPC cannot be combined with CLONE_SYSVSEM "
                        "(clone(2), ERRORS).");
        else if (flags & CLONE_NEWTIME)
            vl_err_hint("CLONE_NEWTIME needs Linux 5.6 and clone3(2); "
                        "unshare(CLONE_NEWTIME) puts the caller's later "
                        "children in a new time namespace.");
        else
            vl_err_hint("a flag this kernel does not support: it may be "
                        "built without that namespace (CONFIG_USER_NS, "
                        "CONFIG_PID_NS, CONFIG_NET_NS...), or "
                        "CLONE_NEWUSER in a multithreaded process "
                        "(unshare(2)).");
        break;
    case EAGAIN:
    case ENOMEM:
        vl_err_hint("too many processes: RLIMIT_NPROC (ulimit -u) or a "
                    "pids cgroup limit (pids.max) is reached.");
        break;
    default:
        break;
    }
    return -err;
}

/* ---- clone --------------------------------------------------------------- */

/*
 * clone3(2) without a stack: the child continues on a copy of the caller's
 * stack, like fork(). exit_signal SIGCHLD makes it a normal child that
 * waitpid() reaps. glibc has no wrapper, so this is the raw system call;
 * fn's return value becomes the child's exit status.
 */
static long raw_clone3(uint64_t flags, int *pidfd)
{
    struct clone_args args = {
        .flags = flags,
        .pidfd = (uint64_t)(uintptr_t)pidfd,
        .exit_signal = SIGCHLD,
    };

    return syscall(SYS_clone3, &args, sizeof(args));
}

/* The older clone(2) (x86-64 argument order: flags, stack, parent_tid,
 * child_tid, tls); CLONE_PIDFD stores the pidfd at parent_tid. */
static long raw_clone(uint64_t flags, int *pidfd)
{
    return syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, pidfd, NULL,
                   0UL);
}

/*
 * clone(2) where clone3(2) is missing. CLONE_NEWTIME's bit is part of the
 * exit-signal byte of clone(2), so only clone3 can ask for it; a kernel
 * older than 5.2 has no CLONE_PIDFD: then the child comes without a pidfd
 * (*pidfd stays -1), as vl_clone() promises.
 */
static long clone_fallback(uint64_t flags, int *pidfd)
{
    long pid;

    if (flags & CLONE_NEWTIME) {
        errno = EINVAL;
        return -1;
    }
    pid = raw_clone(flags, pidfd);
    if (pid < 0 && errno == EINVAL && (flags & CLONE_PIDFD))
        pid = raw_clone(flags & ~(uint64_t)CLONE_PIDFD, NULL);
    return pid;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL /* Linux 5.7, clone3 only */
#endif
/* Options that share memory or need arguments vl_clone does not take. */
#define CLONE_UNSUPPORTED                                                      \
    ((uint64_t)(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_SETTLS |       \
                CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |                     \
                CLONE_CHILD_CLEARTID) |                                        \
     CLONE_INTO_CGROUP)

pid_t vl_clone(uint64_t flags, int (*fn)(void *arg), void *arg, int *pidfd)
{
    int fd = -1;
    long pid;

    if (!fn)
        return vl_err_plain(EINVAL, "vl_clone: no child function given");
    if (flags & CLONE_UNSUPPORTED) {
        char names[256];

        vl_ns_flags_str(flags & CLONE_UNSUPPORTED, names, sizeof(names));
        return vl_err_plain(EINVAL,
                            "vl_clone: flags %s need a stack, thread "
                            "storage or a cgroup fd of their own; the child "
                            "runs on a copy of the caller's memory, like "
                            "fork()",
                            names);
    }
    if (pidfd) {
        flags |= CLONE_PIDFD;
        *pidfd = -1;
    }
    pid = raw_clone3(flags, pidfd ? &fd : NULL);
    /* clone3 arrived in Linux 5.3; E2BIG: an older kernel does not know
     * this struct size. Seccomp profiles of some container engines also
     * answer ENOSYS for it. clone(2) has no CLONE_NEWTIME. */
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG))
        pid = clone_fallback(flags, pidfd ? &fd : NULL);
    if (pid < 0)
        return ns_fail(errno, "clone", flags);
    /*
     * The child is a copy of the caller, made without glibc's fork(): no
     * atfork handlers run (nor ASan's, which take its allocator locks), so
     * as after fork() in a multithreaded program (fork(2), NOTES) a child
     * of a multithreaded caller should call only async-signal-safe
     * functions before it execs. A single-threaded caller's child may do
     * anything, under ASan too.
     */
    if (pid == 0)
        /* _exit: the child must not run the caller's atexit handlers or
         * flush its stdio buffers a second time. */
        _exit(fn(arg));
    if (pidfd)
        *pidfd = fd;
    return (pid_t)pid;
}

int vl_unshare(uint64_t flags)
{
    if (unshare((int)flags) < 0)
        return ns_fail(errno, "unshare", flags);
    return 0;
}

/* ---- joining and naming namespaces --------------------------------------- */

static const struct vl_ns_type *ns_type(const char *ns)
{
    for (const struct vl_ns_type *t = vl_ns_types; t->name; t++)
        if (strcmp(t->name, ns) == 0)
            return t;
    return NULL;
}

/* /proc/PID/ns/NS; pid 0 is "self". */
static int ns_path(pid_t pid, const char *ns, char *buf, size_t len)
{
    if (!ns || !ns[0] || strchr(ns, '/'))
        return vl_err_plain(EINVAL,
                            "invalid namespace name \"%s\": use a name of "
                            "/proc/PID/ns/ (uts, pid, net, mnt, ipc, user, "
                            "cgroup, time...)",
                            ns ? ns : "(null)");
    if (pid < 0)
        return vl_err_plain(EINVAL, "invalid pid %d", (int)pid);
    if (pid == 0)
        snprintf(buf, len, "/proc/self/ns/%s", ns);
    else
        snprintf(buf, len, "/proc/%d/ns/%s", (int)pid, ns);
    return 0;
}

/* Explain why /proc/PID/ns/NS could not be opened or read. */
static int ns_path_fail(int err, pid_t pid, const char *ns, const char *path)
{
    char dir[64];

    vl_err(err, "%s", path);
    if (err == ENOENT) {
        snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
        if (pid && access(dir, F_OK) < 0)
            vl_err_hint("there is no process %d (it exited, or lives in "
                        "another pid namespace).",
                        (int)pid);
        else if (!ns_type(ns))
            vl_err_hint("\"%s\" is no namespace type: use uts, pid, net, "
                        "mnt, ipc, user, cgroup or time.",
                        ns);
        else
            vl_err_hint("this kernel has no %s namespaces.", ns);
    } else if (err == EACCES || err == EPERM) {
        vl_err_hint("another user's process: reading its namespaces needs "
                    "ptrace access (PTRACE_MODE_READ, proc(5)).");
    }
    return -err;
}

int vl_setns(pid_t pid, const char *ns)
{
    _vl_cleanup_close_ int fd = -1;
    const struct vl_ns_type *t;
    char path[64];
    int r;

    if ((r = ns_path(pid, ns, path, sizeof(path))) < 0)
        return r;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return ns_path_fail(errno, pid, ns, path);
    /* nstype makes the kernel check that fd is that kind of namespace. */
    t = ns_type(ns);
    if (setns(fd, t ? (int)t->flag : 0) == 0)
        return 0;
    r = errno;
    vl_err(r, "setns(%s)", path);
    if (r == EPERM)
        vl_err_hint("joining a namespace needs CAP_SYS_ADMIN in the user "
                    "namespace that owns it (a mount namespace also "
                    "CAP_SYS_CHROOT; setns(2)).");
    else if (r == EINVAL && t && t->flag == CLONE_NEWUSER)
        vl_err_hint("a multithreaded process cannot join a user namespace, "
                    "nor can a process rejoin its own (setns(2)).");
    else if (r == EINVAL)
        vl_err_hint("a multithreaded process cannot join a mount namespace; "
                    "see setns(2), ERRORS.");
    return -r;
}

static int ns_stat(pid_t pid, const char *ns, struct stat *st)
{
    char path[64];
    int r;

    if ((r = ns_path(pid, ns, path, sizeof(path))) < 0)
        return r;
    if (stat(path, st) < 0)
        return ns_path_fail(errno, pid, ns, path);
    return 0;
}

int vl_ns_id(pid_t pid, const char *ns, uint64_t *id)
{
    struct stat st;
    int r;

    if ((r = ns_stat(pid, ns, &st)) < 0)
        return r;
    *id = (uint64_t)st.st_ino;
    return 0;
}

bool vl_ns_same(pid_t a, pid_t b, const char *ns)
{
    struct stat sa, sb;

    /* Two namespaces are the same when device and inode match
     * (namespaces(7), "The /proc/[pid]/ns/ directory"). */
    return ns_stat(a, ns, &sa) == 0 && ns_stat(b, ns, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- uid_map and gid_map ------------------------------------------------- */

/* The kernel accepts at most 340 lines (user_namespaces(7), Linux 4.15),
 * written at once in less than a page (map_write() in
 * kernel/user_namespace.c). */
#define ID_MAP_LINES_MAX 340
#define ID_MAP_TEXT_MAX  4096

/* /proc/PID/<file>, pid 0 is "self". */
static void proc_path(pid_t pid, const char *file, char *buf, size_t len)
{
    if (pid == 0)
        snprintf(buf, len, "/proc/self/%s", file);
    else
        snprintf(buf, len, "/proc/%d/%s", (int)pid, file);
}

/* A small /proc file's first bytes ("" when unreadable). */
static void read_small(const char *path, char *buf, size_t len)
{
    _vl_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

    buf[n > 0 ? n : 0] = '\0';
}

/* Write text to path in a single write(2), as /proc/PID/uid_map wants. */
static int write_once(const char *path, const char *text, size_t len)
{
    _vl_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = write(fd, text, len);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

/* Why the kernel refused a map (user_namespaces(7), "Defining a user
 * namespace's ID mappings" lists the rules). */
static void id_map_hint(int err, pid_t pid, bool gid, const char *path)
{
    char now[64], setgroups[64], sg[16];

    read_small(path, now, sizeof(now));
    if (err == EPERM && now[0]) {
        vl_err_hint("%s is already written: a map can be written only "
                    "once, by the parent right after the child entered its "
                    "user namespace.",
                    path);
        return;
    }
    if (err == EPERM) {
        proc_path(pid, "setgroups", setgroups, sizeof(setgroups));
        read_small(setgroups, sg, sizeof(sg));
        if (gid && strncmp(sg, "allow", 5) == 0)
            vl_err_hint("write \"deny\" to %s first (vl_deny_setgroups): "
                        "without CAP_SETGID in the parent user namespace, "
                        "gid_map may only be written after setgroups(2) is "
                        "denied.",
                        setgroups);
        vl_err_hint("the writer needs CAP_SET%cID in the parent user "
                    "namespace to map other ids than its own (run as root, "
                    "or use newuidmap/newgidmap with /etc/sub%cid); "
                    "without it, only one line mapping its own effective "
                    "%cid is allowed.",
                    gid ? 'G' : 'U', gid ? 'g' : 'u', gid ? 'g' : 'u');
    } else if (err == EINVAL) {
        vl_err_hint("lines must not overlap (inside or outside), counts "
                    "must be > 0, ranges must not wrap around 2^32, and "
                    "at most %d lines.",
                    ID_MAP_LINES_MAX);
    } else if (err == ENOENT || err == ESRCH) {
        vl_err_hint("process %d does not exist (any more).", (int)pid);
    } else if (err == EACCES) {
        vl_err_hint("%s belongs to another user: the process is not yours, "
                    "or it is not dumpable (after a change of uid; "
                    "prctl(PR_SET_DUMPABLE), proc(5)).",
                    path);
    }
}

int vl_write_id_map(pid_t pid, bool gid, const struct vl_id_map *maps, size_t n)
{
    char text[ID_MAP_LINES_MAX * 34 + 1]; /* "4294967295 4294967295 ..\n" */
    const char *file = gid ? "gid_map" : "uid_map";
    char path[64];
    size_t len = 0;
    int r;

    proc_path(pid, file, path, sizeof(path));
    if (n == 0 || n > ID_MAP_LINES_MAX)
        return vl_err_plain(EINVAL, "writing %s: %zu lines (1 to %d allowed)",
                            path, n, ID_MAP_LINES_MAX);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%u %u %u\n",
                                maps[i].inside, maps[i].outside, maps[i].count);
    if (len >= ID_MAP_TEXT_MAX)
        return vl_err_plain(EINVAL,
                            "writing %s: %zu lines make %zu bytes, the "
                            "kernel takes less than %d at once",
                            path, n, len, ID_MAP_TEXT_MAX);
    /* The kernel takes the whole map from one write(2) and refuses a
     * second one (user_namespaces(7)). */
    if ((r = write_once(path, text, len)) == 0)
        return 0;
    vl_err(r, "writing %s (%zu line%s, first \"%u %u %u\")", path, n,
           n == 1 ? "" : "s", maps[0].inside, maps[0].outside, maps[0].count);
    id_map_hint(-r, pid, gid, path);
    return r;
}

int vl_deny_setgroups(pid_t pid)
{
    char path[64];
    int r;

    proc_path(pid, "setgroups", path, sizeof(path));
    if ((r = write_once(path, "deny", 4)) == 0)
        return 0;
    vl_err(r, "writing \"deny\" to %s", path);
    if (r == -EPERM)
        vl_err_hint("setgroups must be denied before gid_map is written "
                    "(user_namespaces(7), \"The /proc/[pid]/setgroups "
                    "file\").");
    else if (r == -ENOENT)
        vl_err_hint("no process %d, or a kernel older than 3.19.", (int)pid);
    return r;
}

/* ---- can we create a user namespace? ------------------------------------- */

static void userns_hint_knobs(void)
{
    char v[32];
    bool found = false;

    read_small("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof(v));
    if (v[0] == '0') {
        vl_err_hint("kernel.unprivileged_userns_clone is 0 (Debian's "
                    "switch): `sudo sysctl "
                    "kernel.unprivileged_userns_clone=1`.");
        found = true;
    }
    read_small("/proc/sys/user/max_user_namespaces", v, sizeof(v));
    if (v[0] == '0' && (v[1] == '\n' || v[1] == '\0')) {
        vl_err_hint("user.max_user_namespaces is 0: `sudo sysctl "
                    "user.max_user_namespaces=15000`.");
        found = true;
    }
    read_small("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", v,
               sizeof(v));
    if (v[0] == '1') {
        vl_err_hint("kernel.apparmor_restrict_unprivileged_userns is 1 "
                    "(Ubuntu 23.10+): AppArmor lets the namespace be created "
                    "but takes its capabilities away; `sudo sysctl "
                    "kernel.apparmor_restrict_unprivileged_userns=0`, or an "
                    "AppArmor profile for the program with `userns,`.");
        found = true;
    }
    if (!found)
        vl_err_hint("no sysctl switches them off here: a container's "
                    "seccomp profile or a chroot may block it; see "
                    "user_namespaces(7) and `vlab-doctor`.");
}

/*
 * The probe, in a child: enter a new user namespace, map our own ids to
 * root there as a rootless runtime does, and use a capability it should
 * give (creating a mount namespace). Under Ubuntu's AppArmor restriction
 * the first step works and only the last fails.
 */
static int userns_probe(void *arg)
{
    struct vl_handshake *h = arg;
    struct vl_id_map uid = {0, (uint32_t)geteuid(), 1};
    struct vl_id_map gid = {0, (uint32_t)getegid(), 1};
    int r;

    vl_handshake_child(h);
    if ((r = vl_unshare(CLONE_NEWUSER)) == 0 &&
        (r = vl_deny_setgroups(0)) == 0 &&
        (r = vl_write_id_map(0, false, &uid, 1)) == 0 &&
        (r = vl_write_id_map(0, true, &gid, 1)) == 0 &&
        (r = vl_unshare(CLONE_NEWNS)) < 0)
        vl_err_ctx(r, "in the new user namespace, as root");
    vl_handshake_send(h, r);
    vl_handshake_close(h);
    return r < 0;
}

/* How long the probe may take: it makes two system calls. */
#define USERNS_PROBE_TIMEOUT_MS 5000

int vl_userns_check(void)
{
    struct vl_handshake h;
    pid_t pid;
    int r;

    if ((r = vl_handshake_init(&h)) < 0)
        return vl_err_ctx(r, "checking user namespaces");
    pid = vl_clone(0, userns_probe, &h, NULL);
    if (pid < 0) {
        vl_handshake_close(&h);
        return vl_err_ctx(pid, "checking user namespaces");
    }
    vl_handshake_parent(&h);
    r = vl_handshake_wait(&h, false, USERNS_PROBE_TIMEOUT_MS);
    vl_handshake_close(&h);
    if (r == -ETIMEDOUT)
        kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return 0;
    vl_err_ctx(r, "cannot use user namespaces%s",
               geteuid() == 0 ? " (as root)" : "");
    userns_hint_knobs();
    return r;
}
