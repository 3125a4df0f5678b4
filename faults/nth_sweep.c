/* SPDX-License-Identifier: MIT */
/*
 * nth_sweep: fail the Nth call of every failure point, for N = 1, 2, ...
 * until a run completes with no fault fired, in one-shot mode (only call N
 * fails) and persistent mode (every call from N on fails), on a bounded and
 * an unbounded buffer.
 *
 * The workload (one process, both roles): create, attach a consumer and a
 * producer, timed waits on the empty and the full buffer, put/get rounds of
 * items of varied sizes, validate, detach the producer, drain to IPC_EOD,
 * detach the consumer, unlink. Each run must end in success or a documented
 * negative errno at a step where one is allowed, every item whose put
 * returned 0 must come out once, in order and intact, validate() must say 0,
 * and neither a descriptor nor a /dev/shm name may be left behind.
 *
 * Points are armed only inside calls to the subject (a thread-local flag
 * read by the counting callback), so libc points (malloc, mmap, open...)
 * count and fail the subject's own calls, never the harness's printf.
 * The libc points need libfiu's POSIX preload: the program re-executes
 * itself under it unless FL_NO_PRELOAD=1.
 */
#include <errno.h>
#include <fiu-control.h>
#include <fiu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_common.h"
#include "fl_item.h"

#define PRELOAD_SO "/usr/lib/fiu/fiu_posix_preload.so"
#define DENSE_N 128 /* N = 1..DENSE_N one by one, then x1.5 steps */
#define MAX_Q 512

enum pt_kind { PT_FAIL, PT_LIBC, PT_RACE };

struct point {
	const char *name;
	long failinfo; /* errno for open/libc points, action for race points */
	enum pt_kind kind;
	int read_fault; /* a failed read of the segment: attach may say -EUCLEAN */
};

/* The in-code points of impl/ (mk/faults.mk checks this list against a grep
 * of impl/ so a new point cannot go unswept), then the libc points the
 * subject's calls reach through the preload, then the race points, which
 * are only counted here (they change timing, not results, in one thread). */
