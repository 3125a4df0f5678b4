/* SPDX-License-Identifier: MIT */
/*
 * Verify that any single flipped bit in a header or payload is refused
 * (-EBADMSG, -EPROTO in the version byte) and never yields a frame, under
 * any split; that a refusal is final (no silent resynchronisation on later
 * valid frames), a non-zero reserved byte included; and that over the
 * transport no frame after a damaged one is ever delivered.
 * Clauses: FRAMING-DMG-1, FRAMING-DMG-2, FRAMING-DMG-3, FRAMING-DMG-4.
 */
#include "ipct.h"

#define OPS ipct_framing()
#define HDR IPC_FRAMING_HDR_LEN
#define LEN 64

static unsigned char good[HDR + LEN], bad[HDR + LEN];

/* Feed bad in pieces of step bytes: the first non-MORE result. */
static int feed(size_t step)
{
	struct ipc_framing_decoder *d = NULL;
	struct ipc_framing_frame f;
	size_t used, at = 0;
	int rc = IPC_FRAMING_MORE;
	SAFE_RC(OPS->decoder_new(1024, NULL, &d));
	while (rc == IPC_FRAMING_MORE && at < sizeof bad) {
		size_t n = sizeof bad - at < step ? sizeof bad - at : step;
		rc = OPS->decode(d, bad + at, n, &used, &f);
		at += used;
	}
	OPS->decoder_free(d);
	return rc;
}

static void expect_refused(size_t bit, int want)
{
	memcpy(bad, good, sizeof bad);
	bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	cr_assert_eq(feed(sizeof bad), want, "flip of bit %zu (at once): %d", bit,
		     feed(sizeof bad));
	cr_assert_eq(feed(1), want, "flip of bit %zu (byte by byte): %d", bit, feed(1));
}

Test(framing, FRAMING_DMG_1__a_flipped_header_bit_is_refused)
{
	ipct_framing_encode(0x1234, 0x5678, LEN, 1, good, sizeof good);
	for (size_t bit = 0; bit < HDR * 8; bit++)
		expect_refused(bit, bit / 8 == 2 ? IPC_EPROTO : IPC_EBADMSG);
}

Test(framing, FRAMING_DMG_2__a_flipped_payload_bit_is_refused)
{
	ipct_framing_encode(1, 0, LEN, 2, good, sizeof good);
	for (size_t bit = HDR * 8; bit < sizeof good * 8; bit++)
		expect_refused(bit, IPC_EBADMSG);
}

Test(framing, FRAMING_DMG_3__a_refusal_is_final_no_resynchronisation)
{
	struct ipc_framing_decoder *d = ipct_framing_decoder(1024, NULL);
	struct ipc_framing_frame f;
	size_t used;
	ipct_framing_encode(1, 0, LEN, 3, good, sizeof good);
	memcpy(bad, good, sizeof bad);
	bad[HDR + 5] ^= 0x10;
	EXPECT_RC(OPS->decode(d, bad, sizeof bad, &used, &f), IPC_EBADMSG);
	for (int i = 0; i < 3; i++) {
		EXPECT_RC(OPS->decode(d, good, sizeof good, &used, &f), IPC_EBADMSG);
		EXPECT_RC(used, 0);
	}
	EXPECT_RC(OPS->decode_end(d), IPC_EBADMSG);
	memcpy(bad, good, sizeof bad); /* reserved byte set, both checks valid */
	bad[3] = 1;
	uint32_t hc = ipct_crc32c(bad, 16);
	for (int i = 0; i < 4; i++)
		bad[16 + i] = (unsigned char)(hc >> (24 - 8 * i));
	cr_assert_eq(feed(sizeof bad), IPC_EBADMSG, "a non-zero reserved byte was accepted");
}

Test(framing, FRAMING_DMG_4__no_frame_after_a_damaged_one_is_delivered)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	static unsigned char stream[3 * (HDR + LEN)];
	int wr, rd;
	struct ipc_framing_frame f;
	for (uint32_t i = 0; i < 3; i++)
		ipct_framing_encode((uint16_t)i, 0, LEN, i, stream + i * (HDR + LEN), HDR + LEN);
	stream[HDR + LEN + HDR + 7] ^= 0x01; /* the second frame's payload */
	ipct_framing_pair(0, &wr, &rd);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 1024);
	ipct_framing_raw(wr, stream, sizeof stream);
	ipct_framing_close(wr);
	EXPECT_RC(OPS->recv(rx, &f, -1), LEN);
	cr_assert(ipct_framing_is(&f, 0, 0, LEN, 0), "the frame before the damage changed");
	for (int i = 0; i < 3; i++)
		EXPECT_ERR(OPS->recv(rx, &f, -1), IPC_EBADMSG);
}
