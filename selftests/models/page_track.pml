/* SPDX-License-Identifier: GPL-2.0 */
/*
 * page_track.pml - the page-track hub: notifier register/unregister against
 * a notifier walk under SRCU, and per-gfn watcher refcounts
 *
 * Source thread: "KVM: x86: mmu: allow to enable write tracking externally"
 * (2022), shared/seeds/001.
 *
 * The module keeps one kvm_page_track_notifier_node per VM, embedded in its
 * per-VM hub (kfree()d as a whole).  Two watchers (userspace handles) add
 * and remove overlapping watched ranges; the first watcher registers the
 * node, the last one unregisters and frees it, so a node can be born and
 * die twice.  A vCPU emulates guest writes concurrently; each runs the
 * notifier walk.
 *
 *   watcher(0) watches gfns {0, 1}, watcher(1) watches gfn {1}: gfn 1 is
 *   watched twice.  Each watcher attaches once and detaches once.
 *
 *   attach (hub->lock held):
 *     if (!hub->nr_watchers++) { n = kzalloc(); n->track_write = cb;
 *       kvm_page_track_register_notifier(kvm, n) }   WARN if n registered
 *     for each gfn g: if (!hub->ref[g]++) kvm_write_track_add_gfn(kvm, g)
 *   detach (hub->lock held):
 *     for each gfn g: if (!--hub->ref[g]) kvm_write_track_remove_gfn(kvm, g)
 *     if (!--hub->nr_watchers) { kvm_page_track_unregister_notifier(kvm, n)
 *       [hlist_del_rcu() under mmu_lock, synchronize_srcu(&head->track_srcu)];
 *       kfree(n) }
 *   vCPU, __kvm_page_track_write():
 *     if (hlist_empty()) return; idx = srcu_read_lock(&head->track_srcu);
 *     for each n on the list: n->track_write(gpa, new, bytes, n);
 *     srcu_read_unlock(&head->track_srcu, idx)
 *
 * SAFETY PROPERTIES
 *   T1: a callback never runs on a freed node:
 *         assert(!node_freed[n]) when n->track_write() is called.
 *   T2: write-track counts never go negative (update_gfn_write_track()'s
 *       WARN_ON_ONCE) and return to zero: assert(gfn_write_track[g] > 0)
 *       before each decrement, and at the end, after every watcher
 *       detached, assert(gfn_write_track[g] == 0) for every g.
 *   Also checked: the hub never registers a node twice (the thread's WARN
 *   on redundant registration): assert(!node_registered[n]).
 *
 * VARIANTS (one -D; default VARIANT_HUB)
 *   VARIANT_HUB            shipped: as above.
 *   VARIANT_NO_SYNC_SRCU   broken: unregister without synchronize_srcu()
 *                          before kfree() (T1 fails).
 *   VARIANT_PLAIN_REFCOUNT broken: hub->ref[g] updated with a plain
 *                          read-modify-write outside hub->lock (T2 fails).
 *
 * PROMELA VARIABLE  ->  C
 *   list_head             kvm->arch.track_notifier_head.track_notifier_list
 *                         (0 = empty, n = our node; one node per VM)
 *   node_registered[n], node_freed[n]   node n is on the list / kfree()d
 *   srcu_in[r]            reader r is inside srcu_read_lock(&head->track_srcu)
 *   hub_lock              hub->lock (mutex)
 *   nr_watchers, hub_ref[g]   hub->nr_watchers, hub->ref[g]
 *   gfn_write_track[g]    slot->arch.gfn_write_track[g] (updated under
 *                         mmu_lock by kvm_write_track_add/remove_gfn(), so
 *                         one atomic step here)
 *
 * ABSTRACTIONS
 *   Sequential consistency: srcu_read_lock()/unlock() and synchronize_srcu()
 *   contain the full barriers that make this sound.  synchronize_srcu() is
 *   modelled as "wait until each reader has been seen outside a read-side
 *   critical section", which is what SRCU guarantees for readers that
 *   started before it.  The RCU-protected set of watched ranges that the
 *   callback consults is not modelled (its lifetime is a plain RCU
 *   pattern); the callback's only access to hub memory is the node.
 *   mmu_lock around hlist_add_head_rcu()/hlist_del_rcu() is one atomic step.
 *
 * BOUNDS: 2 watchers x (1 attach + 1 detach), 2 gfns, 2 node
 *   allocations, NR_READERS=2 vCPUs doing NR_WRITES=2 emulated writes each.
 */

#if !defined(VARIANT_HUB) && !defined(VARIANT_NO_SYNC_SRCU) && \
    !defined(VARIANT_PLAIN_REFCOUNT)
#define VARIANT_HUB
#endif

#ifndef NR_WRITES
#define NR_WRITES	2
#endif
#ifndef NR_READERS
#define NR_READERS	2
#endif
#define NR_GFNS		2

