// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the audit of the gpte rechecks in FNAME(fetch), through the
 * fetch_gpte hook (FULL build only).
 *
 * FNAME(walk_addr) reads the guest page tables without mmu_lock, and
 * FNAME(fetch) installs sptes later.  A recheck that catches a changed
 * gpte is counted by case: the top level, a middle level whose shadow page
 * existed (1.a) or was just created (1.b), and the last level (2).
 *
 * Debug builds add, in debugfs:
 *	walk_delay_us	busy-wait this long between the walk and the fetch,
 *			to widen the race window (at most 100000)
 *	create_delay_us	busy-wait this long, with mmu_lock held, before
 *			kvm_mmu_get_child_sp() creates a shadow page (after
 *			the check of check-before-create), case 1.b's window
 *			(at most 100000)
 *	walk_delay_vcpus  the vCPU ids (a bit mask) to delay; 0: all
 *	gpte_variant	"stock", or a broken recheck used as a negative
 *			control: "wrong-level" rechecks it.level instead of
 *			it.level - 1 after kvm_mmu_get_child_sp();
 *			"check-before-create" rechecks it.level - 1 before
 *			kvm_mmu_get_child_sp() instead of after
 * and, after each fetch, a re-read of the walk's gptes that counts leaf
 * sptes installed while one of them already differed.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kvm_host.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "trace.h"

#include "mmu.h"

enum kmx_gpte_variant {
	KMX_GPTE_STOCK,
	KMX_GPTE_WRONG_LEVEL,
	KMX_GPTE_CHECK_BEFORE_CREATE,
	KMX_GPTE_NR,
};

static const char * const kmx_gpte_variant_names[KMX_GPTE_NR] = {
	[KMX_GPTE_STOCK]		= "stock",
	[KMX_GPTE_WRONG_LEVEL]		= "wrong-level",
	[KMX_GPTE_CHECK_BEFORE_CREATE]	= "check-before-create",
};

static unsigned int kmx_gpte_variant_sel;	/* debug builds only */
static unsigned int kmx_walk_delay_us;		/* debug builds only */
static unsigned int kmx_walk_delay_vcpus;	/* debug builds only */
static unsigned int kmx_create_delay_us;	/* debug builds only */

/*
 * Debug builds: the broken variants and the delays act only on VMs with a
 * handle, whose VMM asked for the module, never on the host's other VMs.
 */
static bool kmx_gpte_attached(struct kvm *kvm)
{
	bool r;

	rcu_read_lock();
	r = kmx_vm_lookup_rcu(kvm);
	rcu_read_unlock();
	return r;
}

/* Busy-wait @us for @vcpu if walk_delay_vcpus selects it; counts it. */
static void kmx_gpte_delay(struct kvm_vcpu *vcpu, unsigned int us,
			   enum kmx_stat stat)
{
	unsigned int vcpus = READ_ONCE(kmx_walk_delay_vcpus);

	if (!us || (vcpus && (vcpu->vcpu_id >= 32 || !(vcpus & BIT(vcpu->vcpu_id)))) ||
	    !kmx_gpte_attached(vcpu->kvm))
		return;
	kmx_kvm_stat_add(vcpu->kvm, stat, 1);
	/* A busy-wait on purpose: mmu_lock may be held. */
	mdelay(us / 1000);
	udelay(us % 1000);
}

/* Whether the gpte at @glevel differs from what the walk read. */
static bool kmx_gpte_differs(struct kvm_vcpu *vcpu,
			     const struct kvm_mmu_ext_gpte_walk *walk, int glevel)
{
	u64 cur = 0;

	if (glevel < 1 || glevel > walk->levels)
		return false;
	/* 4 bytes for 32-bit paging; 8 for PAE, which has two levels too. */
	if (kvm_vcpu_read_guest_atomic(vcpu, walk->gpa[glevel - 1], &cur,
				       walk->gpte_bytes))
		return true;
	return cur != walk->gpte[glevel - 1];
}

/* The counter of a recheck at @point and guest level @glevel that caught a change. */
static enum kmx_stat kmx_gpte_case(const struct kvm_mmu_ext_gpte_walk *walk,
				   int point, int glevel, bool existed)
{
	if (point == KVM_MMU_EXT_FETCH_TOP)
		return KMX_STAT_GPTE_CAUGHT_TOP;
	if (glevel <= walk->leaf_level)
		return KMX_STAT_GPTE_CAUGHT_2;
	return existed ? KMX_STAT_GPTE_CAUGHT_1A : KMX_STAT_GPTE_CAUGHT_1B;
}

