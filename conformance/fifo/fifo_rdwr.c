/* SPDX-License-Identifier: MIT */
/*
 * Verify that a read-write open (Linux) succeeds at once with no other
 * handle, reads back what it writes, and counts as both a reader and a
 * writer: a non-blocking write-only open succeeds and no reader sees EOF.
 * Clauses: FIFO-RDWR-1, FIFO-RDWR-2.
 */
#include "ipct.h"

static void round_trip(struct ipc_pipe *h, const char *what)
{
	char buf[8] = { 0 };
	EXPECT_RC(FIFO_IO->write(h, "both", 4), 4);
	EXPECT_RC(FIFO_IO->read(h, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "both", 4) == 0, "%s handle read back %.4s", what, buf);
}

Test(fifo, FIFO_RDWR_1__read_write_open_succeeds_at_once_and_reads_its_writes)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_RDWR_OPEN);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *h;
	EXPECT_OK(ipct_fifo_open(path, IPC_FIFO_RDWR, &h)); /* blocking, alone */
	round_trip(h, "blocking");
	SAFE_RC(ipct_fifo_close(h));
	if (ipct_has(IPC_FIFO_CAP_NONBLOCK)) {
		EXPECT_OK(ipct_fifo_open(path, IPC_FIFO_RDWR | IPC_FIFO_NONBLOCK, &h));
		round_trip(h, "non-blocking");
	}
}

Test(fifo, FIFO_RDWR_2__a_read_write_handle_is_a_reader_and_a_writer)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_RDWR_OPEN | IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *both, *wr, *rd;
	char c;
	both = ipct_fifo_open_ok(path, IPC_FIFO_RDWR | IPC_FIFO_NONBLOCK);
	EXPECT_OK(ipct_fifo_open(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK, &wr)); /* a reader */
	rd = ipct_fifo_open_ok(path, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK);
	SAFE_RC(ipct_fifo_close(wr)); /* the read-write handle is the only writer left */
	EXPECT_ERR(FIFO_IO->read(rd, &c, 1), IPC_EAGAIN);
	SAFE_RC(FIFO_IO->write(both, "y", 1));
	EXPECT_RC(FIFO_IO->read(rd, &c, 1), 1);
	EXPECT_ERR(FIFO_IO->read(rd, &c, 1), IPC_EAGAIN);
	SAFE_RC(ipct_fifo_close(both));
	EXPECT_RC(FIFO_IO->read(rd, &c, 1), 0); /* its close was the last writer's */
}
