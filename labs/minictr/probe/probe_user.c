/*
 * probe_user.c - vlab-probe commands of lab 11 (user namespaces): who the
 * container thinks it is, how its ids map to the host's, and what its
 * "root" may and may not do.
 *
 * References: user_namespaces(7), capabilities(7), mknod(2), bind(2).
 */
#define _GNU_SOURCE /* getresuid(2) */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The errnos these commands expect, by name: the tests match names. */
static const char *errno_name(int err)
{
    static char buf[24];

    switch (err) {
    case EPERM:
        return "EPERM";
    case EACCES:
        return "EACCES";
    case EEXIST:
        return "EEXIST";
    case ENOENT:
        return "ENOENT";
    case EROFS:
        return "EROFS";
    case EINVAL:
        return "EINVAL";
    case EADDRINUSE:
        return "EADDRINUSE";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    default:
        snprintf(buf, sizeof(buf), "errno%d", err);
        return buf;
    }
}

/*
 * Read a small file into buf with newlines turned into ';' and spaces
 * squeezed ("0 100000 65536;"), so that it fits on one key=value line.
 * Returns buf, or "error:ENAME" when it cannot be read.
 */
static const char *read_oneline(const char *path, char *buf, size_t len)
{
    static char err[32];
    size_t n = 0;
    bool space = false;
    FILE *f = fopen(path, "re");
    int c;

    if (!f) {
        snprintf(err, sizeof(err), "error:%s", errno_name(errno));
        return err;
    }
    while ((c = fgetc(f)) != EOF && n + 1 < len) {
        if (c == ' ' || c == '\t') {
            space = n > 0 && buf[n - 1] != ';';
            continue;
        }
        if (space && c != '\n')
            buf[n++] = ' ';
        space = false;
        if (n + 1 < len)
            buf[n++] = c == '\n' ? ';' : (char)c;
    }
    if (n > 0 && buf[n - 1] == ';')
        n--; /* the last line's newline */
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The value of "Key:" in /proc/self/status, or "?". */
static const char *status_field(const char *key, char *buf, size_t len)
{
    FILE *f = fopen("/proc/self/status", "re");
    size_t klen = strlen(key);
    char line[256];

    snprintf(buf, len, "?");
    if (!f)
        return buf;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *v = line + klen + 1;

            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(buf, len, "%s", v);
            break;
        }
    }
    fclose(f);
    return buf;
}

/*
 * ids [PATH]: the process's ids as seen inside, the maps as seen from
 * inside (the outside column is in the parent namespace's terms), whether
 * setgroups(2) is allowed, the effective and bounding capabilities, the
 * overflow id, and, for PATH, its owner as seen inside (path_uid=65534:
 * owned by a host id the maps do not cover).
 */
static int cmd_ids(int argc, char **argv)
{
    char buf[512];
    gid_t groups[64];
    int ngroups = getgroups(64, groups);
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;

    getresuid(&ruid, &euid, &suid);
    getresgid(&rgid, &egid, &sgid);
    probe_kv("uid", "%u", (unsigned)ruid);
    probe_kv("euid", "%u", (unsigned)euid);
    probe_kv("suid", "%u", (unsigned)suid);
    probe_kv("gid", "%u", (unsigned)rgid);
    probe_kv("egid", "%u", (unsigned)egid);
    probe_kv("ngroups", "%d", ngroups);
    probe_kv("uid_map", "%s",
             read_oneline("/proc/self/uid_map", buf, sizeof(buf)));
    probe_kv("gid_map", "%s",
             read_oneline("/proc/self/gid_map", buf, sizeof(buf)));
    probe_kv("setgroups", "%s",
             read_oneline("/proc/self/setgroups", buf, sizeof(buf)));
    probe_kv("cap_eff", "%s", status_field("CapEff", buf, sizeof(buf)));
    probe_kv("cap_bnd", "%s", status_field("CapBnd", buf, sizeof(buf)));
    probe_kv("overflowuid", "%s",
             read_oneline("/proc/sys/kernel/overflowuid", buf, sizeof(buf)));
    if (argc > 1) {
        struct stat st;

        if (stat(argv[1], &st) < 0) {
            probe_kv("path_uid", "error:%s", errno_name(errno));
        } else {
            probe_kv("path_uid", "%u", (unsigned)st.st_uid);
            probe_kv("path_gid", "%u", (unsigned)st.st_gid);
        }
    }
    return 0;
}

/* mknod PATH: try to create /dev/null's device node (char 1:3) at PATH.
 * Device nodes need CAP_MKNOD in the initial user namespace: a container
 * root in its own user namespace gets EPERM (user_namespaces(7)). */
static int cmd_mknod(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/vlab-null";

    if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) < 0) {
        probe_kv("mknod", "%s", errno_name(errno));
        return 1;
    }
    probe_kv("mknod", "ok");
    unlink(path);
    return 0;
}

/* bind80: bind a TCP socket to port 80 of the container's network
 * namespace. Ports below 1024 need CAP_NET_BIND_SERVICE in the user
 * namespace that owns the network namespace: a container root has it. */
static int cmd_bind80(int argc, char **argv)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET,
        .sin_port = htons(80),
        .sin_addr.s_addr = htonl(INADDR_ANY),
    };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    (void)argc;
    (void)argv;
    if (fd < 0) {
        probe_kv("bind80", "socket:%s", errno_name(errno));
        return 1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        probe_kv("bind80", "%s", errno_name(errno));
        close(fd);
        return 1;
    }
    probe_kv("bind80", "ok");
    close(fd);
    return 0;
}

/* create PATH: create a new file and print its owner as seen inside; the
 * test looks at the same file from the host. */
static int cmd_create(int argc, char **argv)
{
    struct stat st;
    int fd;

    if (argc < 2) {
        fprintf(stderr, "vlab-probe create: a PATH is needed\n");
        return 2;
    }
    fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        probe_kv("create", "%s", errno_name(errno));
        return 1;
    }
    if (write(fd, "vlab\n", 5) != 5 || fstat(fd, &st) < 0) {
        probe_kv("create", "%s", errno_name(errno));
        close(fd);
        return 1;
    }
    close(fd);
    probe_kv("create", "ok");
    probe_kv("owner_uid", "%u", (unsigned)st.st_uid);
    probe_kv("owner_gid", "%u", (unsigned)st.st_gid);
    return 0;
}

const struct probe_cmd probe_cmds_user[] = {
    {"ids",
     "ids [PATH]: uid/euid/suid, gid/egid, ngroups, uid_map, gid_map, "
     "setgroups, cap_eff, cap_bnd, overflowuid as seen inside; path_uid/gid: "
     "the owner of PATH",
     cmd_ids},
    {"mknod", "mknod [PATH]: try to create a device node (char 1:3)",
     cmd_mknod},
    {"bind80", "bind80: bind a TCP socket to port 80", cmd_bind80},
    {"create",
     "create PATH: create a file, print create=ok, owner_uid/gid as "
     "seen inside",
     cmd_create},
    {NULL, NULL, NULL},
};
