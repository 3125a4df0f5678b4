/* SPDX-License-Identifier: MIT */
/*
 * Verify that a blocking get on an empty buffer sleeps until an item comes and
 * returns it, that wake-ups are never lost with several producers and consumers
 * on capacity 1 or 2, and that a long wait sleeps instead of burning CPU.
 * Clauses: SHMBUF-BLK-1, SHMBUF-BLK-2, SHMBUF-BLK-3.
 */
#include <time.h>

#include "ipct.h"

#define BLK2_SIDES 3      /* producers, and as many consumers */
#define BLK2_ITEMS 2000   /* per producer, then one stop item (producer id BLK2_STOP) */
#define BLK2_STOP 0xffffu

struct blk_arg {
	const char *name;
	int id;            /* BLK-2: producer id */
	int64_t timeout;   /* BLK-1, BLK-3: of the one get */
	_Atomic long rc;   /* result of that get (1 = not returned), or BLK-2's last one */
	size_t item;       /* the item it got */
	int64_t cpu_ns, wall_ns; /* and the get's CPU and wall-clock time */
	_Atomic uint32_t (*seen)[BLK2_ITEMS]; /* BLK-2: times each item was got */
	_Atomic uint32_t *bad;                /* BLK-2: malformed items got */
};

/* One get with arg->timeout, timed on the wall clock and this thread's CPU clock. */
static int one_get_consumer(void *argp)
{
	struct blk_arg *arg = argp;
	struct ipc_shmbuf *c = NULL;
	struct timespec c0, c1;
	if (ipct_shmbuf()->attach(arg->name, IPC_SHMBUF_CONSUMER, &c) != 0)
		return 2;
	int64_t w0 = ipct_now_ns(); /* CLOCK_MONOTONIC */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	ipct_party_enter_call();
	arg->rc = ipct_shmbuf()->get(c, &arg->item, sizeof arg->item, arg->timeout);
	ipct_party_leave_call();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	arg->wall_ns = ipct_now_ns() - w0;
	arg->cpu_ns = (c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec);
	return ipct_shmbuf()->detach(c) == 0 ? 0 : 3;
}

Test(shmbuf, SHMBUF_BLK_1__blocking_get_on_empty_waits_for_the_put_item)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_BLOCKING);
	const char *name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0, sizeof(size_t));
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	struct blk_arg *arg = ipct_shared(sizeof *arg);
	*arg = (struct blk_arg){ .name = name, .timeout = IPC_TIMEOUT_INFINITE, .rc = 1 };
	struct ipct_party *party = ipct_party_start(one_get_consumer, arg);
	ipct_party_wait_blocked(party, 500);
	cr_assert(ipct_party_in_call(party) && arg->rc == 1,
		  "get on an empty buffer returned %ld instead of blocking", (long)arg->rc);
	size_t item = 0x5eedf00d;
	SAFE_RC(ipct_shmbuf()->put(p, &item, sizeof item, IPC_TIMEOUT_INFINITE));
	EXPECT_RC(ipct_party_wait(party, 5000), 0);
	EXPECT_RC(arg->rc, sizeof item);
	cr_assert_eq(arg->item, item, "the blocked get returned %#zx, not the item put", arg->item);
}

static int blk2_producer(void *argp)
{
	struct blk_arg *arg = argp;
	struct ipc_shmbuf *p = NULL;
	unsigned char item[16];
	if (ipct_shmbuf()->attach(arg->name, IPC_SHMBUF_PRODUCER, &p) != 0)
		return 2;
	for (uint32_t seq = 0; seq <= BLK2_ITEMS; seq++) {
		long rc = ipct_shmbuf()->put(p, item, ipct_item_fill(item, sizeof item, seq <
			  BLK2_ITEMS ? (uint32_t)arg->id : BLK2_STOP, seq), IPC_TIMEOUT_INFINITE);
		arg->rc = rc;
		if (rc != 0)
			return 4;
	}
	return ipct_shmbuf()->detach(p) == 0 ? 0 : 3;
}

