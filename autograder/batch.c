/* batch.c - a class graded N submissions at a time (see batch.h). */
#define _GNU_SOURCE
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "gradescope.h"
#include "integrity.h"
#include "meta.h"
#include "report.h"
#include "runner.h"
#include "spawn.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* Bytes of a worker's report kept; its lines are short, so this is only a
 * bound against a worker gone wrong. */
#define WORKER_REPORT_CAP (1u << 20)
/* Characters of a lab's message quoted in the gradebook's notes. */
#define NOTE_CHARS        120
/* How long stopped workers get to clean up before SIGKILL. */
#define STOP_GRACE_SEC    60
#define POLL_MS           100

/* ---- CSV (RFC 4180) ------------------------------------------------- */

/*
 * RFC 4180 ("Common Format and MIME Type for CSV Files", section 2): records
 * end with CRLF; fields are separated by commas, the last one has none
 * after it; a field holding a comma, a double quote, CR or LF must be
 * enclosed in double quotes, and a double quote inside is written twice;
 * spaces belong to the field. Every record has the header's number of
 * fields. Source: https://www.ietf.org/rfc/rfc4180.txt (read through the
 * copies in the miller and bobcat sources).
 */
void vg_csv_field(FILE *f, const char *text)
{
    if (!text)
        text = "";
    if (!strpbrk(text, ",\"\r\n")) {
        fputs(text, f);
        return;
    }
    fputc('"', f);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* "7", "2.5", "0.33": points as a spreadsheet reads them (no exponent). */
static void csv_points(FILE *f, double v)
{
    char buf[64];
    char *end;

    if (isnan(v))
        return; /* not graded: an empty field */
    snprintf(buf, sizeof(buf), "%.2f", v);
    end = buf + strlen(buf) - 1;
    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
    fputs(buf, f);
}

static double rubric_points(const struct vg_manifest *m)
{
    double sum = 0;

    for (size_t i = 0; i < m->nrubric; i++)
        sum += m->rubric[i].points;
    return sum;
}

int vg_batch_write_csv(FILE *f, const struct vg_batch *b)
{
    fputs("student", f);
    for (size_t i = 0; i < b->nlabs; i++) {
        fputc(',', f);
        vg_csv_field(f, b->labs[i]->slug);
    }
    fputs(",total,max,notes\r\n", f);
    for (size_t r = 0; r < b->nrows; r++) {
        const struct vg_batch_row *row = &b->rows[r];
        double total = NAN, max = 0;

        vg_csv_field(f, row->student);
        for (size_t i = 0; i < b->nlabs; i++) {
            fputc(',', f);
            csv_points(f, row->points[i]);
            if (!isnan(row->points[i]))
                total = (isnan(total) ? 0 : total) + row->points[i];
            max += isnan(row->max[i]) ? rubric_points(b->labs[i]) : row->max[i];
        }
        fputc(',', f);
        csv_points(f, total);
        fputc(',', f);
        csv_points(f, max);
        fputc(',', f);
        vg_csv_field(f, row->notes);
        fputs("\r\n", f);
    }
    return ferror(f) ? vl_err_plain(EIO, "writing the gradebook") : 0;
}

static int write_csv_file(const char *path, const struct vg_batch *b)
{
    FILE *f = fopen(path, "w");
    int ret;

    if (!f)
        return vl_err(errno, "open %s for writing", path);
    ret = vg_batch_write_csv(f, b);
    if (fclose(f) != 0 && ret == 0)
        ret = vl_err(errno, "writing %s", path);
    return ret;
}

/* ---- the submissions ------------------------------------------------ */

static bool has_lab_folder(const char *dir, const struct vg_manifests *all)
{
    for (size_t i = 0; i < all->n; i++) {
        _vl_cleanup_free_ char *p = vg_strfmt("%s/%s", dir, all->labs[i].slug);

        if (p && vg_is_dir(p))
            return true;
    }
    return false;
}

char *vg_batch_find_submission(const char *dir, const char *name,
                               const struct vg_manifests *all, const char **why)
{
    char *top = vg_strfmt("%s/%s", dir, name);
    char *labs = vg_strfmt("%s/%s/labs", dir, name);

    *why = "out of memory";
    if (top && labs && has_lab_folder(top, all)) {
        free(labs);
        return top;
    }
    if (top && labs && has_lab_folder(labs, all)) {
        free(top);
        return labs;
    }
    if (top && labs)
        *why = "not a submission: no lab folder (like 01-kvm-basics/) in it "
               "or in its labs/";
    free(top);
    free(labs);
    return NULL;
}

static int cmp_rows(const void *a, const void *b)
{
    return strcmp(((const struct vg_batch_row *)a)->student,
                  ((const struct vg_batch_row *)b)->student);
}

static int add_row(struct vg_batch *b, const char *name, size_t *cap)
{
    struct vg_batch_row *row;

    if (b->nrows == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct vg_batch_row *n = realloc(b->rows, ncap * sizeof(*n));

        if (!n)
            return vl_err(ENOMEM, "listing submissions");
        b->rows = n;
        *cap = ncap;
    }
    row = &b->rows[b->nrows];
    *row = (struct vg_batch_row){0};
    row->student = strdup(name);
    row->points = malloc((b->nlabs + 1) * sizeof(double));
    row->max = malloc((b->nlabs + 1) * sizeof(double));
    row->notes = strdup("");
    b->nrows++; /* counted now, so vg_batch_free() frees a half-built row */
    if (!row->student || !row->points || !row->max || !row->notes)
        return vl_err(ENOMEM, "listing submissions");
    for (size_t i = 0; i < b->nlabs; i++)
        row->points[i] = row->max[i] = NAN;
    return 0;
}

/* The --out folder may sit inside the batch folder: it is no student. */
static bool is_folder(const char *path, const char *other)
{
    struct stat a, b;

    return other && stat(path, &a) == 0 && stat(other, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* One row per subfolder of dir (hidden ones and the --out folder skipped),
 * sorted by name. */
static int list_rows(const char *dir, const char *out, struct vg_batch *b)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;
    int ret = 0;

    if (!d)
        return vl_err(errno, "open the submissions folder %s", dir);
    while (ret == 0 && (errno = 0, e = readdir(d))) {
        _vl_cleanup_free_ char *path = NULL;

        if (e->d_name[0] == '.')
            continue; /* ., .., .git of a class repository */
        path = vg_strfmt("%s/%s", dir, e->d_name);
        if (!path)
            ret = vl_err(ENOMEM, "listing %s", dir);
        else if (vg_is_dir(path) && !is_folder(path, out))
            ret = add_row(b, e->d_name, &cap);
    }
    if (ret == 0 && errno)
        ret = vl_err(errno, "reading %s", dir);
    closedir(d);
    if (ret == 0 && b->nrows > 1)
        qsort(b->rows, b->nrows, sizeof(*b->rows), cmp_rows);
    return ret;
}

static int add_note(struct vg_batch_row *row, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_note(struct vg_batch_row *row, const char *fmt, ...)
{
    _vl_cleanup_free_ char *note = NULL;
    char *joined;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&note, fmt, ap);
    va_end(ap);
    if (n < 0)
        return vl_err(ENOMEM, "noting a result");
    joined = vg_strfmt("%s%s%s", row->notes, *row->notes ? "; " : "", note);
    if (!joined)
        return vl_err(ENOMEM, "noting a result");
    free(row->notes);
    row->notes = joined;
    return 0;
}

/* ---- the worker: one submission, in a process of its own ------------ */

/* The first line of text, tabs made blanks, at most NOTE_CHARS long. */
static void one_line(char *dst, size_t size, const char *text)
{
    size_t n = 0;

    for (; text && text[n] && text[n] != '\n' && n + 1 < size && n < NOTE_CHARS;
         n++)
        dst[n] = text[n] == '\t' || text[n] == '\r' ? ' ' : text[n];
    dst[n] = '\0';
}

static void write_reports(const struct vg_batch_opts *o, const char *student,
                          const struct vg_result *result, FILE *to_parent)
{
    struct vg_report_opts ro = {.color = false, .verbose = o->verbose};
    _vl_cleanup_free_ char *dir = vg_strfmt("%s/%s", o->out, student);
    _vl_cleanup_free_ char *txt = vg_strfmt("%s/report.txt", dir);
    _vl_cleanup_free_ char *json = vg_strfmt("%s/results.json", dir);
    char line[NOTE_CHARS + 1];
    FILE *f;

    if (!dir || !txt || !json || vg_mkdir(dir) < 0 || !(f = fopen(txt, "w"))) {
        one_line(line, sizeof(line), vl_errmsg());
        fprintf(to_parent, "warning\twriting the report: %s\n", line);
        return;
    }
    vg_report_terminal(f, result, &ro);
    if (fclose(f) != 0 || vg_gradescope_write(result, json) < 0) {
        one_line(line, sizeof(line), vl_errmsg());
        fprintf(to_parent, "warning\twriting the report: %s\n", line);
    }
}

/*
 * Grade every selected lab and tell the parent, one line each:
 *   lab<TAB>index<TAB>points<TAB>max<TAB>outcome<TAB>message
 * then "done". A line "error<TAB>message" means grading had to stop.
 */
static int worker_grade(const struct vg_batch_opts *o,
                        const struct vg_manifests *all,
                        const struct vg_manifest *const *sel, size_t n,
                        const struct vg_batch_row *row, FILE *to_parent)
{
    struct vg_grade_opts go = {
        .root = o->root,
        .submission = row->submission,
        .timeout_sec = o->timeout_sec,
        .keep = o->keep,
        .verbose = o->verbose,
        .progress = NULL, /* N workers at once: only the parent reports */
    };
    struct vg_result result = {0};
    char line[NOTE_CHARS + 1];
    double start = vg_now();
    int ret = 0;

    /* the reports say what makes them reproducible (meta.h) */
    if (o->out)
        ret = vg_meta_collect(&result.meta, row->submission);
    for (size_t i = 0; ret == 0 && i < n && !vg_interrupted(); i++) {
        struct vg_lab lab;

        ret = vg_grade_lab(&go, all, sel[i], &lab);
        if (ret == 0) {
            one_line(line, sizeof(line),
                     lab.outcome == VG_LAB_RAN ? "" : lab.message);
            fprintf(to_parent, "lab\t%zu\t%.17g\t%.17g\t%d\t%s\n", i,
                    vg_lab_points(&lab), vg_lab_max_points(&lab),
                    (int)lab.outcome, line);
            fflush(to_parent);
            ret = vg_result_add_lab(&result, &lab);
        }
        vg_lab_free(&lab);
    }
    if (ret == 0 && vg_interrupted())
        ret = vl_err_plain(EINTR, "interrupted");
    result.seconds = vg_now() - start;
    if (ret == 0 && o->out)
        ret = vg_integrity_fix_first(&result, all);
    if (ret == 0 && o->out)
        write_reports(o, row->student, &result, to_parent);
    vg_result_free(&result);
    if (ret < 0) {
        one_line(line, sizeof(line), vl_errmsg());
        fprintf(to_parent, "error\t%s\n", line);
    } else
        fprintf(to_parent, "done\n");
    return ret;
}

static void __attribute__((noreturn))
worker_main(const struct vg_batch_opts *o, const struct vg_manifests *all,
            const struct vg_manifest *const *sel, size_t n,
            const struct vg_batch_row *row, int fd)
{
    FILE *to_parent = fdopen(fd, "w");
    int ret;

    if (!to_parent)
        _exit(2);
    ret = worker_grade(o, all, sel, n, row, to_parent);
    fclose(to_parent);
    /* _exit: the parent's stdio buffers and atexit handlers are not ours */
    _exit(ret == 0 ? 0 : vg_interrupted() ? 128 + vg_interrupted() : 2);
}

/* ---- the parent: N workers at a time -------------------------------- */

struct worker {
    pid_t pid; /* 0: this slot is free */
    int fd;    /* read end of the worker's pipe */
    size_t row;
    char *buf;
    size_t len;
};

static int worker_start(const struct vg_batch_opts *o,
                        const struct vg_manifests *all,
                        const struct vg_manifest *const *sel, size_t n,
                        const struct vg_batch_row *row, size_t index,
                        struct worker *w)
{
    int fds[2];
    pid_t pid;

    /* O_CLOEXEC: the compilers and tests a worker runs must not hold the
     * pipe open; O_NONBLOCK (read end): the parent drains without waiting. */
    if (pipe2(fds, O_CLOEXEC) < 0)
        return vl_err(errno, "pipe for the worker of %s", row->student);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return vl_err(errno, "fork for the worker of %s", row->student);
    }
    if (pid == 0) {
        close(fds[0]);
        worker_main(o, all, sel, n, row, fds[1]);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    *w = (struct worker){.pid = pid, .fd = fds[0], .row = index};
    return 0;
}

/* Read what the worker has written so far (up to WORKER_REPORT_CAP). */
static void worker_drain(struct worker *w)
{
    char chunk[4096];
    ssize_t got;

    while ((got = read(w->fd, chunk, sizeof(chunk))) > 0) {
        char *nb;

        if (w->len + (size_t)got > WORKER_REPORT_CAP)
            continue; /* beyond the cap: dropped */
        nb = realloc(w->buf, w->len + (size_t)got + 1);
        if (!nb)
            continue;
        w->buf = nb;
        memcpy(w->buf + w->len, chunk, (size_t)got);
        w->len += (size_t)got;
        w->buf[w->len] = '\0';
    }
}

static void worker_release(struct worker *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->buf);
    *w = (struct worker){.fd = -1};
}

/* Parse one "lab" line of a worker into the row. */
static int take_lab_line(const struct vg_batch *b, struct vg_batch_row *row,
                         char *line, bool *graded)
{
    char *f[6] = {line};
    size_t nf = 1;
    unsigned long i;
    int outcome;

    /* the message, last, may not hold a tab (one_line() made them blanks) */
    while (nf < 6 && (f[nf] = strchr(f[nf - 1], '\t'))) {
        *f[nf]++ = '\0';
        nf++;
    }
    if (nf < 6)
        return 0; /* malformed: the lab stays "not graded" */
    i = strtoul(f[1], NULL, 10);
    if (i >= b->nlabs)
        return 0;
    outcome = atoi(f[4]);
    row->points[i] = strtod(f[2], NULL);
    row->max[i] = strtod(f[3], NULL);
    if (outcome == VG_LAB_RAN)
        return 0;
    if (outcome == VG_LAB_GRADER_ERROR) {
        *graded = false;
        row->points[i] = NAN;
    }
    return add_note(row, "%s: %s%s%s", b->labs[i]->slug,
                    vg_outcome_name((enum vg_outcome)outcome),
                    *f[5] ? ": " : "", f[5]);
}

/* What the worker reported, into its row. */
static int worker_finish(struct vg_batch *b, struct worker *w, int status)
{
    struct vg_batch_row *row = &b->rows[w->row];
    bool graded = true, done = false;
    char *save = NULL;
    int ret = 0;

    worker_drain(w);
    for (char *line = w->buf ? strtok_r(w->buf, "\n", &save) : NULL;
         ret == 0 && line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "lab\t", 4) == 0)
            ret = take_lab_line(b, row, line, &graded);
        else if (strncmp(line, "error\t", 6) == 0) {
            graded = false;
            ret = add_note(row, "grader error: %s", line + 6);
        } else if (strncmp(line, "warning\t", 8) == 0)
            ret = add_note(row, "%s", line + 8);
        else if (strcmp(line, "done") == 0)
            done = true;
    }
    for (size_t i = 0; ret == 0 && i < b->nlabs; i++)
        graded = graded && !isnan(row->points[i]);
    if (ret == 0 && !done) {
        char how[128];

        vg_wait_status_describe(status, how, sizeof(how));
        graded = false;
        ret = add_note(row, "grader error: the worker %s", how);
    }
    row->graded =
        graded && done && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return ret;
}

