/*
 * badport.S - reads a port no device of minivm emulates (the PC keyboard
 * controller's data port). A correct VMM reports the access and stops;
 * it does not make up a value.
 */
#include "guest.h"

    .code16
    .text
    .globl _start
_start:
    mov     $'?', %al
    out     %al, $DEBUG_PORT
    in      $UNHANDLED_PORT, %al
    hlt
