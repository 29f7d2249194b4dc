/*
 * boot_test.c - the fast tests of lab 07: one group per TODO, then the
 * lab's own test kernel booted end to end (layer 1). The real Debian
 * kernel is in boot_linux_test.c.
 *
 * The VM comes from libvirtlab (lab 01's reference); page tables and
 * descriptors from lab 02; the bus and the UART from lab 04; the
 * in-kernel irqchip from lab 06. The boot protocol comes from your
 * boot.c. The bzImages and ELF files are made here, in memory, field by
 * field, so each test knows exactly what the loader was given.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "../guest/bootk.h"
#include "mvm_test.h"

TestSuite(boot, .init = setup, .fini = teardown, .timeout = 60);

_Static_assert(BOOTK_PM1A_CNT == MVM_PM1A_CNT &&
                   BOOTK_S5 == (MVM_S5_SLP_TYP << 10 | MVM_PM1_SLP_EN),
               "bootk.h and bootproto.h disagree on ACPI's power-off");

#define MIB (1ull << 20)

/* ---- a bzImage, made to measure ----------------------------------------
 * boot.rst's layout: the boot sector (512 bytes, the setup header at
 * 0x1f1 to its end), setup_sects more sectors of real-mode setup code,
 * then the protected-mode kernel. Ours has no real-mode code; its
 * protected-mode part is: ud2 from 0 (the 32-bit entry, never used: a
 * jump there is a triple fault at once), at 0x200 the 64-bit entry, a
 * stub that copies the kernel proper (at +0x400) to 0x1000 and jumps to
 * it (bootk.h), and the kernel proper, bootk_kernel.bin. */
struct bz {
    unsigned setup_sects; /* the header's value */
    unsigned sectors;     /* setup sectors really in the file */
    uint16_t version;
    uint8_t loadflags;
    uint16_t xloadflags;
    uint8_t relocatable;
    uint32_t kernel_alignment;
    uint64_t pref_address;
    uint32_t initrd_addr_max;
    uint32_t cmdline_size;
    uint32_t init_size; /* 0: the protected-mode part, page-rounded, + 64K */
};

static struct bz bz_default(void)
{
    return (struct bz){
        .setup_sects = 1,
        .sectors = 1,
        .version = 0x020f,
        .loadflags = LOADED_HIGH,
        .xloadflags = XLF_KERNEL_64,
        .relocatable = 1,
        .kernel_alignment = 0x200000,
        .pref_address = 0x200000,
        .initrd_addr_max = 0x7fffffff,
        .cmdline_size = 255,
    };
}

/* The 64-bit entry: copy the kernel to BOOTK_RUN_ADDR, jump to it. */
static const uint8_t entry_stub[] = {
    0x48, 0x8d, 0x15, 0xf9, 0xff, 0xff, 0xff, /* lea -7(%rip),%rdx: here */
    0x48, 0x89, 0xf3,                         /* mov %rsi,%rbx            */
    0x48, 0x8d, 0xb2, 0x00, 0x02, 0x00, 0x00, /* lea 0x200(%rdx),%rsi     */
    0xbf, 0x00, 0x10, 0x00, 0x00,             /* mov $0x1000,%edi         */
    0xb9, 0x00, 0x00, 0x00, 0x00,             /* mov $len,%ecx (patched)  */
    0xfc, 0xf3, 0xa4,                         /* cld; rep movsb           */
    0x48, 0x89, 0xde,                         /* mov %rbx,%rsi            */
    0xb8, 0x00, 0x10, 0x00, 0x00,             /* mov $0x1000,%eax         */
    0xff, 0xe0,                               /* jmp *%rax                */
};
_Static_assert(BOOTK_KERNEL_OFF == 0x400 && BOOTK_RUN_ADDR == 0x1000,
               "entry_stub hard-codes bootk.h's layout");

