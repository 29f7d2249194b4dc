/*
 * security.c - minictr stage 13: capabilities and seccomp.
 *
 * Namespaces decide what a container sees, cgroups how much it may use.
 * This lab decides what its root may DO. Two independent locks:
 *
 *  - Capabilities split root's power into some 40 pieces (CAP_CHOWN,
 *    CAP_SYS_ADMIN, CAP_NET_RAW, ...). minictr keeps a small set like
 *    Docker's and drops the rest from all five sets of the container's
 *    PID 1 - the bounding set above all, since it is what a root command
 *    gets back at execve(2) - and sets no_new_privs, so that no setuid
 *    binary or file capability can ever hand anything back.
 *  - seccomp puts a BPF program in front of every system call the command
 *    makes: an allowlist read from a JSON profile in Docker's schema,
 *    compiled with libseccomp. A call not on the list fails with EPERM
 *    before the kernel even looks at its arguments or at capabilities.
 *
 * References: capabilities(7) ("Capability sets of threads", "Transformation
 * of capabilities during execve()"), prctl(2) (PR_CAPBSET_DROP,
 * PR_CAP_AMBIENT, PR_SET_NO_NEW_PRIVS), cap_set_proc(3), cap_from_name(3),
 * seccomp(2), seccomp_init(3), seccomp_rule_add(3), seccomp_arch_add(3),
 * seccomp_attr_set(3), the kernel's Documentation/userspace-api/
 * no_new_privs.rst and seccomp_filter.rst, and Docker's seccomp profile
 * documentation (docs.docker.com/engine/security/seccomp/).
 * labs/13-security/README.md walks through the steps.
 */
#define MCT_LAB        "13-security"
#define MCT_STAGE_FILE "security.c"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "minictr.h"

#define MCT_CAP_HINT                                                           \
    "the names are those of capabilities(7), with or without CAP_, in "        \
    "any case (NET_ADMIN, cap_sys_time), or ALL; `man 7 capabilities` "        \
    "lists them, `capsh --print` shows this machine's"

/* The highest capability this kernel knows (capabilities(7): "the
 * /proc/sys/kernel/cap_last_cap file"); libcap's headers may know more. */
static int cap_last(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int last = CAP_LAST_CAP;

    if (f) {
        if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
            last = CAP_LAST_CAP;
        fclose(f);
    }
    return last;
}

/* Every capability this kernel has, as a mask. */
static uint64_t cap_all_mask(void)
{
    int last = cap_last();

    return last >= 63 ? ~0ull : (1ull << (last + 1)) - 1;
}

