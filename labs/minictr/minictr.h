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

#include <jansson.h>

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

    /* lab 13 */
    const char *cap_add;  /* --cap-add NET_ADMIN,SYS_TIME (or ALL) */
    const char *cap_drop; /* --cap-drop CHOWN,... (or ALL) */
    const char *seccomp;  /* --seccomp PROFILE.json, or "unconfined";
                           * NULL: the default profile */
    /* lab 14 */
    const char *image; /* run IMAGE: the root is an overlay of its layers
                        * (then rootfs is NULL until mct_image_prepare) */
    const char *store; /* --store DIR: the image store (NULL: default) */
    /* lab 15 */
    bool bridge_net;    /* --net bridge: a veth on a bridge */
    const char *bridge; /* --bridge NAME (default MCT_BRIDGE) */
    const char *ip;     /* --ip A.B.C.D (default: the first free one) */
    /* lab 16 */
    const char *bundle; /* an OCI bundle: config.json says it all */
};

/* Lab 12: the limits, parsed. 0 means "no limit" in each field. */
struct mct_limits {
    uint64_t memory_bytes;  /* --memory */
    uint64_t pids;          /* --pids */
    uint64_t cpu_quota_us;  /* --cpus 0.5: 50000 ... */
    uint64_t cpu_period_us; /* ... per 100000 us */
};
#define MCT_CPU_PERIOD_US 100000u /* the CFS period minictr uses */

/* Lab 13: the five capability sets of capabilities(7), as bit masks
 * (1ULL << CAP_CHOWN | ...). */
struct mct_caps {
    uint64_t bounding, permitted, effective, inheritable, ambient;
};

/* Lab 14: the container's root made from an image (mct_image_prepare). */
struct mct_image {
    char *ctr_dir;  /* STORE/containers/<id>: upper/, work/, merged/ */
    char *lowerdir; /* overlayfs's lowerdir=: the layers, top one first */
    char *rootfs;   /* ctr_dir/merged: where the overlay goes */
};

/* Lab 15: --net bridge. */
#define MCT_BRIDGE "minictr0"
struct mct_net {
    char veth_host[16];  /* IFNAMSIZ: the end on the bridge */
    char veth_ctr[16];   /* the end moved into the container (eth0) */
    uint32_t addr;       /* the container's IPv4 address, host order */
    uint32_t gateway;    /* the bridge's address */
    unsigned prefix;     /* the subnet's prefix length */
    bool bridge_created; /* we made the bridge: remove it when unused */
    bool lease_held;     /* the address is reserved in the lease dir */
};

/* Lab 16: what an OCI bundle's config.json adds to the options. */
/* Lab 16 (bundle.c): the parts of config.json. Strings point into
 * ct->bundle.config (they live as long as it); arrays are malloc'd. */
