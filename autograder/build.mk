# autograder/build.mk - build one program (minivm or minictr) from a mix of
# stage files, and the Criterion test binary of one stage.
#
# The grader copies the submission's stage file(s) for the stage under test
# and the reference files of every other stage into one folder, then runs:
#   make -f ROOT/autograder/build.mk ROOT=... OUT=... PROGRAM=minivm \
#        STAGE_SRCS="..." TESTS="..." GUEST_DIRS="..." LIBDIR=... <target>
# Targets: $(OUT)/stage-test (the tests) and $(OUT)/$(PROGRAM) (the tool).
# The same file builds the student's own minivm for `make run` in labs/.
# STAGE_SRCS may also name objects (.o) and archives (.a): a student
# release has the reference stages compiled, not as .c (autograder/
# refarchive.h).

ROOT    ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
include $(ROOT)/scripts/common.mk

OUT        ?= $(CURDIR)/build
PROGRAM    ?= minivm
STAGE_SRCS ?=
TESTS      ?=
GUEST_DIRS ?=
LIBDIR     ?= $(ROOT)/build/lib-san
OPT        ?= -O1 -g $(SAN)

DRIVER_DIR  := $(ROOT)/labs/$(PROGRAM)
DRIVER_SRCS := $(filter-out $(DRIVER_DIR)/main.c,$(wildcard $(DRIVER_DIR)/*.c))
STAGE_INC   := $(sort $(foreach s,$(STAGE_SRCS),-I$(dir $(s))))
CPPFLAGS    := $(VL_INC) -I$(ROOT)/libvirtlab/tests -I$(DRIVER_DIR) $(STAGE_INC) \
               -DVL_GUEST_DIR='"$(OUT)/guest"'
# lab 07: where the tests find Debian's kernel (`make kernel`) and busybox
# (`make rootfs`); $VLAB_KERNEL_DIR / $VLAB_ROOTFS_DIR override at run time.
CPPFLAGS    += -DVL_KERNEL_DIR='"$(ROOT)/build/kernel"' \
               -DVL_ROOTFS_DIR='"$(ROOT)/build/rootfs"'
CFLAGS      := $(WARN) $(OPT)
LINK        := $(LIBDIR)/libvirtlab.a $(VL_LIBS)

GUEST_BINS := $(foreach d,$(GUEST_DIRS),\
                $(patsubst $(d)/%.S,$(OUT)/guest/%.bin,$(wildcard $(d)/*.S)) \
                $(patsubst $(d)/%.c,$(OUT)/guest/%.bin,$(wildcard $(d)/*.c)))

# Every guest lands in $(OUT)/guest/ under its own name: two labs may not
# use the same one (prefix a lab's guests, e.g. dev_hello.c).
GUEST_NAMES := $(notdir $(basename $(GUEST_BINS)))
GUEST_DUPS  := $(sort $(foreach n,$(GUEST_NAMES),\
                 $(if $(word 2,$(filter $(n),$(GUEST_NAMES))),$(n))))
ifneq ($(GUEST_DUPS),)
$(error guest names used twice in $(GUEST_DIRS): $(GUEST_DUPS); guest \
  names must be unique across labs: rename them, e.g. with the lab as prefix)
endif

# minictr's tests run containers: they need the test rootfs (busybox and
# vlab-probe, `make rootfs`) and the minictr just built, found through
# these paths (or $MCT_ROOTFS / $MCT_BINARY at run time).
TEST_DEPS :=
ifeq ($(PROGRAM),minictr)
ROOTFS   ?= $(ROOT)/build/rootfs
CPPFLAGS += -DVL_ROOTFS='"$(ROOTFS)"' -DVL_MINICTR='"$(OUT)/minictr"'
TEST_DEPS := $(OUT)/minictr $(ROOTFS)/.stamp
LINK     += $(MCT_LIBS)
$(ROOTFS)/.stamp: $(wildcard $(ROOT)/labs/minictr/probe/*) \
                  $(ROOT)/scripts/mkrootfs.sh
	$(MAKE) -s -C $(ROOT) rootfs ROOTFS=$(ROOTFS)
endif

.PHONY: all guests
all: $(OUT)/$(PROGRAM) guests
guests: $(GUEST_BINS)

$(OUT)/$(PROGRAM): $(DRIVER_DIR)/main.c $(DRIVER_SRCS) $(STAGE_SRCS) \
                   $(wildcard $(DRIVER_DIR)/*.h) $(LIBDIR)/libvirtlab.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LINK)

$(OUT)/stage-test: $(TESTS) $(DRIVER_SRCS) $(STAGE_SRCS) \
                   $(wildcard $(DRIVER_DIR)/*.h) $(LIBDIR)/libvirtlab.a \
                   $(GUEST_BINS) $(TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LINK) -lcriterion

$(foreach d,$(GUEST_DIRS),$(eval $(call guest_rule,$(OUT)/guest,$(d))))
$(foreach d,$(GUEST_DIRS),$(eval $(call guest_c_rule,$(OUT)/guest,$(d))))
