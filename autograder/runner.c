/* runner.c - grade one lab (see runner.h). */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crlog.h"
#include "flaky.h"
#include "fsutil.h"
#include "hints.h"
#include "integrity.h"
#include "meta.h"
#include "rubric.h"
#include "sandbox.h"
#include "spawn.h"
#include "stage.h"
#include "tap.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* Lines of the test binary's last output quoted when it died. */
#define TAIL_LINES 15

static void __attribute__((format(printf, 2, 3)))
progress(const struct vg_grade_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (!o->progress)
        return;
    va_start(ap, fmt);
    vfprintf(o->progress, fmt, ap);
    va_end(ap);
    fputc('\n', o->progress);
    fflush(o->progress);
}

/* A lab whose tests could not run: each rubric test gets `status`. */
static int lab_not_tested(struct vg_lab *lab, const struct vg_manifest *m,
                          enum vg_outcome outcome, const char *message,
                          enum vg_status status, const char *why)
{
    int ret;

    lab->outcome = outcome;
    ret = vg_lab_set_message(lab, message);
    return ret < 0 ? ret : vg_rubric_score(lab, m, NULL, status, why);
}

/* The grader or the course setup failed: the current error says how. */
static int grader_error(struct vg_lab *lab, const struct vg_manifest *m)
{
    _vl_cleanup_free_ char *msg = strdup(vl_errmsg());

    return lab_not_tested(lab, m, VG_LAB_GRADER_ERROR,
                          msg ? msg : "out of memory", VG_NOT_RUN,
                          "not graded: the grader hit a problem (see the "
                          "lab's message)");
}

static int build_lab(const struct vg_grade_opts *o,
                     const struct vg_manifests *all,
                     const struct vg_manifest *m, const char *work,
                     struct vg_lab *lab, bool *built)
{
    struct vg_build b;
    int ret;

    *built = false;
    progress(o, "building %s...", m->slug);
    ret = vg_stage_build(o->root, all, m, work, o->verbose, &b);
    if (ret == -EINTR)
        return ret;
    if (ret < 0)
        return grader_error(lab, m);
    *built = b.built;
    if (!b.built)
        ret =
            lab_not_tested(lab, m, VG_LAB_BUILD_FAILED, b.errors, VG_NOT_BUILT,
                           "not built: the stage did not compile");
    vg_build_free(&b);
    return ret;
}

/* Why a run did not end in a full report, and what it printed last. */
static char *incomplete_message(const struct vg_spawn_result *res,
                                const struct vg_tap *tap, bool have_tap)
{
    char how[128], counted[96] = "";

    vg_wait_status_describe(res->wait_status, how, sizeof(how));
    if (have_tap && tap->planned >= 0)
        snprintf(counted, sizeof(counted),
                 " after reporting %zu of %ld "
                 "tests",
                 tap->reported, tap->planned);
    if (res->output_len == 0)
        return vg_strfmt("the test binary %s%s%s, and printed nothing", how,
                         counted, have_tap ? "" : " without a TAP report");
    return vg_strfmt("the test binary %s%s%s; its last output%s:\n%s", how,
                     counted, have_tap ? "" : " without a TAP report",
                     res->output_truncated ? " (cut at the output limit)" : "",
                     vg_text_tail(res->output, TAIL_LINES));
}

static char *timeout_message(const struct vg_spawn_result *res, int limit)
{
    _vl_cleanup_free_ char *running = vg_crlog_unfinished(res->kept, 5);

    if (!running)
        return vg_strfmt("the tests ran past the lab's %d s limit and were "
                         "stopped",
                         limit);
    return vg_strfmt("the tests ran past the lab's %d s limit and were "
                     "stopped; still running then: %s (an endless loop, or "
                     "a guest that never stops?)",
                     limit, running);
}

/* Add the sanitizer reports found in the output to the lab's message. */
static int note_sanitizer(struct vg_lab *lab, const struct vg_spawn_result *res,
                          const char *root, const char *work)
{
    _vl_cleanup_free_ char *found = vg_crlog_sanitizer(res->kept, 10);
    _vl_cleanup_free_ char *shortened = NULL, *msg = NULL;

    if (!found)
        return 0;
    shortened = vg_stage_shorten_paths(found, root, work);
    msg = vg_strfmt("%s%ssanitizer reports in the tests' output:\n%s",
                    lab->message ? lab->message : "", lab->message ? "\n" : "",
                    shortened ? shortened : found);
    return msg ? vg_lab_set_message(lab, msg) : -ENOMEM;
}

