/*
 * runtime.c - minictr stage 16, part B: the OCI runtime's lifecycle.
 *
 * `minictr run` does everything in one process: set up, run, wait, clean
 * up. Container engines (containerd, CRI-O, Podman) instead drive a
 * runtime such as runc through separate commands, each a short-lived
 * process (the OCI runtime spec, runtime.md "Operations"):
 *
 *   create ID   set the container up (namespaces, mounts, cgroup...) up
 *               to the point just before it runs the user's program, and
 *               exit: the container stays, "created";
 *   start ID    let it run the program ("running");
 *   state ID    print its state (runtime.md "State"): JSON with its id,
 *               status, PID 1 as the host sees it, bundle;
 *   kill ID SIG send a signal to its process;
 *   delete ID   release what it held, once it has stopped.
 *
 * Between two commands nothing of minictr runs: what one command knows,
 * the next one reads from a state directory (runc's /run/runc/ID), and
 * the container itself waits for `start` on a FIFO there (runc's
 * exec.fifo). `minictr exec` joins a running container with setns(2),
 * `minictr ps` lists its processes.
 *
 * References: the OCI runtime spec runtime.md ("State", "Lifecycle",
 * "Operations"); runc(8) and its man pages runc-create(8), runc-start(8)
 * ...; fifo(7), open(2) ("O_PATH"), proc(5) (/proc/PID/stat,
 * /proc/PID/ns), pidfd_open(2), pidfd_send_signal(2), setns(2),
 * namespaces(7), pid_namespaces(7), user_namespaces(7), rename(2).
 * labs/16-runtime/README.md, "Part B", walks through the steps.
 */
#define MCT_LAB        "16-runtime"
#define MCT_STAGE_FILE "runtime.c"
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/cleanup.h"

/* How long `start` waits for a created container to take the FIFO. */
#define MCT_START_TIMEOUT_MS 10000

/*
 * TODO 1: write `state` (a JSON object) to DIR/state.json ATOMICALLY.
 *
 * `state`, `list` and engines polling a container read state.json at any
 * moment, also while create or delete writes it; a reader must see the old
 * file or the new one, never half of one. rename(2) is atomic: "If newpath
 * already exists, it will be atomically replaced, so that there is no
 * point at which another process attempting to access newpath will find
 * it missing". So:
 *  - write the JSON to a temporary file in the SAME directory (rename does
 *    not cross filesystems): DIR/.state.json.tmp, mode 0600 (O_CREAT |
 *    O_TRUNC | O_WRONLY | O_CLOEXEC); json_dumpfd(state, fd, JSON_COMPACT)
 *    writes it;
 *  - fsync(2) it (else a crash may leave a renamed but empty file), close;
 *  - rename() it over DIR/state.json. On an error remove the temporary
 *    file and return the error naming the file.
 */
int mct_state_write(const char *dir, const json_t *state)
{
    (void)dir;
    (void)state;
    return MCT_TODO(1, "write state.json atomically");
}

/*
 * TODO 2: the container's status, computed live (runtime.md "State":
 * "created", "running", "stopped"): state.json records only the pid of
 * the container's PID 1 and its start time (mct_proc_start_time()).
 *  - mct_proc_start_time(pid, &now) fails (no /proc/PID: the process has
 *    been reaped): stopped;
 *  - now != start: the pid was reused by another process since (pids are
 *    recycled, proc(5) /proc/PID/stat field 22 "starttime" tells them
 *    apart): stopped;
 *  - the process has ended, only its parent has not collected its exit
 *    status yet: a zombie (/proc/PID/stat field 3, "state", is 'Z', or
 *    'X' dead): stopped;
 *  - the process is exiting: field 9, "flags", has PF_EXITING (0x4,
 *    include/linux/sched.h). A PID 1 killed while other processes of its
 *    namespace are still to be reaped stays so for a while
 *    (pid_namespaces(7)): stopped too;
 *  - else: it lives. The FIFO `fifo` still there (access(2)): it waits
 *    for start: created; gone (start removes it): running.
 * The fields follow "(comm)" in /proc/PID/stat, and comm may contain
 * spaces and parentheses: sscanf after the LAST ')' (strrchr).
 */
#define MCT_PF_EXITING 0x4u
int mct_state_status(pid_t pid, unsigned long long start, const char *fifo)
{
    (void)pid;
    (void)start;
    (void)fifo;
    return MCT_TODO(2, "the container's status");
}

