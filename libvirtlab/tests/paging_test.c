/*
 * paging_test.c - the page walk and the page-table dump (virtlab/paging.h).
 *
 * Two layers. The first builds page tables by hand in a plain buffer used as
 * guest memory and checks each rule of 4-level paging (Intel SDM Vol. 3A,
 * 4.5 and 4.6) on its own. The second writes tables into a real KVM guest,
 * switches its vCPU to long mode and compares vl_pt_walk() with KVM's own
 * walker, KVM_TRANSLATE (api.rst 4.15), on a few hundred addresses. No guest
 * code runs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "virtlab/cleanup.h"
#include "virtlab/kvm.h"
#include "virtlab/paging.h"
#include "virtlab/x86.h"

#define ENTRIES  512
#define TABLE    VL_PAGE_4K
#define LEAF_4K  (VL_PTE_P | VL_PTE_RW)
#define UPPER    (VL_PTE_P | VL_PTE_RW | VL_PTE_US) /* let the leaf decide */
#define PAGE_16G 0x400000000ULL

/* ---- page tables built by hand ------------------------------------------ */

/*
 * A bump allocator of page tables in some guest memory, reached through
 * host(): a plain buffer in the first layer, a KVM guest in the second.
 */
struct tables {
    void *(*host)(void *ctx, uint64_t gpa, size_t len);
    void *ctx;
    uint64_t root; /* gpa of the PML4: what goes into CR3 */
    uint64_t next; /* next free table */
    uint64_t end;  /* end of the pool */
};

static unsigned index_at(uint64_t va, int level)
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

static uint64_t *entry(struct tables *t, uint64_t table, unsigned index)
{
    return t->host(t->ctx, table + 8 * index, 8);
}

static uint64_t new_table(struct tables *t)
{
    uint64_t gpa = t->next;

    cr_assert_leq(gpa + TABLE, t->end, "the test ran out of page tables");
    memset(t->host(t->ctx, gpa, TABLE), 0, TABLE);
    t->next += TABLE;
    return gpa;
}

static void tables_pool(struct tables *t, uint64_t start, uint64_t end)
{
    t->next = start;
    t->end = end;
}

static void tables_init(struct tables *t,
                        void *(*host)(void *, uint64_t, size_t), void *ctx,
                        uint64_t start, uint64_t end)
{
    *t = (struct tables){.host = host, .ctx = ctx};
    tables_pool(t, start, end);
    t->root = new_table(t);
}

/* The entry of level `level` that va uses; missing tables above it are
 * created, their entries UPPER. */
static uint64_t *entry_for(struct tables *t, uint64_t va, int level)
{
    uint64_t table = t->root;

    for (int l = 4;; l--) {
        uint64_t *e = entry(t, table, index_at(va, l));

        if (l == level)
            return e;
        if (!(*e & VL_PTE_P))
            *e = new_table(t) | UPPER;
        table = *e & VL_PTE_ADDR_MASK;
    }
}

/* Map [va, va + len) to pa with pages of `page` bytes and leaf flags. */
static void map(struct tables *t, uint64_t va, uint64_t pa, uint64_t len,
                uint64_t page, uint64_t flags)
{
    int level = page == VL_PAGE_1G ? 3 : page == VL_PAGE_2M ? 2 : 1;

    for (uint64_t off = 0; off < len; off += page)
        *entry_for(t, va + off, level) =
            (pa + off) | flags | VL_PTE_P | (level > 1 ? VL_PTE_PS : 0);
}

/* ---- layer 1: a buffer as guest memory ---------------------------------- */

#define MEM_SIZE   0x100000ULL /* 1 MiB: room for 240 tables */
#define POOL_START 0x10000ULL
#define UNBACKED   0x7ff00000ULL /* outside the memory of both layers */

struct mem {
    uint8_t *bytes;
    uint64_t size;
    bool quiet; /* fail without recording a message */
};

static struct mem mem;
static struct tables t;

static int mem_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    struct mem *m = ctx;

    if (gpa >= m->size || len > m->size - gpa) {
        if (m->quiet)
            return -EFAULT;
        return vl_err_plain(EFAULT, "test memory ends at 0x%llx",
                            (unsigned long long)m->size);
    }
    memcpy(dst, m->bytes + gpa, len);
    return 0;
}

static void *mem_host(void *ctx, uint64_t gpa, size_t len)
{
    struct mem *m = ctx;

    cr_assert(gpa < m->size && len <= m->size - gpa,
              "the test wrote outside its memory at 0x%llx",
              (unsigned long long)gpa);
    return m->bytes + gpa;
}

static void mem_setup(void)
{
    mem = (struct mem){.bytes = calloc(1, MEM_SIZE), .size = MEM_SIZE};
    cr_assert_not_null(mem.bytes);
    tables_init(&t, mem_host, &mem, POOL_START, MEM_SIZE);
}

static void mem_teardown(void)
{
    free(mem.bytes);
    mem.bytes = NULL;
}

static int walk(uint64_t va, struct vl_pt_walk *w)
{
    vl_err_clear();
    return vl_pt_walk(mem_read, &mem, t.root, va, w);
}

/* What vl_pt_walk_print() writes; free() it. */
static char *walk_text(const struct vl_pt_walk *w)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    vl_pt_walk_print(f, w);
    fclose(f);
    return text;
}

/* What vl_pt_dump() writes; *ret gets what it returns. free() it. */
static char *dump_text(vl_gpa_reader read, void *ctx, uint64_t cr3, int *ret)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    vl_err_clear();
    *ret = vl_pt_dump(f, read, ctx, cr3);
    fclose(f);
    return text;
}

static int count_lines(const char *text)
{
    int n = 0;

    for (; *text; text++)
        n += *text == '\n';
    return n;
}

#define assert_has(text, needle)                                               \
    cr_assert(strstr((text), (needle)) != NULL, "expected \"%s\" in:\n%s",     \
              (needle), (text))

