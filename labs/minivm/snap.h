/*
 * snap.h - lab 08, snapshots, live migration and SMP: minivm's types and
 * stage functions (included by minivm.h; see labs/08-snapshots/).
 *
 * A VM's state is more than its memory: each vCPU's registers, special
 * registers, FPU/XSAVE area, MSRs, pending events, multiprocessor state
 * and local APIC; the VM's interrupt controllers, timer and clock; and
 * minivm's own device models. KVM hands each piece out with a
 * KVM_GET_* ioctl and takes it back with the matching KVM_SET_*
 * (Documentation/virt/kvm/api.rst, section 4). The file format that
 * carries them (snap_file.c), the vCPU threads (snap_smp.c) and the
 * commands (snap_main.c) are minivm's driver; the concepts are the lab's
 * stage files: snapshot.c, migrate.c and smp.c.
 */
#ifndef MINIVM_SNAP_H
#define MINIVM_SNAP_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct minivm;
struct mvm_options;

/* ---- SMP: the vCPUs and their threads -------------------------------- */

#define MVM_MAX_VCPUS 8

/*
 * Where a multiprocessor guest finds the number of vCPUs: a 32-bit word
 * minivm writes before the first instruction, in the low memory that a
 * PC's BIOS used for its own tables (the MP specification's floating
 * pointer structure sits in the same area). minivm's guests start the
 * application processors 1 to N-1.
 */
#define MVM_SMP_INFO_ADDR 0x4f0
/* The local APIC's registers, where every x86 puts them after reset
 * (Intel SDM Vol. 3A, 11.4.1): minivm maps this 2 MiB page for SMP
 * guests, like the device window. */
#define MVM_LAPIC_ADDR    0xfee00000ULL
/* The signal that kicks a vCPU thread out of KVM_RUN (smp.c). Lab 06's
 * timer kicks with SIGUSR1, as QEMU does; lab 08's vCPU threads take
 * SIGUSR2, so the two never meet. */
#define MVM_SMP_KICK      SIGUSR2

/* One vCPU and the thread that runs it. vCPU 0 is also vm->vcpu_fd. */
struct mvm_cpu {
    int id;              /* KVM's vCPU id, which is its APIC ID */
    int fd;              /* KVM_CREATE_VCPU */
    struct kvm_run *run; /* its kvm_run (mmap of fd) */
    pthread_t thread;    /* the thread in KVM_RUN */
    bool started;        /* the thread exists (join it) */
    bool running;        /* ... and has not returned yet */
    bool parked;         /* out of KVM_RUN, waiting for resume */
    uint64_t exits;      /* exits of this vCPU */
};

/* The vCPUs beyond vCPU 0, and what their threads share (lab 08). */
struct mvm_smp {
    int ncpus; /* vCPUs in the VM (0 or 1: only vCPU 0) */
    struct mvm_cpu cpu[MVM_MAX_VCPUS];

    /*
     * The bus lock: one exit handled at a time, whatever vCPU it comes
     * from. While a thread holds it, vm->vcpu_fd and vm->run name the
     * vCPU whose exit is being handled (QEMU's current_cpu), so the stage
     * functions of labs 01-05, which read vm->vcpu_fd, serve every vCPU.
     */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* any change below, and every exit handled */
    bool threads;        /* the threads' lock and cond are initialized */
    bool pause;          /* mvm_smp_pause(): every vCPU must park */
    bool stop;           /* the VM is done: every vCPU thread returns */
    int result;          /* why it stopped: 0 (the guest did) or -errno */
    char error[512];     /* ... and the message (vl_errmsg() is per thread) */
    uint64_t pause_at;   /* park every vCPU after this many exits (0: no) */
    bool moved;          /* the VM went to a snapshot or another host */
    bool stuck;          /* a vCPU thread did not come back (see join) */
};

/* ---- the state of a vCPU and of the VM ------------------------------- */

/*
 * The MSRs minivm saves (api.rst 4.18 KVM_GET_MSRS; Intel SDM Vol. 4,
 * "Model-Specific Registers"), where KVM_GET_MSR_INDEX_LIST lists them.
 * EFER and the APIC base are MSRs too, but they travel in kvm_sregs.
 */
