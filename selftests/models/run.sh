#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - check every protocol model with spin (the "make models" step)
#
# For each (model, variant): spin -a -D<variant> model.pml; cc -O2 -DSAFETY
# pan.c; ./pan.  A shipped protocol must verify with no error.  A broken
# variant must produce a counterexample that violates the property named in
# the table below; pan is built with -DREACH and run with -i so that the
# trail is a short one, and the trail's step count (spin -t -p) is reported.
# Prints TAP 13 and a final "N passed, N failed" line; exits 1 on any failure.
#
# Usage: run.sh [MODEL...]     (fast_pf, rmap_unmap, page_track, async_pf,
#                               unregister; default: all)
# Environment:
#   MODELS_OUT   scratch directory (default /tmp/kvm-mmu-ext-models)
#   MODELS_JOBS  runs in parallel (default: number of CPUs)
#   SPIN, CC     tools (default spin, cc)
#   PAN_CFLAGS   compiler flags for pan.c (default -O2)
#   PAN_DEPTH    pan -m search depth bound (default 100000)
#   PAN_HASH     pan -w hash table size, log2 (default 22)
#
# Documentation/models.rst describes the models, the variants and results.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${MODELS_OUT:-/tmp/kvm-mmu-ext-models}
jobs=${MODELS_JOBS:-$(nproc 2>/dev/null || echo 1)}
spin=${SPIN:-spin}
cc=${CC:-cc}
cflags=${PAN_CFLAGS:--O2}
depth=${PAN_DEPTH:-100000}
hash=${PAN_HASH:-22}

# model | variant | spin -D flags | expect (verify|fail) | property regex
#
# A shipped protocol is checked against all of its model's properties.  A
# broken variant is checked against the one property it is meant to break
# (the PROP_* flag), and the regex must match pan's "assertion violated"
# text, so that it fails for the right reason.
runs=(
"fast_pf|mmu-writable|-DSCHEME_MMU_WRITABLE|verify|"
"fast_pf|lock-bit|-DSCHEME_LOCK_BIT|verify|"
"fast_pf|two-bit|-DSCHEME_TWO_BIT|verify|"
"fast_pf|plain-store|-DSCHEME_PLAIN_STORE -DPROP_P2|fail|pt_write_protected"
"fast_pf|plain-store P1-only|-DSCHEME_PLAIN_STORE -DPROP_P1|verify|"
"fast_pf|ident-byte|-DSCHEME_IDENT_BYTE -DPROP_P2|fail|pt_write_protected"
"fast_pf|no-wp-check|-DSCHEME_NO_WP_CHECK -DPROP_P2|fail|pt_write_protected"
"fast_pf|mark-first|-DSCHEME_MARK_FIRST -DPROP_P1|fail|unreported_write"
"rmap_unmap|rmap-lock|-DVARIANT_RMAP_LOCK|verify|"
"rmap_unmap|rmap-lock-nolock|-DVARIANT_RMAP_NOLOCK -DPROP_UAF|fail|desc_freed|rmap_entry_found"
"rmap_unmap|rmap-lock-nohandshake|-DVARIANT_RMAP_NOHANDSHAKE -DPROP_SURVIVE|fail|entry_survives_zap"
"rmap_unmap|rmap-lock-nohandshake UAF-only|-DVARIANT_RMAP_NOHANDSHAKE -DPROP_UAF|verify|"
"rmap_unmap|rmap-lock-plainclear|-DVARIANT_RMAP_PLAINCLEAR -DPROP_UAF|fail|rmap_entry_found"
"rmap_unmap|being_unmapped|-DVARIANT_BEING_UNMAPPED -DPROP_UAF|fail|sp_freed"
"rmap_unmap|being_unmapped survivor|-DVARIANT_BEING_UNMAPPED -DPROP_SURVIVE|fail|entry_survives_zap"
"rmap_unmap|being_unmapped-syncalways|-DVARIANT_BU_SYNCALWAYS|verify|"
"rmap_unmap|being_unmapped-reordered|-DVARIANT_BU_REORDERED -DPROP_UAF|fail|sp_freed"
"rmap_unmap|being_unmapped-nobarrier|-DVARIANT_BU_NOBARRIER -DPROP_UAF|fail|sp_freed"
"rmap_unmap|being_unmapped-descfree|-DVARIANT_BU_DESCFREE -DPROP_UAF|fail|desc_freed"
"page_track|hub|-DVARIANT_HUB|verify|"
"page_track|no-sync-srcu|-DVARIANT_NO_SYNC_SRCU|fail|node_freed"
"page_track|plain-refcount|-DVARIANT_PLAIN_REFCOUNT|fail|gfn_write_track"
"async_pf|kvm-6.12|-DVARIANT_KVM|verify|"
"async_pf|teardown-nocancel|-DVARIANT_NOCANCEL|fail|vcpu_freed|cancelled"
"async_pf|ready-overwrite|-DVARIANT_READY_OVERWRITE|fail|ready_received"
"async_pf|ready-uninjected|-DVARIANT_READY_UNINJECTED|fail|np_received"
"async_pf|audit-nocancel|-DVARIANT_AUDIT_NOCANCEL|fail|a_pending"
"unregister|srcu|-DVARIANT_SRCU|verify|"
"unregister|no-sync-srcu|-DVARIANT_NO_SYNC_SRCU|fail|module_freed"
"unregister|deref-outside-srcu|-DVARIANT_DEREF_OUTSIDE_SRCU|fail|module_freed"
)

