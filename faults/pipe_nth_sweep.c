/* SPDX-License-Identifier: MIT */
/*
 * pipe_nth_sweep: fail the Nth call of every failure point under a pipe
 * workload, for N = 1, 2, ... until a run fires no fault, in one-shot mode
 * (only call N fails) and persistent mode (every call from N on fails).
 *
 * The workload runs in one process on non-blocking ends (nothing can block):
 * create; a timed poll on the empty pipe; rounds of raw writes and reads of
 * varied sizes, the resumable impl/io helpers, poll, dup / write / close of a
 * second write handle; half-way a fork() whose child closes what it
 * inherited, and a resize up and back; validate; then either the writer
 * leaves first (the reader drains and must see end of file) or the reader
 * does (a write must say -EPIPE); close; the harness's unlink. A model tracks
 * the bytes accepted and consumed.
 *
 * Judged per call: a call during which no fault fired must give exactly the
 * model's answer; one during which a fault fired may fail with any negative
 * errno, but with no effect (a failed write queued nothing, a failed read
 * consumed nothing, a failed resize kept the capacity; the resumable helpers
 * report exactly what moved). After the armed workload the pipe is drained
 * unarmed: every accepted byte comes out once, in order (checked at its
 * offset), then end of file. No descriptor, shared mapping, /dev/shm name or
 * heap block the subject allocated (pipe_alloc.h) may outlive a run.
 *
 * Points: the subjects' own (ipc/pipe/..., which must fire on a ref-*
 * subject), the shared core's (ipc/shm/..., ipc/futex/..., which fire if
 * the subject is built on it), and libc's through libfiu's POSIX preload
 * (the program re-executes itself under it unless FL_NO_PRELOAD=1).
 */
#include <errno.h>
#include <limits.h>
#include <fiu-control.h>
#include <fiu.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "pipe_alloc.h"
#include "pipe_common.h"

#define DENSE_N 128 /* N = 1..DENSE_N one by one, then x1.5 steps */

enum pt_kind { PT_OWN, PT_CORE, PT_LIBC, PT_RACE };

struct point {
	const char *name;
	long failinfo; /* errno for libc points and points that read fiu_failinfo() */
	enum pt_kind kind;
};

/* faults/run.sh checks that every "ipc/..." name in impl/ is listed here or
 * in nth_sweep's table: a new point cannot go unswept. */
