/*
 * security_test.c - the tests of lab 13, in the order of the TODOs.
 *
 * The capability tests call your mct_caps_decide() directly, then run
 * minictr (built from your security.c and the reference of every other
 * lab) and read /proc/self/status of a process in the container
 * (`vlab-probe caps`). The seccomp tests run minictr with the default
 * profile or with small profiles written here, and let `vlab-probe try`
 * attempt system calls from inside: it prints NAME=ok or NAME=<errno>.
 * The profile-error tests call mct_seccomp_build() directly.
 */
#include "mct_test.h"

#include <linux/capability.h>
#include <seccomp.h>

static void remove_profiles(void);

TestSuite(security, .fini = remove_profiles, .timeout = 60);

#define RUN_SEC 20

/* ---- helpers ------------------------------------------------------------- */

/* Docker's default set without CAP_NET_RAW and CAP_MKNOD (README, step
 * 2). */
static const int default_caps[] = {
    CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FSETID,
    CAP_FOWNER,     CAP_SETGID,       CAP_SETUID,
    CAP_SETFCAP,    CAP_SETPCAP,      CAP_NET_BIND_SERVICE,
    CAP_SYS_CHROOT, CAP_KILL,         CAP_AUDIT_WRITE,
};

static uint64_t default_mask(void)
{
    uint64_t m = 0;

    for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
        m |= 1ull << default_caps[i];
    return m;
}

static uint64_t all_mask(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int last = 40;

    cr_assert_not_null(f, "/proc/sys/kernel/cap_last_cap: %s", strerror(errno));
    cr_assert_eq(fscanf(f, "%d", &last), 1);
    fclose(f);
    return last >= 63 ? ~0ull : (1ull << (last + 1)) - 1;
}

/* Our own bounding set: a container can only have less. */
static uint64_t host_bounding(void)
{
    char line[256];
    uint64_t bnd = 0;
    FILE *f = fopen("/proc/self/status", "re");

    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "CapBnd:", 7))
            bnd = strtoull(line + 7, NULL, 16);
    fclose(f);
    return bnd;
}

/* mct_caps_decide() for --cap-add add --cap-drop drop: its return value. */
static int decide(struct minictr *ct, const char *add, const char *drop)
{
    struct mct_options opt;
    char *argv[] = {"/bin/true", NULL};

    mct_test_options(&opt, argv);
    opt.cap_add = add;
    opt.cap_drop = drop;
    mct_init_struct(ct, &opt);
    vl_err_clear();
    return mct_caps_decide(ct);
}

static void assert_caps_eq(uint64_t got, uint64_t want, const char *what)
{
    cr_assert_eq(
        got, want, "%s: got %#llx, want %#llx (extra %#llx, missing %#llx)",
        what, (unsigned long long)got, (unsigned long long)want,
        (unsigned long long)(got & ~want), (unsigned long long)(want & ~got));
}

/* The value of key in a probe's output as a hex mask. */
static uint64_t kv_hex(const char *out, const char *key)
{
    char *v = mct_kv(out, key);
    uint64_t m;

    cr_assert_not_null(v, "vlab-probe printed no %s= in:\n%s", key, out);
    m = strtoull(v, NULL, 16);
    free(v);
    return m;
}

static void assert_kv(const char *out, const char *key, const char *want)
{
    char *v = mct_kv(out, key);

    cr_assert_not_null(v, "vlab-probe printed no %s= in:\n%s", key, out);
    cr_assert_str_eq(v, want, "%s=%s, want %s; all it printed:\n%s", key, v,
                     want, out);
    free(v);
}

/* The profiles a test wrote: removed after it, also when it failed. */
#define MAX_PROFILES 4
static char profiles[MAX_PROFILES][PATH_MAX];
static int nprofiles;

static void remove_profiles(void)
{
    for (int i = 0; i < nprofiles; i++)
        unlink(profiles[i]);
    nprofiles = 0;
}

/* A profile in a temp file (path: PATH_MAX bytes), removed after the test
 * (or before, with unlink). */
