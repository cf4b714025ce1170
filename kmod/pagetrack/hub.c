// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the page-track hub.
 *
 * One kvm_page_track_notifier_node per VM, registered on the VM's first
 * watch and unregistered when its last watch goes, serves every handle of
 * the VM.  The notifier looks the written gfn up in an immutable, sorted
 * array of segments (struct kmx_pagetrack_set), each listing the watchers whose
 * ranges cover it; the array is rebuilt under the hub's mutex on every
 * change and published with RCU, so the notifier takes no sleeping lock and
 * a lookup is a binary search.
 *
 * KVM counts write-tracking per gfn; the hub adds one count for a gfn when
 * its first watch arrives and removes it when its last one goes (@refs),
 * so any mix of overlapping watches stays balanced.
 *
 * Documentation/page-track.rst has the rules of the page-track API that
 * shaped this: registration needs the VM's mm, takes a VM reference, and
 * must precede kvm_write_track_add_gfn(); memslot MOVE is refused while
 * the node is registered; track_remove_region fires on DELETE only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/timekeeping.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <asm/kvm_page_track.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "pagetrack/pagetrack.h"
#include "trace.h"

/**
 * struct kmx_pagetrack_node - the notifier node of a VM's hub
 * @node:	what KVM links into its notifier list
 * @vm:		the VM; it outlives the node
 */
struct kmx_pagetrack_node {
	struct kvm_page_track_notifier_node node;
	struct kmx_vm *vm;
};

/**
 * struct kmx_pagetrack_watch - one range a watcher watches
 * @node:	in the hub's list
 * @w:		the watcher
 * @start:	first gfn
 * @end:	gfn after the last
 */
struct kmx_pagetrack_watch {
	struct list_head node;
	struct kmx_pagetrack_watcher *w;
	gfn_t start;
	gfn_t end;
};

/**
 * struct kmx_pagetrack_seg - a run of gfns watched by the same watchers
 * @start:	first gfn
 * @end:	gfn after the last
 * @first:	index of its first watcher in the set's @w
 * @nr:		number of its watchers (at least one)
 */
struct kmx_pagetrack_seg {
	gfn_t start;
	gfn_t end;
	u32 first;
	u32 nr;
};

/**
 * struct kmx_pagetrack_set - the watch set the notifier reads
 * @rcu:	frees it after the readers of the previous version
 * @nr_segs:	number of segments, sorted and disjoint
 * @seg:	the segments
 * @w:		their watchers
 */
struct kmx_pagetrack_set {
	struct rcu_head rcu;
	u32 nr_segs;
	struct kmx_pagetrack_seg *seg;
	struct kmx_pagetrack_watcher **w;
};

/* A watch's boundary, for the sweep that builds a set. */
struct kmx_pagetrack_point {
	gfn_t gfn;
	struct kmx_pagetrack_watcher *w;
	int delta;
};

static int kmx_pagetrack_point_cmp(const void *a, const void *b)
{
	const struct kmx_pagetrack_point *x = a, *y = b;

	if (x->gfn != y->gfn)
		return x->gfn < y->gfn ? -1 : 1;
	return 0;
}

/*
 * One step of the sweep: apply @p to its watcher's count of open ranges,
 * keeping @active the list of watchers with at least one.
 */
static void kmx_pagetrack_sweep(const struct kmx_pagetrack_point *p, struct list_head *active,
				u32 *nr_active)
{
	struct kmx_pagetrack_watcher *w = p->w;

	if (p->delta > 0 && !w->sweep++) {
		list_add_tail(&w->sweep_node, active);
		(*nr_active)++;
	} else if (p->delta < 0 && !--w->sweep) {
		list_del(&w->sweep_node);
		(*nr_active)--;
	}
}

/*
 * Build the set for the hub's current watches: sort their boundaries, then
 * sweep twice, once to size the set and once to fill it.  Watches of one
 * watcher that overlap list it once.  NULL for no watches, or on failure
 * with a @gfp that may fail.
 */
static struct kmx_pagetrack_set *kmx_pagetrack_build(struct kmx_pagetrack_hub *hub, gfp_t gfp)
{
	u32 n = 2 * hub->nr_watches, nr_segs = 0, nr_ent = 0, nr_active = 0;
	struct kmx_pagetrack_point *pts;
	struct kmx_pagetrack_watch *watch;
	struct kmx_pagetrack_watcher *w;
	struct kmx_pagetrack_set *set;
	LIST_HEAD(active);
	size_t size;
	u32 i, pass;

