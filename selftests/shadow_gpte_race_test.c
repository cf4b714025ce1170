// SPDX-License-Identifier: GPL-2.0
/*
 * shadow_gpte_race_test: a gpte that the guest changes between KVM's guest
 * walk and its fetch must not end up mapped (thread 002's race).
 *
 * Two vCPUs.  The writer repoints the translation of one virtual address,
 * X, at a new target page, again and again:
 *   phase 1 (PTE): it rewrites X's last-level gpte;
 *   phase 2 (PDE): it rewrites X's page directory entry, alternating
 *   between two page tables, after pointing the next table's entry at the
 *   new target;
 *   phase 3 (fresh directories, case 1.b): it points X's PDPTE at a page
 *   directory that nothing walked yet, and repoints X's PDE in it while
 *   the reader's fault waits, in the debug builds' create_delay_us window,
 *   to create the directory's shadow page (set_x_fresh()).  The VMM sees
 *   the reader's fault there by the gpte_create_delays counter and only
 *   then lets the writer go.
 * Before each change it stamps the new target with the next generation
 * number g.  After the change it does INVLPG X, reads X back and checks
 * that it sees g (guaranteed on its own CPU; a miss is counted as damage),
 * then publishes g.
 *
 * The reader keeps reading X.  Once it has seen generation g published,
 * it must never read a stamp older than g.  This relies on KVM's remote
 * TLB flushes when it zaps or syncs sptes, not on the architecture: the
 * reader does no INVLPG of its own, which would resync unsync shadow pages
 * and hide the last-level case.  Eight target pages rotate, so a stale
 * mapping reads an old stamp for eight generations.
 *
 * The module's walk_delay_us and create_delay_us knobs (debug builds) widen
 * the windows between the walk and the fetch and before a shadow page is
 * created, and its counters say how often each case of the thread was
 * caught.  With gpte_variant "wrong-level" or
 * "check-before-create" the test must fail: that is a checked XFAIL.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"

#define DATA_SLOT	1
#define DATA_GPA	BIT_ULL(32)
#define NR_TARGETS	8
#define NR_FRESH	32			/* page directories used once each */
/* The targets, a page table, and the fresh page directories of phase 3. */
#define DATA_PAGES	(NR_TARGETS + 1 + NR_FRESH)
#define X_GVA		0xc0000000UL		/* alone in its page directory */
#define ALIAS_GVA	0x80000000UL		/* PT0, PT1, PD aliases */
#define STAMP_MAGIC	0x6b6d7867ULL
#define GENERATIONS	1500			/* per phase */
#define CONTROL_ATTEMPTS 5
/* Longer than a whole writer step, and only the reader (vCPU 1) waits. */
#define WALK_DELAY_US	"20000"
#define CREATE_DELAY_US	"20000"
#define WALK_DELAY_VCPUS "2"
/* How long the VMM waits for the reader's delayed fault in phase 3. */
#define HANDSHAKE_NS	200000000ULL

struct shared {
	u64 target_gpa[NR_TARGETS];
	u64 pt_gpa[2];
	u64 fresh_gpa[NR_FRESH];	/* page directories used once each */
	u64 want;		/* phase 3: the writer waits for the reader */
	u64 go;			/* ... until the VMM says it is in the window */
	u64 pte_index;
	u64 pde_index;
	u64 pdpte_index;
	u64 gen;
	u64 done;
	u64 reads;
	u64 stale;
	u64 stale_seen;
	u64 stale_gen;
	u64 writer_stale;
};

static struct shared shared;

static u64 stamp(u64 g)
{
	return STAMP_MAGIC << 32 | g;
}

static u64 *target(int i)
{
	return (u64 *)(DATA_GPA + i * PAGE_SIZE);
}

/* 0: PT0, 1: PT1, 2: the PD, 3: the PDPT, 4...: the fresh PDs */
static u64 *alias(int i)
{
	return (u64 *)(ALIAS_GVA + i * PAGE_SIZE);
}

