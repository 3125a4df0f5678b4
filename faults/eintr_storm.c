/* SPDX-License-Identifier: MIT */
/*
 * eintr_storm: a POSIX timer signal every 200 us (SA_RESTART off) in every
 * process, against puts and gets that block on the full or the empty
 * buffer. The spec has no -EINTR: an interrupted wait must be resumed
 * inside the subject, with the original deadline. Checks:
 *   - timed waits on the empty and the full buffer still end in -ETIMEDOUT
 *     and never before their timeout (the storm must not shorten them);
 *   - a blocking get interrupted hundreds of times still returns the item a
 *     peer puts later;
 *   - producer and consumer processes, each under its own storm, on
 *     capacities 1, 2 and unbounded: every item exactly once, in order,
 *     intact (fl_peer.h); any result outside the documented set (-EINTR
 *     included) is a violation;
 *   - the storm was real: signals landed inside operations (counted).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl_item.h"
#include "fl_peer.h"

#define TICK_NS 200000 /* the storm's period */

static volatile sig_atomic_t ticks;
static timer_t storm_timer;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
	fl_peer_signal_hit();
}

/* A process-directed timer signal every TICK_NS, handler without
 * SA_RESTART: every blocking system call in the subject sees EINTR. */
static void storm_start(void)
{
	if (fl_signal_storm(on_tick, TICK_NS, &storm_timer) != 0)
		exit(2);
}

static void storm_stop(void)
{
	timer_delete(storm_timer);
	signal(SIGALRM, SIG_IGN);
}

static void peer_setup(struct fl_peer *p)
{
	(void)p;
	storm_start();
}

/* ---- part 1: single waits under the storm, in this process ---------------------- */

static const struct ipc_shmbuf_ops *ops;

/* A timed op must say -ETIMEDOUT, and not before its timeout. */
static void expect_timeout(const char *what, long rc, int64_t t0, int64_t timeout)
{
	int64_t took = fl_now_ns() - t0;

	if (rc != IPC_ETIMEDOUT)
		fl_violation("%s under the storm -> %s, expected IPC_ETIMEDOUT", what, fl_err(rc));
	else if (took < timeout)
		fl_violation("%s timed out after %lld us, timeout %lld us", what,
			     (long long)took / 1000, (long long)timeout / 1000);
}

static void timed_waits(struct ipc_shmbuf *p, struct ipc_shmbuf *c, unsigned char *buf)
{
	const int64_t tmo = 20000000;

	for (int i = 0; i < 5; i++) {
		int64_t t0 = fl_now_ns();

		expect_timeout("timed get on the empty buffer", ops->get(c, buf, 256, tmo), t0, tmo);
	}
	if (ops->put(p, buf, fl_item_make(buf, 0, 0, 256), 0) != 0)
		fl_violation("put into the empty buffer failed");
	for (int i = 0; i < 5; i++) {
		int64_t t0 = fl_now_ns();

		expect_timeout("timed put on the full buffer",
			       ops->put(p, buf, fl_item_make(buf, 0, 1, 256), tmo), t0, tmo);
	}
}

/* A child puts an item 50 ms from now, while we block in get(-1). */
static int late_put(void *name)
{
	struct ipc_shmbuf *p;
	unsigned char buf[256];

	if (ops->attach(name, IPC_SHMBUF_PRODUCER, &p) != 0)
		return 1;
	fl_sleep_ns(50000000);
	if (ops->put(p, buf, fl_item_make(buf, 7, 7, 256), -1) != 0)
		return 1;
	return ops->detach(p) != 0;
}

static void blocking_get(const char *name, struct ipc_shmbuf *c, unsigned char *buf)
{
	struct fl_item_hdr h;
	pid_t pid = fl_spawn(late_put, (void *)name);
	ssize_t rc = ops->get(c, buf, 256, -1);
	int st = fl_reap(pid, fl_now_ns() + 10000000000LL);

	if (rc < 0 || fl_item_check(buf, (size_t)rc, 256, &h) || h.producer != 7)
		fl_violation("blocking get under the storm -> %s, expected the late item",
			     fl_err(rc));
	if (st != 0)
		fl_violation("the late producer: %s", fl_status(st));
}

static void single_waits(void)
{
	struct ipc_shmbuf_attr attr = {1, 256, 0};
	struct ipc_shmbuf *p, *c;
	unsigned char buf[256];
	char name[128];
	sig_atomic_t before = ticks;

	fl_name(name, sizeof(name), "eintr1");
	if (ops->create(name, &attr) || ops->attach(name, IPC_SHMBUF_CONSUMER, &c) ||
	    ops->attach(name, IPC_SHMBUF_PRODUCER, &p)) {
		fl_violation("create/attach failed");
		return;
	}
	storm_start();
	timed_waits(p, c, buf);
	if (ops->get(c, buf, sizeof(buf), 0) < 0) /* empty it again */
		fl_violation("get of the queued item failed");
	blocking_get(name, c, buf);
	storm_stop();
	fl_info("single waits: 5 timed gets, 5 timed puts, 1 blocking get; %ld signals taken",
		(long)(ticks - before));
	if (ops->detach(p) || ops->detach(c) || ops->unlink(name))
		fl_violation("detach/unlink failed");
}

