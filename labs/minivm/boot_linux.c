/*
 * boot_linux.c - minivm's driver for booting Linux (lab 07): the order of
 * the steps, the ACPI tables and the legacy ports a PC kernel expects.
 * None of this is a lab; the boot protocol itself is lab 07's boot.c.
 */
#include "minivm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "virtlab/kvm.h"
#include "virtlab/x86.h"

enum mvm_kernel_format mvm_kernel_detect(const void *image, size_t len)
{
    const uint8_t *b = image;
    uint32_t magic;

    if (len >= 4 && !memcmp(b, "\177ELF", 4))
        return MVM_KERNEL_ELF;
    if (len >= MVM_HDRS_OFF + 4) {
        memcpy(&magic, b + MVM_HDRS_OFF, sizeof(magic));
        if (magic == MVM_HDRS_MAGIC)
            return MVM_KERNEL_BZIMAGE;
    }
    return MVM_KERNEL_NONE;
}

const char *mvm_kernel_format_name(enum mvm_kernel_format f)
{
    switch (f) {
    case MVM_KERNEL_BZIMAGE:
        return "bzImage";
    case MVM_KERNEL_ELF:
        return "ELF vmlinux";
    case MVM_KERNEL_NONE:
        break;
    }
    return "unknown";
}

/* ---- ACPI tables (ACPI 6.5, 5.2 "ACPI System Description Tables") ----
 * The smallest set Linux accepts that lets it power the VM off: the RSDP
 * points at the XSDT, which lists the FADT and the MADT. The FADT gives
 * the PM1a event and control ports (minivm's platform device below), the
 * SCI interrupt and the DSDT, whose AML holds one object, \_S5, the value
 * to write to SLP_TYP for "soft off". The MADT lists the local APIC and
 * the IOAPIC of KVM's in-kernel irqchip. */
#define ACPI_RSDP   0x000 /* offsets from MVM_ACPI_ADDR */
#define ACPI_XSDT   0x040
#define ACPI_FADT   0x100
#define ACPI_FACS   0x240 /* 64-byte aligned */
#define ACPI_DSDT   0x300
#define ACPI_MADT   0x400
#define ACPI_HDR    36 /* the common table header */
#define FADT_LEN    276
#define LAPIC_ADDR  0xfee00000u
#define IOAPIC_ADDR 0xfec00000u

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Every table's bytes add up to 0 (mod 256): the checksum byte does it. */
static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;

    while (len--)
        s = (uint8_t)(s + *p++);
    return (uint8_t)-s;
}

static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "MINIVM", 6);
    memcpy(t + 16, "MINIVM  ", 8);
    put32(t + 24, 1);
    memcpy(t + 28, "MVM ", 4);
    put32(t + 32, 1);
}

static void acpi_seal(uint8_t *t)
{
    uint32_t len;

    memcpy(&len, t + 4, 4);
    t[9] = 0;
    t[9] = acpi_sum(t, len);
}

