/*
 * runtime_test.c - the tests of lab 16, part B: the OCI runtime command
 * line (create, start, state, kill, delete, run, exec, ps, list).
 *
 * Each test gets its own state directory (--root) and bundle in a temp
 * dir: a config.json written here whose root.path is the test rootfs,
 * read-only, with a tmpfs on /tmp. The tests drive minictr (built from
 * your runtime.c and the reference of every other stage file) with the
 * command lines runc's callers use, and call the TODOs of runtime.c
 * directly where one alone can be checked. The test process is a child
 * subreaper (prctl(2)): a detached container's PID 1 is re-parented to it,
 * as to containerd-shim or conmon.
 */
#include "mct_test.h"

#include <sys/syscall.h>

static void setup(void);
static void teardown(void);

TestSuite(runtime, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ------------------------------------------------------------- */

static char tmp[256];         /* everything of one test */
static char root[PATH_MAX];   /* --root: the state directory */
static char bundle[PATH_MAX]; /* the bundle: config.json */

/* Every minictr we ran: a container's cgroup is named after the minictr
 * that created it, and the teardown removes what a broken stage left. */
#define MAX_RUNS 128
static pid_t runs[MAX_RUNS];
static size_t nruns;

/* Write the bundle's config.json: process.args = args (a JSON array),
 * extra: more top-level or "linux" members (may be ""). */
static void write_config(const char *args, const char *linux_extra)
{
    char path[PATH_MAX + 16];
    FILE *f;

    snprintf(path, sizeof(path), "%s/config.json", bundle);
    f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fprintf(f,
            "{\"ociVersion\": \"1.0.2\",\n"
            " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, "
            "\"gid\": 0},\n"
            "   \"args\": %s,\n"
            "   \"env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\", "
            "\"HOME=/root\"],\n"
            "   \"cwd\": \"/\"},\n"
            " \"root\": {\"path\": \"%s\", \"readonly\": true},\n"
            " \"hostname\": \"ocibox\",\n"
            " \"annotations\": {\"org.virtlab.test\": \"yes\"},\n"
            " \"mounts\": [\n"
            "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": "
            "\"proc\"},\n"
            "  {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": "
            "\"tmpfs\", \"options\": [\"nosuid\", \"nodev\", \"size=1m\"]}],\n"
            " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": "
            "\"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, "
            "{\"type\": \"mount\"}]%s}}\n",
            args, mct_rootfs(), linux_extra);
    fclose(f);
}

/* A memfd for a child's output, read back with fd_text(). */
static int new_out(const char *name)
{
    int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);

    cr_assert(fd >= 0, "memfd_create: %s", strerror(errno));
    return fd;
}

static char *fd_text(int fd)
{
    struct stat st;
    char *s;
    ssize_t n;

    cr_assert(fstat(fd, &st) == 0);
    s = calloc(1, (size_t)st.st_size + 1);
    cr_assert_not_null(s);
    n = pread(fd, s, (size_t)st.st_size, 0);
    s[n > 0 ? n : 0] = '\0';
    return s;
}

/*
 * minictr --root ROOT ARGS... (NULL-terminated); its stdout into out_fd
 * when >= 0 (create: the container's output goes there too), else into a
 * memfd of its own. Waits for minictr itself, not for the end of its
 * output: a created container holds its stdout. r->pid is minictr's pid
 * (the container's cgroup is named after create's).
 */
static void oci_out(struct mct_result *r, int out_fd, const char *arg, ...)
{
    char *argv[MCT_MAX_ARGS];
    int out = out_fd >= 0 ? out_fd : new_out("out"), err = new_out("err");
    double end = mct_now() + 10;
    int n = 0, ws = 0;
    va_list ap;
    pid_t pid;

    argv[n++] = (char *)mct_binary();
    argv[n++] = "--root";
    argv[n++] = root;
    va_start(ap, arg);
    for (const char *a = arg; a; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    *r = (struct mct_result){0};
    fflush(NULL);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);

        dup2(null, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    r->pid = pid;
    if (nruns < MAX_RUNS)
        runs[nruns++] = pid;
    while (waitpid(pid, &ws, WNOHANG) == 0) {
        if (mct_now() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &ws, 0);
            r->timed_out = true;
            break;
        }
        usleep(5000);
    }
    r->status = r->timed_out    ? -1
                : WIFEXITED(ws) ? WEXITSTATUS(ws)
                                : 128 + WTERMSIG(ws);
    r->out = fd_text(out);
    r->err = fd_text(err);
    if (out_fd < 0)
        close(out);
    close(err);
}
#define oci(r, ...) oci_out(r, -1, __VA_ARGS__)

