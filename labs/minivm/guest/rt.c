/* rt.c - the guest run-time's functions (see rt.h). */
#include "rt.h"

void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;

    while (n--)
        *p++ = (unsigned char)c;
    return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n--)
        *d++ = *s++;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

char *fmt_u64(char *buf, uint64_t v)
{
    char tmp[21];
    int i = 0, j = 0;

    do
        tmp[i++] = (char)('0' + v % 10);
    while (v /= 10);
    while (i)
        buf[j++] = tmp[--i];
    buf[j] = '\0';
    return buf;
}

char *fmt_hex(char *buf, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    int shift = 60, j = 0;

    buf[j++] = '0';
    buf[j++] = 'x';
    while (shift > 0 && !(v >> shift))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        buf[j++] = digits[(v >> shift) & 0xf];
    buf[j] = '\0';
    return buf;
}
