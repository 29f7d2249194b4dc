/*
 * flaky.h - tell a flaky test from a failing one.
 *
 * After a lab's run, each rubric test that failed, crashed or timed out is
 * run again, alone (stage-test --filter suite/name), with the same limits
 * and environment. A test that passes on its rerun is VG_FLAKY: it earns 0
 * points, like a failure, and every report says "flaky" with what the first
 * run said, so a race or an uninitialized variable is neither a silent pass
 * nor a mystery. A test that fails again keeps its first result.
 *
 * The cost is bounded: at most VG_FLAKY_MAX_RERUNS reruns per lab, all of
 * them together within the lab's own time limit, and only after a run that
 * went to the end (VG_LAB_RAN): a build failure, a whole-lab timeout or a
 * test binary that died has nothing trustworthy to compare with.
 */
#ifndef VG_FLAKY_H
#define VG_FLAKY_H

#include "grade.h"
#include "manifest.h"
#include "runner.h"

/* Reruns per lab at most: a skeleton fails every test, and each rerun
 * starts the test binary again. */
#define VG_FLAKY_MAX_RERUNS 5

/*
 * Rerun the failed rubric tests of *lab (graded from WORK/out/stage-test)
 * and mark those that pass VG_FLAKY. Returns 0, or a negative errno when
 * grading must stop (-EINTR, out of memory); a rerun that cannot start
 * leaves the test as it was.
 */
int vg_flaky_rerun(const struct vg_grade_opts *o, const struct vg_manifest *m,
                   const char *work, struct vg_lab *lab);

/* Criterion's --filter pattern of a test id ("s::t" -> "s/t"), or NULL
 * when the id is not two C identifiers (no pattern may match more). */
char *vg_flaky_filter(const char *id);

#endif
