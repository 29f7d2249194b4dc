/*
 * gradescope.h - results.json in the format of Gradescope's autograder
 * harness ("Autograder Specifications", gradescope-autograders.readthedocs.io
 * /en/latest/specs/): top-level score, execution_time, output and
 * stdout_visibility, then one tests[] entry per rubric test with name,
 * number, score, max_score, status ("passed"/"failed"), output and
 * visibility. max_score is also given at the top for other readers.
 */
#ifndef VG_GRADESCOPE_H
#define VG_GRADESCOPE_H

#include <jansson.h>

#include "grade.h"

/* The results.json object (a new reference), or NULL without memory. */
json_t *vg_gradescope_json(const struct vg_result *result);
/* Write it to path. */
int vg_gradescope_write(const struct vg_result *result, const char *path);

#endif
