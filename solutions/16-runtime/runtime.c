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
    /* SOLUTION BEGIN */
    /* stub: (void)dir; */
    /* stub: (void)state; */
    /* stub: return MCT_TODO(1, "write state.json atomically"); */
    char tmp[PATH_MAX], path[PATH_MAX];
    int fd, r = 0;

    snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", dir);
    snprintf(path, sizeof(path), "%s/state.json", dir);
    fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return vl_err(errno, "creating %s", tmp);
    if (json_dumpfd(state, fd, JSON_COMPACT) < 0)
        r = vl_err(errno ? errno : EIO, "writing %s", tmp);
    else if (fsync(fd) < 0)
        r = vl_err(errno, "fsync %s", tmp);
    if (close(fd) < 0 && r == 0)
        r = vl_err(errno, "closing %s", tmp);
    if (r == 0 && rename(tmp, path) < 0)
        r = vl_err(errno, "renaming %s to %s", tmp, path);
    if (r < 0)
        unlink(tmp);
    return r;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)pid; */
    /* stub: (void)start; */
    /* stub: (void)fifo; */
    /* stub: return MCT_TODO(2, "the container's status"); */
    char path[64], buf[512], *p, state;
    unsigned long long now;
    unsigned flags;
    ssize_t n;
    int fd;

    if (pid <= 0 || mct_proc_start_time(pid, &now) < 0 || now != start) {
        vl_err_clear();
        return MCT_STOPPED;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return MCT_STOPPED;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return MCT_STOPPED;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
        return MCT_STOPPED;
    if (state == 'Z' || state == 'X' || (flags & MCT_PF_EXITING))
        return MCT_STOPPED;
    return access(fifo, F_OK) == 0 ? MCT_CREATED : MCT_RUNNING;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)pid; */
    /* stub: (void)start; */
    /* stub: (void)sig; */
    /* stub: return MCT_TODO(3, "kill through a pidfd"); */
    _vl_cleanup_close_ int fd = -1;
    unsigned long long now;

    fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno == ESRCH)
        return vl_err_plain(ESRCH,
                            "the container has stopped (its PID 1, "
                            "pid %d, is gone)",
                            (int)pid);
    if (fd < 0)
        return vl_err(errno, "pidfd_open %d", (int)pid);
    if (mct_proc_start_time(pid, &now) < 0 || now != start) {
        vl_err_clear();
        return vl_err_plain(ESRCH,
                            "the container has stopped (pid %d is "
                            "another process now)",
                            (int)pid);
    }
    if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
        return vl_err(errno, "pidfd_send_signal(%d, %d)", (int)pid, sig);
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)fd; */
    /* stub: return MCT_TODO(4, "wait on the exec fifo"); */
    char path[64];
    int w;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    while ((w = open(path, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (w < 0)
        return vl_err(errno, "opening the exec fifo %s for writing", path);
    if (write(w, "0", 1) != 1) {
        int e = errno;

        close(w);
        return vl_err(e, "writing to the exec fifo");
    }
    close(w);
    close(fd);
    return 0;
    /* SOLUTION END */
}

int mct_exec_fifo_start(const char *fifo, pid_t pid, unsigned long long start)
{
    /* SOLUTION BEGIN */
    /* stub: (void)fifo; */
    /* stub: (void)pid; */
    /* stub: (void)start; */
    /* stub: return MCT_TODO(4, "release the exec fifo"); */
    _vl_cleanup_close_ int fd = -1;
    char c;

    fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return vl_err_plain(ENOENT,
                            "the container has been started already "
                            "(no %s)",
                            fifo);
    if (fd < 0)
        return vl_err(errno, "opening %s", fifo);
    for (int waited = 0;; waited += 100) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, 100);

        if (n < 0 && errno != EINTR)
            return vl_err(errno, "poll %s", fifo);
        if (n > 0 && (pfd.revents & POLLIN) && read(fd, &c, 1) == 1)
            break;
        if (mct_state_status(pid, start, fifo) == MCT_STOPPED)
            return vl_err_plain(ESRCH, "the container stopped before it "
                                       "was started");
        if (waited >= MCT_START_TIMEOUT_MS)
            return vl_err_plain(ETIMEDOUT,
                                "the container did not take %s "
                                "within %d ms",
                                fifo, MCT_START_TIMEOUT_MS);
    }
    if (unlink(fifo) < 0)
        return vl_err(errno, "removing %s", fifo);
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)pid; */
    /* stub: return MCT_TODO(5, "join the container's namespaces"); */
    static const char *const types[] = {"user", "ipc",    "uts", "net",
                                        "pid",  "cgroup", "mnt"};
    enum { NTYPES = sizeof(types) / sizeof(types[0]) };
    int fds[NTYPES];
    pid_t child;
    int r = 0;

    for (size_t i = 0; i < NTYPES; i++) {
        char path[64];
        struct stat theirs, ours;

        fds[i] = -1;
        snprintf(path, sizeof(path), "/proc/self/ns/%s", types[i]);
        if (stat(path, &ours) < 0)
            continue; /* this kernel lacks the type */
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, types[i]);
        if (stat(path, &theirs) < 0) {
            r = vl_err(errno, "%s", path);
            break;
        }
        if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
            continue; /* shared with us */
        if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            r = vl_err(errno, "opening %s", path);
            break;
        }
    }
    for (size_t i = 0; i < NTYPES && r == 0; i++)
        if (fds[i] >= 0 && setns(fds[i], 0) < 0)
            r = vl_err(errno, "setns into the container's %s namespace",
                       types[i]);
    for (size_t i = 0; i < NTYPES; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (r < 0)
        return r;
    child = fork();
    if (child < 0)
        return vl_err(errno, "fork");
    return child;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)pid; */
    /* stub: (void)pids; */
    /* stub: (void)n; */
    /* stub: (void)cmp_pid; */
    /* stub: return MCT_TODO(6, "the container's processes"); */
    char path[300];
    struct stat ns, st;
    struct dirent *e;
    size_t count = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
    if (stat(path, &ns) < 0)
        return vl_err(errno, "%s", path);
    d = opendir("/proc");
    if (!d)
        return vl_err(errno, "opendir /proc");
    while ((e = readdir(d)) != NULL) {
        char *end;
        long p = strtol(e->d_name, &end, 10);

        if (*end || p <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/ns/pid", p);
        if (stat(path, &st) < 0 || st.st_ino != ns.st_ino ||
            st.st_dev != ns.st_dev)
            continue;
        if (count < n)
            pids[count] = (pid_t)p;
        count++;
    }
    closedir(d);
    qsort(pids, count < n ? count : n, sizeof(pid_t), cmp_pid);
    return (int)count;
    /* SOLUTION END */
}
