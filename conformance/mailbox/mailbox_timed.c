/* SPDX-License-Identifier: MIT */
/*
 * Verify that timed receives keep their deadline: on an empty mailbox
 * -ETIMEDOUT comes no sooner than the timeout, a message arriving before the
 * deadline is returned instead, and a receive that timed out has taken
 * nothing (a slow sender's messages all arrive once, in order, between
 * expiring receives).
 * Clauses: MAILBOX-NB-3, MAILBOX-NB-5.
 */
#include "ipct.h"

#define OPS    ipct_mailbox()
#define SLOW_N 150

Test(mailbox, MAILBOX_NB_3__timed_recv_expires_no_sooner_than_its_timeout)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_TIMED);
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	char buf[16];
	int64_t t0 = ipct_now_ns();
	EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, IPCT_MS(50)), IPC_ETIMEDOUT);
	int64_t took = ipct_now_ns() - t0;
	cr_assert(took >= IPCT_MS(50), "recv timed out after %lld ns, before its 50 ms",
		  (long long)took);
	cr_assert(took < IPCT_MS(ipct_scaled_ms(5000)), "a 50 ms recv took %lld ns",
		  (long long)took);
	t0 = ipct_now_ns();
	struct ipct_mailbox_call *c = ipct_mailbox_recv_thread(rx, IPCT_MS(10000));
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: a 10 s recv returned %ld at once",
		  (long)c->rc);
	EXPECT_OK(OPS->send(tx, "early", 5, IPCT_MS(1000)));
	EXPECT_RC(ipct_mailbox_call_result(c), 5);
	cr_assert(memcmp(c->buf, "early", 5) == 0, "the receiver got \"%.5s\"", (char *)c->buf);
	cr_assert(ipct_now_ns() - t0 < IPCT_MS(10000), "the message was returned only after the "
						       "deadline");
}

struct slow {
	struct ipc_mailbox *tx;
	struct ipct_event *expired; /* [SLOW_N]: a recv expired while waiting for message i */
};

/* Sends message i only after a timed recv waiting for it has expired. */
static int slow_sender(void *argp)
{
	struct slow *s = argp;
	for (uint32_t i = 0; i < SLOW_N; i++) {
		if (ipct_event_wait(&s->expired[i], 5000) != 0)
			return 1;
		if (OPS->send(s->tx, &i, sizeof i, IPCT_MS(5000)) != 0)
			return 2;
	}
	return 0;
}

Test(mailbox, MAILBOX_NB_5__timed_out_recvs_take_nothing)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_TIMED | IPC_MAILBOX_CAP_BOUNDED);
	const char *name = ipct_mailbox_create(2, 0);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	struct slow *s = ipct_shared(sizeof *s);
	s->tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	s->expired = ipct_shared(SLOW_N * sizeof *s->expired);
	struct ipct_party *p = ipct_thread_start(slow_sender, s);
	uint32_t next = 0, got = 0;
	unsigned long expiries = 0;
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(20000));
	while (next < SLOW_N && ipct_now_ns() < deadline) {
		ssize_t n = OPS->recv(rx, &got, sizeof got, IPCT_MS(1));
		if (n == IPC_ETIMEDOUT) {
			expiries++;
			ipct_event_set(&s->expired[next]);
			continue;
		}
		EXPECT_RC(n, sizeof got);
		cr_assert(got == next, "received message %u, expected %u (after %lu expiries)", got,
			  next, expiries);
		next++;
	}
	cr_assert(next == SLOW_N, "only %u of %d messages arrived in 20 s", next, SLOW_N);
	for (int i = 0; i < 3; i++)
		EXPECT_ERR(OPS->recv(rx, &got, sizeof got, IPCT_MS(1)), IPC_ETIMEDOUT);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	cr_assert(expiries >= SLOW_N, "only %lu recvs expired", expiries);
}
