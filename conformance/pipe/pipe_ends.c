/* SPDX-License-Identifier: MIT */
/*
 * Verify that a pipe is one-way (wrong-direction I/O fails with -EBADF and
 * leaves the stream alone), that its descriptors are open read-only and
 * write-only, that fstat shows one FIFO behind both ends, that zero-length
 * calls return 0 at once and change nothing, and that a pipe cannot seek.
 * Clauses: PIPE-END-1, PIPE-END-2, PIPE-END-3, PIPE-END-4, PIPE-END-5,
 * PIPE-SEEK-1, PIPE-SEEK-2.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipct.h"

IPCT_SUITE(pipe, 30);

#define OPS ipct_pipe()

Test(pipe, PIPE_END_1__wrong_direction_is_ebadf_and_leaves_the_stream)
{
	struct ipc_pipe *rd, *wr;
	char buf[16];
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "abc", 3);
	EXPECT_ERR(OPS->write(rd, "XY", 2), IPC_EBADF);
	EXPECT_ERR(OPS->read(wr, buf, sizeof buf), IPC_EBADF);
	SAFE_WRITE(wr, "def", 3);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, 6), 6);
	cr_assert(memcmp(buf, "abcdef", 6) == 0, "the stream was touched: %.6s", buf);
}

Test(pipe, PIPE_END_2__read_end_is_rdonly_write_end_is_wronly)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_FD);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	EXPECT_RC(fcntl(OPS->fd(rd), F_GETFL) & O_ACCMODE, O_RDONLY);
	EXPECT_RC(fcntl(OPS->fd(wr), F_GETFL) & O_ACCMODE, O_WRONLY);
}

Test(pipe, PIPE_END_3__fstat_shows_a_fifo_on_both_ends)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_FD);
	struct ipc_pipe *rd, *wr;
	struct stat st[2];
	SAFE_PIPE(&rd, &wr);
	SAFE_RC(fstat(OPS->fd(rd), &st[0]));
	SAFE_RC(fstat(OPS->fd(wr), &st[1]));
	for (int i = 0; i < 2; i++)
		cr_assert(S_ISFIFO(st[i].st_mode), "the %s end has mode %#o, not a FIFO",
			  i ? "write" : "read", (unsigned)st[i].st_mode);
}

Test(pipe, PIPE_END_4__both_ends_share_one_inode_other_pipes_differ)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_FD);
	struct ipc_pipe *rd, *wr, *rd2, *wr2;
	struct stat a, b, c;
	SAFE_PIPE(&rd, &wr);
	SAFE_PIPE(&rd2, &wr2);
	SAFE_RC(fstat(OPS->fd(rd), &a));
	SAFE_RC(fstat(OPS->fd(wr), &b));
	SAFE_RC(fstat(OPS->fd(rd2), &c));
	cr_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
		  "read end inode %lu, write end inode %lu", (unsigned long)a.st_ino,
		  (unsigned long)b.st_ino);
	cr_assert(a.st_ino != c.st_ino, "two pipes share inode %lu", (unsigned long)a.st_ino);
}

Test(pipe, PIPE_END_5__zero_length_calls_return_0_at_once_and_change_nothing)
{
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	EXPECT_RC(OPS->read(rd, buf, 0), 0); /* empty, blocking, a writer open */
	EXPECT_RC(OPS->write(wr, buf, 0), 0);
	SAFE_WRITE(wr, "q", 1);
	EXPECT_RC(OPS->write(wr, "", 0), 0);
	EXPECT_RC(OPS->read(rd, buf, 0), 0);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 1);
	cr_assert_eq(buf[0], 'q', "read %#x, not the byte written", buf[0]);
}

Test(pipe, PIPE_SEEK_1__lseek_fails_with_espipe_for_every_whence)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_FD);
	struct ipc_pipe *rd, *wr;
	const int whence[] = { SEEK_SET, SEEK_CUR, SEEK_END };
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "abc", 3);
	for (int i = 0; i < 3; i++)
		for (int e = 0; e < 2; e++) {
			errno = 0;
			cr_assert(lseek(OPS->fd(e ? wr : rd), 0, whence[i]) == -1 && errno == ESPIPE,
				  "lseek(%s end, 0, %d) did not fail with ESPIPE (errno %d)",
				  e ? "write" : "read", whence[i], errno);
		}
}

Test(pipe, PIPE_SEEK_2__pread_and_pwrite_fail_with_espipe_and_move_nothing)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_FD);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	SAFE_WRITE(wr, "abc", 3);
	errno = 0;
	cr_assert(pread(OPS->fd(rd), buf, sizeof buf, 0) == -1 && errno == ESPIPE,
		  "pread did not fail with ESPIPE (errno %d)", errno);
	errno = 0;
	cr_assert(pwrite(OPS->fd(wr), "XYZ", 3, 0) == -1 && errno == ESPIPE,
		  "pwrite did not fail with ESPIPE (errno %d)", errno);
	SAFE_CLOSE(wr);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, sizeof buf), 3);
	cr_assert(memcmp(buf, "abc", 3) == 0, "the stream changed: %.3s", buf);
}
