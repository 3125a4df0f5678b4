/* SPDX-License-Identifier: MIT */
/*
 * pipe_eintr: a signal storm against blocked pipe reads and writes.
 *
 * A writer and a reader process move a checksummed stream through a small
 * pipe (one page where the subject can be shrunk), each under its own POSIX
 * timer raising SIGALRM every TICK_US, handled WITHOUT SA_RESTART, so every
 * read or write that blocks is interrupted over and over. The sides pause in
 * turn, so both spend time blocked: the writer on the full pipe, the reader
 * on the empty one. Transports: kernel descriptors through ipc_io_*, and
 * each pipe subject through ipc_io_pipe_*; blocking ends, then non-blocking
 * ends (the helpers then sleep in poll, which the storm interrupts too).
 *
 * The subject's read/write are reached through a counting shim: each result
 * must be a count in range, or -EINTR (or -EAGAIN on a non-blocking end);
 * EINTRs (of read/write, and of the poll the helpers wait in) and short
 * counts are counted. Proves: every byte once, in order; the storm was real
 * (signals landing inside the helpers, >= MIN_HITS per side); on kernel-backed
 * subjects the EINTRs were seen (> 0: in read/write on blocking ends, in poll
 * on non-blocking ones), so the helpers' retry was exercised, not just
 * survived. A user-space subject's EINTRs are reported, not required.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipe_common.h"

#define TICK_US 250
#define MIN_HITS 50
#define MIB (1024 * 1024)

/* Per side (0 writer, 1 reader), shared with the children. */
struct counts {
	_Atomic uint64_t ticks[2], hits[2], eintr[2], shorts[2], calls[2], bad[2], poll_eintr[2];
	_Atomic uint64_t moved;
};

static struct counts *cnt;
static uint64_t total_hits, total_eintr; /* over every stream, for the summary */
static int side; /* in a child: which side this process is */
static volatile sig_atomic_t in_op;
static int nonblock;

/* ---- the storm ------------------------------------------------------------------- */

static void on_tick(int sig)
{
	(void)sig;
	atomic_fetch_add(&cnt->ticks[side], 1);
	if (in_op)
		atomic_fetch_add(&cnt->hits[side], 1);
}

static void storm_start(void)
{
	timer_t t;

	if (fl_signal_storm(on_tick, TICK_US * 1000, &t) != 0)
		_exit(2);
}

static void enter(void) { in_op = 1; }
static void leave(void) { in_op = 0; }
static const struct pl_hooks hooks = {enter, leave};

/* ---- the counting shim over the subject's ops ------------------------------------- */

static const struct ipc_pipe_ops *real;
static struct ipc_pipe_ops shim;

/* Count one result and judge it against the pipe contract. */
static ssize_t tally(ssize_t n, size_t len, int reading)
{
	atomic_fetch_add(&cnt->calls[side], 1);
	if (n == -EINTR)
		atomic_fetch_add(&cnt->eintr[side], 1);
	else if (n >= 0 && (size_t)n < len && !(reading && n == 0))
		atomic_fetch_add(&cnt->shorts[side], 1);
	if (n > (ssize_t)len || (n == 0 && !reading) ||
	    (n < 0 && n != -EINTR && !(nonblock && n == -EAGAIN) && n != -EPIPE)) {
		atomic_fetch_add(&cnt->bad[side], 1);
		fl_violation("%s(%zu) under the storm -> %s: not a pipe result",
			     reading ? "read" : "write", len, pl_err(n));
	}
	return n;
}

static ssize_t shim_read(struct ipc_pipe *end, void *buf, size_t len)
{
	return tally(real->read(end, buf, len), len, 1);
}

static ssize_t shim_write(struct ipc_pipe *end, const void *buf, size_t len)
{
	return tally(real->write(end, buf, len), len, 0);
}

/* The helpers wait in poll on a non-blocking end: its EINTRs count too. */
static int shim_poll(struct ipc_pipe *end, int events, int64_t timeout_ns)
{
	int rc = real->poll(end, events, timeout_ns);

	if (rc == -EINTR)
		atomic_fetch_add(&cnt->poll_eintr[side], 1);
	return rc;
}

/* ---- one stream ------------------------------------------------------------------ */

struct role {
	struct pl_end mine, other; /* the end this side uses; the one it closes */
	struct pl_xfer x;
	int side;
};

static int child(void *arg)
{
	struct role *r = arg;
	unsigned before = fl_violations(); /* the parent's, inherited */
	int rc;

	side = r->side;
	pl_close(&r->other);
	storm_start();
	rc = side ? pl_read_stream(&r->mine, &r->x) : pl_write_stream(&r->mine, &r->x);
	pl_close(&r->mine);
	return rc || fl_violations() != before ? 1 : 0;
}

/* The sides pause (0.5-1.5 ms every ~6-7 chunks), so each blocks in turn. */
static void setup_role(struct role *r, int s, struct pl_end ends[2], uint64_t total,
		       unsigned seed, const char *what)
{
	memset(r, 0, sizeof(*r));
	r->side = s;
	r->mine = ends[s ? 0 : 1], r->other = ends[s ? 1 : 0];
	r->x.seed = seed, r->x.total = total, r->x.max_chunk = 16384;
	r->x.pct_resume = nonblock ? 50 : 0;
	r->x.pause_every = s ? 7 : 6, r->x.pause_ns = 1000000;
	r->x.give_up_ns = fl_now_ns() + fl_scaled_ns(60000000000LL);
	r->x.progress = s ? &cnt->moved : NULL;
	r->x.hooks = &hooks;
	r->x.what = what;
}

