#!/bin/bash
# build-image.sh - build the virtlab grader image (docker-ci/Dockerfile)
# with Debian's podman, without any registry.
#
# usage: docker-ci/build-image.sh [--base-tar FILE] [--tag NAME]
#                                 [--mirror URL] [--with-kernel]
#
#   --base-tar FILE  a bookworm root file system as a tarball, imported as
#                    the base instead of running debootstrap
#   --tag NAME       the image's name (default virtlab-grader)
#   --mirror URL     the Debian mirror for debootstrap (default: the one in
#                    this machine's /etc/apt/sources.list*)
#   --with-kernel    also put Debian's kernel in the image (lab 07)
#
# Steps:
#  1. the base: debootstrap --variant=minbase bookworm into a temporary
#     folder, tar it, `podman import` it as
#     localhost/debian:bookworm-debootstrap
#     (skipped when that image exists already: delete it to refresh);
#  2. podman build -f docker-ci/Dockerfile --build-arg BASE=<that image>
#     with the top of the tree as the context.
#
# Everything podman keeps goes to build/docker-ci/ (a storage root of its
# own, --root/--runroot), never to /var/lib/containers: `make clean` or
# `rm -rf build/docker-ci` removes it all. build/docker-ci/podman is a
# wrapper with the same settings, to run the image afterwards:
#
#   build/docker-ci/podman run --rm --device /dev/kvm \
#       -v "$PWD/solutions:/submission:ro" -v /tmp/out:/results \
#       virtlab-grader --lab 01
set -eu

prog=build-image.sh
die() {
    echo "$prog: error: $*" >&2
    exit 1
}
note() { echo "$prog: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=$ROOT/build/docker-ci
BASE_IMAGE=localhost/debian:bookworm-debootstrap
TAG=virtlab-grader
BASE_TAR=
MIRROR=
WITH_KERNEL=0

usage() {
    sed -n '5,14s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --base-tar)
        [ $# -ge 2 ] || die "--base-tar needs a FILE"
        BASE_TAR=$2
        shift 2
        ;;
    --tag)
        [ $# -ge 2 ] || die "--tag needs a NAME"
        TAG=$2
        shift 2
        ;;
    --mirror)
        [ $# -ge 2 ] || die "--mirror needs a URL"
        MIRROR=$2
        shift 2
        ;;
    --with-kernel)
        WITH_KERNEL=1
        shift
        ;;
    -h | --help) usage ;;
    *)
        echo "$prog: unknown argument '$1'" >&2
        usage
        ;;
    esac
done

[ "$(id -u)" -eq 0 ] ||
    die "run as root: debootstrap and rootful podman need it" \
        "(sudo $0 ...)"
for tool in podman tar; do
    command -v $tool >/dev/null 2>&1 ||
        die "$tool is missing: apt-get install podman (it brings runc," \
            "netavark, conmon)"
done
command -v runc >/dev/null 2>&1 ||
    die "runc is missing: apt-get install runc (see containers.conf below" \
        "for why not crun)"
if [ -n "$BASE_TAR" ]; then
    [ -r "$BASE_TAR" ] || die "--base-tar $BASE_TAR: no such readable file"
    BASE_TAR=$(cd "$(dirname "$BASE_TAR")" && pwd)/$(basename "$BASE_TAR")
fi

mkdir -p "$STATE" || die "cannot create $STATE"

# --- podman's settings ------------------------------------------------------
# A containers.conf of our own, given to podman (and to the buildah inside
# `podman build`) through $CONTAINERS_CONF, which replaces the system's:
#
# default_ulimits = []: podman normally sets RLIMIT_NPROC and RLIMIT_NOFILE
#   in every container (from its own limits, or the built-in default). On
#   a machine whose root lacks CAP_SYS_RESOURCE (a container or a VM
#   sandbox, like the course's CI machine) raising a hard limit is refused
#   and every RUN/run fails with "setrlimit RLIMIT_NPROC: Operation not
#   permitted". An empty list makes the containers inherit podman's limits
#   as they are: nothing to raise, nothing refused.
# runtime = "runc": Debian 12's crun (1.8) refuses the v1/v2 hybrid cgroup
#   set-up some machines have (v1 controllers plus a v2 "unified" mount);
#   runc handles it. Where crun works, runc works too.
# cgroup_manager = "cgroupfs": podman writes the cgroups itself instead of
#   asking systemd, which may not run (a container, a CI runner).
CONF=$STATE/containers.conf
cat >"$CONF" <<'EOF'
# Written by docker-ci/build-image.sh (see the comments there).
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF=$CONF

# Private storage: images and layers in build/docker-ci/storage, run-time
# state (locks, container state) in build/docker-ci/run.
PODMAN_FLAGS=(--root "$STATE/storage" --runroot "$STATE/run")
pm() { podman "${PODMAN_FLAGS[@]}" "$@"; }

# The wrapper for later runs (tests/image.sh, an instructor by hand).
cat >"$STATE/podman" <<EOF
#!/bin/sh
# Written by docker-ci/build-image.sh: podman with the grader image's
# private storage and containers.conf (see build-image.sh for why).
export CONTAINERS_CONF='$CONF'
exec podman --root '$STATE/storage' --runroot '$STATE/run' "\$@"
EOF
chmod +x "$STATE/podman"

