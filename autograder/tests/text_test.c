/* text_test.c - string helpers and Criterion's progress/sanitizer lines. */
#include "testutil.h"
#include "crlog.h"

Test(text, replace_every_occurrence)
{
    char *s = vg_text_replace("/w/src/a.c:1 and /w/src/b.c:2", "/w/src/", "");

    cr_assert_str_eq(s, "a.c:1 and b.c:2");
    free(s);
}

Test(text, head_keeps_lines_and_counts_the_rest)
{
    char *all = vg_text_head("a\nb\n", 5);
    char *cut = vg_text_head("a\nb\nc\nd", 2);

    cr_assert_str_eq(all, "a\nb\n");
    cr_assert_str_eq(cut, "a\nb\n[... 2 more lines]\n");
    free(all);
    free(cut);
}

Test(text, tail_points_at_the_last_lines)
{
    cr_assert_str_eq(vg_text_tail("a\nb\nc\n", 2), "b\nc\n");
    cr_assert_str_eq(vg_text_tail("a\nb", 5), "a\nb");
    cr_assert_str_eq(vg_text_tail("", 3), "");
}

Test(text, drop_lines_by_prefix)
{
    static const char *const noise[] = {"make: ***", NULL};
    char *s =
        vg_text_drop_lines("x.c:1: error\nmake: *** [t] Error 1\nend", noise);

    cr_assert_str_eq(s, "x.c:1: error\nend");
    free(s);
}

Test(crlog, keeps_progress_and_sanitizer_lines_only)
{
    cr_assert(vg_crlog_keep("[RUN ] s::a"));
    cr_assert(vg_crlog_keep("[PASS] s::a: (0.00s)"));
    cr_assert(vg_crlog_keep("SUMMARY: AddressSanitizer: SEGV vm.c:3"));
    cr_assert(vg_crlog_keep("vm.c:7:5: runtime error: shift exponent"));
    cr_assert_not(vg_crlog_keep("[----] t.c:3: Assertion Failed"));
    cr_assert_not(vg_crlog_keep("hello from the guest"));
}

Test(crlog, unfinished_tests_are_listed)
{
    static const char log[] = "[RUN ] s::a\n[RUN ] s::b\n[RUN ] s::c\n"
                              "[FAIL] s::b: CRASH!\n[SKIP] s::c: no kvm\n"
                              "[RUN ] s::d\n";
    char *ids = vg_crlog_unfinished(log, 5);

    cr_assert_str_eq(ids, "s::a, s::d");
    free(ids);
}

Test(crlog, unfinished_list_is_bounded)
{
    char *ids =
        vg_crlog_unfinished("[RUN ] s::a\n[RUN ] s::b\n[RUN ] s::c\n", 2);

    cr_assert_str_eq(ids, "s::a, s::b, ...");
    free(ids);
    cr_assert_null(vg_crlog_unfinished("[RUN ] s::a\n[PASS] s::a: (0s)\n", 5));
    cr_assert_null(vg_crlog_unfinished(NULL, 5));
}

Test(crlog, sanitizer_lines_once_each)
{
    static const char log[] = "[RUN ] s::a\n"
                              "a.c:3:1: runtime error: overflow\n"
                              "SUMMARY: UBSan: a.c:3:1\n"
                              "SUMMARY: UBSan: a.c:3:1\n";
    char *found = vg_crlog_sanitizer(log, 10);

    cr_assert_str_eq(found, "a.c:3:1: runtime error: overflow\n"
                            "SUMMARY: UBSan: a.c:3:1\n");
    free(found);
    cr_assert_null(vg_crlog_sanitizer("[RUN ] s::a\n", 10));
}
