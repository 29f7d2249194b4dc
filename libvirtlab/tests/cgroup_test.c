/*
 * cgroup_test.c - virtlab/cgroup.h on the machine's real cgroups.
 *
 * Each test creates its own cgroup, named after its pid, under the shared
 * "virtlab" parent, and removes it again (the suite's fini does it when an
 * assertion stops a test early). Children run in the cgroups: forked, told
 * to go over a pipe once attached, killed and reaped by the fini.
 *
 * Three groups of tests:
 *   v1_*        the v1 hierarchies (memory, pids, cpu): this machine (hybrid).
 *   v2_*        the cgroup2 tree without controllers: the hybrid's
 *               /sys/fs/cgroup/unified here, the whole tree on pure v2.
 *   v2ctl_*     cgroup v2 WITH the memory/pids/cpu controllers: pure v2
 *               only (`make test-cgroup2` runs them in QEMU); they skip
 *               here and say so.
 * Only /sys/fs/cgroup and /proc are looked at; nothing else on the host.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include "virtlab/cgroup.h"

#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define KILL_TIMEOUT_MS 3000
#define MiB             (1024 * 1024)

static const char *const V1_CTRLS[] = {"memory", "pids", "cpu", NULL};
static const char *const V2_CTRLS[] = {"memory", "pids", "cpu", NULL};
static const char *const NO_CTRLS[] = {NULL};

#define NEED_V2_CTRLS                                                          \
    "needs cgroup v2 with the memory/pids/cpu controllers: this machine "      \
    "is hybrid; `make test-cgroup2` runs these in QEMU"

/* ---- fixture: the test's cgroup and children ---------------------------- */

static struct vl_cgroup_info info;
static struct vl_cgroup cg;
static pid_t kids[8];
static size_t nkids;

static void setup(void)
{
    cr_assert_eq(vl_cgroup_detect(&info), 0, "detect: %s", vl_errmsg());
    /* Grandchildren left by a child (the pids test) come back to us. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* Kill our children, remove the cgroup, reap everything. */
static void teardown(void)
{
    for (size_t i = 0; i < nkids; i++)
        kill(kids[i], SIGKILL);
    if (vl_cgroup_remove(&cg) < 0)
        fprintf(stderr, "cleanup: %s\n", vl_errmsg());
    while (waitpid(-1, NULL, 0) > 0)
        ;
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 60);

/* A unique name for this test's cgroup. */
static const char *name_for(const char *what)
{
    static char name[64];

    snprintf(name, sizeof(name), "vltest-%d-%s", (int)getpid(), what);
    return name;
}

static bool fs_is(const char *path, long magic)
{
    struct statfs st;

    return statfs(path, &st) == 0 && st.f_type == magic;
}

static bool pure_v2(void)
{
    return fs_is(VL_CGROUP_ROOT, CGROUP2_SUPER_MAGIC);
}

static void require_root(void)
{
    if (geteuid() != 0)
        cr_skip_test("needs root: creates cgroups under %s/*/virtlab",
                     VL_CGROUP_ROOT);
}

static void require_v1(void)
{
    require_root();
    if (info.version != 1)
        cr_skip_test("needs the cgroup v1 hierarchies: this machine runs "
                     "cgroup v%d",
                     info.version);
    for (size_t i = 0; V1_CTRLS[i]; i++)
        if (!vl_cgroup_has(&info, V1_CTRLS[i]))
            cr_skip_test("needs the v1 %s controller", V1_CTRLS[i]);
}

static void require_v2(void)
{
    require_root();
    if (!info.v2_mount[0])
        cr_skip_test("needs a cgroup2 tree: none is mounted here");
}

/* Pure v2 with the controllers in the root cgroup (where root creates). */
static void require_v2_ctrls(void)
{
    char list[256] = "";
    FILE *f;

    require_v2();
    if (!pure_v2())
        cr_skip_test(NEED_V2_CTRLS);
    f = fopen(VL_CGROUP_ROOT "/cgroup.controllers", "re");
    if (f) {
        if (!fgets(list, sizeof(list), f))
            list[0] = '\0';
        fclose(f);
    }
    for (size_t i = 0; V2_CTRLS[i]; i++)
        if (!strstr(list, V2_CTRLS[i]))
            cr_skip_test("needs the v2 %s controller (%s/cgroup.controllers "
                         "has \"%s\")",
                         V2_CTRLS[i], VL_CGROUP_ROOT, list);
}

static const char *const *ctrls_for(int version)
{
    return version == 1 ? V1_CTRLS : V2_CTRLS;
}

static void create(int version, const char *what, const char *const *ctrls)
{
    vl_assert_ok(vl_cgroup_create(&cg, &info, version, name_for(what), ctrls));
    cr_assert_eq(cg.version, version);
}

/* A cgroup on whatever this machine runs: the v1 hierarchies, or cgroup v2
 * without controllers (for what does not depend on the version). */
static void create_any(const char *what)
{
    require_root();
    if (info.version == 1 && vl_cgroup_has(&info, "pids"))
        create(1, what, V1_CTRLS);
    else if (info.v2_mount[0])
        create(2, what, NO_CTRLS);
    else
        cr_skip_test("needs cgroup v1 hierarchies or a cgroup2 tree");
}

/* ---- children ------------------------------------------------------------ */

/*
 * Fork a child that waits until go() (or until the pipe is closed) and then
 * runs fn, exiting with what it returns. *gofd gets the pipe's write end.
 */
static pid_t fork_waiting(int (*fn)(void), int *gofd)
{
    int p[2];
    pid_t pid;

    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        char c;

        close(p[1]);
        if (read(p[0], &c, 1) < 0)
            _exit(120);
        _exit(fn ? fn() : 0);
    }
    close(p[0]);
    *gofd = p[1];
    kids[nkids++] = pid;
    return pid;
}

