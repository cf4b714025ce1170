#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the pinned kernel in QEMU, run a plan of tests in the given MMU
# modes, and print their TAP result lines (unnumbered; check.sh numbers
# them).  Exit status 0 only if every line is a pass and the guest wrote
# its completion marker.
#
#   vm-run.sh --name N --flavour release|debug|stock|sanitizer
#             --modes "tdp shadow"
#             --tests "smoke_test @step" [--no-panic-on-warn]
#             [--allow REGEX] [--module-args "a=b"] [--timeout SECONDS]
#             [--env "VAR=value ..."]   (exported to the tests)
#             [--cmdline "a=b"]         (more kernel arguments)
set -euo pipefail
. "$(dirname "$0")/config.sh"

name=vm flavour=release modes="tdp legacy-tdp shadow" tests="" allow=""
panic_on_warn=1 module_args="" timeout=${KMX_VM_TIMEOUT:-2400} env="" extra=""
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift ;;
	--flavour) flavour=$2; shift ;;
	--modes) modes=$2; shift ;;
	--tests) tests=$2; shift ;;
	--allow) allow=$2; shift ;;
	--module-args) module_args=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--env) env=$2; shift ;;
	--cmdline) extra=$2; shift ;;
	--no-panic-on-warn) panic_on_warn=0 ;;
	*) kmx_die "vm-run.sh: unknown argument $1" ;;
	esac
	shift
done

vmdir=$KMX_BUILD/vm
mkdir -p "$vmdir"
initrd=$vmdir/initramfs.cpio.gz

# The initramfs: static busybox, the 9p and overlay modules of the pinned
# image (decompressed: busybox insmod has no xz), and vm-init.sh as /init.
build_initramfs()
{
	local d=$vmdir/initramfs m f

	rm -rf "$d"
	mkdir -p "$d"/{bin,dev,proc,sys,lib/modules}
	cp /bin/busybox "$d/bin/busybox"
	cp "$KMX_TOP/scripts/vm-init.sh" "$d/init"
	for m in fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p \
		 fs/overlayfs/overlay; do
		f=$KMX_MODDIR/kernel/$m.ko
		if [ -f "$f.xz" ]; then
			xz -dc "$f.xz" >"$d/lib/modules/$(basename "$m").ko"
		else
			cp "$f" "$d/lib/modules/"
		fi
	done
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
}
# Two boots may start at once (make check runs two lanes): one builds.
exec 8>"$vmdir/initramfs.lock"
flock 8
if [ ! -f "$initrd" ] || [ "$KMX_TOP/scripts/vm-init.sh" -nt "$initrd" ] ||
   [ "$KMX_TOP/scripts/vm-run.sh" -nt "$initrd" ]; then
	build_initramfs
fi
exec 8>&-

# The kernel, its modules and KVM: Debian's pinned image and the patched
# KVM of build/kvm, or the sanitizer kernel with KVM patched in its tree.
vmlinuz=$KMX_VMLINUZ root=$KMX_ROOT kvm=$KMX_KVM_BUILD kvm_deps="irqbypass ccp"
# Debian's kernel has only slab and page poisoning; the sanitizer kernel
# has KASAN, which they would only slow down, and its own options.
poison="slub_debug=FZPU page_poison=1 init_on_free=1"
case $flavour in
release) module=$KMX_TOP/kvm-mmu-ext.ko ;;
debug) module=$KMX_BUILD/debug/kvm-mmu-ext.ko ;;
stock) module=$KMX_BUILD/stock/kvm-mmu-ext.ko ;;
sanitizer)
	module=$KMX_BUILD/sanitizer/kvm-mmu-ext.ko
	san=$(bash "$KMX_TOP/scripts/build-sanitizer-kernel.sh" --built) ||
		kmx_die "the sanitizer kernel is not built: run make sanitizer"
	vmlinuz=$san/arch/x86/boot/bzImage
	root=${san%/build}/root
	kvm=$root/lib/modules/$(cat "$san/include/config/kernel.release")/kernel/arch/x86/kvm
	kvm_deps=irqbypass
	# With five-level paging (-cpu max has la57), KASAN reports a
	# wild-memory-access in the first interrupt of the boot.
	poison=no5lvl ;;
*) kmx_die "unknown flavour $flavour" ;;
esac
[ -f "$module" ] || kmx_die "$module is not built"

