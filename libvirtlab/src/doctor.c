/*
 * doctor.c - the doctor's report (see virtlab/doctor.h): adding checks and
 * their hints, running every group of checks, and the small helpers the
 * groups share. The groups live in doctor_<facility>.c (doctor_priv.h).
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ==== checks ============================================================ */

const char *vl_check_status_name(enum vl_check_status status)
{
    switch (status) {
    case VL_CHECK_OK:
        return "ok";
    case VL_CHECK_WARN:
        return "warn";
    case VL_CHECK_FAIL:
        return "fail";
    case VL_CHECK_SKIP:
        return "skip";
    }
    return "?";
}

/* Append a check; on a full report the extra checks land in a scratch slot
 * (never happens with the fixed set of checks, but never overflows). */
struct vl_check *doctor_check_add(struct vl_doctor_report *r, const char *id,
                                  enum vl_check_status status, const char *fmt,
                                  ...)
{
    static __thread struct vl_check scratch;
    struct vl_check *c = &scratch;
    va_list ap;

    if (r->nchecks < VL_DOCTOR_MAX)
        c = &r->checks[r->nchecks++];
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->status = status;
    va_start(ap, fmt);
    vsnprintf(c->summary, sizeof(c->summary), fmt, ap);
    va_end(ap);
    return c;
}

void doctor_check_hint(struct vl_check *c, const char *fmt, ...)
{
    size_t n = strlen(c->hint);
    va_list ap;

    if (n > 0 && n + 1 < sizeof(c->hint))
        c->hint[n++] = ' ', c->hint[n] = '\0';
    va_start(ap, fmt);
    vsnprintf(c->hint + n, sizeof(c->hint) - n, fmt, ap);
    va_end(ap);
}

/*
 * Split an error chain of the library ("open /dev/kvm: ...\n  hint: a\n
 * hint: b") into its first line, for the summary, and its hints, joined.
 */
void doctor_check_from_errmsg(struct vl_check *c, const char *msg)
{
    const char *nl = strchr(msg, '\n');
    static const char tag[] = "\n  hint: ";

    snprintf(c->summary, sizeof(c->summary), "%.*s",
             (int)(nl ? nl - msg : (ptrdiff_t)strlen(msg)), msg);
    for (const char *h = strstr(msg, tag); h; h = strstr(h, tag)) {
        const char *end;
        int n;

        h += sizeof(tag) - 1;
        end = strchr(h, '\n');
        n = (int)(end ? end - h : (ptrdiff_t)strlen(h));
        doctor_check_hint(c, "%.*s%s", n, h,
                          n > 0 && h[n - 1] == '.' ? "" : ".");
    }
}

/* ==== the whole report ================================================== */

void vl_doctor_init(struct vl_doctor_report *r)
{
    memset(r, 0, sizeof(*r));
    r->overlay_mount = -1;
}

int vl_doctor_run(struct vl_doctor_report *r)
{
    int ret;

    vl_doctor_init(r);
    if ((ret = vl_doctor_check_system(r)) < 0 ||
        (ret = vl_doctor_check_kvm(r, NULL)) < 0 ||
        (ret = vl_doctor_check_namespaces(r)) < 0 ||
        (ret = vl_doctor_check_cgroup(r)) < 0 ||
        (ret = vl_doctor_check_seccomp(r)) < 0 ||
        (ret = vl_doctor_check_overlay(r)) < 0)
        return vl_err_ctx(ret, "doctor");
    return 0;
}

const struct vl_check *vl_doctor_find(const struct vl_doctor_report *r,
                                      const char *id)
{
    for (int i = 0; i < r->nchecks; i++)
        if (strcmp(r->checks[i].id, id) == 0)
            return &r->checks[i];
    return NULL;
}

int vl_doctor_count(const struct vl_doctor_report *r,
                    enum vl_check_status status)
{
    int n = 0;

    for (int i = 0; i < r->nchecks; i++)
        n += r->checks[i].status == status;
    return n;
}

/* ==== small helpers ===================================================== */

int doctor_write_text(const char *path, const char *text)
{
    _vl_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(text);

    if (fd < 0)
        return vl_err(errno, "open %s", path);
    if (write(fd, text, len) != (ssize_t)len)
        return vl_err(errno, "write \"%s\" to %s", text, path);
    return 0;
}

int64_t doctor_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
