#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A QEMU that dies the way bookworm's 7.2 did under nested guests, for make
# check's runner_reports_qemu_abort: vm-run.sh must name the abort as its
# own result (qemu_abort), never pass and never blame a test.
if [ "${1:-}" = --version ]; then
	echo "QEMU emulator version 0.0.0-runner-check"
	exit 0
fi
echo "ERROR:../../accel/tcg/tcg-accel-ops.c:81:tcg_handle_interrupt: assertion failed: (qemu_mutex_iothread_locked())" >&2
kill -ABRT $$
