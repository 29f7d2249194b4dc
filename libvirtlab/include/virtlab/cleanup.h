/*
 * virtlab/cleanup.h - scope-bound cleanup, as in crun and systemd.
 *
 * A variable declared with one of these attributes is released when it goes
 * out of scope, on every return path. Each helper preserves errno, so a
 * failing function can clean up and still report why it failed. To keep a
 * resource past the scope, take it: `int fd = vl_steal_fd(&tmp);`.
 */
#ifndef VIRTLAB_CLEANUP_H
#define VIRTLAB_CLEANUP_H

#include <stddef.h>
#include <stdio.h>

void vl_cleanup_free(void *pp);
void vl_cleanup_close(int *fdp);
void vl_cleanup_fclose(FILE **fp);

#define _vl_cleanup_free_   __attribute__((cleanup(vl_cleanup_free)))
#define _vl_cleanup_close_  __attribute__((cleanup(vl_cleanup_close)))
#define _vl_cleanup_fclose_ __attribute__((cleanup(vl_cleanup_fclose)))

/* Return *fdp and leave -1 behind, so the cleanup does not close it. */
static inline int vl_steal_fd(int *fdp)
{
    int fd = *fdp;
    *fdp = -1;
    return fd;
}

/* Return *pp and leave NULL behind. */
static inline void *vl_steal_ptr(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}

/* close() that keeps errno and ignores fd < 0; sets *fdp to -1. */
void vl_close(int *fdp);

#endif
