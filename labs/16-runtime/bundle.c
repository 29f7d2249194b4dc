/*
 * bundle.c - minictr stage 16: an OCI bundle.
 *
 * Labs 09-15 took their orders from minictr's command line. A real
 * container runtime (runc, crun, youki) takes them from a BUNDLE: a
 * directory holding the container's root filesystem and a config.json
 * that says everything else - the command and its environment, the user,
 * the capabilities, the namespaces, the mounts, the id maps, the limits,
 * the seccomp profile. Docker, Podman, containerd and Kubernetes all write
 * such a bundle and hand it to the runtime; that is the whole interface.
 * In this lab you read config.json into the same struct minictr that labs
 * 09-15 fill from the command line, so that their code runs the bundle,
 * and you write the one piece that is new: the config's own mounts.
 *
 * The driver (labs/minictr/bundle_drv.c) reads the file with jansson and
 * runs what you parsed: it clones into the namespaces you chose and joins
 * the ones you listed by path, and in the container it calls your
 * mct_bundle_mount(), applies maskedPaths/readonlyPaths, and sets the
 * environment, the directory, the user and the capabilities of the
 * command. Every error names the field of config.json it is about, as a
 * path: "linux.namespaces[2].type: ...".
 *
 * References: the OCI runtime specification (github.com/opencontainers/
 * runtime-spec): bundle.md, config.md, config-linux.md, runtime.md;
 * jansson's API reference (jansson.readthedocs.io); mount(2), mount(8)
 * ("FILESYSTEM-INDEPENDENT MOUNT OPTIONS"), mount_namespaces(7),
 * namespaces(7), user_namespaces(7), openat2(2), capabilities(7),
 * getrlimit(2). labs/16-runtime/README.md walks through the steps.
 */
#define MCT_LAB        "16-runtime"
#define MCT_STAGE_FILE "bundle.c"
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/cleanup.h"
#include "virtlab/mount.h"

/* ---- helpers (given) ------------------------------------------------------
 */

/* An error about field `path` of config.json: EINVAL, "PATH: what is
 * wrong" (minictr's command line puts the file's name before it). */
__attribute__((format(printf, 2, 3))) static int bad(const char *path,
                                                     const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return vl_err_plain(EINVAL, "%s: %s", path, what);
}

/* The name of a JSON value's type, for "is a string, expected ...". */
static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* buf = "parent.key" (or "key" when parent is ""). */
static const char *field(char *buf, size_t size, const char *parent,
                         const char *key)
{
    int n = snprintf(buf, size, "%s%s%s", parent, *parent ? "." : "", key);

    if (n < 0 || (size_t)n >= size) /* cut short: still a useful name */
        buf[size - 1] = '\0';
    return buf;
}

/* buf = "parent[i]". */
static const char *item(char *buf, size_t size, const char *parent, size_t i)
{
    int n = snprintf(buf, size, "%s[%zu]", parent, i);

    if (n < 0 || (size_t)n >= size)
        buf[size - 1] = '\0';
    return buf;
}

/*
 * obj[key] of the JSON type `type` (JSON_TRUE stands for a boolean), or
 * *out = NULL when it is absent or null; EINVAL naming parent.key when it
 * has another type, or when it is required and absent.
 */
static int get(const json_t *obj, const char *parent, const char *key,
               json_type type, bool required, json_t **out)
{
    static const char *const want[] = {
        [JSON_OBJECT] = "an object",    [JSON_ARRAY] = "an array",
        [JSON_STRING] = "a string",     [JSON_INTEGER] = "an integer",
        [JSON_REAL] = "a number",       [JSON_TRUE] = "true or false",
        [JSON_FALSE] = "true or false", [JSON_NULL] = "null",
    };
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    char p[256];

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return bad(field(p, sizeof(p), parent, key),
                       "missing; it is required (%s)", want[type]);
        return 0;
    }
    if (type == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != type)
        return bad(field(p, sizeof(p), parent, key), "is %s, expected %s",
                   type_name(v), want[type]);
    *out = v;
    return 0;
}

