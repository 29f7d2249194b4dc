/*
 * stage_test.c - stage isolation (which file comes from where), the build
 * through build.mk, and a whole lab graded end to end on a toy course.
 */
#include <unistd.h>

#include "testutil.h"
#include "mutants.h"
#include "runner.h"
#include "stage.h"

TestSuite(stage, .init = tu_arm_deadline);

/* ---- a toy course: program "toy" in labs 01 and 02, "other" in 03 ---- */

static char *stage_a[] = {(char *)"a.c", (char *)"a.h"};
static char *stage_b[] = {(char *)"b.c"};
static char *stage_c[] = {(char *)"c.c"};
static char *tests_a[] = {(char *)"tests/a_test.c"};
static struct vg_rubric_item rubric_a[] = {
    {.test = (char *)"a::adds", .points = 2, .description = (char *)"adds"},
    {.test = (char *)"a::doubles_through_b",
     .points = 1,
     .description = (char *)"doubles, using lab 02"},
};

static struct vg_manifest course[] = {
    {.lab = (char *)"01",
     .slug = (char *)"01-a",
     .title = (char *)"A",
     .program = (char *)"toy",
     .stage_files = stage_a,
     .nstage_files = 2,
     .tests = tests_a,
     .ntests = 1,
     .timeout_sec = 60,
     .rubric = rubric_a,
     .nrubric = 2},
    {.lab = (char *)"02",
     .slug = (char *)"02-b",
     .title = (char *)"B",
     .program = (char *)"toy",
     .stage_files = stage_b,
     .nstage_files = 1},
    {.lab = (char *)"03",
     .slug = (char *)"03-c",
     .title = (char *)"C",
     .program = (char *)"other",
     .stage_files = stage_c,
     .nstage_files = 1},
};

static const struct vg_manifests all = {.labs = course, .n = 3};

#define GOOD_A                                                                 \
    "#include \"a.h\"\nint a_add(int x, int y)\n{\n"                           \
    "    return x + y;\n}\n"
#define GOOD_B                                                                 \
    "#include \"toy.h\"\nint b_double(int x)\n{\n"                             \
    "    return a_add(x, x);\n}\n"

/* The reference solutions of the toy course. */
static void write_solutions(const char *root)
{
    tu_write(root, "solutions/01-a/a.c", GOOD_A);
    tu_write(root, "solutions/01-a/a.h", "int a_add(int x, int y);\n");
    tu_write(root, "solutions/02-b/b.c", GOOD_B);
    tu_write(root, "solutions/03-c/c.c", "int c;\n");
}

/* A submission with lab 01 (its files given) and an unlisted extra. */
static void write_submission(const char *dir, const char *a_c)
{
    tu_write(dir, "01-a/a.c", a_c);
    tu_write(dir, "01-a/a.h", "int a_add(int x, int y);\n");
    tu_write(dir, "01-a/extra.c", "#error never compiled\n");
    tu_write(dir, "02-b/b.c", "#error the student's lab 02 is not used\n");
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
    char *text = tu_read(dir, rel);

    cr_assert_str_eq(text, want, "%s/%s", dir, rel);
    free(text);
}

static bool exists(const char *dir, const char *rel)
{
    char *path = vg_strfmt("%s/%s", dir, rel);
    bool yes = access(path, F_OK) == 0;

    free(path);
    return yes;
}