static void progress_line(const struct vg_batch_opts *o,
                          const struct vg_batch *b,
                          const struct vg_batch_row *row, size_t done)
{
    double total = 0, max = 0;

    if (!o->progress)
        return;
    fprintf(o->progress, "[%zu/%zu] %s:", done, b->nrows, row->student);
    for (size_t i = 0; row->submission && i < b->nlabs; i++) {
        if (isnan(row->points[i])) {
            fprintf(o->progress, " %s -", b->labs[i]->lab);
            continue;
        }
        fprintf(o->progress, " %s %.4g/%.4g", b->labs[i]->lab, row->points[i],
                row->max[i]);
        total += row->points[i];
        max += row->max[i];
    }
    if (row->submission)
        fprintf(o->progress, ", total %.4g/%.4g", total, max);
    if (*row->notes)
        fprintf(o->progress, " (%s)", row->notes);
    fputc('\n', o->progress);
    fflush(o->progress);
}

/* SIGTERM every worker, give them time to clean up, then SIGKILL. */
static void stop_workers(struct worker *w, unsigned jobs)
{
    double deadline = vg_now() + STOP_GRACE_SEC;
    bool left = true;

    for (unsigned i = 0; i < jobs; i++)
        if (w[i].pid > 0)
            kill(w[i].pid, SIGTERM);
    while (left) {
        left = false;
        for (unsigned i = 0; i < jobs; i++) {
            pid_t r;

            if (w[i].pid <= 0)
                continue;
            r = waitpid(w[i].pid, NULL, WNOHANG);

            if (r == w[i].pid || (r < 0 && errno == ECHILD))
                worker_release(&w[i]);
            else if (vg_now() > deadline) {
                kill(w[i].pid, SIGKILL);
                waitpid(w[i].pid, NULL, 0);
                worker_release(&w[i]);
            } else
                left = true;
        }
        if (left)
            poll(NULL, 0, POLL_MS);
    }
}

