/* ns_test.c - clone, unshare, setns, namespace ids, id maps, the user
 * namespace check (virtlab/ns.h). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_helpers.h"
#include "helpers.h"
#include "virtlab/ns.h"

/* Creating namespaces, writing other ids' maps, becoming nobody: root. */
static void require_root(void)
{
    if (geteuid() != 0)
        cr_skip_test("needs root (creates namespaces, becomes uid 65534): "
                     "run the library tests with sudo");
}

TestSuite(ns, .init = require_root, .timeout = 60);
TestSuite(ns_names, .timeout = 60);

/* The unprivileged user the tests become (nobody on Debian). */
#define NOBODY 65534

/* ---- small helpers ------------------------------------------------------- */

static int fds_before;

static void fds_mark(void)
{
    fds_before = vl_count_fds();
}

static void fds_check(void)
{
    cr_assert_eq(vl_count_fds(), fds_before, "an fd leaked");
}

/* Reap pid and return its exit status (-1 when it was killed). */
static int reap(pid_t pid)
{
    int status;

    cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The inode number in readlink(/proc/PID/ns/NS) = "uts:[4026531838]". */
static uint64_t ns_link_ino(pid_t pid, const char *ns)
{
    char path[64], link[64];
    unsigned long long ino = 0;
    char name[16];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
    n = readlink(path, link, sizeof(link) - 1);
    cr_assert(n > 0, "readlink %s: %s", path, strerror(errno));
    link[n] = '\0';
    cr_assert_eq(sscanf(link, "%15[^:]:[%llu]", name, &ino), 2, "%s", link);
    cr_assert_str_eq(name, ns);
    return ino;
}

/* Become nobody (uid and gid), dropping the supplementary groups. */
static int become_nobody(void)
{
    if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) < 0)
        return vl_err(errno, "becoming uid %d", NOBODY);
    /* Changing uid made us non-dumpable, which gives our /proc files (and
     * our children's) to root; a user who logged in is dumpable. */
    if (prctl(PR_SET_DUMPABLE, 1) < 0)
        return vl_err(errno, "prctl(PR_SET_DUMPABLE)");
    return 0;
}

/* A child that says "ready" and stays until the parent closes its end. */
struct parked {
    struct vl_handshake h;
    pid_t pid;
};

static int park_child(void *arg)
{
    struct vl_handshake *h = arg;

    vl_handshake_child(h);
    if (vl_handshake_send(h, 0) < 0)
        return 10;
    return vl_handshake_wait(h, false, 20000) == -EPIPE ? 0 : 11;
}

static void park(struct parked *p, uint64_t flags)
{
    vl_assert_ok(vl_handshake_init(&p->h));
    p->pid = vl_assert_ok(vl_clone(flags, park_child, &p->h, NULL));
    vl_handshake_parent(&p->h);
    vl_assert_ok(vl_handshake_wait(&p->h, false, 10000));
}

static void unpark(struct parked *p)
{
    vl_handshake_close(&p->h);
    cr_assert_eq(reap(p->pid), 0, "the parked child failed");
}

/* ---- names --------------------------------------------------------------- */

Test(ns_names, flags_str_names_namespace_flags)
{
    char buf[128];

    cr_assert_str_eq(
        vl_ns_flags_str(CLONE_NEWUTS | CLONE_NEWPID, buf, sizeof(buf)),
        "CLONE_NEWPID|CLONE_NEWUTS");
    cr_assert_str_eq(vl_ns_flags_str(CLONE_NEWNET | CLONE_FS, buf, sizeof(buf)),
                     "CLONE_NEWNET|0x200");
    cr_assert_str_eq(vl_ns_flags_str(0, buf, sizeof(buf)), "0x0");
    /* A short buffer is cut, never overrun, and stays terminated. */
    cr_assert_str_eq(vl_ns_flags_str(CLONE_NEWUSER, buf, 8), "CLONE_N");
}

