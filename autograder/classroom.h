/*
 * classroom.h - the result JSON of GitHub Classroom's autograding actions
 * (--classroom FILE), and the "Points X/Y" line the classroom reads.
 *
 * What we learned from the actions' sources (github.com/
 * github-education-resources/autograding-grading-reporter, src/main.js,
 * src/aggregate-results.js, src/console-results.js, src/notify-classroom.js;
 * and the graders that produce the input, e.g. education/autograding-
 * command-grader, src/main.js): each grader step sets an output "result",
 * the base64 of one JSON object
 *   {"version": 1, "status": "pass" | "fail" | "error", "max_score": N,
 *    "tests": [{"name", "status": "pass" | "fail" | "error", "score",
 *               "message", "test_code", "filename", "line_no",
 *               "duration" (milliseconds)}]}
 * and the reporter step reads it back from the environment variable
 * <RUNNER-ID>_RESULTS of each runner named in its "runners" input. The
 * reporter fails the job when a runner's status is "fail" or "error",
 * counts a test as passed only when its status is "pass", sums the tests'
 * "score" against the runners' "max_score", and writes the total as
 * "Points X/Y" into the "Autograding Tests" check run, where the classroom
 * reads it. (Its summary table weighs runners by passed tests / all tests,
 * not by points: with tests of different weights that table differs from
 * the total, which is right.)
 *
 * We write one runner's object for the whole run (a test per rubric test,
 * named "01 suite::test", with max_score too), status "error" when the
 * grader could not grade a lab, "pass" when every rubric test passed,
 * "fail" otherwise. A workflow hands it over as
 *   echo "result=$(base64 -w0 classroom.json)" >> "$GITHUB_OUTPUT"
 * and vg_classroom_points_line() prints "Points X/Y" in the job's log for
 * the classroom's older log-reading integration.
 */
#ifndef VG_CLASSROOM_H
#define VG_CLASSROOM_H

#include <jansson.h>
#include <stdio.h>

#include "grade.h"

/* The runner's result object (a new reference), or NULL without memory. */
json_t *vg_classroom_json(const struct vg_result *result);
int vg_classroom_write(const struct vg_result *result, const char *path);
/* "Points 7/10\n" */
void vg_classroom_points_line(FILE *out, const struct vg_result *result);

#endif
