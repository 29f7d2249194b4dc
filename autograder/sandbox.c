/* sandbox.c - the box around one test run (see sandbox.h). */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "grade.h"
#include "manifest.h"
#include "spawn.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/error.h"
#include "virtlab/mount.h"

#define LIMIT_MIN 16    /* smallest memory_mb / pids_max a lab may ask */
#define LIMIT_MAX 65536 /* largest */

/* ---- lab.json's "sandbox" ------------------------------------------- */

static int bad(const char *path, const char *field, const char *why)
{
    return vl_err_plain(EINVAL, "%s: sandbox.%s: %s", path, field, why);
}

static int get_limit(const char *path, json_t *obj, const char *key,
                     unsigned long *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < LIMIT_MIN ||
        json_integer_value(v) > LIMIT_MAX)
        return bad(path, key, "must be a whole number from 16 to 65536");
    *out = (unsigned long)json_integer_value(v);
    return 0;
}

static int parse_conf(const char *path, json_t *sb, struct vg_sandbox_conf *c)
{
    const char *key;
    json_t *v;
    int r;

    if (!json_is_object(sb))
        return vl_err_plain(EINVAL, "%s: sandbox: must be an object", path);
    json_object_foreach(sb, key, v)
    {
        if (strcmp(key, "memory_mb") && strcmp(key, "pids_max") &&
            strcmp(key, "run_as"))
            return vl_err_plain(EINVAL,
                                "%s: sandbox: unknown field \"%s\" (known: "
                                "memory_mb, pids_max, run_as)",
                                path, key);
    }
    if ((r = get_limit(path, sb, "memory_mb", &c->memory_mb)) < 0 ||
        (r = get_limit(path, sb, "pids_max", &c->pids_max)) < 0)
        return r;
    v = json_object_get(sb, "run_as");
    if (!v)
        return 0;
    if (json_is_string(v) && strcmp(json_string_value(v), "root") == 0)
        c->as_root = true;
    else if (!json_is_string(v) ||
             strcmp(json_string_value(v), VG_SANDBOX_USER) != 0)
        return bad(path, "run_as",
                   "must be \"root\" or \"" VG_SANDBOX_USER "\"");
    return 0;
}

int vg_sandbox_conf_load(const struct vg_manifest *m, const char *root,
                         struct vg_sandbox_conf *c)
{
    json_error_t jerr;
    json_t *doc, *sb;
    int r = 0;

    *c = (struct vg_sandbox_conf){
        .memory_mb = VG_SANDBOX_MEMORY_MB,
        .pids_max = VG_SANDBOX_PIDS_MAX,
        .needs_kvm = m->program && strcmp(m->program, "minivm") == 0,
        .root = root,
    };
    if (!m->path)
        return 0;
    doc = json_load_file(m->path, 0, &jerr);
    if (!doc)
        return vl_err_plain(EINVAL, "%s:%d: %s", m->path, jerr.line, jerr.text);
    sb = json_object_get(doc, "sandbox");
    if (sb)
        r = parse_conf(m->path, sb, c);
    json_decref(doc);
    return r;
}

/* ---- notes ---------------------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
note(struct vg_sandbox *sb, const char *fmt, ...)
{
    size_t len = strlen(sb->note);
    va_list ap;

    if (len + 2 >= sizeof(sb->note))
        return;
    if (len)
        sb->note[len++] = '\n';
    va_start(ap, fmt);
    vsnprintf(sb->note + len, sizeof(sb->note) - len, fmt, ap);
    va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
summary(struct vg_sandbox *sb, const char *fmt, ...)
{
    size_t len = strlen(sb->summary);
    va_list ap;

    if (len + 3 >= sizeof(sb->summary))
        return;
    if (len) {
        memcpy(sb->summary + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    vsnprintf(sb->summary + len, sizeof(sb->summary) - len, fmt, ap);
    va_end(ap);
}

/* ---- the cgroup ----------------------------------------------------- */

static int set_limits(struct vg_sandbox *sb)
{
    const struct vg_sandbox_conf *c = sb->conf;
    char value[32];
    int r;

    if (c->memory_mb) {
        snprintf(value, sizeof(value), "%lu", c->memory_mb << 20);
        r = vl_cgroup_set(&sb->cg,
                          sb->cg.version == 2 ? "memory.max"
                                              : "memory.limit_in_bytes",
                          value);
        if (r < 0)
            return r;
        /* v2 counts swap apart: without this a hog would swap instead of
         * meeting the limit (cgroup-v2.rst, memory.swap.max). */
        if (sb->cg.version == 2)
            vl_cgroup_set(&sb->cg, "memory.swap.max", "0");
    }
    if (c->pids_max) {
        snprintf(value, sizeof(value), "%lu", c->pids_max);
        if ((r = vl_cgroup_set(&sb->cg, "pids.max", value)) < 0)
            return r;
    }
    return 0;
}