Test(ns_names, types_table_matches_proc)
{
    int n = 0;

    for (const struct vl_ns_type *t = vl_ns_types; t->name; t++, n++) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/self/ns/%s", t->name);
        /* Time namespaces are new in Linux 5.6. */
        cr_assert(access(path, F_OK) == 0 || strcmp(t->name, "time") == 0,
                  "%s: %s", path, strerror(errno));
        cr_assert_neq(t->flag, 0);
    }
    cr_assert_geq(n, 7);
}

/* ---- clone --------------------------------------------------------------- */

/* In new UTS and PID namespaces: pid 1, and a hostname of its own. */
static int uts_pid_child(void *arg)
{
    char name[64];

    (void)arg;
    if (getpid() != 1)
        return 10;
    if (sethostname("inside", 6) < 0)
        return 11;
    if (gethostname(name, sizeof(name)) < 0 || strcmp(name, "inside") != 0)
        return 12;
    return 0;
}

Test(ns, clone_new_uts_and_pid_gives_pid_1_and_own_hostname)
{
    char before[64], after[64];
    pid_t pid;

    fds_mark();
    cr_assert_eq(gethostname(before, sizeof(before)), 0);
    pid = vl_assert_ok(
        vl_clone(CLONE_NEWUTS | CLONE_NEWPID, uts_pid_child, NULL, NULL));
    cr_assert_gt(pid, 1,
                 "the parent sees the child's pid in its own "
                 "namespace");
    cr_assert_eq(reap(pid), 0, "child check failed (10: pid, 11-12: name)");
    cr_assert_eq(gethostname(after, sizeof(after)), 0);
    cr_assert_str_eq(after, before, "the host's hostname changed");
    fds_check();
}

static int exit_status_child(void *arg)
{
    return *(int *)arg;
}

Test(ns, clone_without_flags_is_a_fork_and_returns_fn_status)
{
    int code = 42;

    cr_assert_eq(
        reap(vl_assert_ok(vl_clone(0, exit_status_child, &code, NULL))), 42);
}

Test(ns, clone_ns_ids_differ_from_parent_and_match_proc)
{
    struct parked p;
    uint64_t mine, its;
    const char *names[] = {"uts", "ipc", "net", "mnt", "pid"};

    fds_mark();
    park(&p, CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS |
                 CLONE_NEWPID);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        vl_assert_ok(vl_ns_id(0, names[i], &mine));
        vl_assert_ok(vl_ns_id(p.pid, names[i], &its));
        cr_assert_neq(mine, its, "%s: same namespace as the parent", names[i]);
        cr_assert_eq(its, ns_link_ino(p.pid, names[i]), "%s", names[i]);
        cr_assert_eq(mine, ns_link_ino(getpid(), names[i]), "%s", names[i]);
        cr_assert(!vl_ns_same(0, p.pid, names[i]), "%s", names[i]);
    }
    /* Not asked for: shared. */
    cr_assert(vl_ns_same(0, p.pid, "user"));
    cr_assert(vl_ns_same(0, p.pid, "cgroup"));
    unpark(&p);
    fds_check();
}

