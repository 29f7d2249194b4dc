/*
 * bundle_test.c - the tests of lab 16, part 1: an OCI bundle.
 *
 * Each test makes a bundle in a temp directory (/tmp/mct-bundle-XXXXXX):
 * a copy of the test rootfs (or a symlink to it, when nothing runs) and a
 * config.json the test writes. The parsing tests call your
 * mct_bundle_load() directly and look at struct minictr; the others run
 * the bundle - mct_bundle_load() and mct_run() in a child process, the
 * end of `minictr run --bundle` without part B's state directory - and
 * look at the container with vlab-probe. One test runs the real
 * `minictr run --bundle DIR ID` (labs 09-15 from the reference, part B
 * from your runtime.c).
 */
#include "mct_test.h"

#include <sys/capability.h>

static void setup(void);
static void teardown(void);

TestSuite(bundle, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---------------------------------------------------------------
 */

static char bundle_dir[PATH_MAX]; /* the bundle of this test */
static pid_t netns_holder = -1;   /* a process holding a netns to join */
static struct mct_snapshot before;

static void setup(void)
{
    mct_require_built();
    bundle_dir[0] = '\0';
    mct_snapshot(&before);
}

static void teardown(void)
{
    if (netns_holder > 0) {
        kill(netns_holder, SIGKILL);
        waitpid(netns_holder, NULL, 0);
        netns_holder = -1;
    }
    if (bundle_dir[0])
        mct_system(
            (char *[]){"rm", "-rf", "--one-file-system", bundle_dir, NULL});
}

/* A new bundle directory; its rootfs a copy of the test rootfs (copy), or
 * a symlink to it (for tests that only load the config). */
static void bundle_make(bool copy)
{
    char rootfs[PATH_MAX + 16], src[PATH_MAX + 16], abs[PATH_MAX];

    snprintf(bundle_dir, sizeof(bundle_dir), "/tmp/mct-bundle-XXXXXX");
    cr_assert_not_null(mkdtemp(bundle_dir), "mkdtemp: %s", strerror(errno));
    chmod(bundle_dir, 0755);
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle_dir);
    cr_assert_not_null(realpath(mct_rootfs(), abs), "realpath %s: %s",
                       mct_rootfs(), strerror(errno));
    if (!copy) {
        cr_assert_eq(symlink(abs, rootfs), 0, "symlink: %s", strerror(errno));
        return;
    }
    snprintf(src, sizeof(src), "%s/.", abs);
    cr_assert_eq(mkdir(rootfs, 0755), 0);
    cr_assert_eq(mct_system((char *[]){"cp", "-a", src, rootfs, NULL}), 0,
                 "cp -a %s %s failed", src, rootfs);
}

/* The smallest config minictr runs: vlab-probe env, as root, in new pid,
 * network, ipc, uts and mount namespaces, lab 10's default mounts. */
static json_t *config_base(void)
{
    json_t *c = json_pack(
        "{s:s, s:{s:[s,s], s:[s], s:s, s:{s:i, s:i}}, s:{s:s}, s:s,"
        " s:{s:[{s:s},{s:s},{s:s},{s:s},{s:s}]}}",
        "ociVersion", "1.2.0", "process", "args", "/bin/vlab-probe", "env",
        "env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "cwd", "/", "user", "uid",
        0, "gid", 0, "root", "path", "rootfs", "hostname", "bundle", "linux",
        "namespaces", "type", "pid", "type", "network", "type", "ipc", "type",
        "uts", "type", "mount");

    cr_assert_not_null(c, "json_pack");
    return c;
}

/* config[path] = value (a JSON text), path dotted ("process.user.uid");
 * missing objects on the way are created; value NULL deletes it. */
static void set(json_t *config, const char *path, const char *value)
{
    char buf[256], *key, *dot;
    json_t *o = config;

    snprintf(buf, sizeof(buf), "%s", path);
    key = buf;
    while ((dot = strchr(key, '.'))) {
        json_t *next;

        *dot = '\0';
        next = json_object_get(o, key);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(o, key, next);
        }
        o = next;
        key = dot + 1;
    }
    if (!value) {
        json_object_del(o, key);
        return;
    }
    json_error_t e;
    json_t *v = json_loads(value, JSON_DECODE_ANY, &e);

    cr_assert_not_null(v, "bad JSON in the test: %s: %s", value, e.text);
    json_object_set_new(o, key, v);
}

static void config_write(json_t *config)
{
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
    cr_assert_eq(json_dump_file(config, path, JSON_INDENT(2)), 0, "writing %s",
                 path);
    json_decref(config);
}

/* mct_bundle_load() of the bundle, in this process. */
static int load(struct minictr *ct)
{
    mct_init_struct(ct, NULL);
    ct->log = stderr;
    vl_err_clear();
    return mct_bundle_load(ct, bundle_dir);
}

/* Loading must fail with EINVAL and a message holding every needle. */
static void expect_load_error(json_t *config, const char *what, const char *n1,
                              const char *n2)
{
    struct minictr ct;
    int r;

    config_write(config);
    r = load(&ct);
    cr_expect_eq(r, -EINVAL,
                 "%s: mct_bundle_load returned %d (%s), expected "
                 "-EINVAL",
                 what, r, vl_errmsg());
    cr_expect(strstr(vl_errmsg(), n1) && (!n2 || strstr(vl_errmsg(), n2)),
              "%s: the error must name \"%s\"%s%s%s; it says: %s", what, n1,
              n2 ? " and say \"" : "", n2 ? n2 : "", n2 ? "\"" : "",
              vl_errmsg());
    mct_destroy(&ct);
}

