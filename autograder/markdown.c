/* markdown.c - the job summary in Markdown (see markdown.h). */
#define _GNU_SOURCE
#include "markdown.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "text.h"
#include "virtlab/error.h"

/* Longest text in one table cell, and in one details block. */
#define CELL_MAX    300
#define DETAILS_MAX 4096

/* Text for a table cell or a heading: on one line, inert. */
static void md_inline(FILE *f, const char *raw, size_t max)
{
    char *clean = vg_fmt_clean(raw, max);

    for (const char *s = clean ? clean : ""; *s; s++) {
        switch (*s) {
        case '\n':
            fputs("<br>", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '|':
        case '\\':
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '#':
        case '~':
            fputc('\\', f);
            fputc(*s, f);
            break;
        case '\t':
            fputc(' ', f);
            break;
        default:
            fputc(*s, f);
        }
    }
    free(clean);
}

/* The longest run of backticks in s. */
static size_t longest_backticks(const char *s)
{
    size_t best = 0, run = 0;

    for (; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best;
}

/* Text shown as is, in a fence no line of it can close. */
static void md_fenced(FILE *f, const char *raw, size_t max)
{
    char *clean = vg_fmt_clean(raw, max);
    const char *s = clean ? clean : "";
    size_t ticks = longest_backticks(s) + 1;

    if (ticks < 3)
        ticks = 3;
    for (size_t i = 0; i < ticks; i++)
        fputc('`', f);
    fprintf(f, "text\n%s%s", s, *s && s[strlen(s) - 1] != '\n' ? "\n" : "");
    for (size_t i = 0; i < ticks; i++)
        fputc('`', f);
    fputc('\n', f);
    free(clean);
}

static const char *status_mark(enum vg_status s)
{
    switch (s) {
    case VG_PASSED:
        return "✅ passed";
    case VG_SKIPPED:
        return "⚪ skipped (environment)";
    case VG_FLAKY:
        return "⚠️ flaky";
    case VG_FAILED:
        return "❌ failed";
    case VG_CRASHED:
        return "💥 crashed";
    case VG_TIMED_OUT:
        return "⏱️ timed out";
    case VG_NOT_RUN:
        return "❔ did not run";
    case VG_NOT_BUILT:
        return "🚧 not built";
    }
    return "?";
}

static void overview(FILE *f, const struct vg_result *r)
{
    char got[32], max[32];

    fprintf(f, "## vlab-grade: %s/%s points\n\n",
            vg_fmt_points(got, vg_result_points(r)),
            vg_fmt_points(max, vg_result_max_points(r)));
    if (r->nlabs == 0) {
        fputs("No lab was graded.\n\n", f);
        return;
    }
    fputs("| Lab | Points | Outcome |\n|---|---:|---|\n", f);
    for (size_t i = 0; i < r->nlabs; i++) {
        const struct vg_lab *lab = &r->labs[i];

        fputs("| ", f);
        md_inline(f, lab->slug, CELL_MAX);
        fputs(" ", f);
        md_inline(f, lab->title, CELL_MAX);
        fprintf(f, " | %s/%s | %s |\n", vg_fmt_points(got, vg_lab_points(lab)),
                vg_fmt_points(max, vg_lab_max_points(lab)),
                vg_outcome_name(lab->outcome));
    }
    fputc('\n', f);
}

static void test_row(FILE *f, const struct vg_test *t)
{
    char got[32], max[32];

    fputs("| ", f);
    md_inline(f, t->id, CELL_MAX);
    if (t->description) {
        fputs(": ", f);
        md_inline(f, t->description, CELL_MAX);
    }
    fprintf(f, " | %s | %s/%s%s | ", status_mark(t->status),
            vg_fmt_points(got, t->points), vg_fmt_points(max, t->max_points),
            t->in_rubric ? "" : " (not in the rubric)");
    if (t->status != VG_PASSED)
        md_inline(f, t->hint, CELL_MAX);
    fputs(" |\n", f);
}

static void lab_section(FILE *f, const struct vg_lab *lab)
{
    char *summary = vg_fmt_lab_summary(lab);

    fputs("### ", f);
    md_inline(f, summary, CELL_MAX);
    fputs("\n\n", f);
    free(summary);
    if (lab->fix_first && *lab->fix_first) {
        fputs("**Fix ", f);
        md_inline(f, lab->fix_first, CELL_MAX);
        fputs(" first**: an earlier stage of your program fails.\n\n", f);
    }
    for (size_t i = 0; i < lab->nprotected; i++) {
        fputs("- warning: your change to ", f);
        md_inline(f, lab->protected[i], CELL_MAX);
        fputs(" was ignored (the grader uses its own copy)\n", f);
    }
    if (lab->nprotected)
        fputc('\n', f);
    if (lab->message && *lab->message)
        md_fenced(f, lab->message, DETAILS_MAX);
    if (lab->ntests == 0) {
        fputs("No test result.\n\n", f);
        return;
    }
    fputs("\n| Test | Status | Points | Hint |\n|---|---|---:|---|\n", f);
    for (size_t i = 0; i < lab->ntests; i++)
        test_row(f, &lab->tests[i]);
    fputc('\n', f);
    for (size_t i = 0; i < lab->ntests; i++) {
        const struct vg_test *t = &lab->tests[i];
        char *message;

        if (t->status == VG_PASSED)
            continue;
        message = vg_fmt_test_message(t, DETAILS_MAX);
        fputs("<details><summary>", f);
        md_inline(f, t->id, CELL_MAX);
        fputs("</summary>\n\n", f);
        md_fenced(f, message, DETAILS_MAX);
        fputs("\n</details>\n\n", f);
        free(message);
    }
}

void vg_markdown_print(FILE *f, const struct vg_result *result)
{
    overview(f, result);
    for (size_t i = 0; i < result->nlabs; i++)
        lab_section(f, &result->labs[i]);
    if (result->meta.grader_version) {
        fputs("<sub>", f);
        md_inline(f, result->meta.grader_version, CELL_MAX);
        if (result->meta.submission_commit) {
            fputs(", commit ", f);
            md_inline(f, result->meta.submission_commit, CELL_MAX);
        }
        fputs("</sub>\n", f);
    }
}

int vg_markdown_write(const struct vg_result *result, const char *path,
                      bool append)
{
    FILE *f;
    int ret = vg_fmt_open(path, append, &f);

    if (ret < 0)
        return ret;
    vg_markdown_print(f, result);
    return vg_fmt_close(f, path);
}

const char *vg_markdown_default_path(void)
{
    const char *p = getenv("GITHUB_STEP_SUMMARY");

    return p && *p ? p : NULL;
}
