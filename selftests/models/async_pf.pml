/* SPDX-License-Identifier: GPL-2.0 */
/*
 * async_pf.pml - x86 async page fault: NOT_PRESENT/READY pairing with
 * cancellation and vCPU teardown
 *
 * Source thread: "Support Async Page Fault" (2020, arm64 RFC),
 * shared/seeds/004; the protocol modelled is x86 KVM 6.12
 * (virt/kvm/async_pf.c, arch/x86/kvm/x86.c), which kvm-mmu-ext observes
 * through its kvm_arch_setup_async_pf() / kvm_arch_async_page_not_present()
 * / _present() / _ready() hooks.
 *
 * One vCPU (guest and vCPU thread), NR_FAULTS=2 faults on swapped-out
 * pages, one async_pf_execute() work item per fault.
 *
 *   kvm_setup_async_pf(): queue the work, then
 *     kvm_arch_async_page_not_present(): if kvm_can_deliver_async_pf() and
 *       the apf data write works, inject #PF with the token (the guest
 *       receives NOT_PRESENT) and set work->notpresent_injected; otherwise
 *       KVM_REQ_APF_HALT: the vCPU halts until the page is ready and NO
 *       READY is sent for this fault;
 *     schedule_work().
 *   async_pf_execute() (workqueue): fault the page in, add the work to
 *     vcpu->async_pf.done, kvm_arch_async_page_present_queued().
 *   kvm_check_async_pf_completion() (vCPU thread): while done is not empty
 *     and kvm_arch_can_dequeue_async_page_present() (apf enabled -> the
 *     guest's token slot is free): dequeue; kvm_arch_async_page_ready();
 *     kvm_arch_async_page_present(): if (wakeup_all || notpresent_injected)
 *     and async PF is enabled, write the token into the slot and raise the
 *     READY interrupt; apf.halted = false.
 *   Guest READY handler: read the token, wake its waiter (token 0xFFFFFFFF:
 *     wake everyone), clear the slot, write MSR_KVM_ASYNC_PF_ACK ->
 *     kvm_check_async_pf_completion().
 *   Guest enables async PF (MSR_KVM_ASYNC_PF_EN): kvm_pv_enable_async_pf()
 *     -> kvm_async_pf_wakeup_all(): if done is empty, queue a wakeup_all
 *     item, delivered as READY with token 0xFFFFFFFF although no
 *     NOT_PRESENT came before it.
 *   Guest disables async PF, or vCPU teardown (kvm_arch_vcpu_destroy(),
 *     kvm_unload_vcpu_mmus()): kvm_clear_async_pf_completion_queue():
 *     cancel_work_sync() every queued work (a running one is waited for and
 *     lands on done), then free everything on done without a READY.
 *
 * SAFETY PROPERTY
 *   A1: every NOT_PRESENT the guest received gets exactly one READY with its
 *       token, or is cancelled (dropped by kvm_clear_async_pf_completion_queue()
 *       before its READY was sent); never both; and no READY arrives for a
 *       token the guest never saw as NOT_PRESENT.  The broadcast READY
 *       (0xFFFFFFFF) pairs with nothing and is accepted at any time.
 *         at READY(t) receipt: assert(np_received[t] && !cancelled[t] &&
 *                                     ready_received[t] == 0)
 *         at quiescence (all work finished, done empty, slot empty, before
 *         teardown): assert(!np_received[t] || ready_received[t] == 1 ||
 *                           cancelled[t]) for every t
 *         and no work item touches the vCPU after teardown:
 *           assert(!vcpu_freed) in async_pf_execute().
 *   M1: the module's pairing audit (kmod/asyncpf/apf.c, through the
 *       apf_event hook of patches/0006) agrees with the guest: it never
 *       finds a lost or orphan token, and at quiescence no token is left
 *       pending in it, and it counted a token paired exactly when the guest
 *       received the token's READY.
 *         at present: assert(!a_lost && !a_orphan)
 *         at quiescence: assert(!a_pending[t] &&
 *                               a_paired[t] == (ready_received[t] == 1))
 *
 * VARIANTS (one -D; default VARIANT_KVM)
 *   VARIANT_KVM            6.12 as described (the shipped behaviour).
 *   VARIANT_NOCANCEL       broken: kvm_clear_async_pf_completion_queue()
 *                          drops queued work without cancel_work_sync(), so a
 *                          running async_pf_execute() completes afterwards.
 *   VARIANT_READY_OVERWRITE broken: kvm_arch_can_dequeue_async_page_present()
 *                          ignores apf_pageready_slot_free(); a second READY
 *                          overwrites the first before the guest read it
 *                          (the "cannot inject two at once" problem of 004).
 *   VARIANT_READY_UNINJECTED broken: kvm_arch_async_page_present() ignores
 *                          notpresent_injected and sends READY for a fault
 *                          whose NOT_PRESENT was never delivered (halt path).
 *   VARIANT_AUDIT_NOCANCEL broken (the module side): the CANCEL event is not
 *                          raised when the guest disables async PF, only at
 *                          reset and teardown, so the audit keeps the
 *                          dropped tokens pending (M1).
 *
 * PROMELA VARIABLE  ->  C
 *   apf_en            kvm_pv_async_pf_enabled(vcpu)
 *   slot              the token field of the guest's kvm_vcpu_pv_apf_data
 *                     (0 = free; apf_pageready_slot_free())
 *   done              vcpu->async_pf.done (channel of work ids; BCAST = the
 *                     wakeup_all item)
 *   wst[i]            work i: W_NONE, W_QUEUED (on async_pf.queue, not
 *                     started), W_RUNNING (async_pf_execute()), W_FINISHED,
 *                     W_CANCELLED (cancel_work_sync() won)
 *   np_injected[i]    work->notpresent_injected
 *   halted            vcpu->arch.apf.halted (KVM_REQ_APF_HALT)
 *   np_received[i], ready_received[i], cancelled[i]   ghosts of A1
 *   vcpu_freed        the vCPU and its async_pf lists were freed
 *   a_pending[i], a_paired[i], a_cancelled[i]   the module's audit table
 *                     and findings for token i (kmx_apf_token, apf_paired,
 *                     apf_cancelled)
 *
 * ABSTRACTIONS
 *   Sequential consistency (all shared state is under async_pf.lock or owned
 *   by the vCPU thread).  Injection is immediate (the guest "receives" the
 *   #PF when it is injected).  The guest's per-token wait list and dummy
 *   entries, kvm_find_async_pf_gfn(), ASYNC_PF_PER_VCPU, nested guests and
 *   KVM_ASYNC_PF_SEND_ALWAYS are not modelled; whether a NOT_PRESENT can be
 *   delivered is a nondeterministic choice.  The guest enables async PF only
 *   when it is disabled (what Linux guests do).
 *
 * BOUNDS: NR_FAULTS=2, at most 2 enables and 1 disable, one teardown.
 */

