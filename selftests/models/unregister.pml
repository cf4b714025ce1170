/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unregister.pml - module unregister against in-flight hooks
 *
 * The core protocol of the KVM hook patch (patches/, DESIGN "The hook API"):
 *
 *   hook site in KVM, e.g. before fast_page_fault() in direct_page_fault():
 *     if (static_branch_unlikely(&kvm_mmu_ext_key)) {
 *             idx = srcu_read_lock(&kvm_mmu_ext_srcu);
 *             ops = srcu_dereference(kvm_mmu_ext_ops, &kvm_mmu_ext_srcu);
 *             if (ops && ops->fast_pf)
 *                     r = ops->fast_pf(vcpu, fault);   <- module text, may sleep
 *             srcu_read_unlock(&kvm_mmu_ext_srcu, idx);
 *     }
 *
 *   kvm_mmu_ext_register(ops) (patches/0001, under a mutex):
 *     rcu_assign_pointer(kvm_mmu_ext_ops, ops);
 *     static_branch_enable(&kvm_mmu_ext_key);
 *   kvm_mmu_ext_unregister(ops):
 *     static_branch_disable(&kvm_mmu_ext_key);
 *     RCU_INIT_POINTER(kvm_mmu_ext_ops, NULL);
 *     synchronize_srcu(&kvm_mmu_ext_srcu);
 *   then the module's exit returns and its text and data are freed.
 *   (The order of the first two steps of unregister does not matter for
 *   safety: the model checks the patch's order.)
 *
 * SAFETY PROPERTY
 *   U1: no hook runs module code after kvm_mmu_ext_unregister(ops) returned
 *       and the module was freed:
 *         assert(!module_freed) on entry to and on return from ops->fast_pf().
 *
 * VARIANTS (one -D; default VARIANT_SRCU)
 *   VARIANT_SRCU               shipped: as above.
 *   VARIANT_NO_SYNC_SRCU       broken: unregister without synchronize_srcu();
 *                              the static key alone does not wait for a vCPU
 *                              already past the branch.
 *   VARIANT_DEREF_OUTSIDE_SRCU broken: the hook site reads kvm_mmu_ext_ops
 *                              (READ_ONCE()) before srcu_read_lock().
 *
 * PROMELA VARIABLE  ->  C
 *   key            kvm_mmu_ext_key (static key; a patched branch is modelled
 *                  as a load of this flag)
 *   ops            kvm_mmu_ext_ops (0 = NULL, 1 = the module's ops)
 *   srcu_in[v]     vCPU v is inside srcu_read_lock(&kvm_mmu_ext_srcu)
 *   module_freed   the module's text/data were freed (free_module())
 *   in_hook[v]     ghost: vCPU v is executing module text
 *
 * ABSTRACTIONS
 *   Sequential consistency: srcu_read_lock()/unlock() and synchronize_srcu()
 *   provide the needed ordering.  synchronize_srcu() waits until each reader
 *   has been seen outside a read-side critical section.  static_branch_*()
 *   and text poking are modelled as a flag; their only role is performance.
 *   The module registers once and unregisters once.
 *
 * BOUNDS: NR_VCPUS=2 vCPUs, NR_HOOKS=2 hook invocations each, the hook body
 *   is two steps (entry, return).
 */

#if !defined(VARIANT_SRCU) && !defined(VARIANT_NO_SYNC_SRCU) && \
    !defined(VARIANT_DEREF_OUTSIDE_SRCU)
#define VARIANT_SRCU
#endif

#ifndef NR_VCPUS
#define NR_VCPUS	2
#endif
#ifndef NR_HOOKS
#define NR_HOOKS	2
#endif

bit key;
bit ops;
bit srcu_in[NR_VCPUS];
bit module_freed;
bit in_hook[NR_VCPUS];

/* ops->fast_pf(): module text */
inline module_hook(v)
{
	atomic {
		assert(!module_freed);
		in_hook[v] = 1
	};
	/* the hook may sleep here */
	atomic {
		assert(!module_freed);
		in_hook[v] = 0
	}
}

proctype vcpu(byte v)
{
	byte k;
	bit o;

	do
	:: k < NR_HOOKS ->
		if
		:: key ->			/* static_branch_unlikely() */
#ifdef VARIANT_DEREF_OUTSIDE_SRCU
			o = ops;		/* READ_ONCE() before the lock */
			srcu_in[v] = 1;		/* srcu_read_lock() */
#else
			srcu_in[v] = 1;		/* srcu_read_lock() */
			o = ops;		/* srcu_dereference() */
#endif
			if
			:: o -> module_hook(v)
			:: else -> skip
			fi;
			o = 0;
			srcu_in[v] = 0		/* srcu_read_unlock() */
		:: else -> skip
		fi;
		k++
	:: else -> break
	od
}

/* synchronize_srcu(&kvm_mmu_ext_srcu) */
inline synchronize_srcu()
{
	i = 0;
	do
	:: i < NR_VCPUS -> !srcu_in[i]; i++
	:: else -> break
	od;
	i = 0
}

proctype module()
{
	byte i;

	/* module_init(): kvm_mmu_ext_register(ops) */
	ops = 1;			/* rcu_assign_pointer() */
	key = 1;			/* static_branch_enable() */

	/* module_exit(): kvm_mmu_ext_unregister(ops) */
	key = 0;			/* static_branch_disable() */
	ops = 0;			/* RCU_INIT_POINTER(kvm_mmu_ext_ops, NULL) */
#ifndef VARIANT_NO_SYNC_SRCU
	synchronize_srcu();
#endif
	/* module_exit() returned: the module is freed */
	module_freed = 1
}

init
{
	byte i;

	atomic {
		run module();
		for (i : 0 .. NR_VCPUS - 1) {
			run vcpu(i)
		}
	}
}
