/* tap.c - parse Criterion's TAP report (see tap.h). */
#define _GNU_SOURCE
#include "tap.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#define CUT_NOTE "\n[... cut]"

/* Parser state: which result a YAML block line belongs to. */
struct parser {
    struct vg_tap *tap;
    long current;      /* index of the result owning the block, or -1 */
    char *pending_loc; /* "t.c:3" of a failure whose message comes next */
};

/* Append to a details string, keeping it under VG_DETAILS_MAX bytes. */
static int details_append(char **details, const char *add)
{
    size_t have = *details ? strlen(*details) : 0;
    size_t take = strlen(add), note = 0;
    char *grown;

    if (have + 1 >= VG_DETAILS_MAX)
        return 0; /* already full, and already marked as cut */
    if (have + take + 1 > VG_DETAILS_MAX) {
        note = strlen(CUT_NOTE);
        if (have + note + 1 > VG_DETAILS_MAX)
            have = VG_DETAILS_MAX - 1 - note; /* cut what is there */
        take = VG_DETAILS_MAX - 1 - note - have;
    }
    grown = realloc(*details, have + take + note + 1);
    if (!grown)
        return vl_err(ENOMEM, "recording test details");
    memcpy(grown + have, add, take);
    memcpy(grown + have + take, CUT_NOTE, note);
    grown[have + take + note] = '\0';
    *details = grown;
    return 0;
}

static int status_rank(enum vg_status s)
{
    switch (s) {
    case VG_PASSED:
        return 0;
    case VG_SKIPPED:
        return 1;
    case VG_NOT_RUN:
    case VG_NOT_BUILT:
        return 2;
    case VG_FAILED:
    case VG_TIMED_OUT:
    case VG_CRASHED:
    case VG_FLAKY:
        return 3;
    }
    return 3;
}

/*
 * Record a result. A test reported twice (a parameterized test runs once
 * per parameter) keeps its worst outcome. Sets p->current to the result
 * that a following YAML block describes, or -1.
 */
static int add_result(struct parser *p, const char *id, enum vg_status status,
                      const char *details)
{
    struct vg_tap *tap = p->tap;
    struct vg_tap_result *r = (struct vg_tap_result *)vg_tap_find(tap, id);
    struct vg_tap_result *grown;

    tap->reported++;
    p->current = -1;
    if (r && status_rank(status) <= status_rank(r->status))
        return 0;
    if (!r) {
        grown = reallocarray(tap->results, tap->n + 1, sizeof(*grown));
        if (!grown)
            return vl_err(ENOMEM, "parsing TAP");
        tap->results = grown;
        r = &tap->results[tap->n];
        *r = (struct vg_tap_result){.id = strdup(id)};
        if (!r->id)
            return vl_err(ENOMEM, "parsing TAP");
        tap->n++;
    }
    r->status = status;
    free(r->details);
    r->details = NULL;
    p->current = r - tap->results;
    return details ? details_append(&r->details, details) : 0;
}

