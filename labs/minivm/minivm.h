/*
 * minivm.h - the interface between minivm's driver and its stages.
 *
 * minivm is the hypervisor you build in labs 01-08. Each lab adds one stage:
 * a file of functions declared here. The driver (main.c, minivm.c) calls
 * them in order. When you grade lab N, the grader builds minivm from YOUR
 * stage-N file and the reference files of every other stage, so a bug in
 * one lab only costs points in that lab.
 */
#ifndef MINIVM_H
#define MINIVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/serial_reg.h>  /* the 16550's registers, as Linux names them */
#include <linux/virtio_mmio.h> /* virtio-mmio's registers (lab 05) */

#include "virtlab/error.h"
#include "virtlab/kvm.h"
#include "virtlab/kvm_exit.h"

/* Guest memory layout used by the flat real-mode guests of lab 01. */
#define MVM_LOAD_ADDR 0x1000 /* the image's first byte, and where it starts */
#define MVM_STACK_TOP 0x1000 /* the stack grows down from here */
#define MVM_DEBUG_PORT                                                         \
    0xe9 /* the "port E9 hack" debug console of                                \
          * Bochs and QEMU: a byte written is printed */
#define MVM_DEFAULT_MEM (4u << 20)

/* Guest-physical layout of lab 02 (protected and long mode). */
#define MVM_GDT_ADDR     0x0500 /* the GDT: MVM_GDT_ENTRIES entries */
#define MVM_GDT_ENTRIES  4
#define MVM_SEL_CODE32   0x08           /* GDT[1]: flat 32-bit code */
#define MVM_SEL_DATA     0x10           /* GDT[2]: flat data */
#define MVM_SEL_CODE64   0x18           /* GDT[3]: 64-bit code */
#define MVM_PT_BASE      0x10000        /* page-table pages come from here */
#define MVM_PT_END       0x30000        /* ... up to here (32 pages) */
#define MVM_HIGH_VADDR   0x100000000ULL /* 4 GiB: no 32-bit address reaches */
#define MVM_HIGH_PHYS    0x200000       /* ... mapped to this 2 MiB page */
#define MVM_LONG_MIN_MEM (4u << 20)     /* long mode maps MVM_HIGH_PHYS */

/* Lab 03: memory slots beyond slot 0 (RAM at guest-physical 0). */
#define MVM_MAX_SLOTS 8

struct mvm_slot {
    uint32_t slot;  /* KVM's slot number: 1, 2, ... */
    uint32_t flags; /* KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES */
    uint64_t gpa;   /* guest-physical address of the first byte */
    uint64_t size;  /* bytes, a multiple of the page size */
    uint8_t *hva;   /* host address of the first byte */
};

/* ---- lab 04: devices ------------------------------------------------ */

/*
 * Guest-physical addresses no RAM may use: a "device window" below 4 GiB,
 * like the hole a PC leaves for PCI devices. In long mode the driver maps
 * it (virtual = physical) with one 2 MiB page.
 */
#define MVM_MMIO_BASE 0xd0000000ULL
#define MVM_MMIO_SIZE 0x200000ULL

/* An address space of the x86: 64 Ki I/O ports (IN/OUT) or memory. */
enum mvm_space { MVM_SPACE_PORT, MVM_SPACE_MMIO };

struct minivm;

/*
 * A device on minivm's bus: it claims [base, base + len) in one space.
 * read() and write() get the offset from base and `len` bytes (1, 2, 4 or
 * 8) of little-endian data, as the guest's instruction moved them. They
 * return MVM_CONTINUE, MVM_STOP (the guest asked to stop) or -errno (the
 * access is wrong: minivm stops the guest and reports it).
 */
struct mvm_device {
    const char *name;
    enum mvm_space space;
    uint64_t base, len;
    int (*read)(struct minivm *vm, void *opaque, uint64_t offset, void *data,
                unsigned len);
    int (*write)(struct minivm *vm, void *opaque, uint64_t offset,
                 const void *data, unsigned len);
    void *opaque; /* the device's state, passed back to read()/write() */
};

#define MVM_MAX_DEVICES 16
struct mvm_bus {
    struct mvm_device dev[MVM_MAX_DEVICES];
    int ndev;
};

/*
 * A 16550A UART (National Semiconductor PC16550D data sheet; Linux's
 * drivers/tty/serial/8250/). Register offsets and bits are the UART_*
 * names of <linux/serial_reg.h>, the very names Linux's 8250 driver uses.
 */
