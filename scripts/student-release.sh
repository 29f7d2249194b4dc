#!/bin/bash
# student-release.sh OUT - write the course for students into OUT: everything
# a student needs (labs/ with the skeletons, libvirtlab, the autograder,
# scripts, bench, the Makefile, the READMEs) but no solution source.
#
# Stage isolation still needs the reference code of every other stage, so
# it goes in compiled: solutions/<program>-ref.a, one member per stage file,
# "<slug>_<stem>.o", compiled as autograder/build.mk compiles stages (the
# same CPPFLAGS/CFLAGS, sanitizers on), from a relative path so that
# messages name "02-cpu-modes/modes.c" as the student knows it. The grader
# (autograder/refarchive.h) and the top Makefile use the archive when the
# .c files are absent.
#
# Left out: solutions/*.c, autograder/mutants/ (each is a patch of a
# solution), autograder/hostile/ (copies of a solution made hostile), any
# hidden/ or private/ folder (instructors' tests), build/.
# Run by `make student-release OUT=DIR` (after `make lib`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() {
    echo "student-release: $*" >&2
    exit 2
}

if [ $# -ne 1 ] || [ -z "$1" ]; then
    die "usage: make student-release OUT=DIR"
fi
mkdir -p "$1" || die "cannot create $1"
OUT=$(cd "$1" && pwd)
case "$OUT/" in
"$ROOT/build/"*) ;;
"$ROOT/"*) die "OUT=$OUT lies inside the course tree: give a folder outside it" ;;
esac
[ -z "$(ls -A "$OUT")" ] || die "OUT=$OUT is not empty: give a new or empty folder"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vlab-release-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---- the files: what git knows (tracked or new, not ignored) ----------
list_files() {
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z --cached --others --exclude-standard
    else
        (cd "$ROOT" && find . -path ./build -prune -o -type f -print0 |
            sed -z 's|^\./||')
    fi
}
EXCLUDE='^(solutions/.*\.c|autograder/mutants/.*|autograder/hostile/.*|build/.*|(.*/)?(hidden|private)/.*)$'
list_files | grep -zEv "$EXCLUDE" |
    while IFS= read -r -d '' f; do
        [ -e "$ROOT/$f" ] && printf '%s\0' "$f"
    done >"$TMP/files"
tar -C "$ROOT" --null -T "$TMP/files" -cf - | tar -C "$OUT" -xf -

# ---- the reference archives ----------------------------------------
# lab.json's "program" for each lab with reference code
programs() {
    for m in "$ROOT"/autograder/labs/*/lab.json; do
        sed -n 's/.*"program" *: *"\([a-z0-9_-]*\)".*/\1/p' "$m" | head -1
    done | sort -u
}

build_archive() {
    local prog=$1 slug srcs=() objs=() flags f stem obj
    mkdir -p "$TMP/src" "$TMP/obj"
    for m in "$ROOT"/autograder/labs/*/lab.json; do
        slug=$(basename "$(dirname "$m")")
        grep -q "\"program\" *: *\"$prog\"" "$m" || continue
        [ -d "$ROOT/solutions/$slug" ] || continue
        mkdir -p "$TMP/src/$slug"
        cp "$ROOT/solutions/$slug"/* "$TMP/src/$slug/"
        for f in "$TMP/src/$slug"/*.c; do
            [ -e "$f" ] && srcs+=("$slug/$(basename "$f")")
        done
    done
    [ ${#srcs[@]} -gt 0 ] || return 0
    # build.mk's own flags, so the objects match what the grader compiles
    # shellcheck disable=SC2016 # $(...) is make's, expanded by make
    flags=$(make -s --no-print-directory -f "$ROOT/autograder/build.mk" \
        ROOT="$ROOT" PROGRAM="$prog" OUT="$TMP/out" \
        STAGE_SRCS="${srcs[*]/#/$TMP/src/}" \
        --eval 'vg-release-flags: ; @echo $(CPPFLAGS) $(CFLAGS)' \
        vg-release-flags)
    for f in "${srcs[@]}"; do
        stem=$(basename "$f" .c)
        obj="$TMP/obj/$(dirname "$f")_$stem.o"
        # shellcheck disable=SC2086 # flags is a list of words
        (cd "$TMP/src" && ${CC:-cc} $flags -c -o "$obj" "$f")
        objs+=("$obj")
    done
    mkdir -p "$OUT/solutions"
    ar rcs "$OUT/solutions/$prog-ref.a" "${objs[@]}"
    echo "student-release: solutions/$prog-ref.a (${#objs[@]} stages)"
}

for prog in $(programs); do
    build_archive "$prog"
done

cat >"$OUT/solutions/README.md" <<'EOF'
# solutions/ — compiled

This copy of the course has no solution sources. The reference code of
every stage is here compiled (`minivm-ref.a`, `minictr-ref.a`), so that
`make grade` can grade each of your stages against the reference of the
others (stage isolation, see the autograder's README).
EOF

# ---- the checks: nothing of the solutions' sources went out ----------
leaks=$(find "$OUT" \( -path "$OUT/solutions/*.c" -o -path "$OUT/autograder/mutants" \
    -o -path "$OUT/autograder/hostile" \) -print)
[ -z "$leaks" ] || die "left in the release: $leaks"
(cd "$ROOT" && find solutions -name '*.c' -exec sha256sum {} +) |
    awk '{print $1}' | sort -u >"$TMP/sol.sha"
find "$OUT" -type f -exec sha256sum {} + | sort >"$TMP/out.sha"
same=$(join "$TMP/sol.sha" "$TMP/out.sha" | awk '{print $2}')
[ -z "$same" ] || die "a copy of a solution source is in the release: $same"
marked=$(grep -rl --include='*.c' --include='*.h' 'SOLUTION BEGIN' "$OUT" || true)
[ -z "$marked" ] || die "solution regions left in: $marked"
echo "student-release: $(wc -l <"$TMP/out.sha") files in $OUT, no solution source"
