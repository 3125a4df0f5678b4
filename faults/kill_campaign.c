/* SPDX-License-Identifier: MIT */
/*
 * kill_campaign: SIGKILL producers and consumers mid-stream, hundreds of
 * times, and start replacements (SHMBUF-DEATH-1..4).
 *
 * The parent picks a random live victim and a random threshold a few
 * operations ahead of the victim's progress counter (shared memory), polls
 * the counter until it is reached, waits a random 0-50 us more, and kills:
 * the instant is tied to the victim's own progress, never to a sleep. A
 * third of the incarnations also carry a deterministic death point: the Nth
 * pass through one of the subject's race points (put: claimed, copied,
 * published; get: claimed, copied, released) SIGKILLs the process itself.
 *
 * The parent holds a producer and a consumer attachment for the whole
 * campaign, so the stream neither ends nor breaks while every child of one
 * role happens to be dead. At the end, producers stop, the parent's
 * producer detaches, consumers drain to IPC_EOD, and the board is checked:
 * every item whose put returned is delivered exactly once, except at most
 * one per killed consumer; a killed producer's in-flight item at most once;
 * nothing torn, nothing out of order, nothing invented; validate() is 0;
 * nobody hangs (a stall of the whole stream is reported with every peer's
 * progress).
 */
#include <fiu-control.h>
#include <fiu.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fl_peer.h"

#define STALL_NS 10000000000LL /* no progress anywhere for this long: a hang */
#define MAX_ITEMS 4096         /* per producer incarnation */

static const char *const put_points[] = {"ipc/race/put/claimed", "ipc/race/put/copied",
					 "ipc/race/put/published"};
static const char *const get_points[] = {"ipc/race/get/claimed", "ipc/race/get/copied",
					 "ipc/race/get/released"};

struct phase {
	size_t capacity; /* 0 = unbounded */
	size_t max_item;
	unsigned producers, consumers; /* live at any time */
};

static const struct phase phases[] = {
	{1, 256, 3, 3},
	{8, 1024, 3, 2},
	{0, 2048, 2, 3},
};
#define NPHASES (sizeof(phases) / sizeof(phases[0]))

/* Per incarnation, read by the child after fork: its death point, if any. */
static const char *death_point[FL_MAX_PEERS];
static long death_n[FL_MAX_PEERS];
static long death_calls, death_target; /* in the child */
static unsigned base_seed;

struct campaign {
	const struct phase *ph;
	const struct ipc_shmbuf_ops *ops;
	struct fl_board *b;
	char name[128];
	struct fl_peer peers[FL_MAX_PEERS];
	pid_t pid[FL_MAX_PEERS];
	uint8_t live[FL_MAX_PEERS];
	uint32_t next_id;
	struct fl_rng rng;
	int stopping;   /* no more producer replacements */
	int draining;   /* the stream has ended: no replacements at all */
	int aborted;    /* a hang: stop everything */
	unsigned kills_target;
	unsigned parent_kills[3], point_kills[3]; /* by role (1, 2) */
	unsigned point_hits[6];
	uint64_t last_sum;
	int64_t last_move_ns;
};

/* ---- the children's set-up ------------------------------------------------- */

static int death_cb(const char *name, int *failnum, void **failinfo, unsigned *flags)
{
	(void)name, (void)failnum, (void)failinfo, (void)flags;
	return ++death_calls == death_target;
}

/* In the child: yields at every race point now and then (to land kills
 * inside operations), and the death point if this incarnation has one. */
static void child_setup(struct fl_peer *p)
{
	fiu_set_prng_seed(base_seed + p->id);
	for (size_t i = 0; i < 3; i++) {
		fiu_enable_random(put_points[i], 1, (void *)1, 0, 0.1f);
		fiu_enable_random(get_points[i], 1, (void *)1, 0, 0.1f);
	}
	if (!death_point[p->id])
		return;
	death_target = death_n[p->id];
	fiu_enable_external(death_point[p->id], 1, (void *)9, 0, death_cb);
}

/* ---- spawning and reaping --------------------------------------------------- */

static void choose_death(struct campaign *c, uint32_t id, int role)
{
	death_point[id] = NULL;
	if (c->stopping || fl_rng_below(&c->rng, 3) != 0)
		return;
	death_point[id] = (role == IPC_SHMBUF_PRODUCER ? put_points : get_points)[fl_rng_below(&c->rng, 3)];
	death_n[id] = 1 + (long)fl_rng_below(&c->rng, 60);
}

