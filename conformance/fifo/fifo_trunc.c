/* SPDX-License-Identifier: MIT */
/*
 * Verify that a FIFO has no length to cut: O_TRUNC on an open is accepted
 * and ignored, and truncate() fails with -EINVAL; either way the bytes
 * queued are still read, intact.
 * Clauses: FIFO-TRUNC-1, FIFO-TRUNC-2.
 */
#include "ipct.h"

static void expect_queued(struct ipc_pipe *rd, const char *want)
{
	char buf[16];
	size_t len = strlen(want);
	EXPECT_RC(FIFO_IO->read(rd, buf, sizeof buf), (long)len);
	cr_assert(memcmp(buf, want, len) == 0, "queued bytes became %.*s", (int)len, buf);
}

Test(fifo, FIFO_TRUNC_1__o_trunc_on_open_is_accepted_and_ignored)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr, *h;
	ipct_fifo_pair(path, &rd, &wr);
	SAFE_RC(FIFO_IO->write(wr, "queued", 6));
	EXPECT_OK(ipct_fifo_open(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK | IPC_FIFO_TRUNC, &h));
	EXPECT_OK(ipct_fifo_open(path, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK | IPC_FIFO_TRUNC, &h));
	expect_queued(rd, "queued");
}

Test(fifo, FIFO_TRUNC_2__truncate_is_einval_and_keeps_the_bytes)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_TRUNCATE | IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr;
	ipct_fifo_pair(path, &rd, &wr);
	SAFE_RC(FIFO_IO->write(wr, "queued", 6));
	EXPECT_ERR(FIFO->truncate(path, 0), IPC_EINVAL);
	EXPECT_ERR(FIFO->truncate(path, 4096), IPC_EINVAL);
	expect_queued(rd, "queued");
	EXPECT_ERR(FIFO->truncate(path, 0), IPC_EINVAL); /* empty now: still refused */
}