/* ---- part 2: streams between processes, each under its storm --------------------- */

struct config {
	size_t capacity;
	unsigned producers, consumers;
};

static const struct config configs[] = {{1, 1, 1}, {2, 2, 2}, {0, 1, 1}};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

/* Alternate who is slow, so both sides spend time blocked. */
static void make_peer(struct fl_peer *p, struct fl_board *b, const char *name, uint32_t id,
		      int role, uint32_t items, unsigned seed, int unbounded)
{
	memset(p, 0, sizeof(*p));
	p->b = b, p->ops = ops, p->name = name, p->id = id, p->role = role;
	p->max_item = 256, p->seed = seed + id, p->items = items;
	p->pct_block = 80, p->pct_nonblock = 0; /* the rest: timed, 0.1-5 ms */
	p->give_up_ns = fl_now_ns() + 60000000000LL;
	p->slow_every = role == IPC_SHMBUF_PRODUCER ? 61 : 47;
	if (unbounded) /* only the consumer can block: starve it often */
		p->slow_every = role == IPC_SHMBUF_PRODUCER ? 5 : 0;
	p->setup = peer_setup;
	b->is_prod[id] = role == IPC_SHMBUF_PRODUCER;
}

static void check_stream(const struct config *c, struct fl_board *b, uint32_t items, unsigned n,
			 int64_t t0)
{
	uint64_t delivered, sigs = 0;

	for (unsigned i = 0; i < n; i++)
		sigs += atomic_load(&b->sigs[i]);
	if (fl_board_check(b, 0, &delivered) || delivered != (uint64_t)c->producers * items)
		fl_violation("capacity %zu: %llu of %llu items delivered correctly", c->capacity,
			     (unsigned long long)delivered, (unsigned long long)c->producers * items);
	if (atomic_load(&b->violations))
		fl_violation("capacity %zu: children reported %u violation(s)", c->capacity,
			     atomic_load(&b->violations));
	if (sigs < 50)
		fl_violation("capacity %zu: only %llu signals landed inside operations: no storm",
			     c->capacity, (unsigned long long)sigs);
	fl_info("capacity %-2zu %u x %u: %llu items, %llu signals inside operations, %.1f s",
		c->capacity, c->producers, c->consumers, (unsigned long long)delivered,
		(unsigned long long)sigs, (double)(fl_now_ns() - t0) / 1e9);
}

static void stream(const struct config *c, struct fl_board *b, uint32_t items, unsigned seed)
{
	struct ipc_shmbuf_attr attr = {c->capacity, 256, 0};
	struct fl_peer peers[8];
	pid_t pids[8];
	char name[128];
	unsigned n = c->producers + c->consumers;
	int64_t t0 = fl_now_ns();

	fl_board_reset(b);
	fl_name(name, sizeof(name), "eintr2");
	if (ops->create(name, &attr) != 0) {
		fl_violation("create failed");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		make_peer(&peers[i], b, name, i, i < c->producers ? 1 : 2, items, seed,
			  c->capacity == 0);
		pids[i] = fl_spawn(i < c->producers ? fl_producer : fl_consumer, &peers[i]);
	}
	fl_reap_peers(b, peers, n, pids, 10);
	if (ops->unlink(name) != 0)
		fl_violation("unlink failed");
	check_stream(c, b, items, n, t0);
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	uint64_t caps;
	int64_t t0 = fl_now_ns();

	fl_init(argc, argv, &o);
	ops = fl_subject(o.subject, &caps);
	uint32_t items = o.count ? (uint32_t)o.count : o.short_run ? 3000 : 15000;
	struct fl_board *b = fl_board_new(items);

	fl_info("subject %s, seed %u, SIGALRM every %d us without SA_RESTART", o.subject, o.seed,
		TICK_NS / 1000);
	if (caps & IPC_SHMBUF_CAP_BOUNDED && caps & IPC_SHMBUF_CAP_TIMED)
		single_waits();
	for (size_t i = 0; i < NCONFIGS; i++) {
		uint64_t need = (configs[i].capacity ? IPC_SHMBUF_CAP_BOUNDED : IPC_SHMBUF_CAP_UNBOUNDED) |
				IPC_SHMBUF_CAP_CROSS_PROCESS | IPC_SHMBUF_CAP_END_OF_STREAM |
				IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_TIMED;

		if ((caps & need) == need)
			stream(&configs[i], b, items, o.seed);
	}
	if (fl_shm_leftovers(getpid(), true))
		fl_violation("a /dev/shm name was left behind");
	fl_info("%.1f s; %s: %u violation(s)", (double)(fl_now_ns() - t0) / 1e9,
		fl_violations() ? "FAIL" : "PASS", fl_violations());
	return fl_violations() ? 1 : 0;
}
