// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: module init and exit, the global defaults (module
 * parameters) and the registration with the patched KVM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "kvm_mmu_ext.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

#ifdef KVM_MMU_EXT_FULL
#include "mmu.h"
#endif

const char * const kmx_fastpf_scheme_names[KMX_FASTPF_NR] = {
	[KMX_FASTPF_OFF]		= "off",
	[KMX_FASTPF_MMU_WRITABLE]	= "mmu-writable",
	[KMX_FASTPF_LOCK_BIT]		= "lock-bit",
	[KMX_FASTPF_TWO_BIT]		= "two-bit",
};

static int fastpf_scheme = KMX_FASTPF_MMU_WRITABLE;

/* Accept only a scheme's name, so a typo fails insmod with -EINVAL. */
static int fastpf_scheme_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(kmx_fastpf_scheme_names, val);

	if (i < 0)
		return -EINVAL;
	*(int *)kp->arg = i;
	return 0;
}

static int fastpf_scheme_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", kmx_fastpf_scheme_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops fastpf_scheme_ops = {
	.set = fastpf_scheme_set,
	.get = fastpf_scheme_get,
};
module_param_cb(fastpf_scheme, &fastpf_scheme_ops, &fastpf_scheme, 0644);
MODULE_PARM_DESC(fastpf_scheme,
		 "default fast page fault scheme: off, mmu-writable, lock-bit, two-bit");

atomic_long_t kmx_vms_destroyed;

#ifdef KVM_MMU_EXT_FULL
static void kmx_vm_destroy(struct kvm *kvm)
{
	long n = atomic_long_inc_return(&kmx_vms_destroyed);

	trace_kmx_vm_destroy(kvm->userspace_pid, n);
}

static const struct kvm_mmu_ext_ops kmx_ops = {
	.owner		= THIS_MODULE,
	.vm_destroy	= kmx_vm_destroy,
};

static int kmx_hooks_register(void)
{
	return kvm_mmu_ext_register(&kmx_ops);
}

static void kmx_hooks_unregister(void)
{
	kvm_mmu_ext_unregister(&kmx_ops);
}
#else
static int kmx_hooks_register(void)
{
	pr_info("built without the KVM hook API: MMU hooks unavailable\n");
	return 0;
}

static void kmx_hooks_unregister(void)
{
}
#endif

static int __init kmx_init(void)
{
	int r;

	r = kmx_debugfs_init();
	if (r)
		return r;

	r = kmx_hooks_register();
	if (r) {
		pr_err("cannot register with KVM: %d\n", r);
		kmx_debugfs_exit();
		return r;
	}

	pr_info("version %s loaded (%s%s build)\n", KVM_MMU_EXT_VERSION,
		KMX_HAVE_HOOKS ? "full" : "stock",
		KMX_DEBUG_BUILD ? ", debug" : "");
	return 0;
}

static void __exit kmx_exit(void)
{
	kmx_hooks_unregister();
	kmx_debugfs_exit();
}

module_init(kmx_init);
module_exit(kmx_exit);

MODULE_DESCRIPTION("Extensions to the KVM x86 MMU");
MODULE_LICENSE("GPL");
MODULE_VERSION(KVM_MMU_EXT_VERSION);
