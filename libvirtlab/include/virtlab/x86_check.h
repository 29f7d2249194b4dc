/*
 * virtlab/x86_check.h - explain a vCPU state before KVM refuses it.
 *
 * A mistake in struct kvm_sregs ends in one of three opaque ways:
 * KVM_SET_SREGS fails with EINVAL (api.rst 4.14), KVM_RUN returns
 * KVM_EXIT_FAIL_ENTRY ("invalid guest state"), or the first instruction
 * faults and the guest triple-faults (KVM_EXIT_SHUTDOWN). The checker below
 * looks at the state before it is loaded, or after such a failure, and names
 * the field that is wrong, what to do, and the manual section that says so.
 *
 * Sources: Intel SDM Vol. 3A, 2.5 "Control Registers", 3.4.5 "Segment
 * Descriptors", 4.5 "4-Level Paging", 5.7 "Privilege Level Checking When
 * Loading the SS Register", 6.10 "Interrupt Descriptor Table", 9.8.5
 * "Initializing IA-32e Mode"; Intel SDM Vol. 3C, 26.3.1 "Checks on the
 * Guest State Area" (what VMX checks at VM entry); the kernel's
 * arch/x86/kvm/x86.c, kvm_is_valid_sregs() (what KVM_SET_SREGS refuses).
 */
#ifndef VIRTLAB_X86_CHECK_H
#define VIRTLAB_X86_CHECK_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtlab/kvm.h"

#define VL_X86_MAX_PROBLEMS 16

struct vl_x86_problem {
    char field[24]; /* what to change: "EFER.LMA", "CS.L", "CR3", "PDE" */
    char text[256]; /* what is wrong, what to do, the manual section */
    bool fatal;     /* false: a warning, legal but almost surely not meant */
};

struct vl_x86_report {
    int n; /* problems kept in p[], fatal and warnings in the order found */
    struct vl_x86_problem p[VL_X86_MAX_PROBLEMS];
    int more; /* problems found beyond the VL_X86_MAX_PROBLEMS kept */
};

/*
 * Check a vCPU state: fatal problems are those KVM_SET_SREGS refuses, those
 * a VMX VM entry refuses, and those that make the first instruction fault.
 *
 * regs may be NULL (skips RIP and RFLAGS). Guest memory is RAM from guest-
 * physical 0: mem_size is the first address past it (the GDT, IDT and page
 * tables must lie below), 0 skips the memory checks. mem is the host view of
 * [0, mem_size), used to read the GDT entry of CS and to walk the page
 * tables for RIP; NULL skips those reads but keeps the bounds checks.
 *
 * Returns the number of fatal problems (>= 0), or -EINVAL when s or out is
 * NULL.
 */
int vl_x86_check_state(const struct kvm_sregs *s, const struct kvm_regs *regs,
                       const void *mem, uint64_t mem_size,
                       struct vl_x86_report *out);

/*
 * KVM_GET_SREGS and KVM_GET_REGS, then vl_x86_check_state() with the memory
 * region at guest-physical 0 (if any): what to call after KVM_RUN returned
 * KVM_EXIT_FAIL_ENTRY or KVM_EXIT_SHUTDOWN. (After a failed KVM_SET_SREGS,
 * check the sregs you tried to set instead: the vCPU kept its old ones.)
 */
int vl_vcpu_check_state(struct vl_vcpu *vcpu, struct vl_x86_report *out);

/*
 * One line per problem, fatal ones as "  CR4.PAE: <text>\n", warnings as
 * "  CS.L (warning): <text>\n". Returns the length of the whole text (as
 * snprintf: the text is truncated if that is >= len).
 */
int vl_x86_report_format(const struct vl_x86_report *r, char *buf, size_t len);

/* Append each problem of r as a "hint:" line to the current error. */
void vl_x86_report_hint(const struct vl_x86_report *r);

/* The first problem that names field, or NULL. */
const struct vl_x86_problem *vl_x86_report_find(const struct vl_x86_report *r,
                                                const char *field);

/*
 * The mode the state describes: "real mode", "protected mode", "protected
 * mode with paging", "long mode (64-bit)" or "long mode (compatibility)".
 */
const char *vl_x86_mode_name(const struct kvm_sregs *s);

#endif
