/*
 * formats_test.c - every report format, each against its specification,
 * from one hand-built result (no grading run): JUnit XML (validated by
 * xmllint against tests/formats/junit.xsd), TAP 14 (read back by the
 * grader's own TAP reader and by Perl's TAP::Parser), GitHub Classroom's
 * runner JSON, the Markdown job summary and Autolab's autoresult line. Each
 * also survives an empty run, NULL strings, hostile and huge text.
 */
#include <jansson.h>
#include <sys/wait.h>

#include "testutil.h"
#include "autolab.h"
#include "classroom.h"
#include "formats.h"
#include "gradescope.h"
#include "junit.h"
#include "markdown.h"
#include "tap.h"
#include "tapout.h"

#define XSD VL_ROOT "/autograder/tests/formats/junit.xsd"

/* Everything a report must not choke on: XML and Markdown syntax, quotes,
 * control characters, invalid UTF-8 (a lone continuation byte, a
 * truncated sequence, an overlong "/", a surrogate), a byte-order mark's
 * forbidden twin U+FFFE, and a code fence. */
#define HOSTILE                                                                \
    "a \"quoted\" 'word' <b>&amp; ]]> x|y\\z #1 *s* _u_ [l](x)\n"              \
    "\x01\x07\x1b[31m\r\n\x80 \xc3 \xc0\xaf \xed\xa0\x80 \xef\xbf\xbe "        \
    "``` fence ```` é"

static void add(struct vg_lab *lab, struct vg_test t)
{
    vl_assert_ok(vg_lab_add_test(lab, &t));
}

/*
 * Lab 01 ran: a pass (2), a failure with a hint and an excerpt (3), an
 * environment skip (1.5), a crash (1), a timeout (1), a flaky test (2,
 * hidden), a test not in the rubric. Lab 02 did not build and has no test.
 */
static void fixture(struct vg_result *r)
{
    struct vg_lab lab;

    *r = (struct vg_result){
        .seconds = 12.5,
        .meta = {.grader_version = strdup("vlab-grade 0.1.0"),
                 .submission = strdup("/sub"),
                 .submission_commit = strdup("abc123"),
                 .tools = strdup("gcc 12"),
                 .environment = strdup("kvm: ok\ncgroup: warn"),
                 .started = strdup("2026-01-01T00:00:00Z")},
    };
    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "First"));
    lab.seconds = 10;
    lab.tests_sha256 = strdup("1111");
    lab.rubric_sha256 = strdup("2222");
    add(&lab, (struct vg_test){.id = "s::pass",
                               .description = "passes",
                               .points = 2,
                               .max_points = 2,
                               .status = VG_PASSED,
                               .in_rubric = true});
    add(&lab, (struct vg_test){.id = "s::fail",
                               .description = "fails",
                               .max_points = 3,
                               .status = VG_FAILED,
                               .details = "t.c:3: Assertion failed: " HOSTILE,
                               .hint = "look at the exit | reason",
                               .excerpt = "guest said <hi>",
                               .in_rubric = true});
    add(&lab, (struct vg_test){.id = "s::skip",
                               .max_points = 1.5,
                               .status = VG_SKIPPED,
                               .details = "needs /dev/kvm",
                               .in_rubric = true});
    add(&lab, (struct vg_test){.id = "s::crash",
                               .max_points = 1,
                               .status = VG_CRASHED,
                               .details = "SIGSEGV",
                               .in_rubric = true});
    add(&lab, (struct vg_test){.id = "s::hang",
                               .max_points = 1,
                               .status = VG_TIMED_OUT,
                               .in_rubric = true});
    add(&lab, (struct vg_test){.id = "s::flaky",
                               .max_points = 2,
                               .status = VG_FLAKY,
                               .visibility = VG_HIDDEN,
                               .in_rubric = true});
    add(&lab, (struct vg_test){.id = "s::extra", .status = VG_PASSED});
    vl_assert_ok(vg_result_add_lab(r, &lab));
    vl_assert_ok(vg_lab_init(&lab, "02", "02-b", "Second"));
    lab.outcome = VG_LAB_BUILD_FAILED;
    vl_assert_ok(vg_lab_set_message(&lab, "b.c:1: error: " HOSTILE));
    vl_assert_ok(vg_result_add_lab(r, &lab));
}