static char *skip_spaces(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* "ok - s::x  # SKIP reason": the reason, or NULL when not a skip. */
static const char *skip_reason(const char *rest)
{
    const char *hash = strstr(rest, "# SKIP");

    if (!hash)
        hash = strstr(rest, "# skip");
    if (!hash)
        return NULL;
    hash += strlen("# SKIP");
    while (*hash == ' ')
        hash++;
    return *hash ? hash : "skipped (no reason given)";
}

/* What follows the id on a "not ok" line decides how the test failed. */
static int add_not_ok(struct parser *p, const char *id, char *rest)
{
    const char *crash = "unexpected signal after ";
    _vl_cleanup_free_ char *msg = NULL;

    if (strncmp(rest, "timed out", strlen("timed out")) == 0)
        return add_result(p, id, VG_TIMED_OUT,
                          "timed out: the test's own "
                          "time limit ran out (an endless loop, or a guest "
                          "that never stops?)");
    if (strncmp(rest, crash, strlen(crash)) == 0) {
        msg = strdup("crashed: an unexpected signal (segfault, abort, "
                     "sanitizer) after ");
        if (!msg || details_append(&msg, rest + strlen(crash)) < 0)
            return vl_err(ENOMEM, "parsing TAP");
        return add_result(p, id, VG_CRASHED, msg);
    }
    return add_result(p, id, VG_FAILED, NULL);
}

/* "ok - id ...", "not ok 3 - id ..."; any other line is ignored. */
static int parse_result_line(struct parser *p, char *line)
{
    bool ok = strncmp(line, "ok", 2) == 0;
    char *s, *id, *rest;

    if (!ok && strncmp(line, "not ok", 6) != 0)
        return 0;
    s = line + (ok ? 2 : 6);
    if (*s && *s != ' ')
        return 0; /* "okay", "not okay" */
    s = skip_spaces(s);
    while (isdigit((unsigned char)*s))
        s++;
    s = skip_spaces(s);
    if (*s == '-')
        s = skip_spaces(s + 1);
    id = s;
    s += strcspn(s, " \t");
    rest = *s ? s + 1 : s;
    *s = '\0';
    if (!*id)
        return 0;
    rest = skip_spaces(rest);
    trim_end(rest);
    if (!ok)
        return add_not_ok(p, id, rest);
    if (skip_reason(rest))
        return add_result(p, id, VG_SKIPPED, skip_reason(rest));
    return add_result(p, id, VG_PASSED, NULL);
}

/* "  - t.c:3: |+": remember "t.c:3" for the message lines below it. */
static int block_failure_start(struct parser *p, char *line)
{
    char *loc = skip_spaces(line) + 1;
    char *end = strstr(loc, ": |");

    loc = skip_spaces(loc);
    if (end)
        *end = '\0';
    free(p->pending_loc);
    p->pending_loc = strdup(loc);
    return p->pending_loc ? 0 : vl_err(ENOMEM, "parsing TAP");
}

/* A message line: "      Assertion failed: one is 1" or its next lines. */
static int block_message(struct parser *p, char *line)
{
    char **details = &p->tap->results[p->current].details;
    char *text = skip_spaces(line);
    int ret = 0;

    if (p->pending_loc) {
        if (*details)
            ret = details_append(details, "\n");
        if (ret == 0)
            ret = details_append(details, p->pending_loc);
        if (ret == 0)
            ret = details_append(details, ": ");
        free(p->pending_loc);
        p->pending_loc = NULL;
    } else {
        ret = details_append(details, "\n    ");
    }
    return ret < 0 ? ret : details_append(details, text);
}

/* One line of the YAML block under a failed test. */
static int parse_block_line(struct parser *p, char *line)
{
    char *s = skip_spaces(line);

    trim_end(s);
    if (strcmp(s, "---") == 0 || strcmp(s, "...") == 0 ||
        strncmp(s, "assertions:", 11) == 0 || strncmp(s, "failures:", 9) == 0 ||
        !*s)
        return 0;
    if (s[0] == '-' && s - line <= 2)
        return block_failure_start(p, line);
    if (s - line >= 4)
        return block_message(p, line);
    return 0;
}

static void parse_plan(struct vg_tap *tap, const char *line)
{
    char *end;
    long n;

    if (strncmp(line, "1..", 3) != 0)
        return;
    errno = 0;
    n = strtol(line + 3, &end, 10);
    if (errno == 0 && end != line + 3 && n >= 0)
        tap->planned = n;
}

static int parse_line(struct parser *p, char *line)
{
    if (p->current >= 0 && line[0] == ' ')
        return parse_block_line(p, line);
    p->current = -1;
    free(p->pending_loc);
    p->pending_loc = NULL;
    if (strncmp(line, "Bail out!", 9) == 0)
        p->tap->bailed_out = true;
    parse_plan(p->tap, line);
    return parse_result_line(p, line);
}

/* A failed test with no assertion message still deserves an explanation. */
static int explain_silent_failures(struct vg_tap *tap)
{
    for (size_t i = 0; i < tap->n; i++) {
        struct vg_tap_result *r = &tap->results[i];

        if (r->status == VG_FAILED && !r->details &&
            details_append(&r->details,
                           "failed without a failed assertion: "
                           "the test process ended early with an error "
                           "status (a sanitizer error, exit(), or a check "
                           "outside cr_assert)") < 0)
            return -ENOMEM;
    }
    return 0;
}

int vg_tap_parse(struct vg_tap *tap, const char *text, size_t len)
{
    _vl_cleanup_free_ char *copy = malloc(len + 1);
    struct parser p = {.tap = tap, .current = -1};
    char *cursor, *line;
    int ret = 0;

    *tap = (struct vg_tap){.planned = -1};
    if (!copy)
        return vl_err(ENOMEM, "parsing TAP");
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (copy[i] == '\0')
            copy[i] = '?'; /* a stray NUL must not end the report early */
    cursor = copy;
    while (ret == 0 && (line = strsep(&cursor, "\n")) != NULL) {
        line[strcspn(line, "\r")] = '\0';
        ret = parse_line(&p, line);
    }
    free(p.pending_loc);
    if (ret == 0)
        ret = explain_silent_failures(tap);
    if (ret < 0)
        vg_tap_free(tap);
    return ret;
}

const struct vg_tap_result *vg_tap_find(const struct vg_tap *tap,
                                        const char *id)
{
    for (size_t i = 0; i < tap->n; i++)
        if (strcmp(tap->results[i].id, id) == 0)
            return &tap->results[i];
    return NULL;
}

bool vg_tap_complete(const struct vg_tap *tap)
{
    return tap->planned >= 0 && tap->reported >= (size_t)tap->planned &&
           !tap->bailed_out;
}

void vg_tap_free(struct vg_tap *tap)
{
    for (size_t i = 0; i < tap->n; i++) {
        free(tap->results[i].id);
        free(tap->results[i].details);
    }
    free(tap->results);
    *tap = (struct vg_tap){.planned = -1};
}
