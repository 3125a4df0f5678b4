/* SPDX-License-Identifier: MIT */
/*
 * Verify that items come out in order and exactly once: FIFO across many wrap-arounds, each
 * producer's order kept for every consumer, M x N exchanges with nothing lost, duplicated or
 * torn, and a returned put visible at once to a timeout-0 get. Clauses: SHMBUF-ORD-1,
 * SHMBUF-ORD-2, SHMBUF-DLV-1, SHMBUF-DLV-2. Fixture: the suite's, in shmbuf_capacity.c.
 */
#include <sched.h>
#include "ipct.h"

#define CAP(n)   (ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? (n) : 0u) /* unbounded-only: no limit */
#define MAX_ITEM 256
#define MAX_PROD 4
#define PER_PROD 2000

Test(shmbuf, SHMBUF_ORD_1__fifo_across_many_wraparounds)
{
	const char *name = SAFE_CREATE(CAP(7u), MAX_ITEM);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	unsigned char b[MAX_ITEM];
	uint32_t put = 0, got = 0, rnd = 12345, who, seq = ~0u;
	int64_t now = ipct_has(IPC_SHMBUF_CAP_NONBLOCK) ? 0 /* for calls done at once */
		      : ipct_has(IPC_SHMBUF_CAP_TIMED) ? IPCT_MS(1000) : IPC_TIMEOUT_INFINITE;
	/* Bursts of puts and gets, never more than 7 queued, so nothing waits. */
	while (got < 10000) {
		rnd = rnd * 1103515245u + 12345u;
		if (put < 10000 && put - got < 7 && (put == got || (rnd >> 16) % 3 != 0)) {
			size_t len = ipct_item_fill(b, 16 + (rnd >> 8) % (MAX_ITEM - 15), 1, put++);
			EXPECT_OK(ipct_shmbuf()->put(p, b, len, now));
			continue;
		}
		ssize_t n = ipct_shmbuf()->get(c, b, sizeof b, now);
		cr_assert(n >= 0 && ipct_item_check(b, (size_t)n, &who, &seq) == 0 && seq == got,
			  "get %u returned %zd: item %u, where item %u was due", got, n, seq, got);
		got++;
	}
}

/* Producers put PER_PROD items each, with timeout tmo; consumers record what they got.
 * Party statuses: 0 done, 1 attach, 2 put or get, 3 detach failed. */
struct mpmc {
	const char *name;
	int64_t tmo;
	_Atomic uint32_t next_producer, returned, bad, disorder;
	_Atomic uint32_t seen[MAX_PROD][PER_PROD]; /* times each item was got */
};

static int mpmc_producer(void *argp)
{
	struct mpmc *m = argp;
	struct ipc_shmbuf *h = NULL;
	unsigned char b[MAX_ITEM];
	uint32_t id = atomic_fetch_add(&m->next_producer, 1);
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(10000));
	if (ipct_shmbuf()->attach(m->name, IPC_SHMBUF_PRODUCER, &h) != 0)
		return 1;
	for (uint32_t seq = 0; seq < PER_PROD; seq++) {
		size_t len = ipct_item_fill(b, 16 + (seq * 7 + id * 13) % (MAX_ITEM - 15), id, seq);
		int rc; /* with timeout 0 (DLV-2), retried until the test's get makes room */
		while ((rc = ipct_shmbuf()->put(h, b, len, m->tmo)) == IPC_EAGAIN &&
		       ipct_now_ns() < deadline)
			sched_yield();
		if (rc != 0)
			return 2;
		atomic_fetch_add(&m->returned, 1);
	}
	return ipct_shmbuf()->detach(h) == 0 ? 0 : 3;
}