static void reap_both(pid_t pid[2], const char *what)
{
	int64_t deadline = fl_now_ns() + fl_scaled_ns(90000000000LL);

	for (int s = 0; s < 2; s++) {
		int st = fl_reap(pid[s], deadline);

		if (st == -1) {
			kill(pid[s], SIGKILL);
			fl_reap(pid[s], fl_now_ns() + 5000000000LL);
		}
		if (st != 0)
			fl_violation("%s: %s: %s", what, s ? "reader" : "writer", fl_status(st));
	}
}

/* "N signals (M inside calls), E EINTR, S short" for one side. */
static const char *side_text(int s, int shimmed)
{
	static char buf[2][128];

	snprintf(buf[s], sizeof(buf[s]), "%llu signals (%llu inside calls)",
		 (unsigned long long)cnt->ticks[s], (unsigned long long)cnt->hits[s]);
	if (shimmed) /* descriptors are called directly: their results are not seen */
		snprintf(buf[s] + strlen(buf[s]), sizeof(buf[s]) - strlen(buf[s]),
			 ", %llu EINTR (+%llu in poll), %llu short of %llu calls",
			 (unsigned long long)cnt->eintr[s], (unsigned long long)cnt->poll_eintr[s],
			 (unsigned long long)cnt->shorts[s], (unsigned long long)cnt->calls[s]);
	return buf[s];
}

static void judge(const char *what, uint64_t total, int shimmed, int native, int64_t t0)
{
	for (int s = 0; s < 2; s++) {
		total_hits += cnt->hits[s];
		total_eintr += cnt->eintr[s] + cnt->poll_eintr[s];
	}
	for (int s = 0; s < 2; s++)
		if (atomic_load(&cnt->hits[s]) < MIN_HITS)
			fl_violation("%s: only %llu signals landed inside the %s's calls: no storm",
				     what, (unsigned long long)cnt->hits[s], s ? "reader" : "writer");
	if (atomic_load(&cnt->moved) != total)
		fl_violation("%s: %llu of %llu bytes delivered", what,
			     (unsigned long long)cnt->moved, (unsigned long long)total);
	/* Blocking ends wait in read/write, non-blocking ones in poll. */
	if (native && (nonblock ? cnt->poll_eintr[0] + cnt->poll_eintr[1]
				: cnt->eintr[0] + cnt->eintr[1]) == 0)
		fl_violation("%s: no call ever returned EINTR: the storm missed the kernel waits",
			     what);
	fl_info("%-25s %llu MiB, %.1f s: writer %s; reader %s", what,
		(unsigned long long)(total / MIB), (double)(fl_now_ns() - t0) / 1e9,
		side_text(0, shimmed), side_text(1, shimmed));
}

static void stream(const struct pl_subject *s, uint64_t total, unsigned seed)
{
	static char what[64];
	static struct role roles[2];
	struct pl_subject shimmed;
	struct pl_end ends[2];
	char name[128];
	pid_t pid[2];
	int64_t t0 = fl_now_ns();

	snprintf(what, sizeof(what), "%s %s", s->name,
		 nonblock ? "non-blocking" : "blocking");
	memset(cnt, 0, sizeof(*cnt));
	shimmed = *s;
	if (s->ops) { /* the children reach the subject through the counting shim */
		real = s->ops, shim = *s->ops, shim.read = shim_read, shim.write = shim_write;
		shim.poll = s->ops->poll ? shim_poll : NULL;
		shimmed.ops = &shim;
	}
	fl_name(name, sizeof(name), "eintr");
	int rc = pl_make(&shimmed, name, 4096, nonblock, &ends[0], &ends[1]);
	if (rc != 0) {
		fl_violation("%s: create -> %s", what, pl_err(rc));
		return;
	}
	for (int k = 0; k < 2; k++) {
		setup_role(&roles[k], k, ends, total, seed, what);
		pid[k] = fl_spawn(child, &roles[k]);
	}
	pl_close(&ends[0]), pl_close(&ends[1]);
	reap_both(pid, what);
	if (s->ops && s->ops->unlink)
		s->ops->unlink(name);
	judge(what, total, s->ops != NULL, s->ops && (s->caps & IPC_PIPE_CAP_FD), t0);
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct pl_subject subj[PL_MAX_SUBJECTS];
	int64_t t0 = fl_now_ns();

	pl_is_pipe_query(argc, argv);
	fl_init(argc, argv, &o);
	fl_info("seed %u, SIGALRM every %d us without SA_RESTART in each process", o.seed,
		TICK_US);
	int ns = pl_subjects(argc, argv, subj);
	uint64_t total = (o.count ? o.count : o.short_run ? 4 : 32) * (uint64_t)MIB;

	cnt = fl_shared_alloc(sizeof(*cnt));
	signal(SIGPIPE, SIG_IGN);
	for (int t = 0; t < ns; t++) {
		const struct pl_subject *s = &subj[t];

		for (nonblock = 0; nonblock < 2; nonblock++)
			if (!nonblock || (s->caps & IPC_PIPE_CAP_NONBLOCK))
				stream(s, total, o.seed + (unsigned)t);
	}
	if (fl_shm_leftovers(getpid(), true))
		fl_violation("a /dev/shm name was left behind");
	fl_info("%llu signals inside calls, %llu EINTR seen, %.1f s; %s: %u violation(s); "
		"reproduce with --seed %u", (unsigned long long)total_hits,
		(unsigned long long)total_eintr, (double)(fl_now_ns() - t0) / 1e9,
		fl_violations() ? "FAIL" : "PASS", fl_violations(), o.seed);
	return fl_violations() ? 1 : 0;
}
