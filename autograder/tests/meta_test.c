/*
 * meta_test.c - what makes a grade reproducible: SHA-256 digests, the
 * submission's git commit, the tools and the doctor's summary.
 *
 * Specifications checked against:
 * - SHA-256 itself: FIPS 180-2/180-4, whose worked examples give the
 *   digest of the message "abc"; the digest of no data is the well-known
 *   e3b0c442... value.
 * - tests_sha256 is the digest of the listing sha256sum(1) prints (GNU
 *   coreutils, man sha256sum: per file the checksum, a space, a mode
 *   character - ' ' for text, '*' for binary - then the name). Rather than
 *   copy that format, the test runs the real sha256sum and compares.
 */
#include <sys/stat.h>

#include "testutil.h"
#include "meta.h"
#include "spawn.h"

TestSuite(meta, .init = tu_arm_deadline);

Test(meta, sha256_of_known_messages)
{
    char *dir = tu_tempdir(), *path = vg_strfmt("%s/abc", dir);
    char hex[65];

    tu_write(dir, "abc", "abc");
    tu_write(dir, "empty", "");
    vl_assert_ok(vg_sha256_file(path, hex));
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
                          "b00361a396177a9cb410ff61f20015ad");
    free(path);
    path = vg_strfmt("%s/empty", dir);
    vl_assert_ok(vg_sha256_file(path, hex));
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                          "27ae41e4649b934ca495991b7852b855");
    free(path);
    tu_rmdir(dir);
}

Test(meta, sha256_refuses_fifo_and_missing_file)
{
    char *dir = tu_tempdir(), *fifo = vg_strfmt("%s/fifo", dir);
    char *missing = vg_strfmt("%s/missing", dir);
    char hex[65];

    cr_assert_eq(mkfifo(fifo, 0644), 0);
    cr_assert_eq(vg_sha256_file(fifo, hex), -EINVAL, "a FIFO never blocks");
    cr_assert(strstr(vl_errmsg(), "not a regular file"), "%s", vl_errmsg());
    cr_assert_eq(vg_sha256_file(missing, hex), -ENOENT);
    cr_assert(strstr(vl_errmsg(), missing), "%s", vl_errmsg());
    free(fifo);
    free(missing);
    tu_rmdir(dir);
}

/* The first line of `sh -c script` run in dir. */
static char *shell(const char *dir, const char *script)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    struct vg_spawn_opts o = {
        .argv = argv, .cwd = dir, .limit_sec = 30, .output_cap = 4096};
    struct vg_spawn_result res;
    char *line;

    vl_assert_ok(vg_spawn(&o, &res));
    cr_assert(WIFEXITED(res.wait_status) && WEXITSTATUS(res.wait_status) == 0,
              "%s: %s", script, res.output);
    line = strndup(res.output, strcspn(res.output, "\n"));
    vg_spawn_result_free(&res);
    return line;
}

Test(meta, tests_digest_matches_sha256sum_listing)
{
    char *dir = tu_tempdir(), *want;
    const char *names[] = {"tests/b_test.c", "tests/a_test.c"};
    char hex[65];

    tu_write(dir, "tests/a_test.c", "int a;\n");
    tu_write(dir, "tests/b_test.c", "int b;\n");
    vl_assert_ok(vg_sha256_listing(dir, names, 2, hex));
    want = shell(dir, "sha256sum tests/b_test.c tests/a_test.c | sha256sum "
                      "| cut -d' ' -f1");
    cr_assert_str_eq(hex, want);
    free(want);
    /* Moving bytes from one file to the next changes the digest, which a
     * digest of the files run together would not see. */
    tu_write(dir, "tests/a_test.c", "b;\nint a;\n");
    tu_write(dir, "tests/b_test.c", "int ");
    want = strdup(hex);
    vl_assert_ok(vg_sha256_listing(dir, names, 2, hex));
    cr_assert_str_neq(hex, want);
    free(want);
    tu_rmdir(dir);
}

