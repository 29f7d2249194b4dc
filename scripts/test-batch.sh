#!/bin/sh
# test-batch.sh - a class graded several submissions at a time keeps every
# point: three copies of the reference solutions, `vlab-grade --batch -j 3`
# on labs 11 and 12 (minictr: users and cgroups of the host), every total
# full in the gradebook. Without the grader's host-wide turn-taking for
# minictr's tests, lab 12's cgroups (named after minictr's pid, the same
# number in every sandbox) collided and lab 12 lost 3-5 points per student.
set -eu
cd "$(dirname "$0")/.."
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vlab-batch-test-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

for s in alice bob carol; do
    mkdir -p "$TMP/class/$s"
    cp -r solutions/[0-9]* "$TMP/class/$s/"
done
build/bin/vlab-grade --batch "$TMP/class" -j 3 --lab 11 --lab 12 \
    --csv "$TMP/gradebook.csv"
cat "$TMP/gradebook.csv"
# student,<lab>...,total,max,notes: every total must equal its max.
bad=$(awk -F, 'NR > 1 && $(NF-2) != $(NF-1) { print $1 }' "$TMP/gradebook.csv")
rows=$(awk 'NR > 1' "$TMP/gradebook.csv" | wc -l)
if [ "$rows" -ne 3 ] || [ -n "$bad" ]; then
    echo "test-batch: FAILED: $rows students in the gradebook; not full: ${bad:-none}" >&2
    exit 1
fi
echo "test-batch: 3 students graded 3 at a time, every point kept"
