/*
 * probe_fs.c - vlab-probe's commands of lab 10 (the container's
 * filesystem): what the container's root, /proc, /sys and /dev are, what
 * is masked, what is writable, and whether the classic chroot escape gets
 * out.
 *
 * The facts come from proc(5) ("/proc/[pid]/mountinfo"), statvfs(3)
 * (ST_RDONLY), stat(2) (st_rdev: the device's major and minor,
 * Documentation/admin-guide/devices.txt) and from using each device as a
 * program would (pts(4), posix_openpt(3)). Errors are printed by their
 * errno names (ENOSPC, EROFS) so that tests compare words, not numbers.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* How many times `escape` climbs "..": more than any real tree is deep. */
#define PROBE_ESCAPE_CLIMBS 64

/* The devices a container's /dev should have (runc's default set). */
static const char *const probe_devices[] = {
    "null", "zero", "full", "random", "urandom", "tty", NULL,
};

/* The mounts `fs` describes. */
static const char *const probe_fs_mounts[] = {
    "/", "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", NULL,
};

/* The paths minictr masks (Docker's masked paths, moby's oci/defaults.go,
 * plus /proc/sysrq-trigger and /sys/devices/virtual/powercap) and makes
 * read-only: the ones `masked` reports on. */
static const char *const probe_masked[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/sysrq-trigger",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};
static const char *const probe_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", NULL,
};

/* ---- helpers ------------------------------------------------------------- */

static const char *probe_errname(int err)
{
    const char *n = strerrorname_np(err);

    return n ? n : "E?";
}

/* Read a whole small file into buf (terminated); bytes read or -errno. */
static ssize_t probe_read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n, total = 0;

    if (fd < 0)
        return -errno;
    while ((size_t)total + 1 < size &&
           (n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
        total += n;
    close(fd);
    buf[total] = '\0';
    return total;
}

/*
 * Undo mountinfo's octal escapes ("\040" for a space, proc(5)) in place.
 */
static void probe_unescape(char *s)
{
    char *w = s;

    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) |
                          (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* One line of /proc/self/mountinfo: the mount point (field 5), its
 * options (field 6) and the filesystem type (after " - "). */
struct probe_mount {
    char point[PATH_MAX];
    char options[256];
    char fstype[64];
};

static bool probe_mount_parse(char *line, struct probe_mount *m)
{
    char *save = NULL, *f[6], *dash;
    int i;

    dash = strstr(line, " - ");
    if (!dash)
        return false;
    *dash = '\0';
    for (i = 0; i < 6; i++) {
        f[i] = strtok_r(i ? NULL : line, " ", &save);
        if (!f[i])
            return false;
    }
    snprintf(m->point, sizeof(m->point), "%s", f[4]);
    probe_unescape(m->point);
    snprintf(m->options, sizeof(m->options), "%s", f[5]);
    if (sscanf(dash + 3, "%63s", m->fstype) != 1)
        m->fstype[0] = '\0';
    return true;
}

/* Print mounts=N, mountpoints=/,/proc,... and, for each path of
 * probe_fs_mounts, "mnt:PATH=FSTYPE OPTIONS" of the mount on top there. */
static void probe_fs_mountinfo(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    struct probe_mount top[sizeof(probe_fs_mounts) / sizeof(char *)] = {0};
    char line[4096], *points = NULL;
    size_t plen = 0;
    FILE *pl = open_memstream(&points, &plen);
    int n = 0;

    if (!f || !pl) {
        probe_kv("mounts_error", "%s", probe_errname(errno));
        if (f)
            fclose(f);
        if (pl)
            fclose(pl);
        free(points);
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        struct probe_mount m;

        line[strcspn(line, "\n")] = '\0';
        if (!probe_mount_parse(line, &m))
            continue;
        fprintf(pl, "%s%s", n++ ? "," : "", m.point);
        for (size_t i = 0; probe_fs_mounts[i]; i++)
            if (strcmp(m.point, probe_fs_mounts[i]) == 0)
                top[i] = m;
    }
    fclose(f);
    fclose(pl);
    probe_kv("mounts", "%d", n);
    probe_kv("mountpoints", "%s", points ? points : "");
    free(points);
    for (size_t i = 0; probe_fs_mounts[i]; i++) {
        char key[64];

        snprintf(key, sizeof(key), "mnt:%s", probe_fs_mounts[i]);
        if (top[i].fstype[0])
            probe_kv(key, "%s %s", top[i].fstype, top[i].options);
        else
            probe_kv(key, "none");
    }
}

/* proc_pids=N and proc_pid_list=1,2: the processes this /proc shows. */
static void probe_fs_proc_pids(void)
{
    DIR *d = opendir("/proc");
    char list[256] = "";
    size_t len = 0;
    struct dirent *e;
    int n = 0;

    if (!d) {
        probe_kv("proc_pids", "%s", probe_errname(errno));
        return;
    }
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);

        if (*end || end == e->d_name || pid <= 0)
            continue;
        n++;
        if (len + 16 < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%ld",
                                    len ? "," : "", pid);
    }
    closedir(d);
    probe_kv("proc_pids", "%d", n);
    probe_kv("proc_pid_list", "%s", list);
}