struct mct_mount {             /* an entry of mounts[] */
    char *destination;         /* in the container, absolute */
    char *type;                /* "tmpfs", ... (NULL for a bind) */
    char *source;              /* NULL: the type is used */
    unsigned long flags;       /* MS_* of its options (MS_BIND...) */
    unsigned long propagation; /* MS_PRIVATE/SHARED/SLAVE (| MS_REC) */
    char *data;                /* the other options, "a,b" (malloc'd) */
};
struct mct_rlimit { /* an entry of process.rlimits */
    int resource;   /* RLIMIT_NOFILE ... */
    uint64_t soft, hard;
};
struct mct_ns_join { /* linux.namespaces[] with a "path" */
    uint64_t flag;   /* CLONE_NEWNET ... */
    char *path;      /* what to setns(2) into */
};
struct mct_bundle {
    char *dir;      /* the bundle directory (absolute) */
    json_t *config; /* config.json, parsed */
    char *rootfs;   /* root.path, made absolute */
    char **argv;    /* process.args */
    char **env;     /* process.env (NULL: minictr's default) */
    char *cwd;      /* process.cwd */
    uid_t uid;      /* process.user */
    gid_t gid;
    /* Lab 16 (oci.c): `minictr create` */
    int exec_fifo; /* > 0: mct_run() returns once the container is ready,
                    * and its PID 1 waits on this O_PATH fd of exec.fifo
                    * for `minictr start` (0: run through) */
    bool detach;   /* its PID 1 outlives minictr (no PR_SET_PDEATHSIG
                    * after "ready") */
    /* Lab 16 (bundle.c): the rest of config.json */
    bool terminal; /* process.terminal (minictr makes no pty) */
    gid_t *groups; /* process.user.additionalGids */
    size_t ngroups;
    struct mct_rlimit *rlimits; /* process.rlimits */
    size_t nrlimits;
    uint64_t clone_flags;      /* linux.namespaces without a path */
    struct mct_ns_join *joins; /* ... and with one */
    size_t njoins;
    struct mct_mount *mounts; /* mounts[] */
    size_t nmounts;
    bool mounts_dev; /* one of them is on /dev: make the devices */
    char **masked;   /* linux.maskedPaths (NULL-terminated), or NULL */
    char **readonly; /* linux.readonlyPaths, or NULL */
    int root_fd;     /* driver, in the child only: an O_PATH fd of the
                      * rootfs while mct_bundle_mount() runs */
};

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

    /* lab 13 */
    bool caps_set; /* ct->caps is what the container gets (false:
                    * lab 13 not done and nothing asked: as is) */
    struct mct_caps caps;
    bool no_new_privs; /* PR_SET_NO_NEW_PRIVS before the command */
    void *seccomp;     /* a scmp_filter_ctx, or NULL: no filter */

    /* lab 14 */
    struct mct_image image;
    /* lab 15 */
    struct mct_net net;
    /* lab 16 */
    struct mct_bundle bundle;
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

/* ---- lab 13: capabilities and seccomp (security.c) ----------------------- */

/* TODO: parent: the capability sets the container gets, from Docker's
 * default set and --cap-add/--cap-drop; sets ct->caps, ct->caps_set and
 * ct->no_new_privs. An unknown capability is -EINVAL naming it. */
int mct_caps_decide(struct minictr *ct);
/* TODO: child, the last step before "ready": drop the bounding set, set
 * the other sets, no_new_privs. */
int mct_caps_apply(struct minictr *ct);
/* TODO: parent: read the profile (--seccomp FILE, the default profile, or
 * none for "unconfined") and build ct->seccomp with mct_seccomp_build(). */
int mct_seccomp_prepare(struct minictr *ct);
/* TODO: build ct->seccomp from a profile in Docker's JSON schema (OCI's
 * linux.seccomp is a subset of it); `where` names it in errors. */
int mct_seccomp_build(struct minictr *ct, const json_t *profile,
                      const char *where);
/* The environment variable that replaces the default seccomp profile. */
#define MCT_SECCOMP_ENV "MINICTR_SECCOMP_PROFILE"
/* Where the default profile is: $MINICTR_SECCOMP_PROFILE; else
 * labs/minictr/seccomp/default.json of the course tree this minictr was
 * built in (the driver is always compiled there, also from a student
 * release); else PREFIX/share/virtlab/seccomp/default.json next to an
 * installed PREFIX/bin/minictr. buf (PATH_MAX) may hold the answer.
 * Driver (minictr.c). */
const char *mct_seccomp_default_profile(char *buf, size_t len);
/* TODO: in the command's process, just before execve: load the filter. */
int mct_seccomp_apply(struct minictr *ct);
/* Free ct->seccomp (idempotent). Driver (minictr.c). */
void mct_seccomp_release(struct minictr *ct);

/* ---- lab 14: images and storage (images.c) --------------------------------
 */

/* Parent, before the clone: find ct->opt.image in the store, verify it,
 * unpack its layers (once), make the container's upper/work/merged
 * directories; fills ct->image and points ct->opt.rootfs at merged. */
int mct_image_prepare(struct minictr *ct);
/* Child, right after mct_fs_private(): mount the overlay on merged. */
int mct_image_mount(struct minictr *ct);
/* Parent, always, after the end: remove the container's directories. */
void mct_image_cleanup(struct minictr *ct);
/* `minictr image ...` (argv[0] is "image"): its exit status. Driver. */
int mct_image_cmd(int argc, char **argv);

