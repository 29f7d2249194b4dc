/*
 * boot_linux_test.c - lab 07 with a real kernel: Debian's own, as `make
 * kernel` leaves it in build/kernel/ (vmlinux, version).
 *
 * Layer 2 boots its uncompressed vmlinux through your boot protocol until
 * the kernel prints its banner and the command line minivm passed. Where
 * guest code is emulated (this course's CI: about a minute) it is a slow
 * test: the grader skips it while it checks mutants (VLAB_SKIP_SLOW).
 *
 * Layer 3 boots the same kernel with an initramfs - busybox and an /init
 * script that prints a marker and powers off - to the end: minivm must
 * stop because the guest powered off through ACPI. Only with hardware
 * virtualization (vlab-doctor's kvm.speed); elsewhere it skips with the
 * doctor's measurement.
 *
 * The kernel is looked for in $VLAB_KERNEL_DIR, else in VL_KERNEL_DIR
 * (the build's build/kernel); without it the tests skip and say to run
 * `make kernel`.
 */
#define _GNU_SOURCE /* fopencookie */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mvm_test.h"
#include "virtlab/doctor.h"

#ifndef VL_KERNEL_DIR
#define VL_KERNEL_DIR "build/kernel"
#endif
#ifndef VL_ROOTFS_DIR
#define VL_ROOTFS_DIR "build/rootfs"
#endif

TestSuite(boot_linux, .init = setup, .fini = teardown, .timeout = 240);

/* ---- a console that stops the guest at a line ---------------------------
 * What the guest prints goes to the captured console, and is watched:
 * once `stop_at` has been printed and its line is complete, the next
 * KVM_RUN returns at once (kvm_run.immediate_exit, api.rst 5), so the
 * test need not wait for the kernel to go on or crash. */
static const char *stop_at;
static char *seen;
static size_t seen_len;

static ssize_t watch_write(void *cookie, const char *buf, size_t len)
{
    char *p;

    (void)cookie;
    fwrite(buf, 1, len, console.f);
    p = realloc(seen, seen_len + len + 1);
    if (!p)
        return -1;
    seen = p;
    memcpy(seen + seen_len, buf, len);
    seen_len += len;
    seen[seen_len] = '\0';
    if (stop_at && vm.run) {
        const char *hit = strstr(seen, stop_at);

        if (hit && strchr(hit, '\n'))
            vm.run->immediate_exit = 1;
    }
    return (ssize_t)len;
}

static FILE *watching_console(void)
{
    FILE *f = fopencookie(NULL, "w",
                          (cookie_io_functions_t){
                              .write = watch_write,
                          });

    cr_assert_not_null(f);
    setvbuf(f, NULL, _IONBF, 0);
    return f;
}

/* The kernel's folder, or skip. */
static const char *kernel_dir(void)
{
    const char *dir = getenv("VLAB_KERNEL_DIR");
    char path[600];

    if (!dir || !*dir)
        dir = VL_KERNEL_DIR;
    snprintf(path, sizeof(path), "%s/vmlinux", dir);
    if (access(path, R_OK) != 0)
        cr_skip_test("no Debian kernel at %s (%s): run `make kernel` (or set "
                     "VLAB_KERNEL_DIR)",
                     path, strerror(errno));
    return dir;
}

static void read_in(const char *dir, const char *name, void **data, size_t *len)
{
    char path[600];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    vl_assert_ok(mvm_read_file(path, data, len));
}

/* Boot `kernel` with `cmdline` (and an initrd) until stop_at or the end;
 * returns what mvm_run_guarded() returned. */
static int boot(const void *kernel, size_t klen, const void *initrd,
                size_t ilen, const char *cmdline, unsigned timeout_s)
{
    struct mvm_boot_spec spec = {
        .kernel = kernel,
        .kernel_len = klen,
        .initrd = initrd,
        .initrd_len = ilen,
        .cmdline = cmdline,
        .acpi = true,
    };

    vm.opt.console = watching_console();
    vm.opt.mem_size = 256u << 20;
    vm.opt.timeout_s = timeout_s;
    vl_assert_ok(mvm_create_reference_irqchip(&vm));
    vl_assert_ok(mvm_boot_linux(&vm, &spec));
    return mvm_run_guarded(&vm);
}