# elapsed START END: seconds between two "date +%s.%N" stamps
elapsed()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# run_one INDEX: check one (model, variant); writes $dir/result, where the
# first line is "pass|<TAP line without its number>" or "fail|...", and the
# other lines are TAP diagnostics.  Always returns 0.
run_one()
{
	local model variant defs expect why dir rc s0 s1 secs errors states
	local dreach incomplete violation steps last res
	local -a ccflags panflags

	IFS='|' read -r model variant defs expect why <<<"${todo[$1]}"
	dir="$out/$model-${variant// /_}"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$here/$model.pml" "$dir/"
	res="$dir/result"
	name="$model model $variant"

	# shellcheck disable=SC2206 # PAN_CFLAGS is a list of flags
	ccflags=($cflags -DSAFETY)
	panflags=(-m"$depth" -w"$hash")
	if [ "$expect" = fail ]; then
		ccflags+=(-DREACH)
		panflags+=(-i)
	fi

	# shellcheck disable=SC2086 # $defs is a list of -D flags
	if ! (cd "$dir" && "$spin" -a $defs "$model.pml") >"$dir/spin.log" 2>&1; then
		echo "fail|not ok $name # spin -a failed: $(tail -n1 "$dir/spin.log")" >"$res"
		return 0
	fi
	if ! (cd "$dir" && "$cc" "${ccflags[@]}" -o pan pan.c) >"$dir/cc.log" 2>&1; then
		echo "fail|not ok $name # cc failed: $(head -n1 "$dir/cc.log")" >"$res"
		return 0
	fi
	s0=$(date +%s.%N)
	rc=0
	(cd "$dir" && ./pan "${panflags[@]}") >"$dir/pan.out" 2>&1 || rc=$?
	s1=$(date +%s.%N)
	secs=$(elapsed "$s0" "$s1")

	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.out" | tail -n1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$dir/pan.out" | tail -n1)
	dreach=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$dir/pan.out" | tail -n1)
	incomplete=""
	if grep -q "max search depth too small\|Search not completed\|out of memory" "$dir/pan.out"; then
		incomplete="search incomplete"
	fi
	violation=$(grep -m1 "assertion violated\|invalid end state\|acceptance cycle" "$dir/pan.out" || true)

	if [ -z "$errors" ] || [ "$rc" -gt 1 ]; then
		echo "fail|not ok $name # pan did not finish (exit $rc)" >"$res"
	elif [ "$expect" = verify ]; then
		if [ "$errors" = 0 ] && [ -z "$incomplete" ]; then
			echo "pass|ok $name" >"$res"
		elif [ -n "$incomplete" ]; then
			echo "fail|not ok $name # $incomplete" >"$res"
		else
			echo "fail|not ok $name # ${violation:-$errors errors}" >"$res"
		fi
	elif [ "$errors" = 0 ]; then
		echo "fail|not ok $name # broken variant verified" >"$res"
	else
		# shellcheck disable=SC2086
		(cd "$dir" && "$spin" -t -p $defs "$model.pml") >"$dir/trail.txt" 2>&1 || true
		steps=$(sed -n 's/.*trail ends after \([0-9]*\) steps.*/\1/p' "$dir/trail.txt" | tail -n1)
		last=$(grep "assertion violated" "$dir/pan.out" | tail -n1 || true)
		if [ -z "$steps" ]; then
			echo "fail|not ok $name # counterexample trail did not replay" >"$res"
		elif ! grep -Eq "$why" <<<"$last"; then
			echo "fail|not ok $name # counterexample for the wrong property: ${last:-$violation}" >"$res"
		else
			echo "pass|ok $name # XFAIL counterexample, $steps steps" >"$res"
			echo "#   ${last# }" >>"$res"
			echo "#   trail: $dir/trail.txt" >>"$res"
		fi
	fi
	echo "#   states stored $states, depth reached $dreach, pan time ${secs}s" >>"$res"
	return 0
}

