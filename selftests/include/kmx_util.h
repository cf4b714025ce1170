/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kvm-mmu-ext selftests.
 */
#ifndef SELFTEST_KMX_UTIL_H
#define SELFTEST_KMX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define KMX_DEBUGFS	"/sys/kernel/debug/kvm-mmu-ext"
#define KMX_DEV		"/dev/kvm-mmu-ext"

/*
 * The MMU mode KVM runs in, as named in TAP result lines: "tdp",
 * "legacy-tdp" or "shadow", or what the runner set in $KMX_MODE.
 */
const char *kmx_mode(void);

/*
 * The command line every test takes, in the style of the KVM selftests'
 * getopt loops: -h prints @summary and the options in @optstring, which
 * may hold any of "m:bv:M:a:"; each option sets the environment variable
 * the test reads, so a runner can use either:
 *	-m MODE		the mode to name in results (KMX_MODE)
 *	-b		benchmark sizes (KMX_BENCH=1)
 *	-v LIST		variants to run, comma-separated (KMX_RMAP_VARIANTS)
 *	-M PATH		the module to unload and load again (KMX_MODULE)
 *	-a ARGS		its arguments (KMX_MODULE_ARGS)
 * A bad option prints the help and exits with KSFT_FAIL.
 */
void kmx_parse_args(int argc, char *argv[], const char *optstring,
		    const char *summary);

/* Whether kvm-mmu-ext is loaded and its debugfs directory is visible. */
bool kmx_module_visible(void);

struct kvm_vcpu;

/*
 * Run @vcpu until the guest calls GUEST_DONE(); a guest assertion or any
 * other exit fails the test.
 */
void kmx_run_until_done(struct kvm_vcpu *vcpu);

/* Whether the module was built with the KVM hooks (the FULL build). */
bool kmx_have_hooks(void);

/* KMX_ATTACH @vm_fd; returns the handle fd, or -1 with errno set. */
int kmx_attach_vm(int vm_fd);

struct kmx_policy;

/*
 * KMX_ATTACH @vm_fd and KMX_SET_POLICY @pol, failing the test on error;
 * writes the VM's stats path for kmx_stat() to @stats.  Returns the handle.
 */
/*
 * The path of @file in the debugfs directory of the VM whose fd in this
 * process is @vm_fd, relative to KMX_DEBUGFS: "<pid>-<vmfd>/<file>".
 */
void kmx_vm_path(char *buf, size_t len, int vm_fd, const char *file);

int kmx_attach_with_policy(int vm_fd, const struct kmx_policy *pol, char *stats,
			   size_t len);

/*
 * The value of counter @name in the debugfs stats file @path (relative to
 * KMX_DEBUGFS, e.g. "stats"), or -1 if there is no such file or counter.
 */
long long kmx_stat(const char *path, const char *name);

/* Print the non-zero counters of the stats file @path as "# " lines. */
void kmx_print_stats(const char *path);

/* Write @val to @path under KMX_DEBUGFS; 0, or -1 with errno set. */
/* A debugfs file holding one number; -1 if it cannot be read. */
long long kmx_debugfs_read_ll(const char *path);
int kmx_debugfs_write(const char *path, const char *val);

struct kmx_event;

/* KMX_WATCH / KMX_UNWATCH of [@gpa, @gpa + @len) on handle @h: 0 or -1. */
int kmx_watch(int h, u64 gpa, u64 len);
int kmx_unwatch(int h, u64 gpa, u64 len);

/* KMX_SET_RING: 0 or -1 with errno set. */
int kmx_set_ring(int h, u32 nr_records);

/*
 * Read up to @max events from the O_NONBLOCK handle @h, until it has no
 * more; returns how many.  A failing read() other than EAGAIN fails the test.
 */
int kmx_read_events(int h, struct kmx_event *ev, int max);

/* The value of KVM's per-vCPU statistic @name, e.g. "pf_emulate". */
u64 kmx_vcpu_stat(struct kvm_vcpu *vcpu, const char *name);

/* Every fast page fault scheme, "off" first. */
#define KMX_NR_FASTPF_SCHEMES	4
extern const u32 kmx_fastpf_schemes[KMX_NR_FASTPF_SCHEMES];

/* Whether the loaded module is a debug build (broken variants, windows). */
bool kmx_debug_build(void);

/* Run @vcpu to its next ucall, which must be @want (UCALL_SYNC or _DONE). */
void kmx_run_to(struct kvm_vcpu *vcpu, u64 want);

/* The name of a KMX_FASTPF_SCHEME_* value, as in the TAP lines. */
const char *kmx_fastpf_scheme_name(u32 scheme);

/* CLOCK_MONOTONIC, in nanoseconds. */
u64 kmx_now_ns(void);

/* delete_module() of kvm_mmu_ext, O_NONBLOCK: 0, or -1 with errno set. */
int kmx_module_unload(void);

/* finit_module() of the module file @path with @args: 0, or -1 with errno. */
int kmx_module_load(const char *path, const char *args);

/*
 * Arm SIGALRM to fire in @seconds (0 disarms), with a handler that only
 * records it and is installed without SA_RESTART, so that a KVM_RUN of a
 * guest stuck on a fault returns EINTR.  kmx_alarm_fired() tells whether
 * it fired since it was armed.
 */
void kmx_alarm(unsigned int seconds);
bool kmx_alarm_fired(void);

struct kvm_vm;

/*
 * A VM with @nr_vcpus vCPUs running @guest_code(i), and memslot @slot of
 * @pages pages at @gpa, dirty-logged and identity-mapped.
 */
struct kvm_vm *kmx_dirty_log_vm(int nr_vcpus, void *guest_code,
				struct kvm_vcpu **vcpus, u64 gpa, int slot,
				u64 pages);

#endif /* SELFTEST_KMX_UTIL_H */
