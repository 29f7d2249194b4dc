/*
 * doctor_probe.c - the doctor's probes run in a child process.
 *
 * A probe that unshares namespaces, installs a seccomp filter or runs a
 * guest must not change the caller, and a broken kernel facility must not
 * hang it. So it runs in a forked child, which sends its result and error
 * message over a pipe (as crun's children do) and is killed with SIGKILL
 * after a time limit. Everything the child changed dies with it: its
 * namespaces, mounts made in them, its filter, its VM.
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct child_msg {
    int ret;
    char err[1024];
    unsigned char payload[DOCTOR_CHILD_PAYLOAD_MAX];
};
/* One write() to a pipe of at most PIPE_BUF bytes is atomic (pipe(7)). */
_Static_assert(sizeof(struct child_msg) <= PIPE_BUF, "child message too big");

static _Noreturn void child_main(int wr, doctor_child_fn fn, void *arg)
{
    struct child_msg msg;

    memset(&msg, 0, sizeof(msg));
    vl_err_clear();
    msg.ret = fn(arg, msg.payload);
    if (msg.ret < 0)
        snprintf(msg.err, sizeof(msg.err), "%s", vl_errmsg());
    if (write(wr, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
        _exit(2);
    /* _exit: no atexit handlers or stdio flushes of the parent's state. */
    _exit(0);
}

/* Read up to len bytes before the deadline; returns the count or -errno. */
static ssize_t read_until(int fd, void *buf, size_t len, int64_t deadline)
{
    size_t got = 0;

    while (got < len) {
        int64_t left_ms = (deadline - doctor_now_ns()) / 1000000;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;
        int pr;

        if (left_ms <= 0)
            return -ETIMEDOUT;
        pr = poll(&p, 1, (int)left_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -errno;
        if (pr == 0)
            return -ETIMEDOUT;
        n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int reap(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

int doctor_child_run(const char *what, doctor_child_fn fn, void *arg, void *out,
                     size_t outlen, int timeout_ms)
{
    _vl_cleanup_close_ int rd = -1;
    _vl_cleanup_close_ int wr = -1;
    struct child_msg msg;
    int status = 0;
    int fds[2];
    ssize_t n;
    pid_t pid;

    if (outlen > DOCTOR_CHILD_PAYLOAD_MAX)
        return vl_err_plain(EINVAL, "%s: result of %zu bytes is too big", what,
                            outlen);
    if (pipe2(fds, O_CLOEXEC) < 0)
        return vl_err(errno, "%s: pipe2", what);
    rd = fds[0];
    wr = fds[1];
    pid = fork();
    if (pid < 0)
        return vl_err(errno, "%s: fork", what);
    if (pid == 0)
        child_main(wr, fn, arg);

    vl_close(&wr); /* so read() sees EOF when the child dies */
    memset(&msg, 0, sizeof(msg));
    n = read_until(rd, &msg, sizeof(msg),
                   doctor_now_ns() + (int64_t)timeout_ms * 1000000);
    /* Whatever stopped the read (time limit or a pipe error), the child
     * may still be running: kill it so the wait below cannot hang. */
    if (n < 0)
        kill(pid, SIGKILL);
    if (reap(pid, &status) < 0 && n != (ssize_t)sizeof(msg))
        return vl_err(errno, "%s: waitpid", what);

    if (n == -ETIMEDOUT)
        return vl_err_plain(ETIMEDOUT, "%s: no answer within %d s (killed)",
                            what, timeout_ms / 1000);
    if (n < 0)
        return vl_err((int)n, "%s: reading the probe's answer", what);
    if (n != (ssize_t)sizeof(msg)) {
        if (WIFSIGNALED(status))
            return vl_err_plain(ECHILD, "%s: the probe died of signal %d (%s)",
                                what, WTERMSIG(status),
                                strsignal(WTERMSIG(status)));
        return vl_err_plain(ECHILD,
                            "%s: the probe exited (status %d) "
                            "without an answer",
                            what, WEXITSTATUS(status));
    }
    if (msg.ret < 0) {
        msg.err[sizeof(msg.err) - 1] = '\0';
        return vl_err_plain(msg.ret, "%s", msg.err);
    }
    if (out)
        memcpy(out, msg.payload, outlen);
    return msg.ret;
}
