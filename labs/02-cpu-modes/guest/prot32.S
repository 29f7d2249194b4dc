/*
 * prot32.S - a 32-bit guest that proves it runs in protected mode.
 *
 * minivm starts it with CR0.PE set and CS loaded from the GDT's 32-bit
 * code segment, so these bytes are decoded as 32-bit code: `mov $imm32,
 * %eax` has no operand-size prefix here. In real mode the same bytes would
 * mean something else. The guest checks CR0.PE and CS itself, prints what
 * it found on the debug port, leaves a 32-bit result at RESULT_ADDR, halts.
 */
#include "guest.h"

    .code32
    .text
    .globl _start
_start:
    mov     %cr0, %eax
    test    $1, %eax                /* CR0.PE: protected mode? */
    jz      fail
    mov     %cs, %ax
    cmp     $SEL_CODE32, %ax        /* running on the 32-bit code segment? */
    jne     fail

    mov     $0x12345678, %eax       /* 32-bit immediates, no prefixes */
    add     $0x11111111, %eax
    mov     %eax, RESULT_ADDR       /* a 32-bit absolute address */
    mov     $ok, %esi
    jmp     print
fail:
    mov     $bad, %esi
print:
    lodsb                           /* AL = [DS:ESI], ESI += 1 */
    test    %al, %al
    jz      done
    out     %al, $DEBUG_PORT
    jmp     print
done:
    hlt

ok:     .asciz "32-bit protected mode: CR0.PE=1, CS=0x08\n"
bad:    .asciz "NOT in protected mode with CS=0x08\n"