Test(ns, clone_gives_a_close_on_exec_pidfd)
{
    int pidfd = -2, code = 5;
    struct pollfd pfd;
    pid_t pid;

    fds_mark();
    pid = vl_assert_ok(vl_clone(0, exit_status_child, &code, &pidfd));
    cr_assert_geq(pidfd, 0);
    cr_assert(fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
    /* A pidfd becomes readable when its process exits (pidfd_open(2)). */
    pfd = (struct pollfd){.fd = pidfd, .events = POLLIN};
    cr_assert_eq(poll(&pfd, 1, 10000), 1);
    cr_assert_eq(reap(pid), 5);
    close(pidfd);
    fds_check();
}

/*
 * Where clone3(2) is missing (Linux < 5.3) or a container's seccomp profile
 * answers ENOSYS for it, vl_clone falls back to clone(2). A seccomp filter
 * (seccomp(2), "SECCOMP_RET_ERRNO") plays that old kernel here.
 */
static int without_clone3(void *arg)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]),
                              .filter = filter};
    struct clone_args args = {.exit_signal = SIGCHLD};
    int pidfd = -1, status;
    pid_t pid;

    (void)arg;
    child_check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    child_check(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
    child_check(syscall(SYS_clone3, &args, sizeof(args)) < 0 &&
                errno == ENOSYS);
    child_ok(pid = vl_clone(CLONE_NEWUTS | CLONE_NEWPID, uts_pid_child, NULL,
                            &pidfd));
    child_check(pidfd >= 0 && (fcntl(pidfd, F_GETFD) & FD_CLOEXEC));
    child_check(waitpid(pid, &status, 0) == pid);
    child_check(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pidfd);
    child_fails(vl_clone(CLONE_NEWUSER | CLONE_FS, uts_pid_child, NULL, NULL),
                EINVAL, "CLONE_FS");
    child_fails(vl_clone(CLONE_NEWTIME, uts_pid_child, NULL, NULL), EINVAL,
                "CLONE_NEWTIME needs Linux 5.6 and clone3(2)");
    return 0;
}

Test(ns, clone_falls_back_to_clone2_without_clone3)
{
    child_run(without_clone3, NULL);
}

static int time_child(void *arg)
{
    (void)arg;
    return vl_ns_same(0, getppid(), "time") ? 10 : 0;
}

Test(ns, clone_into_a_new_time_namespace)
{
    if (access("/proc/self/ns/time", F_OK) < 0)
        cr_skip_test("no time namespaces here (Linux 5.6+)");
    cr_assert_eq(
        reap(vl_assert_ok(vl_clone(CLONE_NEWTIME, time_child, NULL, NULL))), 0,
        "the child shares its parent's time namespace");
}

Test(ns, clone_refuses_newuser_with_fs_and_says_why)
{
    int code = 0;

    fds_mark();
    vl_assert_fails(
        vl_clone(CLONE_NEWUSER | CLONE_FS, exit_status_child, &code, NULL),
        EINVAL, "CLONE_NEWUSER cannot be combined with CLONE_FS");
    cr_assert(strstr(vl_errmsg(), "clone(CLONE_NEWUSER|0x200)"), "%s",
              vl_errmsg());
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was created");
    fds_check();
}

Test(ns, clone_without_fn_or_with_shared_memory_is_einval)
{
    int code = 0;

    vl_assert_fails(vl_clone(0, NULL, NULL, NULL), EINVAL, "no child function");
    vl_assert_fails(
        vl_clone(CLONE_NEWUTS | CLONE_VM, exit_status_child, &code, NULL),
        EINVAL, "flags 0x100 need a stack");
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was created");
}

/* As nobody: no namespaces without a user namespace. */
static int unprivileged_clone(void *arg)
{
    int code = 0;

    (void)arg;
    child_ok(become_nobody());
    child_fails(vl_clone(CLONE_NEWUTS, exit_status_child, &code, NULL), EPERM,
                "CAP_SYS_ADMIN");
    child_fails(vl_unshare(CLONE_NEWNET), EPERM, "add CLONE_NEWUSER");
    return 0;
}

Test(ns, unprivileged_clone_is_eperm_with_a_hint)
{
    child_run(unprivileged_clone, NULL);
}

/*
 * ENOSPC: the namespace limits of /proc/sys/user/ are per user namespace
 * (namespaces(7)); in a user namespace of our own (root inside, with
 * CAP_SYS_RESOURCE there) we may set one to 0 without touching the host's.
 */
