/*
 * crlog.h - read what a Criterion test binary printed: its --verbose
 * progress lines ("[RUN ] s::t", "[PASS] s::t: (0.01s)", "[FAIL] ...",
 * "[SKIP] ...") and the sanitizers' reports ("SUMMARY: AddressSanitizer:
 * SEGV vm.c:42 in mvm_run", "vm.c:7:5: runtime error: ...").
 *
 * Criterion writes its TAP report only when the whole run ends, so when the
 * grader has to kill a hung run there is no report at all; the progress
 * lines still say which tests were running then. A test that trips a
 * sanitizer just "fails" in TAP; the sanitizer's summary says where. These
 * lines are for diagnostics only and never earn points: the tested code
 * writes to the same stream and could forge them.
 */
#ifndef VG_CRLOG_H
#define VG_CRLOG_H

#include <stdbool.h>

/* Is this output line worth keeping (a progress or sanitizer line)? */
bool vg_crlog_keep(const char *line);

/*
 * "s::a, s::b": tests that started but never finished in log, at most
 * max_ids of them (then ", ..."). NULL when there are none (or no memory).
 */
char *vg_crlog_unfinished(const char *log, int max_ids);

/*
 * The distinct sanitizer lines of log, at most max_lines of them, one per
 * line. NULL when there are none (or no memory).
 */
char *vg_crlog_sanitizer(const char *log, int max_lines);

/*
 * Remove the socket a Criterion runner of this pid left behind when it was
 * killed (Criterion 2.4 uses ipc:///tmp/criterion_<pid>.sock and removes
 * it only when it ends normally). Only our own socket file is removed.
 */
void vg_crlog_remove_socket(int runner_pid);

#endif
