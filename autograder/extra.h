/*
 * extra.h - an instructor's private tests (--extra-tests DIR).
 *
 *   DIR/<slug>/<name>.c      Criterion tests, compiled into the lab's
 *                            stage-test with the lab's own tests
 *   DIR/<slug>/rubric.json   {"rubric": [items as in lab.json]}
 *
 * Their rubric items are added to the lab's (flagged extra), so they are
 * graded by the same rules and their points add to the lab's maximum. A lab
 * without a folder in DIR gets no extra tests.
 */
#ifndef VG_EXTRA_H
#define VG_EXTRA_H

#include "manifest.h"

/* Largest rubric.json or private test source read. */
#define VG_EXTRA_FILE_MAX (1u << 20)

/*
 * Add DIR's tests to the manifests of all. Fails, naming the file, when DIR
 * is not a folder, a sub-folder is not a lab's slug, a lab folder has no .c
 * file or no rubric.json, a rubric item names a test no file of the folder
 * defines, or a private test has the id of one of the lab's own tests.
 */
int vg_manifests_add_extra(struct vg_manifests *all, const char *root,
                           const char *dir);

/*
 * The Criterion test ids ("suite::name") that the source text defines with
 * Test(suite, name, ...), as a NULL-ended array (free with vg_extra_ids_free);
 * NULL when memory runs out. A textual scan: enough for test files that use
 * the plain Test() macro, which is all the labs' tests use.
 */
char **vg_extra_scan_ids(const char *text);
void vg_extra_ids_free(char **ids);

#endif
