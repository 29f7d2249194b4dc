/*
 * rubric.h - turn what a test binary reported into points.
 *
 * Each rubric test is passed (its points), or failed, crashed, timed out,
 * skipped by the environment, not run or not built (0 points, with the
 * reason). A reported test the rubric does not list is kept with 0 points
 * so reports can warn about it; it never adds to the score.
 */
#ifndef VG_RUBRIC_H
#define VG_RUBRIC_H

#include "grade.h"
#include "manifest.h"
#include "tap.h"

/*
 * Add one vg_test per rubric item of m to lab, then one per test of tap
 * outside the rubric. tap may be NULL (nothing ran). Rubric tests tap does
 * not report get status `unreported` and `why` as their details.
 */
int vg_rubric_score(struct vg_lab *lab, const struct vg_manifest *m,
                    const struct vg_tap *tap, enum vg_status unreported,
                    const char *why);

#endif
