/* doctor.c - what this machine offers the labs (see virtlab/doctor.h). */
#define _GNU_SOURCE
#include "virtlab/doctor.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"
#include "virtlab/kvm.h"
#include "virtlab/kvm_exit.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ==== small helpers ===================================================== */

const char *vl_check_status_name(enum vl_check_status status)
{
    switch (status) {
    case VL_CHECK_OK:
        return "ok";
    case VL_CHECK_WARN:
        return "warn";
    case VL_CHECK_FAIL:
        return "fail";
    case VL_CHECK_SKIP:
        return "skip";
    }
    return "?";
}

const char *vl_kvm_speed_name(enum vl_kvm_speed speed)
{
    switch (speed) {
    case VL_KVM_SPEED_HARDWARE:
        return "hardware";
    case VL_KVM_SPEED_EMULATED:
        return "emulated";
    case VL_KVM_SPEED_UNKNOWN:
        break;
    }
    return "unknown";
}

/* Append a check; on a full report the extra checks land in a scratch slot
 * (never happens with the fixed set of checks, but never overflows). */
static struct vl_check *check_add(struct vl_doctor_report *r, const char *id,
                                  enum vl_check_status status, const char *fmt,
                                  ...) __attribute__((format(printf, 4, 5)));
static struct vl_check *check_add(struct vl_doctor_report *r, const char *id,
                                  enum vl_check_status status, const char *fmt,
                                  ...)
{
    static __thread struct vl_check scratch;
    struct vl_check *c = &scratch;
    va_list ap;

    if (r->nchecks < VL_DOCTOR_MAX)
        c = &r->checks[r->nchecks++];
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->status = status;
    va_start(ap, fmt);
    vsnprintf(c->summary, sizeof(c->summary), fmt, ap);
    va_end(ap);
    return c;
}

