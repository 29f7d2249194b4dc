/* outbuf.c - see outbuf.h. */
#include "outbuf.h"

#include <stdarg.h>
#include <stdio.h>

void vl__out(struct vl_outbuf *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(o->used < o->len ? o->buf + o->used : NULL,
                  o->used < o->len ? o->len - o->used : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}
