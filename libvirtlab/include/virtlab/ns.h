/*
 * virtlab/ns.h - processes in new namespaces, and the parent/child
 * handshake a container runtime needs around them.
 *
 * References: namespaces(7), clone(2) (clone3), unshare(2), setns(2),
 * user_namespaces(7) ("User and group ID mappings: uid_map and gid_map"),
 * pid_namespaces(7). Every function follows error.h: 0 (or a pid) on
 * success, -errno with a readable message on failure.
 */
#ifndef VIRTLAB_NS_H
#define VIRTLAB_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The namespace types, by the names /proc/PID/ns/ uses. */
struct vl_ns_type {
    const char *name; /* "uts", "pid", "net", ... as in /proc/PID/ns/ */
    uint64_t flag;    /* its CLONE_NEW* flag */
};
extern const struct vl_ns_type vl_ns_types[]; /* ends with {NULL, 0} */

/*
 * "CLONE_NEWUTS|CLONE_NEWPID" for the CLONE_NEW* bits of flags (other bits
 * as 0x...). Writes at most len bytes (always terminated); returns buf.
 */
const char *vl_ns_flags_str(uint64_t flags, char *buf, size_t len);

/*
 * Start fn(arg) in a child process created with `flags` (CLONE_NEW* bits and
 * CLONE_* options; SIGCHLD is added). The child runs on a copy of the
 * caller's stack, like fork(), and _exit()s with fn's return value.
 * Uses clone3(2) when the kernel has it (with CLONE_PIDFD when pidfd is
 * not NULL: *pidfd gets a pidfd for the child, close-on-exec), else clone(2).
 * Returns the child's pid (in the caller's pid namespace) or -errno; the
 * error names the flags and, for EPERM/ENOSPC/EINVAL, the likely cause
 * (no privilege, user.max_*_namespaces, a restricted user namespace...).
 */
pid_t vl_clone(uint64_t flags, int (*fn)(void *arg), void *arg, int *pidfd);

/* unshare(2) with the same errors as vl_clone. */
int vl_unshare(uint64_t flags);

/*
 * Join namespace `ns` ("net", "mnt", ...) of process pid with setns(2).
 * ns NULL and pid a pidfd's owner is not supported: one namespace per call.
 */
int vl_setns(pid_t pid, const char *ns);

/*
 * The id of a process's namespace: the inode number of /proc/PID/ns/NS
 * (namespaces(7), "The /proc/[pid]/ns/ directory"); pid 0 means self.
 */
int vl_ns_id(pid_t pid, const char *ns, uint64_t *id);

/* True when pids a and b are in the same namespace `ns` (false on error). */
bool vl_ns_same(pid_t a, pid_t b, const char *ns);

/* ---- user namespaces: uid_map and gid_map ------------------------------ */

/* One line of a uid_map/gid_map: ids [inside, inside + count) of the new
 * namespace are ids [outside, outside + count) of the parent namespace. */
struct vl_id_map {
    uint32_t inside;
    uint32_t outside;
    uint32_t count;
};

/* Write /proc/PID/uid_map (gid false) or gid_map (gid true) in one write(2),
 * as the kernel requires; up to 340 lines, under 4096 bytes; pid 0 is the
 * caller itself. The error explains EPERM (map already written - the
 * kernel allows one write -, writer lacks CAP_SET[UG]ID over the parent
 * namespace, setgroups not denied before an unprivileged gid_map, range
 * not owned), EINVAL (overlapping lines, count 0, too many lines) and
 * EACCES (another user's or a non-dumpable process). */
int vl_write_id_map(pid_t pid, bool gid, const struct vl_id_map *maps,
                    size_t n);

/* Write "deny" to /proc/PID/setgroups (pid 0: self), needed before an
 * unprivileged process may write gid_map (user_namespaces(7), "Interaction
 * with system calls that change process GIDs"). */
int vl_deny_setgroups(pid_t pid);

/*
 * Can this process create a user namespace, and if not why? Returns 0 when
 * it can (checked by really trying, in a short-lived child), or -errno with
 * the reason: kernel.unprivileged_userns_clone = 0 (Debian's older knob),
 * user.max_user_namespaces = 0, or Ubuntu's AppArmor restriction
 * (kernel.apparmor_restrict_unprivileged_userns = 1), with a hint to fix it.
 */
int vl_userns_check(void);

/* ---- the parent/child handshake ----------------------------------------- */

/*
 * A socketpair (SOCK_SEQPACKET, close-on-exec) between a runtime and the
 * child it cloned. The child waits until the parent has set it up from
 * outside (id maps, cgroup) and says "go"; the child then sets itself up
 * and either exec()s, which closes its end, or reports an error, which the
 * parent reads and records as its own current error:
 *
 *   parent                          child
 *   vl_handshake_init(&h)
 *   vl_clone(..)           ---->    vl_handshake_child(&h)
 *   vl_handshake_parent(&h)         vl_handshake_wait(&h)  (blocks)
 *   ... maps, cgroup ...
 *   vl_handshake_send(&h, 0) --->   ... mounts, pivot_root ...
 *   vl_handshake_wait(&h)  (blocks) execve()  -> EOF: 0
 *                          <----    or vl_handshake_send(&h, r) on error
 *
 * A message is an int (0 or -errno) and, for an error, its vl_errmsg().
 */
struct vl_handshake {
    int fd[2]; /* [0] the parent's end, [1] the child's; -1 once closed */
    bool child;
};

int vl_handshake_init(struct vl_handshake *h);
/* In the parent after the clone: close the child's end. */
void vl_handshake_parent(struct vl_handshake *h);
/* In the child: close the parent's end. */
void vl_handshake_child(struct vl_handshake *h);
/* Send 0 ("go"/"ready") or r < 0 together with the current error. */
int vl_handshake_send(struct vl_handshake *h, int r);
/*
 * Wait for the other side: returns 0 for "go", the peer's r < 0 with its
 * message as the current error, or 0 on EOF when eof_ok (the child
 * exec()ed: its close-on-exec end closed), else -EPIPE ("the child exited
 * before it was ready"). timeout_ms < 0 waits forever; on expiry -ETIMEDOUT.
 */
int vl_handshake_wait(struct vl_handshake *h, bool eof_ok, int timeout_ms);
void vl_handshake_close(struct vl_handshake *h);

#endif
