/*
 * intr.h - what lab 06's guests and tests agree on (#defines only). The
 * guests cannot include minivm.h (a host header), so the numbers are
 * written down again here; the tests check that both say the same.
 */
#ifndef LAB06_INTR_H
#define LAB06_INTR_H

/* The 8254 (ports 0x40-0x43): counter 0 drives IRQ 0. */
#define PIT_HZ       1193182
#define PIT_CH0      0x40
#define PIT_CONTROL  0x43
#define PIT_LSB_MSB  0x30 /* control word: counter 0, LSB then MSB */
#define PIT_ONE_SHOT 0    /* mode 0: interrupt on terminal count */
#define PIT_RATE     2    /* mode 2: rate generator (periodic) */

/* The two 8259A PICs of a PC: master at 0x20, slave at 0xa0. */
#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI   0x20 /* OCW2: non-specific end of interrupt */

/* Vectors: IRQ n of the master PIC is vector IRQ_BASE + n (ICW2), the
 * same mapping minivm uses when it injects IRQ 0 itself (part A). */
#define IRQ_BASE     0x20
#define TIMER_VECTOR (IRQ_BASE + 0)
#define UART_IRQ     4
#define UART_VECTOR  (IRQ_BASE + UART_IRQ)
#define SLAVE_BASE   0x28

/* The hypercall ABI of lab 05 (minivm.h, MVM_HC_*). */
#define HC_PORT  0x500
#define HC_PRINT 1
#define HC_TIME  2
#define HC_EXIT  3

/* irq_ticks: ticks waited for in HLT, then spinning, at TICKS_HZ. */
#define TICKS_HZ   200
#define TICKS_HLT  10
#define TICKS_SPIN 10

/* irq_cli: a one-shot of CLI_ONE_SHOT_MS inside a CLI section of
 * CLI_SECTION_MS; then a 1 kHz timer inside a CLI section as long. */
#define CLI_ONE_SHOT_MS 5
#define CLI_SECTION_MS  20
#define CLI_PERIODIC_HZ 1000

/* irq_pit: ticks of the in-kernel 8254 at PIT_GUEST_HZ. */
#define PIT_GUEST_HZ    1000
#define PIT_GUEST_TICKS 50

/* Exit statuses of the guests (the exit hypercall). */
#define GUEST_OK         0
#define GUEST_FAILED     1
#define GUEST_UNEXPECTED 99 /* an interrupt or exception nobody expected */

#endif
