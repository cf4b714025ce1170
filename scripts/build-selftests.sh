#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the selftests: install the pinned source's uapi headers (once),
# then build the KVM selftests library and our tests with it.
set -euo pipefail
. "$(dirname "$0")/config.sh"

stamp=$KMX_KSRC/usr/.kmx-headers-installed
if [ ! -f "$stamp" ]; then
	kmx_log "installing uapi headers of $KMX_KSRC"
	make -s -C "$KMX_KSRC" ARCH=x86_64 INSTALL_HDR_PATH="$KMX_KSRC/usr" \
		headers_install >&2
	touch "$stamp"
fi
make -s -C "$KMX_TOP/selftests" KSRC="$KMX_KSRC" OUTPUT="$KMX_BUILD/selftests" \
	-j"$(nproc)" >&2
