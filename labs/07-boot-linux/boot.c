/*
 * boot.c - minivm stage 7: booting Linux.
 *
 * A PC's firmware and boot loader hand Linux a machine in a known state:
 * the kernel somewhere in RAM, a map of that RAM, a command line, maybe an
 * initial RAM disk, and the CPU in a mode the kernel's entry point
 * expects. The contract is the x86 boot protocol. A VMM that boots Linux
 * directly (QEMU's -kernel, kvmtool, Firecracker, cloud-hypervisor) is
 * both the firmware and the boot loader: it reads the kernel's setup
 * header, writes struct boot_params (the "zero page") and the page tables
 * and GDT the 64-bit entry wants, and jumps there. No BIOS code runs.
 *
 * References: Documentation/arch/x86/boot.rst ("The Real-Mode Kernel
 * Header", "Details of Header Fields", "The 64-bit Boot Protocol",
 * "Loading The Rest of The Kernel"); Documentation/arch/x86/
 * zero-page.rst; <asm/bootparam.h>; ACPI 6.5, 15 "System Address Map
 * Interfaces" (E820); the System V ABI's ELF format (elf(5)); api.rst
 * 4.46/4.20 (KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2), 4.13/4.14
 * (KVM_GET/SET_SREGS). labs/07-boot-linux/README.md walks through the
 * steps.
 */
#define MVM_LAB        "07-boot-linux"
#define MVM_STAGE_FILE "boot.c"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "minivm.h"
#include "virtlab/x86.h"

/*
 * TODO 1: parse and validate a bzImage's setup header (boot.rst, "The
 * Real-Mode Kernel Header" and "Details of Header Fields").
 * A bzImage is a boot sector and setup code in 16-bit real mode, followed
 * by the protected-mode kernel. The header sits at 0x1f1 in the file; it
 * is struct setup_header of <asm/bootparam.h>. Check, in this order, each
 * with a message saying what is wrong:
 *  - the file holds at least the header up to "HdrS" (0x206 bytes), "HdrS"
 *    (MVM_HDRS_MAGIC) at 0x202 and boot_flag 0xAA55 at 0x1fe: else
 *    -ENOEXEC ("not a bzImage");
 *  - version >= MVM_BOOT_PROTO_MIN (2.12): else -EPROTONOSUPPORT, naming
 *    both versions as 2.NN;
 *  - the header's length, 0x202 + the byte at 0x201 (the jump's offset),
 *    lies inside the file: else -ENOEXEC, "truncated";
 *  - xloadflags has XLF_KERNEL_64 (there is a 64-bit entry) and loadflags
 *    LOADED_HIGH (the protected-mode part goes at 1 MiB or above, not at
 *    0x10000 like an old zImage): else -ENOEXEC;
 *  - setup_sects (0 means 4!) + 1 sectors of 512 bytes are the real-mode
 *    part; the protected-mode kernel follows, syssize * 16 bytes of it:
 *    a file shorter than both is -ENOEXEC, "truncated";
 *  - where to load it: a relocatable kernel (relocatable_kernel != 0) at
 *    pref_address, which must be a multiple of kernel_alignment (a power
 *    of two), else -EINVAL; any other kernel at MVM_KERNEL_LOW (1 MiB).
 * Fill k: format, hdr (the header bytes the file holds; zero the rest),
 * hdr_len, setup_size, payload (the protected-mode kernel's first byte in
 * the image) and payload_len (to the end of the file), load_addr,
 * kernel_end = load_addr + the larger of init_size (the memory the
 * kernel needs from its load address, decompression included) and
 * payload_len, and entry = load_addr + 0x200, the 64-bit entry point.
 */
int mvm_bzimage_parse(const void *image, size_t len, struct mvm_kernel *k)
{
    (void)image;
    (void)len;
    memset(k, 0, sizeof(*k));
    return MVM_TODO(1, "parse the bzImage's setup header");
}

/*
 * TODO 2: load the protected-mode kernel (boot.rst, "Loading The Rest of
 * The Kernel"): its k->payload_len bytes go to guest-physical
 * k->load_addr. The kernel will use memory up to k->kernel_end (it
 * decompresses itself there): if that is beyond the guest's RAM, refuse
 * with -E2BIG and say how much --mem it needs (in MiB, rounded up).
 */
int mvm_kernel_load(struct minivm *vm, struct mvm_kernel *k)
{
    (void)vm;
    (void)k;
    return MVM_TODO(2, "load the protected-mode kernel");
}

