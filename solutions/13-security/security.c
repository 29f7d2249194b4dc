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
    /* SOLUTION BEGIN */
    /* stub: (void)name, (void)what, (void)cap, (void)cap_label; */
    /* stub: return MCT_TODO(1, "a capability's name to its number"); */
    char buf[64];
    const char *bare = name;
    cap_value_t v;
    size_t n = 0;

    /* libcap knows the names as capabilities(7) writes them, in lower
     * case with the cap_ prefix (cap_from_name(3)). */
    if (!strncasecmp(bare, "CAP_", 4))
        bare += 4;
    n = (size_t)snprintf(buf, sizeof(buf), "cap_");
    for (const char *p = bare; *p && n + 1 < sizeof(buf); p++) {
        if (!isalnum((unsigned char)*p) && *p != '_')
            break;
        buf[n++] = (char)tolower((unsigned char)*p);
    }
    buf[n] = '\0';
    if (!*bare || strlen(bare) + 4 != n || cap_from_name(buf, &v) < 0 ||
        v < 0) {
        vl_err_plain(EINVAL, "%s: unknown capability \"%s\"", what, name);
        vl_err_hint(MCT_CAP_HINT);
        return -EINVAL;
    }
    if (v > cap_last()) {
        vl_err_plain(EINVAL,
                     "%s: capability \"%s\" is not known to this kernel "
                     "(its highest is %d: /proc/sys/kernel/cap_last_cap)",
                     what, name, cap_last());
        return -EINVAL;
    }
    *cap = (int)v;
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)ct, (void)cap_list, (void)cap_all_mask; */
    /* stub: return MCT_TODO(2, "choose the container's capabilities"); */
    /* Docker's default set (moby: oci/caps/defaults.go) without
     * CAP_NET_RAW: raw sockets forge packets and spoof addresses on the
     * container's network, and ping works without them
     * (net.ipv4.ping_group_range); and without CAP_MKNOD: with no device
     * cgroup to say which devices may be opened, a node made for the
     * host's disk would read it (docs/security.md, raw_device). */
    static const int defaults[] = {
        CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FSETID,
        CAP_FOWNER,     CAP_SETGID,       CAP_SETUID,
        CAP_SETFCAP,    CAP_SETPCAP,      CAP_NET_BIND_SERVICE,
        CAP_SYS_CHROOT, CAP_KILL,         CAP_AUDIT_WRITE,
    };
    uint64_t add, drop, set = 0, all = cap_all_mask();
    bool add_all, drop_all;
    int r;

    if ((r = cap_list(ct->opt.cap_add, "--cap-add", &add, &add_all)) < 0 ||
        (r = cap_list(ct->opt.cap_drop, "--cap-drop", &drop, &drop_all)) < 0)
        return r;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        set |= 1ull << defaults[i];
    /* Docker's order (moby: oci/caps TweakCapabilities): --cap-add ALL is
     * everything but what is dropped; --cap-drop ALL keeps only what is
     * added; otherwise drop from the defaults, then add. */
    if (add_all)
        set = all & ~drop;
    else
        set = ((drop_all ? 0 : set) & ~drop) | add;
    set &= all;
    ct->caps = (struct mct_caps){
        .bounding = set,
        .permitted = set,
        .effective = set,
        .inheritable = 0, /* CVE-2022-24769: never pre-fill it */
        .ambient = 0,
    };
    ct->caps_set = true;
    ct->no_new_privs = true;
    return 0;
    /* SOLUTION END */
}

