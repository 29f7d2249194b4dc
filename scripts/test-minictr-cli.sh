#!/bin/sh
# test-minictr-cli.sh - the minictr command as a user meets it: output, exit
# statuses and messages on the reference build and on the skeleton, and,
# after every run, failed or not, that nothing was left behind: no mount,
# no cgroup minictr-<pid>, no process of the container.
#
# Runs as root (containers, cgroups). Needs `make all rootfs`.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MINICTR=$ROOT/build/bin/minictr
SKELETON=$ROOT/build/labs/minictr
ROOTFS=$ROOT/build/rootfs

if [ "$(id -u)" -ne 0 ]; then
    echo "test-minictr-cli: needs root (containers and cgroups)" >&2
    exit 2
fi
# Our own session: whatever a container leaves running keeps our session
# id, so leftovers are ours to find (other jobs may run containers too).
if [ -z "${MCT_CLI_SESSION:-}" ]; then
    MCT_CLI_SESSION=1 exec setsid -w "$0" "$@"
fi
SID=$(ps -o sid= -p $$ | tr -d ' ')

[ -x "$MINICTR" ] && [ -x "$ROOTFS/bin/vlab-probe" ] || {
    echo "test-minictr-cli: run make all rootfs first" >&2
    exit 2
}
make -s -C labs LAB=09 >/dev/null || exit 1 # the skeleton's minictr
tmp=$(mktemp -d /tmp/minictr-cli.XXXXXX)
trap 'rm -rf --one-file-system "$tmp"' EXIT
passed=0
failed=0

# A rootfs copy to break on purpose: a file that is not executable.
cp -a "$ROOTFS" "$tmp/rootfs"
printf 'not a program\n' >"$tmp/rootfs/notexec"
chmod 644 "$tmp/rootfs/notexec"
: >"$tmp/a-file"

mounts_before=$(wc -l </proc/self/mountinfo)

