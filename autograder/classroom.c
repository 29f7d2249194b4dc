/* classroom.c - GitHub Classroom's runner result (see classroom.h). */
#define _GNU_SOURCE
#include "classroom.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "text.h"
#include "virtlab/error.h"

static const char *test_status(enum vg_status s)
{
    if (s == VG_PASSED)
        return "pass";
    /* The reporter only tells "pass" from the rest; "error" marks what
     * could not be judged (crash, timeout, no build, environment skip). */
    return vg_fmt_is_error(s) || s == VG_SKIPPED ? "error" : "fail";
}

static const char *run_status(const struct vg_result *r)
{
    if (vg_result_grader_error(r))
        return "error";
    return vg_result_full(r) ? "pass" : "fail";
}

/* One entry of tests[]; message and name are cleaned here. */
static json_t *test_json(const char *name, const char *status, double score,
                         double max, const char *message, const char *number)
{
    char *clean_name = vg_fmt_clean(name, 1024);
    char *clean_msg = vg_fmt_clean(message, VG_FMT_TEXT_MAX);
    char *code = vg_strfmt("make grade LAB=%s", number);
    json_t *obj = NULL;

    if (clean_name && clean_msg && code)
        obj = json_pack("{s:s, s:s, s:f, s:f, s:s, s:s, s:s, s:i, s:i}", "name",
                        clean_name, "status", status, "score", score,
                        "max_score", max, "message", clean_msg, "test_code",
                        code, "filename", "", "line_no", 0, "duration", 0);
    free(clean_name);
    free(clean_msg);
    free(code);
    return obj;
}

static int add_lab(json_t *tests, const struct vg_lab *lab)
{
    char *number = vg_fmt_clean(lab->number, 64);
    int ret = number ? 0 : -ENOMEM;

    for (size_t i = 0; ret == 0 && i < lab->ntests; i++) {
        const struct vg_test *t = &lab->tests[i];
        char *name = vg_strfmt("%s %s", number, vg_fmt_str(t->id));
        char *msg = vg_fmt_test_message(t, VG_FMT_TEXT_MAX);

        if (!t->in_rubric) {
            free(name);
            free(msg);
            continue; /* worth nothing: the terminal report warns */
        }
        ret = name && msg &&
                      json_array_append_new(
                          tests,
                          test_json(name, test_status(t->status), t->points,
                                    t->max_points, msg, number)) == 0
                  ? 0
                  : -ENOMEM;
        free(name);
        free(msg);
    }
    if (ret == 0 && lab->ntests == 0 && lab->outcome != VG_LAB_RAN) {
        char *name = vg_strfmt("%s (grading)", number);

        ret = name && json_array_append_new(
                          tests, test_json(name, "error", 0, 0,
                                           lab->message && *lab->message
                                               ? lab->message
                                               : vg_outcome_name(lab->outcome),
                                           number)) == 0
                  ? 0
                  : -ENOMEM;
        free(name);
    }
    free(number);
    return ret;
}

json_t *vg_classroom_json(const struct vg_result *result)
{
    json_t *tests = json_array();
    json_t *root = NULL;
    int ret = tests ? 0 : -ENOMEM;

    for (size_t i = 0; ret == 0 && i < result->nlabs; i++)
        ret = add_lab(tests, &result->labs[i]);
    if (ret == 0)
        root = json_pack("{s:i, s:s, s:f, s:O}", "version", 1, "status",
                         run_status(result), "max_score",
                         vg_result_max_points(result), "tests", tests);
    json_decref(tests);
    return root;
}

int vg_classroom_write(const struct vg_result *result, const char *path)
{
    json_t *root = vg_classroom_json(result);
    int ret;

    if (!root)
        return vl_err(ENOMEM, "building %s", path);
    errno = 0;
    ret = json_dump_file(root, path, JSON_INDENT(2));
    json_decref(root);
    if (ret < 0)
        return vl_err(errno ? errno : EIO, "writing %s", path);
    return 0;
}

void vg_classroom_points_line(FILE *out, const struct vg_result *result)
{
    char got[32], max[32];

    fprintf(out, "Points %s/%s\n", vg_fmt_points(got, vg_result_points(result)),
            vg_fmt_points(max, vg_result_max_points(result)));
}
