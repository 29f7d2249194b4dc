/* handshake_test.c - the parent/child handshake (virtlab/ns.h). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "virtlab/ns.h"

TestSuite(handshake, .timeout = 30);

static struct vl_handshake h;
static int fds_before;

/* Start a child that runs fn with the child's end of the handshake. */
static pid_t start(int (*fn)(void *arg))
{
    pid_t pid;

    fds_before = vl_count_fds();
    vl_assert_ok(vl_handshake_init(&h));
    pid = vl_assert_ok(vl_clone(0, fn, &h, NULL));
    vl_handshake_parent(&h);
    return pid;
}

/* Reap the child, check its exit status and that no fd is left open. */
static void finish(pid_t pid, int code)
{
    int status;

    vl_handshake_close(&h);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died: status 0x%x", status);
    cr_assert_eq(WEXITSTATUS(status), code);
    cr_assert_eq(vl_count_fds(), fds_before, "an fd leaked");
}

/* The child waits for "go", then reports "ready". */
static int go_child(void *arg)
{
    struct vl_handshake *hs = arg;
    int r;

    vl_handshake_child(hs);
    if ((r = vl_handshake_wait(hs, false, 10000)) < 0)
        return 10;
    return vl_handshake_send(hs, 0) < 0 ? 11 : 0;
}

Test(handshake, go_then_ready)
{
    pid_t pid = start(go_child);

    vl_assert_ok(vl_handshake_send(&h, 0));
    cr_assert_eq(vl_assert_ok(vl_handshake_wait(&h, false, 10000)), 0);
    finish(pid, 0);
}

/* The child fails to set itself up and says why. */
static int error_child(void *arg)
{
    struct vl_handshake *hs = arg;

    vl_handshake_child(hs);
    if (vl_handshake_wait(hs, false, 10000) < 0)
        return 10;
    vl_err(ENOENT, "mounting /proc on /newroot/proc");
    vl_err_hint("create it first");
    return vl_handshake_send(hs, -ENOENT) < 0 ? 11 : 0;
}

Test(handshake, carries_the_childs_error_and_message)
{
    pid_t pid = start(error_child);

    vl_err_clear();
    vl_assert_ok(vl_handshake_send(&h, 0));
    vl_assert_fails(vl_handshake_wait(&h, false, 10000), ENOENT,
                    "mounting /proc on /newroot/proc: No such file or "
                    "directory\n  hint: create it first");
    finish(pid, 0);
}

/* exec() closes the child's close-on-exec end: EOF means "it started". */
static int exec_child(void *arg)
{
    struct vl_handshake *hs = arg;

    vl_handshake_child(hs);
    if (vl_handshake_wait(hs, false, 10000) < 0)
        return 10;
    execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
    return 11;
}

Test(handshake, eof_after_exec_is_success_when_eof_ok)
{
    pid_t pid = start(exec_child);

    vl_assert_ok(vl_handshake_send(&h, 0));
    cr_assert_eq(vl_assert_ok(vl_handshake_wait(&h, true, 10000)), 0);
    finish(pid, 7);
}

static int early_exit_child(void *arg)
{
    vl_handshake_child(arg);
    return 3;
}

Test(handshake, early_exit_is_epipe)
{
    pid_t pid = start(early_exit_child);

    vl_assert_fails(vl_handshake_wait(&h, false, 10000), EPIPE,
                    "the child exited before it was ready");
    finish(pid, 3);
}

/* A child that waits for a "go" that never comes. */
static int waiting_child(void *arg)
{
    struct vl_handshake *hs = arg;

    vl_handshake_child(hs);
    /* EOF when the parent closes its end: not ok for the child. */
    return vl_handshake_wait(hs, false, 10000) == -EPIPE ? 0 : 10;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 +
           (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

Test(handshake, times_out)
{
    pid_t pid = start(waiting_child);
    struct timespec t0;
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    vl_assert_fails(vl_handshake_wait(&h, false, 200), ETIMEDOUT,
                    "no word from the child within 200 ms");
    ms = elapsed_ms(&t0);
    cr_assert(ms >= 190 && ms < 5000, "waited %ld ms for a 200 ms timeout", ms);
    /* Closing our end lets the child see EOF: the parent went away. */
    finish(pid, 0);
}

Test(handshake, zero_timeout_polls)
{
    pid_t pid = start(waiting_child);

    vl_assert_fails(vl_handshake_wait(&h, false, 0), ETIMEDOUT, "within 0 ms");
    finish(pid, 0);
}

Test(handshake, send_to_a_gone_peer_is_epipe_not_sigpipe)
{
    pid_t pid = start(early_exit_child);
    int status;

    cr_assert_eq(waitpid(pid, &status, 0), pid);
    vl_assert_fails(vl_handshake_send(&h, 0), EPIPE, "the child has exited");
    vl_handshake_close(&h);
    cr_assert_eq(vl_count_fds(), fds_before);
}

Test(handshake, ends_are_close_on_exec_and_close_is_idempotent)
{
    int n = vl_count_fds();

    vl_assert_ok(vl_handshake_init(&h));
    cr_assert_eq(vl_count_fds(), n + 2);
    for (int i = 0; i < 2; i++)
        cr_assert(fcntl(h.fd[i], F_GETFD) & FD_CLOEXEC);
    vl_handshake_close(&h);
    cr_assert_eq(h.fd[0], -1);
    cr_assert_eq(h.fd[1], -1);
    vl_handshake_close(&h);
    cr_assert_eq(vl_count_fds(), n);
    vl_assert_fails(vl_handshake_wait(&h, false, 0), EBADF, "closed");
    vl_assert_fails(vl_handshake_send(&h, 0), EBADF, "closed");
}

/* The child side: the parent's error reaches the child too. */
static int child_reads_parent_error(void *arg)
{
    struct vl_handshake *hs = arg;

    vl_handshake_child(hs);
    vl_err_clear();
    if (vl_handshake_wait(hs, false, 10000) != -EACCES)
        return 10;
    return strstr(vl_errmsg(), "cgroup setup failed") ? 0 : 11;
}

Test(handshake, parent_error_reaches_the_child)
{
    pid_t pid = start(child_reads_parent_error);

    vl_err_plain(EACCES, "cgroup setup failed");
    vl_assert_ok(vl_handshake_send(&h, -EACCES));
    finish(pid, 0);
}
