/* formats.c - what the report writers share (see formats.h). */
#define _GNU_SOURCE
#include "formats.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autolab.h"
#include "classroom.h"
#include "junit.h"
#include "markdown.h"
#include "tapout.h"
#include "text.h"
#include "virtlab/error.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, the Unicode replacement char */

/*
 * Length of the UTF-8 sequence at s (1-4) and its code point, or 0 when
 * the bytes are not a well-formed sequence (RFC 3629, section 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len;
    uint32_t c;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        c = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        c = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* Characters XML 1.0 forbids even as references, and the noncharacters
 * that some readers choke on: replaced. */
static bool unwanted(uint32_t cp)
{
    if (cp < 0x20)
        return cp != '\t' && cp != '\n';
    return cp == 0xFFFE || cp == 0xFFFF;
}

char *vg_fmt_clean(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)vg_fmt_str(s);
    size_t total = strlen((const char *)p), used = 0, written = 0;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    while (p[used]) {
        uint32_t cp = 0;
        size_t n = utf8_decode(p + used, &cp);
        const char *put = (const char *)p + used;
        size_t put_len = n;

        if (n == 0 || unwanted(cp)) {
            put = REPLACEMENT;
            put_len = strlen(REPLACEMENT);
            n = n ? n : 1;
        }
        if (cp == '\r' && n == 1)
            put_len = 0; /* CRLF line ends read as LF */
        if (written + put_len > max)
            break;
        fwrite(put, 1, put_len, f);
        written += put_len;
        used += n;
    }
    if (used < total)
        fprintf(f, "\n[... %zu bytes cut]", total - used);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

bool vg_fmt_is_error(enum vg_status status)
{
    switch (status) {
    case VG_CRASHED:
    case VG_TIMED_OUT:
    case VG_NOT_BUILT:
    case VG_NOT_RUN:
        return true;
    case VG_PASSED:
    case VG_FAILED:
    case VG_SKIPPED:
    case VG_FLAKY:
        return false;
    }
    return true;
}

static void put_status_line(FILE *f, const struct vg_test *t)
{
    const char *details = t->details ? t->details : "";

    switch (t->status) {
    case VG_PASSED:
        fputs("passed", f);
        return;
    case VG_SKIPPED:
        fprintf(f,
                "skipped by the environment, not a failure of your code: "
                "%s\nThe grading machine could not run this test, so it "
                "earns no points here.",
                *details ? details : "no reason given");
        return;
    case VG_FLAKY:
        fprintf(f,
                "flaky: failed, then passed when run again; a test that "
                "does not pass every time earns no points%s%s",
                *details ? ": " : "", details);
        return;
    case VG_FAILED:
    case VG_CRASHED:
    case VG_TIMED_OUT:
    case VG_NOT_RUN:
    case VG_NOT_BUILT:
        break;
    }
    fprintf(f, "%s%s%s", vg_status_name(t->status), *details ? ": " : "",
            details);
}

char *vg_fmt_test_message(const struct vg_test *t, size_t max)
{
    char *raw = NULL, *clean;
    size_t len = 0;
    FILE *f = open_memstream(&raw, &len);

    if (!f)
        return NULL;
    put_status_line(f, t);
    if (t->status != VG_PASSED && t->hint && *t->hint)
        fprintf(f, "\nhint: %s", t->hint);
    if (t->status != VG_PASSED && t->excerpt && *t->excerpt)
        fprintf(f, "\noutput:\n%s", t->excerpt);
    if (fclose(f) != 0) {
        free(raw);
        return NULL;
    }
    clean = vg_fmt_clean(raw, max);
    free(raw);
    return clean;
}

const char *vg_fmt_points(char buf[32], double points)
{
    /* Whole points as integers ("1000", never "1e+03"), others short. */
    if (points > -1e15 && points < 1e15 && /* no nan, inf or overflow */
        points == (double)(long long)points)
        snprintf(buf, 32, "%lld", (long long)points);
    else
        snprintf(buf, 32, "%.4g", points);
    return buf;
}