#define MVM_MSR_TSC            0x00000010 /* time-stamp counter */
#define MVM_MSR_SYSENTER_CS    0x00000174 /* SYSENTER's code segment */
#define MVM_MSR_SYSENTER_ESP   0x00000175 /* ... its stack */
#define MVM_MSR_SYSENTER_EIP   0x00000176 /* ... its entry point */
#define MVM_MSR_MISC_ENABLE    0x000001a0 /* fast strings, MWAIT, ... */
#define MVM_MSR_PAT            0x00000277 /* page attribute table */
#define MVM_MSR_STAR           0xc0000081 /* SYSCALL: segments */
#define MVM_MSR_LSTAR          0xc0000082 /* SYSCALL: 64-bit entry */
#define MVM_MSR_CSTAR          0xc0000083 /* SYSCALL: compat entry */
#define MVM_MSR_SFMASK         0xc0000084 /* SYSCALL: RFLAGS mask */
#define MVM_MSR_KERNEL_GS_BASE 0xc0000102 /* what SWAPGS swaps in */
#define MVM_MSR_TSC_AUX        0xc0000103 /* RDTSCP's ECX */
#define MVM_MAX_MSRS           16

struct mvm_vcpu_state {
    struct kvm_regs regs;   /* 4.11 KVM_GET_REGS */
    struct kvm_sregs sregs; /* 4.13 KVM_GET_SREGS */
    /* 4.42 KVM_GET_XSAVE (x87, SSE, AVX): the 4 KiB of the legacy struct
     * kvm_xsave's region[]. <linux/kvm.h> ends that struct with a flexible
     * array (for KVM_GET_XSAVE2), so it cannot sit inside this one. */
    uint32_t xsave[1024];
    struct kvm_xcrs xcrs;          /* 4.44 KVM_GET_XCRS (XCR0) */
    struct kvm_vcpu_events events; /* 4.31 KVM_GET_VCPU_EVENTS */
    struct kvm_mp_state mp_state;  /* 4.38 KVM_GET_MP_STATE */
    struct kvm_lapic_state lapic;  /* 4.57 KVM_GET_LAPIC */
    bool has_lapic;                /* the VM has the in-kernel irqchip */
    uint32_t nmsrs;
    struct kvm_msr_entry msrs[MVM_MAX_MSRS]; /* 4.18 KVM_GET_MSRS */
};

/* The VM-wide state KVM keeps (api.rst 4.26-4.27, 4.72-4.73, 4.29-4.30). */
#define MVM_NCHIPS 3 /* KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC */
struct mvm_vm_state {
    bool has_irqchip;                    /* chips and pit are valid */
    struct kvm_irqchip chip[MVM_NCHIPS]; /* KVM_GET_IRQCHIP */
    struct kvm_pit_state2 pit;           /* KVM_GET_PIT2 */
    struct kvm_clock_data clock;         /* KVM_GET_CLOCK */
};

/* ---- the snapshot file and the migration stream (snap_file.c) -------- */

/*
 * A snapshot, and a migration stream, is a header and tagged sections,
 * all little-endian:
 *   header   "MVM-SNAP"  u32 version  u32 header size (16)
 *   section  u32 tag  u32 instance  u32 length  u32 CRC-32C of the
 *            (tag, instance, length) and of the payload, then the payload
 * Sections, in order: INFO (the VM's shape: vCPUs, RAM, slots), MEM
 * (pages: any number of sections, a migration sends some each round),
 * then VM, CPU (one per vCPU, instance = its id) and DEV (device
 * models), and END. `minivm inspect FILE` lists them.
 */
#define MVM_SNAP_MAGIC       "MVM-SNAP"
#define MVM_SNAP_VERSION     1
#define MVM_SNAP_HEADER_SIZE 16
#define MVM_SNAP_TAG(a, b, c, d)                                               \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |                \
     (uint32_t)(d) << 24)
#define MVM_SEC_INFO         MVM_SNAP_TAG('I', 'N', 'F', 'O')
#define MVM_SEC_MEM          MVM_SNAP_TAG('M', 'E', 'M', ' ')
#define MVM_SEC_VM           MVM_SNAP_TAG('V', 'M', ' ', ' ')
#define MVM_SEC_CPU          MVM_SNAP_TAG('C', 'P', 'U', ' ')
#define MVM_SEC_DEV          MVM_SNAP_TAG('D', 'E', 'V', ' ')
#define MVM_SEC_END          MVM_SNAP_TAG('E', 'N', 'D', ' ')
/* A MEM section: u32 count, then count records of u64 gpa | flags and,
 * unless MVM_PAGE_ZERO, the page's 4096 bytes. */
