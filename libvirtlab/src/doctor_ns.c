/*
 * doctor_ns.c - the ns.* checks: can this process create each namespace,
 * directly or inside a user namespace of its own?
 * References: namespaces(7), user_namespaces(7), unshare(2).
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/error.h"
#include "virtlab/ns.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    int flag;
    const char *flag_name;
    const char *config; /* the kernel option that builds it */
    const char *max;    /* its limit under /proc/sys/user/ */
} ns_table[VL_DOCTOR_NS_COUNT] = {
    [VL_DOCTOR_NS_USER] = {"user", CLONE_NEWUSER, "CLONE_NEWUSER",
                           "CONFIG_USER_NS", "max_user_namespaces"},
    [VL_DOCTOR_NS_PID] = {"pid", CLONE_NEWPID, "CLONE_NEWPID", "CONFIG_PID_NS",
                          "max_pid_namespaces"},
    [VL_DOCTOR_NS_MOUNT] = {"mount", CLONE_NEWNS, "CLONE_NEWNS",
                            "CONFIG_NAMESPACES", "max_mnt_namespaces"},
    [VL_DOCTOR_NS_NET] = {"net", CLONE_NEWNET, "CLONE_NEWNET", "CONFIG_NET_NS",
                          "max_net_namespaces"},
    [VL_DOCTOR_NS_UTS] = {"uts", CLONE_NEWUTS, "CLONE_NEWUTS", "CONFIG_UTS_NS",
                          "max_uts_namespaces"},
    [VL_DOCTOR_NS_IPC] = {"ipc", CLONE_NEWIPC, "CLONE_NEWIPC", "CONFIG_IPC_NS",
                          "max_ipc_namespaces"},
};

/* "CLONE_NEWNS|CLONE_NEWNET" */
static void clone_flags_name(int flags, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < VL_DOCTOR_NS_COUNT; i++)
        if (flags & ns_table[i].flag) {
            size_t n = strlen(buf);

            snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
                     ns_table[i].flag_name);
        }
    if (!buf[0])
        snprintf(buf, len, "0x%x", (unsigned)flags);
}

const char *vl_doctor_ns_name(enum vl_doctor_ns ns)
{
    return (unsigned)ns < VL_DOCTOR_NS_COUNT ? ns_table[ns].name : NULL;
}

int vl_doctor_ns_flag(enum vl_doctor_ns ns)
{
    return (unsigned)ns < VL_DOCTOR_NS_COUNT ? ns_table[ns].flag : 0;
}

/* ==== probing =========================================================== */

/*
 * Enter a new user namespace and map our uid and gid to 0 in it
 * (user_namespaces(7), "User and group ID mappings"). An unprivileged
 * process must write "deny" to setgroups before it may write gid_map
 * (Linux 3.19, CVE-2014-8989: otherwise dropping a group by setgroups()
 * could grant access that a negative group ACL denied).
 */
int doctor_enter_userns(void)
{
    uid_t uid = geteuid(); /* read before: inside they read as 65534 */
    gid_t gid = getegid();
    char map[64];
    int r;

    if (unshare(CLONE_NEWUSER) < 0)
        return vl_err(errno, "unshare(CLONE_NEWUSER)");
    if ((r = doctor_write_text("/proc/self/setgroups", "deny")) < 0)
        return r;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    if ((r = doctor_write_text("/proc/self/uid_map", map)) < 0)
        return r;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    return doctor_write_text("/proc/self/gid_map", map);
}

struct ns_probe {
    int flags;
    bool in_userns;
};

static int ns_probe_child(void *arg, void *out)
{
    const struct ns_probe *p = arg;
    char name[128];
    int r;

    (void)out;
    if (p->in_userns && (r = doctor_enter_userns()) < 0)
        return r;
    if (unshare(p->flags) < 0) {
        clone_flags_name(p->flags, name, sizeof(name));
        return vl_err(errno, "unshare(%s)%s", name,
                      p->in_userns ? " in a user namespace" : "");
    }
    return 0;
}

int vl_doctor_ns_probe(int clone_flags, bool in_userns)
{
    struct ns_probe p = {.flags = clone_flags, .in_userns = in_userns};

    return doctor_child_run("probing namespaces", ns_probe_child, &p, NULL, 0,
                            DOCTOR_PROBE_TIMEOUT_MS);
}

/* ==== the checks ======================================================== */

/* Does the sysctl file hold exactly value? */
static bool sysctl_is(const char *path, const char *value)
{
    char buf[64];

    return vlp_read_text(path, buf, sizeof(buf)) == 0 &&
           strcmp(buf, value) == 0;
}

/* Why unprivileged user namespaces may be off, from the sysctls that
 * distributions use to switch them off. */
