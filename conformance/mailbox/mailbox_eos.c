/* SPDX-License-Identifier: MIT */
/*
 * Verify that, once every sender has closed, receivers drain what is queued,
 * in order, and then get IPC_EOD at once on every call, whatever the timeout;
 * that the last sender's close wakes a blocked receiver with IPC_EOD; and that
 * a sender that opens the name after IPC_EOD is received again.
 * Clauses: MAILBOX-EOS-1, MAILBOX-EOS-2, MAILBOX-EOS-5.
 */
#include "ipct.h"

#define MB       ipct_mailbox()

static const char *queuing_mailbox(void)
{
	return ipct_mailbox_create(ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 8 : IPC_MAILBOX_UNBOUNDED,
				   64);
}

Test(mailbox, MAILBOX_EOS_1__after_last_sender_closes_drain_then_eod_always)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *r[2] = {ipct_mailbox_open(name, IPC_MAILBOX_RECV),
				    ipct_mailbox_open(name, IPC_MAILBOX_RECV)};
	struct ipc_mailbox *s[2] = {ipct_mailbox_open(name, IPC_MAILBOX_SEND),
				    ipct_mailbox_open(name, IPCT_MAILBOX_BOTH)};
	int64_t t[3];
	int nt = ipct_mailbox_timeouts(t);
	char buf[8];
	for (char c = 'a'; c < 'e'; c++)
		SAFE_RC(MB->send(s[c % 2], &c, 1, t[0]));
	SAFE_RC(ipct_mailbox_close(s[0]));
	SAFE_RC(ipct_mailbox_close(s[1])); /* the last sender (also a receiver) */
	for (char c = 'a'; c < 'e'; c++) {
		EXPECT_RC(MB->recv(r[c % 2], buf, sizeof buf, t[0]), 1);
		cr_assert(buf[0] == c, "after the close, message '%c' came where '%c' was due",
			  buf[0], c);
	}
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 2 * nt; k++)
			MB_EXPECT_AT_ONCE(MB->recv(r[k % 2], buf, sizeof buf, t[k / 2]), IPC_EOD);
}

Test(mailbox, MAILBOX_EOS_2__last_sender_close_wakes_blocked_receiver_with_eod)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM | IPC_MAILBOX_CAP_BLOCKING);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *s = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipct_mailbox_call *c =
	    ipct_mailbox_recv_thread(ipct_mailbox_open(name, IPC_MAILBOX_RECV), -1);
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: recv on the empty mailbox returned %ld "
		  "instead of blocking", (long)c->rc);
	EXPECT_OK(ipct_mailbox_close(s));
	EXPECT_ERR(ipct_mailbox_call_result(c), IPC_EOD);
}

Test(mailbox, MAILBOX_EOS_5__a_new_sender_after_eod_is_received)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *r = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	int64_t t[3];
	ipct_mailbox_timeouts(t);
	char buf[8];
	SAFE_RC(ipct_mailbox_close(ipct_mailbox_open(name, IPC_MAILBOX_SEND)));
	ssize_t eod = MB->recv(r, buf, sizeof buf, t[0]);
	cr_assert(eod == IPC_EOD, "BROKEN: recv returned %zd, not IPC_EOD, after the sender closed",
		  eod);
	struct ipc_mailbox *s = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	SAFE_RC(MB->send(s, "again", 5, t[0]));
	EXPECT_RC(MB->recv(r, buf, sizeof buf, t[0]), 5);
	cr_assert(memcmp(buf, "again", 5) == 0, "the message after IPC_EOD changed");
}
