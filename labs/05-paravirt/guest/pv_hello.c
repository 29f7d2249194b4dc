/*
 * pv_hello.c - hypercalls: print, read the host's clock twice, exit 7.
 *
 *   minivm run --mode long build/labs/guest/pv_hello.bin; echo $?
 */
#include "hypercall.h"

int main(void)
{
    char num[21];
    int64_t t1, t2;

    hc_puts("Hello from a hypercall!\n");
    t1 = hc_time();
    t2 = hc_time();
    hc_puts("host time: ");
    hc_puts(fmt_u64(num, (uint64_t)t1));
    hc_puts(" ns since 1970\n");
    if (t1 <= 0 || t2 < t1) {
        hc_puts("the host's clock went backwards\n");
        hc_exit(1);
    }
    hc_puts("two reads apart: ");
    hc_puts(fmt_u64(num, (uint64_t)(t2 - t1)));
    hc_puts(" ns\n");
    hc_exit(7); /* minivm exits with this status */
}
