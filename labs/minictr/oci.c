/*
 * oci.c - the OCI runtime command line of minictr (lab 16, part B): the
 * commands container engines send to runc, so that they can drive minictr
 * instead (runtime-spec runtime.md "Operations"; runc(8)):
 *
 *   minictr [--root DIR] [--log FILE] [--log-format text|json] [--debug]
 *           [--systemd-cgroup] COMMAND ...
 *   create [--bundle DIR] [--pid-file F] ID     set up, wait for start
 *   start ID                                    run process.args
 *   state ID                                    the state JSON
 *   kill [--all] ID [SIGNAL]                    (default SIGTERM)
 *   delete [--force] ID                         release everything
 *   run [--bundle DIR] [--detach] [--pid-file F] ID
 *                                               create + start + wait + delete
 *   list [--format table|json] [-q]
 *   ps [--format table|json] ID
 *   exec [--process JSON] [--env K=V] [--cwd DIR] [--detach] [--pid-file F]
 *        ID [--] [CMD ARGS...]
 *
 * The state directory: ROOT/ID/ (ROOT: --root, default /run/minictr for
 * root, $XDG_RUNTIME_DIR/minictr otherwise) holds state.json (runtime.md
 * "State", plus a private "minictr" object: PID 1's start time, the
 * cgroup, the image's directories, the veth) and exec.fifo while the
 * container is "created".
 *
 * Who reaps a detached container? `create` exits once the container is
 * set up; its PID 1 is re-parented to the nearest child subreaper
 * (prctl(2) PR_SET_CHILD_SUBREAPER: containerd-shim, conmon, a test) or
 * to the host's init, which collects its exit status when it ends - as
 * with runc. Until then a dead PID 1 is a zombie: `state` says "stopped".
 *
 * The lifecycle's concepts are runtime.c's TODOs; this file is the
 * plumbing: the command line, the state directory and its JSON, output.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grp.h>

#include "minictr.h"
#include "virtlab/cleanup.h"

#define OCI_VERSION "1.0.2"
#define MAX_PIDS    4096

/* The global options. */
static struct {
    const char *root;
    const char *log;
    bool log_json;
    bool debug;
    bool quiet; /* list: no error messages */
    char root_buf[PATH_MAX];
} g;

/* An error, on stderr and in --log (runc's log format with json). */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    char msg[VL_ERRMSG_MAX + 256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (g.quiet)
        return MCT_EXIT_FAILED;
    fprintf(stderr, "minictr: %s\n", msg);
    if (g.log) {
        FILE *f = fopen(g.log, "ae");
        char ts[64];
        time_t now = time(NULL);
        struct tm tm;

        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        if (f && g.log_json) {
            json_t *j = json_pack("{s:s, s:s, s:s}", "level", "error", "msg",
                                  msg, "time", ts);
            char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

            if (s)
                fprintf(f, "%s\n", s);
            free(s);
            json_decref(j);
        } else if (f) {
            fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", ts, msg);
        }
        if (f)
            fclose(f);
    }
    return MCT_EXIT_FAILED;
}