static const struct point points[] = {
	{"ipc/shm/open", EMFILE, PT_FAIL, 0},
	{"ipc/shm/truncate", 0, PT_FAIL, 0},
	{"ipc/shm/map", 0, PT_FAIL, 0},
	{"ipc/shm/grow", 0, PT_FAIL, 0},
	{"ipc/shm/reclaim", 0, PT_FAIL, 0},
	{"ipc/futex/wait", 0, PT_FAIL, 0},
	{"ipc/proc/stat", 0, PT_FAIL, 0},
	{"libc/mm/malloc", ENOMEM, PT_LIBC, 0},
	{"libc/mm/calloc", ENOMEM, PT_LIBC, 0},
	{"libc/mm/realloc", ENOMEM, PT_LIBC, 0},
	{"posix/mm/mmap", ENOMEM, PT_LIBC, 0},
	{"posix/io/rw/ftruncate", EFBIG, PT_LIBC, 0},
	{"posix/io/oc/open", EMFILE, PT_LIBC, 0},
	{"posix/io/rw/read", EIO, PT_LIBC, 0},
	{"posix/io/rw/pread", EIO, PT_LIBC, 1},
	{"ipc/race/put/claimed", 1, PT_RACE, 0},
	{"ipc/race/put/copied", 1, PT_RACE, 0},
	{"ipc/race/put/published", 1, PT_RACE, 0},
	{"ipc/race/get/claimed", 1, PT_RACE, 0},
	{"ipc/race/get/copied", 1, PT_RACE, 0},
	{"ipc/race/get/released", 1, PT_RACE, 0},
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

/* ---- the subject, armed ----------------------------------------------------- */

static const struct ipc_shmbuf_ops *ops;
static int verbose;
static uint64_t caps_;
static int own_points; /* the subject is built on impl/core, which has the points */
static unsigned scale_rounds = 40, scale_burst = 300; /* --short: 12, 96 */

static int s_create(const char *n, const struct ipc_shmbuf_attr *a)
{
	fl_nth_armed = 1;
	int rc = ops->create(n, a);
	fl_nth_armed = 0;
	return rc;
}

static int s_attach(const char *n, int role, struct ipc_shmbuf **h)
{
	fl_nth_armed = 1;
	int rc = ops->attach(n, role, h);
	fl_nth_armed = 0;
	return rc;
}

static int s_detach(struct ipc_shmbuf *h)
{
	fl_nth_armed = 1;
	int rc = ops->detach(h);
	fl_nth_armed = 0;
	return rc;
}

static int s_unlink(const char *n)
{
	fl_nth_armed = 1;
	int rc = ops->unlink(n);
	fl_nth_armed = 0;
	return rc;
}

static int s_put(struct ipc_shmbuf *h, const void *p, size_t len, int64_t t)
{
	fl_nth_armed = 1;
	int rc = ops->put(h, p, len, t);
	fl_nth_armed = 0;
	return rc;
}

static ssize_t s_get(struct ipc_shmbuf *h, void *p, size_t cap, int64_t t)
{
	fl_nth_armed = 1;
	ssize_t rc = ops->get(h, p, cap, t);
	fl_nth_armed = 0;
	return rc;
}

static int s_validate(struct ipc_shmbuf *h)
{
	if (!ops->validate)
		return 0;
	fl_nth_armed = 1;
	int rc = ops->validate(h);
	fl_nth_armed = 0;
	return rc;
}

/* ---- one run: the model of the queue and the workload ------------------------ */

struct run {
	const char *what; /* "point/mode/config/N" for messages */
	const struct point *pt;
	pid_t helper;     /* a consumer in another process (liveness checks) */
	int to_helper;    /* closing it tells the helper to detach */
	struct ipc_shmbuf_attr attr;
	char name[128];
	struct ipc_shmbuf *p, *c;
	uint32_t q[MAX_Q]; /* seqs whose put returned 0, not yet got */
	unsigned qh, qt;   /* head, tail (qt - qh queued) */
	uint32_t next_seq;
	int p_detached;
	unsigned char buf[8192];
};

static unsigned queued(const struct run *r) { return r->qt - r->qh; }

static int full(const struct run *r)
{
	return r->attr.capacity && queued(r) >= r->attr.capacity;
}

/* Put the next item; the result must match the model. */
static void do_put(struct run *r, int64_t timeout)
{
	size_t len = fl_item_make(r->buf, 0, r->next_seq, r->attr.max_item);
	int rc = s_put(r->p, r->buf, len, timeout);

	if (rc == 0 && !full(r)) {
		r->q[r->qt++ % MAX_Q] = r->next_seq++;
		return;
	}
	if (full(r) && rc == (timeout ? IPC_ETIMEDOUT : IPC_EAGAIN))
		return;
	if (rc == IPC_ENOMEM && r->attr.capacity == 0)
		return; /* memory refused: documented, nothing queued */
	fl_violation("%s: put #%u (%zu bytes, timeout %lld, %u queued) -> %s", r->what,
		     r->next_seq, len, (long long)timeout, queued(r), fl_err(rc));
	if (rc == 0) /* a put past capacity still queued an item */
		r->q[r->qt++ % MAX_Q] = r->next_seq++;
}

static void expect_item(struct run *r, ssize_t rc)
{
	uint32_t want = r->q[r->qh++ % MAX_Q];
	struct fl_item_hdr h = {0};
	int bad;

	if (rc < 0) {
		fl_violation("%s: get of item #%u -> %s", r->what, want, fl_err(rc));
		return;
	}
	bad = fl_item_check(r->buf, (size_t)rc, r->attr.max_item, &h);
	if (bad || h.seq != want)
		fl_violation("%s: got item #%u (%s, %zd bytes), expected #%u", r->what, h.seq,
			     fl_item_why(bad), rc, want);
}

/* Get one item, or the right code for an empty buffer. */
static void do_get(struct run *r, int64_t timeout)
{
	ssize_t rc = s_get(r->c, r->buf, sizeof(r->buf), timeout);
	ssize_t empty = r->p_detached ? IPC_EOD : timeout ? IPC_ETIMEDOUT : IPC_EAGAIN;

	if (queued(r)) {
		expect_item(r, rc);
		return;
	}
	if (rc != empty)
		fl_violation("%s: get on the empty buffer (timeout %lld) -> %s, expected %s", r->what,
			     (long long)timeout, fl_err(rc), fl_err(empty));
}

/* Rounds of 3 puts and 2 gets: the bounded buffer fills and meets -EAGAIN
 * and a timed-out put; every 4th put is timed (it may wait). */
static void rounds(struct run *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		for (int k = 0; k < 3; k++)
			do_put(r, (i + k) % 4 == 3 ? 1000000 : 0);
		do_get(r, 0);
		do_get(r, i % 5 == 4 ? 1000000 : 0);
	}
}

