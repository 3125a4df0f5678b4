/* SPDX-License-Identifier: MIT */
/*
 * Verify that kill -9 of a party counts as its close: the messages a killed
 * sender process sent are received whole, then IPC_EOD, within a second of
 * the kill (also when it was killed blocked in send on a full mailbox); a
 * sender blocked on a full mailbox fails with -EPIPE within a second of the
 * kill of the last receiver process. Children are reaped with a deadline.
 * Clauses: MAILBOX-EOS-6, MAILBOX-EOS-7.
 */
#include <sched.h>
#include <signal.h>

#include "ipct.h"

#define MB       ipct_mailbox()
#define PARTY_MB ((const struct ipc_mailbox_ops *)ipct_subject()->ops)
#define SENTINEL 12345

struct doomed {
	const char *name;
	uint32_t flags, sends;
	bool block_in_send;       /* the last send is the call seen blocked */
	struct ipct_event *never; /* never set: the child waits here to be killed */
};

/* Opens the name, sends self-checking messages, then waits to be killed. */
static int doomed_party(void *argp)
{
	struct doomed *d = argp;
	struct ipc_mailbox *h;
	unsigned char buf[64];
	if (PARTY_MB->open(d->name, d->flags, &h) != 0)
		return 1;
	for (uint32_t i = 0; i < d->sends; i++) {
		if (d->block_in_send && i + 1 == d->sends)
			ipct_party_enter_call();
		if (PARTY_MB->send(h, buf, ipct_item_fill(buf, 16 + i, 3, i), -1) != 0)
			return 2;
	}
	ipct_party_enter_call();
	ipct_event_wait(d->never, 60000);
	return 3;
}

/* Start the child and see it asleep in its marked call. */
static struct ipct_party *start_doomed(struct doomed *d)
{
	d->never = ipct_event_new();
	struct ipct_party *p = ipct_process_start(doomed_party, d);
	cr_assert(ipct_party_wait_blocked(p, 5000),
		  "BROKEN: the child did not open, send and block");
	return p;
}

/* SIGKILL the child and reap it with a deadline: the time of the kill. */
static int64_t kill_and_reap(struct ipct_party *p)
{
	int64_t t = ipct_now_ns();
	ipct_party_kill(p);
	EXPECT_RC(ipct_party_wait(p, 5000), 128 + SIGKILL);
	return t;
}

/* recv by the deadline: the subject's timed wait, else polling with 0, else -1. */
static ssize_t recv_by(struct ipc_mailbox *h, void *buf, size_t cap, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - ipct_now_ns();
		int64_t tmo = ipct_has(IPC_MAILBOX_CAP_TIMED)      ? (left > 1 ? left : 1)
			      : ipct_has(IPC_MAILBOX_CAP_NONBLOCK) ? 0
								   : -1;
		ssize_t n = MB->recv(h, buf, cap, tmo);
		if ((n != IPC_EAGAIN && n != IPC_ETIMEDOUT) || left <= 0)
			return n;
		sched_yield();
	}
}

/* A sender process sends `sends` messages and is killed; the receiver gets
 * the first `whole` of them intact, then IPC_EOD, within a second. */
static void killed_sender(size_t capacity, uint32_t sends, uint32_t whole, bool block)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM | IPC_MAILBOX_CAP_PEER_DEATH |
		     IPC_MAILBOX_CAP_CROSS_PROCESS);
	struct doomed *d = ipct_shared(sizeof *d);
	unsigned char buf[64];
	uint32_t who = 0, seq = 0;
	*d = (struct doomed){ipct_mailbox_create(capacity, 64), IPC_MAILBOX_SEND, sends, block,
			     NULL};
	struct ipc_mailbox *r = ipct_mailbox_open(d->name, IPC_MAILBOX_RECV);
	int64_t killed = kill_and_reap(start_doomed(d)),
		deadline = killed + IPCT_MS(ipct_scaled_ms(1000));
	for (uint32_t i = 0; i < whole; i++) {
		ssize_t n = recv_by(r, buf, sizeof buf, deadline);
		cr_assert(n == 16 + i && ipct_item_check(buf, (size_t)n, &who, &seq) == 0 &&
			      seq == i,
			  "message %u of the killed sender: recv returned %zd, seq %u", i, n, seq);
	}
	EXPECT_ERR(recv_by(r, buf, sizeof buf, deadline), IPC_EOD);
	int64_t ms = (ipct_now_ns() - killed) / 1000000;
	cr_assert(ms <= ipct_scaled_ms(1000), "IPC_EOD came %lld ms after the kill", (long long)ms);
}

Test(mailbox, MAILBOX_EOS_6__killed_sender_counts_as_closed)
{
	killed_sender(ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 8 : IPC_MAILBOX_UNBOUNDED, 5, 5, false);
}

Test(mailbox, MAILBOX_EOS_6__sender_killed_blocked_in_send_counts_as_closed)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BOUNDED | IPC_MAILBOX_CAP_BLOCKING);
	killed_sender(4, 5, 4, true); /* the fifth send was blocked: not sent */
}

struct blocked {
	struct ipc_mailbox *h;
	_Atomic long rc; /* SENTINEL until send returns */
	_Atomic int64_t returned_ns;
};

static int blocked_send(void *argp)
{
	struct blocked *b = argp;
	ipct_party_enter_call();
	b->rc = MB->send(b->h, "late", 4, -1);
	b->returned_ns = ipct_now_ns();
	ipct_party_leave_call();
	return 0;
}

Test(mailbox, MAILBOX_EOS_7__killed_receiver_wakes_blocked_sender_with_epipe)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_END_OF_STREAM | IPC_MAILBOX_CAP_PEER_DEATH |
		     IPC_MAILBOX_CAP_CROSS_PROCESS | IPC_MAILBOX_CAP_BOUNDED |
		     IPC_MAILBOX_CAP_BLOCKING);
	struct doomed *d = ipct_shared(sizeof *d);
	*d = (struct doomed){.name = ipct_mailbox_create(1, 64), .flags = IPC_MAILBOX_RECV};
	struct blocked b = {.h = ipct_mailbox_open(d->name, IPC_MAILBOX_SEND), .rc = SENTINEL};
	struct ipct_party *child = start_doomed(d); /* the only receiver, alive */
	SAFE_RC(MB->send(b.h, "fill", 4, -1));
	struct ipct_party *t = ipct_thread_start(blocked_send, &b);
	cr_assert(ipct_party_wait_blocked(t, 2000) && b.rc == SENTINEL,
		  "BROKEN: send on the full mailbox returned %ld instead of blocking", (long)b.rc);
	int64_t killed = kill_and_reap(child);
	EXPECT_RC(ipct_party_wait(t, 5000), 0);
	EXPECT_ERR(b.rc, IPC_EPIPE);
	int64_t ms = (b.returned_ns - killed) / 1000000;
	cr_assert(ms <= ipct_scaled_ms(1000), "send failed %lld ms after the kill", (long long)ms);
}