static void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug(const char *fmt, ...)
{
    va_list ap;

    if (!g.debug)
        return;
    va_start(ap, fmt);
    fputs("minictr: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- helpers ------------------------------------------------------------ */

int mct_proc_start_time(pid_t pid, unsigned long long *start)
{
    char path[64], buf[1024], *p;
    ssize_t n;
    int fd, field;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vl_err(errno, "%s", path);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return vl_err_plain(ESRCH, "%s: empty", path);
    buf[n] = '\0';
    /* After "(comm)" come fields 3, 4, ... (p: the space before field
     * 3): starttime is field 22. */
    p = strrchr(buf, ')');
    if (!p)
        return vl_err_plain(EINVAL, "%s: no (comm)", path);
    p++;
    for (field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p, " %llu", start) != 1)
        return vl_err_plain(EINVAL, "%s: no start time", path);
    return 0;
}

/* An id becomes a directory name: runc's rule, ^[\w+\-.]+$, not . or .. */
static bool valid_id(const char *id)
{
    if (!*id || strlen(id) > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
            return false;
    return true;
}

static int state_dir(const char *id, char *out, size_t len)
{
    if (!valid_id(id))
        return fail("container id \"%s\": use letters, digits and _+-. only",
                    id);
    snprintf(out, len, "%s/%s", g.root, id);
    return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return vl_err(errno, "mkdir %s", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return vl_err(errno, "mkdir %s", buf);
    return 0;
}

/* Write a pid file the way runc does: whole, or not at all. dirfd: the
 * directory relative paths start from (AT_FDCWD; exec: opened before it
 * left the host's mount namespace). */
static int write_pid_file_at(int dirfd, const char *path, pid_t pid)
{
    char tmp[PATH_MAX + 8], buf[32];
    int fd, n;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vl_err(errno, "--pid-file %s", tmp);
    n = snprintf(buf, sizeof(buf), "%d", (int)pid);
    if (write(fd, buf, (size_t)n) != n || close(fd) < 0 ||
        renameat(dirfd, tmp, dirfd, path) < 0) {
        int e = errno;

        unlinkat(dirfd, tmp, 0);
        return vl_err(e, "--pid-file %s", path);
    }
    return 0;
}

static int write_pid_file(const char *path, pid_t pid)
{
    return write_pid_file_at(AT_FDCWD, path, pid);
}

/* The signal of `kill`: 9, KILL, SIGKILL, sigkill. */
static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {
        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},
        {"ILL", SIGILL},       {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},
        {"BUS", SIGBUS},       {"FPE", SIGFPE},   {"KILL", SIGKILL},
        {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
        {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},
        {"CHLD", SIGCHLD},     {"CONT", SIGCONT}, {"STOP", SIGSTOP},
        {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
        {"URG", SIGURG},       {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
        {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
        {"IO", SIGIO},         {"PWR", SIGPWR},   {"SYS", SIGSYS},
    };
    char *end;
    long n = strtol(s, &end, 10);

    if (*s && !*end)
        return n > 0 && n < NSIG ? (int)n : -1;
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcasecmp(s, names[i].name))
            return names[i].sig;
    return -1;
}

/* ---- the state ---------------------------------------------------------- */

struct oci_state {
    char id[1100];
    char dir[PATH_MAX];
    char fifo[PATH_MAX + 16];
    json_t *json; /* state.json as written */
    pid_t pid;
    unsigned long long start;
    const char *bundle;
    int status; /* enum mct_status, computed now */
};

static const char *status_name(int s)
{
    return s == MCT_CREATED   ? "created"
           : s == MCT_RUNNING ? "running"
                              : "stopped";
}

static void state_free(struct oci_state *s)
{
    json_decref(s->json);
    s->json = NULL;
}

/* Read ROOT/ID/state.json and compute the status. 0 or an exit status. */
static int state_load(const char *id, struct oci_state *s)
{
    char path[PATH_MAX + 16];
    json_error_t e;
    json_int_t pid = 0, start = 0;
    int r;

    *s = (struct oci_state){0};
    if (state_dir(id, s->dir, sizeof(s->dir)))
        return MCT_EXIT_FAILED;
    snprintf(s->id, sizeof(s->id), "%s", id);
    snprintf(s->fifo, sizeof(s->fifo), "%s/exec.fifo", s->dir);
    snprintf(path, sizeof(path), "%s/state.json", s->dir);
    s->json = json_load_file(path, 0, &e);
    if (!s->json) {
        if (access(s->dir, F_OK) < 0)
            return fail("container \"%s\" does not exist (no %s)", id, s->dir);
        return fail("%s: %s", path, e.text);
    }
    if (json_unpack_ex(s->json, &e, 0, "{s:I, s:s, s:{s:I}}", "pid", &pid,
                       "bundle", &s->bundle, "minictr", "start_time",
                       &start) < 0) {
        state_free(s);
        return fail("%s: %s", path, e.text);
    }
    s->pid = (pid_t)pid;
    s->start = (unsigned long long)start;
    r = mct_state_status(s->pid, s->start, s->fifo);
    if (r < 0) {
        state_free(s);
        return fail("the status of \"%s\": %s", id, vl_errmsg());
    }
    s->status = r;
    return 0;
}

/* The public part (runtime.md "State"; runc adds rootfs, created, owner). */
static json_t *state_public(const struct oci_state *s)
{
    json_t *j = json_object(), *v;

    json_object_set_new(j, "ociVersion", json_string(OCI_VERSION));
    json_object_set_new(j, "id", json_string(s->id));
    json_object_set_new(j, "pid",
                        json_integer(s->status == MCT_STOPPED ? 0 : s->pid));
    json_object_set_new(j, "status", json_string(status_name(s->status)));
    json_object_set_new(j, "bundle", json_string(s->bundle));
    if ((v = json_object_get(s->json, "rootfs")))
        json_object_set(j, "rootfs", v);
    if ((v = json_object_get(s->json, "created")))
        json_object_set(j, "created", v);
    json_object_set_new(j, "owner", json_string(""));
    if ((v = json_object_get(s->json, "annotations")))
        json_object_set(j, "annotations", v);
    return j;
}

static json_t *cgroup_to_json(const struct vl_cgroup *cg)
{
    json_t *v1 = json_array();

    for (size_t i = 0; i < cg->nv1; i++)
        json_array_append_new(v1,
                              json_pack("{s:s, s:s}", "ctrl", cg->v1[i].ctrl,
                                        "dir", cg->v1[i].dir));
    return json_pack("{s:i, s:s, s:o}", "version", cg->version, "path",
                     cg->path, "v1", v1);
}

static void cgroup_from_json(const json_t *j, struct vl_cgroup *cg)
{
    const json_t *v1 = json_object_get(j, "v1"), *e;
    size_t i;

    *cg = (struct vl_cgroup){0};
    if (!j)
        return;
    cg->version = (int)json_integer_value(json_object_get(j, "version"));
    snprintf(cg->path, sizeof(cg->path), "%s",
             json_string_value(json_object_get(j, "path")) ?: "");
    json_array_foreach(v1, i, e)
    {
        if (i >= VL_CGROUP_MAX_V1)
            break;
        snprintf(cg->v1[i].ctrl, sizeof(cg->v1[i].ctrl), "%s",
                 json_string_value(json_object_get(e, "ctrl")) ?: "");
        snprintf(cg->v1[i].dir, sizeof(cg->v1[i].dir), "%s",
                 json_string_value(json_object_get(e, "dir")) ?: "");
        cg->nv1 = i + 1;
    }
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static char *dup_or_null(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));

    return s ? strdup(s) : NULL;
}

/* Everything delete needs to release, besides the public state. */
static json_t *state_private(const struct minictr *ct, unsigned long long start)
{
    json_t *priv = json_object();

    json_object_set_new(priv, "start_time", json_integer((json_int_t)start));
    json_object_set_new(priv, "cgroup", cgroup_to_json(&ct->cg));
    if (ct->opt.image)
        json_object_set_new(priv, "image",
                            json_pack("{s:o, s:o, s:o, s:o, s:o}", "name",
                                      jstr(ct->opt.image), "store",
                                      jstr(ct->opt.store), "ctr_dir",
                                      jstr(ct->image.ctr_dir), "lowerdir",
                                      jstr(ct->image.lowerdir), "rootfs",
                                      jstr(ct->image.rootfs)));
    if (ct->opt.bridge_net)
        json_object_set_new(
            priv, "net",
            json_pack(
                "{s:o, s:s, s:s, s:I, s:I, s:i, s:b, s:b}", "bridge",
                jstr(ct->opt.bridge), "veth_host", ct->net.veth_host,
                "veth_ctr", ct->net.veth_ctr, "addr", (json_int_t)ct->net.addr,
                "gateway", (json_int_t)ct->net.gateway, "prefix",
                (int)ct->net.prefix, "bridge_created", ct->net.bridge_created,
                "lease_held", ct->net.lease_held));
    return priv;
}

/* Rebuild in ct what release_container() needs (delete). The strings
 * point into s->json, or are malloc'd into ct->image (freed by us). */
static void ct_from_state(struct minictr *ct, const struct oci_state *s)
{
    const json_t *priv = json_object_get(s->json, "minictr");
    const json_t *img = json_object_get(priv, "image");
    const json_t *net = json_object_get(priv, "net");

    mct_init_struct(ct, NULL);
    ct->opt.verbose = g.debug;
    ct->pid = s->pid;
    cgroup_from_json(json_object_get(priv, "cgroup"), &ct->cg);
    if (img) {
        ct->opt.image = json_string_value(json_object_get(img, "name"));
        ct->opt.store = json_string_value(json_object_get(img, "store"));
        ct->image.ctr_dir = dup_or_null(img, "ctr_dir");
        ct->image.lowerdir = dup_or_null(img, "lowerdir");
        ct->image.rootfs = dup_or_null(img, "rootfs");
    }
    if (net) {
        ct->opt.bridge_net = true;
        ct->opt.bridge = json_string_value(json_object_get(net, "bridge"));
        snprintf(ct->net.veth_host, sizeof(ct->net.veth_host), "%s",
                 json_string_value(json_object_get(net, "veth_host")) ?: "");
        snprintf(ct->net.veth_ctr, sizeof(ct->net.veth_ctr), "%s",
                 json_string_value(json_object_get(net, "veth_ctr")) ?: "");
        ct->net.addr =
            (uint32_t)json_integer_value(json_object_get(net, "addr"));
        ct->net.gateway =
            (uint32_t)json_integer_value(json_object_get(net, "gateway"));
        ct->net.prefix =
            (unsigned)json_integer_value(json_object_get(net, "prefix"));
        ct->net.bridge_created =
            json_is_true(json_object_get(net, "bridge_created"));
        ct->net.lease_held = json_is_true(json_object_get(net, "lease_held"));
    }
}

static void ct_from_state_free(struct minictr *ct)
{
    free(ct->image.ctr_dir);
    free(ct->image.lowerdir);
    free(ct->image.rootfs);
    ct->image = (struct mct_image){0};
}

/* Remove ROOT/ID/ and what is in it. */
static void remove_state_dir(const char *dir)
{
    static const char *const files[] = {"state.json", ".state.json.tmp",
                                        "exec.fifo"};
    char path[PATH_MAX + 32];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    if (rmdir(dir) < 0 && errno != ENOENT)
        fprintf(stderr, "minictr: warning: rmdir %s: %s\n", dir,
                strerror(errno));
}

/* Wait up to ms for PID 1 to end (a zombie counts as ended). */
static bool wait_stopped(const struct oci_state *s, int ms)
{
    for (int t = 0; t <= ms; t += 20) {
        if (mct_state_status(s->pid, s->start, s->fifo) == MCT_STOPPED)
            return true;
        usleep(20000);
    }
    return false;
}

/* ---- create / run -------------------------------------------------------- */

struct create_args {
    const char *bundle, *pid_file, *id;
    bool detach; /* PID 1 outlives this process */
};

static void iso_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    char base[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S",
             gmtime_r(&ts.tv_sec, &tm));
    snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

/*
 * create: the container set up and waiting on its exec fifo; ct keeps
 * what mct_run() set (the caller mct_destroy()s it). 0 or an exit status;
 * on failure nothing is left (state directory included).
 */
static int do_create(const struct create_args *a, struct minictr *ct)
{
    char dir[PATH_MAX], fifo[PATH_MAX + 16], bundle[PATH_MAX], created[64];
    struct mct_options opt = {0};
    unsigned long long start = 0;
    json_t *st;
    int r, fifo_fd = -1;

    mct_init_struct(ct, NULL);
    if (state_dir(a->id, dir, sizeof(dir)))
        return MCT_EXIT_FAILED;
    if (!realpath(a->bundle, bundle))
        return fail("--bundle %s: %s", a->bundle, strerror(errno));
    if ((r = mkdir_p(g.root, 0711)) < 0)
        return fail("the state directory: %s", vl_errmsg());
    if (mkdir(dir, 0711) < 0)
        return errno == EEXIST
                   ? fail("container \"%s\" exists already (%s): minictr "
                          "delete %s first",
                          a->id, dir, a->id)
                   : fail("mkdir %s: %s", dir, strerror(errno));

    opt.bundle = bundle;
    opt.verbose = g.debug;
    mct_init_struct(ct, &opt);
    if ((r = mct_bundle_load(ct, bundle)) < 0) {
        remove_state_dir(dir);
        return fail("%s/config.json: %s", bundle, vl_errmsg());
    }
    /* The FIFO the container's PID 1 waits on (mct_exec_fifo_wait): 0622,
     * so that a container root mapped to another host uid may open it. */
    snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
    if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0 ||
        (fifo_fd = open(fifo, O_PATH | O_CLOEXEC)) < 0) {
        r = fail("%s: %s", fifo, strerror(errno));
        remove_state_dir(dir);
        return r;
    }
    ct->bundle.exec_fifo = fifo_fd;
    ct->bundle.detach = a->detach;
    r = mct_run(ct);
    close(fifo_fd);
    ct->bundle.exec_fifo = 0;
    if (r < 0) {
        r = fail("%s", vl_errmsg());
        remove_state_dir(dir);
        return r;
    }
    if (mct_proc_start_time(ct->pid, &start) < 0) {
        r = fail("the container's PID 1 died at once: %s", vl_errmsg());
        goto undo;
    }
    iso_now(created, sizeof(created));
    st = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "ociVersion",
                   OCI_VERSION, "id", a->id, "status", "created", "pid",
                   (int)ct->pid, "bundle", bundle, "rootfs",
                   ct->opt.rootfs ? ct->opt.rootfs : "", "created", created);
    {
        json_t *ann = json_object_get(ct->bundle.config, "annotations");

        json_object_set_new(st, "annotations",
                            json_is_object(ann) ? json_deep_copy(ann)
                                                : json_object());
    }
    json_object_set_new(st, "minictr", state_private(ct, start));
    r = mct_state_write(dir, st);
    json_decref(st);
    if (r < 0) {
        r = fail("writing the state: %s", vl_errmsg());
        goto undo;
    }
    if (a->pid_file && write_pid_file(a->pid_file, ct->pid) < 0) {
        r = fail("%s", vl_errmsg());
        goto undo;
    }
    debug("created %s: PID 1 is %d", a->id, (int)ct->pid);
    return 0;

undo:
    if (ct->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, ct->pidfd, SIGKILL, NULL, 0);
    else
        kill(ct->pid, SIGKILL);
    waitpid(ct->pid, NULL, 0);
    mct_release_container(ct);
    remove_state_dir(dir);
    return r;
}

static int parse_create(int argc, char **argv, struct create_args *a, bool run)
{
    static const struct option longopts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"pid-file", required_argument, NULL, 'p'},
        {"console-socket", required_argument, NULL, 'c'},
        {"detach", no_argument, NULL, 'd'},
        {"no-pivot", no_argument, NULL, 'N'},
        {"no-new-keyring", no_argument, NULL, 'K'},
        {"preserve-fds", required_argument, NULL, 'P'},
        {"keep", no_argument, NULL, 'k'},
        {0},
    };
    int ch;

    *a = (struct create_args){.bundle = "."};
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+:b:d", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            a->bundle = optarg;
            break;
        case 'p':
            a->pid_file = optarg;
            break;
        case 'c':
            return fail("--console-socket: minictr has no terminal support "
                        "(process.terminal must be false); run without a "
                        "tty (podman run without -t)");
        case 'd':
            if (!run)
                return fail("create always detaches; --detach is for run");
            a->detach = true;
            break;
        case 'N':
        case 'K':
        case 'k':
        case 'P':
            debug("ignoring %s", argv[optind - 1]);
            break;
        case ':':
            return fail("%s needs a value", argv[optind - 1]);
        default:
            return fail("%s: unknown option %s", argv[0], argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return fail("usage: minictr %s [--bundle DIR] [--pid-file FILE]%s "
                    "ID",
                    argv[0], run ? " [--detach]" : "");
    a->id = argv[optind];
    return 0;
}

