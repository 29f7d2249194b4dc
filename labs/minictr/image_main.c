/* PLACEHOLDER while issue 7 is being built: the lab 14 helper replaces it. */
#include "minictr.h"

int mct_image_cmd(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "minictr: image: not built yet\n");
    return MCT_EXIT_FAILED;
}
