/* text.c - string helpers (see text.h). */
#define _GNU_SOURCE
#include "text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *vg_strfmt(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

/* Close a memstream and hand over its buffer (which fclose() sets), or
 * NULL if writing failed. */
static char *memstream_take(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

char *vg_text_replace(const char *text, const char *from, const char *to)
{
    size_t flen = strlen(from), len = 0;
    char *out = NULL;
    FILE *f = open_memstream(&out, &len);
    const char *hit;

    if (!f)
        return NULL;
    while (flen && (hit = strstr(text, from)) != NULL) {
        fwrite(text, 1, (size_t)(hit - text), f);
        fputs(to, f);
        text = hit + flen;
    }
    fputs(text, f);
    return memstream_take(f, &out);
}

char *vg_text_head(const char *text, int max_lines)
{
    const char *p = text;
    int lines = 0, rest = 0;

    while (*p && lines < max_lines) {
        p += strcspn(p, "\n");
        if (*p)
            p++;
        lines++;
    }
    for (const char *q = p; *q; q++)
        rest += *q == '\n' || q[1] == '\0';
    if (rest == 0)
        return strdup(text);
    return vg_strfmt("%.*s[... %d more line%s]\n", (int)(p - text), text, rest,
                     rest == 1 ? "" : "s");
}

const char *vg_text_tail(const char *text, int n)
{
    const char *p = text + strlen(text);

    if (p > text && p[-1] == '\n')
        p--;
    while (p > text && n > 0)
        if (*--p == '\n')
            n--;
    return p == text ? p : p + 1;
}

static bool starts_with_any(const char *s, const char *const *prefixes)
{
    for (; *prefixes; prefixes++)
        if (strncmp(s, *prefixes, strlen(*prefixes)) == 0)
            return true;
    return false;
}

char *vg_text_drop_lines(const char *text, const char *const *prefixes)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    while (*text) {
        size_t n = strcspn(text, "\n");

        n += text[n] == '\n';
        if (!starts_with_any(text, prefixes))
            fwrite(text, 1, n, f);
        text += n;
    }
    return memstream_take(f, &out);
}
