/*
 * sum.S - compute 1 + 2 + ... + SUM_N in the guest, leave the result in
 * EAX and at RESULT_ADDR, then halt.
 *
 * The result (500500) does not fit in 16 bits: real-mode code can still use
 * the 32-bit registers, the assembler adds the operand-size prefix (0x66)
 * to each such instruction.
 */
#include "guest.h"

    .code16
    .text
    .globl _start
_start:
    xor     %eax, %eax          /* the running sum */
    mov     $SUM_N, %ecx        /* counts down to 0 */
1:  add     %ecx, %eax
    dec     %ecx
    jnz     1b
    mov     %eax, RESULT_ADDR   /* a 32-bit store to guest memory */
    hlt
