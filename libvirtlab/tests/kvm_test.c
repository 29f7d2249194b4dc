/*
 * kvm_test.c - the system, VM, memory and vCPU objects of virtlab/kvm.h,
 * with their failure paths. Guests are a few hand-assembled real-mode
 * instructions.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "helpers.h"
#include "virtlab/kvm.h"

#define PAGE 4096

static struct vl_kvm kvm = {.fd = -1};
static struct vl_vm vm = {.fd = -1};
static struct vl_vcpu vcpu = {.fd = -1};

static void need_kvm(void)
{
    vl_require_kvm();
}

static void open_all(void)
{
    vl_require_kvm();
    vl_assert_ok(vl_kvm_open(&kvm));
    vl_assert_ok(vl_vm_create(&vm, &kvm));
}

static void close_all(void)
{
    vl_vcpu_destroy(&vcpu);
    vl_vm_destroy(&vm);
    vl_kvm_close(&kvm);
}

/* ---- the system -------------------------------------------------------- */

Test(kvm, opens_and_reads_api_version, .init = need_kvm)
{
    vl_assert_ok(vl_kvm_open(&kvm));
    cr_assert_eq(kvm.api_version, 12);
    cr_assert_gt(kvm.vcpu_mmap_size, (int)sizeof(struct kvm_run) - 1);
    vl_kvm_close(&kvm);
    cr_assert_eq(kvm.fd, -1);
}

Test(kvm, missing_device_explains_module)
{
    vl_assert_fails(vl_kvm_open_path(&kvm, "/nonexistent/kvm"), ENOENT,
                    "KVM module is not loaded");
    cr_assert_eq(kvm.fd, -1);
}

Test(kvm, permission_error_explains_kvm_group)
{
    vl_assert_fails(vl_kvm_open_error(EACCES, "/dev/kvm"), EACCES, "kvm group");
}

Test(kvm, non_kvm_file_is_refused)
{
    int before = vl_count_fds();

    vl_assert_fails(vl_kvm_open_path(&kvm, "/dev/null"), ENOTTY,
                    "not a KVM device");
    cr_assert_eq(vl_count_fds(), before, "the fd of /dev/null leaked");
}

Test(kvm, capabilities_by_name, .init = need_kvm)
{
    vl_assert_ok(vl_kvm_open(&kvm));
    cr_assert_gt(vl_assert_ok(vl_kvm_cap(&kvm, "KVM_CAP_USER_MEMORY")), 0);
    cr_assert_gt(vl_assert_ok(vl_kvm_cap(&kvm, "user_memory")), 0);
    cr_assert_gt(vl_assert_ok(vl_kvm_cap(&kvm, "NR_MEMSLOTS")), 1);
    vl_assert_fails(vl_kvm_cap(&kvm, "KVM_CAP_TELEPORT"), ENOENT, "TELEPORT");
    cr_assert_str_eq(vl_kvm_cap_name(KVM_CAP_IRQCHIP), "KVM_CAP_IRQCHIP");
    cr_assert_null(vl_kvm_cap_name(-5));
    vl_kvm_close(&kvm);
}

/* ---- memory ------------------------------------------------------------ */

Test(kvm, adds_memory_and_translates, .init = open_all, .fini = close_all)
{
    void *hva;

    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, 16 * PAGE, 0, &hva));
    vl_assert_ok(vl_vm_add_memory(&vm, 1, 0x100000, 4 * PAGE, 0, NULL));
    cr_assert_eq(vl_vm_gpa_to_hva(&vm, 0x10, 4), (char *)hva + 0x10);
    cr_assert_not_null(vl_vm_gpa_to_hva(&vm, 0x100000 + 4 * PAGE - 1, 1));
    cr_assert_eq(vl_vm_region_of(&vm, 0x100010)->slot, 1);
    cr_assert_null(vl_vm_region_of(&vm, 16 * PAGE));
}

Test(kvm, unbacked_address_is_an_error, .init = open_all, .fini = close_all)
{
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, 4 * PAGE, 0, NULL));
    vl_err_clear();
    cr_assert_null(vl_vm_gpa_to_hva(&vm, 4 * PAGE, 1));
    cr_assert(strstr(vl_errmsg(), "not backed") != NULL, "%s", vl_errmsg());
    /* Starts inside, ends outside: never a partial translation. */
    cr_assert_null(vl_vm_gpa_to_hva(&vm, 4 * PAGE - 2, 4));
    cr_assert(strstr(vl_errmsg(), "runs past the end") != NULL, "%s",
              vl_errmsg());
    cr_assert_null(vl_vm_gpa_to_hva(&vm, UINT64_MAX, 2));
    cr_assert_null(vl_vm_gpa_to_hva(&vm, 0, SIZE_MAX));
}

