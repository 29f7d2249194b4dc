/*
 * doctor_priv.h - what the pieces of the doctor share; internal to
 * libvirtlab (not installed: programs use virtlab/doctor.h).
 *
 * The doctor is one file per facility it checks, around a common core:
 *
 *   doctor.c          the report: adding checks and hints, running them
 *                     all; small helpers (word lists, text files, clock)
 *   doctor_probe.c    probes in a forked child, with a pipe and a time limit
 *   doctor_system.c   system.*   kernel and user
 *   doctor_kvm.c      kvm.*      device, API version, guest speed
 *   doctor_ns.c       ns.*       unshare(2) of each namespace
 *   doctor_cgroup.c   cgroup.*   version and controllers
 *   doctor_seccomp.c  seccomp.*  installing a filter
 *   doctor_overlay.c  overlay.*  the filesystem and a real mount
 *   doctor_json.c     the report as JSON (`vlab-doctor --json`)
 *
 * These functions are hidden: they link between the doctor's files but are
 * not part of libvirtlab.so's interface.
 */
#ifndef VIRTLAB_DOCTOR_PRIV_H
#define VIRTLAB_DOCTOR_PRIV_H

#include "textfile.h"
#include "virtlab/doctor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* ---- building the report (doctor.c) ------------------------------------ */

/* Append a check with a printf-style summary; returns it for hints. */
struct vl_check *doctor_check_add(struct vl_doctor_report *r, const char *id,
                                  enum vl_check_status status, const char *fmt,
                                  ...) __attribute__((format(printf, 4, 5)));

/* Append a sentence to a check's hint. */
void doctor_check_hint(struct vl_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fill a check's summary and hint from a library error chain. */
void doctor_check_from_errmsg(struct vl_check *c, const char *msg);

/* ---- small helpers (doctor.c) ------------------------------------------ */

/* Word lists and reading small text files: textfile.h. Writing one: 0 or
 * -errno with the error recorded. */
int doctor_write_text(const char *path, const char *text);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t doctor_now_ns(void);

/* ---- probes in a child process (doctor_probe.c) ------------------------ */

/* The most a probe may send back, and how long a probe usually may take. */
#define DOCTOR_CHILD_PAYLOAD_MAX 512
#define DOCTOR_PROBE_TIMEOUT_MS  5000

/*
 * A probe: runs in the child, writes up to DOCTOR_CHILD_PAYLOAD_MAX bytes of
 * result to out, and returns 0 (or a count) or -errno with the error
 * recorded, as library functions do.
 */
typedef int (*doctor_child_fn)(void *arg, void *out);

/*
 * Run fn(arg, ...) in a forked child and return what it returned, with its
 * error message recorded here; on success, copy outlen bytes of its result
 * to out (which may be NULL). what names the probe in messages ("probing
 * namespaces").
 * After timeout_ms the child is killed and the result is -ETIMEDOUT.
 */
int doctor_child_run(const char *what, doctor_child_fn fn, void *arg, void *out,
                     size_t outlen, int timeout_ms);

/* ---- shared by several checks ------------------------------------------ */

/*
 * Is this session in the kvm group (doctor_system.c)? *listed: whether
 * /etc/group lists user (NULL: don't look) as a member.
 */
bool doctor_in_kvm_group(const char *user, bool *listed);

/* Enter a new user namespace as root inside (doctor_ns.c); for probes. */
int doctor_enter_userns(void);

#pragma GCC visibility pop

#endif
