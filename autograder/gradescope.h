/*
 * gradescope.h - results.json in the format of Gradescope's autograder
 * harness ("Autograder Specifications", Output format,
 * gradescope-autograders.readthedocs.io/en/latest/specs/). What we learned
 * there: every top-level key is optional if each test carries its score;
 * "execution_time" is in seconds; "output" is the text shown for the whole
 * submission; "stdout_visibility" says whether students see what
 * run_autograder printed (by default they do not); "extra_data" is stored
 * but never shown; "tests" entries have score, max_score, status ("passed"
 * or "failed", which only sets the colour), name, number (for ordering),
 * output and visibility ("hidden", "after_due_date", "after_published" or
 * "visible", the default); "leaderboard" is a list of {name, value,
 * order?} with order "asc" or "desc" (the default).
 *
 * We write: score, max_score (for other readers), execution_time (whole
 * seconds), output (each lab's score, problems and warnings),
 * stdout_visibility ("hidden" as soon as one test is not visible, so the
 * terminal report cannot give hidden results away), extra_data (what makes
 * the grade reproducible), tests[] (rubric tests only), and a leaderboard
 * only when asked.
 */
#ifndef VG_GRADESCOPE_H
#define VG_GRADESCOPE_H

#include <jansson.h>
#include <stdbool.h>

#include "grade.h"

struct vg_gradescope_opts {
    bool leaderboard; /* add "leaderboard": points (desc), time (asc) */
};

/* The results.json object (a new reference), or NULL without memory.
 * o may be NULL (no leaderboard). */
json_t *vg_gradescope_json_opts(const struct vg_result *result,
                                const struct vg_gradescope_opts *o);
json_t *vg_gradescope_json(const struct vg_result *result);
/* Write it to path. */
int vg_gradescope_write_opts(const struct vg_result *result, const char *path,
                             const struct vg_gradescope_opts *o);
int vg_gradescope_write(const struct vg_result *result, const char *path);

/* "visible", "hidden", "after_due_date", "after_published" */
const char *vg_gradescope_visibility(enum vg_visibility v);

#endif