static void write_profile(char *path, const char *json)
{
    int fd;

    snprintf(path, PATH_MAX, "/tmp/mct-seccomp-XXXXXX");
    fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
    cr_assert(nprofiles < MAX_PROFILES, "too many profiles");
    snprintf(profiles[nprofiles++], PATH_MAX, "%s", path);
    cr_assert_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
}

/* minictr run [opts...] -- /bin/vlab-probe try ATTEMPTS, as an argv. */
#define TRY(r, ...) mct_run_cli(r, RUN_SEC, __VA_ARGS__, NULL)

/* ---- TODO 1-2: choosing the capabilities --------------------------------- */

Test(security, default_capability_set)
{
    struct minictr ct;

    cr_assert_eq(decide(&ct, NULL, NULL), 0, "mct_caps_decide: %s",
                 vl_errmsg());
    cr_assert(ct.caps_set, "ct->caps_set must be true");
    assert_caps_eq(ct.caps.bounding, default_mask(), "bounding set");
    assert_caps_eq(ct.caps.permitted, default_mask(), "permitted set");
    assert_caps_eq(ct.caps.effective, default_mask(), "effective set");
    assert_caps_eq(ct.caps.inheritable, 0, "inheritable set (keep it empty)");
    assert_caps_eq(ct.caps.ambient, 0, "ambient set");
    cr_assert(!(ct.caps.bounding >> CAP_NET_RAW & 1),
              "CAP_NET_RAW must not be in the default set (README step 2)");
    cr_assert(ct.no_new_privs, "ct->no_new_privs must be on");
}

Test(security, cap_names_in_any_case_with_or_without_prefix)
{
    struct minictr ct;
    uint64_t want =
        (default_mask() & ~(1ull << CAP_CHOWN | 1ull << CAP_MKNOD)) |
        1ull << CAP_NET_ADMIN | 1ull << CAP_SYS_TIME | 1ull << CAP_SYS_NICE;

    cr_assert_eq(
        decide(&ct, "net_admin, CAP_SYS_TIME,Sys_Nice", "CAP_CHOWN,mknod"), 0,
        "--cap-add net_admin,CAP_SYS_TIME,Sys_Nice --cap-drop "
        "CAP_CHOWN,mknod: %s",
        vl_errmsg());
    assert_caps_eq(ct.caps.bounding, want, "bounding set");
    assert_caps_eq(ct.caps.effective, want, "effective set");
    assert_caps_eq(ct.caps.permitted, want, "permitted set");
}

Test(security, cap_add_and_drop_all)
{
    struct minictr ct;
    uint64_t all = all_mask();

    cr_assert_eq(decide(&ct, "ALL", "sys_admin"), 0, "%s", vl_errmsg());
    assert_caps_eq(ct.caps.bounding, all & ~(1ull << CAP_SYS_ADMIN),
                   "--cap-add ALL --cap-drop SYS_ADMIN");
    cr_assert_eq(decide(&ct, "chown", "all"), 0, "%s", vl_errmsg());
    assert_caps_eq(ct.caps.bounding, 1ull << CAP_CHOWN,
                   "--cap-drop all --cap-add chown");
    cr_assert_eq(decide(&ct, NULL, "ALL"), 0, "%s", vl_errmsg());
    assert_caps_eq(ct.caps.bounding, 0, "--cap-drop ALL");
    assert_caps_eq(ct.caps.effective, 0, "--cap-drop ALL (effective)");
}

