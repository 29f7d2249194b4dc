#!/bin/sh
# lint.sh - check that every C source and header follows .clang-format.
set -eu
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files -co --exclude-standard '*.c' '*.h')
else
    files=$(find . -path ./build -prune -o -name '*.[ch]' -print | sed 's|^\./||')
fi
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
