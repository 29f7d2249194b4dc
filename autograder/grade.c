/* grade.c - the result model (see grade.h). */
#include "grade.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtlab/error.h"

const char *vg_status_name(enum vg_status status)
{
    switch (status) {
    case VG_PASSED:
        return "passed";
    case VG_FAILED:
        return "failed";
    case VG_CRASHED:
        return "crashed";
    case VG_TIMED_OUT:
        return "timed out";
    case VG_SKIPPED:
        return "skipped";
    case VG_NOT_RUN:
        return "did not run";
    case VG_NOT_BUILT:
        return "not built";
    case VG_FLAKY:
        return "flaky";
    }
    return "unknown";
}

const char *vg_outcome_name(enum vg_outcome outcome)
{
    switch (outcome) {
    case VG_LAB_RAN:
        return "ran";
    case VG_LAB_BUILD_FAILED:
        return "build failed";
    case VG_LAB_TIMED_OUT:
        return "timed out";
    case VG_LAB_INCOMPLETE:
        return "incomplete";
    case VG_LAB_GRADER_ERROR:
        return "grader error";
    }
    return "unknown";
}

/* strdup that maps NULL to NULL; *ok turns false when memory runs out. */
static char *dup_or_null(const char *s, bool *ok)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

int vg_lab_init(struct vg_lab *lab, const char *number, const char *slug,
                const char *title)
{
    bool ok = true;

    *lab = (struct vg_lab){.outcome = VG_LAB_RAN};
    lab->number = dup_or_null(number, &ok);
    lab->slug = dup_or_null(slug, &ok);
    lab->title = dup_or_null(title, &ok);
    if (!ok) {
        vg_lab_free(lab);
        return vl_err(ENOMEM, "recording lab %s", slug);
    }
    return 0;
}

static void test_free(struct vg_test *t)
{
    free(t->id);
    free(t->description);
    free(t->details);
    free(t->hint);
    free(t->excerpt);
}

int vg_lab_add_test(struct vg_lab *lab, const struct vg_test *test)
{
    struct vg_test *grown, copy = *test;
    bool ok = true;

    copy.id = dup_or_null(test->id, &ok);
    copy.description = dup_or_null(test->description, &ok);
    copy.details = dup_or_null(test->details, &ok);
    copy.hint = dup_or_null(test->hint, &ok);
    copy.excerpt = dup_or_null(test->excerpt, &ok);
    grown =
        ok ? reallocarray(lab->tests, lab->ntests + 1, sizeof(*grown)) : NULL;
    if (!grown) {
        test_free(&copy);
        return vl_err(ENOMEM, "recording test %s", test->id);
    }
    grown[lab->ntests++] = copy;
    lab->tests = grown;
    return 0;
}

struct vg_test *vg_lab_find_test(const struct vg_lab *lab, const char *id)
{
    for (size_t i = 0; i < lab->ntests; i++)
        if (strcmp(lab->tests[i].id, id) == 0)
            return &lab->tests[i];
    return NULL;
}

int vg_lab_set_message(struct vg_lab *lab, const char *text)
{
    char *copy = NULL;

    if (text && !(copy = strdup(text)))
        return vl_err(ENOMEM, "recording the message of lab %s", lab->slug);
    free(lab->message);
    lab->message = copy;
    return 0;
}

void vg_lab_free(struct vg_lab *lab)
{
    for (size_t i = 0; i < lab->ntests; i++)
        test_free(&lab->tests[i]);
    free(lab->tests);
    free(lab->number);
    free(lab->slug);
    free(lab->title);
    free(lab->message);
    free(lab->log);
    free(lab->tests_sha256);
    free(lab->rubric_sha256);
    free(lab->fix_first);
    for (size_t i = 0; i < lab->nprotected; i++)
        free(lab->protected[i]);
    free(lab->protected);
    *lab = (struct vg_lab){0};
}

int vg_result_add_lab(struct vg_result *result, struct vg_lab *lab)
{
    struct vg_lab *grown;

    grown = reallocarray(result->labs, result->nlabs + 1, sizeof(*grown));
    if (!grown)
        return vl_err(ENOMEM, "recording lab %s", lab->slug);
    grown[result->nlabs++] = *lab;
    result->labs = grown;
    *lab = (struct vg_lab){0};
    return 0;
}

void vg_result_free(struct vg_result *result)
{
    for (size_t i = 0; i < result->nlabs; i++)
        vg_lab_free(&result->labs[i]);
    free(result->labs);
    free(result->meta.grader_version);
    free(result->meta.submission);
    free(result->meta.submission_commit);
    free(result->meta.tools);
    free(result->meta.environment);
    free(result->meta.started);
    *result = (struct vg_result){0};
}

double vg_lab_points(const struct vg_lab *lab)
{
    double sum = 0;

    for (size_t i = 0; i < lab->ntests; i++)
        if (lab->tests[i].in_rubric)
            sum += lab->tests[i].points;
    return sum;
}

double vg_lab_max_points(const struct vg_lab *lab)
{
    double sum = 0;

    for (size_t i = 0; i < lab->ntests; i++)
        if (lab->tests[i].in_rubric)
            sum += lab->tests[i].max_points;
    return sum;
}

double vg_result_points(const struct vg_result *result)
{
    double sum = 0;

    for (size_t i = 0; i < result->nlabs; i++)
        sum += vg_lab_points(&result->labs[i]);
    return sum;
}

double vg_result_max_points(const struct vg_result *result)
{
    double sum = 0;

    for (size_t i = 0; i < result->nlabs; i++)
        sum += vg_lab_max_points(&result->labs[i]);
    return sum;
}

/* Count the rubric tests of a lab, and how many of them passed. */
static void count_rubric(const struct vg_lab *lab, size_t *total,
                         size_t *passed)
{
    *total = *passed = 0;
    for (size_t i = 0; i < lab->ntests; i++) {
        if (!lab->tests[i].in_rubric)
            continue;
        (*total)++;
        if (lab->tests[i].status == VG_PASSED)
            (*passed)++;
    }
}

bool vg_lab_full(const struct vg_lab *lab)
{
    size_t total, passed;

    count_rubric(lab, &total, &passed);
    return total > 0 && passed == total;
}

bool vg_result_full(const struct vg_result *result)
{
    if (result->nlabs == 0)
        return false;
    for (size_t i = 0; i < result->nlabs; i++)
        if (!vg_lab_full(&result->labs[i]))
            return false;
    return true;
}

bool vg_result_zero(const struct vg_result *result)
{
    size_t total, passed;

    for (size_t i = 0; i < result->nlabs; i++) {
        count_rubric(&result->labs[i], &total, &passed);
        if (passed > 0)
            return false;
    }
    return true;
}

bool vg_result_clean(const struct vg_result *result)
{
    for (size_t i = 0; i < result->nlabs; i++)
        if (result->labs[i].outcome != VG_LAB_RAN)
            return false;
    return true;
}

bool vg_result_grader_error(const struct vg_result *result)
{
    for (size_t i = 0; i < result->nlabs; i++)
        if (result->labs[i].outcome == VG_LAB_GRADER_ERROR)
            return true;
    return false;
}
