/* autolab.c - Autolab's autoresult line (see autolab.h). */
#define _GNU_SOURCE
#include "autolab.h"

#include <errno.h>
#include <stdlib.h>

#include "formats.h"
#include "virtlab/error.h"

/* Whole points as JSON integers ("7", as in Autolab's examples), others
 * as reals. */
static json_t *points_json(double points)
{
    if (points > -1e15 && points < 1e15 && points == (double)(json_int_t)points)
        return json_integer((json_int_t)points);
    return json_real(points);
}

json_t *vg_autolab_json(const struct vg_result *result)
{
    json_t *scores = json_object(), *board = json_array(), *root = NULL;
    int ret = scores && board ? 0 : -ENOMEM;

    if (ret == 0)
        ret =
            json_array_append_new(board, points_json(vg_result_points(result)));
    for (size_t i = 0; ret == 0 && i < result->nlabs; i++) {
        const struct vg_lab *lab = &result->labs[i];
        char *name = vg_fmt_clean(lab->slug, 256);

        ret = name &&
                      json_object_set_new(
                          scores, name, points_json(vg_lab_points(lab))) == 0 &&
                      json_array_append_new(
                          board, points_json(vg_lab_points(lab))) == 0
                  ? 0
                  : -ENOMEM;
        free(name);
    }
    if (ret == 0)
        root = json_pack("{s:O, s:O}", "scores", scores, "scoreboard", board);
    json_decref(scores);
    json_decref(board);
    return root;
}

int vg_autolab_print(FILE *out, const struct vg_result *result)
{
    json_t *root = vg_autolab_json(result);
    char *line;

    if (!root)
        return vl_err(ENOMEM, "building Autolab's autoresult");
    /* Compact: one line, whatever the slugs hold (JSON escapes newlines). */
    line = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!line)
        return vl_err(ENOMEM, "building Autolab's autoresult");
    fprintf(out, "%s\n", line);
    free(line);
    if (fflush(out) != 0)
        return vl_err(errno, "printing Autolab's autoresult");
    return 0;
}
