/* SPDX-License-Identifier: MIT */
/*
 * Verify that the name and the open pipe live apart: the name
 * outlives the processes that used it, the contents do not outlive the last
 * close, unlinking a FIFO in use leaves its handles working, a FIFO made
 * again at that path is a separate pipe, and every open of a FIFO in use
 * reaches the same bytes.
 * Clauses: FIFO-NAME-1 … FIFO-NAME-5.
 */
#include <sys/stat.h>

#include "ipct.h"

#define RD_NB (IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK)

/* A child makes the FIFO, opens both ends, writes and exits without closing. */
static int maker(void *argp)
{
	const char *path = argp;
	struct ipc_pipe *rd, *wr;
	ipct_fifo_keep(NULL, NULL);
	if (FIFO->mkfifo(path, 0600) != 0 || FIFO->open(path, RD_NB, &rd) != 0 ||
	    FIFO->open(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK, &wr) != 0)
		return 2;
	return FIFO_IO->write(wr, "gone", 4) == 4 ? 0 : 3;
}

Test(fifo, FIFO_NAME_1__the_name_outlives_every_process_that_used_it)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_PERSISTENCE | IPC_FIFO_CAP_CROSS_PROCESS | IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600); /* probe the file system, then reuse the path */
	SAFE_RC(FIFO->unlink(path));
	EXPECT_RC(ipct_party_wait(ipct_process_start(maker, (void *)path), 5000), 0);
	uint32_t mode = 0;
	EXPECT_OK(FIFO->stat_mode(path, &mode));
	cr_assert(S_ISFIFO(mode), "after its maker exited the path is 0%o, not a FIFO", mode);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	ipct_fifo_pair(path, &rd, &wr);
	SAFE_RC(FIFO_IO->write(wr, "back", 4));
	EXPECT_RC(FIFO_IO->read(rd, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "back", 4) == 0, "read %.4s", buf);
}

Test(fifo, FIFO_NAME_2__the_contents_do_not_outlive_the_last_close)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	ipct_fifo_pair(path, &rd, &wr);
	SAFE_RC(FIFO_IO->write(wr, "lost!", 5));
	SAFE_RC(ipct_fifo_close(wr));
	SAFE_RC(ipct_fifo_close(rd));
	ipct_fifo_pair(path, &rd, &wr);
	EXPECT_ERR(FIFO_IO->read(rd, buf, sizeof buf), IPC_EAGAIN);
}

Test(fifo, FIFO_NAME_3__unlinking_a_fifo_in_use_leaves_its_handles_working)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *wr, *h;
	char buf[8];
	uint32_t mode;
	ipct_fifo_pair(path, &rd, &wr);
	EXPECT_OK(FIFO->unlink(path));
	EXPECT_ERR(FIFO->stat_mode(path, &mode), IPC_ENOENT);
	EXPECT_ERR(ipct_fifo_open(path, RD_NB, &h), IPC_ENOENT);
	EXPECT_RC(FIFO_IO->write(wr, "still", 5), 5);
	EXPECT_RC(FIFO_IO->read(rd, buf, sizeof buf), 5);
	cr_assert(memcmp(buf, "still", 5) == 0, "read %.5s", buf);
	SAFE_RC(ipct_fifo_close(wr));
	EXPECT_RC(FIFO_IO->read(rd, buf, sizeof buf), 0);
}

Test(fifo, FIFO_NAME_4__a_fifo_made_again_at_the_path_is_a_separate_pipe)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd1, *wr1, *rd2, *wr2;
	char buf[8];
	ipct_fifo_pair(path, &rd1, &wr1);
	SAFE_RC(FIFO_IO->write(wr1, "old", 3));
	SAFE_RC(FIFO->unlink(path));
	EXPECT_OK(FIFO->mkfifo(path, 0600));
	ipct_fifo_pair(path, &rd2, &wr2);
	EXPECT_ERR(FIFO_IO->read(rd2, buf, sizeof buf), IPC_EAGAIN);
	SAFE_RC(FIFO_IO->write(wr2, "new", 3));
	EXPECT_RC(FIFO_IO->read(rd1, buf, sizeof buf), 3);
	cr_assert(memcmp(buf, "old", 3) == 0, "the old FIFO gave %.3s", buf);
	EXPECT_ERR(FIFO_IO->read(rd1, buf, sizeof buf), IPC_EAGAIN);
	EXPECT_RC(FIFO_IO->read(rd2, buf, sizeof buf), 3);
	cr_assert(memcmp(buf, "new", 3) == 0, "the new FIFO gave %.3s", buf);
}

Test(fifo, FIFO_NAME_5__every_open_of_a_fifo_in_use_reaches_the_same_pipe)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd1, *wr, *rd2, *wr2;
	char buf[8];
	ipct_fifo_pair(path, &rd1, &wr);
	SAFE_RC(FIFO_IO->write(wr, "early", 5));
	rd2 = ipct_fifo_open_ok(path, RD_NB); /* opened after the bytes were written */
	EXPECT_RC(FIFO_IO->read(rd2, buf, sizeof buf), 5);
	cr_assert(memcmp(buf, "early", 5) == 0, "the later reader got %.5s", buf);
	wr2 = ipct_fifo_open_ok(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK);
	SAFE_RC(FIFO_IO->write(wr2, "other", 5));
	EXPECT_RC(FIFO_IO->read(rd1, buf, sizeof buf), 5);
	cr_assert(memcmp(buf, "other", 5) == 0, "the first reader got %.5s", buf);
}
