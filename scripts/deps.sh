#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the host tools the bench needs, with apt-get, only when missing.
# Idempotent: a second run does nothing and touches no network.
set -euo pipefail

# command:package pairs; the command is how we tell it is there.
need=(
	qemu-system-x86_64:qemu-system-x86
	busybox:busybox-static
	pahole:pahole
	rsync:rsync
	cpio:cpio
	dkms:dkms
	trace-cmd:trace-cmd
	bpftrace:bpftrace
	spin:spin
	gnuplot:gnuplot-nox
	bc:bc
	flex:flex
	bison:bison
	xz:xz-utils
	depmod:kmod
	perl:perl
	python3:python3
	pkg-config:pkg-config
	# scripts/qemu-build.sh
	gcc:gcc
	curl:curl
	patch:patch
	meson:meson
	ninja:ninja-build
)
# Headers and libraries have no command to probe.
need_files=(
	/usr/include/libelf.h:libelf-dev
	/usr/include/openssl/ssl.h:libssl-dev
	/usr/lib/python3/dist-packages/docutils:python3-docutils
	# kvm-unit-tests' i386 build (taskswitch, taskswitch2)
	/usr/lib/gcc/x86_64-linux-gnu/12/32/libgcc.a:gcc-multilib
	# scripts/qemu-build.sh: x86_64-softmmu with 9p
	/usr/include/glib-2.0/glib.h:libglib2.0-dev
	/usr/include/pixman-1/pixman.h:libpixman-1-dev
	/usr/include/libfdt.h:libfdt-dev
	/usr/include/cap-ng.h:libcap-ng-dev
	/usr/include/attr/libattr.h:libattr1-dev
)

missing=()
for p in "${need[@]}"; do
	command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}")
done
for p in "${need_files[@]}"; do
	[ -e "${p%%:*}" ] || missing+=("${p#*:}")
done
# busybox must be the static one: it runs as PID 1 in the initramfs.
if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	missing+=(busybox-static)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
echo "kvm-mmu-ext: installing host tools: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >/dev/null