/* Wait until some worker ends or POLL_MS passes; drain every pipe. */
static void wait_some(struct worker *w, unsigned jobs)
{
    struct pollfd pfd[VG_BATCH_JOBS_MAX];
    nfds_t n = 0;

    for (unsigned i = 0; i < jobs; i++)
        if (w[i].pid > 0)
            pfd[n++] = (struct pollfd){.fd = w[i].fd, .events = POLLIN};
    poll(pfd, n, POLL_MS);
    for (unsigned i = 0; i < jobs; i++)
        if (w[i].pid > 0)
            worker_drain(&w[i]);
}

/* Reap the workers that ended; their rows are then complete. */
static int reap_some(const struct vg_batch_opts *o, struct vg_batch *b,
                     struct worker *w, unsigned *running, size_t *done)
{
    int ret = 0;

    for (unsigned i = 0; ret == 0 && i < o->jobs; i++) {
        int status;

        if (w[i].pid <= 0 || waitpid(w[i].pid, &status, WNOHANG) != w[i].pid)
            continue;
        ret = worker_finish(b, &w[i], status);
        progress_line(o, b, &b->rows[w[i].row], ++*done);
        worker_release(&w[i]);
        (*running)--;
    }
    return ret;
}

static int schedule(const struct vg_batch_opts *o,
                    const struct vg_manifests *all,
                    const struct vg_manifest *const *sel, size_t n,
                    struct vg_batch *b, struct worker *w)
{
    size_t next = 0, done = 0;
    unsigned running = 0;
    int ret = 0;

