/* gradescope_test.c - results.json fields and totals. */
#include <jansson.h>

#include "testutil.h"
#include "gradescope.h"

/* Two labs: 01 with a pass, a failure, a skip and an extra test; 02 did
 * not build. */
static void fixture(struct vg_result *r)
{
    struct vg_lab lab;
    struct vg_test extra = {.id = (char *)"s::extra", .status = VG_PASSED};

    *r = (struct vg_result){.seconds = 41.6};
    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "First"));
    tu_add_test(&lab, "s::pass", VG_PASSED, 2, NULL);
    tu_add_test(&lab, "s::fail", VG_FAILED, 3, "t.c:3: Assertion failed");
    tu_add_test(&lab, "s::skip", VG_SKIPPED, 1.5, "needs /dev/kvm");
    vl_assert_ok(vg_lab_add_test(&lab, &extra));
    vl_assert_ok(vg_result_add_lab(r, &lab));
    vl_assert_ok(vg_lab_init(&lab, "02", "02-b", "Second"));
    lab.outcome = VG_LAB_BUILD_FAILED;
    vl_assert_ok(vg_lab_set_message(&lab, "b.c:1: error: expected ';'"));
    tu_add_test(&lab, "t::x", VG_NOT_BUILT, 4, "not built");
    vl_assert_ok(vg_result_add_lab(r, &lab));
}

static json_t *results_json(void)
{
    struct vg_result r;
    json_t *root;

    fixture(&r);
    root = vg_gradescope_json(&r);
    cr_assert(root);
    vg_result_free(&r);
    return root;
}

static json_t *test_at(json_t *root, size_t i)
{
    json_t *t = json_array_get(json_object_get(root, "tests"), i);

    cr_assert(json_is_object(t), "no tests[%zu]", i);
    return t;
}

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    cr_assert(s, "no string \"%s\"", key);
    return s;
}

static double num(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    cr_assert(json_is_number(v), "no number \"%s\"", key);
    return json_number_value(v);
}

Test(gradescope, top_level_fields_and_totals)
{
    json_t *root = results_json();

    cr_assert_float_eq(num(root, "score"), 2, 1e-9);
    cr_assert_float_eq(num(root, "max_score"), 10.5, 1e-9);
    cr_assert(json_is_integer(json_object_get(root, "execution_time")));
    cr_assert_eq(json_integer_value(json_object_get(root, "execution_time")),
                 42);
    cr_assert_str_eq(str(root, "stdout_visibility"), "visible");
    cr_assert(strstr(str(root, "output"), "Total: 2/10.5 points"));
    json_decref(root);
}

Test(gradescope, one_entry_per_rubric_test_with_every_field)
{
    json_t *root = results_json();
    json_t *pass = test_at(root, 0);

    cr_assert_eq(json_array_size(json_object_get(root, "tests")), 4,
                 "3 rubric tests of lab 01 + 1 of lab 02, no extra test");
    cr_assert_str_eq(str(pass, "name"), "01 s::pass: what it checks");
    cr_assert_str_eq(str(pass, "number"), "1.1");
    cr_assert_float_eq(num(pass, "score"), 2, 1e-9);
    cr_assert_float_eq(num(pass, "max_score"), 2, 1e-9);
    cr_assert_str_eq(str(pass, "status"), "passed");
    cr_assert_str_eq(str(pass, "visibility"), "visible");
    cr_assert(json_object_get(pass, "output"));
    cr_assert_str_eq(str(test_at(root, 3), "number"), "2.1");
    json_decref(root);
}

Test(gradescope, failure_carries_its_details)
{
    json_t *root = results_json();
    json_t *fail = test_at(root, 1);

    cr_assert_str_eq(str(fail, "status"), "failed");
    cr_assert_float_eq(num(fail, "score"), 0, 1e-9);
    cr_assert(strstr(str(fail, "output"), "t.c:3: Assertion failed"));
    json_decref(root);
}

Test(gradescope, environment_skip_is_zero_and_not_blamed_on_the_student)
{
    json_t *root = results_json();
    json_t *skip = test_at(root, 2);

    cr_assert_float_eq(num(skip, "score"), 0, 1e-9);
    cr_assert_str_neq(str(skip, "status"), "passed");
    cr_assert(strstr(str(skip, "output"), "not a failure of your code"));
    cr_assert(strstr(str(skip, "output"), "needs /dev/kvm"));
    json_decref(root);
}

Test(gradescope, output_names_build_failures_and_extra_tests)
{
    json_t *root = results_json();
    const char *out = str(root, "output");

    cr_assert(strstr(out, "02-b Second: 0/4 points (build failed)"));
    cr_assert(strstr(out, "expected ';'"));
    cr_assert(strstr(out, "s::extra is not in the rubric"));
    json_decref(root);
}

Test(gradescope, written_file_parses_back)
{
    char *dir = tu_tempdir();
    char *path = vg_strfmt("%s/results.json", dir);
    struct vg_result r;
    json_error_t err;
    json_t *back;

    fixture(&r);
    vl_assert_ok(vg_gradescope_write(&r, path));
    back = json_load_file(path, 0, &err);
    cr_assert(back, "%s: %s", path, err.text);
    cr_assert_float_eq(num(back, "score"), vg_result_points(&r), 1e-9);
    json_decref(back);
    vg_result_free(&r);
    free(path);
    tu_rmdir(dir);
}

Test(gradescope, unwritable_path_is_an_error)
{
    struct vg_result r;

    fixture(&r);
    cr_assert_lt(vg_gradescope_write(&r, "/nonexistent/dir/results.json"), 0);
    cr_assert(strstr(vl_errmsg(), "/nonexistent/dir/results.json"));
    vg_result_free(&r);
}

Test(gradescope, output_names_the_stage_to_fix_first_and_ignored_changes)
{
    struct vg_result r;
    json_t *root;
    const char *out;

    fixture(&r);
    r.labs[1].fix_first = strdup("lab 01");
    r.labs[1].protected = calloc(1, sizeof(char *));
    r.labs[1].protected[0] = strdup("02-b/tests/b_test.c");
    r.labs[1].nprotected = 1;
    root = vg_gradescope_json(&r);
    out = str(root, "output");
    cr_assert(strstr(out, "fix lab 01 first"), "%s", out);
    cr_assert(strstr(out, "02-b/tests/b_test.c was ignored"), "%s", out);
    json_decref(root);
    vg_result_free(&r);
}

Test(gradescope, invalid_utf8_in_details_still_gives_results_json)
{
    struct vg_result r;
    json_t *root;

    fixture(&r);
    free(r.labs[0].tests[1].details);
    r.labs[0].tests[1].details = strdup("bad \xff\xfe bytes \x01");
    root = vg_gradescope_json(&r);
    cr_assert(root, "jansson refuses invalid UTF-8: it must be cleaned");
    cr_assert(strstr(str(test_at(root, 1), "output"), "bad \xef\xbf\xbd"));
    json_decref(root);
    vg_result_free(&r);
}
