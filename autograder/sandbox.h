/*
 * sandbox.h - where a lab's tests run: a box around the test binary that
 * limits what it may use and leaves nothing behind.
 *
 *   grader ── clone(NEWPID|NEWNS|NEWNET|NEWIPC) ──> init (pid 1) ── fork ──>
 *             cgroup: memory, pids                  mounts, lo     the tests
 *
 * - a cgroup of its own (v2, or the v1 hierarchies of a hybrid machine;
 *   cgroups(7)) caps memory (memory.max / memory.limit_in_bytes) and tasks
 *   (pids.max); at the end cgroup.kill (or kill(2) over cgroup.procs) and
 *   rmdir. Without usable cgroups the tests run without those two limits,
 *   and the lab's message says so;
 * - a PID namespace (pid_namespaces(7)): kill(-1, SIGKILL) reaches only the
 *   tests' own processes, and when its init exits the kernel kills every
 *   process left in it: nothing escapes, whatever it did to its group;
 * - a mount namespace (mount_namespaces(7)) with private propagation, a
 *   fresh /proc, private tmpfs on /tmp (also $TMPDIR) and /dev/shm, the course
 *   tree (ROOT) read-only: mounts and temporary files die with it;
 * - a network namespace (network_namespaces(7)) with only the loopback
 *   device, brought up: localhost works, nothing else is reachable, and
 *   veths created inside vanish with it;
 * - an unprivileged user, vlab-grader (created on demand), unless the lab
 *   says "run_as": "root" (minictr's tests create namespaces, users and
 *   cgroups) or /dev/kvm, which minivm's tests need, has no group access.
 */
#ifndef VG_SANDBOX_H
#define VG_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "virtlab/cgroup.h"

struct vg_manifest;
struct vg_lab;
struct vg_spawn_result;

/* The system user unprivileged tests run as, and the mark in its comment
 * (GECOS) that tells it was made by vlab-grade: a user of that name made
 * by someone else is never used. */
#define VG_SANDBOX_USER "vlab-grader"
#define VG_SANDBOX_MARK "virtlab autograder sandbox"

#define VG_SANDBOX_MEMORY_MB 4096 /* default memory limit of one run */
#define VG_SANDBOX_PIDS_MAX  1024 /* default task limit of one run */

/* The settings of one lab's sandbox: lab.json's optional object
 *   "sandbox": {"memory_mb": 4096, "pids_max": 1024, "run_as": "root"}
 * ("run_as": "root" or "vlab-grader"; defaults as above, vlab-grader). */
struct vg_sandbox_conf {
    unsigned long memory_mb; /* 0: no memory limit */
    unsigned long pids_max;  /* 0: no task limit */
    bool as_root;            /* "run_as": "root" */
    bool needs_kvm;          /* the tests open /dev/kvm (program minivm) */
    const char *root;        /* the course tree: read-only inside (or NULL) */
};

/* Defaults, then m's "sandbox" object (read from m->path); an invalid one
 * is an error naming the file and the field. */
int vg_sandbox_conf_load(const struct vg_manifest *m, const char *root,
                         struct vg_sandbox_conf *conf);

/* One run's sandbox, from vg_sandbox_setup() to vg_sandbox_teardown(). */
struct vg_sandbox {
    const struct vg_sandbox_conf *conf;
    const char *work; /* the run's folder: stays writable */
    struct vl_cgroup cg;
    bool have_cg;
    bool drop; /* switch to uid/gid in the command */
    uid_t uid;
    gid_t gid;
    gid_t kvm_gid;     /* supplementary group for /dev/kvm, or (gid_t)-1 */
    char summary[256]; /* "pid, mount, net, ipc namespaces; cgroup v1 ..." */
    char note[1024];   /* what the lab's message must say, or "" */
};

/* The namespaces the sandbox's init is cloned into. */
uint64_t vg_sandbox_clone_flags(void);

/*
 * In the grader, before the clone: the cgroup and the user. What the
 * machine does not allow (no cgroups, no /dev/kvm group) only degrades the
 * box and is written to sb->note; negative only for memory errors.
 */
int vg_sandbox_setup(struct vg_sandbox *sb, const struct vg_sandbox_conf *conf,
                     const char *work);
/* In the grader, after the clone and before the init goes on. */
void vg_sandbox_attach(struct vg_sandbox *sb, pid_t pid);
/* In the init, inside the new namespaces, as root: mounts and loopback. */
int vg_sandbox_enter(const struct vg_sandbox *sb);
/* In the command's process, just before exec: become the user. */
int vg_sandbox_drop(const struct vg_sandbox *sb);
/* In the grader, after the run: kill what is left in the cgroup, note the
 * limits the run hit, remove the cgroup. */
void vg_sandbox_teardown(struct vg_sandbox *sb);

/* Add res->sandbox_note (a limit the run hit, one the box lacked) to the
 * lab's message. */
int vg_sandbox_note_lab(struct vg_lab *lab, const struct vg_spawn_result *res);

#endif
