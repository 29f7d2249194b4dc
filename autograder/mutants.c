/* mutants.c - check that each mutant is caught (see mutants.h). */
#define _GNU_SOURCE
#include "mutants.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fsutil.h"
#include "text.h"
#include "report.h"
#include "spawn.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#define PATCH_CAP        (1u << 20)
#define PATCH_LIMIT_SEC  60
#define PATCH_OUTPUT_CAP (16u << 10)

/* ---- the header ----------------------------------------------------- */

static char *trimmed_copy(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    return strndup(s, len);
}

/* "a::b, c::d" into *ids (Kills: or May-kill:). */
static int parse_ids(struct vg_mutant *mu, const char *list, size_t len,
                     char ***ids, size_t *n, const char *header)
{
    _vl_cleanup_free_ char *copy = strndup(list, len);
    char *save = NULL;

    if (!copy)
        return vl_err(ENOMEM, "parsing %s", mu->path);
    for (char *id = strtok_r(copy, ",", &save); id;
         id = strtok_r(NULL, ",", &save)) {
        char **grown = reallocarray(*ids, *n + 1, sizeof(*grown));

        if (!grown)
            return vl_err(ENOMEM, "parsing %s", mu->path);
        *ids = grown;
        (*ids)[*n] = trimmed_copy(id, strlen(id));
        if (!(*ids)[*n])
            return vl_err(ENOMEM, "parsing %s", mu->path);
        if (!strstr((*ids)[(*n)++], "::"))
            return vl_err_plain(EINVAL,
                                "%s: %s \"%s\" is not a test id "
                                "\"suite::name\"",
                                mu->path, header, (*ids)[*n - 1]);
    }
    return 0;
}

static bool starts_diff(const char *line)
{
    return strncmp(line, "--- ", 4) == 0 || strncmp(line, "diff ", 5) == 0 ||
           strncmp(line, "Index: ", 7) == 0 || strncmp(line, "@@", 2) == 0;
}

/* One header line; the rest of the header is free text and ignored. */
static int parse_header_line(struct vg_mutant *mu, const char *line, size_t len)
{
    if (len >= 7 && strncmp(line, "Mutant:", 7) == 0) {
        free(mu->description);
        mu->description = trimmed_copy(line + 7, len - 7);
        return mu->description ? 0 : vl_err(ENOMEM, "parsing %s", mu->path);
    }
    if (len >= 6 && strncmp(line, "Kills:", 6) == 0)
        return parse_ids(mu, line + 6, len - 6, &mu->kills, &mu->nkills,
                         "Kills:");
    if (len >= 9 && strncmp(line, "May-kill:", 9) == 0)
        return parse_ids(mu, line + 9, len - 9, &mu->may_kill, &mu->nmay_kill,
                         "May-kill:");
    return 0;
}

static int name_from_path(struct vg_mutant *mu, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t len = strlen(base);

    if (len > 6 && strcmp(base + len - 6, ".patch") == 0)
        len -= 6;
    mu->path = strdup(path);
    mu->name = strndup(base, len);
    return mu->path && mu->name ? 0 : vl_err(ENOMEM, "parsing %s", path);
}

int vg_mutant_parse(struct vg_mutant *mu, const char *path, const char *text)
{
    int ret;

    *mu = (struct vg_mutant){0};
    ret = name_from_path(mu, path);
    for (const char *line = text; ret == 0 && *line && !starts_diff(line);) {
        size_t len = strcspn(line, "\n");

        ret = parse_header_line(mu, line, len);
        line += len + (line[len] == '\n');
    }
    if (ret == 0 && (!mu->description || !*mu->description))
        ret = vl_err_plain(EINVAL,
                           "%s: no \"Mutant: <the mistake>\" line "
                           "before the diff",
                           path);
    if (ret == 0 && mu->nkills == 0)
        ret = vl_err_plain(EINVAL,
                           "%s: no \"Kills: suite::test, ...\" line "
                           "before the diff",
                           path);
    if (ret < 0)
        vg_mutant_free(mu);
    return ret;
}

void vg_mutant_free(struct vg_mutant *mu)
{
    for (size_t i = 0; i < mu->nkills; i++)
        free(mu->kills[i]);
    free(mu->kills);
    for (size_t i = 0; i < mu->nmay_kill; i++)
        free(mu->may_kill[i]);
    free(mu->may_kill);
    free(mu->path);
    free(mu->name);
    free(mu->description);
    *mu = (struct vg_mutant){0};
}

/* ---- the verdict ---------------------------------------------------- */