/* `minictr run --bundle DIR ID`, killed after 30 s: the whole command
 * line, with part B's state directory (runtime.c). */
static void run_bundle_cli(struct mct_result *r)
{
    char id[64];

    snprintf(id, sizeof(id), "bundle-test-%d", (int)getpid());
    mct_cli(r, 30, "run", "--bundle", bundle_dir, id, NULL);
}

/*
 * The same run without part B: a child process of the test that does
 * what `minictr run --bundle` does in the end - mct_bundle_load(), then
 * mct_run() - with its stdout and stderr captured like minictr's. So
 * these tests need your bundle.c only, not runtime.c's TODOs.
 */
static void run_bundle(struct mct_result *r)
{
    struct mct_proc p = {.pid = -1, .fd = {-1, -1}};
    int out[2], err[2];

    prctl(PR_SET_CHILD_SUBREAPER, 1);
    cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0,
              "pipe2: %s", strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &p.start);
    fflush(NULL);
    p.pid = fork();
    cr_assert(p.pid >= 0, "fork: %s", strerror(errno));
    if (p.pid == 0) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct minictr ct;
        int st;

        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(null, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        mct_init_struct(&ct, NULL);
        if (mct_bundle_load(&ct, bundle_dir) < 0) {
            fprintf(stderr, "minictr: %s\n", vl_errmsg());
            _exit(MCT_EXIT_FAILED);
        }
        st = mct_run(&ct);
        if (st < 0) {
            fprintf(stderr, "minictr: %s\n", vl_errmsg());
            st = MCT_EXIT_FAILED;
        }
        mct_destroy(&ct);
        fflush(NULL);
        _exit(st);
    }
    close(out[1]);
    close(err[1]);
    p.fd[0] = out[0];
    p.fd[1] = err[0];
    for (int i = 0; i < 2; i++) {
        p.cap[i] = 4096;
        p.buf[i] = calloc(1, p.cap[i]);
        cr_assert_not_null(p.buf[i]);
    }
    mct_proc_finish(&p, r, 30);
}

/* Run, expect exit 0, check nothing is left. */
static void run_ok(struct mct_result *r)
{
    char rootfs[PATH_MAX + 16];

    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle_dir);
    run_bundle(r);
    cr_assert_eq(r->status, 0,
                 "minictr run --bundle exited %d\nstdout:\n%s\nstderr:\n%s",
                 r->status, r->out, r->err);
    mct_assert_no_leftovers(&before, r, rootfs);
}

static void expect_kv(const char *out, const char *key, const char *want)
{
    char *v = mct_kv(out, key);

    cr_expect(v && !strcmp(v, want), "%s=%s in the container, expected %s\n%s",
              key, v ? v : "(none)", want, out);
    free(v);
}

static uint64_t capbit(cap_value_t c)
{
    return 1ULL << c;
}

/* ---- TODOs 1-6: parsing ----------------------------------------------------
 */

Test(bundle, reads_the_process)
{
    struct minictr ct;
    json_t *c;
    int r;

    bundle_make(false);
    c = config_base();
    set(c, "process.args", "[\"/bin/sh\", \"-c\", \"echo hi\"]");
    set(c, "process.env", "[\"A=1\", \"PATH=/bin\", \"EMPTY=\"]");
    set(c, "process.cwd", "\"/tmp\"");
    set(c, "process.user",
        "{\"uid\": 1000, \"gid\": 100, "
        "\"additionalGids\": [5, 7, 4000]}");
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_assert_not_null(ct.opt.argv, "ct->opt.argv must be process.args");
    cr_expect_str_eq(ct.opt.argv[0], "/bin/sh");
    cr_expect_str_eq(ct.opt.argv[2], "echo hi");
    cr_expect_null(ct.opt.argv[3], "argv must end with NULL");
    cr_assert_not_null(ct.bundle.env, "process.env -> ct->bundle.env");
    cr_expect_str_eq(ct.bundle.env[0], "A=1");
    cr_expect_str_eq(ct.bundle.env[2], "EMPTY=");
    cr_expect_null(ct.bundle.env[3], "env must end with NULL");
    cr_expect_str_eq(ct.bundle.cwd, "/tmp");
    cr_expect_eq(ct.bundle.uid, 1000u, "process.user.uid 1000 -> %u",
                 (unsigned)ct.bundle.uid);
    cr_expect_eq(ct.bundle.gid, 100u, "process.user.gid 100 -> %u",
                 (unsigned)ct.bundle.gid);
    cr_assert_eq(ct.bundle.ngroups, 3u, "additionalGids: %zu groups, not 3",
                 ct.bundle.ngroups);
    cr_expect(ct.bundle.groups[0] == 5 && ct.bundle.groups[1] == 7 &&
                  ct.bundle.groups[2] == 4000,
              "additionalGids [5, 7, 4000] read wrong");
    mct_destroy(&ct);
}

