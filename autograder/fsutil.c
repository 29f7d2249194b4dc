/* fsutil.c - bounded, link-safe file operations (see fsutil.h). */
#define _GNU_SOURCE
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/*
 * Open path for reading without blocking on a FIFO, and insist on a regular
 * file. extra_flags adds O_NOFOLLOW where a symlink must be refused.
 */
static int open_regular(const char *path, int extra_flags, struct stat *st)
{
    _vl_cleanup_close_ int fd = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | extra_flags);
    if (fd < 0 && errno == ELOOP && (extra_flags & O_NOFOLLOW))
        return vl_err_plain(ELOOP, "%s is a symlink: submit a regular file",
                            path);
    if (fd < 0)
        return vl_err(errno, "open %s", path);
    if (fstat(fd, st) < 0)
        return vl_err(errno, "stat %s", path);
    if (!S_ISREG(st->st_mode))
        return vl_err_plain(EINVAL, "%s is not a regular file", path);
    return vl_steal_fd(&fd);
}

/* Read up to cap bytes from fd into buf; returns the count or -errno. */
static ssize_t read_upto(int fd, char *buf, size_t cap)
{
    size_t got = 0;

    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);

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

int vg_read_file(const char *path, size_t cap, char **text, size_t *len,
                 bool *truncated)
{
    _vl_cleanup_close_ int fd = -1;
    _vl_cleanup_free_ char *buf = NULL;
    struct stat st;
    ssize_t n;

    fd = open_regular(path, 0, &st);
    if (fd < 0)
        return fd;
    buf = malloc(cap + 1);
    if (!buf)
        return vl_err(ENOMEM, "reading %s", path);
    n = read_upto(fd, buf, cap);
    if (n < 0)
        return vl_err((int)n, "read %s", path);
    buf[n] = '\0';
    if (truncated) {
        char probe;
        *truncated = (size_t)n == cap && read(fd, &probe, 1) == 1;
    }
    if (len)
        *len = (size_t)n;
    *text = vl_steal_ptr(&buf);
    return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int vg_write_file(const char *path, const char *text, size_t len)
{
    _vl_cleanup_close_ int fd = -1;
    int ret;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vl_err(errno, "create %s", path);
    ret = write_all(fd, text, len);
    if (ret < 0)
        return vl_err(ret, "write %s", path);
    if (close(vl_steal_fd(&fd)) < 0)
        return vl_err(errno, "close %s", path);
    return 0;
}

int vg_copy_file(const char *src, const char *dst, size_t cap)
{
    _vl_cleanup_close_ int in = -1;
    _vl_cleanup_close_ int out = -1;
    _vl_cleanup_free_ char *buf = NULL;
    struct stat st;
    ssize_t n;
    int ret;

    in = open_regular(src, O_NOFOLLOW, &st);
    if (in < 0)
        return in;
    if ((size_t)st.st_size > cap)
        return vl_err_plain(EFBIG,
                            "%s is %lld bytes, more than the %zu a "
                            "stage file may have",
                            src, (long long)st.st_size, cap);
    buf = malloc(cap + 1);
    if (!buf)
        return vl_err(ENOMEM, "copying %s", src);
    n = read_upto(in, buf, cap + 1);
    if (n < 0)
        return vl_err((int)n, "read %s", src);
    if ((size_t)n > cap)
        return vl_err_plain(EFBIG, "%s grew past %zu bytes", src, cap);
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0)
        return vl_err(errno, "create %s", dst);
    ret = write_all(out, buf, (size_t)n);
    if (ret < 0)
        return vl_err(ret, "write %s", dst);
    if (close(vl_steal_fd(&out)) < 0)
        return vl_err(errno, "close %s", dst);
    return 0;
}

int vg_mkdir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return vl_err(errno, "mkdir %s", path);
    return 0;
}

bool vg_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool vg_is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int vg_make_workdir(const char *tag, char **path)
{
    const char *tmp = getenv("TMPDIR");
    char *templ;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    templ = vg_strfmt("%s/vlab-grade-%s-XXXXXX", tmp, tag);
    if (!templ)
        return vl_err(ENOMEM, "naming a work folder");
    if (!mkdtemp(templ)) {
        int ret = vl_err(errno, "mkdtemp %s", templ);
        free(templ);
        return ret;
    }
    *path = templ;
    return 0;
}

/* nftw() has no user pointer: the first failure is kept here. */
static int remove_errno;

static int remove_one(const char *path, const struct stat *st, int type,
                      struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) < 0 && errno != ENOENT && !remove_errno)
        remove_errno = errno;
    return 0; /* keep going: remove as much as possible */
}

int vg_remove_tree(const char *path)
{
    remove_errno = 0;
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 &&
        errno != ENOENT)
        return vl_err(errno, "removing %s", path);
    if (remove_errno)
        return vl_err(remove_errno, "removing %s", path);
    return 0;
}
