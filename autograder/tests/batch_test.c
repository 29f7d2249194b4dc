/*
 * batch_test.c - the gradebook's CSV (RFC 4180), finding submissions, a
 * class graded two at a time on a toy course, and an interrupt that stops
 * every worker and leaves no work folder behind.
 */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "batch.h"
#include "spawn.h"

TestSuite(batch, .init = tu_arm_deadline);

/* ---- CSV ------------------------------------------------------------- */

static char *csv_of(const char *text)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    cr_assert(f);
    vg_csv_field(f, text);
    cr_assert_eq(fclose(f), 0);
    return out;
}

static void assert_field(const char *text, const char *want)
{
    char *got = csv_of(text);

    cr_assert_str_eq(got, want, "field [%s]", text);
    free(got);
}

/* RFC 4180, section 2, rules 5-7: quote a field holding a comma, a double
 * quote, CR or LF; double the quotes inside; keep spaces. */
Test(batch, csv_fields_are_quoted_as_rfc4180_asks)
{
    assert_field("alice", "alice");
    assert_field(" spaced name ", " spaced name ");
    assert_field("", "");
    assert_field("smith, jr", "\"smith, jr\"");
    assert_field("say \"hi\"", "\"say \"\"hi\"\"\"");
    assert_field("two\nlines", "\"two\nlines\"");
    assert_field("cr\rhere", "\"cr\rhere\"");
    assert_field("\"", "\"\"\"\"");
}

static struct vg_rubric_item r1[] = {{.test = (char *)"a::x", .points = 3}};
static struct vg_rubric_item r2[] = {{.test = (char *)"b::y", .points = 2},
                                     {.test = (char *)"b::z", .points = 0.5}};
static struct vg_manifest two_labs[] = {
    {.lab = (char *)"01", .slug = (char *)"01-a", .rubric = r1, .nrubric = 1},
    {.lab = (char *)"02", .slug = (char *)"02-b", .rubric = r2, .nrubric = 2},
};

/* Records end with CRLF, every record has the header's field count, a lab
 * not graded is an empty field, and max falls back to the rubric's. */
Test(batch, gradebook_has_one_record_per_student)
{
    const struct vg_manifest *sel[] = {&two_labs[0], &two_labs[1]};
    double p1[] = {3, 0.5}, m1[] = {3, 2.5};
    double p2[] = {NAN, NAN}, m2[] = {NAN, NAN};
    struct vg_batch_row rows[] = {
        {(char *)"o'neil, \"bo\"", NULL, p1, m1, (char *)"", true},
        {(char *)"x", NULL, p2, m2, (char *)"not a submission: a, b", false},
    };
    struct vg_batch b = {.labs = sel, .nlabs = 2, .rows = rows, .nrows = 2};
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    cr_assert(f);
    vl_assert_ok(vg_batch_write_csv(f, &b));
    cr_assert_eq(fclose(f), 0);
    cr_assert_str_eq(out, "student,01-a,02-b,total,max,notes\r\n"
                          "\"o'neil, \"\"bo\"\"\",3,0.5,3.5,5.5,\r\n"
                          "x,,,,5.5,\"not a submission: a, b\"\r\n");
    cr_assert_not(vg_batch_all_graded(&b));
    free(out);
}

/* ---- finding submissions -------------------------------------------- */

static struct vg_manifest one_lab[] = {{.slug = (char *)"01-a"}};
static const struct vg_manifests one_all = {.labs = one_lab, .n = 1};

Test(batch, submission_is_the_folder_or_its_labs)
{
    char *dir = tu_tempdir();
    const char *why = NULL;
    char *s;

    tu_mkdir(dir, "flat");
    tu_mkdir(dir, "flat/01-a");
    tu_mkdir(dir, "clone");
    tu_mkdir(dir, "clone/labs");
    tu_mkdir(dir, "clone/labs/01-a");
    tu_mkdir(dir, "other");
    tu_mkdir(dir, "other/01-b");
    s = vg_batch_find_submission(dir, "flat", &one_all, &why);
    cr_assert(s && strstr(s, "/flat") && !strstr(s, "labs"), "%s", s);
    free(s);
    s = vg_batch_find_submission(dir, "clone", &one_all, &why);
    cr_assert(s && strstr(s, "/clone/labs"), "%s", s);
    free(s);
    cr_assert_null(vg_batch_find_submission(dir, "other", &one_all, &why));
    cr_assert(strstr(why, "not a submission"), "%s", why);
    tu_rmdir(dir);
}

