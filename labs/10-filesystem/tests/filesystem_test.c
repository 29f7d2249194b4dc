/*
 * filesystem_test.c - the tests of lab 10, grouped by TODO.
 *
 * Two kinds of tests. Some call one of your functions alone, in a child
 * process in fresh namespaces (mct_call_run()), and look at what it
 * mounted from there. The others run the real minictr (your filesystem.c
 * and the reference of every other lab) with vlab-probe as the command,
 * and read what the container sees: `vlab-probe fs`, `masked`, `write`,
 * `escape` (labs/minictr/probe/probe_fs.c).
 *
 * Every test works on its own copy of the test rootfs, and nothing it
 * mounts is seen by the host: the tests that mount in their own process
 * first move into a private mount namespace.
 */
#include "mct_test.h"

#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <termios.h>

/* Paths made by a test, removed by fini even when an assertion fails. */
static char rootfs[PATH_MAX]; /* a copy of the test rootfs */
static char tmpdir[64];       /* a scratch directory (mounted on) */
static char marker[PATH_MAX]; /* a file on the host (escape test) */
static char bindir[64];       /* a copy of minictr others may run */

static void cleanup(void)
{
    if (tmpdir[0]) {
        umount2(tmpdir, MNT_DETACH);
        rmdir(tmpdir);
    }
    if (marker[0])
        unlink(marker);
    mct_rootfs_remove(rootfs);
    mct_rootfs_remove(bindir);
}

TestSuite(filesystem, .fini = cleanup, .timeout = 60);

/* ---- helpers ------------------------------------------------------------- */

/* Move this test's process into a mount namespace of its own whose
 * mounts are private: what it mounts stays here. */
static void private_mount_ns(void)
{
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare(CLONE_NEWNS): %s",
                 strerror(errno));
    vl_assert_ok(vl_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mct-fs-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
    chmod(tmpdir, 0755);
}

/* The container side of the in-process tests: a struct minictr for the
 * rootfs copy, and key=value lines written back to the test. */
static struct minictr ct;
static struct mct_call *call;

static void call_setup(bool userns)
{
    static char *argv[] = {"/bin/true", NULL};
    struct mct_options opt;

    mct_test_options(&opt, argv);
    opt.rootfs = rootfs;
    mct_init_struct(&ct, &opt);
    ct.userns = userns;
    call = mct_call_new();
}

static void say(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const char *key, const char *fmt, ...)
{
    size_t len = strlen(call->data);
    va_list ap;

    if (len + 1 >= sizeof(call->data))
        return;
    len += (size_t)snprintf(call->data + len, sizeof(call->data) - len,
                            "%s=", key);
    va_start(ap, fmt);
    len +=
        (size_t)vsnprintf(call->data + len, sizeof(call->data) - len, fmt, ap);
    va_end(ap);
    if (len + 1 < sizeof(call->data))
        strcat(call->data, "\n");
}

/* Run fn in a child in new namespaces `flags`; it must return 0. */
static void call_ok(int (*fn)(void *), uint64_t flags)
{
    int r;

    call->fn = fn;
    call->arg = call;
    r = mct_call_run(call, flags, 20);
    cr_assert(!call->timed_out, "the call did not return within 20 s");
    cr_assert_eq(r, 0, "it returned %d%s%s\n%s", r, call->err[0] ? ": " : "",
                 call->err, call->data);
}

/* The value of key in the call's output must be `want`. */
static void expect_kv(const char *out, const char *key, const char *want)
{
    char *v = mct_kv(out, key);

    cr_expect(v && strcmp(v, want) == 0, "%s is \"%s\", expected \"%s\"", key,
              v ? v : "(missing)", want);
    free(v);
}

/* The mount at path (from this process's mountinfo), as "fstype options
 * super-options", or "none". */
static void say_mount(const char *key, const char *path)
{
    struct vl_mountinfo m;

    if (vl_mountinfo_find(0, path, &m) < 0)
        say(key, "none");
    else
        say(key, "%s %s %s", m.fstype, m.options, m.super);
}

