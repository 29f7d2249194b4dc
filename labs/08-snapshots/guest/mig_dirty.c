/*
 * mig_dirty.c - a guest that writes its memory all the time, to migrate
 * while it runs. Generation g writes a value into each of NPAGES pages;
 * before it does, it checks that every page still holds generation g-1's
 * value. A page the migration lost, or brought over stale, shows up as a
 * wrong page in the next generation's line. Some values are 0: such a
 * page becomes all zero, and must still be sent when it is dirty.
 *
 *   minivm receive --listen unix:/tmp/mig.sock &
 *   minivm run --mode long build/labs/guest/mig_dirty.bin \
 *       --migrate-to unix:/tmp/mig.sock --migrate-after 10
 */
#include "lab08.h"

#define GENERATIONS MIG_GENERATIONS
#define NPAGES      MIG_PAGES /* 1 MiB */

static volatile uint64_t *page_word(unsigned page)
{
    return (volatile uint64_t *)(DATA_BASE + page * 4096ULL);
}

/* Generation g's value for page i: zero for a quarter of the pages,
 * another quarter each generation. */
static uint64_t value(unsigned g, unsigned i)
{
    return (g + i) % 4 == 0 ? 0 : (uint64_t)g << 32 | i << 1 | 1;
}

int main(void)
{
    struct line l = {0};
    unsigned bad_total = 0;

    for (unsigned i = 0; i < NPAGES; i++)
        *page_word(i) = value(0, i);
    l_str(&l, "mig_dirty: ");
    l_u64(&l, NPAGES);
    l_str(&l, " pages, ");
    l_u64(&l, GENERATIONS);
    l_str(&l, " generations\n");
    l_print(&l);
    for (unsigned g = 1; g <= GENERATIONS; g++) {
        unsigned bad = 0;

        for (unsigned i = 0; i < NPAGES; i++) {
            if (*page_word(i) != value(g - 1, i))
                bad++;
            *page_word(i) = value(g, i);
        }
        bad_total += bad;
        l_str(&l, "generation ");
        l_u64(&l, g);
        if (bad) {
            l_str(&l, ": ");
            l_u64(&l, bad);
            l_str(&l, " pages lost or stale\n");
        } else {
            l_str(&l, ": all pages right\n");
        }
        l_print(&l);
    }
    l_str(&l, "mig_dirty: done\n");
    l_print(&l);
    hc_exit(bad_total ? 1 : 0);
}
