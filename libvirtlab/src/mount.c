/*
 * mount.c - mount(2), umount2(2), pivot_root(2) and /proc/PID/mountinfo
 * (virtlab/mount.h).
 *
 * References: mount(2), umount(2), pivot_root(2), mount_namespaces(7),
 * proc(5) ("/proc/[pid]/mountinfo"), the kernel's
 * Documentation/filesystems/sharedsubtree.rst.
 */
#define _GNU_SOURCE
#include "virtlab/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256 /* Linux 5.10 */
#endif
#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif

static const struct {
    unsigned long flag;
    const char *name;
} ms_names[] = {
    {MS_RDONLY, "MS_RDONLY"},
    {MS_NOSUID, "MS_NOSUID"},
    {MS_NODEV, "MS_NODEV"},
    {MS_NOEXEC, "MS_NOEXEC"},
    {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
    {MS_REMOUNT, "MS_REMOUNT"},
    {MS_MANDLOCK, "MS_MANDLOCK"},
    {MS_DIRSYNC, "MS_DIRSYNC"},
    {MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"},
    {MS_NOATIME, "MS_NOATIME"},
    {MS_NODIRATIME, "MS_NODIRATIME"},
    {MS_BIND, "MS_BIND"},
    {MS_MOVE, "MS_MOVE"},
    {MS_REC, "MS_REC"},
    {MS_SILENT, "MS_SILENT"},
    {MS_POSIXACL, "MS_POSIXACL"},
    {MS_UNBINDABLE, "MS_UNBINDABLE"},
    {MS_PRIVATE, "MS_PRIVATE"},
    {MS_SLAVE, "MS_SLAVE"},
    {MS_SHARED, "MS_SHARED"},
    {MS_RELATIME, "MS_RELATIME"},
    {MS_KERNMOUNT, "MS_KERNMOUNT"},
    {MS_I_VERSION, "MS_I_VERSION"},
    {MS_STRICTATIME, "MS_STRICTATIME"},
    {MS_LAZYTIME, "MS_LAZYTIME"},
};

const char *vl_mount_flags_str(unsigned long flags, char *buf, size_t len)
{
    unsigned long rest = flags;
    size_t n = 0;
    int w;

    if (!len)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(ms_names) / sizeof(ms_names[0]); i++)
        if ((flags & ms_names[i].flag) && n < len) {
            w = snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
                         ms_names[i].name);
            n += w > 0 ? (size_t)w : 0;
            rest &= ~ms_names[i].flag;
        }
    if ((rest || !flags) && n < len)
        snprintf(buf + n, len - n, "%s0x%lx", n ? "|" : "", rest);
    return buf;
}

/* ---- mount(2) ------------------------------------------------------------ */

#define MS_PROPAGATION (MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE)

static bool exists(const char *path)
{
    return path && access(path, F_OK) == 0;
}

/* Why mount(2) failed: mount(2), ERRORS, for the usual causes. */
static void mount_hint(int err, const char *source, const char *target,
                       const char *fstype, unsigned long flags)
{
    switch (err) {
    case ENOENT:
        if (!exists(target))
            vl_err_hint("the mount point %s does not exist: create it "
                        "first (mkdir, or touch for a file bind mount).",
                        target);
        else if ((flags & (MS_BIND | MS_MOVE)) && !exists(source))
            vl_err_hint("the source %s does not exist.", source);
        break;
    case EPERM:
        vl_err_hint("mounting needs CAP_SYS_ADMIN in the user namespace that "
                    "owns this mount namespace; in a user namespace, a "
                    "remount may not drop a locked flag (nosuid, nodev, "
                    "noexec, ro, atime) of a mount it inherited "
                    "(mount_namespaces(7), \"Restrictions on mount "
                    "namespaces\"), and some filesystems (not proc, sysfs, "
                    "tmpfs, devpts, overlay) cannot be mounted there.");
        break;
    case EINVAL:
        if (flags & MS_PROPAGATION)
            vl_err_hint("%s is not a mount point: a propagation change "
                        "needs one (bind it onto itself first), and takes "
                        "no other flags than MS_REC and MS_SILENT.",
                        target);
        else if (flags & MS_MOVE)
            vl_err_hint("MS_MOVE needs a mount point as source, and cannot "
                        "move a mount whose parent is shared.");
        else if (flags & MS_REMOUNT)
            vl_err_hint("%s is not a mount point, or the flags do not "
                        "apply to it.",
                        target);
        else if (flags & MS_BIND)
            vl_err_hint("cannot bind an unbindable mount, or a mount of "
                        "another mount namespace.");
        else
            vl_err_hint("the filesystem rejected its options (\"%s\"), or "
                        "%s is not what it expects.",
                        fstype ? fstype : "", source ? source : "(none)");
        break;
    case ENODEV:
        vl_err_hint("the kernel does not know filesystem type \"%s\" (see "
                    "/proc/filesystems; a module may be missing).",
                    fstype ? fstype : "");
        break;
    case ENOTDIR:
        vl_err_hint("a directory can only be mounted on a directory, a file "
                    "on a file.");
        break;
    case EBUSY:
        vl_err_hint("%s is busy: already mounted there, or in use.",
                    source ? source : target);
        break;
    case EACCES:
        vl_err_hint("no search permission on a directory on the way to "
                    "%s, or the source's filesystem is mounted nodev.",
                    target);
        break;
    default:
        break;
    }
}

