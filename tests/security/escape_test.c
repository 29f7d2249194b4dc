/*
 * escape_test.c - the security suite: escape attempts against minictr,
 * each a test that must fail to escape (docs/security.md has the table:
 * what is tried, how, what stops it, the CVE it echoes).
 *
 * Each attempt is a vlab-probe command (labs/minictr/probe/probe_escape.c)
 * run as the container's command by the reference minictr (`make all`)
 * on the test rootfs (`make rootfs`). Before it, the same attempt runs
 * where the protection is missing - on the host, in a plain chroot(2), in
 * a mount namespace that still shares its mounts, or in a container
 * weakened with --cap-add ALL --seccomp unconfined - and must succeed
 * there: a test whose attempt could never work proves nothing. Nothing
 * of this harms the host (see probe_escape.c: knobs are opened, never
 * written; the overwritten binaries are copies; the disk read is of a
 * loop device over a temp file).
 *
 * Every attempt runs twice: in a container of root-run minictr
 * (<name>) and in one with its own user namespace (<name>_userns).
 * `make test-security` builds and runs it; ~30 s.
 */
#include "mct_test.h"

#include "virtlab/load.h"

#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>

TestSuite(escape, .timeout = 60);

#define OUT_MAX     (64 * 1024)
#define RUN_TIMEOUT 20.0 /* seconds: one container, at most */

/* ---- running things, with or without a container --------------------------
 */

/* What a command printed and how it ended. */
struct out {
    pid_t pid;
    int status; /* exit status; 128 + N for signal N; -1 timed out */
    char text[OUT_MAX];
};

/* How to start it. */
struct how {
    bool userns;        /* minictr run --userns */
    bool weak;          /* --cap-add ALL --seccomp unconfined (if known) */
    bool keep_children; /* the test has children of its own: do not
                         * count them as the container's leftovers */
    const char *rootfs; /* NULL: mct_rootfs() */
    const char *binary; /* NULL: mct_binary() */
    const char *cwd;    /* chdir(2) there before exec (NULL: stay) */
    const char *chroot; /* chroot(2) there before exec, no chdir */
    bool use_tty;       /* tty (a pty's slave) for 0-2 and as the
                         * controlling terminal, output from tty_master;
                         * else stdin /dev/null, output to a pipe */
    int tty, tty_master;
};

#define HOW(...) ((struct how){__VA_ARGS__})

/* A started command: its output fd and what it printed so far. */
struct job {
    pid_t pid;
    int fd;
    size_t len;
    double start;
    struct out *o;
};

/* fork + exec argv as `how` says. No cr_assert: this also runs in the
 * cloned children of mount_propagation. Returns 0 or -errno. */
