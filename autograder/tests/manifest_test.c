/* manifest_test.c - loading and validating lab manifests. */
#include <jansson.h>

#include "testutil.h"
#include "hints.h"
#include "manifest.h"

static const char valid[] =
    "{\"lab\": \"01\", \"slug\": \"01-kvm-basics\", \"title\": \"KVM basics\","
    " \"program\": \"minivm\", \"stage_files\": [\"vm.c\"],"
    " \"tests\": [\"tests/kvm_basics_test.c\"], \"guests\": \"guest\","
    " \"timeout_sec\": 300, \"rubric\": ["
    "  {\"test\": \"kvm_basics::opens_dev_kvm\", \"points\": 2,"
    "   \"description\": \"opens /dev/kvm\"},"
    "  {\"test\": \"kvm_basics::runs\", \"points\": 0.5,"
    "   \"description\": \"runs\"}]}";

/* The valid manifest with `key` set to the JSON `value` (NULL: removed). */
static char *variant(const char *key, const char *value)
{
    json_t *root = json_loads(valid, 0, NULL);
    char *text;

    cr_assert(root);
    if (value)
        json_object_set_new(root, key,
                            json_loads(value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(root, key);
    text = json_dumps(root, 0);
    json_decref(root);
    cr_assert(text);
    return text;
}

/* Load text as ROOT/autograder/labs/<dirname>/lab.json. */
static int load_text(const char *text, const char *dirname,
                     struct vg_manifest *m)
{
    char *root = tu_tempdir();
    char *rel = vg_strfmt("autograder/labs/%s/lab.json", dirname);
    char *path = vg_strfmt("%s/%s", root, rel);
    int ret;

    tu_write(root, rel, text);
    ret = vg_manifest_load(m, path, dirname);
    free(rel);
    free(path);
    tu_rmdir(root);
    return ret;
}

/* The variant must fail with -EINVAL, naming the file and `needle`. */
static void assert_rejected(const char *key, const char *value,
                            const char *needle)
{
    char *text = variant(key, value);
    struct vg_manifest m;
    int ret;

    vl_err_clear();
    ret = load_text(text, "01-kvm-basics", &m);
    cr_assert_eq(ret, -EINVAL, "%s = %s was accepted", key,
                 value ? value : "(absent)");
    cr_assert(strstr(vl_errmsg(), "01-kvm-basics/lab.json: "),
              "message names no file: %s", vl_errmsg());
    cr_assert(strstr(vl_errmsg(), needle), "message \"%s\" lacks \"%s\"",
              vl_errmsg(), needle);
    free(text);
}

Test(manifest, valid_manifest_loads_every_field)
{
    struct vg_manifest m;

    vl_assert_ok(load_text(valid, "01-kvm-basics", &m));
    cr_assert_str_eq(m.lab, "01");
    cr_assert_str_eq(m.slug, "01-kvm-basics");
    cr_assert_str_eq(m.title, "KVM basics");
    cr_assert_str_eq(m.program, "minivm");
    cr_assert_eq(m.nstage_files, 1);
    cr_assert_str_eq(m.stage_files[0], "vm.c");
    cr_assert_eq(m.ntests, 1);
    cr_assert_str_eq(m.tests[0], "tests/kvm_basics_test.c");
    cr_assert_str_eq(m.guests, "guest");
    cr_assert_eq(m.timeout_sec, 300);
    cr_assert_eq(m.nrubric, 2);
    cr_assert_str_eq(m.rubric[1].test, "kvm_basics::runs");
    cr_assert_float_eq(m.rubric[1].points, 0.5, 1e-9);
    cr_assert_str_eq(m.rubric[0].description, "opens /dev/kvm");
    cr_assert(vg_manifest_rubric_item(&m, "kvm_basics::runs"));
    cr_assert_null(vg_manifest_rubric_item(&m, "kvm_basics::nope"));
    vg_manifest_free(&m);
}

Test(manifest, guests_are_optional)
{
    char *text = variant("guests", NULL);
    struct vg_manifest m;

    vl_assert_ok(load_text(text, "01-kvm-basics", &m));
    cr_assert_null(m.guests);
    vg_manifest_free(&m);
    free(text);
}

Test(manifest, missing_fields_are_named)
{
    assert_rejected("timeout_sec", NULL, "timeout_sec: missing");
    assert_rejected("title", NULL, "title: missing");
    assert_rejected("rubric", NULL, "rubric: must be");
    assert_rejected("stage_files", NULL, "stage_files: must be");
}

Test(manifest, wrong_types_and_values_are_named)
{
    assert_rejected("timeout_sec", "\"300\"", "timeout_sec: must be");
    assert_rejected("timeout_sec", "0", "timeout_sec: must be");
    assert_rejected("timeout_sec", "99999", "timeout_sec: must be");
    assert_rejected("lab", "\"one\"", "lab: ");
    assert_rejected("program", "\"Mini VM\"", "program: ");
    assert_rejected("stage_files", "[]", "stage_files: must be");
    assert_rejected("tests", "[\"tests/x_test.h\"]", "tests: entry 0");
}

Test(manifest, slug_must_match_number_and_folder)
{
    assert_rejected("slug", "\"02-kvm-basics\"", "slug: ");
    assert_rejected("slug", "\"01-KVM\"", "slug: ");
    assert_rejected("slug", "\"01-other\"", "differs from its folder");
}

Test(manifest, paths_cannot_leave_their_folder)
{
    assert_rejected("stage_files", "[\"../vm.c\"]", "stage_files: entry 0");
    assert_rejected("stage_files", "[\"sub/vm.c\"]", "stage_files: entry 0");
    assert_rejected("stage_files", "[\".hidden.c\"]", "stage_files: entry 0");
    assert_rejected("tests", "[\"/etc/x_test.c\"]", "tests: entry 0");
    assert_rejected("tests", "[\"tests/../../x_test.c\"]", "tests: entry 0");
    assert_rejected("guests", "\"../guest\"", "guests: ");
}

Test(manifest, duplicates_are_refused)
{
    assert_rejected("stage_files", "[\"vm.c\", \"vm.c\"]", "listed twice");
    assert_rejected("rubric",
                    "[{\"test\": \"s::a\", \"points\": 1, \"description\": "
                    "\"a\"}, {\"test\": \"s::a\", \"points\": 2, "
                    "\"description\": \"b\"}]",
                    "rubric: test \"s::a\" is listed twice");
}

Test(manifest, rubric_items_are_checked)
{
    assert_rejected("rubric",
                    "[{\"test\": \"s::a\", \"points\": 0, "
                    "\"description\": \"a\"}]",
                    "rubric[0]: points");
    assert_rejected("rubric",
                    "[{\"test\": \"s::a\", \"points\": -1, "
                    "\"description\": \"a\"}]",
                    "rubric[0]: points");
    assert_rejected("rubric",
                    "[{\"test\": \"no_colons\", \"points\": 1, "
                    "\"description\": \"a\"}]",
                    "rubric[0]: test");
    assert_rejected("rubric", "[{\"test\": \"s::a\", \"points\": 1}]",
                    "rubric[0]");
    assert_rejected("rubric",
                    "[{\"test\": \"s::a\", \"points\": 1, "
                    "\"description\": \"a\", \"hidden\": true}]",
                    "rubric[0]: unknown field \"hidden\"");
    assert_rejected("rubric", "[\"s::a\"]", "rubric[0]: must be an object");
}

Test(manifest, unknown_top_level_field_is_refused)
{
    assert_rejected("timout_sec", "300", "unknown field \"timout_sec\"");
}

Test(manifest, broken_json_names_line_and_column)
{
    struct vg_manifest m;

    vl_err_clear();
    cr_assert_eq(load_text("{\"lab\": \"01\",\n  oops}", "01-x", &m), -EINVAL);
    cr_assert(strstr(vl_errmsg(), "01-x/lab.json:2:"), "%s", vl_errmsg());
}

Test(manifest, duplicate_json_keys_are_refused)
{
    struct vg_manifest m;

    cr_assert_eq(load_text("{\"lab\": \"01\", \"lab\": \"02\"}", "01-x", &m),
                 -EINVAL);
    cr_assert(strstr(vl_errmsg(), "duplicate"), "%s", vl_errmsg());
}

/* ---- every manifest of a tree --------------------------------------- */

/* A manifest for lab `num` of `program`, as its own folder in root. */
static void write_lab(const char *root, const char *num, const char *slug,
                      const char *program)
{
    char *rel = vg_strfmt("autograder/labs/%s/lab.json", slug);
    char *text = vg_strfmt(
        "{\"lab\": \"%s\", \"slug\": \"%s\", \"title\": \"T\", \"program\": "
        "\"%s\", \"stage_files\": [\"a.c\"], \"tests\": [\"tests/a_test.c\"],"
        " \"timeout_sec\": 10, \"rubric\": [{\"test\": \"s::a\", \"points\": "
        "1, \"description\": \"a\"}]}",
        num, slug, program);

    tu_write(root, rel, text);
    free(rel);
    free(text);
}

Test(manifests, loads_every_lab_sorted_and_finds_them)
{
    char *root = tu_tempdir();
    struct vg_manifests all;

    write_lab(root, "09", "09-ns", "minictr");
    write_lab(root, "01", "01-kvm", "minivm");
    tu_write(root, "autograder/labs/README.md", "not a lab");
    vl_assert_ok(vg_manifests_load(&all, root));
    cr_assert_eq(all.n, 2);
    cr_assert_str_eq(all.labs[0].slug, "01-kvm");
    cr_assert_str_eq(all.labs[1].slug, "09-ns");
    cr_assert_eq(vg_manifests_find(&all, "01"), &all.labs[0]);
    cr_assert_eq(vg_manifests_find(&all, "1"), &all.labs[0]);
    cr_assert_eq(vg_manifests_find(&all, "09-ns"), &all.labs[1]);
    cr_assert_null(vg_manifests_find(&all, "02"));
    cr_assert_null(vg_manifests_find(&all, "kvm"));
    vg_manifests_free(&all);
    tu_rmdir(root);
}

Test(manifests, folder_without_manifest_is_an_error)
{
    char *root = tu_tempdir();
    struct vg_manifests all;

    write_lab(root, "01", "01-kvm", "minivm");
    tu_mkdir(root, "autograder/labs/02-empty");
    cr_assert_lt(vg_manifests_load(&all, root), 0);
    cr_assert(strstr(vl_errmsg(), "02-empty/lab.json"), "%s", vl_errmsg());
    tu_rmdir(root);
}

Test(manifests, lab_numbers_are_unique)
{
    char *root = tu_tempdir();
    struct vg_manifests all;

    write_lab(root, "01", "01-kvm", "minivm");
    write_lab(root, "01", "01-again", "minivm");
    cr_assert_eq(vg_manifests_load(&all, root), -EINVAL);
    cr_assert(strstr(vl_errmsg(), "number 01 is also used"), "%s", vl_errmsg());
    tu_rmdir(root);
}

Test(manifests, empty_tree_is_an_error)
{
    char *root = tu_tempdir();
    struct vg_manifests all;

    tu_mkdir(root, "autograder");
    tu_mkdir(root, "autograder/labs");
    cr_assert_eq(vg_manifests_load(&all, root), -ENOENT);
    cr_assert(strstr(vl_errmsg(), "no lab manifests"));
    tu_rmdir(root);
}

/* ---- visibility and hints (issue 5) --------------------------------- */

/* One rubric item with the extra members `more` (JSON, after a comma). */
static char *rubric_with(const char *more)
{
    return vg_strfmt("[{\"test\": \"kvm_basics::opens_dev_kvm\", \"points\": "
                     "2, \"description\": \"opens\"%s%s}]",
                     more ? ", " : "", more ? more : "");
}

Test(manifest, visibility_takes_gradescopes_four_names)
{
    static const char *const names[] = {"visible", "hidden", "after_due_date",
                                        "after_published"};
    static const enum vg_visibility want[] = {
        VG_VISIBLE, VG_HIDDEN, VG_AFTER_DUE_DATE, VG_AFTER_PUBLISHED};

    for (size_t i = 0; i < 4; i++) {
        char *more = vg_strfmt("\"visibility\": \"%s\"", names[i]);
        char *rubric = rubric_with(more);
        char *text = variant("rubric", rubric);
        struct vg_manifest m;

        vl_assert_ok(load_text(text, "01-kvm-basics", &m));
        cr_assert_eq(m.rubric[0].visibility, want[i], "%s", names[i]);
        cr_assert_str_eq(vg_visibility_name(want[i]), names[i]);
        cr_assert_not(m.rubric[0].extra);
        vg_manifest_free(&m);
        free(text);
        free(rubric);
        free(more);
    }
}

Test(manifest, visibility_defaults_to_visible)
{
    struct vg_manifest m;

    vl_assert_ok(load_text(valid, "01-kvm-basics", &m));
    cr_assert_eq(m.rubric[0].visibility, VG_VISIBLE);
    cr_assert_eq(m.nhints, 0);
    vg_manifest_free(&m);
}

Test(manifest, bad_visibility_is_named)
{
    static const char *const bad[] = {
        "\"visibility\": \"Hidden\"", "\"visibility\": \"after_due\"",
        "\"visibility\": true", "\"visibility\": \"\""};

    for (size_t i = 0; i < 4; i++) {
        char *rubric = rubric_with(bad[i]);

        assert_rejected("rubric", rubric,
                        "rubric[0]: visibility must be \"visible\", "
                        "\"hidden\", \"after_due_date\" or "
                        "\"after_published\"");
        free(rubric);
    }
}

Test(manifest, hints_of_every_kind_load_in_order)
{
    char *text = variant(
        "hints", "[{\"on\": \"signal:SIGSEGV\", \"hint\": \"h1\"},"
                 " {\"on\": \"exit:KVM_EXIT_SHUTDOWN\", \"hint\": \"h2\","
                 "  \"tests\": [\"kvm_basics::runs\", \"kvm_basics::open*\"]},"
                 " {\"on\": \"errno:ENOSYS\", \"hint\": \"h3\"},"
                 " {\"on\": \"timeout\", \"hint\": \"h4\"},"
                 " {\"on\": \"crash\", \"hint\": \"h5\"},"
                 " {\"on\": \"text:a: b\", \"hint\": \"h6\"}]");
    struct vg_manifest m;

    vl_assert_ok(load_text(text, "01-kvm-basics", &m));
    cr_assert_eq(m.nhints, 6);
    cr_assert_eq(m.hints[0].kind, VG_HINT_SIGNAL);
    cr_assert_str_eq(m.hints[0].needles[0], "SIGSEGV");
    cr_assert_str_eq(m.hints[0].needles[1], "Segmentation fault");
    cr_assert_eq(m.hints[1].kind, VG_HINT_EXIT);
    cr_assert_eq(m.hints[1].ntests, 2);
    cr_assert_eq(m.hints[2].kind, VG_HINT_ERRNO);
    cr_assert_str_eq(m.hints[2].needles[0], "ENOSYS");
    cr_assert_str_eq(m.hints[2].needles[2], "returned -38");
    cr_assert_eq(m.hints[3].kind, VG_HINT_TIMEOUT);
    cr_assert_eq(m.hints[4].kind, VG_HINT_CRASH);
    cr_assert_eq(m.hints[5].kind, VG_HINT_TEXT);
    cr_assert_str_eq(m.hints[5].needles[0], "a: b");
    cr_assert_str_eq(m.hints[5].hint, "h6");
    vg_manifest_free(&m);
    free(text);
}

Test(manifest, bad_hints_are_named)
{
    assert_rejected("hints", "{}", "hints: must be an array");
    assert_rejected("hints", "[\"x\"]", "hints[0]: must be an object");
    assert_rejected("hints", "[{\"hint\": \"h\"}]", "hints[0]: on: missing");
    assert_rejected("hints", "[{\"on\": \"timeout\"}]",
                    "hints[0]: hint: must be a non-empty string");
    assert_rejected("hints",
                    "[{\"on\": \"timeout\", \"hint\": \"h\", "
                    "\"when\": 1}]",
                    "hints[0]: unknown field \"when\"");
    assert_rejected("hints", "[{\"on\": \"segfault\", \"hint\": \"h\"}]",
                    "hints[0]: on: \"segfault\" is not a signature");
    assert_rejected("hints", "[{\"on\": \"signal:SEGV\", \"hint\": \"h\"}]",
                    "\"SEGV\" is not a signal name");
    assert_rejected("hints", "[{\"on\": \"errno:ENOPE\", \"hint\": \"h\"}]",
                    "\"ENOPE\" is not an errno name");
    assert_rejected("hints", "[{\"on\": \"exit:SHUTDOWN\", \"hint\": \"h\"}]",
                    "\"SHUTDOWN\" is not a KVM exit reason");
    assert_rejected("hints", "[{\"on\": \"text:\", \"hint\": \"h\"}]",
                    "\"text:\" is not a signature");
    assert_rejected("hints",
                    "[{\"on\": \"timeout\", \"hint\": \"h\"}, "
                    "{\"on\": \"crash\", \"hint\": \"h\", \"tests\": []}]",
                    "hints[1]: tests: must be a non-empty array");
    assert_rejected("hints",
                    "[{\"on\": \"timeout\", \"hint\": \"h\", "
                    "\"tests\": [\"kvm_basics::nope\"]}]",
                    "hints[0]: tests[0]: \"kvm_basics::nope\" is not a test "
                    "of the rubric");
}