	lockdep_assert_held(&hub->lock);
	if (!n)
		return NULL;
	pts = kvmalloc_array(n, sizeof(*pts), gfp);
	if (!pts)
		return NULL;
	i = 0;
	list_for_each_entry(watch, &hub->watches, node) {
		pts[i++] = (struct kmx_pagetrack_point){ watch->start, watch->w, 1 };
		pts[i++] = (struct kmx_pagetrack_point){ watch->end, watch->w, -1 };
	}
	sort(pts, n, sizeof(*pts), kmx_pagetrack_point_cmp, NULL);

	set = NULL;
	for (pass = 0; pass < 2; pass++) {
		u32 s = 0, e = 0;

		for (i = 0; i < n; i++) {
			if (i && pts[i].gfn != pts[i - 1].gfn && nr_active) {
				if (set) {
					set->seg[s] = (struct kmx_pagetrack_seg){
						pts[i - 1].gfn, pts[i].gfn, e, nr_active };
					list_for_each_entry(w, &active, sweep_node)
						set->w[e++] = w;
				} else {
					e += nr_active;
				}
				s++;
			}
			kmx_pagetrack_sweep(&pts[i], &active, &nr_active);
		}
		if (set)
			break;
		nr_segs = s;
		nr_ent = e;
		size = sizeof(*set) + nr_segs * sizeof(*set->seg) +
		       nr_ent * sizeof(*set->w);
		set = kvmalloc(size, gfp);
		if (!set)
			break;
		set->nr_segs = nr_segs;
		set->seg = (void *)(set + 1);
		set->w = (void *)(set->seg + nr_segs);
	}
	kvfree(pts);
	return set;
}

/* Publish a new set; the old one goes after the notifier is done with it. */
static void kmx_pagetrack_publish(struct kmx_pagetrack_hub *hub, struct kmx_pagetrack_set *set)
{
	struct kmx_pagetrack_set *old;

	old = rcu_replace_pointer(hub->set, set, lockdep_is_held(&hub->lock));
	if (old)
		kvfree_rcu(old, rcu);
}

/*
 * Rebuild after removing watches.  That never makes the set bigger, and it
 * must not fail: a removed watch's watcher may be freed next.
 */
static void kmx_pagetrack_republish(struct kmx_pagetrack_hub *hub)
{
	kmx_pagetrack_publish(hub, kmx_pagetrack_build(hub, GFP_KERNEL_ACCOUNT | __GFP_NOFAIL));
}

static const struct kmx_pagetrack_seg *kmx_pagetrack_lookup(const struct kmx_pagetrack_set *set,
							    gfn_t gfn)
{
	u32 lo = 0, hi = set->nr_segs;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct kmx_pagetrack_seg *seg = &set->seg[mid];

		if (gfn < seg->start)
			hi = mid;
		else if (gfn >= seg->end)
			lo = mid + 1;
		else
			return seg;
	}
	return NULL;
}

/* Count and trace one write event that @nr watchers were due. */
static void kmx_pagetrack_account(struct kmx_vm *vm, const struct kmx_event *ev,
				  u32 nr, u32 stored)
{
	if (!nr) {
		kmx_stat_add(vm, KMX_STAT_PAGETRACK_MISSES, 1);
	} else {
		kmx_stat_add(vm, KMX_STAT_PAGETRACK_EVENTS, stored);
		if (nr != stored)
			kmx_stat_add(vm, KMX_STAT_PAGETRACK_DROPPED, nr - stored);
	}
	trace_kmx_pagetrack_write(ev->gpa, ev->len, ev->vcpu_id, nr, nr - stored);
}

/* Queue @ev, a write inside one page, for every watcher of that page. */
static void kmx_pagetrack_deliver(struct kmx_vm *vm, const struct kmx_event *ev)
{
	const struct kmx_pagetrack_seg *seg = NULL;
	struct kmx_pagetrack_set *set;
	u32 i, nr = 0, stored = 0;

	rcu_read_lock();
	set = rcu_dereference(vm->pt.set);
	if (set)
		seg = kmx_pagetrack_lookup(set, gpa_to_gfn(ev->gpa));
	if (seg) {
		nr = seg->nr;
		for (i = 0; i < nr; i++)
			stored += kmx_pagetrack_ring_push(&set->w[seg->first + i]->ring, ev);
	}
	rcu_read_unlock();
	kmx_pagetrack_account(vm, ev, nr, stored);
}