/* Has the comma-separated option list `opts` the option `opt`? */
static bool has_opt(const char *opts, const char *opt)
{
    size_t n = strlen(opt);

    for (const char *p = opts; p && *p;
         p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, opt, n) && (p[n] == ',' || p[n] == ' ' || !p[n]))
            return true;
    return false;
}

/* The mount described by key ("fstype opts super") has fstype and every
 * option of the comma-separated `opts`. */
static void expect_mount(const char *out, const char *key, const char *fstype,
                         const char *opts)
{
    char *v = mct_kv(out, key), *want = strdup(opts), *save = NULL;

    cr_assert_not_null(v, "no %s in:\n%s", key, out);
    cr_assert(!strncmp(v, fstype, strlen(fstype)) && v[strlen(fstype)] == ' ',
              "%s: expected a %s mount, got \"%s\"", key, fstype, v);
    for (char *o = strtok_r(want, ",", &save); o;
         o = strtok_r(NULL, ",", &save))
        cr_expect(has_opt(v + strlen(fstype) + 1, o) ||
                      (strchr(v + strlen(fstype) + 1, ' ') &&
                       has_opt(strchr(v + strlen(fstype) + 1, ' ') + 1, o)),
                  "%s: option %s missing in \"%s\"", key, o, v);
    free(want);
    free(v);
}

/* Run minictr on the rootfs copy with `opts` (up to 3, NULL-padded) and
 * vlab-probe ARGS; it must succeed. */
static void probe(struct mct_result *r, const char *const opts[3],
                  const char *cmd, const char *arg)
{
    const char *o[3] = {opts ? opts[0] : NULL, opts ? opts[1] : NULL,
                        opts ? opts[2] : NULL};
    const char *argv[10];
    int n = 0;

    for (int i = 0; i < 3; i++)
        if (o[i])
            argv[n++] = o[i];
    argv[n++] = "--";
    argv[n++] = "/bin/vlab-probe";
    argv[n++] = cmd;
    argv[n++] = arg;
    while (n < 10)
        argv[n++] = NULL;
    mct_run_cli_rootfs(r, 20, rootfs, argv[0], argv[1], argv[2], argv[3],
                       argv[4], argv[5], argv[6], argv[7], argv[8], argv[9],
                       NULL);
    cr_assert_eq(r->status, 0, "minictr exited with %d:\n%s%s", r->status,
                 r->err, r->out);
}

/* ---- TODO 1: private propagation ----------------------------------------- */

static int private_then_mount(void *arg)
{
    char inner[PATH_MAX + 8];
    struct vl_mountinfo m = {0};
    int r;

    (void)arg;
    if ((r = mct_fs_private(&ct)) < 0)
        return r;
    vl_mountinfo_find(0, tmpdir, &m);
    say("propagation", "%s", m.propagation);
    snprintf(inner, sizeof(inner), "%s/inner", tmpdir);
    return vl_mount("tmpfs", inner, "tmpfs", 0, "size=16k");
}

Test(filesystem, private_stops_propagation_to_the_host)
{
    char inner[PATH_MAX + 8];

    mct_require_root();
    private_mount_ns();
    /* What systemd leaves on a host: a shared mount. A new mount namespace
     * copies it into the same peer group. */
    make_tmpdir();
    vl_assert_ok(vl_mount("tmpfs", tmpdir, "tmpfs", 0, "size=16k"));
    snprintf(inner, sizeof(inner), "%s/inner", tmpdir);
    cr_assert_eq(mkdir(inner, 0755), 0);
    vl_assert_ok(vl_mount(NULL, tmpdir, NULL, MS_SHARED, NULL));

    call_setup(false);
    call_ok(private_then_mount, CLONE_NEWNS);
    cr_assert(!strstr(call->data, "shared"),
              "after mct_fs_private() the mount below / is still shared "
              "(MS_REC?): %s",
              call->data);
    cr_assert_eq(vl_mount_count_under(0, tmpdir), 1,
                 "the container's mount on %s appeared on the host: "
                 "make every mount private, recursively",
                 inner);
}