/* A lab whose strings are all NULL, and a test with 1 MiB of details. */
static void odd_fixture(struct vg_result *r)
{
    struct vg_lab lab;
    char *huge = malloc((1 << 20) + 1);

    cr_assert(huge);
    memset(huge, 'x', 1 << 20);
    huge[1 << 20] = '\0';
    *r = (struct vg_result){0};
    vl_assert_ok(vg_lab_init(&lab, NULL, NULL, NULL));
    add(&lab, (struct vg_test){.status = VG_FAILED, .in_rubric = true});
    add(&lab, (struct vg_test){.id = "s::huge",
                               .status = VG_CRASHED,
                               .details = huge,
                               .excerpt = huge,
                               .in_rubric = true});
    lab.log = strdup(huge);
    vl_assert_ok(vg_result_add_lab(r, &lab));
    free(huge);
}

/* The three results every writer must survive. */
static void each_fixture(void (*check)(struct vg_result *, const char *))
{
    struct vg_result r;

    fixture(&r);
    check(&r, "fixture");
    vg_result_free(&r);
    r = (struct vg_result){0};
    check(&r, "empty run");
    odd_fixture(&r);
    check(&r, "NULL strings and huge text");
    vg_result_free(&r);
}

/* Run sh -c cmd; its stdout (free it) and exit status. */
static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    char buf[4096];
    size_t n;

    cr_assert(p && m, "popen %s", cmd);
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        fwrite(buf, 1, n, m);
    *status = pclose(p);
    fclose(m);
    return out;
}

static bool have(const char *tool)
{
    char *cmd = vg_strfmt("command -v %s >/dev/null 2>&1", tool);
    int ret = system(cmd);

    free(cmd);
    return ret == 0;
}

/* What a writer put in a memory buffer (free it). */
static char *print_to_string(void (*print)(FILE *, const struct vg_result *),
                             const struct vg_result *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert(f);
    print(f, r);
    cr_assert_eq(fclose(f), 0);
    return text;
}

/* ---- the shared cleaning -------------------------------------------- */

Test(formats, clean_leaves_valid_utf8_without_control_characters)
{
    char *c = vg_fmt_clean(HOSTILE, 4096);

    cr_assert(c);
    cr_assert(strstr(c, "é"), "valid UTF-8 is kept: %s", c);
    cr_assert(strstr(c, "<b>&amp;"), "cleaning is not escaping");
    for (const unsigned char *p = (const unsigned char *)c; *p; p++) {
        cr_assert(*p >= 0x20 || *p == '\n' || *p == '\t',
                  "control byte 0x%02x left", *p);
        cr_assert(*p != 0x80 || p > (const unsigned char *)c);
    }
    cr_assert(!strstr(c, "\xef\xbf\xbe"), "U+FFFE replaced");
    cr_assert(!strstr(c, "\xed\xa0\x80"), "a surrogate replaced");
    cr_assert(!strstr(c, "\xc0\xaf"), "an overlong form replaced");
    cr_assert(!strchr(c, '\r'));
    /* jansson accepts only valid UTF-8: it is the check. */
    json_t *s = json_string(c);
    cr_assert(s, "not valid UTF-8: %s", c);
    json_decref(s);
    free(c);
}

Test(formats, clean_caps_on_a_character_boundary_and_says_so)
{
    char *c = vg_fmt_clean("ééééé", 5); /* 2 bytes each */

    cr_assert(c);
    cr_assert(strncmp(c, "éé\n[... 6 bytes cut]", 30) == 0, "got %s", c);
    free(c);
    c = vg_fmt_clean(NULL, 10);
    cr_assert_str_eq(c, "");
    free(c);
}

Test(formats, points_print_short)
{
    char buf[32];

    cr_assert_str_eq(vg_fmt_points(buf, 2), "2");
    cr_assert_str_eq(vg_fmt_points(buf, 2.5), "2.5");
    cr_assert_str_eq(vg_fmt_points(buf, 1000), "1000");
    cr_assert_str_eq(vg_fmt_points(buf, 1.0 / 3), "0.3333");
}

/* ---- JUnit XML --------------------------------------------------------- */

static char *xpath(const char *file, const char *expr)
{
    char *cmd = vg_strfmt("xmllint --xpath '%s' %s 2>&1", expr, file);
    int status;
    char *out = run(cmd, &status);

    cr_assert_eq(status, 0, "%s: %s", cmd, out);
    free(cmd);
    if (*out && out[strlen(out) - 1] == '\n')
        out[strlen(out) - 1] = '\0'; /* xmllint ends with a newline */
    return out;
}

