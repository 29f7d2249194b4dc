/*
 * kvm_exit_test.c - exits and registers as text (virtlab/kvm_exit.h).
 * Most tests build a kvm_run by hand, as KVM would fill it; the last ones
 * make a real guest fail and read what the library says about it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "virtlab/kvm.h"
#include "virtlab/kvm_exit.h"

/* A kvm_run with room behind it for I/O data, as in the real mapping. */
static union {
    struct kvm_run run;
    uint8_t bytes[4096];
} page;

static struct kvm_run *fresh(uint32_t reason)
{
    memset(&page, 0, sizeof(page));
    page.run.exit_reason = reason;
    return &page.run;
}

static char line[1024];

Test(kvm_exit, names_reasons)
{
    cr_assert_str_eq(vl_exit_reason_name(KVM_EXIT_IO), "KVM_EXIT_IO");
    cr_assert_str_eq(vl_exit_reason_name(KVM_EXIT_SHUTDOWN),
                     "KVM_EXIT_SHUTDOWN");
    cr_assert_str_eq(vl_exit_reason_name(9999), "KVM_EXIT_9999");
}

Test(kvm_exit, describes_port_output_with_character)
{
    struct kvm_run *run = fresh(KVM_EXIT_IO);

    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.port = 0xe9;
    run->io.size = 1;
    run->io.count = 1;
    run->io.data_offset = 256;
    page.bytes[256] = 'H';
    vl_exit_describe(run, 0x1005, line, sizeof(line));
    cr_assert_str_eq(line,
                     "KVM_EXIT_IO out port 0xe9 size 1 data 'H' at rip 0x1005");
}

Test(kvm_exit, describes_wide_and_repeated_port_access)
{
    struct kvm_run *run = fresh(KVM_EXIT_IO);

    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.port = 0x3f8;
    run->io.size = 2;
    run->io.count = 3;
    run->io.data_offset = 256;
    page.bytes[256] = 0x34;
    page.bytes[257] = 0x12;
    vl_exit_describe(run, 0x10, line, sizeof(line));
    cr_assert_str_eq(
        line,
        "KVM_EXIT_IO out port 0x3f8 size 2 count 3 data 0x1234 at rip 0x10");
    run->io.direction = KVM_EXIT_IO_IN;
    run->io.count = 1;
    vl_exit_describe(run, 0x10, line, sizeof(line));
    cr_assert_str_eq(line, "KVM_EXIT_IO in port 0x3f8 size 2 at rip 0x10");
}

Test(kvm_exit, describes_mmio)
{
    struct kvm_run *run = fresh(KVM_EXIT_MMIO);

    run->mmio.phys_addr = 0xd0000000;
    run->mmio.len = 4;
    run->mmio.is_write = 1;
    memcpy(run->mmio.data, "\x78\x56\x34\x12", 4);
    vl_exit_describe(run, 0x2000, line, sizeof(line));
    cr_assert_str_eq(line, "KVM_EXIT_MMIO write addr 0xd0000000 len 4 data "
                           "0x12345678 at rip 0x2000");
}

Test(kvm_exit, ordinary_exits_need_no_explanation)
{
    cr_assert_eq(vl_exit_explain(fresh(KVM_EXIT_HLT), line, sizeof(line)), 0);
    cr_assert_str_eq(line, "");
}

Test(kvm_exit, explains_fail_entry_invalid_guest_state)
{
    struct kvm_run *run = fresh(KVM_EXIT_FAIL_ENTRY);

    run->fail_entry.hardware_entry_failure_reason = 0x80000021; /* 33 */
    vl_exit_describe(run, 0, line, sizeof(line));
    cr_assert(strstr(line, "hardware reason 0x80000021") != NULL, "%s", line);
    cr_assert_gt(vl_exit_explain(run, line, sizeof(line)), 0);
    cr_assert(strstr(line, "invalid guest state") != NULL, "%s", line);
}

Test(kvm_exit, explains_internal_emulation_error)
{
    struct kvm_run *run = fresh(KVM_EXIT_INTERNAL_ERROR);

    run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
    run->internal.ndata = 2;
    run->internal.data[0] = 0xabc;
    vl_exit_explain(run, line, sizeof(line));
    cr_assert(strstr(line, "emulate") != NULL, "%s", line);
    cr_assert(strstr(line, "integer-only") != NULL, "%s", line);
    cr_assert(strstr(line, "0xabc") != NULL, "%s", line);
}

Test(kvm_exit, explanation_is_truncated_safely)
{
    char tiny[16];

    vl_exit_explain(fresh(KVM_EXIT_SHUTDOWN), tiny, sizeof(tiny));
    cr_assert_eq(strlen(tiny), sizeof(tiny) - 1);
    vl_exit_describe(fresh(KVM_EXIT_HLT), 0, tiny, 0); /* must not write */
}

Test(kvm_exit, dumps_registers_and_mode)
{
    struct kvm_regs regs = {.rax = 0x1234, .rip = 0x1000, .rflags = 0x202};
    struct kvm_sregs sregs = {.cr0 = 0x60000010};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    vl_regs_dump(f, &regs, &sregs);
    fclose(f);
    cr_assert(strstr(text, "RAX=0000000000001234") != NULL, "%s", text);
    cr_assert(strstr(text, "RIP=0000000000001000") != NULL, "%s", text);
    cr_assert(strstr(text, "[ IF]") != NULL, "%s", text);
    cr_assert(strstr(text, "mode: real mode") != NULL, "%s", text);
    free(text);
}

/* A real triple fault: lidt with limit 0, CR0.PE = 1, ud2. */
Test(kvm_exit, real_shutdown_is_explained_as_triple_fault)
{
    static const uint8_t guest[] = {
        0x0f, 0x01, 0x1e, 0x00, 0x11, /* lidt [0x1100]           */
        0x0f, 0x20, 0xc0,             /* mov eax, cr0            */
        0x66, 0x83, 0xc8, 0x01,       /* or eax, 1 (CR0.PE)      */
        0x0f, 0x22, 0xc0,             /* mov cr0, eax            */
        0x0f, 0x0b,                   /* ud2 -> triple fault     */
    };
    static const uint8_t empty_idt[6] = {0};
    struct vl_kvm kvm;
    struct vl_vm vm;
    struct vl_vcpu vcpu;

    vl_require_kvm();
    vl_assert_ok(vl_kvm_open(&kvm));
    vl_assert_ok(vl_vm_create(&vm, &kvm));
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, 0x10000, 0, NULL));
    vl_assert_ok(vl_vm_write(&vm, 0x1000, guest, sizeof(guest)));
    vl_assert_ok(vl_vm_write(&vm, 0x1100, empty_idt, sizeof(empty_idt)));
    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    vl_assert_ok(vl_vcpu_reset_real(&vcpu, 0x1000, 0x1000));
    cr_assert_eq(vl_assert_ok(vl_vcpu_run(&vcpu)), KVM_EXIT_SHUTDOWN);
    vl_exit_explain(vcpu.run, line, sizeof(line));
    cr_assert(strstr(line, "triple fault") != NULL, "%s", line);
    vl_vcpu_destroy(&vcpu);
    vl_vm_destroy(&vm);
    vl_kvm_close(&kvm);
}
