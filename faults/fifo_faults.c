/* SPDX-License-Identifier: MIT */
/*
 * fifo_faults: signals and SIGKILL against the opening of named pipes, on
 * native-fifo and ref-fifo (or the FIFO subject named by --subject).
 *
 * 1. eintr: a blocking RDONLY open (then a WRONLY one) with no partner, in a
 *    child under a SIGALRM timer every TICK_US whose handler has no
 *    SA_RESTART, repeated OPENS times: each must return -EINTR (success
 *    without a partner, another code, or a hang past the deadline is a
 *    violation). Then no phantom opener is left: a non-blocking WRONLY
 *    open must still say -ENXIO.
 * 2. restart: the same wait with SA_RESTART: the open must still be waiting
 *    after RESTART_TICKS signals (counted by the handler: the timer is the
 *    only clock), then the parent opens the other side (non-blocking) and the
 *    child's open must return 0 and a byte must cross.
 * 3. kill: a child holding the FIFO open (writer, reader, both with bytes
 *    queued) or blocked in its open is SIGKILLed. The survivor must get end
 *    of file (read 0) or -EPIPE (SIGPIPE ignored) within DEADLINE_NS; a
 *    blocked open of the dead one's partner kind must still wait (-EINTR
 *    under the storm: no phantom opener); a fresh pair of blocking opens on
 *    the same path must meet and carry exactly a fresh message (no stale
 *    byte survives the last close).
 * 4. sweep: ref-fifo's failure points (ipc/fifo/create, ipc/fifo/map), the
 *    Nth call failed, one-shot and persistent, under mkfifo + non-blocking
 *    opens: a faulted step fails cleanly and leaves no name, handle,
 *    descriptor, phantom opener or stale byte. --list-points feeds run.sh.
 * Every wait is a reap with a deadline; nothing sleeps to synchronise.
 */
#include <errno.h>
#include <fiu-control.h>
#include <fiu.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fifo.h"
#include "fl_common.h"
#include "pipe_common.h"

#define TICK_US 300
#define RESTART_TICKS 20
#define DEADLINE_NS 2000000000LL

struct fsubj {
	const char *name;
	const struct ipc_fifo_ops *ops;
};

struct board {
	_Atomic uint64_t ticks, eintr, other, success;
	_Atomic int stage;  /* child progress flags */
	_Atomic long rc;    /* a child's result */
	_Atomic long got;   /* bytes a child read */
	char buf[256];
};

static struct board *b;
static const struct fsubj *cur;
static char path[4096];
static unsigned long n_eintr, n_restart, n_kills;
static int64_t worst_ns;
static bool verbose;
static unsigned n_held;

static void on_tick(int sig)
{
	(void)sig;
	atomic_fetch_add(&b->ticks, 1);
}

static int storm(int restart)
{
	struct sigaction sa;
	struct sigevent ev;
	struct itimerspec its = {{0, TICK_US * 1000}, {0, TICK_US * 1000}};
	timer_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0 || timer_settime(t, 0, &its, NULL) != 0) {
		perror("timer");
		return -1;
	}
	return 0;
}

/* Reap with the deadline; a hang is a violation and the child is killed. */
static int reap(pid_t pid, int64_t deadline, const char *what)
{
	int st = fl_reap(pid, deadline);

	if (st == -1) {
		fl_violation("%s on %s: hang past the deadline", what, cur->name);
		kill(pid, SIGKILL);
		fl_reap(pid, fl_now_ns() + 5000000000LL);
	}
	return st;
}

static void fresh_path(const char *tag)
{
	char name[128];
	const char *dir = getenv("TMPDIR");

	fl_name(name, sizeof(name), tag);
	snprintf(path, sizeof(path), "%s%s", dir && *dir ? dir : "/tmp", name);
	int rc = cur->ops->mkfifo(path, 0600);
	if (rc != 0)
		fl_violation("mkfifo %s on %s -> %s", path, cur->name, pl_err(rc));
}

/* ---- 1. blocking opens under a storm without SA_RESTART ------------------------------- */

static uint32_t eintr_mode;
static unsigned long eintr_opens;

