// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: what the uapi's values mean to the module, and how its
 * extensible arguments are copied in.  A leaf, like stats.c.
 */
#include <linux/uaccess.h>

#include "kvm_mmu_ext.h"
#include "vm.h"

const char * const kmx_fastpf_scheme_names[KMX_FASTPF_NR] = {
	[KMX_FASTPF_OFF]		= "off",
	[KMX_FASTPF_MMU_WRITABLE]	= "mmu-writable",
	[KMX_FASTPF_LOCK_BIT]		= "lock-bit",
	[KMX_FASTPF_TWO_BIT]		= "two-bit",
};

/* The global defaults that a newly attached VM starts from. */
struct kmx_policy_state kmx_default_policy = {
	.fastpf_scheme	= KMX_HAVE_HOOKS ? KMX_FASTPF_MMU_WRITABLE : KMX_FASTPF_OFF,
	.apf_policy	= KMX_APF_POLICY_KVM,
};

const char * const kmx_apf_policy_names[KMX_APF_POLICY_THRESHOLD + 1] = {
	[KMX_APF_POLICY_OFF]		= "off",
	[KMX_APF_POLICY_KVM]		= "kvm",
	[KMX_APF_POLICY_THRESHOLD]	= "threshold",
};

/**
 * kmx_copy_arg() - copy an extensible ioctl argument that starts with its size
 * @dst: the kernel copy
 * @ksize: its size
 * @min: the smallest size userspace may pass
 * @uarg: the argument
 *
 * Return: 0, -EFAULT, -EINVAL (smaller than @min) or -E2BIG (larger than
 * @ksize, with a non-zero tail, or larger than a page, as clone3() and
 * openat2() refuse).
 */
int kmx_copy_arg(void *dst, size_t ksize, size_t min, const void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < min)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}