#define MVM_UART_PORT  0x3f8   /* COM1: 8 registers, 0x3f8-0x3ff */
#define MVM_UART_FIFO  16      /* receive FIFO depth when FCR enables it */
#define MVM_UART_CLOCK 1843200 /* the crystal: baud = CLOCK / 16 / divisor */
struct mvm_uart {
    uint8_t ier;       /* interrupt enable (UART_IER_*) */
    uint8_t fcr;       /* last FIFO control written (UART_FCR_*; write-only) */
    uint8_t lcr;       /* line control (UART_LCR_*), bit 7 = DLAB */
    uint8_t mcr;       /* modem control (UART_MCR_*) */
    uint8_t lsr;       /* line status (UART_LSR_*) */
    uint8_t msr;       /* modem status (UART_MSR_*) */
    uint8_t scr;       /* scratch: any byte, read back */
    uint8_t dll, dlm;  /* divisor latch, low and high byte (DLAB = 1) */
    bool thr_ipending; /* a "THR empty" interrupt waits to be read in IIR */
    uint8_t rx[MVM_UART_FIFO]; /* bytes received, oldest at rx_head */
    unsigned rx_head, rx_count;
    FILE *out;         /* where transmitted bytes go: the console */
    uint64_t tx_bytes; /* bytes transmitted */
};

/*
 * minivm's test device, on MMIO: 32-bit registers at MVM_TESTDEV_ADDR.
 * The guest writes words to DATA, rings the DOORBELL with a command, waits
 * for STATUS.DONE and reads the answer from DATA. The shape (status, data,
 * doorbell) is the shape of most real devices.
 */
#define MVM_TESTDEV_ADDR        MVM_MMIO_BASE
#define MVM_TESTDEV_LEN         0x1000
#define MVM_TESTDEV_MAGIC       0x00 /* read-only: MVM_TESTDEV_MAGIC_VALUE */
#define MVM_TESTDEV_STATUS      0x04 /* read-only: MVM_TESTDEV_DONE/_ERROR */
#define MVM_TESTDEV_DATA        0x08 /* write: queue a word; read: the answer */
#define MVM_TESTDEV_DOORBELL    0x0c /* write-only: a command */
#define MVM_TESTDEV_MAGIC_VALUE 0x4454564d /* "MVTD" in memory order */
#define MVM_TESTDEV_DONE        1u         /* the last command finished */
#define MVM_TESTDEV_ERROR       2u /* the last command or DATA write failed */
#define MVM_TESTDEV_CMD_SUM     1u /* answer = sum of the queued words */
#define MVM_TESTDEV_CMD_RESET   2u /* forget everything */
#define MVM_TESTDEV_DEPTH       64 /* words DATA can queue */
struct mvm_testdev {
    uint32_t status;
    uint32_t answer;
    uint32_t data[MVM_TESTDEV_DEPTH];
    unsigned ndata;
    uint64_t doorbells; /* commands received */
};

/* ---- lab 05: paravirtualization -------------------------------------- */

/*
 * The hypercall ABI: the guest puts the call number in RAX and its
 * arguments in RDI and RSI, then writes EAX to port MVM_HC_PORT with a
 * 32-bit OUT. minivm answers in RAX: >= 0 on success, -errno on error.
 */
#define MVM_HC_PORT      0x500
#define MVM_HC_PRINT     1 /* print(gpa, len): write guest bytes to the console */
#define MVM_HC_TIME      2 /* time(): host CLOCK_REALTIME in nanoseconds */
#define MVM_HC_EXIT      3 /* exit(status): stop, minivm exits with status */
#define MVM_HC_PRINT_MAX (64u << 10) /* longest print; longer: -E2BIG */

/*
 * A virtio-style console (virtio 1.2 spec, 4.2 "Virtio Over MMIO" and
 * 2.7 "Split Virtqueues"): virtio-mmio's registers (VIRTIO_MMIO_* of
 * <linux/virtio_mmio.h>) at MVM_VCON_ADDR, one transmit queue (queue 0).
 */
#define MVM_VCON_ADDR    (MVM_MMIO_BASE + 0x1000)
#define MVM_VCON_LEN     0x1000
#define MVM_VQ_NUM_MAX   256        /* QueueNumMax */
#define MVM_VQ_CHAIN_MAX (1u << 20) /* bytes in one chain; more: malformed */
struct mvm_vq {
    uint32_t num;        /* QueueNum: entries, a power of two */
    uint64_t desc;       /* guest-physical: descriptor table */
    uint64_t avail;      /* guest-physical: available ring (driver area) */
    uint64_t used;       /* guest-physical: used ring (device area) */
    bool ready;          /* QueueReady */
    uint16_t last_avail; /* the next available-ring entry to take */
};
struct mvm_vcon {
    uint32_t status; /* VIRTIO_CONFIG_S_* the driver set */
    uint32_t dev_features_sel, drv_features_sel;
    uint64_t drv_features; /* what the driver accepted */
    uint32_t queue_sel;
    uint32_t interrupt_status;
    struct mvm_vq vq;
    FILE *out;         /* where printed bytes go: the console */
    uint64_t bytes;    /* bytes printed */
    uint64_t buffers;  /* chains consumed */
    uint64_t notifies; /* QueueNotify writes */
};

