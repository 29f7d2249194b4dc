/* stage.c - stage isolation and the lab build (see stage.h). */
#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "refarchive.h"
#include "spawn.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#define BUILD_OUTPUT_CAP (64u << 10)

char *vg_stage_shorten_paths(const char *text, const char *root,
                             const char *work)
{
    _vl_cleanup_free_ char *work_src = vg_strfmt("%s/src/", work);
    _vl_cleanup_free_ char *root_dir = vg_strfmt("%s/", root);
    _vl_cleanup_free_ char *a = NULL;

    if (!work_src || !root_dir)
        return NULL;
    a = vg_text_replace(text, work_src, "");
    return a ? vg_text_replace(a, root_dir, "") : NULL;
}

static bool same_program(const struct vg_manifest *a,
                         const struct vg_manifest *b)
{
    return strcmp(a->program, b->program) == 0;
}

/* A file the submission must provide is missing or unusable. */
static int submission_file_error(int ret, const char *submission,
                                 const char *slug, const char *file)
{
    if (ret == -ENOENT)
        return vl_err_plain(ENOENT,
                            "%s/%s/%s is missing: the submission "
                            "must contain the stage file %s of lab %s",
                            submission, slug, file, file, slug);
    return vl_err_ctx(ret, "taking %s from the submission", file);
}

/*
 * SUBMISSION/<slug> must not be a symlink: a link to the reference
 * solutions (say /autograder/source/solutions/<slug> on a grading server)
 * would otherwise be graded as the student's work.
 */
static int check_not_linked(const char *from, const char *slug)
{
    _vl_cleanup_free_ char *dir = vg_strfmt("%s/%s", from, slug);
    struct stat st;

    if (!dir)
        return vl_err(ENOMEM, "checking %s", slug);
    if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
        return vl_err_plain(ELOOP,
                            "%s is a symlink: submit the folder "
                            "itself",
                            dir);
    return 0;
}

/* Copy the stage files of manifest m from FROM/<slug>/ to WORK/src/<slug>/. */
static int copy_stage(const char *from, const struct vg_manifest *m,
                      const char *work, bool from_submission,
                      bool *submission_fault)
{
    _vl_cleanup_free_ char *dir = vg_strfmt("%s/src/%s", work, m->slug);
    int ret;

    if (!dir)
        return vl_err(ENOMEM, "assembling %s", m->slug);
    if ((ret = vg_mkdir(dir)) < 0)
        return ret;
    if (from_submission && (ret = check_not_linked(from, m->slug)) < 0) {
        *submission_fault = true;
        return ret;
    }
    for (size_t i = 0; i < m->nstage_files; i++) {
        const char *file = m->stage_files[i];
        _vl_cleanup_free_ char *src =
            vg_strfmt("%s/%s/%s", from, m->slug, file);
        _vl_cleanup_free_ char *dst = vg_strfmt("%s/%s", dir, file);

        if (!src || !dst)
            return vl_err(ENOMEM, "assembling %s", m->slug);
        ret = vg_copy_file(src, dst, VG_STAGE_FILE_MAX);
        if (ret == -ENOENT && !from_submission) /* a student release */
            ret = vg_ref_extract(from, m, file, dir);
        if (ret < 0 && from_submission) {
            *submission_fault = true;
            return submission_file_error(ret, from, m->slug, file);
        }
        if (ret < 0)
            return vl_err_ctx(ret, "taking the reference %s of lab %s", file,
                              m->slug);
    }
    return 0;
}

