#!/bin/bash
# tests/image.sh - build the grader image here and grade with it.
#
# usage: docker-ci/tests/image.sh [build-image.sh options...]
#
# SLOW (first run: debootstrap, apt-get of the toolchain, make all: a few
# minutes; later runs reuse podman's layer cache), so it is a make
# target of its own, not part of `make test`. Needs root, podman, runc,
# debootstrap, /dev/kvm and the Debian archive.
#
# 1. docker-ci/build-image.sh (the arguments are passed on);
# 2. the reference solutions as the submission:
#    lab01     lab 01, --device /dev/kvm --cap-add SYS_ADMIN
#              --cap-add NET_ADMIN                            -> full score
#    lab09-12  labs 09 and 12, --privileged --cgroupns=private, the
#              submission as a repository (labs/ inside)      -> full score
# 3. a flag missing, the entry point must refuse with exit 2 and name it:
#    lab01-no-kvm        without --device /dev/kvm
#    lab01-no-caps       without the capabilities (SYS_ADMIN)
#    lab12-unprivileged  without --privileged (read-only cgroups)
# 4. with --with-kernel, every lab with --privileged    -> full score;
# 5. the image's size.
set -eu

prog=tests/image.sh
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=$ROOT/build/docker-ci
TAG=virtlab-grader
PM=$STATE/podman

die() {
    echo "$prog: error: $*" >&2
    exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root (podman, debootstrap)"
command -v jq >/dev/null 2>&1 || die "jq is missing: make deps-core"
[ -c /dev/kvm ] || die "no /dev/kvm on this machine: lab 01 cannot be" \
    "graded in the container (the container gets the host's device)"

now() { date +%s; }
t0=$(now)
"$ROOT/docker-ci/build-image.sh" "$@" || die "build-image.sh failed (above)"
t_build=$(($(now) - t0))

mkdir -p "$STATE"
TMP=$(mktemp -d "$STATE/test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

failures=0
pass() { echo "ok   $*"; }
bad() {
    echo "FAIL $*"
    failures=$((failures + 1))
}

# run NAME EXPECTED_STATUS [podman run flags...] -- [grade.sh args...]
# Runs the image with the reference solutions as /submission and
# $TMP/NAME as /results; the output goes to $TMP/NAME.log. --network none:
# grading needs no network, and a student's code should not get any.
run() {
    local name=$1 want=$2 flags=() status start
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        flags+=("$1")
        shift
    done
    shift
    mkdir -p "$TMP/$name"
    start=$(now)
    set +e
    "$PM" run --rm --network none "${flags[@]}" \
        -v "$TMP/$name:/results" "$TAG" "$@" >"$TMP/$name.log" 2>&1
    status=$?
    set -e
    secs=$(($(now) - start))
    if [ "$status" -ne "$want" ]; then
        bad "$name: exit status $status, expected $want ($secs s); output:"
        sed 's/^/     | /' "$TMP/$name.log" | tail -n 30
        return 1
    fi
    return 0
}

# full NAME: the results of run NAME give every point.
full() {
    local json=$TMP/$1/results.json score max f line
    for f in report.txt results.json junit.xml classroom.json summary.md; do
        [ -s "$TMP/$1/$f" ] || {
            bad "$1: /results/$f missing or empty"
            return 0
        }
    done
    score=$(jq -r .score "$json")
    max=$(jq -r '[.tests[].max_score] | add' "$json")
    line=$(sed -n 's/^\(score: [^ ]*\) .*/\1/p' "$TMP/$1.log")
    if [ "$score" = "$max" ] && [ "$(jq -r '.score > 0' "$json")" = true ]
    then
        pass "$1: $line ($secs s)"
    else
        bad "$1: score $score of $max, expected full ($secs s); report:"
        sed 's/^/     | /' "$TMP/$1/report.txt" | tail -n 30
    fi
}

# refused NAME TEXT: the run said which flag is missing.
refused() {
    if grep -qF -- "$2" "$TMP/$1.log"; then
        pass "$1: refused, names '$2' ($secs s)"
    else
        bad "$1: exit 2 but no '$2' in the message:"
        sed 's/^/     | /' "$TMP/$1.log"
    fi
}

SOL=$ROOT/solutions
CAPS=(--cap-add SYS_ADMIN --cap-add NET_ADMIN)
run lab01 0 --device /dev/kvm "${CAPS[@]}" -v "$SOL:/submission:ro" -- \
    --lab 01 && full lab01
run lab09-12 0 --privileged --cgroupns=private \
    -v "$SOL:/submission/labs:ro" -- --lab 09 --lab 12 && full lab09-12
run lab01-no-kvm 2 "${CAPS[@]}" -v "$SOL:/submission:ro" -- --lab 01 &&
    refused lab01-no-kvm "--device /dev/kvm"
run lab01-no-caps 2 --device /dev/kvm -v "$SOL:/submission:ro" -- \
    --lab 01 && refused lab01-no-caps "SYS_ADMIN"
run lab12-unprivileged 2 "${CAPS[@]}" -v "$SOL:/submission:ro" -- \
    --lab 12 && refused lab12-unprivileged "--privileged"

# With the kernel in the image (--with-kernel), every lab can be graded:
# the whole reference, --privileged, must score full (lab 07 boots
# Debian's kernel: about 2 minutes in all here).
case " $* " in
*" --with-kernel "*)
    run all 0 --privileged -v "$SOL:/submission:ro" -- && full all ;;
esac

size=$("$PM" image inspect --format '{{.Size}}' "$TAG")
echo "image $TAG: $((size / 1000000)) MB; build-image.sh took ${t_build} s"
if [ "$failures" -gt 0 ]; then
    echo "$prog: $failures check(s) failed" >&2
    exit 1
fi
echo "$prog: all checks passed"
