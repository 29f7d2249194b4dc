/* mutants_test.c - mutant headers, and when a mutant counts as caught. */
#include "testutil.h"
#include "mutants.h"

static const char patch[] =
    "Mutant: forgets to check the KVM API version\n"
    "Kills: kvm_basics::opens_dev_kvm,kvm_basics::creates_vm , s::c\n"
    "A free comment line.\n"
    "\n"
    "--- a/vm.c\n"
    "+++ b/vm.c\n"
    "@@ -1 +1 @@\n"
    "-Kills: not::a_header\n"
    "+x\n";

Test(mutant, header_gives_description_and_trimmed_kills)
{
    struct vg_mutant mu;

    vl_assert_ok(vg_mutant_parse(&mu, "/m/01-x/no-version.patch", patch));
    cr_assert_str_eq(mu.name, "no-version");
    cr_assert_str_eq(mu.description, "forgets to check the KVM API version");
    cr_assert_eq(mu.nkills, 3, "the diff's own lines are not header");
    cr_assert_str_eq(mu.kills[0], "kvm_basics::opens_dev_kvm");
    cr_assert_str_eq(mu.kills[1], "kvm_basics::creates_vm");
    cr_assert_str_eq(mu.kills[2], "s::c");
    vg_mutant_free(&mu);
}

Test(mutant, header_lines_are_required)
{
    struct vg_mutant mu;

    cr_assert_eq(vg_mutant_parse(&mu, "p.patch", "Kills: s::a\n--- a/x\n"),
                 -EINVAL);
    cr_assert(strstr(vl_errmsg(), "p.patch: no \"Mutant:"), "%s", vl_errmsg());
    cr_assert_eq(vg_mutant_parse(&mu, "p.patch", "Mutant: m\n--- a/x\n"),
                 -EINVAL);
    cr_assert(strstr(vl_errmsg(), "no \"Kills:"), "%s", vl_errmsg());
    cr_assert_eq(vg_mutant_parse(&mu, "p.patch", "Mutant: m\nKills: oops\n"),
                 -EINVAL);
    cr_assert(strstr(vl_errmsg(), "\"oops\" is not a test id"), "%s",
              vl_errmsg());
}

/* A lab where s::a and s::b have the given statuses. */
static void lab_with(struct vg_lab *lab, enum vg_status a, enum vg_status b)
{
    vl_assert_ok(vg_lab_init(lab, "01", "01-x", "X"));
    tu_add_test(lab, "s::a", a, 1, NULL);
    tu_add_test(lab, "s::b", b, 1, "needs /dev/kvm");
}

static enum vg_mutant_verdict judge(enum vg_status a, enum vg_status b,
                                    char **why)
{
    struct vg_mutant mu;
    struct vg_lab lab;
    enum vg_mutant_verdict v;

    vl_assert_ok(vg_mutant_parse(&mu, "m.patch",
                                 "Mutant: m\n"
                                 "Kills: s::a, s::b\n"));
    lab_with(&lab, a, b);
    v = vg_mutant_judge(&mu, &lab, why);
    vg_lab_free(&lab);
    vg_mutant_free(&mu);
    return v;
}

Test(mutant, caught_when_every_named_test_fails)
{
    char *why = NULL;

    cr_assert_eq(judge(VG_FAILED, VG_CRASHED, &why), VG_MUTANT_CAUGHT);
    free(why);
    cr_assert_eq(judge(VG_TIMED_OUT, VG_FAILED, &why), VG_MUTANT_CAUGHT);
    free(why);
}

Test(mutant, not_caught_when_a_named_test_passes)
{
    char *why = NULL;

    cr_assert_eq(judge(VG_FAILED, VG_PASSED, &why), VG_MUTANT_NOT_CAUGHT);
    cr_assert_str_eq(why, "s::b passed\n"
                          "the tests that lost points: Kills: s::a");
    free(why);
}

/* Kills: s::a only, on a lab where s::a, s::b, s::c have these statuses. */
static enum vg_mutant_verdict judge_a(enum vg_status a, enum vg_status b,
                                      enum vg_status c, char **why)
{
    struct vg_mutant mu;
    struct vg_lab lab;
    enum vg_mutant_verdict v;

    vl_assert_ok(vg_mutant_parse(&mu, "m.patch", "Mutant: m\nKills: s::a\n"));
    lab_with(&lab, a, b);
    tu_add_test(&lab, "s::c", c, 2, "flaky: failed on the first run");
    v = vg_mutant_judge(&mu, &lab, why);
    vg_lab_free(&lab);
    vg_mutant_free(&mu);
    return v;
}

Test(mutant, caught_exactly_leaves_the_other_tests_passing)
{
    char *why = NULL;

    cr_assert_eq(judge_a(VG_CRASHED, VG_PASSED, VG_PASSED, &why),
                 VG_MUTANT_CAUGHT);
    cr_assert_null(why);
}

