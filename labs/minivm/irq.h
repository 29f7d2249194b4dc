/*
 * irq.h - lab 06, interrupts: minivm's types and stage functions for
 * interrupt delivery (included by minivm.h; see labs/06-interrupts/).
 *
 * Part A: no interrupt controller in the kernel. minivm emulates an 8254
 * timer itself (ports 0x40-0x43) and injects its interrupt with
 * KVM_INTERRUPT when the guest can take one (`minivm run --timer`).
 * Part B: KVM's in-kernel PICs, IOAPIC, LAPIC and PIT (KVM_CREATE_IRQCHIP,
 * KVM_CREATE_PIT2); the UART raises its IRQ 4 through an irqfd
 * (`minivm run --irqchip`).
 */
#ifndef MINIVM_IRQ_H
#define MINIVM_IRQ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct minivm;

/* ---- part A: minivm's own 8254 timer -------------------------------- */

/*
 * The 8254 Programmable Interval Timer (Intel 8254 data sheet): three
 * 16-bit down-counters fed by a 1.193182 MHz clock (a PC's 14.31818 MHz
 * crystal divided by 12). On a PC, channel 0's output is IRQ 0. minivm
 * emulates channel 0 only: its data port MVM_PIT_PORT and the control
 * word register MVM_PIT_PORT + 3.
 */
#define MVM_PIT_HZ            1193182
#define MVM_PIT_PORT          0x40 /* 0x40 channel 0, 0x41-0x42 channels 1-2, */
#define MVM_PIT_PORTS         4    /* 0x43 the control word (write-only) */
/* The shortest period minivm's PIT runs at, as KVM's in-kernel PIT
 * (kvm.min_timer_period_us = 200): a guest must not make its VMM spin. */
#define MVM_PIT_MIN_PERIOD_NS 200000ULL

/* The control word (8254 data sheet, "Control Word Format"):
 * SC1 SC0 | RW1 RW0 | M2 M1 M0 | BCD */
#define MVM_PIT_SC_SHIFT   6    /* select counter 0-2; 3: read-back */
#define MVM_PIT_RW_SHIFT   4    /* 0: latch, 1: LSB, 2: MSB, 3: LSB, MSB */
#define MVM_PIT_MODE_SHIFT 1    /* modes 0-5 (6 and 7 are 2 and 3 again) */
#define MVM_PIT_BCD        0x01 /* count in BCD instead of binary */
#define MVM_PIT_RW_LSB     1
#define MVM_PIT_RW_MSB     2
#define MVM_PIT_RW_LSB_MSB 3

/* Channel 0 as the guest programmed it. */
struct mvm_pit {
    uint8_t mode;       /* 0 one-shot, 2 rate generator, 3 square wave */
    uint8_t rw;         /* how counts are written: MVM_PIT_RW_* */
    bool msb_next;      /* RW_LSB_MSB: the next data byte is the MSB */
    uint8_t lsb;        /* ... and the LSB written before it */
    uint32_t count;     /* the count loaded last: 1 to 65536 */
    uint64_t period_ns; /* count / MVM_PIT_HZ seconds (at least MIN) */
    uint64_t next_ns;   /* CLOCK_MONOTONIC time of the next tick, 0: none */
};

/* The vector minivm injects for IRQ 0 in part A: with no 8259 to program,
 * minivm maps IRQ n to vector 0x20 + n, as a guest's ICW2 usually does. */
#define MVM_TIMER_VECTOR 0x20

/* ---- part B: the in-kernel irqchip ------------------------------------ */

#define MVM_UART_IRQ 4 /* COM1's ISA interrupt line (GSI 4) */

/* The local APIC's registers (Intel SDM Vol. 3A, APIC chapter, "Local
 * APIC Register Address Map"): byte offsets in its register page, whose
 * first KVM_APIC_REG_SIZE bytes struct kvm_lapic_state holds. */
#define MVM_APIC_SVR          0x0f0   /* spurious-interrupt vector register */
#define MVM_APIC_LVT0         0x350   /* local vector table: the LINT0 pin */
#define MVM_APIC_LVT1         0x360   /* ... the LINT1 pin */
#define MVM_APIC_SVR_ENABLE   0x100   /* SVR bit 8: APIC software-enabled */
#define MVM_APIC_LVT_MASKED   0x10000 /* LVT bit 16: the pin is masked */
#define MVM_APIC_DM_SHIFT     8       /* LVT bits 10:8: delivery mode */
#define MVM_APIC_DM_NMI       4
#define MVM_APIC_DM_EXTINT    7
#define MVM_APIC_SPURIOUS_VEC 0xff

