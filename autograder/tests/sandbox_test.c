/* sandbox_test.c - the box around a test run: its limits really apply, and
 * nothing it did is left afterwards. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fnmatch.h>
#include <signal.h>
#include <sys/wait.h>

#include "testutil.h"
#include "manifest.h"
#include "sandbox.h"
#include "spawn.h"

TestSuite(sandbox, .init = tu_arm_deadline);

#define CAP 65536

/* The sandbox needs root for its namespaces (and cgroups here). */
static void require_root(void)
{
    if (geteuid() != 0)
        cr_skip_test("needs root: the sandbox creates namespaces and "
                     "cgroups");
}

static struct vg_sandbox_conf conf_for(const char *root)
{
    return (struct vg_sandbox_conf){
        .memory_mb = 256,
        .pids_max = 64,
        .as_root = true,
        .root = root,
    };
}

/* Run `sh -c script sh dir` in dir, in the sandbox conf. */
static void run_boxed(const char *dir, const struct vg_sandbox_conf *conf,
                      const char *script, double limit,
                      struct vg_spawn_result *res)
{
    const char *argv[] = {"/bin/sh", "-c", script, "sh", dir, NULL};
    struct vg_spawn_opts o = {
        .argv = argv,
        .cwd = dir,
        .limit_sec = limit,
        .output_cap = CAP,
        .sandbox = conf,
    };

    vl_assert_ok(vg_spawn(&o, res));
}

/* Is there a cgroup this grader made left in the pids hierarchy? */
static bool cgroup_left(void)
{
    const char *dirs[] = {"/sys/fs/cgroup/pids/virtlab",
                          "/sys/fs/cgroup/virtlab",
                          "/sys/fs/cgroup/unified/virtlab", NULL};
    char pattern[64];
    bool left = false;

    snprintf(pattern, sizeof(pattern), "vlab-grade-%d-*", (int)getpid());
    for (size_t i = 0; dirs[i]; i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *e;

        while (d && (e = readdir(d)) != NULL)
            if (fnmatch(pattern, e->d_name, 0) == 0)
                left = true;
        if (d)
            closedir(d);
    }
    return left;
}