char *vg_fmt_lab_summary(const struct vg_lab *lab)
{
    char got[32], max[32];
    char *raw, *clean;

    raw = vg_strfmt(
        "%s %s: %s/%s points%s%s%s", vg_fmt_str(lab->slug),
        vg_fmt_str(lab->title), vg_fmt_points(got, vg_lab_points(lab)),
        vg_fmt_points(max, vg_lab_max_points(lab)),
        lab->outcome == VG_LAB_RAN ? "" : " (",
        lab->outcome == VG_LAB_RAN ? "" : vg_outcome_name(lab->outcome),
        lab->outcome == VG_LAB_RAN ? "" : ")");
    if (!raw)
        return NULL;
    clean = vg_fmt_clean(raw, VG_FMT_TEXT_MAX);
    free(raw);
    return clean;
}

int vg_fmt_open(const char *path, bool append, FILE **out)
{
    *out = fopen(path, append ? "ae" : "we");
    if (!*out)
        return vl_err(errno, "opening %s for writing", path);
    return 0;
}

int vg_fmt_close(FILE *f, const char *path)
{
    bool failed = ferror(f) != 0;

    if (fclose(f) != 0 || failed)
        return vl_err(errno ? errno : EIO, "writing %s", path);
    return 0;
}

const char vg_outputs_usage[] =
    "  --junit FILE      also write a JUnit XML report to FILE\n"
    "  --tap FILE        also write a TAP version 14 report to FILE\n"
    "  --classroom FILE  also write GitHub Classroom's result JSON to FILE\n"
    "                    and print \"Points X/Y\"\n"
    "  --markdown[=FILE] also write a Markdown summary to FILE (default:\n"
    "                    append to $GITHUB_STEP_SUMMARY)\n"
    "  --autolab         end stdout with Autolab's autoresult line\n"
    "  --leaderboard     add a leaderboard to --json's results.json\n";

int vg_outputs_parse(struct vg_outputs *o, int opt, const char *arg)
{
    switch (opt) {
    case VG_OPT_JUNIT:
        o->junit = arg;
        return 0;
    case VG_OPT_TAP:
        o->tap = arg;
        return 0;
    case VG_OPT_CLASSROOM:
        o->classroom = arg;
        return 0;
    case VG_OPT_MARKDOWN:
        o->markdown = arg;
        o->markdown_summary = !arg;
        return 0;
    case VG_OPT_AUTOLAB:
        o->autolab = true;
        return 0;
    case VG_OPT_LEADERBOARD:
        o->leaderboard = true;
        return 0;
    }
    return vl_err_plain(EINVAL, "try vlab-grade --help");
}

bool vg_outputs_any(const struct vg_outputs *o)
{
    return o->junit || o->tap || o->classroom || o->markdown ||
           o->markdown_summary || o->autolab || o->leaderboard;
}

int vg_outputs_check(const struct vg_outputs *o, const char *json)
{
    if (o->leaderboard && !json)
        return vl_err_plain(EINVAL, "--leaderboard goes into Gradescope's "
                                    "results.json: add --json FILE");
    if (o->markdown_summary && !vg_markdown_default_path())
        return vl_err_plain(EINVAL,
                            "--markdown without a file appends to "
                            "$GITHUB_STEP_SUMMARY, which is not set: give "
                            "--markdown=FILE");
    return 0;
}

int vg_outputs_write(const struct vg_result *result, const struct vg_outputs *o)
{
    int ret = 0;

    if (ret == 0 && o->junit)
        ret = vg_junit_write(result, o->junit);
    if (ret == 0 && o->tap)
        ret = vg_tapout_write(result, o->tap);
    if (ret == 0 && o->classroom)
        ret = vg_classroom_write(result, o->classroom);
    if (ret == 0 && o->markdown)
        ret = vg_markdown_write(result, o->markdown, false);
    if (ret == 0 && o->markdown_summary)
        ret = vg_markdown_write(result, vg_markdown_default_path(), true);
    return ret;
}

int vg_outputs_last_lines(FILE *out, const struct vg_result *result,
                          const struct vg_outputs *o)
{
    if (o->classroom)
        vg_classroom_points_line(out, result);
    if (o->autolab)
        return vg_autolab_print(out, result);
    return fflush(out) == 0 ? 0 : vl_err(errno, "writing the report");
}
