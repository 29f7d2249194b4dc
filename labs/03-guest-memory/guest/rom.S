/*
 * rom.S - reads a read-only slot, writes to it, reads it again, then
 * touches a hole in guest-physical memory.
 *
 * Reading ROM is an ordinary memory access: no exit. Writing it cannot
 * change it: KVM stops the guest with KVM_EXIT_MMIO and lets the VMM decide
 * (a ROM ignores the write). Reading from a hole, where no slot is, exits
 * as MMIO too; minivm has nothing there and stops.
 */
#include "guest.h"

    .code32
    .text
    .globl _start
_start:
    movb    ROM_ADDR, %al           /* read ROM: no exit */
    out     %al, $DEBUG_PORT
    movb    $'X', ROM_ADDR          /* write ROM: KVM_EXIT_MMIO, ignored */
    movb    ROM_ADDR, %al           /* unchanged */
    out     %al, $DEBUG_PORT
    mov     $'\n', %al
    out     %al, $DEBUG_PORT
    movb    HOLE_ADDR, %al          /* read a hole: KVM_EXIT_MMIO, stop */
    hlt
