/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvm-mmu-ext: the userspace interface of /dev/kvm-mmu-ext.
 *
 * Every ioctl argument starts with its own size, so that the structures can
 * grow: the kernel accepts a smaller, older structure (missing fields read
 * as zero) and a larger one whose extra bytes are zero, and fails others
 * with -E2BIG.  Every flags field rejects unknown bits with -EINVAL.
 */
#ifndef _UAPI_LINUX_KVM_MMU_EXT_H
#define _UAPI_LINUX_KVM_MMU_EXT_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define KMX_API_VERSION		1
#define KMX_IOCTL_TYPE		0xE7

/* On /dev/kvm-mmu-ext: returns KMX_API_VERSION. */
#define KMX_GET_API_VERSION	_IO(KMX_IOCTL_TYPE, 0x00)

/**
 * struct kmx_attach - argument of KMX_ATTACH
 * @size:	sizeof(struct kmx_attach)
 * @flags:	must be 0
 * @vm_fd:	a KVM VM file descriptor (from KVM_CREATE_VM)
 * @pad:	must be 0
 *
 * KMX_ATTACH returns a new per-VM handle file descriptor (O_CLOEXEC).  A
 * VM may have several handles: they share the VM's policy and counters,
 * and each one is a page-track watcher with its own event ring.
 */
struct kmx_attach {
	__u32 size;
	__u32 flags;
	__s32 vm_fd;
	__u32 pad;
};

#define KMX_ATTACH		_IOW(KMX_IOCTL_TYPE, 0x01, struct kmx_attach)

/* Values of kmx_policy.fastpf_scheme. */
#define KMX_FASTPF_SCHEME_OFF		0
#define KMX_FASTPF_SCHEME_MMU_WRITABLE	1
#define KMX_FASTPF_SCHEME_LOCK_BIT	2
#define KMX_FASTPF_SCHEME_TWO_BIT	3

/* Values of kmx_policy.apf_policy. */
#define KMX_APF_POLICY_OFF		0
#define KMX_APF_POLICY_KVM		1
#define KMX_APF_POLICY_THRESHOLD	2

/* kmx_policy.flags: which fields KMX_SET_POLICY applies. */
#define KMX_POLICY_FASTPF	_BITUL(0)
#define KMX_POLICY_APF		_BITUL(1)
#define KMX_POLICY_RMAP_NOLOCK	_BITUL(2)
#define KMX_POLICY_ALL		(KMX_POLICY_FASTPF | KMX_POLICY_APF | \
				 KMX_POLICY_RMAP_NOLOCK)

/**
 * struct kmx_policy - argument of KMX_SET_POLICY and KMX_GET_POLICY
 * @size:		sizeof(struct kmx_policy)
 * @flags:		KMX_POLICY_* bits; for SET, the fields to apply
 * @fastpf_scheme:	a KMX_FASTPF_SCHEME_* value
 * @apf_policy:		a KMX_APF_POLICY_* value
 * @apf_threshold_us:	for KMX_APF_POLICY_THRESHOLD, in microseconds, at
 *			most 100000; 0 takes the apf_threshold_us module
 *			parameter
 * @rmap_nolock:	0 or 1: zap deleted memslots' rmaps without mmu_lock
 */
struct kmx_policy {
	__u32 size;
	__u32 flags;
	__u32 fastpf_scheme;
	__u32 apf_policy;
	__u32 apf_threshold_us;
	__u32 rmap_nolock;
};

/* On a handle. */
#define KMX_SET_POLICY		_IOW(KMX_IOCTL_TYPE, 0x10, struct kmx_policy)
#define KMX_GET_POLICY		_IOWR(KMX_IOCTL_TYPE, 0x11, struct kmx_policy)

/**
 * struct kmx_watch - argument of KMX_WATCH and KMX_UNWATCH
 * @size:	sizeof(struct kmx_watch)
 * @flags:	must be 0
 * @gpa:	first guest physical address of the range, page aligned
 * @len:	length of the range in bytes: page aligned, not 0, at most
 *		KMX_WATCH_MAX_LEN; the range must lie inside one memslot
 *
 * KMX_WATCH makes the handle a watcher of writes to the range: each guest
 * write that KVM emulates into it (and only those, see
 * Documentation/page-track.rst) queues a struct kmx_event on the handle.
 * UNWATCH takes exactly a range that this handle watched.
 */
struct kmx_watch {
	__u32 size;
	__u32 flags;
	__u64 gpa;
	__u64 len;
};

#define KMX_WATCH_MAX_LEN	_BITULL(30)

/* On a handle. */
#define KMX_WATCH		_IOW(KMX_IOCTL_TYPE, 0x20, struct kmx_watch)
#define KMX_UNWATCH		_IOW(KMX_IOCTL_TYPE, 0x21, struct kmx_watch)

/**
 * struct kmx_ring - argument of KMX_SET_RING
 * @size:	sizeof(struct kmx_ring)
 * @flags:	must be 0
 * @nr_records:	capacity of the handle's event ring, in records: a power of
 *		two from KMX_RING_MIN to KMX_RING_MAX
 * @pad:	must be 0
 *
 * A handle starts with KMX_RING_DEFAULT records.  The ring can be resized
 * only while the handle watches nothing and its ring is empty (-EBUSY).
 */
struct kmx_ring {
	__u32 size;
	__u32 flags;
	__u32 nr_records;
	__u32 pad;
};

#define KMX_RING_MIN		16
#define KMX_RING_DEFAULT	1024
#define KMX_RING_MAX		65536

#define KMX_SET_RING		_IOW(KMX_IOCTL_TYPE, 0x22, struct kmx_ring)

/* Values of kmx_event.type. */
#define KMX_EVENT_WRITE		1	/* the guest wrote into a watched range */
#define KMX_EVENT_DROPPED	2	/* the ring was full: @len events lost */
#define KMX_EVENT_REMOVED	3	/* memslot deleted: its watches dropped */

/* kmx_event.flags: @data holds only the first KMX_EVENT_DATA bytes. */
#define KMX_EVENT_F_TRUNCATED	_BITUL(0)

#define KMX_EVENT_DATA		16
#define KMX_EVENT_NO_VCPU	0xffffffffU

/**
 * struct kmx_event - one record read() from a handle
 * @type:	a KMX_EVENT_* value
 * @flags:	KMX_EVENT_F_* bits
 * @vcpu_id:	WRITE: the writing vCPU's id; else KMX_EVENT_NO_VCPU
 * @seq:	the handle's sequence number of the event: every event the
 *		handle was due, delivered or not, takes the next number; a
 *		DROPPED record carries the first lost one
 * @gpa:	WRITE: where the write landed; REMOVED: base of the memslot
 * @len:	WRITE: bytes written; REMOVED: size of the memslot in bytes;
 *		DROPPED: number of events lost, numbered @seq to @seq + @len - 1
 * @data:	WRITE: the bytes written, zero-padded
 *
 * A read() returns whole records, at least one; a buffer smaller than one
 * record fails with -EINVAL.  Writes are never merged, and a write that
 * crosses a page boundary arrives as two records, split at the boundary.
 */
struct kmx_event {
	__u16 type;
	__u16 flags;
	__u32 vcpu_id;
	__u64 seq;
	__u64 gpa;
	__u64 len;
	__u8 data[KMX_EVENT_DATA];
};

#endif /* _UAPI_LINUX_KVM_MMU_EXT_H */
