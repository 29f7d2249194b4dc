/*
 * integrity.h - what a submission changed that the grader does not take
 * from it, and which of the student's own stages to fix first.
 *
 * Pristine tests: the grader copies only a lab's stage files out of a
 * submission (stage.c); tests, guests, READMEs and the driver always come
 * from ROOT. A student who edits a test file therefore gains nothing, and
 * the report says so: each such file is listed in vg_lab.protected[]
 * ("changed and ignored (the course's copy was used): ...").
 *
 * Fix first: stage isolation grades each lab with the reference of every
 * other stage, so a broken lab 02 costs points in lab 02 only. But the
 * student's own program (`make -C labs run`) runs the student's lab 02
 * under lab 03's code: when both lose points, lab 02 is the one to debug
 * first, and lab 03's report says so (vg_lab.fix_first).
 */
#ifndef VG_INTEGRITY_H
#define VG_INTEGRITY_H

#include <stdio.h>

#include "grade.h"
#include "manifest.h"

/* Files compared per folder at most; a deeper or larger tree is cut. */
#define VG_PROTECT_MAX_FILES 512
#define VG_PROTECT_MAX_DEPTH 4

/*
 * Compare the course's files of lab m with the submission's: every file of
 * ROOT/labs/<slug>/ other than m's stage files, and every file of
 * ROOT/labs/<program>/ (the driver), against the same path under
 * SUBMISSION. Each one the submission has with other bytes (or as a
 * symlink, FIFO, folder...) is appended to lab->protected[] as
 * "<slug>/tests/x_test.c". A submission folder that is the course's own
 * (SUBMISSION/<slug> is ROOT/labs/<slug>, as in `make grade`) is skipped.
 * Returns 0, or -ENOMEM.
 */
int vg_integrity_protected(const char *root, const char *submission,
                           const struct vg_manifest *m, struct vg_lab *lab);

/*
 * Set fix_first ("lab 02") on each lab of result that lost points while an
 * earlier graded lab of the same program lost points too (the lowest
 * numbered such lab). Losing points here means a rubric test neither
 * passed nor was an environment skip; a lab with a grader error does not
 * count. Labs are matched to their program through all.
 */
int vg_integrity_fix_first(struct vg_result *result,
                           const struct vg_manifests *all);

/* The lab's integrity notes, one line each, indented by `indent`. */
void vg_integrity_print_lab(FILE *out, const struct vg_lab *lab, int indent);

#endif