#ifdef KVM_MMU_EXT_DEBUG
/*
 * The baseline of pagetrack_perf_test, debug builds only: what the thread
 * warned against, a VM-scoped mutex around a walk of every watch.
 */
static bool kmx_pagetrack_naive;

static void kmx_pagetrack_deliver_naive(struct kmx_vm *vm, const struct kmx_event *ev)
{
	struct kmx_pagetrack_hub *hub = &vm->pt;
	struct kmx_pagetrack_watch *watch;
	gfn_t gfn = gpa_to_gfn(ev->gpa);
	u32 nr = 0, stored = 0;

	mutex_lock(&hub->lock);
	list_for_each_entry(watch, &hub->watches, node) {
		if (gfn < watch->start || gfn >= watch->end)
			continue;
		nr++;
		stored += kmx_pagetrack_ring_push(&watch->w->ring, ev);
	}
	mutex_unlock(&hub->lock);
	kmx_pagetrack_account(vm, ev, nr, stored);
}

/**
 * kmx_pagetrack_debugfs_init() - create the page-track hub's debug knob
 *
 * pagetrack_naive: 1 makes the notifier use the list-plus-mutex baseline.
 */
void kmx_pagetrack_debugfs_init(void)
{
	debugfs_create_bool("pagetrack_naive", 0600, kmx_debugfs_root, &kmx_pagetrack_naive);
}
#else
#define kmx_pagetrack_naive false
static void kmx_pagetrack_deliver_naive(struct kmx_vm *vm, const struct kmx_event *ev)
{
}
#endif

/*
 * The notifier's track_write: KVM emulated a write of @bytes at @gpa.  It
 * runs on the vCPU's thread, under KVM's track_srcu, in emulation.
 */
static void kmx_pagetrack_track_write(gpa_t gpa, const u8 *new, int bytes,
				      struct kvm_page_track_notifier_node *node)
{
	struct kmx_vm *vm = container_of(node, struct kmx_pagetrack_node, node)->vm;
	struct kvm_vcpu *vcpu = kvm_get_running_vcpu();
	struct kmx_event ev = {
		.type = KMX_EVENT_WRITE,
		.vcpu_id = vcpu ? vcpu->vcpu_id : KMX_EVENT_NO_VCPU,
	};
	u64 t0 = ktime_get_ns();

	/* KVM's emulator splits at page boundaries already; make sure. */
	while (bytes > 0) {
		int chunk = min_t(int, bytes, PAGE_SIZE - offset_in_page(gpa));

		ev.gpa = gpa;
		ev.len = chunk;
		ev.flags = chunk > KMX_EVENT_DATA ? KMX_EVENT_F_TRUNCATED : 0;
		memset(ev.data, 0, sizeof(ev.data));
		memcpy(ev.data, new, min_t(int, chunk, KMX_EVENT_DATA));
		if (kmx_pagetrack_naive)
			kmx_pagetrack_deliver_naive(vm, &ev);
		else
			kmx_pagetrack_deliver(vm, &ev);
		gpa += chunk;
		new += chunk;
		bytes -= chunk;
	}
	kmx_stat_add(vm, KMX_STAT_PAGETRACK_NOTIFY_NS, ktime_get_ns() - t0);
}

/* Drop one count of each gfn of [start, end); untrack those that reach 0. */
static void kmx_pagetrack_unref(struct kmx_vm *vm, gfn_t start, gfn_t end, bool untrack)
{
	struct kmx_pagetrack_hub *hub = &vm->pt;
	gfn_t gfn;

	for (gfn = start; gfn < end; gfn++) {
		unsigned long v = xa_to_value(xa_load(&hub->refs, gfn));

		/* Up to 2^18 gfns, each an mmu_lock round: let others run. */
		if (!((gfn - start) % 64))
			cond_resched();
		if (WARN_ON_ONCE(!v))
			continue;
		if (v > 1) {
			xa_store(&hub->refs, gfn, xa_mk_value(v - 1), GFP_KERNEL);
			continue;
		}
		xa_erase(&hub->refs, gfn);
		if (untrack)
			kvm_write_track_remove_gfn(vm->kvm, gfn);
	}
}

