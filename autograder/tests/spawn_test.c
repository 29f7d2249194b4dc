/* spawn_test.c - running commands under a limit, with nothing left behind. */
#include <signal.h>
#include <sys/wait.h>

#include "testutil.h"
#include "spawn.h"

TestSuite(spawn, .init = tu_arm_deadline);

#define CAP 4096

/* Run `sh -c script dir` in dir with a limit. */
static int run_sh(const char *dir, const char *script, double limit,
                  struct vg_spawn_result *res)
{
    const char *argv[] = {"/bin/sh", "-c", script, "sh", dir, NULL};
    struct vg_spawn_opts o = {
        .argv = argv,
        .cwd = dir,
        .limit_sec = limit,
        .output_cap = CAP,
    };

    return vg_spawn(&o, res);
}

/* The pid a script wrote to dir/name. */
static pid_t read_pid(const char *dir, const char *name)
{
    char *text = tu_read(dir, name);
    pid_t pid = (pid_t)atoi(text);

    free(text);
    cr_assert_gt(pid, 0, "no pid in %s", name);
    return pid;
}

static void assert_gone(pid_t pid)
{
    cr_assert_eq(kill(pid, 0), -1, "process %d is still there", (int)pid);
    cr_assert_eq(errno, ESRCH);
}

Test(spawn, limit_kills_the_whole_process_group)
{
    char *dir = tu_tempdir();
    struct vg_spawn_result res;

    vl_assert_ok(run_sh(dir,
                        "sleep 1000 & echo $! > \"$1/bg.pid\"; "
                        "exec sleep 1000",
                        1, &res));
    cr_assert(res.timed_out);
    cr_assert_lt(res.seconds, 5, "took %.1f s for a 1 s limit", res.seconds);
    cr_assert(WIFSIGNALED(res.wait_status));
    cr_assert_eq(WTERMSIG(res.wait_status), SIGKILL);
    assert_gone(read_pid(dir, "bg.pid"));
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(spawn, busy_loop_is_stopped_too)
{
    char *dir = tu_tempdir();
    struct vg_spawn_result res;

    vl_assert_ok(run_sh(dir, "while :; do :; done", 1, &res));
    cr_assert(res.timed_out);
    cr_assert_lt(res.seconds, 5);
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(spawn, process_that_escaped_the_group_is_killed)
{
    char *dir = tu_tempdir();
    struct vg_spawn_result res;

    /* setsid(1) leaves the group and the session; the command exits. */
    vl_assert_ok(run_sh(dir,
                        "setsid sleep 1000 & echo $! > "
                        "\"$1/escaped.pid\"; exit 0",
                        10, &res));
    cr_assert_not(res.timed_out);
    cr_assert(WIFEXITED(res.wait_status));
    cr_assert_geq(res.stragglers, 1);
    assert_gone(read_pid(dir, "escaped.pid"));
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(spawn, output_is_capped_without_blocking_the_command)
{
    char *dir = tu_tempdir();
    struct vg_spawn_result res;

    vl_assert_ok(run_sh(dir,
                        "head -c 20000000 /dev/zero | tr '\\0' x; "
                        "exit 7",
                        20, &res));
    cr_assert_not(res.timed_out);
    cr_assert_eq(WEXITSTATUS(res.wait_status), 7);
    cr_assert_eq(res.output_len, CAP);
    cr_assert_eq(strlen(res.output), CAP);
    cr_assert(res.output_truncated);
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(spawn, exit_status_output_and_folder)
{
    char *dir = tu_tempdir();
    struct vg_spawn_result res;

    vl_assert_ok(run_sh(dir, "pwd; echo to-stderr >&2; exit 3", 10, &res));
    cr_assert(WIFEXITED(res.wait_status));
    cr_assert_eq(WEXITSTATUS(res.wait_status), 3);
    cr_assert(strstr(res.output, dir), "output: %s", res.output);
    cr_assert(strstr(res.output, "to-stderr"));
    cr_assert_not(res.output_truncated);
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(spawn, stdin_is_empty)
{
    char *dir = tu_tempdir();
    struct vg_spawn_result res;

    vl_assert_ok(run_sh(dir, "cat; echo read-eof", 10, &res));
    cr_assert_not(res.timed_out);
    cr_assert(strstr(res.output, "read-eof"));
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}

Test(spawn, missing_command_is_an_error)
{
    const char *argv[] = {"/nonexistent/stage-test", NULL};
    struct vg_spawn_opts o = {.argv = argv, .output_cap = CAP};
    struct vg_spawn_result res;

    cr_assert_eq(vg_spawn(&o, &res), -ENOENT);
    cr_assert(strstr(vl_errmsg(), "exec /nonexistent/stage-test"), "%s",
              vl_errmsg());
    cr_assert_null(res.output, "nothing to free after a failure");
}

Test(spawn, missing_folder_is_an_error)
{
    const char *argv[] = {"/bin/true", NULL};
    struct vg_spawn_opts o = {
        .argv = argv, .cwd = "/nonexistent/work", .output_cap = CAP};
    struct vg_spawn_result res;

    cr_assert_eq(vg_spawn(&o, &res), -ENOENT);
    cr_assert(strstr(vl_errmsg(), "chdir"), "%s", vl_errmsg());
}

Test(spawn, environment_is_adjusted)
{
    static const char *const unset[] = {"VG_GONE", NULL};
    static const char *const defaults[] = {"VG_NEW=2", "VG_KEPT=new", NULL};
    const char *argv[] = {"/bin/sh", "-c",
                          "echo \"[$VG_GONE|$VG_NEW|$VG_KEPT]\"", NULL};
    struct vg_spawn_opts o = {.argv = argv,
                              .output_cap = CAP,
                              .unset_env = unset,
                              .default_env = defaults};
    struct vg_spawn_result res;

    setenv("VG_GONE", "1", 1);
    setenv("VG_KEPT", "old", 1);
    vl_assert_ok(vg_spawn(&o, &res));
    cr_assert(strstr(res.output, "[|2|old]"), "output: %s", res.output);
    vg_spawn_result_free(&res);
}

static bool keep_marked(const char *line)
{
    return strncmp(line, "KEEP", 4) == 0;
}

Test(spawn, kept_lines_survive_the_output_cap)
{
    const char *argv[] = {"/bin/sh", "-c",
                          "i=0; while [ $i -lt 3000 ]; do echo noise $i; "
                          "i=$((i+1)); done; echo KEEP one; printf 'KEEP two'",
                          NULL};
    struct vg_spawn_opts o = {
        .argv = argv, .output_cap = 100, .keep_line = keep_marked};
    struct vg_spawn_result res;

    vl_assert_ok(vg_spawn(&o, &res));
    cr_assert(res.output_truncated);
    cr_assert_str_eq(res.kept, "KEEP one\nKEEP two\n");
    vg_spawn_result_free(&res);
}

Test(spawn, wait_status_is_described)
{
    char buf[128];

    vg_wait_status_describe(3 << 8, buf, sizeof(buf));
    cr_assert_str_eq(buf, "exited with status 3");
    vg_wait_status_describe(SIGSEGV, buf, sizeof(buf));
    cr_assert(strstr(buf, "killed by signal 11"), "%s", buf);
}

Test(spawn, interrupted_grader_kills_the_command_and_says_so)
{
    char *dir = tu_tempdir();
    struct vg_spawn_result res;
    double start = vg_now();

    vl_assert_ok(vg_interrupt_install());
    cr_assert_eq(run_sh(dir,
                        "sleep 1000 & echo $! > \"$1/bg.pid\"; "
                        "kill -INT $PPID; exec sleep 1000",
                        60, &res),
                 -EINTR);
    cr_assert_lt(vg_now() - start, 5);
    cr_assert_eq(vg_interrupted(), SIGINT);
    cr_assert(strstr(vl_errmsg(), "interrupted"), "%s", vl_errmsg());
    cr_assert_gt(res.pid, 0, "the result is kept for the caller");
    assert_gone(read_pid(dir, "bg.pid"));
    vg_spawn_result_free(&res);
    tu_rmdir(dir);
}
