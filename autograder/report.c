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

/* Print text with each line indented, at most max_lines lines. */
static void print_indented(FILE *out, const char *text, int indent,
                           int max_lines)
{
    int lines = 0;

    while (*text && lines < max_lines) {
        size_t len = strcspn(text, "\n");
        int shown =
            len > VG_REPORT_LINE_WIDTH ? VG_REPORT_LINE_WIDTH : (int)len;

        fprintf(out, "%*s%.*s%s\n", indent, "", shown, text,
                (size_t)shown < len ? " [...]" : "");
        text += len;
        if (*text)
            text++;
        lines++;
    }
    if (*text)
        fprintf(out, "%*s[... more lines cut]\n", indent, "");
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

static void print_test(FILE *out, const struct vg_test *t, int idw,
                       const struct vg_report_opts *o)
{
    const char *label = t->in_rubric ? vg_report_label(t->status) : "EXTRA";
    const char *color = t->in_rubric ? status_color(t->status) : SGR_YELLOW;
    const char *prefix = details_prefix(t);
    char points[32];
    const int indent = 2 + 8 + 1 + 7 + 2;

    snprintf(points, sizeof(points), "%.4g/%.4g", t->points, t->max_points);
    fprintf(out, "  %s%-8s%s %7s  %-*s  %s\n", paint(o, color), label,
            paint(o, SGR_RESET), points, idw, t->id,
            t->description ? t->description : "");
    if (prefix)
        print_indented(out, prefix, indent, 1);
    /* "not built" is said once, above the tests, with the compiler output */
    if (t->details && t->status != VG_PASSED && t->status != VG_NOT_BUILT)
        print_indented(out, t->details, indent + (prefix ? 2 : 0),
                       VG_REPORT_DETAIL_LINES);
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
        print_test(out, &lab->tests[i], idw, o);
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