/* Append a sentence to a check's hint. */
static void check_hint(struct vl_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void check_hint(struct vl_check *c, const char *fmt, ...)
{
    size_t n = strlen(c->hint);
    va_list ap;

    if (n > 0 && n + 1 < sizeof(c->hint))
        c->hint[n++] = ' ', c->hint[n] = '\0';
    va_start(ap, fmt);
    vsnprintf(c->hint + n, sizeof(c->hint) - n, fmt, ap);
    va_end(ap);
}

/*
 * Split an error chain of the library ("open /dev/kvm: ...\n  hint: a\n
 * hint: b") into its first line, for the summary, and its hints, joined.
 */
static void check_from_errmsg(struct vl_check *c, const char *msg)
{
    const char *nl = strchr(msg, '\n');
    static const char tag[] = "\n  hint: ";

    snprintf(c->summary, sizeof(c->summary), "%.*s",
             (int)(nl ? nl - msg : (ptrdiff_t)strlen(msg)), msg);
    for (const char *h = strstr(msg, tag); h; h = strstr(h, tag)) {
        const char *end;
        int n;

        h += sizeof(tag) - 1;
        end = strchr(h, '\n');
        n = (int)(end ? end - h : (ptrdiff_t)strlen(h));
        check_hint(c, "%.*s%s", n, h, n > 0 && h[n - 1] == '.' ? "" : ".");
    }
}

/* Append word to a space-separated list, once. */
static void list_add(char *list, size_t len, const char *word)
{
    size_t n = strlen(list);
    size_t w = strlen(word);

    for (const char *p = list; (p = strstr(p, word)) != NULL; p += w)
        if ((p == list || p[-1] == ' ') && (p[w] == ' ' || p[w] == '\0'))
            return;
    if (n + (n > 0) + w + 1 > len)
        return;
    snprintf(list + n, len - n, "%s%s", n > 0 ? " " : "", word);
}

static bool list_has(const char *list, const char *word)
{
    size_t w = strlen(word);

    for (const char *p = list; (p = strstr(p, word)) != NULL; p += w)
        if ((p == list || p[-1] == ' ') && (p[w] == ' ' || p[w] == '\0'))
            return true;
    return false;
}

/* Read a small text file into buf, without its trailing newline. */
static int read_text(const char *path, char *buf, size_t len)
{
    _vl_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    buf[0] = '\0';
    if (fd < 0)
        return vl_err(errno, "open %s", path);
    n = read(fd, buf, len - 1);
    if (n < 0)
        return vl_err(errno, "read %s", path);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

static int write_text(const char *path, const char *text)
{
    _vl_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(text);

    if (fd < 0)
        return vl_err(errno, "open %s", path);
    if (write(fd, text, len) != (ssize_t)len)
        return vl_err(errno, "write \"%s\" to %s", text, path);
    return 0;
}

/* Does the sysctl file hold exactly value? */
static bool sysctl_is(const char *path, const char *value)
{
    char buf[64];

    return read_text(path, buf, sizeof(buf)) == 0 && strcmp(buf, value) == 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "vmx" (Intel VT-x) or "svm" (AMD-V) when /proc/cpuinfo lists the flag. */
static const char *cpu_virt_flag(void)
{
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "re");
    _vl_cleanup_free_ char *line = NULL;
    size_t cap = 0;

    if (!f)
        return NULL;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        if (strstr(line, " vmx"))
            return "vmx";
        if (strstr(line, " svm"))
            return "svm";
        return NULL;
    }
    return NULL;
}

/* ==== probes in a child process ========================================= */

/*
 * A probe that unshares namespaces, installs a seccomp filter or runs a
 * guest must not change the caller, and a broken kernel facility must not
 * hang it. So it runs in a forked child, which sends its result and error
 * message over a pipe (as crun's children do) and is killed with SIGKILL
 * after a time limit. Everything the child changed dies with it: its
 * namespaces, mounts made in them, its filter, its VM.
 */
#define CHILD_PAYLOAD_MAX 512

struct child_msg {
    int ret;
    char err[1024];
    unsigned char payload[CHILD_PAYLOAD_MAX];
};
/* One write() to a pipe of at most PIPE_BUF bytes is atomic (pipe(7)). */
_Static_assert(sizeof(struct child_msg) <= 4096, "child message too big");

typedef int (*child_fn)(void *arg, void *out);

static _Noreturn void child_main(int wr, child_fn fn, void *arg)
{
    struct child_msg msg;

    memset(&msg, 0, sizeof(msg));
    vl_err_clear();
    msg.ret = fn(arg, msg.payload);
    if (msg.ret < 0)
        snprintf(msg.err, sizeof(msg.err), "%s", vl_errmsg());
    if (write(wr, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
        _exit(2);
    /* _exit: no atexit handlers or stdio flushes of the parent's state. */
    _exit(0);
}

/* Read up to len bytes before the deadline; returns the count or -errno. */
static ssize_t read_until(int fd, void *buf, size_t len, int64_t deadline)
{
    size_t got = 0;

    while (got < len) {
        int64_t left_ms = (deadline - now_ns()) / 1000000;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;
        int pr;

        if (left_ms <= 0)
            return -ETIMEDOUT;
        pr = poll(&p, 1, (int)left_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -errno;
        if (pr == 0)
            return -ETIMEDOUT;
        n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int reap(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

static int child_run(const char *what, child_fn fn, void *arg, void *out,
                     size_t outlen, int timeout_ms)
{
    _vl_cleanup_close_ int rd = -1;
    _vl_cleanup_close_ int wr = -1;
    struct child_msg msg;
    int status = 0;
    int fds[2];
    ssize_t n;
    pid_t pid;

    if (outlen > CHILD_PAYLOAD_MAX)
        return vl_err_plain(EINVAL, "%s: result of %zu bytes is too big", what,
                            outlen);
    if (pipe2(fds, O_CLOEXEC) < 0)
        return vl_err(errno, "%s: pipe2", what);
    rd = fds[0];
    wr = fds[1];
    pid = fork();
    if (pid < 0)
        return vl_err(errno, "%s: fork", what);
    if (pid == 0)
        child_main(wr, fn, arg);

    vl_close(&wr); /* so read() sees EOF when the child dies */
    memset(&msg, 0, sizeof(msg));
    n = read_until(rd, &msg, sizeof(msg),
                   now_ns() + (int64_t)timeout_ms * 1000000);
    if (n == -ETIMEDOUT)
        kill(pid, SIGKILL);
    if (reap(pid, &status) < 0 && n != (ssize_t)sizeof(msg))
        return vl_err(errno, "%s: waitpid", what);

    if (n == -ETIMEDOUT)
        return vl_err_plain(ETIMEDOUT, "%s: no answer within %d s (killed)",
                            what, timeout_ms / 1000);
    if (n != (ssize_t)sizeof(msg)) {
        if (WIFSIGNALED(status))
            return vl_err_plain(ECHILD, "%s: the probe died of signal %d (%s)",
                                what, WTERMSIG(status),
                                strsignal(WTERMSIG(status)));
        return vl_err_plain(ECHILD,
                            "%s: the probe exited (status %d) "
                            "without an answer",
                            what, WEXITSTATUS(status));
    }
    if (msg.ret < 0) {
        msg.err[sizeof(msg.err) - 1] = '\0';
        return vl_err_plain(msg.ret, "%s", msg.err);
    }
    if (out)
        memcpy(out, msg.payload, outlen);
    return msg.ret;
}

/* ==== system: kernel and user =========================================== */

/*
 * The kvm group owns /dev/kvm on most distributions (udev rule
 * 'KERNEL=="kvm", GROUP="kvm", MODE="0660"'). A process gets a new group
 * membership only from a new login, so look at both /etc/group (*listed)
 * and the groups of this session (getgroups(2), the return value).
 */
static bool in_kvm_group(const char *user, bool *listed)
{
    struct group *g = getgrnam("kvm");
    _vl_cleanup_free_ gid_t *gs = NULL;
    bool in = false;
    int n;

    *listed = false;
    if (!g)
        return false;
    for (char **m = g->gr_mem; user && *m; m++)
        *listed |= strcmp(*m, user) == 0;
    in = getegid() == g->gr_gid;
    n = getgroups(0, NULL);
    gs = calloc(n > 0 ? (size_t)n : 1, sizeof(*gs));
    n = gs ? getgroups(n, gs) : -1;
    for (int i = 0; i < n; i++)
        in |= gs[i] == g->gr_gid;
    return in;
}

static void check_user(struct vl_doctor_report *r)
{
    struct passwd *pw = getpwuid(r->uid);
    char name[64];
    struct vl_check *c;
    bool listed;

    snprintf(name, sizeof(name), "%s", pw ? pw->pw_name : "?");
    r->kvm_group = in_kvm_group(pw ? name : NULL, &listed);
    if (r->root) {
        check_add(r, "system.user", VL_CHECK_OK, "root (uid %u)",
                  (unsigned)r->uid);
        return;
    }
    if (access(VL_KVM_DEVICE, R_OK | W_OK) == 0) {
        check_add(r, "system.user", VL_CHECK_OK,
                  "%s (uid %u)%s; the container labs need sudo", name,
                  (unsigned)r->uid,
                  r->kvm_group ? ", in group kvm" : ", may use /dev/kvm");
        return;
    }
    if (listed && !r->kvm_group) {
        c = check_add(r, "system.user", VL_CHECK_WARN,
                      "%s (uid %u) is in group kvm in /etc/group, but not "
                      "in this session",
                      name, (unsigned)r->uid);
        check_hint(c, "log out and in again (or run `newgrp kvm`).");
    } else {
        c = check_add(r, "system.user", VL_CHECK_WARN,
                      "%s (uid %u), not root, not in group kvm", name,
                      (unsigned)r->uid);
        check_hint(c, "for the KVM labs: `sudo usermod -aG kvm $USER`, then "
                      "log out and in again.");
    }
    check_hint(c, "The container labs (minictr) need root, except lab 11 "
                  "(rootless): run them with sudo.");
}

int vl_doctor_check_system(struct vl_doctor_report *r)
{
    struct utsname u;
    struct vl_check *c;

    if (uname(&u) < 0)
        return vl_err(errno, "uname");
    snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);
    snprintf(r->arch, sizeof(r->arch), "%s", u.machine);
    if (strcmp(u.machine, "x86_64") == 0) {
        check_add(r, "system.kernel", VL_CHECK_OK, "%s %s (%s)", u.sysname,
                  u.release, u.machine);
    } else {
        c = check_add(r, "system.kernel", VL_CHECK_WARN,
                      "%s %s on %s, not x86_64", u.sysname, u.release,
                      u.machine);
        check_hint(c, "minivm runs x86 guests and needs an x86-64 machine; "
                      "the container labs (minictr) work here.");
    }

    r->uid = getuid();
    r->root = geteuid() == 0;
    check_user(r);
    return 0;
}

/* ==== KVM: device, API, speed =========================================== */

/*
 * The speed guest: 16-bit real mode code at 0000:1000, hand-assembled
 * (opcodes from the Intel SDM Vol. 2). It loops as many times as the
 * 32-bit count at 0x0f00 says, then tells the host with an OUT, which ends
 * KVM_RUN with KVM_EXIT_IO (api.rst 5, "KVM_EXIT_IO"); the next KVM_RUN
 * starts over and reads the count again, so the host picks each run's
 * length by writing guest memory.
 */
#define SPEED_ENTRY     0x1000
#define SPEED_COUNT_GPA 0x0f00
#define SPEED_PORT      0x10
#define SPEED_MEM_SIZE  0x10000 /* the 64 KiB a real-mode segment reaches */
#define SPEED_STACK     0x8000

/* clang-format off */
static const uint8_t speed_guest[] = {
    /* 1000: mov ecx, [0x0f00]
     *   66 = operand-size prefix: a 32-bit operand in 16-bit code;
     *   8b /r = MOV r32, r/m32; ModRM 0e = mod 00, reg 001 (ECX),
     *   r/m 110 (a bare 16-bit displacement); disp16 = 0x0f00. */
    0x66, 0x8b, 0x0e, 0x00, 0x0f,
    /* 1005: dec ecx       (66 prefix; 48+r = DEC r32, r = 1 = ECX) */
    0x66, 0x49,
    /* 1007: jnz 1005      (75 = JNZ rel8; 0x1005 - 0x1009 = -4) */
    0x75, 0xfc,
    /* 1009: out 0x10, al  (e6 = OUT imm8, AL: one exit to the host) */
    0xe6, SPEED_PORT,
    /* 100b: jmp 1000      (eb = JMP rel8; 0x1000 - 0x100d = -13) */
    0xeb, 0xf3,
};
/* clang-format on */
/* Instructions per run with count c: jmp, mov, c x (dec + jnz), out. */
#define SPEED_INSNS(c) (2 * (uint64_t)(c) + 3)

#define SPEED_EXITS      1000     /* ~10 ms emulated, ~1 ms on hardware */
#define SPEED_LOOP       20000    /* ~40 ms emulated, ~10 us on hardware */
#define SPEED_LOOP_HW    10000000 /* ~5 ms on hardware: a finer figure */
#define SPEED_TIMEOUT_MS 10000

struct speed_vm {
    struct vl_kvm kvm;
    struct vl_vm vm;
    struct vl_vcpu vcpu;
    uint32_t *count; /* the guest's loop count, in guest memory */
};

static void speed_vm_destroy(struct speed_vm *s)
{
    vl_vcpu_destroy(&s->vcpu);
    vl_vm_destroy(&s->vm);
    vl_kvm_close(&s->kvm);
}

static int speed_vm_create(struct speed_vm *s, const char *dev)
{
    void *mem;
    int r;

    if ((r = vl_kvm_open_path(&s->kvm, dev)) < 0 ||
        (r = vl_vm_create(&s->vm, &s->kvm)) < 0 ||
        (r = vl_vm_add_memory(&s->vm, 0, 0, SPEED_MEM_SIZE, 0, &mem)) < 0)
        return r;
    memcpy((uint8_t *)mem + SPEED_ENTRY, speed_guest, sizeof(speed_guest));
    s->count = (uint32_t *)((uint8_t *)mem + SPEED_COUNT_GPA);
    if ((r = vl_vcpu_create(&s->vcpu, &s->vm, 0)) < 0 ||
        (r = vl_vcpu_reset_real(&s->vcpu, SPEED_ENTRY, SPEED_STACK)) < 0)
        return r;
    return 0;
}

/* One KVM_RUN of `count` iterations; returns its duration in ns. */
static int64_t speed_run(struct speed_vm *s, uint32_t count)
{
    struct kvm_run *run = s->vcpu.run;
    struct kvm_regs regs = {0};
    char what[160];
    int64_t t0, t1;
    int reason;

    *s->count = count;
    t0 = now_ns();
    reason = vl_vcpu_run(&s->vcpu);
    t1 = now_ns();
    if (reason == -EINTR)
        return vl_err(EINTR, "KVM_RUN of the speed guest");
    if (reason < 0)
        return reason;
    if (reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
        run->io.port == SPEED_PORT)
        return t1 - t0;
    vl_vcpu_get_regs(&s->vcpu, &regs);
    vl_exit_describe(run, regs.rip, what, sizeof(what));
    return vl_err_plain(EPROTO,
                        "the speed guest stopped with %s, expected "
                        "an OUT to port 0x%x",
                        what, SPEED_PORT);
}

static int speed_measure(struct speed_vm *s, struct vl_kvm_speed_sample *out)
{
    int64_t warm, exits = 0, loop;
    uint32_t iters = SPEED_LOOP;
    double per_run;

    /* The first run pays for faulting in guest memory and loading the
     * vCPU state; leave it out. */
    if ((warm = speed_run(s, 1)) < 0)
        return (int)warm;

    /* Exits: runs of one iteration are almost nothing but the round trip
     * guest -> KVM -> this process -> KVM -> guest. */
    for (int i = 0; i < SPEED_EXITS; i++) {
        int64_t t = speed_run(s, 1);

        if (t < 0)
            return (int)t;
        exits += t;
    }
    per_run = (double)exits / SPEED_EXITS;

    /* Instructions: a long run minus a one-iteration run leaves the cost
     * of the extra instructions alone. On hardware the default loop is
     * over in microseconds, so time a longer one there. */
    if ((loop = speed_run(s, iters)) < 0)
        return (int)loop;
    if ((double)(loop - per_run) / (double)(2 * (uint64_t)iters - 2) <
            VL_KVM_HW_NS_PER_INSN &&
        loop < 1000000) {
        iters = SPEED_LOOP_HW;
        if ((loop = speed_run(s, iters)) < 0)
            return (int)loop;
    }

    out->loop_iters = iters;
    out->loop_ns = (uint64_t)loop;
    out->exits = SPEED_EXITS;
    out->exits_ns = (uint64_t)exits;
    out->ns_per_insn = ((double)loop - per_run) /
                       (double)(SPEED_INSNS(iters) - SPEED_INSNS(1));
    if (out->ns_per_insn <= 0)
        out->ns_per_insn = 0.01; /* below the clock's resolution */
    out->us_per_exit =
        (per_run - (double)SPEED_INSNS(1) * out->ns_per_insn) / 1000.0;
    if (out->us_per_exit < 0)
        out->us_per_exit = 0;
    out->speed = out->ns_per_insn < VL_KVM_HW_NS_PER_INSN
                     ? VL_KVM_SPEED_HARDWARE
                     : VL_KVM_SPEED_EMULATED;
    return 0;
}

static int speed_child(void *arg, void *out)
{
    struct speed_vm s = {
        .kvm = {.fd = -1},
        .vm = {.fd = -1},
        .vcpu = {.fd = -1},
    };
    struct vl_kvm_speed_sample sample = {0};
    int r;

    r = speed_vm_create(&s, arg);
    if (r == 0)
        r = speed_measure(&s, &sample);
    speed_vm_destroy(&s);
    memcpy(out, &sample, sizeof(sample));
    return r;
}

int vl_doctor_measure_speed(const char *dev, struct vl_kvm_speed_sample *s)
{
    int r;

    memset(s, 0, sizeof(*s));
    r = child_run("timing a guest", speed_child,
                  (void *)(dev ? dev : VL_KVM_DEVICE), s, sizeof(*s),
                  SPEED_TIMEOUT_MS);
    if (r < 0)
        memset(s, 0, sizeof(*s));
    return r;
}

/* "0.35 ns" or "1.02 us" */
static void fmt_ns(char *buf, size_t len, double ns)
{
    if (ns >= 1000)
        snprintf(buf, len, "%.2f \u00b5s", ns / 1000);
    else
        snprintf(buf, len, "%.2f ns", ns);
}

static void check_speed(struct vl_doctor_report *r, const char *dev)
{
    struct vl_kvm_speed_sample *s = &r->speed;
    const char *flag = cpu_virt_flag();
    struct vl_check *c;
    char insn[32];

    if (!r->kvm_usable) {
        check_add(r, "kvm.speed", VL_CHECK_SKIP, "needs a usable /dev/kvm");
        return;
    }
    vl_err_clear();
    if (vl_doctor_measure_speed(dev, s) < 0) {
        c = check_add(r, "kvm.speed", VL_CHECK_FAIL, "%s", "");
        check_from_errmsg(c, vl_errmsg());
        check_hint(c, "/dev/kvm opens but a 13-byte real-mode guest does not "
                      "run: look at `dmesg | grep -i kvm`.");
        return;
    }
    fmt_ns(insn, sizeof(insn), s->ns_per_insn);
    if (s->speed == VL_KVM_SPEED_HARDWARE) {
        check_add(r, "kvm.speed", VL_CHECK_OK,
                  "hardware speed: %s per guest instruction, %.1f \u00b5s per "
                  "exit",
                  insn, s->us_per_exit);
        return;
    }
    c = check_add(r, "kvm.speed", VL_CHECK_WARN,
                  "emulated: %s per guest instruction, %.1f \u00b5s per exit",
                  insn, s->us_per_exit);
    check_hint(c,
               "nested KVM without hardware acceleration%s: guests run "
               "~1000x slower than on VT-x/AMD-V; tests bound guests by "
               "exit count, so they pass, slowly. Booting Linux (lab 07) "
               "needs hardware virtualization.",
               flag ? "" : " (no vmx/svm flag in /proc/cpuinfo)");
}

int vl_doctor_check_kvm(struct vl_doctor_report *r, const char *kvm_dev)
{
    const char *dev = kvm_dev ? kvm_dev : VL_KVM_DEVICE;
    struct vl_kvm kvm = {.fd = -1};
    const char *flag = cpu_virt_flag();
    struct vl_check *c;
    bool listed;
    int ret;

    vl_err_clear();
    ret = vl_kvm_open_path(&kvm, dev);
    if (ret == 0) {
        r->kvm_usable = true;
        r->kvm_api = kvm.api_version;
        vl_kvm_close(&kvm);
        check_add(r, "kvm.device", VL_CHECK_OK, "%s opened (API %d)", dev,
                  r->kvm_api);
        check_add(r, "kvm.api", VL_CHECK_OK,
                  "KVM_GET_API_VERSION = %d, the stable API", r->kvm_api);
    } else if (ret == -EPROTO) {
        /* api.rst 4.1: "Applications should refuse to run if
         * KVM_GET_API_VERSION returns a value other than 12." */
        _vl_cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);

        r->kvm_api = fd >= 0 ? ioctl(fd, KVM_GET_API_VERSION, 0) : 0;
        check_add(r, "kvm.device", VL_CHECK_OK, "%s opened", dev);
        c = check_add(r, "kvm.api", VL_CHECK_FAIL,
                      "KVM_GET_API_VERSION = %d, expected %d", r->kvm_api,
                      KVM_API_VERSION);
        check_hint(c, "this kernel's KVM speaks another API: use a "
                      "mainstream Linux kernel.");
    } else {
        c = check_add(r, "kvm.device", VL_CHECK_FAIL, "%s", "");
        check_from_errmsg(c, vl_errmsg());
        if (ret == -ENOENT && !flag)
            check_hint(c, "(This CPU shows no vmx/svm flag in "
                          "/proc/cpuinfo.)");
        if ((ret == -EACCES || ret == -EPERM) && in_kvm_group(NULL, &listed))
            check_hint(c,
                       "(You are in group kvm: check the mode of %s, "
                       "usually 0660 root:kvm.)",
                       dev);
        check_add(r, "kvm.api", VL_CHECK_SKIP, "needs %s", dev);
    }
    check_speed(r, dev);
    return 0;
}

/* ==== namespaces ======================================================== */

static const struct {
    const char *name;
    int flag;
    const char *flag_name;
    const char *config; /* the kernel option that builds it */
    const char *max;    /* its limit under /proc/sys/user/ */
} ns_table[VL_DOCTOR_NS_COUNT] = {
    [VL_DOCTOR_NS_USER] = {"user", CLONE_NEWUSER, "CLONE_NEWUSER",
                           "CONFIG_USER_NS", "max_user_namespaces"},
    [VL_DOCTOR_NS_PID] = {"pid", CLONE_NEWPID, "CLONE_NEWPID", "CONFIG_PID_NS",
                          "max_pid_namespaces"},
    [VL_DOCTOR_NS_MOUNT] = {"mount", CLONE_NEWNS, "CLONE_NEWNS",
                            "CONFIG_NAMESPACES", "max_mnt_namespaces"},
    [VL_DOCTOR_NS_NET] = {"net", CLONE_NEWNET, "CLONE_NEWNET", "CONFIG_NET_NS",
                          "max_net_namespaces"},
    [VL_DOCTOR_NS_UTS] = {"uts", CLONE_NEWUTS, "CLONE_NEWUTS", "CONFIG_UTS_NS",
                          "max_uts_namespaces"},
    [VL_DOCTOR_NS_IPC] = {"ipc", CLONE_NEWIPC, "CLONE_NEWIPC", "CONFIG_IPC_NS",
                          "max_ipc_namespaces"},
};

/* "CLONE_NEWNS|CLONE_NEWNET" */
static void clone_flags_name(int flags, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < VL_DOCTOR_NS_COUNT; i++)
        if (flags & ns_table[i].flag) {
            size_t n = strlen(buf);

            snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
                     ns_table[i].flag_name);
        }
    if (!buf[0])
        snprintf(buf, len, "0x%x", (unsigned)flags);
}

const char *vl_doctor_ns_name(enum vl_doctor_ns ns)
{
    return (unsigned)ns < VL_DOCTOR_NS_COUNT ? ns_table[ns].name : NULL;
}

int vl_doctor_ns_flag(enum vl_doctor_ns ns)
{
    return (unsigned)ns < VL_DOCTOR_NS_COUNT ? ns_table[ns].flag : 0;
}

/*
 * Enter a new user namespace and map our uid and gid to 0 in it
 * (user_namespaces(7), "User and group ID mappings"). An unprivileged
 * process must write "deny" to setgroups before it may write gid_map
 * (Linux 3.19, CVE-2014-8989: otherwise dropping a group by setgroups()
 * could grant access that a negative group ACL denied).
 */
static int enter_userns(void)
{
    uid_t uid = geteuid(); /* read before: inside they read as 65534 */
    gid_t gid = getegid();
    char map[64];
    int r;

    if (unshare(CLONE_NEWUSER) < 0)
        return vl_err(errno, "unshare(CLONE_NEWUSER)");
    if ((r = write_text("/proc/self/setgroups", "deny")) < 0)
        return r;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    if ((r = write_text("/proc/self/uid_map", map)) < 0)
        return r;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    return write_text("/proc/self/gid_map", map);
}

struct ns_probe {
    int flags;
    bool in_userns;
};

static int ns_probe_child(void *arg, void *out)
{
    const struct ns_probe *p = arg;
    char name[128];
    int r;

    (void)out;
    if (p->in_userns && (r = enter_userns()) < 0)
        return r;
    if (unshare(p->flags) < 0) {
        clone_flags_name(p->flags, name, sizeof(name));
        return vl_err(errno, "unshare(%s)%s", name,
                      p->in_userns ? " in a user namespace" : "");
    }
    return 0;
}

int vl_doctor_ns_probe(int clone_flags, bool in_userns)
{
    struct ns_probe p = {.flags = clone_flags, .in_userns = in_userns};

    return child_run("probing namespaces", ns_probe_child, &p, NULL, 0, 5000);
}

/* Why unprivileged user namespaces may be off, from the sysctls that
 * distributions use to switch them off. */
static void userns_hint(struct vl_check *c)
{
    bool found = false;

    if (sysctl_is("/proc/sys/kernel/unprivileged_userns_clone", "0")) {
        check_hint(c, "kernel.unprivileged_userns_clone is 0 (Debian's "
                      "switch): `sudo sysctl "
                      "kernel.unprivileged_userns_clone=1`.");
        found = true;
    }
    if (sysctl_is("/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                  "1")) {
        check_hint(c, "kernel.apparmor_restrict_unprivileged_userns is 1 "
                      "(Ubuntu 23.10+): `sudo sysctl "
                      "kernel.apparmor_restrict_unprivileged_userns=0`, or "
                      "an AppArmor profile with `userns,`.");
        found = true;
    }
    if (sysctl_is("/proc/sys/user/max_user_namespaces", "0")) {
        check_hint(c, "user.max_user_namespaces is 0: `sudo sysctl "
                      "user.max_user_namespaces=15000`.");
        found = true;
    }
    if (!found)
        check_hint(c, "unprivileged user namespaces are switched off: see "
                      "kernel.unprivileged_userns_clone (Debian) or "
                      "kernel.apparmor_restrict_unprivileged_userns "
                      "(Ubuntu); in a container, its seccomp profile may "
                      "block unshare.");
}

static void check_one_ns(struct vl_doctor_report *r, enum vl_doctor_ns ns)
{
    char id[VL_CHECK_ID_MAX];
    char err[VL_CHECK_SUMMARY_MAX];
    bool user = ns == VL_DOCTOR_NS_USER;
    bool root = geteuid() == 0;
    struct vl_check *c;
    int direct, rootless;

    snprintf(id, sizeof(id), "ns.%s", ns_table[ns].name);
    vl_err_clear();
    direct = vl_doctor_ns_probe(ns_table[ns].flag, false);
    snprintf(err, sizeof(err), "%s", vl_errmsg());
    /* Inside a new user namespace, as a rootless runtime works. For the
     * user namespace itself: does it give the capabilities to create a
     * mount namespace (the AppArmor restriction lets unshare succeed but
     * withholds them)? */
    rootless = vl_doctor_ns_probe(user ? CLONE_NEWNS : ns_table[ns].flag, true);
    r->ns[ns] = direct == 0;
    r->ns_rootless[ns] = rootless == 0;

    if (direct == 0 && (rootless == 0 || !user || root)) {
        check_add(r, id, VL_CHECK_OK, "unshare(%s) works%s",
                  ns_table[ns].flag_name,
                  user && !root ? ", and maps you to root inside" : "");
        return;
    }
    if (direct == 0) { /* user namespace without capabilities */
        c = check_add(r, id, VL_CHECK_WARN, "created, but not usable: %s",
                      vl_errmsg());
        userns_hint(c);
        return;
    }
    if (rootless == 0) {
        c = check_add(r, id, VL_CHECK_WARN,
                      "needs root (%s); works inside a user namespace", err);
        check_hint(c, "run the container labs with sudo; lab 11 shows the "
                      "rootless way (`unshare -Ur`).");
        return;
    }
    c = check_add(r, id, VL_CHECK_FAIL, "%s", err);
    if (user && !root) {
        userns_hint(c);
    } else if (direct == -EINVAL) {
        check_hint(c, "this kernel is built without %s.", ns_table[ns].config);
    } else if (direct == -ENOSPC) {
        check_hint(c,
                   "the limit /proc/sys/user/%s is reached or 0: raise it "
                   "with sysctl.",
                   ns_table[ns].max);
    } else if (direct == -EPERM && !root) {
        check_hint(c, "needs CAP_SYS_ADMIN: run as root (sudo), or enable "
                      "user namespaces (ns.user).");
    } else if (root) {
        check_hint(c, "even root is refused: inside a container, its seccomp "
                      "profile or missing CAP_SYS_ADMIN blocks unshare(2) "
                      "(docker run --privileged).");
    } else {
        check_hint(c, "see ERRORS in unshare(2); as root (sudo) it may work.");
    }
}

int vl_doctor_check_namespaces(struct vl_doctor_report *r)
{
    for (int ns = 0; ns < VL_DOCTOR_NS_COUNT; ns++)
        check_one_ns(r, (enum vl_doctor_ns)ns);
    return 0;
}

/* ==== cgroups =========================================================== */

/* One line of /proc/self/mountinfo (proc(5)):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw
 *   id par dev root  mount point  options   optional - type source super */
struct mountinfo {
    char root[256];
    char point[256];
    char fstype[32];
    char super[256];
};

static bool mountinfo_parse(const char *line, struct mountinfo *m)
{
    const char *sep = strstr(line, " - ");

    return sep &&
           sscanf(line, "%*d %*d %*s %255s %255s", m->root, m->point) == 2 &&
           sscanf(sep + 3, "%31s %*s %255s", m->fstype, m->super) == 2;
}

/*
 * Our cgroup in one hierarchy, from /proc/self/cgroup (cgroups(7),
 * "/proc/[pid]/cgroup"): lines "id:controllers:path"; v2's line is "0::".
 * ctrl NULL asks for the v2 line.
 */
static int self_cgroup(const char *ctrl, char *path, size_t len)
{
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
    _vl_cleanup_free_ char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f)
        return vl_err(errno, "open /proc/self/cgroup");
    while ((n = getline(&line, &cap, f)) > 0) {
        char *list = strchr(line, ':');
        char *p = list ? strchr(list + 1, ':') : NULL;
        bool match;

        if (!p)
            continue;
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        *list++ = '\0';
        *p++ = '\0';
        if (!ctrl) {
            match = strcmp(line, "0") == 0 && !*list;
        } else {
            for (char *q = list; *q; q++)
                *q = *q == ',' ? ' ' : *q;
            match = list_has(list, ctrl);
        }
        if (match) {
            snprintf(path, len, "%s", p);
            return 0;
        }
    }
    return vl_err_plain(ENOENT, "no %s line in /proc/self/cgroup",
                        ctrl ? ctrl : "0::");
}

/* mount point + our path, with the mount's own root taken off the path
 * (a cgroup mount may show a subtree). */
static void cgroup_dir(char *out, size_t len, const char *point,
                       const char *mroot, const char *path)
{
    size_t rl = strlen(mroot);

    if (strcmp(mroot, "/") != 0 && strncmp(path, mroot, rl) == 0)
        path += rl;
    if (strcmp(path, "/") == 0)
        path = "";
    snprintf(out, len, "%s%s", point, path);
}

/* The controllers this kernel has and enables, from /proc/cgroups
 * (cgroups(7)): "subsys_name hierarchy num_cgroups enabled". */
static void cgroup_known(char *list, size_t len)
{
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/cgroups", "re");
    _vl_cleanup_free_ char *line = NULL;
    size_t cap = 0;

    list[0] = '\0';
    while (f && getline(&line, &cap, f) > 0) {
        char name[64];
        int enabled;

        if (line[0] != '#' &&
            sscanf(line, "%63s %*d %*d %d", name, &enabled) == 2 && enabled)
            list_add(list, len, name);
    }
}

/* Mounted v1 hierarchies: a cgroup mount's super options name the
 * controllers bound to it ("rw,cpu,cpuacct"); a named hierarchy
 * ("name=systemd") has none. */
static int cgroup_v1_scan(struct vl_cgroup_info *info)
{
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    _vl_cleanup_free_ char *line = NULL;
    char known[512];
    size_t cap = 0;
    bool any = false;

    if (!f)
        return vl_err(errno, "open /proc/self/mountinfo");
    cgroup_known(known, sizeof(known));
    info->writable = true;
    while (getline(&line, &cap, f) > 0) {
        struct mountinfo m;
        char *save = NULL;
        char first[64] = "";
        char path[256];
        char dir[600];

        if (!mountinfo_parse(line, &m) || strcmp(m.fstype, "cgroup") != 0)
            continue;
        for (char *o = strtok_r(m.super, ",", &save); o;
             o = strtok_r(NULL, ",", &save)) {
            if (!list_has(known, o))
                continue;
            list_add(info->controllers, sizeof(info->controllers), o);
            if (!first[0])
                snprintf(first, sizeof(first), "%s", o);
        }
        if (!first[0])
            continue;
        any = true;
        if (self_cgroup(first, path, sizeof(path)) == 0) {
            cgroup_dir(dir, sizeof(dir), m.point, m.root, path);
            info->writable &= access(dir, W_OK) == 0;
        }
    }
    if (!any)
        info->writable = false;
    return 0;
}

/* The controllers a cgroup2 directory offers (cgroups(7), "Cgroups v2
 * cgroup.controllers file"). */
static void cgroup_v2_controllers(struct vl_cgroup_info *info, char *list,
                                  size_t len, bool set_writable)
{
    char dir[512];
    char file[600];

    if (self_cgroup(NULL, info->v2_path, sizeof(info->v2_path)) < 0)
        snprintf(info->v2_path, sizeof(info->v2_path), "/");
    cgroup_dir(dir, sizeof(dir), info->v2_mount, "/", info->v2_path);
    snprintf(file, sizeof(file), "%s/cgroup.controllers", dir);
    if (access(file, R_OK) != 0) {
        /* Another cgroup namespace: our path is not under this mount. */
        snprintf(dir, sizeof(dir), "%s", info->v2_mount);
        snprintf(file, sizeof(file), "%s/cgroup.controllers", dir);
    }
    read_text(file, list, len);
    if (set_writable)
        info->writable = access(dir, W_OK) == 0;
}

int vl_cgroup_detect(struct vl_cgroup_info *info)
{
    struct statfs st;
    int r;

    memset(info, 0, sizeof(*info));
    if (statfs(VL_CGROUP_ROOT, &st) < 0)
        return vl_err(errno, "statfs %s", VL_CGROUP_ROOT);

    /* statfs(2): f_type tells the filesystem. CGROUP2_SUPER_MAGIC: the
     * unified hierarchy itself is mounted there (cgroups v2). */
    if (st.f_type == CGROUP2_SUPER_MAGIC) {
        info->version = 2;
        snprintf(info->v2_mount, sizeof(info->v2_mount), "%s", VL_CGROUP_ROOT);
        cgroup_v2_controllers(info, info->controllers,
                              sizeof(info->controllers), true);
        return 0;
    }

    /* Otherwise a tmpfs holding one directory per v1 hierarchy, and on
     * "hybrid" systems (systemd's default before v2 became it) a cgroup2
     * tree at unified/. A controller is bound to one hierarchy at a time,
     * so that tree offers only the controllers no v1 hierarchy mounts
     * (cgroups(7), "Cgroups version 2"): few or none that matter. */
    if ((r = cgroup_v1_scan(info)) < 0)
        return r;
    if (info->controllers[0])
        info->version = 1;
    if (statfs(VL_CGROUP_ROOT "/unified", &st) == 0 &&
        st.f_type == CGROUP2_SUPER_MAGIC) {
        info->hybrid = info->version == 1;
        snprintf(info->v2_mount, sizeof(info->v2_mount), "%s",
                 VL_CGROUP_ROOT "/unified");
        cgroup_v2_controllers(info, info->v2_controllers,
                              sizeof(info->v2_controllers), false);
    }
    return 0;
}

bool vl_cgroup_has(const struct vl_cgroup_info *info, const char *ctrl)
{
    return list_has(info->controllers, ctrl);
}

int vl_doctor_check_cgroup(struct vl_doctor_report *r)
{
    struct vl_cgroup_info *cg = &r->cgroup;
    static const char *const needed[] = {"cpu", "memory", "pids"};
    char missing[64] = "";
    struct vl_check *c;
    int ret;

    vl_err_clear();
    ret = vl_cgroup_detect(cg);
    if (ret < 0 || cg->version == 0) {
        c = check_add(r, "cgroup.version", VL_CHECK_FAIL, "%s",
                      ret < 0 ? vl_errmsg()
                              : "no cgroup filesystem under " VL_CGROUP_ROOT);
        check_hint(c, "mounting cgroups is the init system's job (systemd); "
                      "in a container, give it a cgroup namespace and a "
                      "cgroup mount.");
        check_add(r, "cgroup.controllers", VL_CHECK_SKIP,
                  "needs a cgroup hierarchy");
        return 0;
    }

    if (cg->version == 2) {
        check_add(r, "cgroup.version", VL_CHECK_OK,
                  "v2 (unified hierarchy at %s)", cg->v2_mount);
    } else if (cg->hybrid) {
        c = check_add(r, "cgroup.version", VL_CHECK_WARN,
                      "hybrid: v1 controllers under %s/<controller>; "
                      "cgroup2 at %s %s%s",
                      VL_CGROUP_ROOT, cg->v2_mount,
                      cg->v2_controllers[0] ? "offers only: "
                                            : "has no controllers",
                      cg->v2_controllers);
        check_hint(c,
                   "supported: lab 12 uses the v1 controllers here. crun "
                   "refuses hybrid mode (run it under `unshare -m` after "
                   "`umount %s`); for pure v2, boot with "
                   "systemd.unified_cgroup_hierarchy=1 or test in QEMU.",
                   cg->v2_mount);
    } else {
        c = check_add(r, "cgroup.version", VL_CHECK_WARN,
                      "v1 (legacy hierarchies under %s/<controller>)",
                      VL_CGROUP_ROOT);
        check_hint(c, "supported, but most machines now run v2: boot with "
                      "systemd.unified_cgroup_hierarchy=1 to try it.");
    }

    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (!vl_cgroup_has(cg, needed[i]))
            list_add(missing, sizeof(missing), needed[i]);
    if (!cg->controllers[0]) {
        /* Not fatal for a user: sudo creates cgroups at the top, where the
         * controllers are. */
        c = check_add(r, "cgroup.controllers",
                      geteuid() == 0 ? VL_CHECK_FAIL : VL_CHECK_WARN,
                      "no usable controllers%s%s",
                      cg->version == 2 ? " in " : "",
                      cg->version == 2 ? cg->v2_path : "");
    } else {
        c = check_add(r, "cgroup.controllers",
                      missing[0] || !cg->writable ? VL_CHECK_WARN : VL_CHECK_OK,
                      "%s (%s)", cg->controllers,
                      cg->writable ? "writable" : "read-only here");
    }
    if (missing[0] && cg->version == 2)
        check_hint(c,
                   "missing %s: enable it in the parent's "
                   "cgroup.subtree_control (echo +memory > ...), or ask "
                   "systemd: `systemd-run --scope -p Delegate=yes`.",
                   missing);
    else if (missing[0])
        check_hint(c,
                   "missing %s: no v1 hierarchy mounts it (the init "
                   "system mounts them; some kernels need cgroup_enable=<name> "
                   "on their command line).",
                   missing);
    if (!cg->writable)
        check_hint(c, "creating cgroups needs root (sudo) or a delegated "
                      "cgroup (`systemd-run --user --scope -p "
                      "Delegate=yes`); a read-only mount means a container "
                      "without cgroup access.");
    return 0;
}

/* ==== seccomp =========================================================== */

/* The filter return actions, strongest first (seccomp(2), "Filter return
 * values"), with the names of /proc/sys/kernel/seccomp/actions_avail. */
static const struct {
    const char *name;
    uint32_t action;
} seccomp_actions[] = {
    {"kill_process", SECCOMP_RET_KILL_PROCESS},
    {"kill_thread", SECCOMP_RET_KILL_THREAD},
    {"trap", SECCOMP_RET_TRAP},
    {"errno", SECCOMP_RET_ERRNO},
    {"user_notif", SECCOMP_RET_USER_NOTIF},
    {"trace", SECCOMP_RET_TRACE},
    {"log", SECCOMP_RET_LOG},
    {"allow", SECCOMP_RET_ALLOW},
};

/*
 * Install a filter that allows everything, in the child. Without
 * CAP_SYS_ADMIN the kernel demands no_new_privs first, so that a filter
 * cannot fool a set-user-ID program it later executes (seccomp(2)).
 */
static int seccomp_child(void *arg, void *out)
{
    struct sock_filter allow[] = {
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = 1, .filter = allow};
    int mode;

    (void)arg;
    (void)out;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return vl_err(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return vl_err(errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
    mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (mode != SECCOMP_MODE_FILTER)
        return vl_err_plain(EPROTO,
                            "PR_GET_SECCOMP says %d after a filter "
                            "was installed",
                            mode);
    return 0;
}

/* seccomp(SECCOMP_GET_ACTION_AVAIL) (Linux 4.14), else actions_avail. */
static void seccomp_list_actions(char *list, size_t len)
{
    list[0] = '\0';
    for (size_t i = 0; i < sizeof(seccomp_actions) / sizeof(seccomp_actions[0]);
         i++) {
        uint32_t a = seccomp_actions[i].action;

        if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &a) == 0)
            list_add(list, len, seccomp_actions[i].name);
        else if (errno != EOPNOTSUPP)
            break; /* the operation itself is unknown */
    }
    if (!list[0])
        read_text("/proc/sys/kernel/seccomp/actions_avail", list, len);
}

int vl_doctor_check_seccomp(struct vl_doctor_report *r)
{
    struct vl_check *c;
    int mode;

    /* PR_GET_SECCOMP: 0 = not filtered, 2 = under a filter (a container
     * runtime installed one); EINVAL = kernel without CONFIG_SECCOMP. */
    mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (mode < 0) {
        c = check_add(r, "seccomp.filter", VL_CHECK_FAIL, "PR_GET_SECCOMP: %s",
                      strerror(errno));
        check_hint(c, "this kernel is built without CONFIG_SECCOMP; lab "
                      "13's seccomp part cannot run here.");
        return 0;
    }
    seccomp_list_actions(r->seccomp_actions, sizeof(r->seccomp_actions));
    vl_err_clear();
    if (child_run("installing a seccomp filter", seccomp_child, NULL, NULL, 0,
                  5000) < 0) {
        c = check_add(r, "seccomp.filter", VL_CHECK_FAIL, "%s", vl_errmsg());
        check_hint(c, "the kernel refuses seccomp filters (CONFIG_SECCOMP_"
                      "FILTER) or a parent filter forbids seccomp(2).");
        return 0;
    }
    r->seccomp = true;
    check_add(
        r, "seccomp.filter", VL_CHECK_OK, "a filter installs%s; actions: %s",
        mode == SECCOMP_MODE_FILTER ? " (this process already runs under one)"
                                    : "",
        r->seccomp_actions[0] ? r->seccomp_actions : "unknown");
    return 0;
}

/* ==== overlayfs ========================================================= */

/* Listed in /proc/filesystems (built in, or a module already loaded), or
 * a module the first mount will load (modprobe via request_module). */
static bool overlay_available(const char *release, bool *as_module)
{
    static const char *const exts[] = {"", ".xz", ".zst", ".gz"};
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
    _vl_cleanup_free_ char *line = NULL;
    size_t cap = 0;

    *as_module = false;
    while (f && getline(&line, &cap, f) > 0) {
        char *tab = strchr(line, '\t');

        if (tab && strcmp(tab + 1, "overlay\n") == 0)
            return true;
    }
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        char path[256];

        snprintf(path, sizeof(path),
                 "/lib/modules/%s/kernel/fs/overlayfs/overlay.ko%s", release,
                 exts[i]);
        if (access(path, R_OK) == 0)
            return *as_module = true;
    }
    return false;
}

static int mkdir_in(const char *dir, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, name);
    if (mkdir(out, 0700) < 0)
        return vl_err(errno, "mkdir %s", out);
    return 0;
}

struct overlay_probe {
    const char *dir; /* an empty directory the parent made */
    bool in_userns;
};

/*
 * The real test: an overlay mount (filesystems/overlayfs.rst) in a mount
 * namespace of the child's own. Mounts made there vanish with the child
 * (mount_namespaces(7)), but only if / is made private first: a new mount
 * namespace's mounts stay peers of the parent's shared mounts, and a mount
 * would propagate back into the machine's namespace. The layers sit on a
 * fresh tmpfs because an upper layer cannot be on overlayfs itself (as /tmp
 * is in many containers).
 */
static int overlay_child(void *arg, void *out)
{
    const struct overlay_probe *p = arg;
    char lower[300], upper[300], work[300], merged[300];
    char opts[1024], file[400], text[16];
    int r;

    (void)out;
    if (p->in_userns && (r = enter_userns()) < 0)
        return r;
    if (unshare(CLONE_NEWNS) < 0)
        return vl_err(errno, "unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return vl_err(errno, "making / private (MS_REC|MS_PRIVATE)");
    if (mount("vlab-doctor", p->dir, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=1m,mode=0700") < 0)
        return vl_err(errno, "mount tmpfs on %s", p->dir);
    if ((r = mkdir_in(p->dir, "lower", lower, sizeof(lower))) < 0 ||
        (r = mkdir_in(p->dir, "upper", upper, sizeof(upper))) < 0 ||
        (r = mkdir_in(p->dir, "work", work, sizeof(work))) < 0 ||
        (r = mkdir_in(p->dir, "merged", merged, sizeof(merged))) < 0)
        return r;
    snprintf(file, sizeof(file), "%s/probe", lower);
    _vl_cleanup_close_ int fd =
        open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "lower", 5) != 5)
        return vl_err(errno, "writing %s", file);

    snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower,
             upper, work);
    if (mount("overlay", merged, "overlay", 0, opts) < 0)
        return vl_err(errno, "mount -t overlay -o %s", opts);

    /* The lower layer shows through; a write lands in the upper layer. */
    snprintf(file, sizeof(file), "%s/probe", merged);
    if (read_text(file, text, sizeof(text)) < 0 || strcmp(text, "lower"))
        return vl_err_plain(EIO, "the overlay does not show the lower layer");
    if ((r = write_text(file, "upper")) < 0)
        return vl_err_ctx(r, "writing through the overlay");
    snprintf(file, sizeof(file), "%s/probe", upper);
    if (read_text(file, text, sizeof(text)) < 0 || strcmp(text, "upper"))
        return vl_err_plain(EIO, "a write did not reach the upper layer");
    snprintf(file, sizeof(file), "%s/probe", lower);
    if (read_text(file, text, sizeof(text)) < 0 || strcmp(text, "lower"))
        return vl_err_plain(EIO, "a write changed the lower layer");
    return 0;
}

static int overlay_mount_probe(bool in_userns)
{
    const char *tmp = getenv("TMPDIR");
    struct overlay_probe p = {.in_userns = in_userns};
    char dir[256];
    int r;

    snprintf(dir, sizeof(dir), "%s/vlab-doctor-XXXXXX",
             tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return vl_err(errno, "mkdtemp %s", dir);
    p.dir = dir;
    r = child_run("mounting an overlay", overlay_child, &p, NULL, 0, 5000);
    /* The tmpfs was mounted in the child's namespace only, so the
     * directory is empty here; and since Linux 3.18 a mount point in
     * another namespace does not keep a directory from being removed. */
    if (rmdir(dir) < 0 && r == 0)
        r = vl_err(errno, "rmdir %s", dir);
    return r;
}

int vl_doctor_check_overlay(struct vl_doctor_report *r)
{
    bool root = geteuid() == 0;
    struct vl_check *c;
    struct utsname u;
    bool module;
    int ret;

    r->overlay_mount = -1;
    if (uname(&u) < 0)
        return vl_err(errno, "uname");
    if (!overlay_available(u.release, &module)) {
        c = check_add(r, "overlay.fs", VL_CHECK_FAIL,
                      "overlay is neither in /proc/filesystems nor a module "
                      "of %s",
                      u.release);
        check_hint(c, "lab 14 needs a kernel with CONFIG_OVERLAY_FS "
                      "(`sudo modprobe overlay` if it is a module).");
        check_add(r, "overlay.mount", VL_CHECK_SKIP, "needs overlay.fs");
        return 0;
    }
    check_add(r, "overlay.fs", VL_CHECK_OK, "%s",
              module ? "overlay.ko is available (loads on first mount)"
                     : "overlay in /proc/filesystems");

    vl_err_clear();
    ret = overlay_mount_probe(!root);
    r->overlay_mount = ret == 0;
    r->overlayfs = ret == 0;
    if (ret == 0) {
        check_add(r, "overlay.mount", VL_CHECK_OK,
                  "mounted lower+upper on tmpfs in a private mount "
                  "namespace%s",
                  root ? "" : ", rootless (in a user namespace)");
    } else if (root) {
        c = check_add(r, "overlay.mount", VL_CHECK_FAIL, "%s", vl_errmsg());
        check_hint(c, "even root cannot mount an overlay: inside a "
                      "container, mounts need --privileged (or "
                      "CAP_SYS_ADMIN and no AppArmor/seccomp block).");
    } else {
        c = check_add(r, "overlay.mount", VL_CHECK_WARN, "rootless: %s",
                      vl_errmsg());
        check_hint(c, "overlay in a user namespace needs Linux 5.11+; run "
                      "lab 14 with sudo.");
    }
    return 0;
}

/* ==== the whole report ================================================== */

void vl_doctor_init(struct vl_doctor_report *r)
{
    memset(r, 0, sizeof(*r));
    r->overlay_mount = -1;
}

int vl_doctor_run(struct vl_doctor_report *r)
{
    int ret;

    vl_doctor_init(r);
    if ((ret = vl_doctor_check_system(r)) < 0 ||
        (ret = vl_doctor_check_kvm(r, NULL)) < 0 ||
        (ret = vl_doctor_check_namespaces(r)) < 0 ||
        (ret = vl_doctor_check_cgroup(r)) < 0 ||
        (ret = vl_doctor_check_seccomp(r)) < 0 ||
        (ret = vl_doctor_check_overlay(r)) < 0)
        return vl_err_ctx(ret, "doctor");
    return 0;
}

const struct vl_check *vl_doctor_find(const struct vl_doctor_report *r,
                                      const char *id)
{
    for (int i = 0; i < r->nchecks; i++)
        if (strcmp(r->checks[i].id, id) == 0)
            return &r->checks[i];
    return NULL;
}

int vl_doctor_count(const struct vl_doctor_report *r,
                    enum vl_check_status status)
{
    int n = 0;

    for (int i = 0; i < r->nchecks; i++)
        n += r->checks[i].status == status;
    return n;
}

/* ==== JSON ============================================================== */

static void json_cleanup(json_t **j)
{
    json_decref(*j);
}
#define _json_cleanup_ __attribute__((cleanup(json_cleanup)))

/* Set obj[key] = val (stolen); remember a failed allocation in *bad. */
static void jset(json_t *obj, const char *key, json_t *val, bool *bad)
{
    if (!val || json_object_set_new(obj, key, val) < 0)
        *bad = true;
}

static json_t *json_words(const char *list)
{
    json_t *a = json_array();
    char copy[256];
    char *save = NULL;

    snprintf(copy, sizeof(copy), "%s", list);
    for (char *w = strtok_r(copy, " ", &save); a && w;
         w = strtok_r(NULL, " ", &save))
        if (json_array_append_new(a, json_string(w)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *json_checks(const struct vl_doctor_report *r, bool *bad)
{
    json_t *a = json_array();

    for (int i = 0; a && i < r->nchecks; i++) {
        const struct vl_check *c = &r->checks[i];
        json_t *o = json_object();

        if (!o || json_array_append_new(a, o) < 0) {
            *bad = true;
            break;
        }
        jset(o, "id", json_string(c->id), bad);
        jset(o, "status", json_string(vl_check_status_name(c->status)), bad);
        jset(o, "summary", json_string(c->summary), bad);
        jset(o, "hint", json_string(c->hint), bad);
    }
    return a;
}

static json_t *json_cgroup(const struct vl_cgroup_info *cg, bool *bad)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "version", json_integer(cg->version), bad);
    jset(o, "hybrid", json_boolean(cg->hybrid), bad);
    jset(o, "v2_mount",
         cg->v2_mount[0] ? json_string(cg->v2_mount) : json_null(), bad);
    jset(o, "v2_path", cg->v2_path[0] ? json_string(cg->v2_path) : json_null(),
         bad);
    jset(o, "controllers", json_words(cg->controllers), bad);
    jset(o, "v2_controllers", json_words(cg->v2_controllers), bad);
    jset(o, "writable", json_boolean(cg->writable), bad);
    return o;
}

static json_t *json_facts(const struct vl_doctor_report *r, bool *bad)
{
    bool measured = r->speed.speed != VL_KVM_SPEED_UNKNOWN;
    json_t *f = json_object();
    json_t *ns = json_object();
    json_t *nsr = json_object();

    for (int i = 0; ns && nsr && i < VL_DOCTOR_NS_COUNT; i++) {
        jset(ns, ns_table[i].name, json_boolean(r->ns[i]), bad);
        jset(nsr, ns_table[i].name, json_boolean(r->ns_rootless[i]), bad);
    }
    if (!f) {
        json_decref(ns);
        json_decref(nsr);
        return NULL;
    }
    jset(f, "kernel", json_string(r->kernel), bad);
    jset(f, "arch", json_string(r->arch), bad);
    jset(f, "root", json_boolean(r->root), bad);
    jset(f, "uid", json_integer(r->uid), bad);
    jset(f, "kvm_group", json_boolean(r->kvm_group), bad);
    jset(f, "kvm", json_boolean(r->kvm_usable), bad);
    jset(f, "kvm_api", r->kvm_api ? json_integer(r->kvm_api) : json_null(),
         bad);
    jset(f, "kvm_speed",
         measured ? json_string(vl_kvm_speed_name(r->speed.speed))
                  : json_null(),
         bad);
    jset(f, "ns_per_insn",
         measured ? json_real(r->speed.ns_per_insn) : json_null(), bad);
    jset(f, "us_per_exit",
         measured ? json_real(r->speed.us_per_exit) : json_null(), bad);
    jset(f, "namespaces", ns, bad);
    jset(f, "namespaces_rootless", nsr, bad);
    jset(f, "cgroup", json_cgroup(&r->cgroup, bad), bad);
    jset(f, "seccomp", json_boolean(r->seccomp), bad);
    jset(f, "seccomp_actions", json_words(r->seccomp_actions), bad);
    jset(f, "overlayfs", json_boolean(r->overlayfs), bad);
    jset(f, "overlayfs_mount",
         r->overlay_mount < 0 ? json_null() : json_boolean(r->overlay_mount),
         bad);
    return f;
}

int vl_doctor_to_json(const struct vl_doctor_report *r, char **out)
{
    _json_cleanup_ json_t *root = json_object();
    json_t *sum = json_object();
    bool bad = !root;

    *out = NULL;
    if (root) {
        jset(root, "version", json_integer(1), &bad);
        jset(root, "checks", json_checks(r, &bad), &bad);
        if (sum) {
            for (int s = VL_CHECK_OK; s <= VL_CHECK_SKIP; s++)
                jset(sum, vl_check_status_name((enum vl_check_status)s),
                     json_integer(vl_doctor_count(r, (enum vl_check_status)s)),
                     &bad);
        }
        jset(root, "summary", sum, &bad);
        jset(root, "facts", json_facts(r, &bad), &bad);
    } else {
        json_decref(sum);
    }
    if (bad)
        return vl_err_plain(ENOMEM, "building the doctor's JSON: out of "
                                    "memory");
    *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!*out)
        return vl_err_plain(ENOMEM, "json_dumps: out of memory");
    return 0;
}
