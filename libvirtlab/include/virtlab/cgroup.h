/*
 * virtlab/cgroup.h - control groups: which version the machine runs, what
 * this process may use, and the operations a container runtime needs
 * (create, attach, set limits, read stats and events, kill, remove), on
 * cgroup v2, v1 and the hybrid of both.
 *
 * References: cgroups(7); the kernel's Documentation/admin-guide/
 * cgroup-v2.rst and Documentation/admin-guide/cgroup-v1/ (memory.rst,
 * pids.rst; cpu's CFS quota in Documentation/scheduler/sched-bwc.rst).
 * Reads and writes only cgroupfs files and directories: never mounts,
 * unmounts or reconfigures the machine's hierarchies.
 */
#ifndef VIRTLAB_CGROUP_H
#define VIRTLAB_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* cgroups, as mounted under /sys/fs/cgroup (cgroups(7)). */
#define VL_CGROUP_ROOT "/sys/fs/cgroup"

struct vl_cgroup_info {
    int version;        /* 2: unified; 1: v1 (pure or hybrid); 0: none found */
    bool hybrid;        /* v1 controllers plus a cgroup2 tree at .../unified */
    char v2_mount[128]; /* where cgroup2 is mounted, "" if nowhere */
    char v2_path[256];  /* our cgroup in it ("0::" of /proc/self/cgroup) */
    char controllers[256];    /* usable controllers, space-separated */
    char v2_controllers[256]; /* hybrid: what the cgroup2 tree offers */
    bool writable;            /* we may create child cgroups where we are */
};

/*
 * Which cgroup version the machine runs and what the process may use:
 * statfs(2) of /sys/fs/cgroup tells cgroup2 (CGROUP2_SUPER_MAGIC) from a
 * tmpfs of v1 hierarchies; on v2 the controllers are the cgroup.controllers
 * of the process's own cgroup, on v1 the controllers mounted as hierarchies
 * (/proc/self/mountinfo). Reads only; never mounts anything.
 */
int vl_cgroup_detect(struct vl_cgroup_info *info);
/* Is ctrl ("memory") among info->controllers? */
bool vl_cgroup_has(const struct vl_cgroup_info *info, const char *ctrl);

/* ---- one cgroup -----------------------------------------------------------
 */

#define VL_CGROUP_MAX_V1 8 /* v1 hierarchies one cgroup may span */

/*
 * A cgroup this process created. On v2 it is one directory; on v1 one
 * directory per controller hierarchy (memory/NAME, pids/NAME, cpu/NAME),
 * all with the same relative path.
 */
struct vl_cgroup {
    int version; /* 1 or 2 (0: not created; for create: the machine's own) */
    char path[PATH_MAX]; /* v2: the directory; v1: the relative path */
    size_t nv1;
    struct {
        char ctrl[32];      /* "memory", "pids", "cpu" */
        char dir[PATH_MAX]; /* its directory in that hierarchy */
    } v1[VL_CGROUP_MAX_V1];
};

/*
 * Where this process may create child cgroups on version `version` (1 or
 * 2): root gets VL_CGROUP_ROOT[/unified]/virtlab on v2 (created, with the
 * wanted controllers enabled in every cgroup.subtree_control on the way),
 * or <hierarchy>/virtlab on v1; another user gets its own cgroup when it
 * is writable (delegated, e.g. by `systemd-run --user --scope -p
 * Delegate=yes`), with a hint when it is not. Writes the v2 directory (or
 * the v1 relative path) to out.
 */
int vl_cgroup_parent(const struct vl_cgroup_info *info, int version,
                     const char *const *controllers, char *out, size_t len);

/*
 * Create cgroup NAME (one path component) under vl_cgroup_parent(), on
 * version `version` (2, or 1 for the v1 hierarchies of a v1/hybrid
 * machine) with the controllers named in the NULL-terminated list (v2:
 * enabled in the parent's cgroup.subtree_control; v1: one directory in each
 * hierarchy). A controller the machine lacks is an error naming it.
 * EEXIST when it exists already (a leftover: the message says so).
 */
int vl_cgroup_create(struct vl_cgroup *cg, const struct vl_cgroup_info *info,
                     int version, const char *name,
                     const char *const *controllers);

/* Move process pid into the cgroup (cgroup.procs of every directory). */
int vl_cgroup_attach(const struct vl_cgroup *cg, pid_t pid);

/*
 * Write value to the cgroup's control file ("memory.max", "pids.max",
 * "cpu.cfs_quota_us"...). On v1 the prefix before the first '.' picks the
 * hierarchy (cpu.* in the one that has cpu; cgroup.* in each). The error
 * names the file and value (EINVAL: a value the kernel refuses; ENOENT: a
 * file this version or controller does not have; EBUSY: a limit below
 * current use, on v1).
 */
int vl_cgroup_set(const struct vl_cgroup *cg, const char *file,
                  const char *value);

/* Read a control file into buf (terminated, trailing newline removed). */
int vl_cgroup_get(const struct vl_cgroup *cg, const char *file, char *buf,
                  size_t len);

/*
 * Read one key of a flat-keyed file ("key value" lines: memory.events,
 * memory.stat, cpu.stat, pids.events, v1's memory.oom_control): *value
 * gets the number. -ENOENT when the key is not there.
 */
int vl_cgroup_get_key(const struct vl_cgroup *cg, const char *file,
                      const char *key, uint64_t *value);

/* Read a single-number file ("pids.current", "memory.max" - "max" reads
 * as UINT64_MAX). */
int vl_cgroup_get_u64(const struct vl_cgroup *cg, const char *file,
                      uint64_t *value);

/* The pids in the cgroup (cgroup.procs; on v1 the union). Fills up to n,
 * returns how many there are (may be > n), or -errno. */
int vl_cgroup_procs(const struct vl_cgroup *cg, pid_t *pids, size_t n);

/*
 * Kill every process in the cgroup with SIGKILL and wait (up to
 * timeout_ms) until it is empty: v2's cgroup.kill when the kernel has it
 * (5.14+), else freeze-free loops of kill(2) over cgroup.procs until
 * nothing is left.
 */
int vl_cgroup_kill(const struct vl_cgroup *cg, int timeout_ms);

/*
 * Kill what is left (vl_cgroup_kill) and remove the cgroup's directories
 * (rmdir(2); a cgroup directory's files go with it), sub-cgroups first,
 * then the virtlab/ parent when no other cgroup is left in it. Safe to call
 * twice, and on a cgroup that was never created (version 0).
 */
int vl_cgroup_remove(struct vl_cgroup *cg);

/* Remove the virtlab/ parent(s) of cg when empty (cg itself must be gone):
 * what vl_cgroup_remove() does last, for code that removed cg itself. */
void vl_cgroup_remove_parent(const struct vl_cgroup *cg);

#endif
