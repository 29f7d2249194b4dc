/* probe_escape.c - vlab-probe commands of the security suite (being written).
 */
#include "probe.h"

#include <stddef.h>

const struct probe_cmd probe_cmds_escape[] = {
    {NULL, NULL, NULL},
};
