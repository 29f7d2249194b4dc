/*
 * vlab-doctor - what this machine offers the virtlab labs, and how to fix
 * what it lacks (see virtlab/doctor.h for the checks).
 *
 *   vlab-doctor           one line per check, hints under the others
 *   vlab-doctor --quiet   only the WARN/FAIL lines and the summary
 *   vlab-doctor --json    the report as JSON, for the autograder and tests
 *
 * Exit status: 0 when no check FAILs (WARN is fine), 1 otherwise, 2 when
 * the doctor itself could not run.
 */
#include "virtlab/doctor.h"
#include "virtlab/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WIDTH 80 /* wrap hints to this many columns */

struct style {
    const char *on[4]; /* by enum vl_check_status */
    const char *dim;
    const char *off;
};

static const struct style plain = {{"", "", "", ""}, "", ""};
static const struct style ansi = {
    {"\033[32m", "\033[33m", "\033[1;31m", "\033[2m"}, "\033[2m", "\033[0m"};

/* Colours only on a terminal, and not when NO_COLOR is set
 * (https://no-color.org) or the terminal says it cannot. */
static const struct style *pick_style(void)
{
    const char *no = getenv("NO_COLOR");
    const char *term = getenv("TERM");

    if (!isatty(STDOUT_FILENO) || (no && no[0]) ||
        (term && strcmp(term, "dumb") == 0))
        return &plain;
    return &ansi;
}

/* Print text word-wrapped, every line indented by indent columns. */
static void print_wrapped(const char *text, int indent, const char *pre,
                          const char *post)
{
    int col = indent;

    printf("%*s%s", indent, "", pre);
    while (*text) {
        int len = (int)strcspn(text, " ");

        if (col > indent && col + 1 + len > WIDTH) {
            printf("%s\n%*s%s", post, indent, "", pre);
            col = indent;
        } else if (col > indent) {
            putchar(' ');
            col++;
        }
        printf("%.*s", len, text);
        col += len;
        text += len;
        while (*text == ' ')
            text++;
    }
    printf("%s\n", post);
}

static void print_report(const struct vl_doctor_report *r, bool quiet)
{
    const struct style *st = pick_style();
    int idw = 0;

    for (int i = 0; i < r->nchecks; i++) {
        int n = (int)strlen(r->checks[i].id);

        idw = n > idw ? n : idw;
    }
    for (int i = 0; i < r->nchecks; i++) {
        const struct vl_check *c = &r->checks[i];
        char status[8];

        if (quiet && (c->status == VL_CHECK_OK || c->status == VL_CHECK_SKIP))
            continue;
        snprintf(status, sizeof(status), "%s", vl_check_status_name(c->status));
        for (char *p = status; *p; p++)
            *p = (char)(*p - 'a' + 'A');
        printf("%s%-5s%s %-*s  %s\n", st->on[c->status], status, st->off, idw,
               c->id, c->summary);
        if (c->hint[0] && c->status != VL_CHECK_OK)
            print_wrapped(c->hint, 6 + idw + 2, st->dim, st->off);
    }
    printf("\n%d checks: %d ok, %d warn, %d fail, %d skip", r->nchecks,
           vl_doctor_count(r, VL_CHECK_OK), vl_doctor_count(r, VL_CHECK_WARN),
           vl_doctor_count(r, VL_CHECK_FAIL),
           vl_doctor_count(r, VL_CHECK_SKIP));
    if (vl_doctor_count(r, VL_CHECK_FAIL))
        printf(" - the labs that need the FAIL lines cannot run here\n");
    else
        printf(" - ready for the labs\n");
}

static void usage(FILE *out)
{
    fprintf(out, "usage: vlab-doctor [--json] [--quiet]\n"
                 "Checks what this machine offers the virtlab labs: KVM and "
                 "its speed,\nnamespaces, cgroups, seccomp, overlayfs.\n"
                 "  --json   print the report as JSON\n"
                 "  --quiet  print only the WARN and FAIL lines\n"
                 "Exit status: 0 when nothing FAILs, 1 otherwise.\n");
}

int main(int argc, char **argv)
{
    static struct vl_doctor_report r;
    bool json = false, quiet = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--quiet") == 0 ||
                   strcmp(argv[i], "-q") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "vlab-doctor: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    if (vl_doctor_run(&r) < 0) {
        fprintf(stderr, "vlab-doctor: %s\n", vl_errmsg());
        return 2;
    }
    if (json) {
        char *text = NULL;

        if (vl_doctor_to_json(&r, &text) < 0) {
            fprintf(stderr, "vlab-doctor: %s\n", vl_errmsg());
            return 2;
        }
        puts(text);
        free(text);
    } else {
        print_report(&r, quiet);
    }
    return vl_doctor_count(&r, VL_CHECK_FAIL) ? 1 : 0;
}
