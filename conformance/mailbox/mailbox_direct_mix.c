/* SPDX-License-Identifier: MIT */
/*
 * Verify that send_to an id that is no open party of the mailbox (0, never
 * issued, or a closed party's) fails with IPC_ESRCH and queues nothing anywhere,
 * and that indirect and direct naming never take each other's messages.
 * Clauses: MAILBOX-DIRECT-5, MAILBOX-DIRECT-8.
 */
#include "ipct.h"

#define MB ipct_mailbox()

static const char *queuing_mailbox(void)
{
	return ipct_mailbox_create(ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 16 : IPC_MAILBOX_UNBOUNDED,
				   64);
}

/* Nothing is queued for h, by either kind of naming. */
static void expect_nothing_for(struct ipc_mailbox *h, const char *who)
{
	unsigned char buf[64];
	ipc_mailbox_id from = 0;
	ssize_t any = MB->recv_any(h, &from, buf, sizeof buf, 0);
	ssize_t ind = MB->recv(h, buf, sizeof buf, 0);
	cr_assert(any == IPC_EAGAIN && ind == IPC_EAGAIN,
		  "after the refused send_to, %s's recv_any returned %zd and recv %zd (-EAGAIN "
		  "expected: nothing queued)",
		  who, any, ind);
}

Test(mailbox, MAILBOX_DIRECT_5__send_to_no_open_party_is_esrch_and_queues_nothing)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *a = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *b = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *gone = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	ipc_mailbox_id ida = ipct_mailbox_id(a), idb = ipct_mailbox_id(b);
	ipc_mailbox_id closed = ipct_mailbox_id(gone);
	SAFE_RC(ipct_mailbox_close(gone));
	/* Ids no party of this mailbox holds: 0, and values beside the open ones. */
	ipc_mailbox_id never[4] = {0, UINT64_MAX, (ida > idb ? ida : idb) + 1000003, ida ^ idb};
	for (int i = 0; i < 4; i++) {
		if (never[i] == ida || never[i] == idb || never[i] == closed)
			continue;
		EXPECT_ERR(MB->send_to(a, never[i], "lost", 4, 0), IPC_ESRCH);
	}
	EXPECT_ERR(MB->send_to(a, closed, "lost", 4, 0), IPC_ESRCH);
	EXPECT_ERR(MB->send_to(b, closed, "lost", 4, 0), IPC_ESRCH);
	expect_nothing_for(a, "the sender");
	expect_nothing_for(b, "another party");
}

Test(mailbox, MAILBOX_DIRECT_8__indirect_and_direct_messages_do_not_mix)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = queuing_mailbox();
	struct ipc_mailbox *a = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *b = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	ipc_mailbox_id ida = ipct_mailbox_id(a), idb = ipct_mailbox_id(b), from = 0;
	char buf[64];
	/* Indirect: neither recv_any nor recv_from returns it; recv does. */
	SAFE_RC(MB->send(a, "indirect", 8, 0));
	EXPECT_ERR(MB->recv_any(b, &from, buf, sizeof buf, 0), IPC_EAGAIN);
	EXPECT_ERR(MB->recv_from(b, ida, buf, sizeof buf, 0), IPC_EAGAIN);
	EXPECT_ERR(MB->recv_any(a, &from, buf, sizeof buf, 0), IPC_EAGAIN);
	EXPECT_RC(MB->recv(b, buf, sizeof buf, 0), 8);
	cr_assert(memcmp(buf, "indirect", 8) == 0, "recv changed the indirect message");
	/* Direct: recv does not return it; recv_any and recv_from do. */
	SAFE_RC(MB->send_to(a, idb, "direct-1", 8, 0));
	SAFE_RC(MB->send_to(a, idb, "direct-2", 8, 0));
	EXPECT_ERR(MB->recv(b, buf, sizeof buf, 0), IPC_EAGAIN);
	EXPECT_ERR(MB->recv(a, buf, sizeof buf, 0), IPC_EAGAIN);
	EXPECT_RC(MB->recv_any(b, &from, buf, sizeof buf, 0), 8);
	cr_assert(memcmp(buf, "direct-1", 8) == 0 && from == ida, "recv_any: wrong message or id");
	EXPECT_RC(MB->recv_from(b, ida, buf, sizeof buf, 0), 8);
	cr_assert(memcmp(buf, "direct-2", 8) == 0, "recv_from: wrong message");
}
