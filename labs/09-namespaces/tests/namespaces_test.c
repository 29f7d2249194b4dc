/*
 * namespaces_test.c - the tests of lab 09, one group per TODO.
 *
 * Some tests call your functions directly (in a child process, in fresh
 * namespaces: mct_call_run() of mct_test.h), the others run the minictr
 * built from your namespaces.c and the reference of every other lab, with
 * vlab-probe (labs/minictr/probe/) as the container's command: it prints
 * what it sees as key=value lines.
 */
#include "mct_test.h"

#include <net/if.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static void setup(void)
{
    mct_require_root();
    mct_require_built();
}

TestSuite(namespaces, .init = setup, .timeout = 60);

#define RUN_TIMEOUT 20 /* seconds: generous, a run takes ~50 ms */

/* Run the probe in a container and check that minictr succeeded. */
static void run_probe(struct mct_result *r, const char *const *opts,
                      const char *cmd, const char *arg)
{
    const char *a[8] = {0};
    int n = 0;

    for (; opts && *opts; opts++)
        a[n++] = *opts;
    a[n++] = "--";
    a[n++] = "/bin/vlab-probe";
    a[n++] = cmd;
    a[n++] = arg;
    mct_run_cli(r, RUN_TIMEOUT, a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
}

static void assert_ran(const struct mct_result *r)
{
    cr_assert_eq(r->status, 0,
                 "minictr exited with %d (want 0)\n--- stdout:\n%s--- "
                 "stderr:\n%s",
                 r->status, r->out, r->err);
}

static uint64_t our_ns(const char *ns)
{
    uint64_t id;

    vl_assert_ok(vl_ns_id(0, ns, &id));
    return id;
}

static struct minictr new_ct(char **argv)
{
    struct mct_options opt;
    struct minictr ct;

    mct_test_options(&opt, argv);
    mct_init_struct(&ct, &opt);
    return ct;
}

/* ---- TODO 1: which namespaces ---------------------------------------------
 */

Test(namespaces, flags_are_uts_pid_ipc_mnt_net)
{
    struct minictr ct = new_ct(NULL);
    uint64_t want =
        CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET;
    uint64_t got = mct_namespace_flags(&ct);
    char a[256], b[256];

    cr_assert_eq(got, want, "mct_namespace_flags() = %s, want %s",
                 vl_ns_flags_str(got, a, sizeof(a)),
                 vl_ns_flags_str(want, b, sizeof(b)));
}

Test(namespaces, flags_follow_net_host_and_userns)
{
    struct minictr ct = new_ct(NULL);
    uint64_t base = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS;
    char a[256];

    ct.opt.host_net = true;
    cr_assert_eq(mct_namespace_flags(&ct), base,
                 "--net host: got %s, want no CLONE_NEWNET",
                 vl_ns_flags_str(mct_namespace_flags(&ct), a, sizeof(a)));
    ct.opt.host_net = false;
    ct.userns = true;
    cr_assert_eq(mct_namespace_flags(&ct), base | CLONE_NEWNET | CLONE_NEWUSER,
                 "ct->userns: got %s, want CLONE_NEWUSER added",
                 vl_ns_flags_str(mct_namespace_flags(&ct), a, sizeof(a)));
}

Test(namespaces, container_has_its_own_namespaces)
{
    static const char *const own[] = {"uts", "pid", "ipc", "mnt", "net"};
    struct mct_result r;

    run_probe(&r, NULL, "env", NULL);
    assert_ran(&r);
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        char key[32];

        snprintf(key, sizeof(key), "ns_%s", own[i]);
        cr_expect_neq((uint64_t)mct_kv_num(r.out, key), our_ns(own[i]),
                      "the container is in the host's %s namespace", own[i]);
    }
    mct_result_free(&r);
}