/*
 * TODO 3: load an uncompressed ELF vmlinux (elf(5); the build's vmlinux,
 * which `make kernel` takes out of Debian's bzImage). No decompressor
 * runs: each PT_LOAD segment goes to its physical address p_paddr, file
 * bytes p_filesz, then zeros up to p_memsz (.bss). The entry e_entry of a
 * vmlinux is physical: startup_64, the same 64-bit entry a bzImage's
 * decompressor jumps to, and it takes boot_params in RSI.
 * Check, with a message each:
 *  - the ELF header: in the file, magic ELFMAG, ELFCLASS64, ELFDATA2LSB,
 *    e_machine EM_X86_64, e_type ET_EXEC, e_phentsize == sizeof(Elf64_Phdr):
 *    else -ENOEXEC;
 *  - the program headers and each segment's file bytes inside the file,
 *    without overflow, and p_filesz <= p_memsz: else -ENOEXEC
 *    ("truncated");
 *  - each segment inside guest RAM: else -E2BIG, with the --mem it needs;
 *  - e_entry inside a loaded segment: else -ENOEXEC.
 * Also find the PVH entry, the note XEN_ELFNOTE_PHYS32_ENTRY
 * (MVM_XEN_ELFNOTE_PHYS32_ENTRY) of owner "Xen" in a PT_NOTE segment: a
 * 32- or 64-bit little-endian address, into k->pvh_entry (0 if absent).
 * Fill k: format MVM_KERNEL_ELF, load_addr (the lowest p_paddr),
 * kernel_end (the highest p_paddr + p_memsz), entry = e_entry; and, as an
 * ELF has no setup header, make one up in k->hdr for the zero page:
 * boot_flag, header "HdrS", version MVM_BOOT_PROTO_MIN, loadflags
 * LOADED_HIGH, xloadflags XLF_KERNEL_64, cmdline_size 2047 (x86 Linux's
 * COMMAND_LINE_SIZE - 1), initrd_addr_max 0x7fffffff; hdr_len =
 * MVM_SETUP_HDR_OFF + sizeof(struct setup_header).
 */

int mvm_elf_load(struct minivm *vm, const void *image, size_t len,
                 struct mvm_kernel *k)
{
    (void)vm;
    (void)image;
    (void)len;
    memset(k, 0, sizeof(*k));
    return MVM_TODO(3, "load an ELF vmlinux");
}

/*
 * TODO 4: the guest's memory map, as a BIOS reports it with INT 15h,
 * E820h (ACPI 6.5, 15 "System Address Map Interfaces"). The kernel uses
 * RAM only where this map says so. Write, in address order:
 *  - [0, MVM_E820_LOW_END): RAM (E820_RAM) - conventional memory;
 *  - [MVM_E820_LOW_END, MVM_E820_HOLE_END): E820_RESERVED - the legacy
 *    hole: EBDA, VGA memory, option ROMs, the BIOS (and our ACPI tables);
 *  - [MVM_E820_HOLE_END, vm->mem_size): RAM;
 *  - the device window [MVM_MMIO_BASE, +MVM_MMIO_SIZE): E820_RESERVED, so
 *    that the kernel never takes it for RAM or gives it to a PCI device.
 * Refuse less than MVM_BOOT_MIN_MEM of RAM or RAM reaching the device
 * window (-EINVAL), and a map that does not fit in `max` entries
 * (-ENOSPC). Return the number of entries.
 */
int mvm_e820_map(const struct minivm *vm, struct boot_e820_entry *map, int max)
{
    (void)vm;
    (void)map;
    (void)max;
    return MVM_TODO(4, "write the E820 memory map");
}

/*
 * TODO 5: where the initrd goes (boot.rst, "initrd_addr_max" and
 * "Loading The Rest of The Kernel"). Like GRUB, put it as high as it can
 * go: its last byte at or below the header's initrd_addr_max (0: use
 * MVM_BOOT_DEF_INITRD_MAX) and inside RAM, its start page-aligned (round
 * down). It must not overlap the kernel, which uses memory up to
 * k->kernel_end. An initrd that does not fit (or of 0 bytes: -EINVAL)
 * is -E2BIG, with a message naming its size and the room there is.
 */
int mvm_initrd_place(const struct minivm *vm, const struct mvm_kernel *k,
                     uint64_t size, uint64_t *addr)
{
    (void)vm;
    (void)k;
    (void)size;
    (void)addr;
    return MVM_TODO(5, "place the initrd");
}

