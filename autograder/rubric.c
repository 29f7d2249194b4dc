/* rubric.c - map reported tests onto the rubric (see rubric.h). */
#include "rubric.h"

#include <stddef.h>

#include "virtlab/error.h"

static int add_rubric_test(struct vg_lab *lab, const struct vg_rubric_item *it,
                           const struct vg_tap *tap, enum vg_status unreported,
                           const char *why)
{
    const struct vg_tap_result *r = tap ? vg_tap_find(tap, it->test) : NULL;
    struct vg_test t = {
        .id = it->test,
        .description = it->description,
        .max_points = it->points,
        .status = r ? r->status : unreported,
        .details = r ? r->details : (char *)why,
        .in_rubric = true,
        .visibility = it->visibility,
        .extra = it->extra,
    };

    t.points = t.status == VG_PASSED ? it->points : 0;
    return vg_lab_add_test(lab, &t);
}

static int add_unknown_test(struct vg_lab *lab, const struct vg_tap_result *r)
{
    struct vg_test t = {
        .id = r->id,
        .status = r->status,
        .details = r->details,
        .in_rubric = false,
    };

    return vg_lab_add_test(lab, &t);
}

int vg_rubric_score(struct vg_lab *lab, const struct vg_manifest *m,
                    const struct vg_tap *tap, enum vg_status unreported,
                    const char *why)
{
    int ret;

    for (size_t i = 0; i < m->nrubric; i++) {
        ret = add_rubric_test(lab, &m->rubric[i], tap, unreported, why);
        if (ret < 0)
            return vl_err_ctx(ret, "scoring %s", m->slug);
    }
    for (size_t i = 0; tap && i < tap->n; i++) {
        if (vg_manifest_rubric_item(m, tap->results[i].id))
            continue;
        ret = add_unknown_test(lab, &tap->results[i]);
        if (ret < 0)
            return vl_err_ctx(ret, "scoring %s", m->slug);
    }
    return 0;
}