/* Add one count to each gfn of [start, end), tracking the new ones. */
static int kmx_pagetrack_ref(struct kmx_vm *vm, gfn_t start, gfn_t end)
{
	struct kmx_pagetrack_hub *hub = &vm->pt;
	gfn_t gfn;
	int r = 0;

	for (gfn = start; gfn < end; gfn++) {
		unsigned long v = xa_to_value(xa_load(&hub->refs, gfn));

		if (!((gfn - start) % 64)) {
			if (fatal_signal_pending(current)) {
				r = -EINTR;
				break;
			}
			cond_resched();
		}
		r = xa_err(xa_store(&hub->refs, gfn, xa_mk_value(v + 1),
				    GFP_KERNEL_ACCOUNT));
		if (r)
			break;
		if (!v) {
			r = kvm_write_track_add_gfn(vm->kvm, gfn);
			if (r) {
				xa_erase(&hub->refs, gfn);
				break;
			}
		}
	}
	if (r)
		kmx_pagetrack_unref(vm, start, gfn, true);
	return r;
}

/*
 * The notifier's track_remove_region: memslot [gfn, gfn + nr_pages) was
 * deleted.  Its watches go, each watcher is told, and the slot's write
 * tracking goes with the slot.  Runs under KVM's slots_lock and
 * track_srcu, so it may sleep but must not unregister the notifier.
 */
/*
 * KVM reports the deletions of every address space, without naming it.  A
 * VMM with SMM mirrors system memory into address space 1, so a deletion
 * there names gfns whose address-space-0 slot lives on.  Watches are of
 * address space 0 (KMX_WATCH looks the range up there): a watch whose slot
 * is still valid there was not deleted.  The callback runs from
 * kvm_arch_commit_memory_region(), when a slot deleted in address space 0
 * is already gone from it.  slots_lock is held.
 */
static bool kmx_pagetrack_slot_alive(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memory_slot *slot = __gfn_to_memslot(__kvm_memslots(kvm, 0), gfn);

	return slot && !(slot->flags & KVM_MEMSLOT_INVALID);
}

static void kmx_pagetrack_track_remove_region(gfn_t gfn, unsigned long nr_pages,
					      struct kvm_page_track_notifier_node *node)
{
	struct kmx_vm *vm = container_of(node, struct kmx_pagetrack_node, node)->vm;
	struct kmx_pagetrack_hub *hub = &vm->pt;
	struct kmx_pagetrack_watch *watch, *tmp;
	struct kmx_event ev = {
		.type = KMX_EVENT_REMOVED,
		.vcpu_id = KMX_EVENT_NO_VCPU,
		.gpa = gfn_to_gpa(gfn),
		.len = (u64)nr_pages << PAGE_SHIFT,
	};
	struct kmx_pagetrack_watcher *w, *wn;
	LIST_HEAD(told);
	u32 nr = 0;

	mutex_lock(&hub->lock);
	list_for_each_entry_safe(watch, tmp, &hub->watches, node) {
		if (watch->end <= gfn || watch->start >= gfn + nr_pages)
			continue;
		if (kmx_pagetrack_slot_alive(vm->kvm, watch->start))
			continue;
		w = watch->w;
		/* Tell each watcher once. */
		if (list_empty(&w->told_node))
			list_add_tail(&w->told_node, &told);
		kmx_pagetrack_unref(vm, watch->start, watch->end, false);
		cond_resched();
		list_del(&watch->node);
		w->nr_watches--;
		hub->nr_watches--;
		kfree(watch);
		nr++;
	}
	if (nr) {
		kmx_pagetrack_republish(hub);
		list_for_each_entry_safe(w, wn, &told, told_node) {
			list_del_init(&w->told_node);
			if (kmx_pagetrack_ring_push(&w->ring, &ev))
				kmx_stat_add(vm, KMX_STAT_PAGETRACK_EVENTS, 1);
			else
				kmx_stat_add(vm, KMX_STAT_PAGETRACK_DROPPED, 1);
		}
		kmx_stat_add(vm, KMX_STAT_PAGETRACK_WATCHES, -(s64)nr);
		kmx_stat_add(vm, KMX_STAT_PAGETRACK_REMOVED, nr);
	}
	trace_kmx_pagetrack_watch(vm->owner_pid, KMX_PAGETRACK_OP_REMOVED, gfn_to_gpa(gfn),
				  (u64)nr_pages << PAGE_SHIFT, nr);
	if (!hub->nr_watches)
		schedule_work(&hub->unreg_work);
	mutex_unlock(&hub->lock);
}

