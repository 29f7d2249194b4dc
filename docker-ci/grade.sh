#!/bin/bash
# grade.sh - the grader image's entry point (docker-ci/Dockerfile).
#
# usage (inside the container): grade.sh [vlab-grade options...]
#   e.g. docker run ... virtlab-grader --lab 01 --lab 02
#
# Grades /submission with vlab-grade and writes to /results:
#   report.txt     the terminal report (also printed)
#   results.json   Gradescope's results format
#   junit.xml      JUnit XML (CI test reports)
#   classroom.json GitHub Classroom's runner result
#   summary.md     a Markdown summary (a CI job summary)
# and ends with one line: "score: X/Y (labs: ...)".
#
# /submission is either a folder shaped like the course's labs/
# (/submission/01-kvm-basics/...) or a student's repository holding one
# (/submission/labs/01-kvm-basics/...). It is only read: mount it :ro.
# Options are passed to vlab-grade as they are (--lab NN, repeatable, is
# the useful one; see autograder/README.md); the report options above are
# this script's.
#
# Exit status: 0 graded, whatever the score (the score is in the reports:
# a CI job should not go red because a student lost points); 2 the grade
# could not be made: no submission, /results not writable, the container
# lacks what the selected labs need (the message says which `docker run`
# flags are missing), or vlab-grade itself reported an error.
#
# Run flags (docker or podman; tried with podman 4.3 + runc on a cgroup
# v1/v2 hybrid host; the checks below, need_*, say why each is needed):
#   every lab: the grader's sandbox makes PID, mount and network namespaces
#     around the tests and brings their loopback up: CAP_SYS_ADMIN and
#     CAP_NET_ADMIN, which containers drop.
#   minivm, labs 01-08:  --device /dev/kvm --cap-add SYS_ADMIN
#     --cap-add NET_ADMIN  (cgroupfs stays read-only: the tests then run
#     without the grader's memory/task limits, and the report says so;
#     on a Docker host with AppArmor also --security-opt apparmor=unconfined,
#     whose docker-default profile denies mount())
#   minictr, labs 09-16:  --privileged  (all capabilities, no seccomp filter,
#     no AppArmor profile, a read-write /sys/fs/cgroup for lab 12 and the
#     limits). It implies --security-opt seccomp=unconfined and
#     apparmor=unconfined and gives every host device, /dev/kvm included:
#     --privileged alone grades every lab. --cgroupns=host and =private
#     both work (libvirtlab finds its cgroup through mountinfo's root).
#   --network none is advisable: grading needs no network.
# VLAB_GRADE_ANYWAY=1 grades even when a check fails (the affected tests
# then fail or skip, and the reports say why).
set -eu

prog=grade.sh
ROOT=${VLAB_ROOT:-/opt/virtlab}
SUB=${VLAB_SUBMISSION:-/submission}
OUT=${VLAB_RESULTS:-/results}
GRADE=$ROOT/build/bin/vlab-grade

err() { echo "$prog: error: $*" >&2; }
fail() {
    err "$@"
    exit 2
}

[ -x "$GRADE" ] || fail "$GRADE is missing: the image was not built" \
    "completely (make all in the Dockerfile)"

# --- the submission ---------------------------------------------------------
# A lab folder is NN-slug (01-kvm-basics); a repository has them in labs/.
has_labs() {
    local d
    for d in "$1"/[0-9][0-9]-*/; do
        [ -d "$d" ] && return 0
    done
    return 1
}
[ -d "$SUB" ] || fail "no submission: mount the student's work on $SUB" \
    "(-v \"\$PWD/student:$SUB:ro\")"
if has_labs "$SUB/labs"; then
    SUBDIR=$SUB/labs
elif has_labs "$SUB"; then
    SUBDIR=$SUB
else
    fail "$SUB holds no lab folder (NN-name, like 01-kvm-basics), neither" \
        "in $SUB/ nor in $SUB/labs/: mount the student's labs folder or" \
        "repository there"
fi

