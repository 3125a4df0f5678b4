/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_shmbuf_segment ipc_shmbuf_attach ipc_shmbuf_detach ipc_shmbuf_put ipc_shmbuf_get ipc_shmbuf_validate */
/*
 * A malicious peer (SHMBUF-VAL-1..3): the input overwrites bytes of the shared
 * segment of a live buffer, between timeout-0 operations. Whatever it writes,
 * every call must return a documented result, with no sanitizer report, no
 * write past the caller's buffer and no hang:
 *   put      0, -EAGAIN, -EPIPE, -ENOMEM, -EUCLEAN (-EMSGSIZE if len > max_item)
 *   get      0..min(cap, max_item), IPC_EOD, -EAGAIN, -EMSGSIZE, -EUCLEAN
 *   attach   0, -EUCLEAN, -EUSERS
 *   detach   0, -EUCLEAN (the handle is freed either way: LeakSanitizer)
 *   validate 0, -EUCLEAN
 * Results are not compared with a model: once the peer lies, several answers
 * are honest. The ops target checks the exact ones.
 *
 * Input layout:
 *   byte 0  configuration (capacity, max_item, mem_limit) from a table
 *   byte 1  items queued before the attack (bits 0-2), one taken (bit 7)
 *   then ops: one byte, low 3 bits = kind, high 5 bits = argument, then
 *   operands. Writes land in the first 4 KiB (header, indices, locks,
 *   participant table) when the argument's bit 0 is set, anywhere otherwise.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "shmbuf/ref_shmbuf.h"

#define NHANDLES 6 /* 0: the first producer, 1: the first consumer, 2-5: extra */
#define MAX_STEPS 512
#define HOT_BYTES 4096u      /* header, indices, locks, participant table */
#define FAR_BYTES (256u << 10) /* the first slots: an unbounded span is 1 GiB */
#define BIG_CAP (IPC_FUZZ_ARENA / 2)

struct handle {
	struct ipc_shmbuf *h;
	int role;
};

static struct {
	struct ipc_shmbuf_attr attr;
	struct handle hs[NHANDLES];
	struct ipc_fuzz_in in;
	unsigned step;
} R;

static const char *NAME;

/* ---- result sets ----------------------------------------------------------- */

static void bad(const char *what, long rc, const char *allowed)
{
	IPC_FUZZ_FAIL("step %u: %s on a corrupted segment returned %s; documented: %s", R.step,
		      what, ipc_fuzz_rc(rc), allowed);
}

/* -EMSGSIZE for any len: a peer that rewrote the identity with another
 * self-consistent geometry before a handle attached gave that handle
 * another max_item (nothing can tell a rewritten identity from a real one;
 * the handle's bounds are still its own private copy). */
static void check_put(int rc, size_t len)
{
	(void)len;
	if (rc == 0 || rc == IPC_EAGAIN || rc == IPC_EPIPE || rc == IPC_ENOMEM ||
	    rc == IPC_EUCLEAN || rc == IPC_EMSGSIZE)
		return;
	bad("put()", rc, "0, EAGAIN, EPIPE, ENOMEM, EUCLEAN, EMSGSIZE");
}

/* No item is ever longer than max_item, whatever a peer wrote: a longer
 * "item" is bytes from outside its slot. */
static void check_get(ssize_t rc, size_t cap)
{
	if ((rc >= 0 && (size_t)rc <= cap && (size_t)rc <= R.attr.max_item) || rc == IPC_EOD ||
	    rc == IPC_EAGAIN || rc == IPC_EMSGSIZE || rc == IPC_EUCLEAN)
		return;
	bad("get()", rc, "0..min(cap, max_item), IPC_EOD, EAGAIN, EMSGSIZE, EUCLEAN");
}

static void check_attach(int rc)
{
	if (rc != 0 && rc != IPC_EUCLEAN && rc != IPC_EUSERS)
		bad("attach()", rc, "0, EUCLEAN, EUSERS");
}

static void check_detach(int rc)
{
	if (rc != 0 && rc != IPC_EUCLEAN)
		bad("detach()", rc, "0, EUCLEAN");
}

static void check_validate(int rc)
{
	if (rc != 0 && rc != IPC_EUCLEAN)
		bad("validate()", rc, "0, EUCLEAN");
}

/* ---- handles ------------------------------------------------------------------ */

