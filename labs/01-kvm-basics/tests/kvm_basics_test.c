/*
 * kvm_basics_test.c - the tests of lab 01, one group per TODO.
 *
 * Run them with `make -C labs test LAB=01` (or `make grade LAB=01` for
 * points). Tests of TODOs 7 and 8 set the VM up with libvirtlab, not with
 * your TODOs 1-6, so they can pass while earlier steps are unfinished.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../guest/guest.h"
#include "mvm_test.h"

static int has_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    return flags >= 0 && (flags & FD_CLOEXEC);
}

TestSuite(kvm_basics, .init = setup, .fini = teardown, .timeout = 60);

/* ---- TODO 1: open /dev/kvm --------------------------------------------- */

Test(kvm_basics, opens_dev_kvm)
{
    vl_assert_ok(mvm_open_kvm(&vm));
    cr_assert_geq(vm.kvm_fd, 0, "vm->kvm_fd should hold the fd of /dev/kvm");
    cr_assert_eq(ioctl(vm.kvm_fd, KVM_GET_API_VERSION, 0), KVM_API_VERSION,
                 "vm->kvm_fd does not answer KVM_GET_API_VERSION with 12");
    cr_assert(has_cloexec(vm.kvm_fd), "open /dev/kvm with O_CLOEXEC");
}

/* ---- TODO 2: create the VM ---------------------------------------------- */

Test(kvm_basics, creates_vm)
{
    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    cr_assert_geq(vm.vm_fd, 0, "vm->vm_fd should hold the VM's fd");
    cr_assert_neq(vm.vm_fd, vm.kvm_fd, "the VM needs its own fd");
    /* Only a VM fd accepts KVM_SET_TSS_ADDR (api.rst 4.48). */
    cr_assert_eq(ioctl(vm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL), 0,
                 "vm->vm_fd is not a VM fd: %s", strerror(errno));
}

/* ---- TODO 3: guest memory ----------------------------------------------- */

Test(kvm_basics, adds_guest_memory)
{
    struct kvm_userspace_memory_region probe = {
        .slot = 1, .guest_phys_addr = 0, .memory_size = PAGE};
    static uint8_t page[PAGE] __attribute__((aligned(PAGE)));

    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    vl_assert_ok(mvm_add_memory(&vm, 64 * PAGE));
    cr_assert_not_null(vm.mem, "vm->mem should point at the guest memory");
    cr_assert_eq(vm.mem_size, 64 * PAGE);
    vm.mem[0] = 0x5a;
    vm.mem[64 * PAGE - 1] = 0xa5; /* all of it is mapped and writable */

    /* If slot 0 covers guest-physical 0, KVM refuses another slot there. */
    probe.userspace_addr = (uintptr_t)page;
    cr_assert_lt(ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &probe), 0,
                 "KVM accepted a new slot at guest-physical 0: is your "
                 "slot really registered at address 0?");
    cr_assert_eq(errno, EEXIST);
}

Test(kvm_basics, refuses_bad_memory_size)
{
    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    vl_assert_fails(mvm_add_memory(&vm, 0), EINVAL, "page");
    vl_assert_fails(mvm_add_memory(&vm, PAGE + 1), EINVAL, "page");
    cr_assert_null(vm.mem, "a refused size must leave vm->mem NULL");
}

/* ---- TODO 4: load the image --------------------------------------------- */

Test(kvm_basics, loads_image_at_gpa)
{
    static const uint8_t image[] = {0xb0, 'H', 0xe6, 0xe9, 0xf4};

    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    vl_assert_ok(mvm_add_memory(&vm, 16 * PAGE));
    vl_assert_ok(mvm_load_image(&vm, 0x1000, image, sizeof(image)));
    cr_assert_arr_eq(vm.mem + 0x1000, image, sizeof(image),
                     "the image should be at guest-physical 0x1000");
    vl_assert_ok(mvm_load_image(&vm, 16 * PAGE - 1, image, 1));
    cr_assert_eq(vm.mem[16 * PAGE - 1], 0xb0, "the last byte is usable");
}