static int eintr_child(void *arg)
{
	(void)arg;
	if (storm(0) != 0)
		return 2;
	for (unsigned long i = 0; i < eintr_opens; i++) {
		struct ipc_pipe *h = NULL;
		int rc = cur->ops->open(path, eintr_mode, &h);

		if (rc == -EINTR)
			atomic_fetch_add(&b->eintr, 1);
		else if (rc == 0) {
			atomic_fetch_add(&b->success, 1);
			cur->ops->pipe->close(h);
		} else {
			atomic_fetch_add(&b->other, 1);
			atomic_store(&b->rc, rc);
		}
	}
	return 0;
}

/* n blocking opens of mode, each must end -EINTR. 0 if all did. */
static int eintr_round(uint32_t mode, unsigned long n, const char *what)
{
	memset(b, 0, sizeof(*b));
	eintr_mode = mode, eintr_opens = n;
	pid_t pid = fl_spawn(eintr_child, NULL);
	int st = reap(pid, fl_now_ns() + fl_scaled_ns(DEADLINE_NS + (int64_t)n * 5000000), what);
	if (st == -1)
		return 1;
	if (st != 0 || b->eintr != n)
		fl_violation("%s on %s: %llu of %lu opens -EINTR, %llu succeeded with no partner, "
			     "%llu other (last %s), child %s", what, cur->name,
			     (unsigned long long)b->eintr, n, (unsigned long long)b->success,
			     (unsigned long long)b->other, pl_err(b->rc), fl_status(st));
	n_eintr += b->eintr;
	return st != 0 || b->eintr != n;
}

/* No reader counted: a non-blocking writer open must say -ENXIO. */
static void no_phantom_reader(const char *what)
{
	struct ipc_pipe *h = NULL;
	int rc = cur->ops->open(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK, &h);

	if (rc != -ENXIO)
		fl_violation("%s on %s: non-blocking writer open with no reader -> %s, expected "
			     "-ENXIO (a phantom reader)", what, cur->name, pl_err(rc));
	if (rc == 0)
		cur->ops->pipe->close(h);
}

/* ---- 2. the same wait with SA_RESTART ---------------------------------------------------- */

static int restart_child(void *arg)
{
	uint32_t mode = *(uint32_t *)arg;
	struct ipc_pipe *h = NULL;
	char c = 0;

	if (storm(1) != 0)
		return 2;
	atomic_store(&b->stage, 1);
	long rc = cur->ops->open(path, mode, &h);
	atomic_store(&b->stage, 2);
	atomic_store(&b->rc, rc);
	if (rc != 0)
		return 1;
	if (mode == IPC_FIFO_RDONLY) {
		ssize_t n;
		do
			n = cur->ops->pipe->read(h, &c, 1);
		while (n == -EINTR);
		atomic_store(&b->got, n == 1 && c == 'r' ? 1 : -1);
	} else {
		ssize_t n;
		do
			n = cur->ops->pipe->write(h, "r", 1);
		while (n == -EINTR);
		atomic_store(&b->got, n == 1 ? 1 : -1);
	}
	cur->ops->pipe->close(h);
	return 0;
}

static void restart_round(uint32_t mode, const char *what)
{
	struct ipc_pipe *h = NULL;
	int64_t deadline = fl_now_ns() + fl_scaled_ns(DEADLINE_NS);

	memset(b, 0, sizeof(*b));
	pid_t pid = fl_spawn(restart_child, &mode);
	/* The timer is the clock: RESTART_TICKS signals after the child said it opens. */
	while (atomic_load(&b->stage) != 2 && b->ticks < RESTART_TICKS && fl_now_ns() < deadline)
		sched_yield();
	while (atomic_load(&b->stage) == 0 && fl_now_ns() < deadline)
		sched_yield();
	if (atomic_load(&b->stage) != 1)
		fl_violation("%s on %s: the open ended (%s) after %llu SA_RESTART signals with no "
			     "partner", what, cur->name, pl_err(b->rc), (unsigned long long)b->ticks);
	uint32_t other = (mode == IPC_FIFO_RDONLY ? IPC_FIFO_WRONLY : IPC_FIFO_RDONLY) |
			 IPC_FIFO_NONBLOCK;
	/* Each restart leaves the open for the handler: the waiting reader is
	 * not counted for that moment, so a non-blocking writer may meet -ENXIO. */
	int rc;
	int64_t give_up = fl_now_ns() + fl_scaled_ns(DEADLINE_NS);
	while ((rc = cur->ops->open(path, other, &h)) == -ENXIO && fl_now_ns() < give_up)
		sched_yield();
	if (rc != 0)
		fl_violation("%s on %s: partner open -> %s", what, cur->name, pl_err(rc));
	if (rc == 0 && mode == IPC_FIFO_RDONLY && cur->ops->pipe->write(h, "r", 1) != 1)
		fl_violation("%s on %s: partner write failed", what, cur->name);
	int st = reap(pid, fl_now_ns() + fl_scaled_ns(DEADLINE_NS), what);
	if (st != -1 && (st != 0 || b->rc != 0 || b->got != 1))
		fl_violation("%s on %s: child %s, open -> %s, byte %s", what, cur->name,
			     fl_status(st), pl_err(b->rc), b->got == 1 ? "ok" : "lost");
	if (rc == 0 && mode == IPC_FIFO_WRONLY) {
		char c = 0;
		ssize_t n = cur->ops->pipe->read(h, &c, 1);
		if (n != 1 || c != 'r')
			fl_violation("%s on %s: the partner's byte did not arrive (%s)", what,
				     cur->name, pl_err(n));
	}
	if (rc == 0)
		cur->ops->pipe->close(h);
	n_restart += atomic_load(&b->ticks);
	n_held += atomic_load(&b->stage) == 2 && b->rc == 0;
}

