/*
 * paging.c - a reference 4-level page walk that explains itself, and a dump
 * of a whole page-table tree (virtlab/paging.h).
 *
 * Reference: Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging",
 * 4.6 "Access Rights", 4.7 "Page-Fault Exceptions".
 */
#include "virtlab/paging.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "virtlab/error.h"
#include "virtlab/kvm.h"
#include "virtlab/x86.h"

/*
 * Every paging structure is one 4 KiB page of 512 8-byte entries, so each
 * level consumes 9 bits of the virtual address (SDM Vol. 3A, 4.5.4).
 */
#define ENTRY_SIZE    sizeof(uint64_t)
#define TABLE_ENTRIES ((unsigned)(VL_PAGE_4K / ENTRY_SIZE))
#define INDEX_BITS    9

/*
 * 4-level paging translates 48-bit addresses; the 16 bits above must be
 * copies of bit 47, or the address is not canonical and any access to it
 * raises #GP before paging is even consulted (SDM Vol. 1, 3.3.7.1).
 */
#define VA_BITS 48

/*
 * Bits that are reserved (must be 0) in a page-mapping PDPTE or PDE: the
 * address of a 1 GiB page starts at bit 30, that of a 2 MiB page at bit 21,
 * bit 12 is PAT, and the bits between are reserved (SDM Vol. 3A, Tables 4-16
 * and 4-18). A set reserved bit is a page fault with the RSVD error flag
 * (4.7), even though the entry is present.
 */
#define PDPTE_1G_RESERVED 0x3fffe000ULL /* bits 29:13 */
#define PDE_2M_RESERVED   0x1fe000ULL   /* bits 20:13 */

/*
 * The flags the dump prints and compares when it collapses runs of pages.
 * Accessed and dirty are left out: the CPU (and KVM's own walker) sets them
 * as the guest runs, which would break up runs for no reason.
 */
#define SHOWN_FLAGS                                                            \
    (VL_PTE_RW | VL_PTE_US | VL_PTE_PWT | VL_PTE_PCD | VL_PTE_G | VL_PTE_NX)
#define RIGHTS (VL_PTE_RW | VL_PTE_US | VL_PTE_NX)

/* Indexed by level: 4 = PML4 .. 1 = PT. */
static const char *const table_names[VL_PT_LEVELS + 1] = {
    [4] = "PML4", [3] = "PDPT", [2] = "PD", [1] = "PT"};
static const char *const page_names[VL_PT_LEVELS] = {
    [3] = "1G", [2] = "2M", [1] = "4K"};

/* Bytes of virtual address space one entry of a level covers. */
static uint64_t entry_span(int level)
{
    return VL_PAGE_4K << (INDEX_BITS * (level - 1));
}

/* The entry a virtual address selects in the table of a level. */
static unsigned va_index(uint64_t va, int level)
{
    switch (level) {
    case 4:
        return VL_PML4_INDEX(va);
    case 3:
        return VL_PDPT_INDEX(va);
    case 2:
        return VL_PD_INDEX(va);
    default:
        return VL_PT_INDEX(va);
    }
}

static bool is_canonical(uint64_t va)
{
    int64_t high = (int64_t)va >> (VA_BITS - 1);

    return high == 0 || high == -1;
}

/* Copy bit 47 into bits 63:48: the canonical form of an address built from
 * table indexes (PML4 entries 256..511 cover the upper half). */
static uint64_t sign_extend(uint64_t va)
{
    return (uint64_t)((int64_t)(va << (64 - VA_BITS)) >> (64 - VA_BITS));
}

/*
 * Does this present entry map a page (end the walk)? A PT entry always does;
 * a PDPTE or PDE does when PS (bit 7) is set. In a PT entry bit 7 is PAT,
 * a caching attribute, not a page size (SDM Vol. 3A, Table 4-20).
 */
static bool is_leaf(int level, uint64_t entry)
{
    return level == 1 || ((level == 2 || level == 3) && (entry & VL_PTE_PS));
}

/* Why a present entry is invalid on every CPU with 4-level paging, or NULL
 * (SDM Vol. 3A, Tables 4-15 to 4-20). */