/* The value of "key" in the JSON that `minictr state` printed. */
static json_t *parse_json(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);

    cr_assert_not_null(j, "not JSON (%s): %s", e.text, text);
    return j;
}

static char *state_status(const char *id, pid_t *pid)
{
    struct mct_result r;
    json_t *j;
    char *s;

    oci(&r, "state", id, NULL);
    cr_assert_eq(r.status, 0, "minictr state %s failed: %s", id, r.err);
    j = parse_json(r.out);
    s = strdup(json_string_value(json_object_get(j, "status")) ?: "?");
    if (pid)
        *pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
    json_decref(j);
    mct_result_free(&r);
    return s;
}

static void expect_status(const char *id, const char *want)
{
    char *s = state_status(id, NULL);

    cr_assert_str_eq(s, want, "minictr state %s: status \"%s\", not \"%s\"", id,
                     s, want);
    free(s);
}

/* Wait until the status is want (up to sec). */
static bool wait_status(const char *id, const char *want, double sec)
{
    double end = mct_now() + sec;

    for (;;) {
        char *s = state_status(id, NULL);
        bool ok = !strcmp(s, want);

        free(s);
        if (ok || mct_now() > end)
            return ok;
        usleep(20000);
    }
}

/* Wait until the memfd's text holds needle. */
static bool wait_text(int fd, const char *needle, double sec)
{
    double end = mct_now() + sec;

    for (;;) {
        char *s = fd_text(fd);
        bool ok = strstr(s, needle) != NULL;

        free(s);
        if (ok || mct_now() > end)
            return ok;
        usleep(20000);
    }
}

/* create --bundle B ID, output into out_fd; asserts success. */
static pid_t create_ok(const char *id, int out_fd)
{
    struct mct_result r;
    pid_t minictr;

    oci_out(&r, out_fd, "create", "--bundle", bundle, id, NULL);
    cr_assert_eq(r.status, 0, "minictr create %s: exit %d: %s", id, r.status,
                 r.err);
    minictr = r.pid;
    mct_result_free(&r);
    return minictr;
}

static void start_ok(const char *id)
{
    struct mct_result r;

    oci(&r, "start", id, NULL);
    cr_assert_eq(r.status, 0, "minictr start %s: exit %d: %s", id, r.status,
                 r.err);
    mct_result_free(&r);
}

static void rm_rf(const char *dir)
{
    mct_system((char *[]){"rm", "-rf", "--one-file-system", (char *)dir, NULL});
}

static void setup(void)
{
    mct_require_built();
    mct_require_root();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Ended children stay zombies until reaped (not so with SIGCHLD
     * ignored): a container's PID 1 re-parented to us included. */
    signal(SIGCHLD, SIG_DFL);
    snprintf(tmp, sizeof(tmp), "/tmp/mct-oci-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
    snprintf(root, sizeof(root), "%s/state", tmp);
    snprintf(bundle, sizeof(bundle), "%s/bundle", tmp);
    cr_assert(mkdir(bundle, 0755) == 0);
}

/* Whatever a failed test left: every container of our --root, forced. */
static void teardown(void)
{
    DIR *d = opendir(root);
    struct dirent *e;

    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            struct mct_result r;

            oci(&r, "delete", "--force", e->d_name, NULL);
            mct_result_free(&r);
        }
    if (d)
        closedir(d);
    mct_reap_leftover_processes(NULL, 0);
    for (size_t i = 0; i < nruns; i++)
        mct_cgroup_cleanup_after_kill(runs[i]);
    rm_rf(tmp);
}

