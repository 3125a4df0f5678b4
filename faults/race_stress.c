/* SPDX-License-Identifier: MIT */
/*
 * race_stress: several producer and consumer processes (forked, attached by
 * name) with the subject's race points enabled at random, so that the
 * windows between claim, copy and publish (put) and claim, copy and release
 * (get) are widened by yields and 0-50 us busy-waits; spurious futex
 * wake-ups are thrown in. Checks exactly-once delivery, per-producer order
 * and item integrity (fl_peer.h), on several capacities.
 *
 * Reproducing: the fault pattern is fixed by the printed seed (FIU_PRNG_SEED
 * for the parent, seed + child index in each child via fiu_set_prng_seed);
 * process scheduling is not, so a failure may need a few runs to recur.
 */
#include <fiu-control.h>
#include <fiu.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fl_peer.h"

static const char *const race_points[] = {
	"ipc/race/put/claimed", "ipc/race/put/copied",  "ipc/race/put/published",
	"ipc/race/get/claimed", "ipc/race/get/copied", "ipc/race/get/released",
};
#define NRACE (sizeof(race_points) / sizeof(race_points[0]))

struct config {
	size_t capacity; /* 0 = unbounded */
	unsigned producers, consumers;
	size_t max_item;
	int pct_block, pct_nonblock;
};

static const struct config configs[] = {
	{1, 3, 3, 256, 60, 20},
	{2, 2, 4, 512, 40, 40},
	{3, 4, 2, 128, 80, 10},
	{8, 3, 3, 1024, 30, 40},
	{0, 3, 3, 2048, 50, 30},
};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))
#define STALL_S 10 /* no operation completed anywhere for this long: a hang */

#define NEEDED_CAPS                                                                     \
	(IPC_SHMBUF_CAP_CROSS_PROCESS | IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_END_OF_STREAM |     \
	 IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_NONBLOCK | IPC_SHMBUF_CAP_TIMED)

static unsigned base_seed;

/* In each child: its own libfiu seed, then every race point on at random
 * with a yield or a busy-wait, and occasional spurious futex wake-ups. */
static void enable_races(struct fl_peer *p)
{
	struct fl_rng r;

	fiu_set_prng_seed(base_seed + p->id);
	fl_rng_seed(&r, base_seed ^ (p->id * 7919u));
	for (size_t i = 0; i < NRACE; i++) {
		long action = fl_rng_below(&r, 2) ? 1 : 2; /* yield or busy-wait */
		float prob = action == 1 ? 0.25f : 0.05f;

		fiu_enable_random(race_points[i], 1, (void *)action, 0, prob);
	}
	fiu_enable_random("ipc/futex/wait", 1, NULL, 0, 0.05f);
}

static void spawn_all(struct fl_peer *peers, unsigned n, pid_t *pids)
{
	for (unsigned i = 0; i < n; i++) {
		int (*fn)(void *) = peers[i].role == IPC_SHMBUF_PRODUCER ? fl_producer : fl_consumer;

		pids[i] = fl_spawn(fn, &peers[i]);
		if (pids[i] < 0) {
			fl_violation("fork failed");
			exit(2);
		}
	}
}

static void make_peers(const struct config *c, struct fl_peer *peers, struct fl_board *b,
		       const struct ipc_shmbuf_ops *ops, const char *name, uint32_t items,
		       int64_t give_up)
{
	unsigned n = c->producers + c->consumers;

	for (unsigned i = 0; i < n; i++) {
		struct fl_peer *p = &peers[i];

		memset(p, 0, sizeof(*p));
		p->b = b, p->ops = ops, p->name = name, p->id = i;
		p->role = i < c->producers ? IPC_SHMBUF_PRODUCER : IPC_SHMBUF_CONSUMER;
		p->max_item = c->max_item, p->seed = base_seed * 31u + i, p->items = items;
		p->pct_block = c->pct_block, p->pct_nonblock = c->pct_nonblock;
		p->give_up_ns = give_up, p->setup = enable_races;
		p->slow_every = i % 2 ? 97 : 0;
		b->is_prod[i] = p->role == IPC_SHMBUF_PRODUCER;
	}
}