Test(kvm_basics, refuses_image_that_does_not_fit)
{
    static uint8_t image[2 * PAGE];

    memset(image, 0xcc, sizeof(image));
    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    vl_assert_ok(mvm_add_memory(&vm, 2 * PAGE));
    vl_assert_fails(mvm_load_image(&vm, 0x1000, image, sizeof(image)), E2BIG,
                    "--mem");
    cr_assert_eq(vm.mem[0x1000], 0, "a refused image must not be written");
    vl_assert_fails(mvm_load_image(&vm, 2 * PAGE, image, 1), E2BIG, "--mem");
    /* gpa + len overflows to a small number: still far outside memory. */
    vl_assert_fails(mvm_load_image(&vm, UINT64_MAX - 1, image, 16), E2BIG,
                    "--mem");
    vl_assert_fails(mvm_load_image(&vm, 0x1000, image, 0), EINVAL, "empty");
}

/* ---- TODO 5: the vCPU ---------------------------------------------------- */

Test(kvm_basics, creates_vcpu_and_maps_kvm_run)
{
    int size;

    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    vl_assert_ok(mvm_create_vcpu(&vm));
    cr_assert_geq(vm.vcpu_fd, 0, "vm->vcpu_fd should hold the vCPU's fd");
    size = ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    cr_assert_eq(vm.run_size, (size_t)size,
                 "map KVM_GET_VCPU_MMAP_SIZE bytes (%d), not %zu", size,
                 vm.run_size);
    cr_assert_not_null(vm.run, "vm->run should point at the kvm_run mapping");
    /* The kernel fills kvm_run; before the first KVM_RUN it is zero. */
    cr_assert_eq(vm.run->exit_reason, KVM_EXIT_UNKNOWN);
}

/* ---- TODO 6: registers for real mode ------------------------------------- */

Test(kvm_basics, resets_vcpu_to_real_mode)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    vl_assert_ok(mvm_create_vcpu(&vm));
    vl_assert_ok(mvm_reset_vcpu(&vm, 0x1234));
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_SREGS, &sregs), 0);
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    cr_assert_eq(sregs.cs.base, 0, "CS.base should be 0, is 0x%llx",
                 (unsigned long long)sregs.cs.base);
    cr_assert_eq(sregs.cs.selector, 0, "CS.selector should be 0");
    cr_assert_eq(sregs.cr0 & 1, 0, "the vCPU should stay in real mode");
    cr_assert_eq(regs.rip, 0x1234, "RIP should be the entry point");
    cr_assert_eq(regs.rsp, MVM_STACK_TOP, "RSP should be MVM_STACK_TOP");
    cr_assert_eq(regs.rflags, 0x2, "RFLAGS should be 0x2, is 0x%llx",
                 (unsigned long long)regs.rflags);
    cr_assert_eq(regs.rax, 0, "start from zeroed registers");
}

/* ---- TODO 7: exits --------------------------------------------------------
 */

Test(kvm_basics, hlt_stops_the_guest)
{
    static const uint8_t hlt[] = {0xf4};

    boot_with_libvirtlab(hlt, sizeof(hlt));
    cr_assert_eq(run_once(), KVM_EXIT_HLT);
    cr_assert_eq(mvm_handle_exit(&vm), MVM_STOP, "HLT should stop: %s",
                 vl_errmsg());
}

