/* hints_test.c - hints keyed by failure signature, and output excerpts. */
#include <jansson.h>

#include "testutil.h"
#include "hints.h"
#include "manifest.h"

/* A manifest with two rubric tests and the given "hints" (JSON). */
static void load_hints(struct vg_manifest *m, const char *hints)
{
    char *root = tu_tempdir();
    char *text = vg_strfmt(
        "{\"lab\": \"01\", \"slug\": \"01-kvm\", \"title\": \"T\","
        " \"program\": \"minivm\", \"stage_files\": [\"vm.c\"],"
        " \"tests\": [\"tests/t_test.c\"], \"timeout_sec\": 10,"
        " \"rubric\": [{\"test\": \"s::one\", \"points\": 1, \"description\":"
        " \"one\"}, {\"test\": \"s::two\", \"points\": 1, \"description\":"
        " \"two\"}], \"hints\": %s}",
        hints);
    char *path = vg_strfmt("%s/autograder/labs/01-kvm/lab.json", root);

    tu_write(root, "autograder/labs/01-kvm/lab.json", text);
    vl_assert_ok(vg_manifest_load(m, path, "01-kvm"));
    free(path);
    free(text);
    tu_rmdir(root);
}

static struct vg_test failing(const char *id, enum vg_status status,
                              const char *details)
{
    return (struct vg_test){.id = (char *)id,
                            .status = status,
                            .details = (char *)details,
                            .in_rubric = true};
}

/* The hint text that matches, or NULL. */
static const char *hint_for(const struct vg_manifest *m, const char *id,
                            enum vg_status status, const char *details,
                            const char *section)
{
    struct vg_test t = failing(id, status, details);
    const char *where;
    const struct vg_hint *h = vg_hint_find(m, &t, section, &where);

    return h ? h->hint : NULL;
}

static const char all_kinds[] =
    "[{\"on\": \"exit:KVM_EXIT_SHUTDOWN\", \"hint\": \"exit\"},"
    " {\"on\": \"errno:ENOSYS\", \"hint\": \"errno\"},"
    " {\"on\": \"signal:SIGSEGV\", \"hint\": \"signal\"},"
    " {\"on\": \"timeout\", \"hint\": \"timeout\"},"
    " {\"on\": \"crash\", \"hint\": \"crash\"},"
    " {\"on\": \"text:mmap failed\", \"hint\": \"text\"}]";

Test(hints, each_signature_kind_matches_its_evidence)
{
    struct vg_manifest m;

    load_hints(&m, all_kinds);
    cr_assert_str_eq(hint_for(&m, "s::one", VG_FAILED,
                              "unhandled exit: KVM_EXIT_SHUTDOWN at rip 0x7",
                              NULL),
                     "exit");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_FAILED,
                              "open returned -38 (Function not implemented)",
                              NULL),
                     "errno");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_FAILED,
                              "mvm_run(&vm) returned -38, expected -ELOOP",
                              NULL),
                     "errno", "the number alone, as the tests print it");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_FAILED, "x",
                              "==1==ERROR: AddressSanitizer: SEGV on unknown "
                              "address 0x0\n"),
                     "signal", "AddressSanitizer's words in the output");
    cr_assert_str_eq(
        hint_for(&m, "s::one", VG_FAILED, "Segmentation fault", NULL),
        "signal");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_TIMED_OUT, "timed out", NULL),
                     "timeout");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_CRASHED, "crashed", NULL),
                     "crash");
    cr_assert_str_eq(
        hint_for(&m, "s::one", VG_FAILED, "x", "guest: mmap failed here\n"),
        "text");
    cr_assert_null(
        hint_for(&m, "s::one", VG_FAILED, "expected 3, got 4", "all fine\n"));
    vg_manifest_free(&m);
}

Test(hints, names_match_as_whole_words_only)
{
    struct vg_manifest m;

    load_hints(&m, all_kinds);
    cr_assert_null(hint_for(&m, "s::one", VG_FAILED, "ENOSYSTEM", NULL));
    cr_assert_null(hint_for(&m, "s::one", VG_FAILED, "returned -380", NULL));
    cr_assert_null(
        hint_for(&m, "s::one", VG_FAILED, "KVM_EXIT_SHUTDOWNS", NULL));
    cr_assert_null(hint_for(&m, "s::one", VG_FAILED, "MYSIGSEGV", NULL));
    vg_manifest_free(&m);
}

Test(hints, the_first_matching_hint_wins)
{
    struct vg_manifest m;

    load_hints(&m, "[{\"on\": \"text:b\", \"hint\": \"first\"},"
                   " {\"on\": \"text:a\", \"hint\": \"second\"},"
                   " {\"on\": \"text:a\", \"hint\": \"third\"}]");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_FAILED, "a and b", NULL),
                     "first");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_FAILED, "a only", NULL),
                     "second");
    vg_manifest_free(&m);
}