/* A bzImage around `kernel` (malloc()ed; the caller frees it). */
static uint8_t *make_bzimage(const struct bz *o, const void *kernel,
                             size_t klen, size_t *len)
{
    size_t setup = (o->sectors + 1) * 512u;
    size_t pm = (BOOTK_KERNEL_OFF + klen + 15) & ~(size_t)15; /* syssize */
    uint8_t *b = calloc(1, setup + pm);
    struct setup_header h = {
        .setup_sects = (uint8_t)o->setup_sects,
        .syssize = (uint32_t)((pm + 15) / 16),
        .boot_flag = 0xaa55,
        .jump = 0x66eb, /* jmp short to 0x268, the header's end */
        .header = 0x53726448,
        .version = o->version,
        .loadflags = o->loadflags,
        .code32_start = 0x100000,
        .initrd_addr_max = o->initrd_addr_max,
        .kernel_alignment = o->kernel_alignment,
        .relocatable_kernel = o->relocatable,
        .xloadflags = o->xloadflags,
        .cmdline_size = o->cmdline_size,
        .pref_address = o->pref_address,
        .init_size = o->init_size
                         ? o->init_size
                         : (uint32_t)(((pm + 0xfff) & ~0xfffu) + 0x10000),
    };
    uint32_t n = (uint32_t)klen;

    cr_assert_not_null(b);
    memcpy(b + 0x1f1, &h, sizeof(h));
    for (size_t i = 0; i < 0x200; i += 2)
        b[setup + i] = 0x0f, b[setup + i + 1] = 0x0b; /* ud2 */
    memcpy(b + setup + 0x200, entry_stub, sizeof(entry_stub));
    memcpy(b + setup + 0x200 + 23, &n, 4);
    memcpy(b + setup + BOOTK_KERNEL_OFF, kernel, klen);
    *len = setup + pm;
    return b;
}

/* The test kernel in a bzImage of options o. */
static uint8_t *bootk_image(const struct bz *o, size_t *len)
{
    void *k;
    size_t klen;
    uint8_t *b;

    load_guest_file("bootk_kernel.bin", &k, &klen);
    b = make_bzimage(o, k, klen, len);
    free(k);
    return b;
}

/* A VM with `mem` bytes of RAM, nothing loaded. */
static void ram(size_t mem)
{
    static const uint8_t hlt[] = {0xf4};

    vm.opt.mem_size = mem;
    boot_with_libvirtlab(hlt, sizeof(hlt));
}

static struct mvm_kernel kernel_at(uint64_t end, uint32_t initrd_max)
{
    struct mvm_kernel k = {.kernel_end = end, .load_addr = 0x200000};

    k.hdr.initrd_addr_max = initrd_max;
    k.hdr.cmdline_size = 255;
    return k;
}

/* ---- TODO 1: the setup header ------------------------------------------ */

Test(boot, bzimage_header_gives_load_address_and_entry)
{
    struct bz o = bz_default();
    struct mvm_kernel k;
    size_t len;
    uint8_t *b = bootk_image(&o, &len);

    vl_assert_ok(mvm_bzimage_parse(b, len, &k));
    cr_assert_eq(k.format, MVM_KERNEL_BZIMAGE);
    cr_assert_eq(k.hdr.version, 0x020f, "hdr is the file's setup header");
    cr_assert_eq(k.hdr.cmdline_size, 255);
    cr_assert_eq(k.hdr_len, 0x268, "0x202 + the jump's offset 0x66");
    cr_assert_eq(k.setup_size, 1024, "boot sector + 1 setup sector");
    cr_assert_eq(k.payload, b + 1024, "the protected-mode part follows");
    cr_assert_eq(k.payload_len, len - 1024);
    cr_assert_eq(k.load_addr, 0x200000,
                 "a relocatable kernel goes to its pref_address, got 0x%llx",
                 (unsigned long long)k.load_addr);
    cr_assert_eq(k.entry, 0x200200,
                 "the 64-bit entry is at load address + 0x200, got 0x%llx",
                 (unsigned long long)k.entry);
    cr_assert_eq(k.kernel_end, 0x200000 + k.hdr.init_size,
                 "the kernel uses init_size bytes from its load address");
    free(b);
}

Test(boot, setup_sects_zero_means_four)
{
    struct bz o = bz_default();
    struct mvm_kernel k;
    size_t len;
    uint8_t *b;

    o.setup_sects = 0, o.sectors = 4;
    b = bootk_image(&o, &len);
    vl_assert_ok(mvm_bzimage_parse(b, len, &k));
    cr_assert_eq(k.setup_size, 5 * 512,
                 "setup_sects 0 means 4 (boot.rst): 5 sectors in all, got "
                 "%zu bytes",
                 k.setup_size);
    cr_assert_eq(k.payload, b + 5 * 512);
    free(b);
}

