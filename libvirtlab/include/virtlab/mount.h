/*
 * virtlab/mount.h - mount(2), umount2(2) and pivot_root(2) with errors that
 * say what was being mounted where, and a reader of /proc/self/mountinfo.
 *
 * References: mount(2), mount_namespaces(7) (propagation types),
 * pivot_root(2), proc(5) ("/proc/[pid]/mountinfo"), the kernel's
 * Documentation/filesystems/sharedsubtree.rst.
 */
#ifndef VIRTLAB_MOUNT_H
#define VIRTLAB_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * mount(2). On failure the message names source, target, type and flags
 * (decoded: "MS_BIND|MS_REC") and hints at the usual causes: EPERM (no
 * CAP_SYS_ADMIN in the user namespace owning the mount namespace, or a
 * locked flag dropped in a remount), EINVAL (propagation change on a
 * non-mount point, pivot_root on a shared mount), ENOENT (missing target).
 */
int vl_mount(const char *source, const char *target, const char *fstype,
             unsigned long flags, const char *data);

/* "MS_BIND|MS_REC|0x..." for mount flags; returns buf. */
const char *vl_mount_flags_str(unsigned long flags, char *buf, size_t len);

/* Change the propagation type of target: type is MS_PRIVATE, MS_SLAVE,
 * MS_SHARED or MS_UNBINDABLE; recursive adds MS_REC. */
int vl_mount_propagation(const char *target, unsigned long type,
                         bool recursive);

/* Bind source onto target (MS_BIND, with MS_REC when recursive). */
int vl_mount_bind(const char *source, const char *target, bool recursive);

/*
 * Make the bind mount at target read-only (MS_REMOUNT|MS_BIND|MS_RDONLY),
 * keeping the flags the mount already has (nosuid, nodev, noexec, atime):
 * dropping one that is locked fails with EPERM in a user namespace.
 */
int vl_mount_readonly(const char *target);

/*
 * The per-mount flags path's mount has now (MS_NOSUID, MS_NODEV, MS_NOEXEC,
 * MS_NOSYMFOLLOW and its atime flag, MS_STRICTATIME when neither noatime
 * nor relatime), from statvfs(3), for a remount to pass on: a remount
 * replaces them all, and in a user namespace those the mount came with are
 * LOCKED (mount_namespaces(7)): dropping one is EPERM. 0 when statvfs
 * fails (the remount then says why).
 */
unsigned long vl_mount_kept_flags(const char *path);

/* Mount proc, sysfs (read-only when ro), tmpfs (with options data, may be
 * NULL), devpts (newinstance, ptmxmode=0666, mode=0620) at target. */
int vl_mount_proc(const char *target);
int vl_mount_sysfs(const char *target, bool ro);
int vl_mount_tmpfs(const char *target, unsigned long flags, const char *data);
int vl_mount_devpts(const char *target);

/* umount2(2); flags MNT_DETACH etc. The message names the target. */
int vl_umount(const char *target, int flags);

/* pivot_root(2) (glibc has no wrapper): new_root must be a mount point,
 * put_old under it; the message explains the EINVAL/EBUSY rules. */
int vl_pivot_root(const char *new_root, const char *put_old);

/* ---- /proc/self/mountinfo ------------------------------------------------ */

/* One line of /proc/PID/mountinfo (proc(5)). */
struct vl_mountinfo {
    int id, parent;
    char root[256];        /* the root of the mount within its filesystem */
    char point[256];       /* the mount point, as this process sees it */
    char options[256];     /* per-mount options: "rw,nosuid,..." */
    char propagation[128]; /* optional fields: "shared:1 master:2", "" */
    char fstype[32];
    char source[256];
    char super[256]; /* per-superblock options */
};

/*
 * Call fn for each mount of process pid (0: self) in mountinfo order; fn
 * returns 0 to go on, anything else stops the walk and is returned.
 */
int vl_mountinfo_each(pid_t pid,
                      int (*fn)(const struct vl_mountinfo *m, void *arg),
                      void *arg);

/* Find the mount whose mount point is exactly path (the last one: the one
 * on top). Returns 0 and fills *m, -ENOENT when path is not a mount point. */
int vl_mountinfo_find(pid_t pid, const char *path, struct vl_mountinfo *m);

/* Number of mounts whose mount point is prefix or under it (prefix "/a"
 * counts "/a" and "/a/b", not "/ab"): a test for leaked mounts. */
int vl_mount_count_under(pid_t pid, const char *prefix);

/* Mount option opt ("ro", "nosuid") in m->options? */
bool vl_mountinfo_has_option(const struct vl_mountinfo *m, const char *opt);

#endif
