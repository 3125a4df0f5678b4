/* SPDX-License-Identifier: MIT */
/*
 * Verify that non-blocking calls never wait: a read on an empty pipe fails
 * with -EAGAIN while a writer is open and returns 0 once none is, a write to
 * a full pipe fails with -EAGAIN whatever its size; that IPC_PIPE_NONBLOCK
 * makes both ends non-blocking; and that the mode belongs to one handle.
 * Clauses: PIPE-NB-1, PIPE-NB-2, PIPE-NB-3, PIPE-NB-4, PIPE-NB-5.
 */
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_pipe()

Test(pipe, PIPE_NB_1__read_on_empty_pipe_with_writer_is_eagain_at_once)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	SAFE_NONBLOCK(rd, 1);
	EXPECT_ERR(OPS->read(rd, buf, sizeof buf), IPC_EAGAIN);
	SAFE_WRITE(wr, "z", 1);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 1);
	cr_assert_eq(buf[0], 'z', "read %#x after the IPC_EAGAIN", buf[0]);
}

Test(pipe, PIPE_NB_2__read_on_empty_pipe_without_writer_is_end_of_file)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	SAFE_NONBLOCK(rd, 1);
	SAFE_CLOSE(wr);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
}

Test(pipe, PIPE_NB_3__write_to_full_pipe_is_eagain_whatever_the_size)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_fill(wr, 3, 0);
	const size_t sizes[] = { 1, IPC_PIPE_BUF, 3 * IPC_PIPE_BUF + 1 };
	SAFE_NONBLOCK(wr, 1);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(ipct_pipe_write_pattern(wr, sizes[i], 9, 0), IPC_EAGAIN,
			     "a write of %zu bytes to the full pipe did not fail with IPC_EAGAIN", sizes[i]);
	unsigned char *buf = malloc(cap + 1);
	size_t got = ipct_pipe_drain(rd, buf, cap + 1);
	long bad = ipct_pattern_check(buf, got < cap ? got : cap, 3, 0);
	free(buf);
	cr_assert(got == cap && bad == -1, "drained %zu bytes (filled %zu), first bad byte %ld",
		  got, cap, bad);
}

Test(pipe, PIPE_NB_4__nonblock_flag_at_creation_covers_both_ends)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	char buf[IPC_PIPE_BUF] = { 0 };
	ssize_t n = 0;
	SAFE_PIPE_NONBLOCK(&rd, &wr);
	EXPECT_ERR(OPS->read(rd, buf, sizeof buf), IPC_EAGAIN);
	for (size_t total = 0; total < ((size_t)1 << 30) && (n = OPS->write(wr, buf, 1)) == 1;)
		total += (size_t)n; /* a blocking write end would stop here for good */
	EXPECT_ERR(n, IPC_EAGAIN);
}

struct nb_arg {
	struct ipc_pipe *end;
	size_t len;
	_Atomic long rc; /* 1 until the call returns */
};

/* One marked blocking call through arg->end: a write of len bytes, or a read. */
static int marked_call(void *argp)
{
	struct nb_arg *a = argp;
	char one;
	ipct_pipe_keep(a->end, NULL);
	ipct_party_enter_call();
	a->rc = a->len ? ipct_pipe_write_pattern(a->end, a->len, 5, 0) : OPS->read(a->end, &one, 1);
	ipct_party_leave_call();
	return 0;
}

/* Start the call and check that it blocks (what a blocking handle does). */
static struct ipct_party *expect_blocks(struct nb_arg *a, const char *what)
{
	struct ipct_party *p = ipct_party_start(marked_call, a);
	ipct_party_wait_blocked(p, 2000);
	cr_assert(ipct_party_in_call(p) && a->rc == 1, "%s returned %ld instead of blocking", what,
		  (long)a->rc);
	return p;
}

Test(pipe, PIPE_NB_5__the_mode_belongs_to_one_handle)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_NONBLOCK | IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct nb_arg *a = ipct_shared(sizeof *a);
	SAFE_PIPE(&rd, &wr);
	size_t big = ipct_has(IPC_PIPE_CAP_CAPACITY) ? 2 * (size_t)SAFE_RC(OPS->get_capacity(wr)) : 0;
	big = big > (1u << 20) ? big : (1u << 20);
	unsigned char *buf = malloc(big);
	SAFE_NONBLOCK(rd, 1);
	EXPECT_ERR(OPS->read(rd, buf, 1), IPC_EAGAIN);
	*a = (struct nb_arg){ wr, big, 1 };
	struct ipct_party *p = expect_blocks(a, "with the read end non-blocking, a big write");
	SAFE_NONBLOCK(rd, 0); /* back to blocking: read_full waits for the rest */
	EXPECT_RC(ipct_pipe_read_full(rd, buf, big), big);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_RC(a->rc, big);
	SAFE_NONBLOCK(wr, 1);
	ssize_t n;
	size_t queued = 0;
	while ((n = OPS->write(wr, buf, IPC_PIPE_BUF)) > 0 && queued < big)
		queued += (size_t)n; /* a blocking write end would stop here for good */
	EXPECT_ERR(n, IPC_EAGAIN);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, queued), queued);
	free(buf);
	*a = (struct nb_arg){ rd, 0, 1 };
	p = expect_blocks(a, "with the write end non-blocking, a read on the empty pipe");
	SAFE_WRITE(wr, "w", 1);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_RC(a->rc, 1);
}
