/* manifest.c - load and validate lab manifests (see manifest.h). */
#define _GNU_SOURCE
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "hints.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* Record "<file>: <field>: <what is wrong>" and return -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
bad_field(const char *path, const char *field, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return vl_err_plain(EINVAL, "%s: %s: %s", path, field, what);
}

static bool all_chars_in(const char *s, const char *allowed)
{
    return *s && s[strspn(s, allowed)] == '\0';
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define NAME_CHARS   LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-"

/* A plain file name: no folder part, nothing hidden, no "..". */
static bool is_file_name(const char *s)
{
    return all_chars_in(s, NAME_CHARS) && s[0] != '.';
}

/* A relative path that stays inside its folder (no "/x", no ".."). */
static bool is_inner_path(const char *s)
{
    _vl_cleanup_free_ char *copy = NULL;
    char *save = NULL;

    if (!all_chars_in(s, NAME_CHARS "/") || s[0] == '/')
        return false;
    copy = strdup(s);
    if (!copy)
        return false;
    for (char *part = strtok_r(copy, "/", &save); part;
         part = strtok_r(NULL, "/", &save))
        if (strcmp(part, "..") == 0 || strcmp(part, ".") == 0)
            return false;
    return true;
}

/* A Criterion test id: "suite::name", both C identifiers. */
static bool is_test_id(const char *s)
{
    const char *sep = strstr(s, "::");
    const char *ident = LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ_";

    return sep && sep != s && sep[2] && strspn(s, ident) == (size_t)(sep - s) &&
           all_chars_in(sep + 2, ident);
}

/* The value of a lab number ("01" -> 1); strtol saturates, never overflows. */
static long lab_number(const char *s)
{
    return strtol(s, NULL, 10);
}

static int check_keys(const char *path, const char *where, json_t *obj,
                      const char *const *allowed)
{
    const char *key;
    json_t *value;

    json_object_foreach(obj, key, value)
    {
        size_t i = 0;

        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i])
            return bad_field(path, where, "unknown field \"%s\"", key);
    }
    return 0;
}

/* Copy the string member `key`; *out stays NULL when optional and absent. */
static int get_string(const char *path, json_t *obj, const char *key,
                      bool required, char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v && !required)
        return 0;
    if (!v)
        return bad_field(path, key, "missing (a string is required)");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return bad_field(path, key, "must be a non-empty string");
    *out = strdup(json_string_value(v));
    if (!*out)
        return vl_err(ENOMEM, "%s: %s", path, key);
    return 0;
}

static int check_lab_fields(const struct vg_manifest *m, const char *dirname)
{
    size_t nlen = strlen(m->lab);

    if (!all_chars_in(m->lab, "0123456789") || nlen > 3)
        return bad_field(m->path, "lab",
                         "\"%s\" is not a lab number such "
                         "as \"01\"",
                         m->lab);
    if (!all_chars_in(m->slug, LOWER_DIGITS "-") ||
        strncmp(m->slug, m->lab, nlen) != 0 || m->slug[nlen] != '-' ||
        !m->slug[nlen + 1])
        return bad_field(m->path, "slug",
                         "\"%s\" must be \"%s-<words>\" in "
                         "lowercase letters, digits and '-'",
                         m->slug, m->lab);
    if (strcmp(m->slug, dirname) != 0)
        return bad_field(m->path, "slug",
                         "\"%s\" differs from its folder "
                         "name \"%s\"",
                         m->slug, dirname);
    if (!all_chars_in(m->program, LOWER_DIGITS "_-"))
        return bad_field(m->path, "program",
                         "\"%s\" is not a program name "
                         "such as \"minivm\"",
                         m->program);
    if (m->guests && !is_inner_path(m->guests))
        return bad_field(m->path, "guests",
                         "\"%s\" must be a folder inside "
                         "labs/%s/",
                         m->guests, m->slug);
    return 0;
}

/*
 * Copy a non-empty array of distinct strings that pass `valid`; `rule` says
 * in words what a valid entry is.
 */
