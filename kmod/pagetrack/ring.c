// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the event ring of a page-track watcher.
 *
 * The notifier produces records under the ring's spinlock; read() takes
 * them.  When the ring is full, events are counted instead of stored, and
 * the count goes into the ring as one DROPPED record as soon as a slot is
 * free, so records stay in event order and every sequence number appears
 * either in a record or inside a DROPPED record's range.
 */
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "pagetrack/pagetrack.h"

/**
 * kmx_pagetrack_ring_init() - set up an empty ring
 * @ring: the ring
 * @nr_records: its capacity, a power of two
 *
 * Return: 0 or -ENOMEM.
 */
int kmx_pagetrack_ring_init(struct kmx_pagetrack_ring *ring, u32 nr_records)
{
	spin_lock_init(&ring->lock);
	mutex_init(&ring->read_lock);
	init_waitqueue_head(&ring->wq);
	ring->rec = kvcalloc(nr_records, sizeof(*ring->rec), GFP_KERNEL_ACCOUNT);
	if (!ring->rec)
		return -ENOMEM;
	ring->mask = nr_records - 1;
	return 0;
}

/**
 * kmx_pagetrack_ring_free() - free the records of a ring
 * @ring: the ring; nothing may produce into it any more
 */
void kmx_pagetrack_ring_free(struct kmx_pagetrack_ring *ring)
{
	kvfree(ring->rec);
}

static u64 kmx_pagetrack_ring_used(const struct kmx_pagetrack_ring *ring)
{
	return ring->head - ring->tail;
}

/* Turn the lost events into a DROPPED record, if there is room. */
static void kmx_pagetrack_ring_flush_lost(struct kmx_pagetrack_ring *ring)
{
	struct kmx_event *r;

	lockdep_assert_held(&ring->lock);
	if (!ring->lost || kmx_pagetrack_ring_used(ring) > ring->mask)
		return;
	r = &ring->rec[ring->head & ring->mask];
	memset(r, 0, sizeof(*r));
	r->type = KMX_EVENT_DROPPED;
	r->vcpu_id = KMX_EVENT_NO_VCPU;
	r->seq = ring->lost_seq;
	r->len = ring->lost;
	ring->head++;
	ring->lost = 0;
}

/**
 * kmx_pagetrack_ring_push() - queue an event, or count it lost
 * @ring: the ring
 * @ev: the event; its @seq is assigned here
 *
 * Context: any context that may take a spinlock.
 * Return: true if the event went into the ring, false if it was lost.
 */
bool kmx_pagetrack_ring_push(struct kmx_pagetrack_ring *ring, const struct kmx_event *ev)
{
	bool stored = false;

	spin_lock(&ring->lock);
	kmx_pagetrack_ring_flush_lost(ring);
	if (!ring->lost && kmx_pagetrack_ring_used(ring) <= ring->mask) {
		struct kmx_event *r = &ring->rec[ring->head & ring->mask];

		*r = *ev;
		r->seq = ring->seq;
		ring->head++;
		stored = true;
	} else if (!ring->lost++) {
		ring->lost_seq = ring->seq;
	}
	ring->seq++;
	spin_unlock(&ring->lock);

	/* Pairs with the barrier in prepare_to_wait_event(). */
	if (wq_has_sleeper(&ring->wq))
		wake_up_interruptible_poll(&ring->wq, EPOLLIN | EPOLLRDNORM);
	return stored;
}

static bool kmx_pagetrack_ring_readable(struct kmx_pagetrack_ring *ring)
{
	bool r;

	spin_lock(&ring->lock);
	r = kmx_pagetrack_ring_used(ring) || ring->lost;
	spin_unlock(&ring->lock);
	return r;
}

/**
 * kmx_pagetrack_read() - read() of a handle: take whole event records
 * @w: the handle's watcher
 * @buf: the user buffer
 * @count: its size; at least one record
 * @nonblock: O_NONBLOCK: fail with -EAGAIN instead of waiting
 *
 * Readers are serialised, so a record is copied out before it is taken:
 * one that cannot be copied stays in the ring.
 *
 * Return: the bytes read, a multiple of sizeof(struct kmx_event), or
 * -EINVAL, -EAGAIN, -EFAULT or -ERESTARTSYS.
 */