Test(bundle, root_path_is_relative_to_the_bundle)
{
    char want[PATH_MAX];
    struct minictr ct;
    json_t *c;
    int r;

    bundle_make(false);
    cr_assert_not_null(realpath(mct_rootfs(), want));
    c = config_base();
    set(c, "root.readonly", "true");
    set(c, "hostname", "\"web-1\"");
    config_write(c);
    /* From another directory: "rootfs" is the bundle's, not ./rootfs. */
    cr_assert_eq(chdir("/"), 0);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_assert_not_null(ct.opt.rootfs, "ct->opt.rootfs must be root.path");
    cr_expect_str_eq(ct.opt.rootfs, want,
                     "root.path \"rootfs\" in %s is %s (the symlink "
                     "resolved), not %s",
                     bundle_dir, want, ct.opt.rootfs);
    cr_expect(ct.opt.readonly, "root.readonly true -> ct->opt.readonly");
    cr_expect(ct.opt.hostname && !strcmp(ct.opt.hostname, "web-1"),
              "hostname \"web-1\" -> ct->opt.hostname, got %s",
              ct.opt.hostname ? ct.opt.hostname : "NULL");
    mct_destroy(&ct);

    /* An absolute root.path is taken as it is; no hostname is NULL. */
    c = config_base();
    set(c, "root.path", "\"/tmp/../tmp\"");
    set(c, "hostname", NULL);
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_expect_str_eq(ct.opt.rootfs, "/tmp");
    cr_expect(!ct.opt.readonly, "no root.readonly: read-write");
    cr_expect_null(ct.opt.hostname, "no hostname in config.json: NULL");
    mct_destroy(&ct);
}

Test(bundle, namespaces_to_create_and_to_join)
{
    struct minictr ct;
    json_t *c;
    int r;

    bundle_make(false);
    c = config_base();
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"uts\"}, "
        "{\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}, "
        "{\"type\": \"cgroup\"}, {\"type\": \"ipc\", \"path\": "
        "\"/var/run/ipc\"}]");
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_expect_eq(ct.bundle.clone_flags,
                 CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWCGROUP,
                 "namespaces without a path: clone_flags %#llx, expected "
                 "CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWCGROUP (no pid: "
                 "shared; network and ipc: joined)",
                 (unsigned long long)ct.bundle.clone_flags);
    cr_assert_eq(ct.bundle.njoins, 2u, "2 namespaces to join, not %zu",
                 ct.bundle.njoins);
    cr_expect(ct.bundle.joins[0].flag == CLONE_NEWNET &&
                  !strcmp(ct.bundle.joins[0].path, "/proc/1/ns/net"),
              "joins[0] must be {CLONE_NEWNET, \"/proc/1/ns/net\"}");
    cr_expect(ct.bundle.joins[1].flag == CLONE_NEWIPC &&
                  !strcmp(ct.bundle.joins[1].path, "/var/run/ipc"),
              "joins[1] must be {CLONE_NEWIPC, \"/var/run/ipc\"}");
    cr_expect(ct.opt.host_net, "no NEW network namespace: opt.host_net");
    cr_expect(!ct.userns, "no user namespace listed: ct->userns false");
    mct_destroy(&ct);

    c = config_base();
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"network\"}, {\"type\": "
        "\"user\"}]");
    set(c, "linux.uidMappings",
        "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
    set(c, "linux.gidMappings",
        "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
    set(c, "hostname", NULL);
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_expect_eq(ct.bundle.clone_flags,
                 CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUSER);
    cr_expect(!ct.opt.host_net, "a new network namespace: !opt.host_net");
    cr_expect(ct.userns, "a new user namespace: ct->userns");
    cr_expect_eq(ct.bundle.njoins, 0u);
    mct_destroy(&ct);
}

Test(bundle, mount_options_become_flags_and_data)
{
    struct minictr ct;
    json_t *c;
    int r;

    bundle_make(false);
    c = config_base();
    set(c, "mounts",
        "[{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": "
        "\"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", "
        "\"size=65536k\"]},"
        "{\"destination\": \"/data\", \"source\": \"/srv\", \"options\": "
        "[\"rbind\", \"ro\", \"nodev\", \"rprivate\"]},"
        "{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": "
        "[\"ro\", \"noexec\", \"rw\", \"exec\", \"slave\"]},"
        "{\"destination\": \"/y\", \"type\": \"bind\", \"source\": \"d\"}]");
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_assert_eq(ct.bundle.nmounts, 4u);
    cr_expect_str_eq(ct.bundle.mounts[0].destination, "/dev");
    cr_expect_eq(ct.bundle.mounts[0].flags, MS_NOSUID | MS_STRICTATIME,
                 "[nosuid, strictatime, mode=755, size=65536k]: flags %#lx",
                 ct.bundle.mounts[0].flags);
    cr_expect(ct.bundle.mounts[0].data &&
                  !strcmp(ct.bundle.mounts[0].data, "mode=755,size=65536k"),
              "the filesystem's options go to data, comma-separated: "
              "\"mode=755,size=65536k\", got \"%s\"",
              ct.bundle.mounts[0].data ? ct.bundle.mounts[0].data : "NULL");
    cr_expect_eq(ct.bundle.mounts[0].propagation, 0ul);
    cr_expect_eq(
        ct.bundle.mounts[1].flags, MS_BIND | MS_REC | MS_RDONLY | MS_NODEV,
        "[rbind, ro, nodev, rprivate]: flags %#lx", ct.bundle.mounts[1].flags);
    cr_expect_eq(ct.bundle.mounts[1].propagation, MS_PRIVATE | MS_REC,
                 "rprivate is MS_PRIVATE | MS_REC in propagation");
    cr_expect_null(ct.bundle.mounts[1].data, "no data words: data NULL");
    cr_expect_eq(ct.bundle.mounts[2].flags, 0ul,
                 "[ro, noexec, rw, exec]: later words win, flags 0, got %#lx",
                 ct.bundle.mounts[2].flags);
    cr_expect_eq(ct.bundle.mounts[2].propagation, MS_SLAVE);
    cr_expect(ct.bundle.mounts[3].flags & MS_BIND,
              "\"type\": \"bind\" is a bind mount too");
    mct_destroy(&ct);
}

Test(bundle, id_mappings_fill_the_maps)
{
    struct minictr ct;
    json_t *c;
    int r;

    bundle_make(false);
    c = config_base();
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"pid\"}, {\"type\": \"user\"}]");
    set(c, "hostname", NULL);
    set(c, "linux.uidMappings",
        "[{\"containerID\": 0, \"hostID\": 200000, \"size\": 1000},"
        " {\"containerID\": 1000, \"hostID\": 300000, \"size\": 1}]");
    set(c, "linux.gidMappings",
        "[{\"containerID\": 0, \"hostID\": 400000, \"size\": 65536}]");
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_assert_eq(ct.nuid_map, 2u, "2 uid maps, not %zu", ct.nuid_map);
    cr_assert_eq(ct.ngid_map, 1u, "1 gid map, not %zu", ct.ngid_map);
    cr_expect(ct.uid_map[0].inside == 0 && ct.uid_map[0].outside == 200000 &&
                  ct.uid_map[0].count == 1000,
              "uidMappings[0] {0, 200000, 1000} -> inside %u outside %u "
              "count %u",
              ct.uid_map[0].inside, ct.uid_map[0].outside, ct.uid_map[0].count);
    cr_expect(ct.uid_map[1].inside == 1000 && ct.uid_map[1].outside == 300000 &&
                  ct.uid_map[1].count == 1,
              "uidMappings[1] {1000, 300000, 1} read wrong");
    cr_expect(ct.gid_map[0].inside == 0 && ct.gid_map[0].outside == 400000 &&
                  ct.gid_map[0].count == 65536,
              "gidMappings[0] {0, 400000, 65536} -> inside %u outside %u "
              "count %u",
              ct.gid_map[0].inside, ct.gid_map[0].outside, ct.gid_map[0].count);
    cr_expect(ct.userns, "a user namespace");
    mct_destroy(&ct);
}

