#!/bin/sh
# make soak: the conformance suite RUNS times in a row (default 100), every
# bundled subject (or SUBJECT), stopping at the first run with an unexpected
# result. A flaky test shows here, not in CI.
set -u
runs=${RUNS:-100}
build=${BUILD:-build}
out=$build/soak
mkdir -p "$out"
i=0
t0=$(date +%s)
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	if ! REPORT_DIR=$out/reports sh ci/conformance.sh "$build" ${SUBJECT:-} >"$out/run.log" 2>&1 </dev/null; then
		cp "$out/run.log" "$out/failed-run-$i.log"
		grep -E '^- \*\*(fail|xpass)' "$out/run.log" | head -n 10
		echo "soak: run $i failed after $(($(date +%s) - t0))s (log: $out/failed-run-$i.log)"
		echo "soak: $((i - 1)) passed, 1 failed"
		exit 1
	fi
	[ $((i % 10)) = 0 ] && echo "soak: $i runs clean ($(($(date +%s) - t0))s)"
done
echo "soak: $runs passed, 0 failed ($(($(date +%s) - t0))s)"