Test(hints, tests_filter_limits_a_hint_to_its_tests)
{
    struct vg_manifest m;

    load_hints(&m, "[{\"on\": \"timeout\", \"hint\": \"two\","
                   "  \"tests\": [\"s::tw*\"]},"
                   " {\"on\": \"timeout\", \"hint\": \"any\"}]");
    cr_assert_str_eq(hint_for(&m, "s::two", VG_TIMED_OUT, NULL, NULL), "two");
    cr_assert_str_eq(hint_for(&m, "s::one", VG_TIMED_OUT, NULL, NULL), "any");
    vg_manifest_free(&m);
}

Test(hints, status_kinds_ignore_the_words)
{
    struct vg_manifest m;

    load_hints(&m, "[{\"on\": \"timeout\", \"hint\": \"t\"},"
                   " {\"on\": \"crash\", \"hint\": \"c\"}]");
    cr_assert_null(hint_for(&m, "s::one", VG_FAILED, "timeout crash", NULL),
                   "a failed test that says \"timeout\" did not time out");
    vg_manifest_free(&m);
}

/* ---- the test's section of the log ---------------------------------- */

static const char log_text[] = "[----] Criterion v2.4.1\n"
                               "[RUN ] s::one\n"
                               "guest says hi\n"
                               "[RUN ] s::two\n"
                               "[----] t_test.c:3: Assertion Failed\n"
                               "\n"
                               "minivm: unhandled exit: KVM_EXIT_SHUTDOWN\n"
                               "[FAIL] s::one: (0.01s)\n"
                               "after one\n"
                               "[PASS] s::two: (0.00s)\n";

Test(hints, section_holds_the_tests_own_lines)
{
    char *one = vg_hints_section(log_text, "s::one");
    char *two = vg_hints_section(log_text, "s::two");

    cr_assert_str_eq(one, "guest says hi\n"
                          "minivm: unhandled exit: KVM_EXIT_SHUTDOWN\n");
    cr_assert_str_eq(two,
                     "minivm: unhandled exit: KVM_EXIT_SHUTDOWN\n"
                     "after one\n",
                     "tests run in parallel: their lines interleave");
    cr_assert_null(vg_hints_section(log_text, "s::on"),
                   "an id is matched whole, not as a prefix");
    cr_assert_null(vg_hints_section(log_text, "s::three"));
    cr_assert_null(vg_hints_section(NULL, "s::one"));
    free(one);
    free(two);
}

Test(hints, section_without_end_or_final_newline)
{
    char *s = vg_hints_section("[RUN ] s::one\nlast words", "s::one");

    cr_assert_str_eq(s, "last words\n");
    free(s);
}

/* ---- excerpts ------------------------------------------------------- */

static char *numbered_lines(int n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    for (int i = 1; i <= n; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);
    return text;
}

Test(hints, excerpt_keeps_the_last_lines_without_a_match)
{
    char *section = numbered_lines(50);
    char *e = vg_hints_excerpt(section, NULL);

    cr_assert(strstr(e, "[... 30 earlier lines]\nline 31\n"), "%s", e);
    cr_assert(strstr(e, "line 50\n"), "%s", e);
    cr_assert_null(strstr(e, "line 30\n"));
    free(e);
    free(section);
}

Test(hints, excerpt_starts_a_little_before_the_match)
{
    char *section = numbered_lines(100);
    char *e = vg_hints_excerpt(section, strstr(section, "line 40\n"));

    cr_assert(strstr(e, "[... 34 earlier lines]\nline 35\n"), "%s", e);
    cr_assert(strstr(e, "line 54\n[... 46 more lines]\n"), "%s", e);
    free(e);
    free(section);
}

Test(hints, excerpt_is_capped_in_bytes_and_line_width)
{
    char *huge = malloc(200001);
    char *e;

    memset(huge, 'x', 200000);
    huge[200000] = '\0'; /* one endless line, no newline */
    e = vg_hints_excerpt(huge, NULL);
    cr_assert_leq(strlen(e), VG_EXCERPT_LINE_WIDTH + 16, "%zu", strlen(e));
    cr_assert(strstr(e, " [...]\n"), "%s", e);
    free(e);
    for (size_t i = 0; i < 200000; i += 120)
        huge[i] = '\n'; /* many lines of 119 bytes */
    e = vg_hints_excerpt(huge, NULL);
    cr_assert_leq(strlen(e), VG_EXCERPT_BYTES);
    cr_assert(strstr(e, "more lines]\n"), "%s", e);
    free(e);
    free(huge);
}

