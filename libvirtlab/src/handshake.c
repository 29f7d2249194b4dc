/*
 * handshake.c - the parent/child handshake of a container runtime
 * (virtlab/ns.h).
 *
 * A SOCK_SEQPACKET socketpair (unix(7)) keeps message boundaries, so one
 * send() is one recv(), and it reports the peer's close as end-of-file:
 * when the child exec()s, its close-on-exec end closes and the parent
 * reads EOF - the sign that setting up went well (crun and runc use the
 * same trick, with a pipe or a socket).
 */
#define _GNU_SOURCE
#include "virtlab/ns.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* One message: the result, then for an error its message (no NUL). */
struct hs_msg {
    int32_t r;
    char text[VL_ERRMSG_MAX];
};

int vl_handshake_init(struct vl_handshake *h)
{
    h->fd[0] = h->fd[1] = -1;
    h->child = false;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, h->fd) < 0) {
        h->fd[0] = h->fd[1] = -1;
        return vl_err(errno, "handshake: socketpair(AF_UNIX, SOCK_SEQPACKET)");
    }
    return 0;
}

void vl_handshake_parent(struct vl_handshake *h)
{
    vl_close(&h->fd[1]);
    h->child = false;
}

void vl_handshake_child(struct vl_handshake *h)
{
    vl_close(&h->fd[0]);
    h->child = true;
}

void vl_handshake_close(struct vl_handshake *h)
{
    vl_close(&h->fd[0]);
    vl_close(&h->fd[1]);
}

/* This side's end and the peer's name, for messages. */
static int my_fd(const struct vl_handshake *h)
{
    return h->fd[h->child ? 1 : 0];
}

static const char *peer(const struct vl_handshake *h)
{
    return h->child ? "the parent" : "the child";
}

int vl_handshake_send(struct vl_handshake *h, int r)
{
    struct hs_msg msg = {.r = r > 0 ? 0 : r};
    size_t len = sizeof(msg.r);
    int fd = my_fd(h);

    if (r < 0) {
        size_t n = strnlen(vl_errmsg(), sizeof(msg.text));

        memcpy(msg.text, vl_errmsg(), n);
        len += n;
    }
    if (fd < 0)
        return vl_err_plain(EBADF, "handshake: this end is already closed");
    /* MSG_NOSIGNAL: a peer that is gone gives EPIPE, not a SIGPIPE that
     * would kill us. */
    for (;;) {
        ssize_t n = send(fd, &msg, len, MSG_NOSIGNAL);

        if (n >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EPIPE || errno == ECONNRESET)
            return vl_err_plain(EPIPE,
                                "handshake: %s has exited or closed "
                                "its end",
                                peer(h));
        return vl_err(errno, "handshake: send to %s", peer(h));
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll() for input until the deadline (< 0: none); 0 when readable. */
static int wait_readable(int fd, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline < 0 ? -1 : deadline - now_ms();
        int n;

        if (deadline >= 0 && left < 0)
            left = 0;
        n = poll(&p, 1, (int)(left > 0x7fffffff ? 0x7fffffff : left));
        if (n > 0)
            return 0; /* POLLIN, or POLLHUP: recv() tells which */
        if (n == 0 && deadline >= 0 && now_ms() >= deadline)
            return -ETIMEDOUT;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

int vl_handshake_wait(struct vl_handshake *h, bool eof_ok, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    struct hs_msg msg;
    int fd = my_fd(h);
    ssize_t n;
    int r;

    if (fd < 0)
        return vl_err_plain(EBADF, "handshake: this end is already closed");
    for (;;) {
        if ((r = wait_readable(fd, deadline)) == -ETIMEDOUT)
            return vl_err_plain(ETIMEDOUT,
                                "handshake: no word from %s within %d ms",
                                peer(h), timeout_ms);
        if (r < 0)
            return vl_err(r, "handshake: poll");
        n = recv(fd, &msg, sizeof(msg), MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        break;
    }
    if (n < 0 && errno == ECONNRESET)
        n = 0;
    if (n < 0)
        return vl_err(errno, "handshake: recv from %s", peer(h));
    if (n == 0 && eof_ok)
        return 0;
    if (n == 0)
        return vl_err_plain(EPIPE, "handshake: %s exited before it was ready",
                            peer(h));
    if ((size_t)n < sizeof(msg.r) || msg.r > 0)
        return vl_err_plain(EPROTO,
                            "handshake: a malformed message from %s "
                            "(%zd bytes)",
                            peer(h), n);
    if (msg.r == 0)
        return 0;
    /* The peer's error becomes ours, word for word. */
    n -= (ssize_t)sizeof(msg.r);
    if (n == 0)
        return vl_err(msg.r, "%s failed", peer(h));
    return vl_err_plain(msg.r, "%.*s", (int)n, msg.text);
}
