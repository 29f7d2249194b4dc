/*
 * snap.h - lab 08, snapshots, live migration and SMP: minivm's types and
 * stage functions (included by minivm.h; see labs/08-snapshots/).
 */
#ifndef MINIVM_SNAP_H
#define MINIVM_SNAP_H

#include <stdint.h>

struct minivm;

/* The vCPUs beyond vCPU 0, and snapshot/migration state (grown by lab 08). */
struct mvm_smp {
    int ncpus; /* vCPUs in the VM (0 or 1: only vCPU 0) */
};

#endif
