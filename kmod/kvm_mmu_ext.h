/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: internal interfaces between the parts of the module.
 */
#ifndef _KVM_MMU_EXT_H
#define _KVM_MMU_EXT_H

#include <linux/debugfs.h>
#include <linux/atomic.h>
#include <linux/types.h>
#include <uapi/linux/kvm_mmu_ext.h>

/* True in the FULL build, against a KVM patched with patches/. */
#ifdef KVM_MMU_EXT_FULL
#define KMX_HAVE_HOOKS 1
#else
#define KMX_HAVE_HOOKS 0
#endif

#ifdef KVM_MMU_EXT_DEBUG
#define KMX_DEBUG_BUILD 1
#else
#define KMX_DEBUG_BUILD 0
#endif

/**
 * enum kmx_fastpf_scheme - spte synchronisation scheme of the fast page fault
 * @KMX_FASTPF_OFF:		no fast path of ours; KVM's own behaviour
 * @KMX_FASTPF_MMU_WRITABLE:	cmpxchg plus the MMU-writable and
 *				host-writable checks (the default)
 * @KMX_FASTPF_LOCK_BIT:	test_and_set_bit() on a spare spte bit
 * @KMX_FASTPF_TWO_BIT:		the pf_lock and wp_lock bits
 * @KMX_FASTPF_NR:		number of schemes
 */
enum kmx_fastpf_scheme {
	KMX_FASTPF_OFF		= KMX_FASTPF_SCHEME_OFF,
	KMX_FASTPF_MMU_WRITABLE	= KMX_FASTPF_SCHEME_MMU_WRITABLE,
	KMX_FASTPF_LOCK_BIT	= KMX_FASTPF_SCHEME_LOCK_BIT,
	KMX_FASTPF_TWO_BIT	= KMX_FASTPF_SCHEME_TWO_BIT,
	KMX_FASTPF_NR,
};

extern const char * const kmx_fastpf_scheme_names[KMX_FASTPF_NR];
extern struct dentry *kmx_debugfs_root;
extern atomic_long_t kmx_vms_destroyed;

int kmx_debugfs_init(void);
void kmx_debugfs_exit(void);
int kmx_dev_init(void);
void kmx_dev_exit(void);

#endif /* _KVM_MMU_EXT_H */
