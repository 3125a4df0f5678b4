/* SPDX-License-Identifier: MIT */
/*
 * Verify that SEQPACKET and DGRAM sockets keep record boundaries, truncate
 * visibly (MSG_TRUNC out, the rest discarded), report a record's real length
 * with MSG_TRUNC in, carry empty records that read like the end, end a
 * SEQPACKET connection with 0 and -EPIPE, and give a datagram pair whose peer
 * closed -ECONNREFUSED (no SIGPIPE) and -EAGAIN.
 * Clauses: SOCKET-REC-1, SOCKET-REC-2, SOCKET-REC-3, SOCKET-REC-4,
 * SOCKET-REC-5, SOCKET-REC-6.
 */
#include <signal.h>

#include "ipct.h"

#define OPS ipct_socket()

static void send_record(struct ipc_socket *s, size_t len, uint32_t seq)
{
	unsigned char buf[4096];
	ipct_pattern(buf, len, seq, 0);
	EXPECT_RC(OPS->send(s, buf, len, MSG_NOSIGNAL), len);
}

static void expect_record(struct ipc_socket *s, size_t len, uint32_t seq)
{
	unsigned char buf[8192];
	EXPECT_RC(OPS->recv(s, buf, sizeof buf, MSG_DONTWAIT, NULL), len);
	cr_assert_eq(ipct_pattern_check(buf, len, seq, 0), -1, "record %u altered", seq);
}

Test(socket, SOCKET_REC_1__each_recv_returns_exactly_one_record)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_RECORDS);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	send_record(a, 1, 1);
	send_record(a, 100, 2);
	send_record(a, 3000, 3);
	expect_record(b, 1, 1);
	expect_record(b, 100, 2);
	expect_record(b, 3000, 3);
}

Test(socket, SOCKET_REC_2__a_short_buffer_truncates_with_msg_trunc)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_RECORDS);
	struct ipc_socket *a, *b;
	char buf[8];
	int fl = 0;
	ipct_socket_pair(&a, &b);
	EXPECT_RC(OPS->send(a, "hello", 5, MSG_NOSIGNAL), 5);
	send_record(a, 10, 7);
	EXPECT_RC(OPS->recv(b, buf, 2, 0, &fl), 2);
	cr_assert(memcmp(buf, "he", 2) == 0 && (fl & MSG_TRUNC), "prefix or MSG_TRUNC missing");
	expect_record(b, 10, 7); /* the rest of "hello" is gone */
	EXPECT_ERR(OPS->recv(b, buf, sizeof buf, MSG_DONTWAIT, NULL), IPC_EAGAIN);
}

Test(socket, SOCKET_REC_3__msg_trunc_in_reports_the_real_length)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_RECORDS);
	struct ipc_socket *a, *b;
	char buf[4];
	ipct_socket_pair(&a, &b);
	send_record(a, 300, 1);
	send_record(a, 40, 2);
	EXPECT_RC(OPS->recv(b, buf, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT, NULL), 300);
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT, NULL), 300);
	expect_record(b, 40, 2);
}

Test(socket, SOCKET_REC_4__an_empty_record_reads_as_zero_between_intact_records)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_RECORDS);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	send_record(a, 10, 1);
	EXPECT_RC(OPS->send(a, "", 0, MSG_NOSIGNAL), 0);
	send_record(a, 20, 2);
	expect_record(b, 10, 1);
	expect_record(b, 0, 0);
	expect_record(b, 20, 2);
}

Test(socket, SOCKET_REC_5__seqpacket_peer_close_gives_zero_and_epipe)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_RECORDS | IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	char buf[16];
	ipct_socket_pair(&a, &b);
	send_record(a, 10, 1);
	SAFE_RC(ipct_socket_close(a));
	expect_record(b, 10, 1);
	EXPECT_RC(OPS->recv(b, buf, sizeof buf, 0, NULL), 0);
	EXPECT_ERR(OPS->send(b, "x", 1, MSG_NOSIGNAL), IPC_EPIPE);
}

Test(socket, SOCKET_REC_6__dgram_peer_close_is_econnrefused_and_eagain)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_DGRAM);
	struct ipc_socket *a, *b;
	char buf[16];
	ipct_socket_pair(&a, &b);
	SAFE_RC(ipct_socket_close(b));
	ipct_signal_count(SIGPIPE);
	EXPECT_ERR(OPS->send(a, "x", 1, 0), IPC_ECONNREFUSED);
	cr_assert_eq(ipct_signal_caught(SIGPIPE), 0, "the send raised SIGPIPE");
	EXPECT_ERR(OPS->recv(a, buf, sizeof buf, MSG_DONTWAIT, NULL), IPC_EAGAIN);
}