Test(hints, excerpt_cleans_binary_and_escape_sequences)
{
    static const char section[] =
        "\033[31mred\033[0m \033]0;title\007 bell\001\n"
        "bad utf8 \xff\xfe \xc3\x28 ok \xc3\xa9 \xe2\x82\xac\n"
        "cr\r\n";
    char *e = vg_hints_excerpt(section, NULL);

    cr_assert_str_eq(e, "red ?]0;title? bell?\n"
                        "bad utf8 ?? ?( ok \xc3\xa9 \xe2\x82\xac\n"
                        "cr?\n");
    /* a JSON writer takes it: it is valid UTF-8 (jansson checks) */
    json_t *j = json_string(e);
    cr_assert(j, "not valid UTF-8: %s", e);
    json_decref(j);
    free(e);
}

Test(hints, empty_sections_give_no_excerpt)
{
    cr_assert_null(vg_hints_excerpt(NULL, NULL));
    cr_assert_null(vg_hints_excerpt("", NULL));
}

/* ---- filling a lab -------------------------------------------------- */

Test(hints, apply_fills_failing_tests_only)
{
    struct vg_manifest m;
    struct vg_lab lab;

    load_hints(&m, "[{\"on\": \"exit:KVM_EXIT_SHUTDOWN\","
                   "  \"hint\": \"a triple fault\"}]");
    vl_assert_ok(vg_lab_init(&lab, "01", "01-kvm", "T"));
    tu_add_test(&lab, "s::one", VG_FAILED, 1, "t_test.c:3: failed");
    tu_add_test(&lab, "s::two", VG_PASSED, 1, NULL);
    vl_assert_ok(vg_hints_apply(&lab, &m, log_text, "/r", "/w"));
    cr_assert_str_eq(lab.tests[0].hint, "a triple fault");
    cr_assert_str_eq(lab.tests[0].excerpt,
                     "guest says hi\n"
                     "minivm: unhandled exit: KVM_EXIT_SHUTDOWN\n");
    cr_assert_null(lab.tests[1].hint);
    cr_assert_null(lab.tests[1].excerpt);
    vg_lab_free(&lab);
    vg_manifest_free(&m);
}

Test(hints, apply_shortens_work_paths_and_survives_no_log)
{
    struct vg_manifest m;
    struct vg_lab lab;

    load_hints(&m, "[]");
    vl_assert_ok(vg_lab_init(&lab, "01", "01-kvm", "T"));
    tu_add_test(&lab, "s::one", VG_CRASHED, 1, "crashed");
    vl_assert_ok(vg_hints_apply(&lab, &m,
                                "[RUN ] s::one\n"
                                "#0 in mvm_run /tmp/w/src/01-kvm/vm.c:42\n",
                                "/r", "/tmp/w"));
    cr_assert_str_eq(lab.tests[0].excerpt, "#0 in mvm_run 01-kvm/vm.c:42\n");
    cr_assert_null(lab.tests[0].hint);
    vg_lab_free(&lab);
    vl_assert_ok(vg_lab_init(&lab, "01", "01-kvm", "T"));
    tu_add_test(&lab, "s::one", VG_FAILED, 1, "x");
    vl_assert_ok(vg_hints_apply(&lab, &m, NULL, "/r", "/w"));
    cr_assert_null(lab.tests[0].excerpt);
    vg_lab_free(&lab);
    vg_manifest_free(&m);
}

Test(hints, excerpt_without_a_hint_starts_at_the_sanitizer_report)
{
    struct vg_manifest m;
    struct vg_lab lab;
    char *log = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&log, &len);

    fprintf(f, "[RUN ] s::one\n");
    for (int i = 0; i < 30; i++)
        fprintf(f, "guest line %d\n", i);
    fprintf(f, "==7==ERROR: AddressSanitizer: heap-buffer-overflow\n");
    for (int i = 0; i < 30; i++)
        fprintf(f, "    #%d 0x1 in frame_%d\n", i, i);
    fclose(f);
    load_hints(&m, "[]");
    vl_assert_ok(vg_lab_init(&lab, "01", "01-kvm", "T"));
    tu_add_test(&lab, "s::one", VG_FAILED, 1, "failed without an assertion");
    vl_assert_ok(vg_hints_apply(&lab, &m, log, "/r", "/w"));
    cr_assert(strstr(lab.tests[0].excerpt,
                     "guest line 29\n"
                     "==7==ERROR: AddressSanitizer: heap-buffer-overflow\n"
                     "    #0 0x1 in frame_0\n"),
              "%s", lab.tests[0].excerpt);
    vg_lab_free(&lab);
    vg_manifest_free(&m);
    free(log);
}
