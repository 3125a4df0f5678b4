/* SPDX-License-Identifier: MIT */
/*
 * Verify that a poll waiting without a timeout wakes when the state changes:
 * on the read end when bytes arrive (IN) and when the last writer closes
 * (HUP); on the write end of a full pipe when a reader drains it (OUT) and
 * when the last reader closes (ERR).
 * Clauses: PIPE-POLL-8, PIPE-POLL-9.
 */
#include "ipct.h"

#define OPS ipct_pipe()

struct poll_arg {
	struct ipc_pipe *end;
	int events;
	_Atomic int rc; /* -1000 until poll returns */
};

static int waiting_poll(void *argp)
{
	struct poll_arg *a = argp;
	ipct_pipe_keep(a->end, NULL);
	ipct_party_enter_call();
	a->rc = OPS->poll(a->end, a->events, -1);
	ipct_party_leave_call();
	return 0;
}

/* Start a poll on end for events, see it wait, run the change, then collect. */
static struct ipct_party *start_poll(struct poll_arg *a, struct ipc_pipe *end, int events)
{
	*a = (struct poll_arg){ end, events, -1000 };
	struct ipct_party *p = ipct_party_start(waiting_poll, a);
	ipct_party_wait_blocked(p, 2000);
	cr_assert(ipct_party_in_call(p) && a->rc == -1000,
		  "BROKEN: the poll returned %d at once instead of waiting", a->rc);
	return p;
}

static int woken(struct ipct_party *p, struct poll_arg *a)
{
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	return a->rc;
}

Test(pipe, PIPE_POLL_8__waiting_poll_on_read_end_wakes_on_bytes_and_hangup)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct poll_arg *a = ipct_shared(sizeof *a);
	SAFE_PIPE(&rd, &wr);
	struct ipct_party *p = start_poll(a, rd, IPC_PIPE_IN);
	SAFE_WRITE(wr, "x", 1);
	EXPECT_RC(woken(p, a), IPC_PIPE_IN);
	char c;
	SAFE_READ(rd, &c, 1);
	p = start_poll(a, rd, IPC_PIPE_IN);
	SAFE_CLOSE(wr);
	int r = woken(p, a);
	cr_assert(r > 0 && (r & IPC_PIPE_HUP), "the last close woke the poll with %#x", r);
}

Test(pipe, PIPE_POLL_9__waiting_poll_on_full_write_end_wakes_on_room_and_reader_loss)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	struct poll_arg *a = ipct_shared(sizeof *a);
	SAFE_PIPE(&rd, &wr);
	ipct_pipe_fill(wr, 0, 0);
	struct ipct_party *p = start_poll(a, wr, IPC_PIPE_OUT);
	ipct_pipe_drain(rd, NULL, 0);
	EXPECT_RC(woken(p, a), IPC_PIPE_OUT);
	ipct_pipe_fill(wr, 0, 0);
	p = start_poll(a, wr, IPC_PIPE_OUT);
	SAFE_CLOSE(rd);
	int r = woken(p, a);
	cr_assert(r > 0 && (r & IPC_PIPE_ERR), "the last reader's close woke the poll with %#x", r);
}
