/* SPDX-License-Identifier: MIT */
/*
 * Verify that the timeout of send and recv is obeyed: 0 never waits (-EAGAIN
 * at once on an empty mailbox, taking nothing), -1 waits for a message, an
 * operation that can complete at once completes for timeouts 0 and 1 ns,
 * and a timeout below -1 is -EINVAL and moves no message.
 * Clauses: MAILBOX-NB-1, MAILBOX-NB-2, MAILBOX-NB-4, MAILBOX-NB-6.
 */
#include "ipct.h"

#define OPS ipct_mailbox()

Test(mailbox, MAILBOX_NB_1__nonblocking_recv_on_empty_mailbox_is_eagain_at_once)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	char buf[16];
	for (int i = 0; i < 3; i++) {
		int64_t t0 = ipct_now_ns();
		EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, 0), IPC_EAGAIN);
		int64_t took = ipct_now_ns() - t0;
		cr_assert(took < IPCT_MS(ipct_scaled_ms(500)), "the -EAGAIN took %lld ns",
			  (long long)took);
	}
	EXPECT_OK(OPS->send(tx, "after", 5, 0));
	EXPECT_RC(OPS->recv(rx, buf, sizeof buf, 0), 5);
	cr_assert(memcmp(buf, "after", 5) == 0, "received \"%.5s\"", buf);
}

Test(mailbox, MAILBOX_NB_2__blocking_recv_waits_for_a_message)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BLOCKING);
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	struct ipct_mailbox_call *c = ipct_mailbox_recv_thread(rx, -1);
	cr_assert(ipct_mailbox_call_blocks(c),
		  "recv on the empty mailbox returned %ld instead of "
		  "blocking",
		  (long)c->rc);
	EXPECT_OK(OPS->send(tx, "wake", 4, -1));
	EXPECT_RC(ipct_mailbox_call_result(c), 4);
	cr_assert(memcmp(c->buf, "wake", 4) == 0, "the receiver got \"%.4s\"", (char *)c->buf);
}

Test(mailbox, MAILBOX_NB_4__what_can_complete_at_once_completes_for_timeouts_0_and_1ns)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_NONBLOCK | IPC_MAILBOX_CAP_TIMED);
	struct ipc_mailbox *h = ipct_mailbox_open(ipct_mailbox_create_queue(0), IPCT_MAILBOX_BOTH);
	const int64_t timeouts[] = {0, 1};
	char buf[16];
	for (int i = 0; i < 2; i++) {
		int64_t t0 = ipct_now_ns();
		EXPECT_OK(OPS->send(h, "room", 4, timeouts[i]));
		EXPECT_OK(OPS->send(h, "more", 4, timeouts[i]));
		EXPECT_RC(OPS->recv(h, buf, sizeof buf, timeouts[i]), 4);
		cr_assert(memcmp(buf, "room", 4) == 0, "timeout %lld: received \"%.4s\"",
			  (long long)timeouts[i], buf);
		EXPECT_RC(OPS->recv(h, buf, sizeof buf, timeouts[i]), 4);
		cr_assert(memcmp(buf, "more", 4) == 0, "timeout %lld: received \"%.4s\"",
			  (long long)timeouts[i], buf);
		int64_t took = ipct_now_ns() - t0;
		cr_assert(took < IPCT_MS(ipct_scaled_ms(500)),
			  "four calls that could complete at "
			  "once took %lld ns",
			  (long long)took);
	}
}

Test(mailbox, MAILBOX_NB_6__a_timeout_below_minus_1_is_einval_and_moves_nothing)
{
	struct ipc_mailbox *h = ipct_mailbox_open(ipct_mailbox_create_queue(0), IPCT_MAILBOX_BOTH);
	const int64_t bad[] = {-2, -1000000000, INT64_MIN};
	char buf[16];
	SAFE_RC(OPS->send(h, "kept", 4, ipct_mailbox_at_once()));
	for (int i = 0; i < 3; i++) {
		EXPECT_ERR(OPS->recv(h, buf, sizeof buf, bad[i]), IPC_EINVAL);
		EXPECT_ERR(OPS->send(h, "bad", 3, bad[i]), IPC_EINVAL);
	}
	EXPECT_RC(OPS->recv(h, buf, sizeof buf, ipct_mailbox_at_once()), 4);
	cr_assert(memcmp(buf, "kept", 4) == 0, "received \"%.4s\", not \"kept\"", buf);
	SAFE_RC(OPS->send(h, "last", 4, ipct_mailbox_at_once()));
	EXPECT_RC(OPS->recv(h, buf, sizeof buf, ipct_mailbox_at_once()), 4);
	cr_assert(memcmp(buf, "last", 4) == 0, "received \"%.4s\": a refused send queued", buf);
}
