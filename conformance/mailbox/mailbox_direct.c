/* SPDX-License-Identifier: MIT */
/*
 * Verify that direct naming addresses parties: every handle has its own
 * stable non-zero id, send_to(P) reaches P's inbox only, recv_from(Q) takes
 * only Q's messages oldest first and leaves the others in order, and recv_any
 * returns an interleaved inbox in arrival order with each true sender's id.
 * Clauses: MAILBOX-DIRECT-1, MAILBOX-DIRECT-2, MAILBOX-DIRECT-3, MAILBOX-DIRECT-4.
 */
#include "ipct.h"

#define MB ipct_mailbox()

/* A mailbox whose inboxes hold messages: bounded 16, else unbounded. */
static const char *queuing_mailbox(void)
{
	return ipct_mailbox_create(ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 16 : IPC_MAILBOX_UNBOUNDED,
				   64);
}

/* recv_any on h returns a self-checking message of sender index `who`, number
 * seq, from the party whose id is want_id. */
static void expect_any(struct ipc_mailbox *h, ipc_mailbox_id want_id, uint32_t who, uint32_t seq)
{
	unsigned char buf[64];
	ipc_mailbox_id from = 0;
	uint32_t w = 0, s = 0;
	ssize_t n = MB->recv_any(h, &from, buf, sizeof buf, 0);
	cr_assert(n == 32 && ipct_item_check(buf, 32, &w, &s) == 0,
		  "recv_any returned %zd, not message %u of sender %u", n, seq, who);
	cr_assert(w == who && s == seq,
		  "recv_any returned message %u of sender %u, expected %u of %u", s, w, seq, who);
	cr_assert(from == want_id, "recv_any reported sender id %llu, the sender is %llu",
		  (unsigned long long)from, (unsigned long long)want_id);
}

static void send_item(struct ipc_mailbox *from, ipc_mailbox_id to, uint32_t who, uint32_t seq)
{
	unsigned char buf[32];
	SAFE_RC(MB->send_to(from, to, buf, ipct_item_fill(buf, sizeof buf, who, seq), 0));
}

Test(mailbox, MAILBOX_DIRECT_1__each_handle_has_a_stable_distinct_nonzero_id)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT);
	const char *name = queuing_mailbox();
	uint32_t flags[3] = {IPC_MAILBOX_SEND, IPC_MAILBOX_RECV, IPCT_MAILBOX_BOTH};
	struct ipc_mailbox *h[3];
	ipc_mailbox_id id[3], again;
	for (int i = 0; i < 3; i++) {
		h[i] = ipct_mailbox_open(name, flags[i]);
		EXPECT_OK(MB->self_id(h[i], &id[i]));
		cr_assert(id[i] != 0, "self_id of handle %d is 0", i);
	}
	for (int i = 0; i < 3; i++) {
		EXPECT_OK(MB->self_id(h[i], &again));
		cr_assert(again == id[i], "self_id of handle %d changed: %llu, then %llu", i,
			  (unsigned long long)id[i], (unsigned long long)again);
		cr_assert(id[i] != id[(i + 1) % 3], "handles %d and %d share the id %llu", i,
			  (i + 1) % 3, (unsigned long long)id[i]);
	}
}

Test(mailbox, MAILBOX_DIRECT_2__send_to_reaches_that_party_only)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *p = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *q = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *third = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	ipc_mailbox_id from;
	unsigned char buf[64];
	send_item(q, ipct_mailbox_id(p), 1, 0);
	EXPECT_ERR(MB->recv_any(third, &from, buf, sizeof buf, 0), IPC_EAGAIN);
	expect_any(p, ipct_mailbox_id(q), 1, 0);
}

Test(mailbox, MAILBOX_DIRECT_3__recv_from_takes_only_that_senders_messages)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *p = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *q = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *r = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	ipc_mailbox_id pid = ipct_mailbox_id(p), qid = ipct_mailbox_id(q), rid = ipct_mailbox_id(r);
	unsigned char buf[64];
	uint32_t w, s;
	/* Inbox: r0 q0 r1 q1 q2 r2 */
	const uint32_t order[6][2] = {{2, 0}, {1, 0}, {2, 1}, {1, 1}, {1, 2}, {2, 2}};
	for (int i = 0; i < 6; i++)
		send_item(order[i][0] == 1 ? q : r, pid, order[i][0], order[i][1]);
	for (uint32_t seq = 0; seq < 3; seq++) {
		ssize_t n = MB->recv_from(p, qid, buf, sizeof buf, 0);
		cr_assert(n == 32 && ipct_item_check(buf, 32, &w, &s) == 0 && w == 1 && s == seq,
			  "recv_from(Q) #%u returned %zd: message %u of sender %u, expected Q's %u",
			  seq, n, s, w, seq);
	}
	EXPECT_ERR(MB->recv_from(p, qid, buf, sizeof buf, 0), IPC_EAGAIN);
	for (uint32_t seq = 0; seq < 3; seq++)
		expect_any(p, rid, 2, seq);
}

Test(mailbox, MAILBOX_DIRECT_4__recv_any_in_arrival_order_with_true_ids)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *p = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH), *s[3];
	ipc_mailbox_id sid[3];
	uint32_t seq[3] = {0};
	const uint32_t order[12] = {0, 1, 2, 2, 0, 1, 0, 0, 2, 1, 1, 2};
	for (int i = 0; i < 3; i++) {
		s[i] = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
		sid[i] = ipct_mailbox_id(s[i]);
	}
	for (uint32_t k = 0; k < 12; k++)
		send_item(s[order[k]], ipct_mailbox_id(p), order[k], seq[order[k]]++);
	memset(seq, 0, sizeof seq);
	for (uint32_t k = 0; k < 12; k++)
		expect_any(p, sid[order[k]], order[k], seq[order[k]]++);
}
