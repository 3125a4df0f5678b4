/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_framing_header ipc_framing_encode
 * ipc_framing_decoder_new ipc_framing_decode ipc_framing_decode_end
 * ipc_framing_decoder_free */
/*
 * Encode then decode (impl/framing/frame.c): frames built from the input are
 * encoded one after another into one stream, which is decoded twice, in one
 * call and in the input's split; every frame must come back bit-exact, in
 * order, with *used ending it at its end (FRAMING-FMT-1, FMT-4, SPLIT-1,
 * SPLIT-2), a frame above max refused with -EMSGSIZE as soon as its header
 * is in and for good (SIZE-1, SIZE-2), and the end of the stream be IPC_EOD
 * (END-1). Each encoding is also checked byte for byte against one written
 * here from spec/framing.h with its own CRC-32C (FMT-2), and a buffer one
 * byte short must be refused and left untouched (FMT-3).
 *
 * Input layout:
 *   byte 0   bits 0-3  max_payload: one of MAXES; bits 4-7 the split mode
 *            (piece(): whole, bytes, uniform 1..k, frame edges +- 1, a mix)
 *   byte 1-4 the split generator's seed
 *   then one record per frame, while input is left (at most MAX_FRAMES):
 *     byte   length: 0..191 as is, the payload from the input (zeros when it
 *            runs out); 192..255 an edge (LENS), the payload generated
 *     2 + 2  type, flags (little-endian, as the input reader reads them)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/frame.h"
#include "fuzz_common.h"

#define HDR        IPC_FRAMING_HDR_LEN
#define MAX_FRAMES 64
#define MAX_STREAM (1u << 18)

static const size_t MAXES[16] = {
    0,   1,   19,   20,   21,    64,    191,      192,
    255, 256, 1000, 4096, 65536, 70000, 1u << 20, IPC_FRAMING_PAYLOAD_LIMIT,
};

/* Lengths 192..255: edges of the header, the bytes' and the rx buffer's sizes;
 * MAXV means max, MAXV + d means max + d (clamped at 0 and at 2^18). */
#define MAXV 0x40000000u
static const uint32_t LENS[64] = {
    0,        1,      2,        3,        19,       20,    21,       39,       40,        41,
    63,       64,     65,       127,      128,      129,   255,      256,      257,       511,
    512,      513,    1023,     1024,     1025,     4095,  4096,     4097,     8191,      8192,
    8193,     16384,  32767,    32768,    65515,    65516, 65535,    65536,    65537,     131072,
    200000,   262143, 262144,   MAXV - 2, MAXV - 1, MAXV,  MAXV + 1, MAXV + 2, MAXV - 20, MAXV + 20,
    MAXV - 1, MAXV,   MAXV + 1, MAXV,     MAXV + 1, 7,     11,       13,       100,       1000,
    10000,    300,    3000,     30000,
};

struct frame {
	uint16_t type, flags;
	uint32_t len;
	size_t start; /* offset of its encoding in the stream */
};

static struct {
	uint8_t stream[MAX_STREAM];
	uint8_t enc[HDR];
	struct frame f[MAX_FRAMES];
	size_t nf, len, max;
	uint64_t rng;
	unsigned mode;
} R;

/* CRC-32C byte by byte from a table built here (frame.c: slice-by-8). */
static uint32_t crc_tab[256];

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = (c >> 8) ^ crc_tab[(c ^ *p++) & 0xff];
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

/* The header as spec/framing.h describes it, written without frame.c. */
static void my_header(uint8_t *h, uint16_t type, uint16_t flags, const uint8_t *p, uint32_t len)
{
	h[0] = 0x49, h[1] = 0x46, h[2] = 1, h[3] = 0;
	put32(h + 4, len);
	h[8] = (uint8_t)(type >> 8), h[9] = (uint8_t)type;
	h[10] = (uint8_t)(flags >> 8), h[11] = (uint8_t)flags;
	put32(h + 12, len ? crc32c(p, len) : 0);
	put32(h + 16, crc32c(h, 16));
}

static void *resize(void *ctx, void *old, size_t size)
{
	(void)ctx;
	if (size > R.max)
		IPC_FUZZ_FAIL("the decoder asked for %zu bytes with max_payload %zu (SIZE-2)", size,
			      R.max);
	if (size == 0) {
		free(old);
		return NULL;
	}
	return realloc(old, size);
}

/* ---- building the stream
 * ---------------------------------------------------------------- */

static uint32_t pick_len(uint8_t b)
{
	if (b < 192)
		return b;
	uint32_t v = LENS[b - 192];
	if (v < MAXV - 64)
		return v;
	int64_t l = (int64_t)R.max + ((int64_t)v - MAXV);
	return l < 0 ? 0 : l > (1 << 18) ? 1u << 18 : (uint32_t)l;
}

