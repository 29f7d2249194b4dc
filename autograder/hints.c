/* hints.c - hints keyed by failure signature, and excerpts (see hints.h). */
#define _GNU_SOURCE
#include "hints.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* Highest errno value looked up by name (Linux stops near 133). */
#define ERRNO_MAX 200

/* ---- parsing -------------------------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
bad_hint(const struct vg_manifest *m, size_t i, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return vl_err_plain(EINVAL, "%s: hints[%zu]: %s", m->path, i, what);
}

static int add_needle(struct vg_hint *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_needle(struct vg_hint *h, const char *fmt, ...)
{
    size_t n = 0;
    va_list ap;
    int ret;

    while (n < VG_HINT_NEEDLES - 1 && h->needles[n])
        n++;
    if (h->needles[n])
        return 0; /* full: the last slot stays NULL */
    va_start(ap, fmt);
    ret = vasprintf(&h->needles[n], fmt, ap);
    va_end(ap);
    if (ret < 0) {
        h->needles[n] = NULL;
        return vl_err(ENOMEM, "parsing hints");
    }
    return 0;
}

/* "SIGSEGV": its number, or 0. sigabbrev_np(3) gives "SEGV". */
static int signal_number(const char *name)
{
    for (int sig = 1; sig < NSIG; sig++) {
        const char *abbrev = sigabbrev_np(sig);

        if (abbrev && strncmp(name, "SIG", 3) == 0 &&
            strcmp(name + 3, abbrev) == 0)
            return sig;
    }
    return 0;
}

/* "ENOSYS": its number, or 0 (strerrorname_np(3), glibc 2.32). */
static int errno_number(const char *name)
{
    for (int e = 1; e < ERRNO_MAX; e++) {
        const char *n = strerrorname_np(e);

        if (n && strcmp(n, name) == 0)
            return e;
    }
    return 0;
}

