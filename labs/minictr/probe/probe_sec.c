/*
 * probe_sec.c - vlab-probe commands of lab 13 (capabilities and seccomp):
 * the capability sets, no_new_privs and seccomp mode of the probe itself,
 * and attempts at what a container must not do, each printing NAME=ok or
 * NAME=<errno name>.
 *
 * Every attempt is built to be harmless even where it is ALLOWED (run
 * outside a container, or with --cap-add ALL --seccomp unconfined): it
 * runs in a forked child that exits right away, and it uses arguments
 * that pass the permission checks and then fail or change nothing. So the
 * errno tells which check stopped it: EPERM (or EACCES) is a refusal by a
 * capability check or by seccomp; "ok" or another errno means it got
 * through. The comment of each attempt says what it does if allowed.
 *
 * References: capabilities(7), proc(5) (/proc/PID/status), seccomp(2),
 * mount(2), unshare(2), add_key(2), ptrace(2), raw(7), init_module(2),
 * reboot(2), personality(2), bpf(2).
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* "EPERM", "EACCES", ...: the tests match names. */
static const char *err_name(int err)
{
    static char buf[24];
    const char *n = strerrorname_np(err);

    if (n)
        return n;
    snprintf(buf, sizeof(buf), "errno%d", err);
    return buf;
}

/* caps: the lines of /proc/self/status this lab is about (proc(5)). */
static int cmd_caps(int argc, char **argv)
{
    static const struct {
        const char *line, *key;
    } keys[] = {
        {"CapInh:", "cap_inh"},  {"CapPrm:", "cap_prm"},
        {"CapEff:", "cap_eff"},  {"CapBnd:", "cap_bnd"},
        {"CapAmb:", "cap_amb"},  {"NoNewPrivs:", "no_new_privs"},
        {"Seccomp:", "seccomp"}, {"Seccomp_filters:", "seccomp_filters"},
    };
    char line[256];
    FILE *f = fopen("/proc/self/status", "re");

    (void)argc, (void)argv;
    if (!f) {
        probe_kv("error", "/proc/self/status: %s", err_name(errno));
        return 1;
    }
    while (fgets(line, sizeof(line), f)) {
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            size_t n = strlen(keys[i].line);
            char *v = line + n;

            if (strncmp(line, keys[i].line, n))
                continue;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            probe_kv(keys[i].key, "%s", v);
        }
    }
    fclose(f);
    return 0;
}

/* ---- the attempts: each returns 0 (allowed) or an errno -------------------
 */

static long target_pid;                      /* ptrace:PID */
static unsigned long persona = 0xffffffffUL; /* personality:VALUE */

/* mount(2) of a file system type that does not exist: the permission
 * check (CAP_SYS_ADMIN) comes first, so EPERM = refused, ENODEV = it got
 * through and found no such type. Mounts nothing either way. */
static int try_mount(void)
{
    if (mount("none", "/", "vlab-probe-no-such-fs", 0, NULL) == 0)
        return 0;
    return errno == ENODEV ? 0 : errno;
}

/* unshare(CLONE_NEWUSER): a user namespace for this (forked, short-lived)
 * child alone. No capability needed: only seccomp stops it. */
static int try_unshare_user(void)
{
    return unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
}

/* add_key(2): a key in the child's own process keyring, which goes away
 * with the child. The kernel's keyrings are not namespaced: Docker blocks
 * the key system calls. */
static int try_keyctl(void)
{
    long r = syscall(SYS_add_key, "user", "vlab-probe", "x", (size_t)1,
                     -2 /* KEY_SPEC_PROCESS_KEYRING */);

    return r >= 0 ? 0 : errno;
}

/* ptrace(PTRACE_SEIZE) of the child's own sleeping child (or of ptrace:PID):
 * SEIZE does not even stop the tracee, and the tracer exits right away,
 * which detaches it (ptrace(2)). Same uid, so only seccomp (or a missing
 * CAP_SYS_PTRACE against a more privileged target) stops it. */
static int try_ptrace(void)
{
    pid_t t = (pid_t)target_pid;
    int r = 0;

    if (!t) {
        t = fork();
        if (t < 0)
            return errno;
        if (t == 0) {
            pause();
            _exit(0);
        }
    }
    if (ptrace(PTRACE_SEIZE, t, NULL, NULL) < 0)
        r = errno;
    if (!target_pid) {
        kill(t, SIGKILL);
        waitpid(t, NULL, 0);
    }
    return r;
}

/* socket(AF_INET, SOCK_RAW): needs CAP_NET_RAW (raw(7)); closed at once. */
static int try_raw_socket(void)
{
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

/* init_module(2) of 64 zero bytes, not a module: CAP_SYS_MODULE is
 * checked first (EPERM), then the image is refused (ENOEXEC, EINVAL...). */
static int try_module(void)
{
    static char image[64];

    if (syscall(SYS_init_module, image, sizeof(image), "") == 0)
        return 0;
    return errno == EPERM || errno == EACCES ? errno : 0;
}

/* reboot(2) with a wrong second magic number: CAP_SYS_BOOT is checked
 * first (EPERM); then the magic is wrong (EINVAL) and nothing happens.
 * (With the right magic, LINUX_REBOOT_CMD_CAD_OFF in a PID namespace is
 * EINVAL too, and on the host it would change Ctrl-Alt-Del: not that.) */
static int try_reboot(void)
{
    if (syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 0x12345678,
                LINUX_REBOOT_CMD_CAD_OFF, NULL) == 0)
        return 0;
    return errno == EINVAL ? 0 : errno;
}