#if !defined(VARIANT_KVM) && !defined(VARIANT_NOCANCEL) && \
    !defined(VARIANT_READY_OVERWRITE) && !defined(VARIANT_READY_UNINJECTED) && \
    !defined(VARIANT_AUDIT_NOCANCEL)
#define VARIANT_KVM
#endif

#define NR_FAULTS	2
#define MAX_ENABLE	2
#define MAX_DISABLE	1
#define BCAST		3	/* the wakeup_all item / token 0xFFFFFFFF */

#define W_NONE		0
#define W_QUEUED	1
#define W_RUNNING	2
#define W_FINISHED	3
#define W_CANCELLED	4

bit apf_en;
bit sent;		/* kvm_arch_async_page_present() sent the READY */
byte slot;
chan done = [NR_FAULTS + 1] of { byte };
byte wst[NR_FAULTS + 1];
bit np_injected[NR_FAULTS + 1];
bit halted;
bit vcpu_freed;

bit a_pending[NR_FAULTS + 1];
bit a_paired[NR_FAULTS + 1];
bit a_cancelled[NR_FAULTS + 1];

bit np_received[NR_FAULTS + 1];
byte ready_received[NR_FAULTS + 1];
bit cancelled[NR_FAULTS + 1];

/* async_pf_execute() */
proctype worker(byte i)
{
	if
	:: atomic { wst[i] == W_QUEUED -> wst[i] = W_RUNNING }
	:: atomic { wst[i] == W_CANCELLED -> goto out }	/* cancel_work_sync() won */
	fi;
	/* get_user_pages_remote(): the page is faulted in */
	atomic {
		assert(!vcpu_freed);
		done!i;				/* list_add_tail(&apf->link, &done) */
		wst[i] = W_FINISHED
	};
out:
	skip
}

/*
 * The module's apf_event hook at KVM_MMU_EXT_APF_PRESENT (sent) or
 * KVM_MMU_EXT_APF_UNSENT, which kvm_arch_async_page_present() reports once
 * it has decided whether the READY went out: kmx_apf_present().
 */
inline audit_present(w)
{
	assert(a_pending[w]);			/* not an orphan */
	a_pending[w] = 0;
	if
	:: np_injected[w] ->
		assert(sent);			/* not lost */
		a_paired[w] = 1
	:: else -> skip				/* halted: no READY owed */
	fi
}

/* ... at KVM_MMU_EXT_APF_CANCEL: kmx_apf_cancel() */
inline audit_cancel()
{
	j = 1;
	do
	:: j <= NR_FAULTS ->
		if
		:: a_pending[j] -> a_pending[j] = 0; a_cancelled[j] = 1
		:: else -> skip
		fi;
		j++
	:: else -> break
	od;
	j = 0
}

/* kvm_arch_async_page_present() for item w */
inline page_present(w)
{
	if
	:: w == BCAST ->
		if
		:: apf_en -> slot = BCAST	/* apf_put_user_ready(~0) + IRQ */
		:: else -> skip
		fi
	:: else ->
#ifdef VARIANT_READY_UNINJECTED
		if
		:: apf_en -> slot = w; sent = 1
		:: else -> skip
		fi;
#else
		if
		:: np_injected[w] && apf_en -> slot = w; sent = 1
		:: else -> skip
		fi;
#endif
		audit_present(w);
		sent = 0;
		wst[w] = W_NONE
	fi;
	halted = 0
}

