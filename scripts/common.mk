# scripts/common.mk - compiler flags and rules shared by the top-level
# Makefile, the autograder's build (autograder/build.mk) and the labs.
# ROOT must point at the top of the virtlab tree before this is included.

CC      ?= gcc
AR      ?= ar
LD      ?= ld
OBJCOPY ?= objcopy

WARN := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wswitch-enum -Wundef -Wvla
SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all
VL_INC := -I$(ROOT)/libvirtlab/include
# What a program or test linked with libvirtlab.a also needs.
VL_LIBS := -ljansson
# What minictr also links (labs 13-16): libcap and libseccomp (capabilities
# and system-call filters), libcrypto (SHA-256 of image blobs), libarchive
# (tar layers), libmnl (rtnetlink).
MCT_LIBS := -lcap -lseccomp -lcrypto -larchive -lmnl

# Lab guests: tiny bare-metal programs in assembly (.code16/.code32/.code64
# chosen in the source), linked at the address the VMM loads them to and
# stripped to a flat image: the bytes as they sit in guest memory.
GUEST_LOAD_ADDR ?= 0x1000
define guest_rule
$(1)/%.bin: $(2)/%.S $(wildcard $(2)/*.h)
	@mkdir -p $$(@D)
	$$(CC) -c -I$(2) -o $$(@:.bin=.o) $$<
	$$(LD) -nostdlib -z noexecstack -Ttext=$(GUEST_LOAD_ADDR) -e _start \
	    --oformat binary -o $$@ $$(@:.bin=.o)
endef

# Lab guests in C (labs 04 on): 64-bit, freestanding, linked with the
# guest run-time of labs/minivm/guest/ (crt0.S first, guest.ld places the
# image at 0x1000) and stripped to a flat image like the others. The ELF
# stays next to the .bin for objdump -d and gdb. No SSE/x87 (this
# machine's KVM cannot emulate vector instructions), no red zone, and no
# loops turned into calls to memset()/memcpy() (rt.c defines them).
GUEST_RT     := $(ROOT)/labs/minivm/guest
GUEST_RT_SRC := $(GUEST_RT)/crt0.S $(filter-out %/crt0.S,$(wildcard $(GUEST_RT)/*.c))
GUEST_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -m64 \
                -ffreestanding -nostdlib -static -fno-pie -no-pie \
                -mgeneral-regs-only -mno-red-zone -mcmodel=small \
                -fno-stack-protector -fno-asynchronous-unwind-tables \
                -fno-tree-loop-distribute-patterns -ffunction-sections \
                -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,noexecstack \
                -Wl,--no-warn-rwx-segments
define guest_c_rule
$(1)/%.bin: $(2)/%.c $(wildcard $(2)/*.h) $(GUEST_RT_SRC) \
            $(wildcard $(GUEST_RT)/*.h) $(GUEST_RT)/guest.ld
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_CFLAGS) -I$(2) -I$(GUEST_RT) -T $(GUEST_RT)/guest.ld \
	    -o $$(@:.bin=.elf) $(GUEST_RT_SRC) $$<
	$$(OBJCOPY) -O binary $$(@:.bin=.elf) $$@
endef
