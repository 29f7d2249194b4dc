/* textfile.c - see textfile.h. */
#include "textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

bool vlp_list_has(const char *list, const char *word)
{
    size_t w = strlen(word);

    if (w == 0) /* strstr() finds "" everywhere: it would never advance */
        return false;
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += w)
        if ((p == list || p[-1] == ' ') && (p[w] == ' ' || p[w] == '\0'))
            return true;
    return false;
}

/* Append word to the list, once. */
void vlp_list_add(char *list, size_t len, const char *word)
{
    size_t n = strlen(list);
    size_t w = strlen(word);

    if (w == 0 || vlp_list_has(list, word))
        return;
    if (n + (n > 0) + w + 1 > len)
        return;
    snprintf(list + n, len - n, "%s%s", n > 0 ? " " : "", word);
}

int vlp_read_text(const char *path, char *buf, size_t len)
{
    _vl_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    buf[0] = '\0';
    if (fd < 0)
        return vl_err(errno, "open %s", path);
    n = read(fd, buf, len - 1);
    if (n < 0)
        return vl_err(errno, "read %s", path);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}