static int get_string_list(const char *path, json_t *obj, const char *key,
                           bool (*valid)(const char *), const char *rule,
                           char ***out, size_t *n)
{
    json_t *arr = json_object_get(obj, key);
    size_t i;
    json_t *v;

    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad_field(path, key, "must be a non-empty array of strings");
    *out = calloc(json_array_size(arr), sizeof(**out));
    if (!*out)
        return vl_err(ENOMEM, "%s: %s", path, key);
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);

        if (!s || !valid(s))
            return bad_field(path, key, "entry %zu must be %s", i, rule);
        for (size_t j = 0; j < i; j++)
            if (strcmp((*out)[j], s) == 0)
                return bad_field(path, key, "\"%s\" is listed twice", s);
        (*out)[i] = strdup(s);
        if (!(*out)[i])
            return vl_err(ENOMEM, "%s: %s", path, key);
        *n = i + 1;
    }
    return 0;
}

static bool is_test_source(const char *s)
{
    size_t len = strlen(s);

    return is_inner_path(s) && len > 2 && strcmp(s + len - 2, ".c") == 0;
}

static int get_timeout(struct vg_manifest *m, json_t *root)
{
    json_t *v = json_object_get(root, "timeout_sec");

    if (!v)
        return bad_field(m->path, "timeout_sec",
                         "missing (seconds the "
                         "lab's tests may run, e.g. 300)");
    if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
        json_integer_value(v) > VG_TIMEOUT_MAX_SEC)
        return bad_field(m->path, "timeout_sec",
                         "must be an integer "
                         "number of seconds in 1..%d",
                         VG_TIMEOUT_MAX_SEC);
    m->timeout_sec = (int)json_integer_value(v);
    return 0;
}

/* Gradescope's names for who sees a test ("visibility" in results.json). */
static const char *const visibility_names[] = {
    [VG_VISIBLE] = "visible",
    [VG_HIDDEN] = "hidden",
    [VG_AFTER_DUE_DATE] = "after_due_date",
    [VG_AFTER_PUBLISHED] = "after_published",
};

int vg_visibility_parse(const char *name, enum vg_visibility *out)
{
    for (size_t i = 0; i < sizeof(visibility_names) / sizeof(*visibility_names);
         i++)
        if (strcmp(name, visibility_names[i]) == 0) {
            *out = (enum vg_visibility)i;
            return 0;
        }
    return -EINVAL;
}

const char *vg_visibility_name(enum vg_visibility v)
{
    switch (v) {
    case VG_VISIBLE:
    case VG_HIDDEN:
    case VG_AFTER_DUE_DATE:
    case VG_AFTER_PUBLISHED:
        return visibility_names[v];
    }
    return "visible";
}

static int get_visibility(const char *path, const char *where, json_t *obj,
                          struct vg_rubric_item *item)
{
    json_t *v = json_object_get(obj, "visibility");

    item->visibility = VG_VISIBLE;
    if (!v)
        return 0;
    if (!json_is_string(v) ||
        vg_visibility_parse(json_string_value(v), &item->visibility) < 0)
        return bad_field(path, where,
                         "visibility must be \"visible\", \"hidden\", "
                         "\"after_due_date\" or \"after_published\"");
    return 0;
}

static int get_rubric_item(const char *path, size_t i, json_t *obj,
                           struct vg_rubric_item *item)
{
    static const char *const keys[] = {"test", "points", "description",
                                       "visibility", NULL};
    char where[64];
    json_t *pts;
    int ret;

    snprintf(where, sizeof(where), "rubric[%zu]", i);
    if (!json_is_object(obj))
        return bad_field(path, where,
                         "must be an object {\"test\", "
                         "\"points\", \"description\"}");
    ret = check_keys(path, where, obj, keys);
    if (ret < 0)
        return ret;
    ret = get_string(path, obj, "test", true, &item->test);
    if (ret < 0)
        return vl_err_ctx(ret, "%s", where);
    if (!is_test_id(item->test))
        return bad_field(path, where,
                         "test \"%s\" is not a Criterion test "
                         "id \"suite::name\"",
                         item->test);
    ret = get_string(path, obj, "description", true, &item->description);
    if (ret < 0)
        return vl_err_ctx(ret, "%s", where);
    pts = json_object_get(obj, "points");
    if (!json_is_number(pts) || json_number_value(pts) <= 0 ||
        json_number_value(pts) > 1000)
        return bad_field(path, where, "points must be a number in (0, 1000]");
    item->points = json_number_value(pts);
    return get_visibility(path, where, obj, item);
}

