/* SPDX-License-Identifier: MIT */
/*
 * Self-checking items for the fault and race harnesses (faults/, tsan/).
 *
 * An item is a 24-byte header {magic, producer, seq, len, sum} followed by a
 * payload that is a pure function of (producer, seq): a consumer can tell a
 * torn, stale, altered or misdelivered item from the bytes alone, with no
 * shared bookkeeping. Header-only so the TSan build (clang, no libfiu) and
 * the fault build (gcc, libfiu) share it.
 */
#ifndef IPCSPEC_FAULTS_FL_ITEM_H
#define IPCSPEC_FAULTS_FL_ITEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FL_ITEM_MAGIC 0x49504331u /* "IPC1" */
#define FL_ITEM_HDR 24u

struct fl_item_hdr {
	uint32_t magic;
	uint32_t producer;
	uint32_t seq;
	uint32_t len; /* whole item, header included */
	uint64_t sum; /* FNV-1a over the first 16 header bytes and the payload */
};

/* splitmix64: a good hash of (producer, seq) for sizes and payload bytes. */
static inline uint64_t fl_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t fl_fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The length item (producer, seq) has, between FL_ITEM_HDR and max_item:
 * mostly small, sometimes the maximum, so both ends are exercised. */
static inline size_t fl_item_len(uint32_t producer, uint32_t seq, size_t max_item)
{
	uint64_t r = fl_mix(((uint64_t)producer << 32) | seq);
	size_t span = max_item - FL_ITEM_HDR;

	if (r % 8 == 0)
		return max_item;
	return FL_ITEM_HDR + (size_t)((r >> 8) % (span + 1));
}

static inline void fl_fill_payload(unsigned char *p, size_t n, uint32_t producer, uint32_t seq)
{
	uint64_t s = fl_mix(((uint64_t)seq << 32) ^ producer ^ 0xA5A5u);

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			s = fl_mix(s);
		p[i] = (unsigned char)(s >> (8 * (i % 8)));
	}
}

/* Write item (producer, seq) into buf (>= max_item bytes): its length. */
static inline size_t fl_item_make(void *buf, uint32_t producer, uint32_t seq, size_t max_item)
{
	unsigned char *b = buf;
	struct fl_item_hdr h = {FL_ITEM_MAGIC, producer, seq, 0, 0};
	size_t len = fl_item_len(producer, seq, max_item);

	h.len = (uint32_t)len;
	fl_fill_payload(b + FL_ITEM_HDR, len - FL_ITEM_HDR, producer, seq);
	h.sum = fl_fnv(fl_fnv(0xcbf29ce484222325ull, (const unsigned char *)&h, 16), b + FL_ITEM_HDR,
		       len - FL_ITEM_HDR);
	memcpy(b, &h, sizeof(h));
	return len;
}

/* Does p[0..n) equal the payload of (producer, seq)? Regenerated in chunks
 * of the same stream, so no buffer of max_item bytes is needed. */
static inline int fl_payload_matches(const unsigned char *p, size_t n, uint32_t producer,
				     uint32_t seq)
{
	uint64_t s = fl_mix(((uint64_t)seq << 32) ^ producer ^ 0xA5A5u);

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			s = fl_mix(s);
		if (p[i] != (unsigned char)(s >> (8 * (i % 8))))
			return 0;
	}
	return 1;
}

/* 0 when buf[0..n) is an intact item; its header in *out. A negative code
 * names the first thing wrong (for messages): -1 short, -2 magic, -3 length,
 * -4 checksum, -5 payload. */
static inline int fl_item_check(const void *buf, size_t n, size_t max_item, struct fl_item_hdr *out)
{
	const unsigned char *b = buf;
	struct fl_item_hdr h;

	memset(out, 0, sizeof(*out));

	if (n < FL_ITEM_HDR)
		return -1;
	memcpy(&h, b, sizeof(h));
	*out = h;
	if (h.magic != FL_ITEM_MAGIC)
		return -2;
	if (h.len != n || n != fl_item_len(h.producer, h.seq, max_item))
		return -3;
	if (fl_fnv(fl_fnv(0xcbf29ce484222325ull, b, 16), b + FL_ITEM_HDR, n - FL_ITEM_HDR) != h.sum)
		return -4;
	/* A 64-bit checksum is evidence, not proof: compare with a fresh
	 * rendering too, which also pins the payload to (producer, seq). */
	if (!fl_payload_matches(b + FL_ITEM_HDR, n - FL_ITEM_HDR, h.producer, h.seq))
		return -5;
	return 0;
}

static inline const char *fl_item_why(int code)
{
	switch (code) {
	case -1: return "shorter than a header";
	case -2: return "bad magic";
	case -3: return "wrong length";
	case -4: return "bad checksum";
	case -5: return "payload differs";
	default: return "intact";
	}
}

#endif