int vl_mount(const char *source, const char *target, const char *fstype,
             unsigned long flags, const char *data)
{
    char names[256];
    int err;

    if (mount(source, target, fstype, flags, data) == 0)
        return 0;
    err = errno;
    vl_mount_flags_str(flags, names, sizeof(names));
    vl_err(err, "mount %s on %s (type %s, flags %s%s%s)",
           source ? source : "none", target ? target : "(null)",
           fstype ? fstype : "none", names, data ? ", options " : "",
           data ? data : "");
    mount_hint(err, source, target, fstype, flags);
    return -err;
}

int vl_mount_propagation(const char *target, unsigned long type, bool recursive)
{
    if (type != MS_PRIVATE && type != MS_SLAVE && type != MS_SHARED &&
        type != MS_UNBINDABLE)
        return vl_err_plain(EINVAL,
                            "propagation of %s: type 0x%lx is none of "
                            "MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE",
                            target, type);
    return vl_mount(NULL, target, NULL, type | (recursive ? MS_REC : 0), NULL);
}

int vl_mount_bind(const char *source, const char *target, bool recursive)
{
    return vl_mount(source, target, NULL, MS_BIND | (recursive ? MS_REC : 0),
                    NULL);
}

/* The per-mount flags statvfs(3) reports, as mount(2) flags. */
static unsigned long kept_flags(unsigned long st)
{
    static const struct {
        unsigned long st, ms;
    } map[] = {
        {ST_NOSUID, MS_NOSUID},           {ST_NODEV, MS_NODEV},
        {ST_NOEXEC, MS_NOEXEC},           {ST_NOATIME, MS_NOATIME},
        {ST_NODIRATIME, MS_NODIRATIME},   {ST_RELATIME, MS_RELATIME},
        {ST_NOSYMFOLLOW, MS_NOSYMFOLLOW},
    };
    unsigned long ms = 0;

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (st & map[i].st)
            ms |= map[i].ms;
    /* Neither noatime nor relatime: the mount is strictatime. Say so:
     * mount(2) defaults to relatime when a remount names any atime flag,
     * and changing the atime setting of a locked mount is EPERM
     * (mount(2), "Remounting an existing mount"). */
    if (!(ms & (MS_NOATIME | MS_RELATIME)))
        ms |= MS_STRICTATIME;
    return ms;
}

unsigned long vl_mount_kept_flags(const char *path)
{
    struct statvfs sv;

    return statvfs(path, &sv) < 0 ? 0 : kept_flags(sv.f_flag);
}

int vl_mount_readonly(const char *target)
{
    struct statvfs sv;
    int r;

    if (statvfs(target, &sv) < 0) {
        r = vl_err(errno, "making %s read-only: statvfs", target);
        if (r == -ENOENT)
            vl_err_hint("%s does not exist.", target);
        return r;
    }
    /* A bind remount changes only the per-mount flags; those not given are
     * cleared, so pass on the ones the mount has. */
    r = vl_mount(NULL, target, NULL,
                 MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(sv.f_flag),
                 NULL);
    return r < 0 ? vl_err_ctx(r, "making %s read-only", target) : 0;
}

int vl_mount_proc(const char *target)
{
    /* A new proc instance shows the pid namespace of the mounting process
     * (pid_namespaces(7), "/proc and PID namespaces"). */
    return vl_mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    NULL);
}

int vl_mount_sysfs(const char *target, bool ro)
{
    /* sysfs shows the network devices of the mounting process's network
     * namespace; mounting it needs that namespace to be owned by the
     * caller's user namespace. */
    return vl_mount("sysfs", target, "sysfs",
                    MS_NOSUID | MS_NODEV | MS_NOEXEC | (ro ? MS_RDONLY : 0),
                    NULL);
}