static int probe_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dev=fd,full,null,... : the names in /dev, sorted. */
static void probe_fs_dev_list(void)
{
    DIR *d = opendir("/dev");
    char *names[128], list[1024] = "";
    size_t n = 0, len = 0;
    struct dirent *e;

    if (!d) {
        probe_kv("dev", "%s", probe_errname(errno));
        return;
    }
    while ((e = readdir(d)) && n < sizeof(names) / sizeof(names[0]))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), probe_cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (names[i] && len + strlen(names[i]) + 2 < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                    i ? "," : "", names[i]);
        free(names[i]);
    }
    probe_kv("dev", "%s", list);
}

/* node:NAME=c MAJOR:MINOR MODE (or the errno name) for each device. */
static void probe_fs_dev_nodes(void)
{
    for (size_t i = 0; probe_devices[i]; i++) {
        char path[64], key[64];
        struct stat st;

        snprintf(path, sizeof(path), "/dev/%s", probe_devices[i]);
        snprintf(key, sizeof(key), "node:%s", probe_devices[i]);
        if (stat(path, &st) < 0)
            probe_kv(key, "%s", probe_errname(errno));
        else
            probe_kv(key, "%c %u:%u %04o", S_ISCHR(st.st_mode) ? 'c' : '-',
                     major(st.st_rdev), minor(st.st_rdev),
                     (unsigned)(st.st_mode & 07777));
    }
}

/* Does each device do what it should? */
static void probe_fs_dev_use(void)
{
    char buf[64];
    int fd;
    ssize_t n;

    /* /dev/null swallows writes; /dev/zero reads zeros. */
    fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    n = fd < 0 ? -1 : write(fd, "x", 1);
    probe_kv("use:null", "%s", n == 1 ? "ok" : probe_errname(errno));
    if (fd >= 0)
        close(fd);

    memset(buf, 0x55, sizeof(buf));
    fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
    if (n == (ssize_t)sizeof(buf)) {
        bool zero = true;

        for (size_t i = 0; i < sizeof(buf); i++)
            zero = zero && buf[i] == 0;
        probe_kv("use:zero", "%s", zero ? "ok" : "nonzero");
    } else {
        probe_kv("use:zero", "%s", probe_errname(errno));
    }
    if (fd >= 0)
        close(fd);

    /* /dev/full: every write fails with ENOSPC (null(4)). */
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    n = fd < 0 ? -1 : write(fd, "x", 1);
    probe_kv("use:full", "%s", n == 1 ? "written" : probe_errname(errno));
    if (fd >= 0)
        close(fd);

    for (int r = 0; r < 2; r++) {
        const char *name = r ? "/dev/urandom" : "/dev/random";

        fd = open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        n = fd < 0 ? -1 : read(fd, buf, 16);
        probe_kv(r ? "use:urandom" : "use:random", "%s",
                 n == 16 ? "ok" : probe_errname(errno));
        if (fd >= 0)
            close(fd);
    }

    /* /dev/shm: POSIX shared memory lives in a tmpfs (shm_overview(7)). */
    fd = open("/dev/shm/vlab-probe", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
              0600);
    n = fd < 0 ? -1 : write(fd, "x", 1);
    probe_kv("use:shm", "%s", n == 1 ? "ok" : probe_errname(errno));
    if (fd >= 0) {
        close(fd);
        unlink("/dev/shm/vlab-probe");
    }

    /* /dev/tty is the controlling terminal; a container started without
     * one gets ENXIO - the node is there, the terminal is not (tty(4)). */
    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    probe_kv("use:tty", "%s", fd >= 0 ? "ok" : probe_errname(errno));
    if (fd >= 0)
        close(fd);
}