int mct_caps_apply(struct minictr *ct)
{
    /* TODO 3: in the container's PID 1, the last step before "ready":
     * drop every capability not in ct->caps.bounding from the bounding set
     * (PR_CAPBSET_DROP, while CAP_SETPCAP is still effective), then set
     * permitted, effective and inheritable with libcap (cap_set_proc),
     * the ambient set (PR_CAP_AMBIENT), and no_new_privs. A process can
     * only lose capabilities: keep what is asked AND still held. */
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    /* stub: return MCT_TODO(3, "drop the capabilities"); */
    const struct mct_caps *want = &ct->caps;
    uint64_t have = 0;
    int last = cap_last(), r = 0;
    char name[40];
    cap_t caps;

    /* 1. The bounding set: the limit of what execve(2) can ever give
     * (capabilities(7), "Capability bounding set"). Dropping needs
     * CAP_SETPCAP in the effective set: first, while we have it. */
    for (int c = 0; c <= last; c++) {
        int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

        if (in <= 0 || (want->bounding >> c & 1))
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            return vl_err(errno, "prctl(PR_CAPBSET_DROP, %s)",
                          cap_label(c, name, sizeof(name)));
    }

    /* 2. Permitted, effective, inheritable in one capset(2) call. */
    if (!(caps = cap_get_proc()))
        return vl_err(errno, "cap_get_proc");
    for (int c = 0; c <= last; c++) {
        cap_flag_value_t v = CAP_CLEAR;

        if (cap_get_flag(caps, (cap_value_t)c, CAP_PERMITTED, &v) == 0 &&
            v == CAP_SET)
            have |= 1ull << c;
    }
    cap_clear(caps);
    for (int c = 0; c <= last; c++) {
        cap_value_t v[1] = {(cap_value_t)c};

        if (!(have >> c & 1))
            continue;
        if (want->permitted >> c & 1)
            cap_set_flag(caps, CAP_PERMITTED, 1, v, CAP_SET);
        if ((want->effective & want->permitted) >> c & 1)
            cap_set_flag(caps, CAP_EFFECTIVE, 1, v, CAP_SET);
        if ((want->inheritable & want->bounding) >> c & 1)
            cap_set_flag(caps, CAP_INHERITABLE, 1, v, CAP_SET);
    }
    if (cap_set_proc(caps) < 0)
        r = vl_err(errno, "cap_set_proc");
    cap_free(caps);
    if (r < 0)
        return r;

    /* 3. Ambient: kept across execve(2) by a non-root program; each one
     * must be permitted and inheritable (prctl(2), PR_CAP_AMBIENT). */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
        errno != EINVAL)
        return vl_err(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    for (int c = 0; c <= last; c++)
        if ((want->ambient & want->inheritable & have) >> c & 1 &&
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
            return vl_err(errno, "prctl(PR_CAP_AMBIENT_RAISE, %s)",
                          cap_label(c, name, sizeof(name)));

    /* 4. no_new_privs: from now on execve(2) never adds privileges (no
     * setuid, no file capabilities); inherited, never unset
     * (no_new_privs.rst). It also lets us load seccomp without
     * CAP_SYS_ADMIN. */
    if (ct->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return vl_err(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)action, (void)errno_ret, (void)where, (void)path; */
    /* stub: (void)act; */
    /* stub: return MCT_TODO(4, "a profile's action"); */
    const char *a = json_string_value(action);
    json_int_t ret = EPERM;

    if (!a)
        return vl_err_plain(EINVAL, "%s: %s: missing, or not a string", where,
                            path);
    if (errno_ret) {
        if (!json_is_integer(errno_ret) || json_integer_value(errno_ret) < 0 ||
            json_integer_value(errno_ret) > 4095)
            return vl_err_plain(EINVAL,
                                "%s: %s: errnoRet must be a number "
                                "from 0 to 4095",
                                where, path);
        ret = json_integer_value(errno_ret);
    }
    if (!strcmp(a, "SCMP_ACT_ALLOW"))
        *act = SCMP_ACT_ALLOW;
    else if (!strcmp(a, "SCMP_ACT_ERRNO"))
        *act = SCMP_ACT_ERRNO((uint16_t)ret);
    else if (!strcmp(a, "SCMP_ACT_KILL") || !strcmp(a, "SCMP_ACT_KILL_THREAD"))
        *act = SCMP_ACT_KILL_THREAD;
    else if (!strcmp(a, "SCMP_ACT_KILL_PROCESS"))
        *act = SCMP_ACT_KILL_PROCESS;
    else if (!strcmp(a, "SCMP_ACT_TRAP"))
        *act = SCMP_ACT_TRAP;
    else if (!strcmp(a, "SCMP_ACT_LOG"))
        *act = SCMP_ACT_LOG;
    else if (!strcmp(a, "SCMP_ACT_TRACE"))
        *act = SCMP_ACT_TRACE(errno_ret ? (uint16_t)ret : 0);
    else {
        vl_err_plain(EINVAL, "%s: %s: unknown action \"%s\"", where, path, a);
        vl_err_hint("SCMP_ACT_ALLOW, SCMP_ACT_ERRNO (with errnoRet), "
                    "SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, "
                    "SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG or "
                    "SCMP_ACT_TRACE (SCMP_ACT_NOTIFY needs a listener "
                    "minictr does not have)");
        return -EINVAL;
    }
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)args, (void)where, (void)path, (void)cmp; */
    /* stub: *n = 0, *or_rules = false; */
    /* stub: return MCT_TODO(5, "argument conditions"); */
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    unsigned seen = 0;
    size_t i;
    json_t *a;

    *n = 0;
    *or_rules = false;
    if (!args || json_is_null(args))
        return 0;
    if (!json_is_array(args))
        return vl_err_plain(EINVAL, "%s: %s: not an array", where, path);
    if (json_array_size(args) > 6)
        return vl_err_plain(EINVAL,
                            "%s: %s: %zu conditions; a system call has 6 "
                            "arguments",
                            where, path, json_array_size(args));
    json_array_foreach(args, i, a)
    {
        json_t *idx = json_object_get(a, "index");
        json_t *val = json_object_get(a, "value");
        json_t *two = json_object_get(a, "valueTwo");
        const char *op = json_string_value(json_object_get(a, "op"));
        size_t k = 0;

        if (!json_is_object(a))
            return vl_err_plain(EINVAL, "%s: %s[%zu]: not an object", where,
                                path, i);
        if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
            json_integer_value(idx) > 5)
            return vl_err_plain(EINVAL,
                                "%s: %s[%zu].index: must be a number "
                                "from 0 to 5",
                                where, path, i);
        if (!json_is_integer(val) || (two && !json_is_integer(two)))
            return vl_err_plain(
                EINVAL, "%s: %s[%zu].%s: must be a whole number", where, path,
                i, json_is_integer(val) ? "valueTwo" : "value");
        while (k < sizeof(ops) / sizeof(ops[0]) &&
               (!op || strcmp(op, ops[k].name)))
            k++;
        if (k == sizeof(ops) / sizeof(ops[0])) {
            vl_err_plain(EINVAL, "%s: %s[%zu].op: unknown operator \"%s\"",
                         where, path, i, op ? op : "(none)");
            vl_err_hint("SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT or _MASKED_EQ "
                        "(seccomp_rule_add(3))");
            return -EINVAL;
        }
        /* MASKED_EQ: (arg & value) == valueTwo - libseccomp's datum_a is
         * the mask, datum_b what the masked argument must equal. */
        cmp[*n] = (struct scmp_arg_cmp){
            .arg = (unsigned)json_integer_value(idx),
            .op = ops[k].op,
            .datum_a = (scmp_datum_t)json_integer_value(val),
            .datum_b = two ? (scmp_datum_t)json_integer_value(two) : 0,
        };
        if (seen >> cmp[*n].arg & 1)
            *or_rules = true;
        seen |= 1u << cmp[*n].arg;
        (*n)++;
    }
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)ct, (void)entry, (void)where, (void)path; */
    /* stub: (void)arches_have_native; */
    /* stub: *applies = true; */
    /* stub: return MCT_TODO(6, "includes and excludes"); */
    const char *keys[2] = {"includes", "excludes"};
    uint64_t have = ct->caps_set ? ct->caps.bounding : cap_all_mask();

    *applies = true;
    for (int k = 0; k < 2; k++) {
        json_t *sel = json_object_get(entry, keys[k]);
        json_t *caps = json_object_get(sel, "caps");
        json_t *arches = json_object_get(sel, "arches");
        bool include = k == 0;
        char what[256];
        size_t i;
        json_t *c;

        if (sel && !json_is_object(sel))
            return vl_err_plain(EINVAL, "%s: %s.%s: not an object", where, path,
                                keys[k]);
        json_array_foreach(caps, i, c)
        {
            const char *name = json_string_value(c);
            int cap, r;

            snprintf(what, sizeof(what), "%s: %s.%s.caps[%zu]", where, path,
                     keys[k], i);
            if (!name)
                return vl_err_plain(EINVAL, "%s: not a string", what);
            if ((r = cap_from_label(name, what, &cap)) < 0)
                return r;
            if (include != (bool)(have >> cap & 1))
                *applies = false;
        }
        if (json_array_size(arches) && include != arches_have_native(arches))
            *applies = false;
    }
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)ct, (void)ctx, (void)entry, (void)def, (void)where; */
    /* stub: (void)i, (void)skipped, (void)add_arches; */
    /* stub: (void)action_from_json, (void)args_from_json; */
    /* stub: (void)entry_applies; */
    /* stub: return MCT_TODO(7, "a syscalls[] entry"); */
    json_t *names = json_object_get(entry, "names"), *nm;
    struct scmp_arg_cmp cmp[6];
    char path[64], sub[80];
    unsigned ncmp;
    bool applies, or_rules;
    uint32_t act;
    size_t j;
    int r;

    snprintf(path, sizeof(path), "syscalls[%zu]", i);
    if (!json_is_object(entry))
        return vl_err_plain(EINVAL, "%s: %s: not an object", where, path);
    if ((r = entry_applies(ct, entry, where, path, &applies)) < 0)
        return r;
    if (!applies)
        return 0;
    snprintf(sub, sizeof(sub), "%s.action", path);
    if ((r = action_from_json(json_object_get(entry, "action"),
                              json_object_get(entry, "errnoRet"), where, sub,
                              &act)) < 0)
        return r;
    snprintf(sub, sizeof(sub), "%s.args", path);
    if ((r = args_from_json(json_object_get(entry, "args"), where, sub, cmp,
                            &ncmp, &or_rules)) < 0)
        return r;
    if (!names && json_is_string(json_object_get(entry, "name")))
        names = json_pack("[O]", json_object_get(entry, "name"));
    else
        json_incref(names);
    if (!json_is_array(names)) {
        json_decref(names);
        return vl_err_plain(EINVAL, "%s: %s.names: missing, or not an array",
                            where, path);
    }
    /* libseccomp refuses a rule that only repeats the default action:
     * there is nothing to add. */
    if (act == def)
        goto out;
    json_array_foreach(names, j, nm)
    {
        const char *name = json_string_value(nm);
        int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;

        if (!name) {
            r = vl_err_plain(EINVAL, "%s: %s.names[%zu]: not a string", where,
                             path, j);
            break;
        }
        /* A name this kernel or libseccomp does not know: skipped, as
         * Docker does, so that one profile serves many kernels. */
        if (nr == __NR_SCMP_ERROR) {
            (*skipped)++;
            continue;
        }
        if (or_rules) {
            for (unsigned k = 0; k < ncmp && r >= 0; k++)
                r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[k]);
        } else {
            r = seccomp_rule_add_array(ctx, act, nr, ncmp, cmp);
        }
        if (r < 0) {
            r = vl_err(-r, "%s: %s: a rule for %s", where, path, name);
            break;
        }
    }
