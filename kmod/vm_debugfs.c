// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the per-VM debugfs directories, <pid>-<vmfd>/, with the
 * VM's policy, counters and histograms and the features' per-VM knobs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "kvm_mmu_ext.h"
#include "vm.h"

static int vm_stats_show(struct seq_file *m, void *v)
{
	struct kmx_vm *vm = m->private;

	kmx_debugfs_show_stats(m, vm->stats);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vm_stats);

static int policy_show(struct seq_file *m, void *v)
{
	struct kmx_vm *vm = m->private;

	mutex_lock(&vm->lock);
	seq_printf(m, "fastpf_scheme: %s\n",
		   kmx_fastpf_scheme_names[vm->policy.fastpf_scheme]);
	seq_printf(m, "apf_policy: %s\n",
		   kmx_apf_policy_names[vm->policy.apf_policy]);
	seq_printf(m, "apf_threshold_us: %u\n", vm->policy.apf_threshold_us);
	seq_printf(m, "rmap_nolock: %d\n", vm->policy.rmap_nolock);
	mutex_unlock(&vm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(policy);

/* One "<2^k ns>: <count>" line per non-empty bucket. */
static int hist_show(struct seq_file *m, void *v)
{
	const struct kmx_hist_file *f = m->private;
	int i;

	for (i = 0; i < KMX_HIST_BUCKETS; i++) {
		u64 n = 0;
		int cpu;

		for_each_possible_cpu(cpu)
			n += per_cpu_ptr(f->vm->stats, cpu)->hist[f->h][i];
		if (n)
			seq_printf(m, "%llu: %llu\n", 1ULL << i, n);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hist);

/* Serialises the naming of per-VM directories. */
static DEFINE_MUTEX(kmx_vm_debugfs_lock);
static unsigned int kmx_vm_debugfs_seq;

/**
 * kmx_vm_debugfs_init() - create /sys/kernel/debug/kvm-mmu-ext/<pid>-<vmfd>/
 * @vm: the VM; the directory is removed by the handle's release
 *
 * The name is that of the VM fd the attaching process holds now.  If a
 * directory has it already, it is an older VM's, whose fd was closed (and
 * reused) while a handle kept its state: that one is renamed
 * <pid>-<vmfd>.<n>, so the name always leads to the VM it names.
 */
void kmx_vm_debugfs_init(struct kmx_vm *vm)
{
	struct dentry *old;
	char name[48], stale[48];
	int i;

	snprintf(name, sizeof(name), "%d-%d", vm->owner_pid, vm->vm_fd);
	mutex_lock(&kmx_vm_debugfs_lock);
	old = debugfs_lookup(name, kmx_debugfs_root);
	if (old) {
		snprintf(stale, sizeof(stale), "%s.%u", name,
			 ++kmx_vm_debugfs_seq);
		if (IS_ERR(debugfs_rename(kmx_debugfs_root, old,
					  kmx_debugfs_root, stale))) {
			/* Then the new VM takes the numbered name. */
			pr_warn("debugfs: %s is taken; this VM's directory is %s\n",
				name, stale);
			strscpy(name, stale, sizeof(name));
		}
		dput(old);
	}
	vm->debugfs = debugfs_create_dir(name, kmx_debugfs_root);
	mutex_unlock(&kmx_vm_debugfs_lock);
	debugfs_create_file("policy", 0444, vm->debugfs, vm, &policy_fops);
	debugfs_create_file("stats", 0444, vm->debugfs, vm, &vm_stats_fops);
	for (i = 0; i < KMX_HIST_NR; i++) {
		vm->hist_files[i].vm = vm;
		vm->hist_files[i].h = i;
		debugfs_create_file(kmx_hist_names[i], 0444, vm->debugfs,
				    &vm->hist_files[i], &hist_fops);
	}
#if defined(KVM_MMU_EXT_DEBUG) && defined(KVM_MMU_EXT_FULL)
	kmx_fastpf_vm_debugfs_init(vm);
	kmx_apf_vm_debugfs_init(vm);
#endif
}

#ifdef KVM_MMU_EXT_DEBUG
/*
 * The lock-order control: writing 1 takes kmx_vms_lock (for lockdep only)
 * inside kmx_vm_debugfs_lock, the reverse of kmx_vm_get()'s order.  After
 * any attach, lockdep must report a possible circular dependency.
 */
static int inject_lock_inversion_set(void *data, u64 val)
{
	int r;

	if (val != 1)
		return -EINVAL;
	mutex_lock(&kmx_vm_debugfs_lock);
	r = kmx_vms_lock_cycle();
	mutex_unlock(&kmx_vm_debugfs_lock);
	return r;
}
DEFINE_DEBUGFS_ATTRIBUTE(inject_lock_inversion_fops, NULL,
			 inject_lock_inversion_set, "%llu\n");

/**
 * kmx_vm_debugfs_setup() - the module-wide files of the per-VM side
 *
 * The lock-order control (debug build), which takes this file's lock.
 */
void kmx_vm_debugfs_setup(void)
{
	debugfs_create_file_unsafe("inject_lock_inversion", 0200,
				   kmx_debugfs_root, NULL,
				   &inject_lock_inversion_fops);
}
#endif
