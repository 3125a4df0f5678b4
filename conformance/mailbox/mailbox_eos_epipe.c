/* SPDX-License-Identifier: MIT */
/*
 * Verify that, once every receiver has closed, send fails with -EPIPE at
 * once, whatever the timeout and the capacity, and raises no SIGPIPE; and
 * that the last receiver's close wakes a sender blocked on the full mailbox
 * with -EPIPE.
 * Clauses: MAILBOX-EOS-3, MAILBOX-EOS-4.
 */
#include <signal.h>

#include "ipct.h"

#define MB       ipct_mailbox()

Test(mailbox, MAILBOX_EOS_3__send_after_last_receiver_closes_is_epipe_without_sigpipe)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM);
	const size_t caps[3] = {0, 8, IPC_MAILBOX_UNBOUNDED};
	const uint64_t bits[3] = {IPC_MAILBOX_CAP_ZERO, IPC_MAILBOX_CAP_BOUNDED,
				  IPC_MAILBOX_CAP_UNBOUNDED};
	int64_t t[3];
	int nt = ipct_mailbox_timeouts(t);
	ipct_signal_default(SIGPIPE); /* a SIGPIPE would kill the test */
	for (int c = 0; c < 3; c++) {
		if (!ipct_has(bits[c]))
			continue;
		const char *name = ipct_mailbox_create(caps[c], 64);
		struct ipc_mailbox *s = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
		SAFE_RC(ipct_mailbox_close(ipct_mailbox_open(name, IPC_MAILBOX_RECV)));
		for (int k = 0; k < nt; k++)
			MB_EXPECT_AT_ONCE(MB->send(s, "x", 1, t[k]), IPC_EPIPE);
	}
}

Test(mailbox, MAILBOX_EOS_4__last_receiver_close_wakes_blocked_sender_with_epipe)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM | IPC_MAILBOX_CAP_BOUNDED |
		     IPC_MAILBOX_CAP_BLOCKING);
	const char *name = ipct_mailbox_create(1, 64);
	struct ipc_mailbox *r = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	struct ipc_mailbox *s = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	SAFE_RC(MB->send(s, "fill", 4, -1));
	struct ipct_mailbox_call *c = ipct_mailbox_send_thread(s, "late", 4, -1);
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: send on the full mailbox returned %ld "
		  "instead of blocking", (long)c->rc);
	EXPECT_OK(ipct_mailbox_close(r));
	EXPECT_ERR(ipct_mailbox_call_result(c), IPC_EPIPE);
}