byte list_head;
bit node_registered[3];
bit node_freed[3];
byte next_node = 1;
bit srcu_in[NR_READERS];

bit hub_lock;
byte nr_watchers;
byte cur_node;
byte hub_ref[NR_GFNS];
byte gfn_write_track[NR_GFNS];
byte nr_done;

inline mutex_lock()
{
	atomic { hub_lock == 0 -> hub_lock = 1 }
}

inline mutex_unlock()
{
	hub_lock = 0
}

/* kvm_write_track_add_gfn(): srcu + mmu_lock, update_gfn_write_track(+1) */
inline write_track_add(g)
{
	gfn_write_track[g]++
}

/* kvm_write_track_remove_gfn(): update_gfn_write_track(-1) */
inline write_track_remove(g)
{
	atomic {
		assert(gfn_write_track[g] > 0);		/* WARN_ON_ONCE(val + count < 0) */
		gfn_write_track[g]--
	}
}

inline ref_get(g)
{
#ifdef VARIANT_PLAIN_REFCOUNT
	t = hub_ref[g];
	hub_ref[g] = t + 1;
	if
	:: t == 0 -> write_track_add(g)
	:: else -> skip
	fi;
	t = 0
#else
	hub_ref[g]++;
	if
	:: hub_ref[g] == 1 -> write_track_add(g)
	:: else -> skip
	fi
#endif
}

inline ref_put(g)
{
#ifdef VARIANT_PLAIN_REFCOUNT
	t = hub_ref[g];
	hub_ref[g] = t - 1;
	if
	:: t == 1 -> write_track_remove(g)
	:: else -> skip
	fi;
	t = 0
#else
	hub_ref[g]--;
	if
	:: hub_ref[g] == 0 -> write_track_remove(g)
	:: else -> skip
	fi
#endif
}

/* synchronize_srcu(&head->track_srcu) */
inline synchronize_srcu()
{
	r = 0;
	do
	:: r < NR_READERS -> !srcu_in[r]; r++
	:: else -> break
	od;
	r = 0
}

proctype watcher(byte w)
{
	byte t, r, n;

	/* attach */
	mutex_lock();
	if
	:: nr_watchers == 0 ->
		n = next_node;			/* kzalloc() */
		next_node++;
		atomic {			/* kvm_page_track_register_notifier() */
			assert(!node_registered[n]);
			node_registered[n] = 1;
			list_head = n		/* hlist_add_head_rcu() under mmu_lock */
		};
		cur_node = n
	:: else -> skip
	fi;
	nr_watchers++;
#ifdef VARIANT_PLAIN_REFCOUNT
	mutex_unlock();
#endif
	if
	:: w == 0 -> ref_get(0); ref_get(1)
	:: else -> ref_get(1)
	fi;
#ifndef VARIANT_PLAIN_REFCOUNT
	mutex_unlock();
#endif

	/* the watch is live: the vCPU may run write callbacks now */

	/* detach */
#ifndef VARIANT_PLAIN_REFCOUNT
	mutex_lock();
#endif
	if
	:: w == 0 -> ref_put(0); ref_put(1)
	:: else -> ref_put(1)
	fi;
#ifdef VARIANT_PLAIN_REFCOUNT
	mutex_lock();
#endif
	nr_watchers--;
	if
	:: nr_watchers == 0 ->
		n = cur_node;
		cur_node = 0;
		atomic {			/* kvm_page_track_unregister_notifier() */
			list_head = 0;		/* hlist_del_rcu() under mmu_lock */
			node_registered[n] = 0
		};
#ifndef VARIANT_NO_SYNC_SRCU
		synchronize_srcu();
#endif
		node_freed[n] = 1;		/* kfree(hub) */
		n = 0
	:: else -> skip
	fi;
	mutex_unlock();
	nr_done++
}

/* a vCPU emulating guest writes: kvm_page_track_write() */
proctype vcpu(byte me)
{
	byte k, n;

	do
	:: k < NR_WRITES ->
		if
		:: list_head == 0 -> skip	/* hlist_empty(): no notifier */
		:: else ->
			srcu_in[me] = 1;	/* srcu_read_lock() */
			n = list_head;		/* hlist_for_each_entry_srcu() */
			if
			:: n != 0 ->
				/* n->track_write(gpa, new, bytes, n) */
				assert(!node_freed[n])
			:: else -> skip
			fi;
			n = 0;
			srcu_in[me] = 0		/* srcu_read_unlock() */
		fi;
		k++
	:: else -> break
	od
}

init
{
	byte i;

	atomic {
		run watcher(0);
		run watcher(1);
		for (i : 0 .. NR_READERS - 1) {
			run vcpu(i)
		}
	};
	nr_done == 2;
	assert(gfn_write_track[0] == 0 && gfn_write_track[1] == 0);
	assert(nr_watchers == 0 && list_head == 0)
}
