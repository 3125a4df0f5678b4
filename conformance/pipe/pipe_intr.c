/* SPDX-License-Identifier: MIT */
/*
 * Verify that a caught signal (no SA_RESTART) interrupts blocked calls: a read
 * on an empty pipe and a write on a full one that has moved nothing fail with
 * -EINTR and change nothing; a write that has moved part of its bytes returns
 * that count, and exactly those bytes are in the pipe.
 * Clauses: PIPE-INTR-1, PIPE-INTR-2, PIPE-INTR-3.
 */
#include <signal.h>
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_pipe()

struct intr_arg {
	struct ipc_pipe *end;
	size_t len; /* of the write; 0 for a read */
	struct ipct_thread_id who;
	_Atomic long rc; /* 1 until the call returns */
};

static int interruptible_call(void *argp)
{
	struct intr_arg *a = argp;
	char buf[16];
	ipct_pipe_keep(a->end, NULL);
	a->who = ipct_thread_self();
	ipct_party_enter_call();
	a->rc = a->len ? ipct_pipe_write_pattern(a->end, a->len, 12, 0)
		       : OPS->read(a->end, buf, sizeof buf);
	ipct_party_leave_call();
	return 0;
}

/* Start the call, see it blocked, signal its thread: what it returned. */
static long interrupt(struct ipc_pipe *end, size_t len)
{
	struct intr_arg *a = ipct_shared(sizeof *a);
	*a = (struct intr_arg){ .end = end, .len = len, .rc = 1 };
	ipct_signal_count(SIGUSR1); /* the party inherits or shares the handler */
	struct ipct_party *p = ipct_party_start(interruptible_call, a);
	if (len)
		ipct_pipe_wait_writer_blocked(p, end);
	else
		ipct_party_wait_blocked(p, 2000);
	cr_assert(ipct_party_in_call(p) && a->rc == 1,
		  "BROKEN: the %s returned %ld instead of blocking", len ? "write" : "read", (long)a->rc);
	SAFE_RC(ipct_signal_thread(a->who, SIGUSR1));
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	return a->rc;
}

Test(pipe, PIPE_INTR_1__signal_interrupts_a_blocked_read_with_eintr)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	SAFE_PIPE(&rd, &wr);
	EXPECT_ERR(interrupt(rd, 0), IPC_EINTR);
	SAFE_WRITE(wr, "late", 4);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "late", 4) == 0, "after the interrupted read: %.4s", buf);
}

Test(pipe, PIPE_INTR_2__signal_interrupts_a_blocked_write_with_eintr_adding_nothing)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_fill(wr, 0, 0);
	EXPECT_ERR(interrupt(wr, 1000), IPC_EINTR);
	unsigned char *buf = malloc(cap + 1000);
	size_t got = ipct_pipe_drain(rd, buf, cap + 1000);
	long bad = ipct_pattern_check(buf, got, 0, 0);
	free(buf);
	cr_assert(got == cap && bad == -1, "after the interrupted write the pipe held %zu bytes "
		  "(filled %zu), first foreign byte %ld", got, cap, bad);
}

Test(pipe, PIPE_INTR_3__signal_after_a_partial_transfer_returns_that_count)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_has(IPC_PIPE_CAP_CAPACITY) ? (size_t)SAFE_RC(OPS->get_capacity(wr)) : 0;
	size_t len = (cap > (1u << 20) ? cap : (1u << 20)) + 2 * IPC_PIPE_BUF + 7;
	long k = interrupt(wr, len);
	cr_assert(k > 0 && (size_t)k < len, "the partly done %zu-byte write returned %ld", len, k);
	unsigned char *buf = malloc(len);
	size_t got = ipct_pipe_drain(rd, buf, len);
	long bad = ipct_pattern_check(buf, got, 12, 0);
	free(buf);
	cr_assert(got == (size_t)k && bad == -1, "the write returned %ld but %zu bytes were "
		  "queued (first wrong byte %ld)", k, got, bad);
}
