#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Find and build kvm-unit-tests for the test VM's kut lane, with the
# suite's own ./configure && make, once for x86_64 and once for i386
# (taskswitch and taskswitch2 are 32-bit only).  The trees end up in
# build/kvm-unit-tests/{x86_64,i386}, where vm-steps.sh runs each one's
# run_tests.sh inside the VM.
#
# The source is, in this order: $KUT_DIR (a checkout of your own), the
# archive $KUT_TARBALL, the snapshot next to the repository
# (../shared/kvm-unit-tests/), or the copy of it kept in $KMX_CACHE.
# Exits 3, with the reason on stdout, if there is none.
set -euo pipefail
. "$(dirname "$0")/config.sh"

out=$KMX_BUILD/kvm-unit-tests
cache=$KMX_CACHE/kvm-unit-tests
src= id=

if [ -n "${KUT_DIR:-}" ]; then
	[ -f "$KUT_DIR/run_tests.sh" ] || kmx_die "KUT_DIR=$KUT_DIR is not a kvm-unit-tests checkout"
	src=$KUT_DIR
	id="dir $KUT_DIR $(git -C "$KUT_DIR" describe --always --dirty 2>/dev/null || date +%s)"
else
	tarball=${KUT_TARBALL:-}
	if [ -z "$tarball" ]; then
		for f in "$KMX_TOP"/../shared/kvm-unit-tests/kvm-unit-tests-*.tar.gz \
			 "$cache"/kvm-unit-tests-*.tar.gz; do
			[ -f "$f" ] && { tarball=$f; break; }
		done
	fi
	if [ -z "$tarball" ]; then
		echo "no kvm-unit-tests: set KUT_DIR to a checkout of https://gitlab.com/kvm-unit-tests/kvm-unit-tests"
		exit 3
	fi
	[ -f "$tarball" ] || kmx_die "KUT_TARBALL=$tarball: no such file"
	# Keep a copy, so that a clone elsewhere finds it too.
	mkdir -p "$cache"
	[ -f "$cache/$(basename "$tarball")" ] || cp "$tarball" "$cache/"
	id="tarball $(sha256sum "$tarball" | cut -d' ' -f1)"
fi

if [ -f "$out/.source" ] && [ "$(cat "$out/.source")" = "$id" ]; then
	exit 0
fi
rm -rf "$out"
for arch in x86_64 i386; do
	mkdir -p "$out/$arch"
	if [ -n "$src" ]; then
		rsync -a --exclude=.git --exclude=logs "$src/" "$out/$arch/"
		# A checkout that was built already brings its objects along,
		# for whichever arch it was configured: start each copy clean.
		if [ -f "$out/$arch/config.mak" ]; then
			make -C "$out/$arch" distclean >/dev/null 2>&1 ||
				rm -f "$out/$arch/config.mak"
		fi
	else
		tar xzf "$tarball" -C "$out/$arch" --strip-components=1
	fi
	(cd "$out/$arch" && ./configure --arch=$arch >/dev/null && make -j"$(nproc)" >build.log 2>&1) ||
		kmx_die "kvm-unit-tests: the $arch build failed"
done
echo "$id" >"$out/.source"
