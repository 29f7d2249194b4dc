/*
 * hypercall.h - the guest's side of minivm's hypercall ABI (pv.h).
 *
 * A hypercall is a request to the hypervisor, made on purpose: the guest
 * knows it runs on minivm. KVM's own hypercall instruction (VMCALL on
 * Intel, VMMCALL on AMD) is handled inside the kernel and never reaches a
 * userspace VMM, so minivm's ABI uses a 32-bit OUT to a port of its own:
 * one VM exit per call, whatever the request.
 */
#ifndef LAB05_HYPERCALL_H
#define LAB05_HYPERCALL_H

#include "pv.h"
#include "rt.h"

/*
 * RAX = nr, RDI = a0, RSI = a1, then `outl %eax, (%dx)`. minivm answers
 * in RAX, so RAX is an output too. "memory": the compiler must have
 * stored every buffer the host may read (print) before the OUT, and may
 * not keep values read before it in registers.
 */
static inline int64_t hypercall(uint64_t nr, uint64_t a0, uint64_t a1)
{
    uint64_t ret = nr;

    __asm__ volatile("outl %%eax, (%%dx)"
                     : "+a"(ret)
                     : "d"((uint16_t)HC_PORT), "D"(a0), "S"(a1)
                     : "memory");
    return (int64_t)ret;
}

/* Identity-mapped memory: a pointer is its guest-physical address. */
static inline int64_t hc_print(const void *buf, uint64_t len)
{
    return hypercall(HC_PRINT, (uint64_t)(uintptr_t)buf, len);
}

static inline int64_t hc_puts(const char *s)
{
    return hc_print(s, strlen(s));
}

static inline int64_t hc_time(void)
{
    return hypercall(HC_TIME, 0, 0);
}

static inline __attribute__((noreturn)) void hc_exit(int status)
{
    hypercall(HC_EXIT, (uint64_t)status, 0);
    for (;;) /* minivm never runs us again; a VMM that does gets HLT */
        __asm__ volatile("hlt");
}

/* Print a signed number, e.g. the -14 of -EFAULT. */
static inline void hc_put_i64(int64_t v)
{
    char buf[21];

    if (v < 0)
        hc_puts("-");
    hc_puts(fmt_u64(buf, v < 0 ? -(uint64_t)v : (uint64_t)v));
}

#endif
