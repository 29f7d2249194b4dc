/*
 * batch.h - grade a class: every submission in a folder, N at a time, into
 * one gradebook (CSV, RFC 4180).
 *
 *   DIR/alice/01-kvm-basics/vm.c ...      a submission shaped like labs/
 *   DIR/bob/labs/01-kvm-basics/vm.c ...   a clone of the whole course
 *   DIR/notes/                            not a submission: reported
 *
 * Each submission is graded by a worker process of its own (fork(2)), which
 * runs the same per-lab grading as a single run (vg_grade_lab()) and sends
 * the points back over a pipe as plain text lines. The workers never share
 * a work folder, and each is the child subreaper of its own tests, so N of
 * them can run side by side. An interrupt (SIGINT, SIGTERM, SIGHUP) stops
 * every worker; each kills its tests and removes its work folder.
 */
#ifndef VG_BATCH_H
#define VG_BATCH_H

#include <stdbool.h>
#include <stdio.h>

#include "grade.h"
#include "manifest.h"

/* Most workers at a time; more would only fight over the cores. */
#define VG_BATCH_JOBS_MAX 64

struct vg_batch_opts {
    const char *root;   /* the course tree */
    const char *dir;    /* one submission per subfolder */
    unsigned jobs;      /* workers at a time, 1..VG_BATCH_JOBS_MAX */
    const char *csv;    /* the gradebook to write; NULL: none */
    const char *out;    /* NULL, or OUT/<student>/{report.txt,results.json} */
    int timeout_sec;    /* as vg_grade_opts */
    bool keep, verbose; /* as vg_grade_opts */
    FILE *progress;     /* "[3/40] alice: 01 10/10 ..."; NULL: quiet */
};

/* One row of the gradebook. */
struct vg_batch_row {
    char *student;    /* the subfolder's name */
    char *submission; /* the folder graded; NULL when not a submission */
    double *points;   /* per selected lab; NAN: not graded */
    double *max;      /* per selected lab; NAN: not graded */
    char *notes;      /* "" when every lab ran; else why not, "; "-joined */
    bool graded;      /* every selected lab was graded (not: scored) */
};

struct vg_batch {
    const struct vg_manifest *const *labs; /* the selected labs, in order */
    size_t nlabs;
    struct vg_batch_row *rows; /* sorted by student */
    size_t nrows;
};

/*
 * Grade every subfolder of o->dir on the n labs of sel, o->jobs at a time,
 * into *batch (free it with vg_batch_free()), then write the gradebook to
 * o->csv. Returns 0 when the batch ran to the end, whatever the rows say
 * (see vg_batch_all_graded()); -errno for a setup error; -EINTR when
 * interrupted (every worker was stopped and has cleaned up).
 */
int vg_batch_run(const struct vg_batch_opts *o, const struct vg_manifests *all,
                 const struct vg_manifest *const *sel, size_t n,
                 struct vg_batch *batch);
void vg_batch_free(struct vg_batch *batch);

/*
 * vlab-grade --batch: run the batch, write the gradebook, print a summary
 * line; returns 0 when every folder was graded, 1 when not, < 0 as
 * vg_batch_run().
 */
int vg_batch_command(const struct vg_batch_opts *o,
                     const struct vg_manifests *all,
                     const struct vg_manifest *const *sel, size_t n);

/* Every subfolder was a submission and every lab of it was graded. */
bool vg_batch_all_graded(const struct vg_batch *batch);

/*
 * The gradebook: a header (student, one column per lab slug, total, max,
 * notes), then one record per row. Fields follow RFC 4180.
 */
int vg_batch_write_csv(FILE *f, const struct vg_batch *batch);

/* One CSV field, quoted when RFC 4180 requires it. */
void vg_csv_field(FILE *f, const char *text);

/*
 * The submission inside DIR/<name>: the folder itself when it holds a lab
 * folder of the course (<slug>/), else its labs/ subfolder when that does
 * (a clone of the whole course); NULL with a reason in *why otherwise.
 */
char *vg_batch_find_submission(const char *dir, const char *name,
                               const struct vg_manifests *all,
                               const char **why);

#endif
