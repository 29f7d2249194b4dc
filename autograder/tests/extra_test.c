/*
 * extra_test.c - an instructor's private tests (--extra-tests DIR): loading
 * and its errors on a scratch tree, then lab 01 graded end to end with
 * autograder/tests/extra-example/ (one passing, one failing private test).
 */
#include "testutil.h"
#include "extra.h"
#include "hints.h"
#include "manifest.h"
#include "runner.h"

TestSuite(extra, .init = tu_arm_deadline);

/* A scratch course: lab 01-kvm with tests/a_test.c defining s::a. */
static char *scratch_root(struct vg_manifests *all)
{
    char *root = tu_tempdir();

    tu_write(root, "autograder/labs/01-kvm/lab.json",
             "{\"lab\": \"01\", \"slug\": \"01-kvm\", \"title\": \"T\","
             " \"program\": \"minivm\", \"stage_files\": [\"a.c\"],"
             " \"tests\": [\"tests/a_test.c\"], \"timeout_sec\": 10,"
             " \"rubric\": [{\"test\": \"s::a\", \"points\": 1,"
             " \"description\": \"a\"}]}");
    tu_write(root, "labs/01-kvm/tests/a_test.c", "Test(s, a) {}\n");
    tu_mkdir(root, "private");
    vl_assert_ok(vg_manifests_load(all, root));
    return root;
}

static const char private_c[] = "#include <criterion/criterion.h>\n"
                                "Test(p, one) { }\n"
                                "Test( p ,\n two, .timeout = 3) { }\n"
                                "ParameterizedTest(int *x, p, three) { }\n";

static const char private_rubric[] =
    "{\"rubric\": [{\"test\": \"p::one\", \"points\": 2, \"description\":"
    " \"one\", \"visibility\": \"hidden\"}, {\"test\": \"p::two\","
    " \"points\": 3, \"description\": \"two\"}]}";

Test(extra, scan_finds_plain_test_macros_only)
{
    char **ids = vg_extra_scan_ids(private_c);

    cr_assert_str_eq(ids[0], "p::one");
    cr_assert_str_eq(ids[1], "p::two");
    cr_assert_null(ids[2], "ParameterizedTest is not a plain Test");
    vg_extra_ids_free(ids);
}

Test(extra, private_tests_join_the_lab)
{
    struct vg_manifests all;
    char *root = scratch_root(&all);
    char *dir = vg_strfmt("%s/private", root);
    struct vg_manifest *m = &all.labs[0];

    tu_write(dir, "01-kvm/p_test.c", private_c);
    tu_write(dir, "01-kvm/rubric.json", private_rubric);
    tu_write(dir, "README.md", "not a lab");
    vl_assert_ok(vg_manifests_add_extra(&all, root, dir));
    cr_assert_eq(m->nrubric, 3);
    cr_assert_not(m->rubric[0].extra);
    cr_assert(m->rubric[1].extra);
    cr_assert_eq(m->rubric[1].visibility, VG_HIDDEN);
    cr_assert_str_eq(m->rubric[2].test, "p::two");
    cr_assert_eq(m->nextra_tests, 1);
    cr_assert(strstr(m->extra_tests[0], "/private/01-kvm/p_test.c"), "%s",
              m->extra_tests[0]);
    cr_assert_eq(m->extra_tests[0][0], '/');
    vg_manifests_free(&all);
    free(dir);
    tu_rmdir(root);
}

/* Adding dir must fail with -errno `err`, the message holding needle. */
static void assert_refused(struct vg_manifests *all, const char *root,
                           const char *dir, int err, const char *needle)
{
    vl_err_clear();
    cr_assert_eq(vg_manifests_add_extra(all, root, dir), -err, "%s",
                 vl_errmsg());
    cr_assert(strstr(vl_errmsg(), needle), "\"%s\" lacks \"%s\"", vl_errmsg(),
              needle);
}

Test(extra, every_mistake_gets_a_precise_message)
{
    struct vg_manifests all;
    char *root = scratch_root(&all);
    char *dir = vg_strfmt("%s/private", root);

    assert_refused(&all, root, "/nonexistent/private", ENOENT,
                   "--extra-tests /nonexistent/private: no such folder");
    tu_write(dir, "02-typo/x.c", "Test(p, one) {}");
    assert_refused(&all, root, dir, ENOENT,
                   "02-typo is not the folder of a lab");
    vl_assert_ok(vg_remove_tree(dir));
    tu_mkdir(root, "private");
    tu_write(dir, "01-kvm/notes.txt", "no tests");
    assert_refused(&all, root, dir, ENOENT, "01-kvm has no .c file");
    vg_manifests_free(&all);
    tu_rmdir(root);
    free(dir);
}

