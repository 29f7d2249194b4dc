/*
 * helpers.h - assertions for Criterion tests of libvirtlab and the labs.
 *
 * vl_assert_ok(expr): expr must return >= 0; on failure the message shows
 * the expression, the returned errno and the library's error chain.
 * vl_require_kvm(): skip (never pass) when /dev/kvm cannot be used here.
 * vl_count_fds(): open fds of this process, to check for leaks.
 * vl_skip_if_slow_disabled(): skip a test that takes a minute or more here
 * when VLAB_SKIP_SLOW is set (the grader sets it while checking mutants).
 */
#ifndef VIRTLAB_TEST_HELPERS_H
#define VIRTLAB_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtlab/error.h"

#define vl_assert_ok(expr)                                                     \
    ({                                                                         \
        long _r = (long)(expr);                                                \
        cr_assert(_r >= 0, "%s returned %ld (%s)\n  error: %s", #expr, _r,     \
                  _r < 0 ? strerror((int)-_r) : "", vl_errmsg());              \
        _r;                                                                    \
    })

/* expr must fail with -err; the error message must mention `needle`. */
#define vl_assert_fails(expr, err, needle)                                     \
    do {                                                                       \
        vl_err_clear();                                                        \
        long _r = (long)(expr);                                                \
        cr_assert_eq(_r, -(long)(err), "%s returned %ld, expected -%s", #expr, \
                     _r, #err);                                                \
        cr_assert(strstr(vl_errmsg(), (needle)) != NULL,                       \
                  "error message of %s should mention \"%s\", got \"%s\"",     \
                  #expr, (needle), vl_errmsg());                               \
    } while (0)

/* Open file descriptors of this process (to check that nothing leaks). */
static inline int vl_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    cr_assert_not_null(d, "opendir /proc/self/fd");
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static inline void vl_require_kvm(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        cr_skip_test("needs /dev/kvm (%s): run `make doctor` for the fix",
                     strerror(errno));
    close(fd);
}

/*
 * A slow test (a real kernel booting under emulation: about a minute here)
 * calls this first. `vlab-grade --mutants` sets VLAB_SKIP_SLOW=1, because
 * each mutant is a full run of the lab's tests and must be caught by the
 * fast ones; students and the reference run still run it.
 */
static inline void vl_skip_if_slow_disabled(void)
{
    const char *v = getenv("VLAB_SKIP_SLOW");

    if (v && *v && strcmp(v, "0") != 0)
        cr_skip_test("a slow test, skipped because VLAB_SKIP_SLOW=%s (the "
                     "grader sets it while it checks mutants)",
                     v);
}

#endif
