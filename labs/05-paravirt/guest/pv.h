/*
 * pv.h - what lab 05's guests and tests agree on (#defines only). The
 * guests cannot include minivm.h (a host header), so the ABI is written
 * down again here; the tests check that both say the same.
 */
#ifndef LAB05_PV_H
#define LAB05_PV_H

/* The hypercall ABI (minivm.h, MVM_HC_*): number in RAX, arguments in RDI
 * and RSI, `outl %eax, (%dx)` with DX = HC_PORT, the result in RAX. */
#define HC_PORT      0x500
#define HC_PRINT     1 /* print(gpa, len) -> len */
#define HC_TIME      2 /* time() -> ns since 1970 */
#define HC_EXIT      3 /* exit(status): does not return */
#define HC_PRINT_MAX (64u << 10)

/* The errors a hypercall returns, negated in RAX: Linux's errno values. */
#define HC_E2BIG     7
#define HC_EFAULT    14
#define HC_ENOSYS    38
#define HC_EOVERFLOW 75

/* The virtio console's registers (minivm.h, MVM_VCON_ADDR). */
#define VCON_BASE 0xd0001000ULL

/* Guest-physical addresses pv_badptr.c hands to the print hypercall:
 * minivm's default RAM is 4 MiB (--mem 4M), nothing is at 256 MiB, and
 * the device window at 0xd0000000 holds registers, not memory. */
#define RAM_END    0x400000ULL
#define HOLE_GPA   0x10000000ULL
#define DEVICE_GPA 0xd0000000ULL
#define WRAP_GPA   0xfffffffffffffff0ULL

/* The bulk guests print the same BULK_LEN bytes (bulk.h). */
#define BULK_LEN   4096
#define BULK_LINES 64

#endif
