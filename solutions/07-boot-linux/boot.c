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
    /* SOLUTION BEGIN */
    /* stub: (void)image; */
    /* stub: (void)len; */
    /* stub: memset(k, 0, sizeof(*k)); */
    /* stub: return MVM_TODO(1, "parse the bzImage's setup header"); */
    const uint8_t *b = image;
    struct setup_header *h = &k->hdr;
    uint32_t magic;
    uint16_t flag;
    uint64_t code_len;
    unsigned sects;

    memset(k, 0, sizeof(*k));
    if (len < MVM_HDRS_OFF + 4)
        return vl_err_plain(ENOEXEC,
                            "not a bzImage: %zu bytes, too short to hold a "
                            "setup header (\"HdrS\" at 0x%x)",
                            len, MVM_HDRS_OFF);
    memcpy(&magic, b + MVM_HDRS_OFF, sizeof(magic));
    memcpy(&flag, b + MVM_BOOT_FLAG_OFF, sizeof(flag));
    if (magic != MVM_HDRS_MAGIC)
        return vl_err_plain(ENOEXEC,
                            "not a bzImage: no \"HdrS\" magic at 0x%x (found "
                            "0x%08x)",
                            MVM_HDRS_OFF, magic);
    if (flag != MVM_BOOT_FLAG)
        return vl_err_plain(ENOEXEC,
                            "not a bzImage: boot_flag at 0x%x is 0x%04x, "
                            "not 0xaa55",
                            MVM_BOOT_FLAG_OFF, flag);
    k->hdr_len = MVM_HDRS_OFF + (size_t)b[0x201];
    memcpy(&h->version, b + 0x206, sizeof(h->version));
    if (h->version < MVM_BOOT_PROTO_MIN)
        return vl_err_plain(EPROTONOSUPPORT,
                            "boot protocol %u.%02u is too old: minivm needs "
                            "%u.%02u or later (xloadflags' 64-bit entry, "
                            "init_size, pref_address)",
                            h->version >> 8, h->version & 0xff,
                            MVM_BOOT_PROTO_MIN >> 8, MVM_BOOT_PROTO_MIN & 0xff);
    if (k->hdr_len > len)
        return vl_err_plain(ENOEXEC,
                            "truncated: the setup header ends at 0x%zx, the "
                            "file has %zu bytes",
                            k->hdr_len, len);
    memcpy(h, b + MVM_SETUP_HDR_OFF,
           k->hdr_len - MVM_SETUP_HDR_OFF < sizeof(*h)
               ? k->hdr_len - MVM_SETUP_HDR_OFF
               : sizeof(*h));
    if (!(h->xloadflags & XLF_KERNEL_64))
        return vl_err_plain(ENOEXEC,
                            "no 64-bit entry point: xloadflags 0x%x lacks "
                            "XLF_KERNEL_64 (a 32-bit kernel?)",
                            h->xloadflags);
    if (!(h->loadflags & LOADED_HIGH))
        return vl_err_plain(ENOEXEC,
                            "a zImage (loadflags 0x%x lacks LOADED_HIGH): "
                            "minivm boots kernels loaded at 1 MiB",
                            h->loadflags);
    sects = h->setup_sects ? h->setup_sects : 4;
    k->setup_size = (sects + 1) * 512u;
    code_len = (uint64_t)h->syssize * 16;
    if (k->setup_size >= len || code_len > len - k->setup_size)
        return vl_err_plain(ENOEXEC,
                            "truncated: %zu bytes of setup (setup_sects %u) "
                            "and %llu of kernel (syssize), but the file has "
                            "%zu bytes",
                            k->setup_size, h->setup_sects,
                            (unsigned long long)code_len, len);
    k->payload = b + k->setup_size;
    k->payload_len = len - k->setup_size;
    if (h->relocatable_kernel) {
        if (!h->kernel_alignment ||
            (h->kernel_alignment & (h->kernel_alignment - 1)) ||
            h->pref_address % h->kernel_alignment ||
            h->pref_address < MVM_KERNEL_LOW)
            return vl_err_plain(EINVAL,
                                "pref_address 0x%llx is not a load address: "
                                "it must be at least 1 MiB and a multiple of "
                                "kernel_alignment 0x%x (a power of two)",
                                (unsigned long long)h->pref_address,
                                h->kernel_alignment);
        k->load_addr = h->pref_address;
    } else {
        k->load_addr = MVM_KERNEL_LOW;
    }
    k->kernel_end =
        k->load_addr +
        (h->init_size > k->payload_len ? h->init_size : k->payload_len);
    k->entry = k->load_addr + MVM_ENTRY64_OFF;
    k->format = MVM_KERNEL_BZIMAGE;
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)k; */
    /* stub: return MVM_TODO(2, "load the protected-mode kernel"); */
    void *dst;

    if (k->kernel_end > vm->mem_size)
        return vl_err_plain(
            E2BIG,
            "the kernel needs RAM up to 0x%llx (loaded at "
            "0x%llx, init_size 0x%x) but the guest has %zu "
            "MiB: use --mem %lluM or more",
            (unsigned long long)k->kernel_end, (unsigned long long)k->load_addr,
            k->hdr.init_size, vm->mem_size >> 20,
            (unsigned long long)((k->kernel_end + (1 << 20) - 1) >> 20));
    dst = mvm_gpa(vm, k->load_addr, k->payload_len);
    if (!dst)
        return vl_err_ctx(-EFAULT, "loading the kernel");
    memcpy(dst, k->payload, k->payload_len);
    return 0;
    /* SOLUTION END */
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
/* SOLUTION BEGIN */
/* The PVH entry in one PT_NOTE segment's notes, or 0. */
static uint64_t pvh_note(const uint8_t *notes, uint64_t len)
{
    uint64_t off = 0;

    while (len - off >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr n;
        uint64_t name, desc, next;
        uint64_t entry = 0;

        memcpy(&n, notes + off, sizeof(n));
        name = off + sizeof(n);
        desc = name + ((n.n_namesz + 3ULL) & ~3ULL);
        next = desc + ((n.n_descsz + 3ULL) & ~3ULL);
        if (next > len)
            break;
        if (n.n_type == MVM_XEN_ELFNOTE_PHYS32_ENTRY && n.n_namesz == 4 &&
            !memcmp(notes + name, "Xen", 4) &&
            (n.n_descsz == 4 || n.n_descsz == 8)) {
            memcpy(&entry, notes + desc, n.n_descsz);
            return entry;
        }
        off = next;
    }
    return 0;
}
/* SOLUTION END */

