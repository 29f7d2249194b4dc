/* spawn.c - run untrusted commands under a limit (see spawn.h). */
#define _GNU_SOURCE
#include "spawn.h"

#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"
#include "virtlab/ns.h"

extern char **environ;

#define READ_CHUNK   65536
#define KEPT_CAP     (64u << 10) /* bytes of kept lines */
#define KEPT_LINE    512         /* longest kept line; the rest is cut */
#define POLL_MS      100  /* how often the limit and signals are checked */
#define SWEEP_ROUNDS 1000 /* bound on kill-and-reap rounds */
#define SWEEP_BATCH  256

/* ---- interruption --------------------------------------------------- */

static volatile sig_atomic_t interrupted_by;

static void on_signal(int sig)
{
    interrupted_by = sig;
}

int vg_interrupt_install(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */

    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            return vl_err(errno, "sigaction %s", strsignal(sigs[i]));
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return vl_err(errno, "ignoring SIGPIPE");
    return 0;
}

int vg_interrupted(void)
{
    return interrupted_by;
}

double vg_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vg_wait_status_describe(int st, char *buf, size_t size)
{
    if (WIFEXITED(st))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
    else
        snprintf(buf, size, "ended with wait status 0x%x", (unsigned)st);
}

/* ---- output capture ------------------------------------------------- */

struct capture {
    const struct vg_spawn_opts *opts;
    struct vg_spawn_result *res;
    size_t kept_len;
    char line[KEPT_LINE + 1];
    size_t line_len;
};

static void keep_line(struct capture *c)
{
    struct vg_spawn_result *res = c->res;

    c->line[c->line_len] = '\0';
    if (!c->opts->keep_line(c->line) ||
        c->kept_len + c->line_len + 2 > KEPT_CAP)
        return;
    memcpy(res->kept + c->kept_len, c->line, c->line_len);
    c->kept_len += c->line_len;
    res->kept[c->kept_len++] = '\n';
    res->kept[c->kept_len] = '\0';
}

static void filter_lines(struct capture *c, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            keep_line(c);
            c->line_len = 0;
        } else if (c->line_len < KEPT_LINE) {
            c->line[c->line_len++] = buf[i] ? buf[i] : '?';
        }
    }
}

static void capture_bytes(struct capture *c, const char *buf, size_t n)
{
    struct vg_spawn_result *res = c->res;
    size_t room = c->opts->output_cap - res->output_len;
    size_t take = n < room ? n : room;

    memcpy(res->output + res->output_len, buf, take);
    res->output_len += take;
    res->output[res->output_len] = '\0';
    if (take < n)
        res->output_truncated = true;
    if (res->kept)
        filter_lines(c, buf, n);
}

/* Read one chunk; false once the pipe is at end of file (or broken). */
static bool drain_once(struct capture *c, int fd)
{
    char buf[READ_CHUNK];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    capture_bytes(c, buf, (size_t)n);
    return true;
}

/* Whatever is still in the pipe, without waiting for more. */
static void drain_rest(struct capture *c, int fd)
{
    int flags = fcntl(fd, F_GETFL);
    char buf[READ_CHUNK];
    ssize_t n;

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return;
    while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            capture_bytes(c, buf, (size_t)n);
    if (c->line_len > 0) /* a last line without '\n' */
        keep_line(c);
}

/* ---- the child ------------------------------------------------------ */

/* What the child reports over its error pipe if it cannot exec. */
struct child_error {
    int step; /* 1: redirect, 2: chdir, 3: exec, 4: sandbox, 5: user */
    int err;
    char msg[512]; /* steps 4 and 5: the error chain */
};

static bool env_has(char **env, const char *entry)
{
    size_t n = strcspn(entry, "=");

    for (; *env; env++)
        if (strncmp(*env, entry, n) == 0 && (*env)[n] == '=')
            return true;
    return false;
}

static bool env_unset(const char *entry, const char *const *names)
{
    for (; names && *names; names++) {
        size_t n = strlen(*names);
        if (strncmp(entry, *names, n) == 0 && entry[n] == '=')
            return true;
    }
    return false;
}

/* The child's environment: ours minus unset_env plus default_env. The
 * array is new; its strings are borrowed. */
