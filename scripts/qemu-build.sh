#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test VM's QEMU: bookworm's qemu source package with Debian's own
# patches, plus ours (qemu/*.patch, two fixes to TCG's nested SVM that
# Documentation/testing.rst explains), built for x86_64-softmmu only.
#
# Cached under KMX_CACHE, keyed by the Debian version and our patches: a
# second run builds nothing and touches no network.  The binary uses the
# firmware of the installed qemu-system-x86, as Debian's does.
set -euo pipefail
. "$(dirname "$0")/config.sh"

bin=$KMX_QEMU_BUILT
[ -x "$bin" ] && exit 0

src=$KMX_CACHE/qemu/src
mkdir -p "$src"
ver=$KMX_QEMU_SRC_VERSION
pool=${KMX_DEBIAN_MIRROR:-http://deb.debian.org/debian}/pool/main/q/qemu

fetch()
{
	[ -s "$src/$1" ] && return 0
	echo "kvm-mmu-ext: fetching $1" >&2
	curl -fsS -o "$src/$1.part" "$pool/$1" && mv "$src/$1.part" "$src/$1"
}

if ! fetch "qemu_$ver.dsc"; then
	echo "kvm-mmu-ext: qemu_$ver.dsc is not in $pool (Debian moved on?)." >&2
	echo "kvm-mmu-ext: pick the source version of your qemu-system-x86:" >&2
	echo "  KMX_QEMU_SRC_VERSION=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null | sed 's/^[0-9]*://') make deps" >&2
	exit 1
fi
# The .dsc names the tarballs and their sha256; the orig tarball is pinned.
mapfile -t files < <(sed -n '/^Checksums-Sha256:/,/^[A-Z]/s/^ \([0-9a-f]\{64\}\) [0-9]* \(.*\)$/\1 \2/p' "$src/qemu_$ver.dsc")
[ ${#files[@]} -eq 2 ] || { echo "kvm-mmu-ext: cannot read qemu_$ver.dsc" >&2; exit 1; }
for f in "${files[@]}"; do
	fetch "${f#* }"
	if [[ ${f#* } == *.orig.tar.xz ]] && [ "${f%% *}" != "$KMX_QEMU_ORIG_SHA256" ]; then
		echo "kvm-mmu-ext: ${f#* } is not the pinned QEMU 7.2 source" >&2
		exit 1
	fi
	(cd "$src" && echo "${f%% *}  ${f#* }" | sha256sum -c --quiet) ||
		{ rm -f "$src/${f#* }"; exit 1; }
done

work=$KMX_CACHE/qemu/build
rm -rf "$work"
mkdir -p "$work"
echo "kvm-mmu-ext: building QEMU $ver with qemu/*.patch (a few minutes)" >&2
tar -C "$work" -xf "$src"/qemu_*.orig.tar.xz
tree=$(echo "$work"/qemu-*)
tar -C "$tree" -xf "$src/qemu_$ver.debian.tar.xz"
while read -r p _; do
	case $p in ''|'#'*) continue ;; esac
	patch -d "$tree" -p1 -s <"$tree/debian/patches/$p"
done <"$tree/debian/patches/series"
for p in "$KMX_TOP"/qemu/*.patch; do
	patch -d "$tree" -p1 -s <"$p"
done

log=$KMX_CACHE/qemu/build.log
mkdir -p "$tree/b"
if ! (
	cd "$tree/b"
	../configure --prefix=/usr --target-list=x86_64-softmmu \
		--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
		--disable-docs --disable-werror --disable-tools \
		--disable-guest-agent --disable-capstone --disable-slirp \
		--disable-gtk --disable-sdl --disable-vnc --disable-spice \
		--disable-opengl --disable-curl --disable-libusb \
		--disable-usb-redir --disable-xen --disable-vhost-user \
		--disable-pa --disable-alsa --disable-jack --disable-oss \
		--disable-linux-io-uring --disable-libssh --disable-seccomp \
		--enable-virtfs --enable-attr --enable-cap-ng
	ninja -j "$(nproc)" qemu-system-x86_64
) >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "kvm-mmu-ext: the QEMU build failed; its log is $log" >&2
	exit 1
fi
# QEMU finds its firmware relative to its binary (../share/qemu): point
# that at the system's, as --firmwarepath says.
out=$(dirname "$(dirname "$bin")")
mkdir -p "$out/bin"
ln -sfn /usr/share "$out/share"
ln -sfn /usr/lib "$out/lib"
cp "$tree/b/qemu-system-x86_64" "$bin.part"
mv "$bin.part" "$bin"
rm -rf "$work"
"$bin" --version | head -n 1 >&2