/*
 * TODO 6: the zero page, struct boot_params (boot.rst, "The 64-bit Boot
 * Protocol" and "Details of Header Fields"; zero-page.rst):
 *  - the command line: at most hdr.cmdline_size bytes (without the NUL;
 *    longer is -E2BIG, and so is longer than MVM_CMDLINE_MAX - 1), copied
 *    with its NUL to MVM_CMDLINE_ADDR; set k->cmdline_addr/cmdline_len;
 *  - at MVM_ZERO_PAGE, a zeroed struct boot_params; copy into bp->hdr the
 *    setup header as the file holds it (k->hdr, the bytes from 0x1f1 up
 *    to k->hdr_len), then fill in what the loader owns:
 *    type_of_loader 0xff ("undefined": no registered boot loader id);
 *    cmd_line_ptr (low 32 bits) and ext_cmd_line_ptr (high 32);
 *    ramdisk_image/ramdisk_size and ext_ramdisk_image/ext_ramdisk_size
 *    from k->initrd_addr/initrd_size (0 without an initrd);
 *    code32_start = k->load_addr; acpi_rsdp_addr = k->rsdp_addr;
 *  - the E820 map of TODO 4 in e820_table, its count in e820_entries.
 * The 16-bit setup code's heap (heap_end_ptr, CAN_USE_HEAP) is not ours
 * to set: no setup code runs on the 64-bit path.
 */
int mvm_boot_params(struct minivm *vm, struct mvm_kernel *k,
                    const char *cmdline)
{
    (void)vm;
    (void)k;
    (void)cmdline;
    return MVM_TODO(6, "write the zero page");
}

/*
 * TODO 7: what CPUID tells the guest (api.rst 4.46 KVM_GET_SUPPORTED_CPUID,
 * 4.20 KVM_SET_CPUID2; SDM Vol. 2A, CPUID). Until a VMM sets it, a vCPU's
 * CPUID is nearly empty, and Linux would find no long mode, no APIC, no
 * FPU. Ask KVM what it can offer (on the KVM fd; with too small a table
 * it fails with E2BIG: grow it and ask again), then fix up per vCPU what
 * only the VMM knows:
 *  - leaf 1, EBX bits 31-24: this vCPU's initial APIC id (0), and ECX
 *    bit 31, "running on a hypervisor" (Linux then looks for KVM's
 *    signature leaves at 0x40000000, which KVM's list has; recent KVMs
 *    set bit 31 in their list already, set it anyway: it is the VMM's
 *    promise to the guest);
 *  - leaves 0xB and 0x1F (extended topology), EDX: the x2APIC id (0).
 * Then KVM_SET_CPUID2 on the vCPU fd, before it runs.
 */
int mvm_setup_cpuid(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(7, "set the vCPU's CPUID");
}

/*
 * TODO 8: enter the kernel at its 64-bit entry (boot.rst, "The 64-bit
 * Boot Protocol"): "the CPU must be in 64-bit mode with paging enabled;
 * the range with setup_header.init_size from the start address of the
 * loaded kernel, the zero page and the command line buffer get identity
 * mappings; a GDT must be loaded with the descriptors for selectors
 * __BOOT_CS(0x10) and __BOOT_DS(0x18), both 4G flat segments, __BOOT_CS
 * with execute/read permission and __BOOT_DS with read/write permission;
 * CS must be __BOOT_CS and DS, ES, SS must be __BOOT_DS; interrupts must
 * be disabled; %rsi must hold the base address of the struct
 * boot_params."
 *  - identity-map all of RAM, [0, vm->mem_size rounded up to 2 MiB), with
 *    2 MiB pages: lab 02's mvm_map_page() (which sets vm->pt_root);
 *  - the GDT at MVM_BOOT_GDT: entries 0 and 1 null, 2 (MVM_BOOT_CS)
 *    64-bit code (L), 3 (MVM_BOOT_DS) data - lab 02's
 *    mvm_gdt_descriptor() encodes them, mvm_segment_from_descriptor()
 *    turns them into the kvm_segments of CS and DS, ES, FS, GS, SS;
 *  - KVM_GET_SREGS, then CR3, CR4.PAE, EFER.LME|LMA, CR0.PE|PG, the GDTR
 *    and the segments; KVM_SET_SREGS (mvm_sregs_error() if refused);
 *  - KVM_SET_REGS: RIP = k->entry, RSI = MVM_ZERO_PAGE, RSP =
 *    MVM_BOOT_STACK, RFLAGS = only its reserved bit 1 (IF = 0).
 */
int mvm_enter_kernel64(struct minivm *vm, const struct mvm_kernel *k)
{
    (void)vm;
    (void)k;
    return MVM_TODO(8, "enter the kernel in 64-bit mode");
}
