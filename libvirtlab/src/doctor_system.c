/*
 * doctor_system.c - the system.* checks: which kernel, which user.
 * References: uname(2); getgroups(2); group(5).
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"
#include "virtlab/kvm.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/*
 * The kvm group owns /dev/kvm on most distributions (udev rule
 * 'KERNEL=="kvm", GROUP="kvm", MODE="0660"'). A process gets a new group
 * membership only from a new login, so look at both /etc/group (*listed)
 * and the groups of this session (getgroups(2), the return value).
 */
bool doctor_in_kvm_group(const char *user, bool *listed)
{
    struct group *g = getgrnam("kvm");
    _vl_cleanup_free_ gid_t *gs = NULL;
    bool in = false;
    int n;

    *listed = false;
    if (!g)
        return false;
    for (char **m = g->gr_mem; user && *m; m++)
        *listed |= strcmp(*m, user) == 0;
    in = getegid() == g->gr_gid;
    n = getgroups(0, NULL);
    gs = calloc(n > 0 ? (size_t)n : 1, sizeof(*gs));
    n = gs ? getgroups(n, gs) : -1;
    for (int i = 0; i < n; i++)
        in |= gs[i] == g->gr_gid;
    return in;
}

static void check_user(struct vl_doctor_report *r)
{
    struct passwd *pw = getpwuid(r->uid);
    char name[64];
    struct vl_check *c;
    bool listed;

    snprintf(name, sizeof(name), "%s", pw ? pw->pw_name : "?");
    r->kvm_group = doctor_in_kvm_group(pw ? name : NULL, &listed);
    if (r->root) {
        doctor_check_add(r, "system.user", VL_CHECK_OK, "root (uid %u)",
                         (unsigned)r->uid);
        return;
    }
    if (access(VL_KVM_DEVICE, R_OK | W_OK) == 0) {
        doctor_check_add(r, "system.user", VL_CHECK_OK,
                         "%s (uid %u)%s; the container labs need sudo", name,
                         (unsigned)r->uid,
                         r->kvm_group ? ", in group kvm"
                                      : ", may use /dev/kvm");
        return;
    }
    if (listed && !r->kvm_group) {
        c = doctor_check_add(r, "system.user", VL_CHECK_WARN,
                             "%s (uid %u) is in group kvm in /etc/group, but "
                             "not in this session",
                             name, (unsigned)r->uid);
        doctor_check_hint(c, "log out and in again (or run `newgrp kvm`).");
    } else {
        c = doctor_check_add(r, "system.user", VL_CHECK_WARN,
                             "%s (uid %u), not root, not in group kvm", name,
                             (unsigned)r->uid);
        doctor_check_hint(c, "for the KVM labs: `sudo usermod -aG kvm $USER`, "
                             "then log out and in again.");
    }
    doctor_check_hint(c, "The container labs (minictr) need root, except lab "
                         "11 (rootless): run them with sudo.");
}

int vl_doctor_check_system(struct vl_doctor_report *r)
{
    struct utsname u;
    struct vl_check *c;

    if (uname(&u) < 0)
        return vl_err(errno, "uname");
    snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);
    snprintf(r->arch, sizeof(r->arch), "%s", u.machine);
    if (strcmp(u.machine, "x86_64") == 0) {
        doctor_check_add(r, "system.kernel", VL_CHECK_OK, "%s %s (%s)",
                         u.sysname, u.release, u.machine);
    } else {
        c = doctor_check_add(r, "system.kernel", VL_CHECK_WARN,
                             "%s %s on %s, not x86_64", u.sysname, u.release,
                             u.machine);
        doctor_check_hint(c, "minivm runs x86 guests and needs an x86-64 "
                             "machine; the container labs (minictr) work "
                             "here.");
    }

    r->uid = getuid();
    r->root = geteuid() == 0;
    check_user(r);
    return 0;
}
