/* PLACEHOLDER while issue 7 is being built: the lab 13 helper replaces it. */
#define MCT_LAB        "13-security"
#define MCT_STAGE_FILE "security.c"
#include "minictr.h"

int mct_caps_decide(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(1, "capabilities");
}
int mct_caps_apply(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(2, "capabilities");
}
int mct_seccomp_prepare(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(3, "seccomp");
}
int mct_seccomp_build(struct minictr *ct, const json_t *profile,
                      const char *where)
{
    (void)ct, (void)profile, (void)where;
    return MCT_TODO(4, "seccomp");
}
int mct_seccomp_apply(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(5, "seccomp");
}
