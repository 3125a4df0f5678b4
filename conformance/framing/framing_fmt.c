/* SPDX-License-Identifier: MIT */
/*
 * Verify that a frame round-trips through encode and decode with its type,
 * flags and payload; that the encoding is exactly the documented header
 * (magic, version, big-endian fields, CRC-32C of payload and header), so an
 * encoder written from spec/framing.h alone interoperates; that encode
 * refuses a short buffer or an oversize payload without writing; and that an
 * empty payload is a frame of length 0, never an end of stream.
 * Clauses: FRAMING-FMT-1, FRAMING-FMT-2, FRAMING-FMT-3, FRAMING-FMT-4.
 */
#include "ipct.h"

IPCT_SUITE(framing, 30);

#define OPS ipct_framing()
#define HDR IPC_FRAMING_HDR_LEN

static unsigned char buf[HDR + 4096];

/* Decode one whole encoding at once: the frame it holds. */
static struct ipc_framing_frame decode_one(struct ipc_framing_decoder *d, size_t len)
{
	struct ipc_framing_frame f = {0};
	size_t used = 0;
	EXPECT_RC(OPS->decode(d, buf, len, &used, &f), IPC_FRAMING_FRAME);
	EXPECT_RC(used, len);
	return f;
}

Test(framing, FRAMING_FMT_1__a_frame_round_trips_with_type_and_flags)
{
	struct ipc_framing_decoder *d = ipct_framing_decoder(4096, NULL);
	const uint16_t v[] = {0, 1, 0x8000, 0xFFFF};
	for (uint32_t i = 0; i < 16; i++) {
		size_t len = i * 255 + 1;
		EXPECT_RC(ipct_framing_encode(v[i / 4], v[i % 4], len, i, buf, sizeof buf),
			  HDR + len);
		struct ipc_framing_frame f = decode_one(d, HDR + len);
		cr_assert(ipct_framing_is(&f, v[i / 4], v[i % 4], len, i), "frame %u changed", i);
	}
	for (uint32_t bit = 0; bit < 16; bit++) {
		ipct_framing_encode((uint16_t)bit, (uint16_t)(1u << bit), 3, bit, buf, sizeof buf);
		struct ipc_framing_frame f = decode_one(d, HDR + 3);
		cr_assert(ipct_framing_is(&f, (uint16_t)bit, (uint16_t)(1u << bit), 3, bit),
			  "flag bit %u lost", bit);
	}
}

Test(framing, FRAMING_FMT_2__the_encoding_is_the_documented_one)
{
	cr_assert_eq(ipct_crc32c("123456789", 9), 0xE3069283u, "BROKEN: the test's CRC-32C");
	unsigned char want[HDR + 9] = {0x49, 0x46, 1,    0,    0,    0,    0,    9,
				       0x01, 0x02, 0x80, 0x01, 0xE3, 0x06, 0x92, 0x83};
	uint32_t hc = ipct_crc32c(want, 16);
	for (int i = 0; i < 4; i++)
		want[16 + i] = (unsigned char)(hc >> (24 - 8 * i));
	memcpy(want + HDR, "123456789", 9);
	struct ipc_framing_frame f = {0x0102, 0x8001, 9, "123456789"};
	EXPECT_RC(OPS->encode(&f, buf, sizeof buf), HDR + 9);
	cr_assert(memcmp(buf, want, sizeof want) == 0, "encoding differs from spec/framing.h");
	struct ipc_framing_frame e = {7, 0, 0, NULL};
	unsigned char ewant[HDR] = {0x49, 0x46, 1, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0};
	hc = ipct_crc32c(ewant, 16);
	for (int i = 0; i < 4; i++)
		ewant[16 + i] = (unsigned char)(hc >> (24 - 8 * i));
	EXPECT_RC(OPS->encode(&e, buf, sizeof buf), HDR);
	cr_assert(memcmp(buf, ewant, HDR) == 0, "empty frame's encoding differs");
	memcpy(buf, want, sizeof want); /* and a hand-made encoding decodes */
	struct ipc_framing_frame g = decode_one(ipct_framing_decoder(100, NULL), sizeof want);
	cr_assert(g.type == 0x0102 && g.flags == 0x8001 && g.len == 9 &&
		      memcmp(g.payload, "123456789", 9) == 0,
		  "a hand-made encoding was not decoded as written");
}

Test(framing, FRAMING_FMT_3__encode_refuses_short_buffer_and_oversize_untouched)
{
	static unsigned char payload[100];
	struct ipc_framing_frame f = {1, 2, 100, payload};
	memset(buf, 0xAA, sizeof buf);
	EXPECT_ERR(OPS->encode(&f, buf, HDR + 99), IPC_EMSGSIZE);
	EXPECT_ERR(OPS->encode(&f, buf, HDR - 1), IPC_EMSGSIZE);
	EXPECT_ERR(OPS->encode(&f, buf, 0), IPC_EMSGSIZE);
	f.len = IPC_FRAMING_PAYLOAD_LIMIT + 1;
	EXPECT_ERR(OPS->encode(&f, buf, SIZE_MAX), IPC_EMSGSIZE);
	for (size_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(buf[i], 0xAA, "a refused encode wrote byte %zu", i);
	f.len = 100;
	EXPECT_RC(OPS->encode(&f, buf, HDR + 100), HDR + 100);
}

Test(framing, FRAMING_FMT_4__an_empty_payload_is_a_frame_not_an_end)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	struct ipc_framing_decoder *d = ipct_framing_decoder(16, NULL);
	EXPECT_RC(ipct_framing_encode(9, 0x10, 0, 0, buf, sizeof buf), HDR);
	struct ipc_framing_frame f = decode_one(d, HDR);
	cr_assert(f.len == 0 && f.type == 9 && f.flags == 0x10, "empty frame changed");
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	struct ipc_framing_tx *tx = ipct_framing_tx(wr);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 16);
	struct ipc_framing_frame e = {1, 0, 0, NULL}, x = {2, 0, 1, "x"};
	EXPECT_RC(OPS->send(tx, &e, -1), 0);
	EXPECT_RC(OPS->send(tx, &x, -1), 1);
	EXPECT_RC(OPS->send(tx, &e, -1), 0);
	ipct_framing_close(wr);
	EXPECT_RC(OPS->recv(rx, &f, -1), 0);
	cr_assert_eq(f.type, 1, "first empty frame lost");
	EXPECT_RC(OPS->recv(rx, &f, -1), 1);
	cr_assert(f.type == 2 && memcmp(f.payload, "x", 1) == 0, "middle frame changed");
	EXPECT_RC(OPS->recv(rx, &f, -1), 0);
	EXPECT_RC(OPS->recv(rx, &f, -1), IPC_EOD);
}
