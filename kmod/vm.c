// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: KMX_ATTACH and the per-VM handles.
 *
 * Lifetime: the first handle of a VM creates its state, which takes a
 * reference on the VM with kvm_get_kvm(); further handles share the state.
 * The VM is destroyed at the earliest when its last handle closes, and the
 * state is freed by that close, before the reference is dropped.  The
 * vm_destroy hook therefore never sees a VM that still has state, in
 * whichever order userspace closes the VM fd and the handles.  An open
 * handle also pins the module (fops.owner), so rmmod fails with -EBUSY.
 *
 * Each handle is also a page-track watcher (pagetrack/), with its own
 * watches and event ring: read() and poll() on a handle are its events.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "trace.h"

static void kmx_vm_free_rcu(struct rcu_head *rcu)
{
	struct kmx_vm *vm = container_of(rcu, struct kmx_vm, rcu);

	kmx_apf_audit_destroy(&vm->apf);
	free_percpu(vm->stats);
	kfree(vm);
}

/**
 * kmx_policy_check() - validate a policy from userspace
 * @p: the policy; only the fields named in @p->flags are checked
 *
 * Return: 0, -EINVAL for an unknown flag or value, or -EOPNOTSUPP for a
 * policy that needs the KVM hooks in a build without them.
 */
int kmx_policy_check(const struct kmx_policy *p)
{
	if (p->flags & ~KMX_POLICY_ALL)
		return -EINVAL;
	if (p->flags & KMX_POLICY_FASTPF) {
		if (p->fastpf_scheme >= KMX_FASTPF_NR)
			return -EINVAL;
		if (!KMX_HAVE_HOOKS && p->fastpf_scheme != KMX_FASTPF_SCHEME_OFF)
			return -EOPNOTSUPP;
		if (kmx_fastpf_scheme_ok(p->fastpf_scheme))
			return -EOPNOTSUPP;
	}
	if (p->flags & KMX_POLICY_APF) {
		if (p->apf_policy > KMX_APF_POLICY_THRESHOLD)
			return -EINVAL;
		if (p->apf_policy != KMX_APF_POLICY_THRESHOLD && p->apf_threshold_us)
			return -EINVAL;
		if (p->apf_threshold_us > KMX_APF_THRESHOLD_MAX_US)
			return -EINVAL;
		if (!KMX_HAVE_HOOKS && p->apf_policy != KMX_APF_POLICY_KVM)
			return -EOPNOTSUPP;
	}
	if (p->flags & KMX_POLICY_RMAP_NOLOCK) {
		if (p->rmap_nolock > 1)
			return -EINVAL;
		if (!KMX_HAVE_HOOKS && p->rmap_nolock)
			return -EOPNOTSUPP;
	}
	return 0;
}

static long kmx_set_policy(struct kmx_vm *vm, const struct kmx_policy __user *uarg)
{
	struct kmx_policy p;
	int r;

	r = kmx_copy_arg(&p, sizeof(p), sizeof(p), uarg);
	if (r)
		return r;
	r = kmx_policy_check(&p);
	if (r)
		return r;

	mutex_lock(&vm->lock);
	if (p.flags & KMX_POLICY_FASTPF) {
		u32 old = vm->policy.fastpf_scheme;

		kmx_fastpf_scheme_get(p.fastpf_scheme);
		WRITE_ONCE(vm->policy.fastpf_scheme, p.fastpf_scheme);
		kmx_fastpf_scheme_put(old);
	}
	if (p.flags & KMX_POLICY_APF) {
		vm->policy.apf_policy = p.apf_policy;
		vm->policy.apf_threshold_us = p.apf_threshold_us;
	}
	if (p.flags & KMX_POLICY_RMAP_NOLOCK)
		vm->policy.rmap_nolock = p.rmap_nolock;
	trace_kmx_set_policy(vm->owner_pid, vm->policy.fastpf_scheme,
			     vm->policy.apf_policy, vm->policy.rmap_nolock);
	mutex_unlock(&vm->lock);
	return 0;
}

static long kmx_get_policy(struct kmx_vm *vm, struct kmx_policy __user *uarg)
{
	struct kmx_policy p;
	int r;

	r = kmx_copy_arg(&p, sizeof(p), sizeof(p), uarg);
	if (r)
		return r;
	if (p.flags)
		return -EINVAL;

	mutex_lock(&vm->lock);
	p.flags = KMX_POLICY_ALL;
	p.fastpf_scheme = vm->policy.fastpf_scheme;
	p.apf_policy = vm->policy.apf_policy;
	p.apf_threshold_us = vm->policy.apf_threshold_us;
	p.rmap_nolock = vm->policy.rmap_nolock;
	mutex_unlock(&vm->lock);

	p.size = sizeof(p);
	return copy_to_user(uarg, &p, sizeof(p)) ? -EFAULT : 0;
}

static long kmx_vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kmx_pagetrack_watcher *w = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KMX_SET_POLICY:
		return kmx_set_policy(w->vm, uarg);
	case KMX_GET_POLICY:
		return kmx_get_policy(w->vm, uarg);
	case KMX_WATCH:
		return kmx_pagetrack_watch(w, uarg);
	case KMX_UNWATCH:
		return kmx_pagetrack_unwatch(w, uarg);
	case KMX_SET_RING:
		return kmx_pagetrack_set_ring(w, uarg);
	default:
		return -ENOTTY;
	}
}

