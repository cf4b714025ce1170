// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the counters and histograms, per VM and module-wide, and
 * their names.  A leaf: every other file may count, none is called.
 */
#include <linux/log2.h>
#include <linux/percpu.h>

#include "kvm_mmu_ext.h"
#include "vm.h"

DEFINE_PER_CPU(struct kmx_stats, kmx_global_stats);

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

const char * const kmx_hist_names[KMX_HIST_NR] = {
	[KMX_HIST_FASTPF]	= "fastpf_hist",
	[KMX_HIST_APF]		= "apf_hist",
};

/**
 * kmx_stat_add() - add to a counter of a VM and of the module
 * @vm: the VM's state, or NULL for a VM without a handle
 * @stat: the counter
 * @n: the amount
 */
void kmx_stat_add(struct kmx_vm *vm, enum kmx_stat stat, s64 n)
{
	this_cpu_add(kmx_global_stats.v[stat], n);
	if (vm)
		this_cpu_add(vm->stats->v[stat], n);
}

/**
 * kmx_hist_add() - count a time into a histogram of a VM
 * @vm: the VM, or NULL (then nothing is counted)
 * @h: the histogram
 * @ns: the time
 *
 * Context: any; the caller keeps @vm alive (RCU).
 */
void kmx_hist_add(struct kmx_vm *vm, enum kmx_hist h, u64 ns)
{
	int b = min_t(int, ns ? ilog2(ns) : 0, KMX_HIST_BUCKETS - 1);

	if (vm)
		this_cpu_inc(vm->stats->hist[h][b]);
}

/**
 * kmx_stat_read() - the value of a counter, over all CPUs
 * @st: a VM's counters, or &kmx_global_stats
 * @stat: the counter
 *
 * Return: the sum; a snapshot, not atomic with respect to the writers.
 */
s64 kmx_stat_read(const struct kmx_stats __percpu *st, enum kmx_stat stat)
{
	s64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(st, cpu)->v[stat];
	return sum;
}
