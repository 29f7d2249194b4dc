#!/bin/sh
# test-hostile.sh - grade every hostile submission of autograder/hostile/
# and check the grader stays up, scores it as its expected.json says and
# prints the message it names (see autograder/hostile/README.md).
# Needs root (the sandbox's namespaces) and /dev/kvm (lab 01).
# HOSTILE_CASES="segfault network" grades only those; HOSTILE_TIMEOUT sets
# the lab's limit (default 15 s).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
GRADE=$ROOT/build/bin/vlab-grade
LIMIT=${HOSTILE_TIMEOUT:-15}
out=$(mktemp -d "${TMPDIR:-/tmp}/vlab-hostile-XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
failed=0

# A JSON field of expected.json, without a JSON tool: one field per line.
field() {
    sed -n "s/^ *\"$2\": *\"\\{0,1\\}\\([^\",]*\\)\"\\{0,1\\},\\{0,1\\}$/\\1/p" "$1"
}

tests_sum=$(sha256sum labs/01-kvm-basics/tests/*.c)
rm -f /tmp/vlab-hostile-was-here "$ROOT/hostile-was-here"
# The cases are made from the current reference (autograder/hostile/).
python3 autograder/hostile/make-cases.py "$out/cases" || exit 1
for dir in "$out"/cases/*/; do
    case=$(basename "$dir")
    if [ -n "${HOSTILE_CASES:-}" ]; then
        case " $HOSTILE_CASES " in *" $case "*) ;; *) continue ;; esac
    fi
    exp=$dir/expected.json
    [ -f "$exp" ] || continue
    lab=$(field "$exp" lab)
    start=$(date +%s)
    VLAB_HOSTILE_ROOT=$ROOT "$GRADE" --submission "$dir" --lab "$lab" \
        --timeout "$LIMIT" >"$out/$case.txt" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    points=$(sed -n 's/^Total: \([0-9.]*\)\/.*/\1/p' "$out/$case.txt")
    why=""
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        why="the grader exited with status $rc"
    elif [ -z "$points" ]; then
        why="no Total line in the report"
    fi
    want=$(field "$exp" points)
    most=$(field "$exp" max_points)
    msg=$(field "$exp" message)
    if [ -z "$why" ] && [ -n "$want" ] &&
        ! awk "BEGIN{exit !($points == $want)}"; then
        why="scored $points, expected $want"
    fi
    if [ -z "$why" ] && [ -n "$most" ] &&
        ! awk "BEGIN{exit !($points <= $most)}"; then
        why="scored $points, expected at most $most"
    fi
    if [ -z "$why" ] && [ -n "$msg" ] && ! grep -qF -- "$msg" "$out/$case.txt"; then
        why="the report does not say \"$msg\""
    fi
    if [ -z "$why" ] && [ -e /tmp/vlab-hostile-was-here ]; then
        why="a file it wrote to /tmp is on the machine"
    fi
    if [ -z "$why" ] && [ -e "$ROOT/hostile-was-here" ]; then
        why="a file it wrote to ROOT is there"
    fi
    if [ -z "$why" ] &&
        [ "$(sha256sum labs/01-kvm-basics/tests/*.c)" != "$tests_sum" ]; then
        why="the course's test files changed"
    fi
    if [ -n "$why" ]; then
        echo "FAIL  $case (${secs} s): $why"
        sed 's/^/      | /' "$out/$case.txt" | head -40
        failed=$((failed + 1))
    else
        echo "ok    $case: ${points} points, ${secs} s${msg:+, says \"$msg\"}"
    fi
    rm -f /tmp/vlab-hostile-was-here "$ROOT/hostile-was-here"
done
[ $failed -eq 0 ]
