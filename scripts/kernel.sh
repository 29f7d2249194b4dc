#!/bin/sh
# kernel.sh DIR - a Debian kernel for the VMs of the course (`make kernel`).
#
# Fetches Debian's own kernel package with apt-get (nothing from anywhere
# else) and leaves in DIR:
#   DIR/vmlinuz    the bzImage, as Debian ships it (boot/vmlinuz-RELEASE)
#   DIR/vmlinux    the uncompressed kernel ELF inside it: QEMU boots it
#                  directly (PVH entry, scripts/test-cgroup2.sh); minivm
#                  loads it (issue 6)
#   DIR/version    the kernel release, as `uname -r` prints it in the guest
#   DIR/package    "NAME VERSION" of the Debian package it came from
#   DIR/config     the kernel's build configuration (boot/config-*)
#   DIR/modules    its modules (lib/modules/RELEASE) for insmod
#   DIR/debs/      the downloaded .deb (cache), DIR/extract/ its files
#
# The package is the one linux-image-amd64 depends on (Debian's meta package
# for the current kernel of the release; linux-image-generic on Ubuntu), or
# $KERNEL_PACKAGE if set. A second
# run finds DIR/vmlinux and returns at once; KERNEL_REFRESH=1 asks apt again.
#
# vmlinux is taken out of the bzImage the way the kernel's own
# scripts/extract-vmlinux does it, but guided by the boot protocol's header
# instead of a blind search: Documentation/arch/x86/boot.rst, "The Real-Mode
# Kernel Header" - setup_sects (0x1f1) says where the protected-mode code
# starts, payload_offset/payload_length (0x248/0x24c, protocol 2.08+) where
# the compressed kernel lies inside it; its magic number says which
# decompressor built it (gzip, xz, zstd, lzma, lz4, bzip2). The result is
# checked against the size the build appended, then cut at the ELF's end
# (the KASLR relocation table follows it).
set -eu

prog=kernel.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { [ -n "${KERNEL_QUIET:-}" ] || echo "$prog: $*" >&2; }

