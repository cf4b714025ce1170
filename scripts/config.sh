# SPDX-License-Identifier: GPL-2.0
# Shared settings for the bench scripts: the pinned dev kernel and where the
# cache lives.  Sourced, never executed.  Every path can be overridden from
# the environment, so a user can point the bench at their own kernel.

KMX_TOP=${KMX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# The pinned Debian packages (bookworm-security).
KMX_PKG_VERSION=${KMX_PKG_VERSION:-6.12.117-1~deb12u1}
KMX_KABI=${KMX_KABI:-6.12.117+deb12}
KMX_KREL=${KMX_KREL:-$KMX_KABI-amd64}

KMX_CACHE=${KMX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvm-mmu-ext}
KMX_DEBS=$KMX_CACHE/debs
KMX_ROOT=${KMX_ROOT:-$KMX_CACHE/$KMX_KREL}

# What the rest of the bench consumes.  Override these four to use a kernel
# of your own instead of the pinned packages.
KMX_KSRC=${KMX_KSRC:-$KMX_ROOT/usr/src/linux-source-6.12}
KMX_KDIR=${KMX_KDIR:-$KMX_ROOT/usr/src/linux-headers-$KMX_KREL}
KMX_VMLINUZ=${KMX_VMLINUZ:-$KMX_ROOT/boot/vmlinuz-$KMX_KREL}
KMX_MODDIR=${KMX_MODDIR:-$KMX_ROOT/lib/modules/$KMX_KREL}

# Build products live in the work tree, ignored by git.
KMX_BUILD=${KMX_BUILD:-$KMX_TOP/build}
KMX_KVM_BUILD=${KMX_KVM_BUILD:-$KMX_BUILD/kvm}

# The test VM's QEMU (scripts/qemu-build.sh): bookworm's qemu source with
# Debian's patches and qemu/*.patch.  KMX_QEMU=qemu-system-x86_64 runs the
# distribution's own instead, with the emulator bugs those patches fix.
KMX_QEMU_PINNED_VERSION=7.2+dfsg-7+deb12u18
KMX_QEMU_SRC_VERSION=${KMX_QEMU_SRC_VERSION:-$KMX_QEMU_PINNED_VERSION}
KMX_QEMU_ORIG_SHA256=91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f
# The Debian tarball of the pinned version; another version is checked
# against its .dsc only.
KMX_QEMU_DEBIAN_SHA256=28a1c86310ee53b6bf1854cffe6f6be6ed29a08db7d05759f8ac57b8d6a6cb2f
KMX_QEMU_BUILT=$KMX_CACHE/qemu/$KMX_QEMU_SRC_VERSION-$(cat "$KMX_TOP"/qemu/*.patch "$KMX_TOP"/scripts/qemu-build.sh | sha256sum | cut -c1-12)/bin/qemu-system-x86_64
KMX_QEMU=${KMX_QEMU:-$KMX_QEMU_BUILT}

# package:sha256 of every pinned .deb.  apt also checks the archive's
# signatures; this pins the exact bytes the results were measured with.
KMX_PKGS=(
	"linux-source-6.12:e849faf31ca3555757f3a8877cb01af92122f744f75d1f3102734651c4e14703"
	"linux-image-$KMX_KREL-unsigned:5de3e329c887173debec07ff1325c975cf4f286d364929d17fecb1e1325c5c46"
	"linux-headers-$KMX_KREL:8ee4c67f8399bc6f9aa1c5256d9d1b1b7eace76c7acca519e63f1b7df5fc4bd0"
	"linux-headers-$KMX_KABI-common:0c70107dda266a9d26dc119d80a71589202b17fbf4d4ddf544681c89e2002742"
	"linux-kbuild-$KMX_KABI:69761d1daf39e43485d278cc7066f77c15edc3b881d6e47afd61cf0da0985677"
)

# The kernel log lines that fail a run: WARN, BUG, oops, lockdep, KASAN,
# UBSAN, refcount and list corruption, poison, soft lockups, RCU stalls and
# hung tasks.  One pattern for the guest's dmesg scan (vm-guest.sh) and the
# host's console scan (vm-run.sh).
KMX_SPLAT_RE='WARNING:|\bBUG[: ]|Oops|general protection|Call Trace|lockdep|KASAN|UBSAN|refcount_t:|Poison overwritten|list_(add|del) corruption|rcu: INFO|detected stalls|blocked for more than|Kernel panic'

# kvm-unit-tests for the kut lane (scripts/kut-build.sh, vm-steps.sh): the
# tests make check runs in every mode.  KMX_KUT_TESTS=all runs every entry
# of the suite's unittests.cfg (make kut).
KMX_KUT_TESTS=${KMX_KUT_TESTS:-smap emulator memory pcid-enabled pcid-disabled pcid-asymmetric sieve rmap_chain eventinj syscall tsc umip idt_test xsave hypercall realmode taskswitch2 vmexit_cpuid}
kmx_die()
{
	echo "kvm-mmu-ext: error: $*" >&2
	exit 1
}

kmx_log()
{
	echo "kvm-mmu-ext: $*" >&2
}

# "bash scripts/config.sh NAME" prints one setting, for the Makefile.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -eq 1 ]; then
	eval "echo \"\${$1}\""
fi