static int limit_reached(void *arg)
{
    struct vl_id_map root = {0, 0, 1};
    int fd;

    (void)arg;
    child_ok(vl_unshare(CLONE_NEWUSER));
    child_ok(vl_write_id_map(0, false, &root, 1));
    /* Inside, we have no CAP_SETGID over the parent namespace. */
    child_fails(vl_write_id_map(0, true, &root, 1), EPERM,
                "write \"deny\" to /proc/self/setgroups first");
    child_ok(vl_deny_setgroups(0));
    child_ok(vl_write_id_map(0, true, &root, 1));
    fd = open("/proc/sys/user/max_uts_namespaces", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return child_fail(__LINE__, "open max_uts_namespaces", -errno);
    child_check(write(fd, "0", 1) == 1);
    close(fd);
    child_fails(vl_unshare(CLONE_NEWUTS), ENOSPC, "user.max_uts_namespaces");
    child_fails(
        vl_clone(CLONE_NEWUTS | CLONE_NEWNET, exit_status_child, &fd, NULL),
        ENOSPC, "sysctl");
    return 0;
}

Test(ns, enospc_names_the_limit)
{
    child_run(limit_reached, NULL);
}

/* ---- unshare and setns --------------------------------------------------- */

static int unshare_child(void *arg)
{
    uint64_t before, after;

    (void)arg;
    child_ok(vl_ns_id(0, "uts", &before));
    child_ok(vl_unshare(CLONE_NEWUTS | CLONE_NEWNET));
    child_ok(vl_ns_id(0, "uts", &after));
    child_check(before != after);
    child_check(!vl_ns_same(0, getppid(), "net"));
    child_check(vl_ns_same(0, getppid(), "ipc"));
    child_check(sethostname("unshared", 8) == 0);
    return 0;
}

Test(ns, unshare_in_a_forked_child)
{
    char name[64], before[64];

    cr_assert_eq(gethostname(before, sizeof(before)), 0);
    child_run(unshare_child, NULL);
    cr_assert_eq(gethostname(name, sizeof(name)), 0);
    cr_assert_str_eq(name, before);
}

static int setns_child(void *arg)
{
    pid_t target = *(pid_t *)arg;

    child_check(!vl_ns_same(0, target, "net"));
    child_ok(vl_setns(target, "net"));
    child_check(vl_ns_same(0, target, "net"));
    return 0;
}

Test(ns, setns_joins_a_childs_net_namespace)
{
    struct parked p;

    fds_mark();
    park(&p, CLONE_NEWNET);
    child_run(setns_child, &p.pid);
    cr_assert(!vl_ns_same(0, p.pid, "net"), "the test process moved");
    unpark(&p);
    fds_check();
}

static int setns_unprivileged(void *arg)
{
    pid_t target = *(pid_t *)arg;

    child_ok(become_nobody());
    /* nobody may not even open another user's namespace files. */
    child_fails(vl_setns(target, "net"), EACCES, "ptrace");
    return 0;
}

Test(ns, setns_errors_name_the_cause)
{
    struct parked p;
    pid_t gone;
    int code = 0;

    fds_mark();
    vl_assert_fails(vl_setns(0, "../x"), EINVAL, "invalid namespace name");
    vl_assert_fails(vl_setns(0, "nosuch"), ENOENT,
                    "\"nosuch\" is no namespace type");
    gone = vl_assert_ok(vl_clone(0, exit_status_child, &code, NULL));
    reap(gone);
    vl_assert_fails(vl_setns(gone, "net"), ENOENT, "there is no process");
    park(&p, CLONE_NEWNET);
    child_run(setns_unprivileged, &p.pid);
    unpark(&p);
    fds_check();
}

Test(ns, ns_id_and_same)
{
    uint64_t a, b;
    pid_t gone;
    int code = 0;

    vl_assert_ok(vl_ns_id(0, "pid", &a));
    vl_assert_ok(vl_ns_id(getpid(), "pid", &b));
    cr_assert_eq(a, b);
    cr_assert_eq(a, ns_link_ino(getpid(), "pid"));
    cr_assert(vl_ns_same(0, getpid(), "mnt"));
    gone = vl_assert_ok(vl_clone(0, exit_status_child, &code, NULL));
    reap(gone);
    cr_assert(!vl_ns_same(0, gone, "mnt"), "an error is \"not the same\"");
    vl_assert_fails(vl_ns_id(-5, "pid", &a), EINVAL, "invalid pid");
    vl_assert_fails(vl_ns_id(0, "", &a), EINVAL, "invalid namespace name");
}

/* ---- uid_map and gid_map ------------------------------------------------- */

/* Read /proc/PID/<file> into buf, spaces squeezed: "0 100000 65536\n". */
static void read_map(pid_t pid, const char *file, char *buf, size_t len)
{
    char path[64], raw[512];
    size_t n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    f = fopen(path, "re");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    raw[fread(raw, 1, sizeof(raw) - 1, f)] = '\0';
    fclose(f);
    for (char *p = raw; *p && n + 1 < len; p++)
        if (*p != ' ' || (n && buf[n - 1] != ' ' && buf[n - 1] != '\n'))
            buf[n++] = *p;
    buf[n] = '\0';
}

/* In a new user namespace, once the parent wrote the maps: the child is
 * still host root (unmapped: it reads as the overflow id 65534) until it
 * switches to an id of the map, as a runtime does before exec. */
static int userns_child(void *arg)
{
    struct vl_handshake *h = arg;

    vl_handshake_child(h);
    if (vl_handshake_send(h, 0) < 0 || vl_handshake_wait(h, false, 20000) < 0)
        return 10;
    if (getuid() != 65534)
        return 11;
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return 12;
    return getuid() == 0 && getgid() == 0 ? 0 : 13;
}

Test(ns, id_maps_written_for_a_child_in_a_new_user_ns)
{
    struct vl_id_map map = {0, 100000, 65536};
    struct vl_handshake h;
    char buf[256];
    pid_t pid;

    fds_mark();
    vl_assert_ok(vl_handshake_init(&h));
    pid = vl_assert_ok(vl_clone(CLONE_NEWUSER, userns_child, &h, NULL));
    vl_handshake_parent(&h);
    vl_assert_ok(vl_handshake_wait(&h, false, 10000));
    vl_assert_ok(vl_write_id_map(pid, false, &map, 1));
    vl_assert_ok(vl_deny_setgroups(pid));
    vl_assert_ok(vl_write_id_map(pid, true, &map, 1));
    read_map(pid, "uid_map", buf, sizeof(buf));
    cr_assert_str_eq(buf, "0 100000 65536\n");
    read_map(pid, "gid_map", buf, sizeof(buf));
    cr_assert_str_eq(buf, "0 100000 65536\n");
    read_map(pid, "setgroups", buf, sizeof(buf));
    cr_assert_str_eq(buf, "deny\n");
    /* A map is written once. */
    vl_assert_fails(vl_write_id_map(pid, false, &map, 1), EPERM,
                    "already written");
    vl_assert_ok(vl_handshake_send(&h, 0));
    vl_handshake_close(&h);
    cr_assert_eq(reap(pid), 0, "the child is not root inside (11-13)");
    fds_check();
}

Test(ns, id_map_with_several_lines_in_one_write)
{
    struct vl_id_map maps[] = {
        {0, 100000, 1000}, {1000, 1000, 1}, {1001, 101001, 64535}};
    struct parked p;
    char buf[256];

    park(&p, CLONE_NEWUSER);
    vl_assert_ok(vl_write_id_map(p.pid, false, maps, 3));
    read_map(p.pid, "uid_map", buf, sizeof(buf));
    cr_assert_str_eq(buf, "0 100000 1000\n1000 1000 1\n1001 101001 64535\n");
    unpark(&p);
}

Test(ns, id_map_refusals_have_the_right_errno_and_message)
{
    struct vl_id_map overlap[] = {{0, 100000, 100}, {50, 300000, 10}};
    struct vl_id_map zero = {0, 100000, 0};
    struct vl_id_map many[341];
    struct parked p;
    char buf[64];

    fds_mark();
    park(&p, CLONE_NEWUSER);
    vl_assert_fails(vl_write_id_map(p.pid, false, overlap, 2), EINVAL,
                    "must not overlap");
    cr_assert(strstr(vl_errmsg(), "uid_map (2 lines, first \"0 100000 "
                                  "100\")"),
              "%s", vl_errmsg());
    vl_assert_fails(vl_write_id_map(p.pid, true, &zero, 1), EINVAL,
                    "counts must be > 0");
    vl_assert_fails(vl_write_id_map(p.pid, false, overlap, 0), EINVAL,
                    "0 lines (1 to 340 allowed)");
    for (int i = 0; i < 341; i++)
        many[i] = (struct vl_id_map){(uint32_t)i, 1000 + (uint32_t)i, 1};
    vl_assert_fails(vl_write_id_map(p.pid, false, many, 341), EINVAL,
                    "341 lines");
    /* The refusals left the map unwritten: 340 lines still work. */
    vl_assert_ok(vl_write_id_map(p.pid, false, many, 340));
    unpark(&p);
    vl_assert_fails(vl_write_id_map(p.pid, false, many, 1), ENOENT,
                    "does not exist");
    vl_assert_fails(vl_deny_setgroups(p.pid), ENOENT, "no process");
    fds_check();
    (void)buf;
}

Test(ns, deny_setgroups_after_gid_map_is_eperm)
{
    struct vl_id_map map = {0, 100000, 65536};
    struct parked p;

    park(&p, CLONE_NEWUSER);
    vl_assert_ok(vl_write_id_map(p.pid, true, &map, 1));
    vl_assert_fails(vl_deny_setgroups(p.pid), EPERM,
                    "setgroups must be denied before gid_map is written");
    unpark(&p);
}

/*
 * Rootless: nobody creates a user namespace and maps only itself. gid_map
 * needs setgroups denied first (user_namespaces(7)); other ids need
 * CAP_SETUID in the parent namespace.
 */
static int rootless_maps(void *arg)
{
    struct vl_id_map self = {0, NOBODY, 1};
    struct vl_id_map other = {0, 100000, 65536};
    struct parked p;

    (void)arg;
    child_ok(become_nobody());
    child_ok(vl_handshake_init(&p.h));
    child_ok(p.pid = vl_clone(CLONE_NEWUSER, park_child, &p.h, NULL));
    vl_handshake_parent(&p.h);
    child_ok(vl_handshake_wait(&p.h, false, 10000));
    child_fails(vl_write_id_map(p.pid, false, &other, 1), EPERM,
                "needs CAP_SETUID in the parent user namespace");
    child_fails(vl_write_id_map(p.pid, true, &self, 1), EPERM,
                "vl_deny_setgroups");
    child_ok(vl_write_id_map(p.pid, false, &self, 1));
    child_ok(vl_deny_setgroups(p.pid));
    child_ok(vl_write_id_map(p.pid, true, &self, 1));
    vl_handshake_close(&p.h);
    child_check(waitpid(p.pid, NULL, 0) == p.pid);
    return 0;
}

Test(ns, rootless_id_maps_need_setgroups_deny_and_own_ids)
{
    child_run(rootless_maps, NULL);
}

/* ---- vl_userns_check ----------------------------------------------------- */

Test(ns, userns_check_as_root)
{
    cr_assert_eq(geteuid(), 0, "the library tests run as root");
    fds_mark();
    vl_assert_ok(vl_userns_check());
    fds_check();
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "the probe was not reaped");
}

