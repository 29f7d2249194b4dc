/*
 * chaos.S - a guest that writes garbage everywhere: over the GDT, over its
 * own code, through RAM into the holes. Whatever it ends up executing, the
 * VMM must stop it with a clear report (a shutdown, an MMIO exit into a
 * hole, an emulation failure, the exit limit or the timeout) and never
 * crash itself.
 */
#include "guest.h"

    .code32
    .text
    .globl _start
_start:
    xor     %edi, %edi              /* from guest-physical 0 ... */
    mov     $0xdeadbeef, %eax
1:  mov     %eax, (%edi)
    add     $4, %edi
    rol     $7, %eax                /* a changing pattern */
    cmp     $HOLE_ADDR + PAGE_SIZE, %edi  /* ... into the hole */
    jb      1b
    hlt