/* ---- a class graded on a toy course --------------------------------- */

static char *stage_a[] = {(char *)"a.c"};
static char *tests_a[] = {(char *)"tests/a_test.c"};
static struct vg_rubric_item rubric_a[] = {
    {.test = (char *)"a::adds", .points = 2, .description = (char *)"adds"},
    {.test = (char *)"a::adds_negatives",
     .points = 1,
     .description = (char *)"adds negatives"},
};
static struct vg_manifest toy[] = {{.lab = (char *)"01",
                                    .slug = (char *)"01-a",
                                    .title = (char *)"A",
                                    .program = (char *)"toy",
                                    .stage_files = stage_a,
                                    .nstage_files = 1,
                                    .tests = tests_a,
                                    .ntests = 1,
                                    .timeout_sec = 60,
                                    .rubric = rubric_a,
                                    .nrubric = 2}};
static const struct vg_manifests toy_all = {.labs = toy, .n = 1};

#define GOOD_A                                                                 \
    "#include \"toy.h\"\nint a_add(int x, int y)\n{\n    return x + y;\n}\n"

/* A one-lab course that builds with this repository's build.mk. */
static char *toy_course(void)
{
    char *lib = vg_strfmt("%s/build/lib-san/libvirtlab.a", VL_ROOT);
    char *root;

    if (!vg_is_file(lib))
        cr_skip_test("needs %s: run `make lib` first", lib);
    free(lib);
    root = tu_tempdir();
    tu_write(root, "solutions/01-a/a.c", GOOD_A);
    tu_write(root, "labs/toy/toy.h", "int a_add(int x, int y);\n");
    tu_write(root, "labs/toy/main.c", "int main(void)\n{\n    return 0;\n}\n");
    tu_write(root, "labs/01-a/tests/a_test.c",
             "#include <criterion/criterion.h>\n#include \"toy.h\"\n"
             "Test(a, adds, .timeout = 30) { cr_assert_eq(a_add(2, 3), 5); }\n"
             "Test(a, adds_negatives, .timeout = 30)\n"
             "{\n    cr_assert_eq(a_add(-2, -3), -5);\n}\n");
    tu_mkdir(root, "autograder");
    tu_mkdir(root, "build");
    tu_mkdir(root, "libvirtlab");
    tu_link_from_repo(root, "autograder/build.mk");
    tu_link_from_repo(root, "scripts");
    tu_link_from_repo(root, "libvirtlab/include");
    tu_link_from_repo(root, "build/lib-san");
    return root;
}

Test(batch, class_of_three_is_graded_two_at_a_time)
{
    char *root = toy_course(), *dir = tu_tempdir(), *gb;
    char *csv = vg_strfmt("%s/gradebook.csv", dir);
    char *out = vg_strfmt("%s/reports", dir);
    const struct vg_manifest *sel[] = {&toy[0]};
    struct vg_batch_opts o = {
        .root = root, .dir = dir, .jobs = 2, .csv = csv, .out = out};
    struct vg_batch b;

    /* good (a clone of the course), a broken build, not a submission */
    tu_write(dir, "good, jr/labs/01-a/a.c", GOOD_A);
    tu_write(dir, "broken/01-a/a.c",
             "#include \"toy.h\"\nint a_add(int x, int y) { return x +; }\n");
    tu_write(dir, "notes/README", "not a submission\n");
    vl_assert_ok(vg_batch_run(&o, &toy_all, sel, 1, &b));
    cr_assert_eq(b.nrows, 3, "the --out folder is no student");
    cr_assert_not(vg_batch_all_graded(&b), "notes/ was not graded");
    cr_assert(b.rows[0].graded && b.rows[1].graded && !b.rows[2].graded);
    gb = tu_read(dir, "gradebook.csv");
    /* the compiler's own words after "build failed: 01-a/a.c:2:" vary */
    cr_assert(strncmp(gb,
                      "student,01-a,total,max,notes\r\n"
                      "broken,0,0,3,01-a: build failed: 01-a/a.c:2:",
                      71) == 0,
              "%s", gb);
    cr_assert(strstr(gb, "\r\n\"good, jr\",3,3,3,\r\n"
                         "notes,,,3,not a submission: no lab folder (like "
                         "01-kvm-basics/) in it or in its labs/\r\n"),
              "%s", gb);
    cr_assert_eq(strlen(gb) - strlen(strstr(gb, "\r\n\"good")),
                 (size_t)(strchr(gb + 30, '\n') - gb - 1), "%s", gb);
    free(gb);
    gb = tu_read(out, "good, jr/results.json");
    cr_assert(strstr(gb, "\"score\""), "%s", gb);
    free(gb);
    vg_batch_free(&b);
    free(csv);
    free(out);
    tu_rmdir(root);
    tu_rmdir(dir);
}