Test(namespaces, ipc_objects_of_the_host_are_not_visible)
{
    struct mct_result r;
    char needle[32];
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

    cr_assert(id >= 0, "shmget: %s", strerror(errno));
    /* /proc/sysvipc/shm lists the segments of the reader's IPC namespace
     * (ipc_namespaces(7)): a header line, then one line per segment. */
    mct_run_cli(&r, RUN_TIMEOUT, "--", "/bin/cat", "/proc/sysvipc/shm", NULL);
    shmctl(id, IPC_RMID, NULL);
    assert_ran(&r);
    snprintf(needle, sizeof(needle), " %d ", id);
    cr_assert_null(strstr(r.out, needle),
                   "the host's shared memory segment %d is visible in the "
                   "container:\n%s",
                   id, r.out);
    cr_assert_eq(strchr(r.out, '\n'), strrchr(r.out, '\n'),
                 "the container should see no segment at all:\n%s", r.out);
    mct_result_free(&r);
}

/* ---- TODO 2: clone and handshake -------------------------------------------
 */

/* What the child of mct_spawn() reports, in shared memory. */
struct spawned {
    bool went;       /* the child got "go" */
    int wait_result; /* what vl_handshake_wait returned in it */
};

static struct spawned *shared_spawned;

static int child_reports(void *arg)
{
    struct minictr *ct = arg;

    vl_handshake_child(&ct->hs);
    shared_spawned->wait_result = vl_handshake_wait(&ct->hs, false, 10000);
    shared_spawned->went = shared_spawned->wait_result == 0;
    return 7;
}

Test(namespaces, spawn_clones_into_new_namespaces_and_waits_for_go)
{
    struct mct_call *c = mct_call_new();
    struct minictr ct = new_ct(NULL);
    uint64_t flags, id;
    int fds = vl_count_fds(), st;
    char a[256];

    shared_spawned = (struct spawned *)c->data;
    vl_assert_ok(mct_spawn(&ct, child_reports));
    flags = mct_namespace_flags(&ct);
    cr_assert_gt(ct.pid, 0, "ct->pid not set");
    cr_assert_eq(ct.clone_flags, flags, "ct->clone_flags = %s",
                 vl_ns_flags_str(ct.clone_flags, a, sizeof(a)));
    cr_assert_geq(ct.pidfd, 0, "ct->pidfd not set (vl_clone's pidfd)");
    for (const struct vl_ns_type *t = vl_ns_types; t->name; t++) {
        if (!(flags & t->flag) || !strcmp(t->name, "user") ||
            !strcmp(t->name, "cgroup"))
            continue;
        vl_assert_ok(vl_ns_id(ct.pid, t->name, &id));
        cr_expect_neq(id, our_ns(t->name), "the child is in our %s namespace",
                      t->name);
    }
    usleep(100 * 1000);
    cr_assert_eq(waitpid(ct.pid, &st, WNOHANG), 0,
                 "the child did not wait for \"go\"");
    cr_assert_not(shared_spawned->went);
    vl_assert_ok(vl_handshake_send(&ct.hs, 0));
    cr_assert_eq(waitpid(ct.pid, &st, 0), ct.pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7,
              "the child should run fn and exit with its value 7 (0x%x)", st);
    cr_assert(shared_spawned->went, "the child never got \"go\" (%d)",
              shared_spawned->wait_result);
    mct_destroy(&ct);
    cr_assert_eq(vl_count_fds(), fds, "fds leaked: %d, %d before",
                 vl_count_fds(), fds);
    mct_call_free(c);
}

static int child_dies_at_once(void *arg)
{
    (void)arg;
    return 3;
}

Test(namespaces, spawn_closes_the_childs_end_of_the_handshake)
{
    struct minictr ct = new_ct(NULL);
    int r, st;

    vl_assert_ok(mct_spawn(&ct, child_dies_at_once));
    cr_assert_gt(ct.pid, 0);
    cr_assert_eq(waitpid(ct.pid, &st, 0), ct.pid);
    /* If we still held the child's end, we would wait for ever for a
     * child that died before it could tell us why. */
    r = vl_handshake_wait(&ct.hs, false, 2000);
    cr_assert_eq(r, -EPIPE,
                 "a dead child must show as EOF (-EPIPE), got %d (%s): "
                 "close the child's end in the parent (vl_handshake_parent)",
                 r, r == -ETIMEDOUT ? "timed out" : strerror(-r));
    mct_destroy(&ct);
}