static const char *reserved_bits(int level, uint64_t entry)
{
    if (level == 4 && (entry & VL_PTE_PS))
        return "PS (bit 7) is reserved in a PML4 entry";
    if (level == 3 && (entry & VL_PTE_PS) && (entry & PDPTE_1G_RESERVED))
        return "bits 29:13 of an entry that maps a 1G page are reserved";
    if (level == 2 && (entry & VL_PTE_PS) && (entry & PDE_2M_RESERVED))
        return "bits 20:13 of an entry that maps a 2M page are reserved";
    return NULL;
}

/* The physical address of the page a leaf entry maps: its address bits
 * above the page offset (so PAT, bit 12 of a large page, is dropped). */
static uint64_t page_address(uint64_t entry, int level)
{
    return entry & VL_PTE_ADDR_MASK & ~(entry_span(level) - 1);
}

/*
 * Access rights along a path (SDM Vol. 3A, 4.6.1): a write is allowed only
 * if R/W is set in every entry that controls the translation, a user-mode
 * access only if U/S is set in every one, and an instruction fetch is
 * refused if XD (NX) is set in any one (with EFER.NXE). So RW and US are
 * ANDed down the path, NX is ORed. (With CR0.WP = 0 the kernel may write
 * read-only pages anyway; that is the CPU's choice, not the tables'.)
 */
static uint64_t combine_rights(uint64_t above, uint64_t entry)
{
    return (above & entry & (VL_PTE_RW | VL_PTE_US)) |
           ((above | entry) & VL_PTE_NX);
}

/* The rights of an empty path: everything allowed, nothing forbidden. */
#define ALL_RIGHTS (VL_PTE_RW | VL_PTE_US)

/*
 * Call the reader, and make sure a failure leaves a message even when the
 * reader records none.
 */
static int read_gpa(vl_gpa_reader read, void *ctx, uint64_t gpa, void *dst,
                    size_t len)
{
    int r;

    vl_err_clear();
    r = read(ctx, gpa, dst, len);
    if (r >= 0)
        return 0;
    if (!vl_errmsg()[0])
        vl_err(r, "reading guest-physical 0x%llx", (unsigned long long)gpa);
    return r;
}

int vl_vm_gpa_reader(void *vm, uint64_t gpa, void *dst, size_t len)
{
    return vl_vm_read(vm, gpa, dst, len);
}

/* ---- the walk ------------------------------------------------------- */

/* Record the rights of the path so far and, at a leaf, the translation. */
static void take_entry(struct vl_pt_walk *w, uint64_t *rights, int level,
                       uint64_t entry)
{
    *rights = combine_rights(*rights, entry);
    w->writable = *rights & VL_PTE_RW;
    w->user = *rights & VL_PTE_US;
    w->nx = *rights & VL_PTE_NX;
    if (!is_leaf(level, entry))
        return;
    /* The bits of va below the page size are the offset in the page
     * (SDM Vol. 3A, Figures 4-8, 4-9 and 4-10). */
    w->page_size = entry_span(level);
    w->pa = page_address(entry, level) | (w->va & (w->page_size - 1));
    w->present = true;
}

int vl_pt_walk(vl_gpa_reader read, void *ctx, uint64_t cr3, uint64_t va,
               struct vl_pt_walk *w)
{
    /* CR3 bits 11:0 are cache controls (or the PCID) and bit 63 a TLB
     * hint: only bits 51:12 locate the PML4 (SDM Vol. 3A, 4.5.2). */
    uint64_t table = cr3 & VL_PTE_ADDR_MASK;
    uint64_t rights = ALL_RIGHTS;
    struct vl_pt_walk local;

    if (!w)
        w = &local;
    *w = (struct vl_pt_walk){.va = va};
    if (!read)
        return vl_err_plain(EINVAL, "vl_pt_walk: no reader for guest memory");
    if (!is_canonical(va))
        return vl_err_plain(EINVAL,
                            "va 0x%llx is not canonical: bits 63:48 must "
                            "all equal bit 47 (SDM Vol. 1, 3.3.7.1)",
                            (unsigned long long)va);