#define MVM_PAGE_SIZE        4096
#define MVM_PAGE_ZERO        1u  /* the page is all zero: no bytes follow */
#define MVM_SNAP_MEM_BATCH   256 /* pages in one MEM section at most */
#define MVM_SNAP_SECTION_MAX (2u << 20) /* a longer section is corrupt */

/* Where a snapshot or a migration stream goes: a file or a socket. */
struct mvm_snap_out {
    int fd;
    uint8_t *buf; /* what is not written yet: one section at a time */
    size_t len, cap;
    size_t sec_start;        /* offset in buf of the open section's header */
    bool sec_open;           /* a section is being filled */
    uint32_t sec_tag;        /* ... of this tag */
    uint32_t mem_count;      /* records in the open MEM section */
    uint64_t bytes;          /* bytes written to fd so far */
    uint64_t pages;          /* page records with data */
    uint64_t zero_pages;     /* page records of MVM_PAGE_ZERO */
    uint64_t bw_bytes_per_s; /* a migration's bandwidth limit (0: none) */
    uint64_t bw_start_ns;    /* ... measured from here */
    uint64_t bw_bytes;       /* ... with this many bytes sent since */
};

/*
 * Start a stream on fd: the header. The writer buffers; mvm_snap_flush()
 * or mvm_snap_end() writes. mvm_snap_out_free() frees the buffer (not fd).
 */
int mvm_snap_out_init(struct mvm_snap_out *out, int fd);
void mvm_snap_out_free(struct mvm_snap_out *out);
/* A page record: guest-physical gpa (page-aligned) and its 4096 bytes,
 * or, with data NULL, a page that is all zero (MVM_PAGE_ZERO). */
int mvm_snap_put_page(struct mvm_snap_out *out, uint64_t gpa, const void *data);
/* Close the open MEM section and write everything buffered. */
int mvm_snap_flush(struct mvm_snap_out *out);
/* The VM's shape (INFO), first in every stream. */
int mvm_snap_put_info(struct minivm *vm, struct mvm_snap_out *out);
/* VM, CPU and DEV sections, then END, flushed: every vCPU must be out
 * of KVM_RUN (paused or never started). */
int mvm_snap_put_state(struct minivm *vm, struct mvm_snap_out *out);

/* A memory region of the VM: RAM (slot 0) or a slot of lab 03. */
struct mvm_region {
    uint32_t slot, flags; /* KVM's slot number, KVM_MEM_* */
    uint64_t gpa, size;
    uint8_t *hva;
};
/* RAM, then each slot of lab 03: how many (at most max). */
int mvm_regions(struct minivm *vm, struct mvm_region *r, int max);
#define MVM_MAX_REGIONS 9 /* RAM + MVM_MAX_SLOTS */

/* Save the whole VM to `path` (snapshot: INFO, MEM, state, END); the
 * vCPUs must be out of KVM_RUN. *bytes: the file's size. */
int mvm_snap_save(struct minivm *vm, const char *path, uint64_t *bytes);

/*
 * Build a VM from a snapshot or a migration stream on fd: INFO makes it
 * (KVM, irqchip, RAM, slots, vCPUs, devices), MEM fills its memory, the
 * state sections restore it; returns at END. `what` names the source in
 * errors. With vm->opt.mem_size not 0, a snapshot of another RAM size is
 * refused. Every error says what is wrong where (truncated, not a
 * snapshot, another version, a checksum mismatch, a bad section).
 */
int mvm_snap_load(struct minivm *vm, int fd, const char *what);
/* The same from a file. */
int mvm_snap_load_file(struct minivm *vm, const char *path);

/* `minivm inspect`: print the sections of a snapshot. */
int mvm_snap_inspect(const char *path, FILE *out);

/* ---- migration (snap_main.c, migrate.c) ------------------------------ */