static int cmd_create(int argc, char **argv)
{
    struct create_args a;
    struct minictr ct;
    int r;

    if ((r = parse_create(argc, argv, &a, false)))
        return r;
    a.detach = true;
    r = do_create(&a, &ct);
    mct_destroy(&ct);
    return r;
}

static int do_delete(struct oci_state *s, bool force);

static int cmd_run(int argc, char **argv)
{
    struct create_args a;
    struct oci_state s;
    struct minictr ct;
    int r, status;

    if ((r = parse_create(argc, argv, &a, true)))
        return r;
    r = do_create(&a, &ct);
    if (r) {
        mct_destroy(&ct);
        return r;
    }
    if ((r = state_load(a.id, &s))) {
        mct_destroy(&ct);
        return r;
    }
    if (mct_exec_fifo_start(s.fifo, s.pid, s.start) < 0) {
        r = fail("starting \"%s\": %s", a.id, vl_errmsg());
        do_delete(&s, true);
        goto out;
    }
    if (a.detach)
        goto out;
    /* We made PID 1, so we wait for it (forwarding signals) and reap it. */
    status = mct_wait(&ct);
    if (status < 0) {
        r = fail("waiting for the container: %s", vl_errmsg());
        do_delete(&s, true);
        goto out;
    }
    r = do_delete(&s, true);
    if (r == 0)
        r = status;
out:
    state_free(&s);
    mct_destroy(&ct);
    return r;
}

