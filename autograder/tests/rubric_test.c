/* rubric_test.c - reported tests mapped onto the rubric, and the totals. */
#include "testutil.h"
#include "manifest.h"
#include "rubric.h"
#include "tap.h"

static struct vg_rubric_item items[] = {
    {.test = (char *)"s::passes", .points = 2, .description = (char *)"passes"},
    {.test = (char *)"s::fails", .points = 3, .description = (char *)"fails"},
    {.test = (char *)"s::skips",
     .points = 1.5,
     .description = (char *)"needs the machine"},
    {.test = (char *)"s::missing",
     .points = 1,
     .description = (char *)"never reported"},
};

static const struct vg_manifest manifest = {
    .lab = (char *)"01",
    .slug = (char *)"01-t",
    .title = (char *)"T",
    .rubric = items,
    .nrubric = sizeof(items) / sizeof(items[0]),
};

static const char report[] = "1..4\n"
                             "ok - s::passes  (0.00s)\n"
                             "not ok - s::fails  (0.00s)\n"
                             "  ---\n  failures:\n  - t.c:3: |+\n"
                             "      Assertion failed: nope\n  ...\n"
                             "ok - s::skips  # SKIP needs /dev/kvm\n"
                             "ok - s::extra  (0.00s)\n";

/* The lab scored from `report`; tests it lacks get VG_NOT_RUN. */
static void score(struct vg_lab *lab)
{
    struct vg_tap tap;

    vl_assert_ok(vg_tap_parse(&tap, report, strlen(report)));
    vl_assert_ok(vg_lab_init(lab, "01", "01-t", "T"));
    vl_assert_ok(
        vg_rubric_score(lab, &manifest, &tap, VG_NOT_RUN, "did not run"));
    vg_tap_free(&tap);
}

static const struct vg_test *need(const struct vg_lab *lab, const char *id)
{
    const struct vg_test *t = vg_lab_find_test(lab, id);

    cr_assert(t, "no test %s", id);
    return t;
}

Test(rubric, passed_test_earns_its_points)
{
    struct vg_lab lab;

    score(&lab);
    cr_assert_eq(need(&lab, "s::passes")->status, VG_PASSED);
    cr_assert_float_eq(need(&lab, "s::passes")->points, 2, 1e-9);
    cr_assert_str_eq(need(&lab, "s::passes")->description, "passes");
    vg_lab_free(&lab);
}

Test(rubric, failed_test_earns_nothing_and_says_why)
{
    struct vg_lab lab;

    score(&lab);
    cr_assert_eq(need(&lab, "s::fails")->status, VG_FAILED);
    cr_assert_float_eq(need(&lab, "s::fails")->points, 0, 1e-9);
    cr_assert_float_eq(need(&lab, "s::fails")->max_points, 3, 1e-9);
    cr_assert(strstr(need(&lab, "s::fails")->details, "nope"));
    vg_lab_free(&lab);
}

Test(rubric, skipped_test_earns_nothing_and_keeps_its_reason)
{
    struct vg_lab lab;

    score(&lab);
    cr_assert_eq(need(&lab, "s::skips")->status, VG_SKIPPED);
    cr_assert_float_eq(need(&lab, "s::skips")->points, 0, 1e-9);
    cr_assert_str_eq(need(&lab, "s::skips")->details, "needs /dev/kvm");
    vg_lab_free(&lab);
}

Test(rubric, unreported_test_gets_the_given_status)
{
    struct vg_lab lab;

    score(&lab);
    cr_assert_eq(need(&lab, "s::missing")->status, VG_NOT_RUN);
    cr_assert_str_eq(need(&lab, "s::missing")->details, "did not run");
    cr_assert_float_eq(need(&lab, "s::missing")->points, 0, 1e-9);
    vg_lab_free(&lab);
}

