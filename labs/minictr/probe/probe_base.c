/*
 * probe_base.c - vlab-probe's general commands and those of lab 09
 * (namespaces, PID 1, signals): what the container's process is and sees.
 *
 * Every value comes from the kernel's interfaces as documented in proc(5)
 * (/proc/self/status, /proc/PID/stat, /proc/self/ns), namespaces(7),
 * capabilities(7), prctl(2) and netdevice(7); where /proc is not mounted
 * (a bare chroot) a system call gives the same answer.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_ZOMBIE_WAIT_MS 200
#define PROBE_MAX_ORPHANS    1024

/* ---- small helpers ---------------------------------------------------- */

static int probe_usage(const char *usage)
{
    fprintf(stderr, "usage: vlab-probe %s\n", usage);
    return 2;
}

static bool probe_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static void probe_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The value of "Key:" in /proc/self/status (proc(5)), trimmed, or false. */
static bool probe_status_field(const char *key, char *buf, size_t size)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    size_t klen = strlen(key);
    bool found = false;

    if (!f)
        return false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *v = line + klen;

        if (strncmp(line, key, klen) != 0 || *v != ':')
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        snprintf(buf, size, "%s", v);
        found = true;
    }
    fclose(f);
    return found;
}

/* Signal numbers by name: "TERM", "SIGTERM" or "15". */
static int probe_signal_parse(const char *s)
{
    long n;

    if (probe_parse_long(s, 1, NSIG - 1, &n))
        return (int)n;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (int sig = 1; sig < NSIG; sig++) {
        const char *abbrev = sigabbrev_np(sig);

        if (abbrev && strcasecmp(abbrev, s) == 0)
            return sig;
    }
    return -1;
}

static void probe_kv_signal(const char *key, int sig)
{
    const char *abbrev = sigabbrev_np(sig);

    if (abbrev)
        probe_kv(key, "SIG%s", abbrev);
    else
        probe_kv(key, "%d", sig);
}

/* ---- env -------------------------------------------------------------- */

static void probe_env_ids(void)
{
    struct utsname uts;
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);
    char list[NGROUPS_MAX * 12] = "";
    size_t len = 0;

    probe_kv("hostname", "%s", uname(&uts) == 0 ? uts.nodename : "?");
    probe_kv("pid", "%d", (int)getpid());
    probe_kv("ppid", "%d", (int)getppid());
    probe_kv("uid", "%u", (unsigned)getuid());
    probe_kv("gid", "%u", (unsigned)getgid());
    probe_kv("euid", "%u", (unsigned)geteuid());
    probe_kv("egid", "%u", (unsigned)getegid());
    for (int i = 0; i < n && len < sizeof(list) - 12; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u",
                                i ? "," : "", (unsigned)groups[i]);
    probe_kv("groups", "%s", list);
}

/*
 * The capability sets (capabilities(7)) as /proc/self/status shows them:
 * 16 hex digits, bit N = capability N. Without /proc: capget(2) for the
 * effective and permitted sets, PR_CAPBSET_READ (prctl(2)) for the
 * bounding set.
 */
static void probe_env_caps(void)
{
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3,
    };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};
    bool have_capget = syscall(SYS_capget, &hdr, data) == 0;
    char buf[64];

    if (probe_status_field("CapEff", buf, sizeof(buf)))
        probe_kv("cap_eff", "%s", buf);
    else if (have_capget)
        probe_kv("cap_eff", "%016llx",
                 (unsigned long long)data[1].effective << 32 |
                     data[0].effective);
    else
        probe_kv("cap_eff", "?");

    if (probe_status_field("CapPrm", buf, sizeof(buf)))
        probe_kv("cap_prm", "%s", buf);
    else if (have_capget)
        probe_kv("cap_prm", "%016llx",
                 (unsigned long long)data[1].permitted << 32 |
                     data[0].permitted);
    else
        probe_kv("cap_prm", "?");

    if (probe_status_field("CapBnd", buf, sizeof(buf))) {
        probe_kv("cap_bnd", "%s", buf);
    } else {
        unsigned long long bnd = 0;

        for (int cap = 0; cap < 64; cap++)
            if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
                bnd |= 1ULL << cap;
        probe_kv("cap_bnd", "%016llx", bnd);
    }
}

/* no_new_privs (prctl(2), PR_SET_NO_NEW_PRIVS) and the seccomp mode
 * (seccomp(2): 0 off, 1 strict, 2 filter). */
