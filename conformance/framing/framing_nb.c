/* SPDX-License-Identifier: MIT */
/*
 * Verify that a recv with a timeout of 0 never waits and keeps the part of a
 * frame it has taken (the frame comes out whole once the rest is written),
 * and that a send with a timeout of 0 never waits and never tears a frame:
 * a refused frame is absent from the stream, a committed one arrives whole,
 * finished by flush or the next send.
 * Clauses: FRAMING-NB-1, FRAMING-NB-2.
 */
#include "ipct.h"

#define OPS        ipct_framing()
#define PARTY_OPS  ((const struct ipc_framing_ops *)ipct_subject()->ops)
#define HDR        IPC_FRAMING_HDR_LEN
#define LEN        200000 /* more than one kernel write takes: frames get cut */
#define FILL_LIMIT 100000 /* frames: a stream that takes more never fills */

static void recv_in_pieces(uint32_t flags)
{
	static unsigned char buf[HDR + 300];
	struct ipc_framing_frame f;
	int wr, rd;
	ipct_framing_pair(flags, &wr, &rd);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 300);
	EXPECT_ERR(OPS->recv(rx, &f, 0), IPC_EAGAIN);
	size_t n = ipct_framing_encode(4, 5, 300, 4, buf, sizeof buf);
	const size_t cuts[] = {0, 2, 3, 10, HDR, HDR + 1, HDR + 150, n - 1, n};
	for (size_t i = 1; i < sizeof cuts / sizeof *cuts; i++) {
		ipct_framing_raw(wr, buf + cuts[i - 1], cuts[i] - cuts[i - 1]);
		if (cuts[i] < n)
			cr_assert_eq(OPS->recv(rx, &f, 0), IPC_EAGAIN, "after %zu bytes", cuts[i]);
	}
	EXPECT_RC(OPS->recv(rx, &f, 0), 300);
	cr_assert(ipct_framing_is(&f, 4, 5, 300, 4), "the frame taken in pieces changed");
	EXPECT_ERR(OPS->recv(rx, &f, 0), IPC_EAGAIN);
}

Test(framing, FRAMING_NB_1__recv_never_waits_and_keeps_its_progress)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_NONBLOCK);
	recv_in_pieces(IPC_FRAMING_NONBLOCK);
	if (ipct_has(IPC_FRAMING_CAP_BLOCKING)) /* a timeout of 0 on a blocking descriptor too */
		recv_in_pieces(0);
}

struct drain_arg {
	int fd;
	uint32_t committed;
};

/* Receive the committed frames (seq 0, 1, …), then the tail, then EOD: 0,
 * or 1 + the index of the first wrong result. */
static int drain(void *argp)
{
	struct drain_arg *a = argp;
	struct ipc_framing_rx *rx;
	struct ipc_framing_frame f;
	if (PARTY_OPS->rx_open(a->fd, LEN, &rx) < 0)
		return 255;
	uint32_t i = 0;
	for (; i < a->committed; i++)
		if (PARTY_OPS->recv(rx, &f, -1) != LEN || !ipct_framing_is(&f, 1, 0, LEN, i))
			break;
	int ok = i == a->committed && PARTY_OPS->recv(rx, &f, -1) == 1 && f.type == 0xEEEE &&
		 PARTY_OPS->recv(rx, &f, -1) == IPC_EOD;
	PARTY_OPS->rx_close(rx);
	return ok ? 0 : (int)(1 + (i < 250 ? i : 250));
}

Test(framing, FRAMING_NB_2__send_never_waits_and_never_tears_a_frame)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_NONBLOCK);
	static unsigned char payload[LEN];
	int wr, rd;
	ipct_framing_pair(IPC_FRAMING_NONBLOCK, &wr, &rd);
	struct ipc_framing_tx *tx = ipct_framing_tx(wr);
	struct drain_arg a = {rd, 0};
	ssize_t rc;
	struct ipc_framing_frame f = {1, 0, LEN, payload};
	while (ipct_pattern(payload, LEN, a.committed, 0),
	       (rc = OPS->send(tx, &f, 0)) == LEN && a.committed < FILL_LIMIT)
		a.committed++;
	cr_assert_eq(rc, IPC_EAGAIN, "BROKEN: filling ended with %ld", (long)rc);
	EXPECT_ERR(OPS->send(tx, &f, 0), IPC_EAGAIN);
	rc = OPS->flush(tx, 0);
	cr_assert(rc == 0 || rc == IPC_EAGAIN, "flush of a full stream returned %ld", (long)rc);
	struct ipct_party *p = ipct_thread_start(drain, &a);
	EXPECT_RC(OPS->flush(tx, -1), 0);
	f = (struct ipc_framing_frame){0xEEEE, 0, 1, "t"};
	EXPECT_RC(OPS->send(tx, &f, -1), 1);
	ipct_framing_close(wr);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}
