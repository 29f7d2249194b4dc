/* load_test.c - bounded, non-blocking file reads (virtlab/load.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "virtlab/load.h"

static char dir[] = "/tmp/load-test-XXXXXX";
static char path[256];

static void make_dir(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const char *file_with(const char *name, const char *text)
{
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

TestSuite(load, .init = make_dir, .fini = remove_dir);

Test(load, reads_a_whole_file_nul_terminated)
{
    void *data;
    size_t len;
    bool cut = true;

    vl_assert_ok(
        vl_load_file(file_with("a", "hello"), 0, 100, &data, &len, &cut));
    cr_assert_eq(len, 5);
    cr_assert_str_eq(data, "hello");
    cr_assert(!cut);
    free(data);
}

Test(load, stops_at_the_cap_and_says_so)
{
    void *data;
    size_t len;
    bool cut = false;

    vl_assert_ok(
        vl_load_file(file_with("a", "0123456789"), 0, 4, &data, &len, &cut));
    cr_assert_eq(len, 4);
    cr_assert_str_eq(data, "0123");
    cr_assert(cut);
    free(data);
    /* Exactly cap bytes is not truncated. */
    vl_assert_ok(vl_load_file(path, 0, 10, &data, &len, &cut));
    cr_assert(!cut && len == 10);
    free(data);
}

Test(load, empty_file_is_an_empty_string)
{
    void *data;
    size_t len = 1;

    vl_assert_ok(vl_load_file(file_with("e", ""), 0, 100, &data, &len, NULL));
    cr_assert_eq(len, 0);
    cr_assert_str_eq(data, "");
    free(data);
}

Test(load, refuses_fifos_and_devices_without_blocking, .timeout = 10)
{
    void *data;
    size_t len;

    snprintf(path, sizeof(path), "%s/fifo", dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    vl_assert_fails(vl_load_file(path, 0, 100, &data, &len, NULL), EINVAL,
                    "not a regular file");
    vl_assert_fails(vl_load_file("/dev/zero", 0, 100, &data, &len, NULL),
                    EINVAL, "not a regular file");
}

Test(load, nofollow_refuses_a_symlink)
{
    char link[300];
    void *data;
    size_t len;

    file_with("target", "x");
    snprintf(link, sizeof(link), "%s/link", dir);
    cr_assert_eq(symlink(path, link), 0);
    vl_assert_fails(
        vl_load_file(link, VL_LOAD_NOFOLLOW, 100, &data, &len, NULL), ELOOP,
        "link is a symlink");
    vl_assert_ok(vl_load_file(link, 0, 100, &data, &len, NULL));
    free(data);
}

Test(load, missing_file_names_the_path)
{
    void *data;
    size_t len;

    vl_assert_fails(vl_load_file("/nonexistent/x", 0, 100, &data, &len, NULL),
                    ENOENT, "open /nonexistent/x");
}

Test(load, leaks_no_fd)
{
    int fds = vl_count_fds();
    void *data;
    size_t len;

    vl_assert_ok(vl_load_file(file_with("a", "abc"), 0, 2, &data, &len, NULL));
    free(data);
    vl_load_file("/dev/null", 0, 2, &data, &len, NULL);
    cr_assert_eq(vl_count_fds(), fds);
}

Test(load, read_full_and_write_full_move_every_byte)
{
    static char big[200000], back[200001];
    int fds[2], status;
    pid_t pid;

    /* More than a pipe holds (64 KiB): both sides see short reads and
     * writes, which the two functions must hide. */
    memset(big, 'v', sizeof(big));
    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        _exit(vl_write_full(fds[1], big, sizeof(big)) == 0 ? 0 : 1);
    }
    close(fds[1]);
    /* Asked for one byte more than comes: the count, short at the end. */
    cr_assert_eq(vl_read_full(fds[0], back, sizeof(back)),
                 (ssize_t)sizeof(big));
    cr_assert_eq(memcmp(back, big, sizeof(big)), 0);
    cr_assert_eq(vl_read_full(fds[0], back, 1), 0, "end of file: 0");
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "vl_write_full() failed in the writer");
    close(fds[0]);
    cr_assert_eq(vl_read_full(fds[0], back, 1), -EBADF);
    cr_assert_eq(vl_write_full(fds[0], big, 1), -EBADF);
}
