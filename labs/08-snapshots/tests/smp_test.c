/*
 * smp_test.c - the tests of lab 08's third part (smp.c, TODOs 7-9): the
 * application processors, one thread per vCPU, the pause, then a snapshot
 * of a multiprocessor guest end to end.
 *
 * The guest is smp_count: the BSP starts the APs with INIT-SIPI-SIPI
 * through its local APIC (KVM's, lab 06's irqchip), then every CPU adds
 * to one counter under a spinlock.
 */
#define _GNU_SOURCE
#include "../guest/snap08.h"
#include "snap_test.h"

TestSuite(smp, .init = setup, .fini = snap_teardown, .timeout = 30);

_Static_assert(SMP_INFO_ADDR == MVM_SMP_INFO_ADDR &&
                   LAPIC_BASE == MVM_LAPIC_ADDR,
               "snap08.h and snap.h disagree on the layout");
_Static_assert(HC_PORT == MVM_HC_PORT && HC_PRINT == MVM_HC_PRINT &&
                   HC_EXIT == MVM_HC_EXIT,
               "snap08.h and minivm.h disagree on the hypercall ABI");

/* What smp_count prints with n CPUs. */
static char *smp_expected(int n)
{
    char *text = NULL, *next;

    cr_assert(asprintf(&text, "smp: %d CPUs, BSP has APIC ID 0\n", n) > 0);
    for (int i = 1; i < n; i++) {
        cr_assert(asprintf(&next, "%scpu %d is up\n", text, i) > 0);
        free(text);
        text = next;
    }
    for (int c = SMP_EVERY; c <= n * SMP_ROUNDS; c += SMP_EVERY) {
        cr_assert(asprintf(&next, "%scount %d\n", text, c) > 0);
        free(text);
        text = next;
    }
    cr_assert(asprintf(&next, "%stotal %d = %d CPUs x %d\n", text,
                       n * SMP_ROUNDS, n, SMP_ROUNDS) > 0);
    free(text);
    return next;
}

/* ---- TODO 7: the application processors ------------------------------ */

Test(smp, aps_are_created_waiting_for_init_and_sipi)
{
    struct minivm plain;

    /* Without the in-kernel irqchip, no AP can wait for a SIPI. */
    mvm_init(&plain, &vm.opt);
    vl_assert_ok(mvm_create_reference(&plain));
    mvm_smp_adopt_bsp(&plain);
    vl_assert_fails(mvm_smp_create_aps(&plain, 2), EINVAL, "irqchip");
    mvm_destroy(&plain);

    boot_irqchip_guest_file("smp_count.bin");
    mvm_smp_adopt_bsp(&vm);
    vl_assert_fails(mvm_smp_create_aps(&vm, MVM_MAX_VCPUS + 1), EINVAL, "");
    vl_assert_ok(mvm_smp_create_aps(&vm, 4));
    cr_assert_eq(vm.smp.ncpus, 4, "vm.smp.ncpus counts vCPU 0 and the APs");
    for (int i = 1; i < 4; i++) {
        struct mvm_cpu *c = &vm.smp.cpu[i];
        struct kvm_mp_state mp;
        struct kvm_lapic_state lapic;
        uint32_t id;

        cr_assert_eq(c->id, i, "vm.smp.cpu[%d].id", i);
        cr_assert_gt(c->fd, 2, "vm.smp.cpu[%d].fd", i);
        cr_assert_not_null(c->run, "vm.smp.cpu[%d].run: map the kvm_run", i);
        cr_assert_eq(ioctl(c->fd, KVM_GET_MP_STATE, &mp), 0);
        cr_assert_eq(mp.mp_state, KVM_MP_STATE_UNINITIALIZED,
                     "AP %d: mp_state %u; an AP waits for INIT and SIPI "
                     "(KVM_MP_STATE_UNINITIALIZED) until the BSP starts it",
                     i, mp.mp_state);
        cr_assert_eq(ioctl(c->fd, KVM_GET_LAPIC, &lapic), 0);
        memcpy(&id, &lapic.regs[0x20], 4);
        cr_assert_eq(id >> 24, (uint32_t)i, "AP %d has APIC ID %u", i,
                     id >> 24);
    }
}

/* ---- TODO 8: one thread per vCPU -------------------------------------- */

