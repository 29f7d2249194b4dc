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
# build_paths.h sits next to this file (also when it is a symlink)
PATHS_H := $(dir $(realpath $(lastword $(MAKEFILE_LIST))))build_paths.h
include $(ROOT)/scripts/common.mk

OUT        ?= $(CURDIR)/build
PROGRAM    ?= minivm
STAGE_SRCS ?=
TESTS      ?=
GUEST_DIRS ?=
LIBDIR     ?= $(ROOT)/build/lib-san
OPT        ?= -O1 -g $(SAN)
# The grader builds in a new work folder every run: it sets RELOCATABLE=1
# to keep the folder's name out of the objects (their debug info names
# "." instead), so that ccache can hand them to the next run.
RELOCATABLE ?=

DRIVER_DIR  := $(ROOT)/labs/$(PROGRAM)
DRIVER_SRCS := $(filter-out $(DRIVER_DIR)/main.c,$(wildcard $(DRIVER_DIR)/*.c))
STAGE_C     := $(filter %.c,$(STAGE_SRCS))
STAGE_BIN   := $(filter %.o %.a,$(STAGE_SRCS))

# Every .c is compiled on its own into $(OUT)/obj/ (objects through ccache,
# below), from SRC_ROOT, the folder above the stage files' lab folders (the
# grader's WORK/src, labs/, solutions/): a stage file is given to the
# compiler as "06-interrupts/interrupts.c", which compiler errors, UBSan and
# ASan then print, whichever work folder the run had.
SRC_ROOTS := $(sort $(foreach s,$(STAGE_C),$(abspath $(dir $(s))..)))
SRC_ROOT  := $(if $(filter 1,$(words $(SRC_ROOTS))),$(SRC_ROOTS),$(CURDIR))
rel_src    = $(patsubst $(SRC_ROOT)/%,%,$(abspath $(1)))
obj_of     = $(OUT)/obj/$(patsubst /%,abs/%,$(patsubst %.c,%.o,$(call rel_src,$(1))))
STAGE_INC := $(sort $(foreach s,$(STAGE_SRCS),-I$(dir $(call rel_src,$(s)))))

CPPFLAGS    := $(VL_INC) -I$(ROOT)/libvirtlab/tests -I$(DRIVER_DIR) $(STAGE_INC)
# lab 07: where the tests find Debian's kernel (`make kernel`) and busybox
# (`make rootfs`); $VLAB_KERNEL_DIR / $VLAB_ROOTFS_DIR override at run time.
CPPFLAGS    += -DVL_KERNEL_DIR='"$(ROOT)/build/kernel"' \
               -DVL_ROOTFS_DIR='"$(ROOT)/build/rootfs"'
# The tests find this build's guests and minictr through variables written
# into $(OUT) (build_paths.h), not -D strings that would change
# every test object with every work folder.
TEST_CPPFLAGS := -include $(PATHS_H) \
                 -DVL_GUEST_DIR=vl_build_guest_dir -DVL_MINICTR=vl_build_minictr
CFLAGS      := $(WARN) $(OPT)
DEBUG_MAP   := $(if $(RELOCATABLE),-fdebug-prefix-map=$(SRC_ROOT)=.)
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
CPPFLAGS += -DVL_ROOTFS='"$(ROOTFS)"'
CPPFLAGS += -DMCT_SECCOMP_DEFAULT='"$(ROOT)/labs/minictr/seccomp/default.json"' # lab 13
TEST_DEPS := $(OUT)/minictr $(ROOTFS)/.stamp
LINK     += $(MCT_LIBS)
$(ROOTFS)/.stamp: $(wildcard $(ROOT)/labs/minictr/probe/*) \
                  $(ROOT)/scripts/mkrootfs.sh
	$(MAKE) -s -C $(ROOT) rootfs ROOTFS=$(ROOTFS)
endif

# ccache (Debian's, `make deps`) keeps every object it compiled in
# build/ccache (VL_CCACHE_DIR), keyed by the compiler, its flags and the
# preprocessed source with every header it read: a changed header, flag or
# compiler compiles again; the same source under another work folder (the
# next mutant, the next student) does not. Without ccache, or without a
# writable folder for it, plain $(CC) (CCACHE= forces that).
CCACHE        ?= $(shell command -v ccache 2>/dev/null)
VL_CCACHE_DIR ?= $(ROOT)/build/ccache
ifneq ($(CCACHE),)
ifneq ($(shell mkdir -p '$(VL_CCACHE_DIR)' 2>/dev/null && \
               test -w '$(VL_CCACHE_DIR)' && echo ok),ok)
CCACHE :=
endif
endif
ifneq ($(CCACHE),)
export CCACHE_DIR     := $(VL_CCACHE_DIR)
export CCACHE_MAXSIZE := 2G
export CCACHE_BASEDIR :=
endif

# Objects are remade when the compile command changes ($(OBJ)/.flags) or
# any header of the driver, libvirtlab, the stages or the tests does (a
# coarse rule; ccache makes the extra compiles cheap).
OBJ        := $(OUT)/obj
COMPILE    := $(CCACHE) $(CC) $(CPPFLAGS) $(CFLAGS) $(DEBUG_MAP)
FLAGS_LINE := $(SRC_ROOT) $(COMPILE) $(TEST_CPPFLAGS) $(LINK) $(GUEST_CFLAGS)
ifneq ($(file <$(OBJ)/.flags),$(FLAGS_LINE))
$(shell mkdir -p '$(OBJ)')
$(file >$(OBJ)/.flags,$(FLAGS_LINE))
endif
HDRS := $(wildcard $(DRIVER_DIR)/*.h $(ROOT)/libvirtlab/include/virtlab/*.h \
                   $(ROOT)/libvirtlab/tests/*.h $(PATHS_H) \
                   $(addsuffix *.h,$(sort $(dir $(STAGE_SRCS) $(TESTS)))))

MAIN_OBJ    := $(call obj_of,$(DRIVER_DIR)/main.c)
DRIVER_OBJS := $(foreach s,$(DRIVER_SRCS),$(call obj_of,$(s)))
STAGE_OBJS  := $(foreach s,$(STAGE_C),$(call obj_of,$(s)))
TEST_OBJS   := $(foreach s,$(TESTS),$(call obj_of,$(s)))
PATHS_OBJ   := $(OBJ)/build_paths.o

# compile_rule SOURCE EXTRA-FLAGS: its object, compiled from SRC_ROOT
define compile_rule
$(call obj_of,$(1)): $(1) $(HDRS) $(OBJ)/.flags
	@mkdir -p $$(@D)
	cd $(SRC_ROOT) && $(COMPILE) $(2) -c -o $$@ $(call rel_src,$(1))
endef
$(foreach s,$(DRIVER_DIR)/main.c $(DRIVER_SRCS) $(STAGE_C),\
  $(eval $(call compile_rule,$(s))))
$(foreach s,$(TESTS),$(eval $(call compile_rule,$(s),$(TEST_CPPFLAGS))))

$(OBJ)/build_paths.c:
	@mkdir -p $(@D)
	$(file >$@,/* written by autograder/build.mk for the build in $(OUT) */)
	$(file >>$@,const char vl_build_guest_dir[] = "$(OUT)/guest";)
	$(file >>$@,const char vl_build_minictr[] = "$(OUT)/minictr";)
$(PATHS_OBJ): $(OBJ)/build_paths.c $(PATHS_H)
	$(CC) -std=gnu11 -Wall -Werror -include $(PATHS_H) \
	    -c -o $@ $<

.DELETE_ON_ERROR:
.PHONY: all guests
all: $(OUT)/$(PROGRAM) guests
guests: $(GUEST_BINS)

$(OUT)/$(PROGRAM): $(MAIN_OBJ) $(DRIVER_OBJS) $(STAGE_OBJS) $(STAGE_BIN) \
                   $(LIBDIR)/libvirtlab.a $(OBJ)/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(filter %.o %.a,$^) $(LINK)

$(OUT)/stage-test: $(TEST_OBJS) $(PATHS_OBJ) $(DRIVER_OBJS) $(STAGE_OBJS) \
                   $(STAGE_BIN) $(LIBDIR)/libvirtlab.a $(OBJ)/.flags $(GUEST_BINS) \
                   $(TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(filter %.o %.a,$^) $(LINK) -lcriterion

$(foreach d,$(GUEST_DIRS),$(eval $(call guest_rule,$(OUT)/guest,$(d))))

# Guests in C: scripts/common.mk's guest_c_rule in two steps, so that ccache
# keeps the objects (the run-time's and each guest's) and only the small
# link is left to every build; the .bin is the same.
GUEST_RT_OBJS := $(patsubst $(GUEST_RT)/%,$(OBJ)/guest-rt/%.o,$(GUEST_RT_SRC))
GUEST_COMPILE := cd $(SRC_ROOT) && $(CCACHE) $(CC) $(GUEST_CFLAGS) $(DEBUG_MAP)
$(OBJ)/guest-rt/%.o: $(GUEST_RT)/% $(wildcard $(GUEST_RT)/*.h) $(OBJ)/.flags
	@mkdir -p $(@D)
	$(GUEST_COMPILE) -I$(GUEST_RT) -c -o $@ $<
# guest_c_cached_rule OUTDIR GUESTDIR
define guest_c_cached_rule
$(OBJ)/guest/%.o: $(2)/%.c $(wildcard $(2)/*.h) $(wildcard $(GUEST_RT)/*.h) \
                  $(OBJ)/.flags
	@mkdir -p $$(@D)
	$(GUEST_COMPILE) -I$(2) -I$(GUEST_RT) -c -o $$@ $$<
$(1)/%.bin: $(OBJ)/guest/%.o $(GUEST_RT_OBJS) $(GUEST_RT)/guest.ld
	@mkdir -p $$(@D)
	$(CC) $(GUEST_CFLAGS) -T $(GUEST_RT)/guest.ld -o $$(@:.bin=.elf) \
	    $(GUEST_RT_OBJS) $$<
	$(OBJCOPY) -O binary $$(@:.bin=.elf) $$@
endef
$(foreach d,$(GUEST_DIRS),\
  $(eval $(call guest_c_cached_rule,$(OUT)/guest,$(d))))
