/*
 * kvm.c - the system, VM and vCPU objects of virtlab/kvm.h.
 * Reference: the kernel's Documentation/virt/kvm/api.rst.
 */
#include "virtlab/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

/* ---- ioctl ---------------------------------------------------------- */

int vl_ioctl_named(int fd, unsigned long req, const char *name, void *arg)
{
    int r = ioctl(fd, req, arg);

    if (r < 0)
        return vl_err(errno, "%s failed", name);
    return r;
}

/* ---- the system ----------------------------------------------------- */

int vl_kvm_open_error(int err, const char *path)
{
    err = err < 0 ? -err : err;
    switch (err) {
    case ENOENT:
        vl_err(err, "open %s", path);
        vl_err_hint("the KVM module is not loaded, or this CPU has no "
                    "hardware virtualization: enable VT-x/AMD-V in the "
                    "firmware, then `sudo modprobe kvm_intel` (or kvm_amd)");
        vl_err_hint("inside a VM, the host must offer nested "
                    "virtualization; in a container, pass --device /dev/kvm");
        break;
    case EACCES:
    case EPERM:
        vl_err(err, "open %s", path);
        vl_err_hint("add yourself to the kvm group: `sudo usermod -aG kvm "
                    "$USER`, then log out and in again (or run as root)");
        break;
    case ENXIO:
    case ENODEV:
        vl_err(err, "open %s", path);
        vl_err_hint("the device node exists but no KVM driver answers: "
                    "load kvm_intel or kvm_amd, and check `dmesg | grep kvm`"
                    " for \"disabled by bios\"");
        break;
    default:
        vl_err(err, "open %s", path);
    }
    return -err;
}

