// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the debugfs tree, /sys/kernel/debug/kvm-mmu-ext/: its root,
 * the module-wide files, and the debug knobs the features create in it.
 * A leaf: the per-VM directories are vm_debugfs.c's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "kvm_mmu_ext.h"

struct dentry *kmx_debugfs_root;

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

#endif

int kmx_debugfs_init(void)
{
	kmx_debugfs_root = debugfs_create_dir("kvm-mmu-ext", NULL);
	debugfs_create_file("build", 0444, kmx_debugfs_root, NULL, &build_fops);
	debugfs_create_file("stats", 0444, kmx_debugfs_root, NULL, &stats_fops);
#ifdef KVM_MMU_EXT_DEBUG
	debugfs_create_file_unsafe("inject_warn", 0200, kmx_debugfs_root, NULL,
				   &inject_warn_fops);
#endif
	return 0;
}

void kmx_debugfs_exit(void)
{
	debugfs_remove_recursive(kmx_debugfs_root);
}
