#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Is KVM_SRC a KVM tree that the FULL build can compile against?  Each
# patch of the series the module needs leaves a mark in the tree, and so
# does each KVM internal that the module copies rather than includes
# (static_assert pins those it includes, at compile time).  The first one
# missing stops the build with one line.
set -euo pipefail

src=${1:?usage: probe-kvm.sh KVM_SRC}
kvm=$src/arch/x86/kvm

fail()
{
	echo "kvm-mmu-ext: $src: $*" >&2
	exit 1
}

[ -f "$kvm/mmu.h" ] || fail "not a KVM source tree (no arch/x86/kvm/mmu.h)"

# file (under arch/x86/kvm), a string that patch adds, the patch.
marks=(
	"mmu.h|struct kvm_mmu_ext_ops {|0001-KVM-x86-mmu-add-a-registration-API-for-an-MMU-extens.patch"
	"mmu.h|(*fast_page_fault)(|0002-KVM-x86-mmu-add-a-fast-page-fault-hook-for-the-MMU-e.patch"
	"mmu.h|(*write_protect)(|0003-KVM-x86-mmu-add-a-write-protect-hook-for-the-MMU-ext.patch"
	"mmu/paging_tmpl.h|FNAME(gpte_recheck)(|0004-KVM-x86-mmu-add-a-gpte-recheck-hook-to-FNAME-fetch.patch"
	"mmu.h|(*flush_memslot)(|0005-KVM-x86-mmu-add-a-memslot-flush-hook-for-the-MMU-ext.patch"
	"mmu.h|KVM_MMU_EXT_APF_UNSENT,|0006-KVM-x86-add-async-page-fault-hooks-for-the-MMU-exten.patch"
	"mmu/spte.c|EXPORT_SYMBOL_GPL(shadow_mmu_writable_mask);|0007-KVM-x86-mmu-export-the-spte-masks-that-a-lockless-fa.patch"
	"mmu.h|kvm_mmu_ext_unmap_rmap(|0008-KVM-x86-mmu-let-the-MMU-extension-unmap-a-deleted-me.patch"
)
for m in "${marks[@]}"; do
	IFS='|' read -r file mark patch <<<"$m"
	grep -qF -- "$mark" "$kvm/$file" ||
		fail "patches/$patch is not applied (no '$mark' in arch/x86/kvm/$file)"
done

# What kmod/mmu/rmap_unmap.c copies from mmu.c, which no header exports:
# the rmap encoding and struct pte_list_desc, for its being_unmapped-nolock
# control.
copied=(
	"#define KVM_RMAP_MANY	BIT(0)"
	"#define KVM_RMAP_LOCKED	BIT(1)"
	"#define PTE_LIST_EXT 14"
	"	struct pte_list_desc *more;"
	"	u32 spte_count;"
	"	u32 tail_count;"
	"	u64 *sptes[PTE_LIST_EXT];"
)
for c in "${copied[@]}"; do
	grep -qxF -- "$c" "$kvm/mmu/mmu.c" ||
		fail "arch/x86/kvm/mmu/mmu.c no longer has '$c', which kmod/mmu/rmap_unmap.c copies"
done
