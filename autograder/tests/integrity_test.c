/*
 * integrity_test.c - files a submission changed that the grader protects,
 * and the stage of the student's own program to fix first.
 */
#include <sys/stat.h>

#include "testutil.h"
#include "integrity.h"

TestSuite(integrity, .init = tu_arm_deadline);

static char *stage_a[] = {(char *)"a.c"};
static const struct vg_manifest lab_a = {
    .lab = (char *)"01",
    .slug = (char *)"01-a",
    .program = (char *)"toy",
    .stage_files = stage_a,
    .nstage_files = 1,
};

/* The course's copy: a stage file, tests, README, a guest, the driver. */
static char *course(void)
{
    char *root = tu_tempdir();

    tu_write(root, "labs/01-a/a.c", "/* TODO */\n");
    tu_write(root, "labs/01-a/README.md", "# lab\n");
    tu_write(root, "labs/01-a/tests/a_test.c", "Test(a, adds) {}\n");
    tu_write(root, "labs/01-a/guest/g.S", "hlt\n");
    tu_write(root, "labs/toy/main.c", "int main(void) { return 0; }\n");
    return root;
}

static struct vg_lab protected_of(const char *root, const char *sub)
{
    struct vg_lab lab;

    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "A"));
    vl_assert_ok(vg_integrity_protected(root, sub, &lab_a, &lab));
    return lab;
}

Test(integrity, changed_course_files_are_listed_in_order)
{
    char *root = course(), *sub = tu_tempdir(), *link;
    struct vg_lab lab;

    tu_write(sub, "01-a/a.c", "int a_add(int x, int y) { return x + y; }\n");
    tu_write(sub, "01-a/README.md", "# lab\n"); /* unchanged */
    tu_write(sub, "01-a/tests/a_test.c", "Test(a, adds) { /* easier */ }\n");
    tu_write(sub, "01-a/notes.txt", "not a course file\n");
    tu_write(sub, "toy/main.c", "int main(void) { return 1; }\n");
    tu_mkdir(sub, "01-a/guest");
    link = vg_strfmt("%s/01-a/guest/g.S", sub);
    cr_assert_eq(symlink("/etc/passwd", link), 0);
    lab = protected_of(root, sub);
    cr_assert_eq(lab.nprotected, 3);
    cr_assert_str_eq(lab.protected[0], "01-a/guest/g.S", "a symlink differs");
    cr_assert_str_eq(lab.protected[1], "01-a/tests/a_test.c");
    cr_assert_str_eq(lab.protected[2], "toy/main.c");
    vg_lab_free(&lab);
    free(link);
    tu_rmdir(root);
    tu_rmdir(sub);
}

Test(integrity, same_size_edit_and_fifo_are_found_without_blocking)
{
    char *root = course(), *sub = tu_tempdir(), *fifo;
    struct vg_lab lab;

    tu_write(sub, "01-a/README.md", "# LAB\n"); /* same length */
    tu_mkdir(sub, "01-a/tests");
    fifo = vg_strfmt("%s/01-a/tests/a_test.c", sub);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    lab = protected_of(root, sub);
    cr_assert_eq(lab.nprotected, 2);
    cr_assert_str_eq(lab.protected[0], "01-a/README.md");
    cr_assert_str_eq(lab.protected[1], "01-a/tests/a_test.c");
    vg_lab_free(&lab);
    free(fifo);
    tu_rmdir(root);
    tu_rmdir(sub);
}

Test(integrity, grading_the_course_itself_lists_nothing)
{
    char *root = course(), *labs = vg_strfmt("%s/labs", root);
    struct vg_lab lab;

    tu_write(root, "labs/01-a/tests/a_test.c", "edited in place\n");
    lab = protected_of(root, labs);
    cr_assert_eq(lab.nprotected, 0, "`make grade` compares a file to itself");
    vg_lab_free(&lab);
    free(labs);
    tu_rmdir(root);
}