int vg_stage_assemble(const char *root, const char *submission,
                      const struct vg_manifests *all,
                      const struct vg_manifest *lab, const char *work,
                      bool *submission_fault)
{
    _vl_cleanup_free_ char *src = vg_strfmt("%s/src", work);
    _vl_cleanup_free_ char *solutions = vg_strfmt("%s/solutions", root);
    int ret;

    *submission_fault = false;
    if (!src || !solutions)
        return vl_err(ENOMEM, "assembling %s", lab->slug);
    if ((ret = vg_mkdir(src)) < 0)
        return ret;
    for (size_t i = 0; i < all->n; i++) {
        const struct vg_manifest *m = &all->labs[i];
        bool mine = strcmp(m->slug, lab->slug) == 0;

        if (!same_program(m, lab))
            continue;
        ret = copy_stage(mine ? submission : solutions, m, work, mine,
                         submission_fault);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* ---- the build ------------------------------------------------------ */

/* The make variables of one lab build, each a space-separated list. */
struct build_vars {
    char *buildmk, *stage_srcs, *tests, *guest_dirs, *libdir, *out, *target;
};

static void build_vars_free(struct build_vars *v)
{
    free(v->buildmk);
    free(v->stage_srcs);
    free(v->tests);
    free(v->guest_dirs);
    free(v->libdir);
    free(v->out);
    free(v->target);
}

/* make splits its lists at blanks: a path with one cannot be passed. */
static int check_no_blank(const char *path)
{
    if (strpbrk(path, " \t\n"))
        return vl_err_plain(EINVAL,
                            "\"%s\" contains a blank, which make "
                            "cannot handle: use a path without one",
                            path);
    return 0;
}

static int need_file(const char *path, const char *what, const char *fix)
{
    if (!vg_is_file(path))
        return vl_err_plain(ENOENT, "%s %s is missing%s", what, path, fix);
    return check_no_blank(path);
}

static int need_dir(const char *path, const char *what)
{
    if (!vg_is_dir(path))
        return vl_err_plain(ENOENT, "%s %s is missing", what, path);
    return check_no_blank(path);
}

static bool is_c_file(const char *file)
{
    size_t n = strlen(file);

    return n > 2 && strcmp(file + n - 2, ".c") == 0;
}

/* WORK/src/<slug>/<file>.c for every stage of the lab's program. */
static char *stage_sources(const struct vg_manifests *all,
                           const struct vg_manifest *lab, const char *work)
{
    const char *sep = "";
    char *list = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&list, &len);

    if (!f)
        return NULL;
    for (size_t i = 0; i < all->n; i++) {
        const struct vg_manifest *m = &all->labs[i];

        for (size_t j = 0; same_program(m, lab) && j < m->nstage_files; j++) {
            char *src; /* the .c, or its object from a release archive */

            if (!is_c_file(m->stage_files[j]))
                continue; /* a header: found through -I<its folder> */
            src = vg_ref_source(work, m->slug, m->stage_files[j]);
            fprintf(f, "%s%s", sep, src ? src : "(out of memory)");
            free(src);
            sep = " ";
        }
    }
    if (fclose(f) != 0) {
        free(list);
        return NULL;
    }
    return list;
}

/* ROOT/labs/<slug>/<test> for every test file, each checked to exist. */
static int test_sources(const char *root, const struct vg_manifest *lab,
                        char **out)
{
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    int ret = 0;

    if (!f)
        return vl_err(ENOMEM, "listing tests");
    for (size_t i = 0; ret == 0 && i < lab->ntests; i++) {
        _vl_cleanup_free_ char *path =
            vg_strfmt("%s/labs/%s/%s", root, lab->slug, lab->tests[i]);

        ret = path ? need_file(path, "test file", "")
                   : vl_err(ENOMEM, "listing tests");
        if (ret == 0)
            fprintf(f, "%s%s", i ? " " : "", path);
    }
    /* --extra-tests: the instructor's private tests (absolute paths) */
    for (size_t i = 0; ret == 0 && i < lab->nextra_tests; i++)
        if ((ret = need_file(lab->extra_tests[i], "private test", "")) == 0)
            fprintf(f, " %s", lab->extra_tests[i]);
    if (fclose(f) != 0 && ret == 0)
        ret = vl_err(ENOMEM, "listing tests");
    return ret;
}

/* Fail when an input the course provides is missing. */
static int check_course_inputs(const char *root, const struct vg_manifest *lab,
                               const char *work, const struct build_vars *v)
{
    _vl_cleanup_free_ char *driver =
        vg_strfmt("%s/labs/%s", root, lab->program);
    _vl_cleanup_free_ char *lib = vg_strfmt("%s/libvirtlab.a", v->libdir);
    int ret;

    if (!driver || !lib)
        return vl_err(ENOMEM, "checking the build inputs");
    if ((ret = check_no_blank(work)) < 0 ||
        (ret = need_file(v->buildmk, "the build file", "")) < 0 ||
        (ret = need_dir(driver, "the driver folder")) < 0 ||
        (ret = need_file(lib, "the sanitizer build of libvirtlab",
                         ": run `make lib` at the top of the tree")) < 0)
        return ret;
    if (lab->guests && (ret = need_dir(v->guest_dirs, "guest folder")) < 0)
        return ret;
    return 0;
}

static int build_vars_init(struct build_vars *v, const char *root,
                           const struct vg_manifests *all,
                           const struct vg_manifest *lab, const char *work)
{
    int ret;

    *v = (struct build_vars){0};
    v->buildmk = vg_strfmt("%s/autograder/build.mk", root);
    v->libdir = vg_strfmt("%s/build/lib-san", root);
    v->out = vg_strfmt("%s/out", work);
    v->target = vg_strfmt("%s/out/stage-test", work);
    v->stage_srcs = stage_sources(all, lab, work);
    v->guest_dirs =
        lab->guests ? vg_strfmt("%s/labs/%s/%s", root, lab->slug, lab->guests)
                    : strdup("");
    if (!v->buildmk || !v->libdir || !v->out || !v->target || !v->stage_srcs ||
        !v->guest_dirs)
        return vl_err(ENOMEM, "preparing the build of %s", lab->slug);
    if ((ret = check_course_inputs(root, lab, work, v)) < 0)
        return ret;
    return test_sources(root, lab, &v->tests);
}

/* Compiler output as the student should read it: paths short, 40 lines,
 * without make's own "make: *** [...] Error 1" lines. */
static char *shorten_log(const char *log, const char *root, const char *work)
{
    static const char *const make_noise[] = {"make: ***", "make[", NULL};
    _vl_cleanup_free_ char *a = vg_stage_shorten_paths(log, root, work);
    _vl_cleanup_free_ char *b = a ? vg_text_drop_lines(a, make_noise) : NULL;

    return b ? vg_text_head(b, VG_BUILD_LOG_LINES) : NULL;
}

static int record_build(const struct vg_spawn_result *res, const char *root,
                        const char *work, const struct build_vars *v,
                        struct vg_build *build)
{
    char how[128];

    build->timed_out = res->timed_out;
    build->built = !res->timed_out && WIFEXITED(res->wait_status) &&
                   WEXITSTATUS(res->wait_status) == 0 && vg_is_file(v->target);
    if (build->built)
        return 0;
    if (res->timed_out)
        build->errors = vg_strfmt("the build ran longer than %d s and was "
                                  "stopped\n",
                                  VG_BUILD_LIMIT_SEC);
    else if (res->output_len > 0)
        build->errors = shorten_log(res->output, root, work);
    else {
        vg_wait_status_describe(res->wait_status, how, sizeof(how));
        build->errors = vg_strfmt("make %s and printed nothing\n", how);
    }
    return build->errors ? 0 : vl_err(ENOMEM, "recording compiler output");
}

static void print_command(const char *const *argv)
{
    fprintf(stderr, "  $");
    for (size_t i = 0; argv[i]; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, "\n");
}

/* make's -j: one job per online CPU, at most 4. Each source is an object
 * of its own (build.mk), and most come from ccache; the first, cold build
 * of a program is what the jobs shorten. */
static int build_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

/* make -f build.mk VAR=... WORK/out/stage-test, under a time limit. */
static int run_make(const char *root, const struct vg_manifest *lab,
                    const char *work, const struct build_vars *v, bool verbose,
                    struct vg_build *build)
{
    static const char *const unset[] = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL",
                                        "MAKEFILES", NULL};
    _vl_cleanup_free_ char *a_root = vg_strfmt("ROOT=%s", root);
    _vl_cleanup_free_ char *a_out = vg_strfmt("OUT=%s", v->out);
    _vl_cleanup_free_ char *a_prog = vg_strfmt("PROGRAM=%s", lab->program);
    _vl_cleanup_free_ char *a_srcs = vg_strfmt("STAGE_SRCS=%s", v->stage_srcs);
    _vl_cleanup_free_ char *a_tests = vg_strfmt("TESTS=%s", v->tests);
    _vl_cleanup_free_ char *a_guests =
        vg_strfmt("GUEST_DIRS=%s", v->guest_dirs);
    _vl_cleanup_free_ char *a_lib = vg_strfmt("LIBDIR=%s", v->libdir);
    _vl_cleanup_free_ char *a_jobs = vg_strfmt("-j%d", build_jobs());
    /* -O: each job's output whole (compiler errors are not interleaved);
     * RELOCATABLE=1: the work folder's name stays out of the objects, so
     * that build.mk's ccache reuses them in the next run (see build.mk) */
    const char *argv[] = {"make",
                          "-s",
                          a_jobs,
                          "--output-sync=target",
                          "--no-print-directory",
                          "-f",
                          v->buildmk,
                          a_root,
                          a_out,
                          a_prog,
                          a_srcs,
                          a_tests,
                          a_guests,
                          a_lib,
                          "RELOCATABLE=1",
                          v->target,
                          NULL};
    struct vg_spawn_opts opts = {
        .argv = argv,
        .cwd = work,
        .limit_sec = VG_BUILD_LIMIT_SEC,
        .output_cap = BUILD_OUTPUT_CAP,
        .unset_env = unset,
    };
    struct vg_spawn_result res;
    int ret;

    if (!a_root || !a_out || !a_prog || !a_srcs || !a_tests || !a_guests ||
        !a_lib || !a_jobs)
        return vl_err(ENOMEM, "preparing the build of %s", lab->slug);
    if (verbose)
        print_command(argv);
    ret = vg_spawn(&opts, &res);
    if (ret == 0)
        ret = record_build(&res, root, work, v, build);
    vg_spawn_result_free(&res);
    return ret;
}

int vg_stage_build(const char *root, const struct vg_manifests *all,
                   const struct vg_manifest *lab, const char *work,
                   bool verbose, struct vg_build *build)
{
    struct build_vars v;
    int ret;

    *build = (struct vg_build){0};
    ret = build_vars_init(&v, root, all, lab, work);
    if (ret == 0)
        ret = run_make(root, lab, work, &v, verbose, build);
    build_vars_free(&v);
    if (ret < 0)
        vg_build_free(build);
    return ret < 0 ? vl_err_ctx(ret, "building %s", lab->slug) : 0;
}

void vg_build_free(struct vg_build *build)
{
    free(build->errors);
    *build = (struct vg_build){0};
}