static void junit_valid(struct vg_result *r, const char *what)
{
    char *dir = tu_tempdir();
    char *path = vg_strfmt("%s/junit.xml", dir);
    char *cmd = vg_strfmt("xmllint --noout --schema %s %s 2>&1", XSD, path);
    int status;
    char *out;

    vl_assert_ok(vg_junit_write(r, path));
    out = run(cmd, &status);
    cr_assert_eq(status, 0, "%s: JUnit XML not valid: %s", what, out);
    free(out);
    free(cmd);
    free(path);
    tu_rmdir(dir);
}

Test(junit, valid_against_the_schema_whatever_the_result)
{
    if (!have("xmllint"))
        cr_skip_test("no xmllint (Debian: libxml2-utils, `make deps`)");
    each_fixture(junit_valid);
}

Test(junit, counts_and_statuses_map_to_failure_error_skipped)
{
    char *dir, *path, *v;
    struct vg_result r;

    if (!have("xmllint"))
        cr_skip_test("no xmllint (Debian: libxml2-utils, `make deps`)");
    dir = tu_tempdir();
    path = vg_strfmt("%s/junit.xml", dir);
    fixture(&r);
    vl_assert_ok(vg_junit_write(&r, path));
    vg_result_free(&r);

    v = xpath(path, "string(/testsuites/@tests)");
    cr_assert_str_eq(v, "8", "7 tests + the grading case of lab 02");
    free(v);
    v = xpath(path, "concat(/testsuites/testsuite[1]/@tests, \" \", "
                    "/testsuites/testsuite[1]/@failures, \" \", "
                    "/testsuites/testsuite[1]/@errors, \" \", "
                    "/testsuites/testsuite[1]/@skipped)");
    cr_assert_str_eq(v, "7 2 2 1",
                     "failures: fail, flaky; errors: crash, "
                     "hang; skipped: skip");
    free(v);
    v = xpath(path, "count(//testcase[@name=\"s::fail\"]/failure)");
    cr_assert_str_eq(v, "1");
    free(v);
    v = xpath(path, "string(//testcase[@name=\"s::hang\"]/error/@type)");
    cr_assert_str_eq(v, "timed out");
    free(v);
    v = xpath(path, "string(//testcase[@name=\"s::skip\"]/skipped/@message)");
    cr_assert(strstr(v, "needs /dev/kvm"), "%s", v);
    free(v);
    v = xpath(path, "count(//testcase[@name=\"s::pass\"]/*)");
    cr_assert_str_eq(v, "0", "a pass has no result element");
    free(v);
    v = xpath(path, "string(/testsuites/testsuite[2]/testcase/error/@type)");
    cr_assert_str_eq(v, "build failed");
    free(v);
    v = xpath(path, "string(//property[@name=\"points\"]/@value)");
    cr_assert_str_eq(v, "2");
    free(v);
    v = xpath(path, "string(//property[@name=\"submission_commit\"]/@value)");
    cr_assert_str_eq(v, "abc123");
    free(v);
    v = xpath(path, "string(//property[@name=\"s::fail.points\"]/@value)");
    cr_assert_str_eq(v, "0/3");
    free(v);
    free(path);
    tu_rmdir(dir);
}

Test(junit, hostile_text_comes_back_as_text)
{
    char *dir, *path, *v;
    struct vg_result r;

    if (!have("xmllint"))
        cr_skip_test("no xmllint (Debian: libxml2-utils, `make deps`)");
    dir = tu_tempdir();
    path = vg_strfmt("%s/junit.xml", dir);
    fixture(&r);
    vl_assert_ok(vg_junit_write(&r, path));
    vg_result_free(&r);
    v = xpath(path, "string(//testcase[@name=\"s::fail\"]/failure/@message)");
    cr_assert(strstr(v, "a \"quoted\" 'word' <b>&amp; ]]> x|y\\z"),
              "attribute escaped and read back: %s", v);
    cr_assert(strstr(v, "\n"), "a newline in an attribute survives");
    free(v);
    v = xpath(path, "string(//testcase[@name=\"s::fail\"]/failure)");
    cr_assert(strstr(v, "hint: look at the exit | reason"), "%s", v);
    cr_assert(strstr(v, "guest said <hi>"), "%s", v);
    free(v);
    free(path);
    tu_rmdir(dir);
}

