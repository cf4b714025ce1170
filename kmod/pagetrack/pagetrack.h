/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: the page-track hub, one page-track notifier per VM serving
 * the write watches of all the VM's handles.
 */
#ifndef _KVM_MMU_EXT_PAGETRACK_H
#define _KVM_MMU_EXT_PAGETRACK_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <uapi/linux/kvm_mmu_ext.h>

struct kmx_vm;
struct kmx_pagetrack_set;
struct kmx_pagetrack_node;
struct poll_table_struct;

/* At most this many watches per VM, over all its handles. */
#define KMX_PAGETRACK_MAX_WATCHES	4096

/**
 * struct kmx_pagetrack_ring - the event ring of one watcher
 * @lock:	protects everything below but @read_lock and @wq; taken by
 *		the notifier, so never held across anything that sleeps
 * @read_lock:	serialises readers
 * @rec:	@mask + 1 records
 * @mask:	capacity - 1
 * @head:	records produced, ever
 * @tail:	records consumed, ever
 * @seq:	sequence number of the next event
 * @lost:	events lost since the last DROPPED record went in
 * @lost_seq:	sequence number of the first of them
 * @wq:		readers and pollers
 */
struct kmx_pagetrack_ring {
	spinlock_t lock;	/* see above */
	struct mutex read_lock;	/* serialises readers */
	struct kmx_event *rec;
	u32 mask;
	u64 head;
	u64 tail;
	u64 seq;
	u64 lost;
	u64 lost_seq;
	wait_queue_head_t wq;
};

/**
 * struct kmx_pagetrack_watcher - one handle, seen as a page-track watcher
 * @vm:		its VM
 * @ring:	its events
 * @nr_watches:	its watches, under the hub's lock
 * @sweep:	scratch of the watch-set rebuild, under the hub's lock
 * @sweep_node:	ditto
 * @told_node:	on the list of watchers a memslot deletion tells, under
 *		the hub's lock; apart from @sweep_node, which the rebuild
 *		that follows uses
 * @rcu:	frees it once the notifier can no longer be delivering to it
 */
struct kmx_pagetrack_watcher {
	struct kmx_vm *vm;
	struct kmx_pagetrack_ring ring;
	unsigned int nr_watches;
	unsigned int sweep;
	struct list_head sweep_node;
	struct list_head told_node;
	struct rcu_head rcu;
};

/**
 * struct kmx_pagetrack_hub - the page-track state of one VM
 * @reg_lock:	serialises registering and unregistering the notifier;
 *		taken before @lock, never by the notifier
 * @lock:	protects @watches, @nr_watches and @refs, and publishes @set
 * @node:	the registered notifier, or NULL
 * @watches:	every struct kmx_pagetrack_watch of the VM
 * @nr_watches:	their number
 * @refs:	gfn -> number of watches covering it (xa_mk_value); a gfn is
 *		write-tracked in KVM exactly while it is here
 * @set:	the watch set the notifier consults under RCU
 * @unreg_work:	unregisters the notifier when a memslot deletion dropped
 *		the last watch (the notifier cannot unregister itself)
 */
struct kmx_pagetrack_hub {
	struct mutex reg_lock;	/* see above */
	struct mutex lock;	/* see above */
	struct kmx_pagetrack_node *node;
	struct list_head watches;
	unsigned int nr_watches;
	struct xarray refs;
	struct kmx_pagetrack_set __rcu *set;
	struct work_struct unreg_work;
};

void kmx_pagetrack_hub_init(struct kmx_pagetrack_hub *hub);
void kmx_pagetrack_hub_destroy(struct kmx_pagetrack_hub *hub);
int kmx_pagetrack_watcher_init(struct kmx_pagetrack_watcher *w, struct kmx_vm *vm);
void kmx_pagetrack_watcher_release(struct kmx_pagetrack_watcher *w);
long kmx_pagetrack_watch(struct kmx_pagetrack_watcher *w, const struct kmx_watch __user *uarg);
long kmx_pagetrack_unwatch(struct kmx_pagetrack_watcher *w, const struct kmx_watch __user *uarg);
long kmx_pagetrack_set_ring(struct kmx_pagetrack_watcher *w, const struct kmx_ring __user *uarg);
ssize_t kmx_pagetrack_read(struct kmx_pagetrack_watcher *w, char __user *buf, size_t count,
			   bool nonblock);
__poll_t kmx_pagetrack_poll(struct kmx_pagetrack_watcher *w, struct file *file,
			    struct poll_table_struct *pt);

#ifdef KVM_MMU_EXT_DEBUG
void kmx_pagetrack_debugfs_init(void);
#else
static inline void kmx_pagetrack_debugfs_init(void)
{
}
#endif

/* ring.c, for the hub */
int kmx_pagetrack_ring_init(struct kmx_pagetrack_ring *ring, u32 nr_records);
void kmx_pagetrack_ring_free(struct kmx_pagetrack_ring *ring);
bool kmx_pagetrack_ring_push(struct kmx_pagetrack_ring *ring, const struct kmx_event *ev);

#endif /* _KVM_MMU_EXT_PAGETRACK_H */
