/* SPDX-License-Identifier: MIT */
/*
 * Verify that a recv_from(Q) blocked on the inbox is not ended by another
 * party's message but by Q's, the other message staying queued; and that
 * once Q has closed, recv_from(Q) drains Q's messages and then gives IPC_EOD,
 * on every later call too.
 * Clauses: MAILBOX-DIRECT-6, MAILBOX-DIRECT-7.
 */
#include "ipct.h"

#define MB       ipct_mailbox()
#define SENTINEL 12345

static const char *queuing_mailbox(void)
{
	return ipct_mailbox_create(ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 16 : IPC_MAILBOX_UNBOUNDED,
				   64);
}

/* A timeout for calls that can complete at once: 0, else long. */
static int64_t now_tmo(void)
{
	if (ipct_has(IPC_MAILBOX_CAP_NONBLOCK))
		return 0;
	return ipct_has(IPC_MAILBOX_CAP_TIMED) ? IPCT_MS(ipct_scaled_ms(5000)) : -1;
}

struct waiter {
	struct ipc_mailbox *p;
	ipc_mailbox_id q;
	char buf[64];
	_Atomic long rc; /* SENTINEL until recv_from returns */
};

static int blocked_recv_from(void *argp)
{
	struct waiter *w = argp;
	ipct_party_enter_call();
	w->rc = MB->recv_from(w->p, w->q, w->buf, sizeof w->buf, -1);
	ipct_party_leave_call();
	return 0;
}

Test(mailbox, MAILBOX_DIRECT_6__blocked_recv_from_ignores_others_and_takes_q)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_BLOCKING);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *p = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *q = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *r = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	ipc_mailbox_id pid = ipct_mailbox_id(p), rid = ipct_mailbox_id(r), from = 0;
	struct waiter w = {.p = p, .q = ipct_mailbox_id(q), .rc = SENTINEL};
	char buf[64];
	struct ipct_party *t = ipct_thread_start(blocked_recv_from, &w);
	cr_assert(ipct_party_wait_blocked(t, 2000) && w.rc == SENTINEL,
		  "BROKEN: recv_from(Q) returned %ld instead of blocking", (long)w.rc);
	SAFE_RC(MB->send_to(r, pid, "from-r", 6, now_tmo()));
	cr_assert(ipct_party_wait_blocked(t, 2000) && w.rc == SENTINEL,
		  "recv_from(Q) did not stay blocked after R sent: it returned %ld", (long)w.rc);
	SAFE_RC(MB->send_to(q, pid, "from-q", 6, now_tmo()));
	EXPECT_RC(ipct_party_wait(t, 5000), 0);
	EXPECT_RC(w.rc, 6);
	cr_assert(memcmp(w.buf, "from-q", 6) == 0, "recv_from(Q) returned another message");
	EXPECT_RC(MB->recv_any(p, &from, buf, sizeof buf, now_tmo()), 6);
	cr_assert(memcmp(buf, "from-r", 6) == 0 && from == rid, "R's message was not kept queued");
}

Test(mailbox, MAILBOX_DIRECT_7__after_q_closes_its_messages_then_eod)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_END_OF_STREAM);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *p = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *q = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *r = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	ipc_mailbox_id pid = ipct_mailbox_id(p), qid = ipct_mailbox_id(q);
	char buf[64];
	SAFE_RC(MB->send_to(q, pid, "q-first", 7, now_tmo()));
	SAFE_RC(MB->send_to(r, pid, "r-stays", 7, now_tmo())); /* R is still open */
	SAFE_RC(MB->send_to(q, pid, "q-second", 8, now_tmo()));
	SAFE_RC(ipct_mailbox_close(q));
	EXPECT_RC(MB->recv_from(p, qid, buf, sizeof buf, now_tmo()), 7);
	cr_assert(memcmp(buf, "q-first", 7) == 0, "recv_from(Q) returned another message first");
	EXPECT_RC(MB->recv_from(p, qid, buf, sizeof buf, now_tmo()), 8);
	cr_assert(memcmp(buf, "q-second", 8) == 0, "recv_from(Q) returned another message second");
	for (int i = 0; i < 3; i++)
		EXPECT_ERR(MB->recv_from(p, qid, buf, sizeof buf, now_tmo()), IPC_EOD);
}