int vl_mount_tmpfs(const char *target, unsigned long flags, const char *data)
{
    return vl_mount("tmpfs", target, "tmpfs", flags, data);
}

int vl_mount_devpts(const char *target)
{
    /* newinstance: a private set of pseudo-terminals, not the host's
     * (Documentation/filesystems/devpts.rst); ptmxmode=0666 makes its
     * pts/ptmx usable by everyone, as /dev/ptmx -> pts/ptmx expects. */
    return vl_mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC,
                    "newinstance,ptmxmode=0666,mode=0620");
}

int vl_umount(const char *target, int flags)
{
    int err;

    if (umount2(target, flags) == 0)
        return 0;
    err = errno;
    vl_err(err, "umount %s%s", target,
           (flags & MNT_DETACH) ? " (MNT_DETACH)" : "");
    if (err == EINVAL)
        vl_err_hint("%s is not a mount point (or it is locked: a mount a "
                    "user namespace inherited cannot be unmounted alone).",
                    target);
    else if (err == EBUSY)
        vl_err_hint("%s is in use (open files, a working directory, mounts "
                    "below it): MNT_DETACH detaches it now and frees it "
                    "when the last user is gone.",
                    target);
    else if (err == ENOENT)
        vl_err_hint("%s does not exist.", target);
    else if (err == EPERM)
        vl_err_hint("unmounting needs CAP_SYS_ADMIN in the user namespace "
                    "that owns the mount namespace.");
    return -err;
}

int vl_pivot_root(const char *new_root, const char *put_old)
{
    int err;

    if (syscall(SYS_pivot_root, new_root, put_old) == 0)
        return 0;
    err = errno;
    vl_err(err, "pivot_root(%s, %s)", new_root, put_old);
    switch (err) {
    case EINVAL:
        vl_err_hint("new_root must be a mount point (bind it onto itself: "
                    "vl_mount_bind(dir, dir, true)), put_old must be at or "
                    "under new_root, neither new_root nor the current root "
                    "may sit on a shared mount (make / private with "
                    "MS_REC|MS_PRIVATE first), and the current root must be "
                    "a mount point (not the initramfs rootfs) "
                    "(pivot_root(2), ERRORS).");
        break;
    case EBUSY:
        vl_err_hint("new_root or put_old is on the current root's mount: "
                    "new_root must be a mount point of its own (bind it "
                    "onto itself: vl_mount_bind(dir, dir, true)), and not "
                    "the current root; or something is mounted on "
                    "put_old.");
        break;
    case ENOTDIR:
        vl_err_hint("new_root and put_old must be directories.");
        break;
    case ENOENT:
        vl_err_hint("new_root or put_old does not exist (create put_old "
                    "under new_root first).");
        break;
    case EPERM:
        vl_err_hint("pivot_root needs CAP_SYS_ADMIN in the user namespace "
                    "that owns the mount namespace: do it in a new mount "
                    "namespace (CLONE_NEWNS) you own.");
        break;
    default:
        break;
    }
    return -err;
}

/* ---- /proc/PID/mountinfo ------------------------------------------------- */

/*
 * Copy a mountinfo field, decoding the octal escapes the kernel writes for
 * space, tab, newline and backslash ("\040", "\011", "\012", "\134";
 * show_mountinfo() in fs/proc_namespace.c). Truncates to len - 1 bytes.
 */
static void unescape(char *dst, size_t len, const char *src)
{
    size_t n = 0;

    while (*src && n + 1 < len) {
        if (src[0] == '\\' && src[1] >= '0' && src[1] <= '3' && src[2] >= '0' &&
            src[2] <= '7' && src[3] >= '0' && src[3] <= '7') {
            dst[n++] = (char)((src[1] - '0') << 6 | (src[2] - '0') << 3 |
                              (src[3] - '0'));
            src += 4;
        } else {
            dst[n++] = *src++;
        }
    }
    dst[n] = '\0';
}

/*
 * One line: "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3
 * /dev/root rw,errors=continue" (proc(5)): id, parent id, major:minor,
 * root, mount point, options, optional fields up to "-", then type,
 * source and superblock options.
 */
