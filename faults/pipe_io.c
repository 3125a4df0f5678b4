/* SPDX-License-Identifier: MIT */
/*
 * pipe_io: the whole-transfer helpers (impl/io) under libfiu's POSIX preload.
 *
 * Two processes exchange a checksummed stream in both directions at once
 * (each runs a writer thread on one pipe and a reader thread on the other),
 * while the preload's points cut their read() and write() calls short
 * (posix/io/rw/{read,write}/reduce) or fail them before any byte with EINTR
 * or EAGAIN (posix/io/rw/{read,write}, errno from failinfo). Modes: short
 * transfers; EINTR; EAGAIN on non-blocking ends (with the real EAGAIN of a
 * small full / empty pipe); all mixed. Transports: kernel descriptors
 * through ipc_io_*, and every pipe subject with kernel descriptors through
 * ipc_io_pipe_* (its ops call read/write, which the preload wraps).
 *
 * Proves: every byte arrives once, in order (checked at its offset), the
 * straddling last read says -ENODATA with exactly the rest, the next IPC_EOD;
 * and the faults were real: each kind of injection is counted, per side,
 * and a mode whose injections never fired is a failure (no preload, a
 * _FORTIFY_SOURCE build, a harness that stopped arming).
 */
#include <errno.h>
#include <fiu-control.h>
#include <fiu.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipe_common.h"

#define MIB (1024 * 1024)

