#!/bin/bash
# gradescope.sh - proves the Gradescope autograder bundle works: builds it
# with docker-ci/gradescope/make-bundle.sh (labs 01 and 09), unpacks it into
# a temporary folder laid out like Gradescope's /autograder (source/,
# submission/, results/), builds virtlab there as setup.sh would (`make
# all`, without setup.sh's apt-get: the packages are this machine's), then
# runs run_autograder with AUTOGRADER_ROOT pointing there on:
#   full      the reference of labs 01 and 09, as a repository clone inside
#             one top folder (virtlab/labs/<lab>/...)    -> full score
#   skeleton  the skeletons, as the content of labs/    -> score 0
#   single    vm.c from solutions/ uploaded alone         -> lab 01 full, 09 zero
#   empty     nothing uploaded                            -> 0, says what to upload
#   symlink   labs/ a symlink to the course's solutions/  -> 0 (not graded as the student's)
#   grader    a grader that dies (VLAB_GRADE=/bin/false)  -> 0, "Grader error"
#   broken    a fake grader writing a score that is not the sum of its
#             tests: the checker must refuse that results.json
# and checks each results.json against Gradescope's specification
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/): parsed
# by jq, `score` a number equal to the sum of the tests' scores, every test
# with a name, score and max_score, status and visibility values from the
# spec. Before that, the checker is shown broken files and must reject each
# one, so a checker that accepts anything fails the test.
#
# Needs: the packages of `make deps-core` (gcc, criterion..., jq), /dev/kvm
# for lab 01 and root for lab 09 (as `make grade`). About a minute here.
# GS_KEEP=1 keeps the temporary folder and prints where it is.
set -eu

prog=gradescope.sh
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
fail() { echo "$prog: FAIL: $*" >&2; exit 1; }
step() { echo "$prog: $*"; }