static const char SLEEPER[] =
    "[\"sh\", \"-c\", \"echo started $(hostname); echo m > /tmp/marker; "
    "exec sleep 30\"]";

/* ---- the lifecycle (TODOs 1-4) ---------------------------------------------
 */

Test(runtime, create_start_kill_delete_lifecycle)
{
    char pidfile[PATH_MAX + 16], statedir[PATH_MAX + 16], *text, *cg;
    struct mct_snapshot before;
    struct mct_result r;
    pid_t pid1 = 0, pid_in_file = 0, creator;
    json_t *j;
    int log;
    FILE *f;

    write_config(SLEEPER, ", \"resources\": {\"pids\": {\"limit\": 64}}");
    mct_snapshot(&before);
    log = new_out("container");
    snprintf(pidfile, sizeof(pidfile), "%s/pid", tmp);
    snprintf(statedir, sizeof(statedir), "%s/c1", root);

    /* runc's callers: create --bundle B --pid-file F ID */
    oci_out(&r, log, "create", "--bundle", bundle, "--pid-file", pidfile, "c1",
            NULL);
    cr_assert_eq(r.status, 0, "create: exit %d: %s", r.status, r.err);
    creator = r.pid;
    mct_result_free(&r);
    f = fopen(pidfile, "r");
    cr_assert_not_null(f, "create wrote no --pid-file %s", pidfile);
    cr_assert_eq(fscanf(f, "%d", &pid_in_file), 1);
    fclose(f);

    oci(&r, "state", "c1", NULL);
    cr_assert_eq(r.status, 0, "state: %s", r.err);
    j = parse_json(r.out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "id")) ?: "", "c1");
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")) ?: "",
                     "created", "a created container's state:\n%s", r.out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "bundle")) ?: "",
                     bundle, "state.bundle:\n%s", r.out);
    cr_assert_not_null(json_object_get(j, "ociVersion"), "%s", r.out);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(j, "annotations"), "org.virtlab.test"))
                         ?: "",
                     "yes", "state.annotations:\n%s", r.out);
    pid1 = (pid_t)json_integer_value(json_object_get(j, "pid"));
    cr_assert(pid1 > 0 && pid1 == pid_in_file,
              "state.pid %d, --pid-file %d: both are the container's PID 1 "
              "as the host sees it",
              pid1, pid_in_file);
    json_decref(j);
    mct_result_free(&r);
    cr_assert(kill(pid1, 0) == 0, "the container's PID 1 died with create");
    /* Created: set up, but process.args has not run yet. */
    usleep(200000);
    text = fd_text(log);
    cr_assert(!strstr(text, "started"),
              "process.args ran before start (the exec fifo):\n%s", text);
    free(text);
    cg = mct_cgroup_leftover(creator);
    cr_assert_not_null(cg, "no cgroup minictr-%d for resources.pids",
                       (int)creator);
    free(cg);

    start_ok("c1");
    cr_assert(wait_text(log, "started ocibox", 5),
              "start did not run process.args");
    expect_status("c1", "running");

    oci(&r, "kill", "c1", "SIGKILL", NULL);
    cr_assert_eq(r.status, 0, "kill c1 SIGKILL: %s", r.err);
    mct_result_free(&r);
    cr_assert(wait_status("c1", "stopped", 5),
              "still not stopped 5 s after kill SIGKILL");

    oci(&r, "delete", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete of a stopped container: %s", r.err);
    mct_result_free(&r);
    cr_assert(access(statedir, F_OK) != 0, "delete left %s", statedir);
    cg = mct_cgroup_leftover(creator);
    cr_assert_null(cg, "delete left the cgroup %s", cg);
    oci(&r, "state", "c1", NULL);
    cr_assert_neq(r.status, 0, "state of a deleted container succeeded");
    cr_assert(strstr(r.err, "does not exist"), "%s", r.err);
    mct_result_free(&r);
    close(log);
    mct_assert_no_leftovers(&before, NULL, mct_rootfs());
}