#define MVM_MIG_MAX_ROUNDS  8  /* live dirty rounds by default */
#define MVM_MIG_STOP_PAGES  32 /* a round with no more: stop and copy */
#define MVM_MIG_ROUNDS_KEPT 64 /* rounds in the report */

struct mvm_round {
    uint64_t pages;      /* pages sent (zero records included) */
    uint64_t zero_pages; /* ... of them all-zero */
    uint64_t bytes;      /* bytes of the stream */
    uint64_t ns;         /* how long the round took */
};

/* A migration's settings and its report. */
struct mvm_migration {
    unsigned max_rounds; /* live dirty rounds at most */
    unsigned stop_pages; /* a dirty set this small: stop-and-copy */
    unsigned nrounds;    /* rounds done: round 0 and the live rounds */
    struct mvm_round round[MVM_MIG_ROUNDS_KEPT];
    struct mvm_round final; /* stop-and-copy: the last dirty pages */
    uint64_t state_bytes;   /* the vCPU, VM and device state */
    uint64_t start_ns;      /* pre-copy began (CLOCK_MONOTONIC) */
    uint64_t stop_ns;       /* the vCPUs were stopped */
    uint64_t end_ns;        /* the destination said it resumed */
    uint64_t total_bytes;
};

/* ---- options (struct mvm_options .snap) ------------------------------ */

struct mvm_snap_options {
    unsigned smp;           /* --smp N: vCPUs (0: one) */
    const char *snapshot;   /* --snapshot FILE: save the VM there ... */
    uint64_t save_after;    /* --save-after N: ... after N exits */
    const char *migrate_to; /* --migrate-to ADDR: unix:PATH or HOST:PORT */
    uint64_t migrate_after; /* --migrate-after N: start after N exits */
    unsigned max_rounds;    /* --max-rounds K */
    bool max_rounds_set;    /* ... given (0 is a valid K) */
    uint64_t bandwidth;     /* --bandwidth MiB/s (0: as fast as it goes) */
};

/* ---- the driver (snap_smp.c, snap_main.c): not a lab ----------------- */

/* `minivm run`'s lab 08 options, for main.c's getopt_long() table, and
 * the parser of each (main.c hands them over). */
enum {
    MVM_OPT_SMP = 0x800,
    MVM_OPT_SNAPSHOT,
    MVM_OPT_SAVE_AFTER,
    MVM_OPT_MIGRATE_TO,
    MVM_OPT_MIGRATE_AFTER,
    MVM_OPT_MAX_ROUNDS,
    MVM_OPT_BANDWIDTH,
    MVM_OPT_LAST = MVM_OPT_BANDWIDTH
};
#define MVM_SNAP_LONGOPTS                                                      \
    {"smp", required_argument, NULL, MVM_OPT_SMP},                             \
        {"snapshot", required_argument, NULL, MVM_OPT_SNAPSHOT},               \
        {"save-after", required_argument, NULL, MVM_OPT_SAVE_AFTER},           \
        {"migrate-to", required_argument, NULL, MVM_OPT_MIGRATE_TO},           \
        {"migrate-after", required_argument, NULL, MVM_OPT_MIGRATE_AFTER},     \
        {"max-rounds", required_argument, NULL, MVM_OPT_MAX_ROUNDS},           \
    {                                                                          \
        "bandwidth", required_argument, NULL, MVM_OPT_BANDWIDTH                \
    }
#define MVM_SNAP_USAGE                                                         \
    "  --smp N          N vCPUs, one thread each; the guest starts the\n"      \
    "                   APs with INIT-SIPI-SIPI (lab 08; implies\n"            \
    "                   --irqchip)\n"                                          \
    "  --snapshot FILE --save-after N\n"                                       \
    "                   after N exits, save the VM to FILE and stop;\n"        \
    "                   `minivm restore FILE` goes on (lab 08)\n"              \
    "  --migrate-to ADDR  after --migrate-after N exits (default 0),\n"        \
    "                   migrate the running guest to `minivm receive\n"        \
    "                   --listen ADDR` (unix:PATH or HOST:PORT), at most\n"    \
    "                   --max-rounds K rounds of pre-copy (default 8),\n"      \
    "                   --bandwidth MIB/S at most (lab 08)\n"