/* ---- TODO 3: hostname -------------------------------------------------------
 */

static int set_hostname_in_child(void *arg)
{
    struct minictr *ct = arg;
    struct mct_call *c = (struct mct_call *)ct->opt.argv;
    int r = mct_set_hostname(ct);

    gethostname(c->data, 256);
    return r;
}

Test(namespaces, set_hostname_changes_the_uts_namespace_only)
{
    struct mct_call *c = mct_call_new();
    struct minictr ct = new_ct(NULL);
    char before[256], after[256];

    gethostname(before, sizeof(before));
    ct.opt.hostname = "unit-test-box";
    ct.opt.argv = (char **)c; /* a way to reach c from the child */
    c->fn = set_hostname_in_child;
    c->arg = &ct;
    cr_assert_eq(mct_call_run(c, CLONE_NEWUTS, 10), 0, "returned %d: %s",
                 c->ret, c->err);
    cr_assert_str_eq(c->data, "unit-test-box");
    gethostname(after, sizeof(after));
    cr_assert_str_eq(after, before, "the host's hostname changed");
    mct_call_free(c);
}

Test(namespaces, hostname_default_and_option)
{
    struct mct_result r;
    char *h;

    run_probe(&r, NULL, "env", NULL);
    assert_ran(&r);
    h = mct_kv(r.out, "hostname");
    cr_assert_str_eq(h ? h : "(none)", MCT_DEFAULT_HOSTNAME);
    free(h);
    mct_result_free(&r);

    run_probe(&r, (const char *const[]){"--hostname", "box-42", NULL}, "env",
              NULL);
    assert_ran(&r);
    h = mct_kv(r.out, "hostname");
    cr_assert_str_eq(h ? h : "(none)", "box-42");
    free(h);
    mct_result_free(&r);
}

/* ---- TODO 4: loopback -------------------------------------------------------
 */

static int lo_flags(void)
{
    struct ifreq ifr = {0};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    r = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 ? ifr.ifr_flags : -1;
    if (fd >= 0)
        close(fd);
    return r;
}

static int loopback_in_child(void *arg)
{
    struct mct_call *c = arg;
    struct minictr ct = new_ct(NULL);
    int before = lo_flags(), r;

    r = mct_loopback_up(&ct);
    snprintf(c->data, sizeof(c->data), "%d %d", before, lo_flags());
    return r;
}

Test(namespaces, loopback_is_up_in_the_new_network_namespace)
{
    struct mct_call *c = mct_call_new();
    struct mct_result r;
    int before, after;
    char *v;

    c->fn = loopback_in_child;
    c->arg = c;
    cr_assert_eq(mct_call_run(c, CLONE_NEWNET, 10), 0, "returned %d: %s",
                 c->ret, c->err);
    cr_assert_eq(sscanf(c->data, "%d %d", &before, &after), 2);
    cr_assert(before >= 0 && !(before & IFF_UP), "lo should start down");
    cr_assert(after >= 0 && (after & IFF_UP), "lo is still down (flags 0x%x)",
              after);
    mct_call_free(c);

    run_probe(&r, NULL, "env", NULL);
    assert_ran(&r);
    v = mct_kv(r.out, "netifs");
    cr_assert_str_eq(v ? v : "(none)", "lo",
                     "a new network namespace has only lo");
    free(v);
    cr_assert_eq(mct_kv_num(r.out, "lo_up"), 1, "lo is down in the container");
    mct_result_free(&r);
}

/* ---- TODO 5: PID 1
 * ------------------------------------------------------------ */

struct init_run {
    const char *argv[4];
    pid_t command_pid;
};

static int init_in_child(void *arg)
{
    struct mct_call *c = arg;
    struct init_run *ir = (struct init_run *)c->data;
    struct minictr ct = new_ct((char **)ir->argv);
    int r = mct_init(&ct);

    ir->command_pid = ct.command_pid;
    return r;
}

