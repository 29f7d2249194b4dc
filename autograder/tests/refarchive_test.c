/*
 * refarchive_test.c - a student release: the reference of another stage
 * comes from solutions/<program>-ref.a when its .c file is absent, and the
 * lab is still graded against it (stage isolation without the sources).
 */
#include <unistd.h>

#include "testutil.h"
#include "refarchive.h"
#include "runner.h"
#include "stage.h"

TestSuite(refarchive, .init = tu_arm_deadline);

static char *stage_a[] = {(char *)"a.c"};
static char *stage_b[] = {(char *)"b.c"};
static char *tests_a[] = {(char *)"tests/a_test.c"};
static struct vg_rubric_item rubric_a[] = {
    {.test = (char *)"a::doubles_through_b",
     .points = 2,
     .description = (char *)"doubles, with lab 02's reference"},
};
static struct vg_manifest course[] = {
    {.lab = (char *)"01",
     .slug = (char *)"01-a",
     .title = (char *)"A",
     .program = (char *)"toy",
     .stage_files = stage_a,
     .nstage_files = 1,
     .tests = tests_a,
     .ntests = 1,
     .timeout_sec = 60,
     .rubric = rubric_a,
     .nrubric = 1},
    {.lab = (char *)"02",
     .slug = (char *)"02-b",
     .title = (char *)"B",
     .program = (char *)"toy",
     .stage_files = stage_b,
     .nstage_files = 1},
};
static const struct vg_manifests all = {.labs = course, .n = 2};

static void run(const char *cmd)
{
    int st = system(cmd);

    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status %#x", cmd, st);
}

/* A toy course released as for students: lab 02's reference only in
 * solutions/toy-ref.a, as member 02-b_b.o. */
static char *released_course(void)
{
    char *lib = vg_strfmt("%s/build/lib-san/libvirtlab.a", VL_ROOT);
    char *root, *cmd;

    if (!vg_is_file(lib))
        cr_skip_test("needs %s: run `make lib` first", lib);
    free(lib);
    root = tu_tempdir();
    tu_write(root, "labs/toy/toy.h",
             "int a_add(int x, int y);\n"
             "int b_double(int x);\n");
    tu_write(root, "labs/toy/main.c", "int main(void)\n{\n    return 0;\n}\n");
    tu_write(root, "labs/01-a/tests/a_test.c",
             "#include <criterion/criterion.h>\n#include \"toy.h\"\n"
             "Test(a, doubles_through_b, .timeout = 30)\n"
             "{\n    cr_assert_eq(b_double(4), 8);\n}\n");
    tu_write(root, "solutions/01-a/a.c",
             "#include \"toy.h\"\nint a_add(int x, int y)\n{\n"
             "    return x + y;\n}\n");
    tu_write(root, "src/b.c",
             "#include \"toy.h\"\nint b_double(int x)\n{\n"
             "    return a_add(x, x);\n}\n");
    cmd = vg_strfmt("cd %s && cc -I labs/toy -c -o 02-b_b.o src/b.c && "
                    "mkdir -p solutions/02-b && "
                    "ar rcs solutions/toy-ref.a 02-b_b.o && rm -r src "
                    "02-b_b.o",
                    root);
    run(cmd);
    free(cmd);
    tu_mkdir(root, "autograder");
    tu_mkdir(root, "build");
    tu_mkdir(root, "libvirtlab");
    tu_link_from_repo(root, "autograder/build.mk");
    tu_link_from_repo(root, "scripts");
    tu_link_from_repo(root, "libvirtlab/include");
    tu_link_from_repo(root, "build/lib-san");
    return root;
}

Test(refarchive, missing_reference_comes_from_the_archive)
{
    char *root = released_course(), *sub = tu_tempdir();
    struct vg_grade_opts o = {.root = root, .submission = sub};
    struct vg_lab lab;

    tu_write(sub, "01-a/a.c",
             "#include \"toy.h\"\nint a_add(int x, int y)\n{\n"
             "    return x + y;\n}\n");
    vl_assert_ok(vg_grade_lab(&o, &all, &course[0], &lab));
    cr_assert_eq(lab.outcome, VG_LAB_RAN, "%s", lab.message);
    cr_assert(vg_lab_full(&lab), "lab 02's reference came from the archive");
    vg_lab_free(&lab);
    tu_rmdir(root);
    tu_rmdir(sub);
}

Test(refarchive, archive_without_the_member_is_a_grader_error)
{
    char *root = released_course(), *sub = tu_tempdir(), *work = tu_tempdir();
    char *cmd = vg_strfmt("cd %s/solutions && ar d toy-ref.a 02-b_b.o", root);
    bool fault = true;

    run(cmd);
    tu_write(sub, "01-a/a.c", "int x;\n");
    cr_assert_lt(vg_stage_assemble(root, sub, &all, &course[0], work, &fault),
                 0);
    cr_assert_not(fault, "the course's fault, not the student's");
    cr_assert(strstr(vl_errmsg(), "no member 02-b_b.o"), "%s", vl_errmsg());
    free(cmd);
    tu_rmdir(root);
    tu_rmdir(sub);
    tu_rmdir(work);
}

Test(refarchive, source_is_the_c_file_when_present)
{
    char *work = tu_tempdir(), *s;

    tu_write(work, "src/02-b/02-b_b.o", "");
    s = vg_ref_source(work, "02-b", "b.c");
    cr_assert(strstr(s, "/src/02-b/02-b_b.o"), "%s", s);
    free(s);
    tu_write(work, "src/02-b/b.c", "");
    s = vg_ref_source(work, "02-b", "b.c");
    cr_assert(strstr(s, "/src/02-b/b.c"), "%s", s);
    free(s);
    tu_rmdir(work);
}
