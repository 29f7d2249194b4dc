/*
 * doctor_seccomp.c - the seccomp.* check: a filter installs, and which
 * filter return actions the kernel offers.
 * Reference: seccomp(2).
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/error.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The filter return actions, strongest first (seccomp(2), "Filter return
 * values"), with the names of /proc/sys/kernel/seccomp/actions_avail. */
static const struct {
    const char *name;
    uint32_t action;
} seccomp_actions[] = {
    {"kill_process", SECCOMP_RET_KILL_PROCESS},
    {"kill_thread", SECCOMP_RET_KILL_THREAD},
    {"trap", SECCOMP_RET_TRAP},
    {"errno", SECCOMP_RET_ERRNO},
    {"user_notif", SECCOMP_RET_USER_NOTIF},
    {"trace", SECCOMP_RET_TRACE},
    {"log", SECCOMP_RET_LOG},
    {"allow", SECCOMP_RET_ALLOW},
};

/*
 * Install a filter that allows everything, in the child. Without
 * CAP_SYS_ADMIN the kernel demands no_new_privs first, so that a filter
 * cannot fool a set-user-ID program it later executes (seccomp(2)).
 */
static int seccomp_child(void *arg, void *out)
{
    struct sock_filter allow[] = {
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {
        .len = sizeof(allow) / sizeof(allow[0]),
        .filter = allow,
    };
    int mode;

    (void)arg;
    (void)out;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return vl_err(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return vl_err(errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
    mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (mode != SECCOMP_MODE_FILTER)
        return vl_err_plain(EPROTO,
                            "PR_GET_SECCOMP says %d after a filter "
                            "was installed",
                            mode);
    return 0;
}

/* seccomp(SECCOMP_GET_ACTION_AVAIL) (Linux 4.14), else actions_avail. */
static void seccomp_list_actions(char *list, size_t len)
{
    list[0] = '\0';
    for (size_t i = 0; i < sizeof(seccomp_actions) / sizeof(seccomp_actions[0]);
         i++) {
        uint32_t a = seccomp_actions[i].action;

        if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &a) == 0)
            vlp_list_add(list, len, seccomp_actions[i].name);
        else if (errno != EOPNOTSUPP)
            break; /* the operation itself is unknown */
    }
    if (!list[0])
        vlp_read_text("/proc/sys/kernel/seccomp/actions_avail", list, len);
}

int vl_doctor_check_seccomp(struct vl_doctor_report *r)
{
    struct vl_check *c;
    int mode;

    /* PR_GET_SECCOMP: 0 = not filtered, 2 = under a filter (a container
     * runtime installed one); EINVAL = kernel without CONFIG_SECCOMP. */
    mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (mode < 0) {
        c = doctor_check_add(r, "seccomp.filter", VL_CHECK_FAIL,
                             "PR_GET_SECCOMP: %s", strerror(errno));
        doctor_check_hint(c, "this kernel is built without CONFIG_SECCOMP; "
                             "lab 13's seccomp part cannot run here.");
        return 0;
    }
    seccomp_list_actions(r->seccomp_actions, sizeof(r->seccomp_actions));
    vl_err_clear();
    if (doctor_child_run("installing a seccomp filter", seccomp_child, NULL,
                         NULL, 0, DOCTOR_PROBE_TIMEOUT_MS) < 0) {
        c = doctor_check_add(r, "seccomp.filter", VL_CHECK_FAIL, "%s",
                             vl_errmsg());
        doctor_check_hint(c, "the kernel refuses seccomp filters "
                             "(CONFIG_SECCOMP_FILTER) or a parent filter "
                             "forbids seccomp(2).");
        return 0;
    }
    r->seccomp = true;
    doctor_check_add(
        r, "seccomp.filter", VL_CHECK_OK, "a filter installs%s; actions: %s",
        mode == SECCOMP_MODE_FILTER ? " (this process already runs under one)"
                                    : "",
        r->seccomp_actions[0] ? r->seccomp_actions : "unknown");
    return 0;
}
