#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch the pinned Debian kernel packages into the cache, verify them and
# unpack them.  Idempotent: a stamp file records a finished unpack.  With
# --check, only say whether that was done.
set -euo pipefail
. "$(dirname "$0")/config.sh"

stamp=$KMX_ROOT/.unpacked-$KMX_PKG_VERSION
[ -f "$stamp" ] && exit 0
# --check: say how to get the kernel, and fetch nothing (plain make).
[ "${1:-}" = --check ] &&
	kmx_die "the pinned kernel $KMX_PKG_VERSION is not in $KMX_CACHE: make fetch downloads it, or build against your own with make KDIR=... KVM_SRC=..."

mkdir -p "$KMX_DEBS"
for p in "${KMX_PKGS[@]}"; do
	name=${p%%:*}
	sum=${p#*:}
	arch=amd64
	case $name in
	linux-source-*|*-common) arch=all ;;
	esac
	deb=$KMX_DEBS/${name}_${KMX_PKG_VERSION/:/%3a}_$arch.deb
	if [ ! -f "$deb" ]; then
		kmx_log "downloading $name=$KMX_PKG_VERSION"
		# apt-get download writes to the current directory.
		if ! (cd "$KMX_DEBS" && apt-get download -q "$name=$KMX_PKG_VERSION" >/dev/null 2>&1); then
			# A stale package list is the usual cause; refresh once.
			if [ "$(id -u)" -eq 0 ]; then
				apt-get update -qq || true
			fi
			(cd "$KMX_DEBS" && apt-get download -q "$name=$KMX_PKG_VERSION") ||
				kmx_die "apt cannot download $name=$KMX_PKG_VERSION.
  It is in Debian bookworm-security; add that suite to your apt sources,
  or point the bench at your own kernel with KMX_KSRC, KMX_KDIR,
  KMX_VMLINUZ and KMX_MODDIR (see README.md)."
		fi
	fi
	echo "$sum  $deb" | sha256sum -c --quiet - ||
		kmx_die "$deb: sha256 mismatch (expected $sum); delete it to refetch"
done

kmx_log "unpacking into $KMX_ROOT"
rm -rf "$KMX_ROOT"
mkdir -p "$KMX_ROOT"
for p in "${KMX_PKGS[@]}"; do
	dpkg -x "$KMX_DEBS/${p%%:*}"_*.deb "$KMX_ROOT"
done

# The headers are built for /usr/src and /usr/lib: make them relocatable.
# The flavour Makefile includes the common one by absolute path; the
# scripts and tools symlinks are already relative.
sed -i "s|^include /usr/src/|include \$(dir \$(lastword \$(MAKEFILE_LIST)))../|" \
	"$KMX_KDIR/Makefile"
grep -q '^include /' "$KMX_KDIR/Makefile" &&
	kmx_die "could not relocate $KMX_KDIR/Makefile"

tar -C "$KMX_ROOT/usr/src" -xJf "$KMX_ROOT/usr/src/linux-source-6.12.tar.xz"
rm "$KMX_ROOT/usr/src/linux-source-6.12.tar.xz"

# Module dependency data for the stock modules (irqbypass, ccp, 9p, ...),
# so the VM can modprobe them with -d.
depmod -b "$KMX_ROOT" "$KMX_KREL"

# The exact versions, checked once more from what was unpacked.
grep -q "^# Linux/x86 ${KMX_PKG_VERSION%%-*} " "$KMX_ROOT/boot/config-$KMX_KREL" ||
	kmx_die "unpacked image is not ${KMX_PKG_VERSION%%-*}"
make -s -C "$KMX_KSRC" kernelversion | grep -qx "${KMX_PKG_VERSION%%-*}" ||
	kmx_die "unpacked source is not ${KMX_PKG_VERSION%%-*}"

touch "$stamp"
kmx_log "pinned kernel $KMX_KREL ready"
