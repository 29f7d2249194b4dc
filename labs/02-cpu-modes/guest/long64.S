/*
 * long64.S - a 64-bit guest that proves it runs in long mode.
 *
 * It reads EFER (MSR 0xc0000080) and checks LMA, adds two 64-bit numbers,
 * and writes the sum through virtual address HIGH_VADDR + HIGH_OFFSET:
 * 4 GiB, out of reach of any 32-bit code, and mapped only by the page
 * tables minivm built. It reads the value back through the identity
 * mapping of the same physical page (HIGH_PHYS) to show that the two
 * virtual addresses are one physical page. The sum stays in R15.
 */
#include "guest.h"

    .code64
    .text
    .globl _start
_start:
    mov     $MSR_EFER, %ecx
    rdmsr                           /* EDX:EAX = EFER */
    bt      $EFER_LMA_BIT, %eax     /* CF = EFER.LMA */
    jnc     fail

    movabs  $RESULT64_A, %rax
    movabs  $RESULT64_B, %rbx
    add     %rbx, %rax              /* a 64-bit add */
    mov     %rax, %r15              /* R8-R15 exist only in 64-bit mode */

    movabs  $HIGH_VADDR + HIGH_OFFSET, %rdi
    mov     %rax, (%rdi)            /* store above 4 GiB (virtual) */
    mov     $HIGH_PHYS + HIGH_OFFSET, %edx
    cmp     (%rdx), %rax            /* the same bytes, seen at 2 MiB */
    jne     fail

    lea     ok(%rip), %rsi          /* RIP-relative: a long-mode feature */
    jmp     print
fail:
    lea     bad(%rip), %rsi
print:
    lodsb
    test    %al, %al
    jz      done
    out     %al, $DEBUG_PORT
    jmp     print
done:
    hlt

ok:     .asciz "64-bit long mode: EFER.LMA=1, wrote above 4 GiB\n"
bad:    .asciz "NOT in long mode, or the 4 GiB mapping is wrong\n"
