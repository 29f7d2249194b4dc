/*
 * rt.h - the run-time of minivm's 64-bit C guests: port and memory-mapped
 * I/O, and the few functions a compiler expects even from freestanding
 * code. Read by the assembler too (crt0.S): keep C behind __ASSEMBLER__.
 *
 * Guests are built with -ffreestanding -nostdlib -mgeneral-regs-only
 * -mno-red-zone: no C library, no SSE/x87 (this machine's KVM cannot
 * emulate vector instructions; a real kernel avoids them too), and no
 * red zone (an interrupt would overwrite the 128 bytes below RSP; lab 06
 * brings interrupts).
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#define GUEST_STACK_TOP 0x80000 /* grows down towards the page tables */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

/*
 * Port I/O: IN and OUT reach the 64 Ki I/O ports. Under KVM each one is a
 * VM exit (KVM_EXIT_IO) that minivm's bus hands to a device model.
 */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/*
 * Memory-mapped I/O: an ordinary load or store to an address where no RAM
 * is. `volatile` makes the compiler emit exactly one access of exactly
 * this width, in program order: a device register is not memory (reading
 * it twice may give two answers), and the device model insists on 32-bit
 * accesses. Under KVM each access is a VM exit (KVM_EXIT_MMIO).
 */
static inline uint32_t mmio_read32(uint64_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

/* Keep the compiler from moving memory accesses across this point; the
 * x86 itself keeps stores in order (SDM Vol. 3A, 9.2.2). */
static inline void barrier(void)
{
    __asm__ volatile("" : : : "memory");
}

/* The compiler may call these even in freestanding code (struct copies,
 * zeroing arrays). */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Decimal and hexadecimal text of v into buf (at least 21 bytes);
 * returns buf. */
char *fmt_u64(char *buf, uint64_t v);
char *fmt_hex(char *buf, uint64_t v);
#endif

#endif