static void go(int *gofd)
{
    cr_assert_eq(write(*gofd, "g", 1), 1);
    close(*gofd);
    *gofd = -1;
}

static int sleep_forever(void)
{
    for (;;)
        pause();
    return 0;
}

/* Fork until the kernel refuses; exit with how many forks succeeded. The
 * children stay (paused) and count against pids.max. */
static int fork_until_refused(void)
{
    for (int n = 0; n < 50; n++) {
        pid_t pid = fork();

        if (pid == 0)
            sleep_forever();
        if (pid < 0)
            return errno == EAGAIN ? n : 100;
    }
    return 99;
}

/* Touch 64 MiB page by page: more than a 16 MiB limit allows. */
static int touch_64m(void)
{
    size_t len = 64 * MiB;
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return 101;
    for (size_t i = 0; i < len; i += 4096)
        p[i] = 1;
    return 0; /* survived: the limit did not hold */
}

/* The status of child pid, which must end within a few seconds. */
static int wait_child(pid_t pid)
{
    int status;

    cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid: %s", strerror(errno));
    for (size_t i = 0; i < nkids; i++)
        if (kids[i] == pid)
            kids[i] = kids[--nkids];
    return status;
}

/* Is pid in cg, as its /proc/PID/cgroup says (cgroups(7))? v1: the line
 * of the hierarchy ctrl; v2: the "0::" line. */
static bool proc_in_cgroup(pid_t pid, const char *ctrl, const char *rel)
{
    char path[64];
    char line[512];
    char want[512];
    bool found = false;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    f = fopen(path, "re");
    cr_assert_not_null(f, "open %s", path);
    while (fgets(line, sizeof(line), f)) {
        char *list = strchr(line, ':');
        char *p = list ? strchr(list + 1, ':') : NULL;

        if (!p)
            continue;
        *list++ = '\0';
        *p++ = '\0';
        p[strcspn(p, "\n")] = '\0';
        snprintf(want, sizeof(want), ",%s,", list);
        if (ctrl ? strstr(want, ctrl) != NULL
                 : (strcmp(line, "0") == 0 && !*list))
            found = strcmp(p, rel) == 0;
        if (found)
            break;
    }
    fclose(f);
    return found;
}