selected()
{
	local a

	[ ${#want[@]} -eq 0 ] && return 0
	for a in "${want[@]}"; do
		[ "$a" = "$1" ] && return 0
	done
	return 1
}

want=("$@")
todo=()
for r in "${runs[@]}"; do
	if selected "${r%%|*}"; then
		todo+=("$r")
	fi
done

echo "TAP version 13"
if ! command -v "$spin" >/dev/null 2>&1; then
	echo "Bail out! $spin not found (Debian: apt-get install spin)"
	exit 1
fi
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "Bail out! $cc not found"
	exit 1
fi
if [ ${#todo[@]} -eq 0 ]; then
	echo "Bail out! no model matches: ${want[*]}"
	exit 1
fi
total=${#todo[@]}
echo "1..$total"
echo "# $($spin -V 2>&1 | head -n1); $jobs jobs; scratch dir $out"
mkdir -p "$out"
# two runs at once would share the scratch dirs: the second one waits
if command -v flock >/dev/null 2>&1; then
	exec 9>"$out/.lock"
	flock 9
fi

pass=0
fail=0
next=0
pids=()
t0=$(date +%s.%N)

launch()
{
	run_one "$next" &
	pids[next]=$!
	next=$((next + 1))
}

while [ "$next" -lt "$jobs" ] && [ "$next" -lt "$total" ]; do
	launch
done
for ((i = 0; i < total; i++)); do
	wait "${pids[i]}" || true
	IFS='|' read -r model variant _ <<<"${todo[i]}"
	res="$out/$model-${variant// /_}/result"
	if [ -s "$res" ]; then
		status=$(head -n1 "$res" | cut -d'|' -f1)
		line=$(head -n1 "$res" | cut -d'|' -f2-)
		# insert the test number after "ok" / "not ok"
		case "$line" in
		"not ok "*) echo "not ok $((i + 1)) ${line#not ok }" ;;
		*) echo "ok $((i + 1)) ${line#ok }" ;;
		esac
		tail -n +2 "$res"
	else
		status=fail
		echo "not ok $((i + 1)) $model model $variant # runner error, no result"
	fi
	if [ "$status" = pass ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
	if [ "$next" -lt "$total" ]; then
		launch
	fi
done

echo "# total time $(elapsed "$t0" "$(date +%s.%N)")s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