Test(runtime, status_is_computed_live)
{
    char statefile[PATH_MAX + 16];
    json_t *st;
    int log = new_out("container");

    /* The command ends by itself: stopped, with no kill. */
    write_config("[\"sh\", \"-c\", \"echo bye\"]", "");
    create_ok("c2", log);
    expect_status("c2", "created");
    start_ok("c2");
    cr_assert(wait_text(log, "bye", 5), "the command did not run");
    cr_assert(wait_status("c2", "stopped", 5),
              "a container whose PID 1 ended is not \"stopped\"");

    /* A pid that is another process now: state.json's start time says. */
    write_config(SLEEPER, "");
    create_ok("c3", log);
    snprintf(statefile, sizeof(statefile), "%s/c3/state.json", root);
    st = json_load_file(statefile, 0, NULL);
    cr_assert_not_null(st);
    json_object_set_new(json_object_get(st, "minictr"), "start_time",
                        json_integer(1));
    cr_assert_eq(json_dump_file(st, statefile, 0), 0);
    json_decref(st);
    expect_status("c3", "stopped");
    close(log);
}

/* TODO 2 alone: our own process, a fifo that is there or not, a zombie. */
Test(runtime, status_from_pid_start_time_and_fifo)
{
    char fifo[PATH_MAX + 16];
    unsigned long long start;
    pid_t child;

    snprintf(fifo, sizeof(fifo), "%s/exec.fifo", tmp);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_assert_eq(mct_proc_start_time(getpid(), &start), 0);
    cr_assert_eq(mct_state_status(getpid(), start, fifo), MCT_CREATED,
                 "alive, the fifo there: created (%s)", vl_errmsg());
    unlink(fifo);
    cr_assert_eq(mct_state_status(getpid(), start, fifo), MCT_RUNNING,
                 "alive, no fifo: running");
    cr_assert_eq(mct_state_status(getpid(), start + 1, fifo), MCT_STOPPED,
                 "another start time: the pid was reused: stopped");
    /* A zombie: a child of a middle process that does not reap it (this
     * test process may reap its own children behind our back). */
    {
        int p[2];
        pid_t middle;

        cr_assert_eq(pipe(p), 0);
        middle = fork();
        if (middle == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            signal(SIGCHLD, SIG_DFL);
            child = fork();
            if (child == 0)
                _exit(0);
            if (write(p[1], &child, sizeof(child)) != sizeof(child))
                _exit(1);
            pause();
            _exit(0);
        }
        close(p[1]);
        cr_assert_eq(read(p[0], &child, sizeof(child)), sizeof(child));
        close(p[0]);
        cr_assert_eq(mct_proc_start_time(child, &start), 0);
        usleep(100000); /* a zombie now: ended, not reaped */
        cr_assert_eq(mct_state_status(child, start, fifo), MCT_STOPPED,
                     "a zombie PID 1 (state Z in /proc/PID/stat) is stopped");
        kill(middle, SIGKILL);
        waitpid(middle, NULL, 0);
        usleep(50000);
    }
    cr_assert_eq(mct_state_status(child, start, fifo), MCT_STOPPED,
                 "a reaped PID 1 is stopped");
}

/* TODO 1 alone: rename(2) replaces the file; it is never rewritten. */
Test(runtime, state_file_is_replaced_atomically)
{
    char path[PATH_MAX + 16], buf[64] = "";
    json_t *a = json_pack("{s:s, s:i}", "id", "x", "pid", 1);
    json_t *b = json_pack("{s:s, s:i}", "id", "x", "pid", 2), *back;
    int old;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/state.json", tmp);
    cr_assert_eq(mct_state_write(tmp, a), 0, "%s", vl_errmsg());
    old = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert(old >= 0, "no %s after mct_state_write", path);
    cr_assert_eq(mct_state_write(tmp, b), 0, "%s", vl_errmsg());
    back = json_load_file(path, 0, NULL);
    cr_assert_not_null(back, "%s is not JSON", path);
    cr_assert_eq(json_integer_value(json_object_get(back, "pid")), 2);
    /* A reader that opened the old file still reads the old file whole. */
    n = pread(old, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(old);
    json_decref(back);
    back = json_loads(buf, 0, NULL);
    cr_assert(back && json_integer_value(json_object_get(back, "pid")) == 1,
              "the old state.json changed under a reader (\"%s\"): write a "
              "temporary file and rename() it over state.json",
              buf);
    {
        DIR *d = opendir(tmp);
        struct dirent *e;
        int files = 0;

        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                strcmp(e->d_name, "bundle"))
                files++;
        closedir(d);
        cr_assert_eq(files, 1, "temporary files left next to state.json");
    }
    json_decref(a);
    json_decref(b);
    json_decref(back);
}

