/* SPDX-License-Identifier: MIT */
/*
 * Verify that a bounded mailbox of capacity n holds exactly n messages: the
 * next non-blocking send is -EAGAIN and queues nothing, a blocking one waits
 * for a receiver and then queues its message after the others, a timed one
 * expires no sooner than its timeout and queues nothing, and one recv frees
 * exactly one place.
 * Clauses: MAILBOX-BOUND-1, MAILBOX-BOUND-2, MAILBOX-BOUND-3, MAILBOX-BOUND-4.
 */
#include "ipct.h"

#define OPS   ipct_mailbox()
#define LEN   40
#define SMALL 1000 /* max_msg for which LEN-byte messages are small */

/* Send item seq (LEN bytes, self-checking) with timeout t: the subject's result. */
static long send_item(struct ipc_mailbox *h, uint32_t seq, int64_t t)
{
	unsigned char buf[LEN];
	ipct_item_fill(buf, LEN, 7, seq);
	return OPS->send(h, buf, LEN, t);
}

/* Receive with timeout t and check it is item seq. */
static void expect_item(struct ipc_mailbox *h, uint32_t seq, int64_t t)
{
	unsigned char buf[2 * LEN];
	uint32_t who = 0, got = ~0u;
	EXPECT_RC(OPS->recv(h, buf, sizeof buf, t), LEN);
	cr_assert(ipct_item_check(buf, LEN, &who, &got) == 0 && who == 7 && got == seq,
		  "received item %u (or a torn one), expected item %u", got, seq);
}

/* A bounded mailbox of capacity n with its n places filled (items 0..n-1);
 * max_msg LEN makes it full by bytes too, SMALL by the count alone. */
static void full(size_t n, size_t max_msg, struct ipc_mailbox **tx, struct ipc_mailbox **rx)
{
	const char *name = ipct_mailbox_create(n, max_msg);
	*tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	*rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	for (uint32_t i = 0; i < n; i++)
		EXPECT_OK(send_item(*tx, i, ipct_mailbox_at_once()));
}

Test(mailbox, MAILBOX_BOUND_1__exactly_n_messages_fit)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BOUNDED | IPC_MAILBOX_CAP_NONBLOCK);
	const size_t sizes[] = {1, 7};
	for (int k = 0; k < 2; k++) {
		struct ipc_mailbox *tx, *rx;
		char buf[2 * LEN];
		full(sizes[k], SMALL, &tx, &rx);
		EXPECT_ERR(send_item(tx, (uint32_t)sizes[k], 0), IPC_EAGAIN);
		for (uint32_t i = 0; i < sizes[k]; i++)
			expect_item(rx, i, 0);
		EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, 0), IPC_EAGAIN);
	}
}

Test(mailbox, MAILBOX_BOUND_2__blocking_send_on_full_mailbox_waits_for_one_recv)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BOUNDED | IPC_MAILBOX_CAP_BLOCKING);
	struct ipc_mailbox *tx, *rx;
	unsigned char msg[LEN];
	full(3, LEN, &tx, &rx);
	ipct_item_fill(msg, LEN, 7, 3);
	struct ipct_mailbox_call *c = ipct_mailbox_send_thread(tx, msg, LEN, -1);
	cr_assert(ipct_mailbox_call_blocks(c),
		  "send on the full mailbox returned %ld instead of "
		  "blocking",
		  (long)c->rc);
	expect_item(rx, 0, -1);
	EXPECT_OK(ipct_mailbox_call_result(c));
	for (uint32_t i = 1; i <= 3; i++)
		expect_item(rx, i, -1);
}

Test(mailbox, MAILBOX_BOUND_3__timed_send_on_full_mailbox_expires_and_queues_nothing)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BOUNDED | IPC_MAILBOX_CAP_TIMED);
	struct ipc_mailbox *tx, *rx;
	char buf[2 * LEN];
	full(2, LEN, &tx, &rx);
	int64_t t0 = ipct_now_ns();
	EXPECT_ERR(send_item(tx, 2, IPCT_MS(50)), IPC_ETIMEDOUT);
	int64_t took = ipct_now_ns() - t0;
	cr_assert(took >= IPCT_MS(50), "send timed out after %lld ns, before its 50 ms",
		  (long long)took);
	cr_assert(took < IPCT_MS(ipct_scaled_ms(5000)), "a 50 ms send took %lld ns",
		  (long long)took);
	expect_item(rx, 0, IPCT_MS(1000));
	expect_item(rx, 1, IPCT_MS(1000));
	EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, IPCT_MS(20)), IPC_ETIMEDOUT);
}

Test(mailbox, MAILBOX_BOUND_4__one_recv_frees_exactly_one_place)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BOUNDED | IPC_MAILBOX_CAP_NONBLOCK);
	struct ipc_mailbox *tx, *rx;
	char buf[2 * LEN];
	full(4, SMALL, &tx, &rx);
	EXPECT_ERR(send_item(tx, 99, 0), IPC_EAGAIN);
	expect_item(rx, 0, 0);
	EXPECT_OK(send_item(tx, 4, 0));
	EXPECT_ERR(send_item(tx, 5, 0), IPC_EAGAIN);
	for (uint32_t i = 1; i <= 4; i++)
		expect_item(rx, i, 0);
	EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, 0), IPC_EAGAIN);
}
