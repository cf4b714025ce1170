// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: async page fault policy and pairing audit (FULL build only).
 *
 * The policy runs in the apf_setup hook, which kvm_arch_setup_async_pf()
 * calls on the vCPU thread before it queues an async page fault:
 *
 *	off		refuse; KVM faults the page in synchronously
 *	kvm		accept; KVM's own behaviour
 *	threshold	fault the page in from the module's own work item and
 *			wait for it, up to the threshold; if it came in time,
 *			refuse (the synchronous path then finds it at once),
 *			else go async
 *
 * kvm_arch_async_page_not_present() cannot wait, so the waiting is here.
 *
 * The audit runs in the apf_event hook.  Every not-present token of an
 * attached VM is kept until KVM's present event for it, or until a
 * cancellation of its vCPU's queue (reset, async PF disabled, teardown).
 * kvm_arch_async_page_present() reports present only once it knows the
 * outcome: KVM_MMU_EXT_APF_PRESENT if the token was written to the guest
 * and its local APIC accepted the page-ready interrupt, else
 * KVM_MMU_EXT_APF_UNSENT.  The token is then classified: paired
 * (page-ready delivered), halted (KVM could not inject the not-present,
 * so it halted the vCPU and owes no page-ready), or lost (the guest was
 * told not-present, and no page-ready reached it).  A second not-present
 * for a pending token is a duplicate, a present for an unknown token an
 * orphan.  The latency from not-present to present of the paired tokens
 * goes into apf_hist.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "trace.h"

#include "mmu.h"

/* The threshold of a VM whose KMX_APF_POLICY_THRESHOLD came with none. */
static unsigned int apf_threshold_us = 500;

static int apf_threshold_set(const char *val, const struct kernel_param *kp)
{
	unsigned int us;

	if (kstrtouint(val, 0, &us) || !us || us > KMX_APF_THRESHOLD_MAX_US)
		return -EINVAL;
	WRITE_ONCE(apf_threshold_us, us);
	return 0;
}

static const struct kernel_param_ops apf_threshold_ops = {
	.set = apf_threshold_set,
	.get = param_get_uint,
};
module_param_cb(apf_threshold_us, &apf_threshold_ops, &apf_threshold_us, 0644);
MODULE_PARM_DESC(apf_threshold_us,
		 "threshold policy: microseconds a vCPU waits for a page before going async (1-100000)");

static struct workqueue_struct *kmx_apf_wq;

/*
 * One fault-in of the threshold policy.  Two references: the waiting vCPU
 * and the work item, which may outlive the wait by as long as the page
 * takes.  It pins the mm_struct (not the address space) like KVM's own
 * async work does through the VM.
 */
struct kmx_apf_prefault {
	struct work_struct work;
	struct mm_struct *mm;
	unsigned long hva;
	wait_queue_head_t wq;
	refcount_t ref;
	bool done;
	bool in;
};

static void kmx_apf_prefault_put(struct kmx_apf_prefault *p)
{
	if (refcount_dec_and_test(&p->ref)) {
		mmdrop(p->mm);
		kfree(p);
	}
}

/*
 * As async_pf_execute() does, so a delayed page is delayed here alike.
 * Each work item holds a module reference, so that rmmod fails with
 * EAGAIN, rather than waiting in D state, while one is blocked on a page
 * the VMM does not serve (a userfaultfd page may be held for ever).  The
 * last put is the work's last access to module data; kmx_apf_exit()'s
 * destroy_workqueue() waits for the few instructions after it.
 */
static void kmx_apf_prefault_work(struct work_struct *work)
{
	struct kmx_apf_prefault *p = container_of(work, struct kmx_apf_prefault,
						  work);
	int locked = 1;
	long r = 0;

	if (mmget_not_zero(p->mm)) {
		mmap_read_lock(p->mm);
		r = get_user_pages_remote(p->mm, p->hva, 1, FOLL_WRITE, NULL,
					  &locked);
		if (locked)
			mmap_read_unlock(p->mm);
		mmput(p->mm);
	}
	/* The page is in only if gup faulted it in: not on EFAULT or SIGBUS. */
	WRITE_ONCE(p->in, r == 1);
	/* Pairs with kmx_apf_wait()'s acquire, on its timeout path too. */
	smp_store_release(&p->done, true);
	wake_up(&p->wq);
	kmx_apf_prefault_put(p);
	module_put(THIS_MODULE);
}

