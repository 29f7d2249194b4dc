#!/bin/bash
# test-student-release.sh [LAB...] - prove `make student-release`: make the
# release into a temporary folder and there
#   - check it holds no solution source (student-release.sh checks too);
#   - `make all` (libvirtlab, the tools, minivm and minictr linked with the
#     compiled reference stages);
#   - grade the untouched skeletons: 0 points, every lab built and ran;
#   - grade the reference solutions copied into a labs-shaped folder: the
#     full score (an environment skip, say no /dev/kvm, is reported as such).
# Labs: 01 and 09 by default (one of each program), or the ones given
# ("all" for every lab). About 2 minutes for the default.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LABS=("$@")
[ ${#LABS[@]} -gt 0 ] || LABS=(01 09)
LAB_ARGS=()
if [ "${LABS[0]}" != all ]; then
    for l in "${LABS[@]}"; do LAB_ARGS+=(--lab "$l"); done
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vlab-release-test-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
REL=$TMP/release
start=$(date +%s)

step() { echo "== student-release: $*"; }

step "make student-release OUT=$REL"
make -s -C "$ROOT" student-release OUT="$REL"
if find "$REL" -path '*/solutions/*.c' | grep -q .; then
    echo "FAILED: solution sources in the release" >&2
    exit 1
fi

step "make all in the release"
make -s -C "$REL" all

step "the skeletons score zero (${LABS[*]})"
"$REL/build/bin/vlab-grade" --submission "$REL/labs" "${LAB_ARGS[@]}" \
    --expect zero | grep '^verdict:'

step "the solutions, as a submission, score full (${LABS[*]})"
mkdir "$TMP/sub"
cp -r "$ROOT"/solutions/[0-9]* "$TMP/sub/"
"$REL/build/bin/vlab-grade" --submission "$TMP/sub" "${LAB_ARGS[@]}" \
    --expect full | grep '^verdict:'

echo "student-release: OK in $(($(date +%s) - start)) s"
