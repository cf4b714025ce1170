// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the registry of attached VMs, which every hook looks its
 * VM up in.  Below the features: vm.c adds and removes entries, under
 * kmx_vms_lock; the hooks read them under RCU.
 */
#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/mutex.h>

#include "kvm_mmu_ext.h"
#include "vm.h"

DEFINE_HASHTABLE(kmx_vms, KMX_VMS_BITS);
/* Serialises adding and removing entries; readers use RCU. */
DEFINE_MUTEX(kmx_vms_lock);

/**
 * kmx_vm_lookup_rcu() - find the state of an attached VM
 * @kvm: the VM
 *
 * Context: rcu_read_lock() held (or kmx_vms_lock); the result stays valid
 * until it is dropped.
 * Return: the state, or NULL if no handle is attached to @kvm.
 */
struct kmx_vm *kmx_vm_lookup_rcu(const struct kvm *kvm)
{
	struct kmx_vm *vm;

	hash_for_each_possible_rcu(kmx_vms, vm, node, (unsigned long)kvm,
				   lockdep_is_held(&kmx_vms_lock))
		if (vm->kvm == kvm)
			return vm;
	return NULL;
}

/**
 * kmx_kvm_stat_add() - add to a counter of a VM, if attached, and of the module
 * @kvm: the VM
 * @stat: the counter
 * @n: the amount
 *
 * Context: any; takes rcu_read_lock().
 */
void kmx_kvm_stat_add(const struct kvm *kvm, enum kmx_stat stat, s64 n)
{
	rcu_read_lock();
	kmx_stat_add(kmx_vm_lookup_rcu(kvm), stat, n);
	rcu_read_unlock();
}

#ifdef KVM_MMU_EXT_DEBUG
/*
 * For the lock-order control (debug builds): tell lockdep that
 * kmx_vms_lock, which kmx_vm_get() takes before kmx_vm_debugfs_init()'s
 * lock, is taken here, without taking it, so that the control cannot
 * deadlock against a real attach.  Without lockdep there is nothing to
 * show: -EOPNOTSUPP.
 */
int kmx_vms_lock_cycle(void)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	mutex_acquire(&kmx_vms_lock.dep_map, 0, 0, _RET_IP_);
	mutex_release(&kmx_vms_lock.dep_map, _RET_IP_);
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}
#endif