/* ---- interrupt ------------------------------------------------------ */

/* How many entries of dir start with prefix. */
static int count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    cr_assert(d, "opendir %s", dir);
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Files "hung-*" the hung tests left in the work folders under tmp (the
 * tests' cwd: the sandbox keeps it writable, unlike /tmp). */
static int count_hung(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    int n = 0;

    cr_assert(d, "opendir %s", tmp);
    while ((e = readdir(d))) {
        char *work;

        if (strncmp(e->d_name, "vlab-grade-", 11) != 0)
            continue;
        work = vg_strfmt("%s/%s", tmp, e->d_name);
        n += count_entries(work, "hung-");
        free(work);
    }
    closedir(d);
    return n;
}

/* Processes whose working folder lies under dir (a test left running). */
static int count_processes_in(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    cr_assert(d);
    while ((e = readdir(d))) {
        char link[300], cwd[4096];
        ssize_t len;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(link, sizeof(link), "/proc/%s/cwd", e->d_name);
        len = readlink(link, cwd, sizeof(cwd) - 1);
        if (len <= 0)
            continue;
        cwd[len] = '\0';
        n += strncmp(cwd, dir, strlen(dir)) == 0;
    }
    closedir(d);
    return n;
}

/* The batch, in a process group of its own as a shell job would be. */
static pid_t start_batch(const char *root, const char *dir, const char *tmp)
{
    pid_t pid = fork();

    cr_assert_geq(pid, 0);
    if (pid == 0) {
        const struct vg_manifest *sel[] = {&toy[0]};
        struct vg_batch_opts o = {.root = root, .dir = dir, .jobs = 2};
        struct vg_batch b;
        int ret;

        setpgid(0, 0);
        setenv("TMPDIR", tmp, 1);
        if (vg_interrupt_install() < 0)
            _exit(3);
        ret = vg_batch_run(&o, &toy_all, sel, 1, &b);
        for (size_t i = 0; ret == 0 && i < b.nrows; i++) /* why no hang */
            fprintf(stderr, "%s: %s\n", b.rows[i].student, b.rows[i].notes);
        vg_batch_free(&b);
        _exit(ret == -EINTR ? 128 + vg_interrupted() : 4);
    }
    setpgid(pid, pid);
    return pid;
}

/* Ctrl-C (SIGINT to the whole group) while two workers run hung tests:
 * the batch ends as interrupted, the tests are dead, no work folder left. */
Test(batch, interrupt_stops_workers_and_removes_work_folders)
{
    char *root = toy_course(), *dir = tu_tempdir(), *tmp = tu_tempdir();
    static const char hang[] =
        "#include <stdio.h>\n#include <unistd.h>\n#include \"toy.h\"\n"
        "int a_add(int x, int y)\n{\n"
        "    char p[64];\n"
        "    FILE *f;\n"
        "    snprintf(p, sizeof(p), \"hung-%d\", (int)getpid());\n"
        "    if ((f = fopen(p, \"w\")))\n        fclose(f);\n"
        "    for (;;)\n        pause();\n"
        "    return x + y;\n}\n";
    int status, found = 0, works = 0;
    pid_t pid;

    tu_write(dir, "ann/01-a/a.c", hang);
    tu_write(dir, "ben/01-a/a.c", hang);
    pid = start_batch(root, dir, tmp);
    for (int i = 0; i < 900 && (found < 2 || works < 2); i++) {
        usleep(100 * 1000);
        works = count_entries(tmp, "vlab-grade-");
        found = count_hung(tmp);
    }
    cr_assert_eq(works, 2, "two workers, one work folder each");
    cr_assert_geq(found, 2, "the workers' tests should be hanging");
    kill(-pid, SIGINT);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGINT,
              "status %#x", status);
    cr_assert_eq(count_entries(tmp, "vlab-grade-"), 0,
                 "the work folders are removed");
    cr_assert_eq(count_processes_in(tmp), 0, "no test is left running");
    tu_rmdir(tmp);
    tu_rmdir(root);
    tu_rmdir(dir);
}
