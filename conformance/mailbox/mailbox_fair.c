/* SPDX-License-Identifier: MIT */
/*
 * Verify that no receiver starves: four receivers are seen blocked on the
 * empty mailbox before each of 40 messages is sent, and each of them gets at
 * least one (and every message is received once).
 * Clause: MAILBOX-ORDER-5.
 */
#include "ipct.h"

#define MB        ipct_mailbox()
#define PARTY_MB  ((const struct ipc_mailbox_ops *)ipct_subject()->ops)
#define RECEIVERS 4
#define MESSAGES  40

/* Party statuses: 0 done, 1 open, 2 recv failed, 3 close failed. */
struct fair {
	const char *name;
	_Atomic uint32_t next_id;
	_Atomic uint32_t got[RECEIVERS];  /* messages each receiver took */
	_Atomic uint32_t taken[MESSAGES]; /* times each message was taken */
	_Atomic uint32_t bad;
};

/* Take messages (a 4-byte index) until a 1-byte "stop". */
static int fair_receiver(void *argp)
{
	struct fair *f = argp;
	struct ipc_mailbox *h;
	uint32_t me = atomic_fetch_add(&f->next_id, 1), v = 0;
	ssize_t n;
	if (PARTY_MB->open(f->name, IPC_MAILBOX_RECV, &h) != 0)
		return 1;
	for (;;) {
		ipct_party_enter_call();
		n = PARTY_MB->recv(h, &v, sizeof v, -1);
		ipct_party_leave_call();
		if (n != sizeof v)
			break;
		if (v >= MESSAGES) {
			atomic_fetch_add(&f->bad, 1);
			continue;
		}
		atomic_fetch_add(&f->taken[v], 1);
		atomic_fetch_add(&f->got[me], 1);
	}
	if (n != 1)
		return 2;
	return PARTY_MB->close(h) == 0 ? 0 : 3;
}

Test(mailbox, MAILBOX_ORDER_5__no_receiver_starves)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BLOCKING);
	struct fair *f = ipct_shared(sizeof *f);
	size_t cap = ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 4
		     : ipct_has(IPC_MAILBOX_CAP_ZERO)  ? 0
						       : IPC_MAILBOX_UNBOUNDED;
	struct ipct_party *rp[RECEIVERS];
	f->name = ipct_mailbox_create(cap, 16);
	struct ipc_mailbox *h = ipct_mailbox_open(f->name, IPC_MAILBOX_SEND);
	for (int i = 0; i < RECEIVERS; i++)
		rp[i] = ipct_party_start(fair_receiver, f);
	for (uint32_t v = 0; v < MESSAGES; v++) {
		for (int i = 0; i < RECEIVERS; i++)
			cr_assert(ipct_party_wait_blocked(rp[i], 5000),
				  "before message %u, receiver %d was not seen blocked in recv", v,
				  i);
		EXPECT_OK(MB->send(h, &v, sizeof v, -1));
	}
	for (int i = 0; i < RECEIVERS; i++) /* one stop each, behind every message */
		EXPECT_OK(MB->send(h, "", 1, -1));
	for (int i = 0; i < RECEIVERS; i++)
		EXPECT_RC(ipct_party_wait(rp[i], 5000), 0);
	cr_assert(f->bad == 0, "%u messages received were never sent", f->bad);
	for (uint32_t v = 0; v < MESSAGES; v++)
		cr_assert(f->taken[v] == 1, "message %u was received %u times", v, f->taken[v]);
	for (int i = 0; i < RECEIVERS; i++)
		cr_assert(f->got[i] > 0,
			  "receiver %d starved: it got none of the %d messages (got: %u %u %u %u)",
			  i, MESSAGES, f->got[0], f->got[1], f->got[2], f->got[3]);
}
