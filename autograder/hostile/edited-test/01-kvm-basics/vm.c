/*
 * vm.c - minivm stage 1: KVM basics.
 *
 * Your first hypervisor: open KVM, create a VM, give it memory, load a
 * guest, create a vCPU, point it at the guest and run it, handling each
 * exit. Every step is an ioctl on one of three file descriptors: the
 * system (/dev/kvm), the VM, and the vCPU.
 *
 * The reference is the kernel's Documentation/virt/kvm/api.rst; each TODO
 * names its section. labs/01-kvm-basics/README.md walks through the steps.
 */
#define MVM_LAB        "01-kvm-basics"
#define MVM_STAGE_FILE "vm.c"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minivm.h"

/*
 * TODO 1: open the KVM system device.
 * open() /dev/kvm read-write (and O_CLOEXEC, so a program we start does not
 * inherit it) into vm->kvm_fd. If open fails, return
 * vl_kvm_open_error(errno, "/dev/kvm"): it records a message that explains
 * the usual causes. Then check KVM_GET_API_VERSION (api.rst 4.1): anything
 * but KVM_API_VERSION (12) is an API this code does not speak; fail with
 * -EPROTO.
 */
int mvm_open_kvm(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(1, "open /dev/kvm and check the API version");
}

/*
 * TODO 2: create the VM.
 * KVM_CREATE_VM on the system fd (api.rst 4.2) returns a new fd for the
 * VM: it has no memory and no vCPU yet. Use machine type 0. Store it in
 * vm->vm_fd.
 */
int mvm_create_vm(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(2, "create the VM with KVM_CREATE_VM");
}

/*
 * TODO 3: give the guest `size` bytes of RAM at guest-physical address 0.
 * Guest RAM is ordinary host memory: mmap() anonymous, private, readable
 * and writable memory (MAP_NORESERVE: pages are only allocated when
 * touched). Then tell KVM about it with KVM_SET_USER_MEMORY_REGION
 * (api.rst 4.35): slot 0, guest_phys_addr 0, memory_size `size`,
 * userspace_addr = the host address.
 * Refuse a size of 0 or one that is not a multiple of the page size
 * (sysconf(_SC_PAGESIZE)) with -EINVAL and a message that says so; KVM
 * would refuse it too, less clearly. Keep the mapping in vm->mem and
 * vm->mem_size, and leave nothing mapped behind if KVM says no.
 */
int mvm_add_memory(struct minivm *vm, size_t size)
{
    (void)vm;
    (void)size;
    return MVM_TODO(3, "give the guest memory");
}

/*
 * TODO 4: copy a flat guest image into guest memory at guest-physical
 * address `gpa`.
 * Guest-physical address X is host address vm->mem + X, as long as X is
 * inside the slot. Check first that the whole image fits: an image that
 * would run past the end of guest memory is refused with -E2BIG and a
 * message suggesting --mem, and nothing is written. An empty image is
 * refused with -EINVAL. Beware of overflow when you add gpa and len.
 */
int mvm_load_image(struct minivm *vm, uint64_t gpa, const void *image,
                   size_t len)
{
    (void)vm;
    (void)gpa;
    (void)image;
    (void)len;
    return MVM_TODO(4, "load the guest image into guest memory");
}

/*
 * TODO 5: create vCPU 0 and map its kvm_run structure.
 * KVM_CREATE_VCPU on the VM fd (api.rst 4.7) returns the vCPU fd. KVM
 * talks to us through a struct kvm_run shared with the kernel: mmap() the
 * vCPU fd (shared, read-write, offset 0) with the size that
 * KVM_GET_VCPU_MMAP_SIZE on the *system* fd returns (api.rst 4.5) - it is
 * larger than sizeof(struct kvm_run). Fill vm->vcpu_fd, vm->run and
 * vm->run_size.
 */
int mvm_create_vcpu(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(5, "create the vCPU and map its kvm_run");
}

/*
 * TODO 6: point the vCPU at the guest, in real mode.
 * A new vCPU is in the state of an x86 CPU after RESET: real mode, with
 * CS.base = 0xffff0000 and IP = 0xfff0, the BIOS entry (Intel SDM Vol. 3A,
 * 9.1.4 "First Instruction Executed"). We have no BIOS. In real mode an
 * address is segment.base + offset, so:
 *  - read the segment registers with KVM_GET_SREGS (api.rst 4.13), set CS
 *    to selector 0 and base 0 (KVM keeps the hidden base; real mode would
 *    compute selector * 16), and write them back with KVM_SET_SREGS;
 *  - set the general registers with KVM_SET_REGS (api.rst 4.12): RIP =
 *    entry, RSP = MVM_STACK_TOP, and RFLAGS = 0x2 (bit 1 is reserved and
 *    must be 1; interrupts stay off). Start from zeroed registers.
 */
int mvm_reset_vcpu(struct minivm *vm, uint64_t entry)
{
    (void)vm;
    (void)entry;
    return MVM_TODO(6, "set the vCPU's registers for real mode");
}

/*
 * TODO 7: handle one exit. vm->run->exit_reason says why KVM_RUN returned
 * (api.rst 5, "The kvm_run structure"). Return MVM_CONTINUE to run the
 * guest again, MVM_STOP when it is done, or a negative errno (with a
 * message) when it did something we do not handle:
 *  - KVM_EXIT_HLT: the guest executed HLT; it is done. MVM_STOP.
 *  - KVM_EXIT_IO, direction KVM_EXIT_IO_OUT, port MVM_DEBUG_PORT: the guest
 *    wrote to our debug console. The bytes are inside the kvm_run mapping,
 *    at offset run->io.data_offset: size * count of them. Write them to
 *    vm->opt.console. MVM_CONTINUE.
 *  - anything else (another port, an IN, a shutdown, an entry failure...):
 *    return mvm_unhandled_exit(vm). It hands the exits later labs handle
 *    (MMIO in lab 03) to them, and fails with -EIO and a message that
 *    decodes the exit for everything else ("unhandled exit: KVM_EXIT_IO in
 *    port 0x60 size 1 at rip 0x1002"). Never guess: a hypervisor that
 *    ignores what it does not understand hides the guest's bugs.
 */
int mvm_handle_exit(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(7, "handle the guest's exits");
}

/*
 * TODO 8: the run loop. Repeat: KVM_RUN on the vCPU fd (api.rst 4.10),
 * then count the exit in vm->exits, trace it if vm->opt.trace
 * (mvm_trace_exit(vm)), and hand it to mvm_handle_exit(). Stop:
 *  - with 0 when mvm_handle_exit() says MVM_STOP;
 *  - with its error when it returns one;
 *  - with -ELOOP and a message naming --max-exits when vm->opt.max_exits
 *    is not 0 and that many exits were handled without the guest stopping
 *    (a runaway guest must not run forever);
 *  - when KVM_RUN fails: with EINTR it was interrupted by a signal (the
 *    driver's --timeout uses one): return -EINTR as it is. Any other errno
 *    is an error: return it with a message.
 */
int mvm_run(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(8, "write the run loop");
}
