#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DKMS packaging.
#   dkms.sh build    build with dkms against the pinned headers, in a DKMS
#                    tree under build/dkms (nothing touches /usr/src,
#                    /var/lib/dkms or /lib/modules); used by make check
#   dkms.sh install  add, build and install for the running kernel
set -euo pipefail
. "$(dirname "$0")/config.sh"

name=kvm-mmu-ext
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$KMX_TOP/dkms.conf")
files=(dkms.conf Kbuild COPYING kmod)

case ${1:-} in
build)
	tree=$KMX_BUILD/dkms
	rm -rf "$tree"
	mkdir -p "$tree/src/$name-$ver" "$tree/var"
	(cd "$KMX_TOP" && cp -a "${files[@]}" "$tree/src/$name-$ver/")
	dkms add -m "$name" -v "$ver" --sourcetree "$tree/src" --dkmstree "$tree/var"
	dkms build -m "$name" -v "$ver" -k "$KMX_KREL" \
		--kernelsourcedir "$KMX_KDIR" \
		--sourcetree "$tree/src" --dkmstree "$tree/var"
	ko=$(find "$tree/var/$name/$ver/$KMX_KREL" -name "$name.ko*" | head -n 1)
	[ -n "$ko" ] || kmx_die "dkms build produced no module"
	modinfo -F vermagic "$ko" | grep -q "^$KMX_KREL " ||
		kmx_die "dkms module vermagic does not match $KMX_KREL"
	echo "$ko"
	;;
install)
	src=/usr/src/$name-$ver
	rm -rf "$src"
	mkdir -p "$src"
	(cd "$KMX_TOP" && cp -a "${files[@]}" "$src/")
	dkms remove -m "$name" -v "$ver" --all >/dev/null 2>&1 || true
	dkms install -m "$name" -v "$ver"
	;;
*)
	kmx_die "usage: dkms.sh build|install"
	;;
esac