    while (ret == 0 && done < b->nrows) {
        if (vg_interrupted())
            break;
        for (unsigned i = 0; ret == 0 && i < o->jobs; i++) {
            if (w[i].pid > 0)
                continue;
            /* folders that are no submission are done at once */
            while (next < b->nrows && !b->rows[next].submission)
                progress_line(o, b, &b->rows[next++], ++done);
            if (next == b->nrows)
                break;
            ret = worker_start(o, all, sel, n, &b->rows[next], next, &w[i]);
            next++;
            running += ret == 0;
        }
        if (ret == 0 && running > 0) {
            wait_some(w, o->jobs);
            ret = reap_some(o, b, w, &running, &done);
        }
    }
    if (ret == 0 && vg_interrupted())
        ret = vl_err_plain(EINTR, "interrupted by %s",
                           strsignal(vg_interrupted()));
    if (ret < 0)
        stop_workers(w, o->jobs);
    return ret;
}

static int check_opts(const struct vg_batch_opts *o)
{
    int ret;

    if (o->jobs < 1 || o->jobs > VG_BATCH_JOBS_MAX)
        return vl_err_plain(EINVAL, "-j %u: give 1..%d workers", o->jobs,
                            VG_BATCH_JOBS_MAX);
    if (!vg_is_dir(o->dir))
        return vl_err_plain(ENOTDIR,
                            "--batch %s: not a folder (give the folder "
                            "holding one subfolder per student)",
                            o->dir);
    if (o->out && (ret = vg_mkdir(o->out)) < 0)
        return vl_err_ctx(ret, "--out %s", o->out);
    return 0;
}

