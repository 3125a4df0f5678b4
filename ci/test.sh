#!/bin/sh
# make test: everything CI gates on, each stage with a time budget (seconds).
# A stage over budget is reported, and fails the run only if it also fails.
set -u
logs=build/ci-logs
rm -rf "$logs" && mkdir -p "$logs"
passed=0
failed=0
summary=""
failures=""
start_all=$(date +%s)

stage() { # name budget command...
	name=$1
	budget=$2
	shift 2
	echo "==== $name (budget ${budget}s)"
	t0=$(date +%s)
	{
		"$@" 2>&1
		echo $? >"$logs/$name.rc"
	} | tee "$logs/$name.log"
	rc=$(cat "$logs/$name.rc")
	dt=$(($(date +%s) - t0))
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		verdict=ok
	else
		failed=$((failed + 1))
		verdict="FAILED (exit $rc)"
		failures="$failures $name"
	fi
	[ $dt -le "$budget" ] || verdict="$verdict, over budget"
	summary="$summary$(printf '%-14s %4ss  %s' "$name" "$dt" "$verdict")\n"
}

stage build 120 make --no-print-directory build example
stage check-spec 30 make --no-print-directory check-spec
stage conformance 150 make --no-print-directory conformance
stage example 60 make --no-print-directory conformance \
	SUBJECT="$PWD/examples/adapter/build/libexample_adapter.so"
stage selftest 90 make --no-print-directory selftest
stage fuzz-smoke 60 make --no-print-directory fuzz-smoke
stage faults 75 make --no-print-directory faults-short
stage tsan 75 make --no-print-directory tsan
stage asan 150 make --no-print-directory asan

# CI keeps only the end of the output: repeat what failed, just above the
# summary (the matrix's failing cells with their message and reproduce
# command, a missed mutant, a failed fuzz target or fault campaign, a
# sanitizer finding; else the stage's last lines). Criterion's own [FAIL]
# lines are left out: expected deviations print them too.
for name in $failures; do
	echo "==== $name failed (full output: $logs/$name.log)"
	pat='^- \*\*(fail|xpass)\*\*|^MISSED|^EXPECTATIONS BROKEN|FAILED|^finding in|: FAIL\b|^FAIL\b'
	if grep -qE "$pat" "$logs/$name.log"; then
		grep -E "$pat" "$logs/$name.log" | tail -n 16
	else
		tail -n 10 "$logs/$name.log"
	fi
done

echo "==== summary ($(($(date +%s) - start_all))s in all)"
printf "$summary"
echo "make test: $passed passed, $failed failed"
[ $failed = 0 ]