Test(boot, refuses_files_that_are_not_bzimages)
{
    struct bz o = bz_default();
    struct mvm_kernel k;
    size_t len;
    uint8_t *b = bootk_image(&o, &len);
    uint8_t *copy = malloc(len);

    vl_assert_fails(mvm_bzimage_parse(b, 0x100, &k), ENOEXEC, "bzImage");
    memcpy(copy, b, len);
    memcpy(copy + 0x202, "HdrX", 4);
    vl_assert_fails(mvm_bzimage_parse(copy, len, &k), ENOEXEC, "HdrS");
    memcpy(copy, b, len);
    copy[0x1fe] = 0x55, copy[0x1ff] = 0x55;
    vl_assert_fails(mvm_bzimage_parse(copy, len, &k), ENOEXEC, "0xaa55");
    /* Cut inside the protected-mode part (syssize says more). */
    vl_assert_fails(mvm_bzimage_parse(b, len - 64, &k), ENOEXEC, "truncated");
    /* Cut inside the setup sectors. */
    vl_assert_fails(mvm_bzimage_parse(b, 0x300, &k), ENOEXEC, "truncated");
    free(copy);
    free(b);
}

Test(boot, refuses_old_protocols_and_kernels_without_64_bit_entry)
{
    struct bz o = bz_default();
    struct mvm_kernel k;
    size_t len;
    uint8_t *b;

    o.version = 0x0206;
    b = bootk_image(&o, &len);
    vl_assert_fails(mvm_bzimage_parse(b, len, &k), EPROTONOSUPPORT, "2.06");
    free(b);
    o.version = 0x020b;
    b = bootk_image(&o, &len);
    vl_assert_fails(mvm_bzimage_parse(b, len, &k), EPROTONOSUPPORT, "2.12");
    free(b);
    o = bz_default();
    o.xloadflags = 0;
    b = bootk_image(&o, &len);
    vl_assert_fails(mvm_bzimage_parse(b, len, &k), ENOEXEC, "XLF_KERNEL_64");
    free(b);
    o = bz_default();
    o.loadflags = 0;
    b = bootk_image(&o, &len);
    vl_assert_fails(mvm_bzimage_parse(b, len, &k), ENOEXEC, "LOADED_HIGH");
    free(b);
}

Test(boot, non_relocatable_kernel_goes_to_1mib_and_alignment_is_checked)
{
    struct bz o = bz_default();
    struct mvm_kernel k;
    size_t len;
    uint8_t *b;

    o.relocatable = 0;
    b = bootk_image(&o, &len);
    vl_assert_ok(mvm_bzimage_parse(b, len, &k));
    cr_assert_eq(k.load_addr, 0x100000,
                 "a kernel that cannot be relocated goes to 1 MiB, got 0x%llx",
                 (unsigned long long)k.load_addr);
    cr_assert_eq(k.entry, 0x100200);
    free(b);
    o = bz_default();
    o.pref_address = 0x300000; /* not a multiple of 2 MiB */
    b = bootk_image(&o, &len);
    vl_assert_fails(mvm_bzimage_parse(b, len, &k), EINVAL, "kernel_alignment");
    free(b);
}

/* ---- TODO 2: loading ------------------------------------------------- */

Test(boot, kernel_is_copied_to_its_load_address_if_ram_allows)
{
    struct bz o = bz_default();
    struct mvm_kernel k;
    size_t len;
    uint8_t *b = bootk_image(&o, &len);

    ram(16 * MIB);
    vl_assert_ok(mvm_bzimage_parse(b, len, &k));
    vl_assert_ok(mvm_kernel_load(&vm, &k));
    cr_assert(!memcmp(vm.mem + 0x200000, b + 1024, len - 1024),
              "the protected-mode part must be at its load address");
    cr_assert_eq(vm.mem[0x200000 + len - 1024], 0, "and nothing after it");
    free(b);

    o.init_size = 15 * MIB; /* 2 MiB + 15 MiB > 16 MiB */
    b = bootk_image(&o, &len);
    vl_assert_ok(mvm_bzimage_parse(b, len, &k));
    vl_assert_fails(mvm_kernel_load(&vm, &k), E2BIG, "--mem 17M");
    free(b);
}

/* ---- TODO 3: ELF ------------------------------------------------------ */

/* A tiny vmlinux-like ELF: code at physical 3 MiB (virtual high, as
 * Linux links it) with .bss after it, data at 4 MiB, and notes. */
struct elf_file {
    uint8_t b[0x1400];
    Elf64_Ehdr *eh;
    Elf64_Phdr *ph;
};

