#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test VM's QEMU: bookworm's qemu source package with Debian's own
# patches, plus ours (qemu/*.patch: two fixes to TCG's nested SVM and one
# to multi-threaded TCG's cross-modifying code, which
# Documentation/testing.rst explains), built for x86_64-softmmu only.
#
# Cached under KMX_CACHE, keyed by the Debian version, our patches and this
# script: a second run builds nothing and touches no network.  The binary
# uses the firmware of the installed qemu-system-x86, as Debian's does.
set -euo pipefail
. "$(dirname "$0")/config.sh"

bin=$KMX_QEMU_BUILT
[ -x "$bin" ] && exit 0
# KMX_QEMU names another binary: nothing to build.
[ "$KMX_QEMU" = "$bin" ] || exit 0

src=$KMX_CACHE/qemu/src
mkdir -p "$src"
pool=${KMX_DEBIAN_MIRROR:-https://deb.debian.org/debian}/pool/main/q/qemu

# Prints the HTTP status of a failed fetch (000: no answer).
fetch()
{
	local code

	[ -s "$src/$1" ] && return 0
	echo "kvm-mmu-ext: fetching $pool/$1" >&2
	code=$(curl -sS --retry 3 --connect-timeout 30 -o "$src/$1.part" \
		-w '%{http_code}' "$pool/$1") || true
	if [ "$code" = 200 ]; then
		mv "$src/$1.part" "$src/$1"
		return 0
	fi
	rm -f "$src/$1.part"
	echo "${code:-000}"
	return 1
}

# $1: a file in $src, $2: its sha256.
check_sum()
{
	(cd "$src" && echo "$2  $1" | sha256sum -c --quiet) && return 0
	rm -f "$src/$1"
	kmx_die "$1: wrong sha256 (expected $2); removed it, try again"
}

# The pinned version, whose tarballs are pinned by sha256.  When the
# archive has moved on, the source version of the installed
# qemu-system-x86, whose Debian tarball only its .dsc vouches for.
ver=$KMX_QEMU_SRC_VERSION
deb_sum=
[ "$ver" = "$KMX_QEMU_PINNED_VERSION" ] && deb_sum=$KMX_QEMU_DEBIAN_SHA256
if ! code=$(fetch "qemu_$ver.dsc"); then
	[ "$code" = 404 ] || kmx_die "cannot fetch qemu_$ver.dsc from $pool (HTTP $code)"
	inst=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null || true)
	inst=${inst#*:}
	if [ -z "$inst" ] || [ "$inst" = "$ver" ] || ! fetch "qemu_$inst.dsc" >/dev/null; then
		kmx_die "no qemu_$ver.dsc in $pool, nor one for the installed qemu-system-x86 (${inst:-none}): set KMX_QEMU_SRC_VERSION"
	fi
	echo "kvm-mmu-ext: warning: qemu_$ver is gone from the archive; building $inst, checked against its .dsc only" >&2
	ver=$inst
	deb_sum=
fi
# The .dsc names the two tarballs with their sha256.
orig= debtar=
while read -r sum name; do
	case $name in
	*.orig.tar.xz) orig=$name; orig_sum=$sum ;;
	*.debian.tar.xz) debtar=$name; debtar_sum=$sum ;;
	esac
done < <(sed -n '/^Checksums-Sha256:/,/^[A-Z]/s/^ \([0-9a-f]\{64\}\) [0-9]* \(.*\)$/\1 \2/p' "$src/qemu_$ver.dsc")
[ -n "$orig" ] && [ -n "$debtar" ] || kmx_die "cannot read $src/qemu_$ver.dsc"
[ "$orig_sum" = "$KMX_QEMU_ORIG_SHA256" ] ||
	kmx_die "qemu_$ver.dsc names another QEMU source than the pinned 7.2 ($orig)"
fetch "$orig" >/dev/null || kmx_die "cannot fetch $orig"
check_sum "$orig" "$KMX_QEMU_ORIG_SHA256"
fetch "$debtar" >/dev/null || kmx_die "cannot fetch $debtar"
check_sum "$debtar" "${deb_sum:-$debtar_sum}"

work=$KMX_CACHE/qemu/build
rm -rf "$work"
mkdir -p "$work"
echo "kvm-mmu-ext: building QEMU $ver with qemu/*.patch (a few minutes)" >&2
tar -C "$work" -xf "$src/$orig"
tree=$(echo "$work"/qemu-*)
tar -C "$tree" -xf "$src/$debtar"
while read -r p _; do
	case $p in ''|'#'*) continue ;; esac
	patch -d "$tree" -p1 -s <"$tree/debian/patches/$p" ||
		kmx_die "Debian's $p does not apply to QEMU $ver"
done <"$tree/debian/patches/series"
for p in "$KMX_TOP"/qemu/*.patch; do
	patch -d "$tree" -p1 -s <"$p" || kmx_die "$(basename "$p") does not apply to QEMU $ver"
done

log=$KMX_CACHE/qemu/build.log
mkdir -p "$tree/b"
if ! (
	cd "$tree/b"
	../configure --prefix=/usr --target-list=x86_64-softmmu \
		--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
		--with-pkgversion="Debian $ver, kvm-mmu-ext qemu/" \
		--disable-docs --disable-werror --disable-tools \
		--disable-guest-agent --disable-capstone --disable-slirp \
		--disable-gtk --disable-sdl --disable-vnc --disable-spice \
		--disable-opengl --disable-curl --disable-libusb \
		--disable-usb-redir --disable-xen --disable-vhost-user \
		--disable-pa --disable-alsa --disable-jack --disable-oss \
		--disable-linux-io-uring --disable-libssh --disable-seccomp \
		--enable-virtfs --enable-attr --enable-cap-ng &&
	ninja -j "$(nproc)" qemu-system-x86_64
) >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	kmx_die "the QEMU build failed; its log is $log"
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
