/*
 * virtlab/error.h - how libvirtlab reports failures.
 *
 * Convention (after crun's libcrun/error.c): a function that fails returns a
 * negative errno and records a readable message in a thread-local buffer.
 * Callers add context as the error travels up, so the final message reads as
 * a chain from the outermost action to the root cause:
 *
 *   "loading guest: reading hello.bin: open: No such file or directory"
 *
 * The library never exits or aborts; only a program's main() may die.
 */
#ifndef VIRTLAB_ERROR_H
#define VIRTLAB_ERROR_H

#include <stddef.h>

#define VL_ERRMSG_MAX 2048

/*
 * Record "<message>: <strerror(err)>" as the current error and return -err.
 * err may be given positive or negative (both mean the same errno).
 * err == 0 records the message alone and returns -EIO.
 */
int vl_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record "<message>" with no errno text appended; returns -|err|. */
int vl_err_plain(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Prepend "<context>: " to the current error and return ret unchanged, so a
 * caller can write `return vl_err_ctx(r, "loading %s", path);`.
 */
int vl_err_ctx(int ret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append an indented explanation line ("  hint: ...") to the current error. */
void vl_err_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current error chain ("" when none was recorded). */
const char *vl_errmsg(void);

/* Forget the current error. */
void vl_err_clear(void);

#endif