/* The driver's threads, timer and locks (irq_driver.c): not a lab. */
struct mvm_irq_host;

/* The state of minivm's interrupt delivery. */
struct mvm_irq {
    bool irqchip; /* KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2 done */

    /* part A (minivm run --timer) */
    bool timer;               /* minivm's PIT is on the bus */
    struct mvm_pit pit;       /* its channel 0 */
    uint64_t pending;         /* ticks raised, not injected yet */
    uint64_t raised;          /* ticks the PIT produced */
    uint64_t injected;        /* ticks injected with KVM_INTERRUPT */
    uint64_t window_requests; /* KVM_RUNs with request_interrupt_window */
    uint64_t window_exits;    /* KVM_EXIT_IRQ_WINDOW_OPEN exits */
    uint64_t kicks;           /* KVM_RUNs the timer's signal ended */
    uint64_t hlt_waits;       /* HLTs with IF=1: waited for a tick */

    /* part B (minivm run --irqchip) */
    int uart_irqfd;      /* the eventfd bound to GSI 4, or -1 */
    bool uart_line;      /* the UART's interrupt output, as last seen */
    uint64_t uart_edges; /* its rising edges sent to the irqchip */

    struct mvm_irq_host *host; /* NULL until the driver needs one */
};

/* ---- lab 06: interrupts (labs/06-interrupts/interrupts.c) ----------- */
int mvm_pit_write(struct mvm_pit *pit, uint64_t now_ns, unsigned reg,
                  uint8_t value);                             /* TODO 1 */
uint64_t mvm_pit_ticks(struct mvm_pit *pit, uint64_t now_ns); /* TODO 2 */
int mvm_irq_deliver(struct minivm *vm);                       /* TODO 3 */
int mvm_irq_run(struct minivm *vm);                           /* TODO 4 */

/*
 * The in-kernel interrupt controllers: KVM_CREATE_IRQCHIP (PIC pair,
 * IOAPIC, a LAPIC per vCPU) and KVM_CREATE_PIT2 (the i8254 timer). Call
 * after the VM exists and before any vCPU. Labs 07 and 08 use it too.
 */
int mvm_irqchip_create(struct minivm *vm); /* TODO 5 */
/* Drive interrupt line (GSI) `irq` of the in-kernel irqchip to `level`
 * (KVM_IRQ_LINE). */
int mvm_irq_line(struct minivm *vm, unsigned irq, int level); /* TODO 6 */
int mvm_lapic_virtual_wire(struct minivm *vm);                /* TODO 7 */
int mvm_irqfd(struct minivm *vm, unsigned gsi);               /* TODO 8 */
int mvm_uart_update_irq(struct minivm *vm);                   /* TODO 9 */

/* ---- the driver (labs/minivm/irq_driver.c): not a lab ---------------- */

/*
 * --irqchip, between KVM_CREATE_VM and the first vCPU: ask KVM for a
 * LAPIC that comes out of reset as the hardware's does (LINT0 masked,
 * KVM_X86_QUIRK_LINT0_REENABLED off), then mvm_irqchip_create().
 */
int mvm_irq_create_irqchip(struct minivm *vm);
/*
 * After mvm_setup_devices(): --timer puts minivm's PIT on the bus;
 * --irqchip sets the LAPIC's virtual wire, binds an irqfd to the UART's
 * IRQ 4 and starts the input thread. Nothing without either option.
 */
int mvm_irq_setup(struct minivm *vm);
/* Stop the input thread and free what the driver made (mvm_destroy()). */
void mvm_irq_destroy(struct minivm *vm);

/* CLOCK_MONOTONIC in nanoseconds: the clock of minivm's PIT. */
uint64_t mvm_now_ns(void);
/*
 * Make KVM_RUN return (EINTR) at CLOCK_MONOTONIC time `deadline_ns`, or
 * never with 0: a timer signal to this thread, as QEMU kicks its vCPUs.
 */
int mvm_irq_kick_at(struct minivm *vm, uint64_t deadline_ns);
/*
 * KVM_RUN failed with EINTR: was it the kick (true: the run loop goes on)
 * or another signal, such as the --timeout guard (false: stop)?
 */
bool mvm_irq_kicked(struct minivm *vm);
/*
 * HLT with interrupts enabled: sleep until CLOCK_MONOTONIC `deadline_ns`.
 * -EINTR when the --timeout guard fired meanwhile.
 */
int mvm_irq_wait(struct minivm *vm, uint64_t deadline_ns);
/* --stats: the counters of struct mvm_irq, one line each mode. */
void mvm_irq_report(struct minivm *vm, FILE *out);

#endif
