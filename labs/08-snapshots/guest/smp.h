/*
 * smp.h - starting the application processors, as a PC's firmware or
 * kernel does (Intel SDM Vol. 3A, 9.4 "Multiple-Processor (MP)
 * Initialization"; Linux: arch/x86/kernel/smpboot.c and
 * arch/x86/realmode/rm/trampoline_64.S).
 *
 * After reset only the bootstrap processor (BSP) runs. Each application
 * processor (AP) waits until the BSP sends it, through its local APIC's
 * interrupt command register (ICR), an INIT IPI and then a STARTUP IPI
 * (SIPI). The SIPI's 8-bit vector V makes the AP start in REAL mode at
 * V * 4096: the trampoline below, page-aligned and below 1 MiB. From
 * there the AP climbs to long mode as any x86 does after reset:
 * protected mode (a GDT, CR0.PE), then PAE, the BSP's page tables in
 * CR3, EFER.LME and CR0.PG, and a far jump into 64-bit code. Then it
 * takes a stack of its own and calls ap_main(its APIC ID).
 */
#ifndef LAB08_SMP_H
#define LAB08_SMP_H

#include "lab08.h"

/* The local APIC's registers (SDM Vol. 3A, 11.4.1, "Local APIC Register
 * Address Map"), as offsets from LAPIC_BASE. */
#define APIC_ID          0x020 /* bits 31:24: this CPU's APIC ID */
#define APIC_SVR         0x0f0 /* spurious vector; bit 8 enables the APIC */
#define APIC_ICR_LOW     0x300 /* writing it sends the IPI */
#define APIC_ICR_HIGH    0x310 /* bits 31:24: the destination's APIC ID */
#define APIC_SVR_ENABLE  0x100
#define APIC_ICR_INIT    0x00000500 /* delivery mode 101: INIT */
#define APIC_ICR_STARTUP 0x00000600 /* delivery mode 110: SIPI */
#define APIC_ICR_ASSERT  0x00004000 /* level: assert */
#define APIC_ICR_BUSY    0x00001000 /* delivery status: send pending */

/* Each AP's stack: 8 KiB, below the BSP's (rt.h, GUEST_STACK_TOP). */
#define AP_STACK_SIZE 0x2000

/* The AP's C entry: its APIC ID, its own stack. Never returns. */
void ap_main(unsigned id);

/* Filled by the BSP before the first SIPI: the trampoline loads it. */
extern uint32_t smp_trampoline_cr3;
extern char smp_trampoline[];

__asm__("    .section .text.trampoline, \"ax\"\n"
        "    .balign 4096\n"
        "    .globl smp_trampoline\n"
        "    .code16\n"
        "smp_trampoline:\n"
        /* Real mode, CS = V * 256: address the trampoline's data through DS. */
        "    cli\n"
        "    mov %cs, %ax\n"
        "    mov %ax, %ds\n"
        "    lgdtl (tr_gdt_ptr - smp_trampoline)\n"
        "    mov %cr0, %eax\n"
        "    or $1, %eax\n" /* CR0.PE */
        "    mov %eax, %cr0\n"
        "    ljmpl $0x08, $tr_protected\n"
        "    .code32\n"
        "tr_protected:\n"
        "    mov $0x10, %ax\n"
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    mov %ax, %ss\n"
        "    mov %cr4, %eax\n"
        "    or $0x20, %eax\n" /* CR4.PAE */
        "    mov %eax, %cr4\n"
        "    mov smp_trampoline_cr3, %eax\n"
        "    mov %eax, %cr3\n"
        "    mov $0xc0000080, %ecx\n" /* EFER */
        "    rdmsr\n"
        "    or $0x100, %eax\n" /* EFER.LME */
        "    wrmsr\n"
        "    mov %cr0, %eax\n"
        "    or $0x80000000, %eax\n" /* CR0.PG: long mode is active */
        "    mov %eax, %cr0\n"
        "    ljmp $0x18, $tr_long\n"
        "    .code64\n"
        "tr_long:\n"
        "    mov $0x10, %ax\n"
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    mov %ax, %ss\n"
        "    xor %eax, %eax\n"
        "    mov %ax, %fs\n"
        "    mov %ax, %gs\n"
        "    mov $0xfee00020, %rbx\n" /* LAPIC_BASE + APIC_ID */
        "    mov (%rbx), %edi\n"
        "    shr $24, %edi\n"
        "    mov %edi, %eax\n"
        "    imul $0x2000, %eax\n" /* AP_STACK_SIZE */
        "    mov $0x80000, %rsp\n" /* GUEST_STACK_TOP */
        "    sub %rax, %rsp\n"
        "    call ap_main\n"
        "1:  cli\n"
        "    hlt\n"
        "    jmp 1b\n"
        "    .balign 8\n"
        "tr_gdt:\n"
        "    .quad 0\n"
        "    .quad 0x00cf9a000000ffff\n" /* 0x08: flat 32-bit code */
        "    .quad 0x00cf92000000ffff\n" /* 0x10: flat data */
        "    .quad 0x00af9a000000ffff\n" /* 0x18: 64-bit code */
        "tr_gdt_ptr:\n"
        "    .word 31\n"
        "    .long tr_gdt\n"
        "    .globl smp_trampoline_cr3\n"
        "smp_trampoline_cr3:\n"
        "    .long 0\n"
        "    .text\n");

static inline uint32_t lapic_read(unsigned reg)
{
    return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline void lapic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

static inline unsigned apic_id(void)
{
    return lapic_read(APIC_ID) >> 24;
}

/* Send one IPI and wait until the APIC has delivered it. */
static inline void send_ipi(unsigned dest, uint32_t icr)
{
    lapic_write(APIC_ICR_HIGH, dest << 24);
    lapic_write(APIC_ICR_LOW, icr);
    while (lapic_read(APIC_ICR_LOW) & APIC_ICR_BUSY)
        __asm__ volatile("pause");
}

/*
 * SDM Vol. 3A, 9.4.4.1: INIT, then SIPI twice (a processor that missed
 * the first takes the second; one that started ignores it). The SDM
 * waits 10 ms after INIT and 200 us after each SIPI for hardware to
 * settle; KVM's APICs need no wait.
 */
static inline void start_ap(unsigned id)
{
    uint32_t vector = (uint32_t)((uintptr_t)smp_trampoline >> 12);

    send_ipi(id, APIC_ICR_INIT | APIC_ICR_ASSERT);
    send_ipi(id, APIC_ICR_STARTUP | APIC_ICR_ASSERT | vector);
    send_ipi(id, APIC_ICR_STARTUP | APIC_ICR_ASSERT | vector);
}

/* The number of vCPUs minivm wrote at SMP_INFO_ADDR (snap.h). A load
 * from such a low address would look like a NULL dereference to the
 * compiler: ask for it in assembly. */
static inline unsigned smp_cpus(void)
{
    uint32_t n;

    __asm__ volatile("movl (%1), %0" : "=r"(n) : "r"((uint64_t)SMP_INFO_ADDR));
    return n;
}

static inline uint64_t read_cr3(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

/* A spinlock with XCHG (an implied LOCK: SDM Vol. 3A, 9.1.2.1). */
static inline void spin_lock(volatile uint32_t *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        while (*l)
            __asm__ volatile("pause");
}

static inline void spin_unlock(volatile uint32_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif
