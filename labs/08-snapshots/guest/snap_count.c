/*
 * snap_count.c - a guest to snapshot: 16 steps, each takes one byte of
 * input from the UART, changes a page of its data and prints, through the
 * UART, the byte and a checksum of all the data. Its output depends on
 * every piece of state a snapshot must carry: memory (the checksum; one
 * page holds data only in its last bytes), the registers (the loop), the
 * UART's state and its receive FIFO, an MSR (KERNEL_GS_BASE, which SWAPGS
 * swaps in: how Linux finds its per-CPU data) and the TSC, which must
 * never go backwards.
 *
 *   printf abcdefghijklmnop > /tmp/in
 *   minivm run --mode long build/labs/guest/snap_count.bin \
 *       --snapshot /tmp/s.mvm --save-after 300 < /tmp/in
 *   minivm restore /tmp/s.mvm
 */
#include "lab08.h"
#include "uart.h"

#define STEPS        SNAP_STEPS
#define NPAGES       16
#define PERCPU_MAGIC 0x7065726370750008ULL /* "percpu", lab 08 */

struct percpu {
    uint64_t self;
    uint64_t magic;
};

static struct percpu percpu;

static volatile uint64_t *word(unsigned page, unsigned index)
{
    return (volatile uint64_t *)(DATA_BASE + page * 4096ULL) + index;
}

/* What the guest reads through GS after SWAPGS: its per-CPU data, if
 * KERNEL_GS_BASE still points there. */
static uint64_t percpu_magic(void)
{
    uint64_t v;

    __asm__ volatile("swapgs; movq %%gs:8, %0; swapgs" : "=r"(v));
    return v;
}

static void put(const char *s)
{
    uart_puts(s);
}

/* The next byte of input, if the UART has one: reading RBR takes it out
 * of the receive FIFO. */
static char next_input(void)
{
    if (inb(COM1 + UART_LSR) & UART_LSR_DR)
        return (char)inb(COM1 + UART_RX);
    return '-';
}

int main(void)
{
    char num[21];
    uint64_t tsc = rdtsc(), t;

    uart_init();
    percpu = (struct percpu){(uint64_t)(uintptr_t)&percpu, PERCPU_MAGIC};
    wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)(uintptr_t)&percpu);
    put("snap_count: 16 steps\n");
    for (unsigned step = 1; step <= STEPS; step++) {
        unsigned page = step % NPAGES;
        char in[4] = {'\'', next_input(), '\'', '\0'};
        uint64_t sum = 0;

        /* Page 7 only ever gets its very last word: the page is not
         * zero, though its first 4088 bytes are. */
        if (page == 7)
            *word(page, 511) += step;
        else
            *word(page, step % 8) = step * 0x9e3779b97f4a7c15ULL;
        for (unsigned p = 0; p < NPAGES; p++)
            for (unsigned i = 0; i < 8; i++)
                sum = sum * 31 + *word(p, i);
        sum += *word(7, 511);
        put("step ");
        put(fmt_u64(num, step));
        put(" ");
        put(in);
        put(": sum ");
        put(fmt_hex(num, sum));
        put("\n");
        if (percpu_magic() != PERCPU_MAGIC)
            put("snap_count: KERNEL_GS_BASE lost: the per-CPU data is gone\n");
        t = rdtsc();
        if (t < tsc)
            put("snap_count: the TSC went backwards\n");
        tsc = t;
    }
    put("snap_count: done\n");
    hc_exit(0);
}
