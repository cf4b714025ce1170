// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the debugfs tree, /sys/kernel/debug/kvm-mmu-ext/.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "pagetrack/pagetrack.h"

struct dentry *kmx_debugfs_root;

const char * const kmx_stat_names[KMX_STAT_NR] = {
	[KMX_STAT_FASTPF_CALLS]		= "fastpf_calls",
	[KMX_STAT_FASTPF_FIXED]		= "fastpf_fixed",
	[KMX_STAT_FASTPF_SPURIOUS]	= "fastpf_spurious",
	[KMX_STAT_FASTPF_RETRIED]	= "fastpf_retried",
	[KMX_STAT_FASTPF_FALLBACK]	= "fastpf_fallback",
	[KMX_STAT_FASTPF_SKIPPED]	= "fastpf_skipped",
	[KMX_STAT_FASTPF_LOCKED_OUT]	= "fastpf_locked_out",
	[KMX_STAT_WP_SPTES]		= "wp_sptes",
	[KMX_STAT_GPTE_RECHECKS]	= "gpte_rechecks",
	[KMX_STAT_GPTE_CAUGHT_TOP]	= "gpte_caught_top",
	[KMX_STAT_GPTE_CAUGHT_1A]	= "gpte_caught_1a",
	[KMX_STAT_GPTE_CAUGHT_1B]	= "gpte_caught_1b",
	[KMX_STAT_GPTE_CAUGHT_2]	= "gpte_caught_2",
	[KMX_STAT_GPTE_STALE]		= "gpte_stale_installs",
	[KMX_STAT_GPTE_WALK_DELAYS]	= "gpte_walk_delays",
	[KMX_STAT_GPTE_CREATE_DELAYS]	= "gpte_create_delays",
	[KMX_STAT_MEMSLOT_FLUSHES]	= "memslot_flushes",
	[KMX_STAT_MEMSLOT_FLUSH_ZAP_ALL] = "memslot_flush_zap_all",
	[KMX_STAT_MEMSLOT_FLUSH_LOCK_NS] = "memslot_flush_lock_ns",
	[KMX_STAT_RMAP_UNMAPS]		= "rmap_unmaps",
	[KMX_STAT_RMAP_ZAP_ALL]		= "rmap_zap_all",
	[KMX_STAT_RMAP_CHAINS]		= "rmap_chains",
	[KMX_STAT_RMAP_ZAPPED]		= "rmap_zapped",
	[KMX_STAT_RMAP_LEFT]		= "rmap_left",
	[KMX_STAT_RMAP_UNMAP_NS]	= "rmap_unmap_ns",
	[KMX_STAT_RMAP_WAITS]		= "rmap_waits",
	[KMX_STAT_RMAP_WAIT_NS]		= "rmap_wait_ns",
	[KMX_STAT_RMAP_STALE]		= "rmap_stale",
	[KMX_STAT_RMAP_UAF]		= "rmap_uaf",
	[KMX_STAT_APF_SETUP]		= "apf_setup",
	[KMX_STAT_APF_REFUSED]		= "apf_refused",
	[KMX_STAT_APF_NOT_PRESENT]	= "apf_not_present",
	[KMX_STAT_APF_PRESENT]		= "apf_present",
	[KMX_STAT_APF_UNSENT]		= "apf_unsent",
	[KMX_STAT_APF_READY]		= "apf_ready",
	[KMX_STAT_APF_CANCEL]		= "apf_cancel",
	[KMX_STAT_APF_SYNC_IN_TIME]	= "apf_sync_in_time",
	[KMX_STAT_APF_WAIT_NS]		= "apf_wait_ns",
	[KMX_STAT_APF_PENDING]		= "apf_pending",
	[KMX_STAT_APF_PAIRED]		= "apf_paired",
	[KMX_STAT_APF_HALTED]		= "apf_halted",
	[KMX_STAT_APF_BROADCAST]	= "apf_broadcast",
	[KMX_STAT_APF_CANCELLED]	= "apf_cancelled",
	[KMX_STAT_APF_DUPLICATE]	= "apf_duplicate",
	[KMX_STAT_APF_ORPHAN]		= "apf_orphan",
	[KMX_STAT_APF_LOST]		= "apf_lost",
	[KMX_STAT_APF_UNTRACKED]	= "apf_untracked",
	[KMX_STAT_PAGETRACK_WATCHES]		= "pagetrack_watches",
	[KMX_STAT_PAGETRACK_EVENTS]		= "pagetrack_events",
	[KMX_STAT_PAGETRACK_DROPPED]		= "pagetrack_dropped",
	[KMX_STAT_PAGETRACK_MISSES]		= "pagetrack_misses",
	[KMX_STAT_PAGETRACK_REMOVED]		= "pagetrack_removed",
	[KMX_STAT_PAGETRACK_NOTIFY_NS]		= "pagetrack_notify_ns",
	[KMX_STAT_VMS_DESTROYED]	= "vms_destroyed",
};

