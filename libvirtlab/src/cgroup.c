/*
 * cgroup.c - control groups (virtlab/cgroup.h): detection of the version
 * and the usable controllers, and the operations a container runtime needs
 * on one cgroup: create, attach, set and read control files, kill, remove.
 *
 * A cgroup is a directory in a cgroup filesystem; everything is done by
 * reading and writing its files (cgroups(7), the kernel's Documentation/
 * admin-guide/cgroup-v2.rst and cgroup-v1/). Never mounts, unmounts or
 * reconfigures a hierarchy: the only files written outside our own
 * "virtlab" subtree are the cgroup.subtree_control files on the way down
 * to it, on cgroup v2, to enable the controllers asked for.
 */
#define _GNU_SOURCE
#include "virtlab/cgroup.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"
#include "textfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/* ==== where we are ====================================================== */

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
            match = vlp_list_has(list, ctrl);
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

/* ==== v1 hierarchies ==================================================== */

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
            vlp_list_add(list, len, name);
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
            if (!vlp_list_has(known, o))
                continue;
            vlp_list_add(info->controllers, sizeof(info->controllers), o);
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

/* ==== the v2 tree ======================================================= */

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
    vlp_read_text(file, list, len);
    if (set_writable)
        info->writable = access(dir, W_OK) == 0;
}

/* ==== detection ========================================================= */

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
    return vlp_list_has(info->controllers, ctrl);
}

/* ==== helpers of the operations ========================================= */

#define VIRTLAB_DIR  "virtlab" /* our subtree, shared by every user of it */
#define WAIT_STEP_US 5000      /* how often kill and rmdir look again */
#define RMDIR_TRIES  200       /* ... and how long rmdir retries: 1 s */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One path component: a cgroup name or a control file's name. */
static bool is_component(const char *s)
{
    return s && s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0 && strlen(s) <= NAME_MAX;
}

static size_t count_list(const char *const *list)
{
    size_t n = 0;

    while (list && list[n])
        n++;
    return n;
}

/* out = "dir/name"; ENAMETOOLONG when it does not fit. */
static int path_join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= len)
        return vl_err_plain(ENAMETOOLONG, "%s/%s: path too long", dir, name);
    return 0;
}

/* Write a short string to a control file; errors name the file. */
static int write_file(const char *path, const char *text)
{
    _vl_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(text);
    ssize_t n;

    if (fd < 0)
        return vl_err(errno, "open %s", path);
    n = write(fd, text, len);
    if (n < 0)
        return vl_err(errno, "write \"%s\" to %s", text, path);
    if ((size_t)n != len)
        return vl_err_plain(EIO, "write \"%s\" to %s: short write", text, path);
    return 0;
}

static int make_dir(const char *dir, bool exist_ok)
{
    if (mkdir(dir, 0755) == 0 || (exist_ok && errno == EEXIST))
        return 0;
    return vl_err(errno, "mkdir %s", dir);
}

/* ==== v1: the hierarchy of one controller =============================== */

struct v1_hierarchy {
    char point[256]; /* its mount point: /sys/fs/cgroup/memory */
    char root[256];  /* the mount's root within the hierarchy ("/") */
    char ctrls[32];  /* the controllers bound to it: "cpu,cpuacct" */
};

/*
 * The v1 hierarchy ctrl is bound to: the "cgroup" mount whose super options
 * name it (proc(5), "/proc/[pid]/mountinfo"). A controller is in one
 * hierarchy at a time, possibly with others ("cpu,cpuacct").
 */
static int v1_find(const char *ctrl, struct v1_hierarchy *h)
{
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    _vl_cleanup_free_ char *line = NULL;
    char known[512];
    size_t cap = 0;

    if (!f)
        return vl_err(errno, "open /proc/self/mountinfo");
    cgroup_known(known, sizeof(known));
    while (getline(&line, &cap, f) > 0) {
        struct mountinfo m;
        char *save = NULL;
        bool found = false;

        if (!mountinfo_parse(line, &m) || strcmp(m.fstype, "cgroup") != 0)
            continue;
        h->ctrls[0] = '\0';
        for (char *o = strtok_r(m.super, ",", &save); o;
             o = strtok_r(NULL, ",", &save)) {
            size_t n = strlen(h->ctrls);

            if (!vlp_list_has(known, o))
                continue;
            found |= strcmp(o, ctrl) == 0;
            snprintf(h->ctrls + n, sizeof(h->ctrls) - n, "%s%s", n ? "," : "",
                     o);
        }
        if (found) {
            snprintf(h->point, sizeof(h->point), "%s", m.point);
            snprintf(h->root, sizeof(h->root), "%s", m.root);
            return 0;
        }
    }
    vl_err_plain(ENOENT, "no cgroup v1 hierarchy has the %s controller", ctrl);
    vl_err_hint("the init system mounts one per controller under %s; see "
                "/proc/cgroups for what this kernel has",
                VL_CGROUP_ROOT);
    return -ENOENT;
}