Test(mutant, unlisted_test_that_loses_points_makes_it_inexact)
{
    char *why = NULL;

    cr_assert_eq(judge_a(VG_FAILED, VG_TIMED_OUT, VG_PASSED, &why),
                 VG_MUTANT_INEXACT);
    cr_assert_str_eq(why, "also lost points, not in Kills: s::b (timed out)\n"
                          "the tests that lost points: Kills: s::a, s::b");
    free(why);
    /* A flaky unlisted test lost its points because of the mutant too. */
    cr_assert_eq(judge_a(VG_FAILED, VG_PASSED, VG_FLAKY, &why),
                 VG_MUTANT_INEXACT);
    cr_assert(strstr(why, "not in Kills: s::c (flaky)"), "%s", why);
    free(why);
}

Test(mutant, unlisted_environment_skip_is_not_the_mutants_doing)
{
    char *why = NULL;

    cr_assert_eq(judge_a(VG_FAILED, VG_SKIPPED, VG_PASSED, &why),
                 VG_MUTANT_CAUGHT);
    cr_assert_null(why);
}

Test(mutant, spared_and_extra_are_both_named)
{
    char *why = NULL;

    cr_assert_eq(judge_a(VG_FLAKY, VG_FAILED, VG_PASSED, &why),
                 VG_MUTANT_NOT_CAUGHT, "a flaky catch is no catch");
    cr_assert(strstr(why, "s::a flaky\n"), "%s", why);
    cr_assert(strstr(why, "not in Kills: s::b (failed)"), "%s", why);
    cr_assert(strstr(why, "Kills: s::a, s::b"), "%s", why);
    free(why);
}

Test(mutant, skip_does_not_catch_anything)
{
    char *why = NULL;

    cr_assert_eq(judge(VG_FAILED, VG_SKIPPED, &why), VG_MUTANT_NOT_CAUGHT);
    cr_assert(strstr(why, "s::b skipped: needs /dev/kvm"), "%s", why);
    free(why);
    cr_assert_eq(judge(VG_NOT_RUN, VG_FAILED, &why), VG_MUTANT_NOT_CAUGHT);
    free(why);
}

Test(mutant, mutant_that_does_not_compile_is_broken)
{
    struct vg_mutant mu;
    struct vg_lab lab;
    char *why = NULL;

    vl_assert_ok(vg_mutant_parse(&mu, "m.patch", "Mutant: m\nKills: s::a\n"));
    lab_with(&lab, VG_NOT_BUILT, VG_NOT_BUILT);
    lab.outcome = VG_LAB_BUILD_FAILED;
    vl_assert_ok(vg_lab_set_message(&lab, "vm.c:3: error: oops"));
    cr_assert_eq(vg_mutant_judge(&mu, &lab, &why), VG_MUTANT_BROKEN);
    cr_assert(strstr(why, "does not compile"));
    cr_assert(strstr(why, "vm.c:3: error: oops"));
    free(why);
    vg_lab_free(&lab);
    vg_mutant_free(&mu);
}

Test(mutant, kills_outside_the_rubric_is_broken)
{
    struct vg_mutant mu;
    struct vg_lab lab;
    char *why = NULL;

    vl_assert_ok(vg_mutant_parse(&mu, "m.patch", "Mutant: m\nKills: s::z\n"));
    lab_with(&lab, VG_FAILED, VG_FAILED);
    cr_assert_eq(vg_mutant_judge(&mu, &lab, &why), VG_MUTANT_BROKEN);
    cr_assert(strstr(why, "s::z, which is not in the rubric"), "%s", why);
    free(why);
    vg_lab_free(&lab);
    vg_mutant_free(&mu);
}

Test(mutant, whole_lab_timeout_is_named_first)
{
    struct vg_mutant mu;
    struct vg_lab lab;
    char *why = NULL;

    vl_assert_ok(vg_mutant_parse(&mu, "m.patch", "Mutant: m\nKills: s::a\n"));
    lab_with(&lab, VG_TIMED_OUT, VG_TIMED_OUT);
    lab.outcome = VG_LAB_TIMED_OUT;
    vl_assert_ok(vg_lab_set_message(&lab, "ran past the 300 s limit\nmore"));
    cr_assert_eq(vg_mutant_judge(&mu, &lab, &why), VG_MUTANT_INEXACT);
    cr_assert(strstr(why,
                     "the lab's run timed out: ran past the 300 s limit\n"
                     "also lost points, not in Kills: s::b (timed out)\n") ==
                  why,
              "%s", why);
    free(why);
    vg_lab_free(&lab);
    vg_mutant_free(&mu);
}