/**
 * kmx_debugfs_show_stats() - print a set of counters, one "name: value" a line
 * @m: the seq_file
 * @st: the counters
 */
void kmx_debugfs_show_stats(struct seq_file *m, const struct kmx_stats __percpu *st)
{
	int i;

	for (i = 0; i < KMX_STAT_NR; i++)
		seq_printf(m, "%s: %lld\n", kmx_stat_names[i],
			   (long long)kmx_stat_read(st, i));
}

static int build_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version: %s\n", KVM_MMU_EXT_VERSION);
	seq_printf(m, "hooks: %s\n", KMX_HAVE_HOOKS ? "available" : "unavailable");
	seq_printf(m, "debug: %s\n", KMX_DEBUG_BUILD ? "yes" : "no");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(build);

static int stats_show(struct seq_file *m, void *v)
{
	kmx_debugfs_show_stats(m, &kmx_global_stats);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

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

const char * const kmx_hist_names[KMX_HIST_NR] = {
	[KMX_HIST_FASTPF]	= "fastpf_hist",
	[KMX_HIST_APF]		= "apf_hist",
};

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
static ssize_t enum_knob_read(struct file *file, char __user *ubuf, size_t count,
			      loff_t *ppos)
{
	const struct kmx_enum_knob *k = file->private_data;
	char buf[32];
	int n = scnprintf(buf, sizeof(buf), "%s\n", k->names[READ_ONCE(*k->value)]);

	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static ssize_t enum_knob_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	const struct kmx_enum_knob *k = file->private_data;
	char buf[32];
	int i;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	i = __sysfs_match_string(k->names, k->nr, buf);
	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(*k->value, i);
	return count;
}

static const struct file_operations enum_knob_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= enum_knob_read,
	.write	= enum_knob_write,
	.llseek	= default_llseek,
};

/**
 * kmx_debugfs_create_enum() - a debug knob that takes one of a set of names
 * @name: the file, under /sys/kernel/debug/kvm-mmu-ext/
 * @k: the names and the value they select; must outlive the file
 */
void kmx_debugfs_create_enum(const char *name, const struct kmx_enum_knob *k)
{
	debugfs_create_file(name, 0600, kmx_debugfs_root, (void *)k, &enum_knob_fops);
}

static int u32_knob_get(void *data, u64 *val)
{
	const struct kmx_u32_knob *k = data;

	*val = READ_ONCE(*k->value);
	return 0;
}

static int u32_knob_set(void *data, u64 val)
{
	const struct kmx_u32_knob *k = data;

	if (val > k->max)
		return -EINVAL;
	WRITE_ONCE(*k->value, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(u32_knob_fops, u32_knob_get, u32_knob_set, "%llu\n");

/**
 * kmx_debugfs_create_u32_max() - a debug knob that takes a bounded number
 * @name: the file, under /sys/kernel/debug/kvm-mmu-ext/
 * @k: the number and its bound; must outlive the file
 *
 * For the race windows that busy-wait, some with mmu_lock held: a write
 * above the bound fails with EINVAL instead of stalling the host.
 */
void kmx_debugfs_create_u32_max(const char *name, const struct kmx_u32_knob *k)
{
	debugfs_create_file_unsafe(name, 0600, kmx_debugfs_root, (void *)k,
				   &u32_knob_fops);
}

/*
 * Writing 1 makes the module WARN once.  It exists only in debug builds,
 * so that the test runner can prove it detects a splat.
 */
static int inject_warn_set(void *data, u64 val)
{
	if (val != 1)
		return -EINVAL;
	WARN(1, "kvm-mmu-ext: splat injected through debugfs\n");
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(inject_warn_fops, NULL, inject_warn_set, "%llu\n");

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
#endif

int kmx_debugfs_init(void)
{
	kmx_debugfs_root = debugfs_create_dir("kvm-mmu-ext", NULL);
	debugfs_create_file("build", 0444, kmx_debugfs_root, NULL, &build_fops);
	debugfs_create_file("stats", 0444, kmx_debugfs_root, NULL, &stats_fops);
#ifdef KVM_MMU_EXT_DEBUG
	debugfs_create_file_unsafe("inject_warn", 0200, kmx_debugfs_root, NULL,
				   &inject_warn_fops);
	debugfs_create_file_unsafe("inject_lock_inversion", 0200,
				   kmx_debugfs_root, NULL,
				   &inject_lock_inversion_fops);
#endif
	kmx_pagetrack_debugfs_init();
	return 0;
}

void kmx_debugfs_exit(void)
{
	debugfs_remove_recursive(kmx_debugfs_root);
}
