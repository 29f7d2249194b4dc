/*
 * virtlab/load.h - getting guest images and other inputs into memory.
 *
 * Files a VMM or a grader reads come from users: a guest image, a ROM, a
 * test report, a student's source file. Reading one must be bounded (no
 * /dev/zero filling the host's memory), must not block (no FIFO stalling
 * the reader) and, where asked, must not follow a symlink out of the
 * folder it was handed. open(2): O_NONBLOCK, O_NOFOLLOW.
 */
#ifndef VIRTLAB_LOAD_H
#define VIRTLAB_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h> /* ssize_t */

#define VL_LOAD_NOFOLLOW                                                       \
    1u /* refuse a symlink: -ELOOP, "PATH is a symlink"                        \
        */

/*
 * Read at most cap bytes of the regular file at path into a malloc()ed,
 * NUL-terminated *data (the NUL is not counted in *len). Anything but a
 * regular file is refused with -EINVAL. *truncated (may be NULL) tells
 * whether the file holds more than cap bytes.
 */
int vl_load_file(const char *path, unsigned flags, size_t cap, void **data,
                 size_t *len, bool *truncated);

/* read() until len bytes or the end of the file, again after EINTR: the
 * count (less than len only at the end), or -errno. */
ssize_t vl_read_full(int fd, void *buf, size_t len);
/* write() all len bytes, again after EINTR and short writes: 0 or -errno. */
int vl_write_full(int fd, const void *buf, size_t len);

#endif
