#!/bin/bash
# make-bundle.sh [--labs "01 02 ..."] [-o FILE] - the Gradescope autograder
# zip of virtlab (default: virtlab-autograder.zip in the current folder).
#
# Gradescope unpacks the zip into /autograder/source, runs setup.sh there
# once as root to build its image, then run_autograder for each submission
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/). The zip
# therefore holds, at its root:
#   the course tree       what `make all` builds and vlab-grade grades with:
#                         Makefile, libvirtlab/, labs/ (tests, guests,
#                         drivers), autograder/ (manifests, build.mk),
#                         scripts/, solutions/ ...
#   setup.sh              installs the packages, runs `make all`
#   run_autograder        grades /autograder/submission into results.json
#   gradescope.conf       the labs to grade (--labs)
# /autograder/source is then the grader's ROOT, as autograder/README.md
# ("For instructors") expects.
#
# Left out: build/ (setup.sh builds on Gradescope's own image), .git,
# node_modules, slides/ (not needed to grade) and docker-ci/ (this tooling;
# the two scripts it needs are copied to the root).
#
# solutions/ IS in the bundle, sources included: stage isolation grades each
# lab against the reference code of every other stage of the program, so the
# grader needs them. Students never see the bundle (only instructors upload
# it), but the code a student submits runs on the same machine as the
# grader and ROOT is readable there: keep the zip private, and do not put
# the solutions anywhere students can download them.
#
# The file list comes from git when the tree is a checkout (tracked files
# and new ones that are not ignored: no editor backups, no build output),
# else from find with the same exclusions. zip(1) is used when installed,
# else Python 3's zipfile (Debian's python3): neither is assumed.
set -eu

prog=make-bundle.sh
die() { echo "$prog: $*" >&2; exit 1; }
usage() {
    echo "usage: $prog [--labs \"01 02 ...\"] [-o FILE]" >&2
    echo "  --labs  labs run_autograder grades (numbers or slugs; default: all)" >&2
    echo "  -o      the zip to write (default: virtlab-autograder.zip)" >&2
    exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
labs_arg=""
out=virtlab-autograder.zip

while [ $# -gt 0 ]; do
    case $1 in
    --labs) [ $# -ge 2 ] || usage; labs_arg=$2; shift 2 ;;
    --labs=*) labs_arg=${1#--labs=}; shift ;;
    -o|--output) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "$prog: unknown argument: $1" >&2; usage ;;
    esac
done

if [ ! -f "$ROOT/Makefile" ] || [ ! -d "$ROOT/autograder/labs" ]; then
    die "$ROOT is not a virtlab tree (no Makefile or autograder/labs/)"
fi
for f in setup.sh run_autograder; do
    [ -f "$here/$f" ] || die "$here/$f is missing: the bundle needs it"
done

# The labs, as slugs: "1", "01" and "01-kvm-basics" all name lab 01. A
# typo fails here, not on Gradescope with every submission.
all_slugs=$(cd "$ROOT/autograder/labs" && for d in */; do
    [ -f "$d/lab.json" ] && echo "${d%/}"; done)
[ -n "$all_slugs" ] || die "no lab.json under $ROOT/autograder/labs/"
slugs=""
if [ -z "$labs_arg" ]; then
    # shellcheck disable=SC2086 # one slug per word
    slugs=$(printf '%s ' $all_slugs)
    slugs=${slugs% }
else
    for l in $labs_arg; do
        case $l in
        *[!0-9]*) pat=$l ;;
        *) pat="$(printf '%02d' "$((10#$l))")-*" ;;
        esac
        # shellcheck disable=SC2254 # $pat is a pattern on purpose
        match=$(for s in $all_slugs; do case $s in $pat) echo "$s" ;; esac; done)
        # shellcheck disable=SC2086 # one slug per word
        [ -n "$match" ] ||
            die "unknown lab '$l' (labs:$(printf ' %s' $all_slugs | sed 's/-[a-z0-9-]*//g'))"
        case " $slugs " in *" $match "*) ;; *) slugs="$slugs $match" ;; esac
    done
    slugs=${slugs# }
fi

case $out in /*) ;; *) out=$PWD/$out ;; esac
[ -d "$(dirname "$out")" ] || die "cannot write $out: no folder $(dirname "$out")"
case $out in
"$ROOT"/*) case ${out#"$ROOT"/} in build/*) ;; *)
    echo "$prog: note: $out is inside the course tree (not in the bundle: *.zip is skipped)" >&2 ;;
    esac ;;
esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/vlab-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
trap 'exit 130' INT TERM HUP

# What goes in: one path per line (no course file has a newline in its name).
list() {
    if command -v git >/dev/null 2>&1 && [ -e "$ROOT/.git" ]; then
        git -C "$ROOT" -c core.fsmonitor=false ls-files --cached --others \
            --exclude-standard
    else
        (cd "$ROOT" && find . \( -name .git -o -name node_modules \
            -o -path ./build -o -path ./slides -o -path ./docker-ci \) -prune \
            -o \( -type f -o -type l \) -print | sed 's|^\./||')
    fi
}
n=0
while IFS= read -r f; do
    case $f in
    build/*|slides/*|docker-ci/*|*/node_modules/*|node_modules/*|.git/*) continue ;;
    *.zip) continue ;;
    esac
    # Deleted but still in git's index: nothing to copy.
    [ -e "$ROOT/$f" ] || [ -L "$ROOT/$f" ] || continue
    mkdir -p "$stage/$(dirname "$f")"
    cp -P -p "$ROOT/$f" "$stage/$f" || die "cannot copy $f"
    n=$((n + 1))
done <<EOF
$(list)
EOF
[ -f "$stage/Makefile" ] || die "the file list has no Makefile (git ls-files failed?)"

cp -p "$here/setup.sh" "$stage/setup.sh"
cp -p "$here/run_autograder" "$stage/run_autograder"
chmod 755 "$stage/setup.sh" "$stage/run_autograder"
cat >"$stage/gradescope.conf" <<EOF
# virtlab on Gradescope: read by setup.sh and run_autograder.
# Written by docker-ci/gradescope/make-bundle.sh; edit and re-upload, or
# rebuild with --labs. One "key=value" per line.
#
# labs: the labs each submission is graded on (slugs of autograder/labs/).
labs=$slugs
# leaderboard=yes adds Gradescope's leaderboard (points, time) to results.json.
leaderboard=no
EOF

rm -f "$out"
if command -v zip >/dev/null 2>&1; then
    # -X: no extra (uid/gid, times) fields; -y: store symlinks as links.
    (cd "$stage" && zip -q -r -X -y "$out" .) || die "zip failed writing $out"
    how=zip
elif command -v python3 >/dev/null 2>&1; then
    python3 - "$stage" "$out" <<'PY' || die "python3 zipfile failed writing $out"
import os, stat, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for top, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            arc = os.path.relpath(path, src)
            st = os.lstat(path)
            info = zipfile.ZipInfo.from_file(path, arc)
            # Unix mode in the high 16 bits: run_autograder must stay
            # executable once unpacked.
            info.external_attr = (st.st_mode & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            if stat.S_ISLNK(st.st_mode):
                z.writestr(info, os.readlink(path))
            else:
                with open(path, "rb") as fh:
                    z.writestr(info, fh.read())
PY
    how="python3 zipfile"
else
    die "neither zip nor python3 is installed: apt-get install zip (or python3)"
fi

size=$(du -k "$out" | cut -f1)
echo "$prog: wrote $out ($n course files, ${size} KiB, with $how)"
echo "$prog: labs graded: $slugs"
echo "$prog: it contains the reference solutions (the grader needs them): keep it private"