/* Lab 14: the image store and its TODOs. */
#define MCT_DIGEST_MAX  72 /* "sha256:" + 64 hex digits + NUL */
#define MCT_MT_INDEX    "application/vnd.oci.image.index.v1+json"
#define MCT_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MCT_MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MCT_MT_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define MCT_MT_LAYER    "application/vnd.oci.image.layer.v1.tar"
#define MCT_REF_NAME    "org.opencontainers.image.ref.name"

/* An image as its manifest and config describe it (mct_image_resolve). */
struct mct_image_desc {
    char manifest[MCT_DIGEST_MAX];    /* the manifest's digest */
    char config[MCT_DIGEST_MAX];      /* the config's digest */
    size_t nlayers;                   /* layers, the bottom one first: */
    char (*layers)[MCT_DIGEST_MAX];   /* the layer blobs (gzip tars) */
    int64_t *layer_sizes;             /* their sizes (descriptors) */
    char (*diff_ids)[MCT_DIGEST_MAX]; /* the uncompressed tars (config) */
};
/* Driver (imagestore.c): the store and its plumbing. */
void mct_image_desc_free(struct mct_image_desc *d);
/* --store DIR, else $MINICTR_STORE, else /var/lib/minictr (root) or
 * $XDG_DATA_HOME/minictr (~/.local/share/minictr); malloc'd. */
char *mct_store_dir(const char *opt_store);
/* STORE/blobs/sha256/<hex> of "sha256:<hex>" (a bad digest: -EINVAL). */
int mct_blob_path(const char *store, const char *digest, char *buf, size_t len);
/* flock() STORE/.lock (LOCK_SH or LOCK_EX): returns the fd to close. */
int mct_store_lock(const char *store, int how);
/* Read STORE/index.json (*index NULL when there is none yet). */
int mct_store_read_index(const char *store, json_t **index);
/* Read a JSON file (at most 1 MiB). */
int mct_json_load(const char *path, json_t **out);
/* The SHA-256 of a layer's UNcompressed tar (its diff_id). */
int mct_layer_diff_id(const char *blob, char digest[MCT_DIGEST_MAX]);
/* rm -rf path (no error when it is not there). */
int mct_rmtree(const char *path);
/* The images.c TODOs besides the three stage functions above (TODO 5 is
 * inside mct_image_prepare, 6 mct_image_mount, 7 mct_image_cleanup). */
/* TODO 1: the SHA-256 of a file; a blob checked against its digest (size
 * -1: not checked), `what` names it in errors ("layer 1 of alpine"). */
int mct_sha256_file(const char *path, char digest[MCT_DIGEST_MAX]);
int mct_blob_verify(const char *store, const char *digest, int64_t size,
                    const char *what);
/* TODO 2: image name -> its manifest, config and layers, all verified. */
int mct_image_resolve(const char *store, const char *name,
                      struct mct_image_desc *d);
/* TODO 3: an OCI whiteout entry -> overlayfs's (1), or not one (0). */
int mct_whiteout_convert(const char *dir, const char *path);
/* TODO 4: unpack a layer blob into the new directory dir. */
int mct_layer_unpack(const char *blob, const char *dir);

/* ---- lab 15: networking (network.c) ----------------------------------------
 */

/* Parent, after the clone, before "go": the bridge, a veth pair, one end
 * on the bridge and the other moved into the container's namespace. */
int mct_net_setup(struct minictr *ct);
/* Child, after mct_loopback_up(): eth0's address, up, default route. */
int mct_net_configure(struct minictr *ct);
/* Parent, always: remove what mct_net_setup made (idempotent). */
void mct_net_cleanup(struct minictr *ct);

/* ---- lab 16: the runtime (bundle.c, runtime.c) -----------------------------
 */

/* Read DIR/config.json into ct (ct->opt, ct->bundle, and the lab 12/13
 * fields it sets); errors name the field ("process.args[0]: ..."). */
