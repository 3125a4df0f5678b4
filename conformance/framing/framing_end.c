/* SPDX-License-Identifier: MIT */
/*
 * Verify that an end of input between frames is a clean end (IPC_EOD), that
 * an end anywhere inside a frame (header or payload) is -ENODATA, never a
 * clean end or a partial frame, and that both hold over the transport when
 * the writer closes, and stay so on every later call.
 * Clauses: FRAMING-END-1, FRAMING-END-2, FRAMING-END-3, FRAMING-END-4.
 */
#include "ipct.h"

#define OPS ipct_framing()
#define HDR IPC_FRAMING_HDR_LEN

static unsigned char buf[2 * HDR + 200];

Test(framing, FRAMING_END_1__an_end_between_frames_is_eod)
{
	struct ipc_framing_decoder *d = ipct_framing_decoder(100, NULL);
	struct ipc_framing_frame f;
	size_t used, n = ipct_framing_encode(1, 0, 50, 1, buf, sizeof buf);
	EXPECT_RC(OPS->decode_end(d), IPC_EOD);
	EXPECT_RC(OPS->decode_end(d), IPC_EOD);
	d = ipct_framing_decoder(100, NULL);
	for (int i = 0; i < 2; i++)
		EXPECT_RC(OPS->decode(d, buf, n, &used, &f), IPC_FRAMING_FRAME);
	EXPECT_RC(OPS->decode_end(d), IPC_EOD);
	EXPECT_RC(OPS->decode_end(d), IPC_EOD);
}

Test(framing, FRAMING_END_2__an_end_inside_a_frame_is_enodata)
{
	size_t n = ipct_framing_encode(1, 0, 50, 1, buf, sizeof buf), used;
	struct ipc_framing_frame f;
	for (size_t k = 1; k < n; k++) {
		struct ipc_framing_decoder *d = NULL;
		SAFE_RC(OPS->decoder_new(100, NULL, &d));
		EXPECT_RC(OPS->decode(d, buf, k, &used, &f), IPC_FRAMING_MORE);
		cr_assert_eq(OPS->decode_end(d), IPC_ENODATA, "end after %zu of %zu bytes", k, n);
		cr_assert_eq(OPS->decode_end(d), IPC_ENODATA, "second end after %zu bytes", k);
		OPS->decoder_free(d);
	}
}

Test(framing, FRAMING_END_3__the_writer_closing_between_frames_gives_eod)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	struct ipc_framing_tx *tx = ipct_framing_tx(wr);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 100);
	struct ipc_framing_frame f = {3, 4, 5, "hello"};
	for (int i = 0; i < 3; i++)
		SAFE_RC(OPS->send(tx, &f, -1));
	ipct_framing_close(wr);
	for (int i = 0; i < 3; i++) {
		EXPECT_RC(OPS->recv(rx, &f, -1), 5);
		cr_assert(f.type == 3 && memcmp(f.payload, "hello", 5) == 0, "frame %d changed", i);
	}
	for (int i = 0; i < 3; i++)
		EXPECT_RC(OPS->recv(rx, &f, -1), IPC_EOD);
}

/* One whole frame, then the first cut bytes of another; the writer closes. */
static void cut_after(size_t cut)
{
	int wr, rd;
	struct ipc_framing_frame f;
	ipct_framing_pair(0, &wr, &rd);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 100);
	size_t n = ipct_framing_encode(1, 0, 60, 1, buf, sizeof buf);
	ipct_framing_encode(2, 0, 60, 2, buf + n, sizeof buf - n);
	ipct_framing_raw(wr, buf, n + cut);
	ipct_framing_close(wr);
	EXPECT_RC(OPS->recv(rx, &f, -1), 60);
	cr_assert(ipct_framing_is(&f, 1, 0, 60, 1), "the whole frame changed");
	cr_assert_eq(OPS->recv(rx, &f, -1), IPC_ENODATA, "end after %zu bytes of a frame", cut);
	cr_assert_eq(OPS->recv(rx, &f, -1), IPC_ENODATA, "second recv after the cut %zu", cut);
}

Test(framing, FRAMING_END_4__the_writer_closing_inside_a_frame_gives_enodata)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	const size_t cuts[] = {1, 3, HDR - 1, HDR, HDR + 30, HDR + 59};
	for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
		cut_after(cuts[i]);
}
