#!/bin/sh
# Test the tests: run each broken subject against the clauses that name its
# bug and require every one of them to FAIL; then check that expectations turn
# a listed failure into xfail (exit 0) and a listed pass into xpass (exit 1).
set -u
build=${BUILD:-build}
out=$build/selftest

status_of() { # results.json subject clause -> status
	grep -F "\"clause\": \"$2\"" "$1" | grep -F "\"subject\": \"$3\"" |
		sed -E 's/.*"status": "([a-z]+)".*/\1/' | head -n 1
}

# One mutant: run its clauses, write one verdict line per clause. The runs
# are independent (own results and report folders, own run id), so several
# go at once: most of a mutant's time is a planted hang waiting for its
# timeout, not CPU.
run_mutant() { # name clauses
	name=$1
	clauses=$2
	glob="@($(echo "$clauses" | tr ' ' '|'))"
	# A planted hang needs no more than a few seconds to show.
	# Its own run id too: each run's exit trap removes every name of its id.
	IPCSPEC_RUN_ID=st$$ RESULTS_DIR=$out/$name.results REPORT_DIR=$out/$name \
		EXPECT_DIR=$out/empty-expect CLAUSE="$glob" RUNNER_ARGS="--timeout 8" \
		sh ci/conformance.sh "$build" "$build/broken/$name.so" >"$out/$name.log" 2>&1 </dev/null
	for c in $clauses; do
		st=$(status_of "$out/$name/results.json" "$c" "$name")
		if [ "$st" = fail ]; then
			echo "caught: $name by $c"
		else
			echo "MISSED: $name by $c (status: ${st:-none}; log: $out/$name.log)"
		fi
	done >"$out/$name.verdict"
}

if [ "${1:-}" = --one ]; then # internal: ci/selftest.sh --one NAME "CLAUSES"
	run_mutant "$2" "$3"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out/empty-expect"
caught=0
missed=0

awk -F'\t' '!/^#/ && NF {print $2 "\t" $3}' ci/selftest/mutants.tsv |
	tr '\t' '\n' | xargs -d '\n' -n 2 -P "${SELFTEST_JOBS:-2}" sh ci/selftest.sh --one
for name in $(awk -F'\t' '!/^#/ && NF {print $2}' ci/selftest/mutants.tsv); do
	if [ ! -s "$out/$name.verdict" ]; then
		echo "MISSED: $name (no verdict; log: $out/$name.log)"
		missed=$((missed + 1))
		continue
	fi
	cat "$out/$name.verdict"
	caught=$((caught + $(grep -c '^caught:' "$out/$name.verdict")))
	missed=$((missed + $(grep -c '^MISSED:' "$out/$name.verdict")))
done

# Expectations: a listed clause that fails is xfail, one that passes is xpass.
first=$(awk -F'\t' '!/^#/ {print $2; exit}' ci/selftest/mutants.tsv)
bug=$(awk -F'\t' '!/^#/ {split($3, c, " "); print c[1]; exit}' ci/selftest/mutants.tsv)
mkdir -p "$out/expect-xfail" "$out/expect-xpass"
echo "$bug  planted bug, listed on purpose" >"$out/expect-xfail/$first"
echo "SHMBUF-ITEM-2  passes, listed on purpose" >"$out/expect-xpass/$first"
RESULTS_DIR=$out/xfail.results REPORT_DIR=$out/xfail EXPECT_DIR=$out/expect-xfail CLAUSE="$bug" \
	sh ci/conformance.sh "$build" "$build/broken/$first.so" >"$out/xfail.log" 2>&1
rc_xfail=$?
RESULTS_DIR=$out/xpass.results REPORT_DIR=$out/xpass EXPECT_DIR=$out/expect-xpass CLAUSE="SHMBUF-ITEM-2" \
	sh ci/conformance.sh "$build" "$build/broken/$first.so" >"$out/xpass.log" 2>&1
rc_xpass=$?
if [ "$(status_of "$out/xfail/results.json" "$bug" "$first")" = xfail ] && [ $rc_xfail = 0 ]; then
	echo "expectations: a listed failure is xfail and does not fail the run"
	caught=$((caught + 1))
else
	echo "EXPECTATIONS BROKEN: listed failure not reported as xfail (rc $rc_xfail)"
	missed=$((missed + 1))
fi
if [ "$(status_of "$out/xpass/results.json" SHMBUF-ITEM-2 "$first")" = xpass ] && [ $rc_xpass != 0 ]; then
	echo "expectations: a listed clause that passes is flagged xpass and fails the run"
	caught=$((caught + 1))
else
	echo "EXPECTATIONS BROKEN: listed pass not flagged as xpass (rc $rc_xpass)"
	missed=$((missed + 1))
fi
echo "selftest: $caught passed, $missed failed"
[ "$missed" = 0 ]
