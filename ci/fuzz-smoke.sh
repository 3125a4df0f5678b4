#!/bin/sh
# make fuzz-smoke: every libFuzzer target for a few seconds, two at a time
# (each is one single-threaded process), then each one's verdict in target
# order; the committed corpora are the seeds, new inputs go to a scratch one.
#   ci/fuzz-smoke.sh FUZZ_DIR SECONDS "LIBFUZZER FLAGS" TARGET...
set -u

# One target: its log in FUZZ_DIR/smoke/<t>.log, its exit code in <t>.rc.
run_one() { # dir seconds flags target
	dir=$1 t=$4
	rm -rf "$dir/smoke/$t"
	mkdir -p "$dir/smoke/$t" "$dir/artifacts"
	dict=
	[ -f "fuzz/$t.dict" ] && dict=-dict=fuzz/$t.dict
	# shellcheck disable=SC2086
	"$dir/$t" $3 -max_total_time="$2" $dict -artifact_prefix="$dir/artifacts/$t-" \
		"$dir/smoke/$t" "fuzz/corpus/$t" >"$dir/smoke/$t.log" 2>&1 </dev/null
	echo $? >"$dir/smoke/$t.rc"
}

if [ "${1:-}" = --one ]; then
	shift
	run_one "$@"
	exit 0
fi

dir=$1 secs=$2 flags=$3
shift 3
mkdir -p "$dir/smoke"
for t in "$@"; do printf '%s\n' "$t"; done |
	xargs -d '\n' -n 1 -P "${FUZZ_JOBS:-2}" sh ci/fuzz-smoke.sh --one "$dir" "$secs" "$flags"
fail=0
for t in "$@"; do
	echo "== fuzz-smoke $t ($secs s)"
	if [ "$(cat "$dir/smoke/$t.rc" 2>/dev/null)" != 0 ]; then
		fail=1
		echo "fuzz-smoke: $t FAILED, log: $dir/smoke/$t.log"
		tail -n 40 "$dir/smoke/$t.log"
	fi
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec)|^#[0-9]+[[:space:]]+DONE' \
		"$dir/smoke/$t.log" | tr '\n' ' '
	echo
done
exit $fail