/* ---- the walk, without KVM ---------------------------------------------- */

Test(paging, walks_a_4k_page_step_by_step, .init = mem_setup,
     .fini = mem_teardown)
{
    struct vl_pt_walk w;
    uint64_t va = 0x7f1234567abcULL;

    map(&t, va & ~(VL_PAGE_4K - 1), 0xabcde000, VL_PAGE_4K, VL_PAGE_4K,
        LEAF_4K);
    vl_assert_ok(walk(va, &w));
    cr_assert(w.present);
    cr_assert_eq(w.pa, 0xabcdeabc);
    cr_assert_eq(w.page_size, VL_PAGE_4K);
    cr_assert_eq(w.nsteps, 4);
    cr_assert_eq(w.fault_level, 0);
    /* Each step: its level, its table, the index from the va's bits. */
    cr_assert_eq(w.steps[0].level, 4);
    cr_assert_eq(w.steps[0].table_gpa, t.root);
    cr_assert_eq(w.steps[0].index, VL_PML4_INDEX(va));
    cr_assert_eq(w.steps[1].level, 3);
    cr_assert_eq(w.steps[1].index, VL_PDPT_INDEX(va));
    cr_assert_eq(w.steps[1].table_gpa, w.steps[0].entry & VL_PTE_ADDR_MASK);
    cr_assert_eq(w.steps[2].index, VL_PD_INDEX(va));
    cr_assert_eq(w.steps[3].level, 1);
    cr_assert_eq(w.steps[3].index, VL_PT_INDEX(va));
    cr_assert_eq(w.steps[3].entry, 0xabcde000 | LEAF_4K);
    cr_assert(w.writable);
    cr_assert_not(w.user, "the leaf has no US bit");
    cr_assert_not(w.nx);
}

Test(paging, walks_a_2m_page, .init = mem_setup, .fini = mem_teardown)
{
    struct vl_pt_walk w;

    map(&t, 0x40000000, 0x7e00000, VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW);
    vl_assert_ok(walk(0x40012345, &w));
    cr_assert_eq(w.pa, 0x7e12345, "the low 21 bits are the offset");
    cr_assert_eq(w.page_size, VL_PAGE_2M);
    cr_assert_eq(w.nsteps, 3, "a PDE with PS ends the walk");
    cr_assert_eq(w.steps[2].level, 2);
}

Test(paging, walks_a_1g_page_above_4g, .init = mem_setup, .fini = mem_teardown)
{
    struct vl_pt_walk w;
    uint64_t va = 0x5c0000000ULL + 0x2345678; /* 23 GiB + ... */

    map(&t, 0x5c0000000ULL, 0x3c0000000ULL, VL_PAGE_1G, VL_PAGE_1G,
        VL_PTE_RW | VL_PTE_US);
    vl_assert_ok(walk(va, &w));
    cr_assert_eq(w.pa, 0x3c2345678ULL, "the low 30 bits are the offset");
    cr_assert_eq(w.page_size, VL_PAGE_1G);
    cr_assert_eq(w.nsteps, 2, "a PDPTE with PS ends the walk");
    cr_assert_eq(w.steps[1].index, 23);
    cr_assert(w.writable && w.user);
}

Test(paging, walks_the_upper_half, .init = mem_setup, .fini = mem_teardown)
{
    struct vl_pt_walk w;

    /* PML4 entries 256..511 map the canonical upper half. */
    map(&t, 0xffff800000000000ULL, 0x1000, VL_PAGE_4K, VL_PAGE_4K, LEAF_4K);
    map(&t, 0xffffffffffe00000ULL, 0x200000, VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW);
    vl_assert_ok(walk(0xffff800000000010ULL, &w));
    cr_assert_eq(w.steps[0].index, 256);
    cr_assert_eq(w.pa, 0x1010);
    vl_assert_ok(walk(0xffffffffffffffffULL, &w));
    cr_assert_eq(w.steps[0].index, 511);
    cr_assert_eq(w.pa, 0x3fffff);
}

Test(paging, ignores_the_flag_bits_of_cr3, .init = mem_setup,
     .fini = mem_teardown)
{
    struct vl_pt_walk w;

    map(&t, 0x1000, 0x2000, VL_PAGE_4K, VL_PAGE_4K, LEAF_4K);
    /* PWT, PCD and a PCID in bits 11:0, the no-flush hint in bit 63. */
    vl_assert_ok(vl_pt_walk(mem_read, &mem, t.root | 0x18 | 0x5 | (1ULL << 63),
                            0x1234, &w));
    cr_assert_eq(w.pa, 0x2234);
    cr_assert_eq(w.steps[0].table_gpa, t.root);
}

Test(paging, pat_bit_in_a_pt_entry_is_not_a_page_size, .init = mem_setup,
     .fini = mem_teardown)
{
    struct vl_pt_walk w;

    /* Bit 7 of a PTE is PAT (SDM Vol. 3A, Table 4-20). */
    map(&t, 0x3000, 0x9000, VL_PAGE_4K, VL_PAGE_4K, LEAF_4K | VL_PTE_PS);
    vl_assert_ok(walk(0x3456, &w));
    cr_assert_eq(w.page_size, VL_PAGE_4K);
    cr_assert_eq(w.pa, 0x9456);
}

Test(paging, walk_may_be_given_no_result, .init = mem_setup,
     .fini = mem_teardown)
{
    map(&t, 0x1000, 0x2000, VL_PAGE_4K, VL_PAGE_4K, LEAF_4K);
    vl_assert_ok(vl_pt_walk(mem_read, &mem, t.root, 0x1000, NULL));
    vl_assert_fails(vl_pt_walk(mem_read, &mem, t.root, 0x5000, NULL), EFAULT,
                    "PT entry 5");
}

/* ---- what stops a walk --------------------------------------------------- */