static void set_x(u64 g, bool pde)
{
	int t = g % NR_TARGETS, pt = g & 1;
	u64 *ptep, *pdep = &alias(2)[shared.pde_index];

	WRITE_ONCE(*target(t), stamp(g));
	if (pde) {
		ptep = &alias(pt)[shared.pte_index];
		WRITE_ONCE(*ptep, (*ptep & ~PHYSICAL_PAGE_MASK) | shared.target_gpa[t]);
		WRITE_ONCE(*pdep, (*pdep & ~PHYSICAL_PAGE_MASK) | shared.pt_gpa[pt]);
	} else {
		/* Phase 1 keeps X in PT0. */
		ptep = &alias(0)[shared.pte_index];
		WRITE_ONCE(*ptep, (*ptep & ~PHYSICAL_PAGE_MASK) | shared.target_gpa[t]);
	}
	asm volatile("invlpg (%0)" : : "r"(X_GVA) : "memory");
	/* Architecturally guaranteed; counted, so a variant's damage shows. */
	if (READ_ONCE(*(u64 *)X_GVA) != stamp(g))
		WRITE_ONCE(shared.writer_stale, shared.writer_stale + 1);
	WRITE_ONCE(shared.gen, g);
}

/*
 * Phase 3 (case 1.b): point X's PDPTE at fresh page directory k, which
 * nothing has walked yet, so it has no shadow page; wait until the VMM
 * sees the reader's fault delayed before kvm_mmu_get_child_sp() creates
 * that shadow page; then repoint X's PDE in directory k from PT0 to PT1, a
 * plain store, since the directory is not write-protected yet.  Only the
 * recheck of the PDE after the creation can catch it.  Once the reader's
 * read is done, check X on this CPU and publish.  PT0 and PT1 are set up
 * before the window: a write to them is trapped, and would wait for the
 * mmu_lock that the reader holds in the window.
 */
static void set_x_fresh(u64 g, int k)
{
	u64 *pdep = &alias(4 + k)[shared.pde_index];
	u64 *pdptep = &alias(3)[shared.pdpte_index];
	u64 *pte0 = &alias(0)[shared.pte_index], *pte1 = &alias(1)[shared.pte_index];
	int t = g % NR_TARGETS, t2 = (g + 1) % NR_TARGETS;
	u64 reads;

	WRITE_ONCE(*target(t), stamp(g));
	WRITE_ONCE(*target(t2), stamp(g + 1));
	WRITE_ONCE(*pte0, (*pte0 & ~PHYSICAL_PAGE_MASK) | shared.target_gpa[t]);
	WRITE_ONCE(*pte1, (*pte1 & ~PHYSICAL_PAGE_MASK) | shared.target_gpa[t2]);
	WRITE_ONCE(*pdep, (*pdep & ~PHYSICAL_PAGE_MASK) | shared.pt_gpa[0]);
	WRITE_ONCE(*pdptep, (*pdptep & ~PHYSICAL_PAGE_MASK) | shared.fresh_gpa[k]);
	asm volatile("invlpg (%0)" : : "r"(X_GVA) : "memory");
	WRITE_ONCE(shared.want, k + 1);
	while (READ_ONCE(shared.go) != k + 1)
		cpu_relax();

	reads = READ_ONCE(shared.reads);
	WRITE_ONCE(*pdep, (*pdep & ~PHYSICAL_PAGE_MASK) | shared.pt_gpa[1]);
	while (READ_ONCE(shared.reads) == reads)
		cpu_relax();
	asm volatile("invlpg (%0)" : : "r"(X_GVA) : "memory");
	if (READ_ONCE(*(u64 *)X_GVA) != stamp(g + 1))
		WRITE_ONCE(shared.writer_stale, shared.writer_stale + 1);
	WRITE_ONCE(shared.gen, g + 1);
}

static void writer_code(void)
{
	u64 g;
	int k;

	for (g = 1; g <= GENERATIONS; g++)
		set_x(g, false);
	/* Phase 2 starts with PT0 current: PDE points at it already. */
	for (; g <= 2 * GENERATIONS; g++)
		set_x(g, true);
	for (k = 0; k < NR_FRESH; k++, g += 2)
		set_x_fresh(g, k);
	WRITE_ONCE(shared.done, 1);
	GUEST_DONE();
}

static void reader_code(void)
{
	u64 g, v;

	while (!READ_ONCE(shared.done)) {
		g = READ_ONCE(shared.gen);
		v = READ_ONCE(*(u64 *)X_GVA);
		WRITE_ONCE(shared.reads, shared.reads + 1);
		if (v >> 32 != STAMP_MAGIC || (v & 0xffffffff) < g) {
			WRITE_ONCE(shared.stale, shared.stale + 1);
			WRITE_ONCE(shared.stale_seen, v);
			WRITE_ONCE(shared.stale_gen, g);
		}
	}
	GUEST_DONE();
}

static void *vcpu_thread(void *arg)
{
	kmx_run_until_done(arg);
	return NULL;
}

/* Phase 3's VMM side: see set_x_fresh(). */
struct handshake {
	struct shared *sh;
	const char *stats;
	bool delays;		/* a debug run, with create_delay_us set */
	int hits;		/* rounds in which the reader's fault was seen */
};

