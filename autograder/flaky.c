/* flaky.c - rerun failed tests alone to find flaky ones (see flaky.h). */
#define _GNU_SOURCE
#include "flaky.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "spawn.h"
#include "tap.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

static bool is_ident(const char *s, size_t len)
{
    if (len == 0 || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/*
 * Criterion matches --filter against "suite/name" as a glob (with extended
 * patterns such as !(...)), so only plain identifiers are passed on: the
 * pattern then matches exactly the one test.
 */
char *vg_flaky_filter(const char *id)
{
    const char *sep = strstr(id, "::");

    if (!sep || !is_ident(id, (size_t)(sep - id)) ||
        !is_ident(sep + 2, strlen(sep + 2)))
        return NULL;
    return vg_strfmt("%.*s/%s", (int)(sep - id), id, sep + 2);
}

static bool rerun_worthy(const struct vg_test *t)
{
    return t->in_rubric && (t->status == VG_FAILED || t->status == VG_CRASHED ||
                            t->status == VG_TIMED_OUT);
}

/*
 * Run test t alone within limit seconds. *passed: its rerun reported it
 * passed. Only the TAP report counts, as for the first run; the binary must
 * also have exited by itself (not killed at the limit).
 */
static int rerun_one(const struct vg_grade_opts *o, const char *work,
                     const struct vg_test *t, int limit, bool *passed)
{
    _vl_cleanup_free_ char *filter = vg_flaky_filter(t->id);
    _vl_cleanup_free_ char *tap_path = vg_strfmt("%s/out/rerun.tap", work);
    _vl_cleanup_free_ char *text = NULL;
    struct vg_spawn_result res;
    struct vg_tap tap = {.planned = -1};
    const struct vg_tap_result *r;
    bool truncated = false;
    size_t len = 0;
    int ret;

    *passed = false;
    if (!tap_path)
        return vl_err(ENOMEM, "rerunning %s", t->id);
    if (!filter)
        return 0; /* not a plain suite::name: cannot be isolated */
    if (unlink(tap_path) < 0 && errno != ENOENT)
        return 0; /* a stale report could be taken for the rerun's */
    if (o->progress)
        fprintf(o->progress, "rerunning %s alone (is it flaky?)...\n", t->id);
    ret = vg_stage_test_spawn(o, work, filter, tap_path, limit, &res);
    if (ret == 0 && !res.timed_out && WIFEXITED(res.wait_status) &&
        vg_read_file(tap_path, VG_TAP_CAP, &text, &len, &truncated) == 0 &&
        !truncated) {
        ret = vg_tap_parse(&tap, text, len);
        r = ret == 0 ? vg_tap_find(&tap, t->id) : NULL;
        *passed = r && r->status == VG_PASSED;
    }
    vg_tap_free(&tap);
    vg_spawn_result_free(&res);
    if (ret == -EINTR || ret == -ENOMEM)
        return ret;
    return 0; /* could not rerun: the first result stands */
}

/* The test passed alone after failing with the whole lab: record both. */
static int mark_flaky(struct vg_test *t)
{
    const char *was = vg_status_name(t->status);
    char *details =
        vg_strfmt("flaky: %s on the first run%s%s, then passed when run "
                  "again alone; 0 points until it passes every time (a "
                  "race, a timing assumption, uninitialized memory or state "
                  "left by another test?)",
                  was, t->details ? ": " : "", t->details ? t->details : "");

    if (!details)
        return vl_err(ENOMEM, "recording flaky test %s", t->id);
    free(t->details);
    t->details = details;
    t->status = VG_FLAKY;
    t->points = 0;
    return 0;
}

int vg_flaky_rerun(const struct vg_grade_opts *o, const struct vg_manifest *m,
                   const char *work, struct vg_lab *lab)
{
    int limit = o->timeout_sec > 0 ? o->timeout_sec : m->timeout_sec;
    double start = vg_now();
    int reruns = 0, ret = 0;

    if (lab->outcome != VG_LAB_RAN || o->no_rerun)
        return 0;
    for (size_t i = 0; ret == 0 && i < lab->ntests; i++) {
        struct vg_test *t = &lab->tests[i];
        /* What is left of the lab's limit, shared by all the reruns. */
        int left = (int)(limit - (vg_now() - start));
        bool passed = false;

        if (!rerun_worthy(t))
            continue;
        if (reruns == VG_FLAKY_MAX_RERUNS || left < 1)
            break;
        reruns++;
        ret = rerun_one(o, work, t, left, &passed);
        if (ret == 0 && passed)
            ret = mark_flaky(t);
    }
    return ret;
}