static int find_submissions(const struct vg_batch_opts *o,
                            const struct vg_manifests *all, struct vg_batch *b)
{
    int ret = list_rows(o->dir, o->out, b);

    for (size_t r = 0; ret == 0 && r < b->nrows; r++) {
        struct vg_batch_row *row = &b->rows[r];
        const char *why;

        row->submission =
            vg_batch_find_submission(o->dir, row->student, all, &why);
        if (!row->submission)
            ret = add_note(row, "%s", why);
    }
    return ret;
}

int vg_batch_run(const struct vg_batch_opts *o, const struct vg_manifests *all,
                 const struct vg_manifest *const *sel, size_t n,
                 struct vg_batch *b)
{
    struct worker w[VG_BATCH_JOBS_MAX];
    int ret;

    *b = (struct vg_batch){.labs = sel, .nlabs = n};
    for (unsigned i = 0; i < VG_BATCH_JOBS_MAX; i++)
        w[i] = (struct worker){.fd = -1};
    ret = check_opts(o);
    if (ret == 0)
        ret = find_submissions(o, all, b);
    if (ret == 0)
        ret = schedule(o, all, sel, n, b, w);
    for (unsigned i = 0; i < VG_BATCH_JOBS_MAX; i++)
        if (w[i].pid <= 0)
            worker_release(&w[i]);
    if (ret == 0 && o->csv)
        ret = write_csv_file(o->csv, b);
    return ret;
}