Test(sandbox, runs_in_its_own_pid_and_network_namespaces)
{
    char *dir = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(NULL);
    struct vg_spawn_result res;

    require_root();
    /* $$ is 2: the init is 1. /proc/net/dev lists this namespace's
     * devices (proc(5)): only lo, and up (ip(8) is not needed). */
    run_boxed(dir, &conf,
              "echo pid=$$; cat /proc/net/dev; "
              "cat /sys/class/net/lo/operstate 2>/dev/null; "
              "grep -c : /proc/net/dev",
              20, &res);
    cr_assert(WIFEXITED(res.wait_status), "%s", res.output);
    cr_assert(strstr(res.output, "pid=2\n"), "output: %s", res.output);
    cr_assert(strstr(res.output, "lo:"), "output: %s", res.output);
    cr_assert(strstr(res.output, "\n1\n"), "more than lo: %s", res.output);
    cr_assert(strstr(res.sandbox_summary, "namespaces"), "%s",
              res.sandbox_summary);
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(sandbox, kill_minus_one_cannot_reach_the_grader)
{
    char *dir = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(NULL);
    struct vg_spawn_result res;
    pid_t runner = getppid(); /* Criterion's runner: not our child, so
                               * vg_spawn's own sweep leaves it alone */

    require_root();
    /* As root, kill(-1) is every process but init and the caller
     * (kill(2)); $PPID is the box's init. In the box, only the box's. */
    run_boxed(dir, &conf, "kill -9 -1; kill -9 $PPID; sleep 1; echo alive", 20,
              &res);
    cr_assert_eq(kill(runner, 0), 0, "the process outside was killed");
    cr_assert_eq(getppid(), runner);
    cr_assert(strstr(res.output, "alive"), "%s", res.output);
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(sandbox, tmpdir_and_mounts_are_private_and_gone_after)
{
    char *dir = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(NULL);
    struct vg_spawn_result res;
    char marker[128], *probe, *inside, *written;

    require_root();
    snprintf(marker, sizeof(marker), "/tmp/vlab-sandbox-test-%d",
             (int)getpid());
    tu_mkdir(dir, "mnt");
    probe = vg_strfmt(
        "echo TMPDIR=$TMPDIR; touch %s \"$TMPDIR/x\" || exit 3; "
        "mount -t tmpfs none \"$1/mnt\" && touch \"$1/mnt/inside\" && "
        "grep -q \" $1/mnt \" /proc/self/mountinfo && echo mounted; "
        "touch \"$1/written\" && echo work-writable",
        marker);
    run_boxed(dir, &conf, probe, 20, &res);
    cr_assert(WIFEXITED(res.wait_status) && WEXITSTATUS(res.wait_status) == 0,
              "%s", res.output);
    cr_assert(strstr(res.output, "TMPDIR=/tmp\n"), "%s", res.output);
    cr_assert(strstr(res.output, "mounted"), "%s", res.output);
    cr_assert(strstr(res.output, "work-writable"), "%s", res.output);
    /* Outside: the file in /tmp and the mount were the box's own. */
    cr_assert_neq(access(marker, F_OK), 0, "%s leaked out of the box", marker);
    inside = vg_strfmt("%s/mnt/inside", dir);
    written = vg_strfmt("%s/written", dir);
    cr_assert_not(vg_is_file(inside), "the mount was seen outside");
    cr_assert(vg_is_file(written));
    free(inside);
    free(written);
    free(probe);
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(sandbox, course_tree_is_read_only_inside)
{
    char *dir = tu_tempdir(), *root = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(root);
    struct vg_spawn_result res;
    char *probe, *text;

    require_root();
    tu_write(root, "labs/x_test.c", "pristine\n");
    probe = vg_strfmt("cat %s/labs/x_test.c; echo hacked > %s/labs/x_test.c "
                      "|| echo refused; touch \"$1/ok\" && echo work-ok",
                      root, root);
    run_boxed(dir, &conf, probe, 20, &res);
    cr_assert(strstr(res.output, "pristine"), "%s", res.output);
    cr_assert(strstr(res.output, "refused"), "%s", res.output);
    cr_assert(strstr(res.output, "work-ok"), "%s", res.output);
    text = tu_read(root, "labs/x_test.c");
    cr_assert_str_eq(text, "pristine\n");
    free(text);
    free(probe);
    vg_spawn_result_free(&res);
    tu_rmdir(root);
    tu_rmdir(dir);
}

Test(sandbox, fork_bomb_meets_the_task_limit_and_cgroup_goes)
{
    char *dir = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(NULL);
    struct vg_spawn_result res;

    require_root();
    run_boxed(dir, &conf,
              "i=0; while [ $i -lt 200 ]; do sleep 100 & i=$((i+1)); done; "
              "echo done",
              30, &res);
    if (!strstr(res.sandbox_summary, "tasks"))
        cr_skip_test("no pids controller: %s", res.sandbox_note);
    cr_assert(res.sandbox_note, "no note of the limit: %s", res.output);
    cr_assert(strstr(res.sandbox_note, "limit of 64 tasks"), "%s",
              res.sandbox_note);
    cr_assert_not(res.timed_out, "the sleeps were not cleaned up");
    cr_assert_not(cgroup_left(), "the run's cgroup is still there");
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(sandbox, memory_hog_is_stopped_at_the_limit)
{
    char *dir = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(NULL);
    struct vg_spawn_result res;

    require_root();
    conf.memory_mb = 32;
    /* A shell variable of 200 MB: the kernel's OOM killer stops it. */
    run_boxed(dir, &conf,
              "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived",
              60, &res);
    if (!strstr(res.sandbox_summary, "memory"))
        cr_skip_test("no memory controller: %s", res.sandbox_note);
    cr_assert_not(strstr(res.output, "survived"), "%s", res.output);
    cr_assert(res.sandbox_note && strstr(res.sandbox_note, "memory limit"),
              "note: %s", res.sandbox_note ? res.sandbox_note : "(none)");
    cr_assert_not(cgroup_left());
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(sandbox, runs_as_the_unprivileged_user)
{
    char *dir = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(NULL);
    struct vg_spawn_result res;

    require_root();
    conf.as_root = false;
    run_boxed(dir, &conf, "id -u; touch \"$1/mine\" && echo can-write", 20,
              &res);
    if (strstr(res.sandbox_summary, "as root"))
        cr_skip_test("cannot run as " VG_SANDBOX_USER ": %s",
                     res.sandbox_summary);
    cr_assert_not(strstr(res.output, "\n0\n") ||
                      strncmp(res.output, "0\n", 2) == 0,
                  "ran as root: %s", res.output);
    cr_assert(strstr(res.output, "can-write"), "%s", res.output);
    cr_assert(strstr(res.sandbox_summary, VG_SANDBOX_USER), "%s",
              res.sandbox_summary);
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(sandbox, timeout_kills_the_whole_box)
{
    char *dir = tu_tempdir();
    struct vg_sandbox_conf conf = conf_for(NULL);
    struct vg_spawn_result res;

    require_root();
    run_boxed(dir, &conf, "setsid sleep 1000 & exec sleep 1000", 1, &res);
    cr_assert(res.timed_out);
    cr_assert_lt(res.seconds, 10, "took %.1f s", res.seconds);
    cr_assert_not(cgroup_left());
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(sandbox, manifest_section_is_validated)
{
    char *dir = tu_tempdir();
    struct vg_manifest m = {.program = (char *)"minivm"};
    struct vg_sandbox_conf c;

    tu_write(dir, "ok.json",
             "{\"sandbox\": {\"memory_mb\": 512, \"pids_max\": 100, "
             "\"run_as\": \"root\"}}");
    tu_write(dir, "bad.json", "{\"sandbox\": {\"memory_mb\": 1}}");
    tu_write(dir, "typo.json", "{\"sandbox\": {\"run_us\": \"root\"}}");
    m.path = vg_strfmt("%s/ok.json", dir);
    vl_assert_ok(vg_sandbox_conf_load(&m, "/r", &c));
    cr_assert_eq(c.memory_mb, 512);
    cr_assert_eq(c.pids_max, 100);
    cr_assert(c.as_root);
    cr_assert(c.needs_kvm);
    free(m.path);
    m.path = vg_strfmt("%s/bad.json", dir);
    cr_assert_eq(vg_sandbox_conf_load(&m, "/r", &c), -EINVAL);
    cr_assert(strstr(vl_errmsg(), "sandbox.memory_mb"), "%s", vl_errmsg());
    free(m.path);
    m.path = vg_strfmt("%s/typo.json", dir);
    cr_assert_eq(vg_sandbox_conf_load(&m, "/r", &c), -EINVAL);
    cr_assert(strstr(vl_errmsg(), "run_us"), "%s", vl_errmsg());
    free(m.path);
    tu_rmdir(dir);
}