Test(rubric, test_outside_the_rubric_is_kept_but_worth_nothing)
{
    struct vg_lab lab;

    score(&lab);
    cr_assert_eq(lab.ntests, 5);
    cr_assert_not(need(&lab, "s::extra")->in_rubric);
    cr_assert_float_eq(need(&lab, "s::extra")->max_points, 0, 1e-9);
    cr_assert_float_eq(vg_lab_points(&lab), 2, 1e-9);
    cr_assert_float_eq(vg_lab_max_points(&lab), 7.5, 1e-9);
    vg_lab_free(&lab);
}

Test(rubric, rubric_order_is_kept)
{
    struct vg_lab lab;

    score(&lab);
    for (size_t i = 0; i < manifest.nrubric; i++)
        cr_assert_str_eq(lab.tests[i].id, items[i].test);
    vg_lab_free(&lab);
}

Test(rubric, nothing_ran_gives_every_test_the_status)
{
    struct vg_lab lab;

    vl_assert_ok(vg_lab_init(&lab, "01", "01-t", "T"));
    vl_assert_ok(
        vg_rubric_score(&lab, &manifest, NULL, VG_NOT_BUILT, "not built"));
    cr_assert_eq(lab.ntests, manifest.nrubric);
    for (size_t i = 0; i < lab.ntests; i++)
        cr_assert_eq(lab.tests[i].status, VG_NOT_BUILT);
    cr_assert_float_eq(vg_lab_points(&lab), 0, 1e-9);
    vg_lab_free(&lab);
}

/* ---- totals of the result model ------------------------------------- */

static void add_lab(struct vg_result *r, enum vg_outcome outcome,
                    enum vg_status a, enum vg_status b)
{
    struct vg_lab lab;

    vl_assert_ok(vg_lab_init(&lab, "01", "01-t", "T"));
    lab.outcome = outcome;
    tu_add_test(&lab, "s::a", a, 2, NULL);
    tu_add_test(&lab, "s::b", b, 3, NULL);
    vl_assert_ok(vg_result_add_lab(r, &lab));
    cr_assert_null(lab.slug, "the result takes the lab over");
}

Test(totals, full_only_when_every_rubric_test_passed)
{
    struct vg_result all = {0}, one = {0};

    add_lab(&all, VG_LAB_RAN, VG_PASSED, VG_PASSED);
    add_lab(&one, VG_LAB_RAN, VG_PASSED, VG_SKIPPED);
    cr_assert(vg_result_full(&all));
    cr_assert_float_eq(vg_result_points(&all), 5, 1e-9);
    cr_assert_not(vg_result_full(&one), "a skip is never a pass");
    cr_assert_float_eq(vg_result_points(&one), 2, 1e-9);
    cr_assert_float_eq(vg_result_max_points(&one), 5, 1e-9);
    vg_result_free(&all);
    vg_result_free(&one);
}

Test(totals, zero_and_clean_are_separate_questions)
{
    struct vg_result ran = {0}, broken = {0};

    add_lab(&ran, VG_LAB_RAN, VG_FAILED, VG_SKIPPED);
    add_lab(&broken, VG_LAB_BUILD_FAILED, VG_NOT_BUILT, VG_NOT_BUILT);
    cr_assert(vg_result_zero(&ran));
    cr_assert(vg_result_clean(&ran));
    cr_assert(vg_result_zero(&broken));
    cr_assert_not(vg_result_clean(&broken));
    cr_assert_not(vg_result_grader_error(&broken));
    vg_result_free(&ran);
    vg_result_free(&broken);
}

Test(totals, grader_error_is_noticed)
{
    struct vg_result r = {0};

    add_lab(&r, VG_LAB_RAN, VG_PASSED, VG_PASSED);
    add_lab(&r, VG_LAB_GRADER_ERROR, VG_NOT_RUN, VG_NOT_RUN);
    cr_assert(vg_result_grader_error(&r));
    cr_assert_not(vg_result_full(&r));
    cr_assert_not(vg_result_zero(&r));
    vg_result_free(&r);
}

Test(totals, empty_result_is_not_full)
{
    struct vg_result r = {0};

    cr_assert_not(vg_result_full(&r));
    cr_assert_float_eq(vg_result_max_points(&r), 0, 1e-9);
}
