/*
 * crt0.S - where a 64-bit C guest starts. minivm enters it in long mode
 * at 0x1000 (the first byte of the image), with paging on and interrupts
 * off. C needs two things the VMM does not give: a stack, and a zeroed
 * .bss (the image is copied byte for byte, and .bss is not in it).
 */
#include "rt.h"

    .section .text.start, "ax"
    .code64
    .globl _start
_start:
    mov     $GUEST_STACK_TOP, %rsp
    /* Zero .bss. minivm's RAM starts zeroed, but a VMM that reuses memory
     * (a reboot, a snapshot) would not: never count on it. */
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx
    xor     %eax, %eax
    rep stosb
    call    main
    /* main() returned: stop the vCPU. HLT with interrupts off never
     * resumes, so minivm sees KVM_EXIT_HLT and ends the run. */
1:  hlt
    jmp     1b