Test(junit, unwritable_path_is_an_error)
{
    struct vg_result r = {0};

    cr_assert_lt(vg_junit_write(&r, "/nonexistent/dir/j.xml"), 0);
    cr_assert(strstr(vl_errmsg(), "/nonexistent/dir/j.xml"));
}

/* ---- TAP 14 ------------------------------------------------------------ */

static void tap_reads_back(struct vg_result *r, const char *what)
{
    char *text = print_to_string(vg_tapout_print, r);
    struct vg_tap tap;
    size_t want = 0;

    cr_assert_eq(strncmp(text, "TAP version 14\n", 15), 0, "%s", what);
    vl_assert_ok(vg_tap_parse(&tap, text, strlen(text)));
    for (size_t i = 0; i < r->nlabs; i++)
        want += r->labs[i].ntests                  ? r->labs[i].ntests
                : r->labs[i].outcome != VG_LAB_RAN ? 1
                                                   : 0;
    cr_assert_eq(tap.planned, (long)want, "%s: plan", what);
    cr_assert_eq(tap.reported, want, "%s: test points", what);
    cr_assert(vg_tap_complete(&tap), "%s", what);
    vg_tap_free(&tap);
    free(text);
}

Test(tap, the_graders_own_reader_reads_it_back)
{
    each_fixture(tap_reads_back);
}

Test(tap, statuses_map_to_ok_not_ok_and_skip)
{
    struct vg_result r;
    char *text;
    struct vg_tap tap;

    fixture(&r);
    text = print_to_string(vg_tapout_print, &r);
    vg_result_free(&r);
    vl_assert_ok(vg_tap_parse(&tap, text, strlen(text)));
    cr_assert_eq(vg_tap_find(&tap, "s::pass")->status, VG_PASSED);
    cr_assert_eq(vg_tap_find(&tap, "s::skip")->status, VG_SKIPPED);
    cr_assert_str_eq(vg_tap_find(&tap, "s::skip")->details, "needs /dev/kvm");
    cr_assert_eq(vg_tap_find(&tap, "s::fail")->status, VG_FAILED);
    cr_assert_eq(vg_tap_find(&tap, "s::crash")->status, VG_FAILED);
    cr_assert_eq(vg_tap_find(&tap, "s::flaky")->status, VG_FAILED);
    cr_assert(vg_tap_find(&tap, "02-b::(grading)"));
    cr_assert(strstr(text, "ok 3 - s::skip # SKIP needs /dev/kvm\n"), "%s",
              text);
    cr_assert(strstr(text, "  points: 2\n  max_points: 2\n"));
    cr_assert(strstr(text, "  status: \"timed out\"\n"));
    cr_assert(strstr(text, "  message: \"failed: t.c:3: Assertion failed: a "
                           "\\\"quoted\\\" 'word' <b>&amp; ]]> x|y\\\\z #1"),
              "%s", text);
    cr_assert(strstr(text, "# Total: 2/10.5 points\n"));
    vg_tap_free(&tap);
    free(text);
}

Test(tap, description_escapes_hash_and_backslash)
{
    struct vg_result r = {0};
    struct vg_lab lab;
    char *text;

    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "A"));
    add(&lab, (struct vg_test){.id = "a#b\\c d", .status = VG_PASSED});
    vl_assert_ok(vg_result_add_lab(&r, &lab));
    text = print_to_string(vg_tapout_print, &r);
    cr_assert(strstr(text, "ok 1 - a\\#b\\\\c_d\n"), "%s", text);
    free(text);
    vg_result_free(&r);
}

/* Perl's TAP::Parser (Debian's perl, `prove`): the counts it finds and
 * any parse error, for the file at path. */
#define PERL_TAP                                                               \
    "perl -MTAP::Parser -e '"                                                  \
    "my $p = TAP::Parser->new({exec => [\"cat\", $ARGV[0]]});"                 \
    "my $yaml = 0;"                                                            \
    "while (my $r = $p->next) { $yaml++ if $r->is_yaml }"                      \
    "printf \"planned %%d passed %%d failed %%d skipped %%d yaml %%d errors "  \
    "%%s\\n\", $p->tests_planned, scalar($p->passed), scalar($p->failed),"     \
    "scalar($p->skipped), $yaml, join(\"|\", $p->parse_errors);' %s"

