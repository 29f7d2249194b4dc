/*
 * irq_pit.c - part B: KVM's in-kernel 8254 and 8259, programmed by the
 * guest as on a PC. The PIT's counter 0 drives IRQ 0; the master PIC
 * turns it into vector 0x20; the local APIC passes the PIC's request on
 * through LINT0 (virtual wire mode, which minivm set up as firmware
 * would). The guest waits for PIT_GUEST_TICKS ticks in HLT - and minivm
 * sees none of it: the PIC's and PIT's ports, the HLT and the interrupts
 * are all handled inside the kernel.
 *
 *   minivm run --mode long --irqchip build/labs/guest/irq_pit.bin --stats
 */
#include "guest.h"

static volatile uint64_t ticks;

__attribute__((interrupt)) static void on_tick(struct interrupt_frame *f)
{
    (void)f;
    ticks++;
    pic_eoi(); /* or the PIC never sends IRQ 0 (or anything lower) again */
}

int main(void)
{
    uint64_t n;

    idt_init();
    idt_set(TIMER_VECTOR, on_tick);
    pic_init((uint8_t) ~(1u << 0), 0xff); /* IRQ 0 only */
    pit_start(PIT_RATE, PIT_HZ / PIT_GUEST_HZ);
    cli();
    while (ticks < PIT_GUEST_TICKS)
        sti_hlt_cli();
    n = ticks;
    pit_stop();
    hc_puts("irq_pit: ");
    hc_putu(n);
    hc_puts(" ticks of the in-kernel 8254, through the 8259 and the LAPIC\n");
    hc_exit(GUEST_OK);
}