out:
    json_decref(names);
    return r < 0 ? r : 0;
    /* SOLUTION END */
}

int mct_seccomp_build(struct minictr *ct, const json_t *profile,
                      const char *where)
{
    /* TODO 7: a filter from a profile: seccomp_init(defaultAction with
     * defaultErrnoRet), no_new_privs left to TODO 3 (SCMP_FLTATR_CTL_NNP
     * 0), "optimize": 2 -> the binary tree (SCMP_FLTATR_CTL_OPTIMIZE), the
     * arches (add_arches), then every entry of "syscalls" (add_entry:
     * write it too). On success ct->seccomp is the new filter. */
    /* SOLUTION BEGIN */
    /* stub: (void)ct, (void)profile, (void)where, (void)add_entry; */
    /* stub: return MCT_TODO(7, "build the seccomp filter"); */
    json_t *syscalls = json_object_get(profile, "syscalls");
    json_t *opt = json_object_get(profile, "optimize");
    unsigned skipped = 0;
    scmp_filter_ctx ctx;
    uint32_t def;
    size_t i;
    json_t *e;
    int r;

    if (!json_is_object(profile))
        return vl_err_plain(EINVAL, "%s: the profile is not a JSON object",
                            where);
    if ((r = action_from_json(json_object_get(profile, "defaultAction"),
                              json_object_get(profile, "defaultErrnoRet"),
                              where, "defaultAction", &def)) < 0)
        return r;
    if (syscalls && !json_is_array(syscalls))
        return vl_err_plain(EINVAL, "%s: syscalls: not an array", where);
    if (opt && (!json_is_integer(opt) || json_integer_value(opt) < 0 ||
                json_integer_value(opt) > 2))
        return vl_err_plain(EINVAL,
                            "%s: optimize: 1 (a list of syscalls, as "
                            "written) or 2 (a binary tree)",
                            where);
    if (!(ctx = seccomp_init(def)))
        return vl_err_plain(EINVAL, "%s: seccomp_init failed", where);
    /* TODO 3 sets no_new_privs; libseccomp would set it too otherwise. */
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r == 0 && opt && json_integer_value(opt) > 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE,
                             (uint32_t)json_integer_value(opt));
    if (r < 0)
        r = vl_err(-r, "%s: seccomp_attr_set", where);
    if (r == 0)
        r = add_arches(ctx, profile, where);
    json_array_foreach(syscalls, i, e)
    {
        if (r < 0)
            break;
        r = add_entry(ct, ctx, e, def, where, i, &skipped);
    }
    if (r < 0) {
        seccomp_release(ctx);
        return r;
    }
    if (skipped)
        mct_say(ct, "seccomp: %u system call names unknown here, skipped",
                skipped);
    mct_seccomp_release(ct);
    ct->seccomp = ctx;
    return 0;
    /* SOLUTION END */
}

