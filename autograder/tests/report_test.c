/* report_test.c - the terminal report. */
#include "testutil.h"
#include "report.h"

/* The report of `result` as text (free it). */
static char *render(const struct vg_result *result, bool color)
{
    struct vg_report_opts o = {.color = color};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert(f);
    vg_report_terminal(f, result, &o);
    cr_assert_eq(fclose(f), 0);
    return text;
}

static void fixture(struct vg_result *r)
{
    struct vg_lab lab;
    struct vg_test extra = {.id = (char *)"s::extra", .status = VG_PASSED};

    *r = (struct vg_result){0};
    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "First"));
    tu_add_test(&lab, "s::pass", VG_PASSED, 2, NULL);
    tu_add_test(&lab, "s::fail", VG_FAILED, 3,
                "t.c:3: one\nt.c:4: two\n3\n4\n5\n6\n7\n8\nline nine\n10");
    tu_add_test(&lab, "s::skip", VG_SKIPPED, 0.5, "needs /dev/kvm");
    vl_assert_ok(vg_lab_add_test(&lab, &extra));
    vl_assert_ok(vg_result_add_lab(r, &lab));
    vl_assert_ok(vg_lab_init(&lab, "02", "02-b", "Second"));
    lab.outcome = VG_LAB_BUILD_FAILED;
    vl_assert_ok(vg_lab_set_message(&lab, "b.c:1: error: expected ';'"));
    tu_add_test(&lab, "t::x", VG_NOT_BUILT, 4, "not built");
    vl_assert_ok(vg_result_add_lab(r, &lab));
}

Test(report, table_has_points_status_and_total)
{
    struct vg_result r;
    char *text;

    fixture(&r);
    text = render(&r, false);
    cr_assert(strstr(text, "01-a  First  2/5.5 points"), "%s", text);
    cr_assert(strstr(text, "  PASS         2/2  s::pass "), "%s", text);
    cr_assert(strstr(text, "  FAIL         0/3  s::fail "), "%s", text);
    cr_assert(strstr(text, "  SKIP       0/0.5  s::skip "), "%s", text);
    cr_assert(strstr(text, "\nTotal: 2/9.5 points\n"), "%s", text);
    free(text);
    vg_result_free(&r);
}

Test(report, failure_details_are_indented_and_cut)
{
    struct vg_result r;
    char *text;

    fixture(&r);
    text = render(&r, false);
    cr_assert(strstr(text, "\n                    t.c:3: one\n"), "%s", text);
    cr_assert(strstr(text, "\n                    8\n"), "%s", text);
    cr_assert_null(strstr(text, "line nine"), "more than %d lines shown",
                   VG_REPORT_DETAIL_LINES);
    cr_assert(strstr(text, "[... more lines cut]"));
    free(text);
    vg_result_free(&r);
}

Test(report, skip_is_called_an_environment_skip)
{
    struct vg_result r;
    char *text;

    fixture(&r);
    text = render(&r, false);
    cr_assert(strstr(text, "environment skip, not a failure of your code:\n"
                           "                      needs /dev/kvm"),
              "%s", text);
    free(text);
    vg_result_free(&r);
}

Test(report, build_failure_and_extra_test_are_shown)
{
    struct vg_result r;
    char *text;

    fixture(&r);
    text = render(&r, false);
    cr_assert(strstr(text, "build failed"), "%s", text);
    cr_assert(strstr(text, "    b.c:1: error: expected ';'"), "%s", text);
    cr_assert(strstr(text, "NO BUILD"), "%s", text);
    cr_assert(strstr(text, "UNLISTED"), "%s", text);
    cr_assert(strstr(text, "not in the rubric"), "%s", text);
    free(text);
    vg_result_free(&r);
}

Test(report, colour_only_when_asked)
{
    struct vg_result r;
    char *plain, *color;

    fixture(&r);
    plain = render(&r, false);
    color = render(&r, true);
    cr_assert_null(strchr(plain, '\033'));
    cr_assert(strstr(color, "\033[32mPASS"), "%s", color);
    free(plain);
    free(color);
    vg_result_free(&r);
}

Test(report, no_colour_off_a_terminal_or_with_no_color)
{
    FILE *f = tmpfile();

    cr_assert(f);
    cr_assert_not(vg_report_want_color(f));
    fclose(f);
    setenv("NO_COLOR", "1", 1);
    cr_assert_not(vg_report_want_color(stdout));
}

