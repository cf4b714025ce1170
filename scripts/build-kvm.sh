#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the patched KVM (kvm.ko, kvm-amd.ko, kvm-intel.ko) out of tree:
# copy arch/x86/kvm and virt/kvm from the pinned source, apply
# patches/series, and build against the pinned headers, so that vermagic
# matches the pinned image.
set -euo pipefail
. "$(dirname "$0")/config.sh"

out=$KMX_KVM_BUILD
series=$KMX_TOP/patches/series
tree=$out/src

# Rebuild the copy only when the series or a patch changed.
sum=$(cd "$KMX_TOP/patches" && cat series $(grep -v '^#' series) | sha256sum | cut -d' ' -f1)
if [ ! -f "$tree/.series-$sum" ]; then
	rm -rf "$tree"
	mkdir -p "$tree/arch/x86" "$tree/virt"
	cp -a "$KMX_KSRC/arch/x86/kvm" "$tree/arch/x86/kvm"
	cp -a "$KMX_KSRC/virt/kvm" "$tree/virt/kvm"
	# A git repository, so the series applies with git apply exactly as
	# it would on a kernel tree, and the patched files can be diffed.
	git -C "$tree" init -q
	git -C "$tree" add -A
	git -C "$tree" -c user.name=kmx -c user.email=kmx@localhost \
		commit -q -m "pinned $KMX_PKG_VERSION"
	while read -r p; do
		case $p in ''|'#'*) continue ;; esac
		git -C "$tree" apply --index --whitespace=error-all \
			"$KMX_TOP/patches/$p" ||
			kmx_die "patches/$p does not apply to the pinned $KMX_PKG_VERSION source"
		kmx_log "applied patches/$p"
	done <"$series"

	# Out-of-tree adaptation, not part of the series: the in-tree
	# Makefile finds its headers through $(srctree), which is the headers
	# package here.  The trace headers are included as
	# "../../arch/x86/kvm/trace.h" relative to include/trace/, so give
	# the preprocessor an include/trace/ of our own to resolve that from.
	sed -i -e 's|-I \$(srctree)/arch/x86/kvm|-I $(src) -I $(src)/../../../include/trace|' \
		-e 's|^include \$(srctree)/virt/kvm/|include $(src)/../../../virt/kvm/|' \
		"$tree/arch/x86/kvm/Makefile"
	mkdir -p "$tree/include/trace"
	touch "$tree/.series-$sum"
fi

make -C "$KMX_KDIR" M="$tree/arch/x86/kvm" -j"$(nproc)" modules >&2
ln -sf "$tree/arch/x86/kvm/Module.symvers" "$out/Module.symvers"
for m in kvm kvm-amd kvm-intel; do
	ln -sf "$tree/arch/x86/kvm/$m.ko" "$out/$m.ko"
done
modinfo -F vermagic "$out/kvm.ko" | grep -q "^$KMX_KREL " ||
	kmx_die "kvm.ko vermagic does not match $KMX_KREL"
kmx_log "patched KVM built in $out"
