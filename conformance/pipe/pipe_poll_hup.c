/* SPDX-License-Identifier: MIT */
/*
 * Verify that a pipe whose other side has gone says so: HUP on the read end
 * (with IN while bytes are left, and on Linux without IN once none are), ERR
 * on the write end, both reported even when not asked for.
 * Clauses: PIPE-POLL-4, PIPE-POLL-5, PIPE-POLL-6, PIPE-POLL-7.
 */
#include "ipct.h"

#define OPS ipct_pipe()
#define ALL (IPC_PIPE_IN | IPC_PIPE_OUT | IPC_PIPE_ERR | IPC_PIPE_HUP)

Test(pipe, PIPE_POLL_4__read_end_is_hup_with_in_while_bytes_are_left)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "left", 4);
	SAFE_CLOSE(wr);
	EXPECT_RC(OPS->poll(rd, IPC_PIPE_IN, 0), IPC_PIPE_IN | IPC_PIPE_HUP);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, 4), 4);
	int r = OPS->poll(rd, IPC_PIPE_IN, 0);
	cr_assert(r > 0 && (r & IPC_PIPE_HUP), "drained at end of file, poll reported %#x", r);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
}

Test(pipe, PIPE_POLL_5__at_end_of_file_with_nothing_left_hup_without_in)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	SAFE_CLOSE(wr);
	EXPECT_RC(OPS->poll(rd, IPC_PIPE_IN, 0), IPC_PIPE_HUP);
}

Test(pipe, PIPE_POLL_6__write_end_is_err_once_every_reader_is_gone)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	SAFE_CLOSE(rd);
	int r = OPS->poll(wr, IPC_PIPE_OUT, 0);
	cr_assert(r > 0 && (r & IPC_PIPE_ERR), "without readers the write end polled %#x", r);
	cr_assert(!(r & ~ALL), "unknown readiness bits %#x", r);
}

Test(pipe, PIPE_POLL_7__hup_and_err_are_reported_even_when_not_asked)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL);
	struct ipc_pipe *rd, *wr, *rd2, *wr2;
	SAFE_PIPE(&rd, &wr);
	SAFE_PIPE(&rd2, &wr2);
	SAFE_CLOSE(wr);
	SAFE_CLOSE(rd2);
	const int asked[] = { 0, IPC_PIPE_OUT };
	for (int i = 0; i < 2; i++) {
		int r = OPS->poll(rd, asked[i], 0);
		cr_assert(r > 0 && (r & IPC_PIPE_HUP), "read end without writers, asked %#x: %#x",
			  asked[i], r);
		r = OPS->poll(wr2, asked[i] ? IPC_PIPE_IN : 0, 0);
		cr_assert(r > 0 && (r & IPC_PIPE_ERR), "write end without readers, asked %#x: %#x",
			  asked[i] ? IPC_PIPE_IN : 0, r);
	}
}