Test(report, long_lines_are_cut)
{
    struct vg_result r = {0};
    struct vg_lab lab;
    char long_line[400];
    char *text;

    memset(long_line, 'x', sizeof(long_line) - 1);
    long_line[sizeof(long_line) - 1] = '\0';
    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "A"));
    tu_add_test(&lab, "s::f", VG_FAILED, 1, long_line);
    vl_assert_ok(vg_result_add_lab(&r, &lab));
    text = render(&r, false);
    cr_assert(strstr(text, " [...]\n"), "%s", text);
    cr_assert_null(strstr(text, long_line + 399 - VG_REPORT_LINE_WIDTH - 1));
    free(text);
    vg_result_free(&r);
}

/* ---- visibility, private tests, hints and excerpts (issue 5) -------- */

/* One lab: a hidden failing private test with a hint and an excerpt, and a
 * second failing test with the same hint. */
static void hint_fixture(struct vg_result *r, const char *excerpt)
{
    struct vg_lab lab;
    struct vg_test t = {.id = (char *)"p::hidden",
                        .description = (char *)"checks a secret",
                        .max_points = 2,
                        .status = VG_FAILED,
                        .details = (char *)"p.c:1: expected 1",
                        .in_rubric = true,
                        .visibility = VG_HIDDEN,
                        .extra = true,
                        .hint = (char *)"a triple fault: look at the GDT "
                                        "and the IDT you loaded, and at the "
                                        "stack the guest uses before it "
                                        "takes its first interrupt",
                        .excerpt = (char *)excerpt};

    *r = (struct vg_result){0};
    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "First"));
    vl_assert_ok(vg_lab_add_test(&lab, &t));
    t.id = (char *)"s::later";
    t.visibility = VG_AFTER_DUE_DATE;
    t.extra = false;
    t.excerpt = NULL;
    vl_assert_ok(vg_lab_add_test(&lab, &t));
    tu_add_test(&lab, "s::ok", VG_PASSED, 1, NULL);
    vl_assert_ok(vg_result_add_lab(r, &lab));
}

Test(report, hidden_and_private_tests_are_shown_and_marked)
{
    struct vg_result r;
    char *text;

    hint_fixture(&r, NULL);
    text = render(&r, false);
    cr_assert(strstr(text, "p::hidden  [private] [hidden] checks a secret\n"),
              "%s", text);
    cr_assert(strstr(text, "s::later   [after due date] checks a secret\n"),
              "%s", text);
    cr_assert(strstr(text, "s::ok      what it checks\n"), "%s", text);
    free(text);
    vg_result_free(&r);
}

Test(report, hint_is_wrapped_under_the_details_and_not_repeated)
{
    struct vg_result r;
    char *text;

    hint_fixture(&r, "guest: hello\nminivm: KVM_EXIT_SHUTDOWN\n");
    text = render(&r, false);
    cr_assert(strstr(text, "                    p.c:1: expected 1\n"
                           "                    hint: a triple fault: look "
                           "at the GDT and the IDT you loaded, and at the "
                           "stack\n"
                           "                          the guest uses "
                           "before it takes its first interrupt\n"
                           "                    output of the test:\n"
                           "                      guest: hello\n"
                           "                      minivm: "
                           "KVM_EXIT_SHUTDOWN\n"),
              "%s", text);
    cr_assert(strstr(text, "hint: the same as for p::hidden above\n"), "%s",
              text);
    free(text);
    vg_result_free(&r);
}

Test(report, hint_and_excerpt_are_coloured_only_when_asked)
{
    struct vg_result r;
    char *plain, *color;

    hint_fixture(&r, "guest: hello\n");
    plain = render(&r, false);
    color = render(&r, true);
    cr_assert_null(strchr(plain, '\033'), "%s", plain);
    cr_assert(strstr(color, "\033[36mhint:\033[0m a triple"), "%s", color);
    cr_assert(strstr(color, "\033[2mguest: hello\033[0m\n"), "%s", color);
    free(plain);
    free(color);
    vg_result_free(&r);
}

Test(report, control_characters_from_the_tests_are_not_obeyed)
{
    struct vg_result r = {0};
    struct vg_lab lab;
    char *text;

    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "A"));
    tu_add_test(&lab, "s::f", VG_FAILED, 1,
                "assert: \033]0;owned\007 \033[2J cleared");
    vl_assert_ok(vg_result_add_lab(&r, &lab));
    text = render(&r, false);
    cr_assert_null(strchr(text, '\033'), "%s", text);
    cr_assert_null(strchr(text, '\007'), "%s", text);
    cr_assert(strstr(text, "assert: ?]0;owned? ?[2J cleared"), "%s", text);
    free(text);
    vg_result_free(&r);
}
