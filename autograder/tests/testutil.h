/*
 * testutil.h - helpers shared by the autograder's Criterion tests: scratch
 * folders and files, and small fixtures of the result model.
 */
#ifndef VG_TESTUTIL_H
#define VG_TESTUTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../libvirtlab/tests/helpers.h"
#include "fsutil.h"
#include "grade.h"
#include "text.h"

/*
 * A hang guard for the tests that run commands: SIGALRM ends the test's
 * worker after TU_DEADLINE_SEC, which Criterion reports as a crash. Used
 * instead of .timeout, whose bookkeeping in Criterion 2.4 (Boxfort's
 * bxfi_push_timeout) can leak when timed tests end in parallel, failing the
 * LeakSanitizer check of the whole test binary. Install it per suite:
 *   TestSuite(spawn, .init = tu_arm_deadline);
 */
#define TU_DEADLINE_SEC 120

static inline void tu_arm_deadline(void)
{
    alarm(TU_DEADLINE_SEC);
}

/* A new scratch folder under $TMPDIR; remove it with tu_rmdir(). */
static inline char *tu_tempdir(void)
{
    char *path = NULL;

    vl_assert_ok(vg_make_workdir("test", &path));
    return path;
}

static inline void tu_rmdir(char *path)
{
    vl_assert_ok(vg_remove_tree(path));
    free(path);
}

/* mkdir dir/rel (its parent must exist). */
static inline void tu_mkdir(const char *dir, const char *rel)
{
    char *path = vg_strfmt("%s/%s", dir, rel);

    cr_assert(path);
    vl_assert_ok(vg_mkdir(path));
    free(path);
}

/* Write dir/rel (parent folders created) with the given mode. */
static inline void tu_write_mode(const char *dir, const char *rel,
                                 const char *text, mode_t mode)
{
    char *path = vg_strfmt("%s/%s", dir, rel);

    cr_assert(path);
    for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        vl_assert_ok(vg_mkdir(path));
        *slash = '/';
    }
    vl_assert_ok(vg_write_file(path, text, strlen(text)));
    cr_assert_eq(chmod(path, mode), 0, "chmod %s: %s", path, strerror(errno));
    free(path);
}

static inline void tu_write(const char *dir, const char *rel, const char *text)
{
    tu_write_mode(dir, rel, text, 0644);
}

/* The text of dir/rel, which must exist (free it). */
static inline char *tu_read(const char *dir, const char *rel)
{
    char *path = vg_strfmt("%s/%s", dir, rel);
    char *text = NULL;

    cr_assert(path);
    vl_assert_ok(vg_read_file(path, 1 << 20, &text, NULL, NULL));
    free(path);
    return text;
}

/* Add a rubric test to lab. */
static inline void tu_add_test(struct vg_lab *lab, const char *id,
                               enum vg_status status, double max,
                               const char *details)
{
    struct vg_test t = {
        .id = (char *)id,
        .description = (char *)"what it checks",
        .points = status == VG_PASSED ? max : 0,
        .max_points = max,
        .status = status,
        .details = (char *)details,
        .in_rubric = true,
    };

    vl_assert_ok(vg_lab_add_test(lab, &t));
}

/* ROOT/rel becomes a symlink to this repository's rel (VL_ROOT): a toy
 * course borrows build.mk, scripts and the library from the real one. */
static inline void tu_link_from_repo(const char *root, const char *rel)
{
    char *target = vg_strfmt("%s/%s", VL_ROOT, rel);
    char *link = vg_strfmt("%s/%s", root, rel);

    cr_assert_eq(symlink(target, link), 0, "symlink %s: %s", link,
                 strerror(errno));
    free(target);
    free(link);
}

#endif
