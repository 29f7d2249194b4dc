/*
 * probe_cg.c - vlab-probe commands of lab 12 (cgroups): put a load on the
 * container's limits and report what the kernel allowed.
 *
 *   forkbomb [MAX]  fork until fork(2) fails (EAGAIN at pids.max), at most
 *                   MAX children (default 256, so that a container WITHOUT
 *                   a limit cannot hurt the host); print how many, then
 *                   kill and reap them all
 *   memhog MB       map MB MiB and touch every page (the memory limit's
 *                   OOM killer should strike first)
 *   spin SEC        busy-loop SEC seconds of wall-clock time; print the
 *                   CPU time it got and the ratio (the CFS quota's share)
 *   cgroup          print the lines of /proc/self/cgroup
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FORKBOMB_DEFAULT_MAX 256
#define FORKBOMB_HARD_MAX    4096

static long arg_number(int argc, char **argv, int i, long def, long min,
                       long max)
{
    char *end;
    long v;

    if (argc <= i)
        return def;
    errno = 0;
    v = strtol(argv[i], &end, 10);
    if (errno || end == argv[i] || *end || v < min || v > max) {
        fprintf(stderr, "vlab-probe %s: bad number \"%s\" (%ld..%ld)\n",
                argv[0], argv[i], min, max);
        exit(2);
    }
    return v;
}

static int cmd_forkbomb(int argc, char **argv)
{
    long max =
        arg_number(argc, argv, 1, FORKBOMB_DEFAULT_MAX, 1, FORKBOMB_HARD_MAX);
    pid_t *kids = calloc((size_t)max, sizeof(*kids));
    long n = 0;
    int err = 0;

    if (!kids) {
        perror("vlab-probe forkbomb: calloc");
        return 1;
    }
    while (n < max) {
        pid_t pid = fork();

        if (pid == 0) {
            for (;;)
                pause(); /* until the parent's SIGKILL */
        }
        if (pid < 0) {
            err = errno;
            break;
        }
        kids[n++] = pid;
    }
    probe_kv("forks", "%ld", n);
    probe_kv("fork_error", "%s", err ? strerrorname_np(err) : "none");
    for (long i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    for (long i = 0; i < n; i++)
        waitpid(kids[i], NULL, 0);
    free(kids);
    probe_kv("reaped", "%ld", n);
    return 0;
}

static int cmd_memhog(int argc, char **argv)
{
    long mb = arg_number(argc, argv, 1, 0, 1, 1L << 20);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t len = (size_t)mb << 20;
    char *p;

    if (argc < 2) {
        fprintf(stderr, "usage: vlab-probe memhog MB\n");
        return 2;
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
             0);
    if (p == MAP_FAILED) {
        perror("vlab-probe memhog: mmap");
        return 1;
    }
    probe_kv("memhog_mb", "%ld", mb);
    /* Writing makes the kernel allocate (and charge to our memory cgroup)
     * each page; reading would map the shared zero page only. */
    for (size_t off = 0; off < len; off += page) {
        p[off] = 1;
        if ((off + page) % (16u << 20) == 0)
            probe_kv("touched_mb", "%zu", (off + page) >> 20);
    }
    probe_kv("memhog_done", "%ld", mb);
    munmap(p, len);
    return 0;
}

static double seconds(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_spin(int argc, char **argv)
{
    long sec = arg_number(argc, argv, 1, 2, 1, 600);
    double wall0 = seconds(CLOCK_MONOTONIC);
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    double wall, cpu;
    volatile unsigned long spins = 0;

    do {
        for (int i = 0; i < 100000; i++)
            spins++;
        wall = seconds(CLOCK_MONOTONIC) - wall0;
    } while (wall < (double)sec);
    cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    probe_kv("wall_ms", "%.0f", wall * 1e3);
    probe_kv("cpu_ms", "%.0f", cpu * 1e3);
    probe_kv("cpu_ratio", "%.3f", cpu / wall);
    return 0;
}

static int cmd_cgroup(int argc, char **argv)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[512];

    (void)argc;
    (void)argv;
    if (!f) {
        perror("vlab-probe cgroup: /proc/self/cgroup");
        return 1;
    }
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        probe_kv("cgroup", "%s", line);
    }
    fclose(f);
    return 0;
}

const struct probe_cmd probe_cmds_cg[] = {
    {"forkbomb",
     "forkbomb [MAX]: fork until fork fails (at most MAX, default 256); "
     "print forks= and fork_error=, then kill and reap them",
     cmd_forkbomb},
    {"memhog", "memhog MB: map MB MiB and write every page", cmd_memhog},
    {"spin", "spin SEC: busy-loop SEC s; print wall_ms=, cpu_ms=, cpu_ratio=",
     cmd_spin},
    {"cgroup",
     "cgroup: print each line of /proc/self/cgroup as cgroup=", cmd_cgroup},
    {NULL, NULL, NULL},
};
