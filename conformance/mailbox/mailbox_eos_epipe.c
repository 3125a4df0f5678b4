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
#define SENTINEL 12345

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

struct blocked {
	struct ipc_mailbox *h;
	_Atomic long rc; /* SENTINEL until the call returns */
};

static int blocked_send(void *argp)
{
	struct blocked *b = argp;
	ipct_party_enter_call();
	b->rc = MB->send(b->h, "late", 4, -1);
	ipct_party_leave_call();
	return 0;
}

/* Start fn on b in a thread and check that it blocks. */
static struct ipct_party *start_blocked(ipct_party_fn fn, struct blocked *b, const char *what)
{
	b->rc = SENTINEL;
	struct ipct_party *t = ipct_thread_start(fn, b);
	cr_assert(ipct_party_wait_blocked(t, 2000) && b->rc == SENTINEL,
		  "BROKEN: %s returned %ld instead of blocking", what, (long)b->rc);
	return t;
}

Test(mailbox, MAILBOX_EOS_4__last_receiver_close_wakes_blocked_sender_with_epipe)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM | IPC_MAILBOX_CAP_BOUNDED |
		     IPC_MAILBOX_CAP_BLOCKING);
	const char *name = ipct_mailbox_create(1, 64);
	struct ipc_mailbox *r = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	struct blocked b = {.h = ipct_mailbox_open(name, IPC_MAILBOX_SEND)};
	SAFE_RC(MB->send(b.h, "fill", 4, -1));
	struct ipct_party *t = start_blocked(blocked_send, &b, "send on the full mailbox");
	EXPECT_OK(ipct_mailbox_close(r));
	EXPECT_RC(ipct_party_wait(t, 5000), 0);
	EXPECT_ERR(b.rc, IPC_EPIPE);
}
