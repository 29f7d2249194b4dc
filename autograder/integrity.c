/* integrity.c - protected files and the stage to fix first (integrity.h). */
#define _GNU_SOURCE
#include "integrity.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"
#include "virtlab/load.h"

/* ---- protected files ----------------------------------------------------- */

/*
 * Does the submission's file differ from the course's? Only a regular file
 * with the same bytes is "the same"; a symlink, a FIFO or a folder in its
 * place differs (and is never followed or read from: O_NOFOLLOW and
 * O_NONBLOCK, then fstat before the first read).
 */
static bool differs(const char *course, const char *theirs)
{
    _vl_cleanup_close_ int a = open(course, O_RDONLY | O_CLOEXEC);
    _vl_cleanup_close_ int b =
        open(theirs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    char ba[16384], bb[16384];
    struct stat sa, sb;

    if (a < 0 || fstat(a, &sa) < 0)
        return false; /* no course copy to compare with: say nothing */
    if (b < 0 || fstat(b, &sb) < 0)
        return true; /* a symlink (ELOOP) or an unreadable file */
    if (!S_ISREG(sb.st_mode) || sa.st_size != sb.st_size)
        return true;
    for (;;) {
        ssize_t na = vl_read_full(a, ba, sizeof(ba));
        ssize_t nb = vl_read_full(b, bb, sizeof(bb));

        if (na < 0 || nb < 0 || na != nb || memcmp(ba, bb, (size_t)na) != 0)
            return true;
        if (na == 0)
            return false;
    }
}

static bool is_stage_file(const struct vg_manifest *m, const char *rel)
{
    for (size_t i = 0; i < m->nstage_files; i++)
        if (strcmp(rel, m->stage_files[i]) == 0)
            return true;
    return false;
}

struct walk {
    const struct vg_manifest *m; /* skip its stage files (top level only) */
    const char *course;          /* ROOT/labs/<name> */
    const char *theirs;          /* SUBMISSION/<name> */
    const char *name;            /* <name>: the prefix of reported paths */
    struct vg_lab *lab;
    size_t files; /* compared so far */
};

static int add_protected(struct vg_lab *lab, const char *name, const char *rel)
{
    char **grown =
        reallocarray(lab->protected, lab->nprotected + 1, sizeof(*grown));

    if (!grown)
        return vl_err(ENOMEM, "recording a protected file");
    lab->protected = grown;
    grown[lab->nprotected] = vg_strfmt("%s/%s", name, rel);
    if (!grown[lab->nprotected])
        return vl_err(ENOMEM, "recording a protected file");
    lab->nprotected++;
    return 0;
}

static int walk_dir(struct walk *w, const char *rel, int depth);

/* One entry of the course's folder, rel relative to it. */
static int walk_entry(struct walk *w, const char *rel, int depth)
{
    _vl_cleanup_free_ char *course = vg_strfmt("%s/%s", w->course, rel);
    _vl_cleanup_free_ char *theirs = vg_strfmt("%s/%s", w->theirs, rel);
    struct stat st, ts;

    if (!course || !theirs)
        return vl_err(ENOMEM, "comparing %s", rel);
    if (lstat(course, &st) < 0)
        return 0;
    if (lstat(theirs, &ts) < 0)
        return 0; /* the submission does not have it: nothing changed */
    if (S_ISDIR(st.st_mode))
        return S_ISDIR(ts.st_mode) ? walk_dir(w, rel, depth + 1) : 0;
    if (depth == 0 && w->m && is_stage_file(w->m, rel))
        return 0; /* the student's own work */
    if (!S_ISREG(st.st_mode) || w->files++ >= VG_PROTECT_MAX_FILES)
        return 0;
    return differs(course, theirs) ? add_protected(w->lab, w->name, rel) : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The course's folder rel (""), in name order so reports are stable. */
static int walk_dir(struct walk *w, const char *rel, int depth)
{
    _vl_cleanup_free_ char *path =
        *rel ? vg_strfmt("%s/%s", w->course, rel) : strdup(w->course);
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    int ret = 0;

    if (!path)
        return vl_err(ENOMEM, "comparing %s", w->course);
    if (depth > VG_PROTECT_MAX_DEPTH || !(d = opendir(path)))
        return 0;
    while (ret == 0 && n < VG_PROTECT_MAX_FILES && (e = readdir(d))) {
        char **grown;

        if (e->d_name[0] == '.')
            continue; /* ., .. and hidden files (editor swap files) */
        grown = reallocarray(names, n + 1, sizeof(*names));
        if (!grown || !(grown[n] = strdup(e->d_name))) {
            names = grown ? grown : names;
            ret = vl_err(ENOMEM, "comparing %s", path);
            break;
        }
        names = grown;
        n++;
    }
    closedir(d);
    if (ret == 0 && n)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        _vl_cleanup_free_ char *sub =
            *rel ? vg_strfmt("%s/%s", rel, names[i]) : strdup(names[i]);

        if (ret == 0)
            ret = sub ? walk_entry(w, sub, depth)
                      : vl_err(ENOMEM, "comparing %s", path);
        free(names[i]);
    }
    free(names);
    return ret;
}

/* Are both paths the same folder (the course graded as the submission)? */
static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static int compare_folder(const char *root, const char *submission,
                          const char *name, const struct vg_manifest *m,
                          struct vg_lab *lab)
{
    _vl_cleanup_free_ char *course = vg_strfmt("%s/labs/%s", root, name);
    _vl_cleanup_free_ char *theirs = vg_strfmt("%s/%s", submission, name);
    struct walk w = {.m = m, .name = name, .lab = lab};
    struct stat st;

    if (!course || !theirs)
        return vl_err(ENOMEM, "comparing %s", name);
    /* The submission's folder itself must be a real folder: stage.c
     * refuses a symlinked lab folder, and so is nothing compared here. */
    if (lstat(theirs, &st) < 0 || !S_ISDIR(st.st_mode) ||
        same_dir(course, theirs))
        return 0;
    w.course = course;
    w.theirs = theirs;
    return walk_dir(&w, "", 0);
}

int vg_integrity_protected(const char *root, const char *submission,
                           const struct vg_manifest *m, struct vg_lab *lab)
{
    int ret;

    if (!root || !submission)
        return 0; /* nothing to compare with (a run-only caller) */
    ret = compare_folder(root, submission, m->slug, m, lab);

    if (ret == 0 && m->program)
        ret = compare_folder(root, submission, m->program, NULL, lab);
    return ret;
}

/* ---- the stage to fix first ---------------------------------------------- */

/* Did the student's code lose points in this lab? */
static bool lost_points(const struct vg_lab *lab)
{
    if (lab->outcome == VG_LAB_GRADER_ERROR)
        return false;
    for (size_t i = 0; i < lab->ntests; i++) {
        const struct vg_test *t = &lab->tests[i];

        if (t->in_rubric && !t->extra && t->status != VG_PASSED &&
            t->status != VG_SKIPPED)
            return true;
    }
    return false;
}

static const char *program_of(const struct vg_manifests *all,
                              const struct vg_lab *lab)
{
    const struct vg_manifest *m = vg_manifests_find(all, lab->slug);

    return m ? m->program : NULL;
}

int vg_integrity_fix_first(struct vg_result *result,
                           const struct vg_manifests *all)
{
    for (size_t i = 0; i < result->nlabs; i++) {
        struct vg_lab *lab = &result->labs[i];
        const char *prog = program_of(all, lab);
        const struct vg_lab *first = NULL;

        if (!prog || !lost_points(lab))
            continue;
        for (size_t j = 0; j < result->nlabs; j++) {
            const struct vg_lab *e = &result->labs[j];
            const char *p = program_of(all, e);

            if (j == i || !p || strcmp(p, prog) != 0 || !lost_points(e) ||
                strtol(e->number, NULL, 10) >= strtol(lab->number, NULL, 10))
                continue;
            if (!first ||
                strtol(e->number, NULL, 10) < strtol(first->number, NULL, 10))
                first = e;
        }
        free(lab->fix_first);
        lab->fix_first = first ? vg_strfmt("lab %s", first->number) : NULL;
        if (first && !lab->fix_first)
            return vl_err(ENOMEM, "recording the stage to fix first");
    }
    return 0;
}

void vg_integrity_print_lab(FILE *out, const struct vg_lab *lab, int indent)
{
    if (lab->nprotected) {
        fprintf(out,
                "%*schanged and ignored (the course's copy was used):", indent,
                "");
        for (size_t i = 0; i < lab->nprotected; i++)
            fprintf(out, "%s %s", i ? "," : "", lab->protected[i]);
        fputc('\n', out);
    }
    if (lab->fix_first)
        fprintf(out,
                "%*sfix %s first: it loses points too, and `make -C labs "
                "run` runs your own %s before this lab's code\n",
                indent, "", lab->fix_first, lab->fix_first);
}
