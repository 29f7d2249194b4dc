/*
 * flaky_test.c - failed tests are rerun alone; one that then passes is
 * reported flaky (0 points), on fake stage-test scripts and, end to end,
 * on a toy lab whose Criterion test fails once and then passes.
 */
#include <unistd.h>

#include "testutil.h"
#include "flaky.h"
#include "runner.h"

TestSuite(flaky, .init = tu_arm_deadline);

static struct vg_rubric_item items[] = {
    {.test = (char *)"s::a", .points = 2, .description = (char *)"a"},
    {.test = (char *)"s::b", .points = 1, .description = (char *)"b"},
    {.test = (char *)"s::c", .points = 1, .description = (char *)"c"},
};

static const struct vg_manifest manifest = {
    .lab = (char *)"01",
    .slug = (char *)"01-t",
    .title = (char *)"T",
    .program = (char *)"toy",
    .timeout_sec = 60,
    .rubric = items,
    .nrubric = 3,
};

/* The fake's arguments, and a log of the --filter of each call. */
#define ARGS                                                                   \
    "filter=\n"                                                                \
    "for a; do case \"$a\" in --tap=*) tap=\"${a#--tap=}\";;\n"                \
    "  --filter=*) filter=\"${a#--filter=}\";; esac; done\n"                   \
    "echo \"call $filter\" >> \"$(dirname \"$0\")/calls\"\n"

/* Run the fake `body` as the lab's run, then the reruns. */
static void run_fake(const char *work, const char *body, int limit,
                     struct vg_lab *lab)
{
    char *script = vg_strfmt("#!/bin/sh\n%s%s", ARGS, body);
    struct vg_grade_opts o = {
        .root = "/nonexistent-root",
        .submission = "/nonexistent-submission",
        .timeout_sec = limit,
    };

    tu_write_mode(work, "out/stage-test", script, 0755);
    vl_assert_ok(vg_lab_init(lab, "01", "01-t", "T"));
    vl_assert_ok(vg_run_stage_test(&o, &manifest, work, lab));
    vl_assert_ok(vg_flaky_rerun(&o, &manifest, work, lab));
    free(script);
}

static const struct vg_test *need(const struct vg_lab *lab, const char *id)
{
    const struct vg_test *t = vg_lab_find_test(lab, id);

    cr_assert(t, "no test %s", id);
    return t;
}

/* s::a fails with the others and passes alone; s::b always fails. */
#define A_IS_FLAKY                                                             \
    "case \"$filter\" in\n"                                                    \
    "'') printf '1..3\\nnot ok - s::a  (0.00s)\\n  ---\\n  failures:\\n"       \
    "  - a.c:3: |+\\n      Assertion failed: raced\\n  ...\\n"                 \
    "not ok - s::b  (0.00s)\\nok - s::c\\n' > \"$tap\"; exit 1;;\n"            \
    "s/a) printf '1..3\\nok - s::a\\nok - s::b # SKIP\\nok - s::c # SKIP\\n'"  \
    " > \"$tap\";;\n"                                                          \
    "*) printf '1..3\\nnot ok - s::b\\nok - s::a # SKIP\\n"                    \
    "ok - s::c # SKIP\\n' > \"$tap\"; exit 1;;\n"                              \
    "esac\n"

