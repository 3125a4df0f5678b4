/* SPDX-License-Identifier: MIT */
/*
 * Verify that producers or consumers killed with SIGKILL at random instants
 * mid-stream never wedge the others nor tear, duplicate or lose an item
 * (beyond one already taken per killed consumer). The kill instant is chosen
 * by the victim's progress, never by a sleep; the seed is fixed and printed.
 * Clauses: SHMBUF-DEATH-3, SHMBUF-DEATH-4.
 */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipct.h"

#define D_NEEDS (IPC_SHMBUF_CAP_PEER_DEATH | IPC_SHMBUF_CAP_CROSS_PROCESS)
#define D_SIDE 3           /* live producers, and as many live consumers */
#define D_INC 96           /* incarnations per role: the first ones and replacements */
#define D_SEQ (1u << 22)   /* items per producer incarnation; the campaign stops at half */
#define D_ITEM 200         /* largest item: the longer the copy, the likelier a tear */
#define D_STALL_MS 5000    /* no progress for this long: a party sleeps for ever */
#define D_SEED 0x5eedd34du /* fixed: failures name it, a rerun replays the same campaign */

struct d_shared {
	const char *name;
	_Atomic long rc;                   /* the first failure (0 = none) */
	uint32_t who;                      /* 2 * incarnation + role of the first failure */
	_Atomic int stop;                  /* producers: finish the current put, detach */
	_Atomic uint32_t done[2][D_INC];   /* puts returned [0], items recorded [1] */
	_Atomic uint8_t joined[2][D_INC];  /* the incarnation has attached */
	_Atomic uint32_t bad, dup;         /* torn or unknown items got; items got twice */
	_Atomic uint8_t got[D_INC][D_SEQ / 8]; /* a bit per (incarnation, seq): got */
};
static struct d_shared *D; /* set before the forks */

/* Record the first failure of a campaign party: its result and who it was. */
static int d_fail(long rc, uint32_t who)
{
	long none = 0;
	if (atomic_compare_exchange_strong(&D->rc, &none, rc))
		D->who = who;
	return 4;
}

/* Incarnation inc of role r (arg = 2 * inc + r). A producer (r = 0) puts
 * self-checking items and publishes how many puts have returned; a consumer
 * gets until IPC_EOD, records every item and publishes how many it recorded. */
static int d_party(void *arg)
{
	uint32_t inc = (uint32_t)(intptr_t)arg / 2, r = (uint32_t)(intptr_t)arg % 2, prod, seq;
	struct ipc_shmbuf *h = NULL;
	unsigned char item[D_ITEM];
	long rc = ipct_shmbuf()->attach(D->name, r ? IPC_SHMBUF_CONSUMER : IPC_SHMBUF_PRODUCER, &h);
	if (rc != 0)
		return d_fail(rc, 2 * inc + r) - 2; /* status 2: attach failed */
	D->joined[r][inc] = 1;
	for (seq = 0; r == 0 && seq < D_SEQ && !D->stop; seq++) {
		size_t len = ipct_item_fill(item, 16 + (seq * 37 + inc) % (D_ITEM - 15), inc, seq);
		if ((rc = ipct_shmbuf()->put(h, item, len, IPC_TIMEOUT_INFINITE)) != 0)
			return d_fail(rc, 2 * inc);
		D->done[0][inc] = seq + 1; /* this put has returned */
	}
	for (ssize_t n; r == 1 && (n = ipct_shmbuf()->get(h, item, sizeof item,
						       IPC_TIMEOUT_INFINITE)) != IPC_EOD;
	     D->done[1][inc]++) {
		if (n < 0)
			return d_fail(n, 2 * inc + 1);
		if (ipct_item_check(item, (size_t)n, &prod, &seq) == 0 && prod < D_INC && seq < D_SEQ)
			atomic_fetch_add(&D->dup, (atomic_fetch_or(&D->got[prod][seq / 8], 1u << seq % 8)
						  >> seq % 8) & 1);
		else
			atomic_fetch_add(&D->bad, 1);
	}
	return (rc = ipct_shmbuf()->detach(h)) == 0 ? 0 : d_fail(rc, 2 * inc + r) - 1;
}

/* Kill parties of role v (0 producers, 1 consumers) at random progress points
 * and replace them; then stop, drain to IPC_EOD and account for every item. */