int mct_seccomp_prepare(struct minictr *ct)
{
    /* TODO 8: --seccomp unconfined: no filter; --seccomp FILE, or the
     * default profile (mct_seccomp_default_profile()): read it with jansson
     * (json_load_file; a syntax error names file:line:column) and build
     * the filter from it (TODO 7). */
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    /* stub: return MCT_TODO(8, "read the seccomp profile"); */
    char buf[PATH_MAX];
    const char *path = ct->opt.seccomp;
    json_error_t jerr;
    json_t *profile;
    int r;

    if (path && !strcmp(path, "unconfined")) {
        mct_seccomp_release(ct);
        return 0;
    }
    if (!path)
        path = mct_seccomp_default_profile(buf, sizeof(buf));
    profile = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!profile) {
        if (jerr.line < 1)
            vl_err_plain(EINVAL, "seccomp profile %s: %s", path, jerr.text);
        else
            vl_err_plain(EINVAL, "seccomp profile %s:%d:%d: %s", path,
                         jerr.line, jerr.column, jerr.text);
        if (!ct->opt.seccomp)
            vl_err_hint("the default profile is $%s, else "
                        "labs/minictr/seccomp/default.json of the course "
                        "tree minictr was built in, else "
                        "PREFIX/share/virtlab/seccomp/default.json of an "
                        "installed minictr",
                        MCT_SECCOMP_ENV);
        return -EINVAL;
    }
    r = mct_seccomp_build(ct, profile, path);
    json_decref(profile);
    return r;
    /* SOLUTION END */
}

int mct_seccomp_apply(struct minictr *ct)
{
    /* TODO 8 too: in the command's process, just before execve(2): load
     * the filter into the kernel (seccomp_load(3)). */
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    /* stub: return MCT_TODO(8, "load the seccomp filter"); */
    int r = seccomp_load(ct->seccomp);

    if (r < 0) {
        r = vl_err(-r, "seccomp_load");
        if (r == -EACCES)
            vl_err_hint("loading a filter needs no_new_privs (TODO 3) or "
                        "CAP_SYS_ADMIN (seccomp(2), EACCES)");
    }
    return r;
    /* SOLUTION END */
}