Test(filesystem, container_on_a_shared_host_leaves_no_mounts)
{
    struct mct_snapshot before;
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(rootfs);
    /* Like a systemd host: every mount shared. (Our own copies of the
     * mounts, in our own namespace: the real host is not touched.) */
    private_mount_ns();
    vl_assert_ok(vl_mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL));
    mct_snapshot(&before);
    probe(&r, NULL, "fs", NULL);
    expect_mount(r.out, "mnt:/proc", "proc", "nosuid");
    expect_mount(r.out, "mnt:/dev", "tmpfs", "nosuid");
    mct_assert_no_leftovers(&before, &r, rootfs);
    mct_result_free(&r);
}

/* ---- TODO 2: the rootfs, a mount point ----------------------------------- */

static int bind_with_a_submount(void *arg)
{
    char sub[PATH_MAX + 8], file[PATH_MAX + 32];
    struct vl_mountinfo m;
    int fd, r;

    (void)arg;
    if ((r = vl_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) < 0)
        return r;
    /* A volume someone mounted inside the rootfs before the container. */
    snprintf(sub, sizeof(sub), "%s/mnt", rootfs);
    snprintf(file, sizeof(file), "%s/volume-marker", sub);
    if ((r = vl_mount("tmpfs", sub, "tmpfs", 0, "size=16k")) < 0)
        return r;
    if ((fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0)
        return vl_err(errno, "creating %s", file);
    close(fd);

    if ((r = mct_fs_bind_rootfs(&ct)) < 0)
        return r;
    say("rootfs_is_mount", "%d", vl_mountinfo_find(0, rootfs, &m) == 0);
    say("rootfs_mounts", "%d", vl_mount_count_under(0, rootfs));
    say("submount_seen", "%d", access(file, F_OK) == 0);
    return 0;
}

Test(filesystem, bind_rootfs_makes_a_mount_point_with_its_submounts)
{
    char sub[PATH_MAX + 8];

    mct_require_root();
    mct_rootfs_copy(rootfs);
    snprintf(sub, sizeof(sub), "%s/mnt", rootfs);
    mkdir(sub, 0755);
    call_setup(false);
    call_ok(bind_with_a_submount, CLONE_NEWNS);
    expect_kv(call->data, "rootfs_is_mount", "1");
    expect_kv(call->data, "submount_seen", "1");
    /* the volume, the bind, and the volume's copy in the bind */
    expect_kv(call->data, "rootfs_mounts", "3");
}

/* ---- TODO 3: /proc and /sys ---------------------------------------------- */

static int proc_sys_then_look(void *arg)
{
    char proc[PATH_MAX + 8], sys[PATH_MAX + 8], net[PATH_MAX + 32];
    char list[256] = "";
    struct dirent *e;
    DIR *d;
    int r, pids = 0;

    (void)arg;
    if ((r = vl_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) < 0)
        return r;
    if ((r = mct_fs_mount_proc_sys(&ct)) < 0)
        return r;
    snprintf(proc, sizeof(proc), "%s/proc", rootfs);
    snprintf(sys, sizeof(sys), "%s/sys", rootfs);
    say_mount("proc", proc);
    say_mount("sys", sys);
    /* The processes this /proc shows: our new PID namespace's. */
    if ((d = opendir(proc))) {
        while ((e = readdir(d)))
            if (atoi(e->d_name) > 0)
                pids++;
        closedir(d);
    }
    say("proc_pids", "%d", pids);
    /* The network devices this /sys shows: our new network namespace's. */
    snprintf(net, sizeof(net), "%s/class/net", sys);
    if ((d = opendir(net))) {
        while ((e = readdir(d)))
            if (e->d_name[0] != '.' &&
                strlen(list) + strlen(e->d_name) + 2 < sizeof(list)) {
                if (list[0])
                    strcat(list, ",");
                strcat(list, e->d_name);
            }
        closedir(d);
    }
    say("netifs", "%s", list);
    return 0;
}

Test(filesystem, proc_and_sys_show_the_new_namespaces)
{
    mct_require_root();
    mct_rootfs_copy(rootfs);
    call_setup(false);
    call_ok(proc_sys_then_look, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET);
    expect_mount(call->data, "proc", "proc", "rw,nosuid,nodev,noexec");
    expect_kv(call->data, "proc_pids", "1");
    expect_mount(call->data, "sys", "sysfs", "ro,nosuid,nodev,noexec");
    expect_kv(call->data, "netifs", "lo");
}

Test(filesystem, sys_is_read_only_also_with_host_net)
{
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(rootfs);
    probe(&r, (const char *[3]){"--net", "host"}, "fs", NULL);
    /* With the host's network there is no sysfs of our own to mount: the
     * host's /sys is bound, and must be read-only too. */
    expect_kv(r.out, "sys_create", "EROFS");
    expect_mount(r.out, "mnt:/sys", "sysfs", "ro");
    mct_result_free(&r);
}

/* ---- TODO 4: /dev -------------------------------------------------------- */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Use the new /dev's nodes through their paths under the rootfs. */
static void use_dev(const char *dev)
{
    static const struct {
        const char *name;
        unsigned major, minor;
    } nodes[] = {
        {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
        {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    };
    char path[PATH_MAX + 32], buf[16] = {1};
    struct stat st;
    int fd, peer, unlock = 0;

    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dev, nodes[i].name);
        if (stat(path, &st) < 0)
            say(nodes[i].name, "%s", strerrorname_np(errno));
        else
            say(nodes[i].name, "%c %u:%u %04o", S_ISCHR(st.st_mode) ? 'c' : '-',
                major(st.st_rdev), minor(st.st_rdev),
                (unsigned)(st.st_mode & 07777));
    }
    snprintf(path, sizeof(path), "%s/zero", dev);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    say("zero_reads", "%d",
        fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf) && !buf[0] &&
            !buf[15]);
    if (fd >= 0)
        close(fd);
    snprintf(path, sizeof(path), "%s/full", dev);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    say("full_write", "%s",
        fd < 0                  ? "open failed"
        : write(fd, "x", 1) < 0 ? strerrorname_np(errno)
                                : "written");
    if (fd >= 0)
        close(fd);

    /* A pty pair of the new devpts instance, through the ptmx symlink
     * (pts(4); TIOCGPTPEER opens the peer without a path). */
    snprintf(path, sizeof(path), "%s/ptmx", dev);
    fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    peer = fd < 0 || ioctl(fd, TIOCSPTLCK, &unlock) < 0
               ? -1
               : ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    say("pty", "%s",
        fd < 0     ? "cannot open ptmx"
        : peer < 0 ? strerrorname_np(errno)
        : write(peer, "x\n", 2) == 2 && read(fd, buf, 1) == 1 && buf[0] == 'x'
            ? "ok"
            : "no data");
    if (peer >= 0)
        close(peer);
    if (fd >= 0)
        close(fd);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int make_dev_then_look(void *arg)
{
    char dev[PATH_MAX + 8], path[PATH_MAX + 32], link[64];
    char *names[64], list[512] = "";
    struct dirent *e;
    size_t n = 0;
    ssize_t len;
    DIR *d;
    int r, fds = count_fds();

    (void)arg;
    if ((r = vl_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) < 0)
        return r;
    if ((r = mct_fs_make_dev(&ct)) < 0)
        return r;
    say("fds_leaked", "%d", count_fds() - fds);
    snprintf(dev, sizeof(dev), "%s/dev", rootfs);
    say_mount("mount:dev", dev);
    snprintf(path, sizeof(path), "%s/pts", dev);
    say_mount("mount:pts", path);
    snprintf(path, sizeof(path), "%s/shm", dev);
    say_mount("mount:shm", path);
    if ((d = opendir(dev))) {
        while ((e = readdir(d)) && n < 64)
            if (e->d_name[0] != '.')
                names[n++] = strdup(e->d_name);
        closedir(d);
    }
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (size_t i = 0; i < n; i++) {
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 i ? "," : "", names[i]);
        free(names[i]);
    }
    say("dev", "%s", list);
    for (const char *const *l = (const char *const[]){"ptmx", "fd", "stdin",
                                                      "stdout", "stderr", NULL};
         *l; l++) {
        char key[32];

        snprintf(path, sizeof(path), "%s/%s", dev, *l);
        len = readlink(path, link, sizeof(link) - 1);
        link[len < 0 ? 0 : len] = '\0';
        snprintf(key, sizeof(key), "link:%s", *l);
        say(key, "%s", link);
    }
    use_dev(dev);
    return 0;
}

