/*
 * bootproto.h - lab 07, booting Linux: minivm's types and stage functions
 * for the x86 boot protocol (included by minivm.h; see
 * labs/07-boot-linux/).
 *
 * The layouts come from the kernel's own UAPI headers (linux-libc-dev):
 * <asm/bootparam.h> (struct boot_params, the "zero page", with struct
 * setup_header at 0x1f1) and <asm/e820.h> (the E820 memory types), as
 * Documentation/arch/x86/boot.rst describes them.
 */
#ifndef MINIVM_BOOTPROTO_H
#define MINIVM_BOOTPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <asm/bootparam.h> /* struct boot_params, setup_header, e820 entry */
#include <asm/e820.h>      /* E820_RAM, E820_RESERVED, E820_ACPI */

struct minivm;

/* boot.rst, "The Real-Mode Kernel Header": offsets in the bzImage file. */
#define MVM_BOOT_FLAG_OFF  0x1fe      /* boot_flag: 0xAA55 */
#define MVM_BOOT_FLAG      0xaa55     /* the boot sector's signature */
#define MVM_HDRS_OFF       0x202      /* header: "HdrS" */
#define MVM_HDRS_MAGIC     0x53726448 /* "HdrS" read as a little-endian u32 */
#define MVM_SETUP_HDR_OFF  0x1f1      /* struct setup_header starts here */
/* The oldest protocol minivm boots: 2.12 brought xloadflags, whose
 * XLF_KERNEL_64 bit promises the 64-bit entry at +0x200 we jump to (and
 * 2.10 before it init_size and pref_address, which we need to place the
 * kernel). */
#define MVM_BOOT_PROTO_MIN 0x020c
#define MVM_ENTRY64_OFF    0x200 /* boot.rst "64-bit Boot Protocol" */
/* boot.rst: the load address of a kernel that cannot be relocated (and
 * the lowest one minivm uses): 1 MiB, above the legacy hole. */
#define MVM_KERNEL_LOW     0x100000

/*
 * minivm's guest-physical layout for a Linux boot (below 1 MiB, which the
 * kernel's e820 map calls RAM up to MVM_E820_LOW_END):
 *   0x00500  GDT (__BOOT_CS, __BOOT_DS)
 *   0x10000  page tables (lab 02's area, MVM_PT_BASE..MVM_PT_END)
 *   0x30000  boot_params, the zero page
 *   0x31000  the kernel command line, up to MVM_CMDLINE_MAX bytes
 *   0x9fc00  .. 0x100000: the legacy hole (EBDA, VGA, BIOS): reserved;
 *            minivm's ACPI tables sit in it at MVM_ACPI_ADDR
 *   0x100000 and up: the kernel, then free RAM, the initrd at the top
 */
#define MVM_BOOT_GDT            0x0500
#define MVM_BOOT_CS             0x10 /* __BOOT_CS: GDT[2], 64-bit code */
#define MVM_BOOT_DS             0x18 /* __BOOT_DS: GDT[3], flat data */
#define MVM_BOOT_GDT_N          4
#define MVM_ZERO_PAGE           0x30000
#define MVM_CMDLINE_ADDR        0x31000
#define MVM_CMDLINE_MAX         0x8000  /* our own limit, beyond cmdline_size */
#define MVM_BOOT_STACK          0x30000 /* RSP at entry: below the zero page */
#define MVM_E820_LOW_END        0x9fc00 /* RAM below it, then the EBDA */
#define MVM_E820_HOLE_END       0x100000
#define MVM_ACPI_ADDR           0xe0000 /* RSDP and tables: BIOS read-only area */
#define MVM_ACPI_SIZE           0x10000
#define MVM_E820_MAX            8 /* entries minivm ever writes */
#define MVM_BOOT_MIN_MEM        (4u << 20)
#define MVM_BOOT_DEF_MEM        (256u << 20)
#define MVM_BOOT_DEF_INITRD_MAX 0x37ffffff /* boot.rst, protocol < 2.03 */

/* ACPI power management (ACPI 6.5, 4.8 "Fixed hardware"): the guest
 * writes SLP_TYP | SLP_EN to PM1a_CNT to sleep; SLP_TYP of \_S5 in our
 * DSDT means "soft off". */
#define MVM_PM1A_EVT       0x600 /* PM1a_EVT_BLK: 4 bytes (status, enable) */
#define MVM_PM1A_CNT       0x604 /* PM1a_CNT_BLK: 2 bytes */
#define MVM_PM1_SLP_EN     (1u << 13)
#define MVM_PM1_SLP_TYP(v) (((v) >> 10) & 7)
#define MVM_S5_SLP_TYP     5
#define MVM_SCI_IRQ        9
/* The keyboard controller's "pulse the reset line" command, the oldest
 * way to reboot a PC (Linux's BOOT_KBD). */
#define MVM_I8042_CMD      0x64
#define MVM_I8042_RESET    0xfe

/* xen/include/public/elfnote.h, arch/x86/platform/pvh/: the ELF note of a
 * kernel that has a PVH entry, and the start-info it wants in EBX. */
