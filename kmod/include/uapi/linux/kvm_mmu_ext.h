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
 * KMX_ATTACH returns a new per-VM handle file descriptor (O_CLOEXEC).
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
 * @apf_threshold_us:	for KMX_APF_POLICY_THRESHOLD, in microseconds
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

#endif /* _UAPI_LINUX_KVM_MMU_EXT_H */
