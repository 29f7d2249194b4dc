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
#include "virtlab/load.h"

int vg_read_file(const char *path, size_t cap, char **text, size_t *len,
                 bool *truncated)
{
    void *data;
    int ret = vl_load_file(path, 0, cap, &data, len, truncated);

    if (ret == 0)
        *text = data;
    return ret;
}

int vg_write_file(const char *path, const char *text, size_t len)
{
    _vl_cleanup_close_ int fd = -1;
    int ret;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vl_err(errno, "create %s", path);
    ret = vl_write_full(fd, text, len);
    if (ret < 0)
        return vl_err(ret, "write %s", path);
    if (close(vl_steal_fd(&fd)) < 0)
        return vl_err(errno, "close %s", path);
    return 0;
}

int vg_copy_file(const char *src, const char *dst, size_t cap)
{
    _vl_cleanup_close_ int out = -1;
    _vl_cleanup_free_ void *buf = NULL;
    bool too_big;
    size_t n;
    int ret;

    ret = vl_load_file(src, VL_LOAD_NOFOLLOW, cap, &buf, &n, &too_big);
    if (ret == -ELOOP)
        vl_err_hint("submit a regular file, not a link");
    if (ret < 0)
        return ret;
    if (too_big)
        return vl_err_plain(EFBIG,
                            "%s is more than the %zu bytes a stage file may "
                            "have",
                            src, cap);
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0)
        return vl_err(errno, "create %s", dst);
    ret = vl_write_full(out, buf, n);
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
