/* SPDX-License-Identifier: MIT */
/*
 * Verify that an unbounded mailbox never makes a sender wait for room
 * (10 000 non-blocking sends with no receiver), that a mem_limit refuses the
 * send that would pass it with -ENOMEM and queues nothing, and that the
 * memory comes back when the mailbox is drained, drain after drain.
 * Clauses: MAILBOX-UNB-1, MAILBOX-UNB-2, MAILBOX-UNB-3.
 */
#include "ipct.h"

#define OPS     ipct_mailbox()
#define MANY    10000
#define LEN     100
#define LIMIT   4096
#define MAX_FIT 100000 /* sends: a mailbox taking more ignores its limit */

static long send_item(struct ipc_mailbox *h, size_t len, uint32_t seq)
{
	unsigned char buf[LEN];
	ipct_item_fill(buf, len, 3, seq);
	return OPS->send(h, buf, len, 0);
}

/* Receive count items of len bytes, first..first+count-1, then nothing. */
static void drain(struct ipc_mailbox *h, size_t len, uint32_t first, uint32_t count)
{
	unsigned char buf[2 * LEN];
	uint32_t who = 0, seq = ~0u;
	for (uint32_t i = first; i < first + count; i++) {
		EXPECT_RC(OPS->recv(h, buf, sizeof buf, 0), len);
		cr_assert(ipct_item_check(buf, len, &who, &seq) == 0 && who == 3 && seq == i,
			  "received item %u (or a torn one), expected item %u", seq, i);
	}
	EXPECT_ERR(OPS->recv(h, buf, sizeof buf, 0), IPC_EAGAIN);
}

Test(mailbox, MAILBOX_UNB_1__ten_thousand_nonblocking_sends_all_succeed)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_UNBOUNDED | IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = ipct_mailbox_create(IPC_MAILBOX_UNBOUNDED, LEN);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	for (uint32_t i = 0; i < MANY; i++) {
		long rc = send_item(tx, 24, i);
		cr_assert(rc == 0, "non-blocking send %u with no receiver returned %ld", i, rc);
	}
	drain(rx, 24, 0, MANY);
}

/* Send LEN-byte items from seq first until -ENOMEM: how many fitted. */
static uint32_t fill_to_limit(struct ipc_mailbox *h, uint32_t first)
{
	uint32_t n = 0;
	long rc = 0;
	while (n < MAX_FIT && (rc = send_item(h, LEN, first + n)) == 0)
		n++;
	cr_assert(n < MAX_FIT, "%u sends of %d bytes fitted under a mem_limit of %d", n, LEN,
		  LIMIT);
	EXPECT_ERR(rc, IPC_ENOMEM);
	cr_assert(n >= 1 && (size_t)n * LEN <= LIMIT,
		  "%u messages of %d bytes were queued under a mem_limit of %d bytes", n, LEN,
		  LIMIT);
	EXPECT_ERR(send_item(h, LEN, first + n), IPC_ENOMEM); /* still full: nothing queued */
	return n;
}

static const char *limited(struct ipc_mailbox **tx, struct ipc_mailbox **rx)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_UNBOUNDED | IPC_MAILBOX_CAP_MEM_LIMIT |
		     IPC_MAILBOX_CAP_NONBLOCK);
	struct ipc_mailbox_attr attr = {IPC_MAILBOX_UNBOUNDED, LEN, 0600, LIMIT};
	const char *name = ipct_mailbox_create_attr(&attr);
	*tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	*rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	return name;
}

Test(mailbox, MAILBOX_UNB_2__mem_limit_refuses_with_enomem_and_keeps_the_queue)
{
	struct ipc_mailbox *tx, *rx;
	limited(&tx, &rx);
	uint32_t n = fill_to_limit(tx, 0);
	drain(rx, LEN, 0, n);
}

Test(mailbox, MAILBOX_UNB_3__memory_shrinks_back_after_a_drain)
{
	struct ipc_mailbox *tx, *rx;
	limited(&tx, &rx);
	uint32_t n = fill_to_limit(tx, 0);
	drain(rx, LEN, 0, n);
	EXPECT_RC(fill_to_limit(tx, n), n);
	drain(rx, LEN, n, n);
	EXPECT_RC(fill_to_limit(tx, 2 * n), n);
	drain(rx, LEN, 2 * n, n);
}
