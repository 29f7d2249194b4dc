/* cleanup.c - helpers behind the cleanup attributes of virtlab/cleanup.h. */
#include "virtlab/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

void vl_cleanup_free(void *pp)
{
    int saved = errno;

    free(*(void **)pp);
    *(void **)pp = NULL;
    errno = saved;
}

void vl_close(int *fdp)
{
    int saved = errno;

    if (*fdp >= 0)
        close(*fdp);
    *fdp = -1;
    errno = saved;
}

void vl_cleanup_close(int *fdp)
{
    vl_close(fdp);
}

void vl_cleanup_fclose(FILE **fp)
{
    int saved = errno;

    if (*fp)
        fclose(*fp);
    *fp = NULL;
    errno = saved;
}
