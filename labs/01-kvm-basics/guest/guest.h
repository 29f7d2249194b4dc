/*
 * guest.h - what the lab 01 guests and the tests agree on.
 * Included by the assembly guests (through the C preprocessor) and by the
 * tests, so keep it to #defines.
 */
#ifndef LAB01_GUEST_H
#define LAB01_GUEST_H

#define DEBUG_PORT     0xe9   /* minivm's debug console (MVM_DEBUG_PORT) */
#define RESULT_ADDR    0x0800 /* where sum.S stores its result */
#define SUM_N          1000   /* sum.S adds 1 + 2 + ... + SUM_N */
#define SUM_RESULT     500500 /* = SUM_N * (SUM_N + 1) / 2 */
#define UNHANDLED_PORT 0x60   /* badport.S reads this port nobody emulates */

#endif
