/* report.c - the terminal report (see report.h). */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ECMA-48 Select Graphic Rendition sequences. */
#define SGR_RESET  "\033[0m"
#define SGR_BOLD   "\033[1m"
#define SGR_RED    "\033[31m"
#define SGR_GREEN  "\033[32m"
#define SGR_YELLOW "\033[33m"
#define SGR_DIM    "\033[2m"
#define SGR_CYAN   "\033[36m"

/* Widest test id column before descriptions stop being aligned. */
#define ID_COLUMN_MAX 48

bool vg_report_want_color(FILE *out)
{
    const char *no_color = getenv("NO_COLOR"); /* https://no-color.org */

    if (no_color && *no_color)
        return false;
    return isatty(fileno(out));
}

const char *vg_report_label(enum vg_status status)
{
    switch (status) {
    case VG_PASSED:
        return "PASS";
    case VG_FAILED:
        return "FAIL";
    case VG_CRASHED:
        return "CRASH";
    case VG_TIMED_OUT:
        return "TIMEOUT";
    case VG_SKIPPED:
        return "SKIP";
    case VG_NOT_RUN:
        return "NOT RUN";
    case VG_NOT_BUILT:
        return "NO BUILD";
    case VG_FLAKY:
        return "FLAKY";
    }
    return "?";
}

static const char *status_color(enum vg_status status)
{
    switch (status) {
    case VG_PASSED:
        return SGR_GREEN;
    case VG_SKIPPED:
        return SGR_YELLOW;
    case VG_NOT_RUN:
        return SGR_DIM;
    case VG_FAILED:
    case VG_CRASHED:
    case VG_TIMED_OUT:
    case VG_NOT_BUILT:
    case VG_FLAKY:
        return SGR_RED;
    }
    return "";
}

static const char *paint(const struct vg_report_opts *o, const char *sgr)
{
    return o->color ? sgr : "";
}

/*
 * Write n bytes of a line the tested code may have written: a control
 * character (an escape sequence that recolours, moves the cursor or retitles
 * the terminal) is shown as '?', never obeyed.
 */
static void put_text(FILE *out, const char *s, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        fputc((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c, out);
    }
}

/* Print text with each line indented (and painted with sgr, "" for none),
 * at most max_lines lines. */
static void print_painted(FILE *out, const char *text, int indent,
                          int max_lines, const char *sgr)
{
    int lines = 0;

    while (*text && lines < max_lines) {
        size_t len = strcspn(text, "\n");
        int shown =
            len > VG_REPORT_LINE_WIDTH ? VG_REPORT_LINE_WIDTH : (int)len;

        fprintf(out, "%*s%s", indent, "", sgr);
        put_text(out, text, shown);
        fprintf(out, "%s%s\n", (size_t)shown < len ? " [...]" : "",
                *sgr ? SGR_RESET : "");
        text += len;
        if (*text)
            text++;
        lines++;
    }
    if (*text)
        fprintf(out, "%*s[... more lines cut]\n", indent, "");
}

static void print_indented(FILE *out, const char *text, int indent,
                           int max_lines)
{
    print_painted(out, text, indent, max_lines, "");
}

static int id_column(const struct vg_lab *lab)
{
    int width = 0;

    for (size_t i = 0; i < lab->ntests; i++) {
        int len = (int)strlen(lab->tests[i].id);
        width = len > width ? len : width;
    }
    return width > ID_COLUMN_MAX ? ID_COLUMN_MAX : width;
}

/* What a reader must know before the details of a test. */
static const char *details_prefix(const struct vg_test *t)
{
    if (!t->in_rubric)
        return "warning: this test is not in the rubric, it earns no "
               "points";
    if (t->status == VG_SKIPPED)
        return "environment skip, not a failure of your code:";
    return NULL;
}

/*
 * Who sees this test on a course platform. A student grading locally runs
 * the tests on their own machine, so hiding a result from them would hide
 * nothing: every test is shown, marked when Gradescope would show it later
 * or never.
 */
static const char *visibility_tag(enum vg_visibility v)
{
    switch (v) {
    case VG_VISIBLE:
        return "";
    case VG_HIDDEN:
        return "[hidden] ";
    case VG_AFTER_DUE_DATE:
        return "[after due date] ";
    case VG_AFTER_PUBLISHED:
        return "[after publishing] ";
    }
    return "";
}

/*
 * Print a hint (the course's prose, one paragraph or a few) word-wrapped to
 * VG_REPORT_HINT_WIDTH columns: the first line after "hint: ", the rest
 * under it. A word longer than the width gets a line of its own.
 */
static void print_hint(FILE *out, const char *text, int indent,
                       const struct vg_report_opts *o)
{
    const int width = VG_REPORT_HINT_WIDTH;
    int col = 0;

    fprintf(out, "%*s%shint:%s ", indent, "", paint(o, SGR_CYAN),
            paint(o, SGR_RESET));
    while (*text) {
        size_t n = strcspn(text, " \n");

        if (col > 0 && col + 1 + (int)n > width) {
            fprintf(out, "\n%*s", indent + 6, "");
            col = 0;
        } else if (col > 0) {
            fputc(' ', out);
            col++;
        }
        put_text(out, text, (int)n);
        col += (int)n;
        text += n;
        if (*text == '\n') { /* a paragraph break of the hint */
            fprintf(out, "\n%*s", indent + 6, "");
            col = 0;
        }
        text += strspn(text, " \n") > 0 ? 1 : 0;
    }
    fputc('\n', out);
}

