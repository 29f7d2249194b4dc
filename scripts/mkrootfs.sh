#!/bin/sh
# mkrootfs.sh DIR - minictr's test root filesystem (`make rootfs`).
#
# A container needs a directory tree to pivot_root(2) into. Ours is the
# smallest useful one: Debian's busybox-static (one static binary that is
# sh, ls, mount, ... by the name it is called under: busybox(1), "Usage"),
# a symlink per applet, the /etc files a shell and `id` read (passwd(5),
# group(5), hostname(5)), empty mount points for /proc, /sys, /dev and
# /tmp, and /bin/vlab-probe, the static test payload of labs/minictr/probe.
# Everything is static, so no dynamic loader or libc is needed inside.
#
# The tree is built in DIR.tmp.* and renamed to DIR at the end, so a
# half-built rootfs is never used; DIR/.stamp is written last (make's
# target). Runs are serialised with flock(1) on DIR's parent directory.
# Everything is world-readable: an unprivileged user's container (lab 11)
# must read it.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR   (build minictr's test rootfs in DIR)" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1%/}
PARENT=$(dirname "$DIR")
PROBE_DIR=$ROOT/labs/minictr/probe
CC=${CC:-gcc}

die() {
    echo "mkrootfs: $*" >&2
    exit 1
}

# Debian's busybox-static installs /bin/busybox (usrmerge: /usr/bin too).
# The dynamic `busybox` package would need a libc inside the rootfs.
BUSYBOX=
for b in /usr/bin/busybox /bin/busybox; do
    if [ -x "$b" ]; then BUSYBOX=$b; break; fi
done
[ -n "$BUSYBOX" ] || die "busybox not found: run make deps (busybox-static)"
if command -v readelf >/dev/null 2>&1; then
    # A static executable has no PT_INTERP program header (elf(5)).
    if readelf -lW "$BUSYBOX" | grep -q 'INTERP'; then
        die "$BUSYBOX is dynamically linked; run make deps (busybox-static)"
    fi
fi

umask 022
mkdir -p "$PARENT"
exec 9<"$PARENT"
flock 9

TMP=$(mktemp -d "$DIR.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM HUP
chmod 755 "$TMP"

# Directories: mount points the runtime fills (proc sys dev tmp), the
# usual home directories, and the ones busybox's applets live in.
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root home; do
    mkdir -p "$TMP/$d"
done
chmod 1777 "$TMP/tmp" # sticky and world-writable, like every /tmp

cp "$BUSYBOX" "$TMP/bin/busybox"
chmod 755 "$TMP/bin/busybox"

# One relative symlink per applet (`busybox --list-full` prints paths such
# as usr/bin/env), so the links also resolve from outside the container.
"$BUSYBOX" --list-full | while IFS= read -r applet; do
    case $applet in
    "" | bin/busybox) continue ;;
    esac
    case $applet in
    */*) up=$(dirname "$applet" | sed -e 's|[^/][^/]*|..|g')/ ;;
    *) up= ;;
    esac
    ln -s "${up}bin/busybox" "$TMP/$applet"
done
[ -e "$TMP/bin/sh" ] || die "busybox has no sh applet ($BUSYBOX)"

cat >"$TMP/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$TMP/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
echo minictr >"$TMP/etc/hostname"

# vlab-probe: static, so it runs in a rootfs without a libc.
# shellcheck disable=SC2046 # the source list is meant to split
$CC -std=gnu11 -static -O2 -Wall -Wextra -Werror -o "$TMP/bin/vlab-probe" \
    $(ls "$PROBE_DIR"/*.c) ||
    die "cannot build vlab-probe (see above; static linking needs libc6-dev: make deps)"
strip "$TMP/bin/vlab-probe" 2>/dev/null || true
chmod 755 "$TMP/bin/vlab-probe"

# Swap the new tree in; the old one (if any) goes away after.
if [ -e "$DIR" ]; then
    OLD=$(mktemp -d "$DIR.old.XXXXXX")
    mv -T "$DIR" "$OLD/rootfs"
    mv -T "$TMP" "$DIR"
    rm -rf "$OLD"
else
    mv -T "$TMP" "$DIR"
fi
trap - EXIT INT TERM HUP
date -u +%Y-%m-%dT%H:%M:%SZ >"$DIR/.stamp"
echo "mkrootfs: $DIR ($(du -sh "$DIR" | cut -f1), busybox and vlab-probe)"
