/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: the async page fault policy and pairing audit.
 */
#ifndef _KVM_MMU_EXT_ASYNCPF_H
#define _KVM_MMU_EXT_ASYNCPF_H

#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/**
 * struct kmx_apf_token - a token the guest was told not-present
 * @node: in &kmx_apf_audit.pending
 * @vcpu_id: the vCPU
 * @token: KVM's token (the guest's CR2 at the not-present #PF)
 * @gfn: the page
 * @t0: ktime_get_ns() at not-present
 * @ready_seen: the ready event came, and recorded @injected
 * @injected: whether KVM had injected the not-present, as its work item
 *	said at the ready event
 */
struct kmx_apf_token {
	struct hlist_node node;
	int vcpu_id;
	u32 token;
	u64 gfn;
	u64 t0;
	bool ready_seen;
	bool injected;
};

/**
 * struct kmx_apf_audit - the tokens of one VM between not-present and ready
 * @lock: protects @pending; taken with interrupts enabled, never from IRQ
 * @pending: &struct kmx_apf_token, keyed by token
 * @drop_ready: (debug build) page-readies still to drop, the audit's
 *	negative control (kmod/asyncpf/apf.c)
 */
struct kmx_apf_audit {
	spinlock_t lock;	/* protects pending */
	DECLARE_HASHTABLE(pending, 7);
	atomic_t drop_ready;
};

static inline void kmx_apf_audit_init(struct kmx_apf_audit *a)
{
	spin_lock_init(&a->lock);
	hash_init(a->pending);
	atomic_set(&a->drop_ready, 0);
}

/* The VM is gone and no hook can see @a any more (an RCU callback). */
static inline void kmx_apf_audit_destroy(struct kmx_apf_audit *a)
{
	struct kmx_apf_token *t;
	struct hlist_node *tmp;
	int b;

	hash_for_each_safe(a->pending, b, tmp, t, node) {
		hash_del(&t->node);
		kfree(t);
	}
}

#endif /* _KVM_MMU_EXT_ASYNCPF_H */
