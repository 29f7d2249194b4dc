/*
 * guest.h - lab 06's guest side: the IDT, the 8254, the 8259s and the
 * hypercalls of lab 05. Static functions: each guest is one program.
 *
 * Interrupt handlers are C functions with GCC's `interrupt` attribute
 * (GCC manual, "x86 Function Attributes"): the compiler saves every
 * register the handler touches and returns with IRETQ. That needs
 * -mgeneral-regs-only, which the guests are built with anyway.
 */
#ifndef LAB06_GUEST_H
#define LAB06_GUEST_H

#include "../../05-paravirt/guest/hypercall.h" /* lab 05's hypercalls */
#include "intr.h"
#include "rt.h"

/* What the CPU pushed; GCC's interrupt attribute wants the type. */
struct interrupt_frame;
typedef void (*isr_t)(struct interrupt_frame *);

/* ---- lab 05's hypercalls: hypercall(), hc_puts(), hc_time(), hc_exit() */

static inline void hc_putu(uint64_t v)
{
    char buf[21];

    hc_puts(fmt_u64(buf, v));
}

/* ---- RFLAGS.IF ----------------------------------------------------- */

static inline void cli(void)
{
    __asm__ volatile("cli" : : : "memory");
}

static inline void sti(void)
{
    __asm__ volatile("sti" : : : "memory");
}

/*
 * Wait for an interrupt with interrupts off, without a race: STI takes
 * effect after the NEXT instruction (the interrupt shadow, SDM Vol. 3A,
 * 6.8.1), so no interrupt can come between STI and HLT - one that is
 * already pending wakes the HLT. Interrupts are off again afterwards.
 */
static inline void sti_hlt_cli(void)
{
    __asm__ volatile("sti; hlt; cli" : : : "memory");
}

/* ---- the IDT (SDM Vol. 3A, 6.14.1 "64-Bit Mode IDT") ------------- */

struct idt_gate {
    uint16_t offset0;  /* handler address, bits 15:0 */
    uint16_t selector; /* the code segment it runs in */
    uint8_t ist;       /* interrupt stack table: 0, the current stack */
    uint8_t type;      /* P | DPL | 0 | type */
    uint16_t offset1;  /* bits 31:16 */
    uint32_t offset2;  /* bits 63:32 */
    uint32_t reserved;
} __attribute__((packed));

#define GATE_PRESENT   0x80
#define GATE_INTERRUPT 0x0e /* 64-bit interrupt gate: clears IF */

static struct idt_gate idt[256] __attribute__((aligned(16)));

/* Every vector nobody claimed: report and stop. An exception that pushes
 * an error code has a frame of another shape, but this never returns. */
__attribute__((interrupt, unused)) static void
unexpected(struct interrupt_frame *f)
{
    (void)f;
    hc_puts("unexpected interrupt or exception\n");
    hc_exit(GUEST_UNEXPECTED);
}

static inline void idt_set(unsigned vector, isr_t isr)
{
    uint64_t a = (uint64_t)(uintptr_t)isr;
    uint16_t cs;

    __asm__("mov %%cs, %0" : "=r"(cs));
    idt[vector] = (struct idt_gate){
        .offset0 = (uint16_t)a,
        .selector = cs,
        .type = GATE_PRESENT | GATE_INTERRUPT,
        .offset1 = (uint16_t)(a >> 16),
        .offset2 = (uint32_t)(a >> 32),
    };
}

/* Every vector to unexpected(), then LIDT. */
static inline void idt_init(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed))
    idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

    for (unsigned v = 0; v < 256; v++)
        idt_set(v, unexpected);
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* ---- the 8254 (Intel 8254 data sheet) ----------------------------- */

/* Counter 0 in `mode` with `count` (0 is 65536): control word, LSB, MSB. */
static inline void pit_start(unsigned mode, uint16_t count)
{
    outb(PIT_CONTROL, (uint8_t)(PIT_LSB_MSB | mode << 1));
    outb(PIT_CH0, (uint8_t)count);
    outb(PIT_CH0, (uint8_t)(count >> 8));
}

/* A control word alone stops the counter until a count is written. */
static inline void pit_stop(void)
{
    outb(PIT_CONTROL, PIT_LSB_MSB | PIT_RATE << 1);
}

/* ---- the 8259A pair (8259A data sheet, "Initialization Command Words") */

/*
 * ICW1 0x11: edge-triggered, cascaded, ICW4 follows; ICW2: the vector of
 * IR0; ICW3: the slave hangs on the master's IR2; ICW4 0x01: 8086 mode,
 * normal EOI. Then OCW1, the masks: a 1 bit masks that IRQ.
 */
static inline void pic_init(uint8_t master_mask, uint8_t slave_mask)
{
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, IRQ_BASE);
    outb(PIC2_DATA, SLAVE_BASE);
    outb(PIC1_DATA, 1 << 2);
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, 0x01);
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, master_mask);
    outb(PIC2_DATA, slave_mask);
}

/* OCW2, non-specific EOI: the master clears its in-service bit, and
 * requests of the same or lower priority can interrupt again. */
static inline void pic_eoi(void)
{
    outb(PIC1_CMD, PIC_EOI);
}

#endif
