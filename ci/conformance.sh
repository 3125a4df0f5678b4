#!/bin/sh
# Run the conformance clauses against subjects, one runner invocation per
# subject (so any cell can be reproduced alone), then merge the report.
#   ci/conformance.sh BUILD_DIR [SUBJECT ...]
# env: CLAUSE (a glob, or @(A|B) for several), JOBS, REPORT_DIR, EXPECT_DIR,
#      IPCSPEC_WRAP (a command prefix for the runner, e.g. valgrind),
#      RUNNER_ARGS (more Criterion options, e.g. --timeout 8)
# SUBJECT: a bundled name or a path to an adapter .so; default: every bundled one.
set -u
build=$1
shift
runner=$build/conformance
merger=${MERGER:-build/ipcspec-report}
results=$build/results
out=${REPORT_DIR:-$build/reports}
clause=${CLAUSE:-}
rm -rf "$results"
mkdir -p "$results" "$out"
IPCSPEC_RUN_ID=${IPCSPEC_RUN_ID:-r$(date +%s)-$$}
IPCSPEC_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
export IPCSPEC_RUN_ID IPCSPEC_COMMIT
# Leave nothing behind, even when a worker was killed on timeout.
# (FIFOs of native-fifo live under $TMPDIR.)
trap 'rm -f /dev/shm/ipcspec-"$IPCSPEC_RUN_ID"-* /dev/shm/sem.ipcspec-"$IPCSPEC_RUN_ID"-* \
	"${TMPDIR:-/tmp}"/ipcspec-"$IPCSPEC_RUN_ID"-*' EXIT INT TERM

# Test names are "<suite>/<CLAUSE_ID>__behaviour"; the suite is the subject's
# mechanism, so a subject only ever runs the clauses of its own mechanism.
tests='*'
if [ -n "$clause" ]; then
	tests="$(printf '%s' "$clause" | tr - _)"
	case $clause in *'*') ;; *) tests="${tests}__*" ;; esac
fi

subjects="$*"
[ -n "$subjects" ] || subjects=$("$runner" --list-subjects)
i=10
for s in $subjects; do
	i=$((i + 1)) # file order is matrix order
	label=$(IPCSPEC_SUBJECT=$s "$runner" --subject-name) || {
		echo "ipcspec: cannot load subject $s" >&2
		exit 2
	}
	suite=$(IPCSPEC_SUBJECT=$s "$runner" --subject-suite) # "pipe", or "fifo pipe"
	case $suite in *' '*) pattern="@($(echo $suite | tr ' ' '|'))" ;; *) pattern=$suite ;; esac
	log=$results/$i-$label.log
	printf '#subject\t%s\t%s\t%s\n' "$label" "$s" "$suite" >"$results/$i-$label.tsv"
	IPCSPEC_SUBJECT=$s IPCSPEC_SUBJECT_LABEL=$label IPCSPEC_RESULTS=$results/$i-$label.tsv \
		${IPCSPEC_WRAP:-} "$runner" -j"${JOBS:-2}" ${RUNNER_ARGS:-} --filter "$pattern/$tests" >"$log" 2>&1
	echo "== $label (log: $log)"
	grep -E '^\[(FAIL|----)\]' "$log" | head -n 20
	grep 'Synthesis' "$log" | tail -n 1
done
"$merger" spec "${EXPECT_DIR:-conformance/expect}" "$results" "$out" "$clause"
status=$?
echo "reports: $out/junit.xml $out/results.json $out/matrix.md"
exit $status