/* A whole number 0..max at `path` (an integer in JSON). */
static int number(const json_t *v, const char *path, uint64_t max,
                  uint64_t *out)
{
    json_int_t n;

    if (!json_is_integer(v))
        return bad(path, "is %s, expected a whole number", type_name(v));
    n = json_integer_value(v);
    if (n < 0 || (uint64_t)n > max)
        return bad(path, "%lld is out of range 0..%llu", (long long)n,
                   (unsigned long long)max);
    *out = (uint64_t)n;
    return 0;
}

/* An array of strings at `path` -> a NULL-terminated array of pointers
 * into the JSON (which lives as long as ct->bundle.config); malloc'd. */
static int strings(const json_t *arr, const char *path, char ***out)
{
    size_t n = json_array_size(arr);
    char **v = calloc(n + 1, sizeof(*v));
    char p[256];

    if (!v)
        return vl_err(ENOMEM, "%s", path);
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(arr, i);

        if (!json_is_string(s)) {
            free(v);
            return bad(item(p, sizeof(p), path, i), "is %s, expected a string",
                       type_name(s));
        }
        v[i] = (char *)json_string_value(s);
    }
    *out = v;
    return 0;
}

/*
 * Fields of the spec that minictr does not implement. The spec says a
 * runtime MUST ignore properties it does not know (config.md,
 * "Extensibility") - but these it knows, and each one restricts or
 * changes the container: running it without would be a lie (a limit that
 * does not hold, a hook that never runs), so a non-empty one is an error.
 * Absent, null, {} and [] are fine.
 */
static const char *const unsupported[] = {
    "hooks",
    "linux.devices",
    "linux.sysctl",
    "linux.intelRdt",
    "linux.personality",
    "linux.resources.blockIO",
    "linux.resources.hugepageLimits",
    "linux.resources.network",
    "linux.resources.rdma",
    "linux.resources.unified",
    "process.apparmorProfile",
    "process.selinuxLabel",
    "process.ioPriority",
    "process.scheduler",
    "process.execCPUAffinity",
    NULL,
};

static int refuse_unsupported(const json_t *config)
{
    for (const char *const *f = unsupported; *f; f++) {
        char key[128];
        const json_t *v = config;

        snprintf(key, sizeof(key), "%s", *f);
        for (char *save = NULL, *k = strtok_r(key, ".", &save); k && v;
             k = strtok_r(NULL, ".", &save))
            v = json_is_object(v) ? json_object_get(v, k) : NULL;
        if (!v || json_is_null(v) ||
            (json_is_object(v) && !json_object_size(v)) ||
            (json_is_array(v) && !json_array_size(v)) ||
            (json_is_string(v) && !*json_string_value(v)))
            continue;
        return bad(*f, "minictr does not implement it (remove it, or use runc "
                       "or crun for this bundle)");
    }
    return 0;
}

/* ociVersion: the versions of the spec this loader follows. */
static int check_version(const json_t *config)
{
    json_t *v;
    unsigned major, minor;
    int r;

    if ((r = get(config, "", "ociVersion", JSON_STRING, true, &v)) < 0)
        return r;
    if (sscanf(json_string_value(v), "%u.%u", &major, &minor) != 2 ||
        major != 1 || minor > 2)
        return bad("ociVersion",
                   "\"%s\" is not a version minictr reads; expected 1.0.x, "
                   "1.1.x or 1.2.x",
                   json_string_value(v));
    return 0;
}

