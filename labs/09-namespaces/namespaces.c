/*
 * namespaces.c - minictr stage 9: namespaces and PID 1.
 *
 * A container is not a thing the kernel knows. It is an ordinary process
 * that sees less: its own hostname (UTS namespace), its own process ids,
 * where it is PID 1 (PID namespace), its own System V IPC objects (IPC),
 * its own mount table (mount namespace) and its own network stack with
 * only a loopback interface (network namespace). In this lab you clone
 * the container's first process into new namespaces, give it a hostname
 * and a working lo, make it a proper init (it starts the command, passes
 * signals on and reaps orphans) and have minictr wait for it and hand its
 * status back.
 *
 * References: namespaces(7), clone(2), pid_namespaces(7), uts_namespaces(7),
 * ipc_namespaces(7), network_namespaces(7), netdevice(7), signal(7),
 * sigwaitinfo(2), signalfd(2), pidfd_open(2), waitpid(2).
 * labs/09-namespaces/README.md walks through the steps.
 */
#define MCT_LAB        "09-namespaces"
#define MCT_STAGE_FILE "namespaces.c"
#define _GNU_SOURCE

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/cleanup.h"
#include "virtlab/ns.h"

/* The signals a container runtime passes on to its container: the ones a
 * user, a terminal or a service manager sends to ask a program to stop or
 * to act (docker stop sends SIGTERM; Ctrl-C SIGINT; a closed terminal
 * SIGHUP). SIGKILL and SIGSTOP cannot be caught, so never forwarded. */
static const int forwarded[] = {SIGTERM, SIGINT,  SIGHUP,
                                SIGQUIT, SIGUSR1, SIGUSR2};

static void forwarded_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaddset(set, forwarded[i]);
}

/* A wait(2) status as a shell reports it: the exit code, or 128 + the
 * number of the signal that killed the process. */
static int status_of(int wstatus)
{
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return WEXITSTATUS(wstatus);
}

/*
 * TODO 1: which namespaces the container gets (namespaces(7), "Namespace
 * types"). Always new UTS (hostname), PID (it is PID 1), IPC (System V
 * IPC, POSIX message queues) and mount (its own mount table: lab 10)
 * namespaces. A new network namespace (CLONE_NEWNET), holding only a
 * loopback interface, unless ct->opt.host_net (--net host). A new user
 * namespace (CLONE_NEWUSER) when ct->userns (lab 11 decides).
 */
uint64_t mct_namespace_flags(const struct minictr *ct)
{
    (void)ct;
    return 0;
}

/*
 * TODO 2: start the container's first process (parent side).
 * clone(2) creates a process and its new namespaces in one step; the new
 * process runs fn(ct). It must not run ahead of us: before it sets itself
 * up, minictr writes its id maps (lab 11) and moves it into its cgroup
 * (lab 12) from outside. That is what the handshake is for (virtlab/ns.h):
 *  - vl_handshake_init(&ct->hs) before the clone (both ends exist, the
 *    child inherits them);
 *  - ct->clone_flags = mct_namespace_flags(ct), then vl_clone() with those
 *    flags, fn, ct and &ct->pidfd (a pidfd for the child: pidfd_open(2));
 *  - on failure close the handshake again and return the error, with
 *    context; on success set ct->pid and close the child's end
 *    (vl_handshake_parent), so that we see EOF when the child is gone.
 */
int mct_spawn(struct minictr *ct, int (*fn)(void *))
{
    (void)ct;
    (void)fn;
    return MCT_TODO(2, "clone the container into new namespaces");
}

/*
 * TODO 3 (in the child): set the container's hostname, ct->opt.hostname,
 * with sethostname(2). It changes the hostname of the UTS namespace the
 * process is in (uts_namespaces(7)): the host keeps its own.
 */
int mct_set_hostname(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(3, "set the hostname");
}

/*
 * TODO 4 (in the child): bring up lo. A new network namespace has one
 * interface, lo, and it is down (network_namespaces(7)): even 127.0.0.1
 * does not work. netdevice(7): any socket is a handle for interface
 * ioctls; SIOCGIFFLAGS reads an interface's flags into a struct ifreq
 * (ifr_name "lo"), SIOCSIFFLAGS writes them: add IFF_UP. Close the socket.
 */
int mct_loopback_up(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(4, "bring up the loopback interface");
}

/*
 * TODO 5 (in the child, as the container's PID 1): be its init.
 * pid_namespaces(7) gives PID 1 two duties:
 *  - Orphans: a process whose parent dies is re-parented to PID 1 of its
 *    namespace, and when it ends it stays a zombie until PID 1 wait()s
 *    for it. An init that does not reap fills the process table.
 *  - Signals: PID 1 gets only the signals it has a handler for (the
 *    kernel drops the others, even SIGTERM from minictr; only SIGKILL and
 *    SIGSTOP from an ancestor namespace are forced). A signal that is
 *    blocked is never dropped: it stays pending until we take it.
 * So, as Docker's --init (tini) does:
 *  1. block the forwarded signals and SIGCHLD (sigprocmask);
 *  2. fork(); the child calls mct_exec_command(ct) (it unblocks them and
 *     executes the command); remember its pid in ct->command_pid;
 *  3. loop on sigwaitinfo(2) (or a signalfd): a forwarded signal goes to
 *     the command (kill); on SIGCHLD reap EVERY zombie with waitpid(-1,
 *     WNOHANG) (one SIGCHLD may stand for many children), noting the
 *     command's status;
 *  4. once the command has ended return its status (status_of()): the
 *     container ends with it, and the kernel kills what is left in the
 *     namespace when PID 1 exits.
 */
int mct_init(struct minictr *ct)
{
    (void)ct;
    (void)status_of;
    return MCT_TODO(5, "be the container's PID 1");
}

/*
 * TODO 6 (in minictr, the parent): wait for the container's PID 1 and
 * return its status (status_of()), passing on meanwhile the forwarded
 * signals (SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) that minictr
 * receives: `kill minictr` must stop the container, not leave it behind.
 * One way (signalfd(2), pidfd_open(2)): block the signals, read them from
 * a signalfd, and poll(2) it together with ct->pidfd, which becomes
 * readable when the process has ended; then waitpid(ct->pid). Another:
 * sigwaitinfo() on the signals plus SIGCHLD, as in TODO 5.
 */
int mct_wait(struct minictr *ct)
{
    (void)ct;
    (void)forwarded_set;
    return MCT_TODO(6, "wait for the container");
}