static int kmx_pagetrack_register(struct kmx_vm *vm)
{
	struct kmx_pagetrack_hub *hub = &vm->pt;
	struct kmx_pagetrack_node *pn;
	int idx, r;

	lockdep_assert_held(&hub->reg_lock);
	/* The thread's rule: registering a node twice is a bug. */
	if (WARN_ON_ONCE(hub->node))
		return -EEXIST;
	pn = kzalloc(sizeof(*pn), GFP_KERNEL_ACCOUNT);
	if (!pn)
		return -ENOMEM;
	pn->vm = vm;
	pn->node.track_write = kmx_pagetrack_track_write;
	pn->node.track_remove_region = kmx_pagetrack_track_remove_region;
	/*
	 * -ESRCH unless current->mm is the VM's; takes a VM reference.  The
	 * first registration walks the memslots in
	 * kvm_enable_external_write_tracking() under slots_arch_lock alone,
	 * which is safe (only a swap under that lock changes the active
	 * memslots) but not what __kvm_memslots()'s lockdep check accepts.
	 * Inside kvm->srcu, as KVM's own mmu_first_shadow_root_alloc() does
	 * the same walk, it is safe by SRCU too and PROVE_RCU is quiet.
	 */
	idx = srcu_read_lock(&vm->kvm->srcu);
	r = kvm_page_track_register_notifier(vm->kvm, &pn->node);
	srcu_read_unlock(&vm->kvm->srcu, idx);
	if (r) {
		kfree(pn);
		return r;
	}
	hub->node = pn;
	trace_kmx_pagetrack_notifier(vm->owner_pid, true);
	return 0;
}

/* Unregister the notifier if no watch is left. */
static void kmx_pagetrack_maybe_unregister(struct kmx_vm *vm)
{
	struct kmx_pagetrack_hub *hub = &vm->pt;
	struct kmx_pagetrack_node *pn = hub->node;
	bool idle;

	lockdep_assert_held(&hub->reg_lock);
	mutex_lock(&hub->lock);
	idle = pn && !hub->nr_watches;
	mutex_unlock(&hub->lock);
	if (!idle)
		return;
	/* Waits for running callbacks (synchronize_srcu), drops the VM ref. */
	kvm_page_track_unregister_notifier(vm->kvm, &pn->node);
	hub->node = NULL;
	kfree(pn);
	trace_kmx_pagetrack_notifier(vm->owner_pid, false);
}

static void kmx_pagetrack_unreg_work(struct work_struct *work)
{
	struct kmx_vm *vm = container_of(work, struct kmx_vm, pt.unreg_work);

	mutex_lock(&vm->pt.reg_lock);
	kmx_pagetrack_maybe_unregister(vm);
	mutex_unlock(&vm->pt.reg_lock);
}

/**
 * kmx_pagetrack_hub_init() - set up the page-track hub of a new VM state
 * @hub: the hub
 */
void kmx_pagetrack_hub_init(struct kmx_pagetrack_hub *hub)
{
	mutex_init(&hub->reg_lock);
	mutex_init(&hub->lock);
	INIT_LIST_HEAD(&hub->watches);
	xa_init(&hub->refs);
	INIT_WORK(&hub->unreg_work, kmx_pagetrack_unreg_work);
}

/**
 * kmx_pagetrack_hub_destroy() - tear the hub down when the VM's last handle closes
 * @hub: the hub; every watcher has been released, so it watches nothing
 */
void kmx_pagetrack_hub_destroy(struct kmx_pagetrack_hub *hub)
{
	struct kmx_vm *vm = container_of(hub, struct kmx_vm, pt);

	cancel_work_sync(&hub->unreg_work);
	mutex_lock(&hub->reg_lock);
	kmx_pagetrack_maybe_unregister(vm);
	mutex_unlock(&hub->reg_lock);
	WARN_ON_ONCE(hub->nr_watches || !xa_empty(&hub->refs) ||
		     rcu_access_pointer(hub->set));
	xa_destroy(&hub->refs);
}

/**
 * kmx_pagetrack_watcher_init() - make a new handle a watcher with an empty ring
 * @w: the watcher
 * @vm: its VM
 *
 * Return: 0 or -ENOMEM.
 */
int kmx_pagetrack_watcher_init(struct kmx_pagetrack_watcher *w, struct kmx_vm *vm)
{
	w->vm = vm;
	INIT_LIST_HEAD(&w->sweep_node);
	INIT_LIST_HEAD(&w->told_node);
	return kmx_pagetrack_ring_init(&w->ring, KMX_RING_DEFAULT);
}

