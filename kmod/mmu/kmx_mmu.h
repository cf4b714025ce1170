/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: the MMU features (FULL build): the lockless fast page
 * fault (fastpf.c), the gpte audit (gpte_audit.c) and the lockless rmap
 * unmap (rmap_unmap.c).  Not named mmu.h: that is KVM's.
 */
#ifndef _KVM_MMU_EXT_MMU_H
#define _KVM_MMU_EXT_MMU_H

#include <linux/types.h>

#ifdef KVM_MMU_EXT_FULL
struct kvm;
struct kvm_vcpu;
struct kvm_memory_slot;
struct kvm_mmu_ext_gpte_walk;
struct kvm_page_fault;
struct kmx_vm;

int kmx_fast_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
void kmx_fastpf_write_protect(u64 *sptep, bool pt_protect, int point);
void kmx_fastpf_debugfs_init(void);
int kmx_fastpf_scheme_ok(u32 scheme);
void kmx_fastpf_scheme_get(u32 scheme);
void kmx_fastpf_scheme_put(u32 scheme);
#ifdef KVM_MMU_EXT_DEBUG
void kmx_fastpf_vm_debugfs_init(struct kmx_vm *vm);
#endif

bool kmx_gpte_fetch(struct kvm_vcpu *vcpu,
		    const struct kvm_mmu_ext_gpte_walk *walk, int point,
		    int level, bool changed, bool existed);
void kmx_gpte_debugfs_init(void);

bool kmx_rmap_flush_begin(struct kvm *kvm, struct kvm_memory_slot *slot,
			  bool zap_all, atomic_t *walkers);
void kmx_rmap_wait(struct kvm *kvm, u64 ns);
void kmx_rmap_audit(struct kvm *kvm, struct kvm_memory_slot *slot);
void kmx_rmap_debugfs_init(void);
void kmx_rmap_debug_exit(void);
#else
static inline int kmx_fastpf_scheme_ok(u32 scheme)
{
	return 0;
}

static inline void kmx_fastpf_scheme_get(u32 scheme)
{
}

static inline void kmx_fastpf_scheme_put(u32 scheme)
{
}
#endif

#endif /* _KVM_MMU_EXT_MMU_H */
