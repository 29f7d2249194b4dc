/*
 * stage.h - assemble the program a lab is graded on, and compile its tests.
 *
 * Stage isolation (DESIGN.md): grading lab N of a program builds the
 * submission's stage-N files together with the reference files
 * (ROOT/solutions/<slug>/) of every other stage of the same program, so a
 * bug in one lab costs points in that lab only. Only the files a manifest
 * lists in "stage_files" are copied: nothing else from a submission is ever
 * compiled, and the tests always come from ROOT, never from the submission.
 *
 * The work folder:
 *   WORK/src/<slug>/<file>   one folder per stage (build.mk adds -I<folder>)
 *   WORK/out/stage-test      the lab's Criterion binary (+ WORK/out/guest/)
 *   WORK/out/obj/            its objects, through ccache (build.mk)
 */
#ifndef VG_STAGE_H
#define VG_STAGE_H

#include <stdbool.h>

#include "manifest.h"

/* Longest the compiler may take for one lab. */
#define VG_BUILD_LIMIT_SEC 300
/* Lines of compiler output a report shows. */
#define VG_BUILD_LOG_LINES 40

/*
 * Copy into WORK/src/ the stage files of every lab of lab->program: lab's
 * own from SUBMISSION/<slug>/, the others from ROOT/solutions/<slug>/.
 * On failure *submission_fault tells whose problem it is: true when the
 * submission lacks a stage file or has an unusable one (a build failure of
 * the student), false for the grader's or the course's (a reference file
 * missing, a full disk).
 */
int vg_stage_assemble(const char *root, const char *submission,
                      const struct vg_manifests *all,
                      const struct vg_manifest *lab, const char *work,
                      bool *submission_fault);

struct vg_build {
    bool built;     /* WORK/out/stage-test exists */
    bool timed_out; /* the compiler ran past VG_BUILD_LIMIT_SEC */
    char *errors;   /* compiler output, first VG_BUILD_LOG_LINES lines,
                       with work-folder paths shortened; NULL if none */
};

/*
 * Check the course's own inputs (build.mk, the driver labs/<program>/, the
 * sanitizer libvirtlab.a, test files, guests), then run build.mk for
 * WORK/out/stage-test. Returns -errno for a grader or setup problem; a
 * compile error of the stage is a result (build->built == false), not an
 * error.
 */
int vg_stage_build(const char *root, const struct vg_manifests *all,
                   const struct vg_manifest *lab, const char *work,
                   bool verbose, struct vg_build *build);
void vg_build_free(struct vg_build *build);

/* text with "WORK/src/" and "ROOT/" cut from paths, as a student reads
 * them ("01-kvm-basics/vm.c:12: error: ..."). */
char *vg_stage_shorten_paths(const char *text, const char *root,
                             const char *work);

#endif
