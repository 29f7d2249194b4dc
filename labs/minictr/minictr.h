/*
 * minictr.h - the interface between minictr's driver and its stages.
 *
 * minictr is the container runtime you build in labs 09-16. Each lab adds
 * one stage: a file of functions declared here. The driver (main.c,
 * minictr.c) calls them in order. When you grade lab N, the grader builds
 * minictr from YOUR stage-N file and the reference files of every other
 * stage, so a bug in one lab only costs points in that lab.
 *
 * The life of `minictr run --rootfs DIR -- CMD ARGS...` (minictr.c,
 * mct_run()); the stage that does each step in brackets:
 *
 *   parent (minictr, on the host)          child (the container's PID 1)
 *   mct_parse_limits                 [12]
 *   mct_userns_maps                  [11]
 *   mct_cgroup_create                [12]
 *   mct_spawn: clone(CLONE_NEW*)     [09] --> mct_child_main (driver):
 *   mct_userns_write_maps            [11]      waits for "go"
 *   mct_cgroup_attach                [12]      |
 *   handshake "go"                   ------->  mct_userns_become_root [11]
 *                                              mct_set_hostname     [09]
 *                                              mct_loopback_up      [09]
 *                                              mct_fs_private       [10]
 *                                              mct_fs_bind_rootfs   [10]
 *                                              mct_fs_mount_proc_sys[10]
 *                                              mct_fs_make_dev      [10]
 *                                              mct_fs_pivot_root    [10]
 *                                              mct_fs_mask_paths    [10]
 *                                              mct_fs_readonly_root [10]
 *   handshake: ready or an error     <-------  "ready" (or its error)
 *                                              mct_init             [09]
 *                                                fork -> mct_exec_command
 *                                                reap, forward signals
 *   mct_wait: forward signals, reap  [09]      _exit(status)
 *   mct_cgroup_check_oom             [12]
 *   mct_cgroup_destroy               [12]
 *
 * Exit status of minictr: the container's (its command's exit code, or
 * 128 + the signal that killed it); 125 when minictr itself fails (bad
 * command line, a setup step failed, a lab TODO not written yet); 126 when
 * the command cannot be executed, 127 when it is not in the rootfs.
 */
#ifndef MINICTR_H
#define MINICTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "virtlab/cgroup.h"
#include "virtlab/error.h"
#include "virtlab/ns.h"

#define MCT_EXIT_FAILED   125 /* minictr failed; the command never ran */
#define MCT_EXIT_NOEXEC   126 /* the command is not executable */
#define MCT_EXIT_NOTFOUND 127 /* the command is not in the rootfs */

#define MCT_DEFAULT_HOSTNAME "minictr"

/* Lab 11: the host ids a root-run minictr --userns maps the container's
 * 0..65535 to (like a line of /etc/subuid: "root:100000:65536"). */
#define MCT_SUBID_BASE  100000u
#define MCT_SUBID_COUNT 65536u
#define MCT_MAX_ID_MAPS 3

/* What the command line asked for. */
struct mct_options {
    const char *rootfs;   /* --rootfs DIR (required) */
    const char *hostname; /* --hostname NAME (default "minictr") */
    char **argv;          /* the command and its arguments */
    bool readonly;        /* --read-only: the root is mounted read-only */
    bool userns;          /* --userns: a user namespace even when root
                           * (always one when not root: lab 11) */
    bool host_net;        /* --net host: stay in the host's network
                           * namespace (default: a new one, loopback only) */
    const char *memory;   /* --memory 64M   (lab 12 parses these) */
    const char *pids;     /* --pids 32 */
    const char *cpus;     /* --cpus 0.5 */
    int timeout_sec;      /* --timeout SEC: SIGKILL the container after SEC
                           * seconds (0: none) */
    bool verbose;         /* -v: say each step on stderr */
};

/* Lab 12: the limits, parsed. 0 means "no limit" in each field. */
struct mct_limits {
    uint64_t memory_bytes;  /* --memory */
    uint64_t pids;          /* --pids */
    uint64_t cpu_quota_us;  /* --cpus 0.5: 50000 ... */
    uint64_t cpu_period_us; /* ... per 100000 us */
};
#define MCT_CPU_PERIOD_US 100000u /* the CFS period minictr uses */

struct minictr {
    struct mct_options opt;
    FILE *log; /* where -v and warnings go (stderr) */

    /* lab 09 */
    uint64_t clone_flags;   /* what mct_namespace_flags() chose */
    pid_t pid;              /* the container's PID 1, as the host sees it */
    int pidfd;              /* a pidfd for it, or -1 */
    struct vl_handshake hs; /* between minictr and the container */
    pid_t command_pid;      /* in PID 1: the command's pid (in the
                             * container's pid namespace) */

    /* lab 11 */
    bool userns;    /* the container gets a user namespace */
    uid_t host_uid; /* who ran minictr (getuid()) */
    gid_t host_gid;
    struct vl_id_map uid_map[MCT_MAX_ID_MAPS], gid_map[MCT_MAX_ID_MAPS];
    size_t nuid_map, ngid_map;

