# virtlab - top-level build. `make help` lists the targets.
ROOT := $(CURDIR)
include scripts/common.mk

PREFIX  ?= /usr/local
DESTDIR ?=
B       := $(ROOT)/build
VERSION := 0.1.0
LAB     ?=

LIB_SRCS  := $(wildcard libvirtlab/src/*.c)
LIB_HDRS  := $(wildcard libvirtlab/include/virtlab/*.h)
LIB_PRIV  := $(wildcard libvirtlab/src/*.h)
LIB_OBJS  := $(LIB_SRCS:libvirtlab/src/%.c=$(B)/lib/obj/%.o)
SAN_OBJS  := $(LIB_SRCS:libvirtlab/src/%.c=$(B)/lib-san/obj/%.o)
LIB_TESTS := $(patsubst libvirtlab/tests/%.c,$(B)/tests/%,\
               $(wildcard libvirtlab/tests/*_test.c))
GRADE_SRCS := $(filter-out %_test.c,$(wildcard autograder/*.c))
GRADE_TESTS := $(patsubst autograder/tests/%.c,$(B)/tests/%,\
               $(wildcard autograder/tests/*_test.c))
# vlab-grade's own libraries: libcrypto for the SHA-256 of tests and rubric.
GRADE_LIBS := -lcrypto

LIB_CFLAGS := $(WARN) -O2 -g -fPIC -fvisibility=default
SAN_CFLAGS := $(WARN) -O1 -g $(SAN)

.PHONY: all deps demo test grade bench doctor install uninstall clean help \
        lib tools lint check-skeletons skeletons test-lib test-grader \
        fuzz test-fuzz rootfs test-cgroup2 kernel student-release \
        deps-core slides slides-pdf test-slides test-docker-ci docker-ci-image

all: lib tools

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## make deps      install the Debian packages virtlab needs (root, idempotent)
##                and the slides' npm packages (npm ci in slides/)
deps:
	@scripts/deps.sh all

# What building, the labs and grading need, without the slides' browser.
deps-core:
	@scripts/deps.sh core

## make           build libvirtlab, minivm, vlab-doctor and vlab-grade
lib: $(B)/lib/libvirtlab.a $(B)/lib/libvirtlab.so $(B)/lib/virtlab.pc \
     $(B)/lib-san/libvirtlab.a

$(B)/lib/obj/%.o: libvirtlab/src/%.c $(LIB_HDRS) $(LIB_PRIV)
	@mkdir -p $(@D)
	$(CC) $(VL_INC) $(LIB_CFLAGS) -c -o $@ $<

$(B)/lib-san/obj/%.o: libvirtlab/src/%.c $(LIB_HDRS) $(LIB_PRIV)
	@mkdir -p $(@D)
	$(CC) $(VL_INC) $(SAN_CFLAGS) -c -o $@ $<

$(B)/lib/libvirtlab.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(B)/lib-san/libvirtlab.a: $(SAN_OBJS)
	$(AR) rcs $@ $^

$(B)/lib/libvirtlab.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libvirtlab.so.0 -o $@ $^ $(VL_LIBS)

$(B)/lib/virtlab.pc: libvirtlab/virtlab.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

tools: $(B)/bin/vlab-doctor $(B)/bin/vlab-grade $(B)/bin/minivm \
       $(B)/bin/minictr

# `make build/bin/minivm` and friends, by their relative names too.
build/bin/%: $(B)/bin/% ;

$(B)/bin/vlab-doctor: libvirtlab/tools/vlab-doctor.c $(B)/lib/libvirtlab.a
	@mkdir -p $(@D)
	$(CC) $(VL_INC) $(WARN) -O2 -g -o $@ $< $(B)/lib/libvirtlab.a $(VL_LIBS)

$(B)/bin/vlab-grade: $(GRADE_SRCS) $(wildcard autograder/*.h) \
                     $(B)/lib/libvirtlab.a
	@mkdir -p $(@D)
	$(CC) $(VL_INC) $(WARN) -O2 -g -DVL_ROOT='"$(ROOT)"' \
	    -DVG_VERSION='"$(VERSION)"' -o $@ \
	    $(filter %.c,$^) $(B)/lib/libvirtlab.a $(VL_LIBS) $(GRADE_LIBS)

# minivm built from the reference solutions of every stage: what `make demo`
# runs. Students build their own with `make -C labs run`.
# Its guests land in build/minivm/guest/.
# A student release (make student-release) has no solutions/*.c but the
# compiled archive of them, built with sanitizers: then link with them too.
MINIVM_STAGES = $(or $(wildcard solutions/0[1-8]-*/*.c),\
                     $(wildcard solutions/minivm-ref.a))