Test(integrity, symlinked_submission_folder_is_not_followed)
{
    char *root = course(), *sub = tu_tempdir(), *link, *target;
    struct vg_lab lab;

    link = vg_strfmt("%s/01-a", sub);
    target = vg_strfmt("%s/labs/toy", root);
    cr_assert_eq(symlink(target, link), 0);
    lab = protected_of(root, sub);
    cr_assert_eq(lab.nprotected, 0);
    vg_lab_free(&lab);
    free(link);
    free(target);
    tu_rmdir(root);
    tu_rmdir(sub);
}

/* ---- fix first ------------------------------------------------------- */

static struct vg_manifest course_labs[] = {
    {.lab = (char *)"01", .slug = (char *)"01-a", .program = (char *)"vm"},
    {.lab = (char *)"02", .slug = (char *)"02-b", .program = (char *)"vm"},
    {.lab = (char *)"03", .slug = (char *)"03-c", .program = (char *)"vm"},
    {.lab = (char *)"04", .slug = (char *)"04-d", .program = (char *)"vm"},
    {.lab = (char *)"09", .slug = (char *)"09-x", .program = (char *)"ctr"},
};
static const struct vg_manifests all = {.labs = course_labs, .n = 5};

static void add_lab(struct vg_result *r, const char *number, const char *slug,
                    enum vg_status status)
{
    struct vg_lab lab;

    vl_assert_ok(vg_lab_init(&lab, number, slug, "L"));
    tu_add_test(&lab, "s::ok", VG_PASSED, 1, NULL);
    tu_add_test(&lab, "s::x", status, 1, NULL);
    vl_assert_ok(vg_result_add_lab(r, &lab));
}

Test(integrity, later_failing_labs_of_a_program_point_to_the_first)
{
    struct vg_result r = {0};

    add_lab(&r, "01", "01-a", VG_PASSED);
    add_lab(&r, "02", "02-b", VG_CRASHED);
    add_lab(&r, "03", "03-c", VG_PASSED);
    add_lab(&r, "04", "04-d", VG_FAILED);
    add_lab(&r, "09", "09-x", VG_FAILED);
    vl_assert_ok(vg_integrity_fix_first(&r, &all));
    cr_assert_null(r.labs[0].fix_first);
    cr_assert_null(r.labs[1].fix_first, "the first failing lab is the one");
    cr_assert_null(r.labs[2].fix_first, "a full lab needs no advice");
    cr_assert_str_eq(r.labs[3].fix_first, "lab 02");
    cr_assert_null(r.labs[4].fix_first, "another program");
    vg_result_free(&r);
}

Test(integrity, environment_skips_and_grader_errors_are_not_the_students)
{
    struct vg_result r = {0};

    add_lab(&r, "01", "01-a", VG_SKIPPED);
    add_lab(&r, "02", "02-b", VG_NOT_RUN);
    r.labs[1].outcome = VG_LAB_GRADER_ERROR;
    add_lab(&r, "03", "03-c", VG_NOT_BUILT);
    add_lab(&r, "04", "04-d", VG_FLAKY);
    vl_assert_ok(vg_integrity_fix_first(&r, &all));
    cr_assert_null(r.labs[0].fix_first);
    cr_assert_null(r.labs[2].fix_first, "%s", r.labs[2].fix_first);
    cr_assert_str_eq(r.labs[3].fix_first, "lab 03");
    vg_result_free(&r);
}

Test(integrity, notes_name_the_files_and_the_stage)
{
    struct vg_lab lab;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    cr_assert(f);
    vl_assert_ok(vg_lab_init(&lab, "03", "03-c", "C"));
    lab.protected = calloc(2, sizeof(char *));
    lab.protected[0] = strdup("03-c/tests/c_test.c");
    lab.protected[1] = strdup("vm/main.c");
    lab.nprotected = 2;
    lab.fix_first = strdup("lab 02");
    vg_integrity_print_lab(f, &lab, 2);
    cr_assert_eq(fclose(f), 0);
    cr_assert(strstr(out, "  changed and ignored (the course's copy was "
                          "used): 03-c/tests/c_test.c, vm/main.c\n"),
              "%s", out);
    cr_assert(strstr(out, "  fix lab 02 first: "), "%s", out);
    free(out);
    vg_lab_free(&lab);
}