int vl_kvm_open_path(struct vl_kvm *kvm, const char *path)
{
    _vl_cleanup_close_ int fd = -1;
    int r;

    *kvm = (struct vl_kvm){.fd = -1};
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return vl_kvm_open_error(errno, path);

    /* api.rst 4.1: the only stable API version is 12; anything else is a
     * kernel this code was not written for. */
    r = vl_ioctl_int(fd, KVM_GET_API_VERSION, 0);
    if (r < 0)
        return vl_err_ctx(r, "%s is not a KVM device", path);
    if (r != KVM_API_VERSION)
        return vl_err_plain(EPROTO, "%s: KVM API version %d, expected %d", path,
                            r, KVM_API_VERSION);
    kvm->api_version = r;

    r = vl_ioctl_int(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (r < 0)
        return r;
    kvm->vcpu_mmap_size = r;
    kvm->fd = vl_steal_fd(&fd);
    return 0;
}

int vl_kvm_open(struct vl_kvm *kvm)
{
    return vl_kvm_open_path(kvm, VL_KVM_DEVICE);
}

void vl_kvm_close(struct vl_kvm *kvm)
{
    vl_close(&kvm->fd);
}

/* Capabilities a student on x86 meets in the labs (api.rst section 8). */
#define CAP(n)                                                                 \
    {                                                                          \
        "KVM_CAP_" #n, KVM_CAP_##n                                             \
    }
static const struct {
    const char *name;
    int id;
} caps[] = {
    CAP(IRQCHIP),
    CAP(HLT),
    CAP(USER_MEMORY),
    CAP(SET_TSS_ADDR),
    CAP(EXT_CPUID),
    CAP(NR_VCPUS),
    CAP(NR_MEMSLOTS),
    CAP(PIT),
    CAP(MP_STATE),
    CAP(COALESCED_MMIO),
    CAP(SYNC_MMU),
    CAP(USER_NMI),
    CAP(SET_GUEST_DEBUG),
    CAP(IRQ_ROUTING),
    CAP(MCE),
    CAP(IRQFD),
    CAP(PIT2),
    CAP(PIT_STATE2),
    CAP(IOEVENTFD),
    CAP(SET_IDENTITY_MAP_ADDR),
    CAP(ADJUST_CLOCK),
    CAP(INTERNAL_ERROR_DATA),
    CAP(VCPU_EVENTS),
    CAP(DEBUGREGS),
    CAP(XSAVE),
    CAP(XCRS),
    CAP(ASYNC_PF),
    CAP(TSC_CONTROL),
    CAP(GET_TSC_KHZ),
    CAP(MAX_VCPUS),
    CAP(ONE_REG),
    CAP(TSC_DEADLINE_TIMER),
    CAP(SYNC_REGS),
    CAP(KVMCLOCK_CTRL),
    CAP(SIGNAL_MSI),
    CAP(READONLY_MEM),
    CAP(IRQFD_RESAMPLE),
    CAP(DEVICE_CTRL),
    CAP(ENABLE_CAP_VM),
    CAP(CHECK_EXTENSION_VM),
    CAP(X86_SMM),
    CAP(MULTI_ADDRESS_SPACE),
    CAP(SPLIT_IRQCHIP),
    CAP(MAX_VCPU_ID),
    CAP(X2APIC_API),
    CAP(IMMEDIATE_EXIT),
    CAP(X86_DISABLE_EXITS),
    CAP(GET_MSR_FEATURES),
    CAP(NESTED_STATE),
    CAP(COALESCED_PIO),
    CAP(MANUAL_DIRTY_LOG_PROTECT2),
    CAP(HALT_POLL),
    CAP(X86_USER_SPACE_MSR),
    CAP(X86_MSR_FILTER),
    CAP(DIRTY_LOG_RING),
    CAP(SREGS2),
    CAP(EXIT_HYPERCALL),
    CAP(BINARY_STATS_FD),
    CAP(EXIT_ON_EMULATION_FAILURE),
    CAP(XSAVE2),
    CAP(VM_GPA_BITS),
};
#undef CAP

int vl_kvm_cap_id(const char *name)
{
    const char *bare = strncasecmp(name, "KVM_CAP_", 8) ? name : name + 8;

    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        if (!strcasecmp(caps[i].name + 8, bare))
            return caps[i].id;
    return vl_err_plain(ENOENT, "unknown KVM capability \"%s\"", name);
}

const char *vl_kvm_cap_name(int id)
{
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        if (caps[i].id == id)
            return caps[i].name;
    return NULL;
}

int vl_kvm_cap(const struct vl_kvm *kvm, const char *name)
{
    int id = vl_kvm_cap_id(name);

    if (id < 0)
        return id;
    return vl_ioctl_int(kvm->fd, KVM_CHECK_EXTENSION, id);
}

/* ---- the VM --------------------------------------------------------- */

int vl_vm_create(struct vl_vm *vm, struct vl_kvm *kvm)
{
    int r;

    *vm = (struct vl_vm){.kvm = kvm, .fd = -1};
    /* api.rst 4.2: machine type 0 is the default x86 VM. */
    r = vl_ioctl_int(kvm->fd, KVM_CREATE_VM, 0);
    if (r < 0)
        return vl_err_ctx(r, "creating a VM");
    vm->fd = r;
    return 0;
}

void vl_vm_destroy(struct vl_vm *vm)
{
    int saved = errno;

    /* Closing the VM fd first makes KVM forget the slots; only then is it
     * safe to unmap the host memory behind them. */
    vl_close(&vm->fd);
    for (int i = 0; i < vm->nregions; i++)
        munmap(vm->regions[i].hva, vm->regions[i].size);
    vm->nregions = 0;
    errno = saved;
}

static int check_new_region(const struct vl_vm *vm, uint32_t slot, uint64_t gpa,
                            uint64_t size)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

    if (size == 0 || size % page || gpa % page)
        return vl_err_plain(EINVAL,
                            "memory slot %u: gpa 0x%llx and size 0x%llx must "
                            "be non-zero multiples of the page size (0x%llx)",
                            slot, (unsigned long long)gpa,
                            (unsigned long long)size, (unsigned long long)page);
    if (gpa + size < gpa)
        return vl_err_plain(EINVAL, "memory slot %u wraps around", slot);
    if (vm->nregions == VL_MAX_REGIONS)
        return vl_err_plain(ENOSPC, "all %d memory regions are in use",
                            VL_MAX_REGIONS);
    for (int i = 0; i < vm->nregions; i++) {
        const struct vl_region *o = &vm->regions[i];

        if (o->slot == slot)
            return vl_err_plain(EEXIST,
                                "memory slot %u is already in use "
                                "(gpa 0x%llx, size 0x%llx)",
                                slot, (unsigned long long)o->gpa,
                                (unsigned long long)o->size);
        if (gpa < o->gpa + o->size && o->gpa < gpa + size)
            return vl_err_plain(
                EEXIST,
                "memory slot %u [0x%llx, 0x%llx) overlaps slot %u "
                "[0x%llx, 0x%llx)",
                slot, (unsigned long long)gpa, (unsigned long long)(gpa + size),
                o->slot, (unsigned long long)o->gpa,
                (unsigned long long)(o->gpa + o->size));
    }
    return 0;
}

