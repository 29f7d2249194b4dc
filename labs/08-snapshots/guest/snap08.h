/*
 * snap08.h - what lab 08's guests and tests agree on (#defines only: the
 * tests include it too, and check it against minivm.h and snap.h).
 */
#ifndef LAB08_SNAP08_H
#define LAB08_SNAP08_H

/* minivm's hypercall ABI (minivm.h, MVM_HC_*). */
#define HC_PORT  0x500
#define HC_PRINT 1
#define HC_EXIT  3

/* snap.h: where minivm writes the number of vCPUs, and the LAPIC. */
#define SMP_INFO_ADDR 0x4f0
#define LAPIC_BASE    0xfee00000ULL

/* Guest memory the guests use beyond their image: 2 MiB and up, mapped
 * with 2 MiB pages by minivm's page tables (lab 02). */
#define DATA_BASE 0x200000ULL

/* snap_count: steps, one input byte each. */
#define SNAP_STEPS      16
/* mig_dirty: pages it writes, generations. */
#define MIG_PAGES       256
#define MIG_GENERATIONS 40
/* smp_count: additions per CPU; a line every SMP_EVERY of them. */
#define SMP_ROUNDS      40
#define SMP_EVERY       10

#endif