/* ---- kill (TODO 3)
 * -----------------------------------------------------------
 */

Test(runtime, kill_sends_the_signal_asked_for)
{
    struct mct_result r;
    int log = new_out("container");

    write_config("[\"sh\", \"-c\", \"trap 'echo got USR1; exit 0' USR1; "
                 "echo ready; while :; do sleep 0.05; done\"]",
                 "");
    create_ok("k1", log);
    start_ok("k1");
    cr_assert(wait_text(log, "ready", 5), "the container did not start");
    oci(&r, "kill", "k1", "USR1", NULL);
    cr_assert_eq(r.status, 0, "kill k1 USR1: %s", r.err);
    mct_result_free(&r);
    cr_assert(wait_text(log, "got USR1", 5),
              "the container's command never got SIGUSR1 from `minictr kill "
              "k1 USR1`");
    cr_assert(wait_status("k1", "stopped", 5));
    oci(&r, "kill", "k1", "KILL", NULL);
    cr_assert_neq(r.status, 0, "kill of a stopped container succeeded");
    mct_result_free(&r);
    close(log);
}

/* TODO 3 alone: the signal, and no stranger hit when the pid was reused. */
Test(runtime, kill_goes_through_a_pidfd_to_the_right_process)
{
    unsigned long long start;
    int ws;
    pid_t child = fork();

    if (child == 0) {
        pause();
        _exit(0);
    }
    cr_assert_eq(mct_proc_start_time(child, &start), 0);
    cr_assert(mct_kill(child, start + 1, SIGKILL) == -ESRCH,
              "a pid with another start time is another process: -ESRCH");
    cr_assert(kill(child, 0) == 0, "mct_kill signalled a stranger");
    cr_assert_eq(mct_kill(child, start, SIGUSR2), 0, "%s", vl_errmsg());
    waitpid(child, &ws, 0);
    cr_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGUSR2,
              "the process did not die of the signal sent (SIGUSR2)");
    cr_assert_eq(mct_kill(child, start, SIGKILL), -ESRCH,
                 "kill of a reaped process: -ESRCH");
}

/* ---- exec and ps (TODOs 5, 6) ----------------------------------------------
 */

