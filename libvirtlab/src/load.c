/* load.c - bounded, non-blocking file reads (virtlab/load.h). */
#include "virtlab/load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* Open for reading; O_NONBLOCK so opening a FIFO does not wait for a
 * writer, then insist on a regular file. */
static int open_regular(const char *path, unsigned flags, size_t *size)
{
    _vl_cleanup_close_ int fd = -1;
    struct stat st;
    int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;

    if (flags & VL_LOAD_NOFOLLOW)
        oflags |= O_NOFOLLOW;
    fd = open(path, oflags);
    if (fd < 0 && errno == ELOOP && (flags & VL_LOAD_NOFOLLOW))
        return vl_err_plain(ELOOP, "%s is a symlink", path);
    if (fd < 0)
        return vl_err(errno, "open %s", path);
    if (fstat(fd, &st) < 0)
        return vl_err(errno, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return vl_err_plain(EINVAL, "%s is not a regular file", path);
    *size = (size_t)st.st_size;
    return vl_steal_fd(&fd);
}

ssize_t vl_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);

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

int vl_write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int vl_load_file(const char *path, unsigned flags, size_t cap, void **data,
                 size_t *len, bool *truncated)
{
    _vl_cleanup_close_ int fd = -1;
    _vl_cleanup_free_ char *buf = NULL;
    size_t size = 0, room, got = 0;
    ssize_t n;
    char probe;

    if ((fd = open_regular(path, flags, &size)) < 0)
        return fd;
    /* Start with the size fstat saw; a file still growing gets more room,
     * never more than cap. */
    room = size < cap ? size : cap;
    for (;;) {
        char *bigger = realloc(buf, room + 1);

        if (!bigger)
            return vl_err(ENOMEM, "reading %s", path);
        buf = bigger;
        n = vl_read_full(fd, buf + got, room - got);
        if (n < 0)
            return vl_err((int)n, "read %s", path);
        got += (size_t)n;
        if (got < room || room == cap)
            break;
        room = room > cap / 2 ? cap : (room ? 2 * room : 4096);
        room = room < cap ? room : cap;
    }
    buf[got] = '\0';
    if (truncated)
        *truncated = got == cap && read(fd, &probe, 1) == 1;
    if (len)
        *len = got;
    *data = vl_steal_ptr(&buf);
    return 0;
}