/* The unbounded buffer grows over a burst and shrinks as it drains. */
static void burst(struct run *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		do_put(r, 0);
	while (queued(r))
		do_get(r, 0);
}

static void workload(struct run *r)
{
	do_get(r, 1000000); /* a timed wait on the empty buffer: futex point */
	do_get(r, 0);
	rounds(r, scale_rounds);
	if (r->attr.capacity == 0)
		burst(r, scale_burst);
	else
		do_put(r, 1000000); /* possibly a timed wait on the full buffer */
	if (s_validate(r->c) != 0)
		fl_violation("%s: validate() != 0 on a buffer in use", r->what);
}

/* After the producer leaves: everything queued, then IPC_EOD. */
static void finish(struct run *r)
{
	int rc = s_detach(r->p);

	if (rc != 0)
		fl_violation("%s: producer detach -> %s", r->what, fl_err(rc));
	/* Without end-of-stream support the empty buffer stays "empty". */
	r->p_detached = (caps_ & IPC_SHMBUF_CAP_END_OF_STREAM) != 0;
	while (queued(r))
		do_get(r, 0);
	do_get(r, 0);
	if (s_validate(r->c) != 0)
		fl_violation("%s: validate() != 0 after the drain", r->what);
	rc = s_detach(r->c);
	if (rc != 0)
		fl_violation("%s: consumer detach -> %s", r->what, fl_err(rc));
}

static long tolerated; /* -EUCLEAN for a failed read of the segment */

/* A refused step: only -ENOMEM is a documented answer to refused resources.
 * An attach whose read of the header failed cannot tell it from a short
 * (corrupt) segment: -EUCLEAN is tolerated there, and counted. */
static int refused(struct run *r, const char *step, int rc)
{
	if (rc == 0)
		return 0;
	if (rc == IPC_EUCLEAN && r->pt->read_fault && strstr(step, "attach")) {
		tolerated++;
		return 1;
	}
	if (rc != IPC_ENOMEM)
		fl_violation("%s: %s -> %s (only IPC_ENOMEM is documented)", r->what, step,
			     fl_err(rc));
	return 1;
}

static void unlink_checked(struct run *r)
{
	int rc = s_unlink(r->name);

	if (rc != 0)
		fl_violation("%s: unlink -> %s", r->what, fl_err(rc));
}

/* The helper: attach as a second consumer, wait for the word, detach. It
 * never runs armed, so no fault reaches it. */
static void helper_body(const char *name, int down, int up)
{
	struct ipc_shmbuf *h;
	int rc = ops->attach(name, IPC_SHMBUF_CONSUMER, &h);
	char c = rc == 0;

	if (write(up, &c, 1) != 1 || read(down, &c, 1) < 0)
		_exit(1);
	_exit(rc == 0 && ops->detach(h) == 0 ? 0 : 1);
}

/* Give the subject a live participant in another process, so liveness
 * checks (and the ipc/proc/stat point) have a foreign pid to examine. */
static void helper_start(struct run *r)
{
	int down[2], up[2];
	char c = 0;

	r->helper = -1;
	if (!(caps_ & IPC_SHMBUF_CAP_CROSS_PROCESS) || pipe(down) || pipe(up))
		return;
	r->helper = fork();
	if (r->helper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(down[1]), close(up[0]);
		helper_body(r->name, down[0], up[1]);
	}
	close(down[0]), close(up[1]);
	if (r->helper < 0 || read(up[0], &c, 1) != 1 || c != 1)
		fl_violation("%s: the helper consumer could not attach", r->what);
	close(up[0]);
	r->to_helper = down[1];
}

