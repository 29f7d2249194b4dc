#!/bin/sh
# deps.sh - install the Debian packages virtlab needs (`make deps`).
#
# Quiet and idempotent: when nothing is missing it only asks dpkg and
# returns. As root it installs what is missing with apt-get; otherwise it
# prints the command to run. On a system without dpkg it lists the Debian
# package names and fails, so you can find your distribution's equivalents.
set -eu

# clang and libclang-rt-dev (clang's runtimes: libFuzzer, ASan, UBSan; on
# bookworm it pulls libclang-rt-14-dev) build the fuzzers of fuzz/.
# busybox-static fills minictr's test rootfs (`make rootfs`); crun and runc
# are the baselines of `make bench`; qemu-system-x86, cpio and
# linux-image's tools (dpkg-deb, apt-get download) boot a Debian kernel with
# cgroup v2 for the lab 12 tests (`make test-cgroup2`); passwd's useradd
# makes the unprivileged user of the rootless tests (lab 11). libssl-dev's
# libcrypto gives vlab-grade the SHA-256 of each lab's tests and rubric.
# libxml2-utils' xmllint and perl's TAP::Parser check the grader's JUnit
# and TAP reports in its tests; python3 writes the hostile submissions
# (autograder/hostile/make-cases.py).
PACKAGES="gcc make binutils pkg-config patch linux-libc-dev libc6-dev
libcriterion-dev libjansson-dev libseccomp-dev libcap-dev clang-format jq
clang libclang-rt-dev busybox-static crun runc qemu-system-x86 cpio iproute2
passwd libssl-dev libxml2-utils perl python3 libarchive-dev libmnl-dev ccache"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: this is not Debian or Ubuntu (no dpkg-query)." >&2
    echo "deps: install the equivalents of these Debian packages:" >&2
    echo "  $(echo $PACKAGES)" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing" >&2
    echo "deps: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && \
       apt-get install -y -qq --no-install-recommends $missing; } \
       >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps: apt-get failed (above); install$missing by hand" >&2
    exit 1
fi