Test(stage, lab_files_from_submission_others_from_solutions)
{
    char *root = tu_tempdir(), *sub = tu_tempdir(), *work = tu_tempdir();
    bool fault;

    write_solutions(root);
    write_submission(sub, "int a_add(int x, int y) { return 0; }\n");
    vl_assert_ok(vg_stage_assemble(root, sub, &all, &course[0], work, &fault));
    assert_file(work, "src/01-a/a.c",
                "int a_add(int x, int y) { return 0; }\n");
    assert_file(work, "src/02-b/b.c", GOOD_B);
    cr_assert_not(exists(work, "src/01-a/extra.c"), "unlisted file copied");
    cr_assert_not(exists(work, "src/03-c"), "another program's stage");
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

Test(stage, grading_lab_two_uses_the_reference_of_lab_one)
{
    char *root = tu_tempdir(), *sub = tu_tempdir(), *work = tu_tempdir();
    bool fault;

    write_solutions(root);
    write_submission(sub, "broken student lab 01\n");
    vl_assert_ok(vg_stage_assemble(root, sub, &all, &course[1], work, &fault));
    assert_file(work, "src/01-a/a.c", GOOD_A);
    assert_file(work, "src/02-b/b.c",
                "#error the student's lab 02 is not used\n");
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

Test(stage, missing_submission_file_is_the_students_fault)
{
    char *root = tu_tempdir(), *sub = tu_tempdir(), *work = tu_tempdir();
    bool fault = false;

    write_solutions(root);
    tu_write(sub, "01-a/a.c", GOOD_A); /* a.h is missing */
    cr_assert_eq(vg_stage_assemble(root, sub, &all, &course[0], work, &fault),
                 -ENOENT);
    cr_assert(fault);
    cr_assert(strstr(vl_errmsg(), "01-a/a.h is missing"), "%s", vl_errmsg());
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

Test(stage, symlinked_submission_file_is_refused)
{
    char *root = tu_tempdir(), *sub = tu_tempdir(), *work = tu_tempdir();
    char *target = vg_strfmt("%s/solutions/01-a/a.c", root);
    char *link = vg_strfmt("%s/01-a/a.c", sub);
    bool fault = false;

    write_solutions(root);
    tu_write(sub, "01-a/a.h", "int a_add(int x, int y);\n");
    cr_assert_eq(symlink(target, link), 0);
    cr_assert_lt(vg_stage_assemble(root, sub, &all, &course[0], work, &fault),
                 0);
    cr_assert(fault);
    cr_assert(strstr(vl_errmsg(), "symlink"), "%s", vl_errmsg());
    free(target);
    free(link);
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

Test(stage, symlinked_lab_folder_is_refused)
{
    char *root = tu_tempdir(), *sub = tu_tempdir(), *work = tu_tempdir();
    char *target = vg_strfmt("%s/solutions/01-a", root);
    char *link = vg_strfmt("%s/01-a", sub);
    bool fault = false;

    write_solutions(root);
    cr_assert_eq(symlink(target, link), 0);
    cr_assert_eq(vg_stage_assemble(root, sub, &all, &course[0], work, &fault),
                 -ELOOP);
    cr_assert(fault);
    cr_assert(strstr(vl_errmsg(), "01-a is a symlink"), "%s", vl_errmsg());
    free(target);
    free(link);
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

Test(stage, missing_reference_is_the_graders_fault)
{
    char *root = tu_tempdir(), *sub = tu_tempdir(), *work = tu_tempdir();
    bool fault = true;

    tu_write(root, "solutions/01-a/a.c", GOOD_A);
    write_submission(sub, GOOD_A);
    cr_assert_lt(vg_stage_assemble(root, sub, &all, &course[0], work, &fault),
                 0);
    cr_assert_not(fault);
    cr_assert(strstr(vl_errmsg(), "02-b/b.c"), "%s", vl_errmsg());
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

/* ---- building and grading, with the real build.mk -------------------- */

/* A toy course that builds with this repository's build.mk and library. */
static char *toy_course(void)
{
    char *lib = vg_strfmt("%s/build/lib-san/libvirtlab.a", VL_ROOT);
    char *root;

    if (!vg_is_file(lib))
        cr_skip_test("needs %s: run `make lib` first", lib);
    free(lib);
    root = tu_tempdir();
    write_solutions(root);
    tu_write(root, "labs/toy/toy.h", "#include \"a.h\"\nint b_double(int);\n");
    tu_write(root, "labs/toy/main.c", "int main(void)\n{\n    return 0;\n}\n");
    tu_write(root, "labs/01-a/tests/a_test.c",
             "#include <criterion/criterion.h>\n#include \"toy.h\"\n"
             "Test(a, adds, .timeout = 20) { cr_assert_eq(a_add(2, 3), 5); }\n"
             "Test(a, doubles_through_b, .timeout = 20)\n"
             "{\n    cr_assert_eq(b_double(4), 8);\n}\n");
    tu_mkdir(root, "autograder");
    tu_mkdir(root, "build");
    tu_mkdir(root, "libvirtlab");
    tu_link_from_repo(root, "autograder/build.mk");
    tu_link_from_repo(root, "scripts");
    tu_link_from_repo(root, "libvirtlab/include");
    tu_link_from_repo(root, "build/lib-san");
    return root;
}

Test(stage, compile_error_is_reported_with_short_paths)
{
    char *root = toy_course(), *sub = tu_tempdir(), *work = tu_tempdir();
    struct vg_build b;
    bool fault;

    write_submission(sub, "int a_add(int x, int y)\n{\n    return x +\n}\n");
    vl_assert_ok(vg_stage_assemble(root, sub, &all, &course[0], work, &fault));
    vl_assert_ok(vg_stage_build(root, &all, &course[0], work, false, &b));
    cr_assert_not(b.built);
    cr_assert(b.errors);
    cr_assert(strstr(b.errors, "01-a/a.c:4:"), "%s", b.errors);
    cr_assert_null(strstr(b.errors, work), "%s", b.errors);
    cr_assert_null(strstr(b.errors, "make: ***"), "%s", b.errors);
    vg_build_free(&b);
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

Test(stage, missing_course_input_is_an_error_not_a_build_failure)
{
    char *root = tu_tempdir(), *work = tu_tempdir();
    struct vg_build b;

    cr_assert_lt(vg_stage_build(root, &all, &course[0], work, false, &b), 0);
    cr_assert(strstr(vl_errmsg(), "missing"), "%s", vl_errmsg());
    tu_rmdir(root);
    tu_rmdir(work);
}

static struct vg_lab grade(const char *root, const char *sub)
{
    struct vg_grade_opts o = {.root = root, .submission = sub};
    struct vg_lab lab;

    vl_assert_ok(vg_grade_lab(&o, &all, &course[0], &lab));
    return lab;
}

Test(stage, whole_lab_is_graded_end_to_end)
{
    char *root = toy_course(), *good = tu_tempdir(), *bad = tu_tempdir();
    struct vg_lab full, half;

    write_submission(good, GOOD_A);
    write_submission(bad, "#include \"a.h\"\nint a_add(int x, int y)\n{\n"
                          "    return x == y ? 2 * x : 0;\n}\n");
    full = grade(root, good);
    half = grade(root, bad);
    cr_assert_eq(full.outcome, VG_LAB_RAN, "%s", full.message);
    cr_assert(vg_lab_full(&full));
    cr_assert_float_eq(vg_lab_points(&full), 3, 1e-9);
    cr_assert_eq(half.outcome, VG_LAB_RAN, "%s", half.message);
    cr_assert_eq(vg_lab_find_test(&half, "a::adds")->status, VG_FAILED);
    cr_assert_eq(vg_lab_find_test(&half, "a::doubles_through_b")->status,
                 VG_PASSED);
    vg_lab_free(&full);
    vg_lab_free(&half);
    tu_rmdir(root);
    tu_rmdir(good);
    tu_rmdir(bad);
}

Test(stage, mutants_are_checked_end_to_end)
{
    char *root = toy_course();
    struct vg_grade_opts o = {.root = root};
    const struct vg_manifest *sel[] = {&course[0]};
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    bool all_caught = true;

    tu_write(root, "autograder/mutants/01-a/subtracts.patch",
             "Mutant: subtracts instead of adding\n"
             "Kills: a::adds, a::doubles_through_b\n\n"
             "--- a/a.c\n+++ b/a.c\n@@ -2,4 +2,4 @@\n"
             " int a_add(int x, int y)\n {\n-    return x + y;\n"
             "+    return x - y;\n }\n");
    tu_write(root, "autograder/mutants/01-a/harmless.patch",
             "Mutant: renames a parameter (no test can catch it)\n"
             "Kills: a::adds\n\n"
             "--- a/a.c\n+++ b/a.c\n@@ -2,4 +2,4 @@\n"
             "-int a_add(int x, int y)\n+int a_add(int x, int z)\n {\n"
             "-    return x + y;\n+    return x + z;\n }\n");
    tu_write(root, "autograder/mutants/01-a/stale.patch",
             "Mutant: no longer applies\nKills: a::adds\n\n"
             "--- a/a.c\n+++ b/a.c\n@@ -2,4 +2,4 @@\n"
             " int a_add(int p, int q)\n {\n-    return p + q;\n"
             "+    return p * q;\n }\n");
    cr_assert(f);
    vl_assert_ok(vg_mutants_check(&o, &all, sel, 1, f, &all_caught));
    cr_assert_eq(fclose(f), 0);
    cr_assert_not(all_caught);
    cr_assert(strstr(out, "caught      01-a/subtracts"), "%s", out);
    cr_assert(strstr(out, "NOT caught  01-a/harmless"), "%s", out);
    cr_assert(strstr(out, "a::adds passed"), "%s", out);
    cr_assert(strstr(out, "BROKEN      01-a/stale"), "%s", out);
    cr_assert(strstr(out, "patch does not apply"), "%s", out);
    free(out);
    tu_rmdir(root);
}
