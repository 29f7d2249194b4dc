/*
 * vlab-grade - grade virtlab labs: build each stage against the reference
 * of every other stage, run its Criterion tests under a time limit, and
 * score them against the lab's rubric. See autograder/README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "formats.h"
#include "fsutil.h"
#include "text.h"
#include "gradescope.h"
#include "grade.h"
#include "integrity.h"
#include "extra.h"
#include "manifest.h"
#include "meta.h"
#include "mutants.h"
#include "report.h"
#include "runner.h"
#include "spawn.h"
#include "virtlab/error.h"

#ifndef VL_ROOT
#define VL_ROOT "."
#endif

#define EXIT_USAGE 2
#define MAX_LABS   64

enum expect { EXPECT_NOTHING, EXPECT_FULL, EXPECT_ZERO };

struct cli {
    char *root, *submission;
    const char *json;
    const char *labs[MAX_LABS];
    size_t nlabs;
    int timeout_sec;
    bool keep, verbose, mutants;
    enum expect expect;
    /* --batch DIR -j N --csv FILE --out DIR (batch.h) */
    char *batch;
    const char *csv, *out;
    unsigned jobs;
    const char *extra;         /* --extra-tests DIR (extra.h) */
    struct vg_outputs outputs; /* --junit, --tap, ... (formats.h) */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vlab-grade [--root DIR] [--submission DIR] "
            "[--lab NN|SLUG]...\n"
            "                  [--json FILE] [--timeout SEC] [--keep] "
            "[--verbose]\n"
            "                  [--expect full|zero] [--mutants]\n"
            "       vlab-grade --batch DIR [-j N] [--csv FILE] [--out DIR] "
            "[--lab NN|SLUG]...\n"
            "\n"
            "  --root DIR        the virtlab tree (default: the one this "
            "binary\n                    was built in, %s)\n"
            "  --submission DIR  folder shaped like labs/ holding the stage "
            "files\n"
            "                    to grade (default: ROOT/labs)\n"
            "  --lab NN|SLUG     grade this lab only (repeatable; default: "
            "all)\n"
            "  --json FILE       also write Gradescope's results.json to "
            "FILE\n"
            "  --timeout SEC     limit of each lab's test run (default: the "
            "lab's)\n"
            "  --keep            keep the work folders and say where they "
            "are\n"
            "  --verbose         show build commands and the tests' own "
            "output\n"
            "  --expect full     exit 0 only if every test passed\n"
            "  --expect zero     exit 0 only if no test passed and every lab "
            "built\n"
            "                    and ran to the end (for skeletons)\n"
            "  --mutants         check that each mutant in "
            "autograder/mutants/ is\n"
            "                    caught by the tests it names\n"
            "%s"
            "  --extra-tests DIR an instructor's private tests: "
            "DIR/<slug>/*.c and\n"
            "                    DIR/<slug>/rubric.json, graded with the "
            "lab's\n"
            "  --batch DIR       grade every subfolder of DIR (one "
            "submission each)\n"
            "  -j, --jobs N      grade N submissions at a time (default "
            "1)\n"
            "  --csv FILE        write the gradebook (one row per student) "
            "to FILE\n"
            "  --out DIR         write DIR/<student>/report.txt and "
            "results.json\n"
            "\n"
            "exit status: 0 all passed (or as --expect asked), 1 not, 2 "
            "usage,\n"
            "setup or grader error; with --batch: 0 every folder was graded, "
            "1 not\n",
            VL_ROOT, vg_outputs_usage);
}

static int parse_timeout(const char *arg, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || *end || v <= 0 || v > VG_TIMEOUT_MAX_SEC)
        return vl_err_plain(EINVAL,
                            "--timeout %s: give whole seconds in "
                            "1..%d",
                            arg, VG_TIMEOUT_MAX_SEC);
    *out = (int)v;
    return 0;
}

static int parse_expect(const char *arg, enum expect *out)
{
    if (strcmp(arg, "full") == 0)
        *out = EXPECT_FULL;
    else if (strcmp(arg, "zero") == 0)
        *out = EXPECT_ZERO;
    else
        return vl_err_plain(EINVAL, "--expect %s: say full or zero", arg);
    return 0;
}

static int parse_jobs(const char *arg, unsigned *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || *end || v < 1 || v > VG_BATCH_JOBS_MAX)
        return vl_err_plain(EINVAL, "-j %s: give a number of workers in 1..%d",
                            arg, VG_BATCH_JOBS_MAX);
    *out = (unsigned)v;
    return 0;
}

