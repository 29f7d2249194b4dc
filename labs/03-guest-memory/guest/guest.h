/*
 * guest.h - what the lab 03 guests and the tests agree on (#defines only:
 * the assembler reads it too). The guests run in 32-bit protected mode
 * (minivm --mode protected), so they reach any address below 4 GiB.
 */
#ifndef LAB03_GUEST_H
#define LAB03_GUEST_H

#define DEBUG_PORT 0xe9
#define ROM_ADDR   0x800000 /* a read-only slot (8 MiB) */
#define HOLE_ADDR  0xa00000 /* no slot here (10 MiB) */
#define DIRTY_ADDR 0xc00000 /* a dirty-logged slot (12 MiB) */
#define DIRTY_SIZE 0x10000  /* 16 pages */
#define PAGE_SIZE  0x1000
/* dirty.S writes pages 0 and 3, and 4 bytes across the end of page 7: so
 * pages 0, 3, 7 and 8 are dirty, and no other. */

#endif
