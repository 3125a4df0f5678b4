/* SPDX-License-Identifier: MIT */
/*
 * Verify that an orderly close gives the queued bytes then 0 on every call,
 * that a close wakes a blocked recv, and that Linux resets instead (recv
 * fails with -ECONNRESET) when the peer closed with unread data or when the
 * listener closed with the connection never accepted.
 * Clauses: SOCKET-EOF-1, SOCKET-EOF-2, SOCKET-EOF-3, SOCKET-EOF-4.
 */
#include "ipct.h"

#define OPS ipct_socket()

Test(socket, SOCKET_EOF_1__queued_bytes_then_zero_on_every_call)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	char buf[16];
	ipct_socket_pair(&a, &b);
	SAFE_SSEND(a, "last", 4);
	SAFE_RC(ipct_socket_close(a));
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, 0, NULL), 4);
	cr_assert_eq(memcmp(buf, "last", 4), 0, "queued bytes altered");
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, 0, NULL), 0);
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, MSG_WAITALL, NULL), 0);
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, MSG_DONTWAIT, NULL), 0);
}

struct rx {
	struct ipc_socket *s;
	_Atomic long rc; /* 1 until recv returns */
};

static int blocked_recv(void *argp)
{
	struct rx *r = argp;
	char buf[16];
	ipct_party_enter_call();
	r->rc = ipct_socket()->recv(r->s, buf, sizeof buf, 0, NULL);
	ipct_party_leave_call();
	return 0;
}

Test(socket, SOCKET_EOF_2__close_wakes_a_blocked_recv_with_zero)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	struct rx r = {b, 1};
	/* A thread: a forked party would hold a copy of a, and the close would end nothing. */
	struct ipct_party *p = ipct_thread_start(blocked_recv, &r);
	cr_assert(ipct_party_wait_blocked(p, 2000) && r.rc == 1,
		  "BROKEN: recv returned %ld instead of blocking", (long)r.rc);
	SAFE_RC(ipct_socket_close(a));
	EXPECT_RC(ipct_party_wait(p, 3000), 0);
	EXPECT_RC(r.rc, 0);
}

Test(socket, SOCKET_EOF_3__close_with_unread_data_resets_the_peer)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED | IPC_SOCKET_CAP_RESET);
	struct ipc_socket *a, *b;
	char buf[16];
	ipct_socket_pair(&a, &b);
	SAFE_SSEND(a, "unread", 6);
	SAFE_RC(ipct_socket_close(b)); /* with a's 6 bytes still queued for it */
	cr_assert(ipct_socket_wait(a, POLLIN) != 0, "a never became readable after the reset");
	EXPECT_ERR(OPS->recv(a, buf, sizeof buf, MSG_DONTWAIT, NULL), IPC_ECONNRESET);
}

Test(socket, SOCKET_EOF_4__closing_the_listener_resets_an_unaccepted_client)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_LISTEN | IPC_SOCKET_CAP_RESET);
	struct ipc_socket *lst, *cli;
	char buf[16];
	const char *name = ipct_socket_listen(0, &lst);
	SAFE_RC(ipct_socket_connect(name, 0, &cli));
	SAFE_RC(ipct_socket_close(lst));
	cr_assert(ipct_socket_wait(cli, POLLIN) != 0, "the client never saw the listener close");
	EXPECT_ERR(OPS->recv(cli, buf, sizeof buf, MSG_DONTWAIT, NULL), IPC_ECONNRESET);
}
