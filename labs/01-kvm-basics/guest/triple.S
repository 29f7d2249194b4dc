/*
 * triple.S - a guest that triple-faults.
 *
 * In protected mode the CPU finds the handler of every exception through
 * the interrupt descriptor table (IDT) that IDTR points to. We load an
 * IDTR whose limit is 0, so the table holds no entry at all, switch on
 * protected mode (CR0.PE), and execute an invalid instruction (ud2):
 * #UD cannot be delivered, which raises a #GP, then a double fault, which
 * cannot be delivered either. The CPU gives up and shuts down: a triple
 * fault (Intel SDM Vol. 3A, 6.15, "Interrupt 8 - Double Fault Exception").
 * KVM reports it as KVM_EXIT_SHUTDOWN.
 *
 * (Why not stay in real mode? There the CPU reads an interrupt vector
 * table whose limit is not always enforced, so the outcome would depend
 * on the host.)
 */
    .code16
    .text
    .globl _start
_start:
    lidt    empty_idt
    mov     %cr0, %eax
    or      $1, %eax            /* CR0.PE: protected mode from now on */
    mov     %eax, %cr0
    ud2                         /* #UD -> #GP -> #DF -> shutdown */

empty_idt:
    .word   0                   /* limit: no entries at all */
    .long   0                   /* base */
