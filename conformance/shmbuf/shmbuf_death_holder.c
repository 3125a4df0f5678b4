/* SPDX-License-Identifier: MIT */
/*
 * Verify that a producer killed while it holds the producers' side of the
 * buffer does not leave the next producer waiting forever. A lone producer
 * that has put many items may keep its side between puts (the reference
 * does, to spare a locked instruction per put); killed there, its lock must
 * be taken over by the next producer. Unlike the random campaign of
 * SHMBUF-DEATH-3, this instant is chosen, so a subject that never takes over
 * a dead holder's lock fails here every time.
 * Clause: SHMBUF-DEATH-3.
 */
#include <signal.h>
#include <unistd.h>

#include "ipct.h"

#define H_ITEMS 256 /* enough puts for a lone producer to keep its side */

struct holder_arg {
	const char *name;
	struct ipct_event *done; /* every put has returned */
	long rc; /* read once the party has ended */
};

/* Put H_ITEMS items, say so, then wait to be killed without detaching. */
static int lone_producer(void *argp)
{
	struct holder_arg *a = argp;
	struct ipc_shmbuf *h = NULL;
	unsigned char item[64];
	if ((a->rc = ipct_shmbuf()->attach(a->name, IPC_SHMBUF_PRODUCER, &h)) != 0)
		return 1;
	for (uint32_t seq = 0; seq < H_ITEMS; seq++)
		if ((a->rc = ipct_shmbuf()->put(h, item, ipct_item_fill(item, sizeof item, 1, seq),
						IPC_TIMEOUT_INFINITE)) != 0)
			return 2;
	ipct_event_set(a->done);
	for (;;)
		pause();
}

/* The next producer's one put, in a party so that a hang is seen, not suffered. */
static int next_producer(void *argp)
{
	struct holder_arg *a = argp;
	struct ipc_shmbuf *h = NULL;
	unsigned char item[64];
	if (ipct_shmbuf()->attach(a->name, IPC_SHMBUF_PRODUCER, &h) != 0)
		return 1;
	a->rc = ipct_shmbuf()->put(h, item, ipct_item_fill(item, sizeof item, 2, 0),
				   IPC_TIMEOUT_INFINITE);
	return a->rc == 0 && ipct_shmbuf()->detach(h) == 0 ? 0 : 2;
}

Test(shmbuf, SHMBUF_DEATH_3__a_producer_killed_holding_its_side_does_not_block_the_next)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_PEER_DEATH | IPC_SHMBUF_CAP_CROSS_PROCESS |
		     IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_BLOCKING);
	struct holder_arg *a = ipct_shared(sizeof *a);
	unsigned char item[64];
	uint32_t prod, seq;
	a->name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_UNBOUNDED) ? 0 : 2 * H_ITEMS, sizeof item);
	a->done = ipct_event_new();
	struct ipc_shmbuf *c = SAFE_CONSUMER(a->name);
	struct ipct_party *p = ipct_process_start(lone_producer, a);
	cr_assert(ipct_event_wait(a->done, 5000) == 0, "BROKEN: the lone producer's puts failed "
		  "(status %d, rc %ld)", ipct_party_wait(p, 0), (long)a->rc);
	ipct_party_kill(p);
	cr_assert_eq(ipct_party_wait(p, 2000), 128 + SIGKILL, "BROKEN: the producer was not killed");
	struct ipct_party *q = ipct_process_start(next_producer, a);
	int st = ipct_party_wait(q, 5000);
	cr_assert(st == 0, "the next producer's put %s (status %d, rc %ld)",
		  st == -ETIMEDOUT ? "never returned: the dead producer's lock was never taken over"
				   : "failed", st, (long)a->rc);
	for (uint32_t i = 0; i <= H_ITEMS; i++) {
		ssize_t n = ipct_shmbuf()->get(c, item, sizeof item, 0);
		cr_assert(n == (ssize_t)sizeof item && ipct_item_check(item, (size_t)n, &prod, &seq) == 0,
			  "item %u: get returned %ld or a torn item", i, (long)n);
	}
}