Test(runtime, exec_joins_the_running_container)
{
    struct mct_result r;
    char host_ns[64], host_mnt[64], *ns;
    int log = new_out("container");
    pid_t pid1;
    char path[64];
    ssize_t n;

    write_config(SLEEPER, "");
    create_ok("e1", log);
    start_ok("e1");
    cr_assert(wait_text(log, "started", 5));
    free(state_status("e1", &pid1));
    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid1);
    n = readlink(path, host_ns, sizeof(host_ns) - 1);
    cr_assert(n > 0);
    host_ns[n] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid1);
    n = readlink(path, host_mnt, sizeof(host_mnt) - 1);
    cr_assert(n > 0);
    host_mnt[n] = '\0';

    oci(&r, "exec", "e1", "--", "sh", "-c",
        "echo host=$(hostname); echo marker=$(cat /tmp/marker); "
        "echo pid=$$; echo ns=$(readlink /proc/self/ns/pid); "
        "echo mnt=$(readlink /proc/self/ns/mnt)",
        NULL);
    cr_assert_eq(r.status, 0, "exec: exit %d: %s%s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "host=ocibox"),
              "exec'd command is not in the container's UTS namespace:\n%s",
              r.out);
    cr_assert(strstr(r.out, "marker=m\n"),
              "exec'd command does not see the container's /tmp (its mount "
              "namespace):\n%s",
              r.out);
    ns = mct_kv(r.out, "ns");
    cr_assert(ns && !strcmp(ns, host_ns),
              "exec'd command's PID namespace %s, the container's %s: fork "
              "after setns(CLONE_NEWPID)",
              ns ? ns : "?", host_ns);
    free(ns);
    ns = mct_kv(r.out, "mnt");
    cr_assert(ns && !strcmp(ns, host_mnt),
              "exec'd command's mount namespace %s, the container's %s: "
              "join its mount namespace too (a chroot alone is not it)",
              ns ? ns : "?", host_mnt);
    free(ns);
    cr_assert(mct_kv_num(r.out, "pid") < 100,
              "pid %lld: not a pid of the container's namespace:\n%s",
              mct_kv_num(r.out, "pid"), r.out);
    mct_result_free(&r);

    /* Its exit status is exec's. */
    oci(&r, "exec", "e1", "--", "sh", "-c", "exit 7", NULL);
    cr_assert_eq(r.status, 7, "exec's status %d, the command's 7: %s", r.status,
                 r.err);
    mct_result_free(&r);
    close(log);
}

Test(runtime, ps_lists_the_containers_processes)
{
    struct mct_result r;
    int log = new_out("container");
    pid_t pid1, extra = 0;
    char pidfile[PATH_MAX + 16];
    json_t *j, *v;
    size_t i;
    bool has1 = false, hasx = false;
    FILE *f;

    write_config(SLEEPER, "");
    create_ok("p1", log);
    start_ok("p1");
    cr_assert(wait_text(log, "started", 5));
    free(state_status("p1", &pid1));
    snprintf(pidfile, sizeof(pidfile), "%s/exec.pid", tmp);
    oci(&r, "exec", "--detach", "--pid-file", pidfile, "p1", "--", "sleep",
        "30", NULL);
    cr_assert_eq(r.status, 0, "exec --detach: %s", r.err);
    mct_result_free(&r);
    f = fopen(pidfile, "r");
    cr_assert_not_null(f, "exec --pid-file wrote nothing");
    cr_assert_eq(fscanf(f, "%d", &extra), 1);
    fclose(f);

    oci(&r, "ps", "--format", "json", "p1", NULL);
    cr_assert_eq(r.status, 0, "ps: %s", r.err);
    j = parse_json(r.out);
    cr_assert(json_is_array(j), "ps --format json: a list of pids: %s", r.out);
    json_array_foreach(j, i, v)
    {
        pid_t p = (pid_t)json_integer_value(v);

        has1 |= p == pid1;
        hasx |= p == extra;
        cr_assert(p != getpid() && p != r.pid,
                  "ps lists %d, not in the "
                  "container",
                  p);
    }
    cr_assert(has1, "ps: no PID 1 (%d) in %s", pid1, r.out);
    cr_assert(hasx, "ps: no exec'd process (%d) in %s", extra, r.out);
    cr_assert_eq(json_array_size(j), 3,
                 "PID 1, sleep and the exec'd sleep, not %s", r.out);
    json_decref(j);
    mct_result_free(&r);

    /* kill --all: every process of it. */
    oci(&r, "kill", "--all", "p1", "KILL", NULL);
    cr_assert_eq(r.status, 0, "kill --all: %s", r.err);
    mct_result_free(&r);
    cr_assert(wait_status("p1", "stopped", 5));
    oci(&r, "delete", "p1", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    mct_assert_no_leftovers(NULL, NULL, mct_rootfs());
    close(log);
}

/* ---- run, list, errors ----------------------------------------------------
 */

Test(runtime, run_is_create_start_wait_delete)
{
    char statedir[PATH_MAX + 16];
    struct mct_snapshot before;
    struct mct_result r;

    write_config("[\"sh\", \"-c\", \"echo hi from $(hostname); exit 3\"]", "");
    mct_snapshot(&before);
    oci(&r, "run", "--bundle", bundle, "r1", NULL);
    cr_assert_eq(r.status, 3, "run: exit %d (the command's is 3): %s", r.status,
                 r.err);
    cr_assert(strstr(r.out, "hi from ocibox"), "%s", r.out);
    mct_result_free(&r);
    snprintf(statedir, sizeof(statedir), "%s/r1", root);
    cr_assert(access(statedir, F_OK) != 0, "run left %s", statedir);
    oci(&r, "list", "-q", NULL);
    cr_assert_str_eq(r.out, "", "list after run: %s", r.out);
    mct_result_free(&r);
    mct_assert_no_leftovers(&before, NULL, mct_rootfs());
}

Test(runtime, list_shows_every_container)
{
    struct mct_result r;
    json_t *j;
    int log = new_out("container");

    write_config(SLEEPER, "");
    create_ok("l1", log);
    create_ok("l2", log);
    start_ok("l2");
    oci(&r, "list", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "ID") && strstr(r.out, "STATUS"), "%s", r.out);
    cr_assert(strstr(r.out, "l1") && strstr(r.out, "created"), "%s", r.out);
    cr_assert(strstr(r.out, "l2") && strstr(r.out, "running"), "%s", r.out);
    mct_result_free(&r);
    oci(&r, "list", "--format", "json", NULL);
    j = parse_json(r.out);
    cr_assert_eq(json_array_size(j), 2, "%s", r.out);
    json_decref(j);
    mct_result_free(&r);
    close(log);
}

