/* SPDX-License-Identifier: MIT */
/*
 * Verify that message sizes are kept: a message of max_msg bytes goes through
 * and one byte more is -EMSGSIZE and queues nothing, an empty message is
 * received as 0 (never IPC_EOD) in its place, a receive buffer too small is
 * -EMSGSIZE and leaves the message first, and one recv takes one message.
 * Clauses: MAILBOX-SIZE-1, MAILBOX-SIZE-2, MAILBOX-SIZE-3, MAILBOX-SIZE-4.
 */
#include "ipct.h"

#define OPS ipct_mailbox()
#define MAX 3000

static unsigned char buf[2 * MAX + 4096];

static long send_pattern(struct ipc_mailbox *h, size_t len, uint32_t s)
{
	ipct_pattern(buf, len, s, 0);
	return OPS->send(h, buf, len, ipct_mailbox_at_once());
}

/* recv with cap: it must return the message of len pattern bytes of s. */
static void expect_pattern(struct ipc_mailbox *h, size_t cap, size_t len, uint32_t s)
{
	memset(buf, 0xee, sizeof buf);
	EXPECT_RC(OPS->recv(h, buf, cap, ipct_mailbox_at_once()), len);
	cr_assert_eq(ipct_pattern_check(buf, len, s, 0), -1,
		     "message %u (%zu bytes) altered at the byte shown", s, len);
}

static struct ipc_mailbox *queue(size_t max_msg)
{
	return ipct_mailbox_open(ipct_mailbox_create_queue(max_msg), IPCT_MAILBOX_BOTH);
}

Test(mailbox, MAILBOX_SIZE_1__max_msg_goes_through_and_one_more_byte_is_emsgsize)
{
	struct ipc_mailbox *h = queue(MAX);
	EXPECT_OK(send_pattern(h, MAX, 1));
	EXPECT_ERR(send_pattern(h, MAX + 1, 2), IPC_EMSGSIZE);
	EXPECT_OK(send_pattern(h, 5, 3));
	expect_pattern(h, sizeof buf, MAX, 1);
	expect_pattern(h, sizeof buf, 5, 3); /* the refused message is not between them */
}

Test(mailbox, MAILBOX_SIZE_2__an_empty_message_is_received_as_0_in_order)
{
	struct ipc_mailbox *h = queue(0);
	EXPECT_OK(send_pattern(h, 0, 1));
	EXPECT_OK(send_pattern(h, 1, 2));
	EXPECT_OK(send_pattern(h, 0, 3));
	EXPECT_OK(send_pattern(h, 2, 4));
	expect_pattern(h, sizeof buf, 0, 1);
	expect_pattern(h, sizeof buf, 1, 2);
	expect_pattern(h, sizeof buf, 0, 3);
	expect_pattern(h, sizeof buf, 2, 4);
}

Test(mailbox, MAILBOX_SIZE_3__a_short_buffer_is_emsgsize_and_keeps_the_message_first)
{
	struct ipc_mailbox *h = queue(MAX);
	EXPECT_OK(send_pattern(h, 1000, 1));
	EXPECT_OK(send_pattern(h, 1, 2));
	EXPECT_ERR(OPS->recv(h, buf, 999, ipct_mailbox_at_once()), IPC_EMSGSIZE);
	EXPECT_ERR(OPS->recv(h, buf, 1, ipct_mailbox_at_once()), IPC_EMSGSIZE);
	EXPECT_ERR(OPS->recv(h, buf, 0, ipct_mailbox_at_once()), IPC_EMSGSIZE);
	expect_pattern(h, 1000, 1000, 1);
	EXPECT_ERR(OPS->recv(h, buf, 0, ipct_mailbox_at_once()), IPC_EMSGSIZE);
	expect_pattern(h, 1, 1, 2);
}

Test(mailbox, MAILBOX_SIZE_4__boundaries_are_kept_with_a_large_buffer)
{
	struct ipc_mailbox *h = queue(MAX);
	const size_t lens[] = {1, 100, 3000};
	for (uint32_t i = 0; i < 3; i++)
		EXPECT_OK(send_pattern(h, lens[i], i));
	for (uint32_t i = 0; i < 3; i++)
		expect_pattern(h, sizeof buf, lens[i], i); /* a buffer larger than all three */
}