/* The message of the header's example, word for word. */
Test(paging, not_present_message_names_level_table_index_entry,
     .init = mem_setup, .fini = mem_teardown)
{
    struct vl_pt_walk w;

    cr_assert_eq(t.root, 0x10000);
    *entry(&t, 0x10000, 0) = 0x11000 | UPPER;
    *entry(&t, 0x11000, 0) = 0x12000 | UPPER;
    vl_assert_fails(walk(0x600000, &w), EFAULT,
                    "PD entry 3 of table 0x12000 is 0 (not present) for va "
                    "0x600000");
    cr_assert_eq(w.fault_level, 2);
    cr_assert_eq(w.nsteps, 3);
    cr_assert_not(w.present);
    cr_assert_eq(w.pa, 0);
}

Test(paging, reports_a_missing_entry_at_each_level, .init = mem_setup,
     .fini = mem_teardown)
{
    static const char *const names[] = {"", "PT", "PD", "PDPT", "PML4"};
    uint64_t va = 0x8043c05000ULL; /* indexes 1, 1, 30, 5 */

    for (int level = 4; level >= 1; level--) {
        struct vl_pt_walk w;
        uint64_t *e;
        char needle[64];

        map(&t, va, 0x5000, VL_PAGE_4K, VL_PAGE_4K, LEAF_4K);
        vl_assert_ok(walk(va, &w));
        e = entry_for(&t, va, level);
        /* Present cleared, the rest kept: the CPU ignores the rest. */
        *e &= ~VL_PTE_P;
        snprintf(needle, sizeof(needle), "%s entry %u of table 0x",
                 names[level], index_at(va, level));
        vl_assert_fails(walk(va, &w), EFAULT, needle);
        assert_has(vl_errmsg(), "(not present) for va 0x8043c05000");
        cr_assert_eq(w.fault_level, level);
        cr_assert_eq(w.nsteps, 5 - level);
        cr_assert_eq(w.steps[w.nsteps - 1].level, level);
        cr_assert_eq(w.steps[w.nsteps - 1].entry, *e);
        cr_assert_not(w.present);
        *e |= VL_PTE_P;
    }
}

Test(paging, a_not_present_entry_shows_its_other_bits, .init = mem_setup,
     .fini = mem_teardown)
{
    struct vl_pt_walk w;

    map(&t, 0x1000, 0x2000, VL_PAGE_4K, VL_PAGE_4K, LEAF_4K);
    *entry_for(&t, 0x1000, 1) = 0x2002; /* RW but not P */
    vl_assert_fails(walk(0x1000, &w), EFAULT, "is 0x2002 (not present)");
}

Test(paging, refuses_a_non_canonical_va, .init = mem_setup,
     .fini = mem_teardown)
{
    static const uint64_t bad[] = {0x0000800000000000ULL, 0xffff7fffffffffffULL,
                                   0x8000000000000000ULL,
                                   0x0001000000000000ULL};
    struct vl_pt_walk w;

    map(&t, 0, 0, VL_PAGE_1G, VL_PAGE_1G, VL_PTE_RW);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vl_assert_fails(walk(bad[i], &w), EINVAL, "not canonical");
        cr_assert_eq(w.nsteps, 0, "nothing is read for 0x%llx",
                     (unsigned long long)bad[i]);
        cr_assert_eq(w.va, bad[i]);
    }
    /* The last canonical addresses of each half are walked. */
    vl_assert_fails(walk(0x00007fffffffffffULL, &w), EFAULT, "PML4 entry 255");
    vl_assert_fails(walk(0xffff800000000000ULL, &w), EFAULT, "PML4 entry 256");
    /* Bit 47 = 0 and the high bits clear: 0x1000 is the 1G page. */
    vl_assert_ok(walk(0x1000, &w));
}

Test(paging, refuses_reserved_bits, .init = mem_setup, .fini = mem_teardown)
{
    struct vl_pt_walk w;

    /* PS in a PML4E: there are no 512 GiB pages. */
    map(&t, 0x8000000000ULL, 0, VL_PAGE_1G, VL_PAGE_1G, VL_PTE_RW);
    *entry_for(&t, 0x8000000000ULL, 4) |= VL_PTE_PS;
    vl_assert_fails(walk(0x8000000000ULL, &w), EINVAL, "PML4 entry 1");
    assert_has(vl_errmsg(), "PS (bit 7) is reserved");
    cr_assert_eq(w.nsteps, 1);
    cr_assert_eq(w.fault_level, 0, "the entry is present");

    /* A 1 GiB page must be 1 GiB-aligned: bits 29:13 are reserved. */
    map(&t, 0x40000000, 0x40000000 | 0x2000, VL_PAGE_1G, VL_PAGE_1G, VL_PTE_RW);
    vl_assert_fails(walk(0x40000000, &w), EINVAL, "bits 29:13");
    /* A 2 MiB page: bits 20:13. Bit 12 (PAT) is allowed. */
    map(&t, 0x80000000, 0x100000, VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW);
    vl_assert_fails(walk(0x80000000, &w), EINVAL, "bits 20:13");
    map(&t, 0x80000000, 0x200000 | 0x1000, VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW);
    vl_assert_ok(walk(0x80000010, &w));
    cr_assert_eq(w.pa, 0x200010, "PAT is not part of the address");
}