/* ---- 3. kills ---------------------------------------------------------------------- */

enum victim { V_WRITER, V_READER, V_BOTH, V_OPEN_RD, V_OPEN_WR, NVICTIMS };
static const char *const vname[] = {"writer holding", "reader holding", "both, bytes queued",
				    "reader in open", "writer in open"};

/* Holders: open blocking, say so (stage 1), then write / read / wait. */
static int holder(void *arg)
{
	int role = *(int *)arg; /* 0 writer, 1 reader; +2: stay idle after open */
	struct ipc_pipe *h = NULL;
	char buf[4096];

	signal(SIGPIPE, SIG_IGN);
	long rc = cur->ops->open(path, role & 1 ? IPC_FIFO_RDONLY : IPC_FIFO_WRONLY, &h);
	if (rc != 0) {
		atomic_store(&b->rc, rc);
		return 1;
	}
	if (!(role & 1)) /* a writer queues something before it says it is open */
		rc = cur->ops->pipe->write(h, "stale", 5);
	atomic_fetch_add(&b->stage, 1);
	if (role & 2)
		for (;;)
			pause();
	memset(buf, 's', sizeof(buf));
	for (;;) { /* the survivor: until end of file / -EPIPE */
		rc = role & 1 ? cur->ops->pipe->read(h, buf, sizeof(buf))
			      : cur->ops->pipe->write(h, buf, sizeof(buf));
		if (rc > 0)
			atomic_fetch_add(&b->got, rc);
		else if (rc != -EINTR)
			break;
	}
	atomic_store(&b->rc, rc);
	cur->ops->pipe->close(h);
	return 0;
}

/* A fresh pair of blocking opens must meet and carry exactly "fresh". */
static int pair_side(void *arg)
{
	int rd = *(int *)arg;
	struct ipc_pipe *h = NULL;
	char buf[64];
	long n, got = 0;

	long rc = cur->ops->open(path, rd ? IPC_FIFO_RDONLY : IPC_FIFO_WRONLY, &h);
	if (rc != 0)
		return 10;
	if (!rd) {
		n = cur->ops->pipe->write(h, "fresh", 5);
		cur->ops->pipe->close(h);
		return n == 5 ? 0 : 11;
	}
	while ((n = cur->ops->pipe->read(h, buf + got, sizeof(buf) - (size_t)got)) > 0)
		got += n;
	cur->ops->pipe->close(h);
	if (n != 0 || got != 5 || memcmp(buf, "fresh", 5) != 0) {
		memcpy(b->buf, buf, (size_t)(got > 0 ? got : 0));
		b->buf[got > 0 ? got : 0] = 0;
		atomic_store(&b->got, got);
		return 12;
	}
	return 0;
}