/* Layer 2: the banner and the exact command line. */
Test(boot_linux, debian_kernel_prints_its_banner_and_our_command_line)
{
    const char *dir = kernel_dir();
    char line[512], want[600], release[128] = "";
    void *kernel, *version;
    size_t klen, vlen;
    const char *out, *hit;

    vl_skip_if_slow_disabled();
    read_in(dir, "vmlinux", &kernel, &klen);
    read_in(dir, "version", &version, &vlen);
    sscanf(version, "%127s", release);
    snprintf(line, sizeof(line),
             "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 "
             "reboot=k vlab.test=layer2.%d",
             (int)getpid());
    stop_at = "Kernel command line:";
    boot(kernel, klen, NULL, 0, line, 180);
    out = seen ? seen : "";
    snprintf(want, sizeof(want), "Linux version %s ", release);
    cr_assert(strstr(out, want),
              "the kernel's banner \"%s...\" never came: console:\n%.3000s",
              want, out);
    /* The kernel read our E820 map, found our ACPI tables... */
    cr_assert(strstr(out, "BIOS-e820: [mem 0x000000000009fc00-"
                          "0x00000000000fffff] reserved"),
              "the kernel's E820 map: console:\n%.3000s", out);
    cr_assert(strstr(out, "BIOS-e820: [mem 0x0000000000100000-"
                          "0x000000000fffffff] usable"),
              "RAM from 1 MiB to 256 MiB: console:\n%.3000s", out);
    cr_assert(strstr(out, "ACPI: RSDP 0x00000000000E0000"),
              "the kernel found minivm's ACPI tables: console:\n%.3000s", out);
    /* ... and the command line, exactly: the whole line (a serial
     * console ends lines with "\r\n"). */
    snprintf(want, sizeof(want), "Kernel command line: %s", line);
    hit = strstr(out, want);
    cr_assert(hit && (hit[strlen(want)] == '\r' || hit[strlen(want)] == '\n'),
              "no line \"%s\" on the console:\n%.6000s", want, out);
    free(kernel);
    free(version);
}

/* ---- layer 3: an initramfs (cpio "newc", the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst) ---------- */
struct cpio {
    uint8_t *b;
    size_t len, cap;
};

static void cpio_raw(struct cpio *c, const void *p, size_t n)
{
    if (c->len + n + 4 > c->cap) {
        c->cap = (c->len + n + 4) * 2;
        c->b = realloc(c->b, c->cap);
        cr_assert_not_null(c->b);
    }
    if (n)
        memcpy(c->b + c->len, p, n);
    c->len += n;
}

/* Each header-and-name, and each file's data, is padded to 4 bytes. */
static void cpio_pad(struct cpio *c)
{
    static const uint8_t zeros[4];

    cpio_raw(c, zeros, (4 - c->len % 4) % 4);
}

static void cpio_add(struct cpio *c, const char *name, unsigned mode,
                     const void *data, size_t n)
{
    static unsigned ino = 1;
    char hdr[111];

    snprintf(hdr, sizeof(hdr),
             "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             ino++, mode, 0, 0, 1, 0, (unsigned)n, 0, 0, 0, 0,
             (unsigned)strlen(name) + 1, 0);
    cpio_raw(c, hdr, 110);
    cpio_raw(c, name, strlen(name) + 1);
    cpio_pad(c);
    cpio_raw(c, data, n);
    cpio_pad(c);
}

Test(boot_linux, debian_kernel_boots_an_initramfs_and_powers_off)
{
    struct vl_kvm_speed_sample speed;
    const char *dir = kernel_dir();
    char busybox[600], init[256], marker[64];
    void *kernel, *bb;
    size_t klen, bblen;
    struct cpio c = {0};
    int r;

    r = vl_doctor_measure_speed(NULL, &speed);
    if (r < 0 || speed.speed != VL_KVM_SPEED_HARDWARE)
        cr_skip_test("a full boot needs hardware virtualization; vlab-doctor's "
                     "kvm.speed here: %s (%.0f ns per guest instruction, "
                     "%.1f us per exit)",
                     r < 0 ? "unknown" : vl_kvm_speed_name(speed.speed),
                     speed.ns_per_insn, speed.us_per_exit);
    snprintf(busybox, sizeof(busybox), "%s/bin/busybox",
             getenv("VLAB_ROOTFS_DIR") ? getenv("VLAB_ROOTFS_DIR")
                                       : VL_ROOTFS_DIR);
    if (access(busybox, R_OK) != 0)
        cr_skip_test("no busybox at %s: run `make rootfs`", busybox);
    vl_assert_ok(mvm_read_file(busybox, &bb, &bblen));
    read_in(dir, "vmlinux", &kernel, &klen);
    snprintf(marker, sizeof(marker), "VLAB-INIT-%d", (int)getpid());
    snprintf(init, sizeof(init),
             "#!/bin/sh\n/bin/busybox echo %s\n/bin/busybox poweroff -f\n",
             marker);
    cpio_add(&c, "bin", 040755, NULL, 0);
    cpio_add(&c, "bin/busybox", 0100755, bb, bblen);
    cpio_add(&c, "bin/sh", 0120777, "busybox", 7);
    cpio_add(&c, "init", 0100755, init, strlen(init));
    cpio_add(&c, "TRAILER!!!", 0, NULL, 0);

    stop_at = NULL;
    r = boot(kernel, klen, c.b, c.len, "console=ttyS0 panic=-1 reboot=k quiet",
             120);
    cr_assert(seen && strstr(seen, marker),
              "init never printed %s: console:\n%.6000s", marker,
              seen ? seen : "");
    cr_assert_eq(r, 0, "the run must end cleanly: %s", vl_errmsg());
    cr_assert_eq(vm.kernel.power, MVM_POWER_OFF,
                 "init's poweroff -f must power the VM off through ACPI");
    free(c.b);
    free(bb);
    free(kernel);
}
