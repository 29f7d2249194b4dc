/* refarchive.c - reference stages taken from a compiled archive. */
#define _GNU_SOURCE
#include "refarchive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fsutil.h"
#include "spawn.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#define AR_LIMIT_SEC  60
#define AR_OUTPUT_CAP 4096

/* "01-kvm-basics_vm.o" for 01-kvm-basics/vm.c; NULL if file is no .c */
static char *member_name(const char *slug, const char *file)
{
    size_t n = strlen(file);

    if (n < 3 || strcmp(file + n - 2, ".c") != 0)
        return NULL;
    return vg_strfmt("%s_%.*s.o", slug, (int)(n - 2), file);
}

int vg_ref_extract(const char *solutions, const struct vg_manifest *m,
                   const char *file, const char *dir)
{
    _vl_cleanup_free_ char *member = member_name(m->slug, file);
    _vl_cleanup_free_ char *archive =
        vg_strfmt("%s/%s-ref.a", solutions, m->program);
    _vl_cleanup_free_ char *out = NULL;
    const char *argv[] = {"ar", "x", archive, member, NULL};
    struct vg_spawn_opts opts = {.argv = argv,
                                 .cwd = dir,
                                 .limit_sec = AR_LIMIT_SEC,
                                 .output_cap = AR_OUTPUT_CAP};
    struct vg_spawn_result res;
    int ret;

    if (!member || !archive || !vg_is_file(archive))
        return -ENOENT; /* no release archive: the caller's error stands */
    if (!(out = vg_strfmt("%s/%s", dir, member)))
        return vl_err(ENOMEM, "extracting %s", member);
    ret = vg_spawn(&opts, &res);
    if (ret == 0 && !vg_is_file(out))
        ret = vl_err_plain(ENOENT,
                           "%s has no member %s for the reference %s/%s: "
                           "rebuild the release (make student-release)%s%s",
                           archive, member, m->slug, file,
                           res.output_len ? ": " : "",
                           res.output_len ? res.output : "");
    vg_spawn_result_free(&res);
    return ret;
}

char *vg_ref_source(const char *work, const char *slug, const char *file)
{
    char *c = vg_strfmt("%s/src/%s/%s", work, slug, file);
    _vl_cleanup_free_ char *member = member_name(slug, file);
    char *o;

    if (!c || !member || vg_is_file(c))
        return c;
    o = vg_strfmt("%s/src/%s/%s", work, slug, member);
    if (o && vg_is_file(o)) {
        free(c);
        return o;
    }
    free(o);
    return c;
}