REF_SAN = $(if $(filter %.a,$(1)),$(SAN))
MINIVM_GUESTS = $(wildcard $(ROOT)/labs/0[1-8]-*/guest)
$(B)/bin/minivm: $(MINIVM_STAGES) $(wildcard labs/minivm/* labs/minivm/guest/*) \
                 $(wildcard labs/0[1-8]-*/guest/*) $(B)/lib/libvirtlab.a
	$(MAKE) -s -f autograder/build.mk ROOT=$(ROOT) OUT=$(B)/minivm \
	    PROGRAM=minivm LIBDIR=$(B)/lib \
	    OPT="-O2 -g $(call REF_SAN,$(MINIVM_STAGES))" \
	    STAGE_SRCS="$(abspath $(MINIVM_STAGES))" \
	    GUEST_DIRS="$(MINIVM_GUESTS)" all
	@mkdir -p $(@D) && cp $(B)/minivm/minivm $@

# minictr from the reference solutions of labs 09-16, likewise.
MINICTR_STAGES = $(or $(wildcard solutions/09-*/*.c solutions/1[0-6]-*/*.c),\
                      $(wildcard solutions/minictr-ref.a))
$(B)/bin/minictr: $(MINICTR_STAGES) $(wildcard labs/minictr/*) \
                  $(B)/lib/libvirtlab.a
	$(MAKE) -s -f autograder/build.mk ROOT=$(ROOT) OUT=$(B)/minictr \
	    PROGRAM=minictr LIBDIR=$(B)/lib \
	    OPT="-O2 -g $(call REF_SAN,$(MINICTR_STAGES))" \
	    STAGE_SRCS="$(abspath $(MINICTR_STAGES))" $(B)/minictr/minictr
	@mkdir -p $(@D) && cp $(B)/minictr/minictr $@

## make rootfs    minictr's test root filesystem in build/rootfs: Debian's
##                busybox-static and the vlab-probe test payload
ROOTFS ?= $(B)/rootfs
rootfs: $(ROOTFS)/.stamp
$(ROOTFS)/.stamp: scripts/mkrootfs.sh $(wildcard labs/minictr/probe/*)
	@scripts/mkrootfs.sh $(ROOTFS)

## make demo      build everything and run a first guest under minivm
demo: deps-core all
	@scripts/demo.sh

## make doctor    check what this machine offers (KVM, namespaces, cgroups...)
doctor: $(B)/bin/vlab-doctor
	@$(B)/bin/vlab-doctor

## make test      everything CI runs: library tests (ASan/UBSan), grader checks,
##                skeleton drift, lint
test: deps all rootfs kernel
	@scripts/test.sh

test-lib: $(LIB_TESTS)
	@scripts/run-tests.sh $(LIB_TESTS)

test-grader: $(GRADE_TESTS)
	@scripts/run-tests.sh $(GRADE_TESTS)

# The security suite
## make test-security  escape attempts against the reference minictr
##                (tests/security/, docs/security.md; ASan/UBSan; root)
SEC_TESTS := $(patsubst tests/security/%.c,$(B)/tests/security/%,\
               $(wildcard tests/security/*_test.c))
.PHONY: test-security
test-security: $(SEC_TESTS) $(B)/bin/minictr $(B)/rootfs/.stamp
	@scripts/run-tests.sh $(SEC_TESTS)

$(B)/tests/security/%_test: tests/security/%_test.c labs/minictr/mct_test.h \
                            labs/minictr/minictr.h \
                            $(wildcard libvirtlab/tests/*.h) \
                            $(B)/lib-san/libvirtlab.a
	@mkdir -p $(@D)
	$(CC) $(VL_INC) -Ilabs/minictr -Ilibvirtlab/tests $(SAN_CFLAGS) \
	    -DVL_ROOTFS='"$(B)/rootfs"' -DVL_MINICTR='"$(B)/bin/minictr"' \
	    -o $@ $< $(B)/lib-san/libvirtlab.a $(VL_LIBS) -lcriterion

$(B)/tests/%_test: libvirtlab/tests/%_test.c $(wildcard libvirtlab/tests/*.h) \
                   $(B)/lib-san/libvirtlab.a
	@mkdir -p $(@D)
	$(CC) $(VL_INC) $(SAN_CFLAGS) -o $@ $< $(B)/lib-san/libvirtlab.a \
	    $(VL_LIBS) -lcriterion

# The grader's sources, compiled once with the sanitizers into an archive
# that every test links (not once per test binary: that took minutes).
GRADE_SAN_OBJS := $(patsubst autograder/%.c,$(B)/grade-san/obj/%.o,\
                    $(filter-out autograder/main.c,$(GRADE_SRCS)))
$(B)/grade-san/obj/%.o: autograder/%.c $(wildcard autograder/*.h) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(VL_INC) -Iautograder $(SAN_CFLAGS) -DVL_ROOT='"$(ROOT)"' \
	    -c -o $@ $<

$(B)/grade-san/libgrade.a: $(GRADE_SAN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/tests/%_test: autograder/tests/%_test.c $(B)/grade-san/libgrade.a \
                   $(wildcard autograder/*.h) \
                   $(wildcard autograder/tests/*.h) \
                   $(B)/lib-san/libvirtlab.a
	@mkdir -p $(@D)
	$(CC) $(VL_INC) -Iautograder $(SAN_CFLAGS) -DVL_ROOT='"$(ROOT)"' \
	    -o $@ $< $(B)/grade-san/libgrade.a $(B)/lib-san/libvirtlab.a \
	    $(VL_LIBS) $(GRADE_LIBS) -lcriterion

## make grade     grade your work in labs/ (LAB=01 for one lab)
grade: deps-core all
	@$(B)/bin/vlab-grade --submission labs $(if $(LAB),--lab $(LAB))

## make bench     benchmarks, printed as ratios against a baseline
bench: deps-core all
	@$(MAKE) -s -C bench ROOT=$(ROOT)

## make fuzz      libFuzzer (clang, ASan/UBSan) on the UART and the virtqueue,
##                FUZZ_TIME seconds each (default 300); see fuzz/README.md
FUZZ_TIME ?= 300
fuzz: deps-core
	@$(MAKE) -s -C fuzz ROOT=$(ROOT) FUZZ_TIME=$(FUZZ_TIME)

# The bounded run `make test` does (scripts/test.sh).
test-fuzz:
	@$(MAKE) -s -C fuzz ROOT=$(ROOT) FUZZ_TIME=20

## make slides    the course decks (slides/decks/*.md) as reveal.js HTML in
##                build/slides/ (open build/slides/index.html; no network)
SLIDES_OUT := $(B)/slides
slides:
	@scripts/deps.sh slides
	@node slides/tools/build.mjs $(SLIDES_OUT)

## make slides-pdf  the decks as PDF in build/slides/pdf/ (headless Chromium),
##                each deck checked on the way (what test-slides does)
slides-pdf test-slides: slides
	@node slides/tools/check.mjs $(SLIDES_OUT) --pdf

## make test-docker-ci  docker-ci/'s YAML checked (yamllint, actionlint, the
##                GitLab schema) and the Gradescope bundle run on samples
test-docker-ci: all
	@scripts/deps.sh ci
	@docker-ci/tests/yaml.sh
	@docker-ci/tests/gradescope.sh

## make docker-ci-image  the grader's image built with podman from a
##                debootstrap base (no registry), then labs graded in it (slow)
##                (IMAGE_ARGS=--with-kernel: lab 07's kernel too, every lab graded)
docker-ci-image: all
	@scripts/deps.sh image
	@docker-ci/tests/image.sh $(IMAGE_ARGS)

## make kernel    a Debian kernel in build/kernel (apt-get download, cached)
kernel:
	@scripts/kernel.sh $(B)/kernel

## make test-cgroup2  lab 12 and libvirtlab's cgroup tests on cgroup v2,
##                inside QEMU (TCG) booting Debian's kernel
test-cgroup2: all rootfs kernel
	@scripts/test-cgroup2.sh

## make student-release OUT=DIR  the course without solution sources, for
##                students (reference stages as compiled archives)
student-release: lib
	@scripts/student-release.sh "$(OUT)"

## make skeletons regenerate labs/ code from solutions/ (maintainers)
skeletons:
	@scripts/gen-skeletons.sh

check-skeletons:
	@scripts/gen-skeletons.sh --check

## make lint      clang-format check of the C sources
lint:
	@scripts/lint.sh

# Lab 13: install also puts minictr's default seccomp profile in
# PREFIX/share/virtlab/seccomp/default.json (found next to PREFIX/bin/minictr)
## make install   libvirtlab.a/.so, headers and virtlab.pc under PREFIX
install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/virtlab $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(B)/lib/libvirtlab.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/lib/libvirtlab.so \
	    $(DESTDIR)$(PREFIX)/lib/libvirtlab.so.0
	ln -sf libvirtlab.so.0 $(DESTDIR)$(PREFIX)/lib/libvirtlab.so
	install -m 644 $(LIB_HDRS) $(DESTDIR)$(PREFIX)/include/virtlab/
	install -m 644 $(B)/lib/virtlab.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(B)/bin/vlab-doctor $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/virtlab/seccomp
	install -m 644 labs/minictr/seccomp/default.json \
	    $(DESTDIR)$(PREFIX)/share/virtlab/seccomp/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libvirtlab.a \
	    $(DESTDIR)$(PREFIX)/lib/libvirtlab.so* \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/virtlab.pc \
	    $(DESTDIR)$(PREFIX)/bin/vlab-doctor
	rm -rf $(DESTDIR)$(PREFIX)/share/virtlab/seccomp
	rm -rf $(DESTDIR)$(PREFIX)/include/virtlab

## make clean     remove build/
clean:
	rm -rf $(B)
