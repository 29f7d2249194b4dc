/*
 * bootproto.h - lab 07, booting Linux: minivm's types and stage functions
 * for the x86 boot protocol (included by minivm.h; see
 * labs/07-boot-linux/).
 */
#ifndef MINIVM_BOOTPROTO_H
#define MINIVM_BOOTPROTO_H

#include <stdint.h>

struct minivm;

/* The kernel being booted (grown by lab 07). */
struct mvm_kernel {
    uint64_t entry; /* guest-physical address of the entry point */
};

#endif