/* One guest buffer found in a descriptor chain, in host memory. */
struct mvm_iov {
    const void *base;
    uint32_t len;
};
#define MVM_VQ_IOV_MAX 64 /* descriptors in one chain minivm accepts */

/* ---- labs 06-08: each lab's types and stage functions ---------------- */
#include "irq.h"       /* lab 06: interrupts */
#include "bootproto.h" /* lab 07: booting Linux */
#include "snap.h"      /* lab 08: snapshots, live migration, SMP */

/* Permissions mvm_walk() found along the path of a virtual address. */
#define MVM_WALK_WRITABLE 1u
#define MVM_WALK_USER     2u

/* The CPU mode minivm puts the vCPU in before the first instruction. */
enum mvm_mode { MVM_MODE_REAL, MVM_MODE_PROTECTED, MVM_MODE_LONG };

struct mvm_options {
    enum mvm_mode mode; /* --mode real|protected|long */
    size_t mem_size;    /* --mem: bytes of guest RAM at guest-physical 0 */
    uint64_t max_exits; /* --max-exits: stop after this many (0 = none) */
    unsigned timeout_s; /* --timeout: wall-clock limit (0 = none) */
    bool trace;         /* --trace: print every exit, decoded */
    FILE *console;      /* what the guest prints (port 0xe9, UART, ...) */
    int input_fd;       /* what the UART receives (-1: nothing) */
    FILE *log;          /* traces and diagnostics */
    /* lab 06: interrupts (labs/minivm/irq.h, irq_driver.c) */
    bool timer;   /* --timer: minivm's 8254, injected with KVM_INTERRUPT */
    bool irqchip; /* --irqchip: KVM's irqchip and PIT, UART on IRQ 4 */
    /* lab 08: --smp, --snapshot, --migrate-to... (labs/minivm/snap.h) */
    struct mvm_snap_options snap;
};

struct minivm {
    struct mvm_options opt;

    int kvm_fd;  /* the system:   open("/dev/kvm")        */
    int vm_fd;   /* one VM:       KVM_CREATE_VM           */
    int vcpu_fd; /* one vCPU:     KVM_CREATE_VCPU         */

    struct kvm_run *run; /* the vCPU's shared kvm_run (mmap of vcpu_fd) */
    size_t run_size;     /* KVM_GET_VCPU_MMAP_SIZE */

    uint8_t *mem; /* host address of guest-physical 0 */
    size_t mem_size;

    uint64_t exits; /* exits handled by mvm_run so far */

    uint64_t pt_root; /* lab 02: guest-physical address of the PML4 */
    uint64_t pt_next; /* lab 02: next free page-table page */

    struct mvm_slot slots[MVM_MAX_SLOTS]; /* lab 03: more memory slots */
    int nslots;
    uint64_t rom_writes; /* lab 03: guest writes to read-only slots */

    struct mvm_bus bus;         /* lab 04: every device, by address */
    struct mvm_uart uart;       /* lab 04: COM1 */
    struct mvm_testdev testdev; /* lab 04: the MMIO test device */
    struct mvm_vcon vcon;       /* lab 05: the virtqueue console */
    bool exited;                /* lab 05: the guest called MVM_HC_EXIT */
    int exit_status;            /* ... with this status */
    bool input_eof;             /* the UART's input reached end of file */

    struct mvm_irq irq;       /* lab 06: interrupt delivery */
    struct mvm_kernel kernel; /* lab 07: the kernel being booted */
    struct mvm_smp smp;       /* lab 08: more vCPUs, snapshots, migration */
};

/* What mvm_handle_exit() asks the run loop to do next (or < 0: error). */
enum mvm_next { MVM_CONTINUE = 0, MVM_STOP = 1 };

/* ---- lab 01: KVM basics (labs/01-kvm-basics/vm.c) ------------------- */
int mvm_open_kvm(struct minivm *vm);                /* TODO 1 */
int mvm_create_vm(struct minivm *vm);               /* TODO 2 */
int mvm_add_memory(struct minivm *vm, size_t size); /* TODO 3 */
int mvm_load_image(struct minivm *vm, uint64_t gpa, const void *image,
                   size_t len);                        /* TODO 4 */