static void make_cgroup(struct vg_sandbox *sb)
{
    static unsigned serial;
    const struct vg_sandbox_conf *c = sb->conf;
    const char *ctrls[3] = {NULL};
    struct vl_cgroup_info info;
    size_t n = 0;
    char name[64];
    int r;

    if (!c->memory_mb && !c->pids_max)
        return;
    if ((r = vl_cgroup_detect(&info)) < 0) {
        note(sb, "sandbox: no memory or task limit (%s)", vl_errmsg());
        return;
    }
    if (c->memory_mb && vl_cgroup_has(&info, "memory"))
        ctrls[n++] = "memory";
    if (c->pids_max && vl_cgroup_has(&info, "pids"))
        ctrls[n++] = "pids";
    if (n == 0) {
        note(sb, "sandbox: no memory or task limit: this machine's cgroups "
                 "offer neither the memory nor the pids controller");
        return;
    }
    snprintf(name, sizeof(name), "vlab-grade-%d-%u", (int)getpid(), serial++);
    r = vl_cgroup_create(&sb->cg, &info, info.version, name, ctrls);
    if (r == 0)
        r = set_limits(sb);
    if (r < 0) {
        note(sb,
             "sandbox: no memory or task limit: cgroups are not usable "
             "here (%s); run as root, or in a delegated cgroup",
             vl_errmsg());
        vl_cgroup_remove(&sb->cg);
        sb->cg = (struct vl_cgroup){0};
        return;
    }
    sb->have_cg = true;
    summary(sb, "cgroup v%d:%s%.0lu%s%s%.0lu%s", sb->cg.version,
            vl_cgroup_has(&info, "memory") && c->memory_mb ? " memory " : "",
            vl_cgroup_has(&info, "memory") ? c->memory_mb : 0,
            vl_cgroup_has(&info, "memory") && c->memory_mb ? " MiB" : "",
            vl_cgroup_has(&info, "pids") && c->pids_max ? ", " : "",
            vl_cgroup_has(&info, "pids") ? c->pids_max : 0,
            vl_cgroup_has(&info, "pids") && c->pids_max ? " tasks" : "");
    if (c->memory_mb && !vl_cgroup_has(&info, "memory"))
        note(sb, "sandbox: no memory limit (no memory controller here)");
    if (c->pids_max && !vl_cgroup_has(&info, "pids"))
        note(sb, "sandbox: no task limit (no pids controller here)");
}

void vg_sandbox_attach(struct vg_sandbox *sb, pid_t pid)
{
    if (sb->have_cg && vl_cgroup_attach(&sb->cg, pid) < 0) {
        note(sb, "sandbox: no memory or task limit (%s)", vl_errmsg());
        vl_cgroup_remove(&sb->cg);
        sb->have_cg = false;
    }
}

/* ---- the user ------------------------------------------------------- */

/* useradd, once: a system user without home or login shell. */
static int create_user(void)
{
    const char *argv[] = {
        "useradd",       "--system",
        "--user-group",  "--no-create-home",
        "--home-dir",    "/nonexistent",
        "--shell",       "/usr/sbin/nologin",
        "--comment",     VG_SANDBOX_MARK " (made by vlab-grade)",
        VG_SANDBOX_USER, NULL};
    struct vg_spawn_opts o = {.argv = argv, .limit_sec = 30, .output_cap = 512};
    struct vg_spawn_result res;
    int r = vg_spawn(&o, &res);

    if (r == 0 && (!WIFEXITED(res.wait_status) ||
                   WEXITSTATUS(res.wait_status) != 0 || res.timed_out))
        r = vl_err_plain(EIO, "useradd %s failed: %s", VG_SANDBOX_USER,
                         res.output);
    vg_spawn_result_free(&res);
    return r;
}