static bool is_exit_name(const char *s)
{
    return strncmp(s, "KVM_EXIT_", 9) == 0 && s[9] &&
           strspn(s + 9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
               strlen(s + 9);
}

/*
 * The ways output names a signal: "SIGSEGV"; strsignal(3)'s words
 * ("Segmentation fault", as a shell or the grader says it); AddressSanitizer's
 * "SEGV on unknown address", which is all a sanitizer build prints when it
 * catches the signal itself.
 */
static int signal_needles(struct vg_hint *h, int sig)
{
    int ret = add_needle(h, "SIG%s", sigabbrev_np(sig));

    if (ret == 0)
        ret = add_needle(h, "%s", strsignal(sig));
    if (ret == 0)
        ret = add_needle(h, "%s on unknown address", sigabbrev_np(sig));
    return ret;
}

/* "ENOSYS", "Function not implemented", and the tests' "returned -38". */
static int errno_needles(struct vg_hint *h, int e)
{
    int ret = add_needle(h, "%s", strerrorname_np(e));

    if (ret == 0)
        ret = add_needle(h, "%s", strerror(e));
    if (ret == 0)
        ret = add_needle(h, "returned -%d", e);
    return ret;
}

#define HINT_KINDS                                                             \
    "\"signal:SIGSEGV\", \"exit:KVM_EXIT_SHUTDOWN\", \"errno:ENOSYS\", "       \
    "\"timeout\", \"crash\" or \"text:<literal>\""

/* Decode "kind:arg" into h->kind and its needles. */
static int parse_on(const struct vg_manifest *m, size_t i, struct vg_hint *h)
{
    const char *on = h->on;
    const char *arg = strchr(on, ':') ? strchr(on, ':') + 1 : "";
    int num;

    if (strcmp(on, "timeout") == 0) {
        h->kind = VG_HINT_TIMEOUT;
        return 0;
    }
    if (strcmp(on, "crash") == 0) {
        h->kind = VG_HINT_CRASH;
        return 0;
    }
    if (strncmp(on, "signal:", 7) == 0) {
        h->kind = VG_HINT_SIGNAL;
        if ((num = signal_number(arg)) == 0)
            return bad_hint(m, i,
                            "on: \"%s\" is not a signal name such as "
                            "\"SIGSEGV\"",
                            arg);
        return signal_needles(h, num);
    }
    if (strncmp(on, "errno:", 6) == 0) {
        h->kind = VG_HINT_ERRNO;
        if ((num = errno_number(arg)) == 0)
            return bad_hint(m, i,
                            "on: \"%s\" is not an errno name such as "
                            "\"ENOSYS\"",
                            arg);
        return errno_needles(h, num);
    }
    if (strncmp(on, "exit:", 5) == 0) {
        h->kind = VG_HINT_EXIT;
        if (!is_exit_name(arg))
            return bad_hint(m, i,
                            "on: \"%s\" is not a KVM exit reason such as "
                            "\"KVM_EXIT_SHUTDOWN\"",
                            arg);
        return add_needle(h, "%s", arg);
    }
    if (strncmp(on, "text:", 5) == 0 && *arg) {
        h->kind = VG_HINT_TEXT;
        h->text_literal = true;
        return add_needle(h, "%s", arg);
    }
    return bad_hint(m, i, "on: \"%s\" is not a signature: use " HINT_KINDS, on);
}

static bool rubric_has_match(const struct vg_manifest *m, const char *pattern)
{
    for (size_t j = 0; j < m->nrubric; j++)
        if (fnmatch(pattern, m->rubric[j].test, 0) == 0)
            return true;
    return false;
}

static int parse_tests(const struct vg_manifest *m, size_t i, json_t *arr,
                       struct vg_hint *h)
{
    size_t k;
    json_t *v;

    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad_hint(m, i,
                        "tests: must be a non-empty array of test ids "
                        "(\"suite::name\", or a pattern \"suite::*\")");
    h->tests = calloc(json_array_size(arr), sizeof(*h->tests));
    if (!h->tests)
        return vl_err(ENOMEM, "parsing hints");
    json_array_foreach(arr, k, v)
    {
        const char *s = json_string_value(v);

        if (!s || !*s)
            return bad_hint(m, i, "tests[%zu]: must be a test id string", k);
        if (!rubric_has_match(m, s))
            return bad_hint(m, i,
                            "tests[%zu]: \"%s\" is not a test of the "
                            "rubric (and no pattern matching one)",
                            k, s);
        h->tests[k] = strdup(s);
        if (!h->tests[k])
            return vl_err(ENOMEM, "parsing hints");
        h->ntests = k + 1;
    }
    return 0;
}

static int parse_one(const struct vg_manifest *m, size_t i, json_t *obj,
                     struct vg_hint *h)
{
    const char *key;
    json_t *value, *on, *hint;
    int ret;

    if (!json_is_object(obj))
        return bad_hint(m, i,
                        "must be an object {\"on\", \"hint\"} "
                        "(\"tests\" optional)");
    json_object_foreach(obj, key, value)
    {
        if (strcmp(key, "on") != 0 && strcmp(key, "hint") != 0 &&
            strcmp(key, "tests") != 0)
            return bad_hint(m, i, "unknown field \"%s\"", key);
    }
    on = json_object_get(obj, "on");
    hint = json_object_get(obj, "hint");
    if (!json_is_string(on) || json_string_length(on) == 0)
        return bad_hint(m, i, "on: missing (a signature: " HINT_KINDS ")");
    if (!json_is_string(hint) || json_string_length(hint) == 0)
        return bad_hint(m, i, "hint: must be a non-empty string");
    h->on = strdup(json_string_value(on));
    h->hint = strdup(json_string_value(hint));
    if (!h->on || !h->hint)
        return vl_err(ENOMEM, "parsing hints");
    ret = parse_on(m, i, h);
    return ret < 0 ? ret : parse_tests(m, i, json_object_get(obj, "tests"), h);
}

int vg_hints_parse(struct vg_manifest *m, const void *json)
{
    json_t *arr = (json_t *)json;
    size_t i;
    json_t *v;
    int ret;

    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return vl_err_plain(EINVAL,
                            "%s: hints: must be an array of "
                            "{\"on\", \"hint\"}",
                            m->path);
    if (json_array_size(arr) == 0)
        return 0;
    m->hints = calloc(json_array_size(arr), sizeof(*m->hints));
    if (!m->hints)
        return vl_err(ENOMEM, "%s: hints", m->path);
    json_array_foreach(arr, i, v)
    {
        m->nhints = i + 1; /* so vg_hints_free() sees this one */
        ret = parse_one(m, i, v, &m->hints[i]);
        if (ret < 0)
            return ret;
    }
    return 0;
}

void vg_hints_free(struct vg_hint *hints, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(hints[i].on);
        free(hints[i].hint);
        for (size_t k = 0; k < VG_HINT_NEEDLES; k++)
            free(hints[i].needles[k]);
        for (size_t k = 0; k < hints[i].ntests; k++)
            free(hints[i].tests[k]);
        free(hints[i].tests);
    }
    free(hints);
}

/* ---- matching ------------------------------------------------------- */

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* The first place needle occurs in text, as a whole word unless literal. */
static const char *find_needle(const char *text, const char *needle,
                               bool literal)
{
    size_t n = strlen(needle);

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) {
        bool starts =
            p == text || !is_word_char(p[-1]) || !is_word_char(needle[0]);
        bool ends = !is_word_char(p[n]) || !is_word_char(needle[n - 1]);

        if (literal || (starts && ends))
            return p;
    }
    return NULL;
}