Test(security, unknown_capability_is_refused)
{
    static const char *bad[] = {"FOO", "CAP_", "12", "chown;ls",
                                "CAP_SYS_ADMINX"};
    struct mct_result r;
    struct minictr ct;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char list[64];

        snprintf(list, sizeof(list), "chown,%s", bad[i]);
        cr_assert_eq(decide(&ct, list, NULL), -EINVAL,
                     "--cap-add %s must be -EINVAL (%s)", list, vl_errmsg());
        cr_assert(strstr(vl_errmsg(), bad[i]) &&
                      strstr(vl_errmsg(), "--cap-add"),
                  "the error must name --cap-add and \"%s\": %s", bad[i],
                  vl_errmsg());
        cr_assert(strstr(vl_errmsg(), "capabilities(7)") ||
                      strstr(vl_errmsg(), "capsh"),
                  "the error must say where the valid names are (man 7 "
                  "capabilities, capsh --print): %s",
                  vl_errmsg());
    }
    cr_assert_eq(decide(&ct, NULL, "NET_FOO"), -EINVAL, "--cap-drop NET_FOO");
    cr_assert(strstr(vl_errmsg(), "--cap-drop"), "%s", vl_errmsg());

    mct_require_root();
    mct_require_built();
    mct_run_cli(&r, RUN_SEC, "--cap-drop", "CHOWN,BOGUS", "--", "/bin/true",
                NULL);
    cr_assert_eq(r.status, 125, "minictr --cap-drop CHOWN,BOGUS: status %d\n%s",
                 r.status, r.err);
    cr_assert(strstr(r.err, "BOGUS"), "the error must name BOGUS:\n%s", r.err);
    mct_result_free(&r);
}

/* ---- TODO 3: applying them ----------------------------------------------- */

Test(security, container_gets_the_default_set)
{
    uint64_t want = default_mask() & host_bounding();
    struct mct_snapshot snap;
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    mct_snapshot(&snap);
    TRY(&r, "--", "/bin/vlab-probe", "caps");
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_caps_eq(kv_hex(r.out, "cap_bnd"), want, "CapBnd in the container");
    assert_caps_eq(kv_hex(r.out, "cap_prm"), want, "CapPrm in the container");
    assert_caps_eq(kv_hex(r.out, "cap_eff"), want, "CapEff in the container");
    assert_caps_eq(kv_hex(r.out, "cap_inh"), 0, "CapInh in the container");
    assert_caps_eq(kv_hex(r.out, "cap_amb"), 0, "CapAmb in the container");
    assert_kv(r.out, "no_new_privs", "1");
    mct_assert_no_leftovers(&snap, &r, NULL);
    mct_result_free(&r);
}

Test(security, cap_add_and_drop_are_visible_inside)
{
    uint64_t want =
        ((default_mask() & ~(1ull << CAP_SETPCAP | 1ull << CAP_CHOWN)) |
         1ull << CAP_SYS_TIME) &
        host_bounding();
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    /* Without CAP_SETPCAP, the bounding set must be dropped first. */
    TRY(&r, "--cap-drop", "SETPCAP,chown", "--cap-add", "sys_time", "--",
        "/bin/vlab-probe", "caps");
    cr_assert_eq(r.status, 0,
                 "--cap-drop SETPCAP,chown --cap-add sys_time: status %d\n%s%s",
                 r.status, r.out, r.err);
    assert_caps_eq(kv_hex(r.out, "cap_bnd"), want, "CapBnd");
    assert_caps_eq(kv_hex(r.out, "cap_eff"), want, "CapEff");
    assert_caps_eq(kv_hex(r.out, "cap_prm"), want, "CapPrm");
    mct_result_free(&r);

    TRY(&r, "--cap-drop", "ALL", "--", "/bin/vlab-probe", "caps");
    cr_assert_eq(r.status, 0, "--cap-drop ALL: status %d\n%s%s", r.status,
                 r.out, r.err);
    assert_caps_eq(kv_hex(r.out, "cap_bnd"), 0, "CapBnd with --cap-drop ALL");
    assert_caps_eq(kv_hex(r.out, "cap_eff"), 0, "CapEff with --cap-drop ALL");
    mct_result_free(&r);
}

Test(security, no_new_privs_even_without_seccomp)
{
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    TRY(&r, "--seccomp", "unconfined", "--", "/bin/vlab-probe", "caps");
    cr_assert_eq(r.status, 0, "--seccomp unconfined: status %d\n%s%s", r.status,
                 r.out, r.err);
    assert_kv(r.out, "no_new_privs", "1");
    assert_kv(r.out, "seccomp", "0");
    assert_caps_eq(kv_hex(r.out, "cap_eff"), default_mask() & host_bounding(),
                   "CapEff with --seccomp unconfined");
    mct_result_free(&r);
}

