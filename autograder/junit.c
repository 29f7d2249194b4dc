/* junit.c - JUnit XML (see junit.h). */
#define _GNU_SOURCE
#include "junit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "text.h"
#include "virtlab/error.h"

/* Longest message="" attribute: CI servers show it on one line. */
#define MESSAGE_MAX 1024

/*
 * Write s, already cleaned (valid UTF-8, no control character but tab and
 * newline), escaped for XML 1.0 (section 2.4 Character Data, 3.3.3
 * Attribute-Value Normalization): &, < and > always (">" so that "]]>"
 * cannot appear); in an attribute also the quotes, and tab and newline as
 * character references, which a parser would otherwise turn into spaces.
 */
static void xml_put(FILE *f, const char *s, bool attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs(attr ? "&quot;" : "\"", f);
            break;
        case '\'':
            fputs(attr ? "&apos;" : "'", f);
            break;
        case '\n':
            fputs(attr ? "&#10;" : "\n", f);
            break;
        case '\t':
            fputs(attr ? "&#9;" : "\t", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* Clean raw text (from students' programs, maybe) and write it escaped. */
static void xml_text(FILE *f, const char *raw, size_t max, bool attr)
{
    char *clean = vg_fmt_clean(raw, max);

    xml_put(f, clean ? clean : "[out of memory]", attr);
    free(clean);
}

/* name="value" (a leading space included). */
static void xml_attr(FILE *f, const char *name, const char *raw)
{
    fprintf(f, " %s=\"", name);
    xml_text(f, raw, MESSAGE_MAX, true);
    fputc('"', f);
}

static void property(FILE *f, const char *name, const char *raw)
{
    if (!raw)
        return;
    fputs("      <property", f);
    xml_attr(f, "name", name);
    fprintf(f, " value=\"");
    xml_text(f, raw, VG_FMT_LOG_MAX, true);
    fputs("\"/>\n", f);
}

static double nonneg(double seconds)
{
    return seconds > 0 && seconds < 1e9 ? seconds : 0; /* no nan, no inf */
}

struct counts {
    size_t tests, failures, errors, skipped;
};

/* A lab that did not run and has no test to show it: one made-up error. */
static bool needs_grading_case(const struct vg_lab *lab)
{
    return lab->ntests == 0 && lab->outcome != VG_LAB_RAN;
}

static struct counts lab_counts(const struct vg_lab *lab)
{
    struct counts c = {.tests = lab->ntests};

    for (size_t i = 0; i < lab->ntests; i++) {
        enum vg_status s = lab->tests[i].status;

        if (s == VG_SKIPPED)
            c.skipped++;
        else if (vg_fmt_is_error(s))
            c.errors++;
        else if (s != VG_PASSED)
            c.failures++;
    }
    if (needs_grading_case(lab)) {
        c.tests++;
        c.errors++;
    }
    return c;
}

static void lab_properties(FILE *f, const struct vg_lab *lab,
                           const struct vg_meta *m)
{
    char got[32], max[32];

    fputs("    <properties>\n", f);
    property(f, "title", lab->title);
    property(f, "outcome", vg_outcome_name(lab->outcome));
    property(f, "points", vg_fmt_points(got, vg_lab_points(lab)));
    property(f, "max_points", vg_fmt_points(max, vg_lab_max_points(lab)));
    property(f, "tests_sha256", lab->tests_sha256);
    property(f, "rubric_sha256", lab->rubric_sha256);
    property(f, "fix_first", lab->fix_first);
    for (size_t i = 0; i < lab->nprotected; i++)
        property(f, "protected_file_changed", lab->protected[i]);
    property(f, "grader_version", m->grader_version);
    property(f, "submission", m->submission);
    property(f, "submission_commit", m->submission_commit);
    property(f, "tools", m->tools);
    property(f, "environment", m->environment);
    property(f, "started", m->started);
    for (size_t i = 0; i < lab->ntests; i++) {
        const struct vg_test *t = &lab->tests[i];
        char *name = vg_strfmt("%s.points", vg_fmt_str(t->id));
        char *value = vg_strfmt("%s/%s%s", vg_fmt_points(got, t->points),
                                vg_fmt_points(max, t->max_points),
                                t->in_rubric ? "" : " (not in the rubric)");

        if (name && value)
            property(f, name, value);
        free(name);
        free(value);
    }
    fputs("    </properties>\n", f);
}

/* <failure>, <error> or <skipped>, or nothing for a pass. */
static const char *result_element(enum vg_status s)
{
    if (s == VG_PASSED)
        return NULL;
    if (s == VG_SKIPPED)
        return "skipped";
    return vg_fmt_is_error(s) ? "error" : "failure";
}

static void testcase(FILE *f, const struct vg_lab *lab, const struct vg_test *t)
{
    const char *element = result_element(t->status);
    char *message;

    fputs("    <testcase", f);
    xml_attr(f, "classname", lab->slug);
    xml_attr(f, "name", t->id);
    fputs(" time=\"0.000\"", f); /* the model has no time per test */
    if (!element) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n", f);
    message = vg_fmt_test_message(t, VG_FMT_TEXT_MAX);
    fprintf(f, "      <%s", element);
    xml_attr(f, "message", message);
    if (t->status != VG_SKIPPED)
        xml_attr(f, "type", vg_status_name(t->status));
    fputs(">", f);
    xml_text(f, message, VG_FMT_TEXT_MAX, false);
    fprintf(f, "</%s>\n    </testcase>\n", element);
    free(message);
}

static void grading_case(FILE *f, const struct vg_lab *lab)
{
    const char *why = lab->message && *lab->message
                          ? lab->message
                          : vg_outcome_name(lab->outcome);

    fputs("    <testcase", f);
    xml_attr(f, "classname", lab->slug);
    fputs(" name=\"(grading)\" time=\"0.000\">\n      <error", f);
    xml_attr(f, "message", why);
    xml_attr(f, "type", vg_outcome_name(lab->outcome));
    fputs(">", f);
    xml_text(f, why, VG_FMT_LOG_MAX, false);
    fputs("</error>\n    </testcase>\n", f);
}

static void testsuite(FILE *f, const struct vg_lab *lab,
                      const struct vg_meta *m)
{
    struct counts c = lab_counts(lab);

    fputs("  <testsuite", f);
    xml_attr(f, "name", lab->slug);
    fprintf(f,
            " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
            "time=\"%.3f\"",
            c.tests, c.failures, c.errors, c.skipped, nonneg(lab->seconds));
    if (m->started)
        xml_attr(f, "timestamp", m->started);
    fputs(">\n", f);
    lab_properties(f, lab, m);
    for (size_t i = 0; i < lab->ntests; i++)
        testcase(f, lab, &lab->tests[i]);
    if (needs_grading_case(lab))
        grading_case(f, lab);
    if (lab->log && *lab->log) {
        fputs("    <system-out>", f);
        xml_text(f, lab->log, VG_FMT_LOG_MAX, false);
        fputs("</system-out>\n", f);
    }
    if (lab->message && *lab->message) {
        fputs("    <system-err>", f);
        xml_text(f, lab->message, VG_FMT_LOG_MAX, false);
        fputs("</system-err>\n", f);
    }
    fputs("  </testsuite>\n", f);
}

void vg_junit_print(FILE *f, const struct vg_result *result)
{
    struct counts all = {0};

    for (size_t i = 0; i < result->nlabs; i++) {
        struct counts c = lab_counts(&result->labs[i]);

        all.tests += c.tests;
        all.failures += c.failures;
        all.errors += c.errors;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f,
            "<testsuites name=\"vlab-grade\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"%zu\" time=\"%.3f\">\n",
            all.tests, all.failures, all.errors, nonneg(result->seconds));
    for (size_t i = 0; i < result->nlabs; i++)
        testsuite(f, &result->labs[i], &result->meta);
    fputs("</testsuites>\n", f);
}

int vg_junit_write(const struct vg_result *result, const char *path)
{
    FILE *f;
    int ret = vg_fmt_open(path, false, &f);

    if (ret < 0)
        return ret;
    vg_junit_print(f, result);
    return vg_fmt_close(f, path);
}