Test(bundle, resources_fill_the_limits)
{
    struct minictr ct;
    json_t *c;
    int r;

    bundle_make(false);
    c = config_base();
    set(c, "linux.resources",
        "{\"memory\": {\"limit\": 67108864}, \"pids\": {\"limit\": 32}, "
        "\"cpu\": {\"quota\": 25000, \"period\": 50000}, \"devices\": "
        "[{\"allow\": false, \"access\": \"rwm\"}]}");
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_expect_eq(ct.limits.memory_bytes, 67108864u, "memory.limit: %llu",
                 (unsigned long long)ct.limits.memory_bytes);
    cr_expect_eq(ct.limits.pids, 32u, "pids.limit: %llu",
                 (unsigned long long)ct.limits.pids);
    cr_expect(ct.limits.cpu_quota_us == 25000 &&
                  ct.limits.cpu_period_us == 50000,
              "cpu quota 25000 period 50000 -> %llu / %llu",
              (unsigned long long)ct.limits.cpu_quota_us,
              (unsigned long long)ct.limits.cpu_period_us);
    mct_destroy(&ct);

    c = config_base();
    set(c, "linux.resources",
        "{\"memory\": {\"limit\": -1}, \"pids\": {\"limit\": -1}, \"cpu\": "
        "{\"quota\": 50000}}");
    config_write(c);
    r = load(&ct);
    cr_assert_eq(r, 0, "mct_bundle_load: %s", vl_errmsg());
    cr_expect(ct.limits.memory_bytes == 0 && ct.limits.pids == 0,
              "-1 means no limit (0)");
    cr_expect(ct.limits.cpu_quota_us == 50000 &&
                  ct.limits.cpu_period_us == MCT_CPU_PERIOD_US,
              "no cpu.period: MCT_CPU_PERIOD_US (got %llu)",
              (unsigned long long)ct.limits.cpu_period_us);
    mct_destroy(&ct);
}

/* `runc spec` and `crun spec`: what every OCI tool starts from. */
Test(bundle, accepts_runc_and_crun_default_specs)
{
    static const char *const tools[] = {"runc", "crun"};

    bundle_make(false);
    for (size_t i = 0; i < 2; i++) {
        char cmd[PATH_MAX + 64], path[PATH_MAX + 16];
        struct minictr ct;
        int r;

        snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
        unlink(path);
        snprintf(cmd, sizeof(cmd), "cd %s && %s spec", bundle_dir, tools[i]);
        if (mct_system((char *[]){"sh", "-c", cmd, NULL}) != 0)
            cr_skip_test("%s spec failed (is %s installed?)", tools[i],
                         tools[i]);
        r = load(&ct);
        cr_assert_eq(r, 0, "%s's default config.json: %s", tools[i],
                     vl_errmsg());
        cr_expect_str_eq(ct.opt.argv[0], "sh");
        cr_expect(ct.opt.readonly, "%s spec: root.readonly", tools[i]);
        cr_expect_eq(ct.bundle.clone_flags,
                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                         CLONE_NEWNS,
                     "%s spec: pid, network, ipc, uts, mount", tools[i]);
        cr_expect_eq(ct.bundle.nmounts, 7u);
        cr_expect_eq(ct.caps.bounding,
                     capbit(CAP_AUDIT_WRITE) | capbit(CAP_KILL) |
                         capbit(CAP_NET_BIND_SERVICE),
                     "%s spec: bounding set", tools[i]);
        cr_expect(ct.caps_set && ct.no_new_privs);
        cr_expect(ct.bundle.masked && ct.bundle.masked[0] &&
                  !strcmp(ct.bundle.masked[0], "/proc/acpi"));
        mct_destroy(&ct);
    }
}

