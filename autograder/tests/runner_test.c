/*
 * runner_test.c - the run step on fake stage-test binaries (shell scripts):
 * hangs, missing or partial reports, crashes, sanitizer output, floods.
 */
#include <signal.h>

#include "testutil.h"
#include "runner.h"

TestSuite(runner, .init = tu_arm_deadline);

static struct vg_rubric_item items[] = {
    {.test = (char *)"s::a", .points = 2, .description = (char *)"a"},
    {.test = (char *)"s::b", .points = 1, .description = (char *)"b"},
};

static const struct vg_manifest manifest = {
    .lab = (char *)"01",
    .slug = (char *)"01-t",
    .title = (char *)"T",
    .program = (char *)"toy",
    .timeout_sec = 60,
    .rubric = items,
    .nrubric = 2,
};

/* Where a fake stage-test finds its --tap=FILE argument. */
#define TAP_FILE                                                               \
    "for a; do case \"$a\" in --tap=*) tap=\"${a#--tap=}\";; esac; done\n"

/* Write WORK/out/stage-test with `body`, run the step, fill *lab. */
static void run_fake(const char *work, const char *body, int limit,
                     struct vg_lab *lab)
{
    char *script = vg_strfmt("#!/bin/sh\n%s%s", TAP_FILE, body);
    struct vg_grade_opts o = {
        .root = "/nonexistent-root",
        .submission = "/nonexistent-submission",
        .timeout_sec = limit,
    };

    tu_write_mode(work, "out/stage-test", script, 0755);
    vl_assert_ok(vg_lab_init(lab, "01", "01-t", "T"));
    vl_assert_ok(vg_run_stage_test(&o, &manifest, work, lab));
    free(script);
}

static const struct vg_test *need(const struct vg_lab *lab, const char *id)
{
    const struct vg_test *t = vg_lab_find_test(lab, id);

    cr_assert(t, "no test %s", id);
    return t;
}

Test(runner, hung_run_is_stopped_and_nothing_is_left)
{
    char *work = tu_tempdir();
    struct vg_lab lab;
    char *text;
    pid_t pid;

    run_fake(work,
             "echo '[RUN ] s::a'; echo '[RUN ] s::b'\n"
             "echo '[PASS] s::b: (0.00s)'\n"
             "sleep 1000 & echo $! > \"$(dirname \"$0\")/sleep.pid\"\n"
             "while :; do :; done\n",
             1, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_TIMED_OUT);
    cr_assert_lt(lab.seconds, 5, "a 1 s limit took %.1f s", lab.seconds);
    cr_assert_eq(need(&lab, "s::a")->status, VG_TIMED_OUT);
    cr_assert_eq(need(&lab, "s::b")->status, VG_TIMED_OUT,
                 "progress lines never earn points");
    cr_assert_float_eq(vg_lab_points(&lab), 0, 1e-9);
    cr_assert(strstr(lab.message, "1 s limit"), "%s", lab.message);
    cr_assert(strstr(lab.message, "still running then: s::a ("), "%s",
              lab.message);
    text = tu_read(work, "out/sleep.pid");
    pid = (pid_t)atoi(text);
    cr_assert_eq(kill(pid, 0), -1, "the test's child %d survived", (int)pid);
    free(text);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, complete_report_is_scored)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    run_fake(work,
             "printf '1..2\\nok - s::a  (0.00s)\\nnot ok - s::b  (0.00s)\\n"
             "  ---\\n  - b.c:9: |+\\n      Assertion failed: no\\n  ...\\n'"
             " > \"$tap\"\nexit 1\n",
             0, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_RAN);
    cr_assert_null(lab.message);
    cr_assert_eq(need(&lab, "s::a")->status, VG_PASSED);
    cr_assert_float_eq(need(&lab, "s::a")->points, 2, 1e-9);
    cr_assert_eq(need(&lab, "s::b")->status, VG_FAILED);
    cr_assert_str_eq(need(&lab, "s::b")->details,
                     "b.c:9: Assertion failed: no");
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, rubric_test_missing_from_a_full_report_did_not_run)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    run_fake(work, "printf '1..1\\nok - s::a  (0.00s)\\n' > \"$tap\"\n", 0,
             &lab);
    cr_assert_eq(lab.outcome, VG_LAB_RAN);
    cr_assert_eq(need(&lab, "s::b")->status, VG_NOT_RUN);
    cr_assert(strstr(need(&lab, "s::b")->details, "never reported"));
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, binary_without_report_is_incomplete)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    run_fake(work, "echo 'error while loading shared libraries'\nexit 127\n", 0,
             &lab);
    cr_assert_eq(lab.outcome, VG_LAB_INCOMPLETE);
    cr_assert(strstr(lab.message, "exited with status 127"), "%s", lab.message);
    cr_assert(strstr(lab.message, "without a TAP report"));
    cr_assert(strstr(lab.message, "loading shared libraries"));
    cr_assert_eq(need(&lab, "s::a")->status, VG_NOT_RUN);
    cr_assert_eq(need(&lab, "s::b")->status, VG_NOT_RUN);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, report_cut_short_is_incomplete_but_keeps_results)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    run_fake(work,
             "printf '1..2\\nok - s::a  (0.00s)\\n' > \"$tap\"\n"
             "kill -SEGV $$\n",
             0, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_INCOMPLETE);
    cr_assert(strstr(lab.message, "signal 11"), "%s", lab.message);
    cr_assert(strstr(lab.message, "1 of 2 tests"), "%s", lab.message);
    cr_assert_eq(need(&lab, "s::a")->status, VG_PASSED);
    cr_assert_eq(need(&lab, "s::b")->status, VG_NOT_RUN);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, garbage_report_scores_nothing)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    run_fake(work, "head -c 100000 /dev/urandom > \"$tap\"\n", 0, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_INCOMPLETE);
    cr_assert_float_eq(vg_lab_points(&lab), 0, 1e-9);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, report_replaced_by_a_fifo_does_not_block)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    run_fake(work, "rm -f \"$tap\"; mkfifo \"$tap\"\n", 0, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_INCOMPLETE);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, output_flood_is_capped)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    run_fake(work,
             "head -c 30000000 /dev/zero | tr '\\0' x\n"
             "printf '1..2\\nok - s::a\\nok - s::b\\n' > \"$tap\"\n",
             0, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_RAN);
    cr_assert(vg_lab_full(&lab));
    cr_assert_leq(strlen(lab.log), VG_RUN_OUTPUT_CAP);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(runner, sanitizer_reports_are_noted_with_short_paths)
{
    char *work = tu_tempdir();
    char *body = vg_strfmt(
        "echo '%s/src/01-t/a.c:3:5: runtime error: signed integer overflow'\n"
        "echo 'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior'\n"
        "echo 'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior'\n"
        "printf '1..2\\nok - s::a\\nnot ok - s::b  (0.00s)\\n' > \"$tap\"\n",
        work);
    struct vg_lab lab;
    const char *second;

    run_fake(work, body, 0, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_RAN);
    cr_assert(lab.message);
    cr_assert(strstr(lab.message, "\n01-t/a.c:3:5: runtime error: signed"),
              "%s", lab.message);
    cr_assert_null(strstr(lab.message, work), "%s", lab.message);
    second = strstr(lab.message, "SUMMARY");
    cr_assert(second);
    cr_assert_null(strstr(second + 1, "SUMMARY"), "repeated lines once");
    vg_lab_free(&lab);
    free(body);
    tu_rmdir(work);
}