plan=$vmdir/$name.plan
console=$vmdir/$name.console
results=$vmdir/$name.results
# The guest's async PF tests hold the emulator to one delivery per
# injection only where qemu/*.patch applies: TCG, in the QEMU make qemu built.
patched=0
[ "${ACCEL:-tcg}" = tcg ] && [ "$KMX_QEMU" = "$KMX_QEMU_BUILT" ] && patched=1
cat >"$plan" <<PLAN
KMX_TOP='$KMX_TOP'
KMX_CACHE='$KMX_CACHE'
KMX_ROOT='$root'
KMX_BUILD='$KMX_BUILD'
KMX_KVM_BUILD='$kvm'
KMX_KVM_DEPS='$kvm_deps'
KMX_FLAVOUR='$flavour'
KMX_MODULE='$module'
KMX_MODULE_ARGS='$module_args'
KMX_MODES='$modes'
KMX_TESTS='$tests'
KMX_ALLOW='$allow'
export KMX_QEMU_PATCHED=$patched
${env:+export $env}
. '$KMX_TOP/scripts/vm-steps.sh'
PLAN

cmdline="console=ttyS0 panic=-1 oops=panic panic_on_warn=$panic_on_warn"
cmdline+="${poison:+ $poison}"
cmdline+=" kmx.guest=$KMX_TOP/scripts/vm-guest.sh kmx.plan=$plan"
cmdline+=" quiet loglevel=4 mitigations=off${extra:+ $extra}"

qemu_version()
{
	"$KMX_QEMU" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p'
}

command -v "$KMX_QEMU" >/dev/null ||
	kmx_die "no QEMU at $KMX_QEMU: run make qemu (or set KMX_QEMU)"

accel=${ACCEL:-tcg}
case $accel in
tcg) accel_opts=(-accel "tcg,thread=${KMX_TCG_THREAD:-single}" -cpu max) ;;
kvm) accel_opts=(-accel kvm -cpu host) ;;
*) kmx_die "ACCEL must be tcg or kvm" ;;
esac

: >"$results"
: >"$console"
start=$(date +%s)
set +e
timeout --foreground -k 10 "$timeout" "$KMX_QEMU" \
	"${accel_opts[@]}" -smp 2 -m "${KMX_VM_MEM:-3G}" \
	-nographic -no-reboot -nodefaults \
	-kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-serial "file:$console" -serial "file:$results" \
	-device virtio-rng-pci </dev/null >/dev/null 2>"$vmdir/$name.qemu.err"
qrc=$?
set -e
elapsed=$(( $(date +%s) - start ))

fail=0 got=0
while read -r l; do
	case $l in
	"ok "*) echo "$l"; got=$((got + 1)) ;;
	"not ok "*) echo "$l"; fail=1; got=$((got + 1)) ;;
	esac
done < <(tr -d '\r' <"$results")

# A second line of defence, on the host: splats on the console.
splats=$(grep -aE "$KMX_SPLAT_RE" "$console" | tr -d '\r' || true)
[ -n "$allow" ] && splats=$(grep -vE "$allow" <<<"$splats" || true)
done_line=$(tr -d '\r' <"$results" | grep -E '^kmx-done( [0-9]+)?$' | tail -n 1 || true)
sent=${done_line#kmx-done}
sent=${sent# }
# An emulator bug is its own result, never a pass and never a test's
# failure: QEMU died on an assertion or a signal of its own.
abort=$(grep -aE 'assertion failed|Assertion .* failed|qemu: fatal|Aborted' \
	"$vmdir/$name.qemu.err" | head -n 1 || true)
if [ -n "$abort" ] || [ "$qrc" = 134 ] || [ "$qrc" = 139 ]; then
	echo "not ok qemu_abort $name # L0 QEMU $(qemu_version) exit $qrc after ${elapsed}s: ${abort:-died of a signal}"
	fail=1
elif [ -z "$done_line" ]; then
	why="no completion marker (qemu exit $qrc after ${elapsed}s)"
	init=$(grep -a '^kmx-init:' "$console" | tr -d '\r' | head -n 1 || true)
	[ -n "$init" ] && why="$why: $init"
	[ -n "$splats" ] && why="$why: $(head -n 1 <<<"$splats")"
	echo "not ok vm_boot $name # $why"
	fail=1
elif [ -z "$sent" ] || [ "$sent" != "$got" ] || [ "$got" -eq 0 ]; then
	echo "not ok vm_results $name # the guest wrote ${sent:-an unknown number of} results, the host read $got"
	fail=1
elif [ -n "$splats" ]; then
	echo "not ok console_clean $name # $(head -n 1 <<<"$splats")"
	fail=1
fi
echo "# vm $name: ${elapsed}s, console in $console" >&2
exit $fail
