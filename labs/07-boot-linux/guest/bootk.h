/*
 * bootk.h - what lab 07's test kernel shares with minivm: the ports and
 * values of minivm's ACPI power-off, and the layout of the test bzImage
 * that the lab's tests wrap around the kernel (tests/boot_test.c checks
 * that these agree with labs/minivm/bootproto.h).
 */
#ifndef BOOTK_H
#define BOOTK_H

/* ACPI PM1a control: SLP_TYP of \_S5 in bits 12-10, SLP_EN bit 13. */
#define BOOTK_PM1A_CNT 0x604
#define BOOTK_S5       ((5u << 10) | (1u << 13))

/* The test bzImage's protected-mode part: its 64-bit entry (at +0x200)
 * copies the kernel proper, which follows at +0x400, to BOOTK_RUN_ADDR,
 * where the guest run-time links it, and jumps there with RSI (the zero
 * page) untouched and RDX = the entry's own address. */
#define BOOTK_KERNEL_OFF 0x400
#define BOOTK_RUN_ADDR   0x1000

/* The test kernel sums the initrd's bytes this way (FNV-1a, 32 bits). */
#define BOOTK_FNV_BASIS 2166136261u
#define BOOTK_FNV_PRIME 16777619u

#endif