static const struct point points[] = {
	{"ipc/pipe/create", EMFILE, PT_OWN}, /* its failinfo is the errno returned */
	{"ipc/pipe/map", 0, PT_OWN},
	{"ipc/pipe/grow", 0, PT_OWN},
	{"ipc/pipe/wait", 0, PT_OWN},
	{"ipc/pipe/fork", 0, PT_OWN},
	{"ipc/shm/open", EMFILE, PT_CORE},
	{"ipc/shm/truncate", 0, PT_CORE},
	{"ipc/shm/map", 0, PT_CORE},
	{"ipc/shm/grow", 0, PT_CORE},
	{"ipc/shm/reclaim", 0, PT_CORE},
	{"ipc/futex/wait", 0, PT_CORE},
	{"ipc/proc/stat", 0, PT_CORE},
	{"libc/mm/malloc", ENOMEM, PT_LIBC},
	{"libc/mm/calloc", ENOMEM, PT_LIBC},
	{"posix/mm/mmap", ENOMEM, PT_LIBC},
	{"posix/io/rw/ftruncate", EFBIG, PT_LIBC},
	{"posix/io/oc/open", EMFILE, PT_LIBC},
	{"posix/io/rw/read", EIO, PT_LIBC},
	{"posix/io/rw/write", EIO, PT_LIBC},
	/* Race points change timing, not results, in one thread: only counted. */
	{"ipc/race/pipe/write/copied", 1, PT_RACE},
	{"ipc/race/pipe/write/published", 1, PT_RACE},
	{"ipc/race/pipe/read/copied", 1, PT_RACE},
	{"ipc/race/pipe/read/released", 1, PT_RACE},
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

/* Run one subject call armed; *faulted says whether a fault fired inside it. */
#define ARMED(faulted, expr)                                                   \
	({                                                                     \
		long fired_before_ = fl_nth.fired;                             \
		fl_nth_armed = 1;                                              \
		pl_alloc_track(1);                                             \
		__typeof__(expr) rc_ = (expr);                                 \
		pl_alloc_track(0);                                             \
		fl_nth_armed = 0;                                              \
		*(faulted) = fl_nth.fired != fired_before_;                    \
		rc_;                                                           \
	})

/* ---- one run: the model and the workload ----------------------------------------------- */

struct run {
	const char *what;
	const struct pl_subject *s;
	const struct ipc_pipe_ops *ops;
	struct ipc_pipe *rd, *wr;
	char name[128];
	uint64_t seed, wpos, rpos; /* stream offsets: accepted, consumed */
	size_t capacity;           /* 0: the default */
	int reader_leaves_first;
	struct fl_rng rng;
	unsigned char buf[8192];
};

static uint64_t queued(const struct run *r) { return r->wpos - r->rpos; }

/* A call without a fault must match the model; with one, fail cleanly. */
static int judge(struct run *r, const char *step, long rc, int faulted, int ok)
{
	if (ok)
		return 1;
	if (faulted && rc < 0 && rc > -4096)
		return 0;
	fl_violation("%s: %s -> %s (%llu queued%s)", r->what, step, pl_err(rc),
		     (unsigned long long)queued(r), faulted ? ", a fault fired" : "");
	return 0;
}

static void accept_read(struct run *r, const char *step, size_t n)
{
	size_t bad = pl_stream_check(r->seed, r->rpos, r->buf, n);

	if (bad != n)
		fl_violation("%s: %s: byte %llu of the stream is wrong (lost, duplicated or "
			     "reordered)", r->what, step, (unsigned long long)(r->rpos + bad));
	r->rpos += n;
}

static void raw_write(struct run *r, struct ipc_pipe *end, size_t len)
{
	int f;

	pl_stream_fill(r->seed, r->wpos, r->buf, len);
	ssize_t rc = ARMED(&f, r->ops->write(end, r->buf, len));
	/* A small write is all or nothing; -EAGAIN only with something queued. */
	if (judge(r, "write", rc, f, rc == (ssize_t)len || (rc == -EAGAIN && queued(r) > 0)) &&
	    rc > 0)
		r->wpos += (size_t)rc;
}

static void raw_read(struct run *r, size_t len)
{
	int f;
	uint64_t q = queued(r);
	ssize_t rc = ARMED(&f, r->ops->read(r->rd, r->buf, len));
	int ok = q ? rc > 0 && (uint64_t)rc <= q && (size_t)rc <= len : rc == -EAGAIN;

	if (judge(r, "read", rc, f, ok) && rc > 0)
		accept_read(r, "read", (size_t)rc);
}

/* The resumable helpers: exactly what moved is in done, even on failure. */
static void helper_write(struct run *r, size_t len)
{
	size_t done = 0;
	int f;

	pl_stream_fill(r->seed, r->wpos, r->buf, len);
	ssize_t rc = ARMED(&f, ipc_io_pipe_write_resume(r->ops, r->wr, r->buf, len, &done));
	judge(r, "write_resume", rc, f, rc == (ssize_t)len || (rc == -EAGAIN && queued(r) > 0));
	r->wpos += done;
}

static void helper_read(struct run *r)
{
	size_t len = (size_t)(queued(r) < 3000 ? queued(r) : 3000), done = 0;
	int f;

	if (len == 0)
		return;
	ssize_t rc = ARMED(&f, ipc_io_pipe_read_resume(r->ops, r->rd, r->buf, len, &done));
	judge(r, "read_resume", rc, f, rc == (ssize_t)len);
	accept_read(r, "read_resume", done);
}

static void poll_step(struct run *r)
{
	int f;

	if (!(r->s->caps & IPC_PIPE_CAP_POLL))
		return;
	int rc = ARMED(&f, r->ops->poll(r->rd, IPC_PIPE_IN, 0));
	judge(r, "poll", rc, f, rc >= 0 && !!(rc & IPC_PIPE_IN) == (queued(r) > 0));
}

static void dup_step(struct run *r)
{
	struct ipc_pipe *d = NULL;
	int f;

	if (!(r->s->caps & IPC_PIPE_CAP_DUP))
		return;
	int rc = ARMED(&f, r->ops->dup(r->wr, &d));
	if (!judge(r, "dup", rc, f, rc == 0))
		return;
	raw_write(r, d, 1 + fl_rng_below(&r->rng, 200));
	rc = ARMED(&f, r->ops->close(d));
	judge(r, "close of the dup", rc, f, rc == 0);
}

/* A timed wait on the empty pipe: nothing arrives, 0 after the timeout
 * (a spurious wake-up must not end it early). */
static void wait_step(struct run *r)
{
	const int64_t tmo = 1000000;
	int64_t t0 = fl_now_ns();
	int f;

	if (!(r->s->caps & IPC_PIPE_CAP_POLL) || queued(r))
		return;
	int rc = ARMED(&f, r->ops->poll(r->rd, IPC_PIPE_IN, tmo));
	if (judge(r, "timed poll on the empty pipe", rc, f, rc == 0) && fl_now_ns() - t0 < tmo)
		fl_violation("%s: timed poll returned 0 after %lld ns, before its %lld ns", r->what,
			     (long long)(fl_now_ns() - t0), (long long)tmo);
}

/* A resize: to cap, or refused with no change. The new capacity. */
static int resize_to(struct run *r, int from, int cap)
{
	int f, now;
	int rc = ARMED(&f, r->ops->set_capacity(r->wr, (size_t)cap));

	if (judge(r, "set_capacity", rc, f, rc == cap) && rc == cap)
		return cap;
	now = r->ops->get_capacity(r->wr);
	if (now != from)
		fl_violation("%s: a refused set_capacity(%d) left the capacity at %d, not %d",
			     r->what, cap, now, from);
	return now;
}

/* Grow (resize and relayout of the queued bytes), then shrink back. */
static void capacity_step(struct run *r)
{
	int cap, grown;

	if (!(r->s->caps & IPC_PIPE_CAP_CAPACITY))
		return;
	cap = r->ops->get_capacity(r->wr);
	grown = resize_to(r, cap, cap * 2);
	if (grown != cap && queued(r) <= (uint64_t)cap)
		resize_to(r, grown, cap);
}

/* A child inherits both ends and closes them: the counts must stay right
 * (EOF / EPIPE at the end of the run still come on time). */
static void fork_step(struct run *r)
{
	int f;
	pid_t pid;

	if (!(r->s->caps & IPC_PIPE_CAP_CROSS_PROCESS))
		return;
	fflush(NULL);
	pid = ARMED(&f, fork());
	if (pid == 0) {
		fl_nth_armed = 0;
		_exit(r->ops->close(r->rd) || r->ops->close(r->wr) ? 1 : 0);
	}
	if (pid < 0 || fl_reap(pid, fl_now_ns() + fl_scaled_ns(10000000000LL)) != 0)
		fl_violation("%s: the forked child that closes its inherited ends: %s", r->what,
			     pid < 0 ? "fork failed" : "did not exit 0");
}

static void validate_step(struct run *r, struct ipc_pipe *end)
{
	int f;

	if (!r->ops->validate)
		return;
	int rc = ARMED(&f, r->ops->validate(end));
	judge(r, "validate", rc, f, rc == 0);
}

static void rounds(struct run *r, unsigned n)
{
	wait_step(r);
	for (unsigned i = 0; i < n; i++) {
		if (i == n / 2) {
			fork_step(r);
			capacity_step(r);
		}
		raw_write(r, r->wr, 1 + fl_rng_below(&r->rng, 3000));
		helper_write(r, 1 + fl_rng_below(&r->rng, 2000));
		raw_read(r, 1 + fl_rng_below(&r->rng, 4000));
		helper_read(r);
		poll_step(r);
		if (i % 5 == 4)
			dup_step(r);
	}
	validate_step(r, r->rd);
}

/* ---- the end of a run --------------------------------------------------------------- */

static void close_end(struct run *r, struct ipc_pipe **end, const char *step)
{
	int f;
	int rc = ARMED(&f, r->ops->close(*end));

	/* A failed close still ends the handle (as close(2) does): never again. */
	judge(r, step, rc, f, rc == 0);
	*end = NULL;
}

/* Unarmed: every accepted byte, once, in order, then end of file. */
static void drain_checked(struct run *r)
{
	ssize_t rc;

	while ((rc = r->ops->read(r->rd, r->buf, sizeof(r->buf))) > 0)
		accept_read(r, "drain", (size_t)rc);
	if (rc != 0 || queued(r) != 0)
		fl_violation("%s: drain ended with %s and %llu byte(s) missing", r->what, pl_err(rc),
			     (unsigned long long)queued(r));
}

static void writer_leaves(struct run *r)
{
	int f;

	close_end(r, &r->wr, "close of the write end");
	while (queued(r)) { /* armed reads until a fault stops them */
		size_t before = r->rpos;
		raw_read(r, 1 + fl_rng_below(&r->rng, 4000));
		if (r->rpos == before)
			break;
	}
	/* The resumable form: on a non-blocking end it never waits, so a subject
	 * that fails to report end of file cannot hang the sweep. */
	size_t done = 0;
	ssize_t rc = ARMED(&f, ipc_io_pipe_read_resume(r->ops, r->rd, r->buf, 1, &done));
	judge(r, "read_resume at the end", rc, f, rc == (queued(r) ? 1 : IPC_EOD));
	accept_read(r, "read_resume", done);
	drain_checked(r);
	close_end(r, &r->rd, "close of the read end");
}

static void reader_leaves(struct run *r)
{
	int f;

	close_end(r, &r->rd, "close of the read end");
	pl_stream_fill(r->seed, r->wpos, r->buf, 100);
	ssize_t rc = ARMED(&f, r->ops->write(r->wr, r->buf, 100));
	judge(r, "write without a reader", rc, f, rc == -EPIPE);
	close_end(r, &r->wr, "close of the write end");
}

static void unlink_name(struct run *r)
{
	int f;

	if (!r->ops->unlink)
		return;
	int rc = ARMED(&f, r->ops->unlink(r->name));
	if (rc != 0 && f)
		rc = r->ops->unlink(r->name); /* the harness's clean-up must happen */
	judge(r, "unlink", rc, f, rc == 0);
}

static unsigned scale_rounds = 30;

static void workload(struct run *r)
{
	struct ipc_pipe_attr attr = {IPC_PIPE_NONBLOCK, r->capacity};
	int f;

	int rc = ARMED(&f, r->ops->create(r->name, &attr, &r->rd, &r->wr));
	if (!judge(r, "create", rc, f, rc == 0)) {
		unlink_name(r);
		return;
	}
	rounds(r, scale_rounds);
	if (r->reader_leaves_first)
		reader_leaves(r);
	else
		writer_leaves(r);
	unlink_name(r);
}

static int heap_checked;
static long total_runs, total_fired; /* for the summary */

/* One complete run with the point armed; the number of faults it fired.
 * Whatever the subject allocated inside its calls must be freed by the end;
 * descriptors, mappings of shared memory and /dev/shm names likewise. */
static long run_once(struct run *r)
{
	int fds = fl_count_fds(), maps = pl_count_shared_maps();
	size_t bytes;

	pl_alloc_forget();
	workload(r);
	if (heap_checked && pl_alloc_live(&bytes))
		fl_violation("%s: %zu heap block(s), %zu bytes, allocated by the subject not freed",
			     r->what, pl_alloc_live(NULL), bytes);
	if (fl_count_fds() != fds)
		fl_violation("%s: %d descriptor(s) leaked", r->what, fl_count_fds() - fds);
	if (pl_count_shared_maps() != maps)
		fl_violation("%s: %d shared mapping(s) leaked", r->what, pl_count_shared_maps() - maps);
	if (fl_shm_leftovers(getpid(), true))
		fl_violation("%s: a /dev/shm name was left behind", r->what);
	return fl_nth.fired;
}

/* ---- the sweep -------------------------------------------------------------------------- */

struct tally {
	long runs, fired, max_n, calls;
};

struct config {
	const char *label;
	size_t capacity;
	int reader_leaves_first;
};

static const struct config configs[] = {{"one-page/writer-leaves", 4096, 0},
					{"default/reader-leaves", 0, 1}};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

static void setup_run(struct run *r, const struct pl_subject *s, const struct point *pt,
		      const struct config *c, int persistent, long n)
{
	static char what[192];

	memset(r, 0, sizeof(*r));
	snprintf(what, sizeof(what), "%s %s %s %s N=%ld", s->name, pt->name,
		 persistent ? "persistent" : "one-shot", c->label, n);
	r->what = what, r->s = s, r->ops = s->ops;
	r->capacity = s->caps & IPC_PIPE_CAP_CAPACITY ? c->capacity : 0;
	r->reader_leaves_first = c->reader_leaves_first;
	r->seed = (uint64_t)n * 1000003u + (uint64_t)persistent;
	fl_rng_seed(&r->rng, r->seed);
	fl_name(r->name, sizeof(r->name), "pnth");
}

static long next_n(long n)
{
	return n < DENSE_N ? n + 1 : n + n / 2;
}

/* N = 1, 2, ... until a run fires nothing. */
static void sweep(const struct pl_subject *s, const struct point *pt, const struct config *c,
		  int persistent, struct tally *t)
{
	static struct run r;

	for (long n = 1;; n = next_n(n)) {
		fl_nth.n = n, fl_nth.persistent = persistent, fl_nth.calls = fl_nth.fired = 0;
		setup_run(&r, s, pt, c, persistent, n);
		long fired = run_once(&r);
		t->runs++;
		t->calls = fl_nth.calls > t->calls ? fl_nth.calls : t->calls;
		if (!fired)
			return;
		t->fired += fired;
		t->max_n = n > t->max_n ? n : t->max_n;
	}
}

/* The point stays enabled for its whole sweep. Heap blocks are only judged
 * after two runs that fail nothing: what the subject (and libc for it)
 * allocates once, on first use, and keeps, is not a leak of the first run. */
static void settle(const struct pl_subject *s, const struct point *pt)
{
	static struct run r;

	fl_nth.n = LONG_MAX, fl_nth.persistent = 0, fl_nth.count_only = 0, fl_nth.calls = fl_nth.fired = 0;
	for (size_t c = 0; c < NCONFIGS; c++) {
		setup_run(&r, s, pt, &configs[c], 0, 0);
		heap_checked = 0;
		run_once(&r);
	}
	heap_checked = 1;
}

/* A race point: one run per configuration, nothing fails, calls counted. */
static void count_only(const struct pl_subject *s, const struct point *pt, struct tally *t)
{
	static struct run r;

	for (size_t c = 0; c < NCONFIGS; c++) {
		fl_nth.n = 1, fl_nth.persistent = 0, fl_nth.count_only = 1, fl_nth.calls = fl_nth.fired = 0;
		setup_run(&r, s, pt, &configs[c], 0, 0);
		run_once(&r);
		t->runs++, t->calls += fl_nth.calls;
	}
	fl_nth.count_only = 0;
}

static void report(const struct pl_subject *s, const struct point *pt, struct tally t[2], int own)
{
	long fired = t[0].fired + t[1].fired;

	if (pt->kind == PT_RACE && t[0].calls)
		fl_info("%-12s %-30s reached %ld times in %ld runs", s->name, pt->name, t[0].calls,
			t[0].runs);
	else if (pt->kind != PT_RACE && (fired || own))
		fl_info("%-12s %-30s runs %4ld  fired %6ld  N reached one-shot/persistent %ld/%ld  "
			"(most calls in a run %ld)", s->name, pt->name, t[0].runs + t[1].runs, fired,
			t[0].max_n, t[1].max_n, t[0].calls > t[1].calls ? t[0].calls : t[1].calls);
}

/* A subject's own point (or race point) that never fired means a stub
 * build or a lost point. */
static void sweep_point(const struct pl_subject *s, const struct point *pt, int *libc_fired)
{
	struct tally t[2] = {{0, 0, 0, 0}, {0, 0, 0, 0}};
	int own = !strncmp(s->name, "ref-", 4) && strstr(pt->name, "/pipe/");

	fiu_enable_external(pt->name, 1, (void *)pt->failinfo, 0, fl_nth_cb);
	settle(s, pt);
	if (pt->kind == PT_RACE)
		count_only(s, pt, &t[0]);
	for (size_t c = 0; c < NCONFIGS && pt->kind != PT_RACE; c++)
		for (int m = 0; m < 2; m++)
			sweep(s, pt, &configs[c], m, &t[m]);
	fiu_disable(pt->name);
	report(s, pt, t, own);
	total_runs += t[0].runs + t[1].runs;
	total_fired += pt->kind == PT_RACE ? 0 : t[0].fired + t[1].fired;
	if (pt->kind == PT_LIBC)
		*libc_fired += t[0].fired + t[1].fired > 0;
	if (own && t[0].fired + t[1].fired + (pt->kind == PT_RACE ? t[0].calls : 0) == 0)
		fl_violation("%s: point %s never %s: stub build (no -DFIU_ENABLE=1) or point "
			     "removed", s->name, pt->name, pt->kind == PT_RACE ? "reached" : "fired");
}

static void list_points(void)
{
	for (size_t i = 0; i < NPOINTS; i++)
		printf("%s\n", points[i].name);
	exit(0);
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct pl_subject subj[PL_MAX_SUBJECTS];
	int64_t t0 = fl_now_ns();

	if (argc == 2 && !strcmp(argv[1], "--list-points"))
		list_points();
	pl_is_pipe_query(argc, argv);
	pl_ensure_preload(argv);
	fl_init(argc, argv, &o);
	fl_info("libfiu preload %s", pl_preloaded() ? "on" : "OFF");
	int ns = pl_subjects(argc, argv, subj);
	if (o.short_run)
		scale_rounds = 10;
	fiu_init(0);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < ns; i++) {
		int libc_fired = 0;

		if (!subj[i].ops) {
			fl_info("skip %s: no operations table to sweep (pipe_io covers it)", subj[i].name);
			continue;
		}

		for (size_t p = 0; p < NPOINTS; p++)
			sweep_point(&subj[i], &points[p], &libc_fired);
		if (pl_preloaded() && libc_fired == 0)
			fl_violation("%s: no libc point fired although the preload is on", subj[i].name);
		fl_info("%-12s %d libc point(s) fired through the preload", subj[i].name, libc_fired);
	}
	fl_info("%ld runs, %ld faults fired, %.1f s; %s: %u violation(s)", total_runs, total_fired,
		(double)(fl_now_ns() - t0) / 1e9, fl_violations() ? "FAIL" : "PASS", fl_violations());
	return fl_violations() ? 1 : 0;
}