int mct_bundle_load(struct minictr *ct, const char *dir);
/* Free what mct_bundle_load took (idempotent). Driver (bundle_drv.c). */
void mct_bundle_release(struct minictr *ct);
/* TODO 7 (bundle.c), in the container before pivot_root: mounts[]. */
int mct_bundle_mount(struct minictr *ct);
/* Driver (bundle_drv.c). Read DIR/config.json into ct->bundle.config and
 * ct->bundle.dir = DIR made absolute (jansson's errors: line, column). */
int mct_bundle_read(struct minictr *ct, const char *dir);
/* Parent: clone into ct->bundle.clone_flags, born in the namespaces of
 * ct->bundle.joins (mct_spawn()'s job for `minictr run`). */
int mct_bundle_spawn(struct minictr *ct, int (*fn)(void *));
/* Child: a bundle's filesystem: lab 10's steps with the config's mounts
 * (mct_bundle_mount), devices, maskedPaths and readonlyPaths. */
int mct_bundle_setup_fs(struct minictr *ct);
/* The command's process, before seccomp and execve: rlimits, env, cwd,
 * groups/gid/uid, then the capabilities. Prints and _exit()s on failure. */
void mct_bundle_exec_setup(struct minictr *ct);
/* For TODO 7: the mount point of m inside the rootfs, created if missing
 * (a directory, or a file for a bind of a file), symlinks resolved as if
 * the rootfs were "/" (openat2(2) RESOLVE_IN_ROOT); target = that path as
 * the container's PID 1 sees it before pivot_root. */
int mct_bundle_mount_point(struct minictr *ct, const struct mct_mount *m,
                           char *target, size_t size);
/* A bind mount's source: absolute, or relative to the bundle directory. */
int mct_bundle_source(const struct minictr *ct, const struct mct_mount *m,
                      char *buf, size_t size);
/* The filesystem type to mount for m ("cgroup" -> "cgroup2"). */
const char *mct_bundle_fstype(const struct mct_mount *m);
/* The OCI runtime command line: create, start, state, kill, delete, and
 * run/exec/ps of an OCI container (argv[0] is the command). Driver. */
int mct_oci_cmd(int argc, char **argv);

/* Lab 16: the OCI runtime's lifecycle (runtime.c; driver oci.c). */
enum mct_status { MCT_CREATED, MCT_RUNNING, MCT_STOPPED };
/* Driver (oci.c): field 22 of /proc/PID/stat, the process's start time in
 * clock ticks after boot; with the pid it names one process for good. */
int mct_proc_start_time(pid_t pid, unsigned long long *start);
/* TODO 1: write state (runtime.md "State") to DIR/state.json atomically. */
int mct_state_write(const char *dir, const json_t *state);
/* TODO 2: MCT_CREATED, MCT_RUNNING or MCT_STOPPED, from the container's
 * PID 1 (pid + start time) and whether its exec fifo still exists. */
int mct_state_status(pid_t pid, unsigned long long start, const char *fifo);
/* TODO 3: send sig to that PID 1 through a pidfd (-ESRCH: it is gone). */
int mct_kill(pid_t pid, unsigned long long start, int sig);
/* TODO 4: the exec fifo: in PID 1 after "ready", block until `start`
 * opens it (fd: an O_PATH fd of it); in `start`, release it. */
int mct_exec_fifo_wait(int fd);
int mct_exec_fifo_start(const char *fifo, pid_t pid, unsigned long long start);
/* TODO 5: join the namespaces of pid (user first), then fork: returns as
 * fork() does (the child's pid, 0 in the child, or -errno). */
int mct_exec_join(pid_t pid);
/* TODO 6: the host pids of the processes in pid's PID namespace, sorted,
 * into pids[n]; returns how many there are (may be > n). */
int mct_container_pids(pid_t pid, pid_t *pids, size_t n);
/* Driver (minictr.c): release what a created container holds (its cgroup,
 * image directories, veth: release_container()) from another process. */
void mct_release_container(struct minictr *ct);

#endif
