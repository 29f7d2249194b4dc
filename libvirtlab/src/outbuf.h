/*
 * outbuf.h - an snprintf() appender for messages built piece by piece
 * (internal to libvirtlab, not installed). Writes never overflow; `used`
 * keeps counting past the end, as snprintf's return value does, so the
 * caller can report the full length.
 */
#ifndef VIRTLAB_OUTBUF_H
#define VIRTLAB_OUTBUF_H

#include <stddef.h>

#pragma GCC visibility push(hidden)

struct vl_outbuf {
    char *buf;
    size_t len;
    size_t used;
};

void vl__out(struct vl_outbuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#pragma GCC visibility pop

#endif
