/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: the FULL build's glue, which registers the features with
 * the patched KVM's hook API (patches/).  The STOCK build has none.
 */
#ifndef _KVM_MMU_EXT_HOOKS_H
#define _KVM_MMU_EXT_HOOKS_H

#include <linux/printk.h>

#ifdef KVM_MMU_EXT_FULL
int kmx_hooks_register(void);
void kmx_hooks_unregister(void);
#else
static inline int kmx_hooks_register(void)
{
	pr_info("built without the KVM hook API: MMU hooks unavailable\n");
	return 0;
}

static inline void kmx_hooks_unregister(void)
{
}
#endif

#endif /* _KVM_MMU_EXT_HOOKS_H */