/* The earliest needle of h in text, or NULL. */
static const char *find_any(const struct vg_hint *h, const char *text)
{
    const char *best = NULL;

    for (size_t k = 0; text && k < VG_HINT_NEEDLES && h->needles[k]; k++) {
        const char *p = find_needle(text, h->needles[k], h->text_literal);

        if (p && (!best || p < best))
            best = p;
    }
    return best;
}

static bool applies_to(const struct vg_hint *h, const char *id)
{
    if (h->ntests == 0)
        return true;
    for (size_t k = 0; k < h->ntests; k++)
        if (fnmatch(h->tests[k], id, 0) == 0)
            return true;
    return false;
}

static bool hint_matches(const struct vg_hint *h, const struct vg_test *t,
                         const char *section, const char **where)
{
    *where = NULL;
    switch (h->kind) {
    case VG_HINT_TIMEOUT:
        return t->status == VG_TIMED_OUT;
    case VG_HINT_CRASH:
        return t->status == VG_CRASHED;
    case VG_HINT_SIGNAL:
    case VG_HINT_EXIT:
    case VG_HINT_ERRNO:
    case VG_HINT_TEXT:
        if (find_any(h, t->details))
            return true;
        *where = find_any(h, section);
        return *where != NULL;
    }
    return false;
}

const struct vg_hint *vg_hint_find(const struct vg_manifest *m,
                                   const struct vg_test *t, const char *section,
                                   const char **where)
{
    *where = NULL;
    for (size_t i = 0; i < m->nhints; i++)
        if (applies_to(&m->hints[i], t->id) &&
            hint_matches(&m->hints[i], t, section, where))
            return &m->hints[i];
    return NULL;
}

/* ---- the test's section of the output -------------------------------- */

/* Criterion's own lines: "[RUN ] ", "[----] ", "[====] ", "[FAIL] "... */
static bool is_criterion_line(const char *line, size_t n)
{
    return n >= 6 && line[0] == '[' && line[5] == ']' &&
           (n == 6 || line[6] == ' ');
}

/* Does the line (length n) start with tag and then exactly test `id`? */
static bool names_test(const char *line, size_t n, const char *tag,
                       const char *id)
{
    size_t tl = strlen(tag), il = strlen(id);
    char after;

    if (n < tl + il || strncmp(line, tag, tl) != 0 ||
        strncmp(line + tl, id, il) != 0)
        return false;
    after = tl + il < n ? line[tl + il] : '\0';
    return after == '\0' || after == ':' || after == ' ' || after == '\t';
}

static bool ends_test(const char *line, size_t n, const char *id)
{
    return names_test(line, n, "[PASS] ", id) ||
           names_test(line, n, "[FAIL] ", id) ||
           names_test(line, n, "[SKIP] ", id);
}

static bool is_blank(const char *line, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!isspace((unsigned char)line[k]))
            return false;
    return true;
}

