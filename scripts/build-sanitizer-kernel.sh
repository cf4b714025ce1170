#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the sanitizer kernel for the test VM's debug boot: the pinned
# source with patches/series applied in the tree, configured from
# x86_64_defconfig, kvm_guest.config and configs/sanitizer.config, with
# KVM, kvm-amd and irqbypass as modules.  Cached under
# KMX_CACHE/sanitizer/<key>, the key covering the source version, the
# fragment, the series and this script, so a second run builds nothing.
# Prints the build directory.
#
#   build-sanitizer-kernel.sh [--built]
set -euo pipefail
. "$(dirname "$0")/config.sh"

frag=$KMX_TOP/configs/sanitizer.config
series=$KMX_TOP/patches/series
key=$( { echo "$KMX_PKG_VERSION"; cat "$frag" "$0" "$series";
	 grep -v '^#' "$series" | sed "s|^|$KMX_TOP/patches/|" | xargs cat; } |
	sha256sum | cut -c1-12)
top=$KMX_CACHE/sanitizer
dir=$top/$KMX_PKG_VERSION-$key
src=$dir/src
out=$dir/build

# --built: print the build directory if it is built, else fail.
[ -f "$dir/.done" ] && { echo "$out"; exit 0; }
[ "${1:-}" != --built ] || exit 1
[ -f "$KMX_KSRC/Makefile" ] || kmx_die "no pinned source at $KMX_KSRC: run make fetch"

# One build at a time, under a lock; a build that did not finish has no
# .done and is started again.  (A kernel build directory names its source
# by absolute path, so it is built in place, not renamed.)
mkdir -p "$top"
exec 9>"$top/.lock"
flock 9
[ -f "$dir/.done" ] && { echo "$out"; exit 0; }
rm -rf "$dir"
mkdir -p "$dir"
start=$(date +%s)

# A hard-linked copy of the pinned source; each file the series touches
# is copied for real before it is patched.
cp -al "$KMX_KSRC" "$src"
# The pinned tree may hold generated headers of the selftests build.
make -C "$src" -s mrproper
patches=$(grep -v '^#' "$series" | sed "s|^|$KMX_TOP/patches/|")
for f in $(sed -n 's|^+++ b/||p' $patches | sort -u); do
	if [ -f "$src/$f" ]; then
		cp --remove-destination "$KMX_KSRC/$f" "$src/$f"
	fi
done
for p in $patches; do
	(cd "$src" && git apply --whitespace=error-all "$p") ||
		kmx_die "$(basename "$p") does not apply to the pinned $KMX_PKG_VERSION source"
done
# git apply inside some other git work tree applies nothing, silently.
grep -q kvm_mmu_ext_register "$src/arch/x86/kvm/mmu/mmu.c" ||
	kmx_die "the series is not in $src after git apply"
# The page-track hub needs KVM_EXTERNAL_WRITE_TRACKING, which only i915's
# GVT selects (so Debian's kernel has it); this kernel has no i915, so the
# symbol gets a prompt, and the fragment sets it.
kconf=$src/arch/x86/kvm/Kconfig
cp --remove-destination "$KMX_KSRC/arch/x86/kvm/Kconfig" "$kconf"
sed -i '/^config KVM_EXTERNAL_WRITE_TRACKING$/{n;s/^\tbool$/\tbool "External write tracking (for kvm-mmu-ext)"/}' "$kconf"
grep -q 'bool "External write tracking' "$kconf" ||
	kmx_die "cannot give KVM_EXTERNAL_WRITE_TRACKING a prompt in $kconf"
cp "$frag" "$src/kernel/configs/kmx_sanitizer.config"

make -C "$src" O="$out" -s x86_64_defconfig kvm_guest.config kmx_sanitizer.config >&2
# Every line of the fragment must have survived olddefconfig.
miss=0
while IFS= read -r l; do
	case $l in
	"# CONFIG_"*" is not set") l=${l#\# }; l=${l%% *}
		! grep -qE "^$l=[ym]" "$out/.config" ||
		{ kmx_log "sanitizer.config: $l is still set"; miss=1; } ;;
	CONFIG_*) grep -qxF "$l" "$out/.config" ||
		{ kmx_log "sanitizer.config: $l did not stick"; miss=1; } ;;
	esac
done <"$frag"
[ $miss = 0 ] || kmx_die "configs/sanitizer.config does not apply to $KMX_PKG_VERSION"
make -C "$out" -j"$(nproc)" bzImage modules >&2
make -C "$out" -s modules_install INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1 >&2
touch "$dir/.done"
# Keep the two newest builds (another work tree may use the other one).
ls -1dt "$top"/*/.done | tail -n +3 | xargs -r -n 1 dirname | xargs -r rm -rf
find "$top" -mindepth 1 -maxdepth 1 -type d ! -path "$dir" ! -exec test -e {}/.done \; -exec rm -rf {} +
kmx_log "sanitizer kernel built in $(( $(date +%s) - start ))s: $out"
echo "$out"
