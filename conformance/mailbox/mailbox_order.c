/* SPDX-License-Identifier: MIT */
/*
 * Verify that a mailbox is FIFO: thousands of self-checking messages of varied
 * lengths (sender id, sequence number and checksum in each) pass from one
 * party to another in order, each once and whole, for each capacity the
 * subject supports; and that a returned send is at once visible to a
 * non-blocking recv of the same party.
 * Clauses: MAILBOX-ORDER-1, MAILBOX-ORDER-6.
 */
#include "ipct.h"

#define MB ipct_mailbox()
/* In a party (maybe a forked child): the subject is loaded, nothing asserts. */
#define PARTY_MB  ((const struct ipc_mailbox_ops *)ipct_subject()->ops)
#define MAX_MSG   1024
#define FIFO_N    3000
#define VISIBLE_N 2000

/* Scaled down under slow tools (IPCSPEC_TIME_MULTIPLIER), never below 100. */
static uint32_t scaled_count(uint32_t n)
{
	uint32_t k = (uint32_t)(n * 1000 / ipct_scaled_ms(1000));
	return k < 100 ? 100 : k;
}

static size_t msg_len(uint32_t i)
{
	return 16 + (i * 2654435761u) % (MAX_MSG - 15);
}

struct fifo {
	const char *name;
	uint32_t n;
};

/* The sender party: opens the name itself, sends n messages, closes. */
static int fifo_sender(void *argp)
{
	struct fifo *f = argp;
	struct ipc_mailbox *h;
	unsigned char buf[MAX_MSG];
	if (PARTY_MB->open(f->name, IPC_MAILBOX_SEND, &h) != 0)
		return 1;
	for (uint32_t i = 0; i < f->n; i++)
		if (PARTY_MB->send(h, buf, ipct_item_fill(buf, msg_len(i), 7, i), -1) != 0)
			return 2;
	return PARTY_MB->close(h) == 0 ? 0 : 3;
}

static void fifo_run(size_t capacity)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BLOCKING);
	struct fifo *f = ipct_shared(sizeof *f);
	unsigned char buf[MAX_MSG];
	int64_t tmo = ipct_has(IPC_MAILBOX_CAP_TIMED) ? IPCT_MS(ipct_scaled_ms(5000)) : -1;
	f->name = ipct_mailbox_create(capacity, MAX_MSG);
	f->n = scaled_count(FIFO_N);
	struct ipc_mailbox *r = ipct_mailbox_open(f->name, IPC_MAILBOX_RECV);
	struct ipct_party *p = ipct_party_start(fifo_sender, f);
	for (uint32_t i = 0; i < f->n; i++) {
		uint32_t who = 0, seq = 0;
		ssize_t n = MB->recv(r, buf, sizeof buf, tmo);
		cr_assert(n == (ssize_t)msg_len(i) &&
			      ipct_item_check(buf, (size_t)n, &who, &seq) == 0 && who == 7 &&
			      seq == i,
			  "message %u: recv returned %zd, sender %u seq %u (torn, lost, duplicated "
			  "or out of order)",
			  i, n, who, seq);
	}
	EXPECT_RC(ipct_party_wait(p, 10000), 0);
	/* Nothing more was delivered than was sent. */
	if (ipct_has(IPC_MAILBOX_CAP_END_OF_STREAM))
		EXPECT_ERR(MB->recv(r, buf, sizeof buf, tmo), IPC_EOD);
	else if (ipct_has(IPC_MAILBOX_CAP_NONBLOCK))
		EXPECT_ERR(MB->recv(r, buf, sizeof buf, 0), IPC_EAGAIN);
}

Test(mailbox, MAILBOX_ORDER_1__fifo_zero_capacity)
{
	fifo_run(0);
}

Test(mailbox, MAILBOX_ORDER_1__fifo_bounded_capacity_4)
{
	fifo_run(4);
}

Test(mailbox, MAILBOX_ORDER_1__fifo_unbounded_capacity)
{
	fifo_run(IPC_MAILBOX_UNBOUNDED);
}

/* One party, no other receiver: each message, once its send has returned,
 * is taken by a recv with timeout 0; bursts of 1 to 4 messages. */
static void visible_run(size_t capacity)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_NONBLOCK);
	const char *name = ipct_mailbox_create(capacity, MAX_MSG);
	struct ipc_mailbox *h = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	unsigned char buf[MAX_MSG];
	uint32_t sent = 0, got = 0, n = scaled_count(VISIBLE_N);
	while (got < n) {
		for (uint32_t burst = 1 + got % 4; burst > 0 && sent < n; burst--, sent++)
			EXPECT_OK(MB->send(h, buf, ipct_item_fill(buf, msg_len(sent), 1, sent), 0));
		for (; got < sent; got++) {
			uint32_t who = 0, seq = 0;
			ssize_t rc = MB->recv(h, buf, sizeof buf, 0);
			cr_assert(rc >= 0 && ipct_item_check(buf, (size_t)rc, &who, &seq) == 0 &&
				      seq == got,
				  "recv (timeout 0) after send %u returned: %zd, seq %u", got, rc,
				  seq);
		}
	}
}

Test(mailbox, MAILBOX_ORDER_6__returned_send_is_visible_bounded)
{
	visible_run(4);
}

Test(mailbox, MAILBOX_ORDER_6__returned_send_is_visible_unbounded)
{
	visible_run(IPC_MAILBOX_UNBOUNDED);
}