static void kmx_pagetrack_watcher_free(struct rcu_head *rcu)
{
	struct kmx_pagetrack_watcher *w = container_of(rcu, struct kmx_pagetrack_watcher, rcu);

	kmx_pagetrack_ring_free(&w->ring);
	kfree(w);
}

/**
 * kmx_pagetrack_watcher_release() - a handle closes: drop its watches, free it
 * @w: the watcher, allocated with kmalloc(); freed after an RCU grace
 *     period, because the notifier may still be delivering to it
 */
void kmx_pagetrack_watcher_release(struct kmx_pagetrack_watcher *w)
{
	struct kmx_vm *vm = w->vm;
	struct kmx_pagetrack_hub *hub = &vm->pt;
	struct kmx_pagetrack_watch *watch, *tmp;
	u32 nr = 0;

	mutex_lock(&hub->reg_lock);
	mutex_lock(&hub->lock);
	list_for_each_entry_safe(watch, tmp, &hub->watches, node) {
		if (watch->w != w)
			continue;
		kmx_pagetrack_unref(vm, watch->start, watch->end, true);
		list_del(&watch->node);
		hub->nr_watches--;
		kfree(watch);
		nr++;
		cond_resched();
	}
	if (nr) {
		kmx_pagetrack_republish(hub);
		kmx_stat_add(vm, KMX_STAT_PAGETRACK_WATCHES, -(s64)nr);
	}
	mutex_unlock(&hub->lock);
	kmx_pagetrack_maybe_unregister(vm);
	mutex_unlock(&hub->reg_lock);
	call_rcu(&w->rcu, kmx_pagetrack_watcher_free);
}

/* Copy and check a struct kmx_watch; give its gfn range. */
static long kmx_pagetrack_get_range(const struct kmx_watch __user *uarg, gfn_t *start,
				    gfn_t *end)
{
	struct kmx_watch a;
	long r;

	r = kmx_copy_arg(&a, sizeof(a), sizeof(a), uarg);
	if (r)
		return r;
	if (a.flags || !a.len || a.len > KMX_WATCH_MAX_LEN ||
	    !PAGE_ALIGNED(a.gpa) || !PAGE_ALIGNED(a.len) ||
	    a.gpa + a.len < a.gpa)
		return -EINVAL;
	*start = gpa_to_gfn(a.gpa);
	*end = gpa_to_gfn(a.gpa + a.len);
	return 0;
}

static struct kmx_pagetrack_watch *kmx_pagetrack_find(struct kmx_pagetrack_hub *hub,
						      struct kmx_pagetrack_watcher *w, gfn_t start,
						      gfn_t end)
{
	struct kmx_pagetrack_watch *watch;

	list_for_each_entry(watch, &hub->watches, node)
		if (watch->w == w && watch->start == start && watch->end == end)
			return watch;
	return NULL;
}

/*
 * Add a watch, with kvm->srcu held so that the memslot checked here stays
 * until the watch is in the list: a deletion of it waits for that, and its
 * track_remove_region then finds the watch.
 */
static long kmx_pagetrack_add(struct kmx_pagetrack_watcher *w, gfn_t start, gfn_t end)
{
	struct kmx_vm *vm = w->vm;
	struct kmx_pagetrack_hub *hub = &vm->pt;
	struct kvm_memory_slot *slot;
	struct kmx_pagetrack_watch *watch;
	struct kmx_pagetrack_set *set;
	long r;

	slot = gfn_to_memslot(vm->kvm, start);
	if (!slot || (slot->flags & KVM_MEMSLOT_INVALID))
		return -ENOENT;
	if (end > slot->base_gfn + slot->npages)
		return -EINVAL;

	watch = kzalloc(sizeof(*watch), GFP_KERNEL_ACCOUNT);
	if (!watch)
		return -ENOMEM;
	watch->w = w;
	watch->start = start;
	watch->end = end;

	mutex_lock(&hub->lock);
	r = -EEXIST;
	if (kmx_pagetrack_find(hub, w, start, end))
		goto out_free;
	r = -ENOSPC;
	if (hub->nr_watches >= KMX_PAGETRACK_MAX_WATCHES)
		goto out_free;
	r = kmx_pagetrack_ref(vm, start, end);
	if (r)
		goto out_free;
	list_add_tail(&watch->node, &hub->watches);
	hub->nr_watches++;
	set = kmx_pagetrack_build(hub, GFP_KERNEL_ACCOUNT);
	if (!set) {
		list_del(&watch->node);
		hub->nr_watches--;
		kmx_pagetrack_unref(vm, start, end, true);
		r = -ENOMEM;
		goto out_free;
	}
	kmx_pagetrack_publish(hub, set);
	w->nr_watches++;
	kmx_stat_add(vm, KMX_STAT_PAGETRACK_WATCHES, 1);
	mutex_unlock(&hub->lock);
	return 0;

out_free:
	mutex_unlock(&hub->lock);
	kfree(watch);
	return r;
}

