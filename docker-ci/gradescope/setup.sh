#!/bin/bash
# setup.sh - Gradescope runs this once, as root, in /autograder/source (the
# unpacked bundle, see make-bundle.sh) while it builds the autograder's
# Docker image: install what building and grading virtlab need, then build
# it. Each submission later starts a fresh container of that image and runs
# run_autograder.
#
# What Gradescope's machines can and cannot do (facts the grading depends
# on; an instructor should read them before choosing the labs):
#
# - Gradescope's base images are Ubuntu (22.04 is the current default), not
#   Debian: scripts/deps.sh only asks dpkg and apt-get, so it works there,
#   but its list names Debian 12's packages. If one of them has no
#   Ubuntu 22.04 equivalent, we install the smaller set grading needs (the
#   fuzzers', the slides' and the benchmarks' packages are not needed).
#
# - /dev/kvm: Gradescope's default runners are containers on cloud VMs
#   without nested virtualization, and the container gets no /dev/kvm.
#   minivm's labs (01-08) cannot run a guest there: their tests call
#   cr_skip_test with the reason, vlab-grade reports them as SKIP (an
#   environment skip: 0 points, shown with the reason, never called the
#   student's fault), and the score is 0 for those labs. Grade labs 01-08
#   elsewhere (the Docker image or a CI runner with --device /dev/kvm, see
#   docker-ci/README.md), unless your Gradescope plan gives KVM.
#
# - minictr's labs (09-16) create namespaces, cgroups, mounts and users, and
#   their lab.json asks the sandbox to run them as root. In a container that
#   only means the container's root: without CAP_SYS_ADMIN (Docker's
#   default), under Docker's seccomp and AppArmor profiles, or with a
#   read-only cgroup file system, unshare/mount/cgroup writes fail with
#   EPERM. Tests that detect a missing feature skip with the reason; others
#   fail, and the failure looks like the student's. Check the reference
#   first: upload solutions/ as a test submission and look for SKIP or
#   failures before grading students (vlab-doctor's report, printed below
#   and by run_autograder, says what this machine lacks).
#
# - vlab-grade's own sandbox (PID, mount and network namespaces, a cgroup
#   with memory and task limits) needs the same privileges: when cgroups are
#   not writable the tests run without the limits and the lab's message says
#   so; when namespaces cannot be made, the grader fails with a grader error
#   and run_autograder turns that into a results.json that says so.
#
# - The image is built once: everything the tests read at run time
#   (build/, the test rootfs for minictr, Debian's kernel for lab 07) is made
#   here, not per submission.
set -eu

prog=setup.sh
die() { echo "$prog: $*" >&2; exit 1; }
# The unpacked bundle: next to this script, or Gradescope's
# /autograder/source if the harness runs a copy of it from elsewhere.
cd "$(dirname "$0")"
if [ ! -f gradescope.conf ] && [ -f "${AUTOGRADER_ROOT:-/autograder}/source/gradescope.conf" ]; then
    cd "${AUTOGRADER_ROOT:-/autograder}/source"
fi
ROOT=$PWD
if [ ! -f Makefile ] || [ ! -d autograder/labs ]; then
    die "$ROOT is not the unpacked virtlab bundle (no Makefile or autograder/labs/)"
fi
[ "$(id -u)" -eq 0 ] || die "run me as root (Gradescope does): apt-get and the sandbox need it"

labs=$(sed -n 's/^labs=//p' gradescope.conf 2>/dev/null | tail -n 1)
[ -n "$labs" ] || die "gradescope.conf has no labs= line: rebuild the bundle with make-bundle.sh"
echo "$prog: labs to grade: $labs"

# Packages. apt-get as Gradescope's image builder runs it: no questions.
export DEBIAN_FRONTEND=noninteractive
if ! scripts/deps.sh core; then
    # What building and grading need, by name, on Debian and Ubuntu alike:
    # the compiler, Criterion and the libraries libvirtlab, vlab-grade and
    # minictr link, ccache (the grader's build cache), busybox-static (the
    # minictr test rootfs), patch, jq and python3.
    echo "$prog: scripts/deps.sh core failed (above); installing the grading set only" >&2
    apt-get update -qq ||
        die "apt-get update failed: is the network up in the image build?"
    apt-get install -y -qq --no-install-recommends \
        gcc make binutils pkg-config patch linux-libc-dev libc6-dev \
        libcriterion-dev libjansson-dev libseccomp-dev libcap-dev \
        libssl-dev libarchive-dev libmnl-dev ccache busybox-static \
        iproute2 passwd jq python3 ||
        die "apt-get install failed (above): the grader cannot be built without these"
fi

# The build: libvirtlab (and its sanitizer build the labs link), minivm,
# minictr, vlab-doctor, vlab-grade.
make -j"$(nproc)" all || die "make all failed (above)"

# minictr's tests run containers from build/rootfs (busybox-static and the
# test probe). build.mk would make it on the first submission, in every
# fresh container again: make it once here.
case " $labs " in *" 09-"*|*" 1"[0-6]"-"*)
    make rootfs || die "make rootfs failed (above): minictr's labs need it" ;;
esac

# Lab 07 boots a distribution kernel (`make kernel`, fetched with
# apt-get download). scripts/kernel.sh asks for Debian's linux-image-amd64;
# on Ubuntu the same role is linux-image-generic's. Without a kernel (or
# without /dev/kvm) lab 07's tests skip with the reason: not fatal here.
case " $labs " in *" 07-"*)
    if [ -z "${KERNEL_PACKAGE:-}" ] && grep -qi '^ID=ubuntu' /etc/os-release 2>/dev/null; then
        KERNEL_PACKAGE=$(apt-cache depends linux-image-generic 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
        export KERNEL_PACKAGE
    fi
    make kernel ||
        echo "$prog: warning: make kernel failed (above): lab 07's kernel tests will SKIP" >&2 ;;
esac

# Warm the grader's build cache (build/ccache, autograder/README.md "The
# build cache"): every submission starts from this image, so objects
# compiled now (the driver, the other stages' reference code, the tests,
# the guests) are cache hits for each of them, and only the student's stage
# files compile. Grading the reference once does it; its score does not
# matter here (no /dev/kvm: minivm's tests skip), and VLAB_SKIP_SLOW=1
# skips lab 07's kernel boot. VLAB_GS_WARM=0 skips this step.
if [ "${VLAB_GS_WARM:-1}" != 0 ]; then
    lab_args=""
    for slug in $labs; do lab_args="$lab_args --lab $slug"; done
    echo "$prog: warming the build cache (grading the reference once)"
    # shellcheck disable=SC2086 # one option per word
    VLAB_SKIP_SLOW=1 build/bin/vlab-grade --root "$ROOT" --submission solutions \
        $lab_args --timeout 300 >/dev/null ||
        echo "$prog: note: the reference did not score full marks here (normal without /dev/kvm)"
fi

# What this machine lacks, for the image build's log (not fatal: the
# container that grades may differ from the one that builds).
echo "$prog: environment (vlab-doctor):"
build/bin/vlab-doctor || true
[ -c /dev/kvm ] ||
    echo "$prog: note: no /dev/kvm while building the image: labs 01-08 will SKIP if it is missing at grading time too"
echo "$prog: done"
