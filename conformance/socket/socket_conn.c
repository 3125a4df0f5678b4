/* SPDX-License-Identifier: MIT */
/*
 * Verify that accept is -EAGAIN on a non-blocking listener with nothing
 * pending and blocks on a blocking one until a client connects, that a
 * non-blocking connect completes (0, or -EINPROGRESS then writable with no
 * error), and that a connect to a name whose listener closed is refused.
 * Clauses: SOCKET-CONN-1, SOCKET-CONN-2, SOCKET-CONN-3, SOCKET-CONN-4.
 */
#include "ipct.h"

#define OPS       ipct_socket()
#define CHILD_OPS ((const struct ipc_socket_ops *)ipct_subject()->ops)

/* "hi" from one end reaches the other, and "ok" comes back. */
static void expect_exchange(struct ipc_socket *cli, struct ipc_socket *srv)
{
	char buf[8];
	EXPECT_RC(OPS->send(cli, "hi", 2, MSG_NOSIGNAL), 2);
	EXPECT_RC(OPS->recv(srv, buf, 2, MSG_WAITALL, NULL), 2);
	cr_assert_eq(memcmp(buf, "hi", 2), 0, "bytes altered");
	EXPECT_RC(OPS->send(srv, "ok", 2, MSG_NOSIGNAL), 2);
	EXPECT_RC(OPS->recv(cli, buf, 2, MSG_WAITALL, NULL), 2);
	cr_assert_eq(memcmp(buf, "ok", 2), 0, "bytes altered");
}

Test(socket, SOCKET_CONN_1__nonblocking_accept_is_eagain_until_a_client_connects)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_LISTEN);
	struct ipc_socket *lst, *cli, *srv;
	const char *name = ipct_socket_listen(1, &lst);
	EXPECT_ERR(ipct_socket_accept(lst, &srv), IPC_EAGAIN);
	SAFE_RC(ipct_socket_connect(name, 0, &cli));
	cr_assert(ipct_socket_wait(lst, POLLIN) & POLLIN, "the listener never polled readable");
	EXPECT_OK(ipct_socket_accept(lst, &srv));
	expect_exchange(cli, srv);
}

static int blocking_acceptor(void *argp)
{
	struct ipc_socket *srv = NULL;
	char buf[4];
	ipct_party_enter_call();
	int rc = CHILD_OPS->accept(argp, &srv);
	ipct_party_leave_call();
	if (rc != 0)
		return 1;
	long n = CHILD_OPS->recv(srv, buf, 2, MSG_WAITALL, NULL);
	CHILD_OPS->close(srv);
	return n == 2 && memcmp(buf, "hi", 2) == 0 ? 0 : 2;
}

Test(socket, SOCKET_CONN_2__blocking_accept_waits_for_the_first_client)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_LISTEN);
	struct ipc_socket *lst, *cli;
	const char *name = ipct_socket_listen(0, &lst);
	struct ipct_party *p = ipct_party_start(blocking_acceptor, lst);
	cr_assert(ipct_party_wait_blocked(p, 2000), "accept returned with no client connected");
	SAFE_RC(ipct_socket_connect(name, 0, &cli));
	SAFE_SSEND(cli, "hi", 2);
	EXPECT_RC(ipct_party_wait(p, 3000), 0);
}

Test(socket, SOCKET_CONN_3__nonblocking_connect_completes_writable_without_error)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_LISTEN);
	struct ipc_socket *lst, *cli, *srv;
	const char *name = ipct_socket_listen(0, &lst);
	int rc = ipct_socket_connect(name, 1, &cli);
	cr_assert(rc == 0 || rc == IPC_EINPROGRESS, "non-blocking connect returned %d", rc);
	cr_assert(ipct_socket_wait(cli, POLLOUT) & POLLOUT, "the socket never polled writable");
	EXPECT_OK(OPS->connect_result(cli));
	SAFE_RC(ipct_socket_accept(lst, &srv));
	SAFE_RC(OPS->set_nonblock(cli, 0));
	expect_exchange(cli, srv);
}

Test(socket, SOCKET_CONN_4__connect_to_a_closed_listener_is_refused)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_LISTEN);
	struct ipc_socket *lst, *cli;
	const char *name = ipct_socket_listen(0, &lst);
	SAFE_RC(ipct_socket_close(lst));
	EXPECT_ERR(ipct_socket_connect(name, 0, &cli), IPC_ECONNREFUSED);
	int rc = ipct_socket_connect(name, 1, &cli);
	if (rc == IPC_EINPROGRESS) {
		cr_assert(ipct_socket_wait(cli, POLLOUT) != 0, "the connect never completed");
		rc = OPS->connect_result(cli);
	}
	EXPECT_ERR(rc, IPC_ECONNREFUSED);
}