Test(flaky, test_passing_alone_is_flaky_and_earns_nothing)
{
    char *work = tu_tempdir(), *calls;
    struct vg_lab lab;
    const struct vg_test *a;

    run_fake(work, A_IS_FLAKY, 0, &lab);
    a = need(&lab, "s::a");
    cr_assert_eq(a->status, VG_FLAKY);
    cr_assert_float_eq(a->points, 0, 1e-9);
    cr_assert(strstr(a->details, "flaky: failed on the first run: "
                                 "a.c:3: Assertion failed: raced, then "
                                 "passed when run again alone"),
              "%s", a->details);
    cr_assert_eq(need(&lab, "s::b")->status, VG_FAILED, "fails every time");
    cr_assert_eq(need(&lab, "s::c")->status, VG_PASSED, "passes: no rerun");
    cr_assert_float_eq(vg_lab_points(&lab), 1, 1e-9);
    cr_assert_not(vg_lab_full(&lab));
    calls = tu_read(work, "out/calls");
    cr_assert_str_eq(calls, "call \ncall s/a\ncall s/b\n",
                     "each failed test rerun alone, by its filter");
    free(calls);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(flaky, reruns_per_lab_are_capped)
{
    char *work = tu_tempdir(), *calls;
    struct vg_rubric_item many[8];
    struct vg_manifest m = manifest;
    struct vg_grade_opts o = {.root = "/r", .submission = "/s"};
    struct vg_lab lab;
    size_t lines = 0;

    for (int i = 0; i < 8; i++)
        many[i] = (struct vg_rubric_item){
            .test = vg_strfmt("s::t%d", i), .points = 1, .description = "t"};
    m.rubric = many;
    m.nrubric = 8;
    tu_write_mode(work, "out/stage-test",
                  "#!/bin/sh\n" ARGS "printf '1..8\\n' > \"$tap\"\n"
                  "for i in 0 1 2 3 4 5 6 7; do\n"
                  "  echo \"not ok - s::t$i\" >> \"$tap\"; done\nexit 1\n",
                  0755);
    vl_assert_ok(vg_lab_init(&lab, "01", "01-t", "T"));
    vl_assert_ok(vg_run_stage_test(&o, &m, work, &lab));
    vl_assert_ok(vg_flaky_rerun(&o, &m, work, &lab));
    calls = tu_read(work, "out/calls");
    for (const char *p = calls; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, 1 + VG_FLAKY_MAX_RERUNS, "%s", calls);
    for (size_t i = 0; i < lab.ntests; i++)
        cr_assert_eq(lab.tests[i].status, VG_FAILED);
    free(calls);
    vg_lab_free(&lab);
    for (int i = 0; i < 8; i++)
        free(many[i].test);
    tu_rmdir(work);
}

Test(flaky, rerun_killed_at_the_limit_does_not_count)
{
    char *work = tu_tempdir();
    struct vg_lab lab;

    /* Alone, s::a reports a pass, then hangs: the report is not trusted
     * unless the binary ends by itself within what is left of the limit. */
    run_fake(work,
             "if [ -z \"$filter\" ]; then\n"
             "  printf '1..3\\nnot ok - s::a\\nok - s::b\\nok - s::c\\n'"
             " > \"$tap\"; exit 1; fi\n"
             "printf '1..3\\nok - s::a\\n' > \"$tap\"; sleep 100\n",
             2, &lab);
    cr_assert_eq(need(&lab, "s::a")->status, VG_FAILED);
    cr_assert_lt(lab.seconds, 10);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(flaky, run_that_did_not_finish_is_not_rerun)
{
    char *work = tu_tempdir(), *calls;
    struct vg_lab lab;

    run_fake(work, "printf '1..3\\nnot ok - s::a\\n' > \"$tap\"; kill -9 $$\n",
             0, &lab);
    cr_assert_eq(lab.outcome, VG_LAB_INCOMPLETE);
    calls = tu_read(work, "out/calls");
    cr_assert_str_eq(calls, "call \n", "no rerun after an incomplete run");
    cr_assert_eq(need(&lab, "s::a")->status, VG_FAILED);
    free(calls);
    vg_lab_free(&lab);
    tu_rmdir(work);
}

Test(flaky, filter_is_exact_or_nothing)
{
    char *f = vg_flaky_filter("kvm_basics::opens_dev_kvm");

    cr_assert_str_eq(f, "kvm_basics/opens_dev_kvm");
    free(f);
    cr_assert_null(vg_flaky_filter("s::*"));
    cr_assert_null(vg_flaky_filter("s::!(a)"));
    cr_assert_null(vg_flaky_filter("s/a"));
    cr_assert_null(vg_flaky_filter("::a"));
    cr_assert_null(vg_flaky_filter("s::a::b"));
    cr_assert_null(vg_flaky_filter("s::1a"));
}

/* ---- end to end: a real Criterion test that fails once ---------------- */

static char *stage_f[] = {(char *)"f.c"};
static char *tests_f[] = {(char *)"tests/f_test.c"};
static struct vg_rubric_item rubric_f[] = {
    {.test = (char *)"f::steady", .points = 1, .description = (char *)"s"},
    {.test = (char *)"f::once", .points = 2, .description = (char *)"o"},
};
static struct vg_manifest lab_f = {
    .lab = (char *)"01",
    .slug = (char *)"01-f",
    .title = (char *)"F",
    .program = (char *)"toy",
    .stage_files = stage_f,
    .nstage_files = 1,
    .tests = tests_f,
    .ntests = 1,
    .timeout_sec = 60,
    .rubric = rubric_f,
    .nrubric = 2,
};

Test(flaky, criterion_test_failing_once_is_reported_flaky)
{
    char *lib = vg_strfmt("%s/build/lib-san/libvirtlab.a", VL_ROOT);
    char *root, *sub;
    const struct vg_manifests all = {.labs = &lab_f, .n = 1};
    struct vg_grade_opts o;
    struct vg_lab lab;

    if (!vg_is_file(lib))
        cr_skip_test("needs %s: run `make lib` first", lib);
    free(lib);
    root = tu_tempdir();
    sub = tu_tempdir();
    tu_write(root, "solutions/01-f/f.c",
             "#include \"toy.h\"\nint f(void) { return 1; }\n");
    tu_write(sub, "01-f/f.c",
             "#include \"toy.h\"\nint f(void) { return 1; }\n");
    tu_write(root, "labs/toy/toy.h", "int f(void);\n");
    tu_write(root, "labs/toy/main.c", "int main(void)\n{\n    return 0;\n}\n");
    /* The counter lives in the run's folder (the test's cwd): the first
     * run creates it and fails, the rerun finds it and passes. */
    tu_write(root, "labs/01-f/tests/f_test.c",
             "#include <criterion/criterion.h>\n#include <unistd.h>\n"
             "#include <fcntl.h>\n#include \"toy.h\"\n"
             "Test(f, steady) { cr_assert_eq(f(), 1); }\n"
             "Test(f, once)\n{\n"
             "    int fd = open(\"flaky.count\", O_CREAT | O_EXCL | O_WRONLY,"
             " 0644);\n"
             "    if (fd >= 0)\n        close(fd);\n"
             "    cr_assert(fd < 0, \"first run: fail\");\n}\n");
    tu_mkdir(root, "autograder");
    tu_mkdir(root, "build");
    tu_mkdir(root, "libvirtlab");
    tu_link_from_repo(root, "autograder/build.mk");
    tu_link_from_repo(root, "scripts");
    tu_link_from_repo(root, "libvirtlab/include");
    tu_link_from_repo(root, "build/lib-san");
    o = (struct vg_grade_opts){.root = root, .submission = sub};
    vl_assert_ok(vg_grade_lab(&o, &all, &lab_f, &lab));
    cr_assert_eq(lab.outcome, VG_LAB_RAN, "%s", lab.message);
    cr_assert_eq(vg_lab_find_test(&lab, "f::steady")->status, VG_PASSED);
    cr_assert_eq(vg_lab_find_test(&lab, "f::once")->status, VG_FLAKY, "%s",
                 vg_lab_find_test(&lab, "f::once")->details);
    cr_assert_float_eq(vg_lab_points(&lab), 1, 1e-9);
    cr_assert(lab.tests_sha256 && strlen(lab.tests_sha256) == 64);
    vg_lab_free(&lab);
    tu_rmdir(root);
    tu_rmdir(sub);
}
