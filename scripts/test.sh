#!/bin/sh
# test.sh - everything CI runs (`make test`). Each step prints its own
# output; the last line counts the steps that passed and failed.
set -u
cd "$(dirname "$0")/.."
B=build
passed=0
failed=0
skipped=0
failures=""

# Steps that run guests need /dev/kvm; without it they are skipped, with
# the reason, never counted as passed.
kvm_reason=""
if [ ! -e /dev/kvm ]; then
    kvm_reason="no /dev/kvm on this machine"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    kvm_reason="no access to /dev/kvm (join the kvm group)"
fi

# Each step's wall-clock time is printed after it, so the 20-minute budget
# of `make test` can be watched step by step.
step() {
    name=$1
    shift
    echo
    echo "==== $name"
    t0=$(date +%s)
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures="$failures\n  - $name"
    fi
    echo "---- $name: $(($(date +%s) - t0)) s"
}

step "skeletons match solutions" scripts/gen-skeletons.sh --check
step "lint (clang-format)" scripts/lint.sh
step "libvirtlab tests (ASan/UBSan)" make -s test-lib
step "autograder tests (ASan/UBSan)" make -s test-grader
step "slides: build, check in headless Chromium, PDF" make -s test-slides
kvm_step() {
    if [ -n "$kvm_reason" ]; then
        echo
        echo "==== $1"
        echo "SKIPPED: $kvm_reason (run \`make doctor\`)"
        skipped=$((skipped + 1))
        return
    fi
    step "$@"
}

kvm_step "minivm command line" scripts/test-minivm-cli.sh
# The fuzzers need clang's libFuzzer (`make deps` installs it), no KVM.
fuzz_name="libFuzzer harnesses, 20 s each (fuzz/, ASan/UBSan)"
if fuzz_reason=$(fuzz/run.sh --check); then
    step "$fuzz_name" make -s test-fuzz
else
    echo
    echo "==== $fuzz_name"
    echo "SKIPPED: $fuzz_reason"
    skipped=$((skipped + 1))
fi
# minictr's steps need root (namespaces, mounts, cgroups).
root_step() {
    if [ "$(id -u)" -ne 0 ]; then
        echo
        echo "==== $1"
        echo "SKIPPED: needs root (containers, mounts and cgroups)"
        skipped=$((skipped + 1))
        return
    fi
    step "$@"
}
root_step "minictr command line, no leftovers" scripts/test-minictr-cli.sh
root_step "security suite: escape attempts (tests/security)" make -s test-security
# docker-ci/: every YAML file linted and checked against its schema, and the
# Gradescope bundle graded on sample submissions (labs 01 and 09: root).
root_step "docker-ci: YAML and workflow checks, the Gradescope bundle" \
    make -s test-docker-ci
# cgroup v2 for real: this machine may be v1/hybrid, so libvirtlab's cgroup
# tests and lab 12's run again inside QEMU on Debian's kernel. Exit 77
# means QEMU or the kernel cannot be had here: a skip, with the reason.
cg2_step() {
    echo
    echo "==== cgroup v2 tests in QEMU (libvirtlab, lab 12)"
    scripts/test-cgroup2.sh
    case $? in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1))
       failures="$failures\n  - cgroup v2 tests in QEMU" ;;
    esac
}
cg2_step
step "vlab-doctor --json" scripts/test-doctor.sh
step "install and pkg-config" scripts/test-install.sh
# Grading is most of the time of `make test`, so it runs as two vlab-grade
# processes side by side, one per core, when the labs allow it: minictr's
# labs never run at the same time as each other (their tests share the
# host's users and cgroups) nor, in the full-score run, beside anything (lab
# 12 measures CPU time and skips when the machine is too busy); minivm's
# labs are independent of each other (each test has its own KVM guest).
# labs_where GLOB [GLOB...]: "--lab SLUG" for each lab whose slug matches.
labs_where() {
    for d in autograder/labs/*/; do
        slug=$(basename "$d")
        for glob in "$@"; do
            # shellcheck disable=SC2254 # the glob is the point
            case $slug in $glob) printf ' --lab %s' "$slug" ;; esac
        done
    done
}
# side_by_side "LABS1" "LABS2" OPTIONS...: vlab-grade OPTIONS on each set
# at once; both reports shown whole; fails if either fails. An empty set is
# not run (vlab-grade without --lab would grade every lab).
side_by_side() {
    one=$1 two=$2
    shift 2
    rc1=0 rc2=0 pid=
    : >$B/grade-1.log
    : >$B/grade-2.log
    if [ -n "$one" ]; then
        # shellcheck disable=SC2086 # one word per --lab and slug
        $B/bin/vlab-grade "$@" $one >$B/grade-1.log 2>&1 &
        pid=$!
    fi
    if [ -n "$two" ]; then
        # shellcheck disable=SC2086
        $B/bin/vlab-grade "$@" $two >$B/grade-2.log 2>&1
        rc2=$?
    fi
    if [ -n "$pid" ]; then
        wait $pid
        rc1=$?
    fi
    cat $B/grade-1.log $B/grade-2.log
    [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]
}
minivm_labs=$(labs_where '0[1-8]-*')
minictr_labs=$(labs_where '09-*' '1[0-6]-*')
# lab 07 boots Debian's kernel (about a minute) beside the other minivm
# labs; minictr's labs then run alone.
reference_full() {
    side_by_side "$(labs_where '07-*')" \
        "$(labs_where '0[1-68]-*')" --submission solutions --expect full &&
        side_by_side "" "$minictr_labs" --submission solutions --expect full
}
kvm_step "reference solutions score 100%" reference_full
kvm_step "untouched skeletons score 0%, grader finishes cleanly" \
    side_by_side "$minivm_labs" "$minictr_labs" --submission labs --expect zero
# Mutants: minivm's labs in one half, minictr's (88 mutants since labs
# 13-16, each running containers) in the other.
kvm_step "every mutant loses its points" side_by_side \
    "$minivm_labs" "$minictr_labs" --mutants
# Hostile submissions (autograder/hostile/): the sandbox needs root.
if [ "$(id -u)" -eq 0 ]; then
    kvm_step "hostile submissions: right score, grader stays up" \
        scripts/test-hostile.sh
else
    root_step "hostile submissions: right score, grader stays up" true
fi
kvm_step "report formats from a real run (JUnit, TAP, classroom, ...)" \
    scripts/test-formats.sh
# A class graded three at a time: minictr's tests take turns (root).
root_step "a class graded 3 at a time keeps every point (labs 11, 12)" \
    scripts/test-batch.sh
# about 1-2 minutes: the release, `make all` in it, labs 01 and 09 graded
kvm_step "student release: no solution source, builds, grades 0 and full" \
    scripts/test-student-release.sh

echo
if [ $failed -ne 0 ]; then
    printf "failed steps:$failures\n"
fi
echo "steps: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
