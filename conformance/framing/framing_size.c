/* SPDX-License-Identifier: MIT */
/*
 * Verify that the receiver's maximum is exact (max accepted, max + 1
 * refused with -EMSGSIZE, finally), that an oversize length is refused as
 * soon as its header is in, before the decoder asks for any memory above its
 * maximum, and that limits above IPC_FRAMING_PAYLOAD_LIMIT are refused up
 * front by decoder_new, rx_open and send.
 * Clauses: FRAMING-SIZE-1, FRAMING-SIZE-2, FRAMING-SIZE-3.
 */
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_framing()
#define HDR IPC_FRAMING_HDR_LEN

static unsigned char buf[HDR + 2048];

static int decode_all(struct ipc_framing_decoder *d, size_t len)
{
	struct ipc_framing_frame f;
	size_t used;
	return OPS->decode(d, buf, len, &used, &f);
}

Test(framing, FRAMING_SIZE_1__max_is_accepted_and_max_plus_one_refused)
{
	struct ipc_framing_decoder *d = ipct_framing_decoder(1000, NULL);
	EXPECT_RC(decode_all(d, ipct_framing_encode(1, 0, 1000, 1, buf, sizeof buf)),
		  IPC_FRAMING_FRAME);
	EXPECT_RC(decode_all(d, ipct_framing_encode(1, 0, 1001, 1, buf, sizeof buf)), IPC_EMSGSIZE);
	EXPECT_RC(decode_all(d, ipct_framing_encode(1, 0, 10, 1, buf, sizeof buf)), IPC_EMSGSIZE);
	d = ipct_framing_decoder(0, NULL);
	EXPECT_RC(decode_all(d, ipct_framing_encode(1, 0, 0, 1, buf, sizeof buf)),
		  IPC_FRAMING_FRAME);
	EXPECT_RC(decode_all(d, ipct_framing_encode(1, 0, 1, 1, buf, sizeof buf)), IPC_EMSGSIZE);
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	struct ipc_framing_tx *tx = ipct_framing_tx(wr);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 1000);
	struct ipc_framing_frame f = {5, 0, 1000, buf};
	SAFE_RC(OPS->send(tx, &f, -1));
	f.len = 1001;
	SAFE_RC(OPS->send(tx, &f, -1));
	EXPECT_RC(OPS->recv(rx, &f, -1), 1000);
	EXPECT_ERR(OPS->recv(rx, &f, -1), IPC_EMSGSIZE);
	EXPECT_ERR(OPS->recv(rx, &f, -1), IPC_EMSGSIZE);
}

struct counting {
	size_t largest;
};

static void *count_resize(void *ctx, void *old, size_t size)
{
	struct counting *c = ctx;
	if (size > c->largest)
		c->largest = size;
	if (size == 0) {
		free(old);
		return NULL;
	}
	return realloc(old, size);
}

/* A header announcing len payload bytes, its own check valid. */
static void header_claiming(uint32_t len)
{
	ipct_framing_encode(1, 0, 0, 0, buf, sizeof buf);
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (unsigned char)(len >> (24 - 8 * i));
	uint32_t hc = ipct_crc32c(buf, 16);
	for (int i = 0; i < 4; i++)
		buf[16 + i] = (unsigned char)(hc >> (24 - 8 * i));
}

Test(framing, FRAMING_SIZE_2__an_oversize_length_is_refused_before_allocation)
{
	const uint32_t lens[] = {1025, 1u << 20, 0x7FFFFFFF, 0xFFFFFFFF};
	/* Static: the fixture frees the decoders after the body returns, and
	 * the allocator (with its context) must still be there then. */
	static struct counting c;
	static struct ipc_framing_alloc alloc = {count_resize, &c};
	for (size_t i = 0; i < 4; i++) {
		struct ipc_framing_decoder *d = ipct_framing_decoder(1024, &alloc);
		header_claiming(lens[i]);
		EXPECT_RC(decode_all(d, HDR), IPC_EMSGSIZE);
		cr_assert(c.largest <= 1024, "asked for %zu bytes for a %u-byte claim", c.largest,
			  lens[i]);
	}
	struct ipc_framing_decoder *d = ipct_framing_decoder(1024, &alloc);
	EXPECT_RC(decode_all(d, ipct_framing_encode(1, 0, 1024, 1, buf, sizeof buf)),
		  IPC_FRAMING_FRAME);
	cr_assert(c.largest <= 1024, "asked for %zu bytes for max 1024", c.largest);
}

Test(framing, FRAMING_SIZE_3__limits_above_the_protocols_are_refused_up_front)
{
	struct ipc_framing_decoder *d = NULL;
	struct ipc_framing_rx *rx = NULL;
	EXPECT_ERR(OPS->decoder_new(IPC_FRAMING_PAYLOAD_LIMIT + 1, NULL, &d), IPC_EINVAL);
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	EXPECT_ERR(OPS->rx_open(rd, IPC_FRAMING_PAYLOAD_LIMIT + 1, &rx), IPC_EINVAL);
	struct ipc_framing_tx *tx = ipct_framing_tx(wr);
	struct ipc_framing_frame f = {1, 0, IPC_FRAMING_PAYLOAD_LIMIT + 1, buf};
	EXPECT_ERR(OPS->send(tx, &f, -1), IPC_EMSGSIZE);
	f = (struct ipc_framing_frame){2, 0, 3, "abc"};
	SAFE_RC(OPS->send(tx, &f, -1));
	rx = ipct_framing_rx(rd, 16);
	EXPECT_RC(OPS->recv(rx, &f, -1), 3);
	cr_assert_eq(f.type, 2, "the refused frame left bytes in the stream");
}