static int parse_line(char *line, struct vl_mountinfo *m)
{
    char *save = NULL, *f[6], *tok;
    size_t plen = 0;

    memset(m, 0, sizeof(*m));
    for (int i = 0; i < 6; i++)
        if (!(f[i] = strtok_r(i ? NULL : line, " \n", &save)))
            return -EPROTO;
    m->id = atoi(f[0]);
    m->parent = atoi(f[1]);
    unescape(m->root, sizeof(m->root), f[3]);
    unescape(m->point, sizeof(m->point), f[4]);
    snprintf(m->options, sizeof(m->options), "%s", f[5]);
    while ((tok = strtok_r(NULL, " \n", &save)) && strcmp(tok, "-") != 0) {
        int w = snprintf(m->propagation + plen, sizeof(m->propagation) - plen,
                         "%s%s", plen ? " " : "", tok);

        plen += w > 0 ? (size_t)w : 0;
        if (plen >= sizeof(m->propagation))
            plen = sizeof(m->propagation) - 1;
    }
    if (!tok || !(tok = strtok_r(NULL, " \n", &save)))
        return -EPROTO;
    snprintf(m->fstype, sizeof(m->fstype), "%s", tok);
    if (!(tok = strtok_r(NULL, " \n", &save)))
        return -EPROTO;
    unescape(m->source, sizeof(m->source), tok);
    if ((tok = strtok_r(NULL, " \n", &save)))
        unescape(m->super, sizeof(m->super), tok);
    return 0;
}

int vl_mountinfo_each(pid_t pid,
                      int (*fn)(const struct vl_mountinfo *m, void *arg),
                      void *arg)
{
    _vl_cleanup_fclose_ FILE *f = NULL;
    _vl_cleanup_free_ char *line = NULL;
    struct vl_mountinfo m;
    char path[64];
    size_t cap = 0;
    int lineno = 0, r;

    if (pid == 0)
        snprintf(path, sizeof(path), "/proc/self/mountinfo");
    else
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
    if (!(f = fopen(path, "re"))) {
        r = vl_err(errno, "open %s", path);
        if (r == -ENOENT && pid == 0)
            vl_err_hint("/proc is not mounted here (vl_mount_proc).");
        else if (r == -ENOENT)
            vl_err_hint("no process %d (it exited?).", (int)pid);
        return r;
    }
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        if (parse_line(line, &m) < 0)
            return vl_err_plain(EPROTO,
                                "%s, line %d: not in the format of "
                                "proc(5)",
                                path, lineno);
        if ((r = fn(&m, arg)) != 0)
            return r;
    }
    if (ferror(f))
        return vl_err(errno ? errno : EIO, "reading %s", path);
    return 0;
}

struct find_arg {
    const char *path;
    struct vl_mountinfo *m;
    bool found;
};

static int find_one(const struct vl_mountinfo *m, void *arg)
{
    struct find_arg *a = arg;

    /* Keep going: the last match is the mount on top. */
    if (strcmp(m->point, a->path) == 0) {
        *a->m = *m;
        a->found = true;
    }
    return 0;
}

int vl_mountinfo_find(pid_t pid, const char *path, struct vl_mountinfo *m)
{
    struct find_arg a = {.path = path, .m = m};
    int r;

    if (strlen(path) >= sizeof(m->point))
        return vl_err_plain(ENAMETOOLONG,
                            "mountinfo: %s is longer than %zu bytes", path,
                            sizeof(m->point) - 1);
    if ((r = vl_mountinfo_each(pid, find_one, &a)) < 0)
        return r;
    if (!a.found)
        return vl_err_plain(ENOENT, "%s is not a mount point", path);
    return 0;
}

struct count_arg {
    const char *prefix;
    size_t len;
    int count;
};

static int count_one(const struct vl_mountinfo *m, void *arg)
{
    struct count_arg *a = arg;

    if (strncmp(m->point, a->prefix, a->len) == 0 &&
        (m->point[a->len] == '\0' || m->point[a->len] == '/' ||
         (a->len > 0 && a->prefix[a->len - 1] == '/')))
        a->count++;
    return 0;
}

int vl_mount_count_under(pid_t pid, const char *prefix)
{
    struct count_arg a = {.prefix = prefix, .len = strlen(prefix)};
    int r;

    /* "/a/" means "/a"; "/" stays "/". */
    while (a.len > 1 && prefix[a.len - 1] == '/')
        a.len--;
    if ((r = vl_mountinfo_each(pid, count_one, &a)) < 0)
        return r;
    return a.count;
}

bool vl_mountinfo_has_option(const struct vl_mountinfo *m, const char *opt)
{
    size_t len = strlen(opt);

    for (const char *p = m->options; *p;) {
        const char *end = strchrnul(p, ',');

        if ((size_t)(end - p) == len && strncmp(p, opt, len) == 0)
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}