int mvm_elf_load(struct minivm *vm, const void *image, size_t len,
                 struct mvm_kernel *k)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)image; */
    /* stub: (void)len; */
    /* stub: memset(k, 0, sizeof(*k)); */
    /* stub: return MVM_TODO(3, "load an ELF vmlinux"); */
    const uint8_t *b = image;
    Elf64_Ehdr eh;
    bool entry_loaded = false;

    memset(k, 0, sizeof(*k));
    if (len < sizeof(eh))
        return vl_err_plain(
            ENOEXEC, "truncated: %zu bytes cannot hold an ELF header", len);
    memcpy(&eh, b, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
        return vl_err_plain(ENOEXEC, "not an ELF file (no \\177ELF magic)");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
        return vl_err_plain(ENOEXEC,
                            "not a 64-bit little-endian x86-64 ELF (class "
                            "%u, data %u, machine %u)",
                            eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA],
                            eh.e_machine);
    if (eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(Elf64_Phdr))
        return vl_err_plain(ENOEXEC,
                            "not an executable with 64-bit program headers "
                            "(e_type %u, e_phentsize %u)",
                            eh.e_type, eh.e_phentsize);
    if (eh.e_phoff > len ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
        return vl_err_plain(ENOEXEC,
                            "truncated: %u program headers at 0x%llx run past "
                            "the end of the file (%zu bytes)",
                            eh.e_phnum, (unsigned long long)eh.e_phoff, len);
    k->load_addr = UINT64_MAX;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        void *dst;

        memcpy(&ph, b + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
            continue;
        if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset ||
            (ph.p_type == PT_LOAD && ph.p_filesz > ph.p_memsz))
            return vl_err_plain(ENOEXEC,
                                "truncated: segment %u's %llu bytes at 0x%llx "
                                "are not all in the file (%zu bytes)",
                                i, (unsigned long long)ph.p_filesz,
                                (unsigned long long)ph.p_offset, len);
        if (ph.p_type == PT_NOTE) {
            if (!k->pvh_entry)
                k->pvh_entry = pvh_note(b + ph.p_offset, ph.p_filesz);
            continue;
        }
        if (ph.p_paddr > vm->mem_size ||
            ph.p_memsz > vm->mem_size - ph.p_paddr) {
            uint64_t need = 0; /* the end of the highest PT_LOAD segment */

            for (unsigned j = 0; j < eh.e_phnum; j++) {
                Elf64_Phdr p;

                memcpy(&p, b + eh.e_phoff + j * sizeof(p), sizeof(p));
                if (p.p_type == PT_LOAD && p.p_paddr + p.p_memsz > need)
                    need = p.p_paddr + p.p_memsz;
            }
            return vl_err_plain(
                E2BIG,
                "segment %u at 0x%llx (%llu bytes) is beyond "
                "the guest's %zu MiB of RAM: use --mem %lluM "
                "or more",
                i, (unsigned long long)ph.p_paddr,
                (unsigned long long)ph.p_memsz, vm->mem_size >> 20,
                (unsigned long long)((need + (1 << 20) - 1) >> 20));
        }
        dst = mvm_gpa(vm, ph.p_paddr, ph.p_memsz);
        if (!dst)
            return vl_err_ctx(-EFAULT, "loading segment %u", i);
        memcpy(dst, b + ph.p_offset, ph.p_filesz);
        memset((uint8_t *)dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        if (ph.p_paddr < k->load_addr)
            k->load_addr = ph.p_paddr;
        if (ph.p_paddr + ph.p_memsz > k->kernel_end)
            k->kernel_end = ph.p_paddr + ph.p_memsz;
        if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz)
            entry_loaded = true;
    }
    if (!entry_loaded)
        return vl_err_plain(ENOEXEC,
                            "the entry point 0x%llx is in no loaded segment",
                            (unsigned long long)eh.e_entry);
    k->entry = eh.e_entry;
    k->format = MVM_KERNEL_ELF;
    k->hdr = (struct setup_header){
        .boot_flag = MVM_BOOT_FLAG,
        .header = MVM_HDRS_MAGIC,
        .version = MVM_BOOT_PROTO_MIN,
        .loadflags = LOADED_HIGH,
        .xloadflags = XLF_KERNEL_64,
        .cmdline_size = 2047,
        .initrd_addr_max = 0x7fffffff,
    };
    k->hdr_len = MVM_SETUP_HDR_OFF + sizeof(struct setup_header);
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)map; */
    /* stub: (void)max; */
    /* stub: return MVM_TODO(4, "write the E820 memory map"); */
    const struct boot_e820_entry e820[] = {
        {0, MVM_E820_LOW_END, E820_RAM},
        {MVM_E820_LOW_END, MVM_E820_HOLE_END - MVM_E820_LOW_END, E820_RESERVED},
        {MVM_E820_HOLE_END, vm->mem_size - MVM_E820_HOLE_END, E820_RAM},
        {MVM_MMIO_BASE, MVM_MMIO_SIZE, E820_RESERVED},
    };
    const int n = sizeof(e820) / sizeof(e820[0]);

    if (vm->mem_size < MVM_BOOT_MIN_MEM || vm->mem_size > MVM_MMIO_BASE)
        return vl_err_plain(EINVAL,
                            "%zu MiB of RAM: Linux needs at least %u MiB, "
                            "and RAM must end below the device window at "
                            "0x%llx",
                            vm->mem_size >> 20, MVM_BOOT_MIN_MEM >> 20,
                            (unsigned long long)MVM_MMIO_BASE);
    if (max < n)
        return vl_err_plain(
            ENOSPC, "the E820 map needs %d entries, room for %d", n, max);
    memcpy(map, e820, sizeof(e820));
    return n;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)k; */
    /* stub: (void)size; */
    /* stub: (void)addr; */
    /* stub: return MVM_TODO(5, "place the initrd"); */
    uint64_t max = k->hdr.initrd_addr_max ? k->hdr.initrd_addr_max
                                          : MVM_BOOT_DEF_INITRD_MAX;
    uint64_t top = vm->mem_size < max + 1 ? vm->mem_size : max + 1;
    uint64_t where;

    if (size == 0)
        return vl_err_plain(EINVAL, "the initrd is empty");
    if (size > top || ((top - size) & ~(VL_PAGE_4K - 1)) < k->kernel_end)
        return vl_err_plain(E2BIG,
                            "an initrd of %llu bytes does not fit between the "
                            "kernel's end 0x%llx and 0x%llx (the end of RAM "
                            "or initrd_addr_max + 1): use a larger --mem or a "
                            "smaller initrd",
                            (unsigned long long)size,
                            (unsigned long long)k->kernel_end,
                            (unsigned long long)top);
    where = (top - size) & ~(VL_PAGE_4K - 1);
    *addr = where;
    return 0;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)k; */
    /* stub: (void)cmdline; */
    /* stub: return MVM_TODO(6, "write the zero page"); */
    size_t len = strlen(cmdline);
    struct boot_params *bp;
    char *line;
    int n;

    if (len > k->hdr.cmdline_size || len >= MVM_CMDLINE_MAX)
        return vl_err_plain(E2BIG,
                            "the command line has %zu bytes: the kernel takes "
                            "at most %u (cmdline_size), minivm %u",
                            len, k->hdr.cmdline_size, MVM_CMDLINE_MAX - 1);
    line = mvm_gpa(vm, MVM_CMDLINE_ADDR, len + 1);
    bp = mvm_gpa(vm, MVM_ZERO_PAGE, sizeof(*bp));
    if (!line || !bp)
        return vl_err_ctx(-EFAULT, "writing the zero page");
    memcpy(line, cmdline, len + 1);
    k->cmdline_addr = MVM_CMDLINE_ADDR;
    k->cmdline_len = len;

    memset(bp, 0, sizeof(*bp));
    memcpy(&bp->hdr, &k->hdr, k->hdr_len - MVM_SETUP_HDR_OFF);
    bp->hdr.type_of_loader = 0xff;
    bp->hdr.cmd_line_ptr = (uint32_t)k->cmdline_addr;
    bp->ext_cmd_line_ptr = (uint32_t)(k->cmdline_addr >> 32);
    bp->hdr.ramdisk_image = (uint32_t)k->initrd_addr;
    bp->ext_ramdisk_image = (uint32_t)(k->initrd_addr >> 32);
    bp->hdr.ramdisk_size = (uint32_t)k->initrd_size;
    bp->ext_ramdisk_size = (uint32_t)(k->initrd_size >> 32);
    bp->hdr.code32_start = (uint32_t)k->load_addr;
    bp->acpi_rsdp_addr = k->rsdp_addr;
    n = mvm_e820_map(vm, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
    if (n < 0)
        return n;
    bp->e820_entries = (uint8_t)n;
    return 0;
    /* SOLUTION END */
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
/* SOLUTION BEGIN */
#define CPUID_HYPERVISOR (1u << 31) /* leaf 1 ECX */
/* SOLUTION END */
int mvm_setup_cpuid(struct minivm *vm)
{
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: return MVM_TODO(7, "set the vCPU's CPUID"); */
    struct kvm_cpuid2 *cpuid = NULL;
    unsigned nent = 64;
    const uint32_t apic_id = 0;
    int r;

    for (;;) {
        free(cpuid);
        cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
        if (!cpuid)
            return vl_err_plain(ENOMEM, "CPUID table of %u entries", nent);
        cpuid->nent = nent;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
            break;
        if (errno != E2BIG || nent >= 4096) {
            r = vl_err(errno, "KVM_GET_SUPPORTED_CPUID");
            free(cpuid);
            return r;
        }
        nent *= 2;
    }
    for (unsigned i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

        switch (e->function) {
        case 1:
            e->ebx = (e->ebx & 0x00ffffff) | apic_id << 24;
            e->ecx |= CPUID_HYPERVISOR;
            break;
        case 0xb:
        case 0x1f:
            e->edx = apic_id;
            break;
        default:
            break;
        }
    }
    r = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0
            ? vl_err(errno, "KVM_SET_CPUID2")
            : 0;
    free(cpuid);
    return r;
    /* SOLUTION END */
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
    /* SOLUTION BEGIN */
    /* stub: (void)vm; */
    /* stub: (void)k; */
    /* stub: return MVM_TODO(8, "enter the kernel in 64-bit mode"); */
    const uint8_t code =
        VL_SEG_ACCESS_P | VL_SEG_ACCESS_S | VL_SEG_TYPE_CODE | VL_SEG_TYPE_READ;
    const uint8_t data = VL_SEG_ACCESS_P | VL_SEG_ACCESS_S | VL_SEG_TYPE_WRITE;
    const uint64_t gdt[MVM_BOOT_GDT_N] = {
        [MVM_BOOT_CS / 8] =
            mvm_gdt_descriptor(0, 0xfffff, code, VL_SEG_FLAG_G | VL_SEG_FLAG_L),
        [MVM_BOOT_DS / 8] = mvm_gdt_descriptor(0, 0xfffff, data,
                                               VL_SEG_FLAG_G | VL_SEG_FLAG_DB),
    };
    struct kvm_regs regs = {
        .rip = k->entry,
        .rsi = MVM_ZERO_PAGE,
        .rsp = MVM_BOOT_STACK,
        .rflags = VL_RFLAGS_RESERVED1,
    };
    struct kvm_sregs sregs;
    struct kvm_segment ds;
    void *where;
    int r;

    for (uint64_t a = 0; a < vm->mem_size; a += VL_PAGE_2M)
        if ((r = mvm_map_page(vm, a, a, VL_PAGE_2M)) < 0)
            return vl_err_ctx(r, "identity-mapping RAM at 0x%llx",
                              (unsigned long long)a);
    where = mvm_gpa(vm, MVM_BOOT_GDT, sizeof(gdt));
    if (!where)
        return vl_err_ctx(-EFAULT, "writing the GDT");
    memcpy(where, gdt, sizeof(gdt));

    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return vl_err(errno, "KVM_GET_SREGS");
    sregs.gdt.base = MVM_BOOT_GDT;
    sregs.gdt.limit = sizeof(gdt) - 1;
    sregs.cr3 = vm->pt_root;
    sregs.cr4 |= VL_CR4_PAE;
    sregs.efer |= VL_EFER_LME | VL_EFER_LMA;
    sregs.cr0 |= VL_CR0_PE | VL_CR0_PG;
    mvm_segment_from_descriptor(gdt[MVM_BOOT_CS / 8], MVM_BOOT_CS, &sregs.cs);
    mvm_segment_from_descriptor(gdt[MVM_BOOT_DS / 8], MVM_BOOT_DS, &ds);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return mvm_sregs_error(vm, &sregs);
    if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return vl_err(errno, "KVM_SET_REGS");
    return 0;
    /* SOLUTION END */
}
