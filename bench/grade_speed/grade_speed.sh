#!/bin/bash
# grade_speed - how long grading takes, and what batch mode's workers buy.
#
# 1. For context: the time to grade every lab of the reference solutions
#    (vlab-grade --submission solutions), one run.
# 2. The measure: a class of COPIES copies of the solutions, restricted to
#    a couple of cheap labs (LABS), graded with `vlab-grade --batch -j 1`
#    (the baseline) and `-j 2`, in the same run, alternating j1, j2, j2, j1
#    over ROUNDS rounds; each side's time is its median. The ratio is
#    time(-j 2) / time(-j 1), goal < 0.8 on two cores or more.
# Exit status: 0 within the goal, 1 over it, 2 on an error (a batch that did
# not grade every copy, a run that failed), 77 (skipped) with one core.
# Options: --copies N (4), --rounds R (2), --lab NN (repeatable; 01 03),
# --no-all (skip step 1), --verbose.
set -uo pipefail

ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
GRADE=$ROOT/build/bin/vlab-grade
COPIES=4
ROUNDS=2
LABS=()
ALL=1
VERBOSE=0
GOAL=0.8

while [ $# -gt 0 ]; do
    case $1 in
    --copies) COPIES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --lab) LABS+=("$2"); shift 2 ;;
    --no-all) ALL=0; shift ;;
    --verbose) VERBOSE=1; shift ;;
    *) echo "grade_speed: unknown option $1" >&2; exit 2 ;;
    esac
done
[ ${#LABS[@]} -gt 0 ] || LABS=(01 03)

[ -x "$GRADE" ] || { echo "grade_speed: $GRADE is missing: run make all" >&2; exit 2; }
if [ "$(nproc)" -lt 2 ]; then
    echo "SKIP: one core: two workers cannot run side by side"
    exit 77
fi
if [ ! -e /dev/kvm ]; then
    echo "SKIP: no /dev/kvm: the labs' tests would only skip"
    exit 77
fi

# Other jobs on the machine take the cores a second worker would use: the
# load average is printed with the result, to read the ratio by.
LOAD=$(cut -d' ' -f1 /proc/loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vlab-bench-grade-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

if [ $ALL -eq 1 ]; then
    t0=$(now)
    "$GRADE" --submission "$ROOT/solutions" >"$TMP/all.log" 2>&1
    rc=$?
    t1=$(now)
    [ $rc -eq 0 ] || { echo "grade_speed: grading the solutions failed (status $rc):" >&2; tail -5 "$TMP/all.log" >&2; exit 2; }
    printf '  all labs of the reference solutions: %.1f s (%s)\n' \
        "$(secs "$t0" "$t1")" "$(grep -o 'Total: [^ ]* points' "$TMP/all.log" | tail -1)"
fi

mkdir "$TMP/class"
for i in $(seq 1 "$COPIES"); do
    mkdir "$TMP/class/student$i"
    for l in "${LABS[@]}"; do
        cp -r "$ROOT"/solutions/"$l"-* "$TMP/class/student$i/"
    done
done
LAB_ARGS=()
for l in "${LABS[@]}"; do LAB_ARGS+=(--lab "$l"); done

# one batch with -j $1; prints its seconds
batch() {
    local t0 t1
    t0=$(now)
    "$GRADE" --batch "$TMP/class" -j "$1" "${LAB_ARGS[@]}" \
        --csv "$TMP/gb-$1.csv" >"$TMP/batch.log" 2>&1 || {
        echo "grade_speed: the batch with -j $1 did not grade every copy:" >&2
        tail -5 "$TMP/batch.log" >&2
        exit 2
    }
    t1=$(now)
    secs "$t0" "$t1"
}

j1=() j2=()
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then a=$(batch 1); b=$(batch 2); else b=$(batch 2); a=$(batch 1); fi
    j1+=("$a") j2+=("$b")
    [ $VERBOSE -eq 0 ] || printf '  round %d: -j 1 %.1f s, -j 2 %.1f s\n' "$r" "$a" "$b"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
m1=$(median "${j1[@]}")
m2=$(median "${j2[@]}")
ratio=$(awk -v a="$m1" -v b="$m2" 'BEGIN {printf "%.3f", b / a}')
ok=$(awk -v r="$ratio" -v g="$GOAL" 'BEGIN {print (r < g) ? 1 : 0}')
printf 'batch grading: -j 1 %.2f s/submission, -j 2 %.2f s/submission, ratio %.3f (goal < %s): %s\n' \
    "$(awk -v t="$m1" -v n="$COPIES" 'BEGIN {print t / n}')" \
    "$(awk -v t="$m2" -v n="$COPIES" 'BEGIN {print t / n}')" "$ratio" "$GOAL" \
    "$([ "$ok" = 1 ] && echo OK || echo 'OVER GOAL')"
printf '  %d copies of the solutions, labs %s, %d round(s), %d cores, load average %s at the start\n' \
    "$COPIES" "${LABS[*]}" "$ROUNDS" "$(nproc)" "$LOAD"
[ "$ok" = 1 ] || exit 1