static void spawn(struct campaign *c, int role)
{
	uint32_t id = c->next_id++;
	struct fl_peer *p = &c->peers[id];

	if (id >= FL_MAX_PEERS) {
		fl_violation("out of incarnation slots");
		c->aborted = 1;
		return;
	}
	memset(p, 0, sizeof(*p));
	p->b = c->b, p->ops = c->ops, p->name = c->name, p->id = id, p->role = role;
	p->max_item = c->ph->max_item, p->seed = base_seed * 131u + id, p->items = MAX_ITEMS;
	p->pct_block = 50, p->pct_nonblock = 25, p->give_up_ns = INT64_MAX;
	p->setup = child_setup;
	c->b->is_prod[id] = role == IPC_SHMBUF_PRODUCER;
	choose_death(c, id, role);
	c->pid[id] = fl_spawn(role == IPC_SHMBUF_PRODUCER ? fl_producer : fl_consumer, p);
	c->live[id] = c->pid[id] > 0;
	if (c->pid[id] < 0)
		fl_violation("fork failed");
}

static int point_index(const char *pt)
{
	for (int i = 0; i < 3; i++) {
		if (pt == put_points[i])
			return i;
		if (pt == get_points[i])
			return 3 + i;
	}
	return -1;
}

/* A child ended: count the kill, or check its exit, and replace it. */
static void account(struct campaign *c, uint32_t id, int status, int by_parent)
{
	int role = c->peers[id].role;

	c->live[id] = 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		c->b->killed[id] = 1;
		if (by_parent) {
			c->parent_kills[role]++;
		} else {
			c->point_kills[role]++;
			if (death_point[id])
				c->point_hits[point_index(death_point[id])]++;
		}
	} else if (status != 0) {
		fl_violation("%s %u ended with %s", role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer",
			     id, fl_status(status));
	}
	if (!c->draining && (role == IPC_SHMBUF_CONSUMER || !c->stopping))
		spawn(c, role);
}

static unsigned kills(const struct campaign *c)
{
	return c->parent_kills[1] + c->parent_kills[2] + c->point_kills[1] + c->point_kills[2];
}

/* Reap whoever ended on its own (death points, retirements). */
static void reap_others(struct campaign *c)
{
	for (uint32_t id = 0; id < c->next_id; id++) {
		int st;

		if (c->live[id] && waitpid(c->pid[id], &st, WNOHANG) == c->pid[id])
			account(c, id, st, 0);
	}
}

/* ---- the watchdog ------------------------------------------------------------- */

static void dump_progress(struct campaign *c)
{
	for (uint32_t id = 0; id < c->next_id; id++)
		if (c->live[id])
			printf("[%s]   %s %u (pid %d): progress %llu, done %u%s\n", fl_prog,
			       c->peers[id].role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer", id,
			       (int)c->pid[id], (unsigned long long)atomic_load(&c->b->progress[id]),
			       atomic_load(&c->b->done[id]), death_point[id] ? " (death point armed)" : "");
}

/* 0 while the stream moves; -1 (and the campaign aborts) after a stall. */
static int watchdog(struct campaign *c)
{
	uint64_t sum = 0;
	int64_t now = fl_now_ns();

	for (uint32_t id = 0; id < c->next_id; id++)
		sum += atomic_load_explicit(&c->b->progress[id], memory_order_relaxed);
	if (sum != c->last_sum) {
		c->last_sum = sum;
		c->last_move_ns = now;
		return 0;
	}
	if (now - c->last_move_ns < fl_scaled_ns(STALL_NS))
		return 0;
	fl_violation("hang: no operation completed anywhere for %lld s (%u kills so far); live peers:",
		     STALL_NS / 1000000000LL, kills(c));
	dump_progress(c);
	c->aborted = 1;
	return -1;
}

/* ---- one kill ----------------------------------------------------------------- */

static int pick_victim(struct campaign *c, uint32_t *id)
{
	uint32_t live[FL_MAX_PEERS], n = 0;

	for (uint32_t i = 0; i < c->next_id; i++)
		if (c->live[i])
			live[n++] = i;
	if (!n)
		return -1;
	*id = live[fl_rng_below(&c->rng, n)];
	return 0;
}

/* Poll the victim's progress up to the threshold: 1 reached, 0 the victim
 * ended first (accounted), -1 a hang. */