/* Generated payload bytes: cheap (8 at a time), different for every frame. */
static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15u | 1;

	for (size_t i = 0; i < len; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(p + i, &x, len - i < 8 ? len - i : 8);
	}
}

/* Encode one frame at the end of the stream; 0, or -1 when it would not fit. */
static int add(struct ipc_fuzz_in *in)
{
	uint8_t lb = ipc_fuzz_u8(in);
	uint32_t len = pick_len(lb);
	uint16_t type = ipc_fuzz_u16(in), flags = ipc_fuzz_u16(in);
	uint8_t *at = R.stream + R.len, *p = at + HDR;
	struct ipc_framing_frame f = {type, flags, len, NULL};
	ssize_t rc;

	if (MAX_STREAM - R.len < HDR + (size_t)len + 1)
		return -1;
	/* The payload, in place: encode moves it (memmove) behind the header. */
	if (lb < 192) {
		size_t k = len < in->n ? len : in->n;
		memcpy(p, in->p, k);
		memset(p + k, 0, len - k);
		in->p += k, in->n -= k;
	} else {
		fill(p, len, (uint64_t)lb << 32 | R.nf);
	}
	f.payload = len ? p : NULL;
	my_header(R.enc, type, flags, p, len);

	/* One byte short: refused, nothing written (FMT-3). */
	at[0] = 0xA5;
	if ((rc = ipc_framing_encode(&f, at, HDR + (size_t)len - 1)) != IPC_EMSGSIZE)
		IPC_FUZZ_FAIL("encode into %zu bytes for a %u-byte frame: %s",
			      HDR + (size_t)len - 1, len, ipc_fuzz_rc(rc));
	if (at[0] != 0xA5)
		IPC_FUZZ_FAIL("a refused encode wrote into the buffer");
	rc = ipc_framing_encode(&f, at, HDR + (size_t)len);
	if (rc != (ssize_t)(HDR + len))
		IPC_FUZZ_FAIL("encode of a %u-byte frame: %s", len, ipc_fuzz_rc(rc));
	if (memcmp(at, R.enc, HDR) != 0)
		IPC_FUZZ_FAIL("frame %zu: the header is not the documented one (FMT-2)", R.nf);
	R.f[R.nf++] = (struct frame){type, flags, len, R.len};
	R.len += HDR + len;
	return 0;
}

/* ---- splitting
 * ------------------------------------------------------------------------ */

static uint32_t rnd(void)
{
	R.rng ^= R.rng << 13, R.rng ^= R.rng >> 7, R.rng ^= R.rng << 17;
	return (uint32_t)(R.rng >> 16);
}

/* The next piece at pos. */
static size_t piece(size_t pos)
{
	size_t left = R.len - pos, n;

	switch (R.mode) {
	case 0:
		n = left;
		break;
	case 1: /* byte by byte (large streams: up to 4 KiB) */
		n = R.len > (1u << 16) ? 1 + rnd() % 4096 : 1;
		break;
	case 2:
	case 3:
	case 4:
	case 5: /* uniform 1..4, 1..16, 1..64, 1..256 */
		n = 1 + rnd() % (1u << (R.mode * 2 - 2));
		break;
	case 6:
	case 7: { /* to the next header or payload edge, +- 1 */
		size_t e = R.len;
		for (size_t i = 0; i < R.nf; i++) {
			size_t a = R.f[i].start, b = a + HDR;
			if (a > pos) {
				e = a;
				break;
			}
			if (b > pos) {
				e = b;
				break;
			}
		}
		n = e - pos + (rnd() % 3) - 1;
		if (n == 0 || n > left)
			n = e - pos;
		break;
	}
	case 8: /* 3 bytes (the first judgement), then the rest of the header */
		n = 1 + rnd() % 4;
		break;
	default: /* a mix */
		n = rnd() % 4 == 0 ? 1 + rnd() % 32 : 1 + rnd() % 70000;
		break;
	}
	return n < left ? n : left;
}

/* ---- decoding
 * ------------------------------------------------------------------------- */