static void make_elf(struct elf_file *f)
{
    static const uint8_t xen_note[] = {
        4, 0, 0, 0, 4, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0, 0x40, 0, 0x30, 0,
    };
    static const uint8_t gnu_note[] = {
        4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 1, 2, 3, 4,
    };

    memset(f->b, 0, sizeof(f->b));
    f->eh = (Elf64_Ehdr *)f->b;
    f->ph = (Elf64_Phdr *)(f->b + 64);
    memcpy(f->eh->e_ident, ELFMAG, SELFMAG);
    f->eh->e_ident[EI_CLASS] = ELFCLASS64;
    f->eh->e_ident[EI_DATA] = ELFDATA2LSB;
    f->eh->e_ident[EI_VERSION] = EV_CURRENT;
    f->eh->e_type = ET_EXEC;
    f->eh->e_machine = EM_X86_64;
    f->eh->e_version = EV_CURRENT;
    f->eh->e_entry = 0x300010;
    f->eh->e_phoff = 64;
    f->eh->e_ehsize = 64;
    f->eh->e_phentsize = sizeof(Elf64_Phdr);
    f->eh->e_phnum = 3;
    f->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
                            .p_offset = 0x1000,
                            .p_vaddr = 0xffffffff80300000,
                            .p_paddr = 0x300000,
                            .p_filesz = 0x100,
                            .p_memsz = 0x2000};
    f->ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
                            .p_offset = 0x1200,
                            .p_filesz = sizeof(gnu_note) + sizeof(xen_note),
                            .p_memsz = sizeof(gnu_note) + sizeof(xen_note)};
    f->ph[2] = (Elf64_Phdr){.p_type = PT_LOAD,
                            .p_offset = 0x1100,
                            .p_vaddr = 0xffffffff80400000,
                            .p_paddr = 0x400000,
                            .p_filesz = 0x80,
                            .p_memsz = 0x80};
    for (int i = 0; i < 0x180; i++)
        f->b[0x1000 + i] = (uint8_t)(i * 7 + 1);
    memcpy(f->b + 0x1200, gnu_note, sizeof(gnu_note));
    memcpy(f->b + 0x1200 + sizeof(gnu_note), xen_note, sizeof(xen_note));
}

Test(boot, elf_segments_go_to_their_physical_addresses)
{
    struct elf_file f;
    struct mvm_kernel k;

    ram(8 * MIB);
    memset(vm.mem + 0x300100, 0xee, 0x1f00); /* .bss must be zeroed */
    make_elf(&f);
    vl_assert_ok(mvm_elf_load(&vm, f.b, sizeof(f.b), &k));
    cr_assert(!memcmp(vm.mem + 0x300000, f.b + 0x1000, 0x100),
              "segment 0 at its p_paddr 0x300000 (not its p_vaddr)");
    for (int i = 0x100; i < 0x2000; i++)
        cr_assert_eq(vm.mem[0x300000 + i], 0,
                     ".bss (p_filesz to p_memsz) must be zeroed: byte 0x%x", i);
    cr_assert(!memcmp(vm.mem + 0x400000, f.b + 0x1100, 0x80),
              "segment 2 at 0x400000");
    cr_assert_eq(k.format, MVM_KERNEL_ELF);
    cr_assert_eq(k.entry, 0x300010);
    cr_assert_eq(k.pvh_entry, 0x300040, "the Xen note of type 18, got 0x%llx",
                 (unsigned long long)k.pvh_entry);
    cr_assert_eq(k.load_addr, 0x300000);
    cr_assert_eq(k.kernel_end, 0x400080);
    cr_assert_eq(k.hdr.header, MVM_HDRS_MAGIC, "a made-up header for ELF");
    cr_assert_eq(k.hdr.boot_flag, 0xaa55);
    cr_assert_eq(k.hdr.cmdline_size, 2047);
    cr_assert_eq(k.hdr.initrd_addr_max, 0x7fffffff);
    cr_assert(k.hdr.xloadflags & XLF_KERNEL_64);
    cr_assert_eq(k.hdr_len, 0x1f1 + sizeof(struct setup_header));
}

Test(boot, bad_elf_files_are_refused)
{
    struct elf_file f;
    struct mvm_kernel k;

    ram(8 * MIB);
    make_elf(&f);
    f.eh->e_ident[EI_CLASS] = ELFCLASS32;
    vl_assert_fails(mvm_elf_load(&vm, f.b, sizeof(f.b), &k), ENOEXEC, "64");
    make_elf(&f);
    f.eh->e_machine = EM_AARCH64;
    vl_assert_fails(mvm_elf_load(&vm, f.b, sizeof(f.b), &k), ENOEXEC, "x86-64");
    make_elf(&f);
    vl_assert_fails(mvm_elf_load(&vm, f.b, 0x1050, &k), ENOEXEC, "truncated");
    make_elf(&f);
    f.eh->e_phnum = 200;
    vl_assert_fails(mvm_elf_load(&vm, f.b, sizeof(f.b), &k), ENOEXEC,
                    "truncated");
    make_elf(&f);
    f.ph[2].p_paddr = 8 * MIB - 0x40; /* runs off the end of RAM */
    vl_assert_fails(mvm_elf_load(&vm, f.b, sizeof(f.b), &k), E2BIG, "--mem");
    make_elf(&f);
    f.ph[0].p_filesz = 0x3000; /* more file bytes than memory bytes */
    vl_assert_fails(mvm_elf_load(&vm, f.b, sizeof(f.b), &k), ENOEXEC, "");
    make_elf(&f);
    f.eh->e_entry = 0x500000;
    vl_assert_fails(mvm_elf_load(&vm, f.b, sizeof(f.b), &k), ENOEXEC, "entry");
}

