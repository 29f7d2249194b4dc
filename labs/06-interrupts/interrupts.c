/*
 * interrupts.c - minivm stage 6: interrupts.
 *
 * (Lab 06's helper completes this header: the concept, the progression from
 * a timer injected by minivm to the in-kernel irqchip, and the references.)
 */
#define MVM_LAB        "06-interrupts"
#define MVM_STAGE_FILE "interrupts.c"

#include <errno.h>
#include <sys/ioctl.h>

#include "minivm.h"

/*
 * TODO 5 (numbering completed by lab 06): the in-kernel irqchip.
 * KVM_CREATE_IRQCHIP (api.rst 4.24) gives the VM the interrupt controllers
 * of a PC, emulated inside the kernel: the two 8259 PICs, an IOAPIC, and a
 * local APIC for every vCPU created afterwards - so it must come before
 * the first KVM_CREATE_VCPU. KVM_CREATE_PIT2 (api.rst 4.58) adds the i8254
 * timer on ports 0x40-0x43, whose channel 0 drives IRQ 0.
 */
int mvm_irqchip_create(struct minivm *vm)
{
    (void)vm;
    return MVM_TODO(5, "create the in-kernel irqchip and PIT");
}

/*
 * TODO 6: raise or lower an interrupt line of the in-kernel irqchip with
 * KVM_IRQ_LINE (api.rst 4.25): `irq` is the GSI, which for ISA devices is
 * their IRQ number (the UART at 0x3f8 is IRQ 4).
 */
int mvm_irq_line(struct minivm *vm, unsigned irq, int level)
{
    (void)vm, (void)irq, (void)level;
    return MVM_TODO(6, "drive an interrupt line");
}
