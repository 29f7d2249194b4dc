/*
 * doctor_cgroup.c - the cgroup.* checks: which cgroup version the machine
 * runs, and which controllers this process may use. Reads only; never
 * mounts anything.
 * References: cgroups(7); the kernel's Documentation/admin-guide/cgroup-v2.rst.
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
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
            match = doctor_list_has(list, ctrl);
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
            doctor_list_add(list, len, name);
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
            if (!doctor_list_has(known, o))
                continue;
            doctor_list_add(info->controllers, sizeof(info->controllers), o);
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
    doctor_read_text(file, list, len);
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
    return doctor_list_has(info->controllers, ctrl);
}

/* ==== the checks ======================================================== */

/* cgroup.version: v2 is what the labs expect; v1 and hybrid work. */
static void check_version(struct vl_doctor_report *r,
                          const struct vl_cgroup_info *cg)
{
    struct vl_check *c;

    if (cg->version == 2) {
        doctor_check_add(r, "cgroup.version", VL_CHECK_OK,
                         "v2 (unified hierarchy at %s)", cg->v2_mount);
    } else if (cg->hybrid) {
        c = doctor_check_add(r, "cgroup.version", VL_CHECK_WARN,
                             "hybrid: v1 controllers under %s/<controller>; "
                             "cgroup2 at %s %s%s",
                             VL_CGROUP_ROOT, cg->v2_mount,
                             cg->v2_controllers[0] ? "offers only: "
                                                   : "has no controllers",
                             cg->v2_controllers);
        doctor_check_hint(c,
                          "supported: lab 12 uses the v1 controllers here. "
                          "crun refuses hybrid mode (run it under `unshare "
                          "-m` after `umount %s`); for pure v2, boot with "
                          "systemd.unified_cgroup_hierarchy=1 or test in "
                          "QEMU.",
                          cg->v2_mount);
    } else {
        c = doctor_check_add(r, "cgroup.version", VL_CHECK_WARN,
                             "v1 (legacy hierarchies under %s/<controller>)",
                             VL_CGROUP_ROOT);
        doctor_check_hint(c, "supported, but most machines now run v2: boot "
                             "with systemd.unified_cgroup_hierarchy=1 to try "
                             "it.");
    }
}

/* cgroup.controllers: cpu, memory and pids, in a cgroup we may write. */
static void check_controllers(struct vl_doctor_report *r,
                              const struct vl_cgroup_info *cg)
{
    static const char *const needed[] = {"cpu", "memory", "pids"};
    char missing[64] = "";
    struct vl_check *c;

    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (!vl_cgroup_has(cg, needed[i]))
            doctor_list_add(missing, sizeof(missing), needed[i]);
    if (!cg->controllers[0]) {
        /* Not fatal for a user: sudo creates cgroups at the top, where the
         * controllers are. */
        c = doctor_check_add(r, "cgroup.controllers",
                             geteuid() == 0 ? VL_CHECK_FAIL : VL_CHECK_WARN,
                             "no usable controllers%s%s",
                             cg->version == 2 ? " in " : "",
                             cg->version == 2 ? cg->v2_path : "");
    } else {
        c = doctor_check_add(r, "cgroup.controllers",
                             missing[0] || !cg->writable ? VL_CHECK_WARN
                                                         : VL_CHECK_OK,
                             "%s (%s)", cg->controllers,
                             cg->writable ? "writable" : "read-only here");
    }
    if (missing[0] && cg->version == 2)
        doctor_check_hint(c,
                          "missing %s: enable it in the parent's "
                          "cgroup.subtree_control (echo +memory > ...), or "
                          "ask systemd: `systemd-run --scope -p "
                          "Delegate=yes`.",
                          missing);
    else if (missing[0])
        doctor_check_hint(c,
                          "missing %s: no v1 hierarchy mounts it (the init "
                          "system mounts them; some kernels need "
                          "cgroup_enable=<name> on their command line).",
                          missing);
    if (!cg->writable)
        doctor_check_hint(c, "creating cgroups needs root (sudo) or a "
                             "delegated cgroup (`systemd-run --user --scope "
                             "-p Delegate=yes`); a read-only mount means a "
                             "container without cgroup access.");
}

int vl_doctor_check_cgroup(struct vl_doctor_report *r)
{
    struct vl_cgroup_info *cg = &r->cgroup;
    struct vl_check *c;
    int ret;

    vl_err_clear();
    ret = vl_cgroup_detect(cg);
    if (ret < 0 || cg->version == 0) {
        c = doctor_check_add(
            r, "cgroup.version", VL_CHECK_FAIL, "%s",
            ret < 0 ? vl_errmsg()
                    : "no cgroup filesystem under " VL_CGROUP_ROOT);
        doctor_check_hint(c, "mounting cgroups is the init system's job "
                             "(systemd); in a container, give it a cgroup "
                             "namespace and a cgroup mount.");
        doctor_check_add(r, "cgroup.controllers", VL_CHECK_SKIP,
                         "needs a cgroup hierarchy");
        return 0;
    }
    check_version(r, cg);
    check_controllers(r, cg);
    return 0;
}
