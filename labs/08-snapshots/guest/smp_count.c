/*
 * smp_count.c - every vCPU counts: the BSP starts the APs with
 * INIT-SIPI-SIPI, each reports in, then all of them add to one counter
 * under a spinlock, and whoever reaches a multiple of 10 prints it, so the
 * output is the same however the vCPUs interleave. The BSP waits for all,
 * prints the total and exits through the exit hypercall: with the
 * in-kernel irqchip, HLT never leaves KVM.
 *
 *   minivm run --mode long --smp 4 build/labs/guest/smp_count.bin
 */
#include "smp.h"

#define ROUNDS SMP_ROUNDS /* additions per CPU */

static volatile uint32_t lock;
static volatile uint64_t counter;
static volatile uint32_t arrived[16], go, ndone;

static void count(void)
{
    struct line l = {0};

    for (unsigned i = 0; i < ROUNDS; i++) {
        spin_lock(&lock);
        counter++;
        if (counter % SMP_EVERY == 0) {
            l_str(&l, "count ");
            l_u64(&l, counter);
            l_str(&l, "\n");
            l_print(&l);
        }
        spin_unlock(&lock);
    }
    __atomic_fetch_add(&ndone, 1, __ATOMIC_SEQ_CST);
}

void ap_main(unsigned id)
{
    if (id < 16)
        arrived[id] = 1;
    while (!go) /* the BSP reports who is up first */
        __asm__ volatile("pause");
    count();
    for (;;) /* halted in KVM until the VM ends */
        __asm__ volatile("cli; hlt");
}

int main(void)
{
    unsigned n = smp_cpus();
    struct line l = {0};

    if (n < 1 || n > 16)
        n = 1;
    l_str(&l, "smp: ");
    l_u64(&l, n);
    l_str(&l, " CPUs, BSP has APIC ID ");
    l_u64(&l, apic_id());
    l_str(&l, "\n");
    l_print(&l);
    lapic_write(APIC_SVR, lapic_read(APIC_SVR) | APIC_SVR_ENABLE);
    smp_trampoline_cr3 = (uint32_t)read_cr3();
    for (unsigned id = 1; id < n; id++) {
        start_ap(id);
        while (!arrived[id])
            __asm__ volatile("pause");
        l_str(&l, "cpu ");
        l_u64(&l, id);
        l_str(&l, " is up\n");
        l_print(&l);
    }
    go = 1;
    count();
    while (ndone < n)
        __asm__ volatile("pause");
    l_str(&l, "total ");
    l_u64(&l, counter);
    l_str(&l, " = ");
    l_u64(&l, n);
    l_str(&l, " CPUs x ");
    l_u64(&l, ROUNDS);
    l_str(&l, "\n");
    l_print(&l);
    hc_exit(counter == (uint64_t)n * ROUNDS ? 0 : 1);
}