/* ---- start, state, kill, delete -------------------------------------------
 */

static int one_id(int argc, char **argv, const char *usage)
{
    if (argc != 2 || argv[1][0] == '-')
        return fail("usage: minictr %s %s", argv[0], usage);
    return 0;
}

static int cmd_start(int argc, char **argv)
{
    struct oci_state s;
    int r;

    if ((r = one_id(argc, argv, "ID")) || (r = state_load(argv[1], &s)))
        return r;
    if (s.status != MCT_CREATED)
        r = fail("cannot start container \"%s\": it is %s, not created", s.id,
                 status_name(s.status));
    else if (mct_exec_fifo_start(s.fifo, s.pid, s.start) < 0)
        r = fail("starting \"%s\": %s", s.id, vl_errmsg());
    state_free(&s);
    return r;
}

static int cmd_state(int argc, char **argv)
{
    struct oci_state s;
    json_t *pub;
    char *out;
    int r;

    if ((r = one_id(argc, argv, "ID")) || (r = state_load(argv[1], &s)))
        return r;
    pub = state_public(&s);
    out = json_dumps(pub, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", out ? out : "{}");
    free(out);
    json_decref(pub);
    state_free(&s);
    return 0;
}

static int cmd_kill(int argc, char **argv)
{
    struct oci_state s;
    bool all = false;
    int sig = SIGTERM, r, i = 1;

    if (i < argc && (!strcmp(argv[i], "--all") || !strcmp(argv[i], "-a"))) {
        all = true;
        i++;
    }
    if (i >= argc || argc - i > 2 || argv[i][0] == '-')
        return fail("usage: minictr kill [--all] ID [SIGNAL]");
    if (argc - i == 2 && (sig = parse_signal(argv[i + 1])) < 0)
        return fail("kill: \"%s\" is not a signal (a number, or a name "
                    "such as TERM, SIGKILL)",
                    argv[i + 1]);
    if ((r = state_load(argv[i], &s)))
        return r;
    if (s.status == MCT_STOPPED) {
        r = fail("container \"%s\" is not running", s.id);
    } else if (all) {
        pid_t pids[MAX_PIDS];
        int n = mct_container_pids(s.pid, pids, MAX_PIDS);

        if (n < 0)
            r = fail("the processes of \"%s\": %s", s.id, vl_errmsg());
        for (int k = 0; k < n && k < MAX_PIDS; k++) {
            int fd = (int)syscall(SYS_pidfd_open, pids[k], 0);

            if (fd >= 0) {
                syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
                close(fd);
            }
        }
    } else if (mct_kill(s.pid, s.start, sig) < 0) {
        r = fail("kill %s: %s", s.id, vl_errmsg());
    }
    state_free(&s);
    return r;
}

static int do_delete(struct oci_state *s, bool force)
{
    struct minictr ct;

    if (s->status == MCT_RUNNING && !force)
        return fail("cannot delete container \"%s\": it is running (stop it "
                    "with minictr kill %s, or minictr delete --force %s)",
                    s->id, s->id, s->id);
    if (s->status != MCT_STOPPED) {
        /* A created container, or --force: SIGKILL ends the whole PID
         * namespace with its PID 1 (pid_namespaces(7)). */
        if (mct_kill(s->pid, s->start, SIGKILL) < 0)
            vl_err_clear();
        if (!wait_stopped(s, 5000))
            return fail("container \"%s\": PID 1 (%d) did not die of SIGKILL",
                        s->id, (int)s->pid);
    }
    ct_from_state(&ct, s);
    mct_release_container(&ct);
    ct_from_state_free(&ct);
    mct_destroy(&ct);
    remove_state_dir(s->dir);
    debug("deleted %s", s->id);
    return 0;
}

static int cmd_delete(int argc, char **argv)
{
    struct oci_state s;
    bool force = false;
    int r, i = 1;

    if (i < argc && (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))) {
        force = true;
        i++;
    }
    if (argc - i != 1 || argv[i][0] == '-')
        return fail("usage: minictr delete [--force] ID");
    if ((r = state_load(argv[i], &s))) {
        /* runc: deleting what is not there with --force is no error. */
        char dir[PATH_MAX];

        if (force && valid_id(argv[i]) &&
            !state_dir(argv[i], dir, sizeof(dir)) && access(dir, F_OK) < 0)
            return 0;
        return r;
    }
    r = do_delete(&s, force);
    state_free(&s);
    return r;
}