static void fresh_pair(const char *what)
{
	static int rd = 1, wr = 0;
	pid_t p[2];
	int64_t deadline = fl_now_ns() + fl_scaled_ns(DEADLINE_NS);

	atomic_store(&b->got, 0);
	p[0] = fl_spawn(pair_side, &rd);
	p[1] = fl_spawn(pair_side, &wr);
	for (int k = 0; k < 2; k++) {
		int st = reap(p[k], deadline, what);
		if (st != -1 && st != 0)
			fl_violation("%s on %s: later pair's %s %s (read %ld bytes \"%s\", expected "
				     "\"fresh\")", what, cur->name, k ? "writer" : "reader",
				     fl_status(st), (long)b->got, b->buf);
	}
}

static void one_kill(enum victim v, struct fl_rng *r)
{
	static int roles[2];
	char what[96];
	pid_t pid[2] = {-1, -1};
	int64_t deadline = fl_now_ns() + fl_scaled_ns(DEADLINE_NS);

	snprintf(what, sizeof(what), "kill %s", vname[v]);
	fresh_path("fifo");
	memset(b, 0, sizeof(*b));
	if (v >= V_OPEN_RD) { /* alone in its open */
		roles[0] = v == V_OPEN_RD ? 1 | 2 : 0 | 2;
		pid[0] = fl_spawn(holder, &roles[0]);
		int64_t until = fl_now_ns() + (int64_t)fl_rng_below(r, 2000000);
		while (fl_now_ns() < until)
			sched_yield();
		kill(pid[0], SIGKILL);
		reap(pid[0], deadline, what);
		if (atomic_load(&b->stage) != 0 || atomic_load(&b->rc) != 0)
			fl_violation("%s on %s: the open ended alone (%s)", what, cur->name,
				     pl_err(b->rc));
		/* The dead opener is not a partner: the other kind must still wait. */
		if (v == V_OPEN_RD)
			no_phantom_reader(what);
		eintr_round(v == V_OPEN_RD ? IPC_FIFO_WRONLY : IPC_FIFO_RDONLY, 3, what);
	} else {
		roles[0] = 0 | (v == V_WRITER || v == V_BOTH ? 2 : 0); /* writer */
		roles[1] = 1 | (v == V_READER || v == V_BOTH ? 2 : 0); /* reader */
		pid[0] = fl_spawn(holder, &roles[0]);
		pid[1] = fl_spawn(holder, &roles[1]);
		while (atomic_load(&b->stage) < 2 && fl_now_ns() < deadline)
			sched_yield();
		if (atomic_load(&b->stage) < 2)
			fl_violation("%s on %s: the pair never opened (%s)", what, cur->name,
				     pl_err(b->rc));
		int64_t kill_ns = fl_now_ns();
		for (int k = 0; k < 2; k++)
			if (roles[k] & 2)
				kill(pid[k], SIGKILL);
		for (int k = 0; k < 2; k++) {
			int st = reap(pid[k], kill_ns + fl_scaled_ns(DEADLINE_NS), what);
			if (roles[k] & 2 || st == -1)
				continue;
			int64_t t = fl_now_ns() - kill_ns;
			worst_ns = t > worst_ns ? t : worst_ns;
			long want = k ? 0 : -EPIPE;
			if (st != 0 || b->rc != want)
				fl_violation("%s on %s: the survivor %s ended %s (%s), expected %s",
					     what, cur->name, k ? "reader" : "writer",
					     pl_err(b->rc), fl_status(st), k ? "0 (EOF)" : "-EPIPE");
			if (k == 1 && b->got != 5)
				fl_violation("%s on %s: the reader got %ld bytes, expected 5", what,
					     cur->name, (long)b->got);
		}
	}
	int64_t tp = fl_now_ns();
	fresh_pair(what);
	if (verbose)
		fl_info("%s on %s: %.1f ms, later pair %.1f ms", what, cur->name,
			(double)(fl_now_ns() - deadline + fl_scaled_ns(DEADLINE_NS)) / 1e6,
			(double)(fl_now_ns() - tp) / 1e6);
	n_kills++;
	if (cur->ops->unlink(path) != 0)
		fl_violation("%s on %s: unlink failed", what, cur->name);
}

/* ---- 4. failure points of ref-fifo, the Nth call failed ---------------------------------- */

/* faults/run.sh checks every "ipc/..." name in impl/ against --list-points. */
static const char *const points[] = {"ipc/fifo/create", "ipc/fifo/map"};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