    /* lab 12 */
    struct mct_limits limits;
    struct vl_cgroup_info cginfo;
    struct vl_cgroup cg; /* version 0 until created */
    bool oom_killed;     /* the kernel's OOM killer killed a process */
    uint64_t oom_kills;  /* ... how many times (memory.events oom_kill) */
};

/* ---- the driver (minictr.c) --------------------------------------------- */

/* Fill ct with defaults and opt; no resources are taken yet. */
void mct_init_struct(struct minictr *ct, const struct mct_options *opt);

/*
 * Run the container to its end: every step of the diagram above. Returns
 * the container's exit status (0-255), or -errno when minictr failed (the
 * message says which step and why). Always cleans up: the cgroup, the
 * handshake, the child (killed if it is still there).
 */
int mct_run(struct minictr *ct);

/* Release what ct holds (idempotent). */
void mct_destroy(struct minictr *ct);

/* The container side, run in the cloned child: waits for "go", sets the
 * container up (labs 09-11's child steps), reports "ready" or the error,
 * then becomes PID 1 (mct_init). Never returns; passed to mct_spawn(). */
int mct_child_main(void *ct);

/*
 * In the process that will become the command (forked by mct_init): put
 * back the default signal dispositions and an empty signal mask, and
 * execvp() the command. On failure prints why on stderr ("minictr: cannot
 * run \"x\" in the container: no such file in the rootfs") and _exit()s
 * with 127 or 126. Never returns.
 */
void mct_exec_command(struct minictr *ct) __attribute__((noreturn));

/* -v: print "minictr: <step>" on ct->log. */
void mct_say(const struct minictr *ct, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A stage function that is not written yet returns this: it records
 * "TODO 3 in labs/09-namespaces/namespaces.c is not done yet: <what>" and
 * returns -ENOSYS; minictr stops there with that message.
 */
int mct_todo(const char *lab, const char *file, int step, const char *what);
#define MCT_TODO(step, what) mct_todo(MCT_LAB, MCT_STAGE_FILE, step, what)

/* ---- lab 09: namespaces (namespaces.c) --------------------------------- */

/* TODO 1: the CLONE_NEW* flags of a container as ct->opt asks. */
uint64_t mct_namespace_flags(const struct minictr *ct);
/* TODO 2: create the handshake and clone fn(ct) into the new namespaces;
 * sets ct->clone_flags, ct->pid, ct->pidfd. Parent side. */
int mct_spawn(struct minictr *ct, int (*fn)(void *));
/* TODO 3: in the child: the container's hostname (UTS namespace). */
int mct_set_hostname(struct minictr *ct);
/* TODO 4: in the child: bring up lo in the new network namespace. */
int mct_loopback_up(struct minictr *ct);
/* TODO 5: in the child, as PID 1: start the command, forward signals to
 * it, reap every zombie, and return the command's status (exit code, or
 * 128 + signal) once it has ended. */
int mct_init(struct minictr *ct);
/* TODO 6: in the parent: wait for the container's PID 1, forwarding
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 to it meanwhile;
 * return its status (0-255; 128 + signal if a signal killed it). */
int mct_wait(struct minictr *ct);

/* ---- lab 10: the container's filesystem (filesystem.c) ------------------- */

/* All run in the child, in this order, after "go". */
int mct_fs_private(struct minictr *ct);        /* TODO 1 */
int mct_fs_bind_rootfs(struct minictr *ct);    /* TODO 2 */
int mct_fs_mount_proc_sys(struct minictr *ct); /* TODO 3 */
int mct_fs_make_dev(struct minictr *ct);       /* TODO 4 */
int mct_fs_pivot_root(struct minictr *ct);     /* TODO 5 */
int mct_fs_mask_paths(struct minictr *ct);     /* TODO 6 */
int mct_fs_readonly_root(struct minictr *ct);  /* TODO 7 */

/* The paths masked and made read-only (Docker's and runc's defaults). */
extern const char *const mct_masked_paths[];   /* NULL-terminated */
extern const char *const mct_readonly_paths[]; /* NULL-terminated */

/* ---- lab 11: user namespaces (userns.c) ---------------------------------- */

/* TODO 1: decide ct->userns and fill ct->uid_map/gid_map (parent). */
int mct_userns_maps(struct minictr *ct);
/* TODO 2: write the maps of the child ct->pid (parent, before "go"). */
int mct_userns_write_maps(struct minictr *ct);
/* TODO 3: in the child after "go": become root of the new namespace. */
int mct_userns_become_root(struct minictr *ct);

/* ---- lab 12: cgroups (cgroups.c) ------------------------------------------
 */

/* TODO 1: parse --memory, --pids, --cpus into *l (errors name the option). */
int mct_parse_limits(const struct mct_options *opt, struct mct_limits *l);
/* TODO 2: create the container's cgroup and set its limits (parent). */
int mct_cgroup_create(struct minictr *ct);
/* TODO 3: move the child ct->pid into it, before "go" (parent). */
int mct_cgroup_attach(struct minictr *ct);
/* TODO 4: after the end: did the OOM killer strike? Sets ct->oom_killed. */
int mct_cgroup_check_oom(struct minictr *ct);
/* TODO 5: kill what is left and remove the cgroup (also on errors). */
void mct_cgroup_destroy(struct minictr *ct);

#endif
