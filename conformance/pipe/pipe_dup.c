/* SPDX-License-Identifier: MIT */
/*
 * Verify that a duplicated handle reaches the same stream as the original,
 * that a duplicated write handle keeps the end of file away until it is
 * closed, and that a duplicated read handle keeps writes succeeding until it
 * is closed, after which they fail with -EPIPE.
 * Clauses: PIPE-DUP-1, PIPE-DUP-2, PIPE-DUP-3.
 */
#include <signal.h>

#include "ipct.h"

#define OPS ipct_pipe()

Test(pipe, PIPE_DUP_1__duplicates_share_one_stream_each_byte_read_once)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_DUP);
	struct ipc_pipe *rd, *wr;
	char buf[8] = { 0 };
	SAFE_PIPE(&rd, &wr);
	struct ipc_pipe *rd2 = ipct_pipe_dup(rd), *wr2 = ipct_pipe_dup(wr);
	SAFE_WRITE(wr, "ab", 2);
	SAFE_WRITE(wr2, "cd", 2);
	SAFE_WRITE(wr, "ef", 2);
	EXPECT_RC(OPS->read(rd2, buf, 3), 3);
	EXPECT_RC(OPS->read(rd, buf + 3, 3), 3);
	cr_assert(memcmp(buf, "abcdef", 6) == 0, "through the duplicates: %.6s", buf);
	SAFE_CLOSE(wr);
	SAFE_CLOSE(wr2);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0); /* nothing read twice */
	EXPECT_RC(OPS->read(rd2, buf, sizeof buf), 0);
}

Test(pipe, PIPE_DUP_2__duplicated_write_handle_keeps_end_of_file_away)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_DUP | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	struct ipc_pipe *wr2 = ipct_pipe_dup(wr);
	SAFE_CLOSE(wr);
	SAFE_NONBLOCK(rd, 1);
	EXPECT_ERR(OPS->read(rd, buf, sizeof buf), IPC_EAGAIN);
	SAFE_WRITE(wr2, "xy", 2);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 2);
	EXPECT_ERR(OPS->read(rd, buf, sizeof buf), IPC_EAGAIN);
	SAFE_CLOSE(wr2);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
}

Test(pipe, PIPE_DUP_3__duplicated_read_handle_keeps_writes_going_then_epipe)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_DUP);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	struct ipc_pipe *rd2 = ipct_pipe_dup(rd);
	SAFE_CLOSE(rd);
	EXPECT_RC(OPS->write(wr, "abc", 3), 3);
	EXPECT_RC(OPS->read(rd2, buf, sizeof buf), 3);
	cr_assert(memcmp(buf, "abc", 3) == 0, "read %.3s through the duplicate", buf);
	SAFE_CLOSE(rd2);
	ipct_signal_ignore(SIGPIPE);
	EXPECT_ERR(OPS->write(wr, "d", 1), IPC_EPIPE);
}
