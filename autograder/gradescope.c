/* gradescope.c - Gradescope's results.json (see gradescope.h). */
#define _GNU_SOURCE
#include "gradescope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "virtlab/error.h"

/* What a student reads in a test's box on Gradescope. */
static char *test_output(const struct vg_test *t)
{
    const char *details = t->details ? t->details : "";

    switch (t->status) {
    case VG_PASSED:
        return strdup("passed");
    case VG_SKIPPED:
        return vg_strfmt("skipped by the environment, not a failure of your "
                         "code: %s\nThe grading machine could not run this "
                         "test, so it earns no points here.",
                         details);
    case VG_FAILED:
    case VG_CRASHED:
    case VG_TIMED_OUT:
    case VG_NOT_RUN:
    case VG_NOT_BUILT:
    case VG_FLAKY:
        break;
    }
    return vg_strfmt("%s: %s", vg_status_name(t->status), details);
}

static json_t *test_json(const struct vg_lab *lab, size_t index,
                         const struct vg_test *t)
{
    char *output = test_output(t);
    char *name = vg_strfmt("%s %s: %s", lab->number, t->id, t->description);
    char *number =
        vg_strfmt("%ld.%zu", strtol(lab->number, NULL, 10), index + 1);
    json_t *obj = NULL;

    if (output && name && number)
        obj = json_pack("{s:s, s:s, s:f, s:f, s:s, s:s, s:s}", "name", name,
                        "number", number, "score", t->points, "max_score",
                        t->max_points, "status",
                        t->status == VG_PASSED ? "passed" : "failed", "output",
                        output, "visibility", "visible");
    free(name);
    free(number);
    free(output);
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
    fprintf(f, "%s %s: %.4g/%.4g points", lab->slug, lab->title,
            vg_lab_points(lab), vg_lab_max_points(lab));
    if (lab->outcome != VG_LAB_RAN)
        fprintf(f, " (%s)", vg_outcome_name(lab->outcome));
    fputc('\n', f);
    if (lab->message && *lab->message)
        fprintf(f, "%s%s", lab->message,
                lab->message[strlen(lab->message) - 1] == '\n' ? "" : "\n");
    for (size_t i = 0; i < lab->ntests; i++)
        if (!lab->tests[i].in_rubric)
            fprintf(f, "warning: test %s is not in the rubric (0 points)\n",
                    lab->tests[i].id);
}

/* The submission-wide text: each lab's score, problems and warnings. */
static char *overall_output(const struct vg_result *result)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return NULL;
    for (size_t i = 0; i < result->nlabs; i++)
        lab_summary(f, &result->labs[i]);
    fprintf(f, "Total: %.4g/%.4g points\n", vg_result_points(result),
            vg_result_max_points(result));
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

json_t *vg_gradescope_json(const struct vg_result *result)
{
    char *output = overall_output(result);
    json_t *tests = json_array();
    json_t *root = NULL;

    for (size_t i = 0; tests && i < result->nlabs; i++)
        if (add_lab_tests(tests, &result->labs[i]) < 0)
            goto out;
    if (output && tests)
        root = json_pack("{s:f, s:f, s:I, s:s, s:s, s:O}", "score",
                         vg_result_points(result), "max_score",
                         vg_result_max_points(result), "execution_time",
                         (json_int_t)(result->seconds + 0.5), "output", output,
                         "stdout_visibility", "visible", "tests", tests);
out:
    json_decref(tests);
    free(output);
    return root;
}

int vg_gradescope_write(const struct vg_result *result, const char *path)
{
    json_t *root = vg_gradescope_json(result);
    int ret;

    if (!root)
        return vl_err(ENOMEM, "building %s", path);
    ret = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (ret < 0)
        return vl_err(errno ? errno : EIO, "writing %s", path);
    return 0;
}
