/* tapout.c - TAP version 14 (see tapout.h). */
#define _GNU_SOURCE
#include "tapout.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "virtlab/error.h"

/* Longest skip reason and comment line kept (one line each). */
#define LINE_MAX_BYTES 512

/* "# text" per line of raw text (cleaned). */
static void comment(FILE *f, const char *label, const char *raw)
{
    char *clean = vg_fmt_clean(raw, VG_FMT_TEXT_MAX);
    char *line, *cursor = clean;

    if (!clean)
        return;
    while ((line = strsep(&cursor, "\n")) != NULL)
        if (*line)
            fprintf(f, "# %s%s\n", label, line);
    free(clean);
}

/* A test point's description: the id, one word, with "#" and "\"
 * escaped as the specification asks ("Escaping"). */
static void description(FILE *f, const char *raw)
{
    char *clean = vg_fmt_clean(raw, LINE_MAX_BYTES);
    const char *s = clean ? clean : "";

    if (!*s)
        s = "(no id)";
    for (; *s; s++) {
        if (*s == '#' || *s == '\\')
            fputc('\\', f);
        fputc(*s == ' ' || *s == '\t' || *s == '\n' ? '_' : *s, f);
    }
    free(clean);
}

/* The reason after "# SKIP", on one line. */
static void skip_reason(FILE *f, const char *raw)
{
    char *clean =
        vg_fmt_clean(raw && *raw ? raw : "no reason given", LINE_MAX_BYTES);

    for (const char *s = clean ? clean : ""; *s; s++)
        fputc(*s == '\n' || *s == '\t' ? ' ' : *s, f);
    free(clean);
}

/* key: "value" in YAML's double-quoted style (YAML 1.2, 7.3.1), with only
 * the escapes TAP::Parser's YAMLish reader decodes. */
static void yaml_string(FILE *f, const char *key, const char *raw, size_t max)
{
    char *clean = vg_fmt_clean(raw, max);

    fprintf(f, "  %s: \"", key);
    for (const char *s = clean ? clean : ""; *s; s++) {
        switch (*s) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            fputc(*s, f);
        }
    }
    fputs("\"\n", f);
    free(clean);
}

static void yaml_points(FILE *f, const char *key, double points)
{
    char buf[32];

    fprintf(f, "  %s: %s\n", key, vg_fmt_points(buf, points));
}

static void test_point(FILE *f, size_t n, const struct vg_lab *lab,
                       const struct vg_test *t)
{
    char *message;

    fprintf(f, "%s %zu - ",
            t->status == VG_PASSED || t->status == VG_SKIPPED ? "ok" : "not ok",
            n);
    description(f, t->id);
    if (t->status == VG_SKIPPED) {
        fputs(" # SKIP ", f);
        skip_reason(f, t->details);
    }
    fputs("\n  ---\n", f);
    if (t->status != VG_PASSED) {
        message = vg_fmt_test_message(t, VG_FMT_TEXT_MAX);
        yaml_string(f, "message", message, VG_FMT_TEXT_MAX);
        free(message);
        if (t->status != VG_SKIPPED)
            fputs("  severity: fail\n", f);
    }
    yaml_string(f, "lab", lab->slug, LINE_MAX_BYTES);
    yaml_string(f, "status", vg_status_name(t->status), LINE_MAX_BYTES);
    if (t->description)
        yaml_string(f, "checks", t->description, LINE_MAX_BYTES);
    yaml_points(f, "points", t->points);
    yaml_points(f, "max_points", t->max_points);
    if (!t->in_rubric)
        fputs("  in_rubric: false\n", f);
    fputs("  ...\n", f);
}

static void grading_point(FILE *f, size_t n, const struct vg_lab *lab)
{
    fprintf(f, "not ok %zu - ", n);
    description(f, lab->slug);
    fputs("::(grading)\n  ---\n", f);
    yaml_string(f, "message",
                lab->message && *lab->message ? lab->message
                                              : vg_outcome_name(lab->outcome),
                VG_FMT_LOG_MAX);
    fputs("  severity: fail\n", f);
    yaml_string(f, "lab", lab->slug, LINE_MAX_BYTES);
    yaml_string(f, "status", vg_outcome_name(lab->outcome), LINE_MAX_BYTES);
    fputs("  ...\n", f);
}

static bool needs_grading_point(const struct vg_lab *lab)
{
    return lab->ntests == 0 && lab->outcome != VG_LAB_RAN;
}

static void meta_comments(FILE *f, const struct vg_meta *m)
{
    if (m->grader_version)
        comment(f, "grader: ", m->grader_version);
    if (m->submission)
        comment(f, "submission: ", m->submission);
    if (m->submission_commit)
        comment(f, "commit: ", m->submission_commit);
    if (m->started)
        comment(f, "started: ", m->started);
    if (m->tools)
        comment(f, "tools: ", m->tools);
    if (m->environment)
        comment(f, "environment: ", m->environment);
}

void vg_tapout_print(FILE *f, const struct vg_result *result)
{
    size_t planned = 0, n = 0;
    char got[32], max[32];

    for (size_t i = 0; i < result->nlabs; i++)
        planned += result->labs[i].ntests +
                   (needs_grading_point(&result->labs[i]) ? 1 : 0);
    fputs("TAP version 14\n", f);
    meta_comments(f, &result->meta);
    if (planned == 0)
        fputs("1..0 # SKIP no test was graded\n", f);
    else
        fprintf(f, "1..%zu\n", planned);
    for (size_t i = 0; i < result->nlabs; i++) {
        const struct vg_lab *lab = &result->labs[i];
        char *summary = vg_fmt_lab_summary(lab);

        comment(f, "", summary);
        free(summary);
        if (lab->tests_sha256)
            comment(f, "tests sha256: ", lab->tests_sha256);
        if (lab->rubric_sha256)
            comment(f, "rubric sha256: ", lab->rubric_sha256);
        for (size_t j = 0; j < lab->ntests; j++)
            test_point(f, ++n, lab, &lab->tests[j]);
        if (needs_grading_point(lab))
            grading_point(f, ++n, lab);
    }
    fprintf(f, "# Total: %s/%s points\n",
            vg_fmt_points(got, vg_result_points(result)),
            vg_fmt_points(max, vg_result_max_points(result)));
}

int vg_tapout_write(const struct vg_result *result, const char *path)
{
    FILE *f;
    int ret = vg_fmt_open(path, false, &f);

    if (ret < 0)
        return ret;
    vg_tapout_print(f, result);
    return vg_fmt_close(f, path);
}