static ssize_t kmx_vm_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	return kmx_pagetrack_read(file->private_data, buf, count,
			   file->f_flags & O_NONBLOCK);
}

static __poll_t kmx_vm_poll(struct file *file, struct poll_table_struct *pt)
{
	return kmx_pagetrack_poll(file->private_data, file, pt);
}

/* Drop a handle's share of the VM state; the last one frees it. */
static void kmx_vm_put(struct kmx_vm *vm)
{
	struct kvm *kvm = vm->kvm;
	bool last;

	mutex_lock(&kmx_vms_lock);
	last = refcount_dec_and_test(&vm->users);
	if (last)
		hash_del_rcu(&vm->node);
	mutex_unlock(&kmx_vms_lock);
	if (!last)
		return;

	kmx_pagetrack_hub_destroy(&vm->pt);
	kmx_fastpf_scheme_put(vm->policy.fastpf_scheme);
	debugfs_remove_recursive(vm->debugfs);
	trace_kmx_detach(vm->owner_pid, vm->vm_fd);
	/* A hook may still be counting into it, under RCU. */
	call_rcu(&vm->rcu, kmx_vm_free_rcu);
	/* Last: this may destroy the VM and run the vm_destroy hook. */
	kvm_put_kvm(kvm);
}

static int kmx_vm_release(struct inode *inode, struct file *file)
{
	struct kmx_pagetrack_watcher *w = file->private_data;
	struct kmx_vm *vm = w->vm;

	kmx_pagetrack_watcher_release(w);
	kmx_vm_put(vm);
	return 0;
}

static const struct file_operations kmx_vm_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kmx_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.read		= kmx_vm_read,
	.poll		= kmx_vm_poll,
	.release	= kmx_vm_release,
	.llseek		= noop_llseek,
};

/* Find the state of @kvm and take a share of it, or create it. */
static struct kmx_vm *kmx_vm_get(struct kvm *kvm, int vm_fd)
{
	struct kmx_vm *vm, *new;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->stats = alloc_percpu_gfp(struct kmx_stats, GFP_KERNEL_ACCOUNT);
	if (!new->stats) {
		kfree(new);
		return NULL;
	}

	mutex_lock(&kmx_vms_lock);
	vm = kmx_vm_lookup_rcu(kvm);
	if (vm) {
		refcount_inc(&vm->users);
		mutex_unlock(&kmx_vms_lock);
		free_percpu(new->stats);
		kfree(new);
		return vm;
	}
	vm = new;
	vm->kvm = kvm;
	refcount_set(&vm->users, 1);
	mutex_init(&vm->lock);
	vm->policy = kmx_default_policy;
	kmx_fastpf_scheme_get(vm->policy.fastpf_scheme);
	vm->owner_pid = task_tgid_nr(current);
	vm->vm_fd = vm_fd;
	kmx_pagetrack_hub_init(&vm->pt);
	kmx_apf_audit_init(&vm->apf);
	/* Safe: the fd our caller holds keeps the VM alive until we take our ref. */
	kvm_get_kvm(kvm);
	hash_add_rcu(kmx_vms, &vm->node, (unsigned long)kvm);
	kmx_vm_debugfs_init(vm);
	trace_kmx_attach(vm->owner_pid, vm->vm_fd);
	mutex_unlock(&kmx_vms_lock);
	return vm;
}

/**
 * kmx_attach() - KMX_ATTACH: create a handle of a KVM VM
 * @uarg: struct kmx_attach from userspace
 *
 * Return: the handle fd, or -EFAULT, -EINVAL (bad size, flags or padding,
 * or @vm_fd is not a KVM VM), -E2BIG (unknown non-zero tail), -EBADF (no
 * such fd), -EPERM (caller is not in the VM's process) or -ENOMEM.
 */
long kmx_attach(const struct kmx_attach __user *uarg)
{
	struct kmx_pagetrack_watcher *w;
	struct kmx_attach a;
	struct kmx_vm *vm;
	struct kvm *kvm;
	int r;

	r = kmx_copy_arg(&a, sizeof(a), sizeof(a), uarg);
	if (r)
		return r;
	if (a.flags || a.pad)
		return -EINVAL;

	CLASS(fd, f)(a.vm_fd);
	if (fd_empty(f))
		return -EBADF;
	if (!file_is_kvm(fd_file(f)))
		return -EINVAL;
	kvm = fd_file(f)->private_data;
	/* The page-track API refuses other mms; so do we, for all features. */
	if (kvm->mm != current->mm)
		return -EPERM;

	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	vm = kmx_vm_get(kvm, a.vm_fd);
	if (!vm) {
		kfree(w);
		return -ENOMEM;
	}
	r = kmx_pagetrack_watcher_init(w, vm);
	if (r)
		goto out_put;
	r = anon_inode_getfd("kvm-mmu-ext-vm", &kmx_vm_fops, w, O_RDWR | O_CLOEXEC);
	if (r < 0)
		goto out_ring;
	return r;

out_ring:
	kmx_pagetrack_ring_free(&w->ring);
out_put:
	kfree(w);
	kmx_vm_put(vm);
	return r;
}
