/*
 * probe.h - vlab-probe, the test payload of minictr's labs: one static
 * multi-call program in the test rootfs (/bin/vlab-probe) that looks at
 * the container from inside and prints what it sees, one "key=value" per
 * line, for the tests to read. `vlab-probe help` lists the commands.
 *
 * Each probe_*.c file contributes a table of commands; probe.c dispatches.
 */
#ifndef PROBE_H
#define PROBE_H

struct probe_cmd {
    const char *name;  /* argv[1] */
    const char *usage; /* "sigwait: print ready, wait for SIGTERM, ..." */
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
};

/* Tables, each ending with {NULL, NULL, NULL}. */
extern const struct probe_cmd probe_cmds_base[]; /* probe_base.c (lab 09) */
extern const struct probe_cmd probe_cmds_fs[];   /* probe_fs.c (lab 10) */
extern const struct probe_cmd probe_cmds_user[]; /* probe_user.c (lab 11) */
extern const struct probe_cmd probe_cmds_cg[];   /* probe_cg.c (lab 12) */
extern const struct probe_cmd probe_cmds_sec[];  /* probe_sec.c (lab 13) */
extern const struct probe_cmd probe_cmds_net[];  /* probe_net.c (lab 15) */
/* probe_escape.c: the escape attempts of the security suite (tests/security) */
extern const struct probe_cmd probe_cmds_escape[];

/* Print "key=value\n" on stdout (unbuffered: tests read it live). */
void probe_kv(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