static void *handshake_thread(void *arg)
{
	struct handshake *hs = arg;
	struct shared *sh = hs->sh;
	u64 want, seen = 0, deadline;
	long long c0;

	while (!READ_ONCE(sh->done)) {
		want = READ_ONCE(sh->want);
		if (want == seen) {
			sched_yield();
			continue;
		}
		seen = want;
		if (hs->delays) {
			c0 = kmx_stat(hs->stats, "gpte_create_delays");
			deadline = kmx_now_ns() + HANDSHAKE_NS;
			while (kmx_stat(hs->stats, "gpte_create_delays") == c0 &&
			       kmx_now_ns() < deadline)
				sched_yield();
			hs->hits += kmx_now_ns() < deadline;
		}
		WRITE_ONCE(sh->go, want);
	}
	return NULL;
}

static const char * const cases[] = {
	"gpte_caught_top", "gpte_caught_1a", "gpte_caught_1b", "gpte_caught_2",
	"gpte_stale_installs", "gpte_walk_delays", "gpte_create_delays",
};

struct result {
	u64 stale;		/* stale reads by the reader and the writer */
	long long caught_1b;	/* case 1.b rechecks that caught a change */
};

/* One VM, one run. */
static struct result run(const char *variant)
{
	void (*code[2])(void) = { writer_code, reader_code };
	struct kvm_vcpu *vcpus[2];
	pthread_t threads[2], hs_thread;
	struct handshake hs = {};
	struct shared *sh;
	struct kvm_vm *vm;
	char stats[64];
	u64 *pde, *pte, *pdpte, pt0;
	struct result r;
	int i, level = PG_LEVEL_2M, level1g = PG_LEVEL_1G, h;

	vm = __vm_create_with_vcpus(VM_SHAPE_DEFAULT, 2, 0, NULL, vcpus);
	for (i = 0; i < 2; i++)
		vcpu_arch_set_entry_point(vcpus[i], code[i]);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA,
				    DATA_SLOT, DATA_PAGES, 0);
	virt_map(vm, DATA_GPA, DATA_GPA, DATA_PAGES);
	virt_pg_map(vm, X_GVA, DATA_GPA);

	sh = addr_gva2hva(vm, (vm_vaddr_t)&shared);
	pte = vm_get_page_table_entry(vm, X_GVA);
	pde = __vm_get_page_table_entry(vm, X_GVA, &level);
	pdpte = __vm_get_page_table_entry(vm, X_GVA, &level1g);
	pt0 = *pde & PHYSICAL_PAGE_MASK;
	for (i = 0; i < NR_TARGETS; i++)
		sh->target_gpa[i] = DATA_GPA + i * PAGE_SIZE;
	sh->pt_gpa[0] = pt0;
	sh->pt_gpa[1] = DATA_GPA + NR_TARGETS * PAGE_SIZE;
	memcpy(addr_gpa2hva(vm, sh->pt_gpa[1]), addr_gpa2hva(vm, pt0), PAGE_SIZE);
	for (i = 0; i < NR_FRESH; i++) {
		sh->fresh_gpa[i] = DATA_GPA + (NR_TARGETS + 1 + i) * PAGE_SIZE;
		memcpy(addr_gpa2hva(vm, sh->fresh_gpa[i]),
		       addr_gpa2hva(vm, *pdpte & PHYSICAL_PAGE_MASK), PAGE_SIZE);
		virt_pg_map(vm, (u64)alias(4 + i), sh->fresh_gpa[i]);
	}
	sh->pdpte_index = ((unsigned long)pdpte & (PAGE_SIZE - 1)) / 8;
	virt_pg_map(vm, (u64)alias(3), addr_hva2gpa(vm, pdpte) & PHYSICAL_PAGE_MASK);
	sh->pte_index = ((unsigned long)pte & (PAGE_SIZE - 1)) / 8;
	sh->pde_index = ((unsigned long)pde & (PAGE_SIZE - 1)) / 8;
	*(u64 *)addr_gpa2hva(vm, DATA_GPA) = stamp(0);
	virt_pg_map(vm, (u64)alias(0), pt0);
	virt_pg_map(vm, (u64)alias(1), sh->pt_gpa[1]);
	virt_pg_map(vm, (u64)alias(2), addr_hva2gpa(vm, pde) & PHYSICAL_PAGE_MASK);

	h = kmx_attach_vm(vm->fd);
	TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));
	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");
	if (variant) {
		TEST_ASSERT(!kmx_debugfs_write("gpte_variant", variant),
			    "gpte_variant %s: %s", variant, strerror(errno));
		TEST_ASSERT(!kmx_debugfs_write("walk_delay_us", WALK_DELAY_US) &&
			    !kmx_debugfs_write("create_delay_us", CREATE_DELAY_US) &&
			    !kmx_debugfs_write("walk_delay_vcpus", WALK_DELAY_VCPUS),
			    "walk_delay: %s", strerror(errno));
	}

	hs.sh = sh;
	hs.stats = stats;
	hs.delays = !!variant;
	pthread_create(&hs_thread, NULL, handshake_thread, &hs);
	for (i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]);
	for (i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	pthread_join(hs_thread, NULL);

	if (variant) {
		kmx_debugfs_write("gpte_variant", "stock");
		kmx_debugfs_write("walk_delay_us", "0");
		kmx_debugfs_write("create_delay_us", "0");
		kmx_debugfs_write("walk_delay_vcpus", "0");
	}
	r.stale = sh->stale + sh->writer_stale;
	r.caught_1b = kmx_stat(stats, "gpte_caught_1b");
	ksft_print_msg("%s: %lu generations, %lu reads, stale: reader %lu, writer %lu\n",
		       variant ? variant : "stock", sh->gen, sh->reads, sh->stale,
		       sh->writer_stale);
	ksft_print_msg("%s: phase 3: the reader's fault was in the window in %d of %d rounds\n",
		       variant ? variant : "stock", hs.hits, NR_FRESH);
	if (sh->stale)
		ksft_print_msg("%s: last stale read 0x%lx at generation %lu\n",
			       variant ? variant : "stock", sh->stale_seen, sh->stale_gen);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		ksft_print_msg("%s: %s %lld\n", variant ? variant : "stock",
			       cases[i], kmx_stat(stats, cases[i]));
	close(h);
	kvm_vm_free(vm);
	return r;
}

