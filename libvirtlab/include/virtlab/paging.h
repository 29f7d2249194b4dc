/*
 * virtlab/paging.h - walk and dump a guest's 4-level page tables, saying
 * what each step does.
 *
 * In long mode every address a program uses is virtual. The MMU translates
 * it to a (guest-)physical address through four tables: CR3 holds the
 * address of the PML4; 9 bits of the virtual address pick an entry in it,
 * which holds the address of a PDPT; 9 more bits pick an entry there, and so
 * on through the PD and the PT, whose entry holds the address of a 4 KiB
 * page. The last 12 bits are the offset in that page. A PDPT or PD entry
 * with PS set maps a 1 GiB or 2 MiB page itself and ends the walk early.
 *
 *   63    48 47   39 38   30 29   21 20   12 11        0
 *  | sign   | PML4  | PDPT  |  PD   |  PT   |  offset   |
 *
 * This is a debugging reference for lab 03, where students write the same
 * walk and compare it with KVM_TRANSLATE: vl_pt_walk() explains one
 * translation step by step, vl_pt_dump() prints the whole tree.
 *
 * Sources: Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging"
 * (4.5.4, Figures 4-8 to 4-10, Tables 4-15 to 4-20), 4.6.1 "Determination of
 * Access Rights", 4.7 "Page-Fault Exceptions"; Intel SDM Vol. 1, 3.3.7.1
 * "Canonical Addressing"; the kernel's Documentation/virt/kvm/api.rst, 4.15
 * KVM_TRANSLATE.
 */
#ifndef VIRTLAB_PAGING_H
#define VIRTLAB_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VL_PT_LEVELS 4 /* PML4, PDPT, PD, PT */

/*
 * How the walker reads guest-physical memory: copy len bytes at gpa into
 * dst; return 0, or -errno (with a message recorded, see error.h) when the
 * range is not guest memory.
 */
typedef int (*vl_gpa_reader)(void *ctx, uint64_t gpa, void *dst, size_t len);

/* A reader over a struct vl_vm (virtlab/kvm.h): ctx is the VM. */
int vl_vm_gpa_reader(void *vm, uint64_t gpa, void *dst, size_t len);

/* One entry read during a walk. */
struct vl_pt_step {
    int level;          /* 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT */
    uint64_t table_gpa; /* guest-physical address of the table */
    unsigned index;     /* which of its 512 entries */
    uint64_t entry;     /* the entry's value */
};

struct vl_pt_walk {
    uint64_t va;        /* the virtual address translated */
    uint64_t pa;        /* its guest-physical address, valid when present */
    uint64_t page_size; /* VL_PAGE_4K, VL_PAGE_2M or VL_PAGE_1G; 0 if none */
    /*
     * Access rights (SDM Vol. 3A, 4.6.1): writable only if R/W is set at
     * every level, user-accessible only if U/S is set at every level,
     * no-execute if XD/NX is set at any level. Final when present; after a
     * failed walk they hold what the entries read so far allowed.
     */
    bool present;
    bool writable;
    bool user;
    bool nx;
    /*
     * Entries read, in steps[0..nsteps) from the PML4 down. When the reader
     * failed, steps[nsteps] names the entry it could not read (entry 0).
     */
    int nsteps;
    struct vl_pt_step steps[VL_PT_LEVELS];
    int fault_level; /* level of the first non-present entry, 0 if none */
};

/*
 * Translate va through the 4-level tables whose PML4 is at cr3 (only the
 * address bits of cr3 are used), as the MMU does.
 *
 * Returns 0 when va is mapped. Otherwise:
 *  -EFAULT when an entry is not present, with a message naming the level,
 *   the table's gpa, the index and the entry ("PD entry 3 of table 0x12000
 *   is 0 (not present) for va 0x600000"): what a page fault would tell;
 *  -EINVAL for a non-canonical va, or an entry with reserved bits set (PS
 *   in a PML4E; bits 29:13 of a 1 GiB or 20:13 of a 2 MiB page entry);
 *  the reader's error when a table is not in guest memory.
 * w (which may be NULL) is filled as far as the walk got, in every case.
 *
 * Not checked, because they depend on the CPU rather than the tables:
 * physical-address bits above MAXPHYADDR, NX without EFER.NXE, 1 GiB pages
 * on a CPU without them (CPUID 0x80000001 EDX bit 26). Entries are read as
 * little-endian 64-bit values, in the host's byte order (x86 hosts only).
 */
int vl_pt_walk(vl_gpa_reader read, void *ctx, uint64_t cr3, uint64_t va,
               struct vl_pt_walk *w);

/*
 * Print a walk: one line with every step, one line with the outcome, e.g.
 *   va 0x0000000100000010: PML4[0] @0x10000 = 0x11003 -> PDPT[4] @0x11000
 *   = 0x13003 -> PD[0] @0x13000 = 0x200083 (2M page)
 *     => pa 0x200010 rw kernel
 * (the first line is one line). A failed walk says why it stopped.
 */
void vl_pt_walk_print(FILE *out, const struct vl_pt_walk *w);

/*
 * Print the whole tree under cr3: every present entry, indented by level,
 * with the virtual range it covers and its flags. Runs of consecutive leaf
 * entries of one table that map consecutive physical pages with the same
 * flags print as one line:
 *     PT[0..511] va 0x0-0x1fffff -> pa 0x0-0x1fffff 4K rw
 * so a 4 MiB identity map takes a handful of lines. A table that is not in
 * guest memory, an entry with reserved bits, and a table seen before (a
 * loop, or a table shared by two entries) are reported and not followed.
 * Ends with a summary line. Returns the number of leaf pages printed, or
 * -errno (the PML4 itself cannot be read, no memory, or out fails).
 */
int vl_pt_dump(FILE *out, vl_gpa_reader read, void *ctx, uint64_t cr3);

#endif
