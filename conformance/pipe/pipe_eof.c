/* SPDX-License-Identifier: MIT */
/*
 * Verify that once every write end is closed a read returns 0 at once and
 * keeps doing so, that bytes queued at the last close are read first, and
 * that the last close wakes the one reader, and every one of several readers,
 * blocked on the empty pipe.
 * Clauses: PIPE-EOF-1, PIPE-EOF-2, PIPE-EOF-3, PIPE-EOF-4.
 */
#include "ipct.h"

#define OPS ipct_pipe()
#define READERS 3

Test(pipe, PIPE_EOF_1__read_returns_0_at_once_and_again_after_last_writer_closes)
{
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	SAFE_CLOSE(wr);
	for (int i = 0; i < 3; i++)
		EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
}

Test(pipe, PIPE_EOF_2__queued_bytes_are_read_before_the_end_of_file)
{
	struct ipc_pipe *rd, *wr;
	unsigned char buf[3000];
	SAFE_PIPE(&rd, &wr);
	SAFE_RC(ipct_pipe_write_pattern(wr, 1000, 1, 0));
	SAFE_RC(ipct_pipe_write_pattern(wr, 2000, 1, 1000));
	SAFE_CLOSE(wr);
	size_t got = 0;
	for (ssize_t n = 1; n > 0 && got < sizeof buf; got += (size_t)n) {
		n = OPS->read(rd, buf + got, got < 1500 ? 700 : sizeof buf - got);
		cr_assert(n >= 0, "read failed with %ld after %zu bytes", (long)n, got);
		cr_assert(n > 0 || got == sizeof buf, "end of file after %zu of 3000 bytes", got);
	}
	cr_assert_eq(ipct_pattern_check(buf, sizeof buf, 1, 0), -1, "the queued bytes changed");
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
}

struct eof_arg {
	struct ipc_pipe *rd;
	_Atomic long rc; /* 1 until the read returns */
};

static int blocked_reader(void *argp)
{
	struct eof_arg *a = argp;
	char buf[16];
	ipct_pipe_keep(a->rd, NULL);
	ipct_party_enter_call();
	a->rc = OPS->read(a->rd, buf, sizeof buf);
	ipct_party_leave_call();
	return 0;
}

/* Start n readers on rd and check that every one of them blocks. */
static void start_readers(struct ipc_pipe *rd, struct eof_arg *a, struct ipct_party **p, int n)
{
	for (int i = 0; i < n; i++) {
		a[i] = (struct eof_arg){ rd, 1 };
		p[i] = ipct_party_start(blocked_reader, &a[i]);
	}
	for (int i = 0; i < n; i++) {
		ipct_party_wait_blocked(p[i], 2000);
		cr_assert(ipct_party_in_call(p[i]) && a[i].rc == 1,
			  "BROKEN: reader %d returned %ld instead of blocking", i, (long)a[i].rc);
	}
}

Test(pipe, PIPE_EOF_3__last_close_wakes_the_blocked_reader_with_0)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct eof_arg *a = ipct_shared(sizeof *a);
	struct ipct_party *p;
	SAFE_PIPE(&rd, &wr);
	start_readers(rd, a, &p, 1);
	EXPECT_OK(ipct_pipe_close(wr));
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_RC(a->rc, 0);
}

Test(pipe, PIPE_EOF_4__last_close_wakes_every_blocked_reader)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct eof_arg *a = ipct_shared(READERS * sizeof *a);
	struct ipct_party *p[READERS];
	SAFE_PIPE(&rd, &wr);
	start_readers(rd, a, p, READERS);
	EXPECT_OK(ipct_pipe_close(wr));
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(5000));
	for (int i = 0; i < READERS; i++) {
		int st = ipct_party_wait(p[i], (deadline - ipct_now_ns()) / 1000000);
		cr_assert(st == 0 && a[i].rc == 0, "reader %d of %d: %s (read returned %ld)", i,
			  READERS, st == -ETIMEDOUT ? "never woken" : "failed", (long)a[i].rc);
	}
}