/* The uid and gid of the grader's own user, created when missing. */
static int find_user(uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam(VG_SANDBOX_USER);
    int r;

    if (!pw) {
        if ((r = create_user()) < 0)
            return r;
        pw = getpwnam(VG_SANDBOX_USER);
    }
    if (!pw)
        return vl_err_plain(ENOENT, "user %s: useradd left none",
                            VG_SANDBOX_USER);
    /* Never borrow somebody else's account, nor a privileged one. */
    if (!pw->pw_gecos || !strstr(pw->pw_gecos, VG_SANDBOX_MARK) ||
        pw->pw_uid == 0 || pw->pw_gid == 0)
        return vl_err_plain(EEXIST,
                            "user %s exists but was not made by "
                            "vlab-grade (its comment lacks \"%s\")",
                            VG_SANDBOX_USER, VG_SANDBOX_MARK);
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/*
 * Can an unprivileged user open /dev/kvm? Through its group (Debian's
 * "kvm", mode 0660) the user can join; a root-only device (0600) cannot be
 * shared without changing the machine, which the grader never does.
 */
static int kvm_access(gid_t *kvm_gid, char *why, size_t len)
{
    struct stat st;

    *kvm_gid = (gid_t)-1;
    if (stat("/dev/kvm", &st) < 0)
        return 0; /* no KVM: the tests skip, whoever runs them */
    if ((st.st_mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH))
        return 0;
    if ((st.st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP) &&
        st.st_gid != 0) {
        *kvm_gid = st.st_gid;
        return 0;
    }
    snprintf(why, len,
             "/dev/kvm is mode %04o, owner %u:%u, so only root may run "
             "guests here; give it a group (e.g. `kvm`, mode 0660) to run "
             "these tests as " VG_SANDBOX_USER,
             (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
             (unsigned)st.st_gid);
    return -EACCES;
}

/* The work folder and its out/ become the user's: the tests write their
 * TAP report there (the grader reads it link-safely afterwards). */
static int give_work(const struct vg_sandbox *sb)
{
    char out[4096];

    snprintf(out, sizeof(out), "%s/out", sb->work);
    if (chown(sb->work, sb->uid, sb->gid) < 0)
        return vl_err(errno, "chown %s", sb->work);
    if (chown(out, sb->uid, sb->gid) < 0 && errno != ENOENT)
        return vl_err(errno, "chown %s", out);
    return 0;
}

static void pick_user(struct vg_sandbox *sb)
{
    char why[256] = "";

    if (geteuid() != 0) {
        summary(sb, "as uid %u (the grader's own)", (unsigned)geteuid());
        return;
    }
    if (sb->conf->as_root) {
        summary(sb, "as root (the lab's run_as)");
        return;
    }
    if (sb->conf->needs_kvm && kvm_access(&sb->kvm_gid, why, sizeof(why))) {
        summary(sb, "as root: %s", why);
        return;
    }
    if (find_user(&sb->uid, &sb->gid) < 0 || give_work(sb) < 0) {
        note(sb, "sandbox: the tests ran as root: %s", vl_errmsg());
        summary(sb, "as root");
        return;
    }
    sb->drop = true;
    summary(sb, "as %s (uid %u)", VG_SANDBOX_USER, (unsigned)sb->uid);
}

/* ---- setup and teardown --------------------------------------------- */

uint64_t vg_sandbox_clone_flags(void)
{
    return CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC;
}

int vg_sandbox_setup(struct vg_sandbox *sb, const struct vg_sandbox_conf *conf,
                     const char *work)
{
    *sb = (struct vg_sandbox){.conf = conf, .work = work, .kvm_gid = -1};
    summary(sb, "pid, mount, net (lo only), ipc namespaces; private /tmp");
    make_cgroup(sb);
    pick_user(sb);
    return 0;
}

/* Read one counter of the cgroup, 0 when it has none. */
static uint64_t counter(const struct vl_cgroup *cg, const char *file,
                        const char *key)
{
    uint64_t v = 0;

    if (vl_cgroup_get_key(cg, file, key, &v) < 0)
        return 0;
    return v;
}

void vg_sandbox_teardown(struct vg_sandbox *sb)
{
    uint64_t oom, forks;

    if (!sb->have_cg)
        return;
    /* Events of cgroup-v2.rst (memory.events, pids.events); v1 has the
     * OOM kill count in memory.oom_control (cgroup-v1/memory.rst). */
    oom = counter(&sb->cg,
                  sb->cg.version == 2 ? "memory.events" : "memory.oom_control",
                  "oom_kill");
    forks = counter(&sb->cg, "pids.events", "max");
    if (oom)
        note(sb,
             "sandbox: the tests reached the memory limit of %lu MiB: the "
             "kernel killed %llu process(es) (a memory leak, or a hog?)",
             sb->conf->memory_mb, (unsigned long long)oom);
    if (forks)
        note(sb,
             "sandbox: the tests reached the limit of %lu tasks: fork() "
             "failed %llu time(s) (a fork bomb, or children never reaped?)",
             sb->conf->pids_max, (unsigned long long)forks);
    if (vl_cgroup_remove(&sb->cg) < 0)
        note(sb, "sandbox: %s", vl_errmsg());
    sb->have_cg = false;
}

/* ---- inside: mounts, loopback, user --------------------------------- */

static bool under_tmp(const char *path)
{
    return strncmp(path, "/tmp/", 5) == 0;
}

static int mkdir_p(const char *path)
{
    char buf[4096];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *s = strchr(buf + 1, '/');; s = strchr(s + 1, '/')) {
        if (s)
            *s = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return vl_err(errno, "mkdir %s", buf);
        if (!s)
            return 0;
        *s = '/';
    }
}

/* Show the folder opened as fd at path again (it was under /tmp, which
 * the private tmpfs now covers), through /proc/self/fd (proc(5)). */
static int rebind(int fd, const char *path)
{
    char src[64];
    int r;

    snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
    if ((r = mkdir_p(path)) < 0)
        return r;
    return vl_mount_bind(src, path, true);
}

/* Bring lo up (netdevice(7), SIOCSIFFLAGS): localhost works, and with no
 * other device in the namespace nothing else is reachable. */
static int loopback_up(void)
{
    _vl_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};

    if (s < 0)
        return vl_err(errno, "socket for lo");
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return vl_err(errno, "SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return vl_err(errno, "SIOCSIFFLAGS lo up");
    return 0;
}

int vg_sandbox_enter(const struct vg_sandbox *sb)
{
    const char *root = sb->conf->root;
    _vl_cleanup_close_ int work_fd = -1, root_fd = -1;
    int r;

    /* Private first: nothing mounted here propagates to the machine
     * (mount_namespaces(7), "Shared subtrees"). */
    if ((r = vl_mount_propagation("/", MS_PRIVATE, true)) < 0)
        return r;
    work_fd = open(sb->work, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (work_fd < 0)
        return vl_err(errno, "open %s", sb->work);
    if (root) {
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
            return vl_err(errno, "open %s", root);
    }
    /* pids in the new namespace must match /proc (pid_namespaces(7)). */
    if ((r = vl_mount_proc("/proc")) < 0 ||
        (r = vl_mount_tmpfs("/tmp", MS_NOSUID | MS_NODEV, "mode=1777")) < 0)
        return r;
    /* POSIX shared memory lives in /dev/shm (shm_overview(7)), named by
     * pid in Criterion's BoxFort ("bxfi_<pid>"): pids restart at 1 in each
     * box, so boxes running side by side would open each other's maps
     * ("Could not spawn test instance: Protocol error"). Private too. */
    if (vg_is_dir("/dev/shm") &&
        (r = vl_mount_tmpfs("/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777")) < 0)
        return r;
    if (under_tmp(sb->work) && (r = rebind(work_fd, sb->work)) < 0)
        return r;
    if (root) {
        r = under_tmp(root) ? rebind(root_fd, root)
                            : vl_mount_bind(root, root, true);
        if (r == 0)
            r = vl_mount_readonly(root);
        if (r < 0)
            return r;
        /* The work folder may lie inside ROOT (TMPDIR=ROOT/...): writable
         * again, on top of the read-only tree. */
        if (strncmp(sb->work, root, strlen(root)) == 0 &&
            (r = vl_mount_bind(sb->work, sb->work, true)) == 0) {
            if (mount(NULL, sb->work, NULL, MS_REMOUNT | MS_BIND, NULL) < 0)
                return vl_err(errno, "remount %s writable", sb->work);
        }
        if (r < 0)
            return r;
    }
    return loopback_up();
}

int vg_sandbox_drop(const struct vg_sandbox *sb)
{
    gid_t groups[1] = {sb->kvm_gid};

    if (!sb->drop)
        return 0;
    /* Groups first, then gid, then uid: after setuid() the others are no
     * longer ours to change (setresuid(2), credentials(7)). */
    if (setgroups(sb->kvm_gid == (gid_t)-1 ? 0 : 1, groups) < 0)
        return vl_err(errno, "setgroups");
    if (setresgid(sb->gid, sb->gid, sb->gid) < 0)
        return vl_err(errno, "setresgid %u", (unsigned)sb->gid);
    if (setresuid(sb->uid, sb->uid, sb->uid) < 0)
        return vl_err(errno, "setresuid %u", (unsigned)sb->uid);
    return 0;
}

int vg_sandbox_note_lab(struct vg_lab *lab, const struct vg_spawn_result *res)
{
    _vl_cleanup_free_ char *msg = NULL;

    if (!res->sandbox_note)
        return 0;
    msg = vg_strfmt("%s%s%s", lab->message ? lab->message : "",
                    lab->message ? "\n" : "", res->sandbox_note);
    return msg ? vg_lab_set_message(lab, msg) : -ENOMEM;
}