int mvm_acpi_tables(struct minivm *vm, uint64_t *rsdp)
{
    /* Name(_S5_, Package(4) {5, 5, 0, 0}): NameOp, the name, PackageOp,
     * PkgLength, NumElements, BytePrefix 5 twice, ZeroOp twice (ACPI 6.5,
     * 20 "ACPI Machine Language (AML) Specification"). */
    static const uint8_t s5[] = {0x08, '_',  'S',  '5',  '_',  0x12, 0x08,
                                 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
    const uint64_t base = MVM_ACPI_ADDR;
    uint8_t *a = mvm_gpa(vm, base, MVM_ACPI_SIZE);
    uint8_t *t;

    if (!a)
        return vl_err_ctx(-EFAULT, "writing the ACPI tables");
    memset(a, 0, MVM_ACPI_SIZE);

    t = a + ACPI_DSDT;
    acpi_header(t, "DSDT", ACPI_HDR + sizeof(s5), 2);
    memcpy(t + ACPI_HDR, s5, sizeof(s5));
    acpi_seal(t);

    t = a + ACPI_FACS;
    memcpy(t, "FACS", 4);
    put32(t + 4, 64);
    t[32] = 2; /* version */

    t = a + ACPI_FADT;
    acpi_header(t, "FACP", FADT_LEN, 6);
    t[131] = 5;                                  /* FADT minor version */
    put32(t + 36, (uint32_t)(base + ACPI_FACS)); /* FIRMWARE_CTRL */
    put32(t + 40, (uint32_t)(base + ACPI_DSDT)); /* DSDT */
    put16(t + 46, MVM_SCI_IRQ);                  /* SCI_INT */
    put32(t + 56, MVM_PM1A_EVT);                 /* PM1a_EVT_BLK */
    put32(t + 64, MVM_PM1A_CNT);                 /* PM1a_CNT_BLK */
    t[88] = 4;                                   /* PM1_EVT_LEN */
    t[89] = 2;                                   /* PM1_CNT_LEN */
    /* IAPC_BOOT_ARCH: no VGA (bit 2); no 8042 (bit 1 clear). */
    put16(t + 109, 1u << 2);
    /* Flags: WBINVD works (0), power and sleep buttons are not fixed
     * hardware (4, 5). */
    put32(t + 112, 1u << 0 | 1u << 4 | 1u << 5);
    put64(t + 132, base + ACPI_FACS); /* X_FIRMWARE_CTRL */
    put64(t + 140, base + ACPI_DSDT); /* X_DSDT */
    acpi_seal(t);

    t = a + ACPI_MADT;
    {
        uint8_t *e = t + 44;

        put32(t + 36, LAPIC_ADDR);
        put32(t + 40, 1); /* PCAT_COMPAT: there are 8259 PICs too */
        /* Processor Local APIC: uid 0, APIC id 0, enabled. */
        e[0] = 0, e[1] = 8, e[2] = 0, e[3] = 0, put32(e + 4, 1);
        e += 8;
        /* I/O APIC: id 0, at IOAPIC_ADDR, GSIs from 0. */
        e[0] = 1, e[1] = 12, e[2] = 0, put32(e + 4, IOAPIC_ADDR);
        put32(e + 8, 0);
        e += 12;
        /* Interrupt Source Overrides: ISA IRQ 0 (the PIT) is GSI 2, and
         * the SCI is level-triggered, active high, as on a PC. */
        e[0] = 2, e[1] = 10, e[2] = 0, e[3] = 0, put32(e + 4, 2);
        put16(e + 8, 0);
        e += 10;
        e[0] = 2, e[1] = 10, e[2] = 0, e[3] = MVM_SCI_IRQ;
        put32(e + 4, MVM_SCI_IRQ), put16(e + 8, 0xd);
        e += 10;
        acpi_header(t, "APIC", (uint32_t)(e - t), 4);
    }
    acpi_seal(t);

    t = a + ACPI_XSDT;
    acpi_header(t, "XSDT", ACPI_HDR + 2 * 8, 1);
    put64(t + ACPI_HDR, base + ACPI_FADT);
    put64(t + ACPI_HDR + 8, base + ACPI_MADT);
    acpi_seal(t);

    t = a + ACPI_RSDP;
    memcpy(t, "RSD PTR ", 8);
    memcpy(t + 9, "MINIVM", 6);
    t[15] = 2;         /* revision: ACPI 2.0+, with an XSDT */
    put32(t + 20, 36); /* length */
    put64(t + 24, base + ACPI_XSDT);
    t[8] = acpi_sum(t, 20);
    t[32] = acpi_sum(t, 36);
    *rsdp = base + ACPI_RSDP;
    return 0;
}

/* ---- the platform: every port no other device claims ----------------
 * A PC kernel probes many legacy ports (keyboard controller, CMOS, the
 * POST port 0x80, other serial ports, PCI configuration). Where nothing
 * answers on an ISA bus, a read floats to all ones and a write is lost:
 * this device does the same for every gap between the devices on the bus,
 * and knows the three ports that end a boot - the i8042's reset command,
 * and ACPI's PM1a event and control registers. */
static int platform_read(struct minivm *vm, void *opaque, uint64_t offset,
                         void *data, unsigned len)
{
    uint64_t port = (uintptr_t)opaque + offset;
    struct mvm_kernel *k = &vm->kernel;

    memset(data, 0xff, len);
    if (port == MVM_I8042_CMD)
        memset(data, 0, len); /* status: no byte waiting either way */
    else if (port >= MVM_PM1A_EVT && port < MVM_PM1A_EVT + 4) {
        uint8_t evt[4] = {0, 0, k->pm1_enable[0], k->pm1_enable[1]};
        unsigned at = (unsigned)(port - MVM_PM1A_EVT);

        for (unsigned i = 0; i < len; i++)
            ((uint8_t *)data)[i] = at + i < 4 ? evt[at + i] : 0xff;
    } else if (port == MVM_PM1A_CNT) {
        uint16_t v = k->pm1_control | 1; /* SCI_EN: in ACPI mode */

        memcpy(data, &v, len < 2 ? len : 2);
    }
    return MVM_CONTINUE;
}

static int platform_write(struct minivm *vm, void *opaque, uint64_t offset,
                          const void *data, unsigned len)
{
    uint64_t port = (uintptr_t)opaque + offset;
    struct mvm_kernel *k = &vm->kernel;
    uint32_t v = 0;

    memcpy(&v, data, len < 4 ? len : 4);
    if (port == MVM_I8042_CMD && (v & 0xff) == MVM_I8042_RESET) {
        k->power = MVM_POWER_RESET;
        return MVM_STOP;
    }
    if (port >= MVM_PM1A_EVT + 2 && port < MVM_PM1A_EVT + 4) {
        for (unsigned i = 0; i < len && port + i < MVM_PM1A_EVT + 4; i++)
            k->pm1_enable[port + i - MVM_PM1A_EVT - 2] = (uint8_t)(v >> 8 * i);
    } else if (port == MVM_PM1A_CNT && len >= 2) {
        k->pm1_control = (uint16_t)v;
        if ((v & MVM_PM1_SLP_EN) && MVM_PM1_SLP_TYP(v) == MVM_S5_SLP_TYP) {
            k->power = MVM_POWER_OFF;
            return MVM_STOP;
        }
    }
    return MVM_CONTINUE;
}

/* Put the platform device on every port range no device has. */
static int platform_fill_gaps(struct minivm *vm)
{
    uint64_t at = 0;

    while (at < 0x10000) {
        uint64_t end = 0x10000;
        struct mvm_device d;
        int r;

        /* The nearest device at or after `at`. */
        for (int i = 0; i < vm->bus.ndev; i++) {
            const struct mvm_device *o = &vm->bus.dev[i];

            if (o->space != MVM_SPACE_PORT)
                continue;
            if (o->base <= at && at < o->base + o->len) {
                at = o->base + o->len;
                i = -1; /* start over from the new `at` */
                continue;
            }
            if (o->base > at && o->base < end)
                end = o->base;
        }
        if (at >= 0x10000)
            break;
        d = (struct mvm_device){
            "platform",     MVM_SPACE_PORT,       at, end - at, platform_read,
            platform_write, (void *)(uintptr_t)at};
        if ((r = mvm_bus_register(&vm->bus, &d)) < 0)
            return vl_err_ctx(r, "the platform's ports [0x%llx, 0x%llx)",
                              (unsigned long long)at, (unsigned long long)end);
        at = end;
    }
    return 0;
}

int mvm_boot_linux(struct minivm *vm, const struct mvm_boot_spec *spec)
{
    struct mvm_kernel *k = &vm->kernel;
    enum mvm_kernel_format fmt;
    int r;

    fmt = mvm_kernel_detect(spec->kernel, spec->kernel_len);
    switch (fmt) {
    case MVM_KERNEL_BZIMAGE:
        if ((r = mvm_bzimage_parse(spec->kernel, spec->kernel_len, k)) < 0)
            return vl_err_ctx(r, "reading the bzImage's setup header");
        if ((r = mvm_kernel_load(vm, k)) < 0)
            return vl_err_ctx(r, "loading the kernel");
        break;
    case MVM_KERNEL_ELF:
        if ((r = mvm_elf_load(vm, spec->kernel, spec->kernel_len, k)) < 0)
            return vl_err_ctx(r, "loading the ELF vmlinux");
        break;
    case MVM_KERNEL_NONE:
        return vl_err_plain(ENOEXEC,
                            "the kernel is neither a bzImage (\"HdrS\" at "
                            "0x202) nor an ELF vmlinux (\\177ELF)");
    }
    if (spec->initrd) {
        void *dst;

        if ((r = mvm_initrd_place(vm, k, spec->initrd_len, &k->initrd_addr)) <
            0)
            return vl_err_ctx(r, "placing the initrd");
        dst = mvm_gpa(vm, k->initrd_addr, spec->initrd_len);
        if (!dst)
            return vl_err_ctx(-EFAULT, "loading the initrd");
        memcpy(dst, spec->initrd, spec->initrd_len);
        k->initrd_size = spec->initrd_len;
    }
    if (spec->acpi && (r = mvm_acpi_tables(vm, &k->rsdp_addr)) < 0)
        return r;
    if ((r = mvm_boot_params(vm, k, spec->cmdline ? spec->cmdline : "")) < 0)
        return vl_err_ctx(r, "writing the zero page");
    if ((r = mvm_setup_cpuid(vm)) < 0)
        return vl_err_ctx(r, "setting CPUID");
    if ((r = mvm_enter_kernel64(vm, k)) < 0)
        return vl_err_ctx(r, "entering the kernel");
    if ((r = mvm_setup_devices(vm)) < 0)
        return vl_err_ctx(r, "setting up the devices");
    if (vm->bus.ndev && (r = platform_fill_gaps(vm)) < 0)
        return vl_err_ctx(r, "setting up the devices");
    return 0;
}
