#!/bin/sh
# SPDX-License-Identifier: MIT
# Are the fault and race harnesses honest? Plant one bug at a time in a
# scratch copy of the tree, build the harness that should catch it there, and
# expect it to fail. Never touches the real impl/.
#   sh faults/prove-honest.sh [SCRATCH_DIR] [PLANT...]
# Plants: publish-early counter-race no-steal eintr-up leak-name
#         leak-fd stub-build lost-wakeup
#         io-short-write io-eintr-up leak-handle pipe-early-eof pipe-lost-wakeup
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-/tmp/ipcspec-honest}
[ $# -gt 0 ] && shift
plants=${*:-"publish-early no-steal counter-race eintr-up leak-name leak-fd stub-build lost-wakeup
	io-short-write io-eintr-up leak-handle pipe-early-eof pipe-lost-wakeup"}
fails=0

# A fresh copy of the tree (sources only) for one plant.
fresh() {
	rm -rf "$scratch/$1"
	mkdir -p "$scratch/$1"
	(cd "$src" && tar --exclude=./build --exclude='./build-*' --exclude=./.git -cf - .) |
		(cd "$scratch/$1" && tar -xf -)
	echo "$scratch/$1"
}

# plant FILE PERL-EXPR MARKER: edit, then prove the edit took.
plant() {
	perl -0pi -e "$2" "$1"
	if ! grep -q "$3" "$1"; then
		echo "honest: the plant did not apply to $1 (the source moved?)" >&2
		return 1
	fi
}

# expect NAME DIR CMD...: the harness must fail (non-zero) on the planted bug.
expect_caught() {
	name=$1
	dir=$2
	shift 2
	log=$scratch/$name.log
	(cd "$dir" && "$@") >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "CAUGHT  $name (exit $rc): $(grep -m1 -E 'VIOLATION|WARNING: ThreadSanitizer|never fired|hang' "$log" | cut -c1-150)"
	else
		echo "MISSED  $name: the harness passed; log $log"
		fails=$((fails + 1))
	fi
}

REF=impl/shmbuf/ref_shmbuf.c
IO=impl/io/io.c
NATIVE=impl/pipe/native_pipe.c

for p in $plants; do
	d=$(fresh "$p") || exit 2
	case $p in
	publish-early)
		# Publish the slot (its seq) and the tail before the item is copied in.
		plant "$d/$REF" 's|(\tatomic_store_explicit\(&s->len, \(uint32_t\)len, memory_order_relaxed\);)|\tatomic_store_explicit(&s->seq, tail + 1, memory_order_release);\n\tatomic_store_explicit(&hdr->tail, tail + 1, memory_order_release); /* PLANTED */\n$1|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.race_stress" "$d" sh -c 'make -s faults-build >/dev/null && build/faults/race_stress --short --seed 1'
		expect_caught "$p.kill_campaign" "$d" sh -c 'build/faults/kill_campaign --short --seed 1'
		expect_caught "$p.tsan" "$d" sh -c 'make -s tsan' ;;
	counter-race)
		# A plain (non-atomic) statistics counter bumped by every put.
		plant "$d/$REF" 's|(int ipc_shmbuf_put\(struct ipc_shmbuf \*h, const void \*item, size_t len, int64_t timeout_ns\)\n\{\n)|unsigned long ipc__planted_puts; /* PLANTED */\n$1\tipc__planted_puts++;\n|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.tsan" "$d" sh -c 'make -s tsan' ;;
	no-steal)
		# Never steal a dead owner's lock (the repository's mutant 7).
		expect_caught "$p.kill_campaign" "$d" sh -c 'make -s faults-build FAULTS_EXTRA_CFLAGS=-DIPC_MUTANT_ID=7 >/dev/null && build/faults-IPC_MUTANT_ID7/kill_campaign --short --seed 1' ;;
	eintr-up)
		# EINTR from the futex passed up to the caller instead of retried.
		plant "$d/impl/core/futex.c" 's|(\tif \(rc < 0 && errno == ETIMEDOUT\)\n)|\tif (rc < 0 \&\& errno == EINTR) return -EINTR; /* PLANTED */\n$1|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		plant "$d/$REF" 's|\tif \(ipc__futex_wait\(seq, v, until\) == IPC_ETIMEDOUT\)\n|\tint fw = ipc__futex_wait(seq, v, until); /* PLANTED */\n\tif (fw == -EINTR)\n\t\treturn fw;\n\tif (fw == IPC_ETIMEDOUT)\n|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.eintr_storm" "$d" sh -c 'make -s faults-build >/dev/null && build/faults/eintr_storm --short --seed 1' ;;
	leak-name)
		# A create whose header setup fails forgets to unlink the name.
		plant "$d/$REF" 's|\tif \(rc < 0\)\n\t\tshm_unlink\(name\);\n|\t/* PLANTED: no unlink on failure */\n|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.nth_sweep" "$d" sh -c 'make -s faults-build >/dev/null && build/faults/nth_sweep --short' ;;
	leak-fd)
		# An attach whose mapping fails forgets to close the descriptor.
		plant "$d/$REF" 's|\tif \(h->fd >= 0\)\n\t\tclose\(h->fd\);|\tif (h->fd >= 0 \&\& h->hdr) /* PLANTED */\n\t\tclose(h->fd);|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.nth_sweep" "$d" sh -c 'make -s faults-build >/dev/null && build/faults/nth_sweep --short' ;;
	stub-build)
		# The subject built without its libfiu points (a release build).
		plant "$d/impl/core/core.h" 's|#include <fiu-local.h>|#undef FIU_ENABLE /* PLANTED */\n#include <fiu-local.h>|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.nth_sweep" "$d" sh -c 'make -s faults-build >/dev/null && build/faults/nth_sweep --short' ;;
	lost-wakeup)
		# put never wakes sleeping consumers (the repository's mutant 2).
		expect_caught "$p.race_stress" "$d" sh -c 'make -s faults-build FAULTS_EXTRA_CFLAGS=-DIPC_MUTANT_ID=2 >/dev/null && build/faults-IPC_MUTANT_ID2/race_stress --short --seed 1' ;;
	io-short-write)
		# write_all takes a short write for the whole request (no loop).
		plant "$d/$IO" 's|(\t\t\t\*done \+= \(size_t\)n;\n)|$1\t\t\tif (c->writing) *done = len; /* PLANTED */\n|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.pipe_io" "$d" sh -c 'make -s build/faults/pipe_io >/dev/null && build/faults/pipe_io --short --seed 1' ;;
	io-eintr-up)
		# The helpers pass EINTR up instead of retrying.
		plant "$d/$IO" 's|\t\tif \(n == -EINTR\) /\* nothing moved: simply try again \*/\n\t\t\tcontinue;\n|\t\t/* PLANTED: EINTR passed up */\n|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.pipe_eintr" "$d" sh -c 'make -s build/faults/pipe_eintr >/dev/null && build/faults/pipe_eintr --short --seed 1 --subject native-pipe' ;;
	leak-handle)
		# native-pipe's create forgets the read end's handle when the write
		# end's allocation fails.
		plant "$d/$NATIVE" 's|\t\tfree\(\*rd\);\n|\t\t/* PLANTED: *rd not freed */\n|' 'PLANTED' || { fails=$((fails + 1)); continue; }
		expect_caught "$p.pipe_nth_sweep" "$d" sh -c 'make -s build/faults/pipe_nth_sweep >/dev/null && build/faults/pipe_nth_sweep --short --subject native-pipe' ;;
	pipe-early-eof)
		# ref-pipe reads EOF while one writer is left (the repository's mutant 8).
		expect_caught "$p.pipe_kill" "$d" sh -c 'make -s build/faults-IPC_MUTANT_ID8/pipe_kill FAULTS_EXTRA_CFLAGS=-DIPC_MUTANT_ID=8 >/dev/null && build/faults-IPC_MUTANT_ID8/pipe_kill --short --seed 1 --subject ref-pipe' ;;
	pipe-lost-wakeup)
		# ref-pipe's last writer leaves without waking the reader (mutant 11).
		expect_caught "$p.pipe_kill" "$d" sh -c 'make -s build/faults-IPC_MUTANT_ID11/pipe_kill FAULTS_EXTRA_CFLAGS=-DIPC_MUTANT_ID=11 >/dev/null && build/faults-IPC_MUTANT_ID11/pipe_kill --short --seed 1 --subject ref-pipe' ;;
	*) echo "honest: unknown plant $p" >&2; fails=$((fails + 1)) ;;
	esac
done
rm -f /dev/shm/ipcspec-flt-* /dev/shm/ipcspec-tsan-* 2>/dev/null
[ $fails -eq 0 ] && echo "honest: every planted bug was caught" || echo "honest: $fails planted bug(s) missed"
exit $fails
