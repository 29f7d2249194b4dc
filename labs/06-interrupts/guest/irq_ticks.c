/*
 * irq_ticks.c - part A: minivm's 8254 at TICKS_HZ, its IRQ 0 injected by
 * minivm as vector 0x20. The guest waits for TICKS_HLT ticks in HLT (the
 * vCPU halts; minivm must wait for the tick, not stop), then for
 * TICKS_SPIN more in a loop without a single exit (minivm must kick the
 * vCPU out of KVM_RUN to deliver them), and reports what it counted.
 *
 *   minivm run --mode long --timer build/labs/guest/irq_ticks.bin --stats
 */
#include "guest.h"

static volatile uint64_t ticks;

__attribute__((interrupt)) static void on_tick(struct interrupt_frame *f)
{
    (void)f;
    ticks++; /* minivm plays the PIC here: no EOI to send */
}

int main(void)
{
    uint64_t n;

    idt_init();
    idt_set(TIMER_VECTOR, on_tick);
    pit_start(PIT_RATE, PIT_HZ / TICKS_HZ);
    sti();
    while (ticks < TICKS_HLT)
        __asm__ volatile("hlt"); /* until the next interrupt */
    while (ticks < TICKS_HLT + TICKS_SPIN)
        ; /* no exit in here: only a kick gets a tick in */
    cli();
    n = ticks;
    pit_stop();
    hc_puts("irq_ticks: ");
    hc_putu(n);
    hc_puts(" ticks, the first in HLT, the last while spinning\n");
    hc_exit(GUEST_OK);
}
