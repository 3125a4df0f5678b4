/* SPDX-License-Identifier: MIT */
/*
 * Verify that an open pipe reports the readiness it has: nothing to read
 * while empty, IN while bytes are queued, OUT on the write end exactly when a
 * PIPE_BUF write would not block; and that a poll with a timeout and nothing
 * ready returns 0 no earlier than the timeout.
 * Clauses: PIPE-POLL-1, PIPE-POLL-2, PIPE-POLL-3, PIPE-POLL-10.
 */
#include "ipct.h"

#define OPS ipct_pipe()
#define ALL (IPC_PIPE_IN | IPC_PIPE_OUT | IPC_PIPE_ERR | IPC_PIPE_HUP)

Test(pipe, PIPE_POLL_1__empty_pipe_read_end_not_ready_write_end_out)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	EXPECT_RC(OPS->poll(rd, IPC_PIPE_IN, 0), 0);
	EXPECT_RC(OPS->poll(wr, IPC_PIPE_OUT, 0), IPC_PIPE_OUT);
}

Test(pipe, PIPE_POLL_2__read_end_is_in_while_bytes_are_queued)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL);
	struct ipc_pipe *rd, *wr;
	char buf[16];
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "0123456789", 10);
	EXPECT_RC(OPS->poll(rd, IPC_PIPE_IN, 0), IPC_PIPE_IN);
	SAFE_READ(rd, buf, 4);
	EXPECT_RC(OPS->poll(rd, IPC_PIPE_IN, 0), IPC_PIPE_IN);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, 6), 6);
	EXPECT_RC(OPS->poll(rd, IPC_PIPE_IN, 0), 0);
}

Test(pipe, PIPE_POLL_3__write_end_is_out_only_with_pipe_buf_free)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_fill(wr, 0, 0);
	EXPECT_RC(OPS->poll(wr, ALL, 0), 0); /* full */
	ipct_pipe_drain(rd, NULL, 0);
	EXPECT_RC(OPS->poll(wr, ALL, 0), IPC_PIPE_OUT);
	ipct_pipe_put(wr, cap - 100, 0, 0);
	EXPECT_RC(OPS->poll(wr, ALL, 0), 0); /* 100 bytes free */
	ipct_pipe_drain(rd, NULL, 0);
	ipct_pipe_put(wr, cap - IPC_PIPE_BUF, 0, 0);
	EXPECT_RC(OPS->poll(wr, ALL, 0), IPC_PIPE_OUT); /* exactly PIPE_BUF free */
}

Test(pipe, PIPE_POLL_10__timeout_with_nothing_ready_returns_0_not_early)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	int64_t t0 = ipct_now_ns();
	EXPECT_RC(OPS->poll(rd, IPC_PIPE_IN, IPCT_MS(50)), 0);
	int64_t waited = ipct_now_ns() - t0;
	cr_assert(waited >= IPCT_MS(50), "poll returned after %.3f ms of a 50 ms timeout",
		  waited / 1e6);
	cr_assert(waited < IPCT_MS(ipct_scaled_ms(2000)), "a 50 ms poll took %.0f ms", waited / 1e6);
}
