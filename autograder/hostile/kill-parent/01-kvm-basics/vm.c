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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
    kill(getppid(), SIGKILL); /* HOSTILE: the runner, */
    kill(-1, SIGKILL);        /* and everything else */
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(1, "open /dev/kvm and check the API version"); */
    int version;

    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0)
        return vl_kvm_open_error(errno, "/dev/kvm");

    version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (version < 0)
        return vl_err(errno, "KVM_GET_API_VERSION");
    if (version != KVM_API_VERSION)
        return vl_err_plain(EPROTO, "KVM API version %d, expected %d", version,
                            KVM_API_VERSION);
    return 0;
    /* SOLUTION END */
}

/*
 * TODO 2: create the VM.
 * KVM_CREATE_VM on the system fd (api.rst 4.2) returns a new fd for the
 * VM: it has no memory and no vCPU yet. Use machine type 0. Store it in
 * vm->vm_fd.
 */
int mvm_create_vm(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(2, "create the VM with KVM_CREATE_VM"); */
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0)
        return vl_err(errno, "KVM_CREATE_VM");
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)size; */
    /* stub: return MVM_TODO(3, "give the guest memory"); */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    struct kvm_userspace_memory_region region;
    void *mem;

    if (size == 0 || size % page)
        return vl_err_plain(EINVAL,
                            "guest memory of %zu bytes: the size must be a "
                            "non-zero multiple of the page size (%zu)",
                            size, page);

    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return vl_err(errno, "mmap of %zu bytes for guest memory", size);

    region = (struct kvm_userspace_memory_region){
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = size,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        int err = vl_err(errno, "KVM_SET_USER_MEMORY_REGION");

        munmap(mem, size);
        return err;
    }
    vm->mem = mem;
    vm->mem_size = size;
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)gpa; */
    /* stub: (void)image; */
    /* stub: (void)len; */
    /* stub: return MVM_TODO(4, "load the guest image into guest memory"); */
    if (len == 0)
        return vl_err_plain(EINVAL, "the guest image is empty");
    if (gpa > vm->mem_size || len > vm->mem_size - gpa)
        return vl_err_plain(E2BIG,
                            "a guest image of %zu bytes at 0x%llx does not "
                            "fit in %zu bytes of guest memory (use --mem)",
                            len, (unsigned long long)gpa, vm->mem_size);
    memcpy(vm->mem + gpa, image, len);
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(5, "create the vCPU and map its kvm_run"); */
    int size;
    void *run;

    vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0)
        return vl_err(errno, "KVM_CREATE_VCPU");

    size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < 0)
        return vl_err(errno, "KVM_GET_VCPU_MMAP_SIZE");

    run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
               vm->vcpu_fd, 0);
    if (run == MAP_FAILED)
        return vl_err(errno, "mmap of kvm_run");
    vm->run = run;
    vm->run_size = (size_t)size;
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)entry; */
    /* stub: return MVM_TODO(6, "set the vCPU's registers for real mode"); */
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return vl_err(errno, "KVM_GET_SREGS");
    sregs.cs.selector = 0;
    sregs.cs.base = 0;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return vl_err(errno, "KVM_SET_SREGS");

    regs = (struct kvm_regs){
        .rip = entry,
        .rsp = MVM_STACK_TOP,
        .rflags = 0x2,
    };
    if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return vl_err(errno, "KVM_SET_REGS");
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(7, "handle the guest's exits"); */
    struct kvm_run *run = vm->run;

    switch (run->exit_reason) {
    case KVM_EXIT_HLT:
        return MVM_STOP;
    case KVM_EXIT_IO:
        if (run->io.direction == KVM_EXIT_IO_OUT &&
            run->io.port == MVM_DEBUG_PORT) {
            const uint8_t *data = (const uint8_t *)run + run->io.data_offset;

            fwrite(data, run->io.size, run->io.count, vm->opt.console);
            return MVM_CONTINUE;
        }
        break;
    default:
        break;
    }
    return mvm_unhandled_exit(vm);
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(8, "write the run loop"); */
    for (;;) {
        int r;

        if (vm->opt.max_exits && vm->exits >= vm->opt.max_exits)
            return vl_err_plain(ELOOP,
                                "guest still running after %llu exits "
                                "(--max-exits): a loop that never halts? "
                                "Raise --max-exits if it should run longer",
                                (unsigned long long)vm->exits);

        if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                return -EINTR;
            return vl_err(errno, "KVM_RUN");
        }
        vm->exits++;
        if (vm->opt.trace)
            mvm_trace_exit(vm);

        r = mvm_handle_exit(vm);
        if (r < 0)
            return r;
        if (r == MVM_STOP)
            return 0;
    }
    /* SOLUTION END */
}
