/*
 * hints.h - what a failing student should look at: hints keyed by the
 * failure's signature, and the excerpt of the test's own output.
 *
 * A lab's manifest lists hints, tried in order, the first match wins:
 *
 *   "hints": [
 *     {"on": "exit:KVM_EXIT_SHUTDOWN", "tests": ["kvm_basics::*"],
 *      "hint": "a triple fault: ..."},
 *     {"on": "errno:ENOSYS", "hint": "a TODO is still a stub"},
 *     {"on": "signal:SIGSEGV", "hint": "..."},
 *     {"on": "timeout", "hint": "..."},
 *     {"on": "crash", "hint": "..."},
 *     {"on": "text:some literal", "hint": "..."} ]
 *
 * Signatures are looked for in the failing test's details (the assertion
 * message, from the TAP report), its status (timed out, crashed) and its
 * section of the test binary's output: Criterion --verbose prints
 * "[RUN ] suite::name" when a test starts and "[PASS]/[FAIL]/[SKIP]
 * suite::name" when it ends; what the tested code (a guest's console, a
 * container's output, a sanitizer report) prints while it runs lands in
 * between. That output is written by the tested code: it only selects a hint
 * and an excerpt, it never changes points, and the excerpt is cleaned
 * (control characters and broken UTF-8 replaced, lines and size capped)
 * before anyone reads it.
 */
#ifndef VG_HINTS_H
#define VG_HINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"
#include "manifest.h"

/* Lines and bytes of output an excerpt keeps. */
#define VG_EXCERPT_LINES      20
#define VG_EXCERPT_BYTES      2048
/* Characters kept of one excerpt line. */
#define VG_EXCERPT_LINE_WIDTH 150
/* Lines of context kept before the line that matched. */
#define VG_EXCERPT_BEFORE     5

enum vg_hint_kind {
    VG_HINT_SIGNAL,  /* "signal:SIGSEGV": the output names the signal */
    VG_HINT_EXIT,    /* "exit:KVM_EXIT_SHUTDOWN": the exit reason's name */
    VG_HINT_ERRNO,   /* "errno:ENOSYS": name, strerror text, "returned -38" */
    VG_HINT_TIMEOUT, /* "timeout": the test timed out */
    VG_HINT_CRASH,   /* "crash": the test was killed by a signal */
    VG_HINT_TEXT,    /* "text:literal": the literal, case-sensitive */
};

/* Strings that reveal a signature in output ("SIGSEGV", "Segmentation
 * fault", "SEGV on unknown address"...). */
#define VG_HINT_NEEDLES 4

struct vg_hint {
    char *on; /* as written: "errno:ENOSYS" */
    enum vg_hint_kind kind;
    char *needles[VG_HINT_NEEDLES]; /* NULL-ended; none for timeout/crash */
    bool text_literal;              /* needles match anywhere, not as words */
    char **tests; /* test ids or fnmatch(3) patterns ("s::*"); none: all */
    size_t ntests;
    char *hint;
};

/*
 * Parse the manifest's "hints" (a jansson array) into m->hints; a test named
 * in "tests" must be in m->rubric (a pattern must match one of its tests).
 */
int vg_hints_parse(struct vg_manifest *m, const void *arr);
void vg_hints_free(struct vg_hint *hints, size_t n);

/*
 * The first hint of m that matches test t, given its section of the output
 * (may be NULL); *where gets the matched position in section, or NULL when
 * the match was in the details or the status.
 */
const struct vg_hint *vg_hint_find(const struct vg_manifest *m,
                                   const struct vg_test *t, const char *section,
                                   const char **where);

/*
 * The lines log printed while test `id` ran (between its "[RUN ]" line and
 * the line that ended it, without Criterion's own lines), as a new string;
 * NULL when there are none (or no memory).
 */
char *vg_hints_section(const char *log, const char *id);

/*
 * The excerpt of section to show: VG_EXCERPT_LINES lines from a little
 * before `at` (a position in section), or the last lines when at is NULL;
 * cleaned and capped (see above). NULL when nothing is left.
 */
char *vg_hints_excerpt(const char *section, const char *at);

/*
 * Fill hint and excerpt of every failing test of lab from log (the test
 * binary's output; NULL: none), with paths shortened as the student knows
 * them (ROOT/ and WORK/src/ cut).
 */
int vg_hints_apply(struct vg_lab *lab, const struct vg_manifest *m,
                   const char *log, const char *root, const char *work);

#endif