/* ---- list, ps -------------------------------------------------------------
 */

static bool format_json(const char *f, int *bad)
{
    if (!f || !strcmp(f, "table"))
        return false;
    if (!strcmp(f, "json"))
        return true;
    *bad = fail("--format %s: choose table or json", f);
    return false;
}

static int cmd_list(int argc, char **argv)
{
    const char *format = NULL;
    bool quiet = false, json;
    json_t *arr = json_array();
    struct dirent **names = NULL;
    int n, r, bad = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
            quiet = true;
        else if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) &&
                 i + 1 < argc)
            format = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9))
            format = argv[i] + 9;
        else
            bad = fail("usage: minictr list [--format table|json] [-q]");
    }
    json = format_json(format, &bad);
    if (bad) {
        json_decref(arr);
        return bad;
    }
    n = scandir(g.root, &names, NULL, alphasort);
    if (!json && !quiet)
        printf("%-20s %-8s %-8s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE",
               "CREATED");
    for (int i = 0; i < n; i++) {
        struct oci_state s;

        if (names[i]->d_name[0] == '.' || !valid_id(names[i]->d_name)) {
            free(names[i]);
            continue;
        }
        /* A directory being created or deleted right now: skip quietly. */
        g.quiet = true;
        r = state_load(names[i]->d_name, &s);
        g.quiet = false;
        if (r == 0) {
            json_t *pub = state_public(&s);

            if (json)
                json_array_append(arr, pub);
            else if (quiet)
                printf("%s\n", s.id);
            else
                printf("%-20s %-8d %-8s %-40s %s\n", s.id,
                       s.status == MCT_STOPPED ? 0 : (int)s.pid,
                       status_name(s.status), s.bundle,
                       json_string_value(json_object_get(s.json, "created"))
                           ?: "");
            json_decref(pub);
            state_free(&s);
        }
        free(names[i]);
    }
    free(names);
    if (json) {
        char *out = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);

        printf("%s\n", out ? out : "[]");
        free(out);
    }
    json_decref(arr);
    return 0;
}