int vg_manifest_add_rubric(struct vg_manifest *m, const char *path,
                           const void *json, bool extra)
{
    json_t *arr = (json_t *)json;
    struct vg_rubric_item *grown;
    size_t i, base = m->nrubric;
    json_t *v;
    int ret;

    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad_field(path, "rubric",
                         "must be a non-empty array of "
                         "{\"test\", \"points\", \"description\"}");
    grown = reallocarray(m->rubric, base + json_array_size(arr),
                         sizeof(*m->rubric));
    if (!grown)
        return vl_err(ENOMEM, "%s: rubric", path);
    m->rubric = grown;
    json_array_foreach(arr, i, v)
    {
        struct vg_rubric_item *item = &m->rubric[base + i];
        const struct vg_rubric_item *first;

        *item = (struct vg_rubric_item){.extra = extra};
        ret = get_rubric_item(path, i, v, item);
        m->nrubric = base + i + 1; /* so vg_manifest_free() sees this item */
        if (ret < 0)
            return ret;
        first = vg_manifest_rubric_item(m, item->test);
        if (first != item)
            return bad_field(
                path, "rubric", "test \"%s\" is listed twice%s", item->test,
                first < m->rubric + base ? " (the lab's own rubric has it)"
                                         : "");
    }
    return 0;
}

static int get_rubric(struct vg_manifest *m, json_t *root)
{
    return vg_manifest_add_rubric(m, m->path, json_object_get(root, "rubric"),
                                  false);
}

static int parse_fields(struct vg_manifest *m, json_t *root,
                        const char *dirname)
{
    /* "sandbox" is read and checked by sandbox.c. */
    static const char *const keys[] = {
        "lab",    "slug",   "title",       "program", "stage_files", "tests",
        "guests", "rubric", "timeout_sec", "hints",   "sandbox",     NULL};
    int ret;

    if (!json_is_object(root))
        return bad_field(m->path, "(top)", "must be a JSON object");
    if ((ret = check_keys(m->path, "(top)", root, keys)) < 0 ||
        (ret = get_string(m->path, root, "lab", true, &m->lab)) < 0 ||
        (ret = get_string(m->path, root, "slug", true, &m->slug)) < 0 ||
        (ret = get_string(m->path, root, "title", true, &m->title)) < 0 ||
        (ret = get_string(m->path, root, "program", true, &m->program)) < 0 ||
        (ret = get_string(m->path, root, "guests", false, &m->guests)) < 0 ||
        (ret = check_lab_fields(m, dirname)) < 0)
        return ret;
    ret = get_string_list(m->path, root, "stage_files", is_file_name,
                          "a plain file name such as \"vm.c\"", &m->stage_files,
                          &m->nstage_files);
    if (ret < 0)
        return ret;
    ret = get_string_list(m->path, root, "tests", is_test_source,
                          "a .c file inside labs/<slug>/, such as "
                          "\"tests/x_test.c\"",
                          &m->tests, &m->ntests);
    if (ret < 0)
        return ret;
    if ((ret = get_timeout(m, root)) < 0 || (ret = get_rubric(m, root)) < 0)
        return ret;
    return vg_hints_parse(m, json_object_get(root, "hints"));
}

int vg_manifest_load(struct vg_manifest *m, const char *path,
                     const char *dirname)
{
    json_error_t jerr;
    json_t *root;
    int ret;

    *m = (struct vg_manifest){0};
    m->path = strdup(path);
    if (!m->path)
        return vl_err(ENOMEM, "loading %s", path);
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        vg_manifest_free(m);
        return vl_err_plain(EINVAL, "%s:%d:%d: %s", path, jerr.line,
                            jerr.column, jerr.text);
    }
    ret = parse_fields(m, root, dirname);
    json_decref(root);
    if (ret < 0)
        vg_manifest_free(m);
    return ret;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void vg_manifest_free(struct vg_manifest *m)
{
    free(m->path);
    free(m->lab);
    free(m->slug);
    free(m->title);
    free(m->program);
    free(m->guests);
    free_list(m->stage_files, m->nstage_files);
    free_list(m->tests, m->ntests);
    for (size_t i = 0; i < m->nrubric; i++) {
        free(m->rubric[i].test);
        free(m->rubric[i].description);
    }
    free(m->rubric);
    vg_hints_free(m->hints, m->nhints);
    free_list(m->extra_tests, m->nextra_tests);
    *m = (struct vg_manifest){0};
}

