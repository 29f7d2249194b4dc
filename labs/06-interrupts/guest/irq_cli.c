/*
 * irq_cli.c - part A: ticks that come while the guest has interrupts off
 * (RFLAGS.IF = 0) must wait, and arrive as soon as it turns them on.
 *
 *  1. A one-shot tick (8254 mode 0) fires inside a CLI section. Nothing
 *     may arrive inside it. After STI the guest spins without an exit:
 *     only minivm's interrupt window (request_interrupt_window) can bring
 *     the tick now - the timer will not fire again.
 *  2. A 1 kHz timer runs through another CLI section: every tick raised
 *     in it must arrive after STI, none lost, none inside.
 *
 *   minivm run --mode long --timer build/labs/guest/irq_cli.bin --stats
 */
#include "guest.h"

#define NS_PER_MS 1000000ULL
#define QUIET     20000  /* loops without a tick: the burst is over */
#define WAIT_MAX  200000 /* loops: far more than a window exit takes */

static volatile uint64_t ticks;

__attribute__((interrupt)) static void on_tick(struct interrupt_frame *f)
{
    (void)f;
    ticks++;
}

/* Spin with interrupts off for `ms`: each hypercall is an exit, where
 * minivm sees the timer's ticks come due. */
static void cli_section(uint64_t ms)
{
    uint64_t t0 = hc_time();

    while (hc_time() - t0 < ms * NS_PER_MS)
        ;
}

int main(void)
{
    uint64_t inside, n, quiet, before, start;
    int ok = 1;

    idt_init();
    idt_set(TIMER_VECTOR, on_tick);

    /* 1. The guest starts with IF = 0: a CLI section already. */
    pit_start(PIT_ONE_SHOT, PIT_HZ / (1000 / CLI_ONE_SHOT_MS));
    cli_section(CLI_SECTION_MS);
    inside = ticks;
    sti();
    for (n = 0; n < WAIT_MAX && ticks == inside; n++)
        ;
    cli();
    hc_puts("irq_cli: one-shot: ");
    hc_putu(inside);
    hc_puts(" ticks inside CLI, ");
    if (ticks == inside + 1) {
        hc_puts("then it arrived right after STI\n");
    } else {
        hc_puts("then it never arrived after STI\n");
        ok = 0;
    }
    ok &= inside == 0;

    /* 2. A periodic timer through a CLI section, stopped before STI. */
    start = before = ticks;
    pit_start(PIT_RATE, PIT_HZ / CLI_PERIODIC_HZ);
    cli_section(CLI_SECTION_MS);
    pit_stop();
    inside = ticks - start;
    sti();
    for (quiet = 0; quiet < QUIET; quiet++) /* until the burst is over */
        if (ticks != before) {
            before = ticks;
            quiet = 0;
        }
    cli();
    hc_puts("irq_cli: periodic: ");
    hc_putu(inside);
    hc_puts(" ticks inside CLI, then ");
    hc_putu(ticks - start);
    hc_puts(" after STI\n");
    ok &= inside == 0;
    hc_exit(ok ? GUEST_OK : GUEST_FAILED);
}
