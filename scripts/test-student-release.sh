#!/bin/bash
# test-student-release.sh [LAB...] - prove `make student-release`: make the
# release into a temporary folder and there
#   - check it holds no solution source (student-release.sh checks too);
#   - `make all` (libvirtlab, the tools, minivm and minictr linked with the
#     compiled reference stages);
#   - grade the untouched skeletons: 0 points, every lab built and ran;
#   - grade the reference solutions copied into a labs-shaped folder: the
#     full score (an environment skip, say no /dev/kvm, is reported as such);
#   - build the slides: no line of reference code in them.
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

# The slides build in the release too, and show no reference code: an
# excerpt of solutions/ shows the lab's skeleton there. "Reference code" is
# every line of a SOLUTION region that is long enough to be telling; the
# same search on the instructor's build (make test-slides, before this
# step) must find some, or this check proves nothing. The lines are
# escaped as the build escapes code for HTML.
html_lines() {
    sed 's/^ *//' | awk 'length($0) >= 30' |
        sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g' | sort -u
}
# Lines of SOLUTION regions, less those the release has anyway (the same
# line in a driver or in libvirtlab is no secret).
solution_lines() {
    sed -n '/SOLUTION BEGIN/,/SOLUTION END/p' "$ROOT"/solutions/*/*.c |
        grep -v 'SOLUTION\|stub:' | html_lines >"$TMP/sol"
    find "$REL" -path "$REL/build" -prune -o \( -name '*.c' -o -name '*.h' \) \
        -type f -print0 | xargs -0 cat | html_lines >"$TMP/public"
    comm -23 "$TMP/sol" "$TMP/public"
}
if [ -d "$ROOT/slides/node_modules" ] && command -v node >/dev/null; then
    step "the slides build in the release without the reference code"
    ln -s "$ROOT/slides/node_modules" "$REL/slides/node_modules"
    node "$REL/slides/tools/build.mjs" "$TMP/slides" >/dev/null
    solution_lines >"$TMP/solution-lines"
    leaked=$(cat "$TMP"/slides/*.html | grep -cFf "$TMP/solution-lines" || true)
    if [ "$leaked" -ne 0 ]; then
        echo "FAILED: $leaked lines of reference code in the release's slides:" >&2
        cat "$TMP"/slides/*.html | grep -Ff "$TMP/solution-lines" | head >&2
        exit 1
    fi
    if [ -d "$ROOT/build/slides" ]; then
        shown=$(cat "$ROOT"/build/slides/[0-9]*.html |
            grep -cFf "$TMP/solution-lines" || true)
        echo "student-release: the instructor's slides show $shown lines" \
             "of reference code, the release's 0"
        [ "$shown" -gt 0 ] || { echo "FAILED: the search finds nothing" \
            "in the instructor's slides either: it proves nothing" >&2; exit 1; }
    fi
else
    echo "student-release: slides not checked (no Node.js or slides/node_modules: make deps)"
fi

echo "student-release: OK in $(($(date +%s) - start)) s"