Test(paging, table_outside_memory_is_the_readers_error, .init = mem_setup,
     .fini = mem_teardown)
{
    struct vl_pt_walk w;

    map(&t, 0x1000, 0x2000, VL_PAGE_4K, VL_PAGE_4K, LEAF_4K);
    *entry_for(&t, 0x1000, 2) = UNBACKED | UPPER; /* the PT */
    vl_assert_fails(walk(0x1000, &w), EFAULT,
                    "reading PT entry 1 of table 0x7ff00000 for va 0x1000: "
                    "test memory ends at 0x100000");
    cr_assert_eq(w.nsteps, 3);
    cr_assert_eq(w.fault_level, 0);
    /* The entry that could not be read is named. */
    cr_assert_eq(w.steps[3].level, 1);
    cr_assert_eq(w.steps[3].table_gpa, 0x7ff00000);
    cr_assert_eq(w.steps[3].index, 1);

    /* CR3 itself outside memory. */
    vl_assert_fails(vl_pt_walk(mem_read, &mem, UNBACKED, 0x1000, &w), EFAULT,
                    "reading PML4 entry 0");
    cr_assert_eq(w.nsteps, 0);

    /* A reader that records nothing still leaves a message. */
    mem.quiet = true;
    vl_assert_fails(walk(0x1000, &w), EFAULT, "Bad address");
    assert_has(vl_errmsg(), "reading PT entry 1");
}

/* ---- access rights: RW and US ANDed, NX ORed (SDM Vol. 3A, 4.6.1) -------- */

Test(paging, rights_combine_along_the_path, .init = mem_setup,
     .fini = mem_teardown)
{
    struct vl_pt_walk w;
    uint64_t va = 0x1000;

    map(&t, va, 0x1000, VL_PAGE_4K, VL_PAGE_4K,
        VL_PTE_RW | VL_PTE_US); /* all levels rw user */
    vl_assert_ok(walk(va, &w));
    cr_assert(w.writable && w.user && !w.nx);

    /* Taking RW or US away, or adding NX, at any one level decides. */
    for (int level = 4; level >= 1; level--) {
        static const uint64_t bits[] = {VL_PTE_RW, VL_PTE_US, VL_PTE_NX};

        for (int b = 0; b < 3; b++) {
            uint64_t *e = entry_for(&t, va, level);
            uint64_t saved = *e;

            *e ^= bits[b]; /* RW, US: clear; NX: set */
            vl_assert_ok(walk(va, &w));
            cr_assert_eq(w.writable, bits[b] != VL_PTE_RW,
                         "level %d, bit 0x%llx", level,
                         (unsigned long long)bits[b]);
            cr_assert_eq(w.user, bits[b] != VL_PTE_US, "level %d", level);
            cr_assert_eq(w.nx, bits[b] == VL_PTE_NX, "level %d", level);
            *e = saved;
        }
    }
}

Test(paging, user_on_the_leaf_alone_is_not_enough, .init = mem_setup,
     .fini = mem_teardown)
{
    struct vl_pt_walk w;

    map(&t, 0x200000, 0x200000, VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW | VL_PTE_US);
    *entry_for(&t, 0x200000, 4) &= ~VL_PTE_US;
    vl_assert_ok(walk(0x200000, &w));
    cr_assert_not(w.user);
    cr_assert(w.writable);
    /* Rights of the path so far are kept when a later level is missing. */
    *entry_for(&t, 0x200000, 2) = 0;
    vl_assert_fails(walk(0x200000, &w), EFAULT, "PD entry 1");
    cr_assert_not(w.user);
    cr_assert(w.writable);
    cr_assert_eq(w.page_size, 0);
}

/* ---- printing a walk --------------------------------------------------- */

/* The example of the header, word for word. */
Test(paging, prints_a_walk_as_documented, .init = mem_setup,
     .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    struct vl_pt_walk w;

    *entry(&t, 0x10000, 0) = 0x11003;
    *entry(&t, 0x11000, 4) = 0x13003;
    *entry(&t, 0x13000, 0) = 0x200083;
    vl_assert_ok(walk(0x100000010ULL, &w));
    text = walk_text(&w);
    cr_assert_str_eq(text,
                     "va 0x0000000100000010: PML4[0] @0x10000 = 0x11003 -> "
                     "PDPT[4] @0x11000 = 0x13003 -> PD[0] @0x13000 = 0x200083 "
                     "(2M page)\n"
                     "  => pa 0x200010 rw kernel\n");
}

Test(paging, prints_why_a_walk_stopped, .init = mem_setup, .fini = mem_teardown)
{
    struct vl_pt_walk w;
    char *text;

    map(&t, 0x1000, 0x2000, VL_PAGE_4K, VL_PAGE_4K,
        VL_PTE_US | VL_PTE_NX); /* read-only user no-exec */
    walk(0x1000, &w);
    text = walk_text(&w);
    assert_has(text, "PT[1] @0x13000 = 0x8000000000002005 (4K page)\n"
                     "  => pa 0x2000 ro user nx\n");
    free(text);

    walk(0x5000, &w);
    text = walk_text(&w);
    assert_has(text, "PT[5] @0x13000 = 0 (not present)\n"
                     "  => page fault: PT entry 5 is not present\n");
    free(text);

    walk(0x5ead00000000ULL, &w);
    text = walk_text(&w);
    assert_has(text, "=> page fault: PML4 entry 189 is not present");
    free(text);

    walk(0x8000000000000000ULL, &w);
    text = walk_text(&w);
    cr_assert_str_eq(text, "va 0x8000000000000000:\n  => not canonical: bits "
                           "63:48 must all equal bit 47\n");
    free(text);

    *entry_for(&t, 0x1000, 3) = UNBACKED | UPPER;
    walk(0x1000, &w);
    text = walk_text(&w);
    assert_has(text, "=> stopped: the PD at 0x7ff00000 is not in guest memory");
    free(text);

    *entry_for(&t, 0x1000, 4) |= VL_PTE_PS;
    walk(0x1000, &w);
    text = walk_text(&w);
    assert_has(text, "=> page fault: PS (bit 7) is reserved in a PML4 entry");
    free(text);
}

/* ---- the dump ---------------------------------------------------------- */

