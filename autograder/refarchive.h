/*
 * refarchive.h - the reference stages of a student release, compiled.
 *
 * A release for students (`make student-release`) holds no .c file of
 * solutions/; stage isolation still needs every other stage's reference code,
 * so the release carries it compiled: one ar(1) archive per program,
 * ROOT/solutions/<program>-ref.a, with one member per reference stage file,
 * "<slug>_<stem>.o" (01-kvm-basics/vm.c -> 01-kvm-basics_vm.o), compiled
 * as build.mk compiles stages (sanitizers on). When a reference .c file is
 * missing, the grader takes its member out of the archive instead.
 */
#ifndef VG_REFARCHIVE_H
#define VG_REFARCHIVE_H

#include "manifest.h"

/*
 * Extract the member of m's reference stage file `file` from
 * SOLUTIONS/<program>-ref.a into DIR/<slug>_<stem>.o. Returns -ENOENT,
 * leaving the current error message alone, when file is not a .c file or
 * there is no archive (a full course tree); -errno with a message when the
 * archive lacks the member or ar fails.
 */
int vg_ref_extract(const char *solutions, const struct vg_manifest *m,
                   const char *file, const char *dir);

/* WORK/src/<slug>/<file> for build.mk, or the extracted object in its
 * place when only that exists. NULL: out of memory. */
char *vg_ref_source(const char *work, const char *slug, const char *file);

#endif
