/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kvm-mmu-ext selftests.
 */
#ifndef SELFTEST_KMX_UTIL_H
#define SELFTEST_KMX_UTIL_H

#include <stdbool.h>

#define KMX_DEBUGFS	"/sys/kernel/debug/kvm-mmu-ext"

/*
 * The MMU mode KVM runs in, as named in TAP result lines: "tdp",
 * "legacy-tdp" or "shadow", or what the runner set in $KMX_MODE.
 */
const char *kmx_mode(void);

/* Whether kvm-mmu-ext is loaded and its debugfs directory is visible. */
bool kmx_module_visible(void);

#endif /* SELFTEST_KMX_UTIL_H */