/* ---- TODOs 4-8: seccomp -------------------------------------------------- */

Test(security, dangerous_calls_are_refused)
{
    static const char *refused[] = {"mount",  "unshare-user", "unshare-mnt",
                                    "keyctl", "ptrace",       "raw-socket",
                                    "module", "reboot",       "bpf"};
    struct mct_snapshot snap;
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    mct_snapshot(&snap);
    TRY(&r, "--", "/bin/sh", "-c",
        "/bin/vlab-probe caps && /bin/vlab-probe try mount unshare-user "
        "unshare-mnt keyctl ptrace raw-socket module reboot bpf chown "
        "personality");
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "seccomp", "2");
    assert_kv(r.out, "no_new_privs", "1");
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_kv(r.out, refused[i], "EPERM");
    /* What the default set and profile still allow. */
    assert_kv(r.out, "chown", "ok");
    assert_kv(r.out, "personality", "ok");
    mct_assert_no_leftovers(&snap, &r, NULL);
    mct_result_free(&r);
}

Test(security, ordinary_programs_still_work)
{
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    TRY(&r, "--", "/bin/sh", "-c",
        "ls / >/dev/null && echo hello | cat && ls /bin | grep vlab && "
        "(sleep 0.1 & wait $!) && date >/dev/null && kill -0 $$ && "
        "ps >/dev/null && /bin/vlab-probe env >/dev/null && "
        "/bin/vlab-probe try personality:8 && /bin/vlab-probe caps");
    cr_assert_eq(r.status, 0,
                 "busybox and vlab-probe under the default "
                 "profile: status %d\n%s%s",
                 r.status, r.out, r.err);
    cr_assert(strstr(r.out, "hello\n") && strstr(r.out, "vlab-probe\n"), "%s",
              r.out);
    assert_kv(r.out, "personality:8", "ok"); /* PER_LINUX32 is allowed */
    assert_kv(r.out, "seccomp", "2");
    mct_result_free(&r);
}

Test(security, capabilities_choose_the_rules)
{
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    /* "includes": {"caps": ["CAP_SYS_PTRACE"]} in the default profile */
    TRY(&r, "--cap-add", "SYS_PTRACE", "--", "/bin/vlab-probe", "try", "ptrace",
        "mount", "keyctl");
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "ptrace", "ok");
    assert_kv(r.out, "mount", "EPERM");
    assert_kv(r.out, "keyctl", "EPERM");
    mct_result_free(&r);
    TRY(&r, "--cap-add", "SYS_ADMIN", "--", "/bin/vlab-probe", "try", "mount",
        "unshare-mnt", "ptrace", "keyctl");
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "mount", "ok");
    assert_kv(r.out, "unshare-mnt", "ok");
    assert_kv(r.out, "ptrace", "EPERM");
    assert_kv(r.out, "keyctl", "EPERM"); /* never allowed */
    mct_result_free(&r);
}

Test(security, errno_and_log_actions)
{
    char prof[PATH_MAX];
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    write_profile(
        prof, "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
              " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\","
              "  \"errnoRet\": 42},"
              " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_LOG\"},"
              " {\"names\": [\"add_key\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
    TRY(&r, "--seccomp", prof, "--", "/bin/vlab-probe", "try", "getppid",
        "personality", "keyctl", "chown");
    unlink(prof);
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "getppid", "ENOMSG"); /* errno 42 */
    assert_kv(r.out, "personality", "ok");
    assert_kv(r.out, "keyctl", "EPERM"); /* ERRNO without errnoRet */
    assert_kv(r.out, "chown", "ok");
    mct_result_free(&r);
}