char *vg_hints_section(const char *log, const char *id)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f;
    bool inside = false;

    if (!log || !id)
        return NULL;
    f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    for (const char *line = log; *line;) {
        size_t n = strcspn(line, "\n");

        if (!inside)
            inside = names_test(line, n, "[RUN ] ", id);
        else if (ends_test(line, n, id))
            break;
        else if (!is_criterion_line(line, n) && !is_blank(line, n))
            fprintf(f, "%.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    if (len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- the excerpt ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    size_t len;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    /* overlong 3/4-byte forms, surrogates and code points past U+10FFFF
     * (RFC 3629, section 4) */
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return len;
}

/* Length of an ECMA-48 CSI sequence "ESC [ params final" at s, or 0. */
static size_t csi_length(const char *s, size_t n)
{
    size_t k = 2;

    if (n < 3 || s[0] != '\033' || s[1] != '[')
        return 0;
    while (k < n && (unsigned char)s[k] >= 0x20 && (unsigned char)s[k] < 0x40)
        k++;
    return k < n && s[k] >= 0x40 && s[k] <= 0x7e ? k + 1 : 0;
}

/*
 * One line as a reader should get it: colour and cursor sequences dropped,
 * other control characters and broken UTF-8 as '?' (the terminal must not
 * obey the tested code, and JSON writers need valid UTF-8), at most
 * VG_EXCERPT_LINE_WIDTH bytes, never cut inside a character.
 */
static void put_clean_line(FILE *f, const char *line, size_t n)
{
    size_t used = 0;

    for (size_t k = 0; k < n;) {
        const unsigned char *u = (const unsigned char *)line + k;
        size_t csi = csi_length(line + k, n - k);
        size_t len = csi ? 0 : utf8_length(u, n - k);

        if (csi) {
            k += csi;
            continue;
        }
        if (used + (len ? len : 1) > VG_EXCERPT_LINE_WIDTH) {
            fputs(" [...]", f);
            break;
        }
        if (len == 0 || (u[0] < 0x20 && u[0] != '\t') || u[0] == 0x7f) {
            fputc('?', f);
            k += len ? len : 1;
            used++;
            continue;
        }
        fwrite(u, 1, len, f);
        k += len;
        used += len;
    }
    fputc('\n', f);
}

/* Where line number `index` of text starts. */
static const char *line_at(const char *text, size_t index)
{
    for (; index > 0 && *text; index--) {
        const char *nl = strchr(text, '\n');

        text = nl ? nl + 1 : text + strlen(text);
    }
    return text;
}

static size_t count_lines(const char *text, const char *until)
{
    size_t lines = 0;

    for (const char *p = text; *p && (!until || p < until); p++)
        if (*p == '\n')
            lines++;
    return lines;
}

/* Room kept for the closing "[... N more lines]" note. */
#define NOTE_ROOM 40

char *vg_hints_excerpt(const char *section, const char *at)
{
    size_t total, first, shown = 0, len = 0;
    const char *line;
    bool cut = false;
    char *out = NULL;
    FILE *f;

    if (!section || !*section)
        return NULL;
    total = count_lines(section, NULL) + (section[strlen(section) - 1] != '\n');
    if (at) {
        size_t hit = count_lines(section, at);

        first = hit > VG_EXCERPT_BEFORE ? hit - VG_EXCERPT_BEFORE : 0;
    } else {
        first = total > VG_EXCERPT_LINES ? total - VG_EXCERPT_LINES : 0;
    }
    f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    if (first > 0)
        fprintf(f, "[... %zu earlier lines]\n", first);
    line = line_at(section, first);
    for (; *line && shown < VG_EXCERPT_LINES; shown++) {
        size_t n = strcspn(line, "\n");
        size_t most = (n < VG_EXCERPT_LINE_WIDTH ? n : VG_EXCERPT_LINE_WIDTH) +
                      sizeof(" [...]\n");

        fflush(f); /* so that len is current */
        if (len + most + NOTE_ROOM > VG_EXCERPT_BYTES) {
            cut = true;
            break;
        }
        put_clean_line(f, line, n);
        line += n + (line[n] == '\n');
    }
    if (cut || *line)
        fprintf(f, "[... %zu more lines]\n", total - first - shown);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- filling the lab ------------------------------------------------ */

static bool wants_hint(enum vg_status status)
{
    switch (status) {
    case VG_FAILED:
    case VG_CRASHED:
    case VG_TIMED_OUT:
    case VG_FLAKY:
        return true;
    case VG_PASSED:
    case VG_SKIPPED:
    case VG_NOT_RUN:
    case VG_NOT_BUILT:
        return false;
    }
    return false;
}

/*
 * Without a hint's match, a sanitizer's report is what to read first: its
 * "ERROR:" line (then the stack) rather than the report's last lines.
 */
static const char *sanitizer_anchor(const char *section)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer",
                                        "ERROR: LeakSanitizer",
                                        ": runtime error: ", NULL};

    for (size_t i = 0; section && marks[i]; i++) {
        const char *p = strstr(section, marks[i]);

        if (p)
            return p;
    }
    return NULL;
}

static int fill_test(struct vg_test *t, const struct vg_manifest *m,
                     const char *log, const char *root, const char *work)
{
    _vl_cleanup_free_ char *section = vg_hints_section(log, t->id);
    _vl_cleanup_free_ char *excerpt = NULL;
    const char *where = NULL;
    const struct vg_hint *h = vg_hint_find(m, t, section, &where);

    if (h && !t->hint && !(t->hint = strdup(h->hint)))
        return vl_err(ENOMEM, "recording the hint of %s", t->id);
    excerpt =
        vg_hints_excerpt(section, where ? where : sanitizer_anchor(section));
    if (excerpt && !t->excerpt) {
        t->excerpt = root && work ? vg_stage_shorten_paths(excerpt, root, work)
                                  : strdup(excerpt);
        if (!t->excerpt)
            return vl_err(ENOMEM, "recording the output of %s", t->id);
    }
    return 0;
}

int vg_hints_apply(struct vg_lab *lab, const struct vg_manifest *m,
                   const char *log, const char *root, const char *work)
{
    for (size_t i = 0; i < lab->ntests; i++) {
        struct vg_test *t = &lab->tests[i];
        int ret;

        if (!wants_hint(t->status))
            continue;
        ret = fill_test(t, m, log, root, work);
        if (ret < 0)
            return ret;
    }
    return 0;
}