    for (int level = VL_PT_LEVELS; level >= 1; level--) {
        struct vl_pt_step *s = &w->steps[w->nsteps];
        const char *name = table_names[level];
        const char *reserved;
        int r;

        *s = (struct vl_pt_step){
            .level = level, .table_gpa = table, .index = va_index(va, level)};
        r = read_gpa(read, ctx, table + s->index * ENTRY_SIZE, &s->entry,
                     sizeof(s->entry));
        if (r < 0) /* s names the entry that could not be read */
            return vl_err_ctx(r,
                              "reading %s entry %u of table 0x%llx for va "
                              "0x%llx",
                              name, s->index, (unsigned long long)table,
                              (unsigned long long)va);
        w->nsteps++;

        /* P = 0: the rest of the entry is ignored; an access here is a
         * page fault (SDM Vol. 3A, 4.7). */
        if (!(s->entry & VL_PTE_P)) {
            w->fault_level = level;
            return vl_err_plain(EFAULT,
                                "%s entry %u of table 0x%llx is %#llx (not "
                                "present) for va 0x%llx",
                                name, s->index, (unsigned long long)table,
                                (unsigned long long)s->entry,
                                (unsigned long long)va);
        }
        reserved = reserved_bits(level, s->entry);
        if (reserved)
            return vl_err_plain(EINVAL,
                                "%s entry %u of table 0x%llx is %#llx for va "
                                "0x%llx: %s (SDM Vol. 3A, 4.5)",
                                name, s->index, (unsigned long long)table,
                                (unsigned long long)s->entry,
                                (unsigned long long)va, reserved);

        take_entry(w, &rights, level, s->entry);
        if (w->present)
            return 0;
        table = s->entry & VL_PTE_ADDR_MASK;
    }
    /* Not reached: a PT entry is always a leaf. */
    return vl_err_plain(EFAULT, "va 0x%llx: walk ended without a page",
                        (unsigned long long)va);
}

static void print_rights(FILE *out, uint64_t rights)
{
    fprintf(out, "%s %s%s", rights & VL_PTE_RW ? "rw" : "ro",
            rights & VL_PTE_US ? "user" : "kernel",
            rights & VL_PTE_NX ? " nx" : "");
}

/* The outcome of a failed walk, worked out again from what it recorded. */
static void print_failure(FILE *out, const struct vl_pt_walk *w)
{
    const struct vl_pt_step *last = w->nsteps ? &w->steps[w->nsteps - 1] : NULL;
    const struct vl_pt_step *unread =
        w->nsteps < VL_PT_LEVELS ? &w->steps[w->nsteps] : NULL;

    if (!is_canonical(w->va))
        fprintf(out, "not canonical: bits 63:48 must all equal bit 47");
    else if (last && w->fault_level)
        fprintf(out, "page fault: %s entry %u is not present",
                table_names[last->level], last->index);
    else if (last && reserved_bits(last->level, last->entry))
        fprintf(out, "page fault: %s", reserved_bits(last->level, last->entry));
    else if (unread && unread->level >= 1 && unread->level <= VL_PT_LEVELS)
        fprintf(out, "stopped: the %s at 0x%llx is not in guest memory",
                table_names[unread->level],
                (unsigned long long)unread->table_gpa);
    else
        fprintf(out, "no translation");
}

void vl_pt_walk_print(FILE *out, const struct vl_pt_walk *w)
{
    fprintf(out, "va 0x%016llx:", (unsigned long long)w->va);
    for (int i = 0; i < w->nsteps && i < VL_PT_LEVELS; i++) {
        const struct vl_pt_step *s = &w->steps[i];

        fprintf(out, "%s %s[%u] @0x%llx = %#llx", i ? " ->" : "",
                table_names[s->level], s->index,
                (unsigned long long)s->table_gpa, (unsigned long long)s->entry);
    }
    if (w->present)
        fprintf(out, " (%s page)",
                w->page_size == VL_PAGE_1G   ? "1G"
                : w->page_size == VL_PAGE_2M ? "2M"
                                             : "4K");
    else if (w->fault_level)
        fprintf(out, " (not present)");
    fprintf(out, "\n  => ");
    if (w->present) {
        fprintf(out, "pa 0x%llx ", (unsigned long long)w->pa);
        print_rights(out, (w->writable ? VL_PTE_RW : 0) |
                              (w->user ? VL_PTE_US : 0) |
                              (w->nx ? VL_PTE_NX : 0));
    } else {
        print_failure(out, w);
    }
    fputc('\n', out);
}

/* ---- the dump ------------------------------------------------------- */

struct dump {
    FILE *out;
    vl_gpa_reader read;
    void *ctx;
    uint64_t path[VL_PT_LEVELS + 1]; /* gpa of the table being shown, by
                                        level: the ancestors of a table */
    uint64_t *seen;                  /* gpas of every table shown so far */
    size_t nseen, cap;
    uint64_t pages[VL_PT_LEVELS]; /* leaf pages by level: [1] = 4K .. */
};

