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
