/* SPDX-License-Identifier: MIT */
/*
 * Verify that several senders and receivers on one mailbox lose, duplicate,
 * reorder and tear nothing (sender id, sequence number and checksum in every
 * message): each sender's order is kept for one receiver, four receivers get
 * every message exactly once, and eight senders and eight receivers on a
 * mailbox of capacity 1 never strand a wake-up.
 * Clauses: MAILBOX-ORDER-2, MAILBOX-ORDER-3, MAILBOX-ORDER-4.
 */
#include "ipct.h"

#define MB          ipct_mailbox()
#define PARTY_MB    ((const struct ipc_mailbox_ops *)ipct_subject()->ops)
#define MAX_MSG     256
#define MAX_PARTIES 8
#define MAX_PER     600
#define STOP        0xffffu /* the sender id of the test's "stop" messages */

/* Party statuses: 0 done, 1 open, 2 send or recv failed, 3 close failed. */
struct mpmc {
	const char *name;
	uint32_t per, total;     /* messages per sender, in all */
	struct ipct_event *done; /* set by the receiver of the last message */
	_Atomic uint32_t next_sender, bad, disorder, got;
	_Atomic uint8_t seen[MAX_PARTIES][MAX_PER]; /* times each message was received */
};

static int mpmc_sender(void *argp)
{
	struct mpmc *m = argp;
	struct ipc_mailbox *h;
	unsigned char buf[MAX_MSG];
	uint32_t id = atomic_fetch_add(&m->next_sender, 1);
	if (PARTY_MB->open(m->name, IPC_MAILBOX_SEND, &h) != 0)
		return 1;
	for (uint32_t seq = 0; seq < m->per; seq++) {
		size_t len =
		    ipct_item_fill(buf, 16 + (seq * 7919u + id * 131u) % (MAX_MSG - 15), id, seq);
		if (PARTY_MB->send(h, buf, len, -1) != 0)
			return 2;
	}
	return PARTY_MB->close(h) == 0 ? 0 : 3;
}

/* Receive until a "stop", recording every message; the test sends the stops
 * only once every message was received, so they overtake nothing. */
static int mpmc_receiver(void *argp)
{
	struct mpmc *m = argp;
	struct ipc_mailbox *h;
	unsigned char buf[MAX_MSG];
	int64_t last[MAX_PARTIES] = {-1, -1, -1, -1, -1, -1, -1, -1};
	uint32_t id, seq;
	ssize_t n;
	if (PARTY_MB->open(m->name, IPC_MAILBOX_RECV, &h) != 0)
		return 1;
	while ((n = PARTY_MB->recv(h, buf, sizeof buf, -1)) >= 0) {
		if (ipct_item_check(buf, (size_t)n, &id, &seq) != 0 ||
		    (id >= MAX_PARTIES && id != STOP) || (id != STOP && seq >= m->per)) {
			atomic_fetch_add(&m->bad, 1);
			continue;
		}
		if (id == STOP)
			break;
		atomic_fetch_add(&m->seen[id][seq], 1);
		if (atomic_fetch_add(&m->got, 1) + 1 == m->total)
			ipct_event_set(m->done);
		atomic_fetch_add(&m->disorder, (int64_t)seq <= last[id]);
		last[id] = seq;
	}
	return n < 0 ? 2 : PARTY_MB->close(h) == 0 ? 0 : 3;
}

/* nsend senders of per messages each, nrecv receivers, on one mailbox. */
static struct mpmc *mpmc_run(size_t capacity, unsigned nsend, unsigned nrecv, uint32_t per)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BLOCKING);
	struct mpmc *m = ipct_shared(sizeof *m);
	struct ipct_party *sp[MAX_PARTIES], *rp[MAX_PARTIES];
	unsigned char stop[16];
	int64_t tmo = ipct_has(IPC_MAILBOX_CAP_TIMED) ? IPCT_MS(ipct_scaled_ms(5000)) : -1;
	m->per = (uint32_t)(per * 1000 / ipct_scaled_ms(1000)); /* fewer under slow tools */
	m->per = m->per < 20 ? 20 : m->per;
	m->total = nsend * m->per;
	m->done = ipct_event_new();
	m->name = ipct_mailbox_create(capacity, MAX_MSG);
	struct ipc_mailbox *h = ipct_mailbox_open(m->name, IPC_MAILBOX_SEND); /* sends the stops */
	for (unsigned i = 0; i < nrecv; i++)
		rp[i] = ipct_party_start(mpmc_receiver, m);
	for (unsigned i = 0; i < nsend; i++)
		sp[i] = ipct_party_start(mpmc_sender, m);
	for (unsigned i = 0; i < nsend; i++)
		cr_assert(ipct_party_wait(sp[i], 10000) == 0,
			  "sender %u failed or never finished (%u of %u messages received)", i,
			  m->got, m->total);
	/* A loss shows below (received 0 times); it would keep done unset, so
	 * stop waiting once nothing has arrived for a second. */
	(void)ipct_event_wait_progress(m->done, &m->got, 1000, 5000);
	for (unsigned i = 0; i < nrecv; i++) /* one stop each */
		EXPECT_OK(MB->send(h, stop, ipct_item_fill(stop, sizeof stop, STOP, i), tmo));
	for (unsigned i = 0; i < nrecv; i++)
		cr_assert(ipct_party_wait(rp[i], 10000) == 0,
			  "receiver %u failed or never finished", i);
	cr_assert(m->bad == 0, "%u messages received were torn or never sent", m->bad);
	for (uint32_t id = 0; id < nsend; id++)
		for (uint32_t seq = 0; seq < m->per; seq++)
			cr_assert(m->seen[id][seq] == 1,
				  "message %u of sender %u was received %u times", seq, id,
				  m->seen[id][seq]);
	return m;
}

/* A small bounded mailbox when there is one, so senders wait for room. */
static size_t some_capacity(void)
{
	if (ipct_has(IPC_MAILBOX_CAP_BOUNDED))
		return 4;
	return ipct_has(IPC_MAILBOX_CAP_ZERO) ? 0 : IPC_MAILBOX_UNBOUNDED;
}

Test(mailbox, MAILBOX_ORDER_2__each_senders_order_is_kept)
{
	struct mpmc *m = mpmc_run(some_capacity(), 4, 1, 500);
	cr_assert(m->disorder == 0, "%u messages came after a later one of the same sender",
		  m->disorder);
}

Test(mailbox, MAILBOX_ORDER_3__four_senders_four_receivers_exactly_once)
{
	mpmc_run(some_capacity(), 4, 4, 500);
}

Test(mailbox, MAILBOX_ORDER_4__eight_by_eight_on_capacity_1_lose_no_wakeup)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BOUNDED);
	mpmc_run(1, 8, 8, 250);
}
