/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_framing_decoder_new ipc_framing_decode
 * ipc_framing_decode_end ipc_framing_decoder_free */
/*
 * The reference decoder (impl/framing/frame.c) on arbitrary bytes fed in
 * arbitrary splits, judged against a one-pass oracle written from the format
 * of spec/framing.h (FRAMING-SPLIT-1, SPLIT-2, END-1, END-2, SIZE-1, SIZE-2,
 * DMG-1..3, VER-1, VER-2, FMT-4).
 *
 * The oracle walks the whole stream at once: magic and version are judged
 * at a frame's third byte, header check, reserved byte and length (against
 * max) at its twentieth, the payload check at its last byte. It gives the
 * frames with their end offsets, then the final result and where it falls:
 * an error at the byte that decides it, -ENODATA at the end of a stream cut
 * inside a frame, IPC_EOD at the end of one cut between frames. The decoder,
 * fed the same bytes in the input's split, must give exactly those frames
 * (bytes, type, flags, *used ending each frame at its end), then the same
 * final result with the bytes taken up to the same offset, and keep it:
 * every later decode returns it taking nothing, and decode_end too.
 * Every allocation goes through the decoder's allocator hook, which traps
 * a request above max_payload (SIZE-2).
 *
 * Input layout:
 *   byte 0   bits 0-3  max_payload: one of MAXES
 *            bit 4     repair every header check (CRC-32C of bytes 0..15)
 *            bit 5     repair every payload check (then the header's)
 *            bit 6     force magic, version 1 and a zero reserved byte
 *            bit 7     clamp every length to 0 .. max + 1
 *   byte 1   n, the number of split lengths that follow
 *   n bytes  split lengths, used in turn and cyclically (0: an empty call,
 *            then one byte); none: the stream in one call
 *   the rest the stream (repaired as byte 0 says, in the order of the
 *            frames the repaired lengths describe)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/frame.h"
#include "fuzz_common.h"

#define HDR        IPC_FRAMING_HDR_LEN
#define MAX_STREAM (1u << 16) /* longer inputs are cut (replay only) */
#define MAX_FRAMES (MAX_STREAM / HDR + 1)

static const size_t MAXES[16] = {
    0,   1,    2,    19,   20,    21,    64,       255,
    256, 1000, 1024, 4096, 65535, 65536, 1u << 20, IPC_FRAMING_PAYLOAD_LIMIT,
};

/* ---- an independent CRC-32C, bit by bit (spec/framing.h)
 * ------------------------------ */

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return ~c;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

/* ---- the oracle
 * ----------------------------------------------------------------------- */

struct oracle {
	size_t n;                 /* whole frames */
	size_t start[MAX_FRAMES]; /* offset of frame i's header */
	size_t end[MAX_FRAMES];   /* offset just after its payload */
	int final;                /* IPC_EOD, -ENODATA or the refusal */
	size_t final_at;          /* bytes taken when it is decided */
};

static struct {
	uint8_t s[MAX_STREAM];
	size_t len, max;
	struct oracle o;
	size_t largest; /* the largest allocation asked for */
	unsigned long inputs;
} R;

static void oracle_run(struct oracle *o, const uint8_t *s, size_t len, size_t max)
{
	size_t at = 0;

	o->n = 0;
	for (;;) {
		const uint8_t *h = s + at;
		size_t left = len - at;

		if (left == 0) {
			o->final = IPC_EOD, o->final_at = at;
			return;
		}
		if (left < 3) {
			o->final = IPC_ENODATA, o->final_at = len;
			return;
		}
		if (h[0] != IPC_FRAMING_MAGIC0 || h[1] != IPC_FRAMING_MAGIC1 ||
		    h[2] != IPC_FRAMING_VERSION) {
			o->final = h[0] == IPC_FRAMING_MAGIC0 && h[1] == IPC_FRAMING_MAGIC1
				       ? IPC_EPROTO
				       : IPC_EBADMSG;
			o->final_at = at + 3;
			return;
		}
		if (left < HDR) {
			o->final = IPC_ENODATA, o->final_at = len;
			return;
		}
		uint32_t plen = get32(h + 4);
		if (get32(h + 16) != crc32c(h, 16) || h[3] != 0 || plen > max) {
			o->final = plen > max && get32(h + 16) == crc32c(h, 16) && h[3] == 0
				       ? IPC_EMSGSIZE
				       : IPC_EBADMSG;
			o->final_at = at + HDR;
			return;
		}
		if (left - HDR < plen) {
			o->final = IPC_ENODATA, o->final_at = len;
			return;
		}
		if (get32(h + 12) != (plen ? crc32c(h + HDR, plen) : 0)) {
			o->final = IPC_EBADMSG, o->final_at = at + HDR + plen;
			return;
		}
		o->start[o->n] = at;
		o->end[o->n++] = at + HDR + plen;
		at += HDR + plen;
	}
}