static void run(bool split)
{
	struct ipc_framing_alloc alloc = {resize, NULL};
	struct ipc_framing_decoder *d = NULL;
	size_t pos = 0, k = 0;
	int rc;

	if ((rc = ipc_framing_decoder_new(R.max, &alloc, &d)) != 0)
		IPC_FUZZ_FAIL("decoder_new(%zu): %s", R.max, ipc_fuzz_rc(rc));
	while (pos < R.len) {
		size_t chunk = split ? piece(pos) : R.len - pos;

		while (chunk > 0) {
			struct ipc_framing_frame out;
			size_t used = (size_t)-1;
			const struct frame *w = k < R.nf ? &R.f[k] : NULL;

			rc = ipc_framing_decode(d, R.stream + pos, chunk, &used, &out);
			if (used > chunk)
				IPC_FUZZ_FAIL("decode took %zu of %zu bytes", used, chunk);
			if (w == NULL)
				IPC_FUZZ_FAIL("decode past the last frame: %s", ipc_fuzz_rc(rc));
			if (w->len > R.max) {
				/* Refused once its header is in, and for good. */
				if (rc == IPC_FRAMING_MORE && used == chunk &&
				    pos + used < w->start + HDR) {
					pos += used, chunk -= used;
					continue;
				}
				if (rc != IPC_EMSGSIZE || pos + used != w->start + HDR)
					IPC_FUZZ_FAIL("frame %zu of %u bytes, max %zu: %s at %zu, "
						      "header end %zu (SIZE-1)",
						      k, w->len, R.max, ipc_fuzz_rc(rc), pos + used,
						      w->start + HDR);
				size_t u2;
				if ((rc = ipc_framing_decode(d, R.stream, HDR, &u2, &out)) !=
					IPC_EMSGSIZE ||
				    u2 != 0 || ipc_framing_decode_end(d) != IPC_EMSGSIZE)
					IPC_FUZZ_FAIL("the -EMSGSIZE refusal is not final: %s",
						      ipc_fuzz_rc(rc));
				ipc_framing_decoder_free(d);
				return;
			}
			size_t end = w->start + HDR + w->len;
			if (rc == IPC_FRAMING_MORE) {
				if (used != chunk || pos + used >= end)
					IPC_FUZZ_FAIL(
					    "MORE at %zu with %zu of %zu taken; frame %zu "
					    "ends at %zu",
					    pos, used, chunk, k, end);
			} else if (rc == IPC_FRAMING_FRAME) {
				if (pos + used != end)
					IPC_FUZZ_FAIL("frame %zu ended at %zu, not %zu (SPLIT-2)",
						      k, pos + used, end);
				if (out.type != w->type || out.flags != w->flags ||
				    out.len != w->len)
					IPC_FUZZ_FAIL("frame %zu: type %u flags %u len %u, sent %u "
						      "%u %u (FMT-1)",
						      k, out.type, out.flags, out.len, w->type,
						      w->flags, w->len);
				if (w->len &&
				    (out.payload == NULL ||
				     memcmp(out.payload, R.stream + w->start + HDR, w->len) != 0))
					IPC_FUZZ_FAIL("frame %zu: payload of %u bytes differs", k,
						      w->len);
				if (!w->len && out.payload != NULL && out.len != 0)
					IPC_FUZZ_FAIL("empty frame %zu has a length", k);
				k++;
			} else {
				IPC_FUZZ_FAIL("decode of valid frames at %zu: %s", pos,
					      ipc_fuzz_rc(rc));
			}
			pos += used, chunk -= used;
		}
	}
	if (k != R.nf)
		IPC_FUZZ_FAIL("%zu of %zu frames came out", k, R.nf);
	for (int i = 0; i < 2; i++)
		if ((rc = ipc_framing_decode_end(d)) != IPC_EOD)
			IPC_FUZZ_FAIL("decode_end after whole frames: %s (END-1)", ipc_fuzz_rc(rc));
	ipc_framing_decoder_free(d);
}

static int one(const uint8_t *data, size_t size)
{
	struct ipc_fuzz_in in = {data, size};
	uint8_t b0 = ipc_fuzz_u8(&in);
	struct ipc_framing_frame big = {1, 2, IPC_FRAMING_PAYLOAD_LIMIT + 1, NULL};
	ssize_t rc;

	R.max = MAXES[b0 & 15];
	R.mode = b0 >> 4;
	R.rng = (uint64_t)ipc_fuzz_u32(&in) << 1 | 1;
	R.nf = R.len = 0;
	while (ipc_fuzz_more(&in) && R.nf < MAX_FRAMES && add(&in) == 0)
		;
	if ((rc = ipc_framing_encode(&big, R.stream, MAX_STREAM)) != IPC_EMSGSIZE)
		IPC_FUZZ_FAIL("encode above the limit: %s (FMT-3)", ipc_fuzz_rc(rc));
	run(false);
	if (R.mode != 0)
		run(true);
	return 0;
}

static void init(void)
{
	static const uint8_t check[] = "123456789";

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		crc_tab[i] = c;
	}
	if (crc32c(check, 9) != 0xE3069283u)
		IPC_FUZZ_FAIL("CRC-32C check value: %08x", crc32c(check, 9));
}

static void cleanup(void)
{
}

IPC_FUZZ_TARGET(init, one, cleanup)
