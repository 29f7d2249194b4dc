/*
 * pv_badptr.c - hand the print hypercall bad buffers: each must come back
 * as an error code in RAX, and the guest must keep running. Exits 0 only
 * if every answer was right.
 *
 *   minivm run --mode long build/labs/guest/pv_badptr.bin
 */
#include "hypercall.h"

struct check {
    const char *what;
    uint64_t nr, gpa, len;
    int64_t want;
};

static const char msg[] = "badptr: printing from the last bytes of RAM: ";

int main(void)
{
    static const struct check checks[] = {
        {"longer than HC_PRINT_MAX", HC_PRINT, (uint64_t)(uintptr_t)msg,
         HC_PRINT_MAX + 1, -HC_E2BIG},
        {"wraps around 2^64", HC_PRINT, WRAP_GPA, 0x20, -HC_EOVERFLOW},
        {"in a hole", HC_PRINT, HOLE_GPA, 16, -HC_EFAULT},
        {"on device registers", HC_PRINT, DEVICE_GPA, 4, -HC_EFAULT},
        {"straddles the end of RAM", HC_PRINT, RAM_END - 8, 16, -HC_EFAULT},
        {"empty", HC_PRINT, HOLE_GPA, 0, 0},
        {"the last bytes of RAM", HC_PRINT, RAM_END - 4, 4, 4},
        {"an unknown hypercall", 99, 0, 0, -HC_ENOSYS},
    };
    const int n = sizeof(checks) / sizeof(checks[0]);
    int right = 0;

    /* What the last check prints: the last 4 bytes of RAM. */
    memcpy((void *)(uintptr_t)(RAM_END - 4), "ok!\n", 4);
    hc_puts(msg);
    for (int i = 0; i < n; i++) {
        const struct check *c = &checks[i];
        int64_t r = hypercall(c->nr, c->gpa, c->len);

        if (r == c->want) {
            right++;
            continue;
        }
        hc_puts("badptr: ");
        hc_puts(c->what);
        hc_puts(": got ");
        hc_put_i64(r);
        hc_puts(", expected ");
        hc_put_i64(c->want);
        hc_puts("\n");
    }
    hc_puts("badptr: ");
    hc_put_i64(right);
    hc_puts(" of ");
    hc_put_i64(n);
    hc_puts(" answers right\n");
    hc_exit(right == n ? 0 : 1);
}