/* fchown(2) of an anonymous memory file to 1:1: needs CAP_CHOWN. */
static int try_chown(void)
{
    int fd = memfd_create("vlab-probe", MFD_CLOEXEC), r = 0;

    if (fd < 0)
        return errno;
    if (fchown(fd, 1, 1) < 0)
        r = errno;
    close(fd);
    return r;
}

/* bpf(2) with a zeroed BPF_MAP_CREATE: seccomp or a missing CAP_BPF says
 * EPERM; past them the attributes are invalid (EINVAL). */
static int try_bpf(void)
{
    char attr[128] = {0};

    if (syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)) >= 0)
        return 0;
    return errno == EINVAL ? 0 : errno;
}

/* getppid(2): always allowed by the kernel; for custom profiles. */
static int try_getppid(void)
{
    return syscall(SYS_getppid) >= 0 ? 0 : errno;
}

/* personality(2) with VALUE (default 0xffffffff: only asks). */
static int try_personality(void)
{
    return syscall(SYS_personality, persona) >= 0 ? 0 : errno;
}

/* unshare(CLONE_NEWNS): a mount namespace for this short-lived child
 * alone; needs CAP_SYS_ADMIN. */
static int try_unshare_mnt(void)
{
    return unshare(CLONE_NEWNS) == 0 ? 0 : errno;
}

static const struct attempt {
    const char *name;
    int (*fn)(void);
} attempts[] = {
    {"mount", try_mount},
    {"unshare-user", try_unshare_user},
    {"unshare-mnt", try_unshare_mnt},
    {"keyctl", try_keyctl},
    {"ptrace", try_ptrace},
    {"raw-socket", try_raw_socket},
    {"module", try_module},
    {"reboot", try_reboot},
    {"chown", try_chown},
    {"bpf", try_bpf},
    {"getppid", try_getppid},
    {"personality", try_personality},
};

/* NAME or NAME:ARG (ptrace:PID, personality:VALUE). */
static const struct attempt *find_attempt(const char *word, char *name,
                                          size_t len)
{
    const char *colon = strchr(word, ':');
    size_t n = colon ? (size_t)(colon - word) : strlen(word);

    snprintf(name, len, "%s", word);
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        if (strlen(attempts[i].name) != n || strncmp(word, attempts[i].name, n))
            continue;
        target_pid = 0;
        persona = 0xffffffffUL;
        if (colon && !strcmp(attempts[i].name, "ptrace"))
            target_pid = strtol(colon + 1, NULL, 0);
        else if (colon && !strcmp(attempts[i].name, "personality"))
            persona = strtoul(colon + 1, NULL, 0);
        else if (colon)
            return NULL;
        return &attempts[i];
    }
    return NULL;
}

/* try [--here] NAME...: each attempt in a forked child (in the probe
 * itself with --here: a seccomp kill then kills the probe). */
static int cmd_try(int argc, char **argv)
{
    bool here = argc > 1 && !strcmp(argv[1], "--here");
    int bad = 0;

    for (int i = here ? 2 : 1; i < argc; i++) {
        char name[64];
        const struct attempt *a = find_attempt(argv[i], name, sizeof(name));
        int st, r;
        pid_t c;

        if (!a) {
            probe_kv(name, "unknown-attempt");
            bad = 1;
            continue;
        }
        if (here) {
            r = a->fn();
            probe_kv(name, "%s", r ? err_name(r) : "ok");
            continue;
        }
        fflush(stdout);
        c = fork();
        if (c < 0) {
            probe_kv(name, "fork:%s", err_name(errno));
            continue;
        }
        if (c == 0)
            _exit(a->fn() & 0xff);
        while (waitpid(c, &st, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(st))
            probe_kv(name, "killed:%s", sigabbrev_np(WTERMSIG(st)));
        else
            probe_kv(name, "%s",
                     WEXITSTATUS(st) ? err_name(WEXITSTATUS(st)) : "ok");
    }
    return bad ? 2 : 0;
}

/* getppid LOOPS: time LOOPS getppid() calls; ns_per_call=. */
static int cmd_getppid_loop(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000000;
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    probe_kv("ns_per_call", "%.1f",
             ((double)(b.tv_sec - a.tv_sec) * 1e9 +
              (double)(b.tv_nsec - a.tv_nsec)) /
                 (double)(n > 0 ? n : 1));
    return 0;
}

const struct probe_cmd probe_cmds_sec[] = {
    {"caps",
     "caps: cap_inh= cap_prm= cap_eff= cap_bnd= cap_amb= (hex), "
     "no_new_privs=, seccomp= (0 none, 2 filter), seccomp_filters=",
     cmd_caps},
    {"try",
     "try [--here] NAME...: NAME=ok or the errno name; mount unshare-user "
     "unshare-mnt keyctl ptrace[:PID] raw-socket module reboot chown bpf "
     "getppid personality[:VALUE] (harmless even if allowed)",
     cmd_try},
    {"getppid-loop",
     "getppid-loop N: N getppid() calls; ns_per_call=", cmd_getppid_loop},
    {NULL, NULL, NULL},
};