int vl_vm_add_memory(struct vl_vm *vm, uint32_t slot, uint64_t gpa,
                     uint64_t size, uint32_t flags, void **hva)
{
    struct kvm_userspace_memory_region mr;
    void *mem;
    int r;

    r = check_new_region(vm, slot, gpa, size);
    if (r < 0)
        return r;
    /* Guest RAM is ordinary anonymous host memory; pages are only
     * allocated when the guest (or we) first touch them. */
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return vl_err(errno, "allocating %llu bytes of guest memory",
                      (unsigned long long)size);

    /* api.rst 4.35: a slot maps guest-physical [gpa, gpa+size) onto host
     * virtual memory at userspace_addr. */
    mr = (struct kvm_userspace_memory_region){
        .slot = slot,
        .flags = flags,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)mem,
    };
    r = vl_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &mr);
    if (r < 0) {
        munmap(mem, size);
        return vl_err_ctx(r, "adding memory slot %u at gpa 0x%llx", slot,
                          (unsigned long long)gpa);
    }
    vm->regions[vm->nregions++] = (struct vl_region){
        .slot = slot, .flags = flags, .gpa = gpa, .size = size, .hva = mem};
    if (hva)
        *hva = mem;
    return 0;
}

const struct vl_region *vl_vm_region_of(const struct vl_vm *vm, uint64_t gpa)
{
    for (int i = 0; i < vm->nregions; i++) {
        const struct vl_region *reg = &vm->regions[i];

        if (gpa >= reg->gpa && gpa - reg->gpa < reg->size)
            return reg;
    }
    return NULL;
}

void *vl_vm_gpa_to_hva(const struct vl_vm *vm, uint64_t gpa, size_t len)
{
    const struct vl_region *reg = vl_vm_region_of(vm, gpa);

    if (!reg) {
        vl_err_plain(EFAULT,
                     "guest-physical 0x%llx is not backed by any "
                     "memory slot",
                     (unsigned long long)gpa);
        return NULL;
    }
    if (len > reg->size - (gpa - reg->gpa)) {
        vl_err_plain(EFAULT,
                     "guest-physical [0x%llx, +0x%zx) runs past the end of "
                     "slot %u at 0x%llx",
                     (unsigned long long)gpa, len, reg->slot,
                     (unsigned long long)(reg->gpa + reg->size));
        return NULL;
    }
    return (uint8_t *)reg->hva + (gpa - reg->gpa);
}

enum copy_dir { CHECK_ONLY, TO_GUEST, FROM_GUEST };

/* Walk [gpa, gpa+len) region by region, copying each host piece. */
static int copy_pieces(const struct vl_vm *vm, uint64_t gpa, size_t len,
                       uint8_t *buf, enum copy_dir dir)
{
    while (len > 0) {
        const struct vl_region *reg = vl_vm_region_of(vm, gpa);
        size_t n;
        uint8_t *hva;

        if (!reg)
            return vl_err_plain(EFAULT,
                                "guest-physical 0x%llx is not backed by any "
                                "memory slot",
                                (unsigned long long)gpa);
        n = reg->size - (gpa - reg->gpa);
        n = n < len ? n : len;
        hva = (uint8_t *)reg->hva + (gpa - reg->gpa);
        if (dir == TO_GUEST)
            memcpy(hva, buf, n);
        else if (dir == FROM_GUEST)
            memcpy(buf, hva, n);
        gpa += n;
        if (buf)
            buf += n;
        len -= n;
    }
    return 0;
}

int vl_vm_write(struct vl_vm *vm, uint64_t gpa, const void *src, size_t len)
{
    /* Check the whole range first so a failing write changes nothing. */
    int r = copy_pieces(vm, gpa, len, NULL, CHECK_ONLY);

    if (r < 0)
        return r;
    return copy_pieces(vm, gpa, len, (uint8_t *)src, TO_GUEST);
}

