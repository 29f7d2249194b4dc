/*
 * guest.h - what the lab 04 guests and the tests agree on (#defines only:
 * the tests include it too). The guests are 64-bit C programs (minivm
 * --mode long): RAM and minivm's device window are identity-mapped.
 */
#ifndef LAB04_GUEST_H
#define LAB04_GUEST_H

/* COM2: a real PC has a second UART here; minivm has nothing. */
#define UNCLAIMED_PORT 0x2f8

/* The test device (MVM_TESTDEV_* in labs/minivm/minivm.h): 32-bit
 * registers at the start of minivm's device window. */
#define TESTDEV_BASE        0xd0000000ULL
#define TESTDEV_MAGIC       0x00 /* read-only: TESTDEV_MAGIC_VALUE */
#define TESTDEV_STATUS      0x04 /* read-only: TESTDEV_DONE, TESTDEV_ERROR */
#define TESTDEV_DATA        0x08 /* write: queue a word; read: the answer */
#define TESTDEV_DOORBELL    0x0c /* write-only: a command */
#define TESTDEV_MAGIC_VALUE 0x4454564d /* "MVTD" in memory order */
#define TESTDEV_DONE        1u
#define TESTDEV_ERROR       2u
#define TESTDEV_CMD_SUM     1u
#define TESTDEV_CMD_RESET   2u

/* dev_sum.c queues 1..SUM_LAST, then rings a command no device knows. */
#define SUM_LAST    10
#define BAD_COMMAND 0x99

#endif
