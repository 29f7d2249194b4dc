/*
 * lab08.h - what lab 08's guests share: minivm's hypercall ABI (lab 05),
 * a line printer, the MSRs and the TSC; the layout is in snap08.h.
 */
#ifndef LAB08_H
#define LAB08_H

#include "../../05-paravirt/guest/hypercall.h" /* lab 05: hypercall(), hc_exit() */
#include "rt.h"
#include "snap08.h"

/* Model-specific registers (Intel SDM Vol. 4). */
#define MSR_EFER           0xc0000080
#define MSR_KERNEL_GS_BASE 0xc0000102

/* A line built from pieces, printed with ONE hypercall (one exit). */
struct line {
    char buf[120];
    unsigned n;
};

static inline void l_str(struct line *l, const char *s)
{
    while (*s && l->n < sizeof(l->buf) - 1)
        l->buf[l->n++] = *s++;
}

static inline void l_u64(struct line *l, uint64_t v)
{
    char num[21];

    l_str(l, fmt_u64(num, v));
}

static inline void l_hex(struct line *l, uint64_t v)
{
    char num[21];

    l_str(l, fmt_hex(num, v));
}

static inline void l_print(struct line *l)
{
    hypercall(HC_PRINT, (uint64_t)(uintptr_t)l->buf, l->n);
    l->n = 0;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr"
                     :
                     : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

#endif
