/* SPDX-License-Identifier: MIT */
/*
 * Verify that the decoder gives every frame whole and in order however its
 * input is cut (all at once, one byte at a time, in two at every position),
 * and that it takes bytes only up to the end of one frame, so the caller
 * knows where the next one starts.
 * Clauses: FRAMING-SPLIT-1, FRAMING-SPLIT-2.
 */
#include "ipct.h"

#define OPS     ipct_framing()
#define HDR     IPC_FRAMING_HDR_LEN
#define NFRAMES 7

static const size_t lens[NFRAMES] = {0, 1, 5, 19, 20, 21, 300};
static unsigned char stream[NFRAMES * HDR + 400];

static size_t build(void)
{
	size_t n = 0;
	for (uint32_t i = 0; i < NFRAMES; i++)
		n += ipct_framing_encode((uint16_t)i, (uint16_t)(i * 3), lens[i], i, stream + n,
					 sizeof stream - n);
	return n;
}

/* Feed p[0..len) to d, checking each frame that comes out is the next one. */
static void feed(struct ipc_framing_decoder *d, const unsigned char *p, size_t len, uint32_t *next)
{
	while (len > 0) {
		struct ipc_framing_frame f;
		size_t used = 0;
		int rc = OPS->decode(d, p, len, &used, &f);
		cr_assert(rc == IPC_FRAMING_FRAME || rc == IPC_FRAMING_MORE, "decode returned %d",
			  rc);
		cr_assert(used <= len, "decode took %zu of %zu bytes", used, len);
		p += used, len -= used;
		if (rc == IPC_FRAMING_MORE) {
			cr_assert_eq(len, 0, "MORE left %zu bytes untaken", len);
			continue;
		}
		cr_assert(*next < NFRAMES, "a frame beyond the %d sent", NFRAMES);
		cr_assert(
		    ipct_framing_is(&f, (uint16_t)*next, (uint16_t)(*next * 3), lens[*next], *next),
		    "frame %u is not whole", *next);
		(*next)++;
	}
}

/* A fresh decoder fed the stream cut at the given positions (sorted). */
static void run_split(size_t total, const size_t *cuts, size_t ncuts)
{
	struct ipc_framing_decoder *d = NULL;
	uint32_t next = 0;
	size_t at = 0;
	SAFE_RC(OPS->decoder_new(1024, NULL, &d));
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : total;
		feed(d, stream + at, end - at, &next);
		at = end;
	}
	cr_assert_eq(next, NFRAMES, "%u frames of %d came out", next, NFRAMES);
	EXPECT_RC(OPS->decode_end(d), IPC_EOD);
	OPS->decoder_free(d);
}

Test(framing, FRAMING_SPLIT_1__frames_come_out_whole_under_every_split)
{
	static size_t bytes[sizeof stream];
	size_t total = build();
	run_split(total, NULL, 0);
	for (size_t i = 0; i < total; i++)
		bytes[i] = i + 1;
	run_split(total, bytes, total - 1);
	for (size_t cut = 0; cut <= total; cut++)
		run_split(total, &cut, 1);
}

Test(framing, FRAMING_SPLIT_2__decode_takes_bytes_up_to_one_frame_end)
{
	size_t total = build(), at = 0, used;
	struct ipc_framing_decoder *d = ipct_framing_decoder(1024, NULL);
	struct ipc_framing_frame f;
	for (uint32_t i = 0; i < NFRAMES; i++) {
		EXPECT_RC(OPS->decode(d, stream + at, total - at, &used, &f), IPC_FRAMING_FRAME);
		EXPECT_RC(used, HDR + lens[i]);
		cr_assert(ipct_framing_is(&f, (uint16_t)i, (uint16_t)(i * 3), lens[i], i),
			  "frame %u changed", i);
		at += used;
	}
	size_t last = HDR + lens[NFRAMES - 1], start = total - last;
	d = ipct_framing_decoder(1024, NULL);
	EXPECT_RC(OPS->decode(d, stream + start, 25, &used, &f), IPC_FRAMING_MORE);
	EXPECT_RC(used, 25);
	memcpy(stream + total, stream, HDR + lens[0]); /* the next frame right behind */
	EXPECT_RC(OPS->decode(d, stream + start + 25, last - 25 + HDR, &used, &f),
		  IPC_FRAMING_FRAME);
	EXPECT_RC(used, last - 25);
	EXPECT_RC(OPS->decode(d, stream + total, HDR, &used, &f), IPC_FRAMING_FRAME);
	EXPECT_RC(f.len, 0);
}