/* Make the stream's frames (as far as their lengths say) pass the checks
 * byte 0 asks for, so the fuzzer gets past CRCs it cannot guess. */
static void repair(uint8_t *s, size_t len, size_t max, uint8_t how)
{
	size_t at = 0;

	while (len - at >= 3) {
		uint8_t *h = s + at;

		if (how & 0x40)
			h[0] = IPC_FRAMING_MAGIC0, h[1] = IPC_FRAMING_MAGIC1,
			h[2] = IPC_FRAMING_VERSION;
		if (len - at < HDR)
			return;
		if (how & 0x40)
			h[3] = 0;
		uint32_t plen = get32(h + 4);
		if (how & 0x80) {
			plen = (uint32_t)(plen % (max + 2));
			put32(h + 4, plen);
		}
		bool whole = plen <= len - at - HDR;
		if ((how & 0x20) && whole)
			put32(h + 12, plen ? crc32c(h + HDR, plen) : 0);
		if (how & 0x10)
			put32(h + 16, crc32c(h, 16));
		if (!whole || plen > max)
			return;
		at += HDR + plen;
	}
}

/* ---- the allocator hook
 * --------------------------------------------------------------- */

static void *resize(void *ctx, void *old, size_t size)
{
	(void)ctx;
	if (size > R.max)
		IPC_FUZZ_FAIL("the decoder asked for %zu bytes with max_payload %zu (SIZE-2)", size,
			      R.max);
	if (size > R.largest)
		R.largest = size;
	if (size == 0) {
		free(old);
		return NULL;
	}
	return realloc(old, size);
}

/* ---- one input
 * ------------------------------------------------------------------------ */

/* decode() on a copy of p[0..n) that ends at an ASan redzone. */
static int decode(struct ipc_framing_decoder *d, const uint8_t *p, size_t n, size_t *used,
		  struct ipc_framing_frame *f)
{
	uint8_t *b = ipc_fuzz_in_buf(n);

	memcpy(b, p, n);
	*used = (size_t)-1;
	return ipc_framing_decode(d, b, n, used, f);
}

static void check_frame(const struct ipc_framing_frame *f, size_t k)
{
	const uint8_t *h = R.s + R.o.start[k];
	uint32_t plen = get32(h + 4);

	if (f->len != plen || f->type != (uint16_t)(h[8] << 8 | h[9]) ||
	    f->flags != (uint16_t)(h[10] << 8 | h[11]))
		IPC_FUZZ_FAIL("frame %zu: len %u type %u flags %u, the header says %u %u %u", k,
			      f->len, f->type, f->flags, plen, h[8] << 8 | h[9],
			      h[10] << 8 | h[11]);
	if (plen && (f->payload == NULL || memcmp(f->payload, h + HDR, plen) != 0))
		IPC_FUZZ_FAIL("frame %zu: the payload (%u bytes) is not the one sent", k, plen);
	if (plen > R.max)
		IPC_FUZZ_FAIL("frame %zu of %u bytes came out, max_payload %zu", k, plen, R.max);
}

/* After the final result: more input (the rest, then a valid frame) is
 * refused with it, untaken, and decode_end says it too (DMG-3). */
static void check_final(struct ipc_framing_decoder *d, int final, size_t pos)
{
	static uint8_t valid[HDR] = {IPC_FRAMING_MAGIC0, IPC_FRAMING_MAGIC1, IPC_FRAMING_VERSION};
	struct ipc_framing_frame f;
	size_t used;
	int rc;

	put32(valid + 16, crc32c(valid, 16)); /* an empty frame of type 0 */
	if (pos < R.len && (rc = decode(d, R.s + pos, R.len - pos, &used, &f)) != final)
		IPC_FUZZ_FAIL("decode after the final %s gave %s", ipc_fuzz_rc(final),
			      ipc_fuzz_rc(rc));
	if (pos < R.len && used != 0)
		IPC_FUZZ_FAIL("decode after the final %s took %zu bytes", ipc_fuzz_rc(final), used);
	if ((rc = decode(d, valid, sizeof valid, &used, &f)) != final || used != 0)
		IPC_FUZZ_FAIL("a valid frame after the final %s: %s, %zu bytes taken",
			      ipc_fuzz_rc(final), ipc_fuzz_rc(rc), used);
	for (int i = 0; i < 2; i++)
		if ((rc = ipc_framing_decode_end(d)) != final)
			IPC_FUZZ_FAIL("decode_end after the final %s gave %s", ipc_fuzz_rc(final),
				      ipc_fuzz_rc(rc));
}