/* The v2 cgroup's path relative to the cgroup2 mount. */
static const char *v2_rel(void)
{
    return cg.path + strlen(info.v2_mount);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- detection ----------------------------------------------------------- */

Test(cgroup, detects_the_v1_hybrid_of_this_machine)
{
    if (pure_v2())
        cr_skip_test("this machine runs pure cgroup v2 (see "
                     "detects_pure_v2)");
    cr_assert_eq(info.version, 1);
    for (size_t i = 0; V1_CTRLS[i]; i++)
        cr_assert(vl_cgroup_has(&info, V1_CTRLS[i]), "%s not in \"%s\"",
                  V1_CTRLS[i], info.controllers);
    cr_assert_not(vl_cgroup_has(&info, "mem"), "a prefix is no controller");
    cr_assert_not(vl_cgroup_has(&info, "name=systemd"));
    if (!fs_is(VL_CGROUP_ROOT "/unified", CGROUP2_SUPER_MAGIC))
        cr_skip_test("pure v1: no cgroup2 tree at %s/unified", VL_CGROUP_ROOT);
    cr_assert(info.hybrid);
    cr_assert_str_eq(info.v2_mount, VL_CGROUP_ROOT "/unified");
    /* A controller is in one hierarchy at a time: the v1 ones are not in
     * the cgroup2 tree. */
    cr_assert_not(strstr(info.v2_controllers, "memory"), "\"%s\"",
                  info.v2_controllers);
}

Test(cgroup, detects_pure_v2)
{
    if (!pure_v2())
        cr_skip_test("this machine is not pure cgroup v2 (see "
                     "detects_the_v1_hybrid_of_this_machine)");
    cr_assert_eq(info.version, 2);
    cr_assert_not(info.hybrid);
    cr_assert_str_eq(info.v2_mount, VL_CGROUP_ROOT);
    cr_assert_eq(info.v2_path[0], '/');
}

/* ---- v1 ------------------------------------------------------------------ */

Test(cgroup, v1_create_makes_one_directory_per_hierarchy)
{
    char want[PATH_MAX];

    require_v1();
    create(1, "mk", V1_CTRLS);
    snprintf(want, sizeof(want), "/virtlab/%s", name_for("mk"));
    cr_assert_str_eq(cg.path, want);
    cr_assert_geq(cg.nv1, 2, "memory, pids and cpu: at least 2 hierarchies");
    for (size_t i = 0; i < cg.nv1; i++) {
        cr_assert(exists(cg.v1[i].dir), "%s", cg.v1[i].dir);
        cr_assert(strstr(cg.v1[i].dir, want), "%s ends in %s", cg.v1[i].dir,
                  want);
    }
}

Test(cgroup, v1_parent_is_virtlab_in_the_hierarchy)
{
    char out[PATH_MAX];
    const char *const mem[] = {"memory", NULL};

    require_v1();
    vl_assert_ok(vl_cgroup_parent(&info, 1, mem, out, sizeof(out)));
    cr_assert_str_eq(out, "/virtlab");
}

Test(cgroup, v1_attach_moves_a_child_into_each_hierarchy)
{
    pid_t got[4];
    int gofd;
    pid_t pid;

    require_v1();
    create(1, "attach", V1_CTRLS);
    pid = fork_waiting(sleep_forever, &gofd);
    vl_assert_ok(vl_cgroup_attach(&cg, pid));
    for (size_t i = 0; V1_CTRLS[i]; i++)
        cr_assert(proc_in_cgroup(pid, V1_CTRLS[i], cg.path),
                  "/proc/%d/cgroup: not in %s of %s", pid, cg.path,
                  V1_CTRLS[i]);
    cr_assert_eq(vl_assert_ok(vl_cgroup_procs(&cg, got, 4)), 1);
    cr_assert_eq(got[0], pid);
}

Test(cgroup, v1_limits_read_back)
{
    uint64_t v;
    char buf[64];

    require_v1();
    create(1, "limits", V1_CTRLS);
    vl_assert_ok(vl_cgroup_set(&cg, "memory.limit_in_bytes", "33554432"));
    vl_assert_ok(vl_cgroup_get_u64(&cg, "memory.limit_in_bytes", &v));
    cr_assert_eq(v, 32 * MiB);
    vl_assert_ok(vl_cgroup_set(&cg, "pids.max", "10"));
    vl_assert_ok(vl_cgroup_get(&cg, "pids.max", buf, sizeof(buf)));
    cr_assert_str_eq(buf, "10");
    vl_assert_ok(vl_cgroup_set(&cg, "pids.max", "max"));
    vl_assert_ok(vl_cgroup_get_u64(&cg, "pids.max", &v));
    cr_assert_eq(v, UINT64_MAX, "\"max\" reads as UINT64_MAX");
    /* CFS bandwidth (sched-bwc.rst): quota per period, both in us. */
    vl_assert_ok(vl_cgroup_set(&cg, "cpu.cfs_period_us", "100000"));
    vl_assert_ok(vl_cgroup_set(&cg, "cpu.cfs_quota_us", "50000"));
    vl_assert_ok(vl_cgroup_get_u64(&cg, "cpu.cfs_quota_us", &v));
    cr_assert_eq(v, 50000);
    vl_assert_ok(vl_cgroup_set(&cg, "cpu.cfs_quota_us", "-1"));
    vl_assert_ok(vl_cgroup_get_u64(&cg, "cpu.cfs_quota_us", &v));
    cr_assert_eq(v, UINT64_MAX, "v1's -1 (no limit) reads as UINT64_MAX");
}

Test(cgroup, v1_get_key_reads_memory_stat)
{
    uint64_t v = 12345;

    require_v1();
    create(1, "stat", V1_CTRLS);
    vl_assert_ok(vl_cgroup_get_key(&cg, "memory.stat", "rss", &v));
    cr_assert_eq(v, 0, "an empty cgroup uses no memory");
    vl_assert_ok(vl_cgroup_get_key(&cg, "memory.oom_control", "under_oom", &v));
    cr_assert_eq(v, 0);
    vl_assert_fails(vl_cgroup_get_key(&cg, "memory.stat", "rs", &v), ENOENT,
                    "no key \"rs\"");
}

static void pids_limit_stops_forks(int version)
{
    uint64_t v;
    int gofd;
    pid_t pid;
    int status;

    create(version, "pids", ctrls_for(version));
    vl_assert_ok(vl_cgroup_set(&cg, "pids.max", "3"));
    pid = fork_waiting(fork_until_refused, &gofd);
    vl_assert_ok(vl_cgroup_attach(&cg, pid));
    go(&gofd);
    status = wait_child(pid);
    /* pids.max counts every task in the cgroup: the child and 2 more. */
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2,
              "the child should fork twice, then get EAGAIN (status %#x)",
              status);
    vl_assert_ok(vl_cgroup_get_key(&cg, "pids.events", "max", &v));
    cr_assert_geq(v, 1, "pids.events counts the refused fork");
    vl_assert_ok(vl_cgroup_get_u64(&cg, "pids.current", &v));
    cr_assert_eq(v, 2, "the two grandchildren are still there");
    vl_assert_ok(vl_cgroup_kill(&cg, KILL_TIMEOUT_MS));
    /* A pid counts until it is reaped: the grandchildren came back to us
     * (PR_SET_CHILD_SUBREAPER). */
    while (waitpid(-1, NULL, 0) > 0)
        ;
    vl_assert_ok(vl_cgroup_get_u64(&cg, "pids.current", &v));
    cr_assert_eq(v, 0);
}

