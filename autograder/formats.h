/*
 * formats.h - what every report writer shares (gradescope.c, junit.c,
 * tapout.c, classroom.c, markdown.c, autolab.c): one way to make text from
 * the result model safe to copy into a file format, and one wording of a
 * test's outcome.
 *
 * The text in the model comes in part from the students' programs (failure
 * details, guest and container output), so it may hold anything: invalid
 * UTF-8, NUL and control characters, megabytes. Each writer copies it only
 * through vg_fmt_clean(), which bounds its size and leaves only characters
 * that XML 1.0 ("Extensible Markup Language 1.0", section 2.2 Characters),
 * JSON (RFC 8259, which needs valid UTF-8) and YAML accept.
 */
#ifndef VG_FORMATS_H
#define VG_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "grade.h"

/* Longest text copied per test (message, hint, excerpt together). */
#define VG_FMT_TEXT_MAX 8192
/* Longest text copied per lab or submission (logs, summaries). */
#define VG_FMT_LOG_MAX  65536

/* s, or "" for NULL. */
static inline const char *vg_fmt_str(const char *s)
{
    return s ? s : "";
}

/*
 * A copy of s (NULL reads as "") that is valid UTF-8, holds no control
 * character but tab and newline (a carriage return is dropped, any other
 * becomes U+FFFD, as do invalid bytes and U+FFFE/U+FFFF), and is at most
 * max bytes long plus a "[... N bytes cut]" note, cut on a character
 * boundary. NULL when memory runs out.
 */
char *vg_fmt_clean(const char *s, size_t max);

/* Would these statuses be a CI "error" (the test could not give a verdict:
 * crashed, timed out, not built, not run) rather than a failure? */
bool vg_fmt_is_error(enum vg_status status);

/*
 * What a student reads about one test, cleaned and capped at max: the
 * status and why ("failed: t.c:3: Assertion failed ..."), a skip worded as
 * the environment's doing, then the hint and the output excerpt if any.
 */
char *vg_fmt_test_message(const struct vg_test *t, size_t max);

/* A lab's one-line summary: "01-kvm-basics KVM basics: 7/10 points (build
 * failed)", cleaned. */
char *vg_fmt_lab_summary(const struct vg_lab *lab);

/* "2", "2.5", "1000": points without trailing zeros (a fraction with at
 * most 4 significant digits), into buf. */
const char *vg_fmt_points(char buf[32], double points);

/* Open path to write (append: at its end), or fail naming it. */
int vg_fmt_open(const char *path, bool append, FILE **out);
/* Close what vg_fmt_open() opened; a failed write is an error naming
 * path. */
int vg_fmt_close(FILE *f, const char *path);

/*
 * The report files a run asked for, besides the terminal's and Gradescope's
 * (main.c's --junit FILE, --tap FILE, --classroom FILE, --markdown[=FILE],
 * --autolab, --leaderboard). Their getopt codes start above every
 * character, so they never clash with a short option; they are long
 * options only.
 */
enum {
    VG_OPT_JUNIT = 0x100,
    VG_OPT_TAP,
    VG_OPT_CLASSROOM,
    VG_OPT_MARKDOWN,
    VG_OPT_AUTOLAB,
    VG_OPT_LEADERBOARD,
};

struct vg_outputs {
    const char *junit, *tap, *classroom, *markdown;
    bool markdown_summary; /* bare --markdown: append to the job summary */
    bool autolab;          /* Autolab's autoresult as the last line */
    bool leaderboard;      /* a leaderboard in results.json */
};

/* The --help lines of these options. */
extern const char vg_outputs_usage[];

/* Record option opt (a VG_OPT_*) with its argument (or NULL). */
int vg_outputs_parse(struct vg_outputs *o, int opt, const char *arg);
/* Was any of these options given? */
bool vg_outputs_any(const struct vg_outputs *o);
/* Check the options together, with json the --json FILE or NULL. */
int vg_outputs_check(const struct vg_outputs *o, const char *json);
/* Write the files asked for. */
int vg_outputs_write(const struct vg_result *result,
                     const struct vg_outputs *o);
/* Print what must end stdout: the classroom's "Points X/Y" line, then
 * Autolab's autoresult, which must be the very last line. */
int vg_outputs_last_lines(FILE *out, const struct vg_result *result,
                          const struct vg_outputs *o);

#endif