int mvm_snap_option(struct mvm_options *opt, int which, const char *arg);
/* After the options: those that must go together (-EINVAL). */
int mvm_snap_check(const struct mvm_options *opt);
/* `minivm run` after the boot: lab 08's run when an option asks for it
 * (--smp, --snapshot, --migrate-to), else mvm_run_guarded(). */
int mvm_snap_run(struct minivm *vm);
/* After mvm_snap_run() returned r: say how the guest ended (stderr), free
 * the VM, and return minivm's exit status for it. */
int mvm_snap_finish(struct minivm *vm, int r);
/* `minivm restore|receive|inspect ...`: argv[0] is the command. */
bool mvm_snap_command(const char *name);
int mvm_main_snap(int argc, char **argv);

/* After vCPU 0 and the devices: the APs (lab 08's TODO 7), the LAPIC's
 * page mapped, the vCPU count at MVM_SMP_INFO_ADDR. */
int mvm_smp_setup(struct minivm *vm, int ncpus);
/* After mvm_smp_create_aps(): each AP's CPUID and LAPIC (snap_smp.c). */
int mvm_smp_init_aps(struct minivm *vm);
/* Run every vCPU in its own thread (mvm_vcpu_loop()) until the VM
 * stops, a pause parks them all (mvm_smp_pause()), or the timeout. */
int mvm_smp_start(struct minivm *vm);
/* Wait until the VM stops, or vm->exits reaches `exits` (0: no limit),
 * or timeout_s passes (-ETIMEDOUT). 1: stopped; 0: exits reached. */
int mvm_smp_wait(struct minivm *vm, uint64_t exits, unsigned timeout_s);
/* Stop every thread and join them: vm->vcpu_fd is vCPU 0 again. Returns
 * why the VM stopped (0, or the -errno of the vCPU that failed). */
int mvm_smp_join(struct minivm *vm);
/* Record that the VM stopped with r (vl_errmsg() kept) and kick every
 * vCPU out of KVM_RUN. Call with smp.lock held. */
void mvm_smp_stop_locked(struct minivm *vm, int r);
/* Free the APs (mvm_destroy() calls it). */
void mvm_smp_destroy(struct minivm *vm);
/* Make smp.cpu[0] describe vCPU 0 (vm->vcpu_fd, vm->run). */
void mvm_smp_adopt_bsp(struct minivm *vm);

/* ---- lab 08: snapshot.c ---------------------------------------------- */
int mvm_vcpu_save(struct minivm *vm, struct mvm_cpu *cpu,
                  struct mvm_vcpu_state *st); /* TODO 1 */
int mvm_vcpu_restore(struct minivm *vm, struct mvm_cpu *cpu,
                     const struct mvm_vcpu_state *st);       /* TODO 2 */
int mvm_vm_save(struct minivm *vm, struct mvm_vm_state *st); /* TODO 3 */
int mvm_vm_restore(struct minivm *vm, const struct mvm_vm_state *st);
int mvm_snap_save_memory(struct minivm *vm,
                         struct mvm_snap_out *out); /* TODO 4 */
int mvm_snap_load_page(struct minivm *vm, uint64_t gpa,
                       const void *data); /* TODO 4 */

/* ---- lab 08: migrate.c ----------------------------------------------- */
int mvm_dirty_log_start(struct minivm *vm); /* TODO 5 */
int mvm_dirty_round(struct minivm *vm, struct mvm_snap_out *out,
                    struct mvm_round *round); /* TODO 5 */
int mvm_precopy(struct minivm *vm, struct mvm_snap_out *out,
                struct mvm_migration *mig); /* TODO 6 */

/* ---- lab 08: smp.c --------------------------------------------------- */
int mvm_smp_create_aps(struct minivm *vm, int ncpus);      /* TODO 7 */
int mvm_vcpu_loop(struct minivm *vm, struct mvm_cpu *cpu); /* TODO 8 */
void mvm_smp_kick(struct mvm_cpu *cpu);                    /* TODO 9 */
int mvm_vcpu_park(struct minivm *vm, struct mvm_cpu *cpu); /* TODO 9 */
int mvm_smp_pause(struct minivm *vm);                      /* TODO 9 */
void mvm_smp_resume(struct minivm *vm);                    /* TODO 9 */

#endif