/* Gets until it takes a stop item: each consumer takes one, the last behind all data. */
static int blk2_consumer(void *argp)
{
	struct blk_arg *arg = argp;
	struct ipc_shmbuf *c = NULL;
	unsigned char item[32];
	uint32_t prod, seq;
	if (ipct_shmbuf()->attach(arg->name, IPC_SHMBUF_CONSUMER, &c) != 0)
		return 2;
	for (;;) {
		ssize_t n = ipct_shmbuf()->get(c, item, sizeof item, IPC_TIMEOUT_INFINITE);
		arg->rc = n;
		if (n < 0)
			return 4;
		bool ok = ipct_item_check(item, (size_t)n, &prod, &seq) == 0;
		if (ok && prod == BLK2_STOP)
			break;
		if (ok && prod < BLK2_SIDES && seq < BLK2_ITEMS)
			atomic_fetch_add(&arg->seen[prod][seq], 1);
		else
			atomic_fetch_add(arg->bad, 1);
	}
	return ipct_shmbuf()->detach(c) == 0 ? 0 : 3;
}

Test(shmbuf, SHMBUF_BLK_2__no_lost_wakeup_with_many_parties_on_capacity_1_and_2)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_MPMC);
	for (size_t cap = 1; cap <= 2; cap++) {
		struct blk_arg *args = ipct_shared(2 * BLK2_SIDES * sizeof *args);
		_Atomic uint32_t(*seen)[BLK2_ITEMS] = ipct_shared(sizeof(*seen) * BLK2_SIDES);
		_Atomic uint32_t *bad = ipct_shared(sizeof *bad);
		struct ipct_party *party[2 * BLK2_SIDES];
		const char *name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? cap : 0, 16);
		SAFE_CONSUMER(name); /* never used: the stream stays open both ways, so */
		SAFE_PRODUCER(name); /* consumers stop at stop items, never at IPC_EOD */
		for (int i = 0; i < 2 * BLK2_SIDES; i++) {
			args[i] = (struct blk_arg){ name, i % BLK2_SIDES, .seen = seen, .bad = bad };
			party[i] = ipct_party_start(i < BLK2_SIDES ? blk2_consumer : blk2_producer,
						    &args[i]);
		}
		int64_t deadline = ipct_now_ns() + IPCT_MS(5000); /* one for all parties */
		for (int i = 0; i < 2 * BLK2_SIDES; i++) {
			int st = ipct_party_wait(party[i], (deadline - ipct_now_ns()) / 1000000);
			cr_assert(st == 0, "capacity %zu: %s %d %s (status %d, last result %ld)", cap,
				  i < BLK2_SIDES ? "consumer" : "producer", i % BLK2_SIDES,
				  st == -ETIMEDOUT ? "still asleep at the deadline (lost wake-up)" : "failed",
				  st, (long)args[i].rc);
		}
		cr_assert_eq(*bad, 0, "capacity %zu: %u malformed items got", cap, (unsigned)*bad);
		for (int p = 0; p < BLK2_SIDES; p++)
			for (int s = 0; s < BLK2_ITEMS; s++)
				cr_assert_eq(seen[p][s], 1, "capacity %zu: item %d of producer %d got %u times",
					     cap, s, p, (unsigned)seen[p][s]);
	}
}

Test(shmbuf, SHMBUF_BLK_3__long_wait_sleeps_using_under_a_tenth_of_a_cpu)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_TIMED);
	const char *name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0, sizeof(size_t));
	SAFE_PRODUCER(name); /* attached throughout: the stream stays open, no IPC_EOD */
	struct blk_arg *arg = ipct_shared(sizeof *arg);
	*arg = (struct blk_arg){ .name = name, .timeout = IPCT_MS(400), .rc = 1 };
	struct ipct_party *party = ipct_party_start(one_get_consumer, arg);
	EXPECT_RC(ipct_party_wait(party, 5000), 0);
	EXPECT_ERR(arg->rc, IPC_ETIMEDOUT);
	cr_assert(arg->cpu_ns * 10 < arg->wall_ns, "the wait burnt %.1f ms of CPU over %.1f ms",
		  arg->cpu_ns / 1e6, arg->wall_ns / 1e6);
}
