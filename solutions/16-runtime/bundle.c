/* PLACEHOLDER while issue 7 is being built: the lab 16 helper replaces it. */
#define MCT_LAB        "16-runtime"
#define MCT_STAGE_FILE "bundle.c"
#include "minictr.h"

int mct_bundle_load(struct minictr *ct, const char *dir)
{
    (void)ct, (void)dir;
    return MCT_TODO(1, "bundles");
}
