/*
 * testdev.h - a polled driver for minivm's test device (guest.h has its
 * registers). The shape of most device drivers: put the input where the
 * device wants it, ring a doorbell, wait on a status register, read the
 * result. Each register access is one 32-bit load or store in the device
 * window: one KVM_EXIT_MMIO.
 */
#ifndef LAB04_TESTDEV_H
#define LAB04_TESTDEV_H

#include "guest.h"
#include "rt.h"

/* A real device finishes a command some time after the doorbell; a
 * driver polls STATUS, and gives up after a while instead of hanging. */
#define TESTDEV_POLLS 100000

static uint32_t testdev_read(unsigned reg)
{
    return mmio_read32(TESTDEV_BASE + reg);
}

static void testdev_write(unsigned reg, uint32_t value)
{
    mmio_write32(TESTDEV_BASE + reg, value);
}

/* Is it there? A driver checks an ID register before it trusts a device. */
static int testdev_present(void)
{
    return testdev_read(TESTDEV_MAGIC) == TESTDEV_MAGIC_VALUE;
}

/* Ring the doorbell with `cmd`; wait until STATUS says DONE or ERROR.
 * Returns STATUS, or 0 if the device never answered. */
static uint32_t testdev_command(uint32_t cmd)
{
    testdev_write(TESTDEV_DOORBELL, cmd);
    for (int i = 0; i < TESTDEV_POLLS; i++) {
        uint32_t status = testdev_read(TESTDEV_STATUS);

        if (status & (TESTDEV_DONE | TESTDEV_ERROR))
            return status;
    }
    return 0;
}

/* Forget everything queued (STATUS goes to 0: nothing to wait for). */
static void testdev_reset(void)
{
    testdev_write(TESTDEV_DOORBELL, TESTDEV_CMD_RESET);
}

#endif