# --- the results folder -----------------------------------------------------
mkdir -p "$OUT" 2>/dev/null || true
probe=$OUT/.grade-sh-write-test.$$
if ! : >"$probe" 2>/dev/null; then
    fail "cannot write to $OUT: mount a writable folder there" \
        "(-v \"\$PWD/results:$OUT\"; not :ro)"
fi
rm -f "$probe"

# --- which labs, which families ---------------------------------------------
# The labs asked for with --lab (NN, N or the slug), or all of them; each
# lab's manifest says its program (minivm or minictr).
wanted=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
    --lab) wanted+=("${args[i + 1]:-}") ;;
    --lab=*) wanted+=("${args[i]#--lab=}") ;;
    esac
done
programs=
for manifest in "$ROOT"/autograder/labs/*/lab.json; do
    slug=$(basename "$(dirname "$manifest")")
    num=${slug%%-*}
    if [ ${#wanted[@]} -gt 0 ]; then
        hit=
        for w in "${wanted[@]}"; do
            case $w in
            "$slug" | "$num" | "${num#0}") hit=1 ;;
            esac
        done
        [ -n "$hit" ] || continue
    fi
    p=$(jq -r '.program // empty' "$manifest" 2>/dev/null || true)
    case " $programs " in
    *" $p "*) ;;
    *) programs="$programs $p" ;;
    esac
done

# --- what the container offers ----------------------------------------------
# Each check prints the missing flag and why; the caller collects them.
missing=()
miss() { missing+=("$*"); }

# Effective capability bit N set? (/proc/self/status CapEff, hexadecimal)
has_cap() {
    local hex
    hex=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
    [ $(((0x$hex >> $1) & 1)) -eq 1 ]
}
CAP_SYS_ADMIN=21
CAP_NET_ADMIN=12

# minivm: the tests open /dev/kvm and run guests with it. Containers get
# no host devices unless asked; --device gives this one (read-write).
need_kvm() {
    if [ ! -c /dev/kvm ]; then
        miss "--device /dev/kvm: minivm labs (01-08) run guests" \
            "with KVM; containers see no host device unless given one" \
            "(and the host itself needs /dev/kvm: KVM enabled, or a" \
            "runner with nested virtualization)"
    elif ! { : <>/dev/kvm; } 2>/dev/null; then
        miss "read-write /dev/kvm: /dev/kvm is there but cannot be" \
            "opened read-write (--device /dev/kvm:/dev/kvm:rwm; on the" \
            "host, check its mode and that the runtime may use it)"
    fi
}

# The grader's sandbox (every lab) and minictr's tests (labs 09-16) make
# namespaces (PID, mount, network, UTS, IPC) and mount /proc and tmpfs in
# them: that needs CAP_SYS_ADMIN, which containers drop; the default
# seccomp profile of Docker and podman refuses unshare()/mount() without
# it; and Docker's AppArmor profile (docker-default, Ubuntu hosts) denies
# mount() even with it. --privileged lifts all three (all capabilities,
# no seccomp filter, no AppArmor profile, every device, a read-write
# /sys/fs/cgroup).
need_namespaces() {
    local why=$* out
    if out=$(unshare --mount --pid --net --uts --ipc --fork --mount-proc \
        ip link set lo up 2>&1); then
        return 0
    fi
    if ! has_cap $CAP_SYS_ADMIN; then
        miss "--privileged (or --cap-add SYS_ADMIN): $why need" \
            "CAP_SYS_ADMIN to make namespaces and mount in them; the" \
            "container has not got it (unshare said: $out)"
    elif ! has_cap $CAP_NET_ADMIN; then
        miss "--privileged (or --cap-add NET_ADMIN): $why bring up" \
            "the loopback interface of a new network namespace, which" \
            "needs CAP_NET_ADMIN (ip said: $out)"
    elif [ "$(awk '/^Seccomp:/ { print $2 }' /proc/self/status)" = 2 ]; then
        miss "--security-opt seccomp=unconfined (or --privileged):" \
            "$why call unshare() and mount(), which the container's" \
            "seccomp filter refuses (unshare said: $out)"
    elif [ -r /proc/self/attr/current ] &&
        ! grep -q '^unconfined' /proc/self/attr/current 2>/dev/null; then
        miss "--security-opt apparmor=unconfined (or --privileged):" \
            "$why mount /proc and tmpfs, which the AppArmor profile" \
            "$(cat /proc/self/attr/current 2>/dev/null) denies" \
            "(unshare said: $out)"
    else
        miss "--privileged: $why cannot make namespaces here" \
            "(unshare said: $out)"
    fi
}

# minictr labs put processes in cgroups of their own (lab 12: memory,
# pids and CPU limits; the grader: memory and task limits around the
# tests). A container's /sys/fs/cgroup is mounted read-only unless
# --privileged. vlab-doctor answers with libvirtlab's own logic (the
# process's cgroup from /proc/self/cgroup, found through the cgroup
# mounts of /proc/self/mountinfo, writable or not): so the cgroup
# namespace does not matter, --cgroupns=host and =private both work
# (libvirtlab takes the mount's root off the path).
need_cgroups() {
    local doc=$ROOT/build/bin/vlab-doctor line
    line=$("$doc" --json 2>/dev/null | jq -r '.checks[] |
        select(.id == "cgroup.controllers") | "\(.status) \(.summary)"' \
        2>/dev/null || true)
    case $line in
    ok*) ;;
    "") miss "cgroups: vlab-doctor could not check them ($doc --json)" ;;
    *)
        miss "--privileged: minictr labs (09-16, lab 12 above all) and the" \
            "grader's limits create cgroups, but the container's cgroups" \
            "are not writable (vlab-doctor: ${line#* }): cgroupfs is" \
            "mounted read-only in a container unless --privileged"
        ;;
    esac
}

case " $programs " in
*" minivm "*)
    need_kvm
    ;;
esac
case " $programs " in
*" minictr "*)
    need_namespaces "minictr labs (09-16) and the grader's sandbox"
    need_cgroups
    ;;
*)
    need_namespaces "the grader's sandbox (PID, mount and network" \
        "namespaces around the tests)"
    ;;
esac
if [ ${#missing[@]} -gt 0 ]; then
    err "this container cannot grade${programs:+ the$programs labs}:"
    for m in "${missing[@]}"; do
        echo "  - $m" >&2
    done
    echo "  run flags: minivm labs (01-08) need --device /dev/kvm" \
        "--cap-add SYS_ADMIN --cap-add NET_ADMIN; minictr labs (09-16)" \
        "need --privileged (enough for every lab; see" \
        "docker-ci/grade.sh)" >&2
    if [ -z "${VLAB_GRADE_ANYWAY:-}" ]; then
        echo "  (VLAB_GRADE_ANYWAY=1 grades anyway: the tests that need" \
            "them then fail or skip)" >&2
        exit 2
    fi
    echo "$prog: VLAB_GRADE_ANYWAY set: grading anyway" >&2
fi

# --- grading ----------------------------------------------------------------
# A clean ROOT (the image's own tree) and the submission's stage files: the
# tests and rubric are the course's (autograder/README.md, "In CI").
rm -f "$OUT/report.txt" "$OUT/results.json" "$OUT/junit.xml" \
    "$OUT/classroom.json" "$OUT/summary.md"
set +e
"$GRADE" --root "$ROOT" --submission "$SUBDIR" \
    --json "$OUT/results.json" --junit "$OUT/junit.xml" \
    --classroom "$OUT/classroom.json" --markdown="$OUT/summary.md" \
    "$@" >"$OUT/report.txt"
status=$?
set -e
cat "$OUT/report.txt"

case $status in
0 | 1) ;; # graded: 1 only means some test did not pass
*)
    if [ $status -gt 128 ]; then
        err "vlab-grade was interrupted (signal $((status - 128)))"
    else
        err "vlab-grade reported an error (exit status $status, above):" \
            "the score cannot be trusted"
    fi
    exit 2
    ;;
esac

score=$(jq -r '"\(.score)/\(.max_score // ([.tests[].max_score] | add))"' \
    "$OUT/results.json" 2>/dev/null || true)
[ -n "$score" ] || fail "vlab-grade wrote no readable $OUT/results.json"
echo "score: $score (reports in $OUT: report.txt results.json junit.xml" \
    "classroom.json summary.md)"
exit 0
