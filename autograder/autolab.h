/*
 * autolab.h - Autolab's autoresult (--autolab): the last line of stdout.
 *
 * "Guide for Lab Authors", Writing Autograders (docs.autolabproject.com/
 * lab/): what an autograder prints is shown to the student, and its last
 * line must be a JSON object, the autoresult: "scores" maps each problem's
 * name, exactly as configured for the lab on Autolab, to its points; an
 * optional "scoreboard" array gives the submission's row of the lab's
 * scoreboard, in the order of the columns configured there.
 *
 * We print, on one line:
 *   {"scores": {"01-kvm-basics": 7, "02-cpu-modes": 10}, "scoreboard": [17,
 *   7, 10]}
 * one problem per graded lab named by its slug (name the Autolab problems
 * so), and a scoreboard of the total, then each lab in course order.
 */
#ifndef VG_AUTOLAB_H
#define VG_AUTOLAB_H

#include <jansson.h>
#include <stdio.h>

#include "grade.h"

/* The autoresult object (a new reference), or NULL without memory. */
json_t *vg_autolab_json(const struct vg_result *result);
/* Print it as one line, newline-terminated, and flush out. */
int vg_autolab_print(FILE *out, const struct vg_result *result);

#endif