static int poll_until(struct campaign *c, uint32_t id, uint64_t threshold)
{
	for (unsigned i = 0;; i++) {
		int st;

		if (!c->live[id])
			return 0; /* reaped by reap_others below */
		if (atomic_load_explicit(&c->b->progress[id], memory_order_relaxed) >= threshold)
			return 1;
		if ((i & 63) == 0 && waitpid(c->pid[id], &st, WNOHANG) == c->pid[id]) {
			account(c, id, st, 0);
			return 0;
		}
		if ((i & 1023) == 0) {
			reap_others(c); /* self-killed by a death point: replace now */
			if (watchdog(c) < 0)
				return -1;
		}
		sched_yield();
	}
}

static void kill_one(struct campaign *c)
{
	uint64_t ahead;
	uint32_t id;
	int st;

	reap_others(c);
	if (pick_victim(c, &id) < 0)
		return;
	/* Mostly a few operations ahead; sometimes far, so some streams run long. */
	ahead = 1 + fl_rng_below(&c->rng, fl_rng_below(&c->rng, 8) ? 40 : 400);
	if (poll_until(c, id, atomic_load(&c->b->progress[id]) + ahead) <= 0)
		return;
	/* 0-50 us more: the victim is now somewhere inside its next operation. */
	for (int64_t end = fl_now_ns() + (int64_t)fl_rng_below(&c->rng, 50000); fl_now_ns() < end;)
		;
	kill(c->pid[id], SIGKILL);
	st = fl_reap(c->pid[id], fl_now_ns() + 5000000000LL);
	if (st == -1) {
		fl_violation("victim %u survived SIGKILL for 5 s", id);
		c->aborted = 1;
		return;
	}
	/* A death point may have fired just before: counted as the parent's. */
	account(c, id, st, 1);
}

/* ---- the end: stop producers, end the stream, drain ----------------------------- */

/* Wait until no child of the role is live, reaping (and replacing consumers). */
static void wait_role(struct campaign *c, int role, int64_t deadline)
{
	for (;;) {
		int any = 0;

		reap_others(c);
		for (uint32_t id = 0; id < c->next_id; id++)
			any |= c->live[id] && c->peers[id].role == role;
		if (!any || c->aborted)
			return;
		if (fl_now_ns() > deadline || watchdog(c) < 0) {
			fl_violation("hang: %ss did not finish after the stop", role == 1 ? "producer" : "consumer");
			dump_progress(c);
			c->aborted = 1;
			return;
		}
		fl_sleep_ns(200000);
	}
}

static void kill_all(struct campaign *c)
{
	for (uint32_t id = 0; id < c->next_id; id++)
		if (c->live[id]) {
			kill(c->pid[id], SIGKILL);
			fl_reap(c->pid[id], fl_now_ns() + 5000000000LL);
			c->live[id] = 0;
		}
}

static void finish(struct campaign *c, struct ipc_shmbuf *ap, struct ipc_shmbuf *ac)
{
	int64_t deadline = fl_now_ns() + 60000000000LL;

	c->stopping = 1;
	atomic_store(&c->b->stop, 1);
	wait_role(c, IPC_SHMBUF_PRODUCER, deadline);
	c->draining = 1;
	if (c->ops->detach(ap) != 0)
		fl_violation("the parent's producer detach failed");
	wait_role(c, IPC_SHMBUF_CONSUMER, deadline);
	if (c->aborted) {
		kill_all(c);
		return;
	}
	if (c->ops->validate && c->ops->validate(ac) != 0)
		fl_violation("validate() != 0 after the campaign");
}

/* ---- a phase ------------------------------------------------------------------- */

static int open_phase(struct campaign *c, struct ipc_shmbuf **ap, struct ipc_shmbuf **ac)
{
	struct ipc_shmbuf_attr attr = {c->ph->capacity, c->ph->max_item, 0};

	fl_name(c->name, sizeof(c->name), "kill");
	if (c->ops->create(c->name, &attr) != 0 ||
	    c->ops->attach(c->name, IPC_SHMBUF_PRODUCER, ap) != 0 ||
	    c->ops->attach(c->name, IPC_SHMBUF_CONSUMER, ac) != 0) {
		fl_violation("capacity %zu: create/attach failed", c->ph->capacity);
		return -1;
	}
	return 0;
}

