/*
 * dirty.S - writes a known set of pages of the dirty-logged slot, so the
 * VMM can check that KVM's dirty log reports exactly those: pages 0, 3,
 * and a 4-byte store across the boundary of pages 7 and 8 (both dirty).
 */
#include "guest.h"

    .code32
    .text
    .globl _start
_start:
    movb    $1, DIRTY_ADDR + 0 * PAGE_SIZE
    movb    $1, DIRTY_ADDR + 3 * PAGE_SIZE
    movl    $0xffffffff, DIRTY_ADDR + 8 * PAGE_SIZE - 2
    hlt