Test(filesystem, make_dev_builds_the_nodes)
{
    static const char *const nodes[][2] = {
        {"null", "c 1:3 0666"},    {"zero", "c 1:5 0666"},
        {"full", "c 1:7 0666"},    {"random", "c 1:8 0666"},
        {"urandom", "c 1:9 0666"}, {"tty", "c 5:0 0666"},
    };

    mct_require_root();
    mct_rootfs_copy(rootfs);
    call_setup(false);
    umask(022); /* mknod's mode passes through the umask */
    call_ok(make_dev_then_look, CLONE_NEWNS);
    expect_mount(call->data, "mount:dev", "tmpfs", "nosuid,mode=755");
    expect_kv(call->data, "dev",
              "fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,"
              "urandom,zero");
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
        expect_kv(call->data, nodes[i][0], nodes[i][1]);
    expect_kv(call->data, "zero_reads", "1");
    expect_kv(call->data, "full_write", "ENOSPC");
    expect_mount(call->data, "mount:pts", "devpts",
                 "nosuid,noexec,gid=5,mode=620,ptmxmode=666");
    expect_mount(call->data, "mount:shm", "tmpfs", "nosuid,nodev,noexec");
    expect_kv(call->data, "link:ptmx", "pts/ptmx");
    expect_kv(call->data, "link:fd", "/proc/self/fd");
    expect_kv(call->data, "link:stdin", "/proc/self/fd/0");
    expect_kv(call->data, "link:stdout", "/proc/self/fd/1");
    expect_kv(call->data, "link:stderr", "/proc/self/fd/2");
    expect_kv(call->data, "pty", "ok");
    expect_kv(call->data, "fds_leaked", "0");
}