static int parse_option(struct cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'r':
        free(c->root);
        return (c->root = strdup(arg)) ? 0 : -ENOMEM;
    case 's':
        free(c->submission);
        return (c->submission = strdup(arg)) ? 0 : -ENOMEM;
    case 'l':
        if (c->nlabs == MAX_LABS)
            return vl_err_plain(EINVAL, "more than %d --lab options", MAX_LABS);
        c->labs[c->nlabs++] = arg;
        return 0;
    case 'J':
        c->json = arg;
        return 0;
    case 'b':
        free(c->batch);
        return (c->batch = strdup(arg)) ? 0 : -ENOMEM;
    case 'j':
        return parse_jobs(arg, &c->jobs);
    case 'c':
        c->csv = arg;
        return 0;
    case 'o':
        c->out = arg;
        return 0;
    case 't':
        return parse_timeout(arg, &c->timeout_sec);
    case 'e':
        return parse_expect(arg, &c->expect);
    case 'k':
        c->keep = true;
        return 0;
    case 'v':
        c->verbose = true;
        return 0;
    case 'm':
        c->mutants = true;
        return 0;
    case 'X':
        c->extra = arg;
        return 0;
    }
    if (opt >= VG_OPT_JUNIT)
        return vg_outputs_parse(&c->outputs, opt, arg);
    return vl_err_plain(EINVAL, "try vlab-grade --help");
}

/* Make a folder option absolute (the builds run elsewhere). */
static int resolve_dir(char **path, const char *what)
{
    char *real = realpath(*path, NULL);

    if (!real)
        return vl_err(errno, "%s %s", what, *path);
    free(*path);
    *path = real;
    if (!vg_is_dir(real))
        return vl_err_plain(ENOTDIR, "%s %s is not a folder", what, real);
    return 0;
}

/*
 * The tree this binary was built in: build/bin/vlab-grade sits two levels
 * below it, which stays right when the checkout is moved or copied. Fall
 * back to the path compiled in.
 */
static char *default_root(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *root;

    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');

            if (slash)
                *slash = '\0';
        }
        root = vg_strfmt("%s/autograder/labs", exe);
        if (root && access(root, F_OK) == 0) {
            free(root);
            return strdup(exe);
        }
        free(root);
    }
    return strdup(VL_ROOT);
}

static int check_cli(struct cli *c)
{
    int ret;

    if (c->mutants && (c->submission || c->json || c->expect))
        return vl_err_plain(EINVAL,
                            "--mutants grades patched reference "
                            "solutions: it takes no --submission, --json "
                            "or --expect");
    if (c->batch && (c->mutants || c->submission || c->json || c->expect))
        return vl_err_plain(EINVAL,
                            "--batch grades every subfolder of its folder: "
                            "it takes no --submission, --json, --expect or "
                            "--mutants (--out DIR writes each student's "
                            "results.json)");
    if ((c->batch || c->mutants) && vg_outputs_any(&c->outputs))
        return vl_err_plain(EINVAL, "--junit, --tap, --classroom, --markdown, "
                                    "--autolab and --leaderboard go with "
                                    "grading one submission");
    if ((ret = vg_outputs_check(&c->outputs, c->json)) < 0)
        return ret;
    if (!c->batch && (c->csv || c->out || c->jobs))
        return vl_err_plain(EINVAL, "-j, --csv and --out go with --batch DIR");
    if (!c->root && !(c->root = default_root()))
        return -ENOMEM;
    if ((ret = resolve_dir(&c->root, "--root")) < 0)
        return ret;
    if (c->batch)
        return resolve_dir(&c->batch, "--batch");
    if (!c->submission && !(c->submission = vg_strfmt("%s/labs", c->root)))
        return -ENOMEM;
    return resolve_dir(&c->submission, "--submission");
}