#define ARMED(faulted, expr)                                                   \
	({                                                                     \
		long fired_before_ = fl_nth.fired;                             \
		fl_nth_armed = 1;                                              \
		__typeof__(expr) rc_ = (expr);                                 \
		fl_nth_armed = 0;                                              \
		*(faulted) = fl_nth.fired != fired_before_;                    \
		rc_;                                                           \
	})

static unsigned long n_runs, n_fired;

/* A faulted call must fail with a negative errno; an unfaulted one succeed. */
static int sweep_judge(const char *step, long rc, int f, const char *what)
{
	if ((f && rc < 0 && rc > -4096) || (!f && rc == 0))
		return f;
	fl_violation("%s on %s: %s -> %s%s", what, cur->name, step, pl_err(rc),
		     f ? " (a fault fired)" : "");
	return -1;
}

/* One run: mkfifo; non-blocking opens (reader, writer) twice around a byte
 * round trip; every faulted step must leave no trace (no name, no handle,
 * no phantom opener, no stale byte), then is redone unarmed. */
static void sweep_run(const char *what)
{
	struct ipc_pipe *rd = NULL, *wr = NULL;
	uint32_t mode;
	char c;
	int f;

	fresh_path("sweep-pre"); /* just a fresh name: remove what fresh_path made */
	cur->ops->unlink(path);
	long made = ARMED(&f, cur->ops->mkfifo(path, 0600));
	if (sweep_judge("mkfifo", made, f, what) == 1) {
		if (cur->ops->stat_mode(path, &mode) != -ENOENT)
			fl_violation("%s on %s: a failed mkfifo left a name", what, cur->name);
		if (cur->ops->mkfifo(path, 0600) != 0) {
			fl_violation("%s on %s: mkfifo after the fault failed", what, cur->name);
			return;
		}
	}
	for (int round = 0; round < 2; round++) {
		long rc = ARMED(&f, cur->ops->open(path, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK, &rd));
		if (sweep_judge("open RDONLY", rc, f, what) == 1) {
			no_phantom_reader(what);
			rc = cur->ops->open(path, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK, &rd);
		}
		if (rc != 0)
			break;
		rc = ARMED(&f, cur->ops->open(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK, &wr));
		if (sweep_judge("open WRONLY", rc, f, what) == 1)
			rc = cur->ops->open(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK, &wr);
		if (rc != 0) {
			cur->ops->pipe->close(rd);
			break;
		}
		/* Nothing from the last round survived its last close. */
		if ((rc = cur->ops->pipe->read(rd, &c, 1)) != -EAGAIN)
			fl_violation("%s on %s: read on a fresh pair -> %s, expected -EAGAIN", what,
				     cur->name, pl_err(rc));
		if (cur->ops->pipe->write(wr, "x", 1) != 1)
			fl_violation("%s on %s: write failed", what, cur->name);
		if (round == 1 && (cur->ops->pipe->read(rd, &c, 1) != 1 || c != 'x'))
			fl_violation("%s on %s: the byte did not cross", what, cur->name);
		cur->ops->pipe->close(wr);
		cur->ops->pipe->close(rd);
	}
	if (cur->ops->unlink(path) != 0)
		fl_violation("%s on %s: unlink failed", what, cur->name);
}

static void sweep(void)
{
	char what[96];
	int fds = fl_count_fds();

	fiu_init(0);
	for (size_t p = 0; p < NPOINTS; p++) {
		unsigned long fired = 0;

		fiu_enable_external(points[p], 1, NULL, 0, fl_nth_cb);
		for (int persistent = 0; persistent < 2; persistent++)
			for (long n = 1;; n++) {
				snprintf(what, sizeof(what), "%s call %ld%s", points[p], n,
					 persistent ? "+" : "");
				memset(&fl_nth, 0, sizeof(fl_nth));
				fl_nth.n = n, fl_nth.persistent = persistent;
				sweep_run(what);
				n_runs++;
				fired += (unsigned long)fl_nth.fired;
				if (fl_nth.fired == 0 || n > 64)
					break;
			}
		fiu_disable(points[p]);
		if (fired == 0 && !strcmp(cur->name, "ref-fifo"))
			fl_violation("%s never fired on ref-fifo", points[p]);
		n_fired += fired;
	}
	if (fl_count_fds() != fds)
		fl_violation("sweep on %s: %d descriptor(s) leaked", cur->name, fl_count_fds() - fds);
}

