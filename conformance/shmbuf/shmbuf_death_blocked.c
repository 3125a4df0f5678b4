/* SPDX-License-Identifier: MIT */
/*
 * Verify that a participant killed with SIGKILL counts as detached: a peer
 * blocked on it (a consumer on the empty buffer, a producer on the full one)
 * returns IPC_EOD or -EPIPE within a bounded time.
 * Clauses: SHMBUF-DEATH-1, SHMBUF-DEATH-2.
 */
#include <signal.h>
#include <unistd.h>

#include "ipct.h"

#define D_NEEDS (IPC_SHMBUF_CAP_PEER_DEATH | IPC_SHMBUF_CAP_CROSS_PROCESS)

struct d_shared {
	const char *name;
	struct ipct_event *attached; /* the victim is attached */
	_Atomic long rc;             /* the survivor's result (1 = none yet) */
};
static struct d_shared *D; /* set before the forks */

/* arg = role + 4 * survivor. A victim attaches and sleeps until killed; a
 * survivor blocks in a get on the empty buffer or a put on the full one. */
static int d_one(void *arg)
{
	int role = (int)(intptr_t)arg & 3;
	struct ipc_shmbuf *h = NULL;
	size_t v = 1;
	if (ipct_shmbuf()->attach(D->name, role, &h) != 0)
		return 2;
	ipct_event_set(D->attached);
	while ((intptr_t)arg < 4) /* a victim: wait for SIGKILL */
		pause();
	if (role == IPC_SHMBUF_PRODUCER && /* fill the capacity-1 buffer first */
	    ipct_shmbuf()->put(h, &v, sizeof v, IPC_TIMEOUT_INFINITE) != 0)
		return 4;
	ipct_party_enter_call();
	D->rc = role == IPC_SHMBUF_PRODUCER ? ipct_shmbuf()->put(h, &v, sizeof v, IPC_TIMEOUT_INFINITE)
					    : ipct_shmbuf()->get(h, &v, sizeof v, IPC_TIMEOUT_INFINITE);
	ipct_party_leave_call();
	return ipct_shmbuf()->detach(h) == 0 ? 0 : 3;
}

static void d_kill_last_peer(intptr_t survivor, long want)
{
	D = ipct_shared(sizeof *D);
	D->name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 1 : 0, sizeof(size_t));
	D->attached = ipct_event_new();
	D->rc = 1;
	struct ipct_party *victim = ipct_process_start(d_one, (void *)(3 - survivor));
	SAFE_RC(ipct_event_wait(D->attached, 5000));
	struct ipct_party *party = ipct_process_start(d_one, (void *)(survivor + 4));
	ipct_party_wait_blocked(party, 500);
	cr_assert(ipct_party_in_call(party) && D->rc == 1,
		  "BROKEN: the survivor returned %ld instead of blocking", (long)D->rc);
	ipct_party_kill(victim);
	EXPECT_RC(ipct_party_wait(victim, 1000), 128 + SIGKILL);
	int st = ipct_party_wait(party, 5000);
	cr_assert(st == 0, "the blocked survivor %s (status %d)", st == -ETIMEDOUT ?
		  "was still asleep 5 s after its last peer was killed" : "failed", st);
	EXPECT_ERR(D->rc, want);
}

Test(shmbuf, SHMBUF_DEATH_1__killed_last_producer_ends_stream_for_blocked_consumer)
{
	IPCT_REQUIRE(D_NEEDS | IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_BLOCKING);
	d_kill_last_peer(IPC_SHMBUF_CONSUMER, IPC_EOD);
}

Test(shmbuf, SHMBUF_DEATH_2__killed_last_consumer_fails_blocked_producer_with_epipe)
{
	IPCT_REQUIRE(D_NEEDS | IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_BLOCKING |
		     IPC_SHMBUF_CAP_BOUNDED);
	d_kill_last_peer(IPC_SHMBUF_PRODUCER, IPC_EPIPE);
}
