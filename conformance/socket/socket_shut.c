/* SPDX-License-Identifier: MIT */
/*
 * Verify that shutdown closes one direction only: SHUT_WR ends the peer's
 * reading after every byte sent before it while the other direction flows,
 * SHUT_RD on a Unix socket refuses the peer's sends, and neither discards
 * what is already queued.
 * Clauses: SOCKET-SHUT-1, SOCKET-SHUT-2, SOCKET-SHUT-3.
 */
#include "ipct.h"

#define OPS ipct_socket()

static void expect_bytes(struct ipc_socket *s, const char *want)
{
	char buf[256];
	size_t len = strlen(want);
	EXPECT_RC(OPS->recv(s, buf, sizeof buf, 0, NULL), len);
	cr_assert_eq(memcmp(buf, want, len), 0, "received bytes differ from \"%s\"", want);
}

Test(socket, SOCKET_SHUT_1__shut_wr_ends_one_direction_after_its_bytes)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	char buf[16];
	ipct_socket_pair(&a, &b);
	SAFE_SSEND(a, "before", 6);
	SAFE_RC(OPS->shutdown(a, SHUT_WR));
	expect_bytes(b, "before");
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, 0, NULL), 0);
	EXPECT_RC(OPS->send(b, "reply", 5, MSG_NOSIGNAL), 5);
	expect_bytes(a, "reply");
}

Test(socket, SOCKET_SHUT_2__unix_shut_rd_refuses_the_peer_sends)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED | IPC_SOCKET_CAP_LOCAL_PEER);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	SAFE_RC(OPS->shutdown(a, SHUT_RD));
	EXPECT_ERR(OPS->send(b, "x", 1, MSG_NOSIGNAL), IPC_EPIPE);
	EXPECT_RC(OPS->send(a, "other", 5, MSG_NOSIGNAL), 5);
	expect_bytes(b, "other");
}

Test(socket, SOCKET_SHUT_3__shut_rd_keeps_queued_bytes_then_reads_zero)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	char buf[256];
	ipct_socket_pair(&a, &b);
	char data[100];
	memset(data, 'q', sizeof data);
	SAFE_SSEND(b, data, sizeof data);
	cr_assert(ipct_socket_wait(a, POLLIN) & POLLIN, "BROKEN: the bytes never arrived");
	SAFE_RC(OPS->shutdown(a, SHUT_RD));
	EXPECT_RC(OPS->recv(a, buf, sizeof buf, 0, NULL), 100);
	cr_assert_eq(memcmp(buf, data, 100), 0, "queued bytes altered");
	/* 0, not -EAGAIN: with the reading side shut, nothing is waited for. */
	EXPECT_RC(OPS->recv(a, buf, sizeof buf, MSG_DONTWAIT, NULL), 0);
}