/* ---- main -------------------------------------------------------------------------------- */

static void campaign(const struct fsubj *s, unsigned long opens, unsigned kills, unsigned seed)
{
	struct fl_rng r;
	int64_t t0 = fl_now_ns();
	unsigned long e0 = n_eintr, k0 = n_kills;
	unsigned h0 = n_held;
	int fds = fl_count_fds();

	cur = s;
	fl_rng_seed(&r, seed);
	fresh_path("fifo");
	eintr_round(IPC_FIFO_RDONLY, opens, "eintr RDONLY");
	no_phantom_reader("eintr RDONLY");
	eintr_round(IPC_FIFO_WRONLY, opens, "eintr WRONLY");
	no_phantom_reader("eintr WRONLY");
	restart_round(IPC_FIFO_RDONLY, "SA_RESTART RDONLY");
	restart_round(IPC_FIFO_WRONLY, "SA_RESTART WRONLY");
	fresh_pair("after the storms");
	cur->ops->unlink(path);
	for (unsigned k = 0; k < kills; k++)
		one_kill((enum victim)(k % NVICTIMS), &r);
	unsigned long r0 = n_runs, f0 = n_fired;
	sweep();
	if (fl_count_fds() != fds)
		fl_violation("%s: %d descriptor(s) leaked", s->name, fl_count_fds() - fds);
	fl_info("%-12s %lu opens -> EINTR, %u of 2 SA_RESTART waits held %d+ signals until the "
		"partner came, %lu kills, %lu sweep runs (%lu faults); %.1f s", s->name, n_eintr - e0,
		n_held - h0, RESTART_TICKS, n_kills - k0, n_runs - r0, n_fired - f0,
		(double)(fl_now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct fsubj subj[2];
	int ns = 0;
	size_t n;
	const struct ipc_subject *all = ipc_registry_subjects(&n);
	const char *named = NULL;
	int64_t t0 = fl_now_ns();

	if (argc == 2 && !strcmp(argv[1], "--list-points")) {
		for (size_t i = 0; i < NPOINTS; i++)
			puts(points[i]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--is-fifo")) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(all[i].name, argv[2]) && all[i].mechanism == IPC_MECH_FIFO)
				return 0;
		return 1;
	}
	fl_init(argc, argv, &o);
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--subject"))
			named = argv[i + 1];
	for (size_t i = 0; i < n && ns < 2; i++) {
		if (all[i].mechanism != IPC_MECH_FIFO || (named && strcmp(named, all[i].name)))
			continue;
		if ((all[i].caps & (IPC_FIFO_CAP_BLOCKING_OPEN | IPC_FIFO_CAP_CROSS_PROCESS)) !=
		    (IPC_FIFO_CAP_BLOCKING_OPEN | IPC_FIFO_CAP_CROSS_PROCESS)) {
			fl_info("skip %s: no blocking cross-process opens", all[i].name);
			continue;
		}
		subj[ns++] = (struct fsubj){all[i].name, all[i].ops};
	}
	if (ns == 0) {
		fl_info("skip: %s is not a FIFO subject; PASS: 0 violation(s)", named ? named : "?");
		return 0;
	}
	unsigned long opens = o.count ? o.count : o.short_run ? 200 : 2000;
	unsigned kills = o.short_run ? 3 * NVICTIMS : 40 * NVICTIMS;

	fl_info("seed %u, SIGALRM every %d us; %lu interrupted opens per kind, %u kills per subject",
		o.seed, TICK_US, opens, kills);
	verbose = o.verbose;
	b = fl_shared_alloc(sizeof(*b));
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < ns; i++)
		campaign(&subj[i], opens, kills, o.seed + (unsigned)i);
	fl_info("%lu opens -> EINTR, %lu SA_RESTART signals waited through, "
		"%lu kills, worst kill -> EOF/EPIPE %.1f ms, %lu sweep runs (%lu faults), %.1f s; %s: "
		"%u violation(s); reproduce with --seed %u", n_eintr, n_restart, n_kills,
		(double)worst_ns / 1e6, n_runs, n_fired,
		(double)(fl_now_ns() - t0) / 1e9, fl_violations() ? "FAIL" : "PASS",
		fl_violations(), o.seed);
	return fl_violations() ? 1 : 0;
}