static int one(const uint8_t *data, size_t size)
{
	struct ipc_fuzz_in in = {data, size};
	uint8_t how = ipc_fuzz_u8(&in), nsplit = ipc_fuzz_u8(&in);
	const uint8_t *split = in.p;
	size_t nsp = nsplit < in.n ? nsplit : in.n;
	struct ipc_framing_alloc alloc = {resize, NULL};
	struct ipc_framing_decoder *d = NULL;
	size_t pos = 0, k = 0, si = 0;
	int rc;

	R.inputs++;
	in.p += nsp, in.n -= nsp;
	R.max = MAXES[how & 15];
	R.len = in.n < MAX_STREAM ? in.n : MAX_STREAM;
	memcpy(R.s, in.p, R.len);
	repair(R.s, R.len, R.max, how);
	oracle_run(&R.o, R.s, R.len, R.max);
	R.largest = 0;

	if ((rc = ipc_framing_decoder_new(R.max, &alloc, &d)) != 0)
		IPC_FUZZ_FAIL("decoder_new(%zu): %s", R.max, ipc_fuzz_rc(rc));
	while (pos < R.len) {
		size_t chunk = nsp ? split[si++ % nsp] : R.len - pos, used;
		struct ipc_framing_frame f;

		if (chunk == 0) { /* an empty call takes nothing and changes nothing */
			rc = decode(d, R.s + pos, 0, &used, &f);
			if (rc != IPC_FRAMING_MORE || used != 0)
				IPC_FUZZ_FAIL("decode of 0 bytes at %zu: %s, %zu taken", pos,
					      ipc_fuzz_rc(rc), used);
			chunk = 1;
		}
		if (chunk > R.len - pos)
			chunk = R.len - pos;
		while (chunk > 0) {
			rc = decode(d, R.s + pos, chunk, &used, &f);
			if (used > chunk)
				IPC_FUZZ_FAIL("decode took %zu of %zu bytes", used, chunk);
			if (rc == IPC_FRAMING_FRAME) {
				if (k >= R.o.n || pos + used != R.o.end[k])
					IPC_FUZZ_FAIL("a frame ending at %zu; the oracle has %zu "
						      "frames, the next ending at %zu",
						      pos + used, R.o.n,
						      k < R.o.n ? R.o.end[k] : 0);
				check_frame(&f, k++);
			} else if (rc == IPC_FRAMING_MORE) {
				if (used != chunk)
					IPC_FUZZ_FAIL("MORE with %zu of %zu bytes taken (SPLIT-2)",
						      used, chunk);
				if (k < R.o.n && R.o.end[k] <= pos + used)
					IPC_FUZZ_FAIL("MORE past the end of frame %zu (at %zu)", k,
						      R.o.end[k]);
			} else if (rc == R.o.final && rc < 0 && rc != IPC_ENODATA) {
				if (k != R.o.n || pos + used != R.o.final_at)
					IPC_FUZZ_FAIL("%s after %zu frames at %zu; the oracle: "
						      "after %zu at %zu",
						      ipc_fuzz_rc(rc), k, pos + used, R.o.n,
						      R.o.final_at);
				check_final(d, rc, pos + used);
				ipc_framing_decoder_free(d);
				return 0;
			} else {
				IPC_FUZZ_FAIL("decode at %zu gave %s; the oracle: %s at %zu", pos,
					      ipc_fuzz_rc(rc), ipc_fuzz_rc(R.o.final),
					      R.o.final_at);
			}
			pos += used, chunk -= used;
		}
	}
	if (k != R.o.n)
		IPC_FUZZ_FAIL("%zu frames came out, the oracle has %zu", k, R.o.n);
	if (R.o.final != IPC_EOD && R.o.final != IPC_ENODATA)
		IPC_FUZZ_FAIL("the stream ended without the oracle's %s at %zu",
			      ipc_fuzz_rc(R.o.final), R.o.final_at);
	if ((rc = ipc_framing_decode_end(d)) != R.o.final)
		IPC_FUZZ_FAIL("decode_end after %zu bytes: %s, the oracle %s (END-1, END-2)", pos,
			      ipc_fuzz_rc(rc), ipc_fuzz_rc(R.o.final));
	check_final(d, rc, pos);
	ipc_framing_decoder_free(d);
	return 0;
}

static void init(void)
{
	static const uint8_t check[] = "123456789";

	if (crc32c(check, 9) != 0xE3069283u || ipc_framing_crc32c(0, check, 9) != 0xE3069283u)
		IPC_FUZZ_FAIL("CRC-32C check value: %08x / %08x", crc32c(check, 9),
			      ipc_framing_crc32c(0, check, 9));
}

static void cleanup(void)
{
}

IPC_FUZZ_TARGET(init, one, cleanup)