Test(filesystem, dev_nodes_work_in_the_container)
{
    static const char *const works[][2] = {
        {"use:null", "ok"},
        {"use:zero", "ok"},
        {"use:full", "ENOSPC"},
        {"use:random", "ok"},
        {"use:urandom", "ok"},
        {"use:shm", "ok"},
        {"pty", "ok"},
        /* a fresh devpts instance numbers its ptys from 0 */
        {"pty_name", "/dev/pts/0"},
    };
    struct mct_result r;
    char *tty;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(rootfs);
    probe(&r, NULL, "fs", NULL);
    expect_kv(r.out, "dev",
              "fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,"
              "urandom,zero");
    for (size_t i = 0; i < sizeof(works) / sizeof(works[0]); i++)
        expect_kv(r.out, works[i][0], works[i][1]);
    /* /dev/tty is there; opening it needs a controlling terminal */
    tty = mct_kv(r.out, "use:tty");
    cr_expect(tty && (!strcmp(tty, "ok") || !strcmp(tty, "ENXIO")),
              "use:tty=%s: /dev/tty must be the tty device (5, 0)", tty);
    free(tty);
    mct_result_free(&r);
}

Test(filesystem, works_in_a_user_namespace)
{
    static const char *const works[][2] = {
        {"node:null", "c 1:3 0666"},
        {"use:null", "ok"},
        {"use:zero", "ok"},
        {"use:full", "ENOSPC"},
        {"use:urandom", "ok"},
        {"use:shm", "ok"},
        {"pty", "ok"},
        {"root_ro", "1"},
        {"sys_create", "EROFS"},
    };
    char dir[PATH_MAX];
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    /* The rootfs on a nosuid,nodev mount, as on many hosts: in the
     * container's user namespace those flags are locked, and every
     * read-only remount must keep them. */
    private_mount_ns();
    make_tmpdir();
    vl_assert_ok(vl_mount("tmpfs", tmpdir, "tmpfs", MS_NOSUID | MS_NODEV,
                          "size=16m,mode=755"));
    snprintf(dir, sizeof(dir), "%s/.", mct_rootfs());
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
    cr_assert_eq(mct_system((char *[]){"cp", "-a", dir, rootfs, NULL}), 0);
    probe(&r, (const char *[3]){"--userns", "--read-only"}, "fs", NULL);
    for (size_t i = 0; i < sizeof(works) / sizeof(works[0]); i++)
        expect_kv(r.out, works[i][0], works[i][1]);
    mct_result_free(&r);
    rootfs[0] = '\0'; /* it goes with the tmpfs */
}