/* ---- TODO 4: the E820 map ---------------------------------------------- */

Test(boot, e820_map_has_the_legacy_hole_and_no_ram_in_the_device_window)
{
    struct boot_e820_entry map[8];
    int n;

    ram(64 * MIB);
    n = (int)vl_assert_ok(mvm_e820_map(&vm, map, 8));
    cr_assert_eq(n, 4, "RAM, the hole, RAM, the device window: got %d", n);
    cr_assert(map[0].addr == 0 && map[0].size == 0x9fc00 &&
                  map[0].type == E820_RAM,
              "RAM below 639 KiB");
    cr_assert(map[1].addr == 0x9fc00 && map[1].size == 0x100000 - 0x9fc00 &&
                  map[1].type == E820_RESERVED,
              "the legacy hole [0x9fc00, 1 MiB) is reserved, got [0x%llx, "
              "+0x%llx) type %u",
              (unsigned long long)map[1].addr, (unsigned long long)map[1].size,
              map[1].type);
    cr_assert(map[2].addr == 0x100000 && map[2].size == 63 * MIB &&
                  map[2].type == E820_RAM,
              "RAM from 1 MiB to the end of RAM");
    cr_assert(map[3].addr == MVM_MMIO_BASE && map[3].size == MVM_MMIO_SIZE &&
                  map[3].type == E820_RESERVED,
              "the device window is reserved");
    vl_assert_fails(mvm_e820_map(&vm, map, 3), ENOSPC, "");
}

Test(boot, e820_map_refuses_too_little_or_too_much_ram)
{
    struct boot_e820_entry map[8];

    ram(2 * MIB);
    vl_assert_fails(mvm_e820_map(&vm, map, 8), EINVAL, "MiB");
    vm.mem_size = MVM_MMIO_BASE + MIB; /* only the size is looked at */
    vl_assert_fails(mvm_e820_map(&vm, map, 8), EINVAL, "device window");
    vm.mem_size = 2 * MIB;
}

/* ---- TODO 5: the initrd ------------------------------------------------ */

Test(boot, initrd_goes_as_high_as_ram_and_initrd_addr_max_allow)
{
    struct mvm_kernel k = kernel_at(4 * MIB, 0x7fffffff);
    uint64_t addr = 0;

    ram(64 * MIB);
    vl_assert_ok(mvm_initrd_place(&vm, &k, 10000, &addr));
    cr_assert_eq(addr, (64 * MIB - 10000) & ~0xfffull,
                 "the highest page-aligned address in RAM, got 0x%llx",
                 (unsigned long long)addr);
    k.hdr.initrd_addr_max = 32 * MIB - 1;
    vl_assert_ok(mvm_initrd_place(&vm, &k, 10000, &addr));
    cr_assert_eq(addr, (32 * MIB - 10000) & ~0xfffull,
                 "its last byte at or below initrd_addr_max, got 0x%llx",
                 (unsigned long long)addr);
    vl_assert_ok(mvm_initrd_place(&vm, &k, 8192, &addr));
    cr_assert_eq(addr, 32 * MIB - 8192, "a whole number of pages ends there");
    k.hdr.initrd_addr_max = 0; /* before protocol 2.03: 0x37ffffff */
    vl_assert_ok(mvm_initrd_place(&vm, &k, 4096, &addr));
    cr_assert_eq(addr, 64 * MIB - 4096);
}

Test(boot, initrd_that_does_not_fit_is_refused)
{
    struct mvm_kernel k = kernel_at(40 * MIB, 0x7fffffff);
    uint64_t addr = 0;

    ram(64 * MIB);
    vl_assert_ok(mvm_initrd_place(&vm, &k, 24 * MIB, &addr));
    cr_assert_eq(addr, 40 * MIB, "exactly fits between kernel and RAM's end");
    vl_assert_fails(mvm_initrd_place(&vm, &k, 24 * MIB + 1, &addr), E2BIG,
                    "initrd");
    vl_assert_fails(mvm_initrd_place(&vm, &k, 128 * MIB, &addr), E2BIG, "");
    k.hdr.initrd_addr_max = 48 * MIB - 1;
    vl_assert_fails(mvm_initrd_place(&vm, &k, 9 * MIB, &addr), E2BIG, "initrd");
    vl_assert_fails(mvm_initrd_place(&vm, &k, 0, &addr), EINVAL, "");
}