Test(paging, dump_collapses_a_4mib_identity_map, .init = mem_setup,
     .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    int ret;

    map(&t, 0, 0, 0x400000, VL_PAGE_4K, VL_PTE_RW);
    text = dump_text(mem_read, &mem, t.root, &ret);
    cr_assert_eq(ret, 1024, "%s", vl_errmsg());
    cr_assert_eq(count_lines(text), 8, "%s", text);
    assert_has(text,
               "        PT[0..511] va 0x0-0x1fffff -> pa 0x0-0x1fffff 4K rw\n");
    assert_has(text, "        PT[0..511] va 0x200000-0x3fffff -> pa "
                     "0x200000-0x3fffff 4K rw\n");
    assert_has(text, "=> 1024 pages (1024 4K, 0 2M, 0 1G) map 0x400000 bytes");
}

Test(paging, dump_runs_break_at_flags_holes_and_jumps, .init = mem_setup,
     .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    int ret;

    map(&t, 0, 0, 0x200000, VL_PAGE_4K, VL_PTE_RW);
    *entry_for(&t, 0x5000, 1) &= ~VL_PTE_RW;           /* flags */
    *entry_for(&t, 0x9000, 1) = 0;                     /* a hole */
    *entry_for(&t, 0x20000, 1) = 0x800000 | LEAF_4K;   /* a jump */
    *entry_for(&t, 0x21000, 1) |= VL_PTE_A | VL_PTE_D; /* ignored */
    text = dump_text(mem_read, &mem, t.root, &ret);
    cr_assert_eq(ret, 511);
    assert_has(text, "PT[0..4] va 0x0-0x4fff -> pa 0x0-0x4fff 4K rw\n");
    assert_has(text, "PT[5] va 0x5000-0x5fff -> pa 0x5000-0x5fff 4K ro\n");
    assert_has(text, "PT[6..8] va 0x6000-0x8fff -> pa 0x6000-0x8fff 4K rw\n");
    assert_has(text, "PT[10..31] va 0xa000-0x1ffff -> pa 0xa000-0x1ffff");
    assert_has(text, "PT[32] va 0x20000-0x20fff -> pa 0x800000-0x800fff");
    assert_has(text, "PT[33..511] va 0x21000-0x1fffff -> pa 0x21000-0x1fffff");
    cr_assert_eq(count_lines(text), 11, "%s", text);
}

/* A tree with every kind of leaf; the whole output, word for word. */
Test(paging, dump_shows_the_whole_tree, .init = mem_setup, .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    int ret;

    map(&t, 0, 0, 0x4000, VL_PAGE_4K, VL_PTE_RW);
    map(&t, 0x5000, 0x9000, VL_PAGE_4K, VL_PAGE_4K, 0);
    map(&t, 0x200000, 0x40000000, 2 * VL_PAGE_2M, VL_PAGE_2M,
        VL_PTE_RW | VL_PTE_NX);
    map(&t, 0x140000000ULL, 0x200000000ULL, VL_PAGE_1G, VL_PAGE_1G,
        VL_PTE_RW | VL_PTE_US);
    map(&t, 0xffff800000000000ULL, 0x1000, VL_PAGE_4K, VL_PAGE_4K,
        VL_PTE_RW | VL_PTE_G);
    *entry_for(&t, 0xffff800000000000ULL, 4) &= ~VL_PTE_RW;
    text = dump_text(mem_read, &mem, t.root | 0x8, &ret);
    cr_assert_eq(ret, 9, "%s", vl_errmsg());
    cr_assert_str_eq(
        text,
        "PML4 @0x10000 (CR3 0x10008)\n"
        "  PML4[0] va 0x0-0x7fffffffff -> PDPT @0x11000 rw user\n"
        "    PDPT[0] va 0x0-0x3fffffff -> PD @0x12000 rw user\n"
        "      PD[0] va 0x0-0x1fffff -> PT @0x13000 rw user\n"
        "        PT[0..3] va 0x0-0x3fff -> pa 0x0-0x3fff 4K rw\n"
        "        PT[5] va 0x5000-0x5fff -> pa 0x9000-0x9fff 4K ro\n"
        "      PD[1..2] va 0x200000-0x5fffff -> pa 0x40000000-0x403fffff 2M "
        "rw nx\n"
        "    PDPT[5] va 0x140000000-0x17fffffff -> pa 0x200000000-0x23fffffff "
        "1G rw user\n"
        "  PML4[256] va 0xffff800000000000-0xffff807fffffffff -> PDPT "
        "@0x14000 ro user\n"
        "    PDPT[0] va 0xffff800000000000-0xffff80003fffffff -> PD @0x15000 "
        "rw user\n"
        "      PD[0] va 0xffff800000000000-0xffff8000001fffff -> PT @0x16000 "
        "rw user\n"
        "        PT[0] va 0xffff800000000000-0xffff800000000fff -> pa "
        "0x1000-0x1fff 4K rw global (effective: ro kernel)\n"
        "=> 9 pages (6 4K, 2 2M, 1 1G) map 0x40406000 bytes\n");
}

Test(paging, dump_reports_loops_and_stops, .init = mem_setup,
     .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    int ret;

    map(&t, 0, 0, 0x200000, VL_PAGE_4K, VL_PTE_RW);
    /* A PDPT entry back to the PML4, a PD entry to its own PD, and a
     * second PD entry to the PT already shown. */
    *entry(&t, 0x11000, 1) = t.root | UPPER;
    *entry(&t, 0x12000, 3) = 0x12000 | UPPER;
    *entry(&t, 0x12000, 4) = 0x13000 | UPPER;
    text = dump_text(mem_read, &mem, t.root, &ret);
    cr_assert_eq(ret, 512, "only the real pages count:\n%s", text);
    assert_has(text, "(a loop: the PML4 at 0x10000 is read as a PD here; "
                     "not followed)");
    assert_has(
        text, "(a loop: the PD at 0x12000 is read as a PT here; not followed)");
    assert_has(text, "(the table at 0x13000 was shown above: shared by two "
                     "entries, or a loop; not followed)");
    cr_assert_eq(count_lines(text), 12, "%s", text);

    /* Every PML4 entry pointing back at the PML4: one line each, not
     * 512^3 lines. */
    for (unsigned i = 0; i < ENTRIES; i++)
        *entry(&t, t.root, i) = t.root | UPPER;
    free(text);
    text = dump_text(mem_read, &mem, t.root, &ret);
    cr_assert_eq(ret, 0);
    cr_assert_eq(count_lines(text), 2 + 2 * ENTRIES);
}

