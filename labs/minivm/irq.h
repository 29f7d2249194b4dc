/*
 * irq.h - lab 06, interrupts: minivm's types and stage functions for
 * interrupt delivery (included by minivm.h; see labs/06-interrupts/).
 */
#ifndef MINIVM_IRQ_H
#define MINIVM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct minivm;

/* The state of minivm's interrupt delivery (grown by lab 06). */
struct mvm_irq {
    bool irqchip; /* KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2 done */
};

/* ---- lab 06: interrupts (labs/06-interrupts/interrupts.c) ----------- */

/*
 * The in-kernel interrupt controllers: KVM_CREATE_IRQCHIP (PIC pair,
 * IOAPIC, a LAPIC per vCPU) and KVM_CREATE_PIT2 (the i8254 timer). Call
 * after the VM exists and before any vCPU. Labs 07 and 08 use it too.
 */
int mvm_irqchip_create(struct minivm *vm);
/* Drive interrupt line (GSI) `irq` of the in-kernel irqchip to `level`
 * (KVM_IRQ_LINE). */
int mvm_irq_line(struct minivm *vm, unsigned irq, int level);

#endif