/*
 * TODO 3: send sig to the container's PID 1 - the right process, even if
 * it ended and its pid went to another process meanwhile: kill(2) by pid
 * may hit a stranger. A pidfd names one process for good:
 *  - fd = pidfd_open(pid, 0) (syscall(SYS_pidfd_open, ...), no glibc
 *    wrapper in older versions); ESRCH: -ESRCH "the container has stopped";
 *  - AFTER opening it, check that the pid still is our process:
 *    mct_proc_start_time() == start, else -ESRCH (it is another process);
 *  - syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) (pidfd_send_signal(2));
 *  - close the pidfd on every path.
 * PID 1 of a PID namespace gets only the signals it has a handler for from
 * inside (pid_namespaces(7)); from the host, every signal reaches it.
 * minictr's PID 1 (lab 09's mct_init) passes SIGTERM, SIGINT ... on to the
 * container's command.
 */
int mct_kill(pid_t pid, unsigned long long start, int sig)
{
    (void)pid;
    (void)start;
    (void)sig;
    return MCT_TODO(3, "kill through a pidfd");
}

/*
 * TODO 4: the exec FIFO, runc's way to stop a created container just
 * before it runs the user's program (fifo(7)). `create` makes the FIFO in
 * the state directory and hands the container's PID 1 an O_PATH fd of it
 * (open(2), "O_PATH"): after pivot_root the state directory is out of the
 * container's sight, but the fd still names the FIFO.
 *
 * mct_exec_fifo_wait(fd), in PID 1 once set up:
 *  - open("/proc/self/fd/<fd>", O_WRONLY | O_CLOEXEC) reopens the FIFO for
 *    writing; opening a FIFO for writing BLOCKS until some process opens
 *    it for reading (fifo(7)): that is `start`;
 *  - write one byte ("0") for start to read, close both fds, return 0.
 *
 * mct_exec_fifo_start(fifo, pid, start), in `start`:
 *  - open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC): never blocks (ENOENT:
 *    -ENOENT "already started");
 *  - poll(2) it for POLLIN, 100 ms at a time, up to MCT_START_TIMEOUT_MS;
 *    between two polls give up with -ESRCH when PID 1 has stopped
 *    (mct_state_status() says MCT_STOPPED);
 *  - read the byte, then unlink(fifo): its absence says "running" from now
 *    on (TODO 2). Close the fd on every path.
 */
int mct_exec_fifo_wait(int fd)
{
    (void)fd;
    return MCT_TODO(4, "wait on the exec fifo");
}

int mct_exec_fifo_start(const char *fifo, pid_t pid, unsigned long long start)
{
    (void)fifo;
    (void)pid;
    (void)start;
    return MCT_TODO(4, "release the exec fifo");
}

/*
 * TODO 5: join the namespaces of the container's PID 1 (setns(2)), then
 * fork, so that `minictr exec` runs its command inside the container.
 *  - Open /proc/PID/ns/<type> for user, ipc, uts, net, pid, cgroup, mnt -
 *    ALL of them BEFORE the first setns: once in the container's mount
 *    namespace, /proc/PID is another procfs (or none at all). Skip a type
 *    whose namespace is ours already (same st_ino as /proc/self/ns/<type>:
 *    setns into our own user namespace fails with EINVAL), and a type the
 *    kernel lacks (ENOENT).
 *  - setns(fd, 0) the user namespace FIRST: it gives us the capabilities
 *    the others ask for when we are not root on the host (setns(2):
 *    "CAP_SYS_ADMIN in the user namespace that owns the target"), then the
 *    others, mount last. Close every fd.
 *  - setns into a PID namespace moves only the CHILDREN made afterwards
 *    (pid_namespaces(7): "the caller ... is not moved"): fork() and return
 *    what it returns; the child is in the container's PID namespace.
 */
int mct_exec_join(pid_t pid)
{
    (void)pid;
    return MCT_TODO(5, "join the container's namespaces");
}

/*
 * TODO 6: `minictr ps`: the processes of the container, as host pids.
 * A process belongs to the container when it is in the PID namespace of
 * the container's PID 1 (also processes `minictr exec` started): the
 * /proc/N/ns/pid of each numeric directory of /proc (proc(5),
 * namespaces(7)) has the same st_dev and st_ino as /proc/PID/ns/pid
 * (stat(2) follows the link to the namespace). Processes that end while
 * you scan disappear: skip them.
 *  - Store up to n of them in pids[], sorted (PID 1 first), and return how
 *    many there are in all; -errno when PID is gone.
 */
static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

    return (x > y) - (x < y);
}

int mct_container_pids(pid_t pid, pid_t *pids, size_t n)
{
    (void)pid;
    (void)pids;
    (void)n;
    (void)cmp_pid;
    return MCT_TODO(6, "the container's processes");
}
