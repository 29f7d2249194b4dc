/*
 * doctor_cgroup.c - the cgroup.* checks: which cgroup version the machine
 * runs, and which controllers this process may use. The detection itself
 * is libvirtlab's (vl_cgroup_detect(), cgroup.c); this file only judges
 * and explains what it found. Reads only; never mounts anything.
 * References: cgroups(7); the kernel's Documentation/admin-guide/cgroup-v2.rst.
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/error.h"

#include <string.h>
#include <unistd.h>

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
            vlp_list_add(missing, sizeof(missing), needed[i]);
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
