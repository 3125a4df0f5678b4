/* SPDX-License-Identifier: MIT */
/*
 * Verify that every connecting client gets its own instance, that connect
 * does not wait for accept (messages wait in the instance), that accept
 * honours its timeout, and that a client in another process connects by name.
 * Clauses: MSGPIPE-INST-1, MSGPIPE-INST-2, MSGPIPE-INST-3, MSGPIPE-INST-4.
 */
#include "ipct.h"

#define OPS ipct_msgpipe()
/* In a forked party: the subject is loaded already, nothing can assert. */
#define CHILD_OPS ((const struct ipc_msgpipe_ops *)ipct_subject()->ops)

Test(msgpipe, MSGPIPE_INST_1__messages_of_one_client_never_reach_another)
{
	struct ipc_msgpipe_server *srv;
	char buf[16];
	const char *name = ipct_msgpipe_listen(IPC_MSGPIPE_NONBLOCK, 0, &srv);
	struct ipc_msgpipe *a = ipct_msgpipe_connect(name, IPC_MSGPIPE_NONBLOCK);
	struct ipc_msgpipe *sa = ipct_msgpipe_accept(srv);
	struct ipc_msgpipe *b = ipct_msgpipe_connect(name, IPC_MSGPIPE_NONBLOCK);
	struct ipc_msgpipe *sb = ipct_msgpipe_accept(srv);
	SAFE_SEND(a, "from-a", 6);
	SAFE_SEND(sb, "to-b", 4);
	EXPECT_ERR(OPS->recv(sb, buf, sizeof buf), IPC_EAGAIN);
	EXPECT_ERR(OPS->recv(a, buf, sizeof buf), IPC_EAGAIN);
	EXPECT_RC(OPS->recv(sa, buf, sizeof buf), 6);
	cr_assert(memcmp(buf, "from-a", 6) == 0, "A's server end got another message");
	EXPECT_RC(OPS->recv(b, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "to-b", 4) == 0, "B got another message");
	EXPECT_ERR(OPS->recv(sa, buf, sizeof buf), IPC_EAGAIN);
	EXPECT_ERR(OPS->recv(b, buf, sizeof buf), IPC_EAGAIN);
}

Test(msgpipe, MSGPIPE_INST_2__connect_does_not_wait_for_accept)
{
	struct ipc_msgpipe_server *srv;
	char buf[16];
	const char *name = ipct_msgpipe_listen(0, 0, &srv);
	struct ipc_msgpipe *cli = ipct_msgpipe_connect(name, 0);
	EXPECT_RC(OPS->send(cli, "one", 3), 3);
	EXPECT_RC(OPS->send(cli, "two!", 4), 4);
	struct ipc_msgpipe *end = ipct_msgpipe_accept(srv);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 3);
	cr_assert(memcmp(buf, "one", 3) == 0, "first message altered");
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "two!", 4) == 0, "second message altered");
}

struct accept_arg {
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *end;
	_Atomic long rc; /* 1 until accept returns */
};

static int blocked_accept(void *argp)
{
	struct accept_arg *a = argp;
	ipct_party_enter_call();
	a->rc = OPS->accept(a->srv, -1, &a->end);
	ipct_party_leave_call();
	return 0;
}

Test(msgpipe, MSGPIPE_INST_3__accept_honours_its_timeout)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *end = NULL;
	char buf[8];
	const char *name = ipct_msgpipe_listen(0, 0, &srv);
	EXPECT_ERR(OPS->accept(srv, 0, &end), IPC_EAGAIN);
	int64_t t0 = ipct_now_ns();
	EXPECT_ERR(OPS->accept(srv, IPCT_MS(50), &end), IPC_ETIMEDOUT);
	cr_assert(ipct_now_ns() - t0 >= IPCT_MS(50), "accept timed out early");
	struct accept_arg a = { srv, NULL, 1 };
	struct ipct_party *p = ipct_thread_start(blocked_accept, &a);
	cr_assert(ipct_party_wait_blocked(p, 2000) && a.rc == 1,
		  "accept with no client returned %ld instead of blocking", (long)a.rc);
	struct ipc_msgpipe *cli = ipct_msgpipe_connect(name, 0);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_OK(a.rc);
	SAFE_SEND(cli, "hi", 2);
	EXPECT_RC(OPS->recv(a.end, buf, sizeof buf), 2);
	EXPECT_OK(OPS->close(a.end));
}

/* A forked client: connects by name, sends a message, echoes one back. */
static int child_client(void *argp)
{
	const char *name = argp;
	struct ipc_msgpipe_attr attr = { 0, 0 };
	struct ipc_msgpipe *h;
	char buf[32];
	if (CHILD_OPS->connect(name, &attr, &h) != 0)
		return 1;
	int rc = CHILD_OPS->send(h, "child", 5) != 5 ? 1 : 0;
	ssize_t n = rc ? 0 : CHILD_OPS->recv(h, buf, sizeof buf);
	if (!rc && (n < 0 || CHILD_OPS->send(h, buf, (size_t)n) != n))
		rc = 2;
	if (!rc && CHILD_OPS->recv(h, buf, sizeof buf) != IPC_EOD)
		rc = 3;
	CHILD_OPS->close(h); /* the handle's memory: valgrind checks the child too */
	return rc;
}

Test(msgpipe, MSGPIPE_INST_4__a_client_in_another_process_connects_by_name)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_CROSS_PROCESS | IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	char buf[32];
	const char *name = ipct_msgpipe_listen(0, 0, &srv);
	struct ipct_party *p = ipct_process_start(child_client, (void *)name);
	struct ipc_msgpipe *end = ipct_msgpipe_accept(srv);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 5);
	cr_assert(memcmp(buf, "child", 5) == 0, "the child's message arrived altered");
	EXPECT_RC(OPS->send(end, "parent-echo", 11), 11);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 11);
	cr_assert(memcmp(buf, "parent-echo", 11) == 0, "the echo arrived altered");
	EXPECT_OK(ipct_msgpipe_close(end));
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}