static int run_init(const char *cmd, const char *arg, pid_t *command_pid)
{
    struct mct_call *c = mct_call_new();
    struct init_run *ir = (struct init_run *)c->data;
    int r;

    *ir = (struct init_run){.argv = {mct_probe_path(), cmd, arg, NULL}};
    c->fn = init_in_child;
    c->arg = c;
    c->mount_proc = true;
    r = mct_call_run(c, CLONE_NEWPID | CLONE_NEWNS, 20);
    cr_assert(c->returned, "mct_init() did not return (wait status 0x%x%s)",
              c->wstatus, c->timed_out ? ", timed out" : "");
    cr_assert_geq(r, 0, "mct_init() failed: %s", c->err);
    *command_pid = ir->command_pid;
    mct_call_free(c);
    return r;
}

Test(namespaces, init_runs_the_command_and_returns_its_status)
{
    pid_t cmd;

    cr_assert_eq(run_init("exit", "42", &cmd), 42);
    cr_assert_eq(cmd, 2,
                 "ct->command_pid = %d: PID 1 forks the command, which "
                 "is PID 2",
                 cmd);
    cr_assert_eq(run_init("exit", "0", &cmd), 0);
    cr_assert_eq(run_init("kill", "KILL", &cmd), 128 + SIGKILL,
                 "a command killed by SIGKILL: 128 + 9");
    cr_assert_eq(run_init("kill", "SEGV", &cmd), 128 + SIGSEGV);
}

Test(namespaces, command_runs_under_minictr_as_pid_1)
{
    struct mct_result r;
    char *init;

    run_probe(&r, NULL, "pid1", NULL);
    assert_ran(&r);
    cr_assert_eq(mct_kv_num(r.out, "self_pid"), 2,
                 "the command should be PID 2, the child of PID 1:\n%s", r.out);
    init = mct_kv(r.out, "init_cmdline");
    cr_assert(init && strstr(init, "minictr"),
              "PID 1 should be minictr's clone, it is \"%s\"",
              init ? init : "(none)");
    free(init);
    mct_result_free(&r);
}

Test(namespaces, init_reaps_orphans)
{
    struct mct_result r;

    run_probe(&r, NULL, "zombies", "5");
    assert_ran(&r);
    cr_assert_eq(mct_kv_num(r.out, "zombies"), 0,
                 "PID 1 leaves zombies behind:\n%s", r.out);
    cr_assert_eq(mct_kv_num(r.out, "orphans_reaped"), 1, "%s", r.out);
    mct_result_free(&r);
}

Test(namespaces, init_forwards_signals_to_the_command)
{
    struct mct_proc p;
    struct mct_result r;
    pid_t init;
    char *got;

    mct_start_cli(&p, NULL, "--timeout", "5", "--", "/bin/vlab-probe",
                  "sigwait", NULL);
    cr_assert(mct_proc_wait_for(&p, "ready=1", RUN_TIMEOUT),
              "the probe never said ready=1:\n%s%s", mct_proc_out(&p),
              mct_proc_err(&p));
    init = mct_proc_container_pid(&p, 5);
    cr_assert_gt(init, 0, "no container PID 1 found");
    /* Straight to PID 1, not through minictr: only init forwards it. */
    kill(init, SIGHUP);
    mct_proc_finish(&p, &r, RUN_TIMEOUT);
    got = mct_kv(r.out, "got");
    cr_assert_str_eq(got ? got : "(nothing)", "SIGHUP",
                     "the command never got the SIGHUP sent to PID 1 "
                     "(status %d):\n%s%s",
                     r.status, r.out, r.err);
    cr_assert_eq(r.status, 0);
    free(got);
    mct_result_free(&r);
}

/* ---- TODO 6: minictr waits
 * ------------------------------------------------------ */

