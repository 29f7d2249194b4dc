/*
 * pv_vcon.c - print through the virtio console: one buffer, then one chain
 * of three buffers, then two chains with a single notification.
 *
 *   minivm run --mode long build/labs/guest/pv_vcon.bin
 */
#include "hypercall.h"
#include "vcon.h"

static void fail(const char *why)
{
    hc_puts("vcon: ");
    hc_puts(why);
    hc_puts("\n");
    hc_exit(1);
}

int main(void)
{
    static const char *const parts[] = {"one chain, ", "three buffers", "!\n"};
    static const char *const batch[] = {"two chains, ", "one notification\n"};
    uint32_t lens[3];

    if (vcon_init() < 0)
        fail("no modern virtio console at 0xd0001000");
    if (vcon_puts("Hello through the virtqueue!\n") < 0)
        fail("the device did not use the first buffer");

    for (int i = 0; i < 3; i++)
        lens[i] = (uint32_t)strlen(parts[i]);
    if (vcon_add((const void *const *)parts, lens, 3) < 0 || vcon_kick() < 0)
        fail("the device did not use the chain of three");

    for (int i = 0; i < 2; i++) {
        lens[i] = (uint32_t)strlen(batch[i]);
        if (vcon_add((const void *const *)&batch[i], &lens[i], 1) < 0)
            fail("no room in the queue");
    }
    if (vcon_kick() < 0)
        fail("the device did not use both chains");
    return 0; /* crt0 halts */
}
