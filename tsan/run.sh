#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the ThreadSanitizer stress programs: sh tsan/run.sh BUILD_DIR [ITEMS]
# Fails on any TSan report (exit code 66), any delivery violation, or a hang.
# ITEMS is each program's size knob: items per producer (tsan_stress), records
# per writer before its per-run divisor (tsan_pipe_stress).
# TSAN_RUN_PLAIN=1: the programs in BUILD_DIR are plain -O2 builds (make
# tsan-plain); no TSan set-up, same verdicts.
set -u
dir=${1:-build/tsan}
items=${2:-10000}
plain=${TSAN_RUN_PLAIN:-}

# clang 14's TSan maps its shadow at fixed addresses: with more than 28 bits
# of mmap randomisation the program dies with "unexpected memory mapping".
bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)
if [ -z "$plain" ] && [ "$bits" -gt 28 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "tsan: vm.mmap_rnd_bits is $bits; lowering it to 28 for clang 14's TSan:"
		echo "tsan:   sysctl -w vm.mmap_rnd_bits=28"
		sysctl -w vm.mmap_rnd_bits=28 || exit 1
	else
		echo "tsan: vm.mmap_rnd_bits is $bits, above the 28 clang 14's TSan needs. Run:" >&2
		echo "tsan:   sudo sysctl -w vm.mmap_rnd_bits=28" >&2
		exit 1
	fi
fi

export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1${TSAN_EXTRA_OPTIONS:+:$TSAN_EXTRA_OPTIONS}"
fail=0
ran=0
t0=$(date +%s)
for prog in "$dir"/tsan_*; do
	[ -x "$prog" ] || continue
	ran=$((ran + 1))
	if [ -n "$plain" ]; then
		echo "== $prog $items   (plain -O2 build, no TSan)"
	else
		echo "== $prog $items   (TSAN_OPTIONS=$TSAN_OPTIONS)"
	fi
	start=$(date +%s)
	# A hang is a failure too: 120 s is ten times the usual run.
	timeout -s KILL 120 "$prog" "$items"
	rc=$?
	echo "== $(basename "$prog"): exit $rc in $(( $(date +%s) - start )) s"
	case $rc in
	0) ;;
	66) echo "tsan: ThreadSanitizer reported a problem in $prog" >&2; fail=1 ;;
	3) echo "tsan: $prog hung (its watchdog fired; see the HANG line)" >&2; fail=1 ;;
	137) echo "tsan: $prog hung (killed after 120 s)" >&2; fail=1 ;;
	*) echo "tsan: $prog failed (exit $rc)" >&2; fail=1 ;;
	esac
done
[ $ran -eq 0 ] && { echo "tsan: no program in $dir" >&2; fail=1; }
echo "tsan: $ran program(s) in $(( $(date +%s) - t0 )) s"
[ $fail -eq 0 ] && echo "tsan: PASS" || echo "tsan: FAIL"
exit $fail