/* Consume until a zero-length item, the test's "stop". */
static int mpmc_consumer(void *argp)
{
	struct mpmc *m = argp;
	struct ipc_shmbuf *h = NULL;
	unsigned char b[MAX_ITEM];
	int64_t last[MAX_PROD] = { -1, -1, -1, -1 };
	uint32_t id, seq;
	ssize_t n;
	if (ipct_shmbuf()->attach(m->name, IPC_SHMBUF_CONSUMER, &h) != 0)
		return 1;
	while ((n = ipct_shmbuf()->get(h, b, sizeof b, IPC_TIMEOUT_INFINITE)) > 0) {
		if (ipct_item_check(b, (size_t)n, &id, &seq) || id >= MAX_PROD || seq >= PER_PROD) {
			atomic_fetch_add(&m->bad, 1);
			continue;
		}
		atomic_fetch_add(&m->seen[id][seq], 1);
		atomic_fetch_add(&m->disorder, (int64_t)seq <= last[id]);
		last[id] = seq;
	}
	return n != 0 ? 2 : ipct_shmbuf()->detach(h) == 0 ? 0 : 3;
}

static struct mpmc *run_mpmc(unsigned nprod, unsigned ncons, unsigned cap)
{
	struct mpmc *m = ipct_shared(sizeof *m);
	struct ipct_party *pp[MAX_PROD], *cp[MAX_PROD];
	m->name = SAFE_CREATE(CAP(cap), MAX_ITEM);
	m->tmo = IPC_TIMEOUT_INFINITE;
	struct ipc_shmbuf *p = SAFE_PRODUCER(m->name); /* keeps the stream open */
	for (unsigned i = 0; i < ncons; i++)
		cp[i] = ipct_party_start(mpmc_consumer, m);
	for (unsigned i = 0; i < nprod; i++)
		pp[i] = ipct_party_start(mpmc_producer, m);
	for (unsigned i = 0; i < nprod; i++)
		EXPECT_RC(ipct_party_wait(pp[i], 10000), 0);
	for (unsigned i = 0; i < ncons; i++) /* one "stop" each, behind every item */
		SAFE_RC(ipct_shmbuf()->put(p, "", 0, m->tmo));
	for (unsigned i = 0; i < ncons; i++)
		EXPECT_RC(ipct_party_wait(cp[i], 10000), 0);
	cr_assert(m->bad == 0, "%u items got were torn, altered or unknown", m->bad);
	return m;
}

Test(shmbuf, SHMBUF_ORD_2__every_consumer_sees_each_producers_items_in_order)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_BLOCKING);
	struct mpmc *m = run_mpmc(3, 2, 4);
	cr_assert(m->disorder == 0, "%u items came after a later one of the same producer",
		  m->disorder);
}

Test(shmbuf, SHMBUF_DLV_1__every_item_is_got_exactly_once_and_intact)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_BLOCKING);
	struct mpmc *m = run_mpmc(MAX_PROD, 3, 8);
	for (uint32_t id = 0; id < MAX_PROD; id++)
		for (uint32_t seq = 0; seq < PER_PROD; seq++)
			cr_assert(m->seen[id][seq] == 1, "item %u of producer %u was got %u times",
				  seq, id, m->seen[id][seq]);
}

Test(shmbuf, SHMBUF_DLV_2__a_returned_put_is_got_by_a_timeout_0_get_at_once)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_NONBLOCK);
	struct mpmc *m = ipct_shared(sizeof *m); /* one producer, tmo 0 */
	m->name = SAFE_CREATE(CAP(2u), MAX_ITEM);
	struct ipc_shmbuf *c = SAFE_CONSUMER(m->name);
	struct ipct_party *producer = ipct_party_start(mpmc_producer, m);
	unsigned char b[MAX_ITEM];
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(10000));
	/* Whenever more puts have returned than items were got, one is there to get. */
	for (uint32_t got = 0, returned; got < PER_PROD; got++) {
		while ((returned = atomic_load(&m->returned)) == got && ipct_now_ns() < deadline)
			sched_yield();
		cr_assert(returned > got, "the producer stalled after %u puts", returned);
		ssize_t n = ipct_shmbuf()->get(c, b, sizeof b, 0);
		cr_assert(n > 0, "get (timeout 0) returned %zd after put %u returned", n, got + 1);
	}
	EXPECT_RC(ipct_party_wait(producer, 10000), 0);
}
