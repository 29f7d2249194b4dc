/* gradescope.c - Gradescope's results.json (see gradescope.h). */
#define _GNU_SOURCE
#include "gradescope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "text.h"
#include "virtlab/error.h"

const char *vg_gradescope_visibility(enum vg_visibility v)
{
    switch (v) {
    case VG_VISIBLE:
        return "visible";
    case VG_HIDDEN:
        return "hidden";
    case VG_AFTER_DUE_DATE:
        return "after_due_date";
    case VG_AFTER_PUBLISHED:
        return "after_published";
    }
    return "hidden"; /* an unknown value must not show a result early */
}

/* A cleaned copy of s as a JSON string (NULL reads as ""). */
static json_t *clean_string(const char *s, size_t max)
{
    char *clean = vg_fmt_clean(s, max);
    json_t *j = clean ? json_string(clean) : NULL;

    free(clean);
    return j;
}

/* Set key to value, which may be NULL (no memory): then fail. */
static int set_new(json_t *obj, const char *key, json_t *value)
{
    return value && json_object_set_new(obj, key, value) == 0 ? 0 : -ENOMEM;
}

static json_t *test_json(const struct vg_lab *lab, size_t index,
                         const struct vg_test *t)
{
    long number = strtol(vg_fmt_str(lab->number), NULL, 10);
    char *name =
        t->description
            ? vg_strfmt("%s %s: %s", vg_fmt_str(lab->number), vg_fmt_str(t->id),
                        t->description)
            : vg_strfmt("%s %s", vg_fmt_str(lab->number), vg_fmt_str(t->id));
    char *num = vg_strfmt("%ld.%zu", number, index + 1);
    json_t *obj = json_object();
    int ret = obj && name && num ? 0 : -ENOMEM;

    if (ret == 0)
        ret = set_new(obj, "name", clean_string(name, VG_FMT_TEXT_MAX));
    if (ret == 0)
        ret = set_new(obj, "number", json_string(num));
    if (ret == 0)
        ret = set_new(obj, "score", json_real(t->points));
    if (ret == 0)
        ret = set_new(obj, "max_score", json_real(t->max_points));
    if (ret == 0)
        ret =
            set_new(obj, "status",
                    json_string(t->status == VG_PASSED ? "passed" : "failed"));
    if (ret == 0) {
        char *out = vg_fmt_test_message(t, VG_FMT_TEXT_MAX);

        ret = out ? set_new(obj, "output", json_string(out)) : -ENOMEM;
        free(out);
    }
    if (ret == 0)
        ret = set_new(obj, "visibility",
                      json_string(vg_gradescope_visibility(t->visibility)));
    free(name);
    free(num);
    if (ret < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static int add_lab_tests(json_t *tests, const struct vg_lab *lab)
{
    size_t index = 0;

    for (size_t i = 0; i < lab->ntests; i++) {
        if (!lab->tests[i].in_rubric)
            continue; /* listed in the output as a warning instead */
        if (json_array_append_new(tests,
                                  test_json(lab, index++, &lab->tests[i])))
            return -ENOMEM;
    }
    return 0;
}

static void lab_summary(FILE *f, const struct vg_lab *lab)
{
    char *line = vg_fmt_lab_summary(lab);

    fprintf(f, "%s\n", vg_fmt_str(line));
    free(line);
    if (lab->fix_first && *lab->fix_first)
        fprintf(f, "fix %s first: an earlier stage of your program fails\n",
                lab->fix_first);
    if (lab->message && *lab->message)
        fprintf(f, "%s%s", lab->message,
                lab->message[strlen(lab->message) - 1] == '\n' ? "" : "\n");
    for (size_t i = 0; i < lab->nprotected; i++)
        fprintf(f,
                "warning: your change to %s was ignored (the grader uses its "
                "own copy)\n",
                vg_fmt_str(lab->protected[i]));
    for (size_t i = 0; i < lab->ntests; i++)
        if (!lab->tests[i].in_rubric)
            fprintf(f, "warning: test %s is not in the rubric (0 points)\n",
                    vg_fmt_str(lab->tests[i].id));
}

/* The submission-wide text: each lab's score, problems and warnings. */
static json_t *overall_output(const struct vg_result *result)
{
    char got[32], max[32];
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    json_t *j;

    if (!f)
        return NULL;
    for (size_t i = 0; i < result->nlabs; i++)
        lab_summary(f, &result->labs[i]);
    fprintf(f, "Total: %s/%s points\n",
            vg_fmt_points(got, vg_result_points(result)),
            vg_fmt_points(max, vg_result_max_points(result)));
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    j = clean_string(text, VG_FMT_LOG_MAX);
    free(text);
    return j;
}

/* Set key to a cleaned copy of s, unless s is NULL. */
static int set_opt_string(json_t *obj, const char *key, const char *s)
{
    return s ? set_new(obj, key, clean_string(s, VG_FMT_LOG_MAX)) : 0;
}

/* What makes the grade reproducible: stored by Gradescope, never shown. */
static json_t *extra_data(const struct vg_result *result)
{
    const struct vg_meta *m = &result->meta;
    json_t *extra = json_object(), *labs = json_object();
    int ret = extra && labs ? 0 : -ENOMEM;

    if (ret == 0)
        ret = set_opt_string(extra, "grader_version", m->grader_version);
    if (ret == 0)
        ret = set_opt_string(extra, "submission", m->submission);
    if (ret == 0)
        ret = set_opt_string(extra, "submission_commit", m->submission_commit);
    if (ret == 0)
        ret = set_opt_string(extra, "tools", m->tools);
    if (ret == 0)
        ret = set_opt_string(extra, "environment", m->environment);
    if (ret == 0)
        ret = set_opt_string(extra, "started", m->started);
    for (size_t i = 0; ret == 0 && i < result->nlabs; i++) {
        const struct vg_lab *lab = &result->labs[i];
        json_t *l = json_object();
        char *slug = vg_fmt_clean(lab->slug, 256);

        ret = l && slug ? 0 : -ENOMEM;
        if (ret == 0)
            ret = set_new(l, "outcome",
                          json_string(vg_outcome_name(lab->outcome)));
        if (ret == 0)
            ret = set_new(l, "seconds", json_real(lab->seconds));
        if (ret == 0)
            ret = set_opt_string(l, "tests_sha256", lab->tests_sha256);
        if (ret == 0)
            ret = set_opt_string(l, "rubric_sha256", lab->rubric_sha256);
        if (ret == 0)
            ret = json_object_set(labs, slug, l) == 0 ? 0 : -ENOMEM;
        json_decref(l);
        free(slug);
    }
    if (ret == 0)
        ret = json_object_set(extra, "labs", labs) == 0 ? 0 : -ENOMEM;
    json_decref(labs);
    if (ret < 0) {
        json_decref(extra);
        return NULL;
    }
    return extra;
}

static json_t *leaderboard(const struct vg_result *result)
{
    return json_pack("[{s:s, s:f}, {s:s, s:f, s:s}]", "name", "Points", "value",
                     vg_result_points(result), "name", "Time (s)", "value",
                     result->seconds, "order", "asc");
}

static bool any_not_visible(const struct vg_result *result)
{
    for (size_t i = 0; i < result->nlabs; i++)
        for (size_t j = 0; j < result->labs[i].ntests; j++)
            if (result->labs[i].tests[j].visibility != VG_VISIBLE)
                return true;
    return false;
}

json_t *vg_gradescope_json_opts(const struct vg_result *result,
                                const struct vg_gradescope_opts *o)
{
    json_t *root = json_object(), *tests = json_array();
    int ret = root && tests ? 0 : -ENOMEM;
    double seconds = result->seconds > 0 ? result->seconds : 0;

    for (size_t i = 0; ret == 0 && i < result->nlabs; i++)
        ret = add_lab_tests(tests, &result->labs[i]);
    if (ret == 0)
        ret = set_new(root, "score", json_real(vg_result_points(result)));
    if (ret == 0)
        ret =
            set_new(root, "max_score", json_real(vg_result_max_points(result)));
    if (ret == 0)
        ret = set_new(root, "execution_time",
                      json_integer((json_int_t)(seconds + 0.5)));
    if (ret == 0)
        ret = set_new(root, "output", overall_output(result));
    if (ret == 0)
        ret = set_new(
            root, "stdout_visibility",
            json_string(any_not_visible(result) ? "hidden" : "visible"));
    if (ret == 0)
        ret = set_new(root, "extra_data", extra_data(result));
    if (ret == 0 && o && o->leaderboard)
        ret = set_new(root, "leaderboard", leaderboard(result));
    if (ret == 0)
        ret = json_object_set(root, "tests", tests) == 0 ? 0 : -ENOMEM;
    json_decref(tests);
    if (ret < 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

json_t *vg_gradescope_json(const struct vg_result *result)
{
    return vg_gradescope_json_opts(result, NULL);
}

int vg_gradescope_write_opts(const struct vg_result *result, const char *path,
                             const struct vg_gradescope_opts *o)
{
    json_t *root = vg_gradescope_json_opts(result, o);
    int ret;

    if (!root)
        return vl_err(ENOMEM, "building %s", path);
    errno = 0;
    ret = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (ret < 0)
        return vl_err(errno ? errno : EIO, "writing %s", path);
    return 0;
}

int vg_gradescope_write(const struct vg_result *result, const char *path)
{
    return vg_gradescope_write_opts(result, path, NULL);
}
