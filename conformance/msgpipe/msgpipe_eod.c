/* SPDX-License-Identifier: MIT */
/*
 * Verify that closing one end of an instance gives the other end the queued
 * messages and then IPC_EOD (also waking a blocked recv), and -EPIPE without
 * SIGPIPE to a sender; that closing the server ends the clients it never
 * accepted but not the instances it did; and that kill -9 of a client closes
 * its end.
 * Clauses: MSGPIPE-EOD-1, MSGPIPE-EOD-2, MSGPIPE-EOD-3, MSGPIPE-EOD-4.
 */
#include <signal.h>
#include <unistd.h>

#include "ipct.h"

#define OPS ipct_msgpipe()
/* In a forked party: the subject is loaded already, nothing can assert. */
#define CHILD_OPS ((const struct ipc_msgpipe_ops *)ipct_subject()->ops)

Test(msgpipe, MSGPIPE_EOD_1__queued_messages_then_eod_and_epipe_without_sigpipe)
{
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	char buf[16];
	ipct_signal_default(SIGPIPE); /* a SIGPIPE would kill the test */
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	SAFE_SEND(end, "last", 4);
	SAFE_SEND(end, "", 0);
	SAFE_RC(ipct_msgpipe_close(end));
	EXPECT_RC(OPS->recv(cli, buf, sizeof buf), 4);
	EXPECT_RC(OPS->recv(cli, buf, sizeof buf), 0);
	EXPECT_ERR(OPS->recv(cli, buf, sizeof buf), IPC_EOD);
	EXPECT_ERR(OPS->recv(cli, buf, sizeof buf), IPC_EOD);
	EXPECT_ERR(OPS->send(cli, "x", 1), IPC_EPIPE);
}

struct rx_arg {
	struct ipc_msgpipe *h;
	_Atomic long rc; /* 1 until recv returns */
};

static int blocked_recv(void *argp)
{
	struct rx_arg *a = argp;
	char buf[16];
	ipct_party_enter_call();
	a->rc = OPS->recv(a->h, buf, sizeof buf);
	ipct_party_leave_call();
	return 0;
}

Test(msgpipe, MSGPIPE_EOD_2__close_wakes_a_blocked_recv_with_eod)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	struct rx_arg a = { cli, 1 };
	struct ipct_party *p = ipct_thread_start(blocked_recv, &a);
	cr_assert(ipct_party_wait_blocked(p, 2000) && a.rc == 1,
		  "BROKEN: recv returned %ld instead of blocking", (long)a.rc);
	EXPECT_OK(ipct_msgpipe_close(end));
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_ERR(a.rc, IPC_EOD);
}

Test(msgpipe, MSGPIPE_EOD_3__server_close_ends_unaccepted_clients_only)
{
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	char buf[16];
	const char *name = ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	struct ipc_msgpipe *waiting = ipct_msgpipe_connect(name, 0);
	EXPECT_OK(ipct_msgpipe_server_close(srv));
	EXPECT_ERR(OPS->recv(waiting, buf, sizeof buf), IPC_EOD);
	SAFE_SEND(cli, "up", 2);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 2);
	SAFE_SEND(end, "down", 4);
	EXPECT_RC(OPS->recv(cli, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "down", 4) == 0, "the accepted instance changed a message");
}

/* A forked client: connects, sends two messages, then waits to be killed. */
static int doomed_client(void *argp)
{
	struct ipc_msgpipe_attr attr = { 0, 0 };
	struct ipc_msgpipe *h;
	char buf[8];
	if (CHILD_OPS->connect(argp, &attr, &h) != 0 || CHILD_OPS->send(h, "a", 1) != 1 ||
	    CHILD_OPS->send(h, "bb", 2) != 2)
		return 1;
	ipct_party_enter_call();
	CHILD_OPS->recv(h, buf, sizeof buf); /* the server never sends */
	return 2;
}

Test(msgpipe, MSGPIPE_EOD_4__a_killed_client_closes_its_end)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_PEER_DEATH | IPC_MSGPIPE_CAP_CROSS_PROCESS |
		     IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	char buf[8];
	const char *name = ipct_msgpipe_listen(0, 0, &srv);
	struct ipct_party *p = ipct_process_start(doomed_client, (void *)name);
	struct ipc_msgpipe *end = ipct_msgpipe_accept(srv);
	cr_assert(ipct_party_wait_blocked(p, 2000), "BROKEN: the client did not block in recv");
	ipct_party_kill(p);
	EXPECT_RC(ipct_party_wait(p, 5000), 128 + SIGKILL);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 1);
	EXPECT_RC(OPS->recv(end, buf, sizeof buf), 2);
	EXPECT_ERR(OPS->recv(end, buf, sizeof buf), IPC_EOD);
}
