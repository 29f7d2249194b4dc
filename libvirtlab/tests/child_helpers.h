/*
 * child_helpers.h - run part of a test in a forked child (a new namespace,
 * another uid) and report its failures to the test as Criterion asserts.
 *
 * Criterion's asserts must not run in a forked child (they would report
 * from two processes), so a child function checks with child_ok(),
 * child_check() and child_fails(), which record the failing line, the
 * expression and the library's error chain in a shared mapping and return
 * 1. The test calls child_run(fn, arg), which forks, waits and asserts that
 * the child succeeded, showing what it recorded.
 */
#ifndef VIRTLAB_TEST_CHILD_HELPERS_H
#define VIRTLAB_TEST_CHILD_HELPERS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "virtlab/error.h"

struct child_report {
    int line;
    long r;
    char what[512];
    char err[VL_ERRMSG_MAX];
};

static struct child_report *child_report;

static inline int child_fail(int line, const char *what, long r)
{
    if (child_report) {
        child_report->line = line;
        child_report->r = r;
        snprintf(child_report->what, sizeof(child_report->what), "%s", what);
        snprintf(child_report->err, sizeof(child_report->err), "%s",
                 vl_errmsg());
    }
    return 1;
}

/* expr must return >= 0. */
#define child_ok(expr)                                                         \
    do {                                                                       \
        long _r = (long)(expr);                                                \
        if (_r < 0)                                                            \
            return child_fail(__LINE__, #expr, _r);                            \
    } while (0)

/* cond must hold. */
#define child_check(cond)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            return child_fail(__LINE__, "false: " #cond, 0);                   \
    } while (0)

/* expr must fail with -err and a message mentioning needle. */
#define child_fails(expr, err, needle)                                         \
    do {                                                                       \
        vl_err_clear();                                                        \
        long _r = (long)(expr);                                                \
        if (_r != -(long)(err) || !strstr(vl_errmsg(), (needle)))              \
            return child_fail(__LINE__,                                        \
                              "should fail with -" #err                        \
                              " mentioning \"" needle "\": " #expr,            \
                              _r);                                             \
    } while (0)

/* Fork, run fn(arg) in the child, and assert that it returned 0. */
static inline void child_run(int (*fn)(void *arg), void *arg)
{
    int status;
    pid_t pid;

    if (!child_report) {
        child_report = mmap(NULL, sizeof(*child_report), PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        cr_assert(child_report != MAP_FAILED, "mmap: %s", strerror(errno));
    }
    memset(child_report, 0, sizeof(*child_report));
    pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        vl_err_clear();
        _exit(fn(arg));
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the child %s %d; at line %d: %s (returned %ld: %s)\n"
              "  error: %s",
              WIFSIGNALED(status) ? "was killed by signal" : "exited with",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
              child_report->line, child_report->what, child_report->r,
              child_report->r < 0 ? strerror((int)-child_report->r) : "",
              child_report->err);
}

#endif
