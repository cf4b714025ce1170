// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the kvm-mmu-ext selftests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmx_util.h"

static bool param_enabled(const char *path, bool *val)
{
	char buf[8] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	*val = buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
	return true;
}

const char *kmx_mode(void)
{
	const char *forced = getenv("KMX_MODE");
	bool tdp = false, tdp_mmu = false;

	/* The runner names the mode when it is not KVM's, e.g. "stock". */
	if (forced && *forced)
		return forced;
	if (!param_enabled("/sys/module/kvm_amd/parameters/npt", &tdp))
		param_enabled("/sys/module/kvm_intel/parameters/ept", &tdp);
	if (!tdp)
		return "shadow";
	param_enabled("/sys/module/kvm/parameters/tdp_mmu", &tdp_mmu);
	return tdp_mmu ? "tdp" : "legacy-tdp";
}

bool kmx_module_visible(void)
{
	struct stat st;

	return !stat("/sys/module/kvm_mmu_ext", &st) &&
	       !stat(KMX_DEBUGFS "/build", &st);
}