static char **build_env(const struct vg_spawn_opts *o)
{
    /* In the sandbox, $TMPDIR is its private /tmp, whatever ours was. */
    static const char *const boxed_tmp = "TMPDIR=/tmp";
    size_t n = 0, extra = 0, i = 0;
    char **env;

    while (environ[n])
        n++;
    while (o->default_env && o->default_env[extra])
        extra++;
    env = calloc(n + extra + 2, sizeof(*env));
    if (!env)
        return NULL;
    if (o->sandbox)
        env[i++] = (char *)boxed_tmp;
    for (size_t k = 0; k < n; k++)
        if (!env_unset(environ[k], o->unset_env) &&
            !(o->sandbox && strncmp(environ[k], "TMPDIR=", 7) == 0))
            env[i++] = environ[k];
    for (size_t k = 0; k < extra; k++)
        if (!env_has(environ, o->default_env[k]))
            env[i++] = (char *)o->default_env[k];
    return env;
}

static void __attribute__((noreturn))
child_exec(const struct vg_spawn_opts *o, char **envp, int out_fd, int null_fd,
           int err_fd, pid_t parent, const struct vg_sandbox *sb)
{
    static const int reset[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD};
    struct child_error ce = {0};
    sigset_t none;
    int r;

    setpgid(0, 0);
    /* Die with the grader, even if it is SIGKILLed: prctl(2). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
        signal(reset[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (sb && (r = vg_sandbox_drop(sb)) < 0) {
        ce = (struct child_error){.step = 5, .err = -r};
        snprintf(ce.msg, sizeof(ce.msg), "%s", vl_errmsg());
    } else if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
               dup2(out_fd, 2) < 0)
        ce = (struct child_error){.step = 1, .err = errno};
    else if (o->cwd && chdir(o->cwd) < 0)
        ce = (struct child_error){.step = 2, .err = errno};
    else {
        execvpe(o->argv[0], (char *const *)o->argv, envp);
        ce = (struct child_error){.step = 3, .err = errno};
    }
    if (write(err_fd, &ce, sizeof(ce)) < 0)
        _exit(126);
    _exit(127);
}

/* 0 when the child reached exec, or the error it reported. */
static int child_start_error(int err_fd, const struct vg_spawn_opts *o)
{
    static const char *const steps[] = {
        "?",    "redirecting output of",  "chdir for",
        "exec", "setting up the sandbox", "switching user"};
    struct child_error ce;
    ssize_t n;

    do
        n = read(err_fd, &ce, sizeof(ce));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(ce))
        return 0;
    if (ce.step < 1 || ce.step > 5)
        ce.step = 0;
    ce.msg[sizeof(ce.msg) - 1] = '\0';
    if (ce.step >= 4)
        return vl_err_plain(ce.err, "%s for %s: %s", steps[ce.step], o->argv[0],
                            ce.msg);
    return vl_err(ce.err, "%s %s%s%s", steps[ce.step], o->argv[0],
                  ce.step == 2 ? " in " : "", ce.step == 2 ? o->cwd : "");
}

/* ---- stragglers ----------------------------------------------------- */

/* Up to max pids whose parent is this process, from /proc/<pid>/stat. */
static size_t list_children(pid_t *pids, size_t max)
{
    _vl_cleanup_fclose_ FILE *f = NULL;
    DIR *proc = opendir("/proc");
    pid_t self = getpid();
    struct dirent *d;
    size_t n = 0;

    while (proc && n < max && (d = readdir(proc)) != NULL) {
        char path[64], line[512], *paren, *end;
        long pid = strtol(d->d_name, &end, 10);
        int ppid;

        if (pid <= 0 || *end)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        f = fopen(path, "re");
        if (!f)
            continue;
        paren = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
        vl_cleanup_fclose(&f);
        if (paren && sscanf(paren + 1, " %*c %d", &ppid) == 1 && ppid == self)
            pids[n++] = (pid_t)pid;
    }
    if (proc)
        closedir(proc);
    return n;
}

/*
 * Kill and reap every child left: orphans the kernel reparented to this
 * subreaper. Killing one may orphan its own children, hence the rounds.
 */
static unsigned sweep_children(void)
{
    pid_t pids[SWEEP_BATCH];
    unsigned killed = 0;

    for (int round = 0; round < SWEEP_ROUNDS; round++) {
        size_t n = list_children(pids, SWEEP_BATCH);

        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            if (kill(pids[i], SIGKILL) == 0)
                killed++;
        for (size_t i = 0; i < n; i++)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                ;
    }
    return killed;
}

/* ---- supervision ---------------------------------------------------- */

