/* error.c - the thread-local error chain (see virtlab/error.h). */
#include "virtlab/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread char errbuf[VL_ERRMSG_MAX];

static int neg(int err)
{
    if (err == 0)
        return -EIO;
    return err < 0 ? err : -err;
}

static void record(int err, int with_errno, const char *fmt, va_list ap)
{
    int saved = errno;
    int n = vsnprintf(errbuf, sizeof(errbuf), fmt, ap);

    if (n < 0)
        errbuf[0] = '\0';
    else if (with_errno && err != 0 && (size_t)n < sizeof(errbuf))
        snprintf(errbuf + n, sizeof(errbuf) - (size_t)n, ": %s",
                 strerror(-neg(err)));
    errno = saved;
}

int vl_err(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    record(err, 1, fmt, ap);
    va_end(ap);
    return neg(err);
}

int vl_err_plain(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    record(err, 0, fmt, ap);
    va_end(ap);
    return neg(err);
}

int vl_err_ctx(int ret, const char *fmt, ...)
{
    char old[VL_ERRMSG_MAX];
    int saved = errno;
    size_t n;
    va_list ap;

    /* The chain reads outermost first: "<context>: <what was there>".
     * A chain longer than the buffer loses its tail, never its start. */
    memcpy(old, errbuf, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    va_end(ap);
    n = strlen(errbuf);
    if (old[0] && n + 2 < sizeof(errbuf)) {
        memcpy(errbuf + n, ": ", 2);
        n += 2;
        size_t rest = strnlen(old, sizeof(errbuf) - n - 1);
        memcpy(errbuf + n, old, rest);
        errbuf[n + rest] = '\0';
    }
    errno = saved;
    return ret;
}

void vl_err_hint(const char *fmt, ...)
{
    size_t n = strlen(errbuf);
    int saved = errno;
    va_list ap;

    if (n + 10 >= sizeof(errbuf))
        return;
    n += (size_t)snprintf(errbuf + n, sizeof(errbuf) - n, "\n  hint: ");
    va_start(ap, fmt);
    vsnprintf(errbuf + n, sizeof(errbuf) - n, fmt, ap);
    va_end(ap);
    errno = saved;
}

const char *vl_errmsg(void)
{
    return errbuf;
}

void vl_err_clear(void)
{
    errbuf[0] = '\0';
}
