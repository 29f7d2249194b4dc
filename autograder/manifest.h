/*
 * manifest.h - lab manifests: autograder/labs/<slug>/lab.json.
 *
 * A manifest says which stage files make up the lab, which tests grade it,
 * how long they may run and what each test is worth:
 *
 *   { "lab": "01", "slug": "01-kvm-basics", "title": "KVM basics",
 *     "program": "minivm", "stage_files": ["vm.c"],
 *     "tests": ["tests/kvm_basics_test.c"], "guests": "guest",
 *     "timeout_sec": 300,
 *     "rubric": [ {"test": "kvm_basics::opens_dev_kvm", "points": 2,
 *                  "description": "opens /dev/kvm ...",
 *                  "visibility": "visible"} ],
 *     "hints": [ {"on": "errno:ENOSYS", "hint": "a TODO is still a stub"} ] }
 *
 * Loading validates every field; a wrong one fails with a message naming
 * the file and the field ("…/lab.json: rubric[2].points: must be > 0").
 */
#ifndef VG_MANIFEST_H
#define VG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"

struct vg_hint; /* hints.h */

/* Upper bound on timeout_sec: one lab may not hold CI for more. */
#define VG_TIMEOUT_MAX_SEC 7200

struct vg_rubric_item {
    char *test; /* "suite::name" */
    double points;
    char *description;
    enum vg_visibility visibility; /* "visibility", default visible */
    bool extra; /* from an instructor's --extra-tests folder */
};

struct vg_manifest {
    char *path;    /* the lab.json it came from, for messages */
    char *lab;     /* "01" */
    char *slug;    /* "01-kvm-basics": also the folder name everywhere */
    char *title;   /* "KVM basics" */
    char *program; /* "minivm" or "minictr": labs/<program>/ is the driver */
    char **stage_files; /* plain file names, in SUBMISSION/<slug>/ */
    size_t nstage_files;
    char **tests; /* relative to ROOT/labs/<slug>/ */
    size_t ntests;
    char *guests; /* folder of guest .S files, or NULL */
    int timeout_sec;
    struct vg_rubric_item *rubric;
    size_t nrubric;
    struct vg_hint *hints; /* "hints": first match wins (hints.h) */
    size_t nhints;
    /* --extra-tests: the instructor's private test files (absolute paths,
     * compiled after `tests`); their rubric items are in `rubric`. */
    char **extra_tests;
    size_t nextra_tests;
};

struct vg_manifests {
    struct vg_manifest *labs; /* sorted by slug */
    size_t n;
};

/* Parse and validate one manifest; dirname is the folder it lives in. */
int vg_manifest_load(struct vg_manifest *m, const char *path,
                     const char *dirname);
void vg_manifest_free(struct vg_manifest *m);

/* Load every ROOT/autograder/labs/<slug>/lab.json. */
int vg_manifests_load(struct vg_manifests *all, const char *root);
void vg_manifests_free(struct vg_manifests *all);

/* Find a lab by number ("01", "1") or slug; NULL when there is none. */
const struct vg_manifest *vg_manifests_find(const struct vg_manifests *all,
                                            const char *key);

/* "visible", "hidden", "after_due_date", "after_published" (Gradescope's
 * names) -> *out; -EINVAL for anything else. */
int vg_visibility_parse(const char *name, enum vg_visibility *out);
const char *vg_visibility_name(enum vg_visibility v);

/*
 * Parse the rubric items of arr (a JSON array, jansson's json_t) into
 * m->rubric, after those already there, each flagged `extra`; `where` names
 * the field in messages ("rubric", or a rubric.json's path). Used for
 * lab.json and for --extra-tests' rubric.json.
 */
int vg_manifest_add_rubric(struct vg_manifest *m, const char *path,
                           const void *arr, bool extra);

/* The rubric item of a test id, or NULL. */
const struct vg_rubric_item *
vg_manifest_rubric_item(const struct vg_manifest *m, const char *test);

#endif
