/* SPDX-License-Identifier: MIT */
/*
 * Verify that a message a receiver took is never delivered again, even when
 * that receiver's process is killed afterwards: the messages it did not take
 * go to the remaining receiver, each once, and nothing it took comes back.
 * Clause: MAILBOX-ORDER-7.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipct.h"

#define OPS ipct_mailbox()
/* In a forked party: the subject is loaded already, nothing can assert. */
#define CHILD_OPS ((const struct ipc_mailbox_ops *)ipct_subject()->ops)

#define SENT  10
#define TAKEN 3

struct victim {
	const char *name;
	struct ipct_event *took; /* set once the victim has its messages */
	int got[TAKEN];
};

/* Take TAKEN messages, say so, and wait to be killed (never close). */
static int doomed_receiver(void *argp)
{
	struct victim *v = argp;
	struct ipc_mailbox *h;
	char buf[16];
	if (CHILD_OPS->open(v->name, IPC_MAILBOX_RECV, &h) != 0)
		return 1;
	for (int i = 0; i < TAKEN; i++) {
		if (CHILD_OPS->recv(h, buf, sizeof buf, -1) <= 0)
			return 2;
		v->got[i] = atoi(buf);
	}
	ipct_event_set(v->took);
	ipct_party_enter_call();
	CHILD_OPS->recv(h, buf, 0, -1); /* blocks or fails: it is killed either way */
	for (;;)
		pause();
}

Test(mailbox, MAILBOX_ORDER_7__a_killed_receivers_messages_are_not_delivered_again)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_PEER_DEATH | IPC_MAILBOX_CAP_CROSS_PROCESS |
		     IPC_MAILBOX_CAP_TIMED | IPC_MAILBOX_CAP_BOUNDED);
	struct victim *v = ipct_shared(sizeof *v);
	v->name = ipct_mailbox_create(16, 16);
	v->took = ipct_event_new();
	struct ipc_mailbox *tx = ipct_mailbox_open(v->name, IPCT_MAILBOX_BOTH);
	char buf[16];
	for (int i = 0; i < SENT; i++) {
		snprintf(buf, sizeof buf, "%d", i);
		SAFE_RC(OPS->send(tx, buf, strlen(buf) + 1, 0));
	}
	struct ipct_party *p = ipct_process_start(doomed_receiver, v);
	SAFE_RC(ipct_event_wait(v->took, 5000));
	ipct_party_kill(p);
	EXPECT_RC(ipct_party_wait(p, 5000), 128 + SIGKILL);
	for (int i = 0; i < TAKEN; i++)
		cr_assert_eq(v->got[i], i, "BROKEN: the victim took %d as its message %d",
			     v->got[i], i);
	for (int want = TAKEN; want < SENT; want++) {
		ssize_t got = OPS->recv(tx, buf, sizeof buf, 0);
		cr_assert(got > 0 && atoi(buf) == want,
			  "recv returned %zd (%s) where message %d was next", got,
			  got > 0 ? buf : "-", want);
	}
	/* The victim's party is reaped within the wait: nothing of it may reappear. */
	ssize_t n = OPS->recv(tx, buf, sizeof buf, IPCT_MS(ipct_scaled_ms(300)));
	cr_assert(n == IPC_ETIMEDOUT,
		  "after the survivors, recv returned %zd (message %s of the "
		  "killed receiver delivered again?)",
		  n, n > 0 ? buf : "-");
}
