// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: module init and exit, and the global defaults (module
 * parameters).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "pagetrack/pagetrack.h"

#include "trace.h"

/*
 * Set, under the parameters' lock, once init has failed or exit has begun:
 * from then on a write to a parameter file (they exist from before init
 * until after exit) fails instead of taking or dropping a write-protect
 * key reference that nothing would balance.
 */
static bool kmx_params_closed;

static void kmx_params_close(void)
{
	kernel_param_lock(THIS_MODULE);
	kmx_params_closed = true;
	/* The fastpf_scheme default holds a write-protect key reference. */
	kmx_fastpf_scheme_put(kmx_default_policy.fastpf_scheme);
	kernel_param_unlock(THIS_MODULE);
}

/*
 * The module parameters take names, and go through the same check as the
 * KMX_SET_POLICY ioctl, so a typo or a policy this build cannot honour
 * fails insmod (or the sysfs write) with an error instead of a surprise.
 *
 * Called with the parameters' lock held, at insmod and on sysfs writes.
 */
static int kmx_param_set_policy(struct kmx_policy *p)
{
	int r = kmx_policy_check(p);

	if (r)
		return r;
	if (kmx_params_closed)
		return -ENODEV;
	if (p->flags & KMX_POLICY_FASTPF) {
		u32 old = kmx_default_policy.fastpf_scheme;

		kmx_fastpf_scheme_get(p->fastpf_scheme);
		WRITE_ONCE(kmx_default_policy.fastpf_scheme, p->fastpf_scheme);
		kmx_fastpf_scheme_put(old);
	}
	if (p->flags & KMX_POLICY_APF)
		kmx_default_policy.apf_policy = p->apf_policy;
	if (p->flags & KMX_POLICY_RMAP_NOLOCK)
		kmx_default_policy.rmap_nolock = p->rmap_nolock;
	return 0;
}

/* A module parameter that names one value of a kmx_policy field. */
struct kmx_enum_param {
	const char * const *names;
	unsigned int nr;
	u32 flag;
	u32 *value;
};

static int kmx_enum_param_set(const char *val, const struct kernel_param *kp)
{
	const struct kmx_enum_param *ep = kp->arg;
	struct kmx_policy p = { .flags = ep->flag };
	int i = __sysfs_match_string(ep->names, ep->nr, val);

	if (i < 0)
		return -EINVAL;
	if (ep->flag == KMX_POLICY_FASTPF)
		p.fastpf_scheme = i;
	else
		p.apf_policy = i;
	return kmx_param_set_policy(&p);
}

static int kmx_enum_param_get(char *buf, const struct kernel_param *kp)
{
	const struct kmx_enum_param *ep = kp->arg;

	return sysfs_emit(buf, "%s\n", ep->names[*ep->value]);
}

static const struct kernel_param_ops kmx_enum_param_ops = {
	.set = kmx_enum_param_set,
	.get = kmx_enum_param_get,
};

static struct kmx_enum_param fastpf_scheme_param = {
	.names	= kmx_fastpf_scheme_names,
	.nr	= KMX_FASTPF_NR,
	.flag	= KMX_POLICY_FASTPF,
	.value	= &kmx_default_policy.fastpf_scheme,
};
module_param_cb(fastpf_scheme, &kmx_enum_param_ops, &fastpf_scheme_param, 0644);
MODULE_PARM_DESC(fastpf_scheme,
		 "default fast page fault scheme: off, mmu-writable, lock-bit, two-bit");

static struct kmx_enum_param apf_policy_param = {
	.names	= kmx_apf_policy_names,
	.nr	= ARRAY_SIZE(kmx_apf_policy_names),
	.flag	= KMX_POLICY_APF,
	.value	= &kmx_default_policy.apf_policy,
};
module_param_cb(apf_policy, &kmx_enum_param_ops, &apf_policy_param, 0644);
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

static int __init kmx_init(void)
{
	int r;

	r = kmx_debugfs_init();
	if (r)
		goto out_scheme;
	kmx_vm_debugfs_setup();
	kmx_pagetrack_debugfs_init();

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
out_scheme:
	kmx_params_close();
	return r;
}

static void __exit kmx_exit(void)
{
	/* No handle is open: each one pins the module. */
	kmx_dev_exit();
	kmx_hooks_unregister();
	kmx_params_close();
	kmx_debugfs_exit();
	/* Closed handles free their rings in RCU callbacks of this module. */
	rcu_barrier();
}

module_init(kmx_init);
module_exit(kmx_exit);

MODULE_DESCRIPTION("Extensions to the KVM x86 MMU");
MODULE_LICENSE("GPL");
MODULE_VERSION(KVM_MMU_EXT_VERSION);
