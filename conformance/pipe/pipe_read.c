/* SPDX-License-Identifier: MIT */
/*
 * Verify that a read returns what is queued without waiting for more, that a
 * blocking read on an empty pipe waits for bytes and returns what came, that
 * the pipe keeps no write boundaries, and that a long concurrent transfer of
 * varied write and read sizes delivers every byte once, unaltered, in order.
 * Clauses: PIPE-READ-1, PIPE-READ-2, PIPE-READ-3, PIPE-READ-4.
 */
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_pipe()
#define STREAM_LEN (2u << 20) /* READ-4: many times any default capacity */

struct read_arg {
	struct ipc_pipe *rd, *wr;
	_Atomic long rc; /* 1 until the call returns */
	char buf[64];
};

/* One marked blocking read of up to 64 bytes. */
static int one_read(void *argp)
{
	struct read_arg *a = argp;
	ipct_pipe_keep(a->rd, NULL);
	ipct_party_enter_call();
	a->rc = OPS->read(a->rd, a->buf, sizeof a->buf);
	ipct_party_leave_call();
	return 0;
}

Test(pipe, PIPE_READ_1__read_returns_what_is_queued_without_waiting)
{
	struct ipc_pipe *rd, *wr;
	char buf[100];
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "0123456789", 10);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 10); /* the writer is still open */
	cr_assert(memcmp(buf, "0123456789", 10) == 0, "read %.10s", buf);
}

/* What is queued includes what arrived after an earlier short read (a reader
 * must not go by a stale view of the stream: found by the pipe_diff fuzzer). */
Test(pipe, PIPE_READ_1__read_after_a_partial_read_returns_everything_queued)
{
	struct ipc_pipe *rd, *wr;
	char buf[100];
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "0123456789", 10);
	EXPECT_RC(OPS->read(rd, buf, 5), 5);
	SAFE_WRITE(wr, "abcdefghij", 10);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 15);
	cr_assert(memcmp(buf, "56789abcdefghij", 15) == 0, "read %.15s", buf);
}

Test(pipe, PIPE_READ_2__blocking_read_waits_for_bytes_then_returns_them)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct read_arg *a = ipct_shared(sizeof *a);
	SAFE_PIPE(&rd, &wr);
	*a = (struct read_arg){ .rd = rd, .rc = 1 };
	struct ipct_party *party = ipct_party_start(one_read, a);
	ipct_party_wait_blocked(party, 2000);
	cr_assert(ipct_party_in_call(party) && a->rc == 1,
		  "a read on the empty pipe returned %ld instead of blocking", (long)a->rc);
	SAFE_WRITE(wr, "late", 4);
	EXPECT_RC(ipct_party_wait(party, 5000), 0);
	EXPECT_RC(a->rc, 4);
	cr_assert(memcmp(a->buf, "late", 4) == 0, "the woken read got %.4s", a->buf);
}

Test(pipe, PIPE_READ_3__no_message_boundaries_in_either_direction)
{
	struct ipc_pipe *rd, *wr;
	char buf[16] = { 0 };
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "ab", 2);
	SAFE_WRITE(wr, "cde", 3);
	SAFE_WRITE(wr, "f", 1);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 6);
	cr_assert(memcmp(buf, "abcdef", 6) == 0, "three writes read as %.6s", buf);
	SAFE_WRITE(wr, "ghijk", 5);
	for (int i = 0; i < 5; i++) {
		EXPECT_RC(OPS->read(rd, buf, 1), 1);
		cr_assert_eq(buf[0], "ghijk"[i], "byte %d of one write read as %c", i, buf[0]);
	}
}

/* READ-4's writer: the stream in writes of 1 to ~20 000 bytes. */
static int stream_writer(void *argp)
{
	struct read_arg *a = argp;
	ipct_pipe_keep(a->wr, NULL);
	size_t off = 0, step = 0;
	while (off < STREAM_LEN) {
		size_t n = 1 + (step++ * 7919) % 20011;
		n = n > STREAM_LEN - off ? STREAM_LEN - off : n;
		ssize_t rc = ipct_pipe_write_pattern(a->wr, n, 4, off);
		if (rc != (ssize_t)n) {
			a->rc = rc;
			return 1;
		}
		off += n;
	}
	return ipct_pipe_close(a->wr) == 0 ? 0 : 2;
}

Test(pipe, PIPE_READ_4__long_concurrent_stream_arrives_once_intact_in_order)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct read_arg *a = ipct_shared(sizeof *a);
	unsigned char *buf = malloc(STREAM_LEN + 1);
	SAFE_PIPE(&rd, &wr);
	*a = (struct read_arg){ .rd = rd, .wr = wr };
	struct ipct_party *party = ipct_party_start(stream_writer, a);
	if (ipct_cross_process())
		SAFE_CLOSE(wr); /* the child's copy is the only writer now */
	size_t got = 0, step = 0;
	for (ssize_t n = 1; n > 0; got += (size_t)n) { /* one byte more than sent: room for a surplus */
		size_t want = 1 + (step++ * 104729) % 70001, room = STREAM_LEN + 1 - got;
		n = OPS->read(rd, buf + got, want < room ? want : room);
		cr_assert(n >= 0, "read failed with %ld after %zu bytes", (long)n, got);
	}
	EXPECT_RC(ipct_party_wait(party, 10000), 0);
	long bad = ipct_pattern_check(buf, got, 4, 0);
	free(buf);
	cr_assert_eq(got, STREAM_LEN, "read %zu of %u bytes", got, STREAM_LEN);
	cr_assert_eq(bad, -1, "byte %ld of the stream is wrong", bad);
}