/* Is ctrl one of a hierarchy's "cpu,cpuacct"? */
static bool ctrls_have(const char *ctrls, const char *ctrl, size_t len)
{
    for (const char *p = ctrls; *p;) {
        size_t n = strcspn(p, ",");

        if (n == len && strncmp(p, ctrl, len) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/*
 * Where to create cgroups in one v1 hierarchy: <mount>/virtlab when we may
 * write the hierarchy's root (root), else our own cgroup there when it was
 * delegated to us. rel gets the path relative to the hierarchy.
 */
static int v1_parent_dir(const struct v1_hierarchy *h, const char *ctrl,
                         char *dir, size_t len, char *rel, size_t rlen)
{
    char self[256];
    int r;

    if (access(h->point, W_OK) == 0) {
        snprintf(dir, len, "%s/" VIRTLAB_DIR, h->point);
        snprintf(rel, rlen, "/" VIRTLAB_DIR);
        return make_dir(dir, true);
    }
    if ((r = self_cgroup(ctrl, self, sizeof(self))) < 0)
        return r;
    cgroup_dir(dir, len, h->point, h->root, self);
    snprintf(rel, rlen, "%s", dir + strlen(h->point));
    if (access(dir, W_OK) == 0)
        return 0;
    vl_err(errno, "cannot create cgroups in %s (our %s cgroup)", dir, ctrl);
    vl_err_hint("run as root (sudo), or in a cgroup delegated to you");
    return -EACCES;
}

/* ==== v2: the unified tree ============================================== */

/*
 * Enable controllers for the children of dir: "+memory" written to its
 * cgroup.subtree_control (cgroup-v2.rst, "Enabling and Disabling"). A
 * controller must be in dir's cgroup.controllers (enabled by the parent)
 * first, and - the "no internal process" rule - a non-root cgroup that
 * holds processes cannot pass controllers on to children.
 */
static int v2_enable(const char *dir, const char *const *controllers)
{
    char file[PATH_MAX];
    char avail[512];
    char enabled[512];
    char plus[40];
    int r;

    if (!count_list(controllers))
        return 0;
    snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
    if ((r = vlp_read_text(file, enabled, sizeof(enabled))) < 0)
        return r;
    snprintf(file, sizeof(file), "%s/cgroup.controllers", dir);
    if ((r = vlp_read_text(file, avail, sizeof(avail))) < 0)
        return r;
    for (size_t i = 0; controllers[i]; i++) {
        const char *c = controllers[i];

        if (vlp_list_has(enabled, c))
            continue;
        if (!vlp_list_has(avail, c) || strlen(c) > sizeof(plus) - 2) {
            vl_err_plain(ENOENT,
                         "the %s controller is not available in %s "
                         "(its cgroup.controllers: \"%s\")",
                         c, dir, avail);
            vl_err_hint("a controller bound to a v1 hierarchy (hybrid "
                        "systems) is missing from cgroup2; otherwise the "
                        "parent must enable it in its "
                        "cgroup.subtree_control");
            return -ENOENT;
        }
        snprintf(plus, sizeof(plus), "+%s", c);
        snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
        r = write_file(file, plus);
        if (r == -EBUSY) {
            vl_err_hint("cgroup v2's \"no internal processes\" rule: %s "
                        "holds processes, so it cannot enable controllers "
                        "for its children. Move them into a leaf child "
                        "first (mkdir %s/init; echo PID > %s/init/"
                        "cgroup.procs for each of %s/cgroup.procs)",
                        dir, dir, dir, dir);
            return r;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* The directory of our own v2 cgroup. */
static void v2_self_dir(const struct vl_cgroup_info *info, char *dir,
                        size_t len)
{
    cgroup_dir(dir, len, info->v2_mount, "/", info->v2_path);
}

static int v2_parent(const struct vl_cgroup_info *info,
                     const char *const *controllers, char *out, size_t len)
{
    char dir[PATH_MAX];
    int r;

    if (!info->v2_mount[0]) {
        vl_err_plain(ENOENT, "no cgroup2 hierarchy is mounted");
        vl_err_hint("use the v1 hierarchies (version 1), or boot with "
                    "systemd.unified_cgroup_hierarchy=1");
        return -ENOENT;
    }
    /* Hybrid: a controller bound to a v1 hierarchy cannot be in cgroup2
     * (cgroups(7), "Cgroups version 2"). */
    for (size_t i = 0; info->hybrid && controllers && controllers[i]; i++) {
        if (vl_cgroup_has(info, controllers[i]) &&
            !vlp_list_has(info->v2_controllers, controllers[i])) {
            vl_err_plain(ENOENT,
                         "the %s controller is not available in cgroup2 at "
                         "%s: this hybrid machine binds it to a v1 "
                         "hierarchy",
                         controllers[i], info->v2_mount);
            vl_err_hint("create the cgroup on version 1 for %s",
                        controllers[i]);
            return -ENOENT;
        }
    }
    if (access(info->v2_mount, W_OK) == 0) {
        /* root: our own subtree at the top, with the controllers enabled
         * from the root down (the root cgroup has no internal-process
         * constraint). */
        if ((r = v2_enable(info->v2_mount, controllers)) < 0)
            return r;
        snprintf(dir, sizeof(dir), "%s/" VIRTLAB_DIR, info->v2_mount);
        if ((r = make_dir(dir, true)) < 0 ||
            (r = v2_enable(dir, controllers)) < 0)
            return r;
    } else {
        /* Another user: only a cgroup delegated to us (its directory and
         * files chowned to us, cgroup-v2.rst "Delegation"). */
        v2_self_dir(info, dir, sizeof(dir));
        if (access(dir, W_OK) != 0) {
            vl_err(errno, "cannot create cgroups in %s (our cgroup)", dir);
            vl_err_hint("run as root (sudo), or in a delegated cgroup: "
                        "`systemd-run --user --scope -p Delegate=yes "
                        "<command>`");
            return -EACCES;
        }
        if ((r = v2_enable(dir, controllers)) < 0)
            return r;
    }
    if ((size_t)snprintf(out, len, "%s", dir) >= len)
        return vl_err_plain(ENAMETOOLONG, "%s: path too long", dir);
    return 0;
}

/* ==== creating ========================================================== */

/* version 0 means the machine's own (info->version). */
static int pick_version(const struct vl_cgroup_info *info, int version)
{
    if (version == 0 && info->version == 0)
        return vl_err_plain(ENOENT, "no cgroup filesystem under %s",
                            VL_CGROUP_ROOT);
    if (version == 0)
        version = info->version;
    if (version == 1 && info->version != 1)
        return vl_err_plain(ENOENT,
                            "no cgroup v1 hierarchies here "
                            "(the machine runs cgroup v%d)",
                            info->version);
    if (version != 1 && version != 2)
        return vl_err_plain(EINVAL, "cgroup version %d: must be 1 or 2",
                            version);
    return version;
}

int vl_cgroup_parent(const struct vl_cgroup_info *info, int version,
                     const char *const *controllers, char *out, size_t len)
{
    struct v1_hierarchy h;
    char dir[PATH_MAX];
    int r;

    if ((version = pick_version(info, version)) < 0)
        return version;
    if (version == 2)
        return v2_parent(info, controllers, out, len);
    if (!count_list(controllers))
        return vl_err_plain(EINVAL, "cgroup v1 needs at least one "
                                    "controller: each has its own "
                                    "hierarchy");
    for (size_t i = 0; controllers[i]; i++) {
        char rel[PATH_MAX];

        if ((r = v1_find(controllers[i], &h)) < 0 ||
            (r = v1_parent_dir(&h, controllers[i], dir, sizeof(dir), rel,
                               sizeof(rel))) < 0)
            return r;
        if (i == 0)
            snprintf(out, len, "%s", rel);
    }
    return 0;
}

static int leftover(const char *dir)
{
    vl_err_plain(EEXIST, "cgroup %s exists already", dir);
    vl_err_hint("a leftover of an earlier run? kill what its cgroup.procs "
                "lists, then rmdir %s",
                dir);
    return -EEXIST;
}

static int create_v2(struct vl_cgroup *cg, const struct vl_cgroup_info *info,
                     const char *name, const char *const *controllers)
{
    char parent[PATH_MAX];
    int r;

    if ((r = v2_parent(info, controllers, parent, sizeof(parent))) < 0)
        return r;
    if ((size_t)snprintf(cg->path, sizeof(cg->path), "%s/%s", parent, name) >=
        sizeof(cg->path))
        return vl_err_plain(ENAMETOOLONG, "%s/%s: path too long", parent, name);
    if (mkdir(cg->path, 0755) < 0)
        return errno == EEXIST ? leftover(cg->path)
                               : vl_err(errno, "mkdir %s", cg->path);
    cg->version = 2;
    return 0;
}

/* One directory per hierarchy, all at <hierarchy>/virtlab/NAME. */
static int create_v1(struct vl_cgroup *cg, const struct vl_cgroup_info *info,
                     const char *name, const char *const *controllers)
{
    if (!count_list(controllers))
        return vl_err_plain(EINVAL, "cgroup v1 needs at least one "
                                    "controller: each has its own "
                                    "hierarchy");
    cg->version = 1; /* from here on, vl_cgroup_remove() undoes */
    for (size_t i = 0; controllers[i]; i++) {
        struct v1_hierarchy h;
        char parent[PATH_MAX];
        char rel[PATH_MAX];
        bool dup = false;
        int r;

        if (!vl_cgroup_has(info, controllers[i]))
            return vl_err_plain(ENOENT,
                                "no cgroup v1 hierarchy has the %s "
                                "controller (this machine has: %s)",
                                controllers[i], info->controllers);
        if ((r = v1_find(controllers[i], &h)) < 0)
            return r;
        for (size_t j = 0; j < cg->nv1; j++)
            dup |= strcmp(cg->v1[j].ctrl, h.ctrls) == 0;
        if (dup) /* cpu after cpuacct: one hierarchy */
            continue;
        if (cg->nv1 == VL_CGROUP_MAX_V1)
            return vl_err_plain(E2BIG, "more than %d v1 hierarchies",
                                VL_CGROUP_MAX_V1);
        if ((r = v1_parent_dir(&h, controllers[i], parent, sizeof(parent), rel,
                               sizeof(rel))) < 0)
            return r;
        if ((r = path_join(cg->path, sizeof(cg->path),
                           strcmp(rel, "/") == 0 ? "" : rel, name)) < 0)
            return r;
        snprintf(cg->v1[cg->nv1].ctrl, sizeof(cg->v1[0].ctrl), "%s", h.ctrls);
        if ((size_t)snprintf(cg->v1[cg->nv1].dir, sizeof(cg->v1[0].dir),
                             "%s/%s", parent, name) >= sizeof(cg->v1[0].dir))
            return vl_err_plain(ENAMETOOLONG, "%s/%s: path too long", parent,
                                name);
        if (mkdir(cg->v1[cg->nv1].dir, 0755) < 0)
            return errno == EEXIST
                       ? leftover(cg->v1[cg->nv1].dir)
                       : vl_err(errno, "mkdir %s", cg->v1[cg->nv1].dir);
        cg->nv1++;
    }
    return 0;
}

int vl_cgroup_create(struct vl_cgroup *cg, const struct vl_cgroup_info *info,
                     int version, const char *name,
                     const char *const *controllers)
{
    int r;

    memset(cg, 0, sizeof(*cg));
    if (!is_component(name))
        return vl_err_plain(EINVAL,
                            "cgroup name \"%s\": must be one path "
                            "component (no '/', not \".\" or \"..\")",
                            name ? name : "(null)");
    if ((r = pick_version(info, version)) < 0)
        return vl_err_ctx(r, "creating cgroup %s", name);
    version = r;
    r = version == 2 ? create_v2(cg, info, name, controllers)
                     : create_v1(cg, info, name, controllers);
    if (r == -ENOENT) {
        /* The shared virtlab/ parent may have been removed by another
         * process's vl_cgroup_remove() between our mkdirs: once more. */
        vl_cgroup_remove(cg);
        memset(cg, 0, sizeof(*cg));
        r = version == 2 ? create_v2(cg, info, name, controllers)
                         : create_v1(cg, info, name, controllers);
    }
    if (r < 0) {
        /* Undo what was made; keep the error that stopped us. */
        char msg[VL_ERRMSG_MAX];

        snprintf(msg, sizeof(msg), "%s", vl_errmsg());
        vl_cgroup_remove(cg);
        memset(cg, 0, sizeof(*cg));
        return vl_err_plain(r, "creating cgroup %s: %s", name, msg);
    }
    return 0;
}

/* ==== the directories of a cgroup ======================================= */

#define MAX_DIRS VL_CGROUP_MAX_V1

static int not_created(void)
{
    return vl_err_plain(ENOENT, "the cgroup was not created (or was "
                                "removed)");
}

/* All the directories of cg. */
static size_t all_dirs(const struct vl_cgroup *cg, const char **dirs)
{
    if (cg->version == 2) {
        dirs[0] = cg->path;
        return 1;
    }
    for (size_t i = 0; i < cg->nv1 && i < MAX_DIRS; i++)
        dirs[i] = cg->v1[i].dir;
    return cg->version == 1 ? cg->nv1 : 0;
}

/*
 * The directories that hold control file `file`. v1: its controller's
 * hierarchy, named by the prefix before the first '.' ("cpu.cfs_quota_us"
 * is the cpu controller's); the core's files (cgroup.*, tasks,
 * notify_on_release) are in each.
 */
static int file_dirs(const struct vl_cgroup *cg, const char *file,
                     const char **dirs, size_t *n)
{
    size_t plen = strcspn(file, ".");

    if (!is_component(file))
        return vl_err_plain(EINVAL,
                            "control file \"%s\": must be a file "
                            "name in the cgroup's directory",
                            file ? file : "(null)");
    if (cg->version != 1 && cg->version != 2)
        return not_created();
    if (cg->version == 2 || !file[plen] || strncmp(file, "cgroup.", 7) == 0) {
        *n = all_dirs(cg, dirs);
        return 0;
    }
    for (size_t i = 0; i < cg->nv1; i++) {
        if (ctrls_have(cg->v1[i].ctrl, file, plen)) {
            dirs[0] = cg->v1[i].dir;
            *n = 1;
            return 0;
        }
    }
    vl_err_plain(ENOENT, "%s: this cgroup has no %.*s hierarchy", file,
                 (int)plen, file);
    vl_err_hint("on cgroup v1 each controller has its own directory: "
                "create the cgroup with the %.*s controller",
                (int)plen, file);
    return -ENOENT;
}

/*
 * The same knob under the other version's name (for hints): v2 renamed
 * most of v1's files (cgroup-v2.rst, "Deprecated v1 Core Features" and
 * each controller's "Interface Files"). NULL when file is not one of the
 * other version's names.
 */
static const char *counterpart(const char *file, int version)
{
    static const struct {
        const char *v2, *v1;
    } pairs[] = {
        {"memory.max", "memory.limit_in_bytes"},
        {"memory.swap.max", "memory.memsw.limit_in_bytes"},
        {"memory.current", "memory.usage_in_bytes"},
        {"memory.events", "memory.oom_control"},
        {"cpu.max", "cpu.cfs_quota_us"},
        {"cpu.max", "cpu.cfs_period_us"},
        {"cpu.weight", "cpu.shares"},
    };
    static const char *const v1_text[] = {
        "memory.limit_in_bytes",
        "memory.memsw.limit_in_bytes (memory + swap, not swap alone)",
        "memory.usage_in_bytes",
        "memory.oom_control (oom_kill) and memory.failcnt",
        "cpu.cfs_quota_us and cpu.cfs_period_us",
        "cpu.cfs_quota_us and cpu.cfs_period_us",
        "cpu.shares",
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        if (version == 1 && strcmp(file, pairs[i].v2) == 0)
            return v1_text[i];
        if (version == 2 && strcmp(file, pairs[i].v1) == 0)
            return pairs[i].v2;
    }
    if (version == 1 && strcmp(file, "cgroup.kill") == 0)
        return "kill(2) of each pid in cgroup.procs (vl_cgroup_kill)";
    return NULL;
}

static int no_such_file(const struct vl_cgroup *cg, const char *path,
                        const char *file)
{
    const char *other = counterpart(file, cg->version);

    vl_err_plain(ENOENT, "%s: no such control file on cgroup v%d", path,
                 cg->version);
    if (other)
        vl_err_hint("%s is cgroup v%d's name; on v%d use %s", file,
                    cg->version == 1 ? 2 : 1, cg->version, other);
    else if (cg->version == 2)
        vl_err_hint("is its controller enabled in the parent's "
                    "cgroup.subtree_control? (vl_cgroup_create enables "
                    "the ones it is given)");
    return -ENOENT;
}

/* ==== control files ===================================================== */

/* Writing a pid to cgroup.procs moves that process, with all its threads
 * (cgroups(7), "Creating cgroups and moving processes"); on v1, once per
 * hierarchy. */
int vl_cgroup_attach(const struct vl_cgroup *cg, pid_t pid)
{
    const char *dirs[MAX_DIRS];
    size_t n = all_dirs(cg, dirs);
    char num[24];

    if (n == 0)
        return not_created();
    snprintf(num, sizeof(num), "%d", (int)pid);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        int r;

        if ((r = path_join(path, sizeof(path), dirs[i], "cgroup.procs")) < 0)
            return r;
        r = write_file(path, num);
        if (r == -ESRCH)
            return vl_err_plain(ESRCH,
                                "moving pid %d into %s: no such "
                                "process",
                                (int)pid, dirs[i]);
        if (r < 0)
            return vl_err_ctx(r, "moving pid %d into cgroup %s", (int)pid,
                              cg->path);
    }
    return 0;
}

int vl_cgroup_set(const struct vl_cgroup *cg, const char *file,
                  const char *value)
{
    const char *dirs[MAX_DIRS];
    size_t n = 0;
    int r;

    if ((r = file_dirs(cg, file, dirs, &n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        _vl_cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        ssize_t w;

        if ((r = path_join(path, sizeof(path), dirs[i], file)) < 0)
            return r;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            return no_such_file(cg, path, file);
        if (fd < 0)
            return vl_err(errno, "open %s", path);
        w = write(fd, value, len);
        if (w < 0 && errno == EINVAL)
            return vl_err(EINVAL, "%s: the kernel refuses \"%s\"", path, value);
        if (w < 0 && errno == EBUSY)
            return vl_err(EBUSY,
                          "%s: \"%s\" is refused while the cgroup uses "
                          "more than that (cgroup v1)",
                          path, value);
        if (w < 0)
            return vl_err(errno, "write \"%s\" to %s", value, path);
        if ((size_t)w != len)
            return vl_err_plain(EIO, "write \"%s\" to %s: short write", value,
                                path);
    }
    return 0;
}

/* The first directory holding file, and the file's path in it. */
static int file_path(const struct vl_cgroup *cg, const char *file, char *path,
                     size_t len)
{
    const char *dirs[MAX_DIRS];
    size_t n = 0;
    int r;

    if ((r = file_dirs(cg, file, dirs, &n)) < 0)
        return r;
    if (n == 0)
        return not_created();
    snprintf(path, len, "%s/%s", dirs[0], file);
    if (access(path, F_OK) < 0)
        return errno == ENOENT ? no_such_file(cg, path, file)
                               : vl_err(errno, "%s", path);
    return 0;
}

int vl_cgroup_get(const struct vl_cgroup *cg, const char *file, char *buf,
                  size_t len)
{
    char path[PATH_MAX];
    _vl_cleanup_close_ int fd = -1;
    size_t got = 0;
    int r;

    if (len == 0)
        return vl_err_plain(EINVAL, "reading %s: no room in the buffer", file);
    buf[0] = '\0';
    if ((r = file_path(cg, file, path, sizeof(path))) < 0)
        return r;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return vl_err(errno, "open %s", path);
    for (;;) {
        ssize_t n = read(fd, buf + got, len - 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vl_err(errno, "read %s", path);
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == len - 1) {
            char more;

            if (read(fd, &more, 1) > 0)
                return vl_err_plain(ERANGE, "%s is longer than %zu bytes", path,
                                    len - 1);
            break;
        }
    }
    buf[got] = '\0';
    if (got > 0 && buf[got - 1] == '\n')
        buf[got - 1] = '\0';
    return 0;
}

int vl_cgroup_get_key(const struct vl_cgroup *cg, const char *file,
                      const char *key, uint64_t *value)
{
    char path[PATH_MAX];
    _vl_cleanup_fclose_ FILE *f = NULL;
    _vl_cleanup_free_ char *line = NULL;
    size_t cap = 0;
    size_t klen = strlen(key);
    int r;

    if ((r = file_path(cg, file, path, sizeof(path))) < 0)
        return r;
    if (!(f = fopen(path, "re")))
        return vl_err(errno, "open %s", path);
    /* Flat keyed files (cgroup-v2.rst, "Interface Files"): "key value". */
    while (getline(&line, &cap, f) > 0) {
        char *end;

        if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
            continue;
        errno = 0;
        *value = strtoull(line + klen + 1, &end, 10);
        if (errno || end == line + klen + 1 || (*end && *end != '\n'))
            return vl_err_plain(EINVAL,
                                "%s: key %s: \"%s\" is not a "
                                "number",
                                path, key, line + klen + 1);
        return 0;
    }
    return vl_err_plain(ENOENT, "%s has no key \"%s\"", path, key);
}

int vl_cgroup_get_u64(const struct vl_cgroup *cg, const char *file,
                      uint64_t *value)
{
    char buf[64];
    char *end;
    int r;

    if ((r = vl_cgroup_get(cg, file, buf, sizeof(buf))) < 0)
        return r;
    /* "max" is v2's "no limit"; v1 writes -1 (cpu.cfs_quota_us). */
    if (strcmp(buf, "max") == 0 || strcmp(buf, "-1") == 0) {
        *value = UINT64_MAX;
        return 0;
    }
    errno = 0;
    *value = strtoull(buf, &end, 10);
    if (errno || end == buf || *end || buf[0] == '-')
        return vl_err_plain(EINVAL, "%s of %s holds \"%s\", not a number", file,
                            cg->path, buf);
    return 0;
}

/* ==== processes ========================================================= */

/* Append the pids of one cgroup.procs to *pids (growing it), once each. */
static int read_procs(const char *dir, pid_t **pids, size_t *n, size_t *cap)
{
    char path[PATH_MAX];
    _vl_cleanup_fclose_ FILE *f = NULL;
    int pid;
    int r;

    if ((r = path_join(path, sizeof(path), dir, "cgroup.procs")) < 0)
        return r;
    if (!(f = fopen(path, "re")))
        return vl_err(errno, "open %s", path);
    while (fscanf(f, "%d", &pid) == 1) {
        bool seen = false;

        for (size_t i = 0; i < *n && !seen; i++)
            seen = (*pids)[i] == pid;
        if (seen)
            continue;
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            pid_t *p = realloc(*pids, ncap * sizeof(**pids));

            if (!p)
                return vl_err(ENOMEM, "reading %s", path);
            *pids = p;
            *cap = ncap;
        }
        (*pids)[(*n)++] = pid;
    }
    if (ferror(f))
        return vl_err(errno, "read %s", path);
    return 0;
}

int vl_cgroup_procs(const struct vl_cgroup *cg, pid_t *pids, size_t n)
{
    const char *dirs[MAX_DIRS];
    _vl_cleanup_free_ pid_t *all = NULL;
    size_t count = 0;
    size_t cap = 0;
    size_t ndirs = all_dirs(cg, dirs);
    int r;

    if (ndirs == 0)
        return not_created();
    for (size_t i = 0; i < ndirs; i++)
        if ((r = read_procs(dirs[i], &all, &count, &cap)) < 0)
            return r;
    for (size_t i = 0; i < count && i < n; i++)
        pids[i] = all[i];
    return (int)count;
}

/*
 * A guard before killing: never a hierarchy's root cgroup, which holds
 * every process of the machine. A cgroup directory is on the same
 * filesystem as its parent; a hierarchy's root is a mount point.
 */
static int check_not_root(const char *dir)
{
    char up[PATH_MAX];
    struct stat a, b;

    snprintf(up, sizeof(up), "%s/..", dir);
    if (stat(dir, &a) < 0)
        return vl_err(errno, "stat %s", dir);
    if (stat(up, &b) < 0)
        return vl_err(errno, "stat %s", up);
    if (a.st_dev != b.st_dev)
        return vl_err_plain(EINVAL,
                            "refusing to kill the processes of "
                            "%s: it is a hierarchy's root cgroup",
                            dir);
    return 0;
}

/* v2's cgroup.kill (5.14+; cgroup-v2.rst, "cgroup.kill"): "1" sends SIGKILL
 * to every process of the cgroup and its descendants, atomically with
 * respect to fork. 1 when it was done, 0 when the kernel lacks it. */
static int kill_v2(const char *dir)
{
    char path[PATH_MAX];
    int r;

    if ((r = path_join(path, sizeof(path), dir, "cgroup.kill")) < 0)
        return r;
    if (access(path, F_OK) < 0)
        return 0;
    if ((r = write_file(path, "1")) < 0)
        return r;
    return 1;
}

/* v2: is any process left in the cgroup or below it? (cgroup.events,
 * "populated"; cgroup-v2.rst, "Core Interface Files") */
static bool v2_populated(const struct vl_cgroup *cg)
{
    uint64_t v = 0;

    return vl_cgroup_get_key(cg, "cgroup.events", "populated", &v) < 0 ||
           v != 0;
}

int vl_cgroup_kill(const struct vl_cgroup *cg, int timeout_ms)
{
    const char *dirs[MAX_DIRS];
    size_t ndirs = all_dirs(cg, dirs);
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    bool atomic = false;
    int r = 0;

    if (ndirs == 0)
        return not_created();
    for (size_t i = 0; i < ndirs; i++)
        if ((r = check_not_root(dirs[i])) < 0)
            return r;
    if (cg->version == 2 && (r = kill_v2(cg->path)) < 0)
        return vl_err_ctx(r, "killing cgroup %s", cg->path);
    atomic = r == 1;

    /* Without cgroup.kill: SIGKILL to each process listed, again and
     * again, since one may fork between our reading and our kill(2). A
     * killed process leaves cgroup.procs when it exits, even before it is
     * reaped (a zombie is no longer listed). */
    for (;;) {
        pid_t pids[256];
        int n = vl_cgroup_procs(cg, pids, sizeof(pids) / sizeof(pids[0]));

        if (n < 0)
            return vl_err_ctx(n, "killing cgroup %s", cg->path);
        if (n == 0 && (!atomic || !v2_populated(cg)))
            return 0;
        for (int i = 0; i < n && i < 256; i++)
            if (kill(pids[i], SIGKILL) < 0 && errno != ESRCH)
                return vl_err(errno, "kill(%d, SIGKILL) in cgroup %s", pids[i],
                              cg->path);
        if (now_ms() >= deadline) {
            vl_err_plain(ETIMEDOUT,
                         "cgroup %s: %d process%s still there after %d ms%s",
                         cg->path, n, n == 1 ? "" : "es", timeout_ms,
                         n ? "" : " (in a child cgroup)");
            vl_err_hint("a process in uninterruptible sleep (state D in "
                        "/proc/PID/stat) dies only when its I/O ends");
            return -ETIMEDOUT;
        }
        usleep(WAIT_STEP_US);
    }
}

/* ==== removing ========================================================== */

static void closedir_p(DIR **d)
{
    int saved = errno;

    if (*d)
        closedir(*d);
    errno = saved;
}

/* rmdir(2) of a cgroup: possible once no process and no child cgroup is
 * left; EBUSY for a moment while the last ones exit. Child cgroups (a
 * container may make its own) go first. */
static int remove_dir(const char *dir, int depth)
{
    __attribute__((cleanup(closedir_p))) DIR *d = opendir(dir);
    struct dirent *e;
    int r;

    if (!d)
        return errno == ENOENT ? 0 : vl_err(errno, "opendir %s", dir);
    while (depth < 32 && (e = readdir(d))) {
        char sub[PATH_MAX];

        if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
            strcmp(e->d_name, "..") == 0)
            continue;
        if ((r = path_join(sub, sizeof(sub), dir, e->d_name)) < 0 ||
            (r = remove_dir(sub, depth + 1)) < 0)
            return r;
    }
    for (int tries = 0;; tries++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || tries == RMDIR_TRIES)
            return vl_err(errno, "rmdir %s", dir);
        usleep(WAIT_STEP_US);
    }
}

void vl_cgroup_remove_parent(const struct vl_cgroup *cg)
{
    const char *dirs[MAX_DIRS];
    size_t n = all_dirs(cg, dirs);

    /* rmdir(2) of a cgroup that still has children fails (EBUSY), so
     * another user's cgroup is never in danger. */
    for (size_t i = 0; i < n; i++) {
        char parent[PATH_MAX];
        char *slash;

        snprintf(parent, sizeof(parent), "%s", dirs[i]);
        slash = strrchr(parent, '/');
        if (!slash)
            continue;
        *slash = '\0';
        slash = strrchr(parent, '/');
        if (slash && strcmp(slash + 1, VIRTLAB_DIR) == 0)
            (void)rmdir(parent);
    }
}

int vl_cgroup_remove(struct vl_cgroup *cg)
{
    struct vl_cgroup live = *cg;
    const char *dirs[MAX_DIRS];
    size_t n;
    int r;

    if (cg->version != 1 && cg->version != 2)
        return 0;
    /* Kill in the directories that are still there. */
    live.nv1 = 0;
    for (size_t i = 0; cg->version == 1 && i < cg->nv1; i++)
        if (access(cg->v1[i].dir, F_OK) == 0)
            live.v1[live.nv1++] = cg->v1[i];
    if ((cg->version == 2 ? access(cg->path, F_OK) == 0 : live.nv1 > 0) &&
        (r = vl_cgroup_kill(&live, 2000)) < 0)
        return vl_err_ctx(r, "removing cgroup %s", cg->path);
    n = all_dirs(cg, dirs);
    for (size_t i = 0; i < n; i++)
        if ((r = remove_dir(dirs[i], 0)) < 0)
            return vl_err_ctx(r, "removing cgroup %s", cg->path);
    vl_cgroup_remove_parent(cg);
    cg->version = 0;
    cg->nv1 = 0;
    return 0;
}