/* ---- errors name the field --------------------------------------------------
 */

Test(bundle, bad_process_fields_are_named)
{
    json_t *c;

    bundle_make(false);
    c = config_base();
    set(c, "process.args", "[]");
    expect_load_error(c, "empty args", "process.args", "empty");
    c = config_base();
    set(c, "process.args", NULL);
    expect_load_error(c, "no args", "process.args", "missing");
    c = config_base();
    set(c, "process.env", "[\"A=1\", \"NOEQUALS\"]");
    expect_load_error(c, "env without =", "process.env[1]", "NOEQUALS");
    c = config_base();
    set(c, "process.cwd", "\"tmp\"");
    expect_load_error(c, "relative cwd", "process.cwd", "absolute");
    c = config_base();
    set(c, "process.user.uid", "\"root\"");
    expect_load_error(c, "uid as a string", "process.user.uid", "a string");
    c = config_base();
    set(c, "process.user.additionalGids", "[5, -1]");
    expect_load_error(c, "negative gid", "process.user.additionalGids[1]",
                      NULL);
    c = config_base();
    set(c, "process.capabilities.bounding", "[\"CAP_KILL\", \"CAP_FLY\"]");
    expect_load_error(c, "unknown capability",
                      "process.capabilities.bounding[1]", "CAP_FLY");
    c = config_base();
    set(c, "ociVersion", "\"2.0.0\"");
    expect_load_error(c, "ociVersion 2", "ociVersion", "1.0.x");
    c = config_base();
    set(c, "hooks", "{\"prestart\": [{\"path\": \"/bin/true\"}]}");
    expect_load_error(c, "hooks", "hooks", "does not implement");
}

Test(bundle, bad_root_and_namespaces_are_named)
{
    json_t *c;

    bundle_make(false);
    c = config_base();
    set(c, "root.path", "\"no-such-dir\"");
    expect_load_error(c, "missing root", "root.path", "no-such-dir");
    c = config_base();
    set(c, "root", NULL);
    expect_load_error(c, "no root", "root", "missing");
    c = config_base();
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"netns\"}]");
    expect_load_error(c, "bad namespace type", "linux.namespaces[2].type",
                      "\"netns\" is not a namespace type");
    c = config_base();
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"uts\"}]");
    expect_load_error(c, "uts twice", "linux.namespaces[2].type", "twice");
    c = config_base();
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": "
        "\"network\", \"path\": \"run/netns/x\"}]");
    expect_load_error(c, "relative ns path", "linux.namespaces[2].path",
                      "absolute");
    c = config_base();
    set(c, "linux.namespaces", "[{\"type\": \"pid\"}, {\"type\": \"uts\"}]");
    expect_load_error(c, "no mount namespace", "linux.namespaces", "mount");
    c = config_base();
    set(c, "linux.namespaces", "[{\"type\": \"mount\"}]");
    expect_load_error(c, "hostname without uts", "hostname", "UTS");
}

Test(bundle, bad_mounts_mappings_resources_are_named)
{
    json_t *c;

    bundle_make(false);
    c = config_base();
    set(c, "mounts",
        "[{\"destination\": \"/a\", \"type\": \"tmpfs\"}, "
        "{\"destination\": \"b\", \"type\": \"tmpfs\"}]");
    expect_load_error(c, "relative destination", "mounts[1].destination",
                      "absolute");
    c = config_base();
    set(c, "mounts",
        "[{\"destination\": \"/a\", \"type\": \"tmpfs\", "
        "\"options\": [\"ro\", 7]}]");
    expect_load_error(c, "option not a string", "mounts[0].options[1]",
                      "a string");
    c = config_base();
    set(c, "mounts", "[{\"destination\": \"/a\", \"options\": [\"ro\"]}]");
    expect_load_error(c, "no type, no bind", "mounts[0].type", "missing");
    c = config_base();
    set(c, "linux.namespaces", "[{\"type\": \"mount\"}, {\"type\": \"user\"}]");
    set(c, "hostname", NULL);
    set(c, "linux.uidMappings",
        "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 0}]");
    set(c, "linux.gidMappings",
        "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 1}]");
    expect_load_error(c, "map of size 0", "linux.uidMappings[0].size", NULL);
    c = config_base();
    set(c, "linux.namespaces", "[{\"type\": \"mount\"}, {\"type\": \"user\"}]");
    set(c, "hostname", NULL);
    set(c, "linux.uidMappings", "[{\"containerID\": 0, \"size\": 1}]");
    set(c, "linux.gidMappings",
        "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 1}]");
    expect_load_error(c, "map without hostID", "linux.uidMappings[0].hostID",
                      "missing");
    c = config_base();
    set(c, "linux.resources.memory.limit", "1000");
    expect_load_error(c, "tiny memory limit", "linux.resources.memory.limit",
                      NULL);
    c = config_base();
    set(c, "linux.resources.memory.swap", "1000000000");
    expect_load_error(c, "memory.swap", "linux.resources.memory.swap",
                      "does not implement");
}