command -v jq >/dev/null 2>&1 || fail "jq is missing: make deps-core (or apt-get install jq)"
[ "$(id -u)" -eq 0 ] || fail "run as root: lab 09's tests and the grader's sandbox need it"
[ -c /dev/kvm ] || fail "/dev/kvm is missing: lab 01's tests need it (see README.md, Requirements)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vlab-gs-test.XXXXXX")
cleanup() {
    if [ -n "${GS_KEEP:-}" ]; then echo "$prog: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- the checker --------------------------------------------------------

# check_results FILE: prints what is wrong and fails, or succeeds silently.
# Gradescope's values: status "passed"/"failed"; visibility and
# stdout_visibility "hidden", "after_due_date", "after_published",
# "visible".
check_results() {
    local f=$1 why
    jq empty "$f" 2>/dev/null || { echo "not valid JSON"; return 1; }
    why=$(jq -r '
        def vis: . == "hidden" or . == "after_due_date" or
                 . == "after_published" or . == "visible";
        def num: type == "number";
        if type != "object" then "the top level is not an object"
        elif (.score | num | not) then "score is missing or not a number"
        elif (.tests | type) != "array" then "tests is missing or not an array"
        elif ([.tests[] | select(type != "object")] | length) > 0
            then "a test is not an object"
        elif ([.tests[] | select((.name | type) != "string" or .name == "")] | length) > 0
            then "a test has no name"
        elif ([.tests[] | select((.score | num | not) or (.max_score | num | not))] | length) > 0
            then "a test has no numeric score or max_score: \([.tests[] | select((.score | num | not) or (.max_score | num | not))][0].name)"
        elif ([.tests[] | select(.score < 0 or .score > .max_score)] | length) > 0
            then "a test scores outside 0..max_score: \([.tests[] | select(.score < 0 or .score > .max_score)][0].name)"
        elif ([.tests[] | select(has("status") and .status != "passed" and .status != "failed")] | length) > 0
            then "a test status is not passed/failed: \([.tests[] | select(has("status") and .status != "passed" and .status != "failed")][0].status)"
        elif ([.tests[] | select(has("visibility") and (.visibility | vis | not))] | length) > 0
            then "a test visibility is not one of Gradescope'"'"'s"
        elif (has("visibility") and (.visibility | vis | not)) then "visibility is not one of Gradescope'"'"'s"
        elif (has("stdout_visibility") and (.stdout_visibility | vis | not))
            then "stdout_visibility is not one of Gradescope'"'"'s"
        elif (has("output") and (.output | type) != "string") then "output is not a string"
        elif ((.score - ([.tests[].score] | add // 0)) | fabs) > 1e-6
            then "score \(.score) is not the sum of the tests'"'"' scores (\([.tests[].score] | add // 0))"
        elif (has("max_score") and (.tests | length) > 0 and
              ((.max_score - ([.tests[].max_score] | add)) | fabs) > 1e-6)
            then "max_score \(.max_score) is not the sum of the tests'"'"' max_score"
        else "" end' "$f")
    [ -z "$why" ] && return 0
    echo "$why"
    return 1
}

# The checker must catch broken files: each of these must be refused.
step "checking the checker on broken results.json files"
good='{"score": 3, "max_score": 5, "stdout_visibility": "visible", "output": "x",
       "tests": [{"name": "a", "score": 3, "max_score": 3, "status": "passed", "visibility": "visible"},
                 {"name": "b", "score": 0, "max_score": 2, "status": "failed", "visibility": "hidden"}]}'
echo "$good" >"$tmp/good.json"
why=$(check_results "$tmp/good.json") || fail "the checker refuses a valid file: $why"
n=0
while IFS='|' read -r label filter; do
    [ -n "$label" ] || continue
    echo "$good" | jq "$filter" >"$tmp/bad.json"
    if why=$(check_results "$tmp/bad.json"); then
        fail "the checker accepted a broken results.json ($label)"
    fi
    n=$((n + 1))
    step "  refused ($label): $why"
done <<'EOF'
score is not the sum|.score = 5
score is a string|.score = "3"
no score|del(.score)
test without name|del(.tests[0].name)
test without max_score|del(.tests[1].max_score)
status not in spec|.tests[1].status = "error"
visibility not in spec|.tests[0].visibility = "public"
stdout_visibility not in spec|.stdout_visibility = "shown"
test over its maximum|.tests[0].score = 4 | .score = 4
EOF
printf '{"score": 0, "tests": [' >"$tmp/bad.json"
why=$(check_results "$tmp/bad.json") && fail "the checker accepted truncated JSON"
step "  refused (truncated JSON): $why"

# ---- the bundle ---------------------------------------------------------

step "building the bundle (labs 01 and 09)"
"$ROOT/docker-ci/gradescope/make-bundle.sh" --labs "01 09" -o "$tmp/bundle.zip" ||
    fail "make-bundle.sh failed (above)"

AG=$tmp/autograder
mkdir -p "$AG/source" "$AG/submission" "$AG/results"
if command -v unzip >/dev/null 2>&1; then
    unzip -q "$tmp/bundle.zip" -d "$AG/source" || fail "unzip failed on the bundle"
else
    # python3 -m zipfile -e does not restore modes: chmod run_autograder below.
    python3 -m zipfile -e "$tmp/bundle.zip" "$AG/source" || fail "python3 zipfile failed on the bundle"
    chmod +x "$AG/source/run_autograder" "$AG/source/setup.sh"
fi
for f in setup.sh run_autograder gradescope.conf Makefile autograder/labs/01-kvm-basics/lab.json \
         solutions/01-kvm-basics/vm.c; do
    [ -f "$AG/source/$f" ] || fail "the bundle has no $f at the right place"
done
[ -x "$AG/source/run_autograder" ] || fail "run_autograder is not executable in the bundle"
for d in build .git slides docker-ci; do
    [ ! -e "$AG/source/$d" ] || fail "the bundle holds $d/, which it should leave out"
done
grep -qx 'labs=01-kvm-basics 09-namespaces' "$AG/source/gradescope.conf" ||
    fail "gradescope.conf does not name labs 01 and 09: $(grep labs= "$AG/source/gradescope.conf")"

# setup.sh's build, without its apt-get (this machine has the packages);
# the test rootfs now, so the first grading does not pay for it.
step "make all in the unpacked bundle (setup.sh's build)"
if ! (cd "$AG/source" && make -j2 all >"$tmp/make.log" 2>&1 && make rootfs >>"$tmp/make.log" 2>&1); then
    tail -n 30 "$tmp/make.log" >&2
    fail "make all in the unpacked bundle failed (above)"
fi

# ---- the submissions ----------------------------------------------------

# run_case NAME [VAR=VALUE...]: grade $AG/submission, then check the
# results.json; the populated submission folder is set up by the caller.
run_case() {
    local name=$1 why
    shift
    rm -rf "$AG/results" && mkdir -p "$AG/results"
    step "case $name: run_autograder"
    if ! env AUTOGRADER_ROOT="$AG" "$@" "$AG/source/run_autograder" \
            >"$tmp/$name.log" 2>&1; then
        tail -n 20 "$tmp/$name.log" >&2
        fail "case $name: run_autograder exited with status != 0 (above)"
    fi
    [ -f "$AG/results/results.json" ] || fail "case $name: no results.json"
    why=$(check_results "$AG/results/results.json") ||
        fail "case $name: results.json breaks Gradescope's spec: $why"
    cp "$AG/results/results.json" "$tmp/$name.json"
    step "case $name: score $(jq -r .score "$tmp/$name.json") of $(jq -r '.max_score // "-"' "$tmp/$name.json"), $(jq '.tests | length' "$tmp/$name.json") tests"
}
reset_submission() { rm -rf "$AG/submission" && mkdir -p "$AG/submission"; }
# expect NAME JQ-EXPR MESSAGE: the case's results.json satisfies JQ-EXPR.
expect() {
    jq -e "$2" "$tmp/$1.json" >/dev/null && return 0
    # What did not pass, with what it printed: the first thing to read.
    jq -r '[.tests[] | select(.status != "passed")][0:5][] |
        "  \(.status) \(.score)/\(.max_score) \(.name)\n    \(.output // "" | .[0:600] | gsub("\n"; "\n    "))"' \
        "$tmp/$1.json" >&2 || true
    fail "case $1: $3 (results.json: score $(jq -c .score "$tmp/$1.json"), output: $(jq -c '.output[0:400]' "$tmp/$1.json"))"
}

# (a) the reference, as a clone of the course inside a top folder.
reset_submission
for s in 01-kvm-basics 09-namespaces; do
    mkdir -p "$AG/submission/virtlab/labs/$s"
    cp "$ROOT/solutions/$s"/*.c "$AG/submission/virtlab/labs/$s/"
done
run_case full
expect full '.score == .max_score and .max_score > 0 and (.tests | length) > 0' \
    "the reference did not get the full score"
expect full '[.tests[] | select(.status != "passed")] | length == 0' "a reference test did not pass"
expect full '.output | contains("virtlab/labs/")' "the output does not say where the labs were found"

# (b) the skeletons, as the content of labs/.
reset_submission
cp -r "$ROOT/labs/01-kvm-basics" "$ROOT/labs/09-namespaces" "$AG/submission/"
run_case skeleton
expect skeleton '.score == 0 and .max_score > 0 and (.tests | length) > 0' \
    "the skeletons did not score 0 with every test listed"

# (c) a single stage file.
reset_submission
cp "$ROOT/solutions/01-kvm-basics/vm.c" "$AG/submission/"
run_case single
max01=$(jq '[.tests[] | select(.name | startswith("01 ")) | .max_score] | add' "$tmp/single.json")
expect single "[.tests[] | select(.name | startswith(\"01 \")) | .score] | add == $max01" \
    "vm.c alone did not get lab 01's full score ($max01)"
expect single '[.tests[] | select(.name | startswith("09 ")) | .score] | add == 0' \
    "lab 09 scored without namespaces.c"
expect single '.output | contains("vm.c graded as 01-kvm-basics/vm.c")' \
    "the output does not say where vm.c went"

# (d) nothing at all.
reset_submission
run_case empty
expect empty '.score == 0' "an empty submission scored"
expect empty '.output | contains("Nothing to grade was found") and contains("vm.c (01-kvm-basics)")' \
    "the output does not explain what to upload"

# (e) labs/ a symlink to the course's own solutions: must not be graded as
# the student's work.
reset_submission
ln -s "$AG/source/solutions" "$AG/submission/labs"
run_case symlink
expect symlink '.score == 0' "a symlink to the reference was graded as the student's work"

# (f) the grader itself fails: a results.json still, score 0, says so.
reset_submission
cp "$ROOT/solutions/01-kvm-basics/vm.c" "$AG/submission/"
run_case grader VLAB_GRADE=/bin/false
expect grader '.score == 0 and (.tests | length) == 0 and (.output | contains("Grader error"))' \
    "a failing grader did not give a score-0 results.json saying why"

# (g) the checker on a real run: a grader that writes a results.json whose
# score is not the sum of its tests' scores goes through run_autograder
# (which checks only that it parses); the checker must refuse it.
cat >"$tmp/fake-grade" <<'FAKE'
#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = --json ] && out=$2; shift; done
printf '{"score": 99, "tests": [{"name": "t", "score": 1, "max_score": 1, "status": "passed"}]}\n' >"$out"
exit 1
FAKE
chmod +x "$tmp/fake-grade"
rm -rf "$AG/results" && mkdir -p "$AG/results"
env AUTOGRADER_ROOT="$AG" VLAB_GRADE="$tmp/fake-grade" "$AG/source/run_autograder" \
    >"$tmp/broken.log" 2>&1 || fail "case broken: run_autograder failed (see $tmp/broken.log)"
if why=$(check_results "$AG/results/results.json"); then
    fail "case broken: the checker accepted a results.json whose score is not the sum of its tests"
fi
step "case broken: a grader's inconsistent results.json is refused: $why"

step "ok: the bundle builds, run_autograder grades every case, each results.json follows Gradescope's spec"