Test(kvm, refuses_used_slot, .init = open_all, .fini = close_all)
{
    vl_assert_ok(vl_vm_add_memory(&vm, 3, 0, PAGE, 0, NULL));
    vl_assert_fails(vl_vm_add_memory(&vm, 3, 0x10000, PAGE, 0, NULL), EEXIST,
                    "slot 3 is already in use");
    cr_assert_eq(vm.nregions, 1);
}

Test(kvm, refuses_overlapping_regions, .init = open_all, .fini = close_all)
{
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0x10000, 4 * PAGE, 0, NULL));
    vl_assert_fails(
        vl_vm_add_memory(&vm, 1, 0x10000 + 3 * PAGE, 2 * PAGE, 0, NULL), EEXIST,
        "overlaps slot 0");
    vl_assert_fails(vl_vm_add_memory(&vm, 1, 0xf000, 2 * PAGE, 0, NULL), EEXIST,
                    "overlaps");
    /* Touching is not overlapping. */
    vl_assert_ok(vl_vm_add_memory(&vm, 1, 0x10000 + 4 * PAGE, PAGE, 0, NULL));
}

Test(kvm, refuses_unaligned_or_empty_region, .init = open_all,
     .fini = close_all)
{
    vl_assert_fails(vl_vm_add_memory(&vm, 0, 0, 0, 0, NULL), EINVAL, "page");
    vl_assert_fails(vl_vm_add_memory(&vm, 0, 0x800, PAGE, 0, NULL), EINVAL,
                    "page");
    vl_assert_fails(vl_vm_add_memory(&vm, 0, 0, PAGE + 1, 0, NULL), EINVAL,
                    "page");
    vl_assert_fails(
        vl_vm_add_memory(&vm, 0, UINT64_MAX - PAGE + 1, 2 * PAGE, 0, NULL),
        EINVAL, "wraps");
}

Test(kvm, kvm_refusal_leaves_nothing_mapped, .init = open_all,
     .fini = close_all)
{
    /* KVM itself refuses a slot number beyond its limit: the library must
     * unmap the memory it allocated and not record the region. */
    vl_err_clear();
    cr_assert_lt(vl_vm_add_memory(&vm, 100000, 0, PAGE, 0, NULL), 0);
    cr_assert(strstr(vl_errmsg(), "KVM_SET_USER_MEMORY_REGION") != NULL, "%s",
              vl_errmsg());
    cr_assert_eq(vm.nregions, 0);
}

Test(kvm, read_write_span_adjacent_regions, .init = open_all, .fini = close_all)
{
    char out[8] = {0};

    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, PAGE, 0, NULL));
    vl_assert_ok(vl_vm_add_memory(&vm, 1, PAGE, PAGE, 0, NULL));
    vl_assert_ok(vl_vm_write(&vm, PAGE - 3, "virtlab", 7));
    vl_assert_ok(vl_vm_read(&vm, PAGE - 3, out, 7));
    cr_assert_str_eq(out, "virtlab");
    /* A write that would run past the last region changes nothing. */
    vl_assert_fails(vl_vm_write(&vm, 2 * PAGE - 2, "abcd", 4), EFAULT,
                    "not backed");
    vl_assert_ok(vl_vm_read(&vm, 2 * PAGE - 2, out, 2));
    cr_assert_eq(out[0], 0);
}

/* ---- vCPUs ------------------------------------------------------------- */

/* mov $'K', %al; out %al, $0xe9; mov $7, %bl; hlt */
static const uint8_t guest_out_hlt[] = {0xb0, 'K',  0xe6, 0xe9,
                                        0xb3, 0x07, 0xf4};

Test(kvm, runs_a_guest_to_hlt, .init = open_all, .fini = close_all)
{
    struct kvm_regs regs;

    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, 16 * PAGE, 0, NULL));
    vl_assert_ok(
        vl_vm_write(&vm, 0x1000, guest_out_hlt, sizeof(guest_out_hlt)));
    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    cr_assert_eq(vcpu.run_size, (size_t)kvm.vcpu_mmap_size);
    vl_assert_ok(vl_vcpu_reset_real(&vcpu, 0x1000, 0x1000));

    cr_assert_eq(vl_assert_ok(vl_vcpu_run(&vcpu)), KVM_EXIT_IO);
    cr_assert_eq(vcpu.run->io.port, 0xe9);
    cr_assert_eq(*((uint8_t *)vcpu.run + vcpu.run->io.data_offset), 'K');
    cr_assert_eq(vl_assert_ok(vl_vcpu_run(&vcpu)), KVM_EXIT_HLT);
    vl_assert_ok(vl_vcpu_get_regs(&vcpu, &regs));
    cr_assert_eq(regs.rbx & 0xff, 7);
    cr_assert_eq(regs.rip, 0x1000 + sizeof(guest_out_hlt));
}

