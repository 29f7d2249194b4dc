/*
 * doctor_test.c - the doctor tells the truth about this machine.
 *
 * Each fact the doctor reports is checked against an independent probe made
 * here (statfs(2), /proc/cgroups, a direct unshare(2) in a child), so a
 * doctor that guesses or hard-codes fails.
 */
#define _GNU_SOURCE
#include "helpers.h"
#include "virtlab/doctor.h"

#include <dirent.h>
#include <jansson.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

static const char *const all_ids[] = {
    "system.kernel",
    "system.user",
    "kvm.device",
    "kvm.api",
    "kvm.speed",
    "ns.user",
    "ns.pid",
    "ns.mount",
    "ns.net",
    "ns.uts",
    "ns.ipc",
    "cgroup.version",
    "cgroup.controllers",
    "seccomp.filter",
    "overlay.fs",
    "overlay.mount",
};
#define NIDS (sizeof(all_ids) / sizeof(all_ids[0]))

static struct vl_doctor_report report;

static void run_doctor(void)
{
    vl_assert_ok(vl_doctor_run(&report));
}

Test(doctor, reports_every_check_once)
{
    run_doctor();
    cr_assert_eq(report.nchecks, (int)NIDS, "%d checks, expected %zu",
                 report.nchecks, NIDS);
    for (size_t i = 0; i < NIDS; i++) {
        int seen = 0;

        for (int j = 0; j < report.nchecks; j++)
            seen += strcmp(report.checks[j].id, all_ids[i]) == 0;
        cr_assert_eq(seen, 1, "check %s appears %d times", all_ids[i], seen);
        cr_assert_not_null(vl_doctor_find(&report, all_ids[i]));
    }
    cr_assert_null(vl_doctor_find(&report, "no.such.check"));
}

Test(doctor, explains_every_check_that_is_not_ok)
{
    run_doctor();
    for (int i = 0; i < report.nchecks; i++) {
        const struct vl_check *c = &report.checks[i];

        cr_assert(c->summary[0], "%s has no summary", c->id);
        if (c->status == VL_CHECK_WARN || c->status == VL_CHECK_FAIL)
            cr_assert(c->hint[0], "%s is %s but gives no hint", c->id,
                      vl_check_status_name(c->status));
        if (c->status == VL_CHECK_OK)
            cr_assert_eq(c->hint[0], '\0', "%s is ok but hints \"%s\"", c->id,
                         c->hint);
    }
}