[ $# -eq 1 ] || die "usage: scripts/kernel.sh DIR (e.g. build/kernel)"
mkdir -p "$1" || die "cannot create $1"
DIR=$(cd "$1" && pwd)

# Cached: everything is there already.
if [ -z "${KERNEL_REFRESH:-}" ] && [ -s "$DIR/vmlinux" ] &&
   [ -s "$DIR/vmlinuz" ] && [ -s "$DIR/version" ]; then
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb od; do
    command -v $tool >/dev/null 2>&1 ||
        die "$tool is missing: this needs Debian's apt and dpkg (make deps)"
done

# Two builds at once (make -j) must not download into each other.
exec 9>"$DIR/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

# --- 1. which package, 2. download (cached in DIR/debs) --------------------
# apt-cache answers from the package lists of `apt-get update`; an empty
# answer means the lists are missing or linux-image-amd64 is not in them.
# On Ubuntu (a GitHub runner) the meta package is linux-image-generic.
resolve() {
    for meta in linux-image-amd64 linux-image-generic; do
        apt-cache depends $meta 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p'
    done | head -n 1
}
updated=
update_lists() { # why
    if [ "$(id -u)" -ne 0 ]; then
        die "$1; run 'sudo apt-get update' and try again"
    fi
    note "$1: running apt-get update"
    apt-get update -qq >/dev/null 2>&1 ||
        die "apt-get update failed: is Debian's archive reachable from" \
            "here? (see /etc/apt/sources.list*)"
    updated=1
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
mkdir -p "$DIR/debs"
while :; do
    pkg=${KERNEL_PACKAGE:-$(resolve)}
    if [ -z "$pkg" ]; then
        [ -z "$updated" ] ||
            die "linux-image-amd64 is not in the package lists: this needs" \
                "Debian's main archive for amd64 in /etc/apt/sources.list*"
        update_lists "apt does not know linux-image-amd64 (no package lists?)"
        continue
    fi
    # shellcheck disable=SC2012 # Debian package file names are plain
    deb=$(ls "$DIR/debs/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
    [ -z "$deb" ] || break
    ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
          sed -n 's/^Version: //p' | head -n 1)
    [ -n "$ver" ] || die "apt-cache knows no version of $pkg: apt-get update?"
    note "downloading $pkg $ver with apt-get (about 70 MB, once)"
    # As root, apt drops to the _apt user for downloads, who may not write
    # into our build folder: let it download as root there (no warning).
    if (cd "$DIR/debs" && apt-get download -q -o APT::Sandbox::User=root \
            "$pkg" >"$log" 2>&1); then
        continue # found in DIR/debs now
    fi
    rm -f "$DIR/debs/${pkg}_"*.deb
    # Debian's archive keeps only the current kernel: with stale lists the
    # download is a 404. New lists name the kernel of today: once more.
    if grep -q '404' "$log" && [ -z "$updated" ] && [ -z "${KERNEL_PACKAGE:-}" ]
    then
        update_lists "$pkg is gone from the archive (stale package lists)"
        continue
    fi
    cat "$log" >&2
    die "apt-get download $pkg failed (above): is Debian's archive" \
        "reachable from here? (the package lists may also be out of" \
        "date: apt-get update, as root)"
done

# --- 3. extract ------------------------------------------------------------
rm -rf "$DIR/extract"
dpkg-deb -x "$deb" "$DIR/extract" || die "dpkg-deb -x $deb failed"
release=${pkg#linux-image-}
bz="$DIR/extract/boot/vmlinuz-$release"
[ -s "$bz" ] || die "$deb holds no boot/vmlinuz-$release"
cp "$bz" "$DIR/vmlinuz"
ln -sfn "extract/boot/config-$release" "$DIR/config"
ln -sfn "extract/lib/modules/$release" "$DIR/modules"
echo "$pkg $(dpkg-deb -f "$deb" Version)" >"$DIR/package"

# --- 4. vmlinux out of the bzImage -----------------------------------------
# Little-endian integers of the setup header.
u8() { od -An -v -t u1 -j "$2" -N 1 "$1" | tr -d ' '; }
u16() { od -An -v -t u2 --endian=little -j "$2" -N 2 "$1" | tr -d ' '; }
u32() { od -An -v -t u4 --endian=little -j "$2" -N 4 "$1" | tr -d ' '; }
hex() { od -An -v -t x1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

# "HdrS" at 0x202 marks a boot protocol header; 0x206 is its version.
[ "$(hex "$bz" 514 4)" = 48647253 ] ||
    die "$bz is not a bzImage (no HdrS boot header at 0x202)"
proto=$(u16 "$bz" 518)
[ "$proto" -ge 520 ] ||
    die "$bz: boot protocol $proto < 2.08 has no payload_offset"
setup_sects=$(u8 "$bz" 497)          # 0x1f1; 0 means 4 (boot.rst)
[ "$setup_sects" -ne 0 ] || setup_sects=4
pm_start=$(( (setup_sects + 1) * 512 ))
payload=$(( pm_start + $(u32 "$bz" 584) ))   # 0x248 payload_offset
length=$(u32 "$bz" 588)                      # 0x24c payload_length

# The kernel's build appends the uncompressed size (4 bytes, little-endian)
# after the compressed data (scripts/Makefile.lib, size_append), and gzip's
# own trailer ends with it too: the check of what we decompress.
want=$(u32 "$bz" $(( payload + length - 4 )))

magic=$(hex "$bz" "$payload" 6)
case $magic in
1f8b*)           fmt=gzip;  dec="gzip -dc" ;;
fd377a585a00)    fmt=xz;    dec="xz -dc --single-stream" ;;
28b52ffd*)       fmt=zstd;  dec="zstd -dcq" ;;
5d0000*)         fmt=lzma;  dec="xz -dc --format=lzma --single-stream" ;;
02214c18*)       fmt=lz4;   dec="lz4 -dc" ;;
425a68*)         fmt=bzip2; dec="bzip2 -dc" ;;
*) die "$bz: unknown compression (magic $magic at offset $payload)" ;;
esac
command -v "${dec%% *}" >/dev/null 2>&1 ||
    die "$fmt kernel: install the ${dec%% *} tool (Debian package" \
        "$(case $fmt in gzip) echo gzip;; xz|lzma) echo xz-utils;;
          zstd) echo zstd;; lz4) echo lz4;; bzip2) echo bzip2;; esac))"

tmp="$DIR/vmlinux.tmp"
# dd with bs=1 would be slow on 8 MB: cut with tail/head (byte counts).
# The decompressors may complain about the 4 size bytes after the stream:
# the size and the ELF magic below are the real check.
tail -c +$(( payload + 1 )) "$bz" | head -c "$length" |
    $dec >"$tmp" 2>/dev/null || true
got=$(stat -c %s "$tmp")
[ "$got" -eq "$want" ] ||
    die "$fmt payload of $bz decompressed to $got bytes, not $want"
[ "$(hex "$tmp" 0 4)" = 7f454c46 ] ||
    die "$fmt payload of $bz is not an ELF file"
# vmlinux.bin is followed by the relocation table KASLR uses
# (arch/x86/boot/compressed/Makefile, vmlinux.relocs): the ELF ends with its
# section headers (e_shoff at 0x28, e_shentsize 0x3a, e_shnum 0x3c).
elf_end=$(( $(od -An -v -t u8 --endian=little -j 40 -N 8 "$tmp" | tr -d ' ') +
            $(u16 "$tmp" 58) * $(u16 "$tmp" 60) ))
[ "$elf_end" -le "$got" ] || die "$fmt payload of $bz: truncated ELF"
head -c "$elf_end" "$tmp" >"$DIR/vmlinux"
rm -f "$tmp"
echo "$release" >"$DIR/version"
note "$pkg ($fmt, boot protocol $((proto >> 8)).$(printf %02d $((proto & 255))))" \
     "-> $DIR/{vmlinuz,vmlinux}"
