/*
 * mutants.h - prove that the tests catch realistic mistakes.
 *
 * A mutant is one deliberate student mistake, kept as a patch against the
 * reference solution in autograder/mutants/<slug>/<name>.patch. Its header
 * says what the mistake is and which tests must catch it:
 *
 *   Mutant: forgets to check the KVM API version
 *   Kills: kvm_basics::opens_dev_kvm, kvm_basics::creates_vm
 *
 *   --- a/vm.c
 *   +++ b/vm.c
 *   @@ -10,7 +10,6 @@ ...
 *
 * Checking a mutant copies the lab's reference stage files into a temporary
 * submission, applies the patch (patch -p1 inside <tmp>/<slug>/), grades
 * the lab, and requires it to lose exactly the points of the tests named in
 * Kills: each of them fails (failed, crashed or timed out: passing, being
 * skipped or flaky does not count), and no other rubric test loses points
 * (an environment skip aside: the machine decided that one, not the
 * mutant).
 */
#ifndef VG_MUTANTS_H
#define VG_MUTANTS_H

#include <stdbool.h>
#include <stdio.h>

#include "grade.h"
#include "manifest.h"
#include "runner.h"

struct vg_mutant {
    char *path;        /* the .patch file */
    char *name;        /* its file name without .patch */
    char *description; /* the Mutant: line */
    char **kills;      /* the Kills: test ids */
    size_t nkills;
    char **may_kill; /* the May-kill: test ids: tests whose loss depends
                      * on the machine (its load, its kernel's /proc), so
                      * losing them or not is both exact */
    size_t nmay_kill;
};

enum vg_mutant_verdict {
    VG_MUTANT_CAUGHT,     /* exactly the Kills tests failed */
    VG_MUTANT_NOT_CAUGHT, /* some Kills test passed, was skipped or not run */
    VG_MUTANT_INEXACT,    /* the Kills tests failed, and others lost too */
    VG_MUTANT_BROKEN,     /* bad header, patch does not apply, no build */
};

/* Parse the header of a mutant patch (text is the whole file). */
int vg_mutant_parse(struct vg_mutant *mu, const char *path, const char *text);
void vg_mutant_free(struct vg_mutant *mu);

/*
 * Did the graded lab catch the mutant, exactly? *why (to free, NULL when
 * caught) names each Kills test the mutant spared ("s::b passed"), each
 * other test that lost points ("also lost points, not in Kills: s::c
 * (failed)") and then the Kills line matching what happened, or says why
 * the mutant is broken.
 */
enum vg_mutant_verdict vg_mutant_judge(const struct vg_mutant *mu,
                                       const struct vg_lab *lab, char **why);

/*
 * Check every mutant of each lab in labs[], printing one line per mutant
 * to out. *all_caught tells whether every mutant was caught. Returns
 * negative only when the run must stop (interrupted, out of memory).
 */
int vg_mutants_check(const struct vg_grade_opts *o,
                     const struct vg_manifests *all,
                     const struct vg_manifest *const *labs, size_t nlabs,
                     FILE *out, bool *all_caught);

#endif
