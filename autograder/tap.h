/*
 * tap.h - read the TAP report of a Criterion test binary (--tap=FILE).
 *
 * Criterion 2.4 writes one line per test, in no particular order, and a
 * YAML block under each failed test:
 *
 *   1..4
 *   ok - s::passes  (0.00s)
 *   ok - s::skips  # SKIP needs /dev/kvm
 *   not ok - s::hangs timed out (1.00s)
 *   not ok - s::crashes unexpected signal after t.c:5
 *   not ok - s::fails its description (0.00s)
 *     ---
 *     assertions: 1
 *     failures:
 *     - t.c:3: |+
 *         Assertion failed: one is 1
 *     ...
 *
 * The parser never fails on what the binary wrote: lines it does not
 * understand are ignored, and a report cut short just has fewer results.
 */
#ifndef VG_TAP_H
#define VG_TAP_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"

/* Longest failure detail kept per test; the rest is cut with a note. */
#define VG_DETAILS_MAX 4096

struct vg_tap_result {
    char *id;              /* "suite::name" */
    enum vg_status status; /* passed, failed, crashed, timed out, skipped */
    char *details;         /* failure lines, skip reason, crash place */
};

struct vg_tap {
    struct vg_tap_result *results;
    size_t n;
    size_t reported; /* result lines seen, repeated ids included */
    long planned;    /* N of the "1..N" plan line, or -1 when there was none */
    bool bailed_out; /* a "Bail out!" line was seen */
};

/* Parse len bytes of TAP text (need not be NUL-terminated). */
int vg_tap_parse(struct vg_tap *tap, const char *text, size_t len);
/* The result of a test id, or NULL. */
const struct vg_tap_result *vg_tap_find(const struct vg_tap *tap,
                                        const char *id);
/* Did the report list every planned test? */
bool vg_tap_complete(const struct vg_tap *tap);
void vg_tap_free(struct vg_tap *tap);

#endif