int mvm_create_vcpu(struct minivm *vm);                /* TODO 5 */
int mvm_reset_vcpu(struct minivm *vm, uint64_t entry); /* TODO 6 */
int mvm_handle_exit(struct minivm *vm);                /* TODO 7 */
int mvm_run(struct minivm *vm);                        /* TODO 8 */

/* ---- lab 02: CPU modes (labs/02-cpu-modes/modes.c) ------------------ */
uint64_t mvm_gdt_descriptor(uint32_t base, uint32_t limit, uint8_t access,
                            uint8_t flags); /* TODO 1 */
void mvm_segment_from_descriptor(uint64_t desc, uint16_t selector,
                                 struct kvm_segment *seg);     /* TODO 2 */
int mvm_setup_gdt(struct minivm *vm, struct kvm_sregs *sregs); /* TODO 3 */
int mvm_enter_protected(struct minivm *vm, uint64_t entry);    /* TODO 4 */
int mvm_map_page(struct minivm *vm, uint64_t va, uint64_t pa,
                 uint64_t page_size);                  /* TODO 5 */
int mvm_build_page_tables(struct minivm *vm);          /* TODO 6 */
int mvm_enter_long(struct minivm *vm, uint64_t entry); /* TODO 7 */

/* ---- lab 03: guest memory (labs/03-guest-memory/memory.c) ----------- */
int mvm_add_slot(struct minivm *vm, uint64_t gpa, uint64_t size,
                 uint32_t flags);                                 /* TODO 1 */
void *mvm_guest_ptr(struct minivm *vm, uint64_t gpa, size_t len); /* TODO 2 */
int mvm_handle_mmio(struct minivm *vm);                           /* TODO 3 */
int mvm_walk(struct minivm *vm, uint64_t cr3, uint64_t va, uint64_t *pa,
             unsigned *perms); /* TODO 4 */
int mvm_dirty_pages(struct minivm *vm, uint32_t slot, uint64_t *gpas,
                    size_t max); /* TODO 5 */

/* ---- lab 04: devices (labs/04-devices/devices.c) ------------------- */
int mvm_bus_register(struct mvm_bus *bus,
                     const struct mvm_device *dev); /* TODO 1 */
const struct mvm_device *mvm_bus_find(const struct mvm_bus *bus,
                                      enum mvm_space space, uint64_t addr,
                                      unsigned len); /* TODO 2 */
int mvm_bus_access(struct minivm *vm, enum mvm_space space, uint64_t addr,
                   void *data, unsigned len, bool is_write); /* TODO 3 */
int mvm_handle_io(struct minivm *vm);                        /* TODO 4 */
void mvm_uart_receive(struct mvm_uart *uart, uint8_t byte);  /* TODO 5 */
void mvm_uart_write(struct mvm_uart *uart, unsigned reg,
                    uint8_t value);                         /* TODO 6 */
uint8_t mvm_uart_read(struct mvm_uart *uart, unsigned reg); /* TODO 7 */
int mvm_testdev_read(struct mvm_testdev *td, uint64_t offset, unsigned len,
                     uint32_t *value); /* TODO 8 */
int mvm_testdev_write(struct mvm_testdev *td, uint64_t offset, unsigned len,
                      uint32_t value); /* TODO 8 */

/* ---- lab 05: paravirtualization (labs/05-paravirt/paravirt.c) ------- */
int mvm_guest_buffer(struct minivm *vm, uint64_t gpa, uint64_t len,
                     uint64_t max, void **host); /* TODO 1 */
int mvm_hypercall(struct minivm *vm);            /* TODO 2 */
int mvm_vq_chain(struct minivm *vm, const struct mvm_vq *vq, uint16_t head,
                 struct mvm_iov *iov, int max_iov);          /* TODO 3 */
int mvm_vq_process(struct minivm *vm, struct mvm_vcon *con); /* TODO 4 */
int mvm_vcon_read(struct minivm *vm, struct mvm_vcon *con, uint64_t offset,
                  uint32_t *value); /* TODO 5 */
int mvm_vcon_write(struct minivm *vm, struct mvm_vcon *con, uint64_t offset,
                   uint32_t value); /* TODO 5 */

/* ---- the driver (labs/minivm/minivm.c): not a lab, read it freely --- */

/* Defaults for every option: real mode, 4 MiB, no limits, stdout/stderr. */
void mvm_options_default(struct mvm_options *opt);
/* Mark every resource "not created yet", so mvm_destroy() is always safe. */
void mvm_init(struct minivm *vm, const struct mvm_options *opt);
/* Free whatever was created: mappings and fds, in reverse order. */
void mvm_destroy(struct minivm *vm);

