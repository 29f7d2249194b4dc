/*
 * tapout.h - the result model as TAP version 14 (--tap FILE), for TAP
 * consumers (prove, tap-junit, CI plugins). Not to be confused with tap.c,
 * which reads the TAP of Criterion's test binaries.
 *
 * "TAP 14 specification" (testanything.org/tap-version-14-specification):
 * a version line "TAP version 14" first; a plan "1..N" (N >= 0; "1..0 #
 * SKIP why" when there is nothing to run); test points "ok N - description"
 * or "not ok N - description", where a "#" or "\" in the description is
 * escaped with a backslash; a directive after an unescaped "#": "# SKIP
 * reason" on an "ok" line for a test not run; an optional YAML diagnostic
 * block right under a test point, indented 2 spaces, between "---" and
 * "..."; comment lines start with "#". Perl's TAP::Parser (prove) as
 * shipped in Debian 12 knows versions up to 13, and TAP 14 is designed to
 * be read by TAP 13 harnesses; our tests feed prove the file with the
 * version line changed to 13.
 *
 * What we write:
 *   TAP version 14
 *   # vlab-grade 0.1.0, submission ..., commit ..., started ...
 *   1..3
 *   # 01-kvm-basics KVM basics: 2/5 points
 *   ok 1 - kvm_basics::opens_dev_kvm
 *     ---
 *     lab: "01-kvm-basics"
 *     status: "passed"
 *     points: 2
 *     max_points: 2
 *     ...
 *   not ok 2 - kvm_basics::runs_guest
 *     ---
 *     message: "failed: t.c:42: Assertion failed ...\nhint: ..."
 *     severity: fail
 *     ... (as above, and hint, excerpt)
 *     ...
 *   ok 3 - kvm_basics::dirty_log # SKIP needs /dev/kvm
 * A test's description is its id (whitespace and control characters made
 * "_"), so the grader's own TAP reader (tap.c) reads the ids back. A lab
 * that did not run and has no test gets one "not ok" point "<lab>::(grading)".
 * YAML strings are double-quoted with \\ \" \n \t escapes only, which
 * TAP::Parser's YAMLish reader understands; other text is UTF-8 as is.
 */
#ifndef VG_TAPOUT_H
#define VG_TAPOUT_H

#include <stdio.h>

#include "grade.h"

void vg_tapout_print(FILE *out, const struct vg_result *result);
int vg_tapout_write(const struct vg_result *result, const char *path);

#endif
