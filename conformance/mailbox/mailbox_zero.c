/* SPDX-License-Identifier: MIT */
/*
 * Verify that a zero-capacity mailbox is a rendezvous: a blocking send waits
 * for a receiver, a non-blocking one succeeds only into a receiver already
 * blocked, a non-blocking recv only from a sender already blocked, a timed
 * send that expires delivers nothing, and a send never returns before the
 * receiver has taken its message (nothing is ever held).
 * Clauses: MAILBOX-ZERO-1 .. MAILBOX-ZERO-6.
 */
#include "ipct.h"

#define OPS    ipct_mailbox()
#define ROUNDS 500

/* A zero-capacity mailbox with a sending and a receiving handle. */
static void rendezvous(struct ipc_mailbox **tx, struct ipc_mailbox **rx)
{
	const char *name = ipct_mailbox_create(0, 0);
	*tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	*rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
}

Test(mailbox, MAILBOX_ZERO_1__blocking_send_waits_for_a_receiver)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_ZERO | IPC_MAILBOX_CAP_BLOCKING);
	struct ipc_mailbox *tx, *rx;
	char buf[16];
	rendezvous(&tx, &rx);
	struct ipct_mailbox_call *c = ipct_mailbox_send_thread(tx, "rdv", 3, -1);
	cr_assert(ipct_mailbox_call_blocks(c),
		  "send with no receiver returned %ld instead of blocking", (long)c->rc);
	EXPECT_RC(OPS->recv(rx, buf, sizeof buf, -1), 3);
	cr_assert(memcmp(buf, "rdv", 3) == 0, "the receiver got \"%.3s\"", buf);
	EXPECT_OK(ipct_mailbox_call_result(c));
}

Test(mailbox, MAILBOX_ZERO_2__nonblocking_send_without_receiver_is_eagain_and_holds_nothing)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_ZERO | IPC_MAILBOX_CAP_NONBLOCK);
	struct ipc_mailbox *tx, *rx;
	char buf[16];
	rendezvous(&tx, &rx);
	EXPECT_ERR(OPS->send(tx, "x", 1, 0), IPC_EAGAIN);
	EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, 0), IPC_EAGAIN);
}

Test(mailbox, MAILBOX_ZERO_3__nonblocking_send_reaches_a_blocked_receiver)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_ZERO | IPC_MAILBOX_CAP_NONBLOCK | IPC_MAILBOX_CAP_BLOCKING);
	struct ipc_mailbox *tx, *rx;
	rendezvous(&tx, &rx);
	struct ipct_mailbox_call *c = ipct_mailbox_recv_thread(rx, -1);
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: recv returned %ld instead of blocking",
		  (long)c->rc);
	EXPECT_OK(OPS->send(tx, "nb", 2, 0));
	EXPECT_RC(ipct_mailbox_call_result(c), 2);
	cr_assert(memcmp(c->buf, "nb", 2) == 0, "the receiver got \"%.2s\"", (char *)c->buf);
}

Test(mailbox, MAILBOX_ZERO_4__nonblocking_recv_takes_from_a_blocked_sender_only)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_ZERO | IPC_MAILBOX_CAP_NONBLOCK | IPC_MAILBOX_CAP_BLOCKING);
	struct ipc_mailbox *tx, *rx;
	char buf[16];
	rendezvous(&tx, &rx);
	EXPECT_ERR(OPS->recv(rx, buf, sizeof buf, 0), IPC_EAGAIN);
	struct ipct_mailbox_call *c = ipct_mailbox_send_thread(tx, "snd", 3, -1);
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: send returned %ld instead of blocking",
		  (long)c->rc);
	EXPECT_RC(OPS->recv(rx, buf, sizeof buf, 0), 3);
	cr_assert(memcmp(buf, "snd", 3) == 0, "recv got \"%.3s\"", buf);
	EXPECT_OK(ipct_mailbox_call_result(c));
}

Test(mailbox, MAILBOX_ZERO_5__timed_send_without_receiver_expires_and_delivers_nothing)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_ZERO | IPC_MAILBOX_CAP_TIMED);
	struct ipc_mailbox *tx, *rx;
	rendezvous(&tx, &rx);
	int64_t t0 = ipct_now_ns();
	EXPECT_ERR(OPS->send(tx, "lost", 4, IPCT_MS(50)), IPC_ETIMEDOUT);
	int64_t took = ipct_now_ns() - t0;
	cr_assert(took >= IPCT_MS(50), "send timed out after %lld ns, before its 50 ms",
		  (long long)took);
	cr_assert(took < IPCT_MS(ipct_scaled_ms(5000)), "a 50 ms send took %lld ns",
		  (long long)took);
	struct ipct_mailbox_call *c = ipct_mailbox_recv_thread(rx, IPCT_MS(5000));
	EXPECT_OK(OPS->send(tx, "next", 4, IPCT_MS(5000)));
	EXPECT_RC(ipct_mailbox_call_result(c), 4);
	cr_assert(memcmp(c->buf, "next", 4) == 0, "the late receiver got \"%.4s\"", (char *)c->buf);
}

struct rdv {
	struct ipc_mailbox *rx;
	struct ipct_event *sending; /* [ROUNDS]: the sender is about to send message i */
	_Atomic uint32_t entered;   /* recv calls the receiver has entered */
};

/* Enters recv i only once the sender has started send i. */
static int rdv_receiver(void *argp)
{
	struct rdv *r = argp;
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t got = ~0u;
		if (ipct_event_wait(&r->sending[i], 5000) != 0)
			return 1;
		atomic_store(&r->entered, i + 1);
		if (OPS->recv(r->rx, &got, sizeof got, -1) != sizeof got || got != i)
			return 2;
	}
	return 0;
}

Test(mailbox, MAILBOX_ZERO_6__send_returns_only_after_the_receiver_took_the_message)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_ZERO | IPC_MAILBOX_CAP_BLOCKING);
	struct ipc_mailbox *tx, *rx;
	rendezvous(&tx, &rx);
	struct rdv *r = ipct_shared(sizeof *r);
	r->rx = rx;
	r->sending = ipct_shared(ROUNDS * sizeof *r->sending);
	struct ipct_party *p = ipct_thread_start(rdv_receiver, r);
	for (uint32_t i = 0; i < ROUNDS; i++) {
		ipct_event_set(&r->sending[i]);
		EXPECT_OK(OPS->send(tx, &i, sizeof i, -1));
		uint32_t entered = atomic_load(&r->entered);
		cr_assert(entered == i + 1,
			  "send %u returned 0 when the receiver had entered %u recv calls: "
			  "the message was held",
			  i, entered);
	}
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}