/* process.capabilities -> ct->caps (lab 13's five sets), ct->caps_set. */
static int parse_capabilities(struct minictr *ct, const json_t *caps)
{
    static const char *const sets[] = {"bounding", "effective", "inheritable",
                                       "permitted", "ambient"};
    uint64_t *mask[] = {&ct->caps.bounding, &ct->caps.effective,
                        &ct->caps.inheritable, &ct->caps.permitted,
                        &ct->caps.ambient};
    char p[256], pi[256];
    int r;

    ct->caps = (struct mct_caps){0};
    ct->caps_set = true;
    for (size_t s = 0; s < 5; s++) {
        json_t *arr;

        field(p, sizeof(p), "process.capabilities", sets[s]);
        if ((r = get(caps, "process.capabilities", sets[s], JSON_ARRAY, false,
                     &arr)) < 0)
            return r;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *name = json_array_get(arr, i);
            cap_value_t cap;

            item(pi, sizeof(pi), p, i);
            if (!json_is_string(name))
                return bad(pi, "is %s, expected a name like \"CAP_KILL\"",
                           type_name(name));
            if (strncasecmp(json_string_value(name), "CAP_", 4) ||
                cap_from_name(json_string_value(name), &cap) < 0 || cap > 63)
                return bad(pi,
                           "\"%s\" is not a capability (capabilities(7): "
                           "CAP_CHOWN, CAP_KILL, ...)",
                           json_string_value(name));
            *mask[s] |= 1ULL << cap;
        }
    }
    return 0;
}

