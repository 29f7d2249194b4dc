/*
 * markdown.h - a Markdown summary of the grade (--markdown[=FILE]) for a CI
 * job's summary page: with no FILE it is appended to the file named by
 * $GITHUB_STEP_SUMMARY, which GitHub Actions renders on the run's page
 * ("Adding a job summary", docs.github.com, Workflow commands for GitHub
 * Actions: GitHub-flavored Markdown, appended per step).
 *
 *   ## vlab-grade: 7/10 points
 *   | Lab | Points | Outcome |  (one row per lab)
 *   ### 01-kvm-basics KVM basics: 7/10 points
 *   | Test | Status | Points | Hint |  (one row per test)
 *   then, per failed test, a <details> block with its message in a code
 *   fence.
 *
 * GitHub-flavored Markdown (github.github.com/gfm, "Tables (extension)"):
 * a "|" inside a cell must be escaped as "\|", and a cell cannot hold a line
 * break, so newlines become <br>. Everything else that Markdown or HTML
 * would interpret (\ ` * _ [ ] < > & #) is escaped too, and a code fence is
 * made longer than any run of backticks in the text it holds.
 */
#ifndef VG_MARKDOWN_H
#define VG_MARKDOWN_H

#include <stdbool.h>
#include <stdio.h>

#include "grade.h"

void vg_markdown_print(FILE *out, const struct vg_result *result);
/* Write to path, or append to it when append is set (a job summary). */
int vg_markdown_write(const struct vg_result *result, const char *path,
                      bool append);
/* The file a bare --markdown writes to: $GITHUB_STEP_SUMMARY, or NULL. */
const char *vg_markdown_default_path(void);

#endif
