/* SPDX-License-Identifier: MIT */
/*
 * Verify that a blocking write is never short: one write of several times
 * the capacity returns its full count while a reader drains; a blocking write
 * to a full pipe blocks until a reader makes room, then completes with its
 * bytes behind the ones queued before it; and one of PIPE_BUF bytes with less
 * room free waits whole, letting a smaller write that fits go first.
 * Clauses: PIPE-WRITE-1, PIPE-WRITE-2, PIPE-ATOM-4.
 */
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_pipe()

struct write_arg {
	struct ipc_pipe *wr;
	size_t len, off;
	uint32_t stream;
	_Atomic long rc; /* 1 until the write returns */
};

/* One marked blocking write of len bytes of stream `stream` from off; then close. */
static int one_write(void *argp)
{
	struct write_arg *a = argp;
	ipct_pipe_keep(a->wr, NULL);
	ipct_party_enter_call();
	a->rc = ipct_pipe_write_pattern(a->wr, a->len, a->stream, a->off);
	ipct_party_leave_call();
	if (ipct_cross_process())
		ipct_pipe_close(a->wr);
	return 0;
}

Test(pipe, PIPE_WRITE_1__write_of_several_capacities_returns_full_count)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct write_arg *a = ipct_shared(sizeof *a);
	SAFE_PIPE(&rd, &wr);
	size_t len = ipct_has(IPC_PIPE_CAP_CAPACITY) ? 4 * (size_t)SAFE_RC(OPS->get_capacity(wr)) : 0;
	len = (len > (1u << 20) ? len : (1u << 20)) + 12345;
	unsigned char *buf = malloc(len);
	*a = (struct write_arg){ wr, len, 0, 3, 1 };
	struct ipct_party *p = ipct_party_start(one_write, a);
	size_t got = 0, step = 0;
	while (got < len) {
		size_t want = 1 + (step++ * 7919) % 30011;
		ssize_t n = OPS->read(rd, buf + got, want < len - got ? want : len - got);
		cr_assert(n > 0, "read returned %ld after %zu of %zu bytes", (long)n, got, len);
		got += (size_t)n;
	}
	EXPECT_RC(ipct_party_wait(p, 10000), 0);
	EXPECT_RC(a->rc, len);
	long bad = ipct_pattern_check(buf, len, 3, 0);
	free(buf);
	cr_assert_eq(bad, -1, "byte %ld of the big write arrived wrong", bad);
}

Test(pipe, PIPE_WRITE_2__write_to_full_pipe_blocks_until_room_then_completes)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	struct write_arg *a = ipct_shared(sizeof *a);
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_fill(wr, 3, 0);
	*a = (struct write_arg){ wr, 1000, cap, 3, 1 };
	struct ipct_party *p = ipct_party_start(one_write, a);
	ipct_party_wait_blocked(p, 2000);
	cr_assert(ipct_party_in_call(p) && a->rc == 1,
		  "a write to the full pipe returned %ld instead of blocking", (long)a->rc);
	unsigned char *buf = malloc(cap + 1000);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, cap + 1000), cap + 1000);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_RC(a->rc, 1000);
	long bad = ipct_pattern_check(buf, cap + 1000, 3, 0);
	free(buf);
	cr_assert_eq(bad, -1, "byte %ld of fill + blocked write is wrong (fill was %zu)", bad, cap);
}

Test(pipe, PIPE_ATOM_4__pipe_buf_write_waits_whole_when_less_is_free)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	struct write_arg *a = ipct_shared(2 * sizeof *a);
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_room(rd, wr);
	ipct_pipe_put(wr, cap - 100, 6, 0); /* 100 bytes free */
	a[0] = (struct write_arg){ wr, IPC_PIPE_BUF, 0, 11, 1 };
	struct ipct_party *big = ipct_party_start(one_write, &a[0]);
	ipct_party_wait_blocked(big, 2000);
	cr_assert(ipct_party_in_call(big) && a[0].rc == 1,
		  "a PIPE_BUF write with 100 bytes free returned %ld instead of blocking", (long)a[0].rc);
	a[1] = (struct write_arg){ wr, 50, cap - 100, 6, 1 };
	struct ipct_party *small = ipct_party_start(one_write, &a[1]);
	cr_assert(ipct_party_wait(small, 2000) == 0 && a[1].rc == 50,
		  "a 50-byte write did not fit the 100 free bytes (returned %ld): the waiting "
		  "PIPE_BUF write took part of the room", (long)a[1].rc);
	unsigned char *buf = malloc(cap - 50 + IPC_PIPE_BUF);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, cap - 50 + IPC_PIPE_BUF), cap - 50 + IPC_PIPE_BUF);
	EXPECT_RC(ipct_party_wait(big, 5000), 0);
	EXPECT_RC(a[0].rc, IPC_PIPE_BUF);
	long bad6 = ipct_pattern_check(buf, cap - 50, 6, 0);
	long bad11 = ipct_pattern_check(buf + cap - 50, IPC_PIPE_BUF, 11, 0);
	free(buf);
	cr_assert(bad6 == -1 && bad11 == -1, "the stream is not queued + small + whole record "
		  "(bad byte %ld before, %ld in the record)", bad6, bad11);
}