static void probe_env_security(void)
{
    char buf[32];

    probe_kv("no_new_privs", "%d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    if (probe_status_field("Seccomp", buf, sizeof(buf)))
        probe_kv("seccomp", "%s", buf);
    else
        probe_kv("seccomp", "%d", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
}

static void probe_env_fs(void)
{
    char cwd[PATH_MAX];
    struct stat st;

    probe_kv("cwd", "%s", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
    if (stat("/", &st) == 0)
        probe_kv("root_ino", "%llu", (unsigned long long)st.st_ino);
    else
        probe_kv("root_ino", "?");
}

/* A namespace's identity is the inode of /proc/self/ns/<type>
 * (namespaces(7), "The /proc/[pid]/ns/ directory"); 0 when /proc is not
 * mounted or the kernel lacks that namespace type. */
static void probe_env_ns(void)
{
    static const char *const types[] = {"uts", "pid",  "ipc",   "mnt",
                                        "net", "user", "cgroup"};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char path[64], key[32];
        struct stat st;

        snprintf(path, sizeof(path), "/proc/self/ns/%s", types[i]);
        snprintf(key, sizeof(key), "ns_%s", types[i]);
        probe_kv(key, "%llu",
                 stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0ULL);
    }
}

/* Append the interface names of /proc/net/dev (proc(5)) to list. */
static void probe_netifs_procfs(char *list, size_t size)
{
    FILE *f = fopen("/proc/net/dev", "re");
    char line[512];
    size_t len = 0;
    int lineno = 0;

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *name = line, *colon = strchr(line, ':');

        if (++lineno <= 2 || !colon) /* two header lines */
            continue;
        *colon = '\0';
        while (isspace((unsigned char)*name))
            name++;
        len += (size_t)snprintf(list + len, size - len, "%s%s", len ? "," : "",
                                name);
        if (len >= size)
            break;
    }
    fclose(f);
}

/*
 * The network interfaces of this network namespace: if_nameindex(3)
 * (netlink, so it needs neither /proc nor /sys), else /proc/net/dev. And
 * whether the loopback is up: SIOCGIFFLAGS (netdevice(7)), IFF_UP.
 */
static void probe_env_net(void)
{
    struct if_nameindex *ifs = if_nameindex();
    char list[1024] = "";
    size_t len = 0;
    struct ifreq ifr = {0};
    int fd, up = 0;

    if (ifs) {
        for (struct if_nameindex *i = ifs; i->if_index && len < sizeof(list);
             i++)
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                    len ? "," : "", i->if_name);
        if_freenameindex(ifs);
    } else {
        probe_netifs_procfs(list, sizeof(list));
    }
    probe_kv("netifs", "%s", list);

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
        up = (ifr.ifr_flags & IFF_UP) != 0;
    if (fd >= 0)
        close(fd);
    probe_kv("lo_up", "%d", up);
}

static int cmd_env(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    probe_env_ids();
    probe_env_caps();
    probe_env_security();
    probe_env_fs();
    probe_env_ns();
    probe_env_net();
    return 0;
}

/* ---- exit, kill, sigwait ---------------------------------------------- */

static int cmd_exit(int argc, char **argv)
{
    long status;

    if (argc != 2 || !probe_parse_long(argv[1], 0, 255, &status))
        return probe_usage("exit N   (0..255)");
    exit((int)status);
}

/*
 * Die by a signal: default action, unblocked, then raise it. A PID 1 is
 * immune to signals from inside its namespace that it has no handler for
 * (pid_namespaces(7), "The namespace init process"), so it may survive:
 * then say so and exit 1.
 */
static int cmd_kill(int argc, char **argv)
{
    int sig;
    sigset_t set;

    if (argc != 2 || (sig = probe_signal_parse(argv[1])) < 0)
        return probe_usage("kill SIG   (TERM, SIGKILL, 9, ...)");
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), sig);
    probe_sleep_ms(100);
    fprintf(stderr, "vlab-probe: still alive after signal %d (PID %d)\n", sig,
            (int)getpid());
    return 1;
}

/*
 * Wait for a termination signal and report which one came: the test that
 * a runtime forwards SIGTERM to the container. The signals are blocked
 * before "ready=1", so none can come too early (sigwait(3)).
 */
static int cmd_sigwait(int argc, char **argv)
{
    sigset_t set;
    int sig = 0;

    (void)argc;
    (void)argv;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    probe_kv("ready", "1");
    if (sigwait(&set, &sig) != 0)
        return 1;
    probe_kv_signal("got", sig);
    return 0;
}

/* ---- zombies, pid1 ------------------------------------------------------ */

/* Is /proc/PID in state Z (proc(5), /proc/PID/stat field 3)? -1: gone. */
static int probe_pid_state(pid_t pid)
{
    char path[64], buf[512], *paren;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* "PID (comm) S ...": comm may hold spaces and ')' - use the last. */
    paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' ? paren[2] : '?';
}

static int probe_count_zombies(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int zombies = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (isdigit((unsigned char)e->d_name[0]) &&
            probe_pid_state((pid_t)atoi(e->d_name)) == 'Z')
            zombies++;
    closedir(d);
    return zombies;
}

/* Fork a child that forks a grandchild and exits: the grandchild becomes
 * an orphan, re-parented to the namespace's init (or a subreaper,
 * PR_SET_CHILD_SUBREAPER in prctl(2)), which must reap it when it exits.
 * Returns the orphan's pid, read from a pipe, or -1. */