/* ---- TODO 6: the zero page --------------------------------------------- */

Test(boot, zero_page_holds_header_command_line_initrd_and_e820)
{
    static const char line[] = "console=ttyS0 vlab.test=zero-page";
    struct bz o = bz_default();
    struct mvm_kernel k;
    struct boot_params *bp;
    size_t len;
    uint8_t *b = bootk_image(&o, &len);

    ram(32 * MIB);
    memset(vm.mem + MVM_ZERO_PAGE, 0xee, 4096); /* must be zeroed */
    vl_assert_ok(mvm_bzimage_parse(b, len, &k));
    k.initrd_addr = 0x1f00000, k.initrd_size = 12345, k.rsdp_addr = 0xe0000;
    vl_assert_ok(mvm_boot_params(&vm, &k, line));
    cr_assert_str_eq((char *)vm.mem + MVM_CMDLINE_ADDR, line);
    cr_assert_eq(k.cmdline_addr, MVM_CMDLINE_ADDR);
    cr_assert_eq(k.cmdline_len, strlen(line));
    bp = (struct boot_params *)(vm.mem + MVM_ZERO_PAGE);
    cr_assert(!memcmp(&bp->hdr.setup_sects, b + 0x1f1, 0x210 - 0x1f1),
              "the setup header is copied from the file");
    cr_assert_eq(bp->hdr.header, MVM_HDRS_MAGIC);
    cr_assert_eq(bp->hdr.version, 0x020f);
    cr_assert_eq(bp->hdr.type_of_loader, 0xff, "type_of_loader 0xff");
    cr_assert_eq(bp->hdr.cmd_line_ptr, MVM_CMDLINE_ADDR, "cmd_line_ptr");
    cr_assert_eq(bp->ext_cmd_line_ptr, 0);
    cr_assert_eq(bp->hdr.ramdisk_image, 0x1f00000, "ramdisk_image");
    cr_assert_eq(bp->hdr.ramdisk_size, 12345, "ramdisk_size");
    cr_assert_eq(bp->hdr.code32_start, 0x200000);
    cr_assert_eq(bp->acpi_rsdp_addr, 0xe0000, "acpi_rsdp_addr");
    cr_assert_eq(bp->e820_entries, 4, "e820_entries");
    cr_assert(bp->e820_table[2].addr == 0x100000 &&
              bp->e820_table[2].size == 31 * MIB);
    cr_assert_eq(bp->sentinel, 0, "the rest of the zero page is zeroed");
    cr_assert_eq(bp->_pad6[0], 0);
    free(b);
}

Test(boot, command_line_longer_than_cmdline_size_is_refused)
{
    struct bz o = bz_default();
    struct mvm_kernel k;
    char line[300];
    size_t len;
    uint8_t *b = bootk_image(&o, &len);

    ram(32 * MIB);
    vl_assert_ok(mvm_bzimage_parse(b, len, &k));
    memset(line, 'x', 255);
    line[255] = '\0';
    vl_assert_ok(mvm_boot_params(&vm, &k, line));
    line[255] = 'y', line[256] = '\0';
    vl_assert_fails(mvm_boot_params(&vm, &k, line), E2BIG, "cmdline_size");
    free(b);
}

/* ---- TODO 7: CPUID ----------------------------------------------------- */

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn,
                                     uint32_t index)
{
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == index)
            return &c->entries[i];
    return NULL;
}

Test(boot, cpuid_comes_from_kvm_with_the_vmm_fixups)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
    struct kvm_cpuid_entry2 *e;

    ram(8 * MIB);
    vl_assert_ok(mvm_setup_cpuid(&vm));
    c->nent = 256;
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_CPUID2, c), 0, "KVM_GET_CPUID2: %s",
                 strerror(errno));
    cr_assert_gt(c->nent, 4, "the vCPU's CPUID must come from KVM's list");
    e = leaf(c, 1, 0);
    cr_assert_not_null(e, "leaf 1 is set");
    cr_assert(e->ecx & (1u << 31), "leaf 1 ECX bit 31: the hypervisor bit");
    cr_assert_eq(e->ebx >> 24, 0, "leaf 1 EBX[31:24]: APIC id 0");
    e = leaf(c, 0x80000001, 0);
    cr_assert(e && (e->edx & (1u << 29)), "leaf 0x80000001: long mode");
    e = leaf(c, 0x40000000, 0);
    cr_assert(e && !memcmp(&e->ebx, "KVMK", 4),
              "KVM's signature leaf 0x40000000 is kept");
    free(c);
}

