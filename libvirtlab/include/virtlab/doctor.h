/*
 * virtlab/doctor.h - what this machine offers the labs, and how to fix what
 * it lacks.
 *
 * Each check probes one kernel facility the way the labs will use it, and
 * says OK / WARN / FAIL (or SKIP when it cannot apply) with the measured fact
 * and a fix:
 *
 *   system.kernel    uname(2): release and architecture
 *   system.user      root or not; member of the kvm group
 *   kvm.device       open("/dev/kvm")                     (api.rst 3, 4.1)
 *   kvm.api          KVM_GET_API_VERSION == 12           (api.rst 4.1)
 *   kvm.speed        ns per guest instruction, us per exit (api.rst 4.10)
 *   ns.user ... ns.ipc   unshare(2) of each namespace     (namespaces(7))
 *   cgroup.version   v2, v1 or hybrid                     (cgroups(7))
 *   cgroup.controllers   the controllers this process can use
 *   seccomp.filter   a filter installs; the actions available (seccomp(2))
 *   overlay.fs       overlay in /proc/filesystems or as a module
 *   overlay.mount    a real overlay mount, in a throwaway mount namespace
 *
 * Probes that could disturb or hang the caller (unshare, mounts, running a
 * guest) run in a forked child that reports over a pipe and is killed after
 * a time limit; the machine's own mounts and cgroups are never changed.
 *
 * vl_doctor_to_json() gives what `vlab-doctor --json` prints, which the
 * autograder and tests read to decide what to skip and why.
 */
#ifndef VIRTLAB_DOCTOR_H
#define VIRTLAB_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "virtlab/cgroup.h"

/* ---- one check ------------------------------------------------------ */

enum vl_check_status {
    VL_CHECK_OK,   /* works as the labs need */
    VL_CHECK_WARN, /* works, with a limit worth knowing (slow, hybrid...) */
    VL_CHECK_FAIL, /* the labs that need it cannot run here */
    VL_CHECK_SKIP, /* not applicable (depends on a check that failed) */
};

#define VL_CHECK_ID_MAX      32
#define VL_CHECK_SUMMARY_MAX 256
#define VL_CHECK_HINT_MAX    512

struct vl_check {
    char id[VL_CHECK_ID_MAX]; /* "kvm.device", "ns.user", ... */
    enum vl_check_status status;
    char summary[VL_CHECK_SUMMARY_MAX]; /* the measured fact */
    char hint[VL_CHECK_HINT_MAX];       /* how to fix ("" when OK) */
};

/* "ok", "warn", "fail", "skip" (as in the JSON). */
const char *vl_check_status_name(enum vl_check_status status);

/* ---- single facts ------------------------------------------------------ */

/*
 * KVM speed. On hardware (VT-x/AMD-V) a guest instruction costs a fraction
 * of a nanosecond; a nested KVM whose host offers no hardware virtualization
 * emulates every instruction, about 1000x slower. Anything below the
 * threshold is hardware.
 */
#define VL_KVM_HW_NS_PER_INSN 50.0

enum vl_kvm_speed {
    VL_KVM_SPEED_UNKNOWN,
    VL_KVM_SPEED_HARDWARE,
    VL_KVM_SPEED_EMULATED,
};

/* "hardware", "emulated", "unknown". */
const char *vl_kvm_speed_name(enum vl_kvm_speed speed);

struct vl_kvm_speed_sample {
    enum vl_kvm_speed speed;
    double ns_per_insn;  /* guest instruction, exits subtracted */
    double us_per_exit;  /* one exit to user space and back into the guest */
    uint64_t loop_iters; /* iterations of the timed guest loop */
    uint64_t loop_ns;    /* how long that KVM_RUN took */
    uint64_t exits;      /* exits timed (one-iteration runs) */
    uint64_t exits_ns;   /* how long they took together */
};

/*
 * Run a tiny real-mode guest (a counted loop that ends in an OUT) in a
 * child process and time it with CLOCK_MONOTONIC. dev is the KVM device
 * (NULL: /dev/kvm). The child is killed after a time limit, so a broken KVM
 * gives -ETIMEDOUT instead of a hang.
 */
int vl_doctor_measure_speed(const char *dev, struct vl_kvm_speed_sample *s);

