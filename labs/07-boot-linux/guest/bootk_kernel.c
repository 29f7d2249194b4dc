/*
 * bootk_kernel.c - lab 07's test kernel: it follows the boot protocol
 * like Linux and prints on the UART exactly what it received, one fact a
 * line, for the tests to check field by field. Then it powers the
 * machine off the way Linux does with ACPI: SLP_TYP of \_S5 and SLP_EN
 * to PM1a_CNT.
 *
 * The tests wrap it in a bzImage (tests/boot_test.c, make_bzimage());
 * its 64-bit entry copies this image to 0x1000 and jumps to crt0.S, which
 * leaves RSI and RDX alone: main()'s second and third arguments (System V
 * ABI) are the zero page's address and the entry's address.
 */
#include <asm/bootparam.h>

#include "bootk.h"
#include "rt.h"
#include "uart.h"

static char num[21];

static void put(const char *s)
{
    uart_puts(s);
}

static void hex(uint64_t v)
{
    uart_puts(fmt_hex(num, v));
}

static void line(const char *what, uint64_t v)
{
    put("bootk: ");
    put(what);
    put(" ");
    hex(v);
    put("\n");
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

/* What the 64-bit boot protocol promises about the CPU. */
static void cpu_state(void)
{
    uint64_t cr0, cr4, flags;
    uint32_t lo, hi;
    uint16_t cs, ds, ss, es;

    __asm__ volatile("mov %%cs, %0; mov %%ds, %1; mov %%ss, %2; mov %%es, %3"
                     : "=r"(cs), "=r"(ds), "=r"(ss), "=r"(es));
    __asm__ volatile("mov %%cr0, %0; mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    __asm__ volatile("pushf; pop %0" : "=r"(flags));
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
    line("cs", cs);
    line("ds", ds);
    line("es", es);
    line("ss", ss);
    line("if", (flags >> 9) & 1);
    line("paging", (cr0 >> 31) & 1);
    line("pae", (cr4 >> 5) & 1);
    line("lma", ((uint64_t)hi << 32 | lo) >> 10 & 1);
}

int main(uint64_t unused, const struct boot_params *bp, uint64_t entry)
{
    const struct setup_header *h = &bp->hdr;
    uint64_t cmdline, initrd, size;
    uint32_t sum = BOOTK_FNV_BASIS;

    (void)unused;
    uart_init();
    put("bootk: hello from the test kernel\n");
    line("entry", entry);
    line("boot_params", (uint64_t)bp);
    cpu_state();
    line("version", h->version);
    line("type_of_loader", h->type_of_loader);
    line("loadflags", h->loadflags);
    line("code32_start", h->code32_start);
    cmdline = h->cmd_line_ptr | (uint64_t)bp->ext_cmd_line_ptr << 32;
    line("cmd_line_ptr", cmdline);
    put("bootk: cmdline \"");
    if (cmdline)
        put((const char *)cmdline);
    put("\"\n");
    line("e820_entries", bp->e820_entries);
    for (unsigned i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE;
         i++) {
        const struct boot_e820_entry *e = &bp->e820_table[i];

        put("bootk: e820 ");
        hex(e->addr);
        put(" ");
        hex(e->size);
        put(" ");
        hex(e->type);
        put("\n");
    }
    initrd = h->ramdisk_image | (uint64_t)bp->ext_ramdisk_image << 32;
    size = h->ramdisk_size | (uint64_t)bp->ext_ramdisk_size << 32;
    line("initrd", initrd);
    line("initrd_size", size);
    if (initrd)
        for (uint64_t i = 0; i < size; i++)
            sum = (sum ^ ((const uint8_t *)initrd)[i]) * BOOTK_FNV_PRIME;
    line("initrd_fnv", initrd ? sum : 0);
    line("acpi_rsdp", bp->acpi_rsdp_addr);
    put("bootk: power off\n");
    outw(BOOTK_PM1A_CNT, BOOTK_S5);
    for (;;)
        __asm__ volatile("hlt");
}