static int job_start(struct job *j, struct out *o, const struct how *how,
                     char *const argv[])
{
    int p[2] = {-1, -1};

    *j = (struct job){.pid = -1, .fd = -1, .o = o, .start = mct_now()};
    o->text[0] = '\0';
    o->status = -1;
    if (!how->use_tty && pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    fflush(NULL);
    j->pid = fork();
    if (j->pid < 0)
        return -errno;
    if (j->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (how->use_tty) {
            /* A terminal session like a user's: the pty is our
             * controlling terminal (credentials(7), "Sessions"). */
            setsid();
            ioctl(how->tty, TIOCSCTTY, 0);
            dup2(how->tty, 0);
            dup2(how->tty, 1);
            dup2(how->tty, 2);
        } else {
            int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

            setpgid(0, 0);
            dup2(null, 0);
            dup2(p[1], 1);
            dup2(p[1], 2);
        }
        if (how->cwd && chdir(how->cwd) < 0)
            _exit(121);
        if (how->chroot && chroot(how->chroot) < 0)
            _exit(122);
        execv(argv[0], argv);
        dprintf(2, "escape_test: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    if (!how->use_tty) {
        close(p[1]);
        j->fd = p[0];
    } else {
        j->fd = how->tty_master;
    }
    o->pid = j->pid;
    return 0;
}

/* Read what is there for up to ms; false at EOF. */
static bool job_pump(struct job *j, int ms)
{
    struct pollfd pfd = {.fd = j->fd, .events = POLLIN};
    ssize_t n;

    if (j->fd < 0)
        return false;
    if (poll(&pfd, 1, ms) <= 0)
        return true;
    n = read(j->fd, j->o->text + j->len, sizeof(j->o->text) - 1 - j->len);
    if (n <= 0) {
        if (n < 0 && errno == EINTR)
            return true;
        return false; /* EOF, or EIO of a pty without a slave */
    }
    j->len += (size_t)n;
    j->o->text[j->len] = '\0';
    return j->len + 1 < sizeof(j->o->text);
}

/* Until needle appears in its output (or it ends, or timeout). */
static bool job_wait_for(struct job *j, const char *needle, double timeout)
{
    double end = mct_now() + timeout;

    while (!strstr(j->o->text, needle) && mct_now() < end && job_pump(j, 50))
        ;
    return strstr(j->o->text, needle) != NULL;
}

/* Wait for the end (SIGKILL after timeout), collect the rest. */
static void job_finish(struct job *j, double timeout)
{
    double end = j->start + timeout, drain = 0;
    bool reaped = false, open = true, timed_out = false;
    struct stat st;
    int ws = 0;

    while (!reaped || (open && mct_now() < drain)) {
        open = open && job_pump(j, 20);
        if (!reaped && waitpid(j->pid, &ws, WNOHANG) == j->pid) {
            reaped = true;
            drain = mct_now() + 0.5;
        } else if (!reaped && mct_now() > end) {
            kill(-j->pid, SIGKILL);
            kill(j->pid, SIGKILL);
            waitpid(j->pid, &ws, 0);
            mct_cgroup_cleanup_after_kill(j->pid);
            timed_out = true;
            break;
        }
    }
    if (timed_out)
        j->o->status = -1;
    else
        j->o->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    /* A pipe is ours to close; a pty master is the caller's. */
    if (j->fd >= 0 && fstat(j->fd, &st) == 0 && S_ISFIFO(st.st_mode))
        close(j->fd);
    j->fd = -1;
}

/* The test rootfs as an absolute path (chdir(2) comes before chroot(2)). */
static const char *rootfs_abs(void)
{
    static char path[PATH_MAX];

    if (!path[0] && !realpath(mct_rootfs(), path))
        snprintf(path, sizeof(path), "%s", mct_rootfs());
    return path;
}

/* argv builder: a NULL-terminated list in a fixed array. */
struct args {
    char *v[MCT_MAX_ARGS];
    int n;
};

static void args_add(struct args *a, const char *s)
{
    if (a->n < MCT_MAX_ARGS - 1)
        a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
}

static void args_addv(struct args *a, const char *first, va_list ap)
{
    for (const char *s = first; s; s = va_arg(ap, const char *))
        args_add(a, s);
}

/* Does this minictr know lab 13's --cap-add and --seccomp? (Until lab 13
 * is built, the container keeps all of root's capabilities anyway.) */
static bool weak_supported(void)
{
    static int known = -1;

    if (known < 0) {
        struct out *o = calloc(1, sizeof(*o));
        struct how how = HOW(.userns = false);
        struct args a = {.n = 0};
        struct job j;

        args_add(&a, mct_binary());
        args_add(&a, "run");
        args_add(&a, "--rootfs");
        args_add(&a, mct_rootfs());
        args_add(&a, "--cap-add");
        args_add(&a, "ALL");
        args_add(&a, "--seccomp");
        args_add(&a, "unconfined");
        args_add(&a, "--");
        args_add(&a, "/bin/true");
        known = o && job_start(&j, o, &how, a.v) == 0 &&
                (job_finish(&j, RUN_TIMEOUT), o->status == 0);
        free(o);
    }
    return known;
}

/* The argv of `minictr run ... -- /bin/vlab-probe ARGS` as how says. */
static void ctr_argv(struct args *a, const struct how *how)
{
    args_add(a, how->binary ? how->binary : mct_binary());
    args_add(a, "run");
    args_add(a, "--rootfs");
    args_add(a, how->rootfs ? how->rootfs : mct_rootfs());
    if (how->userns)
        args_add(a, "--userns");
    if (how->weak && weak_supported()) {
        args_add(a, "--cap-add");
        args_add(a, "ALL");
        args_add(a, "--seccomp");
        args_add(a, "unconfined");
    }
    args_add(a, "--timeout");
    args_add(a, "15");
    args_add(a, "--");
    args_add(a, "/bin/vlab-probe");
}

/* Run vlab-probe ARGS... (NULL-terminated) in a container; its output in
 * o. Checks that the container worked and left nothing behind. */
static void in_container(struct out *o, const struct how *how, ...)
{
    const char *rootfs = how->rootfs ? how->rootfs : mct_rootfs();
    struct mct_snapshot snap;
    struct mct_result r = {0};
    struct args a = {.n = 0};
    struct job j;
    const char *cmd;
    va_list ap;

    ctr_argv(&a, how);
    cmd = NULL;
    va_start(ap, how);
    cmd = va_arg(ap, const char *);
    args_addv(&a, cmd, ap);
    va_end(ap);
    mct_snapshot(&snap);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    cr_assert_eq(job_start(&j, o, how, a.v), 0, "fork: %s", strerror(errno));
    job_finish(&j, RUN_TIMEOUT);
    cr_assert_eq(o->status, 0,
                 "minictr run%s ... vlab-probe %s: status %d:\n%s",
                 how->userns ? " --userns" : "", cmd, o->status, o->text);
    r.pid = o->pid;
    if (!how->keep_children) {
        mct_assert_no_leftovers(&snap, &r, rootfs);
    } else {
        char *cg = mct_cgroup_leftover(o->pid);

        cr_assert_null(cg, "minictr left its cgroup %s behind", cg);
        cr_assert_eq(vl_mount_count_under(0, rootfs), 0, "mounts left under %s",
                     rootfs);
        cr_assert_eq(mct_count_mounts(), snap.mounts);
        cr_assert_eq(vl_count_fds(), snap.fds);
    }
}

/* Run vlab-probe ARGS... on the host (how: cwd, chroot, tty), the proof
 * that the attempt works without a container. */
static void on_host(struct out *o, const struct how *how, ...)
{
    struct args a = {.n = 0};
    struct job j;
    va_list ap;

    args_add(&a, how->chroot ? "/bin/vlab-probe" : mct_probe_path());
    va_start(ap, how);
    args_addv(&a, va_arg(ap, const char *), ap);
    va_end(ap);
    cr_assert_eq(job_start(&j, o, how, a.v), 0, "fork: %s", strerror(errno));
    job_finish(&j, RUN_TIMEOUT);
    cr_assert_eq(o->status, 0, "vlab-probe on the host: status %d:\n%s",
                 o->status, o->text);
}

/* key's value in o (strdup'd), failing the test when it is missing. */
static char *kv(const struct out *o, const char *key)
{
    char *v = mct_kv(o->text, key);

    cr_assert_not_null(v, "vlab-probe printed no %s= in:\n%s", key, o->text);
    return v;
}

/* Is key's value one of the NULL-terminated list? */
static bool kv_in(const struct out *o, const char *key, ...)
{
    char *v = kv(o, key);
    bool in = false;
    va_list ap;

    va_start(ap, key);
    for (const char *s = va_arg(ap, const char *); s && !in;
         s = va_arg(ap, const char *))
        in = strcmp(v, s) == 0;
    va_end(ap);
    free(v);
    return in;
}

static bool kv_is(const struct out *o, const char *key, const char *value)
{
    return kv_in(o, key, value, NULL);
}

/* Every test runs once as root-run minictr and once with --userns. */
#define ESCAPE_TEST(name, desc)                                                \
    static void name##_body(bool userns);                                      \
    Test(escape, name, .description = desc)                                    \
    {                                                                          \
        name##_body(false);                                                    \
    }                                                                          \
    Test(escape, name##_userns, .description = desc " (--userns)")             \
    {                                                                          \
        name##_body(true);                                                     \
    }                                                                          \
    static void name##_body(bool userns)

static void require(void)
{
    mct_require_built();
    mct_require_root();
}

/* ---- a marker on the host ---------------------------------------------------
 */

/* A temp dir on the host with a file in it that no container has: seeing
 * MARKER from inside means seeing the host's filesystem. */
struct marker {
    char dir[PATH_MAX];
    char path[PATH_MAX + 32];
};

static void marker_make(struct marker *m)
{
    int fd;

    snprintf(m->dir, sizeof(m->dir), "/tmp/vlab-sec-XXXXXX");
    cr_assert_not_null(mkdtemp(m->dir), "mkdtemp: %s", strerror(errno));
    chmod(m->dir, 0755);
    snprintf(m->path, sizeof(m->path), "%s/host-marker", m->dir);
    fd = open(m->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    cr_assert(fd >= 0, "creating %s: %s", m->path, strerror(errno));
    close(fd);
}

static void marker_remove(struct marker *m)
{
    mct_rootfs_remove(m->dir);
}

/* ---- chroot escape --------------------------------------------------------
 */

ESCAPE_TEST(chroot_escape, "mkdir + chroot + chdir .. stays in the container")
{
    struct out *o = calloc(2, sizeof(*o));
    struct marker m;

    require();
    marker_make(&m);
    /* Proof: from a plain chroot(2) the same climb reaches the host. */
    on_host(&o[0], &HOW(.cwd = rootfs_abs(), .chroot = rootfs_abs()), "escape",
            m.path, NULL);
    cr_assert(kv_is(&o[0], "escaped", "1"),
              "the chroot escape did not work from a plain chroot:\n%s",
              o[0].text);

    in_container(&o[1], &HOW(.userns = userns), "escape", m.path, NULL);
    cr_expect(kv_is(&o[1], "marker_before", "0"), "%s", o[1].text);
    cr_expect(kv_is(&o[1], "escaped", "0"),
              "the chroot escape reached the host's %s:\n%s", m.path,
              o[1].text);
    marker_remove(&m);
    free(o);
}

/* ---- /proc/self/exe: CVE-2019-5736 ------------------------------------------
 */

/* The whole of a file, malloc'd; *len its size. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;

    cr_assert(fd >= 0 && fstat(fd, &st) == 0, "%s: %s", path, strerror(errno));
    buf = malloc((size_t)st.st_size + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(vl_read_full(fd, buf, (size_t)st.st_size), st.st_size,
                 "reading %s", path);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

static void copy_file(const char *from, const char *to)
{
    cr_assert_eq(mct_system((char *[]){"cp", (char *)from, (char *)to, NULL}),
                 0, "cp %s %s", from, to);
    chmod(to, 0755);
}

/* Has the file at path lost its first bytes to exe-write's payload? */
static bool overwritten(const char *path)
{
    char head[16] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head) - 1) : -1;

    if (fd >= 0)
        close(fd);
    return n > 0 && strncmp(head, "#!/bin/false", 12) == 0;
}

/* The proof: a host process running a copy of a binary, and exe-write
 * aimed at its /proc/PID/exe; once the process ends, the copy is ours. */
static void exe_write_proof(const struct marker *m)
{
    char victim[PATH_MAX + 16], exe[64];
    struct out *o = calloc(1, sizeof(*o));
    pid_t pid;
    double end;

    snprintf(victim, sizeof(victim), "%s/victim", m->dir);
    copy_file(mct_probe_path(), victim);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl(victim, victim, "sleep", "0.5", (char *)NULL);
        _exit(127);
    }
    /* Only once it runs the copy: before its execve(2), /proc/PID/exe
     * is this test's own binary. */
    snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
    end = mct_now() + 5;
    for (;;) {
        char target[PATH_MAX] = "";
        ssize_t n = readlink(exe, target, sizeof(target) - 1);

        if (n > 0 && (size_t)n == strlen(victim) && !strncmp(target, victim, n))
            break;
        cr_assert(mct_now() < end, "%s never ran (%s is %s)", victim, exe,
                  target);
        usleep(5000);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    on_host(o, &HOW(.userns = false), "exe-write", "3", exe, NULL);
    cr_assert(kv_is(o, "exe_0_write", "ETXTBSY"),
              "a running binary should refuse writing (ETXTBSY):\n%s", o->text);
    waitpid(pid, NULL, 0);
    end = mct_now() + 3;
    while (!overwritten(victim) && mct_now() < end)
        usleep(20000);
    cr_assert(overwritten(victim),
              "exe-write could not overwrite a host binary through "
              "/proc/PID/exe after it stopped running: the attempt proves "
              "nothing:\n%s",
              o->text);
    /* The background writer, now our child (PR_SET_CHILD_SUBREAPER),
     * exits right after its write. */
    end = mct_now() + 3;
    while (mct_first_child(getpid()) > 0 && mct_now() < end) {
        waitpid(-1, NULL, WNOHANG);
        usleep(10000);
    }
    free(o);
}

ESCAPE_TEST(proc_self_exe_overwrite,
            "/proc/1/exe of the container cannot overwrite minictr on the "
            "host (CVE-2019-5736)")
{
    struct out *o = calloc(1, sizeof(*o));
    char copy[PATH_MAX + 16];
    char *before, *after;
    size_t blen, alen;
    struct marker m;

    require();
    marker_make(&m);
    exe_write_proof(&m);

    /* The container's PID 1 is minictr (a clone, not an exec): its
     * /proc/1/exe is the runtime's binary on the host. A copy runs it. */
    snprintf(copy, sizeof(copy), "%s/minictr", m.dir);
    copy_file(mct_binary(), copy);
    before = slurp(copy, &blen);
    in_container(o, &HOW(.userns = userns, .binary = copy), "exe-write", "1.5",
                 "/proc/1/exe", NULL);
    cr_expect(kv_is(o, "exe_written", "0"), "%s", o->text);
    /* The background writer had 1.5 s after the probe ended; the
     * container's end (its PID 1's) must have ended it too. */
    usleep(2000000);
    after = slurp(copy, &alen);
    cr_expect(blen == alen && memcmp(before, after, blen) == 0,
              "the copy of minictr the container ran (%s) was changed from "
              "inside:\n%s",
              copy, o->text);
    free(before);
    free(after);
    marker_remove(&m);
    free(o);
}

/* ---- leaked fds and cwd: CVE-2024-21626 -------------------------------------
 */

ESCAPE_TEST(leaked_fd_and_cwd,
            "no host fd or cwd reaches the container (CVE-2024-21626)")
{
    struct out *o = calloc(2, sizeof(*o));
    struct marker m;
    int dir_fd, ns_fd;
    char *fds, *cwd;

    require();
    marker_make(&m);
    /* A careless caller: a directory and its mount namespace left open
     * without O_CLOEXEC, and minictr started from inside the directory. */
    dir_fd = open(m.dir, O_RDONLY | O_DIRECTORY);
    ns_fd = open("/proc/self/ns/mnt", O_RDONLY);
    cr_assert(dir_fd >= 0 && ns_fd >= 0, "%s", strerror(errno));

    /* Proof: chroot(2) without chdir(2), like a runtime that forgot the
     * fds and the cwd: through them the probe finds the marker. */
    on_host(&o[0], &HOW(.cwd = m.dir, .chroot = rootfs_abs()), "leaks", m.path,
            NULL);
    for (int i = 0; i < 2; i++) {
        char key[32];

        snprintf(key, sizeof(key), "fd_%d_escaped", i ? ns_fd : dir_fd);
        cr_assert(kv_is(&o[0], key, "1"),
                  "leaked fd %d did not reach the host from a plain "
                  "chroot:\n%s",
                  i ? ns_fd : dir_fd, o[0].text);
    }
    cr_assert(kv_is(&o[0], "cwd_escaped", "1"), "%s", o[0].text);

    in_container(&o[1], &HOW(.userns = userns, .cwd = m.dir), "leaks", m.path,
                 NULL);
    close(dir_fd);
    close(ns_fd);
    fds = kv(&o[1], "fds");
    cwd = kv(&o[1], "cwd");
    cr_expect_str_eq(fds, "0,1,2",
                     "the container's command has fds beyond 0-2 (leaked "
                     "from the host: %d and %d were):\n%s",
                     dir_fd, ns_fd, o[1].text);
    cr_expect_str_eq(cwd, "/", "%s", o[1].text);
    cr_expect(kv_is(&o[1], "escaped", "0"),
              "a leaked fd or cwd (the command's or PID 1's) reaches the "
              "host:\n%s",
              o[1].text);
    free(fds);
    free(cwd);
    marker_remove(&m);
    free(o);
}

/* ---- TIOCSTI ----------------------------------------------------------------
 */

/* A pty pair: master for the output, slave raw (no echo, no line
 * discipline), so that every injected byte can be read back from it. */
static void pty_open(int *master, int *slave)
{
    struct termios t;

    *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    cr_assert(*master >= 0, "posix_openpt: %s", strerror(errno));
    cr_assert(grantpt(*master) == 0 && unlockpt(*master) == 0);
    *slave = open(ptsname(*master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    cr_assert(*slave >= 0, "opening %s: %s", ptsname(*master), strerror(errno));
    cr_assert(tcgetattr(*slave, &t) == 0);
    cfmakeraw(&t);
    cr_assert(tcsetattr(*slave, TCSANOW, &t) == 0);
}

/* What is waiting in the terminal's input queue: what the user's shell
 * would read next. */
static size_t pty_pending(int slave, char *buf, size_t size)
{
    int fl = fcntl(slave, F_GETFL);
    ssize_t n;

    fcntl(slave, F_SETFL, fl | O_NONBLOCK);
    n = read(slave, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

ESCAPE_TEST(tiocsti_injection,
            "TIOCSTI cannot type into the terminal minictr runs in")
{
    struct out *o = calloc(2, sizeof(*o));
    char got[256];
    int master, slave;

    require();
    /* Proof: a process of the terminal's session types into it. */
    pty_open(&master, &slave);
    on_host(&o[0], &HOW(.use_tty = true, .tty = slave, .tty_master = master),
            "tiocsti", "echo VLAB-INJECTED", NULL);
    if (pty_pending(slave, got, sizeof(got)) == 0)
        cr_skip_test("TIOCSTI is refused even on the host (Linux >= 6.2 "
                     "with dev.tty.legacy_tiocsti = 0?): nothing to escape:"
                     "\n%s",
                     o[0].text);
    cr_assert(strstr(got, "VLAB-INJECTED"), "got \"%s\"", got);
    close(master);
    close(slave);

    pty_open(&master, &slave);
    in_container(&o[1],
                 &HOW(.userns = userns, .use_tty = true, .tty = slave,
                      .tty_master = master),
                 "tiocsti", "echo VLAB-INJECTED", NULL);
    cr_expect_eq(pty_pending(slave, got, sizeof(got)), 0,
                 "the container typed \"%s\" into the host's terminal:\n%s",
                 got, o[1].text);
    cr_expect(kv_is(&o[1], "escaped", "0"), "%s", o[1].text);
    close(master);
    close(slave);
    free(o);
}

/* ---- mount propagation
 * -------------------------------------------------------
 */

/*
 * A "host" of our own: a child in a new mount namespace (private to the
 * machine) with a shared tmpfs holding a copy of the rootfs - the
 * propagation a systemd host has on "/" (mount --make-rshared), but
 * nothing of it reaches the real host. It proves that a mount namespace
 * that keeps the shared peer groups passes a mount back, then runs minictr
 * on the copy, the container mounting a tmpfs on its /tmp, and looks for
 * it while the container runs and after.
 */
struct prop {
    const struct how *how;
    char dir[PATH_MAX];
    int proof_seen, seen_running, seen_after, status;
    char step[128];
    struct out o;
};

static int prop_fail(struct prop *p, const char *step)
{
    snprintf(p->step, sizeof(p->step), "%s: %s", step, strerror(errno));
    return -1;
}

static int prop_host(void *arg)
{
    struct prop *p = arg;
    char rootfs[PATH_MAX + 16], target[PATH_MAX + 32], src[PATH_MAX];
    struct how how = *p->how;
    struct args a = {.n = 0};
    struct job j;
    pid_t pid;

    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", p->dir);
    snprintf(target, sizeof(target), "%s/tmp", rootfs);
    snprintf(src, sizeof(src), "%s/.", mct_rootfs());
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return prop_fail(p, "making / private");
    if (mount("vlab-sec", p->dir, "tmpfs", 0, "size=32m,mode=755") < 0)
        return prop_fail(p, "mounting the tmpfs");
    if (mount(NULL, p->dir, NULL, MS_SHARED, NULL) < 0)
        return prop_fail(p, "making it shared");
    if (mkdir(rootfs, 0755) < 0 ||
        mct_system((char *[]){"cp", "-a", src, rootfs, NULL}) != 0)
        return prop_fail(p, "copying the rootfs");

    /* Proof: a new mount namespace keeps the peer group; its mount
     * appears here. */
    pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 ||
            mount("vlab-proof", target, "tmpfs", 0, "size=16k") < 0)
            _exit(1);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    p->proof_seen = vl_mount_count_under(0, target);
    while (umount2(target, MNT_DETACH) == 0)
        ;

    how.rootfs = rootfs;
    ctr_argv(&a, &how);
    args_add(&a, "mount-tmpfs");
    args_add(&a, "/tmp");
    args_add(&a, "1");
    if (job_start(&j, &p->o, &how, a.v) < 0)
        return prop_fail(p, "starting minictr");
    job_wait_for(&j, "ready=1", RUN_TIMEOUT);
    p->seen_running = vl_mount_count_under(0, target);
    job_finish(&j, RUN_TIMEOUT);
    p->status = p->o.status;
    p->seen_after = vl_mount_count_under(0, target);
    return 0;
}

ESCAPE_TEST(mount_propagation,
            "a mount in the container does not propagate to the host")
{
    struct mct_call *c = mct_call_new();
    char dir[] = "/tmp/vlab-sec-XXXXXX";
    struct how how = HOW(.userns = userns, .weak = true);
    struct prop *shared;
    struct mct_snapshot snap;
    int r;

    require();
    /* struct prop is larger than c->data: shared pages of its own,
     * reached through c->arg. */
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert(shared != MAP_FAILED);
    cr_assert_not_null(mkdtemp(dir));
    weak_supported(); /* decided here, not in the child */
    *shared = (struct prop){.how = &how};
    snprintf(shared->dir, sizeof(shared->dir), "%s", dir);
    mct_snapshot(&snap);
    c->fn = prop_host;
    c->arg = shared;
    r = mct_call_run(c, CLONE_NEWNS, 40);
    rmdir(dir);
    cr_assert_eq(r, 0, "the test's own mount namespace: %s (%s)", shared->step,
                 c->err);
    cr_assert_gt(shared->proof_seen, 0,
                 "a shared mount namespace did not propagate a mount back: "
                 "the test proves nothing");
    cr_assert_eq(shared->status, 0, "minictr: status %d:\n%s", shared->status,
                 shared->o.text);
    cr_expect_eq(shared->seen_running, 0,
                 "the container's tmpfs on /tmp appeared on the host while it "
                 "ran (mount propagation):\n%s",
                 shared->o.text);
    cr_expect_eq(shared->seen_after, 0,
                 "the container's tmpfs stayed on the host:\n%s",
                 shared->o.text);
    /* Weakened to all capabilities, the container's mount must have
     * happened: this tests propagation, not the capability. */
    if (!userns)
        cr_expect(kv_is(&shared->o, "mount", "ok"),
                  "the (weakened) container could not mount: %s",
                  shared->o.text);
    cr_assert_eq(mct_count_mounts(), snap.mounts);
    munmap(shared, sizeof(*shared));
    mct_call_free(c);
}

/* With its default capabilities, the container may not mount at all. */
ESCAPE_TEST(mount_refused, "the container cannot mount (no CAP_SYS_ADMIN)")
{
    struct out *o = calloc(1, sizeof(*o));

    require();
    in_container(o, &HOW(.userns = userns), "mount-tmpfs", "/tmp", "0", NULL);
    /* In a user namespace, mounting a tmpfs is allowed (the namespace's
     * own mounts; nothing of the host's): only root-run is refused. */
    if (!userns)
        cr_expect(kv_in(o, "mount", "EPERM", "EACCES", NULL),
                  "the container mounted a tmpfs (CAP_SYS_ADMIN kept?):\n%s",
                  o->text);
    free(o);
}

/* ---- /proc/sysrq-trigger, /proc/sys
 * ------------------------------------------
 */

Test(escape, sysrq_trigger_masked,
     .description = "/proc/sysrq-trigger is masked in the container")
{
    struct out *o = calloc(1, sizeof(*o));

    require();
    if (access("/proc/sysrq-trigger", F_OK) < 0)
        cr_skip_test("this kernel has no /proc/sysrq-trigger "
                     "(CONFIG_MAGIC_SYSRQ off): nothing to write to; "
                     "/proc/sys is checked by proc_sys_read_only");
    in_container(o, &HOW(.userns = false), "proc-write", NULL);
    cr_expect(kv_in(o, "sysrq_trigger", "masked", "EROFS", "EACCES", "EPERM",
                    "ENOENT", NULL),
              "/proc/sysrq-trigger can be written in the container:\n%s",
              o->text);
    free(o);
}

ESCAPE_TEST(proc_sys_read_only,
            "/proc/sys (kernel/core_pattern) cannot be written")
{
    struct out *o = calloc(2, sizeof(*o));

    require();
    on_host(&o[0], &HOW(.userns = false), "proc-write", NULL);
    cr_assert(kv_is(&o[0], "core_pattern", "writable"),
              "root on the host cannot open core_pattern for writing:\n%s",
              o[0].text);
    in_container(&o[1], &HOW(.userns = userns), "proc-write", NULL);
    cr_expect(kv_in(&o[1], "core_pattern", "EROFS", "EACCES", "EPERM", "masked",
                    NULL),
              "/proc/sys/kernel/core_pattern can be opened for writing in "
              "the container (a pipe there runs a program as host root):\n%s",
              o[1].text);
    cr_expect(kv_is(&o[1], "escaped", "0"), "%s", o[1].text);
    free(o);
}

/* ---- kernel modules -------------------------------------------------------
 */

ESCAPE_TEST(kernel_module, "init_module and finit_module are refused")
{
    struct out *o = calloc(2, sizeof(*o));
    bool no_modules;

    require();
    on_host(&o[0], &HOW(.userns = false), "module", NULL);
    /* A kernel without CONFIG_MODULES says ENOSYS before any check. */
    no_modules = kv_is(&o[0], "init_module", "ENOSYS");
    cr_assert(no_modules || kv_in(&o[0], "init_module", "ENOEXEC", "EINVAL",
                                  "EKEYREJECTED", "EBADMSG", NULL),
              "root on the host: %s", o[0].text);

    in_container(&o[1], &HOW(.userns = userns), "module", NULL);
    if (kv_is(&o[1], "init_module", "EPERM")) {
        cr_expect(kv_is(&o[1], "finit_module", "EPERM"), "%s", o[1].text);
        cr_expect(kv_is(&o[1], "delete_module", "EPERM"), "%s", o[1].text);
    } else {
        /* Not refused by seccomp, and this kernel cannot load modules at
         * all: what would stop it on a kernel that can is the missing
         * CAP_SYS_MODULE (in a user namespace, the capability counts
         * only in the host's: capabilities(7)). */
        cr_expect(no_modules && kv_is(&o[1], "init_module", "ENOSYS"),
                  "init_module in the container: %s", o[1].text);
        if (!userns)
            cr_expect(kv_is(&o[1], "cap_sys_module_bounding", "0"),
                      "the container keeps CAP_SYS_MODULE and nothing "
                      "filters init_module: on a kernel with modules it "
                      "could load one:\n%s",
                      o[1].text);
    }
    free(o);
}

/* ---- raw devices
 * --------------------------------------------------------------
 */

/* A read-only loop device over a temp file: a "host disk" the host can
 * read, which disappears when its last fd closes (LO_FLAGS_AUTOCLEAR,
 * loop(4)). Returns its fd (keep it open), or -1 with why. */
static int loop_make(const char *file, dev_t *dev, char *why, size_t size)
{
    char data[4096], path[32];
    int ctl, nr, fd, back;
    struct stat st;
    struct loop_config cfg = {0};

    memset(data, 'V', sizeof(data));
    back = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (back < 0 || write(back, data, sizeof(data)) != (ssize_t)sizeof(data)) {
        snprintf(why, size, "writing the disk image: %s", strerror(errno));
        if (back >= 0)
            close(back);
        return -1;
    }
    ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    nr = ctl >= 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : -1;
    if (ctl >= 0)
        close(ctl);
    if (nr < 0) {
        snprintf(why, size, "no free loop device: %s", strerror(errno));
        close(back);
        return -1;
    }
    snprintf(path, sizeof(path), "/dev/loop%d", nr);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    cfg.fd = (unsigned)back;
    cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    if (fd < 0 || ioctl(fd, LOOP_CONFIGURE, &cfg) < 0 || fstat(fd, &st) < 0) {
        snprintf(why, size, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        close(back);
        return -1;
    }
    close(back);
    *dev = st.st_rdev;
    return fd;
}

/* The first whole disk of /proc/partitions: "MAJ MIN", or false. */
static bool host_disk(char *maj, char *min, char *name)
{
    char line[256];
    FILE *f = fopen("/proc/partitions", "re");
    bool found = false;

    while (f && !found && fgets(line, sizeof(line), f))
        found =
            sscanf(line, " %15[0-9] %15[0-9] %*s %63s", maj, min, name) == 3 &&
            strncmp(name, "loop", 4) && strncmp(name, "ram", 3);
    if (f)
        fclose(f);
    return found;
}

/* Only runc's default devices: null zero full random urandom tty, and the
 * pty pair's (5:2 ptmx, 136:N pts). */
static void expect_safe_dev(const struct out *o)
{
    char *list = kv(o, "dev_nodes"), *save = NULL;

    for (char *n = strtok_r(list, ",", &save); n;
         n = strtok_r(NULL, ",", &save)) {
        char name[64], type;
        unsigned maj, min;
        bool safe;

        cr_assert_eq(sscanf(n, "%63[^:]:%c:%u:%u", name, &type, &maj, &min), 4,
                     "%s", n);
        safe = type == 'c' &&
               ((maj == 1 &&
                 (min == 3 || min == 5 || min == 7 || min == 8 || min == 9)) ||
                (maj == 5 && (min == 0 || min == 2)) || maj == 136);
        cr_expect(safe,
                  "/dev/%s (%c %u:%u) is not one of the safe devices:\n%s",
                  name, type, maj, min, o->text);
    }
    free(list);
}

ESCAPE_TEST(raw_device, "mknod of a host disk cannot read it")
{
    struct out *o = calloc(3, sizeof(*o));
    char maj[16], min[16], name[64], why[256], file[PATH_MAX + 16];
    struct marker m;
    dev_t dev = 0;
    int loop;

    require();
    marker_make(&m);
    snprintf(file, sizeof(file), "%s/disk.img", m.dir);
    loop = loop_make(file, &dev, why, sizeof(why));
    if (loop < 0) {
        marker_remove(&m);
        cr_skip_test("no loop device to stand for a disk the host can read "
                     "(%s)",
                     why);
    }
    snprintf(maj, sizeof(maj), "%u", major(dev));
    snprintf(min, sizeof(min), "%u", minor(dev));
    /* Proof: with its own node, the host reads the "disk". */
    on_host(&o[0], &HOW(.userns = false), "rawdev", maj, min, m.dir, NULL);
    cr_assert(kv_is(&o[0], "escaped", "1"),
              "the host cannot read loop %s:%s through a node of its own:\n%s",
              maj, min, o[0].text);

    /* /dev (a tmpfs without nodev: its nodes must work), /dev/shm (nodev)
     * and /tmp, in the rootfs. */
    in_container(&o[1], &HOW(.userns = userns), "rawdev", maj, min, "/dev",
                 "/dev/shm", "/tmp", NULL);
    cr_expect(kv_is(&o[1], "escaped", "0"),
              "the container read the host's block device %s:%s:\n%s", maj, min,
              o[1].text);
    expect_safe_dev(&o[1]);

    /* The machine's real disk too (this machine may refuse even the host
     * to read it: that is reported, not required). */
    if (host_disk(maj, min, name)) {
        in_container(&o[2], &HOW(.userns = userns), "rawdev", maj, min, NULL);
        cr_expect(kv_is(&o[2], "escaped", "0"),
                  "the container read the host's disk %s (%s:%s):\n%s", name,
                  maj, min, o[2].text);
    }
    close(loop);
    marker_remove(&m);
    free(o);
}

/* ---- host processes
 * -------------------------------------------------------------
 */

ESCAPE_TEST(host_process,
            "a host process cannot be signalled or ptraced from inside")
{
    struct out *o = calloc(2, sizeof(*o));
    char pid_s[16];
    pid_t pid;

    require();
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(mct_probe_path(), "vlab-probe", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
    /* Proof: from the host, the same calls reach it. */
    on_host(&o[0], &HOW(.userns = false), "hostpid", pid_s, NULL);
    cr_expect(kv_is(&o[0], "kill", "ok") && kv_is(&o[0], "ptrace", "ok"),
              "the host itself cannot signal and trace pid %s:\n%s", pid_s,
              o[0].text);

    in_container(&o[1], &HOW(.userns = userns, .keep_children = true),
                 "hostpid", pid_s, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_expect(kv_in(&o[1], "kill", "ESRCH", "EPERM", NULL),
              "the container signals host pid %s:\n%s", pid_s, o[1].text);
    cr_expect(kv_in(&o[1], "ptrace", "ESRCH", "EPERM", NULL),
              "the container ptraces host pid %s:\n%s", pid_s, o[1].text);
    free(o);
}

/* ---- the kernel keyring
 * ------------------------------------------------------------
 */

ESCAPE_TEST(keyring, "the container does not get the host root's keyring")
{
    struct out *o = calloc(2, sizeof(*o));
    char *host, *ctr;

    require();
    on_host(&o[0], &HOW(.userns = false), "keyring", NULL);
    host = kv(&o[0], "user_keyring");
    cr_assert(host[0] >= '0' && host[0] <= '9', "keyctl fails on the host: %s",
              host);
    in_container(&o[1], &HOW(.userns = userns), "keyring", NULL);
    ctr = kv(&o[1], "user_keyring");
    cr_expect(strcmp(host, ctr) != 0,
              "the container reaches the host root's user keyring %s "
              "(keyrings(7): only a user namespace separates them; Docker's "
              "seccomp profile refuses keyctl)",
              host);
    free(host);
    free(ctr);
    free(o);
}

/* ---- cgroup release_agent: CVE-2022-0492
 * -----------------------------------------
 */

ESCAPE_TEST(cgroup_release_agent,
            "no cgroup v1 hierarchy (release_agent) can be mounted "
            "(CVE-2022-0492)")
{
    struct out *o = calloc(2, sizeof(*o));

    require();
    /* Proof: weakened to all capabilities and no filter, root-run
     * minictr's container mounts one (and unmounts it at once). */
    if (!userns && weak_supported()) {
        char *v;

        in_container(&o[0], &HOW(.weak = true), "cgroupfs", NULL);
        v = kv(&o[0], "cgroup_mount");
        cr_assert(!strncmp(v, "ok", 2),
                  "even with every capability the container cannot mount a "
                  "cgroup hierarchy:\n%s",
                  o[0].text);
        free(v);
    }
    in_container(&o[1], &HOW(.userns = userns), "cgroupfs", NULL);
    cr_expect(kv_is(&o[1], "escaped", "0"),
              "the container mounted a cgroup v1 hierarchy (its "
              "release_agent runs a program as host root) or made a "
              "cgroup:\n%s",
              o[1].text);
    free(o);
}