static int wait_in_child(void *arg)
{
    struct mct_call *c = arg;
    struct minictr ct = new_ct(NULL);
    int how = *(int *)c->data;
    pid_t pid = fork();

    if (pid == 0) {
        if (how > 0) {
            signal(how, SIG_DFL); /* (the sanitizers catch SIGSEGV) */
            raise(how);
        }
        _exit(42);
    }
    ct.pid = pid;
    ct.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return mct_wait(&ct);
}

Test(namespaces, wait_returns_the_exit_code_or_128_plus_signal)
{
    static const struct {
        int sig, want;
    } cases[] = {{0, 42}, {SIGKILL, 137}, {SIGSEGV, 139}, {SIGTERM, 143}};
    struct mct_call *c = mct_call_new();

    c->fn = wait_in_child;
    c->arg = c;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        *(int *)c->data = cases[i].sig;
        cr_assert_eq(mct_call_run(c, 0, 10), cases[i].want,
                     "mct_wait() returned %d for a child %s %d, want %d: %s",
                     c->ret, cases[i].sig ? "killed by signal" : "exiting with",
                     cases[i].sig ? cases[i].sig : 42, cases[i].want, c->err);
    }
    mct_call_free(c);
}

Test(namespaces, exit_status_passes_through)
{
    static const struct {
        const char *cmd, *arg;
        int want;
    } cases[] = {{"exit", "0", 0},
                 {"exit", "42", 42},
                 {"exit", "255", 255},
                 {"kill", "KILL", 137},
                 {"kill", "SEGV", 139}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mct_result r;

        run_probe(&r, NULL, cases[i].cmd, cases[i].arg);
        cr_assert_eq(r.status, cases[i].want,
                     "vlab-probe %s %s: minictr exited with %d, want %d\n%s",
                     cases[i].cmd, cases[i].arg, r.status, cases[i].want,
                     r.err);
        mct_result_free(&r);
    }
}

Test(namespaces, sigterm_to_minictr_reaches_the_command)
{
    struct mct_proc p;
    struct mct_result r;
    char *got;

    mct_start_cli(&p, NULL, "--timeout", "5", "--", "/bin/vlab-probe",
                  "sigwait", NULL);
    cr_assert(mct_proc_wait_for(&p, "ready=1", RUN_TIMEOUT),
              "the probe never said ready=1:\n%s%s", mct_proc_out(&p),
              mct_proc_err(&p));
    mct_proc_signal(&p, SIGTERM);
    mct_proc_finish(&p, &r, RUN_TIMEOUT);
    got = mct_kv(r.out, "got");
    cr_assert_str_eq(got ? got : "(nothing)", "SIGTERM",
                     "SIGTERM to minictr did not reach the command (status "
                     "%d):\n%s%s",
                     r.status, r.out, r.err);
    cr_assert_eq(r.status, 0, "the command exits 0 after SIGTERM: %s", r.err);
    free(got);
    mct_result_free(&r);
}

Test(namespaces, nothing_is_left_behind)
{
    struct mct_snapshot snap;
    struct mct_result r;

    mct_snapshot(&snap);
    run_probe(&r, NULL, "exit", "3");
    cr_assert_eq(r.status, 3, "%s", r.err);
    mct_assert_no_leftovers(&snap, &r, mct_rootfs());
    mct_result_free(&r);

    /* A command that is not there: minictr says so, exits 127. */
    mct_run_cli(&r, RUN_TIMEOUT, "--", "/bin/no-such-command", NULL);
    cr_assert_eq(r.status, MCT_EXIT_NOTFOUND, "%s", r.err);
    cr_assert(strstr(r.err, "not in the rootfs"), "%s", r.err);
    mct_assert_no_leftovers(&snap, &r, mct_rootfs());
    mct_result_free(&r);

    /* Killed by --timeout, with children of its own. */
    mct_run_cli(&r, RUN_TIMEOUT, "--timeout", "1", "--", "/bin/sh", "-c",
                "sleep 30 & sleep 30", NULL);
    cr_assert_eq(r.status, 137, "%s", r.err);
    mct_assert_no_leftovers(&snap, &r, mct_rootfs());
    mct_result_free(&r);
}