ssize_t kmx_pagetrack_read(struct kmx_pagetrack_watcher *w, char __user *buf, size_t count,
			   bool nonblock)
{
	struct kmx_pagetrack_ring *ring = &w->ring;
	size_t n = count / sizeof(struct kmx_event);
	u64 tail, i, k;
	ssize_t r;

	if (!n)
		return -EINVAL;
	if (mutex_lock_interruptible(&ring->read_lock))
		return -ERESTARTSYS;
	while (!kmx_pagetrack_ring_readable(ring)) {
		r = -EAGAIN;
		if (nonblock)
			goto out;
		r = wait_event_interruptible(ring->wq, kmx_pagetrack_ring_readable(ring));
		if (r)
			goto out;
	}

	spin_lock(&ring->lock);
	kmx_pagetrack_ring_flush_lost(ring);
	tail = ring->tail;
	k = min_t(u64, kmx_pagetrack_ring_used(ring), n);
	spin_unlock(&ring->lock);

	/* Producers write only at head: [tail, tail + k) is stable. */
	for (i = 0; i < k; i++)
		if (copy_to_user(buf + i * sizeof(struct kmx_event),
				 &ring->rec[(tail + i) & ring->mask],
				 sizeof(struct kmx_event)))
			break;

	spin_lock(&ring->lock);
	ring->tail += i;
	spin_unlock(&ring->lock);
	r = i ? i * sizeof(struct kmx_event) : -EFAULT;
out:
	mutex_unlock(&ring->read_lock);
	return r;
}

/**
 * kmx_pagetrack_poll() - poll() of a handle
 * @w: the handle's watcher
 * @file: the handle
 * @pt: the poll table
 *
 * Return: EPOLLIN | EPOLLRDNORM when a read() would not block.
 */
__poll_t kmx_pagetrack_poll(struct kmx_pagetrack_watcher *w, struct file *file,
			    struct poll_table_struct *pt)
{
	poll_wait(file, &w->ring.wq, pt);
	return kmx_pagetrack_ring_readable(&w->ring) ? EPOLLIN | EPOLLRDNORM : 0;
}

/**
 * kmx_pagetrack_set_ring() - KMX_SET_RING: resize a handle's event ring
 * @w: the handle's watcher
 * @uarg: struct kmx_ring from userspace
 *
 * Return: 0, -EINVAL (bad size, flags, padding or capacity), -E2BIG,
 * -EFAULT, -EBUSY (the handle watches a range, has unread events, or a
 * read() is in progress on it) or -ENOMEM.
 */
long kmx_pagetrack_set_ring(struct kmx_pagetrack_watcher *w, const struct kmx_ring __user *uarg)
{
	struct kmx_pagetrack_ring *ring = &w->ring;
	struct kmx_event *rec, *old;
	struct kmx_ring a;
	long r;

	r = kmx_copy_arg(&a, sizeof(a), sizeof(a), uarg);
	if (r)
		return r;
	if (a.flags || a.pad || a.nr_records < KMX_RING_MIN ||
	    a.nr_records > KMX_RING_MAX || !is_power_of_2(a.nr_records))
		return -EINVAL;

	rec = kvcalloc(a.nr_records, sizeof(*rec), GFP_KERNEL_ACCOUNT);
	if (!rec)
		return -ENOMEM;

	/*
	 * The hub lock keeps the watcher out of the watch set meanwhile.  A
	 * blocking read() sleeps with read_lock held, possibly for ever on a
	 * handle with no watches: waiting for it here, with the hub lock
	 * held, would wedge every memslot deletion of the VM behind it.
	 */
	mutex_lock(&w->vm->pt.lock);
	if (!mutex_trylock(&ring->read_lock)) {
		mutex_unlock(&w->vm->pt.lock);
		kvfree(rec);
		return -EBUSY;
	}
	spin_lock(&ring->lock);
	r = -EBUSY;
	if (!w->nr_watches && !kmx_pagetrack_ring_used(ring) && !ring->lost) {
		old = ring->rec;
		ring->rec = rec;
		ring->mask = a.nr_records - 1;
		ring->head = 0;
		ring->tail = 0;
		rec = old;
		r = 0;
	}
	spin_unlock(&ring->lock);
	mutex_unlock(&ring->read_lock);
	mutex_unlock(&w->vm->pt.lock);
	kvfree(rec);
	return r;
}
