#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the fault-injection harnesses and print a summary.
#   sh faults/run.sh short|full BUILD_DIR [SUBJECT]
# short: the budget of `make test` (< 75 s); full: `make faults` (< ~4 min).
# The shmbuf harnesses run on ref-shmbuf, the pipe harnesses (pipe_*) on
# kernel descriptors, native-pipe and ref-pipe, fifo_faults on native-fifo and
# ref-fifo, msgpipe_faults on every message-pipe subject, mailbox_faults on
# every mailbox subject, framing_faults on every framing subject; SUBJECT=
# picks one subject and only the harnesses of its mechanism.
# Exit status: 0 only if every harness passed and every failure point in
# impl/ is covered by nth_sweep, pipe_nth_sweep, fifo_faults, msgpipe_faults or
# mailbox_faults.
set -u
mode=${1:-short}
dir=${2:-build/faults}
subject=${3:-}
log_dir=$dir/logs
mkdir -p "$log_dir"

case $mode in
short) size=--short ;;
full) size= ;;
*) echo "usage: $0 short|full BUILD_DIR [SUBJECT]" >&2; exit 2 ;;
esac
# Only bundled subjects can be named (the harnesses link impl/ directly).
args=$size
shmbuf=yes
pipe=yes
fifo=yes
msgpipe=yes
mailbox=yes
framing=yes
case $subject in
'') ;;
*/* | *.so) echo "faults: SUBJECT=$subject is an external object; harnesses take bundled names only" >&2; exit 2 ;;
*)
	args="$args --subject $subject"
	if "$dir/fifo_faults" --is-fifo "$subject"; then shmbuf=no; pipe=no; msgpipe=no; mailbox=no; framing=no
	elif "$dir/msgpipe_faults" --is-msgpipe "$subject"; then shmbuf=no; pipe=no; fifo=no; mailbox=no; framing=no
	elif "$dir/mailbox_faults" --is-mailbox "$subject"; then shmbuf=no; pipe=no; fifo=no; msgpipe=no; framing=no
	elif "$dir/framing_faults" --is-framing "$subject"; then shmbuf=no; pipe=no; fifo=no; msgpipe=no; mailbox=no
	elif "$dir/pipe_io" --is-pipe "$subject"; then shmbuf=no; fifo=no; msgpipe=no; mailbox=no; framing=no
	else pipe=no; fifo=no; msgpipe=no; mailbox=no; framing=no; fi ;;
esac

fail=0
summary=

# Every point compiled into impl/ must be one of the sweeps' points.
check_points() {
	known=$("$dir/nth_sweep" --list-points; "$dir/pipe_nth_sweep" --list-points
		"$dir/fifo_faults" --list-points; "$dir/msgpipe_faults" --list-points
		"$dir/mailbox_faults" --list-points; "$dir/framing_faults" --list-points)
	missing=
	for p in $(grep -rhoE '"ipc/[a-z0-9_/]+"' impl --include='*.c' --include='*.h' |
		grep -v '^impl/broken' | tr -d '"' | sort -u); do
		echo "$known" | grep -qx "$p" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "faults: failure points in impl/ that no sweep knows:$missing" >&2
		fail=1
		summary="$summary
  points          FAIL  not swept:$missing"
	fi
}

run() {
	name=$1
	shift
	start=$(date +%s.%N)
	echo "== $name $args $*"
	# Its pid (exec keeps it) names its objects, ipcspec-flt-<pid>-*: what a
	# killed harness left in $TMPDIR is removed without touching other runs.
	sh -c 'echo $$ >"$0"; exec "$@"' "$log_dir/$name.pid" "$dir/$name" $args "$@" \
		>"$log_dir/$name.log" 2>&1
	rc=$?
	pid=$(cat "$log_dir/$name.pid" 2>/dev/null)
	rm -f "$log_dir/$name.pid"
	# A mailbox run's SysV queues are found through its anchors: first.
	[ -n "$pid" ] && [ "$name" = mailbox_faults ] && "$dir/mailbox_faults" --cleanup "$pid"
	[ -n "$pid" ] && rm -f "${TMPDIR:-/tmp}/ipcspec-flt-$pid-"* 2>/dev/null
	end=$(date +%s.%N)
	secs=$(echo "$start $end" | awk '{printf "%.1f", $2 - $1}')
	cat "$log_dir/$name.log"
	last=$(grep -E 'PASS|FAIL' "$log_dir/$name.log" | tail -n 1 | sed 's/^\[[a-z_]*\] //')
	if [ $rc -eq 0 ]; then verdict=ok; else verdict=FAIL; fail=1; fi
	summary="$summary
$(printf '  %-15s %-4s %6ss  %s' "$name" "$verdict" "$secs" "$last")"
}

t0=$(date +%s)
check_points
if [ $shmbuf = yes ]; then
	run nth_sweep
	run race_stress
	run kill_campaign
	run eintr_storm
fi
if [ $pipe = yes ]; then
	run pipe_io
	run pipe_eintr
	run pipe_nth_sweep
	run pipe_kill
fi
if [ $fifo = yes ]; then
	run fifo_faults
fi
if [ $msgpipe = yes ]; then
	run msgpipe_faults
fi
if [ $mailbox = yes ]; then
	run mailbox_faults
fi
if [ $framing = yes ]; then
	run framing_faults
fi
# Whatever a killed harness left behind under our prefix.
rm -f /dev/shm/ipcspec-flt-* 2>/dev/null
t1=$(date +%s)

echo
echo "faults ($mode) summary, logs in $log_dir:$summary"
echo "  total $((t1 - t0)) s: $([ $fail -eq 0 ] && echo PASS || echo FAIL)"
exit $fail
