/* SPDX-License-Identifier: MIT */
/*
 * Verify that one recv takes exactly one message whatever its buffer, that
 * an empty message is received as 0 and never as end of data, that a buffer
 * too small fails with -EMSGSIZE and keeps the message whole, and that
 * next_size reports the next message's length without taking it.
 * Clauses: MSGPIPE-MSG-1, MSGPIPE-MSG-2, MSGPIPE-MSG-3, MSGPIPE-MSG-4.
 */
#include "ipct.h"

#define OPS ipct_msgpipe()

/* Send len pattern bytes of stream s as one message. */
static void send_pattern(struct ipc_msgpipe *h, size_t len, uint32_t s)
{
	unsigned char buf[4096];
	ipct_pattern(buf, len, s, 0);
	SAFE_SEND(h, buf, len);
}

Test(msgpipe, MSGPIPE_MSG_1__one_recv_takes_exactly_one_message)
{
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	static unsigned char buf[8192];
	const size_t lens[] = { 1, 100, 3000 };
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	for (uint32_t i = 0; i < 3; i++)
		send_pattern(cli, lens[i], i);
	for (uint32_t i = 0; i < 3; i++) {
		EXPECT_RC(OPS->recv(end, buf, sizeof buf), lens[i]);
		cr_assert_eq(ipct_pattern_check(buf, lens[i], i, 0), -1, "message %u altered", i);
	}
}

Test(msgpipe, MSGPIPE_MSG_2__an_empty_message_is_received_as_0_not_eod)
{
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	char buf[16];
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	EXPECT_RC(OPS->send(end, "", 0), 0);
	EXPECT_RC(OPS->send(end, NULL, 0), 0);
	SAFE_SEND(end, "after", 5);
	EXPECT_RC(OPS->send(end, buf, 0), 0);
	EXPECT_RC(OPS->recv(cli, buf, sizeof buf), 0);
	EXPECT_RC(OPS->recv(cli, buf, sizeof buf), 0);
	EXPECT_RC(OPS->recv(cli, buf, sizeof buf), 5);
	cr_assert(memcmp(buf, "after", 5) == 0, "the message after the empty ones changed");
	EXPECT_RC(OPS->recv(cli, buf, 0), 0);
}

Test(msgpipe, MSGPIPE_MSG_3__a_short_buffer_is_emsgsize_and_keeps_the_message)
{
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	unsigned char buf[1000];
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	send_pattern(cli, 1000, 7);
	send_pattern(cli, 1, 8);
	EXPECT_ERR(OPS->recv(end, buf, 999), IPC_EMSGSIZE);
	EXPECT_ERR(OPS->recv(end, buf, 1), IPC_EMSGSIZE);
	EXPECT_ERR(OPS->recv(end, buf, 0), IPC_EMSGSIZE);
	EXPECT_RC(OPS->recv(end, buf, 1000), 1000);
	cr_assert_eq(ipct_pattern_check(buf, 1000, 7, 0), -1, "the kept message changed");
	EXPECT_ERR(OPS->recv(end, buf, 0), IPC_EMSGSIZE);
	EXPECT_RC(OPS->recv(end, buf, 1), 1);
	cr_assert_eq(ipct_pattern_check(buf, 1, 8, 0), -1, "the 1-byte message changed");
}

Test(msgpipe, MSGPIPE_MSG_4__next_size_reports_without_taking)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_NEXT_SIZE);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	unsigned char buf[4096];
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	EXPECT_ERR(OPS->next_size(end), IPC_EAGAIN);
	send_pattern(cli, 2500, 3);
	SAFE_SEND(cli, "", 0);
	EXPECT_RC(OPS->next_size(end), 2500);
	EXPECT_RC(OPS->next_size(end), 2500);
	EXPECT_RC(OPS->recv(end, buf, 2500), 2500);
	cr_assert_eq(ipct_pattern_check(buf, 2500, 3, 0), -1, "message changed by next_size");
	EXPECT_RC(OPS->next_size(end), 0);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 0);
	EXPECT_ERR(OPS->next_size(end), IPC_EAGAIN);
}