Test(bundle, invalid_config_exits_125_naming_the_field)
{
    struct mct_result r;
    char path[PATH_MAX + 16];
    json_t *c;
    FILE *f;

    bundle_make(false);
    c = config_base();
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"netns\"}]");
    config_write(c);
    run_bundle_cli(&r);
    cr_expect_eq(r.status, MCT_EXIT_FAILED, "exit %d, expected 125\n%s",
                 r.status, r.err);
    cr_expect(strstr(r.err, "linux.namespaces[2].type"),
              "stderr must name linux.namespaces[2].type:\n%s", r.err);
    mct_result_free(&r);

    /* Not JSON at all: jansson's line and column. */
    snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fputs("{\n  \"ociVersion\": \"1.2.0\",\n  \"process\": {,\n}\n", f);
    fclose(f);
    run_bundle_cli(&r);
    cr_expect_eq(r.status, MCT_EXIT_FAILED, "exit %d, expected 125\n%s",
                 r.status, r.err);
    cr_expect(strstr(r.err, "config.json:3:"),
              "a syntax error must name the line (config.json:3:...):\n%s",
              r.err);
    mct_result_free(&r);
}

/* ---- running a bundle -------------------------------------------------------
 */

Test(bundle, runs_the_process_as_configured)
{
    struct mct_result r;
    json_t *c;

    mct_require_root();
    bundle_make(true);
    c = config_base();
    set(c, "process.args",
        "[\"/bin/sh\", \"-c\", \"echo greeting=$GREETING; echo "
        "home=$HOME; /bin/vlab-probe env\"]");
    set(c, "process.env", "[\"PATH=/bin\", \"GREETING=hello world\"]");
    set(c, "process.cwd", "\"/tmp\"");
    set(c, "process.user",
        "{\"uid\": 1000, \"gid\": 1000, \"additionalGids\": [5, 7]}");
    set(c, "hostname", "\"oci-box\"");
    config_write(c);
    run_ok(&r);
    expect_kv(r.out, "greeting", "hello world");
    expect_kv(r.out, "home", ""); /* minictr's own environment is gone */
    expect_kv(r.out, "cwd", "/tmp");
    expect_kv(r.out, "uid", "1000");
    expect_kv(r.out, "gid", "1000");
    expect_kv(r.out, "groups", "5,7");
    expect_kv(r.out, "hostname", "oci-box");
    expect_kv(r.out, "pid", "2"); /* PID 1 is minictr's init */
    mct_result_free(&r);
}

/* A process holding a new network namespace, for a bundle to join. */
static unsigned long long netns_to_join(char *path, size_t size)
{
    int p[2];
    char c;
    struct stat st;

    cr_assert_eq(pipe(p), 0);
    netns_holder = fork();
    cr_assert(netns_holder >= 0);
    if (netns_holder == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWNET) < 0)
            _exit(1);
        if (write(p[1], "!", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    cr_assert_eq(read(p[0], &c, 1), 1, "the netns holder failed");
    close(p[0]);
    snprintf(path, size, "/proc/%d/ns/net", (int)netns_holder);
    cr_assert_eq(stat(path, &st), 0);
    return (unsigned long long)st.st_ino;
}

static unsigned long long own_ns(const char *ns)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
    cr_assert_eq(stat(path, &st), 0);
    return (unsigned long long)st.st_ino;
}

Test(bundle, only_the_listed_namespaces_are_new)
{
    char netns[64], ns[512];
    unsigned long long target;
    struct mct_result r;
    json_t *c;

    mct_require_root();
    bundle_make(true);
    target = netns_to_join(netns, sizeof(netns));
    c = config_base();
    snprintf(ns, sizeof(ns),
             "[{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": "
             "\"pid\"}, {\"type\": \"network\", \"path\": \"%s\"}]",
             netns);
    set(c, "linux.namespaces", ns);
    config_write(c);
    run_bundle(&r);
    cr_assert_eq(r.status, 0,
                 "minictr run --bundle exited %d\nstdout:\n%s\nstderr:\n%s",
                 r.status, r.out, r.err);
    kill(netns_holder, SIGKILL);
    waitpid(netns_holder, NULL, 0);
    netns_holder = -1;
    mct_assert_no_leftovers(&before, &r, NULL);
    cr_expect_eq(mct_kv_num(r.out, "ns_net"), (long long)target,
                 "linux.namespaces network with \"path\": \"%s\": the "
                 "container must JOIN it (setns), not get a new one",
                 netns);
    cr_expect_eq(mct_kv_num(r.out, "ns_ipc"), (long long)own_ns("ipc"),
                 "no ipc in linux.namespaces: the host's IPC namespace");
    cr_expect_neq(mct_kv_num(r.out, "ns_uts"), (long long)own_ns("uts"),
                  "uts listed: a new UTS namespace");
    cr_expect_neq(mct_kv_num(r.out, "ns_pid"), (long long)own_ns("pid"),
                  "pid listed: a new PID namespace");
    mct_result_free(&r);
}

