/*
 * userns_test.c - the tests of lab 11: user namespaces and rootless
 * containers, one group per TODO, then the rootless runs.
 *
 * TODOs 1 and 2 are called directly (TODO 2 on a child that is given maps
 * by hand, so it is graded alone). TODO 3 and the whole stage are tested
 * by running minictr: as root with --userns, and as an unprivileged host
 * user, "vlab-rootless", that the tests create when they first need it
 * (useradd --system, marked by its comment) and remove after the run.
 */
#include "mct_test.h"

#include <linux/capability.h>
#include <pwd.h>
#include <sys/file.h>

TestSuite(userns, .timeout = 60);

/* Ids for the direct calls: no user needs to exist for them. */
#define TEST_UID 4242u
#define TEST_GID 4343u

#define ROOTLESS_USER    "vlab-rootless"
#define ROOTLESS_COMMENT "virtlab lab 11 rootless tests (removed after them)"

#define RUN_SEC 20 /* time limit of one minictr run */

/* ---- helpers ------------------------------------------------------------- */

/*
 * Does maps[0..n) map exactly [0, count) to [outside, outside + count)?
 * Any split into several lines is fine; the kernel has already refused
 * overlapping lines, so counting the ids is enough.
 */
static bool maps_are(const struct vl_id_map *maps, size_t n, uint32_t outside,
                     uint32_t count)
{
    uint64_t total = 0;

    if (n == 0 || n > MCT_MAX_ID_MAPS)
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((uint64_t)maps[i].inside + maps[i].count > count ||
            maps[i].outside != maps[i].inside + outside)
            return false;
        total += maps[i].count;
    }
    return total == count;
}

/* Parse the lines of a uid_map/gid_map ("0 100000 65536\n" or vlab-probe's
 * "0 100000 65536;1 ...") into maps; returns the number of lines. */
static size_t parse_map(const char *text, struct vl_id_map *maps, size_t max)
{
    size_t n = 0;

    while (text && *text && n < max) {
        unsigned in, out, count;

        if (sscanf(text, "%u %u %u", &in, &out, &count) != 3)
            break;
        maps[n++] = (struct vl_id_map){in, out, count};
        text += strcspn(text, "\n;");
        if (*text)
            text++;
    }
    return n;
}

static void map_str(const struct vl_id_map *maps, size_t n, char *buf,
                    size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u %u %u",
                                 i ? "; " : "", maps[i].inside, maps[i].outside,
                                 maps[i].count);
    if (n == 0)
        snprintf(buf, len, "(none)");
}

#define assert_maps(maps, n, outside, count, what)                             \
    do {                                                                       \
        char _s[128];                                                          \
                                                                               \
        map_str((maps), (n), _s, sizeof(_s));                                  \
        cr_assert(maps_are((maps), (n), (outside), (count)),                   \
                  "%s: expected \"0 %u %u\" (inside outside count), got "      \
                  "\"%s\"",                                                    \
                  (what), (unsigned)(outside), (unsigned)(count), _s);         \
    } while (0)

/* Read a small file (a /proc/PID map) into buf; false when it cannot. */
static bool read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    buf[0] = '\0';
    if (fd < 0)
        return false;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

/* In a process of ours: become uid:gid for good (no groups), and stay
 * "dumpable" so that our /proc/PID files stay ours (proc(5),
 * /proc/sys/fs/suid_dumpable: a process that changed its ids loses it). */
static int become(uid_t uid, gid_t gid)
{
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0)
        return vl_err(errno, "becoming %u:%u", (unsigned)uid, (unsigned)gid);
    prctl(PR_SET_DUMPABLE, 1);
    return 0;
}

/*
 * A child in a new user namespace with nothing mapped yet, as mct_spawn()
 * leaves it: it waits until *go is closed. Returns its pid.
 */