static void dump_free(struct dump *d)
{
    free(d->seen);
    d->seen = NULL;
}

static bool was_seen(const struct dump *d, uint64_t table)
{
    for (size_t i = 0; i < d->nseen; i++)
        if (d->seen[i] == table)
            return true;
    return false;
}

static int remember(struct dump *d, uint64_t table)
{
    if (d->nseen == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        uint64_t *seen = realloc(d->seen, cap * sizeof(*seen));

        if (!seen)
            return vl_err(ENOMEM, "dumping page tables: %zu tables", cap);
        d->seen = seen;
        d->cap = cap;
    }
    d->seen[d->nseen++] = table;
    return 0;
}

/* Flags of an entry; G only means something in an entry that maps a page
 * (SDM Vol. 3A, Table 4-15: ignored in a PML4E). */
static void print_flags(FILE *out, uint64_t entry, bool leaf)
{
    fputs(entry & VL_PTE_RW ? "rw" : "ro", out);
    if (entry & VL_PTE_US)
        fputs(" user", out);
    if (entry & VL_PTE_NX)
        fputs(" nx", out);
    if (leaf && (entry & VL_PTE_G))
        fputs(" global", out);
    if (entry & VL_PTE_PCD)
        fputs(" pcd", out);
    if (entry & VL_PTE_PWT)
        fputs(" pwt", out);
}

/* A present, valid entry that maps a page. */
static bool maps_page(int level, uint64_t entry)
{
    return (entry & VL_PTE_P) && is_leaf(level, entry) &&
           !reserved_bits(level, entry);
}

/*
 * How many entries from e[i] on form one run: each maps a page with the same
 * flags, right after the previous one's page in physical memory (the
 * mapping is linear there: pa - va is the same for all, 0 for an identity
 * map).
 */
static unsigned run_length(const uint64_t *e, unsigned i, int level)
{
    uint64_t first = page_address(e[i], level);
    uint64_t span = entry_span(level);
    unsigned n = 1;

    while (i + n < TABLE_ENTRIES && maps_page(level, e[i + n]) &&
           (e[i + n] & SHOWN_FLAGS) == (e[i] & SHOWN_FLAGS) &&
           page_address(e[i + n], level) == first + n * span)
        n++;
    return n;
}

static void print_run(struct dump *d, int indent, int level, const uint64_t *e,
                      unsigned i, unsigned n, uint64_t va, uint64_t above)
{
    uint64_t bytes = n * entry_span(level);
    uint64_t pa = page_address(e[i], level);
    uint64_t rights = combine_rights(above, e[i]);

    fprintf(d->out, "%*s%s[%u", indent, "", table_names[level], i);
    if (n > 1)
        fprintf(d->out, "..%u", i + n - 1);
    fprintf(d->out, "] va 0x%llx-0x%llx -> pa 0x%llx-0x%llx %s ",
            (unsigned long long)va, (unsigned long long)(va + bytes - 1),
            (unsigned long long)pa, (unsigned long long)(pa + bytes - 1),
            page_names[level]);
    print_flags(d->out, e[i], true);
    /* What the tables above take away (or add: NX) shows here, so a page
     * marked rw in a read-only branch does not mislead. */
    if (rights != (e[i] & RIGHTS)) {
        fputs(" (effective: ", d->out);
        print_rights(d->out, rights);
        fputc(')', d->out);
    }
    fputc('\n', d->out);
    d->pages[level] += n;
}

static int dump_table(struct dump *d, int level, uint64_t table,
                      uint64_t va_base, uint64_t above);

/*
 * An entry that points to a table of the next level: print it and follow it,
 * unless that table was shown already. Tables are followed once: an entry
 * that points back up (a loop; legal, and used by some kernels to reach their
 * own tables) would otherwise print the tree again and again.
 */