/* An attached handle of role (0: any), starting at slot hint; -1 if none. */
static int pick(int role, unsigned hint)
{
	for (unsigned i = 0; i < NHANDLES; i++) {
		unsigned s = (hint + i) % NHANDLES;

		if (R.hs[s].h && (!role || R.hs[s].role == role))
			return (int)s;
	}
	return -1;
}

static void attach_into(int s, int role)
{
	struct ipc_shmbuf *h = NULL;
	int rc = ipc_shmbuf_attach(NAME, role, &h);

	check_attach(rc);
	if (rc == 0)
		R.hs[s] = (struct handle){.h = h, .role = role};
}

static void detach_slot(int s)
{
	check_detach(ipc_shmbuf_detach(R.hs[s].h));
	R.hs[s].h = NULL;
}

/* ---- the attack ------------------------------------------------------------------ */

/* The mapping as the implementation sees it now (it may grow). */
static bool segment(uint8_t **base, size_t *len)
{
	int s = pick(0, 0);
	void *b = NULL;

	*len = 0;
	if (s < 0)
		return false;
	if (ipc_shmbuf_segment(R.hs[s].h, &b, len) != 0 || !b || *len == 0)
		IPC_FUZZ_FAIL("segment() of a live handle failed or was empty (len %zu)", *len);
	*base = b;
	return true;
}

/* An offset for a write of width bytes, aligned to width. */
static size_t take_offset(unsigned arg, size_t seglen, size_t width)
{
	size_t span = (arg & 1) ? HOT_BYTES : FAR_BYTES;
	size_t slots = (span < seglen ? span : seglen) / width;
	size_t raw = (arg & 1) ? ipc_fuzz_u16(&R.in) : ipc_fuzz_u32(&R.in);

	return slots ? (raw % slots) * width : 0;
}

/* Values that break bounds checks: limits, signs, sizes of this buffer. */
static uint64_t interesting(unsigned which, size_t seglen)
{
	const uint64_t fixed[] = {
		0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000u,
		0xffffffffu, 0xfffffffeu, UINT64_MAX, INT64_MAX, (uint64_t)INT64_MIN,
	};
	const uint64_t sized[] = {
		seglen, seglen - 1, seglen + 1, R.attr.max_item, R.attr.max_item + 1,
		R.attr.capacity, R.attr.capacity + 1, (uint64_t)getpid(),
	};
	const size_t nf = sizeof(fixed) / sizeof(fixed[0]);

	which %= nf + sizeof(sized) / sizeof(sized[0]);
	return which < nf ? fixed[which] : sized[which - nf];
}

static void op_write(unsigned arg, size_t width)
{
	uint8_t *base;
	size_t seglen, off;
	uint64_t v;

	if (!segment(&base, &seglen) || seglen < width)
		return;
	off = take_offset(arg, seglen, width);
	if (width == 1)
		v = ipc_fuzz_u8(&R.in);
	else if (arg & 2)
		v = interesting(arg >> 2, seglen);
	else
		v = width == 4 ? ipc_fuzz_u32(&R.in) : ipc_fuzz_u64(&R.in);
	memcpy(base + off, &v, width); /* little-endian: the low bytes */
}

/* ---- operations ------------------------------------------------------------------ */

static size_t take_len(void)
{
	size_t span = R.attr.max_item + 2;
	size_t raw = span <= 256 ? ipc_fuzz_u8(&R.in) : ipc_fuzz_u16(&R.in);

	return raw % span;
}

static void op_put(unsigned arg)
{
	size_t len = take_len();
	int s = pick(IPC_SHMBUF_PRODUCER, arg);
	uint8_t *item = ipc_fuzz_in_buf(len);

	if (s < 0)
		return;
	ipc_fuzz_item_fill(item, len, arg, R.step);
	check_put(ipc_shmbuf_put(R.hs[s].h, item, len, 0), len);
}

/* Sizes: a length near max_item, max_item, or a huge buffer that lets a
 * trusted length run off the end of the segment. */
static void op_get(unsigned arg)
{
	size_t cap = (arg & 16) ? R.attr.max_item : (arg & 8) ? BIG_CAP : take_len();
	int s = pick(IPC_SHMBUF_CONSUMER, arg);

	if (s >= 0)
		check_get(ipc_shmbuf_get(R.hs[s].h, ipc_fuzz_out_buf(cap), cap, 0), cap);
}

