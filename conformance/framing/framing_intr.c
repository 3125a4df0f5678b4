/* SPDX-License-Identifier: MIT */
/*
 * Verify that signals caught by a handler without SA_RESTART never cut a
 * blocked call short: a send blocked inside a frame larger than the
 * transport holds keeps going and the frame arrives whole, and a recv
 * blocked on an empty stream keeps waiting and returns the next frame.
 * Clauses: FRAMING-INTR-1, FRAMING-INTR-2.
 */
#include <signal.h>

#include "ipct.h"

#define OPS ipct_framing()
/* In a party: the subject is loaded already, nothing may assert. */
#define PARTY_OPS ((const struct ipc_framing_ops *)ipct_subject()->ops)
#define BIG       (16u << 20) /* more than any transport holds */

static unsigned char big[BIG];

struct arg {
	struct ipc_framing_tx *tx;
	struct ipc_framing_rx *rx;
	struct ipct_thread_id who;
};

static int big_sender(void *argp)
{
	struct arg *a = argp;
	struct ipc_framing_frame f = {3, 0x33, BIG, big};
	a->who = ipct_thread_self();
	ipct_party_enter_call();
	ssize_t rc = PARTY_OPS->send(a->tx, &f, -1);
	ipct_party_leave_call();
	return rc == BIG ? 0 : 1;
}

/* Signal the party each time it sleeps in its call, n times. */
static void interrupt(struct ipct_party *p, struct arg *a, int n)
{
	for (int i = 0; i < n; i++) {
		cr_assert(ipct_party_wait_blocked(p, 5000), "the call returned on signal %d", i);
		SAFE_RC(ipct_signal_thread(a->who, SIGUSR1));
	}
}

Test(framing, FRAMING_INTR_1__signals_never_cut_a_blocked_send_short)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	int wr, rd;
	struct ipc_framing_frame f;
	ipct_framing_pair(0, &wr, &rd);
	ipct_signal_count(SIGUSR1);
	ipct_pattern(big, BIG, 7, 0);
	struct arg a = {ipct_framing_tx(wr), NULL, {0, 0}};
	struct ipct_party *p = ipct_thread_start(big_sender, &a);
	interrupt(p, &a, 4);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, BIG);
	EXPECT_RC(OPS->recv(rx, &f, -1), BIG);
	cr_assert(ipct_framing_is(&f, 3, 0x33, BIG, 7), "the interrupted frame is not whole");
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	cr_assert(ipct_signal_caught(SIGUSR1) >= 4, "BROKEN: signals not delivered");
}

static int receiver(void *argp)
{
	struct arg *a = argp;
	struct ipc_framing_frame f;
	a->who = ipct_thread_self();
	ipct_party_enter_call();
	ssize_t rc = PARTY_OPS->recv(a->rx, &f, -1);
	ipct_party_leave_call();
	return rc == 5 && f.type == 6 && memcmp(f.payload, "hello", 5) == 0 ? 0 : 1;
}

Test(framing, FRAMING_INTR_2__signals_never_cut_a_blocked_recv_short)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	ipct_signal_count(SIGUSR1);
	struct arg a = {NULL, ipct_framing_rx(rd, 100), {0, 0}};
	struct ipct_party *p = ipct_thread_start(receiver, &a);
	interrupt(p, &a, 3);
	cr_assert(ipct_party_wait_blocked(p, 5000), "recv returned after the signals");
	struct ipc_framing_frame f = {6, 0, 5, "hello"};
	SAFE_RC(OPS->send(ipct_framing_tx(wr), &f, -1));
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}
