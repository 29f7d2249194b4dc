/*
 * spawn.h - run a command the grader does not trust, and always get control
 * back: within a wall-clock limit, with bounded output, and with nothing it
 * started left running afterwards.
 *
 * How (see setpgid(2), kill(2) and PR_SET_CHILD_SUBREAPER in prctl(2)):
 * - the command runs in a process group of its own; stdin is /dev/null,
 *   stdout and stderr go to one pipe that the grader keeps draining, so a
 *   flood of output neither blocks the command nor fills memory or disk;
 * - when the limit runs out, and also as soon as the command exits, the
 *   whole group gets SIGKILL;
 * - the grader is a child subreaper: a process that escaped the group
 *   (setsid, a new PID namespace) is reparented to the grader when its
 *   parent dies, and is killed too. This sweep kills every child of the
 *   calling process, so call vg_spawn() with no other children running.
 */
#ifndef VG_SPAWN_H
#define VG_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

struct vg_sandbox_conf;

struct vg_spawn_opts {
    const char *const *argv; /* argv[0] is looked up in PATH */
    const char *cwd;         /* NULL: the grader's own */
    double limit_sec;        /* wall-clock limit; <= 0 means none */
    size_t output_cap;       /* bytes of stdout+stderr kept */
    /* Variables removed from the child's environment (NULL-terminated). */
    const char *const *unset_env;
    /* "NAME=value" entries added when NAME is not set (NULL-terminated). */
    const char *const *default_env;
    /* Output lines this accepts are also kept apart, in
     * vg_spawn_result.kept, even past output_cap (NULL: none). */
    bool (*keep_line)(const char *line);
    /* Run inside a sandbox with these settings (sandbox.h): new pid,
     * mount, net and ipc namespaces, a cgroup, maybe another user. NULL:
     * as the grader, in its namespaces. */
    const struct vg_sandbox_conf *sandbox;
};

struct vg_spawn_result {
    int pid;         /* the command's process id (gone by now) */
    int wait_status; /* of the command, as waitpid(2) gives it */
    bool timed_out;  /* the limit ran out: the command was killed */
    char *output;    /* the first output_cap bytes, NUL-terminated */
    size_t output_len;
    bool output_truncated;
    char *kept; /* the lines keep_line accepted (capped), or NULL */
    double seconds;
    unsigned stragglers; /* processes killed after the command ended */
    /* With opts.sandbox: what the box was ("pid, mount, ... namespaces;
     * cgroup v1: memory 2048 MiB, 1024 tasks; as root: ...") and what the
     * lab's message must say (a limit it hit, a limit it could not set),
     * or NULL. */
    char *sandbox_summary;
    char *sandbox_note;
};

/*
 * Run opts->argv. Returns 0 once the command has run (whatever its exit
 * status, or timed out), -errno if it could not be started (with a message
 * naming the step), -EINTR if the grader was interrupted (the command was
 * killed and reaped first). Free *res with vg_spawn_result_free() after
 * every call: it is empty when the command could not be started.
 */
int vg_spawn(const struct vg_spawn_opts *opts, struct vg_spawn_result *res);
void vg_spawn_result_free(struct vg_spawn_result *res);

/* Seconds on CLOCK_MONOTONIC: for durations. */
double vg_now(void);

/* "exited with status 2", "was killed by signal 11 (Segmentation fault)" */
void vg_wait_status_describe(int wait_status, char *buf, size_t size);

/*
 * Catch SIGINT, SIGTERM and SIGHUP so that a running vg_spawn() kills its
 * command and returns -EINTR, letting the caller clean up; SIGPIPE is
 * ignored so a closed stdout cannot kill the grader mid-cleanup.
 */
int vg_interrupt_install(void);
/* The signal that interrupted the grader, or 0. */
int vg_interrupted(void);

#endif
