/*
 * probe.c - vlab-probe's main: `vlab-probe COMMAND [ARGS...]` runs one
 * command of the tables in probe.h and exits with its status. `help` (or
 * no command) lists them; an unknown command lists them on stderr and
 * exits 2, like a shell's usage error.
 *
 * vlab-probe is linked statically (scripts/mkrootfs.sh): the test rootfs
 * has no libc and no dynamic loader (ld.so(8)).
 */
#define _GNU_SOURCE
#include "probe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_EXIT_USAGE 2

static const struct probe_cmd *const probe_tables[] = {
    probe_cmds_base, probe_cmds_fs,  probe_cmds_user,   probe_cmds_cg,
    probe_cmds_sec,  probe_cmds_net, probe_cmds_escape,
};
#define PROBE_NTABLES (sizeof(probe_tables) / sizeof(probe_tables[0]))

void probe_kv(const char *key, const char *fmt, ...)
{
    va_list ap;
    char *value = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&value, fmt, ap);
    va_end(ap);
    /* One printf, so one write(2) per line (glibc formats a call on an
     * unbuffered stream in a temporary buffer): lines of processes sharing
     * the output do not interleave mid-line. */
    printf("%s=%s\n", key, n < 0 ? "?" : value);
    free(value);
}

static void probe_list(FILE *out)
{
    fprintf(out, "usage: vlab-probe COMMAND [ARGS...]; it prints key=value "
                 "lines. Commands:\n");
    for (size_t t = 0; t < PROBE_NTABLES; t++)
        for (const struct probe_cmd *c = probe_tables[t]; c->name; c++)
            fprintf(out, "  %s\n", c->usage ? c->usage : c->name);
    fprintf(out, "  help: this list\n");
}

static const struct probe_cmd *probe_find(const char *name)
{
    for (size_t t = 0; t < PROBE_NTABLES; t++)
        for (const struct probe_cmd *c = probe_tables[t]; c->name; c++)
            if (strcmp(c->name, name) == 0)
                return c;
    return NULL;
}

int main(int argc, char **argv)
{
    const struct probe_cmd *cmd;

    /* Unbuffered: a test reads "ready=1" while the probe still runs, and
     * nothing is lost when a command ends by a signal. */
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);

    if (argc < 2 || strcmp(argv[1], "help") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        probe_list(stdout);
        return 0;
    }
    cmd = probe_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "vlab-probe: unknown command '%s'\n", argv[1]);
        probe_list(stderr);
        return PROBE_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
