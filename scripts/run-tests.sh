#!/bin/sh
# run-tests.sh - run Criterion test binaries, each to the end, and fail if
# any of them failed. Used by `make test-lib` and `make test-grader`.
set -u
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=""
for t in "$@"; do
    echo "== $(basename "$t")"
    "$t" --short-filename || failed="$failed $(basename "$t")"
done
if [ -n "$failed" ]; then
    echo "FAILED:$failed" >&2
    exit 1
fi
