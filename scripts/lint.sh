#!/bin/sh
# lint.sh - check that every C source and header follows .clang-format.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files -co --exclude-standard '*.c' '*.h')
bad=""
for f in $files; do
    [ -f "$f" ] || continue
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then
        bad="$bad $f"
    fi
done
if [ -n "$bad" ]; then
    echo "lint: not formatted as .clang-format says:" >&2
    for f in $bad; do echo "  $f" >&2; done
    echo "lint: fix with: clang-format -i$bad" >&2
    exit 1
fi
echo "lint: $(echo $files | wc -w) files formatted"