static pid_t userns_child(int *go)
{
    int ready[2], wait_go[2];
    pid_t pid;
    char c;

    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(wait_go, O_CLOEXEC) < 0)
        return vl_err(errno, "pipe2");
    pid = fork();
    if (pid < 0)
        return vl_err(errno, "fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(ready[0]);
        close(wait_go[1]);
        c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
        if (write(ready[1], &c, 1) != 1 || c != 'u')
            _exit(1);
        while (read(wait_go[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(ready[1]);
    close(wait_go[0]);
    if (read(ready[0], &c, 1) != 1 || c != 'u') {
        close(ready[0]);
        close(wait_go[1]);
        waitpid(pid, NULL, 0);
        return vl_err_plain(EPERM, "the child could not unshare("
                                   "CLONE_NEWUSER)");
    }
    close(ready[0]);
    *go = wait_go[1];
    return pid;
}

static void userns_child_end(pid_t pid, int go)
{
    close(go);
    waitpid(pid, NULL, 0);
}

/* What a TODO 2 call leaves behind, read back from /proc/PID. */
struct written {
    int ret;
    char uid_map[256], gid_map[256], setgroups[32];
};

/* Give the child the maps of ct with the student's mct_userns_write_maps()
 * and read them back from /proc/PID. */
static int write_and_read_back(struct minictr *ct, struct written *w)
{
    char path[64];
    int go;
    pid_t pid = userns_child(&go);

    if (pid < 0)
        return pid;
    ct->pid = pid;
    vl_err_clear();
    w->ret = mct_userns_write_maps(ct);
    snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
    read_text(path, w->uid_map, sizeof(w->uid_map));
    snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
    read_text(path, w->gid_map, sizeof(w->gid_map));
    snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
    read_text(path, w->setgroups, sizeof(w->setgroups));
    userns_child_end(pid, go);
    return w->ret;
}

/* Memory a forked child's results come back in (zeroed). */
static void *shared_new(size_t size)
{
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    cr_assert(m != MAP_FAILED, "mmap: %s", strerror(errno));
    return m;
}

static void new_ct(struct minictr *ct, bool userns)
{
    static char *argv[] = {"/bin/true", NULL};
    struct mct_options opt;

    mct_test_options(&opt, argv);
    opt.userns = userns;
    mct_init_struct(ct, &opt);
}

/* ---- the rootless user --------------------------------------------------- */

/* Serialise useradd/userdel between tests running in parallel: an
 * advisory lock on /etc/passwd (useradd's own locks are other files). */
static int lock_passwd(void)
{
    int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

    if (fd >= 0)
        flock(fd, LOCK_EX);
    return fd;
}

static bool is_ours(const struct passwd *pw)
{
    return pw && pw->pw_gecos && strcmp(pw->pw_gecos, ROOTLESS_COMMENT) == 0;
}

/* The rootless test user: created the first time (idempotent), never a
 * user this file did not create. */
static void rootless_user(uid_t *uid, gid_t *gid)
{
    int lock = lock_passwd();
    struct passwd *pw = getpwnam(ROOTLESS_USER);

    if (!pw) {
        char *argv[] = {"useradd",   "--system",          "--no-create-home",
                        "--shell",   "/usr/sbin/nologin", "--user-group",
                        "--comment", ROOTLESS_COMMENT,    ROOTLESS_USER,
                        NULL};
        int st = mct_system(argv);

        pw = getpwnam(ROOTLESS_USER);
        if (!pw) {
            if (lock >= 0)
                close(lock);
            if (st == 127)
                cr_skip_test("useradd is missing (apt-get install passwd): "
                             "cannot create the rootless test user");
            cr_assert_fail("useradd " ROOTLESS_USER " failed (status %d)", st);
        }
    }
    if (!is_ours(pw)) {
        if (lock >= 0)
            close(lock);
        cr_skip_test("a user " ROOTLESS_USER " exists that these tests did not "
                     "create (comment \"%s\"): not touching it",
                     pw->pw_gecos ? pw->pw_gecos : "");
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (lock >= 0)
        close(lock);
}

/* After the whole run, in Criterion's runner: remove the user again. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    int lock = lock_passwd();
    struct passwd *pw = getpwnam(ROOTLESS_USER);

    (void)stats;
    if (geteuid() == 0 && is_ours(pw))
        mct_system((char *[]){"userdel", ROOTLESS_USER, NULL});
    if (lock >= 0)
        close(lock);
}

static int check_as(void *arg)
{
    const uid_t *ids = arg;
    int r = become(ids[0], (gid_t)ids[1]);

    return r < 0 ? r : vl_userns_check();
}

/* Skip, with vl_userns_check()'s reason, where this user may not create a
 * user namespace (Ubuntu's AppArmor restriction, Debian's old switch...). */
static void require_userns_as(uid_t uid, gid_t gid)
{
    struct mct_call *c = mct_call_new();
    uid_t ids[2] = {uid, (uid_t)gid};
    char reason[VL_ERRMSG_MAX];
    int r;

    c->fn = check_as;
    c->arg = ids;
    r = mct_call_run(c, 0, 10);
    snprintf(reason, sizeof(reason), "%s", c->err);
    mct_call_free(c);
    cr_assert_neq(r, INT_MIN, "the user namespace check crashed");
    if (r < 0)
        cr_skip_test("uid %u may not create user namespaces here: %s",
                     (unsigned)uid, reason);
}

/* What the container tests put on the host, removed by their .fini (which
 * runs also when an assertion stopped the test). */
static char copy_dir[PATH_MAX], bin_dir[PATH_MAX];

static void remove_copies(void)
{
    mct_rootfs_remove(copy_dir);
    mct_rootfs_remove(bin_dir);
    copy_dir[0] = bin_dir[0] = '\0';
}

/*
 * Everything a rootless run needs: the user, user namespaces allowed for
 * it, a rootfs copy it owns, and a copy of minictr it can execute (the
 * grader builds minictr in a directory only root may enter).
 */
static void rootless_setup(uid_t *uid, gid_t *gid)
{
    char bin[PATH_MAX + 16];

    mct_require_root();
    mct_require_built();
    rootless_user(uid, gid);
    require_userns_as(*uid, *gid);
    mct_rootfs_copy_owned(copy_dir, *uid, *gid);
    snprintf(bin_dir, sizeof(bin_dir), "/tmp/mct-bin-XXXXXX");
    cr_assert_not_null(mkdtemp(bin_dir), "mkdtemp: %s", strerror(errno));
    cr_assert_eq(chmod(bin_dir, 0755), 0);
    snprintf(bin, sizeof(bin), "%s/minictr", bin_dir);
    cr_assert_eq(mct_system((char *[]){"cp", (char *)mct_binary(), bin, NULL}),
                 0, "cp %s %s failed", mct_binary(), bin);
    cr_assert_eq(chmod(bin, 0755), 0);
    setenv("MCT_BINARY", bin, 1);
}

/* A file of the rootfs copy, as the host sees it. */
static void stat_in_copy(const char *rel, struct stat *st)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s%s", copy_dir, rel);
    cr_assert_eq(stat(path, st), 0, "%s: %s (the container did not create it)",
                 path, strerror(errno));
}

/* cap_eff=...: every capability of the bounding set, CAP_SYS_ADMIN too. */
static void assert_full_caps(const char *out)
{
    char *eff = mct_kv(out, "cap_eff"), *bnd = mct_kv(out, "cap_bnd");
    unsigned long long e;

    cr_assert(eff && bnd, "vlab-probe printed no cap_eff/cap_bnd:\n%s", out);
    e = strtoull(eff, NULL, 16);
    cr_assert(e == strtoull(bnd, NULL, 16) && (e >> CAP_SYS_ADMIN & 1),
              "the container's effective capabilities are %s, its bounding "
              "set %s: root of a user namespace has them all (did it become "
              "uid 0 in the namespace before the exec?)",
              eff, bnd);
    free(eff);
    free(bnd);
}

static void assert_kv(const char *out, const char *key, const char *want)
{
    char *v = mct_kv(out, key);

    cr_assert(v && strcmp(v, want) == 0,
              "%s=%s inside, expected %s; output:\n%s", key,
              v ? v : "(missing)", want, out);
    free(v);
}

static void assert_map_kv(const char *out, const char *key, uint32_t outside,
                          uint32_t count)
{
    char *v = mct_kv(out, key);
    struct vl_id_map maps[MCT_MAX_ID_MAPS + 1];
    size_t n;

    cr_assert_not_null(v, "vlab-probe printed no %s=:\n%s", key, out);
    n = parse_map(v, maps, MCT_MAX_ID_MAPS + 1);
    assert_maps(maps, n, outside, count, key);
    free(v);
}

/* ---- TODO 1: the maps ---------------------------------------------------- */

Test(userns, maps_as_root_use_the_subid_range)
{
    struct minictr ct;

    mct_require_root();
    new_ct(&ct, false);
    vl_assert_ok(mct_userns_maps(&ct));
    cr_assert(!ct.userns, "root without --userns: no user namespace");
    cr_assert(ct.nuid_map == 0 && ct.ngid_map == 0,
              "no user namespace, yet %zu uid and %zu gid map lines",
              ct.nuid_map, ct.ngid_map);
    mct_destroy(&ct);

    new_ct(&ct, true);
    vl_assert_ok(mct_userns_maps(&ct));
    cr_assert(ct.userns, "--userns asks for a user namespace");
    cr_assert(ct.host_uid == 0 && ct.host_gid == 0,
              "host_uid/host_gid should be getuid()/getgid() (0/0), not "
              "%u/%u",
              (unsigned)ct.host_uid, (unsigned)ct.host_gid);
    assert_maps(ct.uid_map, ct.nuid_map, MCT_SUBID_BASE, MCT_SUBID_COUNT,
                "uid_map as root");
    assert_maps(ct.gid_map, ct.ngid_map, MCT_SUBID_BASE, MCT_SUBID_COUNT,
                "gid_map as root");
    mct_destroy(&ct);
}

/* What TODO 1 decided, copied back from the child that ran it. */
struct decided {
    bool userns;
    uid_t host_uid;
    gid_t host_gid;
    struct vl_id_map uid_map[MCT_MAX_ID_MAPS], gid_map[MCT_MAX_ID_MAPS];
    size_t nuid_map, ngid_map;
};

static int maps_as_user(void *arg)
{
    struct decided *d = arg;
    struct minictr ct;
    int r = become(TEST_UID, TEST_GID);

    if (r < 0)
        return r;
    new_ct(&ct, false); /* no --userns: not root is enough */
    r = mct_userns_maps(&ct);
    *d = (struct decided){.userns = ct.userns,
                          .host_uid = ct.host_uid,
                          .host_gid = ct.host_gid,
                          .nuid_map = ct.nuid_map,
                          .ngid_map = ct.ngid_map};
    memcpy(d->uid_map, ct.uid_map, sizeof(d->uid_map));
    memcpy(d->gid_map, ct.gid_map, sizeof(d->gid_map));
    mct_destroy(&ct);
    return r;
}

Test(userns, maps_as_a_user_hold_only_their_own_id)
{
    struct mct_call *c = mct_call_new();
    struct decided *d = shared_new(sizeof(*d));
    int r;

    mct_require_root();
    c->fn = maps_as_user;
    c->arg = d;
    r = mct_call_run(c, 0, 10);
    cr_assert(r >= 0, "mct_userns_maps() as uid %u returned %d: %s", TEST_UID,
              r, c->err);
    cr_assert(d->userns, "not root: always a user namespace (without one, "
                         "creating the others needs root)");
    cr_assert(d->host_uid == TEST_UID && d->host_gid == TEST_GID,
              "host_uid/host_gid should be %u/%u (getuid()/getgid()), not "
              "%u/%u",
              TEST_UID, TEST_GID, (unsigned)d->host_uid, (unsigned)d->host_gid);
    assert_maps(d->uid_map, d->nuid_map, TEST_UID, 1,
                "uid_map as an unprivileged user (only its own uid)");
    assert_maps(d->gid_map, d->ngid_map, TEST_GID, 1,
                "gid_map as an unprivileged user (only its own gid)");
    munmap(d, sizeof(*d));
    mct_call_free(c);
}

/* ---- TODO 2: writing them ------------------------------------------------ */

Test(userns, root_writes_the_full_maps)
{
    struct vl_id_map got[MCT_MAX_ID_MAPS + 1];
    struct written w = {0};
    struct minictr ct;
    int fds;

    mct_require_root();
    new_ct(&ct, true);
    ct.userns = true;
    ct.host_uid = 0;
    ct.host_gid = 0;
    ct.uid_map[0] = ct.gid_map[0] =
        (struct vl_id_map){0, MCT_SUBID_BASE, MCT_SUBID_COUNT};
    ct.nuid_map = ct.ngid_map = 1;
    fds = vl_count_fds();
    cr_assert(write_and_read_back(&ct, &w) >= 0,
              "mct_userns_write_maps() as root: %s", vl_errmsg());
    cr_assert_eq(vl_count_fds(), fds, "mct_userns_write_maps() leaks fds");
    assert_maps(got, parse_map(w.uid_map, got, MCT_MAX_ID_MAPS + 1),
                MCT_SUBID_BASE, MCT_SUBID_COUNT, "/proc/PID/uid_map");
    assert_maps(got, parse_map(w.gid_map, got, MCT_MAX_ID_MAPS + 1),
                MCT_SUBID_BASE, MCT_SUBID_COUNT, "/proc/PID/gid_map");
    cr_assert(strncmp(w.setgroups, "allow", 5) == 0,
              "/proc/PID/setgroups is \"%s\": root may write gid_map "
              "without denying setgroups, and its container needs "
              "setgroups(2) to drop its supplementary groups",
              w.setgroups);
    mct_destroy(&ct);
}

static int write_as_user(void *arg)
{
    struct written *w = arg;
    struct minictr ct;
    int r = become(TEST_UID, TEST_GID);

    if (r < 0)
        return r;
    if ((r = vl_userns_check()) < 0)
        return vl_err_ctx(r, "SKIP");
    new_ct(&ct, false);
    ct.userns = true;
    ct.host_uid = TEST_UID;
    ct.host_gid = TEST_GID;
    ct.uid_map[0] = (struct vl_id_map){0, TEST_UID, 1};
    ct.gid_map[0] = (struct vl_id_map){0, TEST_GID, 1};
    ct.nuid_map = ct.ngid_map = 1;
    r = write_and_read_back(&ct, w);
    mct_destroy(&ct);
    return r;
}

Test(userns, user_denies_setgroups_then_writes_one_id)
{
    struct mct_call *c = mct_call_new();
    struct written *w = shared_new(sizeof(*w));
    struct vl_id_map got[MCT_MAX_ID_MAPS + 1];
    int r;

    mct_require_root();
    c->fn = write_as_user;
    c->arg = w;
    r = mct_call_run(c, 0, 10);
    if (r < 0 && strncmp(c->err, "SKIP", 4) == 0)
        cr_skip_test("uid %u may not create user namespaces here: %s", TEST_UID,
                     c->err);
    cr_assert(r >= 0, "mct_userns_write_maps() as uid %u returned %d: %s",
              TEST_UID, r, c->err);
    cr_assert(strncmp(w->setgroups, "deny", 4) == 0,
              "/proc/PID/setgroups is \"%s\": an unprivileged writer must "
              "deny setgroups (before gid_map)",
              w->setgroups);
    assert_maps(got, parse_map(w->uid_map, got, MCT_MAX_ID_MAPS + 1), TEST_UID,
                1, "/proc/PID/uid_map");
    assert_maps(got, parse_map(w->gid_map, got, MCT_MAX_ID_MAPS + 1), TEST_GID,
                1, "/proc/PID/gid_map");
    munmap(w, sizeof(*w));
    mct_call_free(c);
}

/* ---- TODO 3 and the stage: root with --userns ---------------------------- */

Test(userns, container_root_has_every_capability_inside)
{
    /* Supplementary groups minictr must not hand to the container. */
    const gid_t groups[] = {0, 4};
    struct mct_snapshot snap;
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    cr_assert_eq(setgroups(2, groups), 0, "setgroups: %s", strerror(errno));
    mct_snapshot(&snap);
    /* --cap-add ALL: lab 13's default set would hide what the user
     * namespace gives (this lab is about the namespace, not the drop). */
    mct_run_cli(&r, RUN_SEC, "--userns", "--cap-add", "ALL", "--",
                "/bin/vlab-probe", "ids", NULL);
    cr_assert_eq(r.status, 0, "minictr run --userns: status %d\n%s%s", r.status,
                 r.out, r.err);
    assert_kv(r.out, "uid", "0");
    assert_kv(r.out, "euid", "0");
    assert_kv(r.out, "suid", "0");
    assert_kv(r.out, "gid", "0");
    assert_kv(r.out, "egid", "0");
    assert_kv(r.out, "ngroups", "0"); /* setgroups(0, NULL) */
    assert_kv(r.out, "setgroups", "allow");
    assert_map_kv(r.out, "uid_map", MCT_SUBID_BASE, MCT_SUBID_COUNT);
    assert_map_kv(r.out, "gid_map", MCT_SUBID_BASE, MCT_SUBID_COUNT);
    assert_full_caps(r.out);
    mct_assert_no_leftovers(&snap, &r, NULL);
    mct_result_free(&r);
}

/* "Uid:\t100000\t100000\t100000\t100000" of /proc/PID/status: all four the
 * same (real, effective, saved, filesystem)? */
static void assert_status_ids(pid_t pid, const char *key, unsigned want)
{
    char path[64], text[4096], *line;
    unsigned ids[4];

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    cr_assert(read_text(path, text, sizeof(text)), "%s: %s", path,
              strerror(errno));
    line = strstr(text, key);
    cr_assert(line && sscanf(line + strlen(key), "%u %u %u %u", &ids[0],
                             &ids[1], &ids[2], &ids[3]) == 4,
              "no %s line in %s", key, path);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(ids[i], want,
                     "pid %d runs as %s %u %u %u %u on the host, expected "
                     "%u (the container's 0 mapped to the host)",
                     pid, key, ids[0], ids[1], ids[2], ids[3], want);
}

Test(userns, container_processes_run_as_host_ids)
{
    struct mct_snapshot snap;
    struct mct_result r;
    struct mct_proc p;
    pid_t init, cmd;

    mct_require_root();
    mct_require_built();
    mct_snapshot(&snap);
    mct_start_cli(&p, NULL, "--userns", "--", "/bin/vlab-probe", "sigwait",
                  NULL);
    if (!mct_proc_wait_for(&p, "ready=1", RUN_SEC)) {
        mct_proc_signal(&p, SIGKILL);
        mct_proc_finish(&p, &r, 5);
        cr_assert_fail("the container never printed ready=1:\n%s%s", r.out,
                       r.err);
    }
    init = mct_proc_container_pid(&p, 5);
    cmd = init > 0 ? mct_first_child(init) : -1;
    if (init > 0 && cmd > 0) {
        assert_status_ids(init, "Uid:", MCT_SUBID_BASE);
        assert_status_ids(init, "Gid:", MCT_SUBID_BASE);
        assert_status_ids(cmd, "Uid:", MCT_SUBID_BASE);
        assert_status_ids(cmd, "Gid:", MCT_SUBID_BASE);
    }
    mct_proc_signal(&p, SIGTERM);
    mct_proc_finish(&p, &r, RUN_SEC);
    cr_assert(init > 0 && cmd > 0,
              "no container process found under "
              "minictr (pid %d)",
              r.pid);
    cr_assert(!r.timed_out, "minictr did not end after SIGTERM");
    mct_assert_no_leftovers(&snap, &r, NULL);
    mct_result_free(&r);
}

static void remove_copies_fini(void)
{
    remove_copies();
}

Test(userns, container_files_belong_to_mapped_host_ids,
     .fini = remove_copies_fini)
{
    struct mct_snapshot snap;
    struct mct_result r;
    char data[PATH_MAX + 16];
    struct stat st;

    mct_require_root();
    mct_require_built();
    mct_rootfs_copy(copy_dir);
    /* A directory that belongs to the container's root (like a volume
     * chowned for it); the rest of the copy stays host root's. */
    snprintf(data, sizeof(data), "%s/data", copy_dir);
    cr_assert(mkdir(data, 0755) == 0 &&
                  chown(data, MCT_SUBID_BASE, MCT_SUBID_BASE) == 0,
              "%s: %s", data, strerror(errno));
    mct_snapshot(&snap);
    mct_run_cli_rootfs(&r, RUN_SEC, copy_dir, "--userns", "--", "/bin/sh", "-c",
                       "/bin/vlab-probe create /data/file; "
                       "/bin/vlab-probe ids /etc/passwd; "
                       "echo etc=$(/bin/vlab-probe create /etc/x | "
                       "sed -n 's/^create=//p')",
                       NULL);
    cr_assert_eq(r.status, 0, "minictr run --userns: status %d\n%s%s", r.status,
                 r.out, r.err);
    assert_kv(r.out, "create", "ok");
    assert_kv(r.out, "owner_uid", "0");
    assert_kv(r.out, "owner_gid", "0");
    stat_in_copy("/data/file", &st);
    cr_assert(st.st_uid == MCT_SUBID_BASE && st.st_gid == MCT_SUBID_BASE,
              "root's file inside is %u:%u on the host, expected %u:%u",
              (unsigned)st.st_uid, (unsigned)st.st_gid, MCT_SUBID_BASE,
              MCT_SUBID_BASE);
    /* Host root's files: unmapped, so nobody's inside, and not writable
     * for the container's root. */
    assert_kv(r.out, "path_uid", "65534");
    assert_kv(r.out, "path_gid", "65534");
    assert_kv(r.out, "etc", "EACCES");
    mct_assert_no_leftovers(&snap, &r, copy_dir);
    mct_result_free(&r);
}

/* ---- rootless: minictr run by an unprivileged host user ------------------ */

Test(userns, rootless_container_is_root_inside, .fini = remove_copies_fini)
{
    struct mct_snapshot snap;
    struct mct_result r, chk;
    struct mct_proc p;
    uid_t uid;
    gid_t gid;

    rootless_setup(&uid, &gid);
    mct_snapshot(&snap);
    mct_run_cli_as(&r, uid, gid, RUN_SEC, copy_dir, "--hostname", "rootless",
                   "--cap-add", "ALL", "--", "/bin/sh", "-c",
                   "/bin/vlab-probe ids /; /bin/vlab-probe env", NULL);
    cr_assert_eq(r.status, 0, "minictr run as uid %u: status %d\n%s%s", uid,
                 r.status, r.out, r.err);
    assert_kv(r.out, "uid", "0");
    assert_kv(r.out, "gid", "0");
    assert_kv(r.out, "hostname", "rootless");
    assert_kv(r.out, "setgroups", "deny");
    assert_map_kv(r.out, "uid_map", uid, 1); /* read in its own /proc */
    assert_map_kv(r.out, "gid_map", gid, 1);
    assert_kv(r.out, "path_uid", "0"); /* the user's copy: root's inside */
    assert_full_caps(r.out);
    mct_assert_no_leftovers(&snap, &r, copy_dir);
    mct_result_free(&r);

    /* `minictr check` agrees: user namespaces work for this user. */
    mct_start_argv(&p, &(struct mct_as){uid, gid},
                   (char *[]){getenv("MCT_BINARY"), "check", NULL});
    mct_proc_finish(&p, &chk, RUN_SEC);
    cr_assert(chk.status == 0 && strstr(chk.out, "user namespaces: yes"),
              "`minictr check` as uid %u (status %d) should say that user "
              "namespaces work:\n%s%s",
              uid, chk.status, chk.out, chk.err);
    mct_result_free(&chk);
}

Test(userns, rootless_files_belong_to_the_user, .fini = remove_copies_fini)
{
    struct mct_result r;
    struct stat st;
    uid_t uid;
    gid_t gid;

    rootless_setup(&uid, &gid);
    mct_run_cli_as(&r, uid, gid, RUN_SEC, copy_dir, "--", "/bin/vlab-probe",
                   "create", "/root/file", NULL);
    cr_assert_eq(r.status, 0, "minictr run as uid %u: status %d\n%s%s", uid,
                 r.status, r.out, r.err);
    assert_kv(r.out, "create", "ok");
    assert_kv(r.out, "owner_uid", "0");
    stat_in_copy("/root/file", &st);
    cr_assert(st.st_uid == uid && st.st_gid == gid,
              "root's file inside is %u:%u on the host, expected the user's "
              "%u:%u",
              (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)uid,
              (unsigned)gid);
    mct_result_free(&r);
}

Test(userns, rootless_root_cannot_mknod_but_binds_port_80,
     .fini = remove_copies_fini)
{
    struct mct_result r;
    uid_t uid;
    gid_t gid;

    rootless_setup(&uid, &gid);
    mct_run_cli_as(&r, uid, gid, RUN_SEC, copy_dir, "--", "/bin/sh", "-c",
                   "/bin/vlab-probe ids; /bin/vlab-probe mknod /tmp/null; "
                   "/bin/vlab-probe bind80",
                   NULL);
    cr_assert(r.status >= 0 && r.status < MCT_EXIT_FAILED,
              "minictr run as uid %u: status %d\n%s%s", uid, r.status, r.out,
              r.err);
    assert_kv(r.out, "uid", "0");
    /* CAP_MKNOD counts only in the initial user namespace. */
    assert_kv(r.out, "mknod", "EPERM");
    /* The network namespace belongs to the container's user namespace. */
    assert_kv(r.out, "bind80", "ok");
    mct_result_free(&r);
}

Test(userns, rootless_memory_limit_fails_cleanly, .fini = remove_copies_fini)
{
    struct mct_snapshot snap;
    struct mct_result r;
    uid_t uid;
    gid_t gid;

    rootless_setup(&uid, &gid);
    /* Without a limit the same container runs... */
    mct_run_cli_as(&r, uid, gid, RUN_SEC, copy_dir, "--", "/bin/vlab-probe",
                   "ids", NULL);
    cr_assert_eq(r.status, 0, "minictr run as uid %u: status %d\n%s%s", uid,
                 r.status, r.out, r.err);
    mct_result_free(&r);
    /* ... with one it cannot: the cgroup tree belongs to host root. */
    mct_snapshot(&snap);
    mct_run_cli_as(&r, uid, gid, RUN_SEC, copy_dir, "--memory", "64M", "--",
                   "/bin/vlab-probe", "ids", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED,
                 "--memory as uid %u without a delegated cgroup: status %d "
                 "(expected %d)\n%s%s",
                 uid, r.status, MCT_EXIT_FAILED, r.out, r.err);
    cr_assert(!strstr(r.err, "TODO") && strstr(r.err, "cgroup"),
              "the message should say the cgroup could not be set up, not:\n"
              "%s",
              r.err);
    cr_assert(!strstr(r.out, "uid="), "the command ran without its limit");
    mct_assert_no_leftovers(&snap, &r, copy_dir);
    mct_result_free(&r);
}
