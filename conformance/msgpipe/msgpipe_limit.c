/* SPDX-License-Identifier: MIT */
/*
 * Verify that a message above max_msg is refused whole and one of exactly
 * max_msg goes through, that bad attributes are refused with -EINVAL, and
 * that thousands of messages of varied lengths keep their order.
 * Clauses: MSGPIPE-MSG-5, MSGPIPE-MSG-6, MSGPIPE-MSG-7.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_msgpipe()
#define ORDER_N 3000

static void check_limit(size_t max_msg)
{
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	size_t max = max_msg ? max_msg : IPC_MSGPIPE_MSG_DEFAULT;
	unsigned char *buf = malloc(max + 2);
	cr_assert(buf != NULL, "BROKEN: malloc");
	ipct_msgpipe_instance(0, max_msg, &srv, &cli, &end);
	ipct_pattern(buf, max + 1, 5, 0);
	EXPECT_ERR(OPS->send(end, buf, max + 1), IPC_EMSGSIZE);
	EXPECT_RC(OPS->send(end, buf, max), max);
	EXPECT_RC(OPS->recv(cli, buf, max + 2), max);
	long bad = ipct_pattern_check(buf, max, 5, 0);
	free(buf);
	cr_assert_eq(bad, -1, "the max_msg message (%zu bytes) altered at %ld", max, bad);
}

Test(msgpipe, MSGPIPE_MSG_5__above_max_msg_is_emsgsize_and_sends_nothing)
{
	check_limit(0);
	check_limit(IPC_MSGPIPE_MSG_MIN_LIMIT);
}

struct order_arg {
	struct ipc_msgpipe *h;
};

static size_t order_len(uint32_t i)
{
	return (i * 7919u) % 3001u; /* 0 .. 3000, empty ones included */
}

static int order_sender(void *argp)
{
	struct order_arg *a = argp;
	unsigned char buf[3001];
	for (uint32_t i = 0; i < ORDER_N; i++) {
		ipct_pattern(buf, order_len(i), i, 0);
		if (OPS->send(a->h, buf, order_len(i)) != (ssize_t)order_len(i))
			return 1;
	}
	return 0;
}

Test(msgpipe, MSGPIPE_MSG_6__each_direction_keeps_the_order_of_its_messages)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	unsigned char buf[4096];
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	struct order_arg a = { cli };
	struct ipct_party *p = ipct_thread_start(order_sender, &a);
	for (uint32_t i = 0; i < ORDER_N; i++) {
		ssize_t n = OPS->recv(end, buf, sizeof buf);
		cr_assert(n == (ssize_t)order_len(i), "message %u: recv returned %ld, expected %zu",
			  i, (long)n, order_len(i));
		cr_assert_eq(ipct_pattern_check(buf, (size_t)n, i, 0), -1, "message %u altered", i);
	}
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}

Test(msgpipe, MSGPIPE_MSG_7__unknown_flags_and_huge_max_msg_are_einval)
{
	const char *name = ipct_msgpipe_name();
	struct ipc_msgpipe_server *srv = NULL, *good;
	struct ipc_msgpipe *h = NULL;
	struct ipc_msgpipe_attr bad_flags = { 0x80000000u, 0 }, huge = { 0, SIZE_MAX };
	EXPECT_ERR(OPS->create(name, &bad_flags, &srv), IPC_EINVAL);
	EXPECT_ERR(OPS->create(name, &huge, &srv), IPC_EINVAL);
	EXPECT_ERR(OPS->unlink(name), IPC_ENOENT);
	const char *live = ipct_msgpipe_listen(0, 0, &good);
	EXPECT_ERR(OPS->connect(live, &bad_flags, &h), IPC_EINVAL);
	EXPECT_ERR(OPS->connect(live, &huge, &h), IPC_EINVAL);
	EXPECT_ERR(OPS->accept(good, 0, &h), IPC_EAGAIN);
}
