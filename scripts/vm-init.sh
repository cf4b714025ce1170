#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test VM's initramfs.  Mounts the host's root read-only over
# 9p with a tmpfs overlay, the way virtme does, and hands over to the
# guest runner named on the kernel command line (kmx.guest=).
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# Nothing can run without the host's root: report it on the console
# (vm-run.sh quotes the first "kmx-init:" line) and power off.
die()
{
	echo "kmx-init: $*"
	poweroff -f
	echo o >/proc/sysrq-trigger
	while :; do sleep 60; done
}

# Debian's kernel has 9p and overlay as modules; the sanitizer kernel has
# them built in.
grep -qw 9p /proc/filesystems ||
	for m in netfs 9pnet 9pnet_virtio 9p overlay; do
		insmod /lib/modules/$m.ko || die "cannot load $m"
	done

# kmx.hostroot= names another 9p tag: how make check shows that a failed
# mount fails the boot.
tag=hostroot
for a in $(cat /proc/cmdline); do
	case $a in
	kmx.hostroot=*) tag=${a#kmx.hostroot=} ;;
	esac
done

mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose \
	"$tag" /lower || die "cannot mount the host root (9p tag $tag)"
mount -t tmpfs -o size=1G tmpfs /rw || die "cannot mount a tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay \
	-o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	die "cannot mount the overlay"

guest=
for a in $(cat /proc/cmdline); do
	case $a in
	kmx.guest=*) guest=${a#kmx.guest=} ;;
	esac
done

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$guest"