bool vg_batch_all_graded(const struct vg_batch *b)
{
    for (size_t r = 0; r < b->nrows; r++)
        if (!b->rows[r].graded)
            return false;
    return true;
}

void vg_batch_free(struct vg_batch *b)
{
    for (size_t r = 0; r < b->nrows; r++) {
        free(b->rows[r].student);
        free(b->rows[r].submission);
        free(b->rows[r].points);
        free(b->rows[r].max);
        free(b->rows[r].notes);
    }
    free(b->rows);
    *b = (struct vg_batch){0};
}

int vg_batch_command(const struct vg_batch_opts *o,
                     const struct vg_manifests *all,
                     const struct vg_manifest *const *sel, size_t n)
{
    struct vg_batch b;
    size_t graded = 0;
    int ret;

    ret = vg_batch_run(o, all, sel, n, &b);
    if (ret == 0) {
        for (size_t r = 0; r < b.nrows; r++)
            graded += b.rows[r].graded;
        printf("batch: %zu of %zu folder%s graded%s%s%s\n", graded, b.nrows,
               b.nrows == 1 ? "" : "s", o->csv ? "; gradebook: " : "",
               o->csv ? o->csv : "",
               graded == b.nrows ? "" : " (see the notes column)");
        ret = graded == b.nrows ? 0 : 1;
    }
    vg_batch_free(&b);
    return ret;
}
