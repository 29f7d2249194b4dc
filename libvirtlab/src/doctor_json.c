/*
 * doctor_json.c - the doctor's report as JSON (jansson), what
 * `vlab-doctor --json` prints; the layout is in virtlab/doctor.h.
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/error.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void json_cleanup(json_t **j)
{
    json_decref(*j);
}
#define _json_cleanup_ __attribute__((cleanup(json_cleanup)))

/* Set obj[key] = val (stolen); remember a failed allocation in *bad. */
static void jset(json_t *obj, const char *key, json_t *val, bool *bad)
{
    if (!val || json_object_set_new(obj, key, val) < 0)
        *bad = true;
}

/* A space-separated word list as an array of strings. */
static json_t *json_words(const char *list)
{
    json_t *a = json_array();
    char copy[256];
    char *save = NULL;

    snprintf(copy, sizeof(copy), "%s", list);
    for (char *w = strtok_r(copy, " ", &save); a && w;
         w = strtok_r(NULL, " ", &save))
        if (json_array_append_new(a, json_string(w)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *json_checks(const struct vl_doctor_report *r, bool *bad)
{
    json_t *a = json_array();

    for (int i = 0; a && i < r->nchecks; i++) {
        const struct vl_check *c = &r->checks[i];
        json_t *o = json_object();

        if (!o || json_array_append_new(a, o) < 0) {
            *bad = true;
            break;
        }
        jset(o, "id", json_string(c->id), bad);
        jset(o, "status", json_string(vl_check_status_name(c->status)), bad);
        jset(o, "summary", json_string(c->summary), bad);
        jset(o, "hint", json_string(c->hint), bad);
    }
    return a;
}

static json_t *json_cgroup(const struct vl_cgroup_info *cg, bool *bad)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "version", json_integer(cg->version), bad);
    jset(o, "hybrid", json_boolean(cg->hybrid), bad);
    jset(o, "v2_mount",
         cg->v2_mount[0] ? json_string(cg->v2_mount) : json_null(), bad);
    jset(o, "v2_path", cg->v2_path[0] ? json_string(cg->v2_path) : json_null(),
         bad);
    jset(o, "controllers", json_words(cg->controllers), bad);
    jset(o, "v2_controllers", json_words(cg->v2_controllers), bad);
    jset(o, "writable", json_boolean(cg->writable), bad);
    return o;
}

static json_t *json_facts(const struct vl_doctor_report *r, bool *bad)
{
    bool measured = r->speed.speed != VL_KVM_SPEED_UNKNOWN;
    json_t *f = json_object();
    json_t *ns = json_object();
    json_t *nsr = json_object();

    for (int i = 0; ns && nsr && i < VL_DOCTOR_NS_COUNT; i++) {
        const char *name = vl_doctor_ns_name((enum vl_doctor_ns)i);

        jset(ns, name, json_boolean(r->ns[i]), bad);
        jset(nsr, name, json_boolean(r->ns_rootless[i]), bad);
    }
    if (!f) {
        json_decref(ns);
        json_decref(nsr);
        return NULL;
    }
    jset(f, "kernel", json_string(r->kernel), bad);
    jset(f, "arch", json_string(r->arch), bad);
    jset(f, "root", json_boolean(r->root), bad);
    jset(f, "uid", json_integer(r->uid), bad);
    jset(f, "kvm_group", json_boolean(r->kvm_group), bad);
    jset(f, "kvm", json_boolean(r->kvm_usable), bad);
    jset(f, "kvm_api", r->kvm_api ? json_integer(r->kvm_api) : json_null(),
         bad);
    jset(f, "kvm_speed",
         measured ? json_string(vl_kvm_speed_name(r->speed.speed))
                  : json_null(),
         bad);
    jset(f, "ns_per_insn",
         measured ? json_real(r->speed.ns_per_insn) : json_null(), bad);
    jset(f, "us_per_exit",
         measured ? json_real(r->speed.us_per_exit) : json_null(), bad);
    jset(f, "namespaces", ns, bad);
    jset(f, "namespaces_rootless", nsr, bad);
    jset(f, "cgroup", json_cgroup(&r->cgroup, bad), bad);
    jset(f, "seccomp", json_boolean(r->seccomp), bad);
    jset(f, "seccomp_actions", json_words(r->seccomp_actions), bad);
    jset(f, "overlayfs", json_boolean(r->overlayfs), bad);
    jset(f, "overlayfs_mount",
         r->overlay_mount < 0 ? json_null() : json_boolean(r->overlay_mount),
         bad);
    return f;
}

int vl_doctor_to_json(const struct vl_doctor_report *r, char **out)
{
    _json_cleanup_ json_t *root = json_object();
    json_t *sum = json_object();
    bool bad = !root;

    *out = NULL;
    if (root) {
        jset(root, "version", json_integer(1), &bad);
        jset(root, "checks", json_checks(r, &bad), &bad);
        if (sum) {
            for (int s = VL_CHECK_OK; s <= VL_CHECK_SKIP; s++)
                jset(sum, vl_check_status_name((enum vl_check_status)s),
                     json_integer(vl_doctor_count(r, (enum vl_check_status)s)),
                     &bad);
        }
        jset(root, "summary", sum, &bad);
        jset(root, "facts", json_facts(r, &bad), &bad);
    } else {
        json_decref(sum);
    }
    if (bad)
        return vl_err_plain(ENOMEM, "building the doctor's JSON: out of "
                                    "memory");
    *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!*out)
        return vl_err_plain(ENOMEM, "json_dumps: out of memory");
    return 0;
}
