/*
 * textfile.h - small helpers shared inside libvirtlab (not installed):
 * space-separated word lists and small kernel text files (sysfs, procfs,
 * cgroupfs), used by the doctor and by cgroup.c.
 */
#ifndef VIRTLAB_TEXTFILE_H
#define VIRTLAB_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Space-separated word lists ("cpu memory pids"): add once, look up. */
void vlp_list_add(char *list, size_t len, const char *word);
bool vlp_list_has(const char *list, const char *word);

/* A small text file as a string, without its trailing newline (and
 * spaces). 0 or -errno with the error recorded. */
int vlp_read_text(const char *path, char *buf, size_t len);

#endif