static int poll_wait_ms(double deadline)
{
    double left;

    if (deadline <= 0)
        return POLL_MS;
    left = (deadline - vg_now()) * 1000.0;
    if (left <= 0)
        return 0;
    return left < POLL_MS ? (int)left + 1 : POLL_MS;
}

/*
 * Drain output until the command exits, the limit runs out or a signal
 * interrupts the grader; then kill the group and whatever escaped it.
 */
static int supervise(const struct vg_spawn_opts *o, struct vg_spawn_result *res,
                     pid_t pid, int out_fd)
{
    struct capture cap = {.opts = o, .res = res};
    double deadline = o->limit_sec > 0 ? vg_now() + o->limit_sec : 0;
    bool reaped = false, open = true;

    while (!reaped && !vg_interrupted()) {
        struct pollfd pfd = {.fd = out_fd, .events = POLLIN};

        if (deadline > 0 && vg_now() >= deadline) {
            res->timed_out = true;
            break;
        }
        if (poll(&pfd, open ? 1 : 0, poll_wait_ms(deadline)) > 0)
            open = drain_once(&cap, out_fd);
        reaped = waitpid(pid, &res->wait_status, WNOHANG) == pid;
    }
    kill(-pid, SIGKILL);
    while (!reaped && waitpid(pid, &res->wait_status, 0) < 0 && errno == EINTR)
        ;
    res->stragglers = sweep_children();
    drain_rest(&cap, out_fd);
    if (vg_interrupted())
        return vl_err_plain(EINTR, "interrupted by %s",
                            strsignal(vg_interrupted()));
    return 0;
}

static int alloc_buffers(const struct vg_spawn_opts *o,
                         struct vg_spawn_result *res)
{
    *res = (struct vg_spawn_result){0};
    res->output = calloc(1, o->output_cap + 1);
    if (o->keep_line)
        res->kept = calloc(1, KEPT_CAP);
    if (!res->output || (o->keep_line && !res->kept)) {
        vg_spawn_result_free(res);
        return vl_err(ENOMEM, "buffers for %s", o->argv[0]);
    }
    return 0;
}

/* ---- the sandbox's init ---------------------------------------------- */

/* What the init, a copy of the grader (vl_clone), works with. */
struct boxed {
    const struct vg_spawn_opts *o;
    struct vg_sandbox sb;
    char **envp;
    int out_w, null_fd, err_w; /* passed on to the command */
    int go_r;                  /* the grader says go: it is in the cgroup */
    int status_w;              /* the command's wait status, for the grader */
    int close_fds[4];          /* the grader's ends of the pipes */
};

static void init_fail(struct boxed *b, int step, int r)
{
    struct child_error ce = {.step = step, .err = -r};

    snprintf(ce.msg, sizeof(ce.msg), "%s", vl_errmsg());
    if (write(b->err_w, &ce, sizeof(ce)) < 0)
        _exit(126);
}

/*
 * PID 1 of the sandbox: set up the mounts, start the command, reap every
 * orphan until the command ends, and pass its wait status on. When this
 * returns, the kernel kills whatever is left in the namespace
 * (pid_namespaces(7), "The namespace init process").
 */
static int boxed_init(void *arg)
{
    struct boxed *b = arg;
    pid_t cmd, p;
    int st = 0, r;
    char go;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (size_t i = 0; i < 4; i++)
        close(b->close_fds[i]);
    /* No go (EOF): the grader is gone, or gave up on us. */
    if (read(b->go_r, &go, 1) != 1)
        return 127;
    close(b->go_r);
    if ((r = vg_sandbox_enter(&b->sb)) < 0) {
        init_fail(b, 4, r);
        return 127;
    }
    cmd = fork();
    if (cmd < 0) {
        init_fail(b, 4, vl_err(errno, "fork in the sandbox"));
        return 127;
    }
    if (cmd == 0)
        child_exec(b->o, b->envp, b->out_w, b->null_fd, b->err_w, 1, &b->sb);
    close(b->out_w);
    close(b->err_w);
    close(b->null_fd);
    while ((p = waitpid(-1, &r, 0)) != cmd)
        if (p < 0 && errno != EINTR)
            break;
    st = p == cmd ? r : 0;
    if (write(b->status_w, &st, sizeof(st)) < 0)
        return 126;
    return 0;
}

/* The command's own wait status, which the init passed on; the init's
 * (SIGKILL, on a timeout) when it had none to pass. */