/* "CAP_SYS_ADMIN" for a capability number, for messages. */
static const char *cap_label(int cap, char *buf, size_t len)
{
    char *n = cap_to_name((cap_value_t)cap);

    snprintf(buf, len, "%s", n ? n : "?");
    cap_free(n);
    for (char *p = buf; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return buf;
}

/* TODO 1: one capability name to its number: "NET_ADMIN", "CAP_NET_ADMIN"
 * and "cap_net_admin" are all CAP_NET_ADMIN (12). -EINVAL naming it when
 * there is no such capability (on this kernel); `what` says where the name
 * came from (--cap-add, a profile's JSON path). */
static int cap_from_label(const char *name, const char *what, int *cap)
{
    (void)name, (void)what, (void)cap, (void)cap_label;
    return MCT_TODO(1, "a capability's name to its number");
}

/* A comma-separated list of --cap-add or --cap-drop into a mask; ALL sets
 * *all. (Given: it only splits the list for TODO 1.) */
static int cap_list(const char *list, const char *opt, uint64_t *mask,
                    bool *all)
{
    char item[64];
    int r;

    *mask = 0;
    *all = false;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");

        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len >= sizeof(item))
            return vl_err_plain(EINVAL, "%s: unknown capability \"%.*s\"", opt,
                                (int)len, p);
        memcpy(item, p, len);
        item[len] = '\0';
        if (!strcasecmp(item, "ALL")) {
            *all = true;
        } else if (len) {
            int cap;

            if ((r = cap_from_label(item, opt, &cap)) < 0)
                return r;
            *mask |= 1ull << cap;
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return 0;
}

int mct_caps_decide(struct minictr *ct)
{
    /* TODO 2: the sets the container gets: Docker's default set (README
     * step 2) with --cap-drop taken away and --cap-add added, ALL in either
     * as Docker reads it. Bounding, permitted and effective are that set;
     * inheritable and ambient stay empty; no_new_privs is on. */
    (void)ct, (void)cap_list, (void)cap_all_mask;
    return MCT_TODO(2, "choose the container's capabilities");
}

int mct_caps_apply(struct minictr *ct)
{
    /* TODO 3: in the container's PID 1, the last step before "ready":
     * drop every capability not in ct->caps.bounding from the bounding set
     * (PR_CAPBSET_DROP, while CAP_SETPCAP is still effective), then set
     * permitted, effective and inheritable with libcap (cap_set_proc),
     * the ambient set (PR_CAP_AMBIENT), and no_new_privs. A process can
     * only lose capabilities: keep what is asked AND still held. */
    (void)ct;
    return MCT_TODO(3, "drop the capabilities");
}

/* ---- seccomp --------------------------------------------------------------
 */

/* TODO 4: a profile's action ("SCMP_ACT_ERRNO", ...) to libseccomp's
 * (seccomp_rule_add(3) lists them). errno_ret is the entry's errnoRet
 * (NULL: none; ERRNO then means EPERM); path names the JSON key in
 * errors: "syscalls[2].action: unknown action \"SCMP_ACT_FOO\"". */
static int action_from_json(const json_t *action, const json_t *errno_ret,
                            const char *where, const char *path, uint32_t *act)
{
    (void)action, (void)errno_ret, (void)where, (void)path;
    (void)act;
    return MCT_TODO(4, "a profile's action");
}

/* TODO 5: an entry's "args" (NULL: none) into libseccomp's argument
 * comparisons, at most 6: {index, value, valueTwo, op}. *n is how many;
 * *or_rules is true when an index comes twice (then each condition is a
 * rule of its own, so they are OR'ed; otherwise one rule ANDs them).
 * path is "syscalls[3].args" for errors ("syscalls[3].args[0].op: unknown
 * operator \"SCMP_CMP_FOO\""). */
static int args_from_json(const json_t *args, const char *where,
                          const char *path, struct scmp_arg_cmp *cmp,
                          unsigned *n, bool *or_rules)
{
    (void)args, (void)where, (void)path, (void)cmp;
    *n = 0, *or_rules = false;
    return MCT_TODO(5, "argument conditions");
}

/* Does the arch name of a profile ("amd64" as Docker writes it, or
 * "SCMP_ARCH_X86_64") mean libseccomp's arch token? (Given.) */
static uint32_t arch_token(const char *name)
{
    static const struct {
        const char *go, *scmp;
    } go_names[] = {
        {"amd64", "x86_64"},  {"386", "x86"},
        {"arm64", "aarch64"}, {"mips64le", "mipsel64"},
        {"mipsle", "mipsel"}, {"mips64n32le", "mipsel64n32"},
    };
    char buf[32];
    size_t n = 0;

    if (!strncmp(name, "SCMP_ARCH_", 10))
        name += 10;
    for (size_t i = 0; i < sizeof(go_names) / sizeof(go_names[0]); i++)
        if (!strcmp(name, go_names[i].go))
            name = go_names[i].scmp;
    for (; name[n] && n + 1 < sizeof(buf); n++)
        buf[n] = (char)tolower((unsigned char)name[n]);
    buf[n] = '\0';
    return seccomp_arch_resolve_name(buf);
}

/* Is one of the arch names of the array `arches` this machine's? */
static bool arches_have_native(const json_t *arches)
{
    size_t i;
    json_t *a;

    json_array_foreach(arches, i, a)
    {
        const char *s = json_string_value(a);

        if (s && arch_token(s) == seccomp_arch_native())
            return true;
    }
    return false;
}

/* TODO 6: does a syscalls[] entry apply to this container? Its
 * "includes" {caps, arches} must all hold (every cap in the container's
 * bounding set, this machine's arch among the arches), its "excludes"
 * must not (no cap of it in the set, not this arch). Capability names as
 * in TODO 1 (an unknown one is an error naming path). */
static int entry_applies(const struct minictr *ct, const json_t *entry,
                         const char *where, const char *path, bool *applies)
{
    (void)ct, (void)entry, (void)where, (void)path;
    (void)arches_have_native;
    *applies = true;
    return MCT_TODO(6, "includes and excludes");
}

/* Add the arches of "architectures" (OCI, and old Docker profiles) and of
 * this machine's "archMap" entry to ctx. (Given.) */
static int add_arches(scmp_filter_ctx ctx, const json_t *profile,
                      const char *where)
{
    json_t *list = json_object_get(profile, "architectures"), *a, *m;
    size_t i, j;
    int r;

    json_array_foreach(list, i, a)
    {
        uint32_t t =
            json_string_value(a) ? arch_token(json_string_value(a)) : 0;

        if (!t)
            return vl_err_plain(EINVAL,
                                "%s: architectures[%zu]: unknown "
                                "architecture",
                                where, i);
        if ((r = seccomp_arch_add(ctx, t)) < 0 && r != -EEXIST)
            return vl_err(-r, "%s: architectures[%zu]: seccomp_arch_add", where,
                          i);
    }
    json_array_foreach(json_object_get(profile, "archMap"), i, m)
    {
        const char *arch =
            json_string_value(json_object_get(m, "architecture"));

        if (!arch || arch_token(arch) != seccomp_arch_native())
            continue;
        json_array_foreach(json_object_get(m, "subArchitectures"), j, a)
        {
            uint32_t t =
                json_string_value(a) ? arch_token(json_string_value(a)) : 0;

            if (!t)
                return vl_err_plain(EINVAL,
                                    "%s: archMap[%zu].subArchitectures[%zu]: "
                                    "unknown architecture",
                                    where, i, j);
            if ((r = seccomp_arch_add(ctx, t)) < 0 && r != -EEXIST)
                return vl_err(-r, "%s: archMap[%zu]: seccomp_arch_add", where,
                              i);
        }
    }
    return 0;
}

/* TODO 7 (first half): the rules of one syscalls[i] entry: does it apply
 * (TODO 6), its action (TODO 4) and conditions (TODO 5), then one rule
 * per known name (or one per condition when they are OR'ed); unknown
 * names are counted in *skipped, an entry whose action is the default
 * adds nothing. */
static int add_entry(struct minictr *ct, scmp_filter_ctx ctx,
                     const json_t *entry, uint32_t def, const char *where,
                     size_t i, unsigned *skipped)
{
    (void)ct, (void)ctx, (void)entry, (void)def, (void)where;
    (void)i, (void)skipped, (void)add_arches;
    (void)action_from_json, (void)args_from_json;
    (void)entry_applies;
    return MCT_TODO(7, "a syscalls[] entry");
}

int mct_seccomp_build(struct minictr *ct, const json_t *profile,
                      const char *where)
{
    /* TODO 7: a filter from a profile: seccomp_init(defaultAction with
     * defaultErrnoRet), no_new_privs left to TODO 3 (SCMP_FLTATR_CTL_NNP
     * 0), "optimize": 2 -> the binary tree (SCMP_FLTATR_CTL_OPTIMIZE), the
     * arches (add_arches), then every entry of "syscalls" (add_entry:
     * write it too). On success ct->seccomp is the new filter. */
    (void)ct, (void)profile, (void)where, (void)add_entry;
    return MCT_TODO(7, "build the seccomp filter");
}

int mct_seccomp_prepare(struct minictr *ct)
{
    /* TODO 8: --seccomp unconfined: no filter; --seccomp FILE, or the
     * default profile (mct_seccomp_default_profile()): read it with jansson
     * (json_load_file; a syntax error names file:line:column) and build
     * the filter from it (TODO 7). */
    (void)ct;
    return MCT_TODO(8, "read the seccomp profile");
}

int mct_seccomp_apply(struct minictr *ct)
{
    /* TODO 8 too: in the command's process, just before execve(2): load
     * the filter into the kernel (seccomp_load(3)). */
    (void)ct;
    return MCT_TODO(8, "load the seccomp filter");
}
