/* devices.c - minivm stage 4 (placeholder while the lab is written). */
#define MVM_LAB        "04-devices"
#define MVM_STAGE_FILE "devices.c"

#include "minivm.h"

int mvm_bus_register(struct mvm_bus *bus, const struct mvm_device *dev)
{
    (void)bus, (void)dev;
    return MVM_TODO(1, "register a device on the bus");
}

const struct mvm_device *mvm_bus_find(const struct mvm_bus *bus,
                                      enum mvm_space space, uint64_t addr,
                                      unsigned len)
{
    (void)bus, (void)space, (void)addr, (void)len;
    MVM_TODO(2, "find the device at an address");
    return NULL;
}

int mvm_bus_access(struct minivm *vm, enum mvm_space space, uint64_t addr,
                   void *data, unsigned len, bool is_write)
{
    (void)vm, (void)space, (void)addr, (void)data, (void)len, (void)is_write;
    return MVM_TODO(3, "dispatch an access");
}

int mvm_handle_io(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(4, "handle KVM_EXIT_IO");
}

void mvm_uart_receive(struct mvm_uart *uart, uint8_t byte)
{
    (void)uart, (void)byte;
}

void mvm_uart_write(struct mvm_uart *uart, unsigned reg, uint8_t value)
{
    (void)uart, (void)reg, (void)value;
}

uint8_t mvm_uart_read(struct mvm_uart *uart, unsigned reg)
{
    (void)uart, (void)reg;
    return 0xff;
}

int mvm_testdev_read(struct mvm_testdev *td, uint64_t offset, unsigned len,
                     uint32_t *value)
{
    (void)td, (void)offset, (void)len, (void)value;
    return MVM_TODO(8, "the test device");
}

int mvm_testdev_write(struct mvm_testdev *td, uint64_t offset, unsigned len,
                      uint32_t value)
{
    (void)td, (void)offset, (void)len, (void)value;
    return MVM_TODO(8, "the test device");
}
