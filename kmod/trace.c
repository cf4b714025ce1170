// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the tracepoints of trace.h are created here.
 */
#include <linux/kvm_host.h>

#include "kvm_mmu_ext.h"

#define CREATE_TRACE_POINTS
#include "trace.h"