Test(meta, lab_hashes_cover_tests_in_order_and_the_manifest)
{
    char *root = tu_tempdir(), *json = vg_strfmt("%s/lab.json", root);
    char *tests[] = {(char *)"tests/a_test.c"};
    struct vg_manifest m = {
        .slug = (char *)"01-a", .path = json, .tests = tests, .ntests = 1};
    struct vg_lab lab;
    char *want;

    tu_write(root, "labs/01-a/tests/a_test.c", "int a;\n");
    tu_write(root, "lab.json", "{}\n");
    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "A"));
    vl_assert_ok(vg_meta_lab_hashes(root, &m, &lab));
    want = shell(root, "cd labs/01-a && sha256sum tests/a_test.c | sha256sum "
                       "| cut -d' ' -f1");
    cr_assert_str_eq(lab.tests_sha256, want);
    free(want);
    want = shell(root, "sha256sum lab.json | cut -d' ' -f1");
    cr_assert_str_eq(lab.rubric_sha256, want);
    free(want);
    /* A missing test file: no digest (the build reports the file). */
    tests[0] = (char *)"tests/gone_test.c";
    vl_assert_ok(vg_meta_lab_hashes(root, &m, &lab));
    cr_assert_null(lab.tests_sha256);
    cr_assert(lab.rubric_sha256);
    vg_lab_free(&lab);
    free(json);
    tu_rmdir(root);
}

#define GIT "git -c user.name=t -c user.email=t@example.org "

Test(meta, git_commit_clean_dirty_and_none)
{
    char *repo = tu_tempdir(), *plain = tu_tempdir(), *head, *commit = NULL;

    tu_write(repo, "01-a/a.c", "int a;\n");
    free(shell(repo, GIT "init -q . && " GIT "add . && " GIT
                         "commit -qm one && echo ok"));
    head = shell(repo, "git rev-parse HEAD");
    vl_assert_ok(vg_meta_git_commit(repo, &commit));
    cr_assert_str_eq(commit, head);
    free(commit);
    tu_write(repo, "01-a/a.c", "int b;\n");
    vl_assert_ok(vg_meta_git_commit(repo, &commit));
    cr_assert(commit && strncmp(commit, head, 40) == 0 &&
                  strcmp(commit + 40, "-dirty") == 0,
              "%s", commit);
    free(commit);
    vl_assert_ok(vg_meta_git_commit(plain, &commit));
    cr_assert_null(commit, "not a repository: no commit");
    free(head);
    tu_rmdir(repo);
    tu_rmdir(plain);
}

Test(meta, hostile_repository_runs_no_command)
{
    char *repo = tu_tempdir(), *commit = NULL, *pwned;

    tu_write(repo, "a.c", "int a;\n");
    pwned = vg_strfmt("%s/pwned", repo);
    free(shell(repo, GIT "init -q . && " GIT "add . && " GIT
                         "commit -qm one && echo ok"));
    /* git status would run core.fsmonitor as a hook command. */
    free(shell(repo, "git config core.fsmonitor 'touch pwned; false' && "
                     "echo ok"));
    vl_assert_ok(vg_meta_git_commit(repo, &commit));
    cr_assert(commit);
    cr_assert_not(vg_is_file(pwned), "the repository's command ran");
    free(commit);
    free(pwned);
    tu_rmdir(repo);
}

Test(meta, collect_fills_every_field_and_the_footer_shows_them)
{
    struct vg_result r = {0};
    struct vg_lab lab;
    char *out = NULL, *dir = tu_tempdir();
    size_t len = 0;
    FILE *f;

    vl_assert_ok(vg_meta_collect(&r.meta, dir));
    cr_assert(strstr(r.meta.grader_version, "vlab-grade "));
    cr_assert_str_eq(r.meta.submission, dir);
    cr_assert_null(r.meta.submission_commit);
    cr_assert(strstr(r.meta.tools, "gcc ") && strstr(r.meta.tools, "; make ") &&
                  strstr(r.meta.tools, "; criterion ") &&
                  strstr(r.meta.tools, "; kernel "),
              "%s", r.meta.tools);
    cr_assert(strstr(r.meta.environment, "system.kernel: "), "%s",
              r.meta.environment);
    cr_assert_eq(strlen(r.meta.started), strlen("2026-01-01T00:00:00Z"));
    cr_assert_eq(r.meta.started[10], 'T');
    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "A"));
    lab.tests_sha256 = strdup("0123456789abcdef0123");
    vl_assert_ok(vg_result_add_lab(&r, &lab));
    f = open_memstream(&out, &len);
    cr_assert(f);
    vg_meta_print_footer(f, &r);
    cr_assert_eq(fclose(f), 0);
    cr_assert(strstr(out, "not a git repository"), "%s", out);
    cr_assert(strstr(out, "01-a: tests sha256 0123456789ab, rubric sha256 -"),
              "%s", out);
    free(out);
    vg_result_free(&r);
    tu_rmdir(dir);
}
