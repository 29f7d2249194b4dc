/*
 * spin.S - a runaway guest: prints dots forever and never halts. Each dot
 * is an exit, so minivm's --max-exits stops it.
 */
#include "guest.h"

    .code16
    .text
    .globl _start
_start:
    mov     $'.', %al
1:  out     %al, $DEBUG_PORT
    jmp     1b