Test(tap, perl_tap_parser_agrees)
{
    char *dir, *path, *text, *cmd, *out;
    struct vg_result r;
    int status;

    if (system("perl -MTAP::Parser -e 1 2>/dev/null") != 0)
        cr_skip_test("no perl with TAP::Parser (Debian: perl)");
    dir = tu_tempdir();
    fixture(&r);
    text = print_to_string(vg_tapout_print, &r);
    vg_result_free(&r);
    /* Debian 12's TAP::Parser (3.44) refuses versions above 13; TAP 14 is
     * made to be read by TAP 13 harnesses, so only the version line goes. */
    cr_assert_eq(strncmp(text, "TAP version 14\n", 15), 0);
    memcpy(text + 12, "13", 2);
    tu_write(dir, "report.tap", text);
    path = vg_strfmt("%s/report.tap", dir);
    cmd = vg_strfmt(PERL_TAP, path);
    out = run(cmd, &status);
    cr_assert_eq(status, 0, "%s", out);
    /* 8 points; ok: pass, skip, extra; skip; one YAML block each. */
    cr_assert_str_eq(out, "planned 8 passed 3 failed 5 skipped 1 yaml 8 "
                          "errors \n");
    free(out);
    free(cmd);
    free(path);
    free(text);
    tu_rmdir(dir);
}

/* ---- GitHub Classroom ------------------------------------------------ */

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    cr_assert(s, "no string %s", key);
    return s;
}

static double jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    cr_assert(json_is_number(v), "no number %s", key);
    return json_number_value(v);
}

static json_t *find_test(json_t *tests, const char *name)
{
    size_t i;
    json_t *t;

    json_array_foreach(tests, i, t)
    {
        if (strcmp(jstr(t, "name"), name) == 0)
            return t;
    }
    cr_assert_fail("no test %s", name);
    return NULL;
}

Test(classroom, runner_result_has_the_reporters_shape)
{
    struct vg_result r;
    json_t *root, *tests, *t;
    double sum = 0;
    size_t i;

    fixture(&r);
    root = vg_classroom_json(&r);
    cr_assert(root);
    cr_assert_eq(json_integer_value(json_object_get(root, "version")), 1);
    cr_assert_str_eq(jstr(root, "status"), "fail");
    cr_assert_float_eq(jnum(root, "max_score"), 10.5, 1e-9);
    tests = json_object_get(root, "tests");
    cr_assert_eq(json_array_size(tests), 7, "6 rubric tests + lab 02");
    json_array_foreach(tests, i, t)
    {
        const char *st = jstr(t, "status");

        cr_assert(strcmp(st, "pass") == 0 || strcmp(st, "fail") == 0 ||
                      strcmp(st, "error") == 0,
                  "status %s", st);
        jstr(t, "message");
        jstr(t, "test_code");
        jstr(t, "filename");
        cr_assert(json_is_integer(json_object_get(t, "line_no")));
        cr_assert(json_is_integer(json_object_get(t, "duration")));
        sum += jnum(t, "score");
    }
    cr_assert_float_eq(sum, vg_result_points(&r), 1e-9,
                       "the reporter sums the tests' scores");
    cr_assert_str_eq(jstr(find_test(tests, "01 s::pass"), "status"), "pass");
    cr_assert_str_eq(jstr(find_test(tests, "01 s::fail"), "status"), "fail");
    cr_assert_str_eq(jstr(find_test(tests, "01 s::flaky"), "status"), "fail");
    cr_assert_str_eq(jstr(find_test(tests, "01 s::crash"), "status"), "error");
    cr_assert_str_eq(jstr(find_test(tests, "01 s::skip"), "status"), "error");
    cr_assert(
        strstr(jstr(find_test(tests, "01 s::fail"), "message"), "<b>&amp;"));
    cr_assert_str_eq(jstr(find_test(tests, "02 (grading)"), "status"), "error");
    json_decref(root);
    vg_result_free(&r);
}

