/* SPDX-License-Identifier: MIT */
/*
 * Verify that a FIFO's readiness keeps the hang-up rules: a reader no writer ever
 * joined is not hung up (Linux), a reader whose last writer left is, until a
 * new writer opens; a writer whose last reader left reports an error and its
 * write fails -EPIPE.
 * Clauses: FIFO-POLL-1, FIFO-POLL-2, FIFO-POLL-3.
 */
#include <signal.h>

#include "ipct.h"

#define RD_NB (IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK)
#define WR_NB (IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK)
#define READY(end, ev) FIFO_IO->poll((end), (ev), 0)

Test(fifo, FIFO_POLL_1__a_reader_no_writer_ever_joined_is_not_hung_up)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK | IPC_FIFO_CAP_POLL);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd = ipct_fifo_open_ok(path, RD_NB);
	EXPECT_RC(READY(rd, IPC_PIPE_IN), 0);
}

Test(fifo, FIFO_POLL_2__a_reader_hangs_up_when_the_last_writer_leaves_until_one_returns)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK | IPC_FIFO_CAP_POLL);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr;
	ipct_fifo_pair(path, &rd, &wr);
	EXPECT_RC(READY(rd, IPC_PIPE_IN), 0);
	SAFE_RC(ipct_fifo_close(wr));
	int ev = READY(rd, IPC_PIPE_IN);
	cr_assert(ev > 0 && (ev & IPC_PIPE_HUP), "after the last writer closed: 0x%x, no HUP", ev);
	wr = ipct_fifo_open_ok(path, WR_NB);
	EXPECT_RC(READY(rd, IPC_PIPE_IN), 0);
}

Test(fifo, FIFO_POLL_3__a_writer_whose_last_reader_left_reports_an_error)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK | IPC_FIFO_CAP_POLL);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr;
	ipct_fifo_pair(path, &rd, &wr);
	EXPECT_RC(READY(wr, IPC_PIPE_OUT), IPC_PIPE_OUT);
	SAFE_RC(ipct_fifo_close(rd));
	int ev = READY(wr, IPC_PIPE_OUT);
	cr_assert(ev > 0 && (ev & IPC_PIPE_ERR), "after the last reader closed: 0x%x, no ERR", ev);
	ipct_signal_ignore(SIGPIPE);
	EXPECT_ERR(FIFO_IO->write(wr, "x", 1), IPC_EPIPE);
}