static int dump_pointer(struct dump *d, int indent, int level, unsigned i,
                        uint64_t entry, uint64_t va, uint64_t above)
{
    uint64_t next = entry & VL_PTE_ADDR_MASK;
    const char *next_name = table_names[level - 1];
    int r;

    fprintf(d->out, "%*s%s[%u] va 0x%llx-0x%llx -> %s @0x%llx ", indent, "",
            table_names[level], i, (unsigned long long)va,
            (unsigned long long)(va + entry_span(level) - 1), next_name,
            (unsigned long long)next);
    print_flags(d->out, entry, false);
    fputc('\n', d->out);

    for (int up = VL_PT_LEVELS; up >= level; up--) {
        if (d->path[up] != next)
            continue;
        fprintf(d->out,
                "%*s(a loop: the %s at 0x%llx is read as a %s here; not "
                "followed)\n",
                indent + 2, "", table_names[up], (unsigned long long)next,
                next_name);
        return 0;
    }
    if (was_seen(d, next)) {
        fprintf(d->out,
                "%*s(the table at 0x%llx was shown above: shared by two "
                "entries, or a loop; not followed)\n",
                indent + 2, "", (unsigned long long)next);
        return 0;
    }
    r = remember(d, next);
    if (r < 0)
        return r;
    return dump_table(d, level - 1, next, va, combine_rights(above, entry));
}

/*
 * Print every present entry of one table (indented by its depth), following
 * pointers to lower tables. above: the rights of the path to this table.
 */
static int dump_table(struct dump *d, int level, uint64_t table,
                      uint64_t va_base, uint64_t above)
{
    int indent = 2 * (VL_PT_LEVELS - level + 1);
    uint64_t e[TABLE_ENTRIES];
    int r;

    r = read_gpa(d->read, d->ctx, table, e, sizeof(e));
    if (r < 0 && level == VL_PT_LEVELS)
        return vl_err_ctx(r, "dumping page tables: reading the PML4 at 0x%llx",
                          (unsigned long long)table);
    if (r < 0) {
        fprintf(d->out, "%*s(the %s at 0x%llx is not in guest memory: %s)\n",
                indent, "", table_names[level], (unsigned long long)table,
                vl_errmsg());
        return 0;
    }
    d->path[level] = table;

    for (unsigned i = 0; i < TABLE_ENTRIES; i++) {
        uint64_t va = sign_extend(va_base + i * entry_span(level));
        const char *reserved;

        if (!(e[i] & VL_PTE_P))
            continue;
        reserved = reserved_bits(level, e[i]);
        if (reserved) {
            fprintf(d->out, "%*s%s[%u] = %#llx: %s; not followed\n", indent, "",
                    table_names[level], i, (unsigned long long)e[i], reserved);
            continue;
        }
        if (is_leaf(level, e[i])) {
            unsigned n = run_length(e, i, level);

            print_run(d, indent, level, e, i, n, va, above);
            i += n - 1;
            continue;
        }
        r = dump_pointer(d, indent, level, i, e[i], va, above);
        if (r < 0)
            return r;
    }
    d->path[level] = 0;
    return 0;
}

int vl_pt_dump(FILE *out, vl_gpa_reader read, void *ctx, uint64_t cr3)
{
    struct dump d __attribute__((cleanup(dump_free))) = {
        .out = out, .read = read, .ctx = ctx};
    uint64_t root = cr3 & VL_PTE_ADDR_MASK;
    uint64_t total, bytes = 0;
    int r;

    if (!out || !read)
        return vl_err_plain(EINVAL, "vl_pt_dump: no output or no reader");
    fprintf(out, "PML4 @0x%llx (CR3 0x%llx)\n", (unsigned long long)root,
            (unsigned long long)cr3);
    r = remember(&d, root);
    if (r < 0)
        return r;
    r = dump_table(&d, VL_PT_LEVELS, root, 0, ALL_RIGHTS);
    if (r < 0)
        return r;

    total = d.pages[1] + d.pages[2] + d.pages[3];
    for (int level = 1; level < VL_PT_LEVELS; level++)
        bytes += d.pages[level] * entry_span(level);
    fprintf(out, "=> %llu pages (%llu 4K, %llu 2M, %llu 1G) map 0x%llx bytes\n",
            (unsigned long long)total, (unsigned long long)d.pages[1],
            (unsigned long long)d.pages[2], (unsigned long long)d.pages[3],
            (unsigned long long)bytes);
    if (fflush(out) != 0)
        return vl_err(errno, "writing the page-table dump");
    if (ferror(out))
        return vl_err(EIO, "writing the page-table dump");
    if (total > INT_MAX)
        return vl_err_plain(EOVERFLOW, "%llu pages are too many to count",
                            (unsigned long long)total);
    return (int)total;
}