static void d_campaign(uint32_t v)
{
	struct ipct_party *live[2][D_SIDE];
	uint32_t inc_of[2][D_SIDE], ninc[2] = { 0, 0 }, kills = 0, missing = 0;
	unsigned rnd = D_SEED;
	char why[48], where[160];
	D = ipct_shared(sizeof *D);
	D->name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0, D_ITEM);
	for (int k = 2 * D_SIDE - 1; k >= 0; k--) { /* consumers first */
		inc_of[k / D_SIDE][k % D_SIDE] = ninc[k / D_SIDE]++;
		live[k / D_SIDE][k % D_SIDE] = ipct_process_start(d_party,
			(void *)(intptr_t)(2 * inc_of[k / D_SIDE][k % D_SIDE] + k / D_SIDE));
	}
	int64_t end = ipct_now_ns() + IPCT_MS(1500), deadline;
	while ((kills < 10 || ipct_now_ns() < end) && ninc[v] < D_INC &&
	       D->done[0][inc_of[0][0]] < D_SEQ / 2 && D->done[0][inc_of[0][1]] < D_SEQ / 2 &&
	       D->done[0][inc_of[0][2]] < D_SEQ / 2) {
		uint32_t i = (uint32_t)rand_r(&rnd) % D_SIDE, inc = inc_of[v][i];
		uint32_t target = D->done[v][inc] + 1 + (uint32_t)rand_r(&rnd) % 300;
		/* A stall this long on an idle-enough machine means asleep for ever. */
		deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(D_STALL_MS));
		/* Poll, never sleep: the kill lands at a random instant. Yield, though,
		 * or on a loaded machine this loop starves the parties it watches. */
		for (; D->done[v][inc] < target; sched_yield())
			if (ipct_now_ns() >= deadline) {
				ipct_party_dump(&live[0][0], 2 * D_SIDE, "producers, then consumers");
				cr_assert_fail("seed %#x: after %u kills, %s %u made no progress for "
					       "%d ms (asleep for ever? first failure: %s in party %u; "
					       "stacks on stderr)", D_SEED, kills, v ? "consumer" :
					       "producer", inc, D_STALL_MS, ipct_rc_text(D->rc, why, 48),
					       D->who);
			}
		for (volatile uint32_t k = (uint32_t)rand_r(&rnd) % 3000; k > 0; k--)
			; /* and a random point within an item */
		ipct_party_kill(live[v][i]);
		int st = ipct_party_wait(live[v][i], 2000);
		cr_assert(st == 128 + SIGKILL, "seed %#x: victim %u had ended, status %d", D_SEED, inc, st);
		inc_of[v][i] = ninc[v]++, kills++;
		live[v][i] = ipct_process_start(d_party, (void *)(intptr_t)(2 * inc_of[v][i] + v));
		/* Kill again only once the replacement is attached: with every party
		 * of a role gone, IPC_EOD or -EPIPE would be right, not a failure. */
		for (inc = inc_of[v][i]; !D->joined[v][inc]; sched_yield())
			if (ipct_now_ns() >= deadline + IPCT_MS(ipct_scaled_ms(D_STALL_MS))) {
				ipct_party_dump(&live[0][0], 2 * D_SIDE, "producers, then consumers");
				cr_assert_fail("seed %#x: replacement %u did not attach in time (%s; "
					       "first failure: %s in party %u; stacks on stderr)", D_SEED,
					       inc, ipct_party_describe(live[v][i], where, sizeof where),
					       ipct_rc_text(D->rc, why, 48), D->who);
			}
	}
	D->stop = 1;
	for (int k = 0; k < 2 * D_SIDE; k++) { /* producers first: then consumers can end */
		int st = ipct_party_wait(live[k / D_SIDE][k % D_SIDE], 5000);
		cr_assert(st == 0, "seed %#x: %s %u %s (status %d; first failure: %s in party %u)",
			  D_SEED, k / D_SIDE ? "consumer" : "producer", inc_of[k / D_SIDE][k % D_SIDE],
			  st == -ETIMEDOUT ? "was still running at the deadline" : "failed", st,
			  ipct_rc_text(D->rc, why, 48), D->who);
	}
	cr_assert(kills >= 10, "BROKEN: seed %#x: only %u kills", D_SEED, kills);
	cr_assert_eq(D->bad, 0, "seed %#x: %u torn or unknown items got", D_SEED, (unsigned)D->bad);
	cr_assert_eq(D->dup, 0, "seed %#x: %u items got twice", D_SEED, (unsigned)D->dup);
	for (uint32_t inc = 0; inc < ninc[0]; inc++)
		for (uint32_t seq = 0; seq < D->done[0][inc]; seq++)
			missing += !(D->got[inc][seq / 8] >> seq % 8 & 1);
	cr_assert(missing <= (v ? kills : 0), "seed %#x: %u items whose put had returned were lost, "
		  "after %u %s kills", D_SEED, missing, kills, v ? "consumer" : "producer");
}

Test(shmbuf, SHMBUF_DEATH_3__producers_killed_mid_stream_lose_or_tear_nothing)
{
	IPCT_REQUIRE(D_NEEDS | IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_BLOCKING);
	d_campaign(0);
}

Test(shmbuf, SHMBUF_DEATH_4__consumers_killed_mid_stream_lose_at_most_one_each)
{
	IPCT_REQUIRE(D_NEEDS | IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_BLOCKING);
	d_campaign(1);
}