/* The namespaces the container labs use (namespaces(7)). */
enum vl_doctor_ns {
    VL_DOCTOR_NS_USER,
    VL_DOCTOR_NS_PID,
    VL_DOCTOR_NS_MOUNT,
    VL_DOCTOR_NS_NET,
    VL_DOCTOR_NS_UTS,
    VL_DOCTOR_NS_IPC,
};
#define VL_DOCTOR_NS_COUNT 6

/* "user", "pid", "mount", "net", "uts", "ipc"; NULL when out of range. */
const char *vl_doctor_ns_name(enum vl_doctor_ns ns);
/* CLONE_NEWUSER, ...; 0 when out of range. */
int vl_doctor_ns_flag(enum vl_doctor_ns ns);

/*
 * Can this process create the namespaces in clone_flags? Tries unshare(2)
 * in a forked child (the caller stays where it is). With in_userns, the
 * child first enters a new user namespace mapping its uid and gid to 0
 * (user_namespaces(7)), as a rootless runtime does. Returns 0 or -errno.
 */
int vl_doctor_ns_probe(int clone_flags, bool in_userns);

/* ---- the whole report ------------------------------------------------- */

#define VL_DOCTOR_MAX 32

struct vl_doctor_report {
    int nchecks;
    struct vl_check checks[VL_DOCTOR_MAX];

    /* facts, for programs (the JSON "facts" object) */
    char kernel[65]; /* uname -r */
    char arch[65];   /* uname -m */
    uid_t uid;
    bool root;
    bool kvm_group;  /* this session has the kvm group */
    bool kvm_usable; /* /dev/kvm opens with API 12 */
    int kvm_api;     /* 0 when unknown */
    struct vl_kvm_speed_sample speed;
    bool ns[VL_DOCTOR_NS_COUNT];          /* unshare() works directly */
    bool ns_rootless[VL_DOCTOR_NS_COUNT]; /* works inside a new user ns
                                             (user: that ns grants caps) */
    struct vl_cgroup_info cgroup;
    bool seccomp;              /* a filter can be installed */
    char seccomp_actions[128]; /* "kill_process ... allow" */
    bool overlayfs;            /* an overlay mount works for this user:
                                  as root, or in a user namespace */
    int overlay_mount;         /* 1 mounted, 0 failed, -1 not tried */
};

/* Start an empty report. */
void vl_doctor_init(struct vl_doctor_report *r);

/*
 * The groups of checks; each appends its checks and facts to r. They
 * return 0, or -errno when the report could not be filled (a failing
 * facility is a FAIL check, not an error). kvm_dev NULL means /dev/kvm.
 */
int vl_doctor_check_system(struct vl_doctor_report *r);
int vl_doctor_check_kvm(struct vl_doctor_report *r, const char *kvm_dev);
int vl_doctor_check_namespaces(struct vl_doctor_report *r);
int vl_doctor_check_cgroup(struct vl_doctor_report *r);
int vl_doctor_check_seccomp(struct vl_doctor_report *r);
int vl_doctor_check_overlay(struct vl_doctor_report *r);

/* All of the above on a fresh report. */
int vl_doctor_run(struct vl_doctor_report *r);

/* The check with this id, or NULL. */
const struct vl_check *vl_doctor_find(const struct vl_doctor_report *r,
                                      const char *id);
/* How many checks have this status. */
int vl_doctor_count(const struct vl_doctor_report *r,
                    enum vl_check_status status);

/*
 * The report as JSON (jansson), in *out, which the caller frees:
 *   {"version":1,
 *    "checks":[{"id","status":"ok|warn|fail|skip","summary","hint"}...],
 *    "summary":{"ok":n,"warn":n,"fail":n,"skip":n},
 *    "facts":{"kernel","arch","root","uid","kvm_group","kvm","kvm_api",
 *             "kvm_speed":"hardware|emulated"|null,"ns_per_insn",
 *             "us_per_exit" (numbers or null),
 *             "namespaces":{"user":bool,...},"namespaces_rootless":{...},
 *             "cgroup":{"version","hybrid","v2_mount","v2_path",
 *                       "controllers":[...],"v2_controllers":[...],
 *                       "writable"},
 *             "seccomp","seccomp_actions":[...],
 *             "overlayfs","overlayfs_mount":bool|null}}
 */
int vl_doctor_to_json(const struct vl_doctor_report *r, char **out);

#endif
