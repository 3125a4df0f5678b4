#!/bin/sh
# Run the conformance clauses against subjects, one runner invocation per
# subject (so any cell can be reproduced alone), then merge the report.
#   ci/conformance.sh BUILD_DIR [SUBJECT ...]
# env: CLAUSE (a glob, or @(A|B) for several), JOBS, REPORT_DIR, EXPECT_DIR,
#      RESULTS_DIR (the per-subject logs; default BUILD_DIR/results),
#      IPCSPEC_WRAP (a command prefix for the runner, e.g. valgrind),
#      RUNNER_ARGS (more Criterion options, e.g. --timeout 8)
# SUBJECT: a bundled name or a path to an adapter .so; default: every bundled one.
set -u
build=$1
shift
runner=$build/conformance
merger=${MERGER:-build/ipcspec-report}
results=${RESULTS_DIR:-$build/results}
out=${REPORT_DIR:-$build/reports}
clause=${CLAUSE:-}
rm -rf "$results"
mkdir -p "$results" "$out"
IPCSPEC_RUN_ID=${IPCSPEC_RUN_ID:-r$(date +%s)-$$}
IPCSPEC_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
export IPCSPEC_RUN_ID IPCSPEC_COMMIT
# Leave nothing behind, even when a worker was killed on timeout.
# (FIFOs of native-fifo live under $TMPDIR.)
# SysV queues of native-sysv-msg go first: each is found by its anchor file
# under $TMPDIR ("ipcspec-sysv-msg PROJ …"), its key being ftok(anchor, PROJ).
# POSIX queues are listed only through an mqueue mount (mq_overview(7)): the
# usual /dev/mqueue, or else (root) a private mount in a new mount namespace.
cleanup() {
	for f in "${TMPDIR:-/tmp}"/ipcspec-"$IPCSPEC_RUN_ID"-*; do
		[ -f "$f" ] && read -r tag proj _ <"$f" 2>/dev/null || continue
		case $tag.$proj in ipcspec-sysv-msg.[0-9]* | ipcspec-sysv-party.[0-9]*) ;; *) continue ;; esac
		di=$(stat -c '%d %i' "$f") || continue
		key=$(((proj & 255) << 24 | (${di% *} & 255) << 16 | (${di#* } & 65535)))
		ipcrm -Q "$(printf '0x%x' "$key")" 2>/dev/null
	done
	if [ "$(stat -f -c %T /dev/mqueue 2>/dev/null)" = mqueue ]; then
		rm -f /dev/mqueue/ipcspec-"$IPCSPEC_RUN_ID"-*
	elif [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
		unshare -m sh -c 'mount -t mqueue none /mnt && rm -f /mnt/ipcspec-"$1"-*' sh \
			"$IPCSPEC_RUN_ID" 2>/dev/null
	fi
	rm -f /dev/shm/ipcspec-"$IPCSPEC_RUN_ID"-* /dev/shm/sem.ipcspec-"$IPCSPEC_RUN_ID"-* \
		"${TMPDIR:-/tmp}"/ipcspec-"$IPCSPEC_RUN_ID"-*
}
# A signal must end the run, not just clean up and go on to the next subject:
# exit, and the EXIT trap cleans up.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