Test(runtime, errors_are_clear)
{
    char statedir[PATH_MAX + 16], logpath[PATH_MAX + 16], *text;
    struct mct_result r;
    int log = new_out("container"), fd;

    write_config(SLEEPER, "");
    oci(&r, "state", "nosuch", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED);
    cr_assert(strstr(r.err, "nosuch") && strstr(r.err, "does not exist"),
              "state of an unknown id: %s", r.err);
    mct_result_free(&r);

    create_ok("x1", log);
    oci(&r, "create", "--bundle", bundle, "x1", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED, "a second create x1 succeeded");
    cr_assert(strstr(r.err, "exists"), "%s", r.err);
    mct_result_free(&r);
    expect_status("x1", "created");

    start_ok("x1");
    oci(&r, "start", "x1", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED, "start twice succeeded");
    cr_assert(strstr(r.err, "running"), "%s", r.err);
    mct_result_free(&r);

    oci(&r, "delete", "x1", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED,
                 "delete of a running container without --force");
    cr_assert(strstr(r.err, "running") && strstr(r.err, "--force"), "%s",
              r.err);
    mct_result_free(&r);
    expect_status("x1", "running");
    oci(&r, "delete", "--force", "x1", NULL);
    cr_assert_eq(r.status, 0, "delete --force: %s", r.err);
    mct_result_free(&r);
    snprintf(statedir, sizeof(statedir), "%s/x1", root);
    cr_assert(access(statedir, F_OK) != 0, "delete --force left %s", statedir);

    /* A bad bundle: the loader's field path; nothing left. Errors go to
     * --log too, as JSON with --log-format json. */
    write_config("\"sh\"", "");
    snprintf(logpath, sizeof(logpath), "%s/minictr.log", tmp);
    oci(&r, "--log", logpath, "--log-format", "json", "create", "--bundle",
        bundle, "bad", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED);
    cr_assert(strstr(r.err, "process.args"),
              "a bad process.args must be named: %s", r.err);
    mct_result_free(&r);
    snprintf(statedir, sizeof(statedir), "%s/bad", root);
    cr_assert(access(statedir, F_OK) != 0, "a failed create left %s", statedir);
    fd = open(logpath, O_RDONLY | O_CLOEXEC);
    cr_assert(fd >= 0, "--log %s: nothing written", logpath);
    text = fd_text(fd);
    close(fd);
    cr_assert(strstr(text, "\"level\"") && strstr(text, "process.args"),
              "--log-format json: %s", text);
    free(text);
    close(log);
    mct_assert_no_leftovers(NULL, NULL, mct_rootfs());
}
