/*
 * guest.h - what the lab 02 guests and the tests agree on (#defines only:
 * the assembler reads it too). Addresses match labs/minivm/minivm.h.
 */
#ifndef LAB02_GUEST_H
#define LAB02_GUEST_H

#define DEBUG_PORT   0xe9
#define SEL_CODE32   0x08        /* MVM_SEL_CODE32 */
#define SEL_CODE64   0x18        /* MVM_SEL_CODE64 */
#define RESULT_ADDR  0x0900      /* prot32.S stores its result here */
#define RESULT32     0x23456789  /* = 0x12345678 + 0x11111111 */
#define HIGH_VADDR   0x100000000 /* MVM_HIGH_VADDR: 4 GiB */
#define HIGH_PHYS    0x200000    /* MVM_HIGH_PHYS */
#define HIGH_OFFSET  0x10        /* long64.S writes at HIGH_VADDR + this */
#define RESULT64_A   0x123456789abcdef0
#define RESULT64_B   0x0fedcba987654321
#define RESULT64     0x2222222222222211 /* = A + B, in 64 bits */
#define MSR_EFER     0xc0000080
#define EFER_LMA_BIT 10

#endif