Test(extra, rubric_must_exist_and_name_real_tests)
{
    struct vg_manifests all;
    char *root = scratch_root(&all);
    char *dir = vg_strfmt("%s/private", root);

    tu_write(dir, "01-kvm/p_test.c", private_c);
    assert_refused(&all, root, dir, ENOENT, "01-kvm/rubric.json is missing");
    vg_manifests_free(&all);
    vl_assert_ok(vg_manifests_load(&all, root));
    tu_write(dir, "01-kvm/rubric.json",
             "{\"rubric\": [{\"test\": \"p::three\", \"points\": 1,"
             " \"description\": \"x\"}]}");
    assert_refused(&all, root, dir, ENOENT,
                   "rubric.json: rubric[0]: test \"p::three\" is not defined "
                   "by any .c file next to it (no Test(p, three))");
    vg_manifests_free(&all);
    vl_assert_ok(vg_manifests_load(&all, root));
    tu_write(dir, "01-kvm/rubric.json", "{\"rubric\": [], \"x\": 1}");
    assert_refused(&all, root, dir, EINVAL,
                   "must be an object with one field, \"rubric\"");
    vg_manifests_free(&all);
    vl_assert_ok(vg_manifests_load(&all, root));
    tu_write(dir, "01-kvm/rubric.json",
             "{\"rubric\": [{\"test\": \"p::one\", \"points\": 1,"
             " \"description\": \"x\", \"visibility\": \"secret\"}]}");
    assert_refused(&all, root, dir, EINVAL, "rubric[0]: visibility must be");
    vg_manifests_free(&all);
    tu_rmdir(root);
    free(dir);
}

Test(extra, ids_of_the_labs_own_tests_are_refused)
{
    struct vg_manifests all;
    char *root = scratch_root(&all);
    char *dir = vg_strfmt("%s/private", root);

    /* s::a is defined by the lab's tests/a_test.c */
    tu_write(dir, "01-kvm/p_test.c", "Test(s, a) {}\nTest(p, one) {}\n");
    tu_write(dir, "01-kvm/rubric.json",
             "{\"rubric\": [{\"test\": \"p::one\", \"points\": 1,"
             " \"description\": \"x\"}]}");
    assert_refused(&all, root, dir, EEXIST,
                   "private test s::a of --extra-tests has the id of the "
                   "lab's own test");
    vg_manifests_free(&all);
    vl_assert_ok(vg_manifests_load(&all, root));
    /* a rubric entry for one of the lab's own rubric tests */
    tu_write(dir, "01-kvm/p_test.c", "Test(p, one) {}\n");
    tu_write(dir, "01-kvm/rubric.json",
             "{\"rubric\": [{\"test\": \"s::a\", \"points\": 1,"
             " \"description\": \"x\"}]}");
    assert_refused(&all, root, dir, EINVAL,
                   "test \"s::a\" is listed twice (the lab's own rubric has "
                   "it)");
    vg_manifests_free(&all);
    tu_rmdir(root);
    free(dir);
}

Test(extra, a_test_listed_twice_in_the_private_rubric_is_named)
{
    struct vg_manifests all;
    char *root = scratch_root(&all);
    char *dir = vg_strfmt("%s/private", root);

    tu_write(dir, "01-kvm/p_test.c", "Test(p, one) {}\n");
    tu_write(dir, "01-kvm/rubric.json",
             "{\"rubric\": [{\"test\": \"p::one\", \"points\": 1,"
             " \"description\": \"x\"}, {\"test\": \"p::one\", "
             "\"points\": 1, \"description\": \"y\"}]}");
    assert_refused(&all, root, dir, EINVAL, "test \"p::one\" is listed twice");
    cr_assert_null(strstr(vl_errmsg(), "the lab's own"), "%s", vl_errmsg());
    vg_manifests_free(&all);
    tu_rmdir(root);
    free(dir);
}

/* ---- lab 01 end to end ---------------------------------------------- */

Test(extra, lab01_with_the_example_private_tests)
{
    struct vg_manifests all;
    struct vg_grade_opts o = {.root = VL_ROOT,
                              .submission = VL_ROOT "/solutions"};
    const struct vg_manifest *m;
    struct vg_lab lab;
    struct vg_test *pass, *fail;
    double own_max;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        cr_skip_test("needs /dev/kvm (lab 01 runs guests)");
    vl_assert_ok(vg_manifests_load(&all, VL_ROOT));
    m = vg_manifests_find(&all, "01");
    cr_assert(m);
    own_max = 0;
    for (size_t i = 0; i < m->nrubric; i++)
        own_max += m->rubric[i].points;
    vl_assert_ok(vg_manifests_add_extra(
        &all, VL_ROOT, VL_ROOT "/autograder/tests/extra-example"));
    vl_assert_ok(vg_grade_lab(&o, &all, m, &lab));
    cr_assert_eq(lab.outcome, VG_LAB_RAN, "%s", lab.message);
    pass = vg_lab_find_test(&lab, "kvm_private::vm_fd_differs_from_kvm_fd");
    fail = vg_lab_find_test(&lab, "kvm_private::demands_a_huge_page_of_memory");
    cr_assert(pass && fail);
    cr_assert_eq(pass->status, VG_PASSED);
    cr_assert(pass->extra && pass->in_rubric);
    cr_assert_eq(pass->visibility, VG_HIDDEN);
    cr_assert_eq(fail->status, VG_FAILED);
    cr_assert(fail->extra);
    cr_assert_float_eq(fail->points, 0, 1e-9);
    cr_assert(fail->excerpt &&
                  strstr(fail->excerpt, "private: asking for 3 bytes"),
              "%s", fail->excerpt ? fail->excerpt : "(no excerpt)");
    /* the private tests' points add to the lab's maximum */
    cr_assert_float_eq(vg_lab_max_points(&lab), own_max + 3, 1e-9);
    cr_assert_float_eq(vg_lab_points(&lab), own_max + 1, 1e-9);
    vg_lab_free(&lab);
    vg_manifests_free(&all);
}
