/*
 * fsutil.h - the few file operations the grader needs, made safe for files
 * that come from a student: bounded reads, copies that refuse symlinks,
 * FIFOs and devices, and temporary folders removed without following links.
 */
#ifndef VG_FSUTIL_H
#define VG_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Largest stage file the grader copies out of a submission. */
#define VG_STAGE_FILE_MAX (4u << 20)

/*
 * Read at most cap bytes of path into a NUL-terminated *text (freed by the
 * caller). *truncated (may be NULL) tells whether the file was longer.
 */
int vg_read_file(const char *path, size_t cap, char **text, size_t *len,
                 bool *truncated);

/* Write len bytes to path (created or truncated, mode 0644). */
int vg_write_file(const char *path, const char *text, size_t len);

/*
 * Copy src to dst. src must be a regular file, not a symlink, of at most cap
 * bytes: a submission cannot smuggle in another file through a link, nor
 * stall the grader with a FIFO or /dev/zero. dst must not exist yet.
 */
int vg_copy_file(const char *src, const char *dst, size_t cap);

/* mkdir(path, 0755); an existing folder is fine. */
int vg_mkdir(const char *path);

/* Does path exist as a folder / as a regular file (links followed)? */
bool vg_is_dir(const char *path);
bool vg_is_file(const char *path);

/* mkdtemp("$TMPDIR/vlab-grade-<tag>-XXXXXX"), /tmp when TMPDIR is unset. */
int vg_make_workdir(const char *tag, char **path);

/* rm -rf path, never following symlinks nor crossing mount points. */
int vg_remove_tree(const char *path);

#endif
