/* SPDX-License-Identifier: MIT */
/*
 * Verify that a byte stream keeps no boundaries (sends merge in one recv, a
 * send is taken in pieces), that MSG_WAITALL blocks for the whole length but
 * not past the peer's end, and that MSG_DONTWAIT wins over MSG_WAITALL.
 * Clauses: SOCKET-STREAM-1, SOCKET-STREAM-2, SOCKET-STREAM-3, SOCKET-STREAM-4,
 * SOCKET-STREAM-5.
 */
#include "ipct.h"

IPCT_SUITE(socket, 30);

#define OPS ipct_socket()
/* In a forked party: the subject is loaded already, nothing can assert. */
#define CHILD_OPS ((const struct ipc_socket_ops *)ipct_subject()->ops)

static void send_pattern(struct ipc_socket *s, size_t len, uint64_t off)
{
	unsigned char buf[4096];
	ipct_pattern(buf, len, 1, off);
	SAFE_RC(OPS->send(s, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EIO);
}

Test(socket, SOCKET_STREAM_1__two_sends_come_back_in_one_recv)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_STREAM);
	struct ipc_socket *a, *b;
	unsigned char buf[1000];
	ipct_socket_pair(&a, &b);
	send_pattern(a, 100, 0);
	send_pattern(a, 200, 100);
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, MSG_DONTWAIT, NULL), 300);
	cr_assert_eq(ipct_pattern_check(buf, 300, 1, 0), -1, "bytes altered or reordered");
}

Test(socket, SOCKET_STREAM_2__one_send_is_taken_in_pieces_without_trunc)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_STREAM);
	struct ipc_socket *a, *b;
	unsigned char buf[1000];
	int fl = -1;
	ipct_socket_pair(&a, &b);
	send_pattern(a, 300, 0);
	EXPECT_RC(OPS->recv(b, buf, 100, 0, &fl), 100);
	cr_assert_eq(fl & MSG_TRUNC, 0, "a stream recv reported MSG_TRUNC");
	EXPECT_RC(OPS->recv(b, buf + 100, sizeof buf - 100, MSG_DONTWAIT, NULL), 200);
	cr_assert_eq(ipct_pattern_check(buf, 300, 1, 0), -1, "bytes altered or lost");
}

struct waitall {
	struct ipc_socket *s;
	_Atomic long rc; /* 1 until recv returns */
	unsigned char buf[300];
};

static int waitall_recv(void *argp)
{
	struct waitall *w = argp;
	ipct_party_enter_call();
	w->rc = CHILD_OPS->recv(w->s, w->buf, sizeof w->buf, MSG_WAITALL, NULL);
	ipct_party_leave_call();
	return 0;
}

/* A party blocked in recv(300, MSG_WAITALL) on b with 100 bytes queued. */
static struct ipct_party *blocked_waitall(struct ipc_socket *a, struct ipc_socket *b,
					  struct waitall **w)
{
	*w = ipct_shared(sizeof **w);
	(*w)->s = b;
	(*w)->rc = 1;
	send_pattern(a, 100, 0);
	struct ipct_party *p = ipct_party_start(waitall_recv, *w);
	cr_assert(ipct_party_wait_blocked(p, 2000) && (*w)->rc == 1,
		  "recv(MSG_WAITALL) returned %ld with 100 of 300 bytes queued", (long)(*w)->rc);
	return p;
}

Test(socket, SOCKET_STREAM_3__waitall_blocks_until_the_full_length)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_STREAM);
	struct ipc_socket *a, *b;
	struct waitall *w;
	ipct_socket_pair(&a, &b);
	struct ipct_party *p = blocked_waitall(a, b, &w);
	send_pattern(a, 200, 100);
	EXPECT_RC(ipct_party_wait(p, 3000), 0);
	EXPECT_RC(w->rc, 300);
	cr_assert_eq(ipct_pattern_check(w->buf, 300, 1, 0), -1, "bytes altered or reordered");
}

Test(socket, SOCKET_STREAM_4__waitall_returns_the_short_count_at_the_end)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_STREAM | IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	struct waitall *w;
	unsigned char buf[16];
	ipct_socket_pair(&a, &b);
	struct ipct_party *p = blocked_waitall(a, b, &w);
	SAFE_RC(OPS->shutdown(a, SHUT_WR)); /* a forked party holds a copy of a: shut, not close */
	EXPECT_RC(ipct_party_wait(p, 3000), 0);
	EXPECT_RC(w->rc, 100);
	cr_assert_eq(ipct_pattern_check(w->buf, 100, 1, 0), -1, "bytes altered");
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, 0, NULL), 0);
}

Test(socket, SOCKET_STREAM_5__waitall_with_dontwait_on_empty_is_eagain)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_STREAM);
	struct ipc_socket *a, *b;
	unsigned char buf[16];
	ipct_socket_pair(&a, &b);
	EXPECT_ERR(OPS->recv(b, buf, sizeof buf, MSG_WAITALL | MSG_DONTWAIT, NULL), IPC_EAGAIN);
	send_pattern(a, 4, 0);
	EXPECT_RC(OPS->recv(b, buf, 8, MSG_WAITALL | MSG_DONTWAIT, NULL), 4);
}
