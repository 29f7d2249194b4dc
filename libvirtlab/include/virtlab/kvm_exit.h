/*
 * virtlab/kvm_exit.h - reading what the guest did: exits and registers.
 *
 * After KVM_RUN returns, struct kvm_run says why the vCPU stopped
 * (api.rst 5. "The kvm_run structure"). These helpers turn that into text a
 * student can act on, and print the vCPU state in a readable layout.
 */
#ifndef VIRTLAB_KVM_EXIT_H
#define VIRTLAB_KVM_EXIT_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "KVM_EXIT_IO", or "KVM_EXIT_<number>" for a reason unknown here. */
const char *vl_exit_reason_name(uint32_t reason);

/*
 * One line per exit, for traces:
 *   KVM_EXIT_IO out port 0xe9 size 1 data 'H' at rip 0x1005
 *   KVM_EXIT_MMIO write addr 0xd0000000 len 4 data 0x12345678 at rip 0x1010
 *   KVM_EXIT_HLT at rip 0x1007
 * Returns the length written (as snprintf).
 */
int vl_exit_describe(const struct kvm_run *run, uint64_t rip, char *buf,
                     size_t len);

/*
 * For the exits that mean something went wrong (FAIL_ENTRY, SHUTDOWN,
 * INTERNAL_ERROR, EXCEPTION, UNKNOWN, ...): one or more lines saying what it
 * means and what to look at. Returns 0 and writes "" for ordinary exits.
 */
int vl_exit_explain(const struct kvm_run *run, char *buf, size_t len);

/* The general and segment registers, control registers and EFER. */
void vl_regs_dump(FILE *out, const struct kvm_regs *regs,
                  const struct kvm_sregs *sregs);

/* KVM_GET_REGS and KVM_GET_SREGS on a vCPU fd, then vl_regs_dump(). */
int vl_vcpu_fd_dump(FILE *out, int vcpu_fd);

/* Decode the bytes an I/O exit carries: pointer to the first element. */
static inline uint8_t *vl_exit_io_data(struct kvm_run *run)
{
    return (uint8_t *)run + run->io.data_offset;
}

#endif