/* A pseudo-terminal pair through /dev/ptmx (pts(4)): open the master,
 * grantpt/unlockpt, open the slave, and pass a byte from slave to master. */
static void probe_fs_pty(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave = -1;
    const char *step = "posix_openpt";
    char *name = NULL, c = 0;

    if (master < 0)
        goto fail;
    step = "grantpt";
    if (grantpt(master) < 0)
        goto fail;
    step = "unlockpt";
    if (unlockpt(master) < 0)
        goto fail;
    step = "ptsname";
    if (!(name = ptsname(master)))
        goto fail;
    step = "open slave";
    if ((slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        goto fail;
    step = "write";
    if (write(slave, "x\n", 2) != 2)
        goto fail;
    step = "read";
    if (read(master, &c, 1) != 1 || c != 'x')
        goto fail;
    probe_kv("pty", "ok");
    probe_kv("pty_name", "%s", name);
    close(slave);
    close(master);
    return;
fail:
    probe_kv("pty", "%s:%s", step, probe_errname(errno));
    if (slave >= 0)
        close(slave);
    if (master >= 0)
        close(master);
}

/* write:PATH=ok or the errno name: create (or truncate) PATH and write a
 * line; a file this created is removed again. */
static void probe_fs_write(const char *path, const char *key_prefix)
{
    char key[PATH_MAX + 16];
    bool existed = access(path, F_OK) == 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ssize_t n = fd < 0 ? -1 : write(fd, "probe\n", 6);

    snprintf(key, sizeof(key), "%s%s", key_prefix, path);
    probe_kv(key, "%s", n == 6 ? "ok" : probe_errname(errno));
    if (fd >= 0)
        close(fd);
    if (fd >= 0 && !existed)
        unlink(path);
}

/* ---- fs ------------------------------------------------------------------ */

static int cmd_fs(int argc, char **argv)
{
    struct stat st;
    struct statvfs sv;
    int fd;

    (void)argc;
    (void)argv;
    if (stat("/", &st) == 0) {
        probe_kv("root_ino", "%llu", (unsigned long long)st.st_ino);
        probe_kv("root_dev", "%u:%u", major(st.st_dev), minor(st.st_dev));
    }
    probe_kv("root_ro", "%d",
             statvfs("/", &sv) == 0 && (sv.f_flag & ST_RDONLY));
    probe_fs_mountinfo();
    probe_fs_proc_pids();
    /* A read-only sysfs refuses to create with EROFS before it looks at
     * the name (path_openat: mnt_want_write); nothing is written. */
    fd = open("/sys/vlab-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    probe_kv("sys_create", "%s", fd >= 0 ? "ok" : probe_errname(errno));
    if (fd >= 0) {
        close(fd);
        unlink("/sys/vlab-probe");
    }
    probe_fs_dev_list();
    probe_fs_dev_nodes();
    probe_fs_dev_use();
    probe_fs_pty();
    return 0;
}

/* ---- masked -------------------------------------------------------------- */

/*
 * What a path shows: "absent", "null" (the character device 1:3, i.e.
 * /dev/null bound over it: reads nothing), "empty" (an empty directory),
 * or "visible" (the real thing).
 */
static const char *probe_masked_state(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return errno == ENOENT ? "absent" : probe_errname(errno);
    if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)
        return "null";
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        int n = 0;

        if (!d)
            return probe_errname(errno);
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                n++;
        closedir(d);
        return n ? "visible" : "empty";
    }
    return "visible";
}

static int cmd_masked(int argc, char **argv)
{
    char buf[256];
    ssize_t n;
    int fd;

    (void)argc;
    (void)argv;
    for (size_t i = 0; probe_masked[i]; i++) {
        char key[PATH_MAX];

        snprintf(key, sizeof(key), "masked:%s", probe_masked[i]);
        probe_kv(key, "%s", probe_masked_state(probe_masked[i]));
    }
    /* A masked /proc/kcore reads nothing at all. */
    n = probe_read_file("/proc/kcore", buf, sizeof(buf));
    if (n >= 0)
        probe_kv("kcore_bytes", "%zd", n);
    else
        probe_kv("kcore_bytes", "%s", probe_errname((int)-n));
    for (size_t i = 0; probe_readonly[i]; i++) {
        char key[PATH_MAX];
        struct statvfs sv;

        snprintf(key, sizeof(key), "ro:%s", probe_readonly[i]);
        if (statvfs(probe_readonly[i], &sv) < 0)
            probe_kv(key, "%s", probe_errname(errno));
        else
            probe_kv(key, "%s", sv.f_flag & ST_RDONLY ? "ro" : "rw");
    }
    /* Opening a sysctl for writing is refused on a read-only mount
     * (EROFS); nothing is written either way. */
    fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    probe_kv("sysctl_open", "%s", fd >= 0 ? "ok" : probe_errname(errno));
    if (fd >= 0)
        close(fd);
    return 0;
}

/* ---- write --------------------------------------------------------------- */

static int cmd_write(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vlab-probe write PATH...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        probe_fs_write(argv[i], "write:");
    return 0;
}

/* ---- escape -------------------------------------------------------------- */

/*
 * The classic chroot escape (chroot(2), NOTES): chroot() into a
 * subdirectory without chdir() into it leaves the current directory
 * outside the new root, where ".." is not stopped; climb, then chroot(".")
 * at the top. Then look for MARKER, a file the test put on the host.
 * Prints escaped=1 when MARKER is visible, and where we ended (the inode
 * of "/" and the number of mounts seen).
 */
static int cmd_escape(int argc, char **argv)
{
    struct stat st;
    const char *into = "/bin";
    int i;

    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: vlab-probe escape /ABSOLUTE/MARKER\n");
        return 2;
    }
    probe_kv("marker_before", "%d", access(argv[1], F_OK) == 0);
    if (chdir("/") < 0 || chroot(into) < 0) {
        probe_kv("escape_error", "chroot %s: %s", into, probe_errname(errno));
        probe_kv("escaped", "0");
        return 0;
    }
    for (i = 0; i < PROBE_ESCAPE_CLIMBS; i++)
        if (chdir("..") < 0)
            break;
    if (chroot(".") < 0) {
        probe_kv("escape_error", "chroot .: %s", probe_errname(errno));
        probe_kv("escaped", "0");
        return 0;
    }
    if (stat("/", &st) == 0)
        probe_kv("escape_root_ino", "%llu", (unsigned long long)st.st_ino);
    probe_kv("escaped", "%d", access(argv[1], F_OK) == 0);
    return 0;
}

const struct probe_cmd probe_cmds_fs[] = {
    {"fs",
     "fs: root_ino=, root_ro=, mounts=, mountpoints=, mnt:PATH=, "
     "proc_pids=, sys_create=, dev=, node:NAME=, use:NAME=, pty=",
     cmd_fs},
    {"masked",
     "masked: masked:PATH=null|empty|visible|absent, ro:PATH=ro|rw, "
     "sysctl_open=",
     cmd_masked},
    {"write", "write PATH...: write:PATH=ok or the errno name", cmd_write},
    {"escape",
     "escape MARKER: the chroot escape; escaped=1 if MARKER is then seen",
     cmd_escape},
    {NULL, NULL, NULL},
};