int main(int argc, char *argv[])
{
	static const char * const variants[] = { "wrong-level", "check-before-create" };
	const char *mode = kmx_mode();
	bool debug = !access(KMX_DEBUGFS "/gpte_variant", F_OK);
	struct result stock, r;
	long long caught_1b;
	char name[128];
	int i, attempt;

	kmx_parse_args(argc, argv, "m:",
		       "shadow_gpte_race_test: a gpte that the guest changes between KVM's guest walk and its fetch must not end up mapped (thread 002's race).");
	ksft_print_header();
	ksft_set_plan(1 + ARRAY_SIZE(variants));

	if (strcmp(mode, "shadow")) {
		for (i = 0; i < 1 + ARRAY_SIZE(variants); i++) {
			snprintf(name, sizeof(name), "shadow_gpte_race_test %s%s%s",
				 mode, i ? " " : "", i ? variants[i - 1] : "");
			ksft_test_result_code(KSFT_SKIP, name,
					      "guest page tables are shadowed only in shadow mode\n");
		}
		ksft_finished();
	}

	stock = run(debug ? "stock" : NULL);
	ksft_test_result(!stock.stale, "shadow_gpte_race_test %s\n", mode);

	for (i = 0; i < ARRAY_SIZE(variants); i++) {
		snprintf(name, sizeof(name), "shadow_gpte_race_test %s %s",
			 mode, variants[i]);
		if (!debug) {
			ksft_test_result_code(KSFT_SKIP, name,
					      "the broken variants exist in debug builds only\n");
			continue;
		}
		/*
		 * One TCG thread runs the vCPUs in turns, and in some runs
		 * the reader hardly runs: retry a control that did no damage.
		 */
		for (attempt = 1, caught_1b = 0; attempt <= CONTROL_ATTEMPTS; attempt++) {
			r = run(variants[i]);
			caught_1b += r.caught_1b > 0 ? r.caught_1b : 0;
			if (r.stale)
				break;
		}
		/* A negative control must fail; passing is the failure. */
		if (r.stale) {
			ksft_test_result_code(KSFT_XFAIL, name,
					      "%lu stale reads, run %d\n",
					      r.stale, attempt);
		} else if (!strcmp(variants[i], "check-before-create") &&
			   stock.caught_1b <= 0 && !caught_1b) {
			/* It differs from stock only in case 1.b: phase 3 failed. */
			ksft_test_result_fail("%s: case 1.b never occurred\n", name);
		} else {
			ksft_test_result_fail("%s: the broken recheck went unnoticed\n",
					      name);
		}
	}
	ksft_finished();
}