Test(kvm_basics, debug_port_bytes_reach_console)
{
    /* mov $'H', %al; out %al, $0xe9; mov $'i', %al; out %al, $0xe9; hlt */
    static const uint8_t hi[] = {0xb0, 'H',  0xe6, 0xe9, 0xb0,
                                 'i',  0xe6, 0xe9, 0xf4};

    boot_with_libvirtlab(hi, sizeof(hi));
    cr_assert_eq(run_once(), KVM_EXIT_IO);
    cr_assert_eq(mvm_handle_exit(&vm), MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert_str_eq(capture_text(&console), "H");
    cr_assert_eq(run_once(), KVM_EXIT_IO);
    cr_assert_eq(mvm_handle_exit(&vm), MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert_str_eq(capture_text(&console), "Hi");
    cr_assert_eq(run_once(), KVM_EXIT_HLT);
}

Test(kvm_basics, unhandled_port_is_reported)
{
    boot_guest_file("badport.bin");
    cr_assert_eq(run_once(), KVM_EXIT_IO);
    cr_assert_eq(mvm_handle_exit(&vm), MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert_eq(run_once(), KVM_EXIT_IO); /* in $0x60, %al */
    vl_err_clear();
    cr_assert_lt(mvm_handle_exit(&vm), 0,
                 "an IN from port 0x60 is not ours to answer: fail");
    cr_assert(strstr(vl_errmsg(), "port 0x60"),
              "say which port (use mvm_exit_text()): \"%s\"", vl_errmsg());
}

Test(kvm_basics, triple_fault_is_reported)
{
    boot_guest_file("triple.bin");
    cr_assert_eq(run_once(), KVM_EXIT_SHUTDOWN);
    vl_err_clear();
    cr_assert_lt(mvm_handle_exit(&vm), 0, "a shutdown is not a success");
    cr_assert(strstr(vl_errmsg(), "KVM_EXIT_SHUTDOWN"),
              "name the exit (use mvm_exit_text()): \"%s\"", vl_errmsg());
}

/* ---- TODO 8: the run loop --------------------------------------------------
 */

Test(kvm_basics, runs_hello_to_halt)
{
    boot_guest_file("hello.bin");
    vl_assert_ok(mvm_run(&vm));
    cr_assert_str_eq(capture_text(&console), "Hello from the guest!\n");
    /* 22 characters, one exit each, and the HLT. */
    cr_assert_eq(vm.exits, 23, "count every exit in vm->exits: got %llu",
                 (unsigned long long)vm.exits);
}

Test(kvm_basics, computes_sum_in_guest)
{
    struct kvm_regs regs;
    uint32_t stored;

    boot_guest_file("sum.bin");
    vl_assert_ok(mvm_run(&vm));
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    cr_assert_eq(regs.rax, SUM_RESULT, "EAX should hold %d, holds %llu",
                 SUM_RESULT, (unsigned long long)regs.rax);
    memcpy(&stored, vm.mem + RESULT_ADDR, sizeof(stored));
    cr_assert_eq(stored, SUM_RESULT, "memory at 0x%x should hold %d",
                 RESULT_ADDR, SUM_RESULT);
}

Test(kvm_basics, stops_runaway_guest_at_exit_limit)
{
    vm.opt.max_exits = 100;
    boot_guest_file("spin.bin");
    vl_assert_fails(mvm_run(&vm), ELOOP, "--max-exits");
    cr_assert_eq(vm.exits, 100,
                 "stop after exactly --max-exits exits, "
                 "not %llu",
                 (unsigned long long)vm.exits);
    cr_assert_eq(strlen(capture_text(&console)), 100);
}

Test(kvm_basics, stops_silent_guest_on_timeout, .timeout = 15)
{
    vm.opt.timeout_s = 1;
    boot_guest_file("loop.bin");
    /* The driver's timer interrupts KVM_RUN; the loop must return
     * -EINTR instead of running the guest again. */
    vl_assert_fails(mvm_run_guarded(&vm), ETIMEDOUT, "--timeout");
}

Test(kvm_basics, traces_every_exit)
{
    const char *text;

    vm.opt.trace = true;
    boot_guest_file("hello.bin");
    vl_assert_ok(mvm_run(&vm));
    text = capture_text(&log_);
    cr_assert(strstr(text, "exit 1: KVM_EXIT_IO out port 0xe9 size 1 "
                           "data 'H'"),
              "the first trace line should decode the 'H':\n%s", text);
    cr_assert(strstr(text, "exit 23: KVM_EXIT_HLT"),
              "the 23rd exit should be the HLT:\n%s", text);
}