/* ---- TODO 8: the 64-bit entry ------------------------------------------ */

Test(boot, kernel64_entry_state_follows_the_protocol)
{
    struct mvm_kernel k = {.entry = 0x200200, .load_addr = 0x200000};
    struct kvm_regs regs;
    struct kvm_sregs s;

    ram(40 * MIB);
    vl_assert_ok(mvm_enter_kernel64(&vm, &k));
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    s = get_sregs();
    cr_assert_eq(regs.rip, 0x200200, "RIP = the entry, got 0x%llx",
                 (unsigned long long)regs.rip);
    cr_assert_eq(regs.rsi, MVM_ZERO_PAGE, "RSI = the zero page");
    cr_assert_eq(regs.rflags & (1u << 9), 0, "interrupts off");
    cr_assert_eq(s.cs.selector, 0x10, "CS = __BOOT_CS 0x10, got 0x%x",
                 s.cs.selector);
    cr_assert(s.cs.l && s.cs.present && (s.cs.type & 0xa) == 0xa,
              "CS: 64-bit, present, execute/read");
    cr_assert(s.ds.selector == 0x18 && s.es.selector == 0x18 &&
                  s.ss.selector == 0x18,
              "DS, ES, SS = __BOOT_DS 0x18");
    cr_assert((s.ds.type & 0xa) == 0x2 && s.ds.present, "DS: read/write data");
    cr_assert((s.cr0 & VL_CR0_PG) && (s.efer & VL_EFER_LMA),
              "paging on, long mode active");
    /* The GDT in guest memory has the same descriptors. */
    cr_assert_eq(s.gdt.base, MVM_BOOT_GDT);
    cr_assert_geq(s.gdt.limit, 0x1f, "the GDT reaches __BOOT_DS");
    cr_assert(vm.mem[MVM_BOOT_GDT + 0x10 + 6] & 0x20, "GDT[2] is 64-bit code");
    /* Identity mappings: the kernel, the zero page, the command line, the
     * top of RAM (where an initrd goes). */
    cr_assert_eq(translate(0x200200), 0x200200);
    cr_assert_eq(translate(MVM_ZERO_PAGE), MVM_ZERO_PAGE);
    cr_assert_eq(translate(MVM_CMDLINE_ADDR + 5), MVM_CMDLINE_ADDR + 5);
    cr_assert_eq(translate(40 * MIB - 8), 40 * MIB - 8,
                 "all of RAM is identity-mapped");
}

/* ---- the test kernel, end to end (layer 1) ---------------------------- */

#define BOOTK_LINE "console=ttyS0 vlab.layer=1 root=/dev/null"

/* Boot the test kernel in a bzImage of options o, with an initrd of
 * `ilen` bytes (0: none), in `mem` bytes of RAM; returns the console. */
static const char *boot_bootk(const struct bz *o, const uint8_t *initrd,
                              size_t ilen, size_t mem)
{
    struct mvm_boot_spec spec = {
        .initrd = ilen ? initrd : NULL,
        .initrd_len = ilen,
        .cmdline = BOOTK_LINE,
        .acpi = true,
    };
    size_t len;
    uint8_t *b = bootk_image(o, &len);

    spec.kernel = b, spec.kernel_len = len;
    vm.opt.mem_size = mem;
    vm.opt.max_exits = 20000;
    vm.opt.timeout_s = 20;
    vl_assert_ok(mvm_create_reference_irqchip(&vm));
    vl_assert_ok(mvm_boot_linux(&vm, &spec));
    vl_assert_ok(mvm_run_guarded(&vm));
    free(b);
    return capture_text(&console);
}

/* The value of "bootk: <what> 0x..." in the console, or fail. */
static uint64_t fact(const char *out, const char *what)
{
    char key[64];
    const char *p;

    snprintf(key, sizeof(key), "bootk: %s 0x", what);
    p = strstr(out, key);
    cr_assert_not_null(p, "the test kernel never printed \"%s\": console:\n%s",
                       key, out);
    return strtoull(p + strlen(key) - 2, NULL, 16);
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = BOOTK_FNV_BASIS;

    while (n--)
        h = (h ^ *p++) * BOOTK_FNV_PRIME;
    return h;
}

