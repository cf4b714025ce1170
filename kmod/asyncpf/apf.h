/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: the async page fault policy and audit's entry points
 * (FULL build); asyncpf.h holds the per-VM audit state.
 */
#ifndef _KVM_MMU_EXT_APF_H
#define _KVM_MMU_EXT_APF_H

#include <linux/types.h>

#ifdef KVM_MMU_EXT_FULL
struct kvm_vcpu;
struct kvm_async_pf;
struct kmx_vm;

bool kmx_apf_setup(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, gfn_t gfn);
void kmx_apf_event(struct kvm_vcpu *vcpu, struct kvm_async_pf *work,
		   int event);
int kmx_apf_init(void);
void kmx_apf_exit(void);
#ifdef KVM_MMU_EXT_DEBUG
void kmx_apf_vm_debugfs_init(struct kmx_vm *vm);
#endif
#endif

#endif /* _KVM_MMU_EXT_APF_H */
