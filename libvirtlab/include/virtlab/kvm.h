/*
 * virtlab/kvm.h - the KVM API: the system, a VM, its memory, its vCPUs.
 *
 * Wraps the ioctls of the kernel's Documentation/virt/kvm/api.rst:
 *   4.1  KVM_GET_API_VERSION        4.7  KVM_CREATE_VCPU
 *   4.2  KVM_CREATE_VM              4.10 KVM_RUN
 *   4.4  KVM_CHECK_EXTENSION        4.11/4.12 KVM_GET_REGS / KVM_SET_REGS
 *   4.5  KVM_GET_VCPU_MMAP_SIZE     4.13/4.14 KVM_GET_SREGS / KVM_SET_SREGS
 *   4.35 KVM_SET_USER_MEMORY_REGION
 *
 * Three kinds of file descriptor (api.rst section 3): the system fd from
 * open("/dev/kvm"), a VM fd from KVM_CREATE_VM, and a vCPU fd from
 * KVM_CREATE_VCPU. Each object below owns one and frees it in its destroy
 * function, which also accepts a half-built object.
 */
#ifndef VIRTLAB_KVM_H
#define VIRTLAB_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VL_KVM_DEVICE "/dev/kvm"

/* ---- the system: /dev/kvm ------------------------------------------- */

struct vl_kvm {
    int fd;             /* system fd, -1 when closed */
    int api_version;    /* KVM_GET_API_VERSION; always 12 (KVM_API_VERSION) */
    int vcpu_mmap_size; /* KVM_GET_VCPU_MMAP_SIZE: size of struct kvm_run+ */
};

/* Open /dev/kvm and check the API version. Errors explain how to fix. */
int vl_kvm_open(struct vl_kvm *kvm);
/* The same with another device path (tests use it for the failure paths). */
int vl_kvm_open_path(struct vl_kvm *kvm, const char *path);
void vl_kvm_close(struct vl_kvm *kvm);

/*
 * Record an explanation of why open(path) failed with errno err (ENOENT: no
 * KVM module; EACCES: not in the kvm group; ...) and return -err. Lab code
 * that opens /dev/kvm by hand uses it too.
 */
int vl_kvm_open_error(int err, const char *path);

/*
 * KVM_CHECK_EXTENSION by name ("KVM_CAP_USER_MEMORY" or "USER_MEMORY"):
 * returns the capability's value (0 = absent, >0 = present, some report a
 * number), or -ENOENT for a name this library does not know.
 */
int vl_kvm_cap(const struct vl_kvm *kvm, const char *name);
/* Number of a capability name, or -ENOENT. */
int vl_kvm_cap_id(const char *name);
/* Name of a capability number ("KVM_CAP_..."), or NULL. */
const char *vl_kvm_cap_name(int id);

/*
 * ioctl() that records "<NAME> failed: <strerror>" on failure and returns
 * -errno; it returns the ioctl's result (>= 0) on success. The size check
 * makes sure an argument of the wrong type does not compile when the request
 * encodes a size (_IOW/_IOR/_IOWR), as in the kernel's KVM selftests.
 */