static pid_t probe_make_orphan(void)
{
    int fds[2];
    pid_t child, orphan = -1;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    child = fork();
    if (child == 0) {
        pid_t g = fork();

        if (g == 0)
            _exit(0);
        if (write(fds[1], &g, sizeof(g)) != (ssize_t)sizeof(g))
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    if (child > 0) {
        if (read(fds[0], &orphan, sizeof(orphan)) != (ssize_t)sizeof(orphan))
            orphan = -1;
        waitpid(child, NULL, 0); /* only the child: never the orphan */
    }
    close(fds[0]);
    return orphan;
}

static bool probe_orphans_gone(const pid_t *orphans, long n)
{
    for (long i = 0; i < n; i++)
        if (orphans[i] > 0 && probe_pid_state(orphans[i]) != -1)
            return false;
    return true;
}

static int cmd_zombies(int argc, char **argv)
{
    static pid_t orphans[PROBE_MAX_ORPHANS];
    long n, made = 0;
    bool gone = false;

    if (argc != 2 || !probe_parse_long(argv[1], 0, PROBE_MAX_ORPHANS, &n))
        return probe_usage("zombies N   (0..1024)");
    for (long i = 0; i < n; i++) {
        orphans[i] = probe_make_orphan();
        if (orphans[i] > 0)
            made++;
    }
    /* Up to 200 ms for the reaper; stop early once all are reaped. */
    for (int ms = 0; ms < PROBE_ZOMBIE_WAIT_MS && !gone; ms += 5) {
        probe_sleep_ms(5);
        gone = probe_orphans_gone(orphans, n);
    }
    probe_kv("orphans", "%ld", made);
    probe_kv("zombies", "%d", probe_count_zombies());
    probe_kv("orphans_reaped", "%d", probe_orphans_gone(orphans, n) ? 1 : 0);
    return made == n ? 0 : 1;
}

/* Who is PID 1 of this PID namespace (pid_namespaces(7)): its command
 * line from /proc/1/cmdline, NUL-separated, printed space-separated. */
static int cmd_pid1(int argc, char **argv)
{
    char buf[4096];
    ssize_t n = -1;
    int fd = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);

    (void)argc;
    (void)argv;
    if (fd >= 0) {
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    if (n < 0)
        n = 0;
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    probe_kv("init_cmdline", "%s", fd >= 0 ? buf : "?");
    probe_kv("self_pid", "%d", (int)getpid());
    return 0;
}

/* ---- sleep, echo ------------------------------------------------------ */

static int cmd_sleep(int argc, char **argv)
{
    char *end;
    double sec;

    if (argc != 2)
        return probe_usage("sleep SEC");
    errno = 0;
    sec = strtod(argv[1], &end);
    if (errno || end == argv[1] || *end || sec < 0 || sec > 86400)
        return probe_usage("sleep SEC   (0..86400, decimals allowed)");
    probe_sleep_ms((long)(sec * 1000));
    return 0;
}

/* argc= and args= (the arguments joined by single spaces), then each as
 * arg1=, arg2=, ... so a test sees quoting and empty arguments exactly. */
static int cmd_echo(int argc, char **argv)
{
    size_t size = 1;
    char *all, *p;

    for (int i = 1; i < argc; i++)
        size += strlen(argv[i]) + 1;
    p = all = calloc(1, size);
    if (!all)
        return 1;
    for (int i = 1; i < argc; i++)
        p += sprintf(p, "%s%s", i > 1 ? " " : "", argv[i]);
    probe_kv("argc", "%d", argc - 1);
    probe_kv("args", "%s", all);
    for (int i = 1; i < argc; i++) {
        char key[32];

        snprintf(key, sizeof(key), "arg%d", i);
        probe_kv(key, "%s", argv[i]);
    }
    free(all);
    return 0;
}

const struct probe_cmd probe_cmds_base[] = {
    {"env",
     "env: hostname, pid, ppid, uid/gid/euid/egid, groups, cap_eff/prm/bnd, "
     "no_new_privs, seccomp, cwd, root_ino, ns_<type>, netifs, lo_up",
     cmd_env},
    {"exit", "exit N: exit with status N", cmd_exit},
    {"kill", "kill SIG: kill itself with signal SIG (TERM, 9, SIGKILL)",
     cmd_kill},
    {"sigwait",
     "sigwait: print ready=1, wait for SIGTERM/SIGINT/SIGHUP, print "
     "got=SIGTERM (the one that came)",
     cmd_sigwait},
    {"zombies",
     "zombies N: make N orphans that exit at once, wait up to 200 ms, print "
     "orphans=, zombies= (state Z in /proc), orphans_reaped=0/1",
     cmd_zombies},
    {"pid1",
     "pid1: print init_cmdline= (of /proc/1/cmdline), self_pid=", cmd_pid1},
    {"sleep", "sleep SEC: sleep SEC seconds (decimals allowed)", cmd_sleep},
    {"echo", "echo ARGS: print argc=, args= (joined by spaces), arg1=...",
     cmd_echo},
    {NULL, NULL, NULL},
};