/* The parent stays attached as a consumer for the whole run, so a producer
 * never meets -EPIPE if consumers are slow to start. */
static void run_config(const struct config *c, const struct ipc_shmbuf_ops *ops,
		       struct fl_board *b, uint32_t items, uint64_t *total)
{
	struct ipc_shmbuf_attr attr = {c->capacity, c->max_item, 0};
	struct fl_peer peers[16];
	pid_t pids[16];
	struct ipc_shmbuf *anchor;
	char name[128];
	uint64_t delivered;
	int64_t t0 = fl_now_ns(), limit = t0 + 60000000000LL;
	unsigned n = c->producers + c->consumers;

	fl_board_reset(b);
	fl_name(name, sizeof(name), "race");
	if (ops->create(name, &attr) || ops->attach(name, IPC_SHMBUF_CONSUMER, &anchor)) {
		fl_violation("capacity %zu: create/attach failed", c->capacity);
		return;
	}
	make_peers(c, peers, b, ops, name, items, limit);
	spawn_all(peers, n, pids);
	fl_reap_peers(b, peers, n, pids, STALL_S);
	if (ops->validate && ops->validate(anchor) != 0)
		fl_violation("capacity %zu: validate() != 0 after the run", c->capacity);
	if (ops->detach(anchor) || ops->unlink(name))
		fl_violation("capacity %zu: final detach/unlink failed", c->capacity);
	if (fl_board_check(b, 0, &delivered))
		fl_violation("capacity %zu: delivery check failed", c->capacity);
	if (delivered != (uint64_t)c->producers * items)
		fl_violation("capacity %zu: %llu delivered, %llu put", c->capacity,
			     (unsigned long long)delivered, (unsigned long long)c->producers * items);
	*total += delivered;
	fl_info("capacity %-2zu %u producers x %u consumers: %llu items, %.2f s%s", c->capacity,
		c->producers, c->consumers, (unsigned long long)delivered,
		(double)(fl_now_ns() - t0) / 1e9, atomic_load(&b->violations) ? "  VIOLATIONS" : "");
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	uint64_t caps, total = 0;
	char seedbuf[32];
	int64_t t0 = fl_now_ns();

	fl_init(argc, argv, &o);
	const struct ipc_shmbuf_ops *ops = fl_subject(o.subject, &caps);
	uint32_t items = o.count ? (uint32_t)o.count : o.short_run ? 1500 : 20000;
	struct fl_board *b = fl_board_new(items);

	base_seed = o.seed;
	snprintf(seedbuf, sizeof(seedbuf), "%u", o.seed);
	setenv("FIU_PRNG_SEED", seedbuf, 1);
	fiu_init(0);
	fl_info("subject %s, seed %u (FIU_PRNG_SEED=%u; child k uses seed+k), %u items per producer",
		o.subject, o.seed, o.seed, items);
	fl_info("race points (random, yield p=0.25 or busy-wait p=0.05): put/claimed put/copied "
		"put/published get/claimed get/copied get/released; futex/wait spurious p=0.05");
	for (size_t i = 0; i < NCONFIGS; i++) {
		uint64_t need = (configs[i].capacity ? IPC_SHMBUF_CAP_BOUNDED : IPC_SHMBUF_CAP_UNBOUNDED) |
				NEEDED_CAPS;

		if ((caps & need) != need)
			fl_info("capacity %zu: skipped (the subject lacks a capability)", configs[i].capacity);
		else
			run_config(&configs[i], ops, b, items, &total);
		if (atomic_load(&b->violations))
			fl_violation("children reported %u violation(s)", atomic_load(&b->violations));
	}
	if (fl_shm_leftovers(getpid(), true))
		fl_violation("a /dev/shm name was left behind");
	fl_info("%llu items delivered in %.1f s; %s: %u violation(s); reproduce with --seed %u",
		(unsigned long long)total, (double)(fl_now_ns() - t0) / 1e9,
		fl_violations() ? "FAIL" : "PASS", fl_violations(), o.seed);
	return fl_violations() ? 1 : 0;
}