Test(security, kill_action_kills_the_command)
{
    char prof[PATH_MAX];
    struct mct_snapshot snap;
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    mct_snapshot(&snap);
    write_profile(
        prof,
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
        " {\"names\": [\"getppid\"], \"action\": "
        "\"SCMP_ACT_KILL_PROCESS\"},"
        " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_KILL\"}]}");
    TRY(&r, "--seccomp", prof, "--", "/bin/vlab-probe", "try", "personality",
        "chown");
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "personality", "killed:SYS");
    assert_kv(r.out, "chown", "ok");
    mct_result_free(&r);
    TRY(&r, "--seccomp", prof, "--", "/bin/vlab-probe", "try", "--here",
        "getppid");
    unlink(prof);
    cr_assert_eq(r.status, 128 + SIGSYS,
                 "a command killed by seccomp: status %d, want %d (128 + "
                 "SIGSYS)\n%s%s",
                 r.status, 128 + SIGSYS, r.out, r.err);
    cr_assert_null(strstr(r.out, "getppid="), "getppid returned:\n%s", r.out);
    mct_assert_no_leftovers(&snap, &r, NULL);
    mct_result_free(&r);
}

Test(security, argument_conditions)
{
    char prof[PATH_MAX];
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    /* personality 8 or 0x400000 (the same index twice: OR); unshare with
     * the CLONE_NEWUSER bit (MASKED_EQ: (arg & value) == valueTwo). */
    write_profile(
        prof,
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
        " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\","
        "  \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},"
        "            {\"index\": 0, \"value\": 4194304, \"op\": "
        "\"SCMP_CMP_EQ\"}]},"
        " {\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ERRNO\","
        "  \"errnoRet\": 13, \"args\": [{\"index\": 0, \"value\": "
        "268435456, \"valueTwo\": 268435456, \"op\": "
        "\"SCMP_CMP_MASKED_EQ\"}]},"
        " {\"names\": [\"fchown\"], \"action\": \"SCMP_ACT_ERRNO\","
        "  \"errnoRet\": 42, \"args\": [{\"index\": 1, \"value\": 1, "
        "\"op\": \"SCMP_CMP_EQ\"}, {\"index\": 2, \"value\": 2, "
        "\"op\": \"SCMP_CMP_EQ\"}]}]}");
    TRY(&r, "--seccomp", prof, "--cap-add", "SYS_ADMIN", "--",
        "/bin/vlab-probe", "try", "personality", "personality:8",
        "personality:0x400000", "personality:0", "unshare-user", "unshare-mnt",
        "chown");
    unlink(prof);
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "personality", "ok");
    assert_kv(r.out, "personality:8", "EPERM");
    assert_kv(r.out, "personality:0x400000", "EPERM");
    assert_kv(r.out, "personality:0", "ok");
    assert_kv(r.out, "unshare-user", "EACCES");
    assert_kv(r.out, "unshare-mnt", "ok");
    /* fchown(fd, 1, 1): index 1 and 2 both must match (AND): no match */
    assert_kv(r.out, "chown", "ok");
    mct_result_free(&r);
}

Test(security, includes_and_excludes)
{
    char prof[PATH_MAX];
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    write_profile(
        prof,
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
        " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\","
        "  \"errnoRet\": 42, \"includes\": {\"caps\": [\"CAP_SYS_TIME\"]}},"
        " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\","
        "  \"errnoRet\": 43, \"excludes\": {\"caps\": [\"chown\"]}},"
        " {\"names\": [\"add_key\"], \"action\": \"SCMP_ACT_ERRNO\","
        "  \"errnoRet\": 44, \"includes\": {\"arches\": [\"amd64\", "
        "\"arm64\", \"riscv64\", \"SCMP_ARCH_X86\", \"arm\", "
        "\"ppc64le\", \"s390x\"]}},"
        " {\"names\": [\"memfd_create\"], \"action\": \"SCMP_ACT_ERRNO\","
        "  \"errnoRet\": 45, \"excludes\": {\"arches\": [\"amd64\", "
        "\"arm64\", \"riscv64\", \"SCMP_ARCH_X86\", \"arm\", "
        "\"ppc64le\", \"s390x\"]}}]}");
    TRY(&r, "--seccomp", prof, "--", "/bin/vlab-probe", "try", "getppid",
        "personality", "keyctl", "chown");
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "getppid", "ok");     /* no CAP_SYS_TIME: not included */
    assert_kv(r.out, "personality", "ok"); /* CAP_CHOWN: excluded */
    assert_kv(r.out, "keyctl", "ECHRNG");  /* this arch: included (44) */
    assert_kv(r.out, "chown", "ok");       /* this arch: excluded */
    mct_result_free(&r);
    TRY(&r, "--seccomp", prof, "--cap-add", "sys_time", "--cap-drop", "CHOWN",
        "--", "/bin/vlab-probe", "try", "getppid", "personality");
    unlink(prof);
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "getppid", "ENOMSG");    /* 42 */
    assert_kv(r.out, "personality", "EIDRM"); /* 43 */
    mct_result_free(&r);
}