static void helper_stop(struct run *r)
{
	int st;

	if (r->helper <= 0)
		return;
	close(r->to_helper);
	st = fl_reap(r->helper, fl_now_ns() + 5000000000LL);
	if (st != 0)
		fl_violation("%s: helper consumer: %s", r->what, fl_status(st));
}

static void workload_or_refusal(struct run *r)
{
	if (refused(r, "create", s_create(r->name, &r->attr)))
		return;
	if (refused(r, "consumer attach", s_attach(r->name, IPC_SHMBUF_CONSUMER, &r->c))) {
		unlink_checked(r);
		return;
	}
	if (refused(r, "producer attach", s_attach(r->name, IPC_SHMBUF_PRODUCER, &r->p))) {
		if (s_detach(r->c) != 0)
			fl_violation("%s: consumer detach after a refused attach", r->what);
		unlink_checked(r);
		return;
	}
	helper_start(r);
	workload(r);
	finish(r);
	helper_stop(r);
	unlink_checked(r);
}

/* One complete run with the point armed; the number of faults it fired. */
static long run_once(const struct point *pt, struct run *r)
{
	int fds = fl_count_fds();
	long fired;

	fiu_enable_external(pt->name, 1, (void *)pt->failinfo, 0, fl_nth_cb);
	workload_or_refusal(r);
	fiu_disable(pt->name);
	fired = fl_nth.fired;
	if (fl_count_fds() != fds)
		fl_violation("%s: %d descriptor(s) leaked", r->what, fl_count_fds() - fds);
	if (fl_shm_leftovers(getpid(), true))
		fl_violation("%s: a /dev/shm name was left behind", r->what);
	return fired;
}

/* ---- the sweep ---------------------------------------------------------------- */

/* Per point: [bounded][persistent]. */
struct tally {
	long runs, fired, max_n, calls;
};

static void setup_run(struct run *r, const struct point *pt, int bounded, const char *mode, long n)
{
	static char what[160];

	memset(r, 0, sizeof(*r));
	snprintf(what, sizeof(what), "%s %s %s N=%ld", pt->name, mode,
		 bounded ? "bounded" : "unbounded", n);
	r->what = what;
	r->pt = pt;
	r->attr.capacity = bounded ? 4 : 0;
	r->attr.max_item = bounded ? 512 : 4096;
	fl_name(r->name, sizeof(r->name), "nth");
}

static long next_n(long n)
{
	return n < DENSE_N ? n + 1 : n + n / 2;
}

/* N = 1, 2, ... until a run fires nothing. */
static void sweep(const struct point *pt, int bounded, int persistent, struct tally *t)
{
	static struct run r;

	for (long n = 1;; n = next_n(n)) {
		fl_nth.n = n, fl_nth.persistent = persistent, fl_nth.count_only = 0;
		fl_nth.calls = fl_nth.fired = 0;
		setup_run(&r, pt, bounded, persistent ? "persistent" : "one-shot", n);
		long fired = run_once(pt, &r);
		if (verbose)
			fl_info("%s: %ld call(s), %ld fault(s)", r.what, fl_nth.calls, fired);
		t->runs++;
		t->calls = fl_nth.calls > t->calls ? fl_nth.calls : t->calls;
		if (!fired)
			return;
		t->fired += fired;
		t->max_n = n;
	}
}

/* A race point is only counted: one run, nothing fails. */
static void count_only(const struct point *pt, int bounded, struct tally *t)
{
	static struct run r;

	fl_nth.count_only = 1, fl_nth.calls = fl_nth.fired = 0;
	setup_run(&r, pt, bounded, "count", 0);
	run_once(pt, &r);
	t->runs++;
	t->calls = fl_nth.calls;
	t->fired = fl_nth.calls; /* "reached", for the summary */
}