/* Returns whether the page is in, and came within @us microseconds. */
static bool kmx_apf_wait(struct kvm_vcpu *vcpu, gfn_t gfn, u32 us)
{
	unsigned long hva = kvm_vcpu_gfn_to_hva(vcpu, gfn);
	struct kmx_apf_prefault *p;
	bool done;

	if (kvm_is_error_hva(hva))
		return false;
	if (!try_module_get(THIS_MODULE))
		return false;
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		module_put(THIS_MODULE);
		return false;
	}
	INIT_WORK(&p->work, kmx_apf_prefault_work);
	init_waitqueue_head(&p->wq);
	refcount_set(&p->ref, 2);
	p->mm = vcpu->kvm->mm;
	mmgrab(p->mm);
	p->hva = hva;
	queue_work(kmx_apf_wq, &p->work);

	/*
	 * Interruptible, as KVM's own synchronous fault-in is
	 * (FOLL_INTERRUPTIBLE): a signal to the vCPU thread (a VMM's kick,
	 * a kill) does not wait out the threshold here, with kvm->srcu held.
	 * An interrupted wait gives the fault to KVM's async path, and
	 * vcpu_run() then exits on the pending signal.
	 */
	might_sleep();
	if (!READ_ONCE(p->done))
		__wait_event_hrtimeout(p->wq, READ_ONCE(p->done),
				       ns_to_ktime((u64)us * NSEC_PER_USEC),
				       TASK_INTERRUPTIBLE);
	/* Pairs with the work's release: p->in is read after p->done. */
	done = smp_load_acquire(&p->done) && READ_ONCE(p->in);
	kmx_apf_prefault_put(p);
	return done;
}

/**
 * kmx_apf_setup() - the apf_setup hook: the policy
 * @vcpu: the faulting vCPU
 * @cr2_or_gpa: the fault address
 * @gfn: the page that is not present in the host
 *
 * Context: the vCPU thread, kvm->srcu held, no MMU lock; may sleep.
 * Return: true to let KVM queue an async page fault, false to make it
 * fault the page in synchronously.
 */
bool kmx_apf_setup(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, gfn_t gfn)
{
	u32 policy = READ_ONCE(kmx_default_policy.apf_policy);
	u32 us = READ_ONCE(kmx_default_policy.apf_threshold_us);
	int decision = KMX_APF_ASYNC;
	struct kmx_vm *vm;
	u64 waited = 0;

	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(vcpu->kvm);
	if (vm) {
		policy = READ_ONCE(vm->policy.apf_policy);
		us = READ_ONCE(vm->policy.apf_threshold_us);
	}
	if (policy == KMX_APF_POLICY_OFF) {
		decision = KMX_APF_SYNC_OFF;
	} else if (policy == KMX_APF_POLICY_THRESHOLD) {
		u64 t0 = ktime_get_ns();

		rcu_read_unlock();
		if (kmx_apf_wait(vcpu, gfn, us ?: READ_ONCE(apf_threshold_us)))
			decision = KMX_APF_SYNC_IN_TIME;
		waited = ktime_get_ns() - t0;
		/* The VM's state may have gone while the vCPU waited. */
		rcu_read_lock();
		vm = kmx_vm_lookup_rcu(vcpu->kvm);
	}
	kmx_stat_add(vm, KMX_STAT_APF_SETUP, 1);
	kmx_stat_add(vm, KMX_STAT_APF_REFUSED, decision != KMX_APF_ASYNC);
	kmx_stat_add(vm, KMX_STAT_APF_SYNC_IN_TIME,
		     decision == KMX_APF_SYNC_IN_TIME);
	kmx_stat_add(vm, KMX_STAT_APF_WAIT_NS, waited);
	rcu_read_unlock();
	trace_kmx_apf_policy(vcpu->vcpu_id, gfn, decision, waited);
	return decision == KMX_APF_ASYNC;
}

static struct kmx_apf_token *kmx_apf_find(struct kmx_apf_audit *a,
					  int vcpu_id, u32 token)
{
	struct kmx_apf_token *t;

	lockdep_assert_held(&a->lock);
	hash_for_each_possible(a->pending, t, node, token)
		if (t->vcpu_id == vcpu_id && t->token == token)
			return t;
	return NULL;
}

