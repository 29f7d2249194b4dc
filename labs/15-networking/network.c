/* PLACEHOLDER while issue 7 is being built: the lab 15 helper replaces it. */
#define MCT_LAB        "15-networking"
#define MCT_STAGE_FILE "network.c"
#include "minictr.h"

int mct_net_setup(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(1, "networking");
}
int mct_net_configure(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(2, "networking");
}
void mct_net_cleanup(struct minictr *ct)
{
    (void)ct;
}