/**
 * kmx_gpte_fetch() - the fetch_gpte hook
 * @vcpu: the faulting vCPU
 * @walk: the guest walk
 * @point: a KVM_MMU_EXT_FETCH_* point
 * @level: the shadow iterator's level, or the top level
 * @changed: KVM's own verdict
 * @existed: whether the child shadow page existed
 *
 * Return: the verdict FNAME(fetch) acts on: KVM's own, except under a
 * debug variant.
 */
bool kmx_gpte_fetch(struct kvm_vcpu *vcpu,
		    const struct kvm_mmu_ext_gpte_walk *walk, int point,
		    int level, bool changed, bool existed)
{
	unsigned int variant = KMX_DEBUG_BUILD ? READ_ONCE(kmx_gpte_variant_sel) : 0;
	struct kmx_vm *vm;
	int glevel;

	if (variant && !kmx_gpte_attached(vcpu->kvm))
		variant = KMX_GPTE_STOCK;

	switch (point) {
	case KVM_MMU_EXT_FETCH_WALKED:
		if (KMX_DEBUG_BUILD)
			kmx_gpte_delay(vcpu, READ_ONCE(kmx_walk_delay_us),
				       KMX_STAT_GPTE_WALK_DELAYS);
		return false;
	case KVM_MMU_EXT_FETCH_TOP:
		glevel = level;
		break;
	case KVM_MMU_EXT_FETCH_BEFORE_CHILD:
		if (variant == KMX_GPTE_CHECK_BEFORE_CREATE) {
			glevel = level - 1;
			changed = kmx_gpte_differs(vcpu, walk, glevel);
			if (changed)
				break;
		}
		if (KMX_DEBUG_BUILD && !existed)
			kmx_gpte_delay(vcpu, READ_ONCE(kmx_create_delay_us),
				       KMX_STAT_GPTE_CREATE_DELAYS);
		if (variant != KMX_GPTE_CHECK_BEFORE_CREATE)
			return false;
		break;
	case KVM_MMU_EXT_FETCH_AFTER_CHILD:
		glevel = level - 1;
		if (variant == KMX_GPTE_CHECK_BEFORE_CREATE)
			return false;
		if (variant == KMX_GPTE_WRONG_LEVEL) {
			/* it.level: never below the leaf, so never gpa[-1]. */
			glevel = level;
			changed = kmx_gpte_differs(vcpu, walk, glevel);
		}
		break;
	case KVM_MMU_EXT_FETCH_DONE:
		if (!KMX_DEBUG_BUILD)
			return false;
		for (glevel = walk->leaf_level; glevel <= walk->levels; glevel++) {
			if (kmx_gpte_differs(vcpu, walk, glevel)) {
				kmx_kvm_stat_add(vcpu->kvm, KMX_STAT_GPTE_STALE, 1);
				break;
			}
		}
		return false;
	default:
		return changed;
	}

	/* One lookup for both counters: mmu_lock is held. */
	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(vcpu->kvm);
	kmx_stat_add(vm, KMX_STAT_GPTE_RECHECKS, 1);
	if (changed)
		kmx_stat_add(vm, kmx_gpte_case(walk, point, glevel, existed), 1);
	rcu_read_unlock();
	if (changed)
		trace_kmx_gpte_changed(vcpu->kvm->userspace_pid, point, glevel,
				       existed, walk->gpa[glevel - 1]);
	return changed;
}

#ifdef KVM_MMU_EXT_DEBUG
static const struct kmx_enum_knob gpte_variant_knob = {
	.names	= kmx_gpte_variant_names,
	.nr	= KMX_GPTE_NR,
	.value	= &kmx_gpte_variant_sel,
};

/* 100 ms: a window wide enough for any test, short of a stall. */
#define KMX_GPTE_DELAY_MAX_US	100000

static const struct kmx_u32_knob walk_delay_knob = {
	.value	= &kmx_walk_delay_us,
	.max	= KMX_GPTE_DELAY_MAX_US,
};

static const struct kmx_u32_knob create_delay_knob = {
	.value	= &kmx_create_delay_us,
	.max	= KMX_GPTE_DELAY_MAX_US,
};
#endif

/**
 * kmx_gpte_debugfs_init() - create the debug knobs of the gpte audit
 */
void kmx_gpte_debugfs_init(void)
{
#ifdef KVM_MMU_EXT_DEBUG
	kmx_debugfs_create_enum("gpte_variant", &gpte_variant_knob);
	kmx_debugfs_create_u32_max("walk_delay_us", &walk_delay_knob);
	debugfs_create_x32("walk_delay_vcpus", 0600, kmx_debugfs_root,
			   &kmx_walk_delay_vcpus);
	kmx_debugfs_create_u32_max("create_delay_us", &create_delay_knob);
#endif
}