Test(bundle, config_mounts_tmpfs_and_readonly_bind)
{
    char src[PATH_MAX + 16], file[PATH_MAX + 32], mounts[1024];
    struct mct_result r;
    json_t *c;
    FILE *f;

    mct_require_root();
    bundle_make(true);
    /* A directory of the bundle, bound read-only at /data. */
    snprintf(src, sizeof(src), "%s/shared", bundle_dir);
    cr_assert_eq(mkdir(src, 0755), 0);
    snprintf(file, sizeof(file), "%s/hello.txt", src);
    cr_assert_not_null(f = fopen(file, "w"));
    fputs("from the host\n", f);
    fclose(f);
    c = config_base();
    set(c, "process.args",
        "[\"/bin/sh\", \"-c\", \"echo data=$(cat /data/hello.txt); "
        "grep -E ' /(scratch|data|proc) ' /proc/self/mountinfo | "
        "sed 's/^/mnt=/'; /bin/vlab-probe write /data/new /scratch/new\"]");
    snprintf(mounts, sizeof(mounts),
             "[{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": "
             "\"proc\"},"
             " {\"destination\": \"/scratch\", \"type\": \"tmpfs\", "
             "\"source\": \"tmpfs\", \"options\": [\"nosuid\", \"nodev\", "
             "\"size=1m\", \"mode=750\"]},"
             " {\"destination\": \"/data\", \"source\": \"shared\", "
             "\"options\": [\"rbind\", \"ro\", \"nosuid\"]}]");
    set(c, "mounts", mounts);
    config_write(c);
    run_ok(&r);
    expect_kv(r.out, "data", "from the host");
    cr_expect(strstr(r.out, " /scratch ") && strstr(r.out, "size=1024k") &&
                  strstr(r.out, "mode=750"),
              "a tmpfs on /scratch with size=1024k,mode=750 (the data "
              "words):\n%s",
              r.out);
    cr_expect(strstr(r.out, " /proc "), "the config's proc on /proc:\n%s",
              r.out);
    expect_kv(r.out, "write:/scratch/new", "ok");
    expect_kv(r.out, "write:/data/new", "EROFS");
    cr_expect(access(file, F_OK) == 0, "the bind source must stay");
    snprintf(file, sizeof(file), "%s/new", src);
    cr_expect(access(file, F_OK) != 0, "/data is read-only: no file written "
                                       "to the host's directory");
    mct_result_free(&r);
}

/* A rootfs comes from an image: its symlinks are the image author's. A
 * mount destination through a symlink to an absolute path must land in
 * the rootfs, never on the host's file of that name. */
Test(bundle, mount_destination_symlinks_stay_in_the_rootfs)
{
    char host[PATH_MAX + 16], inside[3 * PATH_MAX], link[PATH_MAX + 32];
    char mounts[PATH_MAX + 256], hostx[PATH_MAX + 32], args[PATH_MAX + 256];
    struct mct_result r;
    json_t *c;

    mct_require_root();
    bundle_make(true);
    /* host: a directory outside the rootfs; the rootfs has a directory of
     * the same absolute path, and /escape -> that path. */
    snprintf(host, sizeof(host), "%s/host-side", bundle_dir);
    cr_assert_eq(mkdir(host, 0755), 0);
    snprintf(inside, sizeof(inside), "mkdir -p %s/rootfs%s", bundle_dir, host);
    cr_assert_eq(mct_system((char *[]){"sh", "-c", inside, NULL}), 0);
    snprintf(link, sizeof(link), "%s/rootfs/escape", bundle_dir);
    cr_assert_eq(symlink(host, link), 0, "symlink: %s", strerror(errno));
    c = config_base();
    snprintf(args, sizeof(args),
             "[\"/bin/sh\", \"-c\", \"grep ' %s/x ' /proc/self/mountinfo "
             "| sed 's/^/mnt=/'\"]",
             host);
    set(c, "process.args", args);
    snprintf(mounts, sizeof(mounts),
             "[{\"destination\": \"/proc\", \"type\": \"proc\"},"
             " {\"destination\": \"/escape/x\", \"type\": \"tmpfs\", "
             "\"source\": \"tmpfs\", \"options\": [\"size=64k\"]}]");
    set(c, "mounts", mounts);
    config_write(c);
    run_ok(&r);
    snprintf(hostx, sizeof(hostx), "%s/x", host);
    cr_expect(access(hostx, F_OK) != 0,
              "the mount point of /escape/x (escape -> %s) was created on "
              "the HOST, %s: resolve destinations inside the rootfs "
              "(mct_bundle_mount_point)",
              host, hostx);
    cr_expect(strstr(r.out, "mnt=") && strstr(r.out, " tmpfs "),
              "the tmpfs must be at %s/x in the container (the symlink "
              "resolved in the rootfs):\n%s",
              host, r.out);
    mct_result_free(&r);
}

