/*
 * userns.c - minictr stage 11: user namespaces and rootless containers.
 *
 * A user namespace gives a process its own set of user and group ids and
 * its own capabilities. Inside, the container's first process is uid 0
 * with every capability; outside, the kernel sees it as an ordinary,
 * unprivileged host id. The bridge between the two is a pair of maps,
 * /proc/PID/uid_map and /proc/PID/gid_map, that the parent writes once:
 * "inside outside count" - ids [inside, inside + count) of the container
 * are ids [outside, outside + count) of the host. An id that is not in the
 * map does not exist inside: the kernel shows it as the overflow id 65534
 * (/proc/sys/kernel/overflowuid).
 *
 * With a user namespace, minictr needs no root at all: any user may create
 * one (unless the distribution forbids it: `minictr check`), and the other
 * namespaces created together with it belong to it, so the container's
 * root may set its hostname, mount /proc and bring up its loopback.
 *
 * References: user_namespaces(7) ("User and group ID mappings: uid_map and
 * gid_map", "Interaction with system calls that change process GIDs"),
 * capabilities(7) ("Effect of user ID changes on capabilities"),
 * setresuid(2), setgroups(2), subuid(5), newuidmap(1).
 * labs/11-userns/README.md walks through the steps.
 */
#define MCT_LAB        "11-userns"
#define MCT_STAGE_FILE "userns.c"
#define _GNU_SOURCE    /* setresuid(2), setresgid(2) */

#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "minictr.h"

/*
 * TODO 1: decide whether the container gets a user namespace, and its maps.
 * In the parent, before the clone. Record who runs minictr in
 * ct->host_uid / ct->host_gid (getuid(), getgid()).
 *  - ct->userns: when --userns asked for one (ct->opt.userns), and always
 *    when minictr does not run as root: without root, the other namespaces
 *    can only be created together with a user namespace that owns them.
 *  - No user namespace: no maps (nuid_map = ngid_map = 0).
 *  - As root: the container's 0..65535 are the host's MCT_SUBID_BASE ..
 *    MCT_SUBID_BASE + MCT_SUBID_COUNT - 1, for uids and gids alike (what a
 *    line "root:100000:65536" of /etc/subuid and /etc/subgid grants).
 *  - As an unprivileged user: one id only, the container's 0 is the user's
 *    own uid (and gid). A process may map nothing else by itself
 *    (user_namespaces(7), "Defining user and group ID mappings"); more ids
 *    need the setuid helpers newuidmap(1)/newgidmap(1) and /etc/subuid.
 */
int mct_userns_maps(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(1, "decide on a user namespace and its maps");
}

/*
 * TODO 2: write the child's maps (parent, after the clone, before "go").
 * Nothing to do without a user namespace. Until its maps are written, the
 * child is nobody (65534) inside and can do nothing useful there; each map
 * is written once, in one write(2), by vl_write_id_map(ct->pid, ...).
 * When minictr is not root, first write "deny" to /proc/PID/setgroups
 * (vl_deny_setgroups): since Linux 3.19 the kernel refuses an unprivileged
 * gid_map until setgroups(2) is disabled in the namespace, because a user
 * who could call setgroups(2) as "root" inside could drop a supplementary
 * group that a file's permissions deny (mode 0705, group "blocked"), and
 * read the file (CVE-2014-8989). Root writes gid_map without it: it holds
 * CAP_SETGID outside.
 * Errors: pass them up with context (vl_err_ctx).
 */
int mct_userns_write_maps(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(2, "write uid_map and gid_map");
}

/*
 * TODO 3: in the child, after "go": become root of the new namespace.
 * Nothing to do without a user namespace. The child is still the host's
 * ids, seen through the maps (65534 when they are not mapped); make all
 * three ids (real, effective, saved) 0 for the group, then for the user:
 * setresgid(2), setresuid(2). The group first: changing ids needs
 * CAP_SETGID/CAP_SETUID, and a process that leaves uid 0 loses its
 * capabilities (capabilities(7), "Effect of user ID changes"), so in
 * general the gid is changed while the process is still privileged.
 * Then drop the supplementary groups (setgroups(0, NULL)) - only where
 * setgroups is allowed, i.e. root wrote the maps; TODO 2 denied it
 * otherwise and the call would fail with EPERM.
 * From here the process has every capability in its namespace: the next
 * execve(2) keeps them because its uid is 0 there.
 */
int mct_userns_become_root(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(3, "become root in the user namespace");
}
