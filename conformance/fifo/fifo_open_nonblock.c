/* SPDX-License-Identifier: MIT */
/*
 * Verify that the non-blocking opens keep their rules: read-only succeeds with no writer,
 * write-only fails -ENXIO until a reader is open; that the mode of the open
 * is the mode of the handle; and that a handle's descriptor is a FIFO open in
 * the asked access mode.
 * Clauses: FIFO-OPEN-4 … FIFO-OPEN-7.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "ipct.h"

#define RD_NB (IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK)
#define WR_NB (IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK)

Test(fifo, FIFO_OPEN_4__nonblocking_read_only_open_succeeds_without_a_writer)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd = NULL;
	EXPECT_OK(ipct_fifo_open(path, RD_NB, &rd));
	cr_assert(rd != NULL, "open succeeded without a handle");
}

Test(fifo, FIFO_OPEN_5__nonblocking_write_only_open_is_enxio_without_a_reader)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr;
	EXPECT_ERR(ipct_fifo_open(path, WR_NB, &wr), IPC_ENXIO);
	rd = ipct_fifo_open_ok(path, RD_NB);
	EXPECT_OK(ipct_fifo_open(path, WR_NB, &wr));
	SAFE_RC(ipct_fifo_close(wr));
	SAFE_RC(ipct_fifo_close(rd));
	EXPECT_ERR(ipct_fifo_open(path, WR_NB, &wr), IPC_ENXIO);
}

Test(fifo, FIFO_OPEN_6__the_mode_of_the_open_is_the_mode_of_the_handle)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr;
	char c;
	ipct_fifo_pair(path, &rd, &wr);
	EXPECT_ERR(FIFO_IO->read(rd, &c, 1), IPC_EAGAIN);
	struct ipc_pipe *brd = ipct_fifo_open_ok(path, IPC_FIFO_RDONLY); /* a writer is open */
	struct ipct_party *p = ipct_party_start(ipct_fifo_read_byte_party, brd);
	cr_assert(ipct_party_wait_blocked(p, 2000),
		  "a read through the handle opened blocking did not wait");
	SAFE_RC(FIFO_IO->write(wr, "x", 1));
	EXPECT_RC(ipct_party_wait(p, 5000), 'x'); /* the byte it read */
}

static void expect_fd(struct ipc_pipe *h, int accmode, const char *what)
{
	struct stat st;
	int fd = FIFO_IO->fd(h);
	cr_assert(fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode), "%s: fstat is not a FIFO", what);
	int fl = fcntl(fd, F_GETFL);
	cr_assert(fl >= 0 && (fl & O_ACCMODE) == accmode, "%s: access mode %d, expected %d",
		  what, fl & O_ACCMODE, accmode);
}

Test(fifo, FIFO_OPEN_7__the_descriptor_is_a_fifo_in_the_asked_access_mode)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_FD | IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr;
	ipct_fifo_pair(path, &rd, &wr);
	expect_fd(rd, O_RDONLY, "read-only");
	expect_fd(wr, O_WRONLY, "write-only");
	if (ipct_has(IPC_FIFO_CAP_RDWR_OPEN))
		expect_fd(ipct_fifo_open_ok(path, IPC_FIFO_RDWR), O_RDWR, "read-write");
}