/*
 * Lab 01's steps 1-3, 5 and 6 done by libvirtlab, the reference for lab 01:
 * KVM, the VM, vm->opt.mem_size of RAM at 0, vCPU 0 in real mode at
 * MVM_LOAD_ADDR. Tests and benchmarks of later labs start from here so
 * they do not depend on the student's lab 01.
 */
int mvm_create_reference(struct minivm *vm);
/* The same with KVM's in-kernel irqchip and PIT (lab 06's
 * mvm_irqchip_create()) made before the vCPU: for Linux (lab 07). */
int mvm_create_reference_irqchip(struct minivm *vm);

/* Lab 01's steps for a flat image loaded at MVM_LOAD_ADDR, then the vCPU
 * set up for vm->opt.mode (lab 02). */
int mvm_boot_flat(struct minivm *vm, const void *image, size_t len);
/* mvm_run() under the --timeout wall-clock limit. */
int mvm_run_guarded(struct minivm *vm);

/*
 * KVM_SET_SREGS refused `sregs` (errno set): record that, with a hint per
 * inconsistency libvirtlab's checker finds in them, and return -errno.
 */
int mvm_sregs_error(struct minivm *vm, const struct kvm_sregs *sregs);
/* Print the checker's findings on the vCPU's current state, if any. */
void mvm_explain_state(struct minivm *vm, FILE *out);

/*
 * Exits lab 01's mvm_handle_exit() leaves to later stages:
 *  - KVM_EXIT_IO goes to lab 04's mvm_handle_io() once devices are on the
 *    bus;
 *  - KVM_EXIT_MMIO goes to the bus when a device claims its address (lab
 *    04), else to lab 03's mvm_handle_mmio() (ROM writes, holes);
 *  - anything else fails with -EIO and "unhandled exit: <the exit>".
 */
int mvm_unhandled_exit(struct minivm *vm);

/*
 * Lab 04/05: put minivm's devices on the bus (the UART at MVM_UART_PORT,
 * the test device and the console at MVM_TESTDEV_ADDR and MVM_VCON_ADDR,
 * the hypercall port) and, when the guest has page tables, map the device
 * window. The driver's small adapters between the bus and each device
 * model live in minivm.c. While lab 04's TODO 1 is not written, minivm
 * runs without devices.
 */
int mvm_setup_devices(struct minivm *vm);

/* Print one decoded exit ("exit 3: KVM_EXIT_IO out port 0xe9 ...") to log. */
void mvm_trace_exit(struct minivm *vm);
/* Describe the current exit as text with its RIP (for error messages). */
const char *mvm_exit_text(struct minivm *vm);

/*
 * A stage function that is not written yet returns this: it records
 * "TODO 3 in labs/01-kvm-basics/vm.c is not done yet: <what> (...)" and
 * returns -ENOSYS, and minivm stops there with that message.
 */
int mvm_todo(const char *lab, const char *file, int step, const char *what);
#define MVM_TODO(step, what) mvm_todo(MVM_LAB, MVM_STAGE_FILE, step, what)

/*
 * A zeroed 4 KiB page for a page table, from [MVM_PT_BASE, MVM_PT_END):
 * its guest-physical address in *gpa, its host address as the result, or
 * NULL (-ENOMEM recorded) when the area is used up or not in guest memory.
 */
uint64_t *mvm_pt_alloc(struct minivm *vm, uint64_t *gpa);
/* Host pointer to guest-physical [gpa, gpa+len), or NULL if not in RAM. */
void *mvm_gpa(struct minivm *vm, uint64_t gpa, size_t len);

/* "real", "protected", "long"; and back (-EINVAL for another word). */
const char *mvm_mode_name(enum mvm_mode mode);
int mvm_parse_mode(const char *text, enum mvm_mode *mode);

/* Print "PROG: WHAT: <vl_errmsg()>" on stderr (without the colon and
 * message when there is none); returns `status`, for the command lines. */
int mvm_fail(const char *prog, int status, const char *what);
/* Parse option `opt`'s non-negative number ("42", "0x2a"): -EINVAL and a
 * message naming the option otherwise. */
int mvm_parse_count(const char *opt, const char *arg, uint64_t *out);

/* Read a whole file into a malloc()ed buffer. */
int mvm_read_file(const char *path, void **data, size_t *len);
/* Parse "16M", "640K", "1G", "4096" into bytes. */
int mvm_parse_size(const char *text, size_t *bytes);

#endif