static bool is_failure(enum vg_status s)
{
    return s == VG_FAILED || s == VG_CRASHED || s == VG_TIMED_OUT;
}

static bool in_list(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

static bool in_kills(const struct vg_mutant *mu, const char *id)
{
    return in_list(mu->kills, mu->nkills, id);
}

/*
 * Did an unlisted rubric test lose points because of the mutant? Every
 * status but a pass does, except an environment skip: the machine, not the
 * mutant, decided that one (and the reference loses it too). A flaky test
 * counts: the mutant made it fail at least once.
 */
static bool lost_points(const struct vg_test *t)
{
    return t->in_rubric && !t->extra && t->status != VG_PASSED &&
           t->status != VG_SKIPPED;
}

/* Append "line\n" to *text (NULL at first); false when out of memory. */
static bool __attribute__((format(printf, 2, 3)))
add_line(char **text, const char *fmt, ...)
{
    _vl_cleanup_free_ char *line = NULL;
    char *grown;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    grown = vg_strfmt("%s%s\n", *text ? *text : "", line);
    if (!grown)
        return false;
    free(*text);
    *text = grown;
    return true;
}

/* A Kills test the mutant spared: "s::b passed", "s::b skipped: why". */
static bool note_spared(char **why, const struct vg_test *t)
{
    bool reason = (t->status == VG_SKIPPED || t->status == VG_FLAKY ||
                   t->status == VG_NOT_RUN) &&
                  t->details;

    return add_line(why, "%s %s%s%s", t->id, vg_status_name(t->status),
                    reason ? ": " : "", reason ? t->details : "");
}

/* "Kills: a, b": the header that would match what really lost points. */
static bool note_actual_kills(char **why, const struct vg_lab *lab)
{
    _vl_cleanup_free_ char *list = NULL;

    for (size_t i = 0; i < lab->ntests; i++) {
        char *grown;

        if (!lost_points(&lab->tests[i]))
            continue;
        grown = vg_strfmt("%s%s%s", list ? list : "", list ? ", " : "",
                          lab->tests[i].id);
        if (!grown)
            return false;
        free(list);
        list = grown;
    }
    return add_line(why, "the tests that lost points: Kills: %s",
                    list ? list : "(none)");
}

/* Each Kills test must be in the rubric: else the header is wrong. */
static char *kills_outside_rubric(const struct vg_mutant *mu,
                                  const struct vg_lab *lab)
{
    for (size_t i = 0; i < mu->nkills; i++) {
        const struct vg_test *t = vg_lab_find_test(lab, mu->kills[i]);

        if (!t || !t->in_rubric)
            return vg_strfmt("Kills names %s, which is not in the rubric of "
                             "%s",
                             mu->kills[i], lab->slug);
    }
    return NULL;
}

enum vg_mutant_verdict vg_mutant_judge(const struct vg_mutant *mu,
                                       const struct vg_lab *lab, char **why)
{
    const char *msg = lab->message ? lab->message : "";
    bool spared = false, extra = false, ok = true;

    *why = NULL;
    if (lab->outcome == VG_LAB_BUILD_FAILED) {
        *why = vg_strfmt("the mutant does not compile:\n%s", msg);
        return VG_MUTANT_BROKEN;
    }
    if (lab->outcome == VG_LAB_GRADER_ERROR) {
        *why = vg_strfmt("grader error: %s", msg);
        return VG_MUTANT_BROKEN;
    }
    if ((*why = kills_outside_rubric(mu, lab)))
        return VG_MUTANT_BROKEN;
    /* A whole-lab timeout or a dead test binary costs every test that
     * had no result yet: say so first, it explains the list below. */
    if (lab->outcome != VG_LAB_RAN)
        ok = add_line(why, "the lab's run %s: %.*s",
                      vg_outcome_name(lab->outcome), (int)strcspn(msg, "\n"),
                      msg);
    /* Exact: the Kills tests all fail, and no other rubric test loses. */
    for (size_t i = 0; ok && i < mu->nkills; i++) {
        const struct vg_test *t = vg_lab_find_test(lab, mu->kills[i]);

        if (!is_failure(t->status)) {
            spared = true;
            ok = note_spared(why, t);
        }
    }
    for (size_t i = 0; ok && i < lab->ntests; i++) {
        const struct vg_test *t = &lab->tests[i];

        if (lost_points(t) && !in_kills(mu, t->id) &&
            !in_list(mu->may_kill, mu->nmay_kill, t->id)) {
            extra = true;
            ok = add_line(why, "also lost points, not in Kills: %s (%s)", t->id,
                          vg_status_name(t->status));
        }
    }
    if (ok && (spared || extra))
        ok = note_actual_kills(why, lab);
    if (!spared && !extra) {
        free(*why); /* the run's note alone is no difference */
        *why = NULL;
    }
    if (*why) /* drop the last newline */
        (*why)[strlen(*why) - 1] = '\0';
    if (!ok) {
        free(*why);
        *why = strdup("out of memory while judging the mutant");
        return VG_MUTANT_BROKEN;
    }
    if (spared)
        return VG_MUTANT_NOT_CAUGHT;
    return extra ? VG_MUTANT_INEXACT : VG_MUTANT_CAUGHT;
}

/* ---- running one mutant --------------------------------------------- */

/* Copy the lab's reference stage files to DIR/<slug>/ and patch them. */
static int make_mutant(const char *root, const struct vg_manifest *m,
                       const struct vg_mutant *mu, const char *dir)
{
    _vl_cleanup_free_ char *lab_dir = vg_strfmt("%s/%s", dir, m->slug);
    int ret;

    if (!lab_dir)
        return vl_err(ENOMEM, "preparing %s", mu->name);
    if ((ret = vg_mkdir(lab_dir)) < 0)
        return ret;
    for (size_t i = 0; i < m->nstage_files; i++) {
        _vl_cleanup_free_ char *src =
            vg_strfmt("%s/solutions/%s/%s", root, m->slug, m->stage_files[i]);
        _vl_cleanup_free_ char *dst =
            vg_strfmt("%s/%s", lab_dir, m->stage_files[i]);

        if (!src || !dst)
            return vl_err(ENOMEM, "preparing %s", mu->name);
        if ((ret = vg_copy_file(src, dst, VG_STAGE_FILE_MAX)) < 0)
            return vl_err_ctx(ret, "taking the reference %s",
                              m->stage_files[i]);
    }
    return 0;
}

/* patch -p1 inside DIR/<slug>/: never asking, never leaving .rej/.orig. */
static int apply_patch(const struct vg_manifest *m, const struct vg_mutant *mu,
                       const char *dir)
{
    _vl_cleanup_free_ char *lab_dir = vg_strfmt("%s/%s", dir, m->slug);
    const char *argv[] = {
        "patch", "-p1", "-s", "-f",    "-N", "--no-backup-if-mismatch",
        "-r",    "-",   "-d", lab_dir, "-i", mu->path,
        NULL};
    struct vg_spawn_opts opts = {.argv = argv,
                                 .limit_sec = PATCH_LIMIT_SEC,
                                 .output_cap = PATCH_OUTPUT_CAP};
    struct vg_spawn_result res;
    char how[128];
    int ret;

    if (!lab_dir)
        return vl_err(ENOMEM, "applying %s", mu->name);
    ret = vg_spawn(&opts, &res);
    if (ret == 0 && (res.timed_out || !WIFEXITED(res.wait_status) ||
                     WEXITSTATUS(res.wait_status) != 0)) {
        vg_wait_status_describe(res.wait_status, how, sizeof(how));
        ret = vl_err_plain(EINVAL, "patch does not apply (patch %s)%s%s",
                           res.timed_out ? "timed out" : how,
                           res.output_len ? ":\n" : "", res.output);
    }
    vg_spawn_result_free(&res);
    return ret;
}

static const char *verdict_label(enum vg_mutant_verdict v)
{
    switch (v) {
    case VG_MUTANT_CAUGHT:
        return "caught";
    case VG_MUTANT_NOT_CAUGHT:
        return "NOT caught";
    case VG_MUTANT_INEXACT:
        return "INEXACT";
    case VG_MUTANT_BROKEN:
        return "BROKEN";
    }
    return "?";
}

static void print_verdict(FILE *out, const struct vg_manifest *m,
                          const char *name, const char *description,
                          enum vg_mutant_verdict v, const char *why)
{
    fprintf(out, "%-10s  %s/%s: %s\n", verdict_label(v), m->slug, name,
            description ? description : "(no description)");
    for (const char *line = why; line && *line;) {
        size_t len = strcspn(line, "\n");

        fprintf(out, "            %.*s\n", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

/* Patch, grade and judge one parsed mutant of lab m. */
static int grade_mutant(const struct vg_grade_opts *o,
                        const struct vg_manifests *all,
                        const struct vg_manifest *m, const struct vg_mutant *mu,
                        const char *dir, enum vg_mutant_verdict *v, char **why)
{
    struct vg_grade_opts mo = *o;
    struct vg_lab lab;
    int ret;

    mo.no_rerun = true;  /* the verdict is about the graded run itself */
    mo.skip_slow = true; /* a mutant must be caught by the fast tests */
    ret = make_mutant(o->root, m, mu, dir);
    if (ret == 0)
        ret = apply_patch(m, mu, dir);
    if (ret == -EINTR)
        return ret;
    if (ret < 0) {
        *v = VG_MUTANT_BROKEN;
        *why = strdup(vl_errmsg());
        return 0;
    }
    mo.submission = dir;
    ret = vg_grade_lab(&mo, all, m, &lab);
    if (ret == 0) {
        *v = vg_mutant_judge(mu, &lab, why);
        if (o->verbose) {
            struct vg_report_opts ro = {.color = false, .verbose = false};
            vg_report_lab(stderr, &lab, &ro);
        }
    }
    vg_lab_free(&lab);
    return ret;
}

/* Check the mutant in patch file `path`; *caught tells the verdict. */
static int check_mutant(const struct vg_grade_opts *o,
                        const struct vg_manifests *all,
                        const struct vg_manifest *m, const char *path,
                        FILE *out, bool *caught)
{
    _vl_cleanup_free_ char *text = NULL, *why = NULL, *dir = NULL;
    enum vg_mutant_verdict v = VG_MUTANT_BROKEN;
    struct vg_mutant mu = {0};
    int ret;

    ret = vg_read_file(path, PATCH_CAP, &text, NULL, NULL);
    if (ret == 0)
        ret = vg_mutant_parse(&mu, path, text);
    if (ret == 0)
        ret = vg_make_workdir("mutant", &dir);
    if (ret == 0) {
        if (o->progress)
            fprintf(o->progress, "mutant %s/%s...\n", m->slug, mu.name);
        ret = grade_mutant(o, all, m, &mu, dir, &v, &why);
    } else {
        why = strdup(vl_errmsg());
        ret = 0;
    }
    if (dir && !o->keep && vg_remove_tree(dir) < 0)
        fprintf(stderr, "warning: %s\n", vl_errmsg());
    else if (dir && o->keep)
        fprintf(stderr, "kept the mutant's submission folder: %s\n", dir);
    if (ret == 0)
        print_verdict(out, m, mu.name ? mu.name : strrchr(path, '/') + 1,
                      mu.description, v, why);
    *caught = ret == 0 && v == VG_MUTANT_CAUGHT;
    vg_mutant_free(&mu);
    return ret;
}

static int is_patch(const struct dirent *d)
{
    size_t len = strlen(d->d_name);

    return d->d_name[0] != '.' && len > 6 &&
           strcmp(d->d_name + len - 6, ".patch") == 0;
}

static int check_lab(const struct vg_grade_opts *o,
                     const struct vg_manifests *all,
                     const struct vg_manifest *m, FILE *out, size_t *counts)
{
    _vl_cleanup_free_ char *dir =
        vg_strfmt("%s/autograder/mutants/%s", o->root, m->slug);
    struct dirent **names = NULL;
    int n, ret = 0;

    if (!dir)
        return vl_err(ENOMEM, "listing mutants");
    n = vg_is_dir(dir) ? scandir(dir, &names, is_patch, alphasort) : 0;
    if (n < 0)
        return vl_err(errno, "listing %s", dir);
    if (n == 0)
        fprintf(out, "%-10s  %s: no mutants in %s\n", "-", m->slug, dir);
    for (int i = 0; i < n; i++) {
        _vl_cleanup_free_ char *path =
            vg_strfmt("%s/%s", dir, names[i]->d_name);
        bool caught = false;

        if (ret == 0)
            ret = path ? check_mutant(o, all, m, path, out, &caught)
                       : vl_err(ENOMEM, "listing mutants");
        if (ret == 0)
            counts[caught ? 0 : 1]++;
        free(names[i]);
    }
    free(names);
    return ret;
}

int vg_mutants_check(const struct vg_grade_opts *o,
                     const struct vg_manifests *all,
                     const struct vg_manifest *const *labs, size_t nlabs,
                     FILE *out, bool *all_caught)
{
    size_t counts[2] = {0, 0}; /* caught, not caught (or broken) */
    int ret = 0;

    for (size_t i = 0; ret == 0 && i < nlabs; i++)
        ret = check_lab(o, all, labs[i], out, counts);
    if (ret == 0)
        fprintf(out, "Mutants: %zu caught exactly, %zu not (or broken)\n",
                counts[0], counts[1]);
    *all_caught = ret == 0 && counts[1] == 0;
    return ret;
}