/* Can host user uid create a user namespace here? (vl_userns_check()
 * run as that user, in a child.) */
static bool userns_allowed_for(uid_t uid, gid_t gid)
{
    pid_t pid;
    int st;

    fflush(NULL);
    pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
            setresuid(uid, uid, uid))
            _exit(2);
        /* Changing uid without exec() left us non-dumpable: our /proc
         * files would stay root's (proc(5), PR_SET_DUMPABLE). */
        prctl(PR_SET_DUMPABLE, 1);
        _exit(vl_userns_check() == 0 ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

Test(filesystem, dev_works_rootless)
{
    static const char *const works[][2] = {
        {"use:null", "ok"}, {"use:zero", "ok"}, {"use:full", "ENOSPC"},
        {"use:shm", "ok"},  {"pty", "ok"},
    };
    const uid_t nobody = 65534;
    struct mct_result r;
    char bin[128];

    mct_require_root();
    mct_require_built();
    if (!userns_allowed_for(nobody, nobody))
        cr_skip_test("user %u may not create user namespaces here "
                     "(`minictr check` says why)",
                     nobody);
    /* Run by an ordinary user, only the container's root is mapped (lab
     * 11): gid 5 does not exist in there, devpts must do without it. */
    mct_rootfs_copy_owned(rootfs, nobody, nobody);
    /* The grader builds minictr in a directory only root may enter. */
    snprintf(bindir, sizeof(bindir), "/tmp/mct-bin-XXXXXX");
    cr_assert_not_null(mkdtemp(bindir), "mkdtemp: %s", strerror(errno));
    snprintf(bin, sizeof(bin), "%s/minictr", bindir);
    cr_assert_eq(mct_system((char *[]){"cp", (char *)mct_binary(), bin, NULL}),
                 0, "cp %s %s failed", mct_binary(), bin);
    cr_assert(chmod(bindir, 0755) == 0 && chmod(bin, 0755) == 0);
    setenv("MCT_BINARY", bin, 1);
    mct_run_cli_as(&r, nobody, nobody, 20, rootfs, "--", "/bin/vlab-probe",
                   "fs", NULL);
    cr_assert_eq(r.status, 0, "minictr run as uid %u exited with %d:\n%s%s",
                 nobody, r.status, r.err, r.out);
    for (size_t i = 0; i < sizeof(works) / sizeof(works[0]); i++)
        expect_kv(r.out, works[i][0], works[i][1]);
    mct_result_free(&r);
}

/* ---- TODO 5: pivot_root -------------------------------------------------- */

/* Is every mount point the container sees one of its own? */
static void expect_only_container_mounts(const char *out)
{
    static const char *const ours[] = {"/proc", "/sys", "/dev", NULL};
    char *points = mct_kv(out, "mountpoints"), *save = NULL;
    int roots = 0;

    cr_assert_not_null(points, "no mountpoints= in:\n%s", out);
    for (char *p = strtok_r(points, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        bool ok = false;

        if (!strcmp(p, "/")) {
            roots++;
            continue;
        }
        for (size_t i = 0; ours[i] && !ok; i++) {
            size_t n = strlen(ours[i]);

            ok = !strncmp(p, ours[i], n) && (p[n] == '/' || !p[n]);
        }
        cr_expect(ok, "the container sees the host's mount %s", p);
    }
    cr_expect_eq(roots, 1,
                 "%d mounts on / in the container: the old root must be "
                 "detached",
                 roots);
    free(points);
}

Test(filesystem, root_is_the_rootfs_and_the_host_is_gone)
{
    struct mct_result r;
    struct stat st;
    char want[64], *root;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(rootfs);
    cr_assert_eq(stat(rootfs, &st), 0);
    probe(&r, NULL, "fs", NULL);
    snprintf(want, sizeof(want), "%llu", (unsigned long long)st.st_ino);
    expect_kv(r.out, "root_ino", want);
    snprintf(want, sizeof(want), "%u:%u", major(st.st_dev), minor(st.st_dev));
    expect_kv(r.out, "root_dev", want);
    root = mct_kv(r.out, "mnt:/");
    cr_expect(root && strcmp(root, "none"),
              "/ is not a mount point in the container (mnt:/=%s)", root);
    free(root);
    expect_only_container_mounts(r.out);
    mct_result_free(&r);
}

Test(filesystem, chroot_escape_does_not_reach_the_host)
{
    struct mct_result r;
    int fd;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(rootfs);
    /* A file on the host, outside the rootfs: seen only if we get out. */
    snprintf(marker, sizeof(marker), "/tmp/mct-escape-marker-XXXXXX");
    fd = mkstemp(marker);
    cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
    close(fd);
    probe(&r, NULL, "escape", marker);
    expect_kv(r.out, "marker_before", "0");
    expect_kv(r.out, "escaped", "0");
    cr_expect(!strstr(r.out, "escape_error"),
              "the escape attempt itself failed:\n%s", r.out);
    mct_result_free(&r);
}

/* ---- TODO 6: masked and read-only paths ---------------------------------- */

static int mask_then_look(void *arg)
{
    char kinds[1024] = "";
    struct statvfs sv;
    struct stat st;
    int r, fd, fds;

    (void)arg;
    /* What exists here before masking: a file (f) or a directory (d). */
    for (const char *const *p = mct_masked_paths; *p; p++)
        snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%c",
                 *p,
                 stat(*p, &st) < 0     ? '-'
                 : S_ISDIR(st.st_mode) ? 'd'
                                       : 'f');
    fds = count_fds();
    if ((r = mct_fs_mask_paths(&ct)) < 0)
        return r;
    say("fds_leaked", "%d", count_fds() - fds);
    for (const char *const *p = mct_masked_paths; *p; p++) {
        char key[PATH_MAX + 8];
        char kind = strstr(kinds, *p)[strlen(*p)];
        struct vl_mountinfo m;

        snprintf(key, sizeof(key), "masked:%s", *p);
        if (kind == '-')
            continue;
        if (kind == 'f')
            say(key, "%s",
                stat(*p, &st) == 0 && S_ISCHR(st.st_mode) &&
                        st.st_rdev == makedev(1, 3)
                    ? "null"
                    : "visible");
        else
            say(key, "%s",
                vl_mountinfo_find(0, *p, &m) == 0 &&
                        !strcmp(m.fstype, "tmpfs") &&
                        vl_mountinfo_has_option(&m, "ro")
                    ? "empty"
                    : "visible");
    }
    for (const char *const *p = mct_readonly_paths; *p; p++) {
        char key[PATH_MAX + 8];

        snprintf(key, sizeof(key), "ro:%s", *p);
        if (statvfs(*p, &sv) == 0)
            say(key, "%s", sv.f_flag & ST_RDONLY ? "ro" : "rw");
    }
    fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    say("sysctl_open", "%s", fd >= 0 ? "ok" : strerrorname_np(errno));
    if (fd >= 0)
        close(fd);
    say("proc_self", "%d", access("/proc/self/status", R_OK) == 0);
    return 0;
}

Test(filesystem, mask_paths_hides_and_protects)
{
    const char *l;
    int masked = 0;

    mct_require_root();
    rootfs[0] = '\0';
    call_setup(false);
    call->mount_proc = true; /* a private namespace with its own /proc */
    call_ok(mask_then_look, CLONE_NEWNS | CLONE_NEWPID);
    for (l = call->data; l && *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, "masked:", 7)) {
            masked++;
            cr_expect(strncmp(strchr(l, '=') + 1, "visible", 7),
                      "not masked: %.*s", (int)strcspn(l, "\n"), l);
        }
        if (!strncmp(l, "ro:", 3))
            cr_expect(strncmp(strchr(l, '=') + 1, "ro", 2) == 0,
                      "not read-only: %.*s", (int)strcspn(l, "\n"), l);
    }
    cr_expect(masked >= 2, "only %d masked paths exist here:\n%s", masked,
              call->data);
    expect_kv(call->data, "ro:/proc/sys", "ro");
    expect_kv(call->data, "sysctl_open", "EROFS");
    expect_kv(call->data, "proc_self", "1");
    expect_kv(call->data, "fds_leaked", "0");
}