/* kvm_check_async_pf_completion() */
inline check_completion()
{
	do
#ifdef VARIANT_READY_OVERWRITE
	:: nempty(done) ->
#else
	:: nempty(done) && (!apf_en || slot == 0) ->
#endif
		done?w;
		/* kvm_arch_async_page_ready(): the page is mapped */
		page_present(w);
		w = 0
	:: else -> break
	od
}

/* the guest's READY interrupt handler + MSR_KVM_ASYNC_PF_ACK */
inline guest_ready_irq()
{
	atomic {
		t = slot;
		if
		:: t == BCAST -> skip		/* wake all; pairs with nothing */
		:: else ->
			assert(np_received[t] && !cancelled[t] && ready_received[t] == 0);
			ready_received[t]++
		fi;
		slot = 0
	};
	t = 0;
	check_completion()
}

/* kvm_clear_async_pf_completion_queue() */
inline clear_completion_queue()
{
	j = 1;
	do
	:: j <= NR_FAULTS ->
		atomic {
			if
			:: wst[j] == W_QUEUED ->
				/* cancel_work_sync() == true: never ran, freed */
				wst[j] = W_CANCELLED;
				cancelled[j] = np_received[j] && ready_received[j] == 0;
				running = 0
			:: wst[j] == W_RUNNING -> running = 1
			:: else -> running = 0
			fi
		};
		if
		:: running ->
#ifdef VARIANT_NOCANCEL
			/* list_del() only: the running work is forgotten */
			cancelled[j] = np_received[j] && ready_received[j] == 0
#else
			wst[j] == W_FINISHED	/* cancel_work_sync() waits, it lands on done */
#endif
		:: else -> skip
		fi;
		running = 0;
		j++
	:: else -> break
	od;
	do
	:: done?w ->				/* kvm_flush_and_free_async_pf_work() */
		if
		:: w != BCAST ->
			cancelled[w] = np_received[w] && ready_received[w] == 0;
			wst[w] = W_NONE
		:: else -> skip
		fi
	:: empty(done) -> break
	od;
	j = 0;
	w = 0
}

proctype vcpu()
{
	byte w, t, j, nf, nen, ndis;
	bit deliverable, running;

	do
	/* guest: wrmsr(MSR_KVM_ASYNC_PF_EN, enabled) */
	:: !halted && !apf_en && nen < MAX_ENABLE ->
		nen++;
		apf_en = 1;
		if				/* kvm_async_pf_wakeup_all() */
		:: empty(done) -> done!BCAST
		:: else -> skip
		fi;
		check_completion()
	/* guest: wrmsr(MSR_KVM_ASYNC_PF_EN, 0) */
	:: !halted && apf_en && ndis < MAX_DISABLE ->
		ndis++;
		apf_en = 0;
#ifndef VARIANT_AUDIT_NOCANCEL
		audit_cancel();
#endif
		clear_completion_queue()
	/* guest access to a swapped-out page: kvm_setup_async_pf() */
	:: !halted && nf < NR_FAULTS ->
		nf++;
		wst[nf] = W_QUEUED;
		a_pending[nf] = 1;		/* audit: KVM_MMU_EXT_APF_NOT_PRESENT */
		if
		:: deliverable = 1
		:: deliverable = 0		/* e.g. CPL0 with send_user_only */
		fi;
		if
		:: apf_en && deliverable ->
			np_injected[nf] = 1;
			np_received[nf] = 1	/* guest gets #PF with the token */
		:: else ->
			halted = 1		/* KVM_REQ_APF_HALT */
		fi;
		deliverable = 0;
		run worker(nf)
	/* KVM_REQ_APF_READY in vcpu_enter_guest(), or a halted vCPU wakes */
	:: nempty(done) ->
		check_completion()
	/* guest takes the READY interrupt */
	:: !halted && slot != 0 ->
		guest_ready_irq()
	/* VM destroyed now */
	:: goto teardown
	/* run to quiescence, check A1, then tear down */
	:: nf == NR_FAULTS -> break
	od;

	/* quiescence: every work finished or cancelled, everything delivered */
	do
	:: wst[1] != W_QUEUED && wst[1] != W_RUNNING &&
	   wst[2] != W_QUEUED && wst[2] != W_RUNNING -> break
	od;
	do
	:: nempty(done) -> check_completion()
	:: slot != 0 -> guest_ready_irq()
	:: empty(done) && slot == 0 -> break
	od;
	j = 1;
	do
	:: j <= NR_FAULTS ->
		assert(!np_received[j] || ready_received[j] == 1 || cancelled[j]);
		assert(!a_pending[j] && a_paired[j] == (ready_received[j] == 1));
		j++
	:: else -> break
	od;

teardown:
	audit_cancel();
	clear_completion_queue();
	vcpu_freed = 1
}

init
{
	run vcpu()
}