static void boxed_status(int status_r, struct vg_spawn_result *res)
{
    int st;

    if (fcntl(status_r, F_SETFL, O_NONBLOCK) == 0 &&
        read(status_r, &st, sizeof(st)) == (ssize_t)sizeof(st) &&
        !res->timed_out)
        res->wait_status = st;
}

static void boxed_record(struct vg_spawn_result *res, struct vg_sandbox *sb)
{
    res->sandbox_summary = strdup(sb->summary);
    if (sb->note[0])
        res->sandbox_note = strdup(sb->note);
}

/* ---- starting -------------------------------------------------------- */

int vg_spawn(const struct vg_spawn_opts *o, struct vg_spawn_result *res)
{
    _vl_cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
    _vl_cleanup_close_ int null_fd = -1, go_r = -1, go_w = -1;
    _vl_cleanup_close_ int status_r = -1, status_w = -1;
    _vl_cleanup_free_ char **envp = NULL;
    _vl_cleanup_free_ struct boxed *box = NULL;
    int fds[2], ret;
    pid_t pid, self = getpid();
    double start;

    if ((ret = alloc_buffers(o, res)) < 0)
        return ret;
    /* Orphans of the command come to us, so we can kill them: prctl(2). */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        ret = vl_err(errno, "PR_SET_CHILD_SUBREAPER");
    else if (!(envp = build_env(o)))
        ret = vl_err(ENOMEM, "environment for %s", o->argv[0]);
    else if (pipe2(fds, O_CLOEXEC) < 0)
        ret = vl_err(errno, "pipe for the output of %s", o->argv[0]);
    if (ret < 0)
        goto fail;
    out_r = fds[0], out_w = fds[1];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        ret = vl_err(errno, "pipe for %s", o->argv[0]);
        goto fail;
    }
    err_r = fds[0], err_w = fds[1];
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        ret = vl_err(errno, "open /dev/null");
        goto fail;
    }
    if (o->sandbox) {
        box = calloc(1, sizeof(*box));
        if (!box || pipe2(fds, O_CLOEXEC) < 0) {
            ret = vl_err(box ? errno : ENOMEM, "sandbox for %s", o->argv[0]);
            goto fail;
        }
        go_r = fds[0], go_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0) {
            ret = vl_err(errno, "pipe for the sandbox of %s", o->argv[0]);
            goto fail;
        }
        status_r = fds[0], status_w = fds[1];
        *box = (struct boxed){
            .o = o,
            .envp = envp,
            .out_w = out_w,
            .null_fd = null_fd,
            .err_w = err_w,
            .go_r = go_r,
            .status_w = status_w,
            .close_fds = {out_r, err_r, go_w, status_r},
        };
        if ((ret = vg_sandbox_setup(&box->sb, o->sandbox, o->cwd)) < 0)
            goto fail;
    }
    start = vg_now();
    if (box) {
        pid = vl_clone(vg_sandbox_clone_flags(), boxed_init, box, NULL);
        ret = pid < 0 ? pid : 0;
    } else {
        pid = fork();
        ret = pid < 0 ? vl_err(errno, "fork for %s", o->argv[0]) : 0;
    }
    if (ret < 0)
        goto fail_box;
    if (pid == 0)
        child_exec(o, envp, out_w, null_fd, err_w, self, NULL);
    setpgid(pid, pid); /* also here: no window where kill(-pid) misses */
    vl_close(&out_w);
    vl_close(&err_w);
    vl_close(&go_r);
    vl_close(&status_w);
    if (box) {
        /* In the cgroup before it forks anything: then "go". */
        vg_sandbox_attach(&box->sb, pid);
        if (write(go_w, "g", 1) < 0)
            ret = vl_err(errno, "starting the sandbox of %s", o->argv[0]);
        vl_close(&go_w);
    }
    if (ret == 0)
        ret = child_start_error(err_r, o);
    if (ret < 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        goto fail_box;
    }
    res->pid = pid;
    ret = supervise(o, res, pid, out_r);
    if (box) {
        boxed_status(status_r, res);
        vg_sandbox_teardown(&box->sb);
        boxed_record(res, &box->sb);
    }
    res->seconds = vg_now() - start;
    return ret; /* on -EINTR too, res holds what the command did */
fail_box:
    if (box)
        vg_sandbox_teardown(&box->sb);
fail:
    vg_spawn_result_free(res);
    return ret;
}

void vg_spawn_result_free(struct vg_spawn_result *res)
{
    free(res->output);
    free(res->kept);
    free(res->sandbox_summary);
    free(res->sandbox_note);
    *res = (struct vg_spawn_result){0};
}