Test(boot, test_kernel_gets_cmdline_e820_initrd_and_powers_off)
{
    struct bz o = bz_default();
    uint8_t initrd[3000];
    const char *out;
    uint64_t at;

    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 31 + 7);
    out = boot_bootk(&o, initrd, sizeof(initrd), 64 * MIB);
    cr_log_info("the test kernel's console:\n%s", out);
    cr_assert(strstr(out, "bootk: hello from the test kernel\n"),
              "the test kernel did not start: console:\n%s", out);
    cr_assert_eq(fact(out, "entry"), 0x200200, "entered at pref_address+0x200");
    cr_assert_eq(fact(out, "boot_params"), MVM_ZERO_PAGE, "RSI");
    cr_assert_eq(fact(out, "cs"), 0x10);
    cr_assert_eq(fact(out, "ds"), 0x18);
    cr_assert_eq(fact(out, "ss"), 0x18);
    cr_assert_eq(fact(out, "if"), 0, "interrupts off at the entry");
    cr_assert_eq(fact(out, "lma"), 1);
    cr_assert_eq(fact(out, "version"), 0x20f);
    cr_assert_eq(fact(out, "type_of_loader"), 0xff);
    cr_assert_eq(fact(out, "cmd_line_ptr"), MVM_CMDLINE_ADDR);
    cr_assert(strstr(out, "bootk: cmdline \"" BOOTK_LINE "\"\n"),
              "the kernel must read exactly the command line: console:\n%s",
              out);
    cr_assert_eq(fact(out, "e820_entries"), 4);
    cr_assert(strstr(out, "bootk: e820 0x0 0x9fc00 0x1\n"
                          "bootk: e820 0x9fc00 0x60400 0x2\n"
                          "bootk: e820 0x100000 0x3f00000 0x1\n"
                          "bootk: e820 0xd0000000 0x200000 0x2\n"),
              "the E820 map as the kernel sees it: console:\n%s", out);
    at = fact(out, "initrd");
    cr_assert_eq(at, (64 * MIB - sizeof(initrd)) & ~0xfffull,
                 "the initrd at the top of RAM, got 0x%llx",
                 (unsigned long long)at);
    cr_assert_eq(fact(out, "initrd_size"), sizeof(initrd));
    cr_assert_eq(fact(out, "initrd_fnv"), fnv(initrd, sizeof(initrd)),
                 "the kernel must find the initrd's bytes where the zero "
                 "page says");
    cr_assert_eq(fact(out, "acpi_rsdp"), MVM_ACPI_ADDR);
    cr_assert(strstr(out, "bootk: power off\n"));
    cr_assert_eq(vm.kernel.power, MVM_POWER_OFF,
                 "the guest's ACPI power-off must stop minivm");
}

Test(boot, test_kernel_with_setup_sects_zero_and_no_initrd)
{
    struct bz o = bz_default();
    const char *out;

    o.setup_sects = 0, o.sectors = 4, o.relocatable = 0;
    out = boot_bootk(&o, NULL, 0, 16 * MIB);
    cr_assert(strstr(out, "bootk: hello from the test kernel\n"),
              "the test kernel did not start: console:\n%s", out);
    cr_assert_eq(fact(out, "entry"), 0x100200, "1 MiB + 0x200");
    cr_assert_eq(fact(out, "initrd"), 0, "no initrd: ramdisk_image 0");
    cr_assert_eq(fact(out, "initrd_size"), 0);
    cr_assert(strstr(out, "bootk: e820 0x100000 0xf00000 0x1\n"),
              "RAM to 16 MiB: console:\n%s", out);
    cr_assert_eq(vm.kernel.power, MVM_POWER_OFF);
}

Test(boot, bad_kernels_are_refused_before_the_guest_runs)
{
    struct bz o = bz_default();
    struct mvm_boot_spec spec = {.cmdline = "x", .acpi = true};
    static uint8_t big[20 * (1 << 20)];
    size_t len;
    uint8_t *b = bootk_image(&o, &len);

    vm.opt.mem_size = 16 * MIB;
    vl_assert_ok(mvm_create_reference_irqchip(&vm));
    spec.kernel = "MZ not a kernel", spec.kernel_len = 16;
    vl_assert_fails(mvm_boot_linux(&vm, &spec), ENOEXEC, "bzImage");
    spec.kernel = b, spec.kernel_len = len;
    spec.initrd = big, spec.initrd_len = sizeof(big);
    vl_assert_fails(mvm_boot_linux(&vm, &spec), E2BIG, "initrd");
    free(b);
}
