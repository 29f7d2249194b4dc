/*
 * grade.h - the result model of vlab-grade: what grading found, lab by lab.
 *
 * One tree, written in every output format (terminal, Gradescope JSON, and
 * later JUnit/TAP), so nothing here knows about any format:
 *
 *   vg_result ─┬─ vg_lab "01-kvm-basics" (outcome: ran / build failed / ...)
 *              │     ├─ vg_test "kvm_basics::opens_dev_kvm"  passed  2/2
 *              │     └─ vg_test "kvm_basics::creates_vm"     failed  0/3
 *              └─ vg_lab ...
 *
 * Points come from the lab's rubric: a rubric test earns its points when it
 * passed, and nothing otherwise. A test the binary ran but the rubric does
 * not list is kept (in_rubric = false, worth 0) so reports can warn about it.
 */
#ifndef VG_GRADE_H
#define VG_GRADE_H

#include <stdbool.h>
#include <stddef.h>

/* What happened to one test. Only VG_PASSED earns points. */
enum vg_status {
    VG_PASSED,
    VG_FAILED,    /* an assertion failed, or the test exited early */
    VG_CRASHED,   /* killed by a signal (segfault, abort, sanitizer) */
    VG_TIMED_OUT, /* the test's own limit, or the grader's, ran out */
    VG_SKIPPED,   /* the machine lacks something: an environment skip */
    VG_NOT_RUN,   /* the test binary never reported this test */
    VG_NOT_BUILT, /* the stage did not compile */
    VG_FLAKY,     /* failed, then passed when run again: 0 points, and
                   * reported as such, never as a silent pass */
};

/* Who sees a test's result, as Gradescope defines it ("visibility" of
 * results.json): now, never (instructors only), after the due date, or
 * after the grades are published. */
enum vg_visibility {
    VG_VISIBLE,
    VG_HIDDEN,
    VG_AFTER_DUE_DATE,
    VG_AFTER_PUBLISHED,
};

/* How far grading one lab got. Only VG_LAB_RAN is a clean run. */
enum vg_outcome {
    VG_LAB_RAN,          /* built, ran to the end, reported every test */
    VG_LAB_BUILD_FAILED, /* a stage file is missing or did not compile */
    VG_LAB_TIMED_OUT,    /* the grader's wall-clock limit killed the run */
    VG_LAB_INCOMPLETE,   /* the test binary died or gave no full report */
    VG_LAB_GRADER_ERROR, /* a problem of the grader or the course setup */
};

struct vg_test {
    char *id;          /* "suite::name", as Criterion names it */
    char *description; /* the rubric's words (NULL when not in it) */
    double points;     /* earned */
    double max_points; /* the rubric's points (0 when not in it) */
    enum vg_status status;
    char *details; /* why it failed or was skipped (NULL if none) */
    bool in_rubric;
    enum vg_visibility visibility; /* the rubric's (VG_VISIBLE by default) */
    char *hint;    /* the rubric's hint matching the failure, or NULL */
    char *excerpt; /* the part of the guest's / container's output that
                    * goes with the failure (capped), or NULL */
    bool extra;    /* an instructor's private test (--extra-tests) */
};

struct vg_lab {
    char *number; /* "01" */
    char *slug;   /* "01-kvm-basics" */
    char *title;  /* "KVM basics" */
    enum vg_outcome outcome;
    char *message; /* compiler errors, timeout note, grader error */
    char *log;     /* what the test binary printed (capped), or NULL */
    struct vg_test *tests;
    size_t ntests;
    double seconds;      /* wall-clock time spent on this lab */
    char *tests_sha256;  /* SHA-256 over the lab's test sources, in order */
    char *rubric_sha256; /* SHA-256 of its lab.json */
    char *fix_first;     /* "lab 02": an earlier stage of the student's own
                          * program that fails and should be fixed first */
    char **protected;    /* files the submission changed that the grader
                          * protects (and ignored): "01-x/tests/a_test.c" */
    size_t nprotected;
};

/* What makes a report reproducible (written once per run). */
struct vg_meta {
    char *grader_version;    /* "vlab-grade 0.1.0" */
    char *submission;        /* the folder graded */
    char *submission_commit; /* its git HEAD, or NULL when not a git repo */
    char *tools;             /* "gcc 12.2.0; make 4.3; criterion 2.4.1..." */
    char *environment;       /* the doctor's summary, one line per check */
    char *started;           /* ISO 8601 UTC */
};

struct vg_result {
    struct vg_lab *labs;
    size_t nlabs;
    double seconds;
    struct vg_meta meta;
};

/* "passed", "failed", "crashed", "timed out", "skipped", ... */
const char *vg_status_name(enum vg_status status);
/* "ran", "build failed", "timed out", "incomplete", "grader error" */
const char *vg_outcome_name(enum vg_outcome outcome);

/* Start a lab record (copies the strings). */
int vg_lab_init(struct vg_lab *lab, const char *number, const char *slug,
                const char *title);
/* Append a copy of *test (its strings are duplicated). */
int vg_lab_add_test(struct vg_lab *lab, const struct vg_test *test);
/* Find a test by id, or NULL. */
struct vg_test *vg_lab_find_test(const struct vg_lab *lab, const char *id);
/* Replace lab->message with a copy of text (NULL clears it). */
int vg_lab_set_message(struct vg_lab *lab, const char *text);
void vg_lab_free(struct vg_lab *lab);

/* Append a lab; takes ownership of *lab and zeroes it. */
int vg_result_add_lab(struct vg_result *result, struct vg_lab *lab);
void vg_result_free(struct vg_result *result);

/* Sums over the rubric tests. */
double vg_lab_points(const struct vg_lab *lab);
double vg_lab_max_points(const struct vg_lab *lab);
double vg_result_points(const struct vg_result *result);
double vg_result_max_points(const struct vg_result *result);

/* Every rubric test passed (a lab with no rubric test never counts). */
bool vg_lab_full(const struct vg_lab *lab);
bool vg_result_full(const struct vg_result *result);
/* No rubric test passed. */
bool vg_result_zero(const struct vg_result *result);
/* Every lab built and ran to the end (VG_LAB_RAN). */
bool vg_result_clean(const struct vg_result *result);
/* Some lab hit a grader or setup error. */
bool vg_result_grader_error(const struct vg_result *result);

#endif