/* Decide the lab's outcome and score every rubric test. */
static int score_run(struct vg_lab *lab, const struct vg_manifest *m,
                     const struct vg_spawn_result *res,
                     const struct vg_tap *tap, bool have_tap, bool complete,
                     int limit)
{
    _vl_cleanup_free_ char *msg = NULL;
    enum vg_status unreported = VG_NOT_RUN;
    const char *why;
    int ret;

    if (res->timed_out) {
        lab->outcome = VG_LAB_TIMED_OUT;
        msg = timeout_message(res, limit);
        unreported = VG_TIMED_OUT;
        why = "no result: the lab's time limit ran out first";
    } else if (!complete || !WIFEXITED(res->wait_status)) {
        lab->outcome = VG_LAB_INCOMPLETE;
        msg = incomplete_message(res, tap, have_tap);
        why = "no result: the test binary stopped before reporting it";
    } else {
        lab->outcome = VG_LAB_RAN;
        why = "no result: the tests never reported it (is the rubric's "
              "test name right?)";
    }
    if (lab->outcome != VG_LAB_RAN && !msg)
        return vl_err(ENOMEM, "recording the run of %s", m->slug);
    ret = vg_lab_set_message(lab, msg);
    if (ret < 0)
        return ret;
    return vg_rubric_score(lab, m, have_tap ? tap : NULL, unreported, why);
}

/*
 * Parse the TAP report if the run left one. An unreadable report counts as
 * none (the tested code could have replaced it); only memory errors fail.
 */
static int read_report(const char *path, struct vg_tap *tap, bool *have,
                       bool *complete)
{
    _vl_cleanup_free_ char *text = NULL;
    bool truncated = false;
    size_t len;
    int ret;

    *have = *complete = false;
    if (vg_read_file(path, VG_TAP_CAP, &text, &len, &truncated) < 0)
        return 0;
    ret = vg_tap_parse(tap, text, len);
    if (ret < 0)
        return ret;
    *have = true;
    *complete = !truncated && vg_tap_complete(tap);
    return 0;
}

int vg_stage_test_spawn(const struct vg_grade_opts *o, const char *work,
                        const char *filter, const char *tap_path, int limit,
                        struct vg_spawn_result *res)
{
    _vl_cleanup_free_ char *bin = vg_strfmt("%s/out/stage-test", work);
    _vl_cleanup_free_ char *tap_arg = vg_strfmt("--tap=%s", tap_path);
    _vl_cleanup_free_ char *filter_arg =
        filter ? vg_strfmt("--filter=%s", filter) : NULL;
    /* --verbose: progress lines, to name a hung test; -S: "x_test.c:3"
     * rather than the test file's full path in failure messages. */
    const char *argv[] = {bin, tap_arg, "--verbose", "-S", filter_arg, NULL};
    /* As labs/Makefile's `make test`: LeakSanitizer would report
     * Criterion's own leaks at exit, which no student can fix. */
    const char *env[] = {"ASAN_OPTIONS=detect_leaks=0",
                         o->skip_slow ? "VLAB_SKIP_SLOW=1" : NULL, NULL};
    /* Set in Criterion's own workers: were the grader run inside one (its
     * tests), the stage-test would take itself for a worker and abort. */
    static const char *const unset[] = {"BXFI_MAP", NULL};
    struct vg_spawn_opts opts = {
        .argv = argv,
        .default_env = env,
        .unset_env = unset,
        .cwd = work,
        .limit_sec = limit,
        .output_cap = VG_RUN_OUTPUT_CAP,
        .keep_line = vg_crlog_keep,
    };
    int ret;

    *res = (struct vg_spawn_result){0};
    if (!bin || !tap_arg || (filter && !filter_arg))
        return vl_err(ENOMEM, "running %s/out/stage-test", work);
    opts.sandbox = o->sandbox;
    ret = vg_spawn(&opts, res);
    if (res->pid > 0 &&
        (ret < 0 || res->timed_out || !WIFEXITED(res->wait_status)))
        vg_crlog_remove_socket(res->pid); /* the runner was killed */
    return ret;
}

int vg_run_stage_test(const struct vg_grade_opts *o,
                      const struct vg_manifest *m, const char *work,
                      struct vg_lab *lab)
{
    _vl_cleanup_free_ char *tap_path = vg_strfmt("%s/out/results.tap", work);
    int limit = o->timeout_sec > 0 ? o->timeout_sec : m->timeout_sec;
    struct vg_spawn_result res;
    struct vg_tap tap = {.planned = -1};
    bool have_tap, complete;
    int ret;

    if (!tap_path)
        return vl_err(ENOMEM, "running %s", m->slug);
    progress(o, "running %s (limit %d s)...", m->slug, limit);
    ret = vg_stage_test_spawn(o, work, NULL, tap_path, limit, &res);
    if (ret < 0) {
        vg_spawn_result_free(&res);
        return ret == -EINTR ? ret : grader_error(lab, m);
    }
    ret = read_report(tap_path, &tap, &have_tap, &complete);
    if (ret == 0)
        ret = score_run(lab, m, &res, &tap, have_tap, complete, limit);
    if (ret == 0)
        ret = note_sanitizer(lab, &res, o->root, work);
    if (ret == 0) /* a limit the tests hit, or one the box lacked */
        ret = vg_sandbox_note_lab(lab, &res);
    /* Hints and excerpts for failing tests: they only explain (hints.h). */
    if (ret == 0)
        ret = vg_hints_apply(lab, m, res.output, o->root, work);
    lab->log = vl_steal_ptr(&res.output);
    vg_tap_free(&tap);
    vg_spawn_result_free(&res);
    return ret;
}

