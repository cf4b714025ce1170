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
#include "vm.h"

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

/* The global defaults that a newly attached VM starts from. */
struct kmx_policy_state kmx_default_policy = {
	.fastpf_scheme	= KMX_HAVE_HOOKS ? KMX_FASTPF_MMU_WRITABLE : KMX_FASTPF_OFF,
	.apf_policy	= KMX_APF_POLICY_KVM,
};

static const char * const kmx_apf_policy_names[] = {
	[KMX_APF_POLICY_OFF]		= "off",
	[KMX_APF_POLICY_KVM]		= "kvm",
	[KMX_APF_POLICY_THRESHOLD]	= "threshold",
};

/*
 * The module parameters take names, and go through the same check as the
 * KMX_SET_POLICY ioctl, so a typo or a policy this build cannot honour
 * fails insmod (or the sysfs write) with an error instead of a surprise.
 */
static int kmx_param_set_policy(struct kmx_policy *p)
{
	int r = kmx_policy_check(p);

	if (r)
		return r;
	if (p->flags & KMX_POLICY_FASTPF)
		kmx_default_policy.fastpf_scheme = p->fastpf_scheme;
	if (p->flags & KMX_POLICY_APF)
		kmx_default_policy.apf_policy = p->apf_policy;
	if (p->flags & KMX_POLICY_RMAP_NOLOCK)
		kmx_default_policy.rmap_nolock = p->rmap_nolock;
	return 0;
}

static int fastpf_scheme_set(const char *val, const struct kernel_param *kp)
{
	struct kmx_policy p = { .flags = KMX_POLICY_FASTPF };
	int i = sysfs_match_string(kmx_fastpf_scheme_names, val);

	if (i < 0)
		return -EINVAL;
	p.fastpf_scheme = i;
	return kmx_param_set_policy(&p);
}

static int fastpf_scheme_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  kmx_fastpf_scheme_names[kmx_default_policy.fastpf_scheme]);
}

static const struct kernel_param_ops fastpf_scheme_ops = {
	.set = fastpf_scheme_set,
	.get = fastpf_scheme_get,
};
module_param_cb(fastpf_scheme, &fastpf_scheme_ops, NULL, 0644);
MODULE_PARM_DESC(fastpf_scheme,
		 "default fast page fault scheme: off, mmu-writable, lock-bit, two-bit");

static int apf_policy_set(const char *val, const struct kernel_param *kp)
{
	struct kmx_policy p = { .flags = KMX_POLICY_APF };
	int i = sysfs_match_string(kmx_apf_policy_names, val);

	if (i < 0)
		return -EINVAL;
	p.apf_policy = i;
	return kmx_param_set_policy(&p);
}

static int apf_policy_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  kmx_apf_policy_names[kmx_default_policy.apf_policy]);
}

static const struct kernel_param_ops apf_policy_ops = {
	.set = apf_policy_set,
	.get = apf_policy_get,
};
module_param_cb(apf_policy, &apf_policy_ops, NULL, 0644);
MODULE_PARM_DESC(apf_policy, "default async page fault policy: off, kvm, threshold");

static int rmap_nolock_set(const char *val, const struct kernel_param *kp)
{
	struct kmx_policy p = { .flags = KMX_POLICY_RMAP_NOLOCK };
	bool on;

	if (kstrtobool(val, &on))
		return -EINVAL;
	p.rmap_nolock = on;
	return kmx_param_set_policy(&p);
}

static int rmap_nolock_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%c\n", kmx_default_policy.rmap_nolock ? 'Y' : 'N');
}

static const struct kernel_param_ops rmap_nolock_ops = {
	.set = rmap_nolock_set,
	.get = rmap_nolock_get,
};
module_param_cb(rmap_nolock, &rmap_nolock_ops, NULL, 0644);
MODULE_PARM_DESC(rmap_nolock, "default: zap deleted memslots' rmaps without mmu_lock");

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
		goto out_debugfs;
	}

	r = kmx_dev_init();
	if (r) {
		pr_err("cannot register /dev/kvm-mmu-ext: %d\n", r);
		goto out_hooks;
	}

	pr_info("version %s loaded (%s%s build)\n", KVM_MMU_EXT_VERSION,
		KMX_HAVE_HOOKS ? "full" : "stock",
		KMX_DEBUG_BUILD ? ", debug" : "");
	return 0;

out_hooks:
	kmx_hooks_unregister();
out_debugfs:
	kmx_debugfs_exit();
	return r;
}

static void __exit kmx_exit(void)
{
	/* No handle is open: each one pins the module. */
	kmx_dev_exit();
	kmx_hooks_unregister();
	kmx_debugfs_exit();
}

module_init(kmx_init);
module_exit(kmx_exit);

MODULE_DESCRIPTION("Extensions to the KVM x86 MMU");
MODULE_LICENSE("GPL");
MODULE_VERSION(KVM_MMU_EXT_VERSION);