static void kmx_apf_found(struct kmx_vm *vm, struct kvm_vcpu *vcpu, u32 token,
			  u64 gfn, int finding, u64 ns)
{
	static const enum kmx_stat stat[] = {
		[KMX_APF_AUDIT_PAIRED]		= KMX_STAT_APF_PAIRED,
		[KMX_APF_AUDIT_HALTED]		= KMX_STAT_APF_HALTED,
		[KMX_APF_AUDIT_BROADCAST]	= KMX_STAT_APF_BROADCAST,
		[KMX_APF_AUDIT_CANCELLED]	= KMX_STAT_APF_CANCELLED,
		[KMX_APF_AUDIT_DUPLICATE]	= KMX_STAT_APF_DUPLICATE,
		[KMX_APF_AUDIT_ORPHAN]		= KMX_STAT_APF_ORPHAN,
		[KMX_APF_AUDIT_LOST]		= KMX_STAT_APF_LOST,
	};

	kmx_stat_add(vm, stat[finding], 1);
	trace_kmx_apf_audit(vcpu->vcpu_id, token, gfn, finding, ns);
}

static void kmx_apf_not_present(struct kmx_vm *vm, struct kvm_vcpu *vcpu,
				struct kvm_async_pf *work)
{
	struct kmx_apf_audit *a = &vm->apf;
	struct kmx_apf_token *t, *n;

	n = kmalloc(sizeof(*n), GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT);
	if (!n) {
		kmx_stat_add(vm, KMX_STAT_APF_UNTRACKED, 1);
		return;
	}
	n->vcpu_id = vcpu->vcpu_id;
	n->token = work->arch.token;
	n->gfn = work->arch.gfn;
	n->t0 = ktime_get_ns();

	spin_lock(&a->lock);
	t = kmx_apf_find(a, n->vcpu_id, n->token);
	if (!t)
		hash_add(a->pending, &n->node, n->token);
	spin_unlock(&a->lock);
	if (t) {
		kfree(n);
		kmx_apf_found(vm, vcpu, work->arch.token, work->arch.gfn,
			      KMX_APF_AUDIT_DUPLICATE, 0);
		return;
	}
	kmx_stat_add(vm, KMX_STAT_APF_PENDING, 1);
}

/*
 * The ready event, just before kvm_arch_async_page_present() on the same
 * thread: record whether KVM had injected the token's not-present, which
 * is what a page-ready is owed to.
 *
 * The lost page-ready control (debug build): while the VM's debugfs
 * apf_drop_ready is not 0, the next token owed a page-ready loses it, as
 * if KVM had forgotten the not-present it injected: its work item's
 * notpresent_injected is cleared, after the audit recorded it, and
 * kvm_arch_async_page_present() sends nothing.  Nothing outlives the work
 * item.  The audit must count that token lost, and the guest must find
 * its task never woken.
 */
static void kmx_apf_ready(struct kmx_vm *vm, struct kvm_vcpu *vcpu,
			  struct kvm_async_pf *work)
{
	struct kmx_apf_audit *a = &vm->apf;
	struct kmx_apf_token *t;

	if (work->wakeup_all)
		return;
	spin_lock(&a->lock);
	t = kmx_apf_find(a, vcpu->vcpu_id, work->arch.token);
	if (t) {
		t->ready_seen = true;
		t->injected = work->notpresent_injected;
	}
	spin_unlock(&a->lock);
	if (KMX_DEBUG_BUILD && t && work->notpresent_injected &&
	    atomic_add_unless(&a->drop_ready, -1, 0))
		work->notpresent_injected = false;
}

#ifdef KVM_MMU_EXT_DEBUG
/**
 * kmx_apf_vm_debugfs_init() - the VM's apf_drop_ready knob (debug build)
 * @vm: the VM, whose debugfs directory exists
 */
void kmx_apf_vm_debugfs_init(struct kmx_vm *vm)
{
	debugfs_create_atomic_t("apf_drop_ready", 0600, vm->debugfs,
				&vm->apf.drop_ready);
}
#endif

static void kmx_apf_present(struct kmx_vm *vm, struct kvm_vcpu *vcpu,
			    struct kvm_async_pf *work, bool sent)
{
	struct kmx_apf_audit *a = &vm->apf;
	u32 token = work->arch.token;
	struct kmx_apf_token *t;
	bool injected;
	int finding;
	u64 ns;

	if (work->wakeup_all) {
		if (sent)
			kmx_apf_found(vm, vcpu, token, 0,
				      KMX_APF_AUDIT_BROADCAST, 0);
		return;
	}

	spin_lock(&a->lock);
	t = kmx_apf_find(a, vcpu->vcpu_id, token);
	if (t)
		hash_del(&t->node);
	spin_unlock(&a->lock);
	if (!t) {
		kmx_apf_found(vm, vcpu, token, work->arch.gfn,
			      KMX_APF_AUDIT_ORPHAN, 0);
		return;
	}

