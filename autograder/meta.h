/*
 * meta.h - what makes a grade reproducible: which tests and rubric graded
 * it (SHA-256), which submission (its git commit), with which tools and on
 * which machine (vlab-doctor's checks), and when.
 *
 * The digests can be checked by hand from ROOT:
 *   tests_sha256:  cd labs/<slug> && sha256sum <tests in manifest order>
 *                  | sha256sum      (the digest of sha256sum's listing)
 *   rubric_sha256: sha256sum autograder/labs/<slug>/lab.json
 */
#ifndef VG_META_H
#define VG_META_H

#include <stddef.h>
#include <stdio.h>

#include "grade.h"
#include "manifest.h"

#ifndef VG_VERSION
#define VG_VERSION "0.1.0"
#endif

/* SHA-256 of a file as 64 lowercase hex digits in hex[65]. */
int vg_sha256_file(const char *path, char hex[65]);

/*
 * The digest of the listing "sha256sum f1 f2 ..." prints ("<hex>  <name>\n"
 * per file), names as given and read from dir/<name>: unambiguous, unlike
 * a digest of the files' bytes run together, and checkable with coreutils.
 */
int vg_sha256_listing(const char *dir, const char *const *names, size_t n,
                      char hex[65]);

/*
 * Fill lab->tests_sha256 (m's test sources, ROOT/labs/<slug>/) and
 * lab->rubric_sha256 (m->path). A file that cannot be read leaves its
 * digest NULL (the build reports the missing file); only a lack of memory
 * is an error.
 */
int vg_meta_lab_hashes(const char *root, const struct vg_manifest *m,
                       struct vg_lab *lab);

/*
 * The submission's git HEAD, "<sha>-dirty" when `git status --porcelain`
 * lists changes under it (as git describe --dirty marks it), in *commit;
 * NULL when dir is not in a git work tree (or git is missing).
 */
int vg_meta_git_commit(const char *dir, char **commit);

/*
 * Fill every field of *meta: the grader's version, the submission folder
 * and commit, the tools ("gcc 12.2.0; make 4.3; criterion 2.4.1; kernel
 * 6.1.0-18-amd64"), the doctor's checks (one "id: status: summary" line
 * each) and the start time (ISO 8601, UTC). A tool that cannot be asked is
 * "unknown"; only a lack of memory is an error.
 */
int vg_meta_collect(struct vg_meta *meta, const char *submission);

/* The short footer of the terminal report: the commit, the tools, the
 * doctor's non-OK checks, the digests per lab, the start time. */
void vg_meta_print_footer(FILE *out, const struct vg_result *result);

#endif
