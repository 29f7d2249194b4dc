/* paravirt.c - minivm stage 5 (placeholder while the lab is written). */
#define MVM_LAB        "05-paravirt"
#define MVM_STAGE_FILE "paravirt.c"

#include "minivm.h"

int mvm_guest_buffer(struct minivm *vm, uint64_t gpa, uint64_t len,
                     uint64_t max, void **host)
{
    (void)vm, (void)gpa, (void)len, (void)max, (void)host;
    return MVM_TODO(1, "validate a guest buffer");
}

int mvm_hypercall(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(2, "handle a hypercall");
}

int mvm_vq_chain(struct minivm *vm, const struct mvm_vq *vq, uint16_t head,
                 struct mvm_iov *iov, int max_iov)
{
    (void)vm, (void)vq, (void)head, (void)iov, (void)max_iov;
    return MVM_TODO(3, "walk a descriptor chain");
}

int mvm_vq_process(struct minivm *vm, struct mvm_vcon *con)
{
    (void)vm, (void)con;
    return MVM_TODO(4, "process the available ring");
}

int mvm_vcon_read(struct minivm *vm, struct mvm_vcon *con, uint64_t offset,
                  uint32_t *value)
{
    (void)vm, (void)con, (void)offset, (void)value;
    return MVM_TODO(5, "the console's registers");
}

int mvm_vcon_write(struct minivm *vm, struct mvm_vcon *con, uint64_t offset,
                   uint32_t value)
{
    (void)vm, (void)con, (void)offset, (void)value;
    return MVM_TODO(5, "the console's registers");
}
