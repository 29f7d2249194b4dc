/* tap_test.c - the TAP parser on real Criterion 2.4.1 reports and garbage. */
#include "testutil.h"
#include "tap.h"

/* Written by a Criterion 2.4.1 binary run with --tap=FILE. */
static const char real_report[] =
    "TAP version 13\n"
    "1..8\n"
    "# Criterion v2.4.1\n"
    "#\n"
    "# Running 8 tests from s\n"
    "not ok - s::twofail  (0.00s)\n"
    "  ---\n"
    "  assertions: 2\n"
    "  failures:\n"
    "  - t.c:11: |+\n"
    "      Assertion failed: second\n"
    "  - t.c:11: |+\n"
    "      Assertion failed: first\n"
    "  ...\n"
    "ok - s::skips  # SKIP no kvm here\n"
    "ok - s::passes  (0.00s)\n"
    "not ok - s::hangs timed out (1.01s)\n"
    "not ok - s::fails d (0.00s)\n"
    "  ---\n"
    "  assertions: 1\n"
    "  failures:\n"
    "  - t.c:8: |+\n"
    "      Assertion failed: one is 1\n"
    "      second line\n"
    "  ...\n"
    "not ok - s::exits  (0.00s)\n"
    "  ---\n"
    "  assertions: 0\n"
    "  failures:\n"
    "  ...\n"
    "not ok - s::abrt unexpected signal after t.c:12\n"
    "not ok - s::crashes unexpected signal after t.c:9\n";

static struct vg_tap parse(const char *text)
{
    struct vg_tap tap;

    vl_assert_ok(vg_tap_parse(&tap, text, strlen(text)));
    return tap;
}

static const struct vg_tap_result *need(const struct vg_tap *tap,
                                        const char *id)
{
    const struct vg_tap_result *r = vg_tap_find(tap, id);

    cr_assert(r, "no result for %s", id);
    return r;
}

Test(tap, reads_every_test_of_a_real_report)
{
    struct vg_tap tap = parse(real_report);

    cr_assert_eq(tap.n, 8);
    cr_assert_eq(tap.planned, 8);
    cr_assert_eq(tap.reported, 8);
    cr_assert(vg_tap_complete(&tap));
    cr_assert_eq(need(&tap, "s::passes")->status, VG_PASSED);
    cr_assert_null(need(&tap, "s::passes")->details);
    cr_assert_eq(need(&tap, "s::hangs")->status, VG_TIMED_OUT);
    cr_assert_eq(need(&tap, "s::abrt")->status, VG_CRASHED);
    cr_assert_eq(need(&tap, "s::exits")->status, VG_FAILED);
    vg_tap_free(&tap);
}

Test(tap, skip_is_a_skip_with_its_reason_never_a_pass)
{
    struct vg_tap tap = parse(real_report);
    const struct vg_tap_result *r = need(&tap, "s::skips");

    cr_assert_eq(r->status, VG_SKIPPED);
    cr_assert_str_eq(r->details, "no kvm here");
    vg_tap_free(&tap);
}

Test(tap, failure_details_keep_place_and_every_message_line)
{
    struct vg_tap tap = parse(real_report);

    cr_assert_str_eq(need(&tap, "s::fails")->details,
                     "t.c:8: Assertion failed: one is 1\n    second line");
    cr_assert_str_eq(need(&tap, "s::twofail")->details,
                     "t.c:11: Assertion failed: second\n"
                     "t.c:11: Assertion failed: first");
    vg_tap_free(&tap);
}

Test(tap, crash_and_silent_failure_are_explained)
{
    struct vg_tap tap = parse(real_report);

    cr_assert(strstr(need(&tap, "s::crashes")->details, "t.c:9"));
    cr_assert(strstr(need(&tap, "s::crashes")->details, "signal"));
    cr_assert(strstr(need(&tap, "s::exits")->details, "without a failed "
                                                      "assertion"));
    cr_assert(strstr(need(&tap, "s::hangs")->details, "time limit"));
    vg_tap_free(&tap);
}

