/* SPDX-License-Identifier: MIT */
/*
 * Verify that the pipe view through which the pipe clauses judge a FIFO
 * works: its create() returns a connected pair without waiting, blocking unless asked
 * otherwise, and its unlink() removes what create() made.
 * Clause: FIFO-VIEW-1.
 */
#include "ipct.h"

Test(fifo, FIFO_VIEW_1__the_pipe_view_makes_a_connected_pair_and_unlinks_it)
{
	struct ipc_pipe *rd, *wr;
	char buf[8];
	const char *name = ipct_fifo_view(0, &rd, &wr);
	EXPECT_RC(FIFO_IO->write(wr, "view", 4), 4);
	EXPECT_RC(FIFO_IO->read(rd, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "view", 4) == 0, "read %.4s", buf);
	if (ipct_has(IPC_FIFO_CAP_BLOCKING_OPEN)) { /* blocking by default */
		struct ipct_party *p = ipct_party_start(ipct_fifo_read_byte_party, rd);
		cr_assert(ipct_party_wait_blocked(p, 2000), "a read on the empty view did not wait");
		SAFE_RC(FIFO_IO->write(wr, "v", 1));
		EXPECT_RC(ipct_party_wait(p, 5000), 'v'); /* the byte it read */
	}
	if (ipct_has(IPC_FIFO_CAP_NONBLOCK)) {
		struct ipc_pipe *nrd, *nwr;
		ipct_fifo_view(IPC_PIPE_NONBLOCK, &nrd, &nwr);
		EXPECT_ERR(FIFO_IO->read(nrd, buf, sizeof buf), IPC_EAGAIN);
	}
	EXPECT_OK(FIFO_IO->unlink(name));
	EXPECT_ERR(FIFO_IO->unlink(name), IPC_ENOENT);
}
