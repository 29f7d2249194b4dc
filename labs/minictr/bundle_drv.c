/*
 * bundle_drv.c - the driver side of an OCI bundle (lab 16, part 1): read
 * config.json, and run what labs/16-runtime/bundle.c parsed from it:
 *  - parent: clone into the config's namespaces, born inside the ones it
 *    names by path (mct_bundle_spawn);
 *  - container, before "ready": lab 10's steps with the config's mounts
 *    instead of lab 10's /proc, /sys and /dev, the default devices, the
 *    config's maskedPaths and readonlyPaths (mct_bundle_setup_fs);
 *  - the command's process: rlimits, environment, user and groups, cwd,
 *    capabilities, no_new_privs (mct_bundle_exec_setup).
 * None of it is a lab; the concepts live in bundle.c and labs 09-13.
 */
#define _GNU_SOURCE
#include "minictr.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/mount.h"

/* ---- reading config.json ---------------------------------------------------
 */

int mct_bundle_read(struct minictr *ct, const char *dir)
{
    char path[PATH_MAX];
    json_error_t jerr;
    struct stat st;

    mct_bundle_release(ct);
    if (!(ct->bundle.dir = realpath(dir, NULL)))
        return vl_err(errno, "bundle directory %s", dir);
    if (stat(ct->bundle.dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return vl_err_plain(ENOTDIR, "bundle %s is not a directory", dir);
    snprintf(path, sizeof(path), "%s/config.json", ct->bundle.dir);
    if (access(path, R_OK) < 0)
        return vl_err(errno,
                      "bundle %s: %s (a bundle is a directory with "
                      "config.json and the root filesystem; `runc "
                      "spec` writes a default config.json)",
                      dir, path);
    ct->bundle.config = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!ct->bundle.config)
        return vl_err_plain(EINVAL, "config.json:%d:%d: %s", jerr.line,
                            jerr.column, jerr.text);
    if (!json_is_object(ct->bundle.config))
        return vl_err_plain(EINVAL, "config.json: the top level is not an "
                                    "object");
    return 0;
}

void mct_bundle_release(struct minictr *ct)
{
    struct mct_bundle *b = &ct->bundle;

    for (size_t i = 0; i < b->nmounts; i++)
        free(b->mounts[i].data);
    free(b->mounts);
    free(b->joins);
    free(b->rlimits);
    free(b->groups);
    free(b->masked);
    free(b->readonly);
    free(b->argv);
    free(b->env);
    free(b->rootfs);
    if (ct->opt.bundle == b->dir)
        ct->opt.bundle = NULL;
    if (ct->opt.rootfs == b->rootfs)
        ct->opt.rootfs = NULL;
    if (ct->opt.argv == b->argv)
        ct->opt.argv = NULL;
    free(b->dir);
    if (b->config)
        json_decref(b->config);
    b->mounts = NULL, b->nmounts = 0;
    b->joins = NULL, b->njoins = 0;
    b->rlimits = NULL, b->nrlimits = 0;
    b->groups = NULL, b->ngroups = 0;
    b->masked = b->readonly = b->argv = b->env = NULL;
    b->rootfs = b->dir = b->cwd = NULL;
    b->config = NULL;
}

/* ---- the parent: the namespaces ---------------------------------------------
 */

/* /proc/self/ns/NAME for a CLONE_NEW* flag (libvirtlab's table). */
static const char *ns_name(uint64_t flag)
{
    for (const struct vl_ns_type *t = vl_ns_types; t->name; t++)
        if (t->flag == flag)
            return t->name;
    return "?";
}

/*
 * A namespace named by path is joined by the PARENT, around the clone: it
 * setns(2)s into it, clones (the child is born there, as a child inherits
 * every namespace it is not given a new one of), and setns(2)s back into
 * its own. For a PID namespace setns only changes where the CHILDREN go
 * (pid_namespaces(7): /proc/self/ns/pid_for_children), which is exactly
 * what is needed. (Mount and user namespaces are refused by bundle.c.)
 */
int mct_bundle_spawn(struct minictr *ct, int (*fn)(void *))
{
    struct mct_bundle *b = &ct->bundle;
    int own[8], r = 0;
    size_t joined = 0;
    char names[256];
    pid_t pid;

    if (b->terminal)
        fprintf(ct->log,
                "minictr: warning: config.json process.terminal is true, but "
                "minictr makes no pseudo-terminal (there is no "
                "--console-socket): the container uses minictr's stdin, "
                "stdout and stderr\n");
    if (b->njoins > sizeof(own) / sizeof(own[0]))
        return vl_err_plain(EINVAL, "too many namespaces to join");
    for (; joined < b->njoins; joined++) {
        const struct mct_ns_join *j = &b->joins[joined];
        char self[64];
        int fd;

        snprintf(self, sizeof(self), "/proc/self/ns/%s", ns_name(j->flag));
        if ((own[joined] = open(self, O_RDONLY | O_CLOEXEC)) < 0) {
            r = vl_err(errno, "opening %s", self);
            break;
        }
        if ((fd = open(j->path, O_RDONLY | O_CLOEXEC)) < 0) {
            r = vl_err(errno,
                       "config.json: linux.namespaces: %s namespace "
                       "\"%s\"",
                       ns_name(j->flag), j->path);
            close(own[joined]);
            break;
        }
        if (setns(fd, (int)j->flag) < 0) {
            r = vl_err(errno,
                       "config.json: linux.namespaces: joining %s "
                       "namespace \"%s\" (setns; is it a %s "
                       "namespace?)",
                       ns_name(j->flag), j->path, ns_name(j->flag));
            close(fd);
            close(own[joined]);
            break;
        }
        close(fd);
        mct_say(ct, "joined %s namespace %s", ns_name(j->flag), j->path);
    }
    if (r == 0 && (r = vl_handshake_init(&ct->hs)) == 0) {
        ct->clone_flags = b->clone_flags;
        pid = vl_clone(ct->clone_flags, fn, ct, &ct->pidfd);
        if (pid < 0) {
            vl_handshake_close(&ct->hs);
            r = vl_err_ctx(
                pid, "cloning into %s",
                vl_ns_flags_str(ct->clone_flags, names, sizeof(names)));
        } else {
            ct->pid = pid;
            vl_handshake_parent(&ct->hs);
        }
    }
    /* Back home, in reverse order, whatever happened. */
    while (joined-- > 0) {
        if (setns(own[joined], (int)b->joins[joined].flag) < 0 && r == 0)
            r = vl_err(errno, "returning to minictr's own %s namespace",
                       ns_name(b->joins[joined].flag));
        close(own[joined]);
    }
    return r;
}

/* ---- the container: the filesystem
 * -------------------------------------------
 */

static int open_in_root(int root, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };

    return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

const char *mct_bundle_fstype(const struct mct_mount *m)
{
    if (m->flags & MS_BIND)
        return NULL;
    /* "cgroup" in runc's default spec: the container's view of the cgroup
     * tree. minictr mounts the v2 hierarchy (on a v1 or hybrid host too:
     * a v2 hierarchy always exists), read-only as the options say. */
    if (m->type && !strcmp(m->type, "cgroup"))
        return "cgroup2";
    return m->type;
}

int mct_bundle_source(const struct minictr *ct, const struct mct_mount *m,
                      char *buf, size_t size)
{
    int n;

    if (!m->source)
        return vl_err_plain(EINVAL, "mount on %s has no source",
                            m->destination);
    if (m->source[0] == '/')
        n = snprintf(buf, size, "%s", m->source);
    else
        n = snprintf(buf, size, "%s/%s", ct->bundle.dir, m->source);
    if (n < 0 || (size_t)n >= size)
        return vl_err_plain(ENAMETOOLONG, "mount source %s", m->source);
    return 0;
}

int mct_bundle_mount_point(struct minictr *ct, const struct mct_mount *m,
                           char *target, size_t size)
{
    char path[PATH_MAX], src[PATH_MAX], proc[64];
    struct stat st;
    bool file = false;
    int fd, r;
    ssize_t n;

    if (ct->bundle.root_fd <= 0)
        return vl_err_plain(EBADF, "mct_bundle_mount_point outside "
                                   "mct_bundle_mount");
    /* A bind of a file needs a file to be mounted on. */
    if ((m->flags & MS_BIND) &&
        (r = mct_bundle_source(ct, m, src, sizeof(src))) == 0 &&
        stat(src, &st) == 0 && !S_ISDIR(st.st_mode))
        file = true;
    snprintf(path, sizeof(path), "%s", m->destination);
    /* Each component in turn: open it in the rootfs, create it if it is
     * missing (a directory; the last one a file for a file). */
    for (char *slash = path + 1;; slash++) {
        bool last;
        char *name;
        int parent;

        slash = strchr(slash, '/');
        last = !slash;
        if (slash)
            *slash = '\0';
        fd = open_in_root(ct->bundle.root_fd, path, O_PATH);
        if (fd < 0 && errno != ENOENT) {
            return vl_err(errno, "mount point %s in the rootfs", path);
        } else if (fd < 0) {
            name = strrchr(path, '/');
            *name = '\0';
            parent = open_in_root(ct->bundle.root_fd, *path ? path : "/",
                                  O_PATH | O_DIRECTORY);
            *name = '/';
            if (parent < 0)
                return vl_err(errno, "the directory of %s in the rootfs", path);
            if (last && file)
                r = openat(parent, name + 1,
                           O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
            else
                r = mkdirat(parent, name + 1, 0755);
            if (r < 0 && errno != EEXIST) {
                r = vl_err(errno, "creating mount point %s in the rootfs",
                           path);
                close(parent);
                return r;
            }
            if (last && file)
                close(r);
            close(parent);
            fd = open_in_root(ct->bundle.root_fd, path, O_PATH);
            if (fd < 0)
                return vl_err(errno, "mount point %s in the rootfs", path);
        }
        if (last)
            break;
        close(fd);
        *slash = '/';
    }
    /* Where it is, as this process sees it (the rootfs on the host). */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    n = readlink(proc, target, size - 1);
    r = errno;
    close(fd);
    if (n < 0)
        return vl_err(r, "readlink %s (mount point %s)", proc, m->destination);
    target[n] = '\0';
    return 0;
}

/* The devices every OCI container has (config-linux.md, "Default
 * Devices"), on the config's /dev (a tmpfs): as lab 10 TODO 4 does. */
static int make_devices(struct minictr *ct)
{
    static const struct {
        const char *name;
        unsigned major, minor;
    } nodes[] = {
        {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
        {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    };
    static const struct {
        const char *name, *target;
    } links[] = {
        {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},
        {"stdin", "/proc/self/fd/0"},  {"stdout", "/proc/self/fd/1"},
        {"stderr", "/proc/self/fd/2"},
    };
    char path[PATH_MAX + 32];

    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        snprintf(path, sizeof(path), "%s/dev/%s", ct->opt.rootfs,
                 nodes[i].name);
        if (ct->userns) {
            char host[32];
            int fd =
                open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
            int r;

            if (fd < 0)
                return vl_err(errno, "creating %s", path);
            close(fd);
            snprintf(host, sizeof(host), "/dev/%s", nodes[i].name);
            if ((r = vl_mount(host, path, NULL, MS_BIND, NULL)) < 0)
                return r;
            continue;
        }
        if (mknod(path, S_IFCHR | 0666,
                  makedev(nodes[i].major, nodes[i].minor)) < 0 &&
            errno != EEXIST)
            return vl_err(errno, "mknod %s", path);
        if (chmod(path, 0666) < 0)
            return vl_err(errno, "chmod %s", path);
    }
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        snprintf(path, sizeof(path), "%s/dev/%s", ct->opt.rootfs,
                 links[i].name);
        if (symlink(links[i].target, path) < 0 && errno != EEXIST)
            return vl_err(errno, "symlink %s", path);
    }
    return 0;
}

/* linux.maskedPaths and linux.readonlyPaths, after pivot_root: lab 10
 * TODO 6 with the config's lists instead of Docker's. */
static int mask_paths(struct minictr *ct)
{
    struct stat st;
    int r;

    for (char **p = ct->bundle.masked; p && *p; p++) {
        if (stat(*p, &st) < 0) {
            if (errno == ENOENT)
                continue;
            return vl_err(errno, "linux.maskedPaths: %s", *p);
        }
        if (S_ISDIR(st.st_mode))
            r = vl_mount("tmpfs", *p, "tmpfs", MS_RDONLY, NULL);
        else
            r = vl_mount("/dev/null", *p, NULL, MS_BIND, NULL);
        if (r < 0)
            return vl_err_ctx(r, "linux.maskedPaths: %s", *p);
    }
    for (char **p = ct->bundle.readonly; p && *p; p++) {
        if (stat(*p, &st) < 0) {
            if (errno == ENOENT)
                continue;
            return vl_err(errno, "linux.readonlyPaths: %s", *p);
        }
        if ((r = vl_mount(*p, *p, NULL, MS_BIND | MS_REC, NULL)) < 0 ||
            (r = vl_mount(NULL, *p, NULL,
                          MS_REMOUNT | MS_BIND | MS_RDONLY |
                              vl_mount_kept_flags(*p),
                          NULL)) < 0)
            return vl_err_ctx(r, "linux.readonlyPaths: %s", *p);
    }
    return 0;
}

int mct_bundle_setup_fs(struct minictr *ct)
{
    struct stat st;
    int r;

    if ((r = mct_fs_private(ct)) < 0)
        return vl_err_ctx(r, "making the mounts private");
    if ((r = mct_fs_bind_rootfs(ct)) < 0)
        return vl_err_ctx(r, "binding the rootfs");
    if (ct->bundle.nmounts) {
        /* The config's mounts replace lab 10's /proc, /sys and /dev. */
        ct->bundle.root_fd =
            open(ct->opt.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ct->bundle.root_fd < 0)
            return vl_err(errno, "opening the rootfs %s", ct->opt.rootfs);
        mct_say(ct, "mounting the config's %zu mounts", ct->bundle.nmounts);
        r = mct_bundle_mount(ct);
        close(ct->bundle.root_fd);
        ct->bundle.root_fd = -1;
        if (r < 0)
            return r;
        if (ct->bundle.mounts_dev && (r = make_devices(ct)) < 0)
            return vl_err_ctx(r, "making the default devices in /dev");
    } else {
        mct_say(ct, "config.json has no mounts: lab 10's /proc, /sys, /dev");
        if ((r = mct_fs_mount_proc_sys(ct)) < 0)
            return vl_err_ctx(r, "mounting /proc and /sys");
        if ((r = mct_fs_make_dev(ct)) < 0)
            return vl_err_ctx(r, "making /dev");
    }
    if ((r = mct_fs_pivot_root(ct)) < 0)
        return vl_err_ctx(r, "pivot_root into the rootfs");
    if ((r = mask_paths(ct)) < 0)
        return r;
    if ((r = mct_fs_readonly_root(ct)) < 0)
        return vl_err_ctx(r, "making the root read-only (root.readonly)");
    /* The command's directory must be there: say so now, through the
     * handshake, rather than from the command's process. */
    if (ct->bundle.cwd &&
        (stat(ct->bundle.cwd, &st) < 0 || !S_ISDIR(st.st_mode)))
        return vl_err_plain(ENOENT,
                            "config.json: process.cwd: \"%s\" is not a "
                            "directory in the container",
                            ct->bundle.cwd);
    return 0;
}

/* ---- the command's process
 * ---------------------------------------------------
 */

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt,
                                                                ...)
{
    va_list ap;

    fputs("minictr: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    _exit(MCT_EXIT_FAILED);
}

/* After a change of uid away from 0 the kernel clears the effective set
 * (capabilities(7), "Effect of user ID changes on capabilities"); with
 * PR_SET_KEEPCAPS the permitted set stays. Raise it again, so that lab 13
 * can then set the sets the config asks for. */
static void effective_from_permitted(void)
{
    cap_t caps = cap_get_proc();

    if (!caps)
        die("cap_get_proc: %s", strerror(errno));
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
        cap_flag_value_t v = CAP_CLEAR;

        if (cap_get_flag(caps, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
            cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET);
    }
    if (cap_set_proc(caps) < 0)
        die("raising the effective capabilities: %s", strerror(errno));
    cap_free(caps);
}

void mct_bundle_exec_setup(struct minictr *ct)
{
    const struct mct_bundle *b = &ct->bundle;
    int r;

    for (size_t i = 0; i < b->nrlimits; i++) {
        struct rlimit rl = {.rlim_cur = b->rlimits[i].soft,
                            .rlim_max = b->rlimits[i].hard};

        if (setrlimit(b->rlimits[i].resource, &rl) < 0)
            die("config.json: process.rlimits[%zu]: setrlimit: %s (raising a "
                "hard limit needs CAP_SYS_RESOURCE)",
                i, strerror(errno));
    }
    clearenv();
    for (char **e = b->env; e && *e; e++)
        if (putenv(*e) < 0)
            die("process.env: %s", strerror(errno));

    /* The user: groups first, then the gid, then the uid (once the uid is
     * not 0 any more, changing the others needs capabilities we then no
     * longer have). KEEPCAPS keeps the permitted set across the change. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        die("PR_SET_KEEPCAPS: %s", strerror(errno));
    if (setgroups(b->ngroups, b->groups) < 0 && (b->ngroups || errno != EPERM))
        die("config.json: process.user.additionalGids: setgroups: %s",
            strerror(errno));
    if (setresgid(b->gid, b->gid, b->gid) < 0)
        die("config.json: process.user.gid %u: setresgid: %s (is it mapped in "
            "linux.gidMappings?)",
            (unsigned)b->gid, strerror(errno));
    if (setresuid(b->uid, b->uid, b->uid) < 0)
        die("config.json: process.user.uid %u: setresuid: %s (is it mapped in "
            "linux.uidMappings?)",
            (unsigned)b->uid, strerror(errno));
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (b->uid != 0)
        effective_from_permitted();

    if (b->cwd && chdir(b->cwd) < 0)
        die("config.json: process.cwd \"%s\": %s", b->cwd, strerror(errno));
    if (ct->caps_set && (r = mct_caps_apply(ct)) < 0)
        die("config.json: process.capabilities: %s", vl_errmsg());
    if (ct->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
}