/* A write to a read-only slot is not done: it exits as MMIO (api.rst 4.35,
 * KVM_MEM_READONLY), which is how a VMM emulates ROM or device memory. */
Test(kvm, readonly_slot_turns_writes_into_mmio_exits, .init = open_all,
     .fini = close_all)
{
    /* mov $0x42, %al; mov %al, (0x2000); hlt */
    static const uint8_t guest[] = {0xb0, 0x42, 0xa2, 0x00, 0x20, 0xf4};
    uint8_t *rom;

    if (vl_kvm_cap(&kvm, "READONLY_MEM") <= 0)
        cr_skip_test("this KVM has no KVM_CAP_READONLY_MEM");
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, 2 * PAGE, 0, NULL));
    vl_assert_ok(
        vl_vm_add_memory(&vm, 1, 2 * PAGE, PAGE, VL_MEM_READONLY, NULL));
    vl_assert_ok(vl_vm_write(&vm, 0x1000, guest, sizeof(guest)));
    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    vl_assert_ok(vl_vcpu_reset_real(&vcpu, 0x1000, 0x1000));

    cr_assert_eq(vl_assert_ok(vl_vcpu_run(&vcpu)), KVM_EXIT_MMIO);
    cr_assert_eq(vcpu.run->mmio.phys_addr, 0x2000);
    cr_assert(vcpu.run->mmio.is_write);
    cr_assert_eq(vcpu.run->mmio.len, 1);
    cr_assert_eq(vcpu.run->mmio.data[0], 0x42);
    rom = vl_vm_gpa_to_hva(&vm, 0x2000, 1);
    cr_assert_eq(*rom, 0, "the read-only page must not change");
    cr_assert_eq(vl_assert_ok(vl_vcpu_run(&vcpu)), KVM_EXIT_HLT);
}

Test(kvm, regs_and_sregs_round_trip, .init = open_all, .fini = close_all)
{
    struct kvm_regs regs = {.rax = 0x1122334455667788ULL, .rflags = 2};
    struct kvm_regs back;
    struct kvm_sregs sregs;

    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    vl_assert_ok(vl_vcpu_set_regs(&vcpu, &regs));
    vl_assert_ok(vl_vcpu_get_regs(&vcpu, &back));
    cr_assert_eq(back.rax, regs.rax);
    vl_assert_ok(vl_vcpu_get_sregs(&vcpu, &sregs));
    /* Out of reset, CS.base is 0xffff0000 (SDM Vol. 3A, 9.1.4). */
    cr_assert_eq(sregs.cs.base, 0xffff0000);
    sregs.cs.base = 0;
    vl_assert_ok(vl_vcpu_set_sregs(&vcpu, &sregs));
    vl_assert_ok(vl_vcpu_get_sregs(&vcpu, &sregs));
    cr_assert_eq(sregs.cs.base, 0);
}

Test(kvm, duplicate_vcpu_id_is_refused, .init = open_all, .fini = close_all)
{
    struct vl_vcpu twin;

    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    vl_assert_fails(vl_vcpu_create(&twin, &vm, 0), EEXIST, "KVM_CREATE_VCPU");
    cr_assert_eq(twin.fd, -1);
    cr_assert_null(twin.run);
    vl_vcpu_destroy(&twin); /* a failed object is safe to destroy */
}

Test(kvm, immediate_exit_returns_eintr, .init = open_all, .fini = close_all)
{
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, 16 * PAGE, 0, NULL));
    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    vl_assert_ok(vl_vcpu_reset_real(&vcpu, 0x1000, 0x1000));
    vcpu.run->immediate_exit = 1;
    vl_err_clear();
    cr_assert_eq(vl_vcpu_run(&vcpu), -EINTR);
    cr_assert_str_eq(vl_errmsg(), "", "EINTR is a stop, not an error");
}

Test(kvm, ioctl_names_the_request, .init = open_all, .fini = close_all)
{
    struct kvm_regs regs;

    /* A VM fd does not answer vCPU requests. */
    vl_assert_fails(vl_ioctl(vm.fd, KVM_GET_REGS, &regs), ENOTTY,
                    "KVM_GET_REGS failed");
}

Test(kvm, destroy_frees_every_fd, .init = need_kvm)
{
    int before = vl_count_fds();

    vl_assert_ok(vl_kvm_open(&kvm));
    vl_assert_ok(vl_vm_create(&vm, &kvm));
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, PAGE, 0, NULL));
    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    cr_assert_eq(vl_count_fds(), before + 3);
    close_all();
    cr_assert_eq(vl_count_fds(), before);
    close_all(); /* twice is harmless */
}
