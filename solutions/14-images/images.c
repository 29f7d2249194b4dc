/* PLACEHOLDER while issue 7 is being built: the lab 14 helper replaces it. */
#define MCT_LAB        "14-images"
#define MCT_STAGE_FILE "images.c"
#include "minictr.h"

int mct_image_prepare(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(1, "images");
}
int mct_image_mount(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(2, "images");
}
void mct_image_cleanup(struct minictr *ct)
{
    (void)ct;
}