static void report_phase(struct campaign *c, int64_t t0)
{
	uint64_t delivered;
	unsigned bad = fl_board_check(c->b, c->parent_kills[2] + c->point_kills[2], &delivered);

	if (bad)
		fl_violation("capacity %zu: %u delivery violation(s)", c->ph->capacity, bad);
	if (atomic_load(&c->b->violations))
		fl_violation("capacity %zu: children reported %u violation(s)", c->ph->capacity,
			     atomic_load(&c->b->violations));
	fl_info("capacity %-2zu: %u kills (parent: %u producers, %u consumers; death points: %u "
		"producers, %u consumers), %u incarnations, %llu items delivered, %.1f s",
		c->ph->capacity, kills(c), c->parent_kills[1], c->parent_kills[2], c->point_kills[1],
		c->point_kills[2], c->next_id, (unsigned long long)delivered,
		(double)(fl_now_ns() - t0) / 1e9);
}

static unsigned run_phase(struct campaign *c, unsigned target, unsigned *hits)
{
	struct ipc_shmbuf *ap, *ac;
	int64_t t0 = fl_now_ns(), give_up = t0 + 120000000000LL;

	fl_board_reset(c->b);
	if (open_phase(c, &ap, &ac) < 0)
		return 0;
	c->last_move_ns = t0;
	for (unsigned i = 0; i < c->ph->producers; i++)
		spawn(c, IPC_SHMBUF_PRODUCER);
	for (unsigned i = 0; i < c->ph->consumers; i++)
		spawn(c, IPC_SHMBUF_CONSUMER);
	while (kills(c) < target && !c->aborted && fl_now_ns() < give_up)
		kill_one(c);
	if (kills(c) < target)
		fl_violation("capacity %zu: only %u of %u kills", c->ph->capacity, kills(c), target);
	finish(c, ap, ac);
	if (c->ops->detach(ac) != 0 || c->ops->unlink(c->name) != 0)
		fl_violation("capacity %zu: final detach/unlink failed", c->ph->capacity);
	report_phase(c, t0);
	for (int i = 0; i < 6; i++)
		hits[i] += c->point_hits[i];
	return kills(c);
}

#define NEEDED_CAPS                                                                         \
	(IPC_SHMBUF_CAP_PEER_DEATH | IPC_SHMBUF_CAP_CROSS_PROCESS | IPC_SHMBUF_CAP_MPMC |        \
	 IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_NONBLOCK |       \
	 IPC_SHMBUF_CAP_TIMED)

int main(int argc, char **argv)
{
	struct fl_opts o;
	uint64_t caps;
	unsigned total = 0, hits[6] = {0}, target;
	static struct campaign c;
	int64_t t0 = fl_now_ns();

	fl_init(argc, argv, &o);
	c.ops = fl_subject(o.subject, &caps);
	target = o.count ? (unsigned)o.count : o.short_run ? 210 : 2100;
	base_seed = o.seed;
	fiu_init(0);
	if ((caps & NEEDED_CAPS) != NEEDED_CAPS) {
		fl_info("subject %s lacks peer-death/cross-process/mpmc/eos: skipped", o.subject);
		return 0;
	}
	fl_info("subject %s, seed %u, %u kills in %zu phases", o.subject, o.seed, target, NPHASES);
	c.b = fl_board_new(MAX_ITEMS);
	for (size_t i = 0; i < NPHASES && !c.aborted; i++) {
		uint32_t keep_seed = o.seed + (unsigned)i;
		struct fl_board *b = c.b;

		if (!(caps & (phases[i].capacity ? IPC_SHMBUF_CAP_BOUNDED : IPC_SHMBUF_CAP_UNBOUNDED)))
			continue;
		memset(&c.peers, 0, sizeof(c) - offsetof(struct campaign, peers));
		c.b = b, c.ph = &phases[i];
		fl_rng_seed(&c.rng, keep_seed);
		total += run_phase(&c, (target + NPHASES - 1) / NPHASES, hits);
	}
	fl_info("death points fired: put/claimed %u, put/copied %u, put/published %u, "
		"get/claimed %u, get/copied %u, get/released %u", hits[0], hits[1], hits[2], hits[3],
		hits[4], hits[5]);
	if (fl_shm_leftovers(getpid(), true))
		fl_violation("a /dev/shm name was left behind");
	fl_info("%u kills in %.1f s; %s: %u violation(s); reproduce with --seed %u", total,
		(double)(fl_now_ns() - t0) / 1e9, fl_violations() ? "FAIL" : "PASS", fl_violations(),
		o.seed);
	return fl_violations() ? 1 : 0;
}