# --- temporary files --------------------------------------------------------
TMP=
cleanup() {
    [ -n "$TMP" ] || return 0
    # debootstrap mounts /proc and /sys inside the target while it
    # installs, and leaves them there if it fails half way: unmount them
    # first, and never rm -rf through a mount still in place.
    if command -v findmnt >/dev/null 2>&1; then
        findmnt -rn -o TARGET | grep -F "$TMP/" | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
        if findmnt -rn -o TARGET | grep -qF "$TMP/"; then
            echo "$prog: $TMP still has mounts: left in place," \
                "remove it by hand after umount" >&2
            return 0
        fi
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. the base image ------------------------------------------------------
# The mirror debootstrap fetches from: the first Debian archive serving
# bookworm in this machine's apt sources (deb822 .sources or one-line
# .list), since that is the one known to be reachable from here.
find_mirror() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk '$1 == "deb" && $3 ~ /^bookworm$/ && $2 !~ /security/ {
                 for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {
                     print $i; exit } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # One stanza at a time (blank lines separate them).
        awk 'BEGIN { RS = "" }
             /(^|\n)Suites:[^\n]*(^| )bookworm( |\n|$)/ &&
             !/(^|\n)URIs:[^\n]*security/ {
                 if (match($0, /URIs:[ \t]*[^ \t\n]+/)) {
                     u = substr($0, RSTART, RLENGTH)
                     sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f"
    done
}

if pm image exists "$BASE_IMAGE"; then
    note "base image $BASE_IMAGE exists: reused (podman rmi it to refresh)"
else
    TMP=$(mktemp -d "$STATE/base.XXXXXX") || die "mktemp failed in $STATE"
    if [ -z "$BASE_TAR" ]; then
        command -v debootstrap >/dev/null 2>&1 ||
            die "debootstrap is missing: apt-get install debootstrap" \
                "(or give --base-tar FILE)"
        if [ -z "$MIRROR" ]; then
            MIRROR=$(find_mirror | head -n 1)
            [ -n "$MIRROR" ] ||
                die "no Debian bookworm mirror in /etc/apt/sources.list*:" \
                    "give one with --mirror URL"
        fi
        note "debootstrap --variant=minbase bookworm from $MIRROR" \
            "(a few minutes; log: $TMP/debootstrap.log)"
        start=$(date +%s)
        if ! debootstrap --variant=minbase bookworm "$TMP/root" "$MIRROR" \
            >"$TMP/debootstrap.log" 2>&1; then
            tail -n 20 "$TMP/debootstrap.log" >&2
            die "debootstrap failed (above; more in" \
                "$TMP/root/debootstrap/debootstrap.log): is $MIRROR" \
                "reachable? try --mirror URL"
        fi
        # The updates suite too, as in Debian's own image (deps.sh runs
        # apt-get update inside the build).
        printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' \
            "$MIRROR" "$MIRROR" >"$TMP/root/etc/apt/sources.list"
        # No .deb cache in the image.
        rm -rf "$TMP/root/var/cache/apt/archives/"*.deb \
            "$TMP/root/var/lib/apt/lists/"*
        note "debootstrap: $(($(date +%s) - start)) s"
        BASE_TAR=$TMP/rootfs.tar
        # --numeric-owner: the ids of the rootfs, not this machine's names.
        tar --numeric-owner -C "$TMP/root" -cf "$BASE_TAR" . ||
            die "tar of the debootstrap root failed (disk full?)"
        rm -rf "$TMP/root"
    fi
    note "importing $BASE_TAR as $BASE_IMAGE"
    pm import --message "debootstrap bookworm minbase" \
        --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
        "$BASE_TAR" "$BASE_IMAGE" >/dev/null ||
        die "podman import failed (above): a tarball of a root file" \
            "system (tar -C ROOT -cf FILE .) is expected"
    cleanup
    TMP=
fi

# --- 2. the grader image ----------------------------------------------------
what="make all rootfs"
[ "$WITH_KERNEL" = 1 ] && what="$what kernel"
note "podman build -t $TAG (packages, then $what)"
start=$(date +%s)
cd "$ROOT"
# --ignorefile: podman 4.3 does not look for <Dockerfile>.dockerignore the
# way Docker's BuildKit does; without it build/ (hundreds of MB) would be
# sent as context and copied into the image.
# --network host: the RUN steps only fetch from the Debian archive; the
# host's network avoids depending on netavark/iptables working here.
if ! pm build --pull=never --network host \
    --ignorefile docker-ci/Dockerfile.dockerignore \
    --build-arg BASE="$BASE_IMAGE" --build-arg WITH_KERNEL="$WITH_KERNEL" \
    -f docker-ci/Dockerfile -t "$TAG" .; then
    die "podman build failed (above). Common causes: the Debian archive" \
        "is not reachable from the build (apt-get update in the deps.sh" \
        "step), or a compile error in the tree (make all)"
fi
# The image this build replaced, if any, is left untagged ("dangling"):
# drop it (only in our private storage), or every rebuild adds ~1 GB.
pm image prune -f >/dev/null 2>&1 || true
note "built $TAG in $(($(date +%s) - start)) s:" \
    "$(pm image inspect --format '{{.Size}}' "$TAG" |
        awk '{ printf "%.0f MB", $1 / 1e6 }')"
note "run it with $STATE/podman run ... $TAG (see docker-ci/grade.sh)"