# What a run may leave behind; prints one line per leftover.
leftovers() {
    pid=$1
    for d in /sys/fs/cgroup/virtlab/minictr-"$pid" \
        /sys/fs/cgroup/*/virtlab/minictr-"$pid"; do
        [ -d "$d" ] && echo "cgroup left: $d"
    done
    n=$(wc -l </proc/self/mountinfo)
    [ "$n" -ne "$mounts_before" ] &&
        echo "mounts: $n in the host's namespace, $mounts_before before"
    grep -q " $tmp" /proc/self/mountinfo && echo "a mount left under $tmp"
    # Container processes: ours by session, running the probe or busybox.
    sleep 0.1
    ps -e -o sid=,pid=,args= >"$tmp/ps"
    awk -v s="$SID" '$1 == s && / (\/bin\/)?(vlab-probe|sleep|sh -c)/' \
        "$tmp/ps" | grep -v "awk" | sed 's/^/process left: /'
}

# expect NAME STATUS PATTERN -- COMMAND...: run COMMAND, check its exit
# status, that PATTERN (grep -E) appears in its stdout or stderr, and that
# nothing was left behind.
expect() {
    name=$1 want=$2 pattern=$3
    shift 4
    "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    wait $pid
    got=$?
    left=$(leftovers $pid)
    if [ "$got" -eq "$want" ] && [ -z "$left" ] &&
        { [ -z "$pattern" ] ||
            cat "$tmp/out" "$tmp/err" | grep -qE -- "$pattern"; }; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name: status $got (want $want), pattern /$pattern/"
        [ -n "$left" ] && echo "$left" | sed 's/^/     ! /'
        sed 's/^/     | /' "$tmp/out" "$tmp/err" | head -15
    fi
}

R="run --rootfs $ROOTFS"
P=/bin/vlab-probe

# the happy path
expect "a command runs in the container" 0 "^args=hello world$" -- \
    $MINICTR $R -- $P echo hello world
expect "hostname is minictr by default" 0 "^hostname=minictr$" -- \
    $MINICTR $R -- $P env
expect "--hostname sets it" 0 "^hostname=box$" -- \
    $MINICTR $R --hostname box -- $P env
expect "the command is PID 2 under minictr's PID 1" 0 "^self_pid=2$" -- \
    $MINICTR $R -- $P pid1
expect "only lo, and it is up" 0 "^netifs=lo$" -- $MINICTR $R -- $P env
expect "--net host shares the host's interfaces" 0 "^netifs=.*lo.*,|^netifs=.*,.*lo" -- \
    $MINICTR $R --net host -- $P env
expect "a shell pipeline in the container" 0 "^3$" -- \
    $MINICTR $R -- /bin/sh -c 'echo a b c | wc -w'
expect "the command's exit code is minictr's" 42 "" -- $MINICTR $R -- $P exit 42
expect "a command killed by SIGKILL: 137" 137 "" -- $MINICTR $R -- $P kill KILL
expect "a command killed by SIGSEGV: 139" 139 "" -- $MINICTR $R -- $P kill SEGV
expect "zombies are reaped" 0 "^zombies=0$" -- $MINICTR $R -- $P zombies 10
expect "-v says each step" 0 "minictr: ready: running /bin/vlab-probe" -- \
    $MINICTR $R -v -- $P exit 0
expect "options after run, command without --" 0 "^args=x$" -- \
    $MINICTR run --hostname h --rootfs "$ROOTFS" $P echo x
expect "--timeout kills the container and its children" 137 \
    "ran longer than --timeout 1 s" -- \
    $MINICTR $R --timeout 1 -- /bin/sh -c 'sleep 30 & sleep 30'

# The chroot escape works under chroot(2) alone: so lab 10's test that it
# fails under minictr (pivot_root, old root detached) proves something.
marker=$(mktemp /tmp/minictr-escape-marker.XXXXXX)
expect "the probe's chroot escape gets out of a bare chroot" 0 "^escaped=1$" -- \
    chroot "$ROOTFS" $P escape "$marker"
expect "... and not out of minictr's pivot_root" 0 "^escaped=0$" -- \
    $MINICTR $R -- $P escape "$marker"
rm -f "$marker"

# SIGTERM to minictr reaches the command (lab 09 TODO 6).
: >"$tmp/sig.out"
"$MINICTR" $R -- $P sigwait >"$tmp/sig.out" 2>&1 &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    grep -q "^ready=1" "$tmp/sig.out" && break
    sleep 0.2
done
kill -TERM $pid
wait $pid
got=$?
left=$(leftovers $pid)
if [ $got -eq 0 ] && grep -q "^got=SIGTERM$" "$tmp/sig.out" && [ -z "$left" ]; then
    passed=$((passed + 1))
    echo "ok   SIGTERM to minictr reaches the command"
else
    failed=$((failed + 1))
    echo "FAIL SIGTERM to minictr reaches the command: status $got"
    sed 's/^/     | /' "$tmp/sig.out"
    [ -n "$left" ] && echo "$left" | sed 's/^/     ! /'
fi

# the command line
expect "--help" 0 "usage: minictr run --rootfs DIR" -- $MINICTR --help
expect "no command at all" 125 "usage: minictr run" -- $MINICTR
expect "unknown command" 125 "unknown command \"frob\"" -- $MINICTR frob
expect "unknown option" 125 "unknown option --frob" -- \
    $MINICTR $R --frob -- $P env
expect "an option without its value" 125 "--hostname needs a value" -- \
    $MINICTR run --rootfs "$ROOTFS" --hostname
expect "--rootfs missing" 125 "--rootfs DIR is missing" -- \
    $MINICTR run -- $P env
expect "--rootfs missing, no image either" 125 "what should the container's / be" -- \
    $MINICTR run --hostname x
expect "--rootfs that does not exist" 125 \
    "--rootfs $tmp/nope: No such file or directory" -- \
    $MINICTR run --rootfs "$tmp/nope" -- $P env
expect "--rootfs that is a file" 125 "--rootfs $tmp/a-file: not a directory" -- \
    $MINICTR run --rootfs "$tmp/a-file" -- $P env
expect "no command to run" 125 "no command to run" -- $MINICTR $R
expect "no command after --" 125 "no command to run" -- $MINICTR $R --
expect "a rootfs without the command: 127" 127 \
    "cannot run \"/bin/bash\" in the container: it is not in the rootfs" -- \
    $MINICTR $R -- /bin/bash
expect "a command not on PATH: 127" 127 "not in the rootfs" -- \
    $MINICTR $R -- no-such-command
expect "a file that is not executable: 126" 126 \
    "cannot run \"/notexec\" in the container: it is not executable" -- \
    $MINICTR run --rootfs "$tmp/rootfs" -- /notexec
expect "a directory as the command: 126" 126 \
    "cannot run \"/tmp\" in the container: it is not executable" -- \
    $MINICTR $R -- /tmp
expect "bad --timeout" 125 "--timeout takes whole seconds" -- \
    $MINICTR $R --timeout soon -- $P env
expect "negative --timeout" 125 "--timeout takes whole seconds" -- \
    $MINICTR $R --timeout -3 -- $P env
expect "bad --net" 125 "--net frob: choose none" -- \
    $MINICTR $R --net frob -- $P env
expect "--ip without --net bridge" 125 "--bridge and --ip go with --net bridge" -- \
    $MINICTR $R --ip 10.89.0.9 -- $P env
expect "--store with --rootfs" 125 "--store goes with an IMAGE" -- \
    $MINICTR $R --store "$tmp" -- $P env
expect "a hostname too long" 125 "a hostname has 1 to 64 characters" -- \
    $MINICTR $R --hostname "$(printf '%070d' 0)" -- $P env

# impossible limits (lab 12): refused before anything runs
expect "--memory 1" 125 "--memory" -- $MINICTR $R --memory 1 -- $P env
expect "--memory garbage" 125 "--memory" -- $MINICTR $R --memory lots -- $P env
expect "--pids 0" 125 "--pids" -- $MINICTR $R --pids 0 -- $P env
expect "--cpus 0" 125 "--cpus" -- $MINICTR $R --cpus 0 -- $P env
expect "--cpus more than the machine has" 125 "--cpus" -- \
    $MINICTR $R --cpus 1000 -- $P env
expect "limits that work" 0 "^args=limited$" -- \
    $MINICTR $R --memory 64M --pids 32 --cpus 0.5 -- $P echo limited

# capabilities and seccomp (lab 13)
expect "an unknown capability" 125 "--cap-add: unknown capability \"NET_FOO\"" -- \
    $MINICTR $R --cap-add NET_FOO -- $P env
expect "a seccomp profile that is not there" 125 \
    "seccomp profile $tmp/nope.json: unable to open" -- \
    $MINICTR $R --seccomp "$tmp/nope.json" -- $P env
expect "the default profile refuses unshare(CLONE_NEWUSER)" 0 \
    "^unshare-user=EPERM$" -- $MINICTR $R -- $P try unshare-user
expect "--seccomp unconfined allows it" 0 "^unshare-user=ok$" -- \
    $MINICTR $R --seccomp unconfined -- $P try unshare-user

# images (lab 14) and the OCI runtime's commands (lab 16)
expect "an image in a store that does not exist" 125 \
    "no image store at $tmp/store" -- \
    $MINICTR run --store "$tmp/store" nope -- true
expect "importing a file that is not a tar" 125 "is not a tar archive" -- \
    $MINICTR image import --store "$tmp/store" "$tmp/a-file" x
expect "removing an image that does not exist" 125 "no image \"nope\"" -- \
    $MINICTR image rm --store "$tmp/store" nope
expect "the state of a container that does not exist" 125 \
    "container \"nope\" does not exist" -- \
    $MINICTR --root "$tmp/oci" state nope
expect "create with a bundle that is not there" 125 "--bundle $tmp/oci-empty: No such file" -- \
    $MINICTR --root "$tmp/oci" create --bundle "$tmp/oci-empty" nope

# a set-up step that fails in the container: the error comes back, the
# container and its cgroup go
cp -a "$ROOTFS" "$tmp/noproc"
rmdir "$tmp/noproc/proc" && : >"$tmp/noproc/proc"
expect "a rootfs whose /proc is a file" 125 \
    "setting up the container: .*mounting /proc.*Not a directory" -- \
    $MINICTR run --rootfs "$tmp/noproc" --pids 32 -- $P env

# rootless, as nobody (lab 11), when this machine allows it
cp -a "$ROOTFS" "$tmp/rootless"
chown -R nobody: "$tmp/rootless"
chmod 755 "$tmp"
if runuser -u nobody -- "$MINICTR" check >/dev/null 2>&1; then
    expect "rootless: root inside, as nobody outside" 0 "^uid=0$" -- \
        runuser -u nobody -- $MINICTR run --rootfs "$tmp/rootless" -- $P env
    expect "rootless: no limits without a delegated cgroup" 125 \
        "creating the container's cgroup" -- \
        runuser -u nobody -- $MINICTR run --rootfs "$tmp/rootless" \
        --memory 64M -- $P env
else
    echo "skip rootless: nobody cannot create user namespaces here"
fi

# minictr check
expect "check: user namespaces" 0 "^user namespaces: yes" -- $MINICTR check
expect "check: cgroups" 0 "^cgroups: v[12]" -- $MINICTR check
expect "check as nobody says whether it may set limits" 0 "^limits: (yes|no)" -- \
    runuser -u nobody -- $MINICTR check

# the skeleton (labs/, as handed out) names the first TODO
expect "skeleton names the first TODO" 125 \
    "TODO 2 in labs/09-namespaces/namespaces.c is not done yet" -- \
    $SKELETON $R -- $P env

echo "minictr cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