Test(paging, dump_reports_a_table_outside_memory, .init = mem_setup,
     .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    int ret;

    map(&t, 0, 0, 0x200000, VL_PAGE_4K, VL_PTE_RW);
    map(&t, 0x40000000, 0, VL_PAGE_4K, VL_PAGE_4K, VL_PTE_RW);
    *entry_for(&t, 0x40000000, 2) = UNBACKED | UPPER;
    text = dump_text(mem_read, &mem, t.root, &ret);
    cr_assert_eq(ret, 512, "the rest of the tree is dumped:\n%s", text);
    assert_has(text, "(the PT at 0x7ff00000 is not in guest memory: test "
                     "memory ends at 0x100000)");
}

Test(paging, dump_reports_reserved_entries, .init = mem_setup,
     .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    int ret;

    map(&t, 0x40000000, 0x100000, VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW);
    *entry(&t, t.root, 7) = 0x11000 | UPPER | VL_PTE_PS;
    text = dump_text(mem_read, &mem, t.root, &ret);
    cr_assert_eq(ret, 0, "%s", text);
    assert_has(text, "PD[0] = 0x100083: bits 20:13 of an entry that maps a 2M "
                     "page are reserved; not followed");
    assert_has(text, "PML4[7] = 0x11087: PS (bit 7) is reserved");
}

Test(paging, dump_fails_when_the_pml4_is_not_in_memory, .init = mem_setup,
     .fini = mem_teardown)
{
    _vl_cleanup_free_ char *text = NULL;
    int ret;

    text = dump_text(mem_read, &mem, UNBACKED, &ret);
    cr_assert_eq(ret, -EFAULT);
    assert_has(vl_errmsg(), "reading the PML4 at 0x7ff00000: test memory");
}

/* ---- layer 2: against KVM_TRANSLATE ------------------------------------- */

#define LOW_MEM     0x400000ULL    /* slot 0: 4 MiB of RAM at 0 */
#define HIGH_GPA    0x100000000ULL /* slot 1: tables above 4 GiB */
#define HIGH_SIZE   0x100000ULL
#define HIGH_HALF   0xffff800000000000ULL
#define LAST_2M     0xffffffffffe00000ULL
#define VA_2M       0x40000000ULL    /* 1 GiB */
#define PA_2M       0x200000000ULL   /* 8 GiB */
#define VA_1G       0x140000000ULL   /* 5 GiB */
#define PA_1G       0x300000000ULL   /* 12 GiB */
#define VA_1G_PML4  0x8000000000ULL  /* PML4 entry 1 */
#define VA_RESERVED 0x18000000000ULL /* PML4 entry 3: PS set */
#define VA_NO_PD    0x1c0000000ULL   /* PDPT entry 7: its PD is not RAM */

/* CPUID leaf 0x80000001, EDX (Intel SDM Vol. 2A, CPUID). */
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EDX_NX       (1u << 20)
#define CPUID_EDX_PAGE1GB  (1u << 26)
#define MAX_CPUID_ENTRIES  256

static struct vl_kvm kvm = {.fd = -1};
static struct vl_vm vm = {.fd = -1};
static struct vl_vcpu vcpu = {.fd = -1};
static struct tables kt;
static bool gbpages; /* does KVM's virtual CPU have 1 GiB pages? */

static void *vm_host(void *ctx, uint64_t gpa, size_t len)
{
    void *p = vl_vm_gpa_to_hva(ctx, gpa, len);

    cr_assert_not_null(p, "%s", vl_errmsg());
    return p;
}

static void kvm_teardown(void)
{
    vl_vcpu_destroy(&vcpu);
    vl_vm_destroy(&vm);
    vl_kvm_close(&kvm);
}

/*
 * Give the vCPU the CPUID KVM supports: NX needs it (EFER.NXE is refused
 * without), and KVM's walker treats PS in a PDPTE as a reserved bit unless
 * the guest's CPUID lists 1 GiB pages (SDM Vol. 3A, 4.1.4).
 */
static void set_cpuid(void)
{
    _vl_cleanup_free_ struct kvm_cpuid2 *c = NULL;
    bool nx = false;

    c = calloc(1, sizeof(*c) + MAX_CPUID_ENTRIES * sizeof(c->entries[0]));
    cr_assert_not_null(c);
    c->nent = MAX_CPUID_ENTRIES;
    vl_assert_ok(vl_ioctl(kvm.fd, KVM_GET_SUPPORTED_CPUID, c));
    for (unsigned i = 0; i < c->nent; i++) {
        if (c->entries[i].function != CPUID_EXT_FEATURES)
            continue;
        nx = c->entries[i].edx & CPUID_EDX_NX;
        gbpages = c->entries[i].edx & CPUID_EDX_PAGE1GB;
    }
    if (!nx)
        cr_skip_test("this KVM offers no NX to its guests");
    vl_assert_ok(vl_ioctl(vcpu.fd, KVM_SET_CPUID2, c));
}

/*
 * Long mode, from the vCPU's reset state: paging with PAE and LME gives LMA
 * (SDM Vol. 3A, 9.8.5 "Initializing IA-32e Mode"); a 64-bit code segment.
 */