	ns = ktime_get_ns() - t->t0;
	injected = t->ready_seen ? t->injected : work->notpresent_injected;
	kfree(t);
	kmx_stat_add(vm, KMX_STAT_APF_PENDING, -1);
	if (!injected) {
		finding = KMX_APF_AUDIT_HALTED;
	} else if (!sent) {
		finding = KMX_APF_AUDIT_LOST;
	} else {
		finding = KMX_APF_AUDIT_PAIRED;
		kmx_hist_add(vm, KMX_HIST_APF, ns);
	}
	kmx_apf_found(vm, vcpu, token, work->arch.gfn, finding, ns);
}

static void kmx_apf_cancel(struct kmx_vm *vm, struct kvm_vcpu *vcpu)
{
	struct kmx_apf_audit *a = &vm->apf;
	struct kmx_apf_token *t;
	struct hlist_node *tmp;
	HLIST_HEAD(gone);
	int b;

	spin_lock(&a->lock);
	hash_for_each_safe(a->pending, b, tmp, t, node) {
		if (t->vcpu_id != vcpu->vcpu_id)
			continue;
		hash_del(&t->node);
		hlist_add_head(&t->node, &gone);
	}
	spin_unlock(&a->lock);

	hlist_for_each_entry_safe(t, tmp, &gone, node) {
		kmx_stat_add(vm, KMX_STAT_APF_PENDING, -1);
		kmx_apf_found(vm, vcpu, t->token, t->gfn, KMX_APF_AUDIT_CANCELLED,
			      ktime_get_ns() - t->t0);
		kfree(t);
	}
}

/**
 * kmx_apf_event() - the apf_event hook: counters, tracepoint and audit
 * @vcpu: the vCPU
 * @work: the async page fault; NULL for KVM_MMU_EXT_APF_CANCEL
 * @event: a KVM_MMU_EXT_APF_* event
 *
 * Context: must not sleep.  The vCPU thread, except for the cancellation
 * at VM teardown.
 */
void kmx_apf_event(struct kvm_vcpu *vcpu, struct kvm_async_pf *work,
		   int event)
{
	static const enum kmx_stat stat[] = {
		[KVM_MMU_EXT_APF_NOT_PRESENT]	= KMX_STAT_APF_NOT_PRESENT,
		[KVM_MMU_EXT_APF_PRESENT]	= KMX_STAT_APF_PRESENT,
		[KVM_MMU_EXT_APF_UNSENT]	= KMX_STAT_APF_UNSENT,
		[KVM_MMU_EXT_APF_READY]		= KMX_STAT_APF_READY,
		[KVM_MMU_EXT_APF_CANCEL]	= KMX_STAT_APF_CANCEL,
	};
	struct kmx_vm *vm;

	if (event < 0 || event >= ARRAY_SIZE(stat))
		return;
	trace_kmx_apf(vcpu->vcpu_id, event, work ? work->arch.token : 0,
		      work ? work->arch.gfn : 0);

	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(vcpu->kvm);
	kmx_stat_add(vm, stat[event], 1);
	if (vm) {
		if (event == KVM_MMU_EXT_APF_NOT_PRESENT)
			kmx_apf_not_present(vm, vcpu, work);
		else if (event == KVM_MMU_EXT_APF_READY)
			kmx_apf_ready(vm, vcpu, work);
		else if (event == KVM_MMU_EXT_APF_PRESENT ||
			 event == KVM_MMU_EXT_APF_UNSENT)
			kmx_apf_present(vm, vcpu, work,
					event == KVM_MMU_EXT_APF_PRESENT);
		else if (event == KVM_MMU_EXT_APF_CANCEL)
			kmx_apf_cancel(vm, vcpu);
	}
	rcu_read_unlock();
}

/**
 * kmx_apf_init() - create the work queue of the threshold policy
 *
 * Return: 0 or -ENOMEM.
 */
int kmx_apf_init(void)
{
	kmx_apf_wq = alloc_workqueue("kmx_apf", WQ_UNBOUND, 0);
	return kmx_apf_wq ? 0 : -ENOMEM;
}

/**
 * kmx_apf_exit() - wait for the fault-ins in flight, and free the queue
 *
 * Called once the hooks are unregistered, so no new one can start.
 */
void kmx_apf_exit(void)
{
	destroy_workqueue(kmx_apf_wq);
}