/* process.rlimits: [{"type": "RLIMIT_NOFILE", "soft": N, "hard": N}]. */
static int parse_rlimits(struct minictr *ct, const json_t *arr)
{
    static const struct {
        const char *name;
        int resource;
    } names[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    struct mct_bundle *b = &ct->bundle;
    size_t n = json_array_size(arr);
    char p[256];
    int r;

    if (!n)
        return 0;
    if (!(b->rlimits = calloc(n, sizeof(*b->rlimits))))
        return vl_err(ENOMEM, "process.rlimits");
    for (size_t i = 0; i < n; i++) {
        const json_t *rl = json_array_get(arr, i);
        struct mct_rlimit *out = &b->rlimits[i];
        json_t *type, *soft, *hard;
        size_t k;

        item(p, sizeof(p), "process.rlimits", i);
        if (!json_is_object(rl))
            return bad(p, "is %s, expected an object", type_name(rl));
        if ((r = get(rl, p, "type", JSON_STRING, true, &type)) < 0 ||
            (r = get(rl, p, "soft", JSON_INTEGER, true, &soft)) < 0 ||
            (r = get(rl, p, "hard", JSON_INTEGER, true, &hard)) < 0)
            return r;
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (!strcmp(json_string_value(type), names[k].name))
                break;
        if (k == sizeof(names) / sizeof(names[0]))
            return bad(p,
                       "type \"%s\" is not a resource of getrlimit(2) "
                       "(RLIMIT_NOFILE, RLIMIT_NPROC, ...)",
                       json_string_value(type));
        out->resource = names[k].resource;
        if ((r = number(soft, p, UINT64_MAX >> 1, &out->soft)) < 0 ||
            (r = number(hard, p, UINT64_MAX >> 1, &out->hard)) < 0)
            return r;
        if (out->soft > out->hard)
            return bad(p, "soft %llu is above hard %llu",
                       (unsigned long long)out->soft,
                       (unsigned long long)out->hard);
        b->nrlimits++;
    }
    return 0;
}

/* An absolute path inside the container (no "..": the runtime resolves it
 * in the rootfs, and ".." is what an attacker's config would use). */
static int container_path(const char *path, const char *where)
{
    if (path[0] != '/')
        return bad(where, "\"%s\" is not an absolute path", path);
    for (const char *s = path; (s = strstr(s, "..")); s += 2)
        if (s[-1] == '/' && (s[2] == '/' || !s[2]))
            return bad(where, "\"%s\" has a \"..\" component", path);
    return 0;
}

/* ---- TODO 1: process ------------------------------------------------------
 */

/*
 * TODO 1: the process (config.md, "Process"): what runs, as whom, where.
 * `proc` is config.json's "process" object. Use get() for every field: it
 * checks the type and names the field in its error.
 *  - "args" (required, an array of at least one string): strings() into
 *    ct->bundle.argv; ct->opt.argv = ct->bundle.argv (the driver execs
 *    ct->opt.argv, as for `minictr run`). An empty array: bad("process.args",
 *    "is empty; ...").
 *  - "env" (optional, strings): strings() into ct->bundle.env; each one
 *    must be "NAME=value" with a non-empty NAME (bad("process.env[3]", ...)
 *    otherwise).
 *  - "cwd" (required, a string): an absolute path, container_path(); into
 *    ct->bundle.cwd.
 *  - "user" (required object): "uid", "gid" (required integers, number()
 *    with max UINT32_MAX - 1) into ct->bundle.uid / .gid;
 *    "additionalGids" (optional array of integers) into
 *    ct->bundle.groups (malloc'd), ct->bundle.ngroups.
 * (The given code after your part reads terminal, capabilities,
 * noNewPrivileges and rlimits.)
 */
static int parse_process_core(struct minictr *ct, const json_t *proc)
{
    (void)ct;
    (void)proc;
    return MCT_TODO(1, "read process: args, env, cwd, user");
}

/* The rest of "process" (given): terminal, capabilities, noNewPrivileges,
 * rlimits. */
static int parse_process(struct minictr *ct, const json_t *config)
{
    json_t *proc, *term, *caps, *nnp, *rlimits;
    int r;

    if ((r = get(config, "", "process", JSON_OBJECT, true, &proc)) < 0 ||
        (r = parse_process_core(ct, proc)) < 0)
        return r;
    if ((r = get(proc, "process", "terminal", JSON_TRUE, false, &term)) < 0 ||
        (r = get(proc, "process", "capabilities", JSON_OBJECT, false, &caps)) <
            0 ||
        (r = get(proc, "process", "noNewPrivileges", JSON_TRUE, false, &nnp)) <
            0 ||
        (r = get(proc, "process", "rlimits", JSON_ARRAY, false, &rlimits)) < 0)
        return r;
    /* A terminal is a pseudo-terminal the runtime creates and hands to the
     * caller through --console-socket (runtime.md; runc's docs/terminals.md).
     * minictr does not: the process keeps minictr's stdin/stdout/stderr. */
    ct->bundle.terminal = json_is_true(term);
    ct->no_new_privs = json_is_true(nnp);
    if (caps && (r = parse_capabilities(ct, caps)) < 0)
        return r;
    return parse_rlimits(ct, rlimits);
}

/* ---- TODO 2: root and hostname --------------------------------------------
 */

/*
 * TODO 2: the root filesystem (config.md, "Root") and the hostname.
 *  - "root" (required object), "root.path" (required string): a path
 *    RELATIVE TO THE BUNDLE directory ct->bundle.dir unless it is
 *    absolute ("rootfs" is ct->bundle.dir + "/rootfs", whatever minictr's
 *    current directory is). Resolve it with realpath(3) (a malloc'd
 *    absolute path with no symlinks left) into ct->bundle.rootfs and point
 *    ct->opt.rootfs at it; realpath fails: bad("root.path", ...) naming the
 *    path and strerror(errno); not a directory (stat(2), S_ISDIR): an
 *    error too.
 *  - "root.readonly" (optional boolean) -> ct->opt.readonly (lab 10 TODO 7
 *    does the rest).
 *  - "hostname" (optional string) -> ct->opt.hostname; absent: NULL (the
 *    container keeps the name it inherits). The UTS namespace check comes
 *    later, in mct_bundle_load().
 */
static int parse_root(struct minictr *ct, const json_t *config)
{
    (void)ct;
    (void)config;
    return MCT_TODO(2, "root.path (bundle-relative), hostname");
}

/* ---- TODO 3: namespaces ---------------------------------------------------
 */

/* The namespace types of config-linux.md and their clone(2) flags. */
static const struct {
    const char *type;
    uint64_t flag;
} ns_types[] = {
    {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET},
    {"mount", CLONE_NEWNS},      {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},       {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP},
};
#define NS_TYPES (sizeof(ns_types) / sizeof(ns_types[0]))

/*
 * TODO 3: linux.namespaces (config-linux.md, "Namespaces"): an array of
 * {"type": T, "path": P}. Each entry without a path is a NEW namespace of
 * that type: its flag goes into ct->bundle.clone_flags. An entry with a
 * path JOINS the namespace at that path (a /proc/PID/ns/net, or a file a
 * namespace was bind-mounted on: `ip netns add` makes those): append
 * {flag, path} to ct->bundle.joins (malloc'd, ct->bundle.njoins entries);
 * the driver setns(2)s into it. A type that is not listed at all is
 * SHARED with minictr (the host).
 * Errors, with the entry's path ("linux.namespaces[2].type"):
 *  - a type not in ns_types: "\"netns\" is not a namespace type; one of
 *    pid, network, mount, ipc, uts, user, cgroup";
 *  - a type listed twice;
 *  - a path that is not absolute.
 * Then ct->userns = a new user namespace is asked; ct->opt.host_net = no
 * new network namespace (then the driver leaves the network alone: lab 09
 * only brings up lo in a network namespace of its own).
 * (mct_bundle_load() checks what minictr cannot do after you: joining a
 * mount or user namespace, or running without a new mount namespace.)
 */
static int parse_namespaces(struct minictr *ct, const json_t *list)
{
    (void)ct;
    (void)list;
    (void)ns_types;
    return MCT_TODO(3, "namespaces: create or join");
}

/* ---- TODO 4: mount options ------------------------------------------------
 */

/* The words of mount(8) ("FILESYSTEM-INDEPENDENT MOUNT OPTIONS") that are
 * mount(2) flags: `clear` ones switch the flag off ("rw", "suid", ...). */
static const struct {
    const char *word;
    bool clear;
    unsigned long flag;
} mount_flags[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

/* The propagation words (mount_namespaces(7), "Shared subtrees"): applied
 * by a mount(2) call of their own after the mount. */
static const struct {
    const char *word;
    unsigned long flag;
} propagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/*
 * TODO 4: a mount's "options" (config.md, "Mounts"): each word is one of
 *  - a flag word of mount_flags: OR its flag into m->flags, or clear it
 *    (&= ~flag) for the `clear` ones ("rw" after "ro" wins: later words
 *    override earlier ones, as in mount(8));
 *  - a propagation word: OR its flag into m->propagation;
 *  - anything else ("mode=755", "size=65536k", "newinstance") is for the
 *    filesystem itself: append it to the data string m->data, separated
 *    by commas ("mode=755,size=65536k"; malloc'd; NULL when there is none).
 * `opts` is the "options" array (may be NULL: no options); `path` names it
 * in errors ("mounts[3].options"): an option that is not a string is one.
 */
static int mount_options(struct mct_mount *m, const json_t *opts,
                         const char *path)
{
    (void)m;
    (void)opts;
    (void)path;
    (void)mount_flags;
    (void)propagation;
    return MCT_TODO(4, "mount options -> flags and data");
}

/* mounts[] (given): destination, type, source, then TODO 4's options. */
static int parse_mounts(struct minictr *ct, const json_t *list)
{
    struct mct_bundle *b = &ct->bundle;
    char p[256], f[256];
    int r;

    if (!json_array_size(list))
        return 0;
    if (!(b->mounts = calloc(json_array_size(list), sizeof(*b->mounts))))
        return vl_err(ENOMEM, "mounts");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *mj = json_array_get(list, i);
        struct mct_mount *m = &b->mounts[i];
        json_t *dest, *type, *source, *opts;

        b->nmounts++;
        item(p, sizeof(p), "mounts", i);
        if (!json_is_object(mj))
            return bad(p, "is %s, expected {\"destination\": ...}",
                       type_name(mj));
        if ((r = get(mj, p, "destination", JSON_STRING, true, &dest)) < 0 ||
            (r = get(mj, p, "type", JSON_STRING, false, &type)) < 0 ||
            (r = get(mj, p, "source", JSON_STRING, false, &source)) < 0 ||
            (r = get(mj, p, "options", JSON_ARRAY, false, &opts)) < 0)
            return r;
        m->destination = (char *)json_string_value(dest);
        m->type = type ? (char *)json_string_value(type) : NULL;
        m->source = source ? (char *)json_string_value(source) : NULL;
        if ((r = container_path(m->destination,
                                field(f, sizeof(f), p, "destination"))) < 0)
            return r;
        if ((r = mount_options(m, opts, field(f, sizeof(f), p, "options"))) < 0)
            return r;
        if (!(m->flags & MS_BIND) && type && !strcmp(m->type, "bind"))
            m->flags |= MS_BIND; /* "type": "bind" and no "bind" option */
        if (m->flags & MS_BIND) {
            if (!m->source)
                return bad(field(f, sizeof(f), p, "source"),
                           "missing; a bind mount needs the path to bind");
        } else if (!m->type) {
            return bad(field(f, sizeof(f), p, "type"),
                       "missing; expected a filesystem type (\"tmpfs\", "
                       "\"proc\", ...), or the option \"bind\"");
        }
        if (!strcmp(m->destination, "/dev"))
            b->mounts_dev = true;
    }
    return 0;
}

/* ---- TODO 5: id mappings --------------------------------------------------
 */

/*
 * TODO 5: linux.uidMappings and linux.gidMappings (config-linux.md, "User
 * namespace mappings"): arrays of {"containerID": C, "hostID": H, "size":
 * N} - ids C..C+N-1 in the container are H..H+N-1 on the host, exactly
 * the lines of /proc/PID/uid_map (user_namespaces(7)) that lab 11 writes.
 * Fill ct->uid_map / ct->gid_map (struct vl_id_map {inside, outside,
 * count}) and ct->nuid_map / ct->ngid_map. `arr` is the array, `path` its
 * name ("linux.uidMappings") for errors; `gid` says which one.
 * Errors: more than MCT_MAX_ID_MAPS entries; a field missing or not a
 * whole number (number(), max UINT32_MAX - 1); a size of 0.
 */
static int parse_id_mappings(struct minictr *ct, const json_t *arr,
                             const char *path, bool gid)
{
    (void)ct;
    (void)arr;
    (void)path;
    (void)gid;
    return MCT_TODO(5, "uidMappings/gidMappings -> maps");
}

/* ---- TODO 6: resources ----------------------------------------------------
 */

/*
 * TODO 6: linux.resources (config-linux.md, "Control groups") -> ct->limits,
 * the struct lab 12 fills from --memory, --pids, --cpus (then lab 12's
 * cgroup code applies it as it is):
 *  - "memory": {"limit": BYTES} -> memory_bytes; -1 means no limit (0);
 *    otherwise at least 4 MiB (like lab 12: less and the container cannot
 *    even start);
 *  - "pids": {"limit": N} -> pids; -1 or 0: no limit;
 *  - "cpu": {"quota": US, "period": US} -> cpu_quota_us, cpu_period_us; a
 *    quota of -1 or none: no limit; the period defaults to
 *    MCT_CPU_PERIOD_US; quota at least 1000, period 1000..1000000
 *    (sched-bwc.rst).
 * Errors name the field: "linux.resources.memory.limit: ...". Other keys
 * of memory/cpu/pids ("swap", "shares", "cpus") that are set: an error,
 * "minictr only sets ..." (a limit that silently does not hold is worse
 * than an error).
 */
static int parse_resources(struct minictr *ct, const json_t *res)
{
    (void)ct;
    (void)res;
    return MCT_TODO(6, "linux.resources -> ct->limits");
}

/* ---- TODO 7: the bundle's mounts, in the container ------------------------
 */

/*
 * TODO 7 (in the container's PID 1, after lab 10 has bound the rootfs
 * onto itself, before pivot_root): mount each of ct->bundle.mounts, in
 * order (a later one may go inside an earlier one: /dev, then /dev/pts).
 * mct_bundle_mount_point(ct, m, target, sizeof(target)) (driver) finds -
 * and creates when missing - the mount point INSIDE the rootfs, symlinks
 * resolved as if the rootfs were "/" (openat2(2), RESOLVE_IN_ROOT: a
 * rootfs with a symlink /dev -> /etc must not get its tmpfs on the HOST's
 * /etc), and writes its path to target.
 *  - a bind mount (MS_BIND in m->flags): vl_mount(m->source, target,
 *    NULL, MS_BIND | (m->flags & MS_REC), NULL); the source is relative
 *    to the bundle unless absolute (mct_bundle_source()). The other flags
 *    ("ro", "nosuid", ...) are IGNORED by a bind (mount(2), "Creating a
 *    bind mount"): when there are any, remount the bind with them:
 *    MS_REMOUNT | MS_BIND | flags | vl_mount_kept_flags(target).
 *  - anything else: vl_mount(m->source or m->type, target, type, m->flags,
 *    m->data); mct_bundle_fstype(m) gives the type to mount ("cgroup" is
 *    the v2 hierarchy, "cgroup2", on every machine).
 *  - then, when m->propagation is set: vl_mount(NULL, target, NULL,
 *    m->propagation, NULL).
 * Errors: vl_err_ctx(r, "mounts[%zu] (%s on %s)", i, type, destination).
 */
int mct_bundle_mount(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(7, "mount the config's mounts");
}

/* ---- mct_bundle_load (given) ----------------------------------------------
 */

/* What minictr cannot do with the namespaces TODO 3 read. */
static int check_namespaces(const struct minictr *ct)
{
    const struct mct_bundle *b = &ct->bundle;

    for (size_t i = 0; i < b->njoins; i++)
        if (b->joins[i].flag & (CLONE_NEWNS | CLONE_NEWUSER))
            return bad("linux.namespaces",
                       "joining a %s namespace (\"path\": \"%s\") is not "
                       "something minictr does (runc does it in a C "
                       "constructor before the Go runtime starts threads: "
                       "setns(2) refuses a user namespace to a threaded "
                       "process); create a new one (no \"path\")",
                       b->joins[i].flag & CLONE_NEWNS ? "mount" : "user",
                       b->joins[i].path);
    if (!(b->clone_flags & CLONE_NEWNS))
        return bad("linux.namespaces",
                   "has no new mount namespace ({\"type\": \"mount\"}); "
                   "minictr builds the container's root in one, and will "
                   "not change the host's mounts");
    if (ct->opt.hostname && !(b->clone_flags & CLONE_NEWUTS))
        return bad("hostname",
                   "is set, but the container has no UTS namespace of its "
                   "own (add {\"type\": \"uts\"} to linux.namespaces): the "
                   "host's name would change (config.md, \"Hostname\")");
    return 0;
}

/* linux.uidMappings/gidMappings (TODO 5) and the user namespace (TODO 3)
 * go together. */
static int check_userns(const struct minictr *ct)
{
    bool maps = ct->nuid_map || ct->ngid_map;
    bool zero = false;

    if (ct->userns && (!ct->nuid_map || !ct->ngid_map))
        return bad("linux.uidMappings",
                   "a new user namespace needs both linux.uidMappings and "
                   "linux.gidMappings");
    if (!ct->userns && maps)
        return bad("linux.uidMappings",
                   "id mappings without a new user namespace: add "
                   "{\"type\": \"user\"} to linux.namespaces");
    for (size_t i = 0; i < ct->nuid_map; i++)
        zero |= ct->uid_map[i].inside == 0;
    if (ct->userns && !zero)
        return bad("linux.uidMappings",
                   "maps no containerID 0: minictr's init runs as root of "
                   "the user namespace");
    return 0;
}

/*
 * A "cgroup" mount without a cgroup namespace of its own shows the whole
 * v2 hierarchy, exactly what the host's cgroup2 mount shows: bind that one
 * (then remounted with the mount's options, "ro" in runc's spec) instead
 * of mounting cgroup2 again. Same view, but a new cgroup2 mount costs
 * 9-15 ms on this machine's kernel, a bind a few microseconds. No cgroup2
 * mounted on the host (a pure v1 machine): the type stays "cgroup".
 */
static void bind_host_cgroup2(struct minictr *ct)
{
    struct mct_bundle *b = &ct->bundle;

    if (b->clone_flags & CLONE_NEWCGROUP)
        return;
    for (size_t i = 0; i < b->nmounts; i++) {
        struct mct_mount *m = &b->mounts[i];

        if ((m->flags & MS_BIND) || !m->type || strcmp(m->type, "cgroup"))
            continue;
        if (!ct->cginfo.v2_mount[0] && vl_cgroup_detect(&ct->cginfo) < 0) {
            vl_err_clear();
            return;
        }
        if (!ct->cginfo.v2_mount[0])
            return;
        m->source = ct->cginfo.v2_mount;
        m->flags |= MS_BIND;
    }
}

int mct_bundle_load(struct minictr *ct, const char *dir)
{
    json_t *config, *linux_, *v;
    int r;

    if ((r = mct_bundle_read(ct, dir)) < 0)
        return r;
    config = ct->bundle.config;
    ct->opt.bundle = ct->bundle.dir;
    if ((r = check_version(config)) < 0 || (r = refuse_unsupported(config)) < 0)
        return r;
    if ((r = parse_process(ct, config)) < 0 || (r = parse_root(ct, config)) < 0)
        return r;
    if ((r = get(config, "", "mounts", JSON_ARRAY, false, &v)) < 0 ||
        (r = parse_mounts(ct, v)) < 0)
        return r;
    if ((r = get(config, "", "linux", JSON_OBJECT, true, &linux_)) < 0)
        return r;
    if ((r = get(linux_, "linux", "namespaces", JSON_ARRAY, true, &v)) < 0 ||
        (r = parse_namespaces(ct, v)) < 0 || (r = check_namespaces(ct)) < 0)
        return r;
    bind_host_cgroup2(ct);
    if ((r = get(linux_, "linux", "uidMappings", JSON_ARRAY, false, &v)) < 0 ||
        (r = parse_id_mappings(ct, v, "linux.uidMappings", false)) < 0 ||
        (r = get(linux_, "linux", "gidMappings", JSON_ARRAY, false, &v)) < 0 ||
        (r = parse_id_mappings(ct, v, "linux.gidMappings", true)) < 0 ||
        (r = check_userns(ct)) < 0)
        return r;
    if ((r = get(linux_, "linux", "resources", JSON_OBJECT, false, &v)) < 0 ||
        (r = parse_resources(ct, v)) < 0)
        return r;
    if ((r = get(linux_, "linux", "maskedPaths", JSON_ARRAY, false, &v)) < 0 ||
        (v && (r = strings(v, "linux.maskedPaths", &ct->bundle.masked)) < 0) ||
        (r = get(linux_, "linux", "readonlyPaths", JSON_ARRAY, false, &v)) <
            0 ||
        (v &&
         (r = strings(v, "linux.readonlyPaths", &ct->bundle.readonly)) < 0))
        return r;
    if ((r = get(linux_, "linux", "seccomp", JSON_OBJECT, false, &v)) < 0)
        return r;
    if (v && (r = mct_seccomp_build(ct, v, "config.json linux.seccomp")) < 0)
        return vl_err_ctx(r, "linux.seccomp");
    mct_say(ct, "bundle %s: %s, root %s", ct->bundle.dir, ct->opt.argv[0],
            ct->opt.rootfs);
    return 0;
}