/* Sorted names of the visible sub-folders of dir. */
static int list_subdirs(const char *dir, struct dirent ***names, int *n)
{
    int count = scandir(dir, names, NULL, alphasort);

    if (count < 0)
        return vl_err(errno, "listing %s", dir);
    *n = count;
    return 0;
}

static void free_dirents(struct dirent **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int add_manifest(struct vg_manifests *all, const char *dir,
                        const char *name)
{
    _vl_cleanup_free_ char *sub = vg_strfmt("%s/%s", dir, name);
    _vl_cleanup_free_ char *path = vg_strfmt("%s/%s/lab.json", dir, name);
    struct vg_manifest *grown;
    int ret;

    if (!sub || !path)
        return vl_err(ENOMEM, "loading manifests");
    if (name[0] == '.' || !vg_is_dir(sub))
        return 0;
    grown = reallocarray(all->labs, all->n + 1, sizeof(*grown));
    if (!grown)
        return vl_err(ENOMEM, "loading %s", path);
    all->labs = grown;
    ret = vg_manifest_load(&all->labs[all->n], path, name);
    if (ret < 0)
        return ret;
    all->n++;
    return 0;
}

static int check_unique_numbers(const struct vg_manifests *all)
{
    for (size_t i = 0; i < all->n; i++)
        for (size_t j = 0; j < i; j++)
            if (lab_number(all->labs[i].lab) == lab_number(all->labs[j].lab))
                return bad_field(all->labs[i].path, "lab",
                                 "number %s is "
                                 "also used by %s",
                                 all->labs[i].lab, all->labs[j].path);
    return 0;
}

int vg_manifests_load(struct vg_manifests *all, const char *root)
{
    _vl_cleanup_free_ char *dir = vg_strfmt("%s/autograder/labs", root);
    struct dirent **names = NULL;
    int n = 0, ret;

    *all = (struct vg_manifests){0};
    if (!dir)
        return vl_err(ENOMEM, "loading manifests");
    ret = list_subdirs(dir, &names, &n);
    for (int i = 0; ret == 0 && i < n; i++)
        ret = add_manifest(all, dir, names[i]->d_name);
    free_dirents(names, n);
    if (ret == 0 && all->n == 0)
        ret = vl_err_plain(ENOENT, "no lab manifests (*/lab.json) in %s", dir);
    if (ret == 0)
        ret = check_unique_numbers(all);
    if (ret < 0)
        vg_manifests_free(all);
    return ret;
}

void vg_manifests_free(struct vg_manifests *all)
{
    for (size_t i = 0; i < all->n; i++)
        vg_manifest_free(&all->labs[i]);
    free(all->labs);
    *all = (struct vg_manifests){0};
}

const struct vg_manifest *vg_manifests_find(const struct vg_manifests *all,
                                            const char *key)
{
    bool numeric = all_chars_in(key, "0123456789");

    for (size_t i = 0; i < all->n; i++) {
        const struct vg_manifest *m = &all->labs[i];

        if (strcmp(m->slug, key) == 0 || strcmp(m->lab, key) == 0)
            return m;
        if (numeric && lab_number(m->lab) == lab_number(key))
            return m;
    }
    return NULL;
}

const struct vg_rubric_item *
vg_manifest_rubric_item(const struct vg_manifest *m, const char *test)
{
    for (size_t i = 0; i < m->nrubric; i++)
        if (m->rubric[i].test && strcmp(m->rubric[i].test, test) == 0)
            return &m->rubric[i];
    return NULL;
}
