/* SPDX-License-Identifier: MIT */
/*
 * Verify that unlink removes the name at once (open and a second unlink are
 * -ENOENT, and a create on the name makes a new, empty mailbox, even while a
 * handle on the old one is open), that it wakes a receiver blocked on the
 * empty mailbox and a sender blocked on the full one with -EIDRM, and that
 * handles still open fail with -EIDRM afterwards.
 * Clauses: MAILBOX-NAME-6, MAILBOX-NAME-7, MAILBOX-NAME-8.
 */
#include "ipct.h"

#define OPS ipct_mailbox()

Test(mailbox, MAILBOX_NAME_6__unlink_removes_the_name_and_create_makes_a_new_mailbox)
{
	const char *name = ipct_mailbox_create_queue(64);
	struct ipc_mailbox_attr attr = {
	    ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 4 : IPC_MAILBOX_UNBOUNDED, 64, 0600, 0};
	struct ipc_mailbox *old = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH), *none = NULL;
	char buf[64];
	SAFE_RC(OPS->send(old, "old", 3, ipct_mailbox_at_once()));
	EXPECT_OK(OPS->unlink(name));
	EXPECT_ERR(OPS->open(name, IPCT_MAILBOX_BOTH, &none), IPC_ENOENT);
	EXPECT_ERR(OPS->unlink(name), IPC_ENOENT);
	EXPECT_OK(OPS->create(name, &attr));
	struct ipc_mailbox *fresh = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	if (ipct_has(IPC_MAILBOX_CAP_NONBLOCK))
		EXPECT_ERR(OPS->recv(fresh, buf, sizeof buf, 0), IPC_EAGAIN);
	SAFE_RC(OPS->send(fresh, "new", 3, ipct_mailbox_at_once()));
	EXPECT_RC(OPS->recv(fresh, buf, sizeof buf, ipct_mailbox_at_once()), 3);
	cr_assert(memcmp(buf, "new", 3) == 0, "the re-created mailbox held \"%.3s\"", buf);
}

Test(mailbox, MAILBOX_NAME_7__unlink_wakes_a_blocked_receiver_with_eidrm)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_REMOVE_WAKES | IPC_MAILBOX_CAP_BLOCKING);
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	struct ipc_mailbox *both = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	char buf[16];
	struct ipct_mailbox_call *c = ipct_mailbox_recv_thread(rx, -1);
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: recv on the empty mailbox did not block");
	EXPECT_OK(OPS->unlink(name));
	EXPECT_ERR(ipct_mailbox_call_result(c), IPC_EIDRM);
	EXPECT_ERR(OPS->send(tx, "x", 1, ipct_mailbox_at_once()), IPC_EIDRM);
	EXPECT_ERR(OPS->send(both, "y", 1, ipct_mailbox_at_once()), IPC_EIDRM);
	EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, ipct_mailbox_at_once()), IPC_EIDRM);
	EXPECT_ERR(OPS->recv(both, buf, sizeof buf, ipct_mailbox_at_once()), IPC_EIDRM);
}

Test(mailbox, MAILBOX_NAME_8__unlink_wakes_a_blocked_sender_with_eidrm)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_REMOVE_WAKES | IPC_MAILBOX_CAP_BOUNDED |
		     IPC_MAILBOX_CAP_BLOCKING);
	const char *name = ipct_mailbox_create(1, 4); /* full: n messages of max_msg */
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	char buf[16];
	SAFE_RC(OPS->send(tx, "full", 4, ipct_mailbox_at_once()));
	struct ipct_mailbox_call *c = ipct_mailbox_send_thread(tx, "more", 4, -1);
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: send on the full mailbox did not block");
	EXPECT_OK(OPS->unlink(name));
	EXPECT_ERR(ipct_mailbox_call_result(c), IPC_EIDRM);
	EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, -1), IPC_EIDRM);
}