/* The index of an earlier failing test of lab with the same hint, or -1. */
static long same_hint_before(const struct vg_lab *lab, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (lab->tests[k].hint &&
            strcmp(lab->tests[k].hint, lab->tests[i].hint) == 0)
            return (long)k;
    return -1;
}

/* The hint (from the rubric) and the test's own output, under its details.
 * A hint already shown in this lab is named, not repeated: a skeleton
 * fails every test with the same one. */
static void print_help(FILE *out, const struct vg_lab *lab, size_t i,
                       int indent, const struct vg_report_opts *o)
{
    const struct vg_test *t = &lab->tests[i];
    long before = t->hint ? same_hint_before(lab, i) : -1;

    if (t->hint && before >= 0)
        fprintf(out, "%*s%shint:%s the same as for %s above\n", indent, "",
                paint(o, SGR_CYAN), paint(o, SGR_RESET), lab->tests[before].id);
    else if (t->hint)
        print_hint(out, t->hint, indent, o);
    if (t->excerpt) {
        fprintf(out, "%*s%soutput of the test:%s\n", indent, "",
                paint(o, SGR_DIM), paint(o, SGR_RESET));
        print_painted(out, t->excerpt, indent + 2, VG_REPORT_EXCERPT_LINES,
                      paint(o, SGR_DIM));
    }
}

static void print_test(FILE *out, const struct vg_lab *lab, size_t i, int idw,
                       const struct vg_report_opts *o)
{
    const struct vg_test *t = &lab->tests[i];
    const char *label = t->in_rubric ? vg_report_label(t->status) : "UNLISTED";
    const char *color = t->in_rubric ? status_color(t->status) : SGR_YELLOW;
    const char *prefix = details_prefix(t);
    char points[32];
    const int indent = 2 + 8 + 1 + 7 + 2;

    snprintf(points, sizeof(points), "%.4g/%.4g", t->points, t->max_points);
    fprintf(out, "  %s%-8s%s %7s  %-*s  %s%s%s\n", paint(o, color), label,
            paint(o, SGR_RESET), points, idw, t->id,
            t->extra ? "[private] " : "", visibility_tag(t->visibility),
            t->description ? t->description : "");
    if (prefix)
        print_indented(out, prefix, indent, 1);
    /* "not built" is said once, above the tests, with the compiler output */
    if (t->details && t->status != VG_PASSED && t->status != VG_NOT_BUILT)
        print_indented(out, t->details, indent + (prefix ? 2 : 0),
                       VG_REPORT_DETAIL_LINES);
    if (t->status != VG_PASSED && t->status != VG_SKIPPED)
        print_help(out, lab, i, indent, o);
}

static const char *outcome_heading(enum vg_outcome outcome)
{
    switch (outcome) {
    case VG_LAB_RAN:
        return NULL;
    case VG_LAB_BUILD_FAILED:
        return "build failed (every test scores 0):";
    case VG_LAB_TIMED_OUT:
        return "timed out:";
    case VG_LAB_INCOMPLETE:
        return "the tests did not finish:";
    case VG_LAB_GRADER_ERROR:
        return "grader error (not your code's fault; tell your instructor):";
    }
    return NULL;
}

static void print_lab_heading(FILE *out, const struct vg_lab *lab,
                              const struct vg_report_opts *o)
{
    const char *heading = outcome_heading(lab->outcome);

    fprintf(out, "%s%s  %s%s  %.4g/%.4g points\n", paint(o, SGR_BOLD),
            lab->slug, lab->title, paint(o, SGR_RESET), vg_lab_points(lab),
            vg_lab_max_points(lab));
    if (heading)
        fprintf(out, "  %s%s%s\n", paint(o, SGR_RED), heading,
                paint(o, SGR_RESET));
    if (lab->message)
        print_indented(out, lab->message, 4, 1000);
}

void vg_report_lab(FILE *out, const struct vg_lab *lab,
                   const struct vg_report_opts *o)
{
    int idw = id_column(lab);

    print_lab_heading(out, lab, o);
    for (size_t i = 0; i < lab->ntests; i++)
        print_test(out, lab, i, idw, o);
    if (o->verbose && lab->log && *lab->log) {
        fprintf(out, "  output of the tests:\n");
        print_indented(out, lab->log, 4, 100000);
    }
    fputc('\n', out);
}

void vg_report_terminal(FILE *out, const struct vg_result *result,
                        const struct vg_report_opts *o)
{
    for (size_t i = 0; i < result->nlabs; i++)
        vg_report_lab(out, &result->labs[i], o);
    fprintf(out, "%sTotal: %.4g/%.4g points%s\n", paint(o, SGR_BOLD),
            vg_result_points(result), vg_result_max_points(result),
            paint(o, SGR_RESET));
}