Test(security, unconfined_means_no_filter)
{
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    TRY(&r, "--seccomp", "unconfined", "--", "/bin/sh", "-c",
        "/bin/vlab-probe caps; /bin/vlab-probe try keyctl");
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "seccomp", "0");
    /* No capability needed: only seccomp refuses it. (Not unshare-user:
     * some distributions restrict user namespaces by other means.) */
    assert_kv(r.out, "keyctl", "ok");
    mct_result_free(&r);
}

Test(security, unknown_syscall_names_are_skipped)
{
    char prof[PATH_MAX];
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    write_profile(prof,
                  "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                  " {\"names\": [\"vlab_no_such_call\", \"getppid\"],"
                  "  \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42}]}");
    TRY(&r, "--seccomp", prof, "--", "/bin/vlab-probe", "try", "getppid");
    unlink(prof);
    cr_assert_eq(r.status, 0,
                 "a name unknown here must be skipped: status "
                 "%d\n%s%s",
                 r.status, r.out, r.err);
    assert_kv(r.out, "getppid", "ENOMSG");
    mct_result_free(&r);
}

Test(security, default_profile_from_the_environment)
{
    char prof[PATH_MAX];
    struct mct_result r;

    mct_require_root();
    mct_require_built();
    write_profile(prof,
                  "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                  " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\","
                  "  \"errnoRet\": 42}]}");
    setenv("MINICTR_SECCOMP_PROFILE", prof, 1);
    TRY(&r, "--", "/bin/vlab-probe", "try", "getppid", "keyctl");
    unsetenv("MINICTR_SECCOMP_PROFILE");
    unlink(prof);
    cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
    assert_kv(r.out, "getppid", "ENOMSG");
    assert_kv(r.out, "keyctl", "ok");
    mct_result_free(&r);
}

/* mct_seccomp_build() of json: its return value; the filter is freed. */
static int build(const char *json, int *optimize)
{
    struct minictr ct;
    json_error_t jerr;
    json_t *p = json_loads(json, 0, &jerr);
    int r;

    cr_assert_not_null(p, "test profile: %s", jerr.text);
    mct_init_struct(&ct, NULL);
    ct.caps_set = true; /* as TODO 2 would decide */
    ct.caps.bounding = ct.caps.permitted = ct.caps.effective = default_mask();
    vl_err_clear();
    r = mct_seccomp_build(&ct, p, "test.json");
    if (r == 0) {
        cr_assert_not_null(ct.seccomp, "mct_seccomp_build returned 0 and "
                                       "no filter");
        if (optimize) {
            uint32_t v = 0;

            seccomp_attr_get(ct.seccomp, SCMP_FLTATR_CTL_OPTIMIZE, &v);
            *optimize = (int)v;
        }
    }
    mct_seccomp_release(&ct);
    json_decref(p);
    return r;
}

/* The profile must be refused with an error naming each needle. */
static void assert_refused(const char *json, const char *n1, const char *n2)
{
    int r = build(json, NULL);

    cr_assert_eq(r, -EINVAL, "mct_seccomp_build(%s): %d, want -EINVAL (%s)",
                 json, r, vl_errmsg());
    cr_assert(strstr(vl_errmsg(), "test.json"),
              "the error must name the profile (test.json): %s", vl_errmsg());
    cr_assert(strstr(vl_errmsg(), n1) && (!n2 || strstr(vl_errmsg(), n2)),
              "profile %s: the error must name %s%s%s: %s", json, n1,
              n2 ? " and " : "", n2 ? n2 : "", vl_errmsg());
}

Test(security, bad_profiles_name_the_json_path)
{
    struct mct_result r;
    char prof[PATH_MAX];

    assert_refused("[]", "not a JSON object", NULL);
    assert_refused("{\"syscalls\": []}", "defaultAction", NULL);
    assert_refused("{\"defaultAction\": \"SCMP_ACT_NOPE\"}", "defaultAction",
                   "SCMP_ACT_NOPE");
    assert_refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                   "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_FOO\"}]}",
                   "syscalls[0].action", "SCMP_ACT_FOO");
    assert_refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                   "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"},"
                   "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\","
                   " \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
                   "\"SCMP_CMP_FOO\"}]}]}",
                   "syscalls[1].args[0].op", "SCMP_CMP_FOO");
    assert_refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                   "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\","
                   " \"args\": [{\"index\": 6, \"value\": 1, \"op\": "
                   "\"SCMP_CMP_EQ\"}]}]}",
                   "syscalls[0].args[0].index", NULL);
    assert_refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                   "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\","
                   " \"includes\": {\"caps\": [\"CAP_FOO\"]}}]}",
                   "syscalls[0].includes.caps[0]", "CAP_FOO");
    assert_refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                   "{\"action\": \"SCMP_ACT_ERRNO\"}]}",
                   "syscalls[0].names", NULL);
    assert_refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", "
                   "\"defaultErrnoRet\": \"x\"}",
                   "errnoRet", NULL);

    /* The same through minictr: 125, the file and the JSON path. */
    mct_require_root();
    mct_require_built();
    write_profile(prof,
                  "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                  "[{\"names\": [\"getppid\"], \"action\": "
                  "\"SCMP_ACT_ERRNO\"}, {\"names\": [\"getpid\"], "
                  "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": "
                  "0, \"value\": 1, \"op\": \"SCMP_CMP_FOO\"}]}]}");
    TRY(&r, "--seccomp", prof, "--", "/bin/true");
    cr_assert_eq(r.status, 125, "a bad profile: status %d\n%s", r.status,
                 r.err);
    cr_assert(strstr(r.err, prof) && strstr(r.err, "syscalls[1].args[0].op"),
              "the error must name %s and syscalls[1].args[0].op:\n%s", prof,
              r.err);
    mct_result_free(&r);
    /* Not JSON at all: file:line:column. */
    write_profile(prof, "{\"defaultAction\":\n  }");
    TRY(&r, "--seccomp", prof, "--", "/bin/true");
    unlink(prof);
    cr_assert_eq(r.status, 125, "a profile that is not JSON: status %d\n%s",
                 r.status, r.err);
    cr_assert(strstr(r.err, prof) && strstr(r.err, ":2:"),
              "the error must name the file and line 2:\n%s", r.err);
    mct_result_free(&r);
}

Test(security, optimize_asks_for_a_binary_tree)
{
    int opt = -1;

    cr_assert_eq(
        build("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"optimize\": 2,"
              " \"syscalls\": [{\"names\": [\"read\", \"write\", "
              "\"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
              &opt),
        0, "%s", vl_errmsg());
    cr_assert_eq(opt, 2,
                 "\"optimize\": 2 must set SCMP_FLTATR_CTL_OPTIMIZE "
                 "to 2, it is %d",
                 opt);
    cr_assert_eq(build("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": "
                       "[{\"names\": [\"read\"], \"action\": "
                       "\"SCMP_ACT_ALLOW\"}]}",
                       &opt),
                 0, "%s", vl_errmsg());
    cr_assert_eq(opt, 1,
                 "without \"optimize\" the filter stays as written "
                 "(1), it is %d",
                 opt);
}