static void long_mode(uint64_t cr3)
{
    struct kvm_sregs s;

    vl_assert_ok(vl_vcpu_get_sregs(&vcpu, &s));
    s.cr3 = cr3;
    s.cr4 |= VL_CR4_PAE;
    s.efer |= VL_EFER_LME | VL_EFER_LMA | VL_EFER_NXE;
    s.cr0 = (s.cr0 & ~(VL_CR0_CD | VL_CR0_NW)) | VL_CR0_PE | VL_CR0_PG;
    s.cs.base = 0;
    s.cs.selector = 0x8;
    s.cs.type = VL_SEG_TYPE_CODE | VL_SEG_TYPE_READ | VL_SEG_TYPE_ACCESSED;
    s.cs.present = 1;
    s.cs.s = 1;
    s.cs.l = 1;
    s.cs.db = 0;
    vl_assert_ok(vl_vcpu_set_sregs(&vcpu, &s));
}

static void kvm_setup(void)
{
    vl_require_kvm();
    vl_assert_ok(vl_kvm_open(&kvm));
    vl_assert_ok(vl_vm_create(&vm, &kvm));
    vl_assert_ok(vl_vm_add_memory(&vm, 0, 0, LOW_MEM, 0, NULL));
    vl_assert_ok(vl_vm_add_memory(&vm, 1, HIGH_GPA, HIGH_SIZE, 0, NULL));
    vl_assert_ok(vl_vcpu_create(&vcpu, &vm, 0));
    set_cpuid();
    tables_init(&kt, vm_host, &vm, 0x10000, LOW_MEM);
}