Test(classroom, full_score_passes_and_points_line_reads_right)
{
    struct vg_result r = {0};
    struct vg_lab lab;
    json_t *root;
    char *text;

    vl_assert_ok(vg_lab_init(&lab, "01", "01-a", "A"));
    tu_add_test(&lab, "s::a", VG_PASSED, 2.5, NULL);
    tu_add_test(&lab, "s::b", VG_PASSED, 4, NULL);
    vl_assert_ok(vg_result_add_lab(&r, &lab));
    root = vg_classroom_json(&r);
    cr_assert_str_eq(jstr(root, "status"), "pass");
    json_decref(root);
    text = print_to_string(vg_classroom_points_line, &r);
    cr_assert_str_eq(text, "Points 6.5/6.5\n");
    free(text);
    vg_result_free(&r);
}

static void classroom_writes(struct vg_result *r, const char *what)
{
    char *dir = tu_tempdir();
    char *path = vg_strfmt("%s/c.json", dir);
    json_error_t err;
    json_t *back;

    vl_assert_ok(vg_classroom_write(r, path));
    back = json_load_file(path, 0, &err);
    cr_assert(back, "%s: %s", what, err.text);
    json_decref(back);
    free(path);
    tu_rmdir(dir);
}

Test(classroom, any_result_writes_valid_json)
{
    each_fixture(classroom_writes);
}

/* ---- Markdown ---------------------------------------------------------- */

/* Cells of a table row: "|" not preceded by "\". */
static int cells(const char *line)
{
    int n = 0;

    for (const char *p = line; *p && *p != '\n'; p++)
        n += *p == '|' && (p == line || p[-1] != '\\');
    return n - 1;
}

Test(markdown, tables_stay_tables_with_hostile_text)
{
    struct vg_result r;
    struct vg_lab lab;
    char *text;

    fixture(&r);
    vl_assert_ok(vg_lab_init(&lab, "03", "03-c", "x|y\nz"));
    add(&lab, (struct vg_test){.id = "s::a|b\nc",
                               .description = HOSTILE,
                               .status = VG_FAILED,
                               .hint = "h|i\nj <script>",
                               .in_rubric = true,
                               .max_points = 1});
    vl_assert_ok(vg_result_add_lab(&r, &lab));
    text = print_to_string(vg_markdown_print, &r);
    cr_assert(strstr(text, "## vlab-grade: 2/11.5 points\n"), "%s", text);
    /* Every row keeps its columns: 3 in the overview, 4 per lab. */
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (line[0] == '|')
            cr_assert(cells(line) == 3 || cells(line) == 4,
                      "row with %d cells: %.*s", cells(line),
                      (int)strcspn(line, "\n"), line);
    cr_assert(strstr(text, "s::a\\|b<br>c"), "%s", text);
    cr_assert(strstr(text, "h\\|i<br>j &lt;script&gt;"));
    cr_assert(strstr(text, "| ❌ failed | 0/3 |"));
    cr_assert(strstr(text, "| ⚪ skipped (environment) | 0/1.5 |"));
    /* The details fence is longer than the ```` in the message. */
    cr_assert(strstr(text, "`````text\nfailed: t.c:3"), "%s", text);
    free(text);
    vg_result_free(&r);
}

Test(markdown, bare_option_appends_to_the_job_summary)
{
    char *dir = tu_tempdir();
    char *path = vg_strfmt("%s/summary.md", dir);
    struct vg_outputs o = {0};
    struct vg_result r;
    char *text;

    fixture(&r);
    tu_write(dir, "summary.md", "earlier step\n");
    setenv("GITHUB_STEP_SUMMARY", path, 1);
    vl_assert_ok(vg_outputs_parse(&o, VG_OPT_MARKDOWN, NULL));
    vl_assert_ok(vg_outputs_check(&o, NULL));
    vl_assert_ok(vg_outputs_write(&r, &o));
    text = tu_read(dir, "summary.md");
    cr_assert(strncmp(text, "earlier step\n## vlab-grade:", 27) == 0, "%s",
              text);
    free(text);
    unsetenv("GITHUB_STEP_SUMMARY");
    cr_assert_lt(vg_outputs_check(&o, NULL), 0);
    cr_assert(strstr(vl_errmsg(), "GITHUB_STEP_SUMMARY"));
    vg_result_free(&r);
    free(path);
    tu_rmdir(dir);
}

static void markdown_prints(struct vg_result *r, const char *what)
{
    char *text = print_to_string(vg_markdown_print, r);

    cr_assert(strstr(text, "## vlab-grade: "), "%s", what);
    cr_assert_lt(strlen(text), 64 * 1024, "%s: capped", what);
    free(text);
}

Test(markdown, any_result_prints)
{
    each_fixture(markdown_prints);
}