/**
 * kmx_pagetrack_watch() - KMX_WATCH: watch guest writes to a gpa range
 * @w: the handle's watcher
 * @uarg: struct kmx_watch from userspace
 *
 * Registers the VM's notifier first if this is the VM's first watch.
 *
 * Return: 0, or -EINVAL (bad size, flags, alignment or length, or a range
 * that leaves its memslot), -E2BIG, -EFAULT, -ENOENT (no memslot at @gpa),
 * -EEXIST (this handle watches exactly this range already), -ENOSPC (the
 * VM has KMX_PAGETRACK_MAX_WATCHES watches), -ESRCH (the caller is not in the
 * VM's process), -EINTR or -ENOMEM.
 */
long kmx_pagetrack_watch(struct kmx_pagetrack_watcher *w, const struct kmx_watch __user *uarg)
{
	struct kmx_vm *vm = w->vm;
	struct kmx_pagetrack_hub *hub = &vm->pt;
	gfn_t start, end;
	long r;
	int idx;

	r = kmx_pagetrack_get_range(uarg, &start, &end);
	if (r)
		return r;
	/* The page-track API works only from the VM's own process. */
	if (vm->kvm->mm != current->mm)
		return -ESRCH;

	mutex_lock(&hub->reg_lock);
	if (!hub->node) {
		r = kmx_pagetrack_register(vm);
		if (r)
			goto out;
	}
	idx = srcu_read_lock(&vm->kvm->srcu);
	r = kmx_pagetrack_add(w, start, end);
	srcu_read_unlock(&vm->kvm->srcu, idx);
	if (r)
		kmx_pagetrack_maybe_unregister(vm);
out:
	mutex_unlock(&hub->reg_lock);
	trace_kmx_pagetrack_watch(vm->owner_pid, KMX_PAGETRACK_OP_WATCH, gfn_to_gpa(start),
				  gfn_to_gpa(end - start), r);
	return r;
}

/**
 * kmx_pagetrack_unwatch() - KMX_UNWATCH: stop watching a range
 * @w: the handle's watcher
 * @uarg: struct kmx_watch from userspace: exactly a range @w watches
 *
 * Unregisters the VM's notifier if this was the VM's last watch.
 *
 * Return: 0, or -EINVAL, -E2BIG, -EFAULT, or -ENOENT (@w does not watch
 * this range, or no longer: its memslot was deleted).
 */
long kmx_pagetrack_unwatch(struct kmx_pagetrack_watcher *w, const struct kmx_watch __user *uarg)
{
	struct kmx_vm *vm = w->vm;
	struct kmx_pagetrack_hub *hub = &vm->pt;
	struct kmx_pagetrack_watch *watch;
	gfn_t start, end;
	long r;

	r = kmx_pagetrack_get_range(uarg, &start, &end);
	if (r)
		return r;

	mutex_lock(&hub->reg_lock);
	mutex_lock(&hub->lock);
	watch = kmx_pagetrack_find(hub, w, start, end);
	if (watch) {
		kmx_pagetrack_unref(vm, start, end, true);
		list_del(&watch->node);
		hub->nr_watches--;
		w->nr_watches--;
		kfree(watch);
		kmx_pagetrack_republish(hub);
		kmx_stat_add(vm, KMX_STAT_PAGETRACK_WATCHES, -1);
	}
	mutex_unlock(&hub->lock);
	r = watch ? 0 : -ENOENT;
	kmx_pagetrack_maybe_unregister(vm);
	mutex_unlock(&hub->reg_lock);
	trace_kmx_pagetrack_watch(vm->owner_pid, KMX_PAGETRACK_OP_UNWATCH, gfn_to_gpa(start),
				  gfn_to_gpa(end - start), r);
	return r;
}
