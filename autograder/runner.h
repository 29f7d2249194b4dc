/*
 * runner.h - grade one lab: assemble its stages, build, run the tests under
 * a limit, read the TAP report and score it against the rubric.
 */
#ifndef VG_RUNNER_H
#define VG_RUNNER_H

#include <stdbool.h>
#include <stdio.h>

#include "grade.h"
#include "manifest.h"

struct vg_sandbox_conf;

struct vg_grade_opts {
    const char *root;       /* the course tree: tests, solutions, build.mk */
    const char *submission; /* shaped like labs/: <slug>/<stage file> */
    int timeout_sec;        /* limit of one lab's test run; 0: manifest's */
    bool keep;              /* keep the work folders, and say where */
    bool verbose;           /* show commands and the tests' own output */
    FILE *progress;         /* "building 01-kvm-basics..."; NULL: quiet */
    bool no_rerun;          /* no flaky-test reruns (flaky.h): for mutants and
                             * skeletons, whose failures are the expected ones */
    bool skip_slow;         /* set VLAB_SKIP_SLOW=1 for the tests: those
                             * that take a minute (a real kernel's boot) skip
                             * themselves. For mutants: each is a full run */
    /* The sandbox of the lab's test runs (sandbox.h); vg_grade_lab() sets
     * it from the manifest. NULL: the tests run unboxed. */
    const struct vg_sandbox_conf *sandbox;
};

/* Bytes of the test binary's output kept for the report. */
#define VG_RUN_OUTPUT_CAP (64u << 10)
/* Bytes of TAP report read; a longer one is cut (and so incomplete). */
#define VG_TAP_CAP        (4u << 20)

/*
 * Grade lab m of o->submission into *lab (initialized here). Whatever goes
 * wrong with the lab, the student's fault or the grader's, is recorded in
 * lab->outcome and lab->message: the return value is negative only when
 * grading must stop altogether (-EINTR: the grader was interrupted). The
 * work folder is removed on every path unless o->keep.
 */
int vg_grade_lab(const struct vg_grade_opts *o, const struct vg_manifests *all,
                 const struct vg_manifest *m, struct vg_lab *lab);

/*
 * The run step alone: run WORK/out/stage-test --tap=WORK/out/results.tap
 * under the limit, then record the outcome and score every rubric test in
 * *lab (already initialized). Same return values as vg_grade_lab().
 */
int vg_run_stage_test(const struct vg_grade_opts *o,
                      const struct vg_manifest *m, const char *work,
                      struct vg_lab *lab);

struct vg_spawn_result;
/*
 * Run WORK/out/stage-test once, with the limits and environment of every
 * graded run, writing its TAP report to tap_path; filter (Criterion's
 * --filter pattern, "suite/name") runs only the matching tests, NULL all.
 * Returns as vg_spawn(); free *res with vg_spawn_result_free() always.
 * The flaky-test rerun (flaky.c) uses it so both runs are alike.
 */
int vg_stage_test_spawn(const struct vg_grade_opts *o, const char *work,
                        const char *filter, const char *tap_path, int limit,
                        struct vg_spawn_result *res);

#endif