int vl_vm_read(const struct vl_vm *vm, uint64_t gpa, void *dst, size_t len)
{
    return copy_pieces(vm, gpa, len, dst, FROM_GUEST);
}

/* ---- vCPUs ---------------------------------------------------------- */

int vl_vcpu_create(struct vl_vcpu *vcpu, struct vl_vm *vm, int id)
{
    void *run;
    int r;

    *vcpu = (struct vl_vcpu){.vm = vm, .id = id, .fd = -1};
    /* api.rst 4.7: the argument is the vCPU id (the APIC id on x86). */
    r = vl_ioctl_int(vm->fd, KVM_CREATE_VCPU, id);
    if (r < 0)
        return vl_err_ctx(r, "creating vCPU %d", id);
    vcpu->fd = r;

    /* api.rst 5: struct kvm_run is shared memory between KVM and us; it
     * says why KVM_RUN returned and carries the data of the exit. */
    vcpu->run_size = (size_t)vm->kvm->vcpu_mmap_size;
    run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
               vcpu->fd, 0);
    if (run == MAP_FAILED) {
        r = vl_err(errno, "mapping kvm_run of vCPU %d", id);
        vl_vcpu_destroy(vcpu);
        return r;
    }
    vcpu->run = run;
    return 0;
}

void vl_vcpu_destroy(struct vl_vcpu *vcpu)
{
    int saved = errno;

    if (vcpu->run)
        munmap(vcpu->run, vcpu->run_size);
    vcpu->run = NULL;
    vl_close(&vcpu->fd);
    errno = saved;
}

int vl_vcpu_get_regs(struct vl_vcpu *vcpu, struct kvm_regs *regs)
{
    return vl_ioctl(vcpu->fd, KVM_GET_REGS, regs);
}

int vl_vcpu_set_regs(struct vl_vcpu *vcpu, const struct kvm_regs *regs)
{
    return vl_ioctl(vcpu->fd, KVM_SET_REGS, regs);
}

int vl_vcpu_get_sregs(struct vl_vcpu *vcpu, struct kvm_sregs *sregs)
{
    return vl_ioctl(vcpu->fd, KVM_GET_SREGS, sregs);
}

int vl_vcpu_set_sregs(struct vl_vcpu *vcpu, const struct kvm_sregs *sregs)
{
    return vl_ioctl(vcpu->fd, KVM_SET_SREGS, sregs);
}

/* A real-mode segment: the base is selector * 16, the limit 64 KiB. */
static void real_segment(struct kvm_segment *seg, uint16_t selector)
{
    seg->selector = selector;
    seg->base = (uint64_t)selector << 4;
    seg->limit = 0xffff;
}

int vl_vcpu_reset_real(struct vl_vcpu *vcpu, uint16_t entry, uint16_t sp)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    int r;

    /* A new vCPU starts as after RESET: real mode with CS base 0xffff0000
     * and IP 0xfff0 (SDM Vol. 3A, 9.1.4). Point every segment at 0
     * instead, so guest addresses equal guest-physical ones. */
    r = vl_vcpu_get_sregs(vcpu, &sregs);
    if (r < 0)
        return r;
    real_segment(&sregs.cs, 0);
    real_segment(&sregs.ds, 0);
    real_segment(&sregs.es, 0);
    real_segment(&sregs.fs, 0);
    real_segment(&sregs.gs, 0);
    real_segment(&sregs.ss, 0);
    r = vl_vcpu_set_sregs(vcpu, &sregs);
    if (r < 0)
        return r;

    regs = (struct kvm_regs){
        .rip = entry,
        .rsp = sp,
        .rflags = 0x2, /* bit 1 of RFLAGS is reserved and always 1 */
    };
    return vl_vcpu_set_regs(vcpu, &regs);
}

int __vl_vcpu_run(struct vl_vcpu *vcpu)
{
    return ioctl(vcpu->fd, KVM_RUN, 0);
}

int vl_vcpu_run(struct vl_vcpu *vcpu)
{
    if (__vl_vcpu_run(vcpu) < 0) {
        if (errno == EINTR)
            return -EINTR;
        return vl_err(errno, "KVM_RUN failed on vCPU %d", vcpu->id);
    }
    return (int)vcpu->run->exit_reason;
}
