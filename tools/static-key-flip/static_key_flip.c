// SPDX-License-Identifier: GPL-2.0
/*
 * static_key_flip: the minimal reproducer of Documentation/testing.rst for
 * the "Oops: int3" seen in test VMs under multi-threaded TCG.  No KVM: one
 * kthread runs a function with a static branch in a loop on one CPU while
 * module init flips the key on another, so text_poke_bp() rewrites code
 * that the other CPU is executing.  On real hardware this is always safe;
 * an int3 oops here is the emulator's.
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/jump_label.h>
#include <linux/sched.h>

static unsigned int flips = 20000;
module_param(flips, uint, 0444);
MODULE_PARM_DESC(flips, "how many times to enable and disable the key");

static DEFINE_STATIC_KEY_FALSE(flip_key);
static unsigned long hits, runs;
static bool stop;

static noinline void flip_patched(void)
{
	if (static_branch_unlikely(&flip_key))
		WRITE_ONCE(hits, hits + 1);
	WRITE_ONCE(runs, runs + 1);
}

static int flip_runner(void *unused)
{
	while (!READ_ONCE(stop) && !kthread_should_stop()) {
		flip_patched();
		if (!(runs & 1023))
			cond_resched();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static int __init static_key_flip_init(void)
{
	struct task_struct *t;
	unsigned int i;

	if (num_online_cpus() < 2)
		return -ENODEV;
	t = kthread_create(flip_runner, NULL, "static-key-flip");
	if (IS_ERR(t))
		return PTR_ERR(t);
	/* Flip on this CPU, run on another: may sleep, but not migrate. */
	migrate_disable();
	kthread_bind(t, cpumask_any_but(cpu_online_mask, smp_processor_id()));
	wake_up_process(t);
	for (i = 0; i < flips; i++) {
		static_branch_enable(&flip_key);
		static_branch_disable(&flip_key);
		cond_resched();
	}
	migrate_enable();
	WRITE_ONCE(stop, true);
	kthread_stop(t);
	pr_info("static-key-flip: %u flips, %lu runs, %lu with the key on\n",
		flips, runs, hits);
	/* No run saw the key on: the two never overlapped. */
	return hits ? 0 : -EAGAIN;
}

static void __exit static_key_flip_exit(void)
{
}

module_init(static_key_flip_init);
module_exit(static_key_flip_exit);
MODULE_DESCRIPTION("Flip a static key while another CPU runs the patched code");
MODULE_LICENSE("GPL");