static int cmd_ps(int argc, char **argv)
{
    const char *format = NULL, *id = NULL;
    pid_t pids[MAX_PIDS];
    struct oci_state s;
    int n, r, bad = 0;

    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) &&
            i + 1 < argc)
            format = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9))
            format = argv[i] + 9;
        else if (argv[i][0] != '-' && !id)
            id = argv[i];
        else
            bad = fail("usage: minictr ps [--format table|json] ID");
    }
    if (!bad && !id)
        bad = fail("usage: minictr ps [--format table|json] ID");
    bool json = format_json(format, &bad);

    if (bad)
        return bad;
    if ((r = state_load(id, &s)))
        return r;
    if (s.status == MCT_STOPPED) {
        r = fail("container \"%s\" is not running", s.id);
        state_free(&s);
        return r;
    }
    n = mct_container_pids(s.pid, pids, MAX_PIDS);
    state_free(&s);
    if (n < 0)
        return fail("the processes of \"%s\": %s", id, vl_errmsg());
    if (n > MAX_PIDS)
        n = MAX_PIDS;
    if (json) {
        /* runc ps --format json: a list of host pids. */
        fputc('[', stdout);
        for (int i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", (int)pids[i]);
        fputs("]\n", stdout);
        return 0;
    }
    printf("%-8s %s\n", "PID", "CMD");
    for (int i = 0; i < n; i++) {
        char path[64], cmd[256] = "";
        ssize_t len;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pids[i]);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            len = read(fd, cmd, sizeof(cmd) - 1);
            close(fd);
            for (ssize_t k = 0; k < len - 1; k++)
                if (!cmd[k])
                    cmd[k] = ' ';
            cmd[len > 0 ? len : 0] = '\0';
        }
        printf("%-8d %s\n", (int)pids[i], cmd);
    }
    return 0;
}

/* ---- exec ------------------------------------------------------------------
 */

struct exec_args {
    const char *id, *process, *cwd, *pid_file;
    bool detach;
    char **argv;
    const char *env[64];
    size_t nenv;
};

/* Set NAME=VALUE in a NULL-terminated env array (replacing NAME=...). */
static char **env_set(char **env, const char *kv)
{
    size_t n = 0, klen = strcspn(kv, "=");

    for (; env && env[n]; n++)
        if (!strncmp(env[n], kv, klen) && env[n][klen] == '=') {
            env[n] = (char *)kv;
            return env;
        }
    env = realloc(env, (n + 2) * sizeof(char *));
    if (!env)
        return NULL;
    env[n] = (char *)kv;
    env[n + 1] = NULL;
    return env;
}

/* The child of mct_exec_join(): in the container's namespaces; becomes the
 * command. Never returns. */
static void exec_child(struct minictr *ct, int rootfd, const char *cwd,
                       char **argv, char **env, uid_t uid, gid_t gid)
{
    prctl(PR_SET_PDEATHSIG, 0);
    /* The container's root: its PID 1's, opened before the setns. */
    if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
        fprintf(stderr, "minictr: exec: entering the container's root: %s\n",
                strerror(errno));
        _exit(MCT_EXIT_FAILED);
    }
    close(rootfd);
    /* What the container's own command gets, with exec's values:
     * mct_exec_command() calls mct_bundle_exec_setup() (rlimits, env,
     * user, cwd, capabilities, no_new_privs), then seccomp, then execvp. */
    ct->bundle.env = env;
    ct->bundle.cwd = (char *)cwd;
    ct->bundle.uid = uid;
    ct->bundle.gid = gid;
    ct->opt.argv = argv;
    mct_exec_command(ct);
}

/* Load --process (runc exec --process, what Podman's conmon passes). */
static int exec_process_json(struct exec_args *a, json_t **holder, char ***argv,
                             char ***env, const char **cwd, uid_t *uid,
                             gid_t *gid)
{
    json_error_t e;
    json_t *args, *envj, *v;
    size_t i;

    *holder = json_load_file(a->process, 0, &e);
    if (!*holder)
        return fail("--process %s: %s (line %d)", a->process, e.text, e.line);
    args = json_object_get(*holder, "args");
    if (!json_is_array(args) || !json_array_size(args))
        return fail("--process %s: args: a non-empty array of strings is "
                    "needed",
                    a->process);
    *argv = calloc(json_array_size(args) + 1, sizeof(char *));
    json_array_foreach(args, i, v)
    {
        if (!json_is_string(v))
            return fail("--process %s: args[%zu]: not a string", a->process, i);
        (*argv)[i] = (char *)json_string_value(v);
    }
    if (json_is_array(envj = json_object_get(*holder, "env"))) {
        *env = NULL;
        json_array_foreach(envj, i, v) if (json_is_string(v)) *env =
            env_set(*env, json_string_value(v));
    }
    if ((v = json_object_get(*holder, "cwd")) && json_is_string(v))
        *cwd = json_string_value(v);
    if ((v = json_object_get(*holder, "user"))) {
        *uid = (uid_t)json_integer_value(json_object_get(v, "uid"));
        *gid = (gid_t)json_integer_value(json_object_get(v, "gid"));
    }
    if (json_is_true(json_object_get(*holder, "terminal")))
        return fail("--process %s: terminal: minictr has no terminal "
                    "support",
                    a->process);
    return 0;
}