int vl_ioctl_named(int fd, unsigned long req, const char *name, void *arg);
#define vl_ioctl(fd, req, arg)                                                 \
    ({                                                                         \
        _Static_assert(_IOC_SIZE(req) == 0 ||                                  \
                           _IOC_SIZE(req) == sizeof(*(arg)),                   \
                       #req " takes an argument of another size");             \
        vl_ioctl_named((fd), (req), #req, (void *)(arg));                      \
    })
/* For requests that take an integer argument (KVM_CREATE_VCPU, ...). */
#define vl_ioctl_int(fd, req, val)                                             \
    vl_ioctl_named((fd), (req), #req, (void *)(uintptr_t)(val))

/* ---- a VM and its guest-physical memory ----------------------------- */

#define VL_MAX_REGIONS 32

/* Flags of vl_vm_add_memory(). */
#define VL_MEM_READONLY  KVM_MEM_READONLY /* guest writes exit as MMIO */
#define VL_MEM_LOG_DIRTY KVM_MEM_LOG_DIRTY_PAGES

struct vl_region {
    uint32_t slot;
    uint32_t flags;
    uint64_t gpa;  /* guest-physical address of the first byte */
    uint64_t size; /* bytes; a multiple of the page size */
    void *hva;     /* host virtual address of the first byte */
};

struct vl_vm {
    struct vl_kvm *kvm; /* borrowed: must outlive the VM */
    int fd;             /* VM fd, -1 when not created */
    int nregions;
    struct vl_region regions[VL_MAX_REGIONS];
};

int vl_vm_create(struct vl_vm *vm, struct vl_kvm *kvm);
void vl_vm_destroy(struct vl_vm *vm);

/*
 * Back guest-physical [gpa, gpa+size) with fresh anonymous host memory and
 * tell KVM with KVM_SET_USER_MEMORY_REGION. Refuses (with a message naming
 * the conflict) a slot already in use, a range overlapping another region,
 * and a gpa or size that is not page-aligned. On success *hva (if not NULL)
 * receives the host address.
 */
int vl_vm_add_memory(struct vl_vm *vm, uint32_t slot, uint64_t gpa,
                     uint64_t size, uint32_t flags, void **hva);

/* The region holding gpa, or NULL. */
const struct vl_region *vl_vm_region_of(const struct vl_vm *vm, uint64_t gpa);

/*
 * Host pointer for guest-physical [gpa, gpa+len), or NULL with an error
 * recorded when any byte of the range is not backed by one region (a range
 * is never translated partly, so the caller cannot read out of bounds).
 */
void *vl_vm_gpa_to_hva(const struct vl_vm *vm, uint64_t gpa, size_t len);

/* Copy to/from guest-physical memory; the range may span adjacent regions. */
int vl_vm_write(struct vl_vm *vm, uint64_t gpa, const void *src, size_t len);
int vl_vm_read(const struct vl_vm *vm, uint64_t gpa, void *dst, size_t len);

/* ---- vCPUs ---------------------------------------------------------- */

struct vl_vcpu {
    struct vl_vm *vm; /* borrowed */
    int id;
    int fd;              /* vCPU fd, -1 when not created */
    struct kvm_run *run; /* shared with the kernel, mmap()ed from fd */
    size_t run_size;
};

int vl_vcpu_create(struct vl_vcpu *vcpu, struct vl_vm *vm, int id);
void vl_vcpu_destroy(struct vl_vcpu *vcpu);

int vl_vcpu_get_regs(struct vl_vcpu *vcpu, struct kvm_regs *regs);
int vl_vcpu_set_regs(struct vl_vcpu *vcpu, const struct kvm_regs *regs);
int vl_vcpu_get_sregs(struct vl_vcpu *vcpu, struct kvm_sregs *sregs);
int vl_vcpu_set_sregs(struct vl_vcpu *vcpu, const struct kvm_sregs *sregs);

/*
 * Put the vCPU in real mode at CS:IP = 0:entry with a flat 64 KiB CS and
 * data segments based at 0, RFLAGS = 0x2 (its reserved bit 1) and the stack
 * pointer at sp. (Intel SDM Vol. 3A, 9.1 "Initialization Overview".)
 */
int vl_vcpu_reset_real(struct vl_vcpu *vcpu, uint16_t entry, uint16_t sp);

/*
 * One KVM_RUN. Returns the exit reason (KVM_EXIT_*, >= 0), or -errno with
 * an error recorded. EINTR (a signal, or run->immediate_exit) is returned as
 * -EINTR without a message of its own, so callers can treat it as "stop".
 */
int vl_vcpu_run(struct vl_vcpu *vcpu);

/* Raw KVM_RUN: the ioctl's result, errno untouched, nothing recorded. */
int __vl_vcpu_run(struct vl_vcpu *vcpu);

#endif
