/*
 * loop.S - a silent runaway guest: a jump to itself. It never exits to the
 * VMM, so counting exits cannot stop it; only a timer can (--timeout).
 */
    .code16
    .text
    .globl _start
_start:
    jmp     _start