/* ---- Autolab ----------------------------------------------------------- */

static void autolab_line(struct vg_result *r, const char *what)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    json_error_t err;
    json_t *root, *board;

    vl_assert_ok(vg_autolab_print(f, r));
    fclose(f);
    cr_assert(len > 0 && text[len - 1] == '\n', "%s", what);
    cr_assert_eq(strchr(text, '\n'), text + len - 1, "%s: one line", what);
    root = json_loads(text, 0, &err);
    cr_assert(root, "%s: %s", what, err.text);
    cr_assert(json_is_object(json_object_get(root, "scores")));
    board = json_object_get(root, "scoreboard");
    cr_assert_eq(json_array_size(board), r->nlabs + 1, "%s", what);
    cr_assert_float_eq(json_number_value(json_array_get(board, 0)),
                       vg_result_points(r), 1e-9);
    json_decref(root);
    free(text);
}

Test(autolab, one_line_of_json_whatever_the_result)
{
    each_fixture(autolab_line);
}

Test(autolab, scores_per_lab_slug_and_total_first)
{
    struct vg_result r;
    json_t *root;

    fixture(&r);
    root = vg_autolab_json(&r);
    cr_assert(json_is_integer(
        json_object_get(json_object_get(root, "scores"), "01-a")));
    cr_assert_eq(json_integer_value(
                     json_object_get(json_object_get(root, "scores"), "01-a")),
                 2);
    cr_assert_eq(json_integer_value(
                     json_object_get(json_object_get(root, "scores"), "02-b")),
                 0);
    cr_assert_eq(json_integer_value(
                     json_array_get(json_object_get(root, "scoreboard"), 0)),
                 2);
    json_decref(root);
    vg_result_free(&r);
}

Test(autolab, autoresult_is_the_last_line_after_the_points_line)
{
    struct vg_outputs o = {.autolab = true, .classroom = "/dev/null"};
    struct vg_result r;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    fixture(&r);
    vl_assert_ok(vg_outputs_last_lines(f, &r, &o));
    fclose(f);
    cr_assert(strncmp(text, "Points 2/10.5\n{\"scores\": ", 14) == 0, "%s",
              text);
    cr_assert(strstr(text, "\n{\"scores\":"), "%s", text);
    free(text);
    vg_result_free(&r);
}

/* ---- Gradescope (the rest is in gradescope_test.c) ----------------------- */

static void gradescope_builds(struct vg_result *r, const char *what)
{
    json_t *root = vg_gradescope_json(r);

    cr_assert(root, "%s: results.json not built", what);
    json_decref(root);
}

Test(gradescope_formats, any_result_builds)
{
    each_fixture(gradescope_builds);
}

Test(gradescope_formats, visibility_and_leaderboard)
{
    struct vg_result r;
    struct vg_gradescope_opts o = {.leaderboard = true};
    json_t *root, *tests, *t;
    size_t i;
    bool saw_hidden = false;

    fixture(&r);
    root = vg_gradescope_json(&r);
    cr_assert_null(json_object_get(root, "leaderboard"), "only when asked");
    cr_assert_str_eq(jstr(root, "stdout_visibility"), "hidden",
                     "a hidden test's result must not leak through stdout");
    tests = json_object_get(root, "tests");
    json_array_foreach(tests, i, t)
    {
        if (strstr(jstr(t, "name"), "s::flaky")) {
            cr_assert_str_eq(jstr(t, "visibility"), "hidden");
            cr_assert_str_eq(jstr(t, "status"), "failed");
            cr_assert(strstr(jstr(t, "output"), "flaky"));
            saw_hidden = true;
        }
    }
    cr_assert(saw_hidden);
    cr_assert_str_eq(
        jstr(json_object_get(root, "extra_data"), "submission_commit"),
        "abc123");
    json_decref(root);
    root = vg_gradescope_json_opts(&r, &o);
    cr_assert_eq(json_array_size(json_object_get(root, "leaderboard")), 2);
    json_decref(root);
    cr_assert_str_eq(vg_gradescope_visibility(VG_AFTER_DUE_DATE),
                     "after_due_date");
    cr_assert_str_eq(vg_gradescope_visibility(VG_AFTER_PUBLISHED),
                     "after_published");
    cr_assert_str_eq(vg_gradescope_visibility(VG_VISIBLE), "visible");
    vg_result_free(&r);
}