static void sweep_point(const struct point *pt, uint64_t caps, struct tally t[2][2])
{
	for (int bounded = 1; bounded >= 0; bounded--) {
		uint64_t need = bounded ? IPC_SHMBUF_CAP_BOUNDED : IPC_SHMBUF_CAP_UNBOUNDED;

		if (!(caps & need))
			continue;
		if (pt->kind == PT_RACE) {
			count_only(pt, bounded, &t[bounded][0]);
			continue;
		}
		sweep(pt, bounded, 0, &t[bounded][0]);
		sweep(pt, bounded, 1, &t[bounded][1]);
	}
}

/* ---- main --------------------------------------------------------------------- */

static int preloaded(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "fiu_posix_preload");
}

/* Re-execute under the POSIX preload so the libc points exist. */
static void ensure_preload(char **argv)
{
	const char *no = getenv("FL_NO_PRELOAD");

	if (preloaded() || (no && *no == '1') || access(PRELOAD_SO, R_OK) != 0)
		return;
	setenv("LD_PRELOAD", PRELOAD_SO, 1);
	execv("/proc/self/exe", argv);
	perror("re-exec under the libfiu preload");
}

static void list_points(void)
{
	for (size_t i = 0; i < NPOINTS; i++)
		printf("%s\n", points[i].name);
	exit(0);
}

/* A required point that never fired means a stub build or a lost point. */
static void judge(const struct point *pt, struct tally t[2][2], int *libc_fired)
{
	const char *kind = pt->kind == PT_RACE ? "reached" : "fired";
	long runs = 0, fired = 0, calls = 0;

	for (int b = 0; b < 2; b++)
		for (int m = 0; m < 2; m++) {
			runs += t[b][m].runs, fired += t[b][m].fired;
			calls = t[b][m].calls > calls ? t[b][m].calls : calls;
		}
	if (pt->kind == PT_RACE)
		fl_info("%-24s %s %ld times in one bounded and one unbounded run", pt->name, kind,
			fired);
	else
		fl_info("%-24s runs %4ld  %s %6ld  N reached one-shot/persistent: bounded %ld/%ld, "
			"unbounded %ld/%ld  (most calls in a run %ld)", pt->name, runs, kind, fired,
			t[1][0].max_n, t[1][1].max_n, t[0][0].max_n, t[0][1].max_n, calls);
	if (pt->kind == PT_LIBC) {
		*libc_fired += fired > 0;
		return;
	}
	if (fired == 0 && own_points)
		fl_violation("point %s never %s: stub build (no -DFIU_ENABLE=1) or point removed",
			     pt->name, kind);
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	uint64_t caps;
	int libc_fired = 0;
	int64_t t0 = fl_now_ns();

	if (argc == 2 && !strcmp(argv[1], "--list-points"))
		list_points();
	ensure_preload(argv);
	fl_init(argc, argv, &o);
	verbose = o.verbose;
	if (o.short_run)
		scale_rounds = 12, scale_burst = 96;
	ops = fl_subject(o.subject, &caps);
	caps_ = caps;
	own_points = !strncmp(o.subject, "ref-", 4);
	fiu_init(0);
	fl_info("subject %s, libfiu preload %s", o.subject, preloaded() ? "on" : "OFF");
	for (size_t i = 0; i < NPOINTS; i++) {
		struct tally t[2][2] = {{{0}}};

		sweep_point(&points[i], caps, t);
		judge(&points[i], t, &libc_fired);
	}
	if (preloaded() && libc_fired == 0)
		fl_violation("no libc point fired although the preload is on");
	if (tolerated)
		fl_info("note: %ld attach(es) answered -EUCLEAN to a failed read of the header "
			"(tolerated: indistinguishable from a short segment)", tolerated);
	fl_info("%d libc point(s) reached through the preload; %.1f s", libc_fired,
		(double)(fl_now_ns() - t0) / 1e9);
	fl_info("%s: %u violation(s)", fl_violations() ? "FAIL" : "PASS", fl_violations());
	return fl_violations() ? 1 : 0;
}
