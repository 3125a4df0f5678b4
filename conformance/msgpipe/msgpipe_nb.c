/* SPDX-License-Identifier: MIT */
/*
 * Verify that non-blocking calls never wait (recv on an empty instance and
 * send on a full one fail with -EAGAIN, all or nothing), that blocking calls
 * wait for the other end and then complete whole, and that the mode comes
 * from IPC_MSGPIPE_NONBLOCK and belongs to one handle.
 * Clauses: MSGPIPE-NB-1, MSGPIPE-NB-2, MSGPIPE-NB-3, MSGPIPE-NB-4, MSGPIPE-NB-5.
 */
#include "ipct.h"

#define OPS ipct_msgpipe()
#define FILL_LIMIT 1000000 /* messages: an instance that takes more never fills */
#define LEN 1000

/* Send LEN-byte items (seq 0, 1, …) non-blocking until -EAGAIN: the count. */
static uint32_t fill(struct ipc_msgpipe *h)
{
	unsigned char buf[LEN];
	uint32_t n = 0;
	ssize_t rc;
	SAFE_RC(OPS->set_nonblock(h, 1));
	while (n < FILL_LIMIT && (ipct_item_fill(buf, LEN, 0, n), rc = OPS->send(h, buf, LEN)) == LEN)
		n++;
	cr_assert(rc == IPC_EAGAIN, "BROKEN: filling ended with %ld after %u messages", (long)rc, n);
	return n;
}

/* Receive count items non-blocking, checking each whole and in order; then,
 * if then_empty, that nothing more is queued. */
static void drain(struct ipc_msgpipe *h, uint32_t first, uint32_t count, bool then_empty)
{
	unsigned char buf[2 * LEN];
	uint32_t who, seq;
	for (uint32_t i = first; i < first + count; i++) {
		EXPECT_RC(OPS->recv(h, buf, sizeof buf), LEN);
		cr_assert(ipct_item_check(buf, LEN, &who, &seq) == 0 && seq == i,
			  "message %u is torn or out of order", i);
	}
	if (then_empty)
		EXPECT_ERR(OPS->recv(h, buf, sizeof buf), IPC_EAGAIN);
}

Test(msgpipe, MSGPIPE_NB_1__recv_on_empty_instance_is_eagain_at_once)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_NONBLOCK);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	char buf[8];
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	SAFE_RC(OPS->set_nonblock(end, 1));
	for (int i = 0; i < 3; i++)
		EXPECT_ERR(OPS->recv(end, buf, sizeof buf), IPC_EAGAIN);
	SAFE_SEND(cli, "z", 1);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 1);
}

Test(msgpipe, MSGPIPE_NB_2__send_on_full_instance_is_eagain_and_sends_nothing)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_NONBLOCK);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	unsigned char big[IPC_MSGPIPE_MSG_DEFAULT] = { 0 };
	ipct_msgpipe_instance(IPC_MSGPIPE_NONBLOCK, 0, &srv, &cli, &end);
	uint32_t n = fill(cli);
	EXPECT_ERR(OPS->send(cli, big, sizeof big), IPC_EAGAIN);
	drain(end, 0, n, true);
}

struct tx_arg {
	struct ipc_msgpipe *h;
	uint32_t seq;
	_Atomic long rc; /* 1 until the call returns */
};

static int marked_recv(void *argp)
{
	struct tx_arg *a = argp;
	char buf[16];
	ipct_party_enter_call();
	a->rc = OPS->recv(a->h, buf, sizeof buf);
	ipct_party_leave_call();
	return a->rc == 5 && memcmp(buf, "hello", 5) == 0 ? 0 : 1;
}

Test(msgpipe, MSGPIPE_NB_3__blocking_recv_waits_for_a_message)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	struct tx_arg a = { end, 0, 1 };
	struct ipct_party *p = ipct_thread_start(marked_recv, &a);
	cr_assert(ipct_party_wait_blocked(p, 2000) && a.rc == 1,
		  "recv on an empty instance returned %ld instead of blocking", (long)a.rc);
	SAFE_SEND(cli, "hello", 5);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}

static int marked_send(void *argp)
{
	struct tx_arg *a = argp;
	unsigned char buf[LEN];
	ipct_item_fill(buf, LEN, 0, a->seq);
	ipct_party_enter_call();
	a->rc = OPS->send(a->h, buf, LEN);
	ipct_party_leave_call();
	return 0;
}

Test(msgpipe, MSGPIPE_NB_4__blocking_send_waits_for_room_then_completes_whole)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_BLOCKING | IPC_MSGPIPE_CAP_NONBLOCK);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	uint32_t n = fill(cli);
	SAFE_RC(OPS->set_nonblock(cli, 0));
	SAFE_RC(OPS->set_nonblock(end, 1));
	struct tx_arg a = { cli, n, 1 };
	struct ipct_party *p = ipct_thread_start(marked_send, &a);
	cr_assert(ipct_party_wait_blocked(p, 2000) && a.rc == 1,
		  "send on a full instance returned %ld instead of blocking", (long)a.rc);
	drain(end, 0, n, false); /* the blocked send may complete meanwhile */
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_RC(a.rc, LEN);
	drain(end, n, 1, true);
}

Test(msgpipe, MSGPIPE_NB_5__nonblock_flag_and_mode_per_handle)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_NONBLOCK);
	struct ipc_msgpipe_server *srv;
	char buf[8];
	const char *name = ipct_msgpipe_listen(IPC_MSGPIPE_NONBLOCK, 0, &srv);
	struct ipc_msgpipe *cli = ipct_msgpipe_connect(name, IPC_MSGPIPE_NONBLOCK);
	struct ipc_msgpipe *end = ipct_msgpipe_accept(srv);
	EXPECT_ERR(OPS->recv(end, buf, sizeof buf), IPC_EAGAIN);
	EXPECT_ERR(OPS->recv(cli, buf, sizeof buf), IPC_EAGAIN);
	SAFE_RC(OPS->set_nonblock(end, 0));
	EXPECT_ERR(OPS->recv(cli, buf, sizeof buf), IPC_EAGAIN);
	SAFE_SEND(cli, "x", 1);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 1);
}
