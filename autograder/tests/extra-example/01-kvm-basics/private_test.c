/*
 * private_test.c - an example of an instructor's private tests for lab 01,
 * graded with `vlab-grade --extra-tests autograder/tests/extra-example`.
 *
 * One test passes with the reference solution; the other fails on purpose
 * (it asks for a memory size the lab does not require), so the grader's own
 * tests can check that a failing private test costs its points, shows its
 * hint and the output it printed.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "mvm_test.h"

TestSuite(kvm_private, .init = setup, .fini = teardown, .timeout = 60);

/* Passes with the reference: the VM fd is not the /dev/kvm fd. */
Test(kvm_private, vm_fd_differs_from_kvm_fd)
{
    vl_assert_ok(mvm_open_kvm(&vm));
    vl_assert_ok(mvm_create_vm(&vm));
    cr_assert_neq(vm.vm_fd, vm.kvm_fd, "the VM needs its own fd");
}

/* Fails on purpose: prints a line the rubric's hint keys on. */
Test(kvm_private, demands_a_huge_page_of_memory)
{
    printf("private: asking for 3 bytes of guest memory\n");
    fflush(stdout);
    cr_assert_fail("an example private test that always fails");
}