static const char *const points[] = {
	"posix/io/rw/write/reduce", "posix/io/rw/read/reduce",
	"posix/io/rw/write", "posix/io/rw/read",
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

struct mode {
	const char *name;
	double p_reduce; /* a call is cut short */
	double p_error;  /* a call fails before any byte */
	int err;         /* EINTR, EAGAIN, or 0: either at random */
	int nonblock;
	size_t capacity; /* 0: the default */
};

static const struct mode modes[] = {
	{"short", 0.5, 0, 0, 0, 0},
	{"EINTR", 0, 0.3, EINTR, 0, 0},
	{"EAGAIN", 0, 0.3, EAGAIN, 1, 16384},
	{"mixed", 0.3, 0.15, 0, 1, 16384},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* Per side (0 write, 1 read), shared with the children. */
struct counts {
	_Atomic uint64_t calls[2], reduced[2], eintr[2], eagain[2];
	_Atomic uint64_t moved[2]; /* per direction: bytes checked by its reader */
};

static struct counts *cnt;
static const struct mode *cur;
static unsigned seed;     /* --seed */
static uint64_t run_seed; /* this transport and mode: streams and injections */
static _Thread_local int armed;
static _Thread_local struct fl_rng trng;

/* ---- injection ------------------------------------------------------------------ */

static int chance(double p)
{
	return p > 0 && (double)fl_rng_below(&trng, 1000000) < p * 1e6;
}

/* Decides, counts and sets the errno of every armed call. Only calls made
 * inside the helpers are armed: the harness's own I/O is never faulted. */
static int inject(const char *name, int *failnum, void **failinfo, unsigned *flags)
{
	int side = strstr(name, "read") != NULL, e;

	(void)failnum, (void)flags;
	if (!armed)
		return 0;
	if (strstr(name, "reduce")) { /* evaluated first, once per call */
		atomic_fetch_add(&cnt->calls[side], 1);
		if (!chance(cur->p_reduce))
			return 0;
		atomic_fetch_add(&cnt->reduced[side], 1);
		return 1;
	}
	if (!chance(cur->p_error))
		return 0;
	e = cur->err ? cur->err : fl_rng_below(&trng, 2) ? EINTR : EAGAIN;
	atomic_fetch_add(e == EINTR ? &cnt->eintr[side] : &cnt->eagain[side], 1);
	*failinfo = (void *)(intptr_t)e;
	return 1;
}

static void arm(void) { armed = 1; }
static void disarm(void) { armed = 0; }
static const struct pl_hooks hooks = {arm, disarm};

/* ---- the two processes ------------------------------------------------------------ */

struct side {
	struct pl_end w, r;      /* this child's write end (pipe k) and read end (pipe 1-k) */
	struct pl_end unused[2]; /* the other two ends, closed at once in the child */
	struct pl_xfer wx, rx;
	int wrc, rrc, k;
};

static void *writer(void *arg)
{
	struct side *s = arg;

	fl_rng_seed(&trng, run_seed * 4 + (unsigned)s->k * 2);
	s->wrc = pl_write_stream(&s->w, &s->wx);
	pl_close(&s->w); /* the peer's reader sees end of file */
	return NULL;
}

static void *reader(void *arg)
{
	struct side *s = arg;

	fl_rng_seed(&trng, run_seed * 4 + (unsigned)s->k * 2 + 1);
	s->rrc = pl_read_stream(&s->r, &s->rx);
	pl_close(&s->r);
	return NULL;
}

static int child(void *arg)
{
	struct side *s = arg;
	unsigned before = fl_violations(); /* the parent's, inherited */
	pthread_t tw, tr;

	pl_close(&s->unused[0]); /* so end of file comes when the writers are done */
	pl_close(&s->unused[1]);
	srandom((unsigned)(run_seed * 2 + (unsigned)s->k)); /* the /reduce amounts */
	for (size_t i = 0; i < NPOINTS; i++)
		fiu_enable_external(points[i], 1, NULL, 0, inject);
	if (pthread_create(&tw, NULL, writer, s) || pthread_create(&tr, NULL, reader, s))
		return 2;
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	return s->wrc || s->rrc || fl_violations() != before ? 1 : 0;
}

/* ---- one run: a transport in a mode -------------------------------------------------- */

static void setup_xfer(struct pl_xfer *x, uint64_t stream, uint64_t total,
		       _Atomic uint64_t *progress, char *what)
{
	memset(x, 0, sizeof(*x));
	x->seed = stream, x->total = total, x->max_chunk = 128 * 1024;
	x->pct_resume = 25, x->pause_every = 64, x->pause_ns = 500000;
	x->give_up_ns = fl_now_ns() + fl_scaled_ns(60000000000LL);
	x->progress = progress;
	x->hooks = &hooks;
	x->what = what;
}

/* Child k writes pipe k and reads pipe 1 - k. */
static void make_side(struct side *s, int k, struct pl_end p[2][2], uint64_t total, char *what)
{
	memset(s, 0, sizeof(*s));
	s->k = k;
	s->w = p[k][1], s->r = p[1 - k][0];
	s->unused[0] = p[k][0], s->unused[1] = p[1 - k][1];
	setup_xfer(&s->wx, run_seed + (unsigned)k, total, NULL, what);
	setup_xfer(&s->rx, run_seed + (unsigned)(1 - k), total, &cnt->moved[1 - k], what);
}

static int open_pipes(const struct pl_subject *s, struct pl_end p[2][2])
{
	char name[128];

	for (int k = 0; k < 2; k++) {
		fl_name(name, sizeof(name), "io");
		int rc = pl_make(s, name, cur->capacity, cur->nonblock, &p[k][0], &p[k][1]);
		if (rc != 0) {
			fl_violation("%s: create a pipe -> %s", s->name, pl_err(rc));
			for (int j = 0; j < k; j++)
				pl_close(&p[j][0]), pl_close(&p[j][1]);
			return rc;
		}
	}
	return 0;
}

static void spawn_pair(struct pl_end p[2][2], uint64_t total, char *what, pid_t pid[2])
{
	static struct side sides[2];

	for (int k = 0; k < 2; k++) {
		make_side(&sides[k], k, p, total, what);
		pid[k] = fl_spawn(child, &sides[k]);
	}
	for (int k = 0; k < 2; k++)
		for (int e = 0; e < 2; e++)
			pl_close(&p[k][e]); /* ours: only the children hold ends now */
}

static void reap_pair(pid_t pid[2], const char *what)
{
	int64_t deadline = fl_now_ns() + fl_scaled_ns(120000000000LL);

	for (int k = 0; k < 2; k++) {
		int st = fl_reap(pid[k], deadline);

		if (st == -1) {
			kill(pid[k], SIGKILL);
			fl_reap(pid[k], fl_now_ns() + 5000000000LL);
		}
		if (st != 0)
			fl_violation("%s: process %d: %s", what, k, fl_status(st));
	}
}

/* The faults must have been real, on both sides. */
static void judge_counts(const char *what, uint64_t total)
{
	for (int side = 0; side < 2; side++) {
		const char *sn = side ? "read" : "write";

		if (cur->p_reduce > 0 && atomic_load(&cnt->reduced[side]) == 0)
			fl_violation("%s: no %s was cut short: injection is not working", what, sn);
		if (cur->err != EAGAIN && cur->p_error > 0 && atomic_load(&cnt->eintr[side]) == 0)
			fl_violation("%s: no %s failed with EINTR: injection is not working", what, sn);
		if (cur->err != EINTR && cur->p_error > 0 && atomic_load(&cnt->eagain[side]) == 0)
			fl_violation("%s: no %s failed with EAGAIN: injection is not working", what, sn);
	}
	for (int dir = 0; dir < 2; dir++)
		if (atomic_load(&cnt->moved[dir]) != total)
			fl_violation("%s: direction %d delivered %llu of %llu bytes", what, dir,
				     (unsigned long long)atomic_load(&cnt->moved[dir]),
				     (unsigned long long)total);
}

static void one_run(const struct pl_subject *s, uint64_t total, uint64_t *injected)
{
	static char what[96];
	struct pl_end p[2][2];
	pid_t pid[2];
	int64_t t0 = fl_now_ns();

	snprintf(what, sizeof(what), "%s %s", s->name, cur->name);
	memset(cnt, 0, sizeof(*cnt));
	if (open_pipes(s, p) != 0)
		return;
	spawn_pair(p, total, what, pid);
	reap_pair(pid, what);
	judge_counts(what, total);
	uint64_t inj[2];
	for (int i = 0; i < 2; i++) {
		inj[i] = cnt->reduced[i] + cnt->eintr[i] + cnt->eagain[i];
		*injected += inj[i];
	}
	fl_info("%-12s %-6s 2 x %llu MiB: write %llu calls, %llu short, %llu EINTR, %llu EAGAIN; "
		"read %llu calls, %llu short, %llu EINTR, %llu EAGAIN; %.2f s", s->name, cur->name,
		(unsigned long long)(total / MIB), (unsigned long long)cnt->calls[0],
		(unsigned long long)cnt->reduced[0], (unsigned long long)cnt->eintr[0],
		(unsigned long long)cnt->eagain[0], (unsigned long long)cnt->calls[1],
		(unsigned long long)cnt->reduced[1], (unsigned long long)cnt->eintr[1],
		(unsigned long long)cnt->eagain[1], (double)(fl_now_ns() - t0) / 1e9);
}

/* ---- the preload must really inject, with the errno given as failinfo ----------------- */

static int probe_body(void *arg)
{
	int p[2];
	char c = 'x';
	ssize_t n1, n2, n3;
	int e1, e2;

	(void)arg;
	if (pipe(p) != 0)
		return 2;
	fiu_enable("posix/io/rw/write", 1, (void *)(intptr_t)EINTR, 0);
	errno = 0, n1 = write(p[1], &c, 1), e1 = errno;
	fiu_disable("posix/io/rw/write");
	fiu_enable_random("posix/io/rw/read", 1, (void *)(intptr_t)EAGAIN, 0, 1.0f);
	errno = 0, n2 = read(p[0], &c, 1), e2 = errno;
	fiu_disable("posix/io/rw/read");
	n3 = write(p[1], &c, 1);
	return n1 == -1 && e1 == EINTR && n2 == -1 && e2 == EAGAIN && n3 == 1 ? 0 : 1;
}

static void probe(void)
{
	pid_t pid = fl_spawn(probe_body, NULL);
	int st = fl_reap(pid, fl_now_ns() + 10000000000LL);

	if (st != 0)
		fl_violation("probe: write/read under an enabled point did not fail with the "
			     "failinfo errno (%s): is %s preloaded, is the build free of "
			     "_FORTIFY_SOURCE?", fl_status(st), PL_PRELOAD_SO);
	else
		fl_info("probe: the preload fails write() with EINTR and read() with EAGAIN on demand");
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct pl_subject subj[PL_MAX_SUBJECTS];
	uint64_t injected = 0;
	int64_t t0 = fl_now_ns();

	pl_is_pipe_query(argc, argv);
	pl_ensure_preload(argv);
	fl_init(argc, argv, &o);
	int ns = pl_subjects(argc, argv, subj);
	uint64_t total = (o.count ? o.count : o.short_run ? 4 : 32) * (uint64_t)MIB;

	seed = o.seed;
	fiu_init(0);
	cnt = fl_shared_alloc(sizeof(*cnt));
	fl_info("seed %u, libfiu preload %s", seed, pl_preloaded() ? "on" : "OFF");
	probe();
	for (int t = 0; t < ns; t++) {
		const struct pl_subject *s = &subj[t];

		if (!(s->caps & IPC_PIPE_CAP_FD)) {
			fl_info("skip %s: no kernel descriptor behind it, the POSIX preload cannot "
				"reach it (its own points: pipe_nth_sweep)", s->name);
			continue;
		}
		for (size_t m = 0; m < NMODES; m++) {
			cur = &modes[m];
			run_seed = (uint64_t)seed * 1000003u + (uint64_t)t * 64 + m;
			one_run(s, total, &injected);
		}
	}
	fl_shm_leftovers(getpid(), true);
	fl_info("%llu injections in %.1f s; %s: %u violation(s); reproduce with --seed %u",
		(unsigned long long)injected, (double)(fl_now_ns() - t0) / 1e9,
		fl_violations() ? "FAIL" : "PASS", fl_violations(), seed);
	return fl_violations() ? 1 : 0;
}