static int parse_cli(struct cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},
        {"submission", required_argument, NULL, 's'},
        {"lab", required_argument, NULL, 'l'},
        {"json", required_argument, NULL, 'J'},
        {"batch", required_argument, NULL, 'b'},
        {"jobs", required_argument, NULL, 'j'},
        {"csv", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"timeout", required_argument, NULL, 't'},
        {"expect", required_argument, NULL, 'e'},
        {"keep", no_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},
        {"mutants", no_argument, NULL, 'm'},
        {"extra-tests", required_argument, NULL, 'X'},
        {"junit", required_argument, NULL, VG_OPT_JUNIT},
        {"tap", required_argument, NULL, VG_OPT_TAP},
        {"classroom", required_argument, NULL, VG_OPT_CLASSROOM},
        {"markdown", optional_argument, NULL, VG_OPT_MARKDOWN},
        {"autolab", no_argument, NULL, VG_OPT_AUTOLAB},
        {"leaderboard", no_argument, NULL, VG_OPT_LEADERBOARD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, ret;

    while ((opt = getopt_long(argc, argv, "r:s:l:j:t:e:kvmh", longopts,
                              NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            exit(0);
        }
        if ((ret = parse_option(c, opt, optarg)) < 0)
            return ret;
    }
    if (optind < argc)
        return vl_err_plain(EINVAL, "unexpected argument \"%s\"", argv[optind]);
    return check_cli(c);
}

/* The manifests to grade, in course order, each once. */
static int select_labs(const struct cli *c, const struct vg_manifests *all,
                       const struct vg_manifest **sel, size_t *n)
{
    bool want[MAX_LABS * 4] = {false};

    *n = 0;
    if (all->n > sizeof(want) / sizeof(want[0]))
        return vl_err_plain(E2BIG, "too many labs (%zu)", all->n);
    for (size_t i = 0; i < c->nlabs; i++) {
        const struct vg_manifest *m = vg_manifests_find(all, c->labs[i]);

        if (!m)
            return vl_err_plain(ENOENT,
                                "--lab %s: no such lab (see "
                                "autograder/labs/)",
                                c->labs[i]);
        want[m - all->labs] = true;
    }
    for (size_t i = 0; i < all->n; i++)
        if (c->nlabs == 0 || want[i])
            sel[(*n)++] = &all->labs[i];
    return 0;
}

static int grade_all(const struct cli *c, const struct vg_manifests *all,
                     const struct vg_manifest *const *sel, size_t n,
                     struct vg_result *result)
{
    struct vg_grade_opts o = {
        .root = c->root,
        .submission = c->submission,
        .timeout_sec = c->timeout_sec,
        .keep = c->keep,
        .verbose = c->verbose,
        .progress = stderr,
        /* A skeleton's failures are expected: no flaky-test reruns. */
        .no_rerun = c->expect == EXPECT_ZERO,
    };
    double start = vg_now();
    int ret = 0;

    for (size_t i = 0; ret == 0 && i < n; i++) {
        struct vg_lab lab;

        ret = vg_grade_lab(&o, all, sel[i], &lab);
        if (ret == 0)
            ret = vg_result_add_lab(result, &lab);
        vg_lab_free(&lab);
    }
    result->seconds = vg_now() - start;
    return ret;
}

/* Rubric tests with this status, over every lab. */
static size_t count_status(const struct vg_result *r, enum vg_status status)
{
    size_t n = 0;

    for (size_t i = 0; i < r->nlabs; i++)
        for (size_t j = 0; j < r->labs[i].ntests; j++)
            n += r->labs[i].tests[j].in_rubric &&
                 r->labs[i].tests[j].status == status;
    return n;
}

/* " (2 environment skips)": why a full score was out of reach. */
static void print_skips(const struct vg_result *r)
{
    size_t skips = count_status(r, VG_SKIPPED);

    if (skips)
        printf("; %zu environment skip%s", skips, skips == 1 ? "" : "s");
}

/* "; passed: a::b, c::d": what a skeleton should not pass. */
static void print_passed(const struct vg_result *r)
{
    int shown = 0;

    for (size_t i = 0; i < r->nlabs; i++)
        for (size_t j = 0; j < r->labs[i].ntests; j++) {
            const struct vg_test *t = &r->labs[i].tests[j];

            if (!t->in_rubric || t->status != VG_PASSED)
                continue;
            if (shown < 5)
                printf("%s%s", shown ? ", " : "; passed: ", t->id);
            else if (shown == 5)
                printf(", ...");
            shown++;
        }
}

/* The exit status, after a one-line verdict when --expect asked for one. */
static int verdict(const struct cli *c, const struct vg_result *r)
{
    double got = vg_result_points(r), max = vg_result_max_points(r);

    if (vg_result_grader_error(r)) {
        printf("verdict: grader error (see above): the score is not "
               "trustworthy\n");
        return EXIT_USAGE;
    }
    switch (c->expect) {
    case EXPECT_NOTHING:
        return vg_result_full(r) ? 0 : 1;
    case EXPECT_FULL:
        printf("verdict: %s (%.4g/%.4g points",
               vg_result_full(r) ? "full score, as expected"
                                 : "FAILED: expected the full score",
               got, max);
        print_skips(r);
        printf(")\n");
        return vg_result_full(r) ? 0 : 1;
    case EXPECT_ZERO:
        if (vg_result_zero(r) && vg_result_clean(r)) {
            printf("verdict: zero, as expected, and every lab built and ran "
                   "to the end\n");
            return 0;
        }
        printf("verdict: FAILED: expected 0 points from a clean run, got "
               "%.4g/%.4g%s",
               got, max,
               vg_result_clean(r) ? ""
                                  : " and a lab did not build or run "
                                    "to the end");
        print_passed(r);
        printf("\n");
        return 1;
    }
    return 1;
}

static int run_mutants(const struct cli *c, const struct vg_manifests *all,
                       const struct vg_manifest *const *sel, size_t n)
{
    struct vg_grade_opts o = {
        .root = c->root,
        .timeout_sec = c->timeout_sec,
        .keep = c->keep,
        .verbose = c->verbose,
        .progress = stderr,
    };
    bool all_caught;
    int ret;

    ret = vg_mutants_check(&o, all, sel, n, stdout, &all_caught);
    if (ret < 0)
        return ret;
    printf("verdict: %s\n", all_caught ? "every mutant was caught"
                                       : "FAILED: some mutant was not caught");
    return all_caught ? 0 : 1;
}

/* After the report: protected files and stages to fix first, per lab,
 * then what makes the grade reproducible (integrity.h, meta.h). */
static void print_integrity(const struct vg_result *r)
{
    bool any = false;

    for (size_t i = 0; i < r->nlabs; i++) {
        if (!r->labs[i].nprotected && !r->labs[i].fix_first)
            continue;
        printf("%s  %s:\n", any ? "" : "\nIntegrity:\n", r->labs[i].slug);
        vg_integrity_print_lab(stdout, &r->labs[i], 4);
        any = true;
    }
    vg_meta_print_footer(stdout, r);
}

static int grade_and_report(const struct cli *c, const struct vg_manifests *all,
                            const struct vg_manifest *const *sel, size_t n)
{
    struct vg_report_opts ro = {.color = vg_report_want_color(stdout),
                                .verbose = c->verbose};
    struct vg_result result = {0};
    int ret;

    ret = vg_meta_collect(&result.meta, c->submission);
    if (ret == 0)
        ret = grade_all(c, all, sel, n, &result);
    if (ret == 0)
        ret = vg_integrity_fix_first(&result, all);
    if (ret == 0) {
        vg_report_terminal(stdout, &result, &ro);
        print_integrity(&result);
        if (c->json)
            ret = vg_gradescope_write_opts(
                &result, c->json,
                &(struct vg_gradescope_opts){.leaderboard =
                                                 c->outputs.leaderboard});
        if (ret == 0)
            ret = vg_outputs_write(&result, &c->outputs);
        if (ret == 0)
            ret = verdict(c, &result);
        if (ret >= 0 && vg_outputs_last_lines(stdout, &result, &c->outputs) < 0)
            ret = -EIO;
    }
    vg_result_free(&result);
    return ret;
}

static int run_batch(const struct cli *c, const struct vg_manifests *all,
                     const struct vg_manifest *const *sel, size_t n)
{
    struct vg_batch_opts o = {
        .root = c->root,
        .dir = c->batch,
        .jobs = c->jobs ? c->jobs : 1,
        .csv = c->csv,
        .out = c->out,
        .timeout_sec = c->timeout_sec,
        .keep = c->keep,
        .verbose = c->verbose,
        .progress = stderr,
    };

    return vg_batch_command(&o, all, sel, n);
}

static void cli_free(struct cli *c)
{
    free(c->batch);
    free(c->root);
    free(c->submission);
}

/* Print the current error and give the exit status for ret < 0. */
static int die_status(int ret)
{
    fprintf(stderr, "vlab-grade: %s\n",
            *vl_errmsg() ? vl_errmsg() : strerror(-ret));
    if (vg_interrupted())
        return 128 + vg_interrupted();
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    struct vg_manifests all = {0};
    const struct vg_manifest *sel[MAX_LABS * 4];
    size_t n = 0;
    int ret;

    ret = vg_interrupt_install();
    if (ret == 0)
        ret = parse_cli(&c, argc, argv);
    if (ret == 0)
        ret = vg_manifests_load(&all, c.root);
    if (ret == 0 && c.extra)
        ret = vg_manifests_add_extra(&all, c.root, c.extra);
    if (ret == 0)
        ret = select_labs(&c, &all, sel, &n);
    if (ret == 0)
        ret = c.batch     ? run_batch(&c, &all, sel, n)
              : c.mutants ? run_mutants(&c, &all, sel, n)
                          : grade_and_report(&c, &all, sel, n);
    if (ret < 0)
        ret = die_status(ret);
    vg_manifests_free(&all);
    cli_free(&c);
    fflush(stdout);
    return ret;
}
