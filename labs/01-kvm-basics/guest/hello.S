/*
 * hello.S - the first guest: print a line on the debug console and halt.
 *
 * The vCPU starts in real mode (16-bit code, addresses = segment * 16 +
 * offset, all segments 0 here) at 0x1000, where minivm loaded these bytes.
 * Each `out` to DEBUG_PORT makes the vCPU exit to minivm with
 * KVM_EXIT_IO; `hlt` makes it exit with KVM_EXIT_HLT.
 */
#include "guest.h"

    .code16
    .text
    .globl _start
_start:
    mov     $message, %si       /* DS:SI walks the string (DS = 0) */
    cld                         /* lodsb counts upwards */
1:  lodsb                       /* AL = byte at DS:SI, SI += 1 */
    test    %al, %al            /* the terminating zero? */
    jz      2f
    out     %al, $DEBUG_PORT    /* one exit per character */
    jmp     1b
2:  hlt                         /* done: KVM_EXIT_HLT */

message:
    .asciz  "Hello from the guest!\n"