/*
 * Ubuntu's AppArmor restriction lets a user namespace be created but takes
 * its capabilities away, so the next step (a mount namespace) fails. A
 * seccomp filter that refuses unshare(CLONE_NEWNS) plays it here.
 */
static int userns_without_caps(void *arg)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWNS, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]),
                              .filter = filter};

    (void)arg;
    child_check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    child_check(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
    child_fails(vl_userns_check(), EPERM,
                "cannot use user namespaces (as root): in the new user "
                "namespace, as root: unshare(CLONE_NEWNS)");
    child_check(strstr(vl_errmsg(), "root of a user namespace, yet refused"));
    child_check(strstr(vl_errmsg(), "apparmor_restrict_unprivileged_userns"));
    child_check(waitpid(-1, NULL, WNOHANG) == -1); /* the probe was reaped */
    return 0;
}

Test(ns, userns_check_explains_a_namespace_without_capabilities)
{
    child_run(userns_without_caps, NULL);
}

/* The truth, by hand: a user namespace with our ids mapped to root, and a
 * mount namespace in it. */
static int userns_by_hand(void)
{
    pid_t pid = fork();
    int status;
    char map[64];

    if (pid == 0) {
        uid_t uid = geteuid();
        gid_t gid = getegid();
        int fd;

        if (unshare(CLONE_NEWUSER) < 0)
            _exit(1);
        fd = open("/proc/self/setgroups", O_WRONLY);
        if (fd < 0 || write(fd, "deny", 4) != 4)
            _exit(2);
        close(fd);
        snprintf(map, sizeof(map), "0 %u 1", uid);
        fd = open("/proc/self/uid_map", O_WRONLY);
        if (fd < 0 || write(fd, map, strlen(map)) < 0)
            _exit(3);
        close(fd);
        snprintf(map, sizeof(map), "0 %u 1", gid);
        fd = open("/proc/self/gid_map", O_WRONLY);
        if (fd < 0 || write(fd, map, strlen(map)) < 0)
            _exit(4);
        close(fd);
        _exit(unshare(CLONE_NEWNS) < 0 ? 5 : 0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int unprivileged_userns(void *arg)
{
    int fds, truth, r;

    (void)arg;
    child_ok(become_nobody());
    fds = vl_count_fds();
    truth = userns_by_hand();
    child_check(truth >= 0);
    vl_err_clear();
    r = vl_userns_check();
    child_check(vl_count_fds() == fds);
    if (truth) {
        child_ok(r);
    } else {
        /* Refused here: the answer must say why and how to fix it. */
        child_check(r < 0);
        child_check(strstr(vl_errmsg(), "cannot use user namespaces"));
        child_check(strstr(vl_errmsg(), "hint:"));
    }
    return 0;
}

Test(ns, userns_check_as_nobody_agrees_with_a_real_try)
{
    child_run(unprivileged_userns, NULL);
}

/* nobody clones into a new user namespace: nobody outside, and until the
 * maps are written the overflow id inside (user_namespaces(7)). */
static int nobody_inside(void *arg)
{
    (void)arg;
    return getuid() == NOBODY ? 0 : 20;
}

static int unprivileged_clone_newuser(void *arg)
{
    int status;
    pid_t pid;

    (void)arg;
    child_ok(become_nobody());
    child_ok(pid = vl_clone(CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNS,
                            nobody_inside, NULL, NULL));
    child_check(waitpid(pid, &status, 0) == pid);
    child_check(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}

/* Can nobody create a user namespace here? */
static bool nobody_has_userns(void)
{
    pid_t pid = fork();

    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(become_nobody() == 0 && userns_by_hand() == 1 ? 0 : 1);
    return reap(pid) == 0;
}

Test(ns, unprivileged_clone_newuser_works)
{
    if (!nobody_has_userns())
        cr_skip_test("unprivileged user namespaces are switched off here "
                     "(see `vlab-doctor`)");
    child_run(unprivileged_clone_newuser, NULL);
}