Test(bundle, readonly_root_and_masked_paths)
{
    struct mct_result r;
    json_t *c;

    mct_require_root();
    bundle_make(true);
    c = config_base();
    set(c, "process.args",
        "[\"/bin/sh\", \"-c\", \"/bin/vlab-probe write /etc/x /dev/shm/x; "
        "/bin/vlab-probe masked\"]");
    set(c, "root.readonly", "true");
    set(c, "linux.maskedPaths", "[\"/proc/keys\", \"/sys/firmware\"]");
    set(c, "linux.readonlyPaths", "[\"/proc/sys\"]");
    config_write(c);
    run_ok(&r);
    expect_kv(r.out, "write:/etc/x", "EROFS");
    expect_kv(r.out, "write:/dev/shm/x", "ok");
    expect_kv(r.out, "masked:/proc/keys", "null");
    expect_kv(r.out, "masked:/sys/firmware", "empty");
    /* Only what the config lists: not Docker's list of lab 10. */
    expect_kv(r.out, "masked:/proc/timer_list", "visible");
    expect_kv(r.out, "ro:/proc/sys", "ro");
    mct_result_free(&r);
}

Test(bundle, user_namespace_from_the_mappings)
{
    struct mct_result r;
    json_t *c;

    mct_require_root();
    bundle_make(true);
    cr_assert_eq(mct_system((char *[]){"chown", "-R", "-h", "100000:100000",
                                       bundle_dir, NULL}),
                 0);
    c = config_base();
    set(c, "process.args", "[\"/bin/vlab-probe\", \"ids\"]");
    set(c, "linux.namespaces",
        "[{\"type\": \"mount\"}, {\"type\": \"pid\"}, {\"type\": \"uts\"}, "
        "{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"user\"}]");
    set(c, "linux.uidMappings",
        "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
    set(c, "linux.gidMappings",
        "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
    config_write(c);
    run_ok(&r);
    expect_kv(r.out, "uid", "0");
    cr_expect(strstr(r.out, "uid_map=0 100000 65536") != NULL,
              "uid_map must be \"0 100000 65536\" (containerID hostID "
              "size):\n%s",
              r.out);
    cr_expect(strstr(r.out, "gid_map=0 100000 65536") != NULL,
              "gid_map must be \"0 100000 65536\":\n%s", r.out);
    mct_result_free(&r);
}

Test(bundle, limits_from_the_config_hold)
{
    struct mct_result r;
    json_t *c;

    mct_require_root();
    bundle_make(true);
    c = config_base();
    set(c, "process.args", "[\"/bin/vlab-probe\", \"forkbomb\", \"200\"]");
    set(c, "linux.resources.pids.limit", "16");
    config_write(c);
    run_ok(&r);
    cr_expect_leq(mct_kv_num(r.out, "forks"), 16,
                  "linux.resources.pids.limit 16: at most 16 tasks, the "
                  "fork bomb made %lld",
                  mct_kv_num(r.out, "forks"));
    expect_kv(r.out, "fork_error", "EAGAIN");
    mct_result_free(&r);
}

Test(bundle, capabilities_from_the_config)
{
    char want[32];
    struct mct_result r;
    json_t *c;

    mct_require_root();
    bundle_make(true);
    c = config_base();
    set(c, "process.user", "{\"uid\": 1000, \"gid\": 1000}");
    set(c, "process.capabilities",
        "{\"bounding\": [\"CAP_KILL\", \"CAP_NET_BIND_SERVICE\", "
        "\"CAP_CHOWN\"], \"permitted\": [\"CAP_KILL\", "
        "\"CAP_NET_BIND_SERVICE\"], \"effective\": [\"CAP_KILL\", "
        "\"CAP_NET_BIND_SERVICE\"], \"inheritable\": [\"CAP_KILL\", "
        "\"CAP_NET_BIND_SERVICE\"], \"ambient\": [\"CAP_KILL\", "
        "\"CAP_NET_BIND_SERVICE\"]}");
    set(c, "process.noNewPrivileges", "true");
    config_write(c);
    run_ok(&r);
    snprintf(
        want, sizeof(want), "%016llx",
        (unsigned long long)(capbit(CAP_KILL) | capbit(CAP_NET_BIND_SERVICE)));
    expect_kv(r.out, "uid", "1000");
    expect_kv(r.out, "cap_eff", want);
    snprintf(want, sizeof(want), "%016llx",
             (unsigned long long)(capbit(CAP_KILL) |
                                  capbit(CAP_NET_BIND_SERVICE) |
                                  capbit(CAP_CHOWN)));
    expect_kv(r.out, "cap_bnd", want);
    expect_kv(r.out, "no_new_privs", "1");
    mct_result_free(&r);
}

Test(bundle, runc_default_spec_runs)
{
    char cmd[PATH_MAX + 64];
    struct mct_result r;
    json_t *c;
    json_error_t e;
    char path[PATH_MAX + 16];

    mct_require_root();
    bundle_make(true);
    snprintf(cmd, sizeof(cmd), "cd %s && runc spec", bundle_dir);
    if (mct_system((char *[]){"sh", "-c", cmd, NULL}) != 0)
        cr_skip_test("runc spec failed (is runc installed?)");
    snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
    cr_assert_not_null(c = json_load_file(path, 0, &e), "%s", e.text);
    set(c, "process.args",
        "[\"/bin/sh\", \"-c\", \"/bin/vlab-probe env; /bin/vlab-probe fs\"]");
    config_write(c);
    run_ok(&r);
    expect_kv(r.out, "hostname", "runc");
    expect_kv(r.out, "root_ro", "1");
    expect_kv(r.out, "node:null", "c 1:3 0666");
    expect_kv(r.out, "use:null", "ok");
    expect_kv(r.out, "pty", "ok");
    cr_expect(strstr(r.err, "terminal"),
              "process.terminal true: minictr warns that it makes no pty:\n%s",
              r.err);
    mct_result_free(&r);
}
