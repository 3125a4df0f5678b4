/* SPDX-License-Identifier: MIT */
/*
 * Verify that kill -9 of a process closes its ends: a blocked reader gets the
 * bytes written before, then 0, when the only writer dies; a writer blocked
 * on a full pipe gets -EPIPE when the only reader dies; a writer killed while
 * blocked leaves the pipe working for the others, nothing of its write in it.
 * Clauses: PIPE-DEATH-1, PIPE-DEATH-2, PIPE-DEATH-3.
 */
#include <signal.h>
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_pipe()
#define IDLE_MS 60000 /* a party that idles until it is killed */

struct death_arg {
	struct ipc_pipe *end;
	struct ipct_event *ready, *never;
	char kind;       /* 'r' read, 'w' write, 'h' only hold */
	_Atomic long rc; /* of the marked call; 1 until it returns */
	long first;      /* DEATH-1: the reader's first read */
	char buf[16];
};

/* Holds end, writes "abc" through it if it is the write end, then idles. */
static int hold_then_idle(void *argp)
{
	struct death_arg *a = argp;
	ipct_pipe_keep(a->end, NULL);
	if (a->kind == 'w' && OPS->write(a->end, "abc", 3) != 3)
		return 1;
	ipct_event_set(a->ready);
	ipct_event_wait(a->never, IDLE_MS);
	return 0;
}

/* DEATH-1: reads what is there, then a marked read. DEATH-2, -3: a marked write. */
static int blocked_call(void *argp)
{
	struct death_arg *a = argp;
	ipct_pipe_keep(a->end, NULL);
	ipct_signal_ignore(SIGPIPE);
	if (a->kind == 'r')
		a->first = OPS->read(a->end, a->buf, sizeof a->buf);
	ipct_party_enter_call();
	a->rc = a->kind == 'r' ? OPS->read(a->end, a->buf, sizeof a->buf)
			     : ipct_pipe_write_pattern(a->end, 1000, 13, 0);
	ipct_party_leave_call();
	return 0;
}

static struct ipct_party *start_blocked(struct death_arg *a, struct ipc_pipe *end, char kind)
{
	*a = (struct death_arg){ .end = end, .kind = kind, .rc = 1 };
	struct ipct_party *p = ipct_party_start(blocked_call, a);
	ipct_party_wait_blocked(p, 2000);
	cr_assert(ipct_party_in_call(p) && a->rc == 1,
		  "BROKEN: the %s returned %ld instead of blocking", kind == 'r' ? "read" : "write",
		  (long)a->rc);
	return p;
}

static struct ipct_party *start_holder(struct death_arg *a, struct ipc_pipe *end, char kind)
{
	*a = (struct death_arg){ .end = end, .ready = ipct_event_new(), .never = ipct_event_new(),
				 .kind = kind };
	struct ipct_party *p = ipct_process_start(hold_then_idle, a);
	SAFE_RC(ipct_event_wait(a->ready, 5000));
	return p;
}

static void kill_and_reap(struct ipct_party *p)
{
	ipct_party_kill(p);
	EXPECT_RC(ipct_party_wait(p, 5000), 128 + SIGKILL);
}

Test(pipe, PIPE_DEATH_1__killed_only_writer_gives_blocked_reader_bytes_then_eof)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_PEER_DEATH | IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct death_arg *a = ipct_shared(2 * sizeof *a);
	SAFE_PIPE(&rd, &wr);
	struct ipct_party *writer = start_holder(&a[0], wr, 'w');
	SAFE_CLOSE(wr);
	struct ipct_party *reader = start_blocked(&a[1], rd, 'r');
	kill_and_reap(writer);
	EXPECT_RC(ipct_party_wait(reader, 5000), 0);
	cr_assert(a[1].first == 3 && memcmp(a[1].buf, "abc", 3) == 0,
		  "before the kill the reader got %ld bytes", a[1].first);
	EXPECT_RC(a[1].rc, 0);
}

Test(pipe, PIPE_DEATH_2__killed_only_reader_gives_blocked_writer_epipe)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_PEER_DEATH | IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_BLOCKING |
		     IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	struct death_arg *a = ipct_shared(2 * sizeof *a);
	SAFE_PIPE(&rd, &wr);
	ipct_pipe_fill(wr, 0, 0);
	struct ipct_party *reader = start_holder(&a[0], rd, 'h');
	SAFE_CLOSE(rd);
	struct ipct_party *writer = start_blocked(&a[1], wr, 'w');
	kill_and_reap(reader);
	EXPECT_RC(ipct_party_wait(writer, 5000), 0);
	EXPECT_ERR(a[1].rc, IPC_EPIPE);
}

Test(pipe, PIPE_DEATH_3__writer_killed_while_blocked_leaves_the_pipe_working)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_PEER_DEATH | IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_BLOCKING |
		     IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	struct death_arg *a = ipct_shared(sizeof *a);
	char after[8];
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_fill(wr, 0, 0);
	*a = (struct death_arg){ .end = wr, .kind = 'w', .rc = 1 };
	struct ipct_party *writer = ipct_process_start(blocked_call, a);
	cr_assert(ipct_party_wait_blocked(writer, 2000), "BROKEN: the write did not block");
	kill_and_reap(writer);
	unsigned char *buf = malloc(cap + 1000);
	size_t got = ipct_pipe_drain(rd, buf, cap + 1000);
	long bad = ipct_pattern_check(buf, got, 0, 0);
	free(buf);
	cr_assert(got == cap && bad == -1, "after the kill the pipe held %zu bytes (filled %zu), "
		  "first foreign byte %ld", got, cap, bad);
	SAFE_WRITE(wr, "after", 5);
	EXPECT_RC(ipct_pipe_read_full(rd, after, 5), 5);
	cr_assert(memcmp(after, "after", 5) == 0, "read %.5s after the kill", after);
	SAFE_CLOSE(wr);
	EXPECT_RC(OPS->read(rd, after, sizeof after), 0);
}