static void op_validate(unsigned arg)
{
	int s = pick(0, arg);

	if (s >= 0)
		check_validate(ipc_shmbuf_validate(R.hs[s].h));
}

/* Attach into a free slot, or detach the one there: churns the table. */
static void op_toggle(unsigned arg)
{
	int s = (int)(arg % NHANDLES);

	if (R.hs[s].h)
		detach_slot(s);
	else
		attach_into(s, (arg & 8) ? IPC_SHMBUF_CONSUMER : IPC_SHMBUF_PRODUCER);
}

static void step(uint8_t op)
{
	unsigned arg = op >> 3;

	switch (op & 7) {
	case 0: op_write(arg, 1); break;
	case 1: op_write(arg, 4); break;
	case 2: op_write(arg, 8); break;
	case 3: op_put(arg); break;
	case 4: op_get(arg); break;
	case 5: op_validate(arg); break;
	case 6: op_toggle(arg); break;
	default: op_write(arg | 1, 1); break; /* the hot bytes twice as often */
	}
}

/* ---- set-up: a healthy buffer with items in it ----------------------------------- */

static const struct ipc_shmbuf_attr configs[8] = {
	{.capacity = 1, .max_item = 8},	  {.capacity = 4, .max_item = 64},
	{.capacity = 8, .max_item = 100},	  {.capacity = 2, .max_item = 512},
	{.capacity = 0, .max_item = 64},	  {.capacity = 0, .max_item = 100, .mem_limit = 65536},
	{.capacity = 16, .max_item = 1}, {.capacity = 0, .max_item = 4096},
};

static void must(long rc, const char *what)
{
	if (rc != 0)
		IPC_FUZZ_FAIL("set-up: %s on a healthy buffer returned %s", what, ipc_fuzz_rc(rc));
}

static void setup(void)
{
	uint8_t cfg = ipc_fuzz_u8(&R.in), fill = ipc_fuzz_u8(&R.in);
	unsigned n = fill & 7;
	uint8_t *item;

	R.attr = configs[cfg & 7];
	if (R.attr.capacity && n > R.attr.capacity)
		n = (unsigned)R.attr.capacity;
	must(ipc_shmbuf_create(NAME, &R.attr), "create()");
	must(ipc_shmbuf_attach(NAME, IPC_SHMBUF_PRODUCER, &R.hs[0].h), "attach(producer)");
	R.hs[0].role = IPC_SHMBUF_PRODUCER;
	must(ipc_shmbuf_attach(NAME, IPC_SHMBUF_CONSUMER, &R.hs[1].h), "attach(consumer)");
	R.hs[1].role = IPC_SHMBUF_CONSUMER;
	for (unsigned i = 0; i < n; i++) {
		size_t len = (i * 37u + (fill >> 3)) % (R.attr.max_item + 1);

		item = ipc_fuzz_in_buf(len);
		ipc_fuzz_item_fill(item, len, fill, i);
		must(ipc_shmbuf_put(R.hs[0].h, item, len, 0), "put()");
	}
	/* A taken item moves the read index off zero, and frees a chunk. */
	if ((fill & 0x80) && n)
		if (ipc_shmbuf_get(R.hs[1].h, ipc_fuzz_out_buf(R.attr.max_item), R.attr.max_item, 0) < 0)
			IPC_FUZZ_FAIL("set-up: get() on a healthy buffer failed");
}

static void teardown(void)
{
	for (int s = 0; s < NHANDLES; s++)
		if (R.hs[s].h)
			detach_slot(s);
	must(ipc_shmbuf_unlink(NAME), "unlink()");
}

static int one(const uint8_t *data, size_t size)
{
	memset(&R, 0, sizeof(R));
	R.in = (struct ipc_fuzz_in){.p = data, .n = size};
	ipc_fuzz_name_release(); /* a previous input that crashed left it */
	setup();
	while (ipc_fuzz_more(&R.in) && R.step < MAX_STEPS) {
		R.step++;
		step(ipc_fuzz_u8(&R.in));
	}
	teardown();
	return 0;
}

static void init(void)
{
	NAME = ipc_fuzz_name_init();
}

static void cleanup(void)
{
	ipc_fuzz_name_release();
}

IPC_FUZZ_TARGET(init, one, cleanup)
