/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kvm-mmu-ext selftests.
 */
#ifndef SELFTEST_KMX_UTIL_H
#define SELFTEST_KMX_UTIL_H

#include <stdbool.h>

#define KMX_DEBUGFS	"/sys/kernel/debug/kvm-mmu-ext"
#define KMX_DEV		"/dev/kvm-mmu-ext"

/*
 * The MMU mode KVM runs in, as named in TAP result lines: "tdp",
 * "legacy-tdp" or "shadow", or what the runner set in $KMX_MODE.
 */
const char *kmx_mode(void);

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

/*
 * The value of counter @name in the debugfs stats file @path (relative to
 * KMX_DEBUGFS, e.g. "stats"), or -1 if there is no such file or counter.
 */
long long kmx_stat(const char *path, const char *name);

/* Print the non-zero counters of the stats file @path as "# " lines. */
void kmx_print_stats(const char *path);

/* Write @val to @path under KMX_DEBUGFS; 0, or -1 with errno set. */
int kmx_debugfs_write(const char *path, const char *val);

#endif /* SELFTEST_KMX_UTIL_H */
