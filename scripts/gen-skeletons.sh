#!/bin/sh
# gen-skeletons.sh - write the labs/ skeletons from the solutions/ master
# copies (DESIGN.md, "One source of truth for skeletons").
#
# In a solution file, the code between
#     /* SOLUTION BEGIN */
#     /* stub: <C statement>; */      (zero or more)
#     ...the reference code...
#     /* SOLUTION END */
# becomes, in the skeleton, the stub statements alone, at the same indent.
# Everything else, the TODO comments included, is copied as it is.
#
#   scripts/gen-skeletons.sh          rewrite labs/NN-*/ stage files
#   scripts/gen-skeletons.sh --check  fail if a committed skeleton differs
set -eu
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = "--check" ] && check=1

generate() {
    awk -v file="$1" '
    /\/\* SOLUTION BEGIN \*\// {
        if (inside) { print file ":" NR ": nested SOLUTION BEGIN" > "/dev/stderr"; exit 1 }
        inside = 1; begin = NR; next
    }
    /\/\* SOLUTION END \*\// {
        if (!inside) { print file ":" NR ": SOLUTION END without BEGIN" > "/dev/stderr"; exit 1 }
        inside = 0; next
    }
    inside && /^[ \t]*\/\* stub: .*\*\/[ \t]*$/ {
        line = $0
        sub(/\/\* stub: /, "", line)
        sub(/ *\*\/[ \t]*$/, "", line)
        print line
        next
    }
    !inside { print }
    END {
        if (inside) { print file ":" begin ": SOLUTION BEGIN never ends" > "/dev/stderr"; exit 1 }
    }' "$1"
}

status=0
for sol in solutions/[0-9][0-9]-*/*.[ch]; do
    [ -e "$sol" ] || continue
    lab=labs/${sol#solutions/}
    tmp=$(mktemp)
    if ! generate "$sol" > "$tmp"; then
        rm -f "$tmp"
        exit 1
    fi
    if [ $check -eq 1 ]; then
        if ! cmp -s "$tmp" "$lab"; then
            echo "skeleton drift: $lab differs from what $sol generates" >&2
            diff -u "$lab" "$tmp" >&2 || true
            status=1
        fi
        rm -f "$tmp"
    else
        mkdir -p "$(dirname "$lab")"
        mv "$tmp" "$lab"
        echo "wrote $lab"
    fi
done
if [ $check -eq 1 ] && [ $status -eq 0 ]; then
    echo "skeletons: labs/ matches solutions/"
fi
exit $status
