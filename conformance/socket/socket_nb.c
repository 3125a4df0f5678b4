/* SPDX-License-Identifier: MIT */
/*
 * Verify that a recv on an empty end is -EAGAIN when non-blocking (never 0)
 * and blocks until bytes arrive otherwise, and that non-blocking sends into
 * an end whose peer does not read end with -EAGAIN until the peer drains it.
 * Clauses: SOCKET-NB-1, SOCKET-NB-2.
 */
#include "ipct.h"

#define OPS       ipct_socket()
#define CHILD_OPS ((const struct ipc_socket_ops *)ipct_subject()->ops)

struct rx {
	struct ipc_socket *s;
	_Atomic long rc; /* 1 until recv returns */
	char buf[8];
};

static int blocked_recv(void *argp)
{
	struct rx *r = argp;
	ipct_party_enter_call();
	r->rc = CHILD_OPS->recv(r->s, r->buf, sizeof r->buf, 0, NULL);
	ipct_party_leave_call();
	return 0;
}

Test(socket, SOCKET_NB_1__empty_recv_is_eagain_nonblocking_and_blocks_otherwise)
{
	struct ipc_socket *a, *b;
	char buf[8];
	ipct_socket_pair(&a, &b);
	EXPECT_ERR(OPS->recv(b, buf, sizeof buf, MSG_DONTWAIT, NULL), IPC_EAGAIN);
	SAFE_RC(OPS->set_nonblock(b, 1));
	EXPECT_ERR(OPS->recv(b, buf, sizeof buf, 0, NULL), IPC_EAGAIN);
	SAFE_RC(OPS->set_nonblock(b, 0));
	struct rx *r = ipct_shared(sizeof *r);
	r->s = b;
	r->rc = 1;
	struct ipct_party *p = ipct_party_start(blocked_recv, r);
	cr_assert(ipct_party_wait_blocked(p, 2000) && r->rc == 1,
		  "recv on an empty end returned %ld instead of blocking", (long)r->rc);
	SAFE_SSEND(a, "data", 4);
	EXPECT_RC(ipct_party_wait(p, 3000), 0);
	EXPECT_RC(r->rc, 4);
	cr_assert_eq(memcmp(r->buf, "data", 4), 0, "bytes altered");
}

#define CHUNK      65536
#define FILL_LIMIT (256u << 20) /* far above any default socket buffer */

Test(socket, SOCKET_NB_2__nonblocking_sends_hit_eagain_until_the_peer_drains)
{
	struct ipc_socket *a, *b;
	static char buf[CHUNK];
	size_t sent = 0, got = 0;
	long rc = 0;
	ipct_socket_pair(&a, &b);
	while (sent < FILL_LIMIT &&
	       (rc = OPS->send(a, buf, CHUNK, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
		sent += (size_t)rc;
	EXPECT_ERR(rc, IPC_EAGAIN);
	EXPECT_ERR(OPS->send(a, buf, CHUNK, MSG_DONTWAIT | MSG_NOSIGNAL), IPC_EAGAIN);
	while (got < sent && (rc = OPS->recv(b, buf, CHUNK, 0, NULL)) > 0)
		got += (size_t)rc;
	cr_assert_eq(got, sent, "the peer received %zu of %zu bytes (last recv %ld)", got, sent,
		     rc);
	cr_assert(ipct_socket_wait(a, POLLOUT) & POLLOUT, "never writable after the drain");
	cr_assert(OPS->send(a, buf, 100, MSG_DONTWAIT | MSG_NOSIGNAL) > 0, "send still refused");
}
