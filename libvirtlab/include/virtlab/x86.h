/*
 * virtlab/x86.h - x86 architecture constants for setting up guest CPU
 * modes: control registers, EFER, segment descriptors and page tables.
 *
 * Sources: Intel SDM Vol. 3A, 2.5 "Control Registers", 2.2.1 "Extended
 * Feature Enable Register", 3.4.5 "Segment Descriptors", 4.5 "4-Level
 * Paging"; AMD APM Vol. 2, 14.6 "Enabling and Activating Long Mode".
 */
#ifndef VIRTLAB_X86_H
#define VIRTLAB_X86_H

#include <stdint.h>

/* CR0 */
#define VL_CR0_PE (1ULL << 0) /* protection enable: protected mode */
#define VL_CR0_MP (1ULL << 1)
#define VL_CR0_EM (1ULL << 2)
#define VL_CR0_TS (1ULL << 3)
#define VL_CR0_ET (1ULL << 4)
#define VL_CR0_NE (1ULL << 5)
#define VL_CR0_WP (1ULL << 16) /* write protect, also for the kernel */
#define VL_CR0_AM (1ULL << 18)
#define VL_CR0_NW (1ULL << 29)
#define VL_CR0_CD (1ULL << 30)
#define VL_CR0_PG (1ULL << 31) /* paging */

/* CR4 */
#define VL_CR4_PSE    (1ULL << 4) /* 4 MiB pages in 32-bit paging */
#define VL_CR4_PAE    (1ULL << 5) /* 64-bit page-table entries; long mode */
#define VL_CR4_PGE    (1ULL << 7)
#define VL_CR4_OSFXSR (1ULL << 9)
#define VL_CR4_LA57   (1ULL << 12) /* 5-level paging */

/* EFER, model-specific register 0xc0000080 */
#define VL_MSR_EFER 0xc0000080u
#define VL_EFER_SCE (1ULL << 0)  /* SYSCALL */
#define VL_EFER_LME (1ULL << 8)  /* long mode enable: we ask for it */
#define VL_EFER_LMA (1ULL << 10) /* long mode active: LME + CR0.PG */
#define VL_EFER_NXE (1ULL << 11)

/* RFLAGS */
#define VL_RFLAGS_RESERVED1 (1ULL << 1) /* always 1 */
#define VL_RFLAGS_IF        (1ULL << 9)
#define VL_RFLAGS_VM        (1ULL << 17)

/*
 * A segment descriptor (8 bytes in the GDT). The access byte is bits
 * 40-47, the flags nibble bits 52-55:
 *   access: P(7) DPL(6:5) S(4) Type(3:0)
 *   flags:  G(3) D/B(2) L(1) AVL(0)
 */
#define VL_SEG_ACCESS_P         (1u << 7)
#define VL_SEG_ACCESS_S         (1u << 4) /* code or data, not a system segment */
#define VL_SEG_TYPE_CODE        (1u << 3)
#define VL_SEG_TYPE_CONFORMING  (1u << 2) /* code */
#define VL_SEG_TYPE_EXPAND_DOWN (1u << 2) /* data */
#define VL_SEG_TYPE_READ        (1u << 1) /* code: readable */
#define VL_SEG_TYPE_WRITE       (1u << 1) /* data: writable */
#define VL_SEG_TYPE_ACCESSED    (1u << 0)
#define VL_SEG_TYPE_TSS_BUSY    0xb       /* system: 32/64-bit busy TSS */
#define VL_SEG_TYPE_LDT         0x2       /* system */
#define VL_SEG_FLAG_G           (1u << 3) /* limit in 4 KiB units */
#define VL_SEG_FLAG_DB          (1u << 2) /* 32-bit default operand size */
#define VL_SEG_FLAG_L           (1u << 1) /* 64-bit code segment */
#define VL_SEG_FLAG_AVL         (1u << 0)

/* Page-table entries, all levels (SDM Vol. 3A, 4.5, Tables 4-15..4-20) */
#define VL_PTE_P         (1ULL << 0) /* present */
#define VL_PTE_RW        (1ULL << 1) /* writable */
#define VL_PTE_US        (1ULL << 2) /* user-mode accessible */
#define VL_PTE_PWT       (1ULL << 3)
#define VL_PTE_PCD       (1ULL << 4)
#define VL_PTE_A         (1ULL << 5) /* accessed */
#define VL_PTE_D         (1ULL << 6) /* dirty */
#define VL_PTE_PS        (1ULL << 7) /* in a PDPTE or PDE: maps a 1 GiB/2 MiB page */
#define VL_PTE_G         (1ULL << 8)
#define VL_PTE_NX        (1ULL << 63)          /* no execute, with EFER.NXE */
#define VL_PTE_ADDR_MASK 0x000ffffffffff000ULL /* bits 51:12 */

#define VL_PAGE_4K 0x1000ULL
#define VL_PAGE_2M 0x200000ULL
#define VL_PAGE_1G 0x40000000ULL

/* Index of a virtual address in each level of 4-level paging. */
#define VL_PML4_INDEX(va) (((va) >> 39) & 0x1ff)
#define VL_PDPT_INDEX(va) (((va) >> 30) & 0x1ff)
#define VL_PD_INDEX(va)   (((va) >> 21) & 0x1ff)
#define VL_PT_INDEX(va)   (((va) >> 12) & 0x1ff)

#endif