/* The mappings of the comparison; returns the number of leaf pages. */
static int build_guest_tables(void)
{
    /* 4 MiB identity-mapped with 4 KiB pages, some pages different. */
    map(&kt, 0, 0, LOW_MEM, VL_PAGE_4K, VL_PTE_RW);
    *entry_for(&kt, 0x5000, 1) &= ~VL_PTE_RW;
    *entry_for(&kt, 0x6000, 1) |= VL_PTE_US;
    *entry_for(&kt, 0x7000, 1) |= VL_PTE_NX;
    *entry_for(&kt, 0x8000, 1) &= ~VL_PTE_P;
    *entry_for(&kt, 0x9000, 1) = (0x9000 | VL_PTE_P | VL_PTE_US | VL_PTE_NX);
    /* 2 MiB pages at 1 GiB -> 8 GiB; one no-exec, one read-only, one with
     * a reserved bit, one missing. */
    map(&kt, VA_2M, PA_2M, 8 * VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW);
    *entry_for(&kt, VA_2M + 2 * VL_PAGE_2M, 2) |= VL_PTE_NX;
    *entry_for(&kt, VA_2M + 3 * VL_PAGE_2M, 2) &= ~VL_PTE_RW;
    *entry_for(&kt, VA_2M + 4 * VL_PAGE_2M, 2) |= 1ULL << 13;
    *entry_for(&kt, VA_2M + 5 * VL_PAGE_2M, 2) = 0;
    /* 1 GiB pages at 5 GiB -> 12 GiB, and one under PML4 entry 1. */
    map(&kt, VA_1G, PA_1G, 2 * VL_PAGE_1G, VL_PAGE_1G, VL_PTE_RW | VL_PTE_US);
    map(&kt, VA_1G_PML4, VL_PAGE_1G, VL_PAGE_1G, VL_PAGE_1G, VL_PTE_RW);
    /* A PML4 entry with PS, and a PD that is not in guest memory. */
    *entry(&kt, kt.root, VL_PML4_INDEX(VA_RESERVED)) =
        0x80000000 | UPPER | VL_PTE_PS;
    *entry_for(&kt, VA_NO_PD, 3) = UNBACKED | UPPER;
    /* The upper half, its tables in the slot above 4 GiB. */
    tables_pool(&kt, HIGH_GPA, HIGH_GPA + HIGH_SIZE);
    map(&kt, HIGH_HALF, HIGH_GPA, 16 * VL_PAGE_4K, VL_PAGE_4K, VL_PTE_RW);
    map(&kt, LAST_2M, PAGE_16G, VL_PAGE_2M, VL_PAGE_2M, VL_PTE_RW);
    return 1023 + 6 + 2 + 1 + 16 + 1;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The addresses to compare: edges and insides of every mapping, the holes
 * around them, and pseudo-random ones anywhere (some not canonical). */
static size_t test_addresses(uint64_t *va, size_t max)
{
    static const uint64_t bases[] = {
        VA_2M, VA_1G, VA_1G_PML4, VA_RESERVED, VA_NO_PD, HIGH_HALF, LAST_2M};
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    size_t n = 0;

#define ADD(x)                                                                 \
    do {                                                                       \
        cr_assert_lt(n, max);                                                  \
        va[n++] = (x);                                                         \
    } while (0)
    for (uint64_t p = 0; p < 32; p++)
        ADD(p * VL_PAGE_4K + p * 0x7f);
    for (uint64_t p = 32; p < 1024 + 8; p += 5)
        ADD(p * VL_PAGE_4K + (p * 0x35 & 0xfff));
    for (uint64_t p = 0; p < 9; p++) {
        ADD(VA_2M + p * VL_PAGE_2M);
        ADD(VA_2M + p * VL_PAGE_2M + 0x12345);
        ADD(VA_2M + p * VL_PAGE_2M + VL_PAGE_2M - 1);
    }
    for (uint64_t p = 0; p < 3; p++) {
        ADD(VA_1G + p * VL_PAGE_1G);
        ADD(VA_1G + p * VL_PAGE_1G + 0x2345678);
        ADD(VA_1G + p * VL_PAGE_1G + VL_PAGE_1G - 1);
    }
    for (uint64_t p = 0; p < 20; p++)
        ADD(HIGH_HALF + p * VL_PAGE_4K + p);
    ADD(0xffffffffffffffffULL);
    ADD(0x00007fffffffffffULL);
    for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
        for (int i = 0; i < 8; i++)
            ADD(bases[b] + (xorshift(&seed) & (4 * VL_PAGE_1G - 1)));
    for (int i = 0; i < 150; i++) {
        uint64_t r = xorshift(&seed);

        /* Mostly canonical: bits 63:47 all 0 or all 1 ... */
        ADD(i % 10 == 9 ? r
                        : (r & 0x7fffffffffffULL) | (r >> 63 ? HIGH_HALF : 0));
    }
#undef ADD
    return n;
}

struct tally {
    int mapped[VL_PT_LEVELS]; /* agreed mapped, by level of the leaf */
    int unmapped;             /* agreed not mapped */
    int non_canonical;
    int gb_refused; /* 1 GiB pages KVM's CPU does not have */
    int rights_fixed;
};

static void compare_one(uint64_t va, struct tally *n)
{
    struct kvm_translation tr = {.linear_address = va};
    _vl_cleanup_free_ char *text = NULL;
    struct vl_pt_walk w;
    int r;

    vl_err_clear();
    r = vl_pt_walk(vl_vm_gpa_reader, &vm, kt.root, va, &w);
    vl_assert_ok(vl_ioctl(vcpu.fd, KVM_TRANSLATE, &tr));
    text = walk_text(&w);

    /* KVM's walker does not check canonicality: it ignores bits 63:48
     * (the #GP comes from the instruction emulator, before any walk).
     * The CPU would never translate such an address. */
    if ((int64_t)va >> 47 != 0 && (int64_t)va >> 47 != -1) {
        cr_assert_eq(r, -EINVAL, "%s", text);
        n->non_canonical++;
        return;
    }
    /* Without 1 GiB pages in its CPUID, PS in a PDPTE is a reserved bit for
     * KVM (SDM Vol. 3A, 4.1.4); vl_pt_walk() assumes the CPU has them. */
    if (!gbpages && w.present && w.page_size == VL_PAGE_1G) {
        cr_assert_not(tr.valid, "KVM translated a 1G page its CPU lacks");
        n->gb_refused++;
        return;
    }
    cr_assert_eq(r == 0, tr.valid != 0,
                 "va 0x%llx: KVM_TRANSLATE says %s, vl_pt_walk %d (%s)\n%s",
                 (unsigned long long)va, tr.valid ? "mapped" : "not mapped", r,
                 vl_errmsg(), text);
    if (!tr.valid) {
        n->unmapped++;
        return;
    }
    cr_assert_eq(w.pa, tr.physical_address,
                 "va 0x%llx: KVM_TRANSLATE says pa 0x%llx\n%s",
                 (unsigned long long)va,
                 (unsigned long long)tr.physical_address, text);
    n->mapped[w.nsteps - 1]++;
    /* x86's KVM_TRANSLATE walks as a kernel read and then reports
     * writeable = 1, usermode = 0 whatever the tables say
     * (kvm_arch_vcpu_ioctl_translate() in arch/x86/kvm/x86.c; api.rst does
     * not define the fields). So its answer is either ours or that. */
    if (tr.writeable != w.writable || tr.usermode != w.user) {
        cr_assert(tr.writeable == 1 && tr.usermode == 0,
                  "va 0x%llx: KVM says writeable %d usermode %d\n%s",
                  (unsigned long long)va, tr.writeable, tr.usermode, text);
        n->rights_fixed++;
    }
}

Test(paging, walk_matches_kvm_translate, .init = kvm_setup,
     .fini = kvm_teardown)
{
    _vl_cleanup_free_ char *before = NULL;
    _vl_cleanup_free_ char *after = NULL;
    _vl_cleanup_free_ uint64_t *va = NULL;
    struct tally n = {0};
    int pages = build_guest_tables();
    size_t count;
    int ret;

    long_mode(kt.root);
    va = calloc(1024, sizeof(*va));
    cr_assert_not_null(va);
    count = test_addresses(va, 1024);
    before = dump_text(vl_vm_gpa_reader, &vm, kt.root, &ret);
    cr_assert_eq(ret, pages, "%s\n%s", vl_errmsg(), before);

    for (size_t i = 0; i < count; i++)
        compare_one(va[i], &n);

    cr_assert_geq(count, 400);
    cr_assert_gt(n.mapped[3], 150, "4K pages compared");
    cr_assert_gt(n.mapped[2], 10, "2M pages compared");
    cr_assert_gt(n.mapped[1] + n.gb_refused, 5, "1G pages compared");
    cr_assert_gt(n.unmapped, 100);
    cr_assert_gt(n.non_canonical, 5);
    cr_assert_gt(n.rights_fixed, 0, "the read-only and user pages");
    cr_assert(gbpages || n.mapped[1] == 0);

    /* KVM_TRANSLATE sets the accessed bits of the entries it walks, as
     * the CPU does; the dump does not let that split its runs. */
    after = dump_text(vl_vm_gpa_reader, &vm, kt.root, &ret);
    cr_assert_eq(ret, pages);
    cr_assert_str_eq(after, before);
}

Test(paging, walk_explains_guest_tables, .init = kvm_setup,
     .fini = kvm_teardown)
{
    struct vl_pt_walk w;

    build_guest_tables();
    vl_assert_ok(vl_pt_walk(vl_vm_gpa_reader, &vm, kt.root, 0x5123, &w));
    cr_assert(!w.writable && !w.user && !w.nx);
    vl_assert_ok(vl_pt_walk(vl_vm_gpa_reader, &vm, kt.root, 0x9000, &w));
    cr_assert(!w.writable && w.user && w.nx);
    vl_assert_ok(vl_pt_walk(vl_vm_gpa_reader, &vm, kt.root, HIGH_HALF + 5, &w));
    cr_assert_eq(w.pa, HIGH_GPA + 5);
    cr_assert_geq(w.steps[1].table_gpa, HIGH_GPA, "a table above 4 GiB");
    /* The VM reader names the gpa no slot backs. */
    vl_assert_fails(
        vl_pt_walk(vl_vm_gpa_reader, &vm, kt.root, VA_NO_PD, &w), EFAULT,
        "reading PD entry 0 of table 0x7ff00000 for va 0x1c0000000: "
        "guest-physical 0x7ff00000 is not backed by any memory slot");
}