Test(doctor, names_statuses_as_the_json_does)
{
    cr_assert_str_eq(vl_check_status_name(VL_CHECK_OK), "ok");
    cr_assert_str_eq(vl_check_status_name(VL_CHECK_WARN), "warn");
    cr_assert_str_eq(vl_check_status_name(VL_CHECK_FAIL), "fail");
    cr_assert_str_eq(vl_check_status_name(VL_CHECK_SKIP), "skip");
    cr_assert_str_eq(vl_kvm_speed_name(VL_KVM_SPEED_EMULATED), "emulated");
    cr_assert_str_eq(vl_kvm_speed_name(VL_KVM_SPEED_HARDWARE), "hardware");
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *get(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    cr_assert_not_null(v, "JSON has no \"%s\"", key);
    return v;
}

static void assert_bool(json_t *obj, const char *key)
{
    cr_assert(json_is_boolean(get(obj, key)), "\"%s\" is not a boolean", key);
}

static json_t *to_json(void)
{
    char *text = NULL;
    json_error_t jerr;
    json_t *root;

    vl_assert_ok(vl_doctor_to_json(&report, &text));
    root = json_loads(text, 0, &jerr);
    cr_assert_not_null(root, "JSON does not parse: %s (line %d)\n%s", jerr.text,
                       jerr.line, text);
    free(text);
    return root;
}

Test(doctor, json_parses_back_with_the_documented_keys)
{
    struct utsname u;
    json_t *root, *checks, *facts, *cg, *ns, *sum;
    size_t i;
    json_t *v;

    run_doctor();
    root = to_json();
    cr_assert_eq(json_integer_value(get(root, "version")), 1);

    checks = get(root, "checks");
    cr_assert(json_is_array(checks));
    cr_assert_eq(json_array_size(checks), (size_t)report.nchecks);
    json_array_foreach(checks, i, v)
    {
        const char *st = json_string_value(get(v, "status"));

        cr_assert_str_eq(json_string_value(get(v, "id")), report.checks[i].id);
        cr_assert(json_is_string(get(v, "summary")));
        cr_assert(json_is_string(get(v, "hint")));
        cr_assert_str_eq(st, vl_check_status_name(report.checks[i].status));
    }
    sum = get(root, "summary");
    cr_assert_eq(json_integer_value(get(sum, "ok")) +
                     json_integer_value(get(sum, "warn")) +
                     json_integer_value(get(sum, "fail")) +
                     json_integer_value(get(sum, "skip")),
                 report.nchecks);

    facts = get(root, "facts");
    uname(&u);
    cr_assert_str_eq(json_string_value(get(facts, "kernel")), u.release);
    cr_assert(json_equal(get(facts, "root"), json_boolean(geteuid() == 0)));
    assert_bool(facts, "kvm");
    cr_assert_eq(json_is_true(get(facts, "kvm")), report.kvm_usable);
    if (report.kvm_usable) {
        cr_assert_eq(json_integer_value(get(facts, "kvm_api")), 12);
        cr_assert(json_is_string(get(facts, "kvm_speed")));
        cr_assert(json_is_real(get(facts, "ns_per_insn")));
        cr_assert(json_is_real(get(facts, "us_per_exit")));
    }

    ns = get(facts, "namespaces");
    for (int k = 0; k < VL_DOCTOR_NS_COUNT; k++) {
        const char *name = vl_doctor_ns_name((enum vl_doctor_ns)k);

        assert_bool(ns, name);
        cr_assert_eq(json_is_true(get(ns, name)), report.ns[k], "ns %s", name);
        assert_bool(get(facts, "namespaces_rootless"), name);
    }

    cg = get(facts, "cgroup");
    cr_assert_eq(json_integer_value(get(cg, "version")), report.cgroup.version);
    assert_bool(cg, "hybrid");
    assert_bool(cg, "writable");
    cr_assert(json_is_array(get(cg, "controllers")));
    json_array_foreach(get(cg, "controllers"), i, v)
    {
        cr_assert(json_is_string(v));
        cr_assert(vl_cgroup_has(&report.cgroup, json_string_value(v)));
    }
    cr_assert(json_is_array(get(cg, "v2_controllers")));

    assert_bool(facts, "seccomp");
    cr_assert(json_is_array(get(facts, "seccomp_actions")));
    assert_bool(facts, "overlayfs");
    v = get(facts, "overlayfs_mount");
    cr_assert(json_is_boolean(v) || json_is_null(v));
    json_decref(root);
}

Test(doctor, explains_a_missing_kvm_device_and_skips_what_needs_it)
{
    json_t *root, *facts;

    vl_doctor_init(&report);
    vl_assert_ok(vl_doctor_check_kvm(&report, "/nonexistent/kvm"));
    cr_assert_eq(vl_doctor_find(&report, "kvm.device")->status, VL_CHECK_FAIL);
    cr_assert(strstr(vl_doctor_find(&report, "kvm.device")->hint, "modprobe"),
              "hint for ENOENT should say how to load KVM, got \"%s\"",
              vl_doctor_find(&report, "kvm.device")->hint);
    cr_assert_eq(vl_doctor_find(&report, "kvm.api")->status, VL_CHECK_SKIP);
    cr_assert_eq(vl_doctor_find(&report, "kvm.speed")->status, VL_CHECK_SKIP);
    cr_assert_not(report.kvm_usable);

    root = to_json();
    facts = get(root, "facts");
    cr_assert(json_is_false(get(facts, "kvm")));
    cr_assert(json_is_null(get(facts, "kvm_api")));
    cr_assert(json_is_null(get(facts, "kvm_speed")));
    cr_assert(json_is_null(get(facts, "ns_per_insn")));
    json_decref(root);
}

/* ---- KVM ------------------------------------------------------------- */

Test(doctor, finds_api_version_12)
{
    vl_require_kvm();
    vl_doctor_init(&report);
    vl_assert_ok(vl_doctor_check_kvm(&report, NULL));
    cr_assert(report.kvm_usable);
    cr_assert_eq(report.kvm_api, 12);
    cr_assert_eq(vl_doctor_find(&report, "kvm.api")->status, VL_CHECK_OK);
    cr_assert_neq(vl_doctor_find(&report, "kvm.speed")->status, VL_CHECK_FAIL,
                  "%s", vl_doctor_find(&report, "kvm.speed")->summary);
}

static double wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

Test(doctor, measures_a_positive_guest_speed)
{
    struct vl_kvm_speed_sample s;
    double t0, wall, per_exit_run, loop_insns;

    vl_require_kvm();
    t0 = wall_ns();
    vl_assert_ok(vl_doctor_measure_speed(NULL, &s));
    wall = wall_ns() - t0;
    cr_assert_gt(s.ns_per_insn, 0.0);
    cr_assert_gt(s.us_per_exit, 0.0);
    cr_assert_gt(s.loop_iters, 0);
    cr_assert_gt(s.exits, 0);

    /* The timings happened within this call... */
    cr_assert_gt(s.loop_ns, 0);
    cr_assert_lt((double)(s.loop_ns + s.exits_ns), wall,
                 "timed %.0f ns of guest runs in a call of %.0f ns",
                 (double)(s.loop_ns + s.exits_ns), wall);
    /* ...and the figures follow from them: the loop run is one exit plus
     * 2 instructions (dec, jnz) per extra iteration. */
    per_exit_run = (double)s.exits_ns / (double)s.exits;
    loop_insns = 2.0 * (double)s.loop_iters;
    cr_assert_float_eq(s.ns_per_insn * loop_insns + per_exit_run,
                       (double)s.loop_ns, 0.01 * (double)s.loop_ns,
                       "%.3f ns/insn x %.0f insns + %.0f ns != loop of "
                       "%llu ns",
                       s.ns_per_insn, loop_insns, per_exit_run,
                       (unsigned long long)s.loop_ns);
    /* A one-iteration run is one exit plus 5 instructions (jmp, mov, dec,
     * jnz, out). */
    cr_assert_float_eq(s.us_per_exit * 1000.0 + 5 * s.ns_per_insn, per_exit_run,
                       0.01 * per_exit_run,
                       "%.3f us/exit + 5 insns != a run of %.0f ns",
                       s.us_per_exit, per_exit_run);
    cr_assert_eq(s.speed,
                 s.ns_per_insn < VL_KVM_HW_NS_PER_INSN ? VL_KVM_SPEED_HARDWARE
                                                       : VL_KVM_SPEED_EMULATED,
                 "%.2f ns/insn classed as %s", s.ns_per_insn,
                 vl_kvm_speed_name(s.speed));
    cr_log_info("guest: %.2f ns/insn, %.2f us/exit (%s)", s.ns_per_insn,
                s.us_per_exit, vl_kvm_speed_name(s.speed));
}

Test(doctor, gives_a_kvm_failure_as_an_error)
{
    struct vl_kvm_speed_sample s;

    vl_assert_fails(vl_doctor_measure_speed("/nonexistent/kvm", &s), ENOENT,
                    "/nonexistent/kvm");
    cr_assert_eq(s.speed, VL_KVM_SPEED_UNKNOWN);
}

/* ---- cgroups --------------------------------------------------------- */

static bool fs_is(const char *path, long magic)
{
    struct statfs st;

    return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

Test(doctor, detects_the_cgroup_version_statfs_sees)
{
    struct vl_cgroup_info cg;

    vl_assert_ok(vl_cgroup_detect(&cg));
    if (fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
        cr_assert_eq(cg.version, 2);
        cr_assert_not(cg.hybrid);
        cr_assert_str_eq(cg.v2_mount, "/sys/fs/cgroup");
        return;
    }
    cr_assert(fs_is("/sys/fs/cgroup", TMPFS_MAGIC) || cg.version == 0,
              "/sys/fs/cgroup is neither cgroup2 nor a tmpfs");
    cr_assert_eq(cg.hybrid,
                 fs_is("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC) &&
                     cg.version == 1);
    if (cg.hybrid)
        cr_assert_str_eq(cg.v2_mount, "/sys/fs/cgroup/unified");
}

/* v1: a controller is mounted when /proc/cgroups gives it a hierarchy id
 * (cgroups(7), "/proc/cgroups"); each has its directory under
 * /sys/fs/cgroup. */
Test(doctor, lists_the_mounted_v1_controllers)
{
    struct vl_cgroup_info cg;
    FILE *f;
    char name[64];
    int hier, num, enabled, n = 0;

    vl_assert_ok(vl_cgroup_detect(&cg));
    if (cg.version != 1)
        cr_skip_test("cgroups here are v%d, not v1", cg.version);
    f = fopen("/proc/cgroups", "re");
    cr_assert_not_null(f);
    fscanf(f, "%*[^\n]\n"); /* header */
    while (fscanf(f, "%63s %d %d %d", name, &hier, &num, &enabled) == 4) {
        char dir[128];

        if (hier == 0 || !enabled)
            continue;
        n++;
        cr_assert(vl_cgroup_has(&cg, name),
                  "%s is mounted (hierarchy %d) but not in \"%s\"", name, hier,
                  cg.controllers);
        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s", name);
        cr_assert(fs_is(dir, CGROUP_SUPER_MAGIC), "%s is not a cgroup v1 fs",
                  dir);
    }
    fclose(f);
    cr_assert_gt(n, 0);
}

/* The cgroup2 tree's controllers, read here the plain way. */
static void read_controllers(const char *dir, char *buf, size_t len)
{
    char path[600];
    FILE *f;

    snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
    f = fopen(path, "re");
    cr_assert_not_null(f, "open %s", path);
    if (!fgets(buf, (int)len, f))
        buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

Test(doctor, lists_the_controllers_of_the_cgroup2_tree)
{
    struct vl_cgroup_info cg;
    char want[256], dir[512];

    vl_assert_ok(vl_cgroup_detect(&cg));
    if (!cg.v2_mount[0])
        cr_skip_test("no cgroup2 tree on this machine");
    snprintf(dir, sizeof(dir), "%s%s", cg.v2_mount,
             strcmp(cg.v2_path, "/") == 0 ? "" : cg.v2_path);
    read_controllers(dir, want, sizeof(want));
    cr_assert_str_eq(cg.version == 2 ? cg.controllers : cg.v2_controllers,
                     want);
}

/* ---- namespaces -------------------------------------------------------- */

/* unshare(flag) in a child, the plain way: does it work? */
static bool direct_unshare(int flag)
{
    int status;
    pid_t pid = fork();

    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(unshare(flag) == 0 ? 0 : 1);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Test(doctor, namespace_checks_agree_with_a_direct_unshare)
{
    vl_doctor_init(&report);
    vl_assert_ok(vl_doctor_check_namespaces(&report));
    for (int i = 0; i < VL_DOCTOR_NS_COUNT; i++) {
        const char *name = vl_doctor_ns_name((enum vl_doctor_ns)i);
        bool works = direct_unshare(vl_doctor_ns_flag((enum vl_doctor_ns)i));
        char id[32];

        snprintf(id, sizeof(id), "ns.%s", name);
        cr_assert_eq(report.ns[i], works, "%s: doctor says %d, unshare %d",
                     name, report.ns[i], works);
        if (!works)
            cr_assert_neq(vl_doctor_find(&report, id)->status, VL_CHECK_OK,
                          "%s cannot be created but the check is ok", id);
    }
}

Test(doctor, brings_back_the_error_of_a_failed_probe)
{
    /* CLONE_PARENT is not a flag unshare(2) knows: EINVAL in the child,
     * which must reach us with its message. */
    vl_assert_fails(vl_doctor_ns_probe(CLONE_PARENT, false), EINVAL, "unshare");
}

/* ---- no leaks -------------------------------------------------------- */

/* Entries in dir, "." and ".." left out. */
static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    cr_assert_not_null(d, "opendir %s", dir);
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

Test(doctor, leaks_no_fds_children_or_temp_dirs)
{
    char tmp[] = "/tmp/doctor-test-XXXXXX";
    int fds, status;

    /* A TMPDIR of this test's own: other tests of this binary run the
     * doctor in parallel workers, and their temp dirs must not count. */
    cr_assert_not_null(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
    fds = vl_count_fds();
    run_doctor();
    cr_assert_eq(vl_count_fds(), fds, "fds before %d, after %d", fds,
                 vl_count_fds());
    cr_assert_eq(count_entries(tmp), 0, "a temp dir is left in %s", tmp);
    rmdir(tmp);
    cr_assert_leq(waitpid(-1, &status, WNOHANG), 0,
                  "a probe child was left unreaped");
}