Test(cgroup, v1_pids_max_3_refuses_the_third_fork)
{
    require_v1();
    pids_limit_stops_forks(1);
}

/* The child is killed by the kernel's OOM killer: SIGKILL. */
static void hog_is_oom_killed(void)
{
    int gofd;
    pid_t pid;
    int status;

    pid = fork_waiting(touch_64m, &gofd);
    vl_assert_ok(vl_cgroup_attach(&cg, pid));
    go(&gofd);
    status = wait_child(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the hog should die of SIGKILL (status %#x)", status);
}

Test(cgroup, v1_memory_hog_is_oom_killed)
{
    uint64_t v;

    require_v1();
    create(1, "oom", V1_CTRLS);
    vl_assert_ok(vl_cgroup_set(&cg, "memory.limit_in_bytes", "16M"));
    hog_is_oom_killed();
    /* memory.oom_control's oom_kill counter (Linux 4.13+). */
    vl_assert_ok(vl_cgroup_get_key(&cg, "memory.oom_control", "oom_kill", &v));
    cr_assert_geq(v, 1);
    vl_assert_ok(vl_cgroup_get_u64(&cg, "memory.failcnt", &v));
    cr_assert_gt(v, 0, "the limit was hit");
}

static void kill_empties(int version, const char *const *ctrls)
{
    pid_t got[8];
    pid_t pid[3];
    int gofd[3];

    create(version, "kill", ctrls);
    for (int i = 0; i < 3; i++) {
        pid[i] = fork_waiting(sleep_forever, &gofd[i]);
        vl_assert_ok(vl_cgroup_attach(&cg, pid[i]));
        close(gofd[i]);
    }
    cr_assert_eq(vl_assert_ok(vl_cgroup_procs(&cg, got, 8)), 3);
    cr_assert_eq(vl_assert_ok(vl_cgroup_procs(&cg, got, 1)), 3,
                 "the count even when the array is short");
    vl_assert_ok(vl_cgroup_kill(&cg, KILL_TIMEOUT_MS));
    cr_assert_eq(vl_assert_ok(vl_cgroup_procs(&cg, got, 8)), 0);
    for (int i = 0; i < 3; i++) {
        int status = wait_child(pid[i]);

        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "child %d: status %#x", i, status);
    }
    vl_assert_ok(vl_cgroup_kill(&cg, KILL_TIMEOUT_MS)); /* empty: fine */
}

Test(cgroup, v1_kill_empties_a_cgroup_of_3_sleepers)
{
    require_v1();
    kill_empties(1, V1_CTRLS);
}

static void remove_leaves_nothing(int version, const char *const *ctrls)
{
    struct vl_cgroup copy;
    char dirs[VL_CGROUP_MAX_V1 + 1][PATH_MAX];
    size_t n = 0;
    int fds = vl_count_fds();
    int gofd;
    pid_t pid;
    int status;

    create(version, "rm", ctrls);
    if (version == 2)
        snprintf(dirs[n++], PATH_MAX, "%s", cg.path);
    for (size_t i = 0; version == 1 && i < cg.nv1; i++)
        snprintf(dirs[n++], PATH_MAX, "%s", cg.v1[i].dir);
    pid = fork_waiting(sleep_forever, &gofd);
    vl_assert_ok(vl_cgroup_attach(&cg, pid));
    copy = cg;
    vl_assert_ok(vl_cgroup_remove(&cg)); /* kills the child first */
    status = wait_child(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    for (size_t i = 0; i < n; i++)
        cr_assert_not(exists(dirs[i]), "%s is left", dirs[i]);
    vl_assert_ok(vl_cgroup_remove(&cg));   /* twice */
    vl_assert_ok(vl_cgroup_remove(&copy)); /* its directories are gone */
    close(gofd);
    cr_assert_eq(vl_count_fds(), fds, "fds leaked");
}

Test(cgroup, v1_remove_kills_and_leaves_no_directory)
{
    require_v1();
    remove_leaves_nothing(1, V1_CTRLS);
}

Test(cgroup, remove_of_a_never_created_cgroup_is_fine)
{
    struct vl_cgroup none;

    memset(&none, 0, sizeof(none));
    vl_assert_ok(vl_cgroup_remove(&none));
}

/* ---- v1: wrong input ------------------------------------------------------
 */

Test(cgroup, rejects_a_name_that_is_not_one_component)
{
    require_root();
    vl_assert_fails(vl_cgroup_create(&cg, &info, 0, "a/b", V1_CTRLS), EINVAL,
                    "one path component");
    vl_assert_fails(vl_cgroup_create(&cg, &info, 0, "..", V1_CTRLS), EINVAL,
                    "\"..\"");
    vl_assert_fails(vl_cgroup_create(&cg, &info, 0, "", V1_CTRLS), EINVAL,
                    "one path component");
    cr_assert_eq(cg.version, 0, "nothing was created");
}

Test(cgroup, rejects_an_unknown_version)
{
    vl_assert_fails(vl_cgroup_create(&cg, &info, 3, "v3", NO_CTRLS), EINVAL,
                    "must be 1 or 2");
}

Test(cgroup, v1_rejects_an_unknown_controller_and_leaves_nothing)
{
    const char *const bad[] = {"pids", "bogus", NULL};
    char dir[PATH_MAX];

    require_v1();
    vl_assert_fails(vl_cgroup_create(&cg, &info, 1, name_for("bad"), bad),
                    ENOENT, "bogus");
    cr_assert_eq(cg.version, 0);
    /* pids came first and was created: it was undone. */
    snprintf(dir, sizeof(dir), "%s/pids/virtlab/%s", VL_CGROUP_ROOT,
             name_for("bad"));
    cr_assert_not(exists(dir), "%s is left", dir);
}

Test(cgroup, v1_needs_a_controller)
{
    require_v1();
    vl_assert_fails(vl_cgroup_create(&cg, &info, 1, name_for("none"), NO_CTRLS),
                    EINVAL, "at least one controller");
}

Test(cgroup, v1_refuses_an_existing_cgroup)
{
    struct vl_cgroup again;

    require_v1();
    create(1, "twice", V1_CTRLS);
    vl_assert_fails(
        vl_cgroup_create(&again, &info, 1, name_for("twice"), V1_CTRLS), EEXIST,
        "exists already");
    cr_assert(exists(cg.v1[0].dir), "the first one is still there");
}

Test(cgroup, v1_names_a_v2_file_and_its_counterpart)
{
    require_v1();
    create(1, "v2file", V1_CTRLS);
    vl_assert_fails(vl_cgroup_set(&cg, "memory.max", "16M"), ENOENT,
                    "memory.max");
    cr_assert(strstr(vl_errmsg(), "memory.limit_in_bytes"), "hint: %s",
              vl_errmsg());
}

Test(cgroup, v1_refuses_a_negative_pids_max)
{
    require_v1();
    create(1, "neg", V1_CTRLS);
    vl_assert_fails(vl_cgroup_set(&cg, "pids.max", "-5"), EINVAL, "pids.max");
    cr_assert(strstr(vl_errmsg(), "\"-5\""), "%s", vl_errmsg());
}

Test(cgroup, v1_a_controller_the_cgroup_lacks_is_named)
{
    const char *const pids[] = {"pids", NULL};

    require_v1();
    create(1, "nomem", pids);
    cr_assert_eq(cg.nv1, 1);
    vl_assert_fails(vl_cgroup_set(&cg, "memory.limit_in_bytes", "16M"), ENOENT,
                    "no memory hierarchy");
}

Test(cgroup, rejects_a_file_name_with_a_slash)
{
    char buf[16];

    create_any("slash");
    vl_assert_fails(vl_cgroup_set(&cg, "../cgroup.procs", "1"), EINVAL,
                    "../cgroup.procs");
    vl_assert_fails(vl_cgroup_get(&cg, "../cgroup.procs", buf, sizeof(buf)),
                    EINVAL, "../cgroup.procs");
}

Test(cgroup, operations_on_a_removed_cgroup_fail)
{
    pid_t got[1];

    create_any("gone");
    vl_assert_ok(vl_cgroup_remove(&cg));
    vl_assert_fails(vl_cgroup_set(&cg, "cgroup.procs", "1"), ENOENT,
                    "not created");
    vl_assert_fails(vl_cgroup_procs(&cg, got, 1), ENOENT, "not created");
    vl_assert_fails(vl_cgroup_kill(&cg, 10), ENOENT, "not created");
}

Test(cgroup, get_reports_a_short_buffer)
{
    char buf[3];
    int gofd;

    create_any("short");
    /* cgroup.procs: "PID\n", 3 bytes or more once a pid past 9 is in. */
    vl_assert_ok(vl_cgroup_attach(&cg, fork_waiting(sleep_forever, &gofd)));
    close(gofd);
    vl_assert_fails(vl_cgroup_get(&cg, "cgroup.procs", buf, sizeof(buf)),
                    ERANGE, "longer than");
}

Test(cgroup, remove_takes_child_cgroups_too)
{
    char sub[PATH_MAX + 16];
    char dir[PATH_MAX];

    create_any("nested");
    snprintf(dir, sizeof(dir), "%s", cg.version == 2 ? cg.path : cg.v1[0].dir);
    /* What a container with its own cgroup namespace might leave. */
    snprintf(sub, sizeof(sub), "%s/inner", dir);
    cr_assert_eq(mkdir(sub, 0755), 0, "mkdir %s: %s", sub, strerror(errno));
    snprintf(sub, sizeof(sub), "%s/inner/deeper", dir);
    cr_assert_eq(mkdir(sub, 0755), 0, "mkdir %s: %s", sub, strerror(errno));
    vl_assert_ok(vl_cgroup_remove(&cg));
    cr_assert_not(exists(dir), "%s is left", dir);
}

/* As nobody, in a forked child (a process that changed its uid cannot be
 * ptrace'd, which LeakSanitizer needs at exit): where may it create
 * cgroups? Exit 0 when the answer is EACCES with the hint, else 1 and the
 * message on the pipe. */
static int parent_as_nobody(int version, int fd)
{
    const char *const pids[] = {"pids", NULL};
    struct vl_cgroup_info me;
    char out[PATH_MAX];
    const char *msg;
    int r;

    if (setresgid(65534, 65534, 65534) < 0 ||
        setresuid(65534, 65534, 65534) < 0)
        return 2;
    if (vl_cgroup_detect(&me) < 0)
        return 3;
    r = vl_cgroup_parent(&me, version, version == 1 ? pids : NO_CTRLS, out,
                         sizeof(out));
    msg = vl_errmsg();
    if (write(fd, msg, strlen(msg)) < 0)
        return 4;
    return r == -EACCES && strstr(msg, "hint:") &&
                   strstr(msg, version == 2 ? "Delegate=yes" : "sudo")
               ? 0
               : 1;
}

static void user_gets_a_hint(int version)
{
    char msg[1024] = "";
    int p[2];
    pid_t pid;
    int status;
    ssize_t n;

    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(p[0]);
        _exit(parent_as_nobody(version, p[1]));
    }
    close(p[1]);
    n = read(p[0], msg, sizeof(msg) - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(p[0]);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "as nobody, v%d: status %#x, error \"%s\"", version, status, msg);
}

Test(cgroup, a_user_without_a_delegated_cgroup_gets_a_hint)
{
    require_root();
    if (info.v2_mount[0])
        user_gets_a_hint(2);
    if (info.version == 1 && vl_cgroup_has(&info, "pids"))
        user_gets_a_hint(1);
}

/* The guard against killing a whole hierarchy: its root is a mount point.
 * Tried on /proc, a mount point with no cgroup.procs, so that a broken
 * guard could do no harm. */
Test(cgroup, kill_refuses_a_mount_point)
{
    struct vl_cgroup fake;

    memset(&fake, 0, sizeof(fake));
    fake.version = 2;
    snprintf(fake.path, sizeof(fake.path), "/proc");
    vl_assert_fails(vl_cgroup_kill(&fake, 10), EINVAL, "hierarchy's root");
}

/* ---- v2 without controllers (here: the hybrid's cgroup2 tree) ----------- */

Test(cgroup, v2_create_attach_kill_remove)
{
    char want[PATH_MAX];
    pid_t got[2];
    uint64_t v;
    int gofd;
    pid_t pid;
    int status;

    require_v2();
    create(2, "v2", NO_CTRLS);
    snprintf(want, sizeof(want), "%s/virtlab/%s", info.v2_mount,
             name_for("v2"));
    cr_assert_str_eq(cg.path, want);
    cr_assert(exists(cg.path));
    pid = fork_waiting(sleep_forever, &gofd);
    vl_assert_ok(vl_cgroup_attach(&cg, pid));
    cr_assert(proc_in_cgroup(pid, NULL, v2_rel()), "/proc/%d/cgroup: not in %s",
              pid, v2_rel());
    cr_assert_eq(vl_assert_ok(vl_cgroup_procs(&cg, got, 2)), 1);
    cr_assert_eq(got[0], pid);
    vl_assert_ok(vl_cgroup_get_key(&cg, "cgroup.events", "populated", &v));
    cr_assert_eq(v, 1);
    vl_assert_ok(vl_cgroup_kill(&cg, KILL_TIMEOUT_MS));
    status = wait_child(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    vl_assert_ok(vl_cgroup_get_key(&cg, "cgroup.events", "populated", &v));
    cr_assert_eq(v, 0);
    close(gofd);
    vl_assert_ok(vl_cgroup_remove(&cg));
    cr_assert_not(exists(want), "%s is left", want);
}

Test(cgroup, v2_kill_empties_a_cgroup_of_3_sleepers)
{
    require_v2();
    kill_empties(2, NO_CTRLS);
}

Test(cgroup, v2_remove_kills_and_leaves_no_directory)
{
    require_v2();
    remove_leaves_nothing(2, NO_CTRLS);
}

Test(cgroup, v2_parent_is_virtlab_at_the_top)
{
    char out[PATH_MAX];
    char want[PATH_MAX];

    require_v2();
    vl_assert_ok(vl_cgroup_parent(&info, 2, NO_CTRLS, out, sizeof(out)));
    snprintf(want, sizeof(want), "%s/virtlab", info.v2_mount);
    cr_assert_str_eq(out, want);
}

Test(cgroup, v2_names_a_controller_the_tree_lacks)
{
    const char *const mem[] = {"memory", NULL};
    char dir[PATH_MAX];

    require_v2();
    if (!info.hybrid)
        cr_skip_test("only a hybrid's cgroup2 tree lacks memory");
    vl_assert_fails(vl_cgroup_create(&cg, &info, 2, name_for("nomem"), mem),
                    ENOENT, "memory controller is not available in cgroup2");
    cr_assert(strstr(vl_errmsg(), "version 1"), "hint: %s", vl_errmsg());
    snprintf(dir, sizeof(dir), "%s/virtlab/%s", info.v2_mount,
             name_for("nomem"));
    cr_assert_not(exists(dir), "%s is left", dir);
}

Test(cgroup, v2_names_a_v1_file_and_its_counterpart)
{
    require_v2();
    create(2, "v1file", NO_CTRLS);
    vl_assert_fails(vl_cgroup_set(&cg, "memory.limit_in_bytes", "16M"), ENOENT,
                    "memory.limit_in_bytes");
    cr_assert(strstr(vl_errmsg(), "memory.max"), "hint: %s", vl_errmsg());
}

/* ---- v2 with controllers (pure v2: QEMU via `make test-cgroup2`) -------- */

Test(cgroup, v2ctl_enables_the_controllers_for_the_child)
{
    char buf[256];
    char file[PATH_MAX];
    FILE *f;

    require_v2_ctrls();
    create(2, "ctl", V2_CTRLS);
    vl_assert_ok(vl_cgroup_get(&cg, "cgroup.controllers", buf, sizeof(buf)));
    for (size_t i = 0; V2_CTRLS[i]; i++)
        cr_assert(strstr(buf, V2_CTRLS[i]), "%s not in \"%s\"", V2_CTRLS[i],
                  buf);
    snprintf(file, sizeof(file), "%s/virtlab/cgroup.subtree_control",
             info.v2_mount);
    f = fopen(file, "re");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    cr_assert(strstr(buf, "memory") && strstr(buf, "pids") &&
                  strstr(buf, "cpu"),
              "%s: \"%s\"", file, buf);
}

Test(cgroup, v2ctl_limits_read_back)
{
    char buf[64];
    uint64_t v;

    require_v2_ctrls();
    create(2, "limits", V2_CTRLS);
    vl_assert_ok(vl_cgroup_set(&cg, "memory.max", "33554432"));
    vl_assert_ok(vl_cgroup_get_u64(&cg, "memory.max", &v));
    cr_assert_eq(v, 32 * MiB);
    vl_assert_ok(vl_cgroup_set(&cg, "memory.max", "max"));
    vl_assert_ok(vl_cgroup_get_u64(&cg, "memory.max", &v));
    cr_assert_eq(v, UINT64_MAX);
    vl_assert_ok(vl_cgroup_set(&cg, "pids.max", "10"));
    vl_assert_ok(vl_cgroup_get_u64(&cg, "pids.max", &v));
    cr_assert_eq(v, 10);
    /* cpu.max: "$MAX $PERIOD" (cgroup-v2.rst, "CPU Interface Files"). */
    vl_assert_ok(vl_cgroup_set(&cg, "cpu.max", "50000 100000"));
    vl_assert_ok(vl_cgroup_get(&cg, "cpu.max", buf, sizeof(buf)));
    cr_assert_str_eq(buf, "50000 100000");
    vl_assert_fails(vl_cgroup_get_u64(&cg, "cpu.max", &v), EINVAL,
                    "not a number");
    vl_assert_fails(vl_cgroup_set(&cg, "pids.max", "-5"), EINVAL, "pids.max");
    vl_assert_fails(vl_cgroup_set(&cg, "cpu.cfs_quota_us", "50000"), ENOENT,
                    "cpu.cfs_quota_us");
}

Test(cgroup, v2ctl_pids_max_3_refuses_the_third_fork)
{
    require_v2_ctrls();
    pids_limit_stops_forks(2);
}

Test(cgroup, v2ctl_memory_hog_is_oom_killed_and_counted)
{
    char swap[32];
    uint64_t v;

    require_v2_ctrls();
    create(2, "oom", V2_CTRLS);
    vl_assert_ok(vl_cgroup_set(&cg, "memory.max", "16M"));
    /* Without swap to spill into, the limit is what memory can hold. */
    if (vl_cgroup_get(&cg, "memory.swap.max", swap, sizeof(swap)) == 0)
        vl_assert_ok(vl_cgroup_set(&cg, "memory.swap.max", "0"));
    hog_is_oom_killed();
    vl_assert_ok(vl_cgroup_get_key(&cg, "memory.events", "oom_kill", &v));
    cr_assert_geq(v, 1);
    vl_assert_ok(vl_cgroup_get_key(&cg, "memory.events", "max", &v));
    cr_assert_geq(v, 1, "the limit was hit");
}

Test(cgroup, v2ctl_kill_empties_a_cgroup_of_3_sleepers)
{
    require_v2_ctrls();
    kill_empties(2, V2_CTRLS);
}
