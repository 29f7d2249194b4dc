#!/bin/sh
# test-install.sh - `make install` into a staging folder, then build and run
# a program against the installed headers, libvirtlab.so and virtlab.pc,
# the way a user of the library would.
set -eu
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

make -s install DESTDIR="$stage" PREFIX=/usr/local >/dev/null
for f in lib/libvirtlab.a lib/libvirtlab.so lib/libvirtlab.so.0 \
         lib/pkgconfig/virtlab.pc include/virtlab/kvm.h \
         include/virtlab/error.h bin/vlab-doctor; do
    [ -e "$stage/usr/local/$f" ] || { echo "install: missing $f" >&2; exit 1; }
done

cat >"$stage/use.c" <<'C'
#include <stdio.h>
#include <virtlab/kvm.h>
#include <virtlab/error.h>
int main(void)
{
    struct vl_kvm kvm;
    if (vl_kvm_cap_id("USER_MEMORY") != KVM_CAP_USER_MEMORY)
        return 1;
    if (vl_kvm_open_path(&kvm, "/nonexistent") != -2)
        return 1;
    printf("%s\n", vl_errmsg());
    return 0;
}
C
export PKG_CONFIG_PATH="$stage/usr/local/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage"
# shellcheck disable=SC2046
cc -Wall -Werror -o "$stage/use" "$stage/use.c" $(pkg-config --cflags --libs virtlab)
LD_LIBRARY_PATH="$stage/usr/local/lib" "$stage/use" | grep -q "KVM module" || {
    echo "install: the installed library did not work" >&2
    exit 1
}
# And statically, as `pkg-config --static` says.
cc -Wall -Werror -o "$stage/use-static" "$stage/use.c" \
    $(pkg-config --cflags virtlab) "$stage/usr/local/lib/libvirtlab.a" \
    $(pkg-config --libs-only-l --static virtlab | sed 's/-lvirtlab//')
"$stage/use-static" >/dev/null
echo "install: headers, libvirtlab.a/.so and virtlab.pc work from a staged PREFIX=/usr/local"