#define MVM_XEN_ELFNOTE_PHYS32_ENTRY 18
#define MVM_HVM_START_MAGIC          0x336ec578
#define MVM_PVH_START_INFO           0x32000 /* hvm_start_info and memmap */

/* What kind of file the kernel is. */
enum mvm_kernel_format { MVM_KERNEL_NONE, MVM_KERNEL_BZIMAGE, MVM_KERNEL_ELF };

/* How a boot ended (set by the guest's power-off or reset). */
enum mvm_power { MVM_POWER_ON, MVM_POWER_OFF, MVM_POWER_RESET };

/* The kernel being booted (grown by lab 07). */
struct mvm_kernel {
    uint64_t entry; /* guest-physical address of the entry point */

    enum mvm_kernel_format format;
    struct setup_header hdr; /* bzImage: its setup header, as in the file;
                                ELF: the one minivm makes up */
    size_t hdr_len;          /* bytes of it the file holds (0x202 + jump's
                                byte) */
    size_t setup_size;       /* bytes of the real-mode part: boot sector +
                                setup_sects sectors */
    const uint8_t *payload;  /* the protected-mode kernel in the file */
    size_t payload_len;
    uint64_t load_addr;    /* where it goes in guest memory */
    uint64_t kernel_end;   /* first byte after what the kernel uses */
    uint64_t pvh_entry;    /* ELF: the PVH entry (0 if none) */
    uint64_t cmdline_addr; /* guest-physical command line */
    size_t cmdline_len;    /* without the NUL */
    uint64_t initrd_addr;  /* 0: no initrd */
    uint64_t initrd_size;
    uint64_t rsdp_addr;    /* ACPI's root pointer (0: no ACPI) */
    enum mvm_power power;  /* the guest powered off or reset */
    uint8_t pm1_enable[2]; /* PM1a_EVT: the enable register */
    uint16_t pm1_control;  /* PM1a_CNT */
};

/* ---- lab 07: booting Linux (labs/07-boot-linux/boot.c) ---------------- */

/* Validate a bzImage and fill k from its setup header. */
int mvm_bzimage_parse(const void *image, size_t len,
                      struct mvm_kernel *k); /* TODO 1 */
/* Copy the protected-mode kernel to k->load_addr. */
int mvm_kernel_load(struct minivm *vm, struct mvm_kernel *k); /* TODO 2 */
/* Validate an ELF vmlinux and load its segments (by physical address). */
int mvm_elf_load(struct minivm *vm, const void *image, size_t len,
                 struct mvm_kernel *k); /* TODO 3 */
/* The E820 memory map of the guest: entries written to map, or -errno. */
int mvm_e820_map(const struct minivm *vm, struct boot_e820_entry *map,
                 int max); /* TODO 4 */
/* Where an initrd of `size` bytes goes: *addr, or -E2BIG. */
int mvm_initrd_place(const struct minivm *vm, const struct mvm_kernel *k,
                     uint64_t size, uint64_t *addr); /* TODO 5 */
/* Write the command line and the zero page (boot_params). */
int mvm_boot_params(struct minivm *vm, struct mvm_kernel *k,
                    const char *cmdline); /* TODO 6 */
/* The vCPU's CPUID: what KVM supports, with a VMM's fixups. */
int mvm_setup_cpuid(struct minivm *vm); /* TODO 7 */
/* Page tables, GDT and registers of the 64-bit boot protocol. */
int mvm_enter_kernel64(struct minivm *vm,
                       const struct mvm_kernel *k); /* TODO 8 */

/* ---- the driver (labs/minivm/boot_linux.c): not a lab ----------------- */

/* What to boot: the kernel file's bytes, an initrd, a command line. */
struct mvm_boot_spec {
    const void *kernel;
    size_t kernel_len;
    const void *initrd; /* NULL: none */
    size_t initrd_len;
    const char *cmdline;
    bool acpi; /* write ACPI tables (power-off through \_S5) */
};

/* What `minivm boot` passes without --append: the console on the UART,
 * early messages there too (polled, before the 8250 driver), reboot on
 * panic, and reboot through the keyboard controller (which minivm sees). */
#define MVM_BOOT_DEFAULT_APPEND                                                \
    "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 reboot=k"

/* "bzImage", "ELF vmlinux", or NULL when the bytes are neither. */
enum mvm_kernel_format mvm_kernel_detect(const void *image, size_t len);
const char *mvm_kernel_format_name(enum mvm_kernel_format f);

/*
 * Everything after the VM exists: detect the format, load the kernel
 * (TODOs 1-3), the initrd (TODO 5), ACPI tables, the zero page (TODOs 4,
 * 6), CPUID (TODO 7), the vCPU's entry state (TODO 8) and the devices:
 * ready for mvm_run().
 */
int mvm_boot_linux(struct minivm *vm, const struct mvm_boot_spec *spec);
/* Write minivm's ACPI tables at MVM_ACPI_ADDR; *rsdp = the RSDP. */
int mvm_acpi_tables(struct minivm *vm, uint64_t *rsdp);
/* `minivm boot ...` (labs/minivm/boot_main.c). */
int mvm_main_boot(int argc, char **argv);

#endif
