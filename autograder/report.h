/*
 * report.h - the terminal report: one table per lab, then the total.
 *
 *   01-kvm-basics  KVM basics                                  7/10 points
 *     PASS      2/2  kvm_basics::opens_dev_kvm  opens /dev/kvm and checks ...
 *     FAIL      0/3  kvm_basics::runs_guest     runs the hlt guest
 *                    kvm_basics_test.c:42: Assertion failed: exit reason ...
 *     SKIP      0/2  kvm_basics::dirty_log      tracks dirty pages
 *                    environment skip, not your code: needs /dev/kvm ...
 *     FAIL      0/2  kvm_basics::triple_fault   [hidden] reports a shutdown
 *                    kvm_basics_test.c:210: Assertion failed: ...
 *                    hint: a triple fault: look at the GDT ...
 *                          and the IDT ...
 *                    output of the test:
 *                      minivm: unhandled exit: KVM_EXIT_SHUTDOWN ...
 *
 * Every test is shown, whatever its rubric "visibility": a student grading
 * locally runs the tests themselves, so the marks [hidden], [after due
 * date], [after publishing] only say what a course platform would show
 * them. [private] marks an instructor's --extra-tests test; UNLISTED a test
 * the rubric does not list (worth 0). Hint (cyan) and output (dimmed) are
 * coloured only on a terminal; control characters in anything the tested
 * code wrote are shown as '?'.
 *
 *   Total: 7/10 points
 */
#ifndef VG_REPORT_H
#define VG_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "grade.h"

/* Lines of failure details shown under a test; the rest is cut. */
#define VG_REPORT_DETAIL_LINES  8
/* Characters shown of one details line. */
#define VG_REPORT_LINE_WIDTH    160
/* Columns a hint is wrapped to (after its indentation). */
#define VG_REPORT_HINT_WIDTH    72
/* Lines of a test's output excerpt shown (hints.h caps it already). */
#define VG_REPORT_EXCERPT_LINES 24

struct vg_report_opts {
    bool color;   /* ANSI colours */
    bool verbose; /* also print what each test binary wrote */
};

/* Colours only on a terminal, and never when NO_COLOR is set. */
bool vg_report_want_color(FILE *out);

/* "PASS", "FAIL", "CRASH", "TIMEOUT", "SKIP", "NOT RUN", "NO BUILD" */
const char *vg_report_label(enum vg_status status);

void vg_report_lab(FILE *out, const struct vg_lab *lab,
                   const struct vg_report_opts *o);
/* Every lab, then "Total: X/Y points". */
void vg_report_terminal(FILE *out, const struct vg_result *result,
                        const struct vg_report_opts *o);

#endif
