/* SPDX-License-Identifier: MIT */
/*
 * Verify that frames far larger than the transport's buffer arrive whole and
 * in order with their type and flags while the kernel takes and gives them
 * in pieces (short writes and short reads, blocking and non-blocking
 * descriptors), and that frames cross from a forked child to its parent,
 * then end cleanly when the child exits.
 * Clauses: FRAMING-IO-1, FRAMING-IO-2.
 */
#include "ipct.h"

#define OPS ipct_framing()
/* In a party: the subject is loaded already, nothing may assert. */
#define PARTY_OPS ((const struct ipc_framing_ops *)ipct_subject()->ops)
#define NFR       9

static const uint32_t lens[NFR] = {0, 1, 1000, 65536, 200000, 1u << 20, 7, 131073, 0};

struct tx_arg {
	struct ipc_framing_tx *tx;
	int fd;
};

/* Send the NFR frames: 0, or 10 + the index of the frame that failed. */
static int sender(void *argp)
{
	struct tx_arg *a = argp;
	static unsigned char payload[1u << 20];
	if (a->tx == NULL && PARTY_OPS->tx_open(a->fd, &a->tx) < 0)
		return 9;
	for (uint32_t i = 0; i < NFR; i++) {
		ipct_pattern(payload, lens[i], i, 0);
		struct ipc_framing_frame f = {(uint16_t)(i + 1), (uint16_t)~i, lens[i], payload};
		if (PARTY_OPS->send(a->tx, &f, -1) != (ssize_t)lens[i])
			return 10 + (int)i;
	}
	return 0;
}

static void receive_all(struct ipc_framing_rx *rx)
{
	struct ipc_framing_frame f;
	for (uint32_t i = 0; i < NFR; i++) {
		EXPECT_RC(OPS->recv(rx, &f, -1), lens[i]);
		cr_assert(ipct_framing_is(&f, (uint16_t)(i + 1), (uint16_t)~i, lens[i], i),
			  "frame %u (%u bytes) is not whole", i, lens[i]);
	}
}

static void transfer(uint32_t flags)
{
	int wr, rd;
	ipct_framing_pair(flags, &wr, &rd);
	struct tx_arg a = {ipct_framing_tx(wr), wr};
	struct ipct_party *p = ipct_thread_start(sender, &a);
	receive_all(ipct_framing_rx(rd, 1u << 20));
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}

Test(framing, FRAMING_IO_1__large_frames_arrive_whole_through_short_transfers)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	transfer(0);
	if (ipct_has(IPC_FRAMING_CAP_NONBLOCK))
		transfer(IPC_FRAMING_NONBLOCK);
}

/* A forked child: send the frames on its inherited end, exit (closing it). */
static int child(void *argp)
{
	struct tx_arg *a = argp;
	ipct_framing_keep(a->fd);
	a->tx = NULL;
	return sender(a);
}

Test(framing, FRAMING_IO_2__frames_cross_from_a_forked_child)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_CROSS_PROCESS | IPC_FRAMING_CAP_BLOCKING);
	int wr, rd;
	struct ipc_framing_frame f;
	ipct_framing_pair(0, &wr, &rd);
	struct tx_arg a = {NULL, wr};
	struct ipct_party *p = ipct_process_start(child, &a);
	ipct_framing_close(wr);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 1u << 20);
	receive_all(rx);
	EXPECT_RC(OPS->recv(rx, &f, -1), IPC_EOD);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}