static int parse_exec(int argc, char **argv, struct exec_args *a)
{
    static const struct option longopts[] = {
        {"process", required_argument, NULL, 'p'},
        {"env", required_argument, NULL, 'e'},
        {"cwd", required_argument, NULL, 'w'},
        {"detach", no_argument, NULL, 'd'},
        {"pid-file", required_argument, NULL, 'P'},
        {"tty", no_argument, NULL, 't'},
        {"console-socket", required_argument, NULL, 'c'},
        {"user", required_argument, NULL, 'u'},
        {"no-new-privs", no_argument, NULL, 'n'},
        {0},
    };
    int ch;

    *a = (struct exec_args){0};
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+:e:dt", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            a->process = optarg;
            break;
        case 'e':
            if (!strchr(optarg, '=') || a->nenv >= 64)
                return fail("--env %s: NAME=VALUE", optarg);
            a->env[a->nenv++] = optarg;
            break;
        case 'w':
            a->cwd = optarg;
            break;
        case 'd':
            a->detach = true;
            break;
        case 'P':
            a->pid_file = optarg;
            break;
        case 't':
        case 'c':
            return fail("exec: minictr has no terminal support (--tty, "
                        "--console-socket)");
        case 'u':
            return fail("exec: --user is not supported; use --process with "
                        "process.user");
        case 'n':
            break;
        case ':':
            return fail("%s needs a value", argv[optind - 1]);
        default:
            return fail("exec: unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return fail("usage: minictr exec [--process FILE] [--env K=V] [--cwd "
                    "DIR] [--detach] [--pid-file F] ID [--] [CMD ARGS...]");
    a->id = argv[optind++];
    if (optind < argc && !strcmp(argv[optind], "--"))
        optind++;
    a->argv = argv + optind;
    if (!a->process && optind >= argc)
        return fail("exec: what should run? minictr exec ID -- CMD [ARGS...] "
                    "or --process FILE");
    if (a->process && optind < argc)
        return fail("exec: --process FILE or a command, not both");
    return 0;
}

/* Wait for the exec'd command, forwarding the usual signals to it. */
static pid_t exec_child_pid;
static void forward(int sig)
{
    if (exec_child_pid > 0)
        kill(exec_child_pid, sig);
}

static int cmd_exec(int argc, char **argv)
{
    static const int fwd[] = {SIGTERM, SIGINT,  SIGHUP,
                              SIGQUIT, SIGUSR1, SIGUSR2};
    struct exec_args a;
    struct oci_state s;
    struct minictr ct;
    json_t *process = NULL;
    char **cargv, **env = NULL;
    const char *cwd;
    uid_t uid;
    gid_t gid;
    struct vl_cgroup cg;
    char rootpath[64];
    int r, rootfd = -1, pidfile_dir = -1, wstatus;
    char pidfile_abs[PATH_MAX];
    bool joined = false; /* we may be in its namespaces */
    pid_t child;

    if ((r = parse_exec(argc, argv, &a)) || (r = state_load(a.id, &s)))
        return r;
    mct_init_struct(&ct, NULL);
    if (s.status == MCT_STOPPED) {
        r = fail("cannot exec in container \"%s\": it is stopped", s.id);
        goto out;
    }
    /* The container's process settings: caps, seccomp, env, cwd, user. */
    {
        struct mct_options opt = {.bundle = s.bundle, .verbose = g.debug};

        mct_init_struct(&ct, &opt);
    }
    if ((r = mct_bundle_load(&ct, s.bundle)) < 0) {
        r = fail("%s/config.json: %s", s.bundle, vl_errmsg());
        goto out;
    }
    cargv = a.argv;
    cwd = ct.bundle.cwd ? ct.bundle.cwd : "/";
    uid = ct.bundle.uid;
    gid = ct.bundle.gid;
    for (size_t i = 0; ct.bundle.env && ct.bundle.env[i]; i++)
        env = env_set(env, ct.bundle.env[i]);
    if (a.process &&
        (r = exec_process_json(&a, &process, &cargv, &env, &cwd, &uid, &gid)))
        goto out;
    for (size_t i = 0; i < a.nenv; i++)
        env = env_set(env, a.env[i]);
    if (a.cwd)
        cwd = a.cwd;
    /* Its cgroup first, while we are still root on the host. */
    cgroup_from_json(
        json_object_get(json_object_get(s.json, "minictr"), "cgroup"), &cg);
    if (cg.version && vl_cgroup_attach(&cg, getpid()) < 0) {
        r = fail("joining the container's cgroup: %s", vl_errmsg());
        goto out;
    }
    snprintf(rootpath, sizeof(rootpath), "/proc/%d/root", (int)s.pid);
    rootfd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        r = fail("%s: %s", rootpath, strerror(errno));
        goto out;
    }
    /* The pid file's path means the host's: keep its "/" at hand. */
    if (a.pid_file) {
        pidfile_dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (a.pid_file[0] == '/')
            snprintf(pidfile_abs, sizeof(pidfile_abs), "%s", a.pid_file + 1);
        else if (getcwd(pidfile_abs, sizeof(pidfile_abs)))
            snprintf(pidfile_abs + strlen(pidfile_abs),
                     sizeof(pidfile_abs) - strlen(pidfile_abs), "/%s",
                     a.pid_file);
        if (pidfile_abs[0] == '/')
            memmove(pidfile_abs, pidfile_abs + 1, strlen(pidfile_abs));
    }
    for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
        signal(fwd[i], forward);
    fflush(NULL);
    joined = true;
    child = mct_exec_join(s.pid);
    if (child < 0) {
        r = fail("exec in \"%s\": %s", s.id, vl_errmsg());
        goto out;
    }
    if (child == 0)
        exec_child(&ct, rootfd, cwd, cargv, env, uid, gid);
    exec_child_pid = child;
    if (a.pid_file && write_pid_file_at(pidfile_dir, pidfile_abs, child) < 0) {
        r = fail("%s", vl_errmsg());
        goto out;
    }
    if (a.detach) {
        r = 0;
        goto out;
    }
    while (waitpid(child, &wstatus, 0) < 0)
        if (errno != EINTR) {
            r = fail("waitpid: %s", strerror(errno));
            goto out;
        }
    r = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
out:
    if (rootfd >= 0)
        close(rootfd);
    if (pidfile_dir >= 0)
        close(pidfile_dir);
    if (process && cargv != a.argv)
        free(cargv);
    json_decref(process);
    free(env);
    mct_destroy(&ct);
    state_free(&s);
    /* Once in the container's namespaces, leave without exit handlers
     * (a sanitizer's leak check cannot trace us from in there). */
    if (joined) {
        fflush(NULL);
        _exit(r);
    }
    return r;
}