/*
 * minictr's tests share what container runtimes share on one host: the
 * users lab 11 adds, lab 15's bridge, and lab 12's cgroups, named after
 * minictr's pid, which is the same small number in every sandbox's PID
 * namespace. Two gradings running minictr's tests at once (--batch -j N,
 * or two vlab-grade processes) would remove or report each other's
 * cgroups, so those test runs take turns on a host-wide lock. minivm's
 * labs (one KVM guest per test) and every build still run side by side.
 * *fd is -1 when no lock is needed or none can be had (then the runs do
 * not wait); -EINTR when the grader was interrupted while waiting.
 */
#define HOST_LOCK "vlab-grade-minictr.lock"

static int take_host_lock(const struct vg_grade_opts *o,
                          const struct vg_manifest *m, int *fd)
{
    const char *dirs[] = {"/run/lock", "/tmp"};

    *fd = -1;
    if (strcmp(m->program, "minictr") != 0)
        return 0;
    for (size_t i = 0; i < 2 && *fd < 0; i++) {
        char path[64];

        snprintf(path, sizeof(path), "%s/%s", dirs[i], HOST_LOCK);
        *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (*fd < 0 || flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    progress(o, "waiting: another grading is running minictr's tests...");
    while (flock(*fd, LOCK_EX) < 0 && errno == EINTR && !vg_interrupted())
        ;
    if (vg_interrupted()) {
        close(*fd);
        *fd = -1;
        return -EINTR;
    }
    return 0;
}

static int grade_in(const struct vg_grade_opts *o,
                    const struct vg_manifests *all, const struct vg_manifest *m,
                    const char *work, struct vg_lab *lab)
{
    bool submission_fault, built;
    int ret, lock;

    ret = vg_stage_assemble(o->root, o->submission, all, m, work,
                            &submission_fault);
    if (ret < 0 && submission_fault)
        return lab_not_tested(lab, m, VG_LAB_BUILD_FAILED, vl_errmsg(),
                              VG_NOT_BUILT,
                              "not built: a stage file is "
                              "missing or unusable");
    if (ret < 0)
        return grader_error(lab, m);
    ret = build_lab(o, all, m, work, lab, &built);
    if (ret < 0 || !built)
        return ret;
    ret = take_host_lock(o, m, &lock);
    if (ret < 0)
        return ret;
    ret = vg_run_stage_test(o, m, work, lab);
    /* A failed test that passes alone is flaky, not a pass (flaky.h). */
    if (ret >= 0)
        ret = vg_flaky_rerun(o, m, work, lab);
    if (lock >= 0)
        close(lock); /* and with it the lock */
    return ret;
}

/* Remove the work folder, or say where it stays. */
static void finish_workdir(const struct vg_grade_opts *o, const char *work)
{
    FILE *out = o->progress ? o->progress : stderr;

    if (o->keep) {
        fprintf(out, "kept the work folder: %s\n", work);
        return;
    }
    if (vg_remove_tree(work) < 0)
        fprintf(out, "warning: %s\n", vl_errmsg());
}

static bool told_no_sandbox;

int vg_grade_lab(const struct vg_grade_opts *o, const struct vg_manifests *all,
                 const struct vg_manifest *m, struct vg_lab *lab)
{
    _vl_cleanup_free_ char *work = NULL;
    struct vg_grade_opts boxed = *o; /* o with the lab's sandbox */
    struct vg_sandbox_conf sandbox;
    double start = vg_now();
    int ret;

    ret = vg_lab_init(lab, m->lab, m->slug, m->title);
    if (ret < 0)
        return ret;
    /* The sandbox's namespaces and cgroups need root. A student grading
     * their own work as themselves runs the tests as before: in a process
     * group with a time limit, killed at the end (README, "The sandbox"). */
    boxed.sandbox = geteuid() == 0 ? &sandbox : NULL;
    if (!boxed.sandbox && o->progress && !told_no_sandbox) {
        fprintf(o->progress, "note: not root: the tests run without the "
                             "sandbox (no namespaces, no cgroup limits); "
                             "graders run vlab-grade as root\n");
        told_no_sandbox = true;
    }
    ret = vg_make_workdir(m->slug, &work);
    if (ret == 0)
        ret = vg_sandbox_conf_load(m, o->root, &sandbox);
    if (ret < 0)
        ret = grader_error(lab, m);
    else
        ret = grade_in(&boxed, all, m, work, lab);
    /* Reproducibility and integrity (meta.h, integrity.h). */
    if (ret == 0)
        ret = vg_meta_lab_hashes(o->root, m, lab);
    if (ret == 0)
        ret = vg_integrity_protected(o->root, o->submission, m, lab);
    if (work)
        finish_workdir(o, work);
    lab->seconds = vg_now() - start;
    return ret;
}