Test(tap, report_cut_short_is_incomplete)
{
    struct vg_tap tap = parse("1..3\nok - s::a  (0.00s)\nnot ok - s::b \n");

    cr_assert_eq(tap.n, 2);
    cr_assert_not(vg_tap_complete(&tap));
    vg_tap_free(&tap);
}

Test(tap, report_without_plan_or_with_bail_out_is_incomplete)
{
    struct vg_tap a = parse("ok - s::a  (0.00s)\n");
    struct vg_tap b =
        parse("1..1\nok - s::a  (0.00s)\nBail out! runner died\n");

    cr_assert_eq(a.planned, -1);
    cr_assert_not(vg_tap_complete(&a));
    cr_assert(b.bailed_out);
    cr_assert_not(vg_tap_complete(&b));
    vg_tap_free(&a);
    vg_tap_free(&b);
}

Test(tap, garbage_is_ignored_without_failing)
{
    static const char junk[] = "okay - s::nope\nnot okay\nok\nok - \n"
                               "\x01\x02\xff ok - s::no\n"
                               "    - t.c:1: |+\n      stray block\n"
                               "ok - s::real  (0.00s)\r\n1..zz\n";
    struct vg_tap tap;

    vl_assert_ok(vg_tap_parse(&tap, junk, sizeof(junk) - 1));
    cr_assert_eq(tap.n, 1);
    cr_assert_str_eq(tap.results[0].id, "s::real");
    cr_assert_eq(tap.results[0].status, VG_PASSED);
    cr_assert_eq(tap.planned, -1);
    vg_tap_free(&tap);
}

Test(tap, nul_bytes_do_not_end_the_report)
{
    static const char text[] = "1..2\nok - s::a \0junk\nok - s::b  (0.00s)\n";
    struct vg_tap tap;

    vl_assert_ok(vg_tap_parse(&tap, text, sizeof(text) - 1));
    cr_assert_eq(tap.n, 2);
    cr_assert(vg_tap_find(&tap, "s::b"));
    vg_tap_free(&tap);
}

Test(tap, numbered_tap_lines_are_understood)
{
    struct vg_tap tap = parse("1..2\nok 1 - s::a\nnot ok 2 - s::b\n");

    cr_assert_eq(need(&tap, "s::a")->status, VG_PASSED);
    cr_assert_eq(need(&tap, "s::b")->status, VG_FAILED);
    vg_tap_free(&tap);
}

Test(tap, repeated_test_keeps_its_worst_result)
{
    struct vg_tap tap = parse("1..3\n"
                              "ok - s::p  (0.00s)\n"
                              "not ok - s::p  (0.00s)\n"
                              "  ---\n  failures:\n  - t.c:4: |+\n"
                              "      Assertion failed: param 2\n  ...\n"
                              "ok - s::p  (0.00s)\n");

    cr_assert_eq(tap.n, 1);
    cr_assert_eq(tap.reported, 3);
    cr_assert_eq(need(&tap, "s::p")->status, VG_FAILED);
    cr_assert_str_eq(need(&tap, "s::p")->details,
                     "t.c:4: Assertion failed: param 2");
    vg_tap_free(&tap);
}

Test(tap, huge_failure_message_is_cut)
{
    size_t lines = 2000;
    char *text = malloc(lines * 64 + 256);
    struct vg_tap tap;
    size_t len;

    cr_assert(text);
    len = (size_t)sprintf(text, "1..1\nnot ok - s::big  (0.00s)\n  ---\n"
                                "  - t.c:1: |+\n");
    for (size_t i = 0; i < lines; i++)
        len += (size_t)sprintf(text + len, "      line %zu of a flood\n", i);
    vl_assert_ok(vg_tap_parse(&tap, text, len));
    cr_assert_leq(strlen(need(&tap, "s::big")->details), VG_DETAILS_MAX);
    cr_assert(strstr(need(&tap, "s::big")->details, "[... cut]"));
    vg_tap_free(&tap);
    free(text);
}

Test(tap, empty_input_has_no_results)
{
    struct vg_tap tap;

    vl_assert_ok(vg_tap_parse(&tap, "", 0));
    cr_assert_eq(tap.n, 0);
    cr_assert_not(vg_tap_complete(&tap));
    vg_tap_free(&tap);
}
