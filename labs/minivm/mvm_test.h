/*
 * mvm_test.h - fixtures shared by the tests of every minivm lab.
 *
 * Each test runs in its own process (Criterion forks), so the one `vm`
 * below is fresh in every test. boot_with_libvirtlab() sets a VM up with
 * libvirtlab, the reference for lab 01, so a lab's tests do not depend on
 * the student's lab 01.
 */
#ifndef MVM_TEST_H
#define MVM_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "helpers.h"
#include "minivm.h"
#include "virtlab/kvm.h"
#include "virtlab/x86.h"

#define PAGE 4096

struct capture {
    char *buf;
    size_t len;
    FILE *f;
};

static inline void capture_open(struct capture *c)
{
    *c = (struct capture){0};
    c->f = open_memstream(&c->buf, &c->len);
    cr_assert(c->f, "open_memstream failed");
}

static inline const char *capture_text(struct capture *c)
{
    fflush(c->f);
    return c->buf ? c->buf : "";
}

static inline void capture_close(struct capture *c)
{
    fclose(c->f);
    free(c->buf);
}

static struct minivm vm __attribute__((unused));
static struct capture console __attribute__((unused)),
    log_ __attribute__((unused));

static inline void setup(void)
{
    struct mvm_options opt;

    vl_require_kvm();
    capture_open(&console);
    capture_open(&log_);
    mvm_options_default(&opt);
    opt.console = console.f;
    opt.log = log_.f;
    mvm_init(&vm, &opt);
}

static inline void teardown(void)
{
    mvm_destroy(&vm);
    capture_close(&console);
    capture_close(&log_);
}

static inline void load_guest_file(const char *name, void **image, size_t *len)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", VL_GUEST_DIR, name);
    vl_assert_ok(mvm_read_file(path, image, len));
}

/*
 * Set up a VM ready to run `image` with libvirtlab (the reference for
 * TODOs 1-6) and hand its fds and mappings to `vm`, which frees them.
 */
static inline void boot_with_libvirtlab(const void *image, size_t len)
{
    void *where;

    vl_assert_ok(mvm_create_reference(&vm));
    where = mvm_gpa(&vm, MVM_LOAD_ADDR, len);
    cr_assert_not_null(where, "the guest image does not fit: %s", vl_errmsg());
    memcpy(where, image, len);
}
static inline void boot_guest_file(const char *name)
{
    void *image;
    size_t len;

    load_guest_file(name, &image, &len);
    boot_with_libvirtlab(image, len);
    free(image);
}

/*
 * Lab 04 on: a 64-bit C guest in long mode with minivm's devices on the
 * bus. The VM comes from libvirtlab (lab 01's reference), the page tables
 * and long mode from lab 02, then mvm_setup_devices() puts the UART, the
 * test device and the rest on the bus with lab 04's mvm_bus_register():
 * yours when lab 04 is graded (intended), the reference in later labs.
 */
static inline void boot_long_guest_file(const char *name)
{
    boot_guest_file(name);
    vl_assert_ok(mvm_build_page_tables(&vm));
    vl_assert_ok(mvm_enter_long(&vm, MVM_LOAD_ADDR));
    vl_assert_ok(mvm_setup_devices(&vm));
}

/* One KVM_RUN, checked: what the run loop of TODO 8 does each time. */
static inline uint32_t run_once(void)
{
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_RUN, 0), 0, "KVM_RUN: %s",
                 strerror(errno));
    return vm.run->exit_reason;
}

static inline struct kvm_sregs get_sregs(void)
{
    struct kvm_sregs s;

    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_SREGS, &s), 0, "KVM_GET_SREGS");
    return s;
}

/* The guest-physical address `va` translates to, through KVM_TRANSLATE
 * (api.rst 4.15), or UINT64_MAX when the vCPU's tables do not map it. */
static inline uint64_t translate(uint64_t va)
{
    struct kvm_translation tr = {.linear_address = va};

    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_TRANSLATE, &tr), 0, "KVM_TRANSLATE");
    return tr.valid ? tr.physical_address : UINT64_MAX;
}

/* Point the vCPU at vm.pt_root in long mode, with values of our own, so
 * tests can ask KVM to walk page tables without the student's lab 02. */
static inline void paging_on_with_libvirtlab(void)
{
    struct kvm_sregs s = get_sregs();

    s.cr3 = vm.pt_root;
    s.cr4 |= VL_CR4_PAE;
    s.efer |= VL_EFER_LME | VL_EFER_LMA;
    s.cr0 |= VL_CR0_PE | VL_CR0_PG;
    s.cs.l = 1;
    s.cs.db = 0;
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_SET_SREGS, &s), 0, "KVM_SET_SREGS");
}

#endif