Test(filesystem, masked_paths_in_the_container)
{
    struct mct_result r;
    const char *l;
    int hidden = 0;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(rootfs);
    probe(&r, NULL, "masked", NULL);
    for (l = r.out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *v = strchr(l, '=') + 1;

        if (strncmp(l, "masked:", 7))
            continue;
        cr_expect(strncmp(v, "visible", 7),
                  "the container sees %.*s: it must be masked",
                  (int)(v - l - 8), l + 7);
        hidden += !strncmp(v, "null", 4);
    }
    cr_expect(hidden >= 1, "no masked file reads as /dev/null:\n%s", r.out);
    expect_kv(r.out, "ro:/proc/sys", "ro");
    expect_kv(r.out, "sysctl_open", "EROFS");
    mct_result_free(&r);
}

/* ---- TODO 7: a read-only root -------------------------------------------- */

Test(filesystem, read_only_root_only_with_the_option)
{
    static const char *const rw[][2] = {
        {"write:/tmp/probe", "ok"},
        {"write:/etc/probe", "ok"},
        {"write:/dev/shm/probe", "ok"},
    };
    static const char *const ro[][2] = {
        {"write:/tmp/probe", "EROFS"},
        {"write:/etc/probe", "EROFS"},
        {"write:/dev/shm/probe", "ok"},
        {"write:/dev/null", "ok"},
    };
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(rootfs);
    mct_run_cli_rootfs(&r, 20, rootfs, "--", "/bin/vlab-probe", "write",
                       "/tmp/probe", "/etc/probe", "/dev/shm/probe", NULL);
    cr_assert_eq(r.status, 0, "minictr: %d\n%s", r.status, r.err);
    for (size_t i = 0; i < sizeof(rw) / sizeof(rw[0]); i++)
        expect_kv(r.out, rw[i][0], rw[i][1]);
    mct_result_free(&r);

    mct_run_cli_rootfs(&r, 20, rootfs, "--read-only", "--", "/bin/vlab-probe",
                       "write", "/tmp/probe", "/etc/probe", "/dev/shm/probe",
                       "/dev/null", NULL);
    cr_assert_eq(r.status, 0, "minictr --read-only: %d\n%s", r.status, r.err);
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
        expect_kv(r.out, ro[i][0], ro[i][1]);
    mct_result_free(&r);
}