/* ---- the command line -------------------------------------------------------
 */

static void usage(FILE *out)
{
    fputs("usage: minictr [global options] COMMAND ...\n"
          "the OCI runtime commands (as runc's; runtime-spec runtime.md):\n"
          "  create [--bundle DIR] [--pid-file F] ID   set up, wait for "
          "start\n"
          "  start ID                                  run process.args\n"
          "  state ID                                  the state as JSON\n"
          "  kill [--all] ID [SIGNAL]                  default SIGTERM\n"
          "  delete [--force] ID                       release everything\n"
          "  run [--bundle DIR] [--detach] [--pid-file F] ID\n"
          "                                            create, start, wait, "
          "delete\n"
          "  list [--format table|json] [-q]\n"
          "  ps [--format table|json] ID               its processes (host "
          "pids)\n"
          "  exec [--process FILE] [--env K=V] [--cwd DIR] [--detach]\n"
          "       [--pid-file F] ID [--] [CMD ARGS...] run CMD in it\n"
          "global options:\n"
          "  --root DIR        the state directory (default /run/minictr;\n"
          "                    $XDG_RUNTIME_DIR/minictr when not root)\n"
          "  --log FILE        errors also go there\n"
          "  --log-format F    text or json\n"
          "  --debug           say what happens on stderr\n"
          "  --systemd-cgroup  accepted and ignored (a warning)\n",
          out);
}

/* The global options before the command; returns the command's index. */
static int parse_global(int argc, char **argv)
{
    int i = 0;

    g.root = NULL;
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        int used = eq ? 1 : 2;

#define IS(name) (len == strlen(name) && !strncmp(a, name, len))
        if (IS("--root") || IS("--log") || IS("--log-format")) {
            if (!val)
                return -fail("%.*s needs a value", (int)len, a);
            if (IS("--root"))
                g.root = val;
            else if (IS("--log"))
                g.log = val;
            else if (!strcmp(val, "json") || !strcmp(val, "text"))
                g.log_json = !strcmp(val, "json");
            else
                return -fail("--log-format %s: text or json", val);
            i += used;
        } else if (IS("--debug")) {
            g.debug = true;
            i++;
        } else if (IS("--systemd-cgroup")) {
            fprintf(stderr, "minictr: warning: --systemd-cgroup is ignored: "
                            "minictr manages its cgroups itself\n");
            i++;
        } else if (IS("--rootless") || IS("--criu")) {
            i += eq ? 1 : 2;
        } else if (IS("--help") || IS("-h")) {
            usage(stdout);
            exit(0);
        } else {
            return -fail("unknown global option %s", a);
        }
#undef IS
    }
    if (!g.root) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        if (geteuid() == 0)
            g.root = "/run/minictr";
        else if (xdg && *xdg) {
            snprintf(g.root_buf, sizeof(g.root_buf), "%s/minictr", xdg);
            g.root = g.root_buf;
        } else {
            snprintf(g.root_buf, sizeof(g.root_buf), "/tmp/minictr-%u",
                     (unsigned)getuid());
            g.root = g.root_buf;
        }
    } else if (g.root[0] != '/') {
        if (!realpath(".", g.root_buf))
            return -fail("getcwd: %s", strerror(errno));
        size_t l = strlen(g.root_buf);

        snprintf(g.root_buf + l, sizeof(g.root_buf) - l, "/%s", g.root);
        g.root = g.root_buf;
    }
    return i;
}

int mct_oci_cmd(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } cmds[] = {
        {"create", cmd_create}, {"start", cmd_start},   {"state", cmd_state},
        {"kill", cmd_kill},     {"delete", cmd_delete}, {"run", cmd_run},
        {"list", cmd_list},     {"ps", cmd_ps},         {"exec", cmd_exec},
    };
    int i = parse_global(argc, argv);

    if (i < 0)
        return -i;
    if (i >= argc) {
        usage(stderr);
        return MCT_EXIT_FAILED;
    }
    for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
        if (!strcmp(argv[i], cmds[k].name)) {
            for (int j = i + 1; j < argc && strcmp(argv[j], "--"); j++)
                if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                    usage(stdout);
                    return 0;
                }
            return cmds[k].fn(argc - i, argv + i);
        }
    return fail("unknown command \"%s\" (minictr --help)", argv[i]);
}
