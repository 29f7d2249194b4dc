/* extra.c - an instructor's private tests (see extra.h). */
#define _GNU_SOURCE
#include "extra.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* ---- finding Test(suite, name) -------------------------------------- */

static const char *skip_blanks(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

static size_t ident_length(const char *p)
{
    size_t n = 0;

    if (isalpha((unsigned char)*p) || *p == '_')
        while (isalnum((unsigned char)p[n]) || p[n] == '_')
            n++;
    return n;
}

static int push_id(char ***ids, size_t *n, const char *suite, size_t sl,
                   const char *name, size_t nl)
{
    char **grown = reallocarray(*ids, *n + 2, sizeof(**ids));

    if (!grown)
        return -ENOMEM;
    *ids = grown;
    grown[*n] = vg_strfmt("%.*s::%.*s", (int)sl, suite, (int)nl, name);
    if (!grown[*n])
        return -ENOMEM;
    grown[++*n] = NULL;
    return 0;
}

char **vg_extra_scan_ids(const char *text)
{
    char **ids = calloc(1, sizeof(*ids));
    size_t n = 0;

    for (const char *p = text; ids && (p = strstr(p, "Test(")) != NULL;
         p += 5) {
        const char *suite, *name;
        size_t sl, nl;

        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue; /* ParameterizedTest(, MyTest( */
        suite = skip_blanks(p + 5);
        sl = ident_length(suite);
        name = skip_blanks(suite + sl);
        if (sl == 0 || *name != ',')
            continue;
        name = skip_blanks(name + 1);
        nl = ident_length(name);
        if (nl == 0)
            continue;
        if (push_id(&ids, &n, suite, sl, name, nl) < 0) {
            vg_extra_ids_free(ids);
            return NULL;
        }
    }
    return ids;
}

void vg_extra_ids_free(char **ids)
{
    for (size_t i = 0; ids && ids[i]; i++)
        free(ids[i]);
    free(ids);
}

static bool has_id(char *const *ids, const char *id)
{
    for (size_t i = 0; ids && ids[i]; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

/* The ids defined by file, appended to *ids (NULL-ended). */
static int scan_file(const char *path, char ***ids)
{
    _vl_cleanup_free_ char *text = NULL;
    char **found, **grown;
    size_t len, n = 0, k = 0;
    int ret;

    ret = vg_read_file(path, VG_EXTRA_FILE_MAX, &text, &len, NULL);
    if (ret < 0)
        return vl_err_ctx(ret, "reading the tests of %s", path);
    found = vg_extra_scan_ids(text);
    if (!found)
        return vl_err(ENOMEM, "reading %s", path);
    while (*ids && (*ids)[n])
        n++;
    while (found[k])
        k++;
    grown = reallocarray(*ids, n + k + 1, sizeof(*grown));
    if (!grown) {
        vg_extra_ids_free(found);
        return vl_err(ENOMEM, "reading %s", path);
    }
    memcpy(grown + n, found, (k + 1) * sizeof(*found)); /* ids move over */
    free(found);
    *ids = grown;
    return 0;
}

/* ---- one lab's folder ----------------------------------------------- */

static bool is_c_source(const char *name)
{
    size_t n = strlen(name);

    return name[0] != '.' && n > 2 && strcmp(name + n - 2, ".c") == 0;
}

/* Sorted absolute paths of labdir's *.c files. */
static int list_sources(const char *labdir, struct vg_manifest *m)
{
    struct dirent **names = NULL;
    int count = scandir(labdir, &names, NULL, alphasort), ret = 0;

    if (count < 0)
        return vl_err(errno, "listing %s", labdir);
    for (int i = 0; i < count; i++) {
        char **grown;
        char *path;

        if (ret < 0 || !is_c_source(names[i]->d_name))
            continue;
        path = vg_strfmt("%s/%s", labdir, names[i]->d_name);
        grown = path ? reallocarray(m->extra_tests, m->nextra_tests + 1,
                                    sizeof(*grown))
                     : NULL;
        if (!grown) {
            free(path);
            ret = vl_err(ENOMEM, "listing %s", labdir);
            continue;
        }
        m->extra_tests = grown;
        grown[m->nextra_tests++] = path;
        if (!vg_is_file(path) || strpbrk(path, " \t\n"))
            ret = vl_err_plain(EINVAL,
                               "%s: must be a regular file, in a path "
                               "without blanks (make cannot handle them)",
                               path);
    }
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    if (ret == 0 && m->nextra_tests == 0)
        ret = vl_err_plain(ENOENT,
                           "%s has no .c file: put the private tests "
                           "of lab %s there (or remove the folder)",
                           labdir, m->slug);
    return ret;
}

/* A private test must not reuse an id of the lab's own tests: Criterion
 * would refuse to link the two definitions, and a rubric could not tell
 * them apart. */
static int check_no_clash(const char *root, const struct vg_manifest *m,
                          char *const *extra_ids)
{
    for (size_t i = 0; i < m->ntests; i++) {
        _vl_cleanup_free_ char *path =
            vg_strfmt("%s/labs/%s/%s", root, m->slug, m->tests[i]);
        char **own = NULL;
        int ret;

        if (!path)
            return vl_err(ENOMEM, "checking the private tests");
        if (!vg_is_file(path))
            continue; /* the build names it as missing */
        ret = scan_file(path, &own);
        for (size_t k = 0; ret == 0 && own && own[k]; k++)
            if (has_id(extra_ids, own[k]))
                ret = vl_err_plain(EEXIST,
                                   "the private test %s of --extra-tests has "
                                   "the id of the lab's own test in %s: "
                                   "rename it",
                                   own[k], path);
        vg_extra_ids_free(own);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int load_rubric(struct vg_manifest *m, const char *path,
                       char *const *ids)
{
    size_t before = m->nrubric;
    json_error_t jerr;
    json_t *root, *arr;
    int ret = 0;

    if (!vg_is_file(path))
        return vl_err_plain(ENOENT,
                            "%s is missing: it gives the points of the "
                            "private tests ({\"rubric\": [{\"test\", "
                            "\"points\", \"description\"}]})",
                            path);
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vl_err_plain(EINVAL, "%s:%d:%d: %s", path, jerr.line,
                            jerr.column, jerr.text);
    arr = json_object_get(root, "rubric");
    if (!json_is_object(root) || json_object_size(root) != 1 || !arr)
        ret = vl_err_plain(EINVAL,
                           "%s: must be an object with one field, "
                           "\"rubric\"",
                           path);
    if (ret == 0)
        ret = vg_manifest_add_rubric(m, path, arr, true);
    json_decref(root);
    for (size_t i = before; ret == 0 && i < m->nrubric; i++)
        if (!has_id(ids, m->rubric[i].test))
            ret = vl_err_plain(ENOENT,
                               "%s: rubric[%zu]: test \"%s\" is not defined "
                               "by any .c file next to it (no Test(%.*s, "
                               "%s))",
                               path, i - before, m->rubric[i].test,
                               (int)strcspn(m->rubric[i].test, ":"),
                               m->rubric[i].test,
                               strstr(m->rubric[i].test, "::") + 2);
    return ret;
}

static int add_lab(const char *root, struct vg_manifest *m, const char *labdir)
{
    _vl_cleanup_free_ char *rubric = vg_strfmt("%s/rubric.json", labdir);
    char **ids = NULL;
    int ret;

    if (!rubric)
        return vl_err(ENOMEM, "loading %s", labdir);
    ret = list_sources(labdir, m);
    for (size_t i = 0; ret == 0 && i < m->nextra_tests; i++)
        ret = scan_file(m->extra_tests[i], &ids);
    if (ret == 0)
        ret = check_no_clash(root, m, ids);
    if (ret == 0)
        ret = load_rubric(m, rubric, ids);
    vg_extra_ids_free(ids);
    return ret;
}

/* ---- the whole folder ----------------------------------------------- */

static struct vg_manifest *find_slug(struct vg_manifests *all, const char *slug)
{
    for (size_t i = 0; i < all->n; i++)
        if (strcmp(all->labs[i].slug, slug) == 0)
            return &all->labs[i];
    return NULL;
}

static int add_entry(struct vg_manifests *all, const char *root,
                     const char *dir, const char *name)
{
    _vl_cleanup_free_ char *labdir = vg_strfmt("%s/%s", dir, name);
    struct vg_manifest *m;

    if (!labdir)
        return vl_err(ENOMEM, "loading %s", dir);
    if (name[0] == '.' || !vg_is_dir(labdir))
        return 0; /* a README, .git: not a lab */
    m = find_slug(all, name);
    if (!m)
        return vl_err_plain(ENOENT,
                            "--extra-tests: %s is not the folder of a lab: "
                            "name it after the lab's slug (\"01-kvm-basics"
                            "\"; see autograder/labs/)",
                            labdir);
    if (m->nextra_tests > 0)
        return vl_err_plain(EEXIST, "--extra-tests: %s: loaded twice", labdir);
    return add_lab(root, m, labdir);
}

int vg_manifests_add_extra(struct vg_manifests *all, const char *root,
                           const char *dir)
{
    char real[PATH_MAX];
    struct dirent **names = NULL;
    int count, ret = 0;

    if (!vg_is_dir(dir) || !realpath(dir, real))
        return vl_err_plain(ENOENT,
                            "--extra-tests %s: no such folder (give a "
                            "folder with one sub-folder per lab, such as "
                            "DIR/01-kvm-basics/ holding <name>.c and "
                            "rubric.json)",
                            dir);
    count = scandir(real, &names, NULL, alphasort);
    if (count < 0)
        return vl_err(errno, "listing %s", real);
    for (int i = 0; ret == 0 && i < count; i++)
        ret = add_entry(all, root, real, names[i]->d_name);
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return ret;
}