/* smp_count with n vCPUs, threads started. */
static void start_smp_count(int n)
{
    boot_irqchip_guest_file("smp_count.bin");
    vl_assert_ok(mvm_smp_setup(&vm, n));
    vl_assert_ok(mvm_smp_start(&vm));
}

Test(smp, every_vcpu_counts_in_its_own_thread)
{
    uint64_t sum = 0;

    start_smp_count(4);
    cr_assert_eq(mvm_smp_wait(&vm, 0, 5), 1, "the guest did not stop: %s",
                 vl_errmsg());
    cr_assert_eq(mvm_smp_join(&vm), 0, "%s", vl_errmsg());
    cr_assert_str_eq(capture_text(&console), smp_expected(4));
    cr_assert(vm.exited && vm.exit_status == 0,
              "smp_count exits with 0 when the total is right");
    for (int i = 0; i < 4; i++)
        sum += vm.smp.cpu[i].exits;
    cr_assert_eq(sum, vm.exits,
                 "each exit is counted in vm.exits and its vCPU's exits");
    cr_assert_eq(vm.vcpu_fd, vm.smp.cpu[0].fd, "vCPU 0 again after the run");
}

Test(smp, a_failing_vcpu_stops_every_thread)
{
    start_smp_count(3);
    vm.opt.max_exits = 3;
    cr_assert_eq(mvm_smp_wait(&vm, 0, 5), 1, "the VM did not stop");
    vl_assert_fails(mvm_smp_join(&vm), ELOOP, "--max-exits");
    for (int i = 0; i < 3; i++)
        cr_assert(!vm.smp.cpu[i].running, "the thread of vCPU %d runs on", i);
}

/* ---- TODO 9: pause ---------------------------------------------------- */

Test(smp, pause_gets_every_vcpu_out_of_kvm_run)
{
    struct kvm_regs before[3], after;

    start_smp_count(3);
    cr_assert_eq(mvm_smp_wait(&vm, 3, 5), 0, "3 exits never came");
    vl_assert_ok(mvm_smp_pause(&vm));
    for (int i = 0; i < 3; i++) {
        struct mvm_cpu *c = &vm.smp.cpu[i];

        cr_assert(c->parked || !c->running, "vCPU %d is not parked", i);
        /* A vCPU ioctl waits while the vCPU is in KVM_RUN: these return
         * at once only if every vCPU is out. */
        cr_assert_eq(ioctl(c->fd, KVM_GET_REGS, &before[i]), 0);
    }
    usleep(20000);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(ioctl(vm.smp.cpu[i].fd, KVM_GET_REGS, &after), 0);
        cr_assert_eq(after.rip, before[i].rip, "vCPU %d runs while paused", i);
    }
    mvm_smp_resume(&vm);
    cr_assert_eq(mvm_smp_wait(&vm, 0, 5), 1, "the guest did not go on");
    cr_assert_eq(mvm_smp_join(&vm), 0, "%s", vl_errmsg());
    cr_assert_str_eq(capture_text(&console), smp_expected(3));
}

/* ---- end to end ------------------------------------------------------- */

Test(smp, a_snapshot_brings_back_every_cpu)
{
    char *snap = test_path("smp.mvm"), *joined, *info;
    struct run_args save = {
        .guest = "smp_count.bin", .smp = 3, .snapshot = snap, .save_after = 2};
    struct proc a, b;

    cr_assert_eq(run_guest(&a, "a", NULL, 20, &save), 0, "%s", a.err);
    cr_assert(strstr(a.err, "saved the VM after 2 exits"),
              "--save-after 2: every vCPU stops at the second exit:\n%s",
              a.err);
    cr_assert_eq(
        run_cli(&b, "b", NULL, 20, ARGS("restore", snap, "--timeout", "5")), 0,
        "the restored guest failed (status %d): %s", b.status, b.err);
    cr_assert(asprintf(&joined, "%s%s", a.out, b.out) > 0);
    cr_assert_str_eq(joined, smp_expected(3),
                     "saved with 3 vCPUs, then restored by another process: "
                     "the output differs from the uninterrupted run");
    info = inspect(snap);
    cr_assert(strstr(info, "3 vCPUs, 4096 KiB of RAM, in-kernel irqchip"), "%s",
              info);
    cr_assert(strstr(info, "CLCK PIC0 PIC1 IOAP PIT2"), "%s", info);
    cr_assert(strstr(info, "CPU   2"), "%s", info);
    cr_assert(strstr(info, "MSRS LAPC"), "%s", info);
}