static void userns_hint(struct vl_check *c)
{
    bool found = false;

    if (sysctl_is("/proc/sys/kernel/unprivileged_userns_clone", "0")) {
        doctor_check_hint(c, "kernel.unprivileged_userns_clone is 0 (Debian's "
                             "switch): `sudo sysctl "
                             "kernel.unprivileged_userns_clone=1`.");
        found = true;
    }
    if (sysctl_is("/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                  "1")) {
        doctor_check_hint(c, "kernel.apparmor_restrict_unprivileged_userns is "
                             "1 (Ubuntu 23.10+): `sudo sysctl "
                             "kernel.apparmor_restrict_unprivileged_userns=0`"
                             ", or an AppArmor profile with `userns,`.");
        found = true;
    }
    if (sysctl_is("/proc/sys/user/max_user_namespaces", "0")) {
        doctor_check_hint(c, "user.max_user_namespaces is 0: `sudo sysctl "
                             "user.max_user_namespaces=15000`.");
        found = true;
    }
    if (!found)
        doctor_check_hint(c, "unprivileged user namespaces are switched off: "
                             "see kernel.unprivileged_userns_clone (Debian) "
                             "or kernel.apparmor_restrict_unprivileged_userns "
                             "(Ubuntu); in a container, its seccomp profile "
                             "may block unshare.");
}

/* Why unshare(2) failed for both the direct and the rootless way. */
static void ns_fail_hint(struct vl_check *c, enum vl_doctor_ns ns, int direct,
                         bool root)
{
    if (ns == VL_DOCTOR_NS_USER && !root) {
        userns_hint(c);
    } else if (direct == -EINVAL) {
        doctor_check_hint(c, "this kernel is built without %s.",
                          ns_table[ns].config);
    } else if (direct == -ENOSPC) {
        doctor_check_hint(c,
                          "the limit /proc/sys/user/%s is reached or 0: "
                          "raise it with sysctl.",
                          ns_table[ns].max);
    } else if (direct == -EPERM && !root) {
        doctor_check_hint(c, "needs CAP_SYS_ADMIN: run as root (sudo), or "
                             "enable user namespaces (ns.user).");
    } else if (root) {
        doctor_check_hint(c, "even root is refused: inside a container, its "
                             "seccomp profile or missing CAP_SYS_ADMIN blocks "
                             "unshare(2) (docker run --privileged).");
    } else {
        doctor_check_hint(c, "see ERRORS in unshare(2); as root (sudo) it may "
                             "work.");
    }
}

static void check_one_ns(struct vl_doctor_report *r, enum vl_doctor_ns ns)
{
    char id[VL_CHECK_ID_MAX];
    char err[VL_CHECK_SUMMARY_MAX];
    bool user = ns == VL_DOCTOR_NS_USER;
    bool root = geteuid() == 0;
    struct vl_check *c;
    int direct, rootless;

    snprintf(id, sizeof(id), "ns.%s", ns_table[ns].name);
    vl_err_clear();
    direct = vl_doctor_ns_probe(ns_table[ns].flag, false);
    snprintf(err, sizeof(err), "%s", vl_errmsg());
    /* Inside a new user namespace, as a rootless runtime works. For the
     * user namespace itself: does it give the capabilities to create a
     * mount namespace (the AppArmor restriction lets unshare succeed but
     * withholds them)? vl_userns_check() tries exactly that, and explains
     * a refusal from the sysctls that cause it. */
    vl_err_clear();
    rootless =
        user ? vl_userns_check() : vl_doctor_ns_probe(ns_table[ns].flag, true);
    r->ns[ns] = direct == 0;
    r->ns_rootless[ns] = rootless == 0;

    if (direct == 0 && (rootless == 0 || !user || root)) {
        doctor_check_add(r, id, VL_CHECK_OK, "unshare(%s) works%s",
                         ns_table[ns].flag_name,
                         user && !root ? ", and maps you to root inside" : "");
        return;
    }
    if (direct == 0) { /* user namespace without capabilities */
        c = doctor_check_add(r, id, VL_CHECK_WARN, "created, but not usable");
        vl_err_ctx(rootless, "created, but not usable");
        doctor_check_from_errmsg(c, vl_errmsg()); /* with its hints */
        return;
    }
    if (rootless == 0) {
        c = doctor_check_add(r, id, VL_CHECK_WARN,
                             "needs root (%s); works inside a user namespace",
                             err);
        doctor_check_hint(c, "run the container labs with sudo; lab 11 shows "
                             "the rootless way (`unshare -Ur`).");
        return;
    }
    c = doctor_check_add(r, id, VL_CHECK_FAIL, "%s", err);
    ns_fail_hint(c, ns, direct, root);
}

int vl_doctor_check_namespaces(struct vl_doctor_report *r)
{
    for (int ns = 0; ns < VL_DOCTOR_NS_COUNT; ns++)
        check_one_ns(r, (enum vl_doctor_ns)ns);
    return 0;
}
