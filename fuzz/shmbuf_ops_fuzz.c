/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_shmbuf_create ipc_shmbuf_attach ipc_shmbuf_detach ipc_shmbuf_unlink ipc_shmbuf_put ipc_shmbuf_get ipc_shmbuf_validate */
/*
 * Differential fuzzing of ref-shmbuf against a model. The input is a program:
 * it creates one buffer, then runs attach / detach / put / get / unlink and
 * argument-error calls on up to four handles, every timeout 0. The model is a
 * FIFO of (length, seed) pairs with the buffer's capacity, attach counts per
 * role and "ever attached" flags; it predicts every result from spec/shmbuf.h
 * and spec/shmbuf.md. Any difference (return code, length, one byte) and any
 * ipc_shmbuf_validate() other than 0 after a step is a trap with a message.
 *
 * Input layout (docs/fuzzing.md has the table):
 *   byte 0  capacity index  (0 = unbounded, a few invalid capacities)
 *   byte 1  max_item        (1..239 as is, 240..255 from a table, 0 invalid)
 *   byte 2  mem_limit index (unbounded only)
 *   then ops: one byte, low 3 bits = kind, high 5 bits = argument,
 *   followed by the kind's operand bytes.
 *
 * Where two documented conditions hold at once and the spec does not rank
 * them, any of their codes is accepted (see want_put_args()); everywhere
 * else exactly one result is right.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "shmbuf/ref_shmbuf.h"

#define NHANDLES 4
#define QMAX 16384     /* model queue; inputs are far too short to fill it */
#define MAX_STEPS 4096 /* bounds the work of one input */

/* ---- the model ------------------------------------------------------------ */

struct item {
	uint32_t len;
	uint32_t seed;
	uint32_t seq;
};

struct model {
	struct ipc_shmbuf_attr attr;
	size_t head, count;
	uint64_t bytes;  /* payload bytes queued */
	int attached[3]; /* indexed by role: attachments now */
	bool ever[3];    /* indexed by role: anyone ever attached */
	bool unlinked;
	uint32_t seq;    /* of the next item put */
	struct item q[QMAX]; /* last: reset() clears everything before it */
};

struct handle {
	struct ipc_shmbuf *h;
	int role;
};

struct run {
	struct model m;
	struct handle hs[NHANDLES];
	struct ipc_fuzz_in in;
	unsigned step;
};

static struct run R; /* static: the model queue is too big for the stack */
static const char *NAME;

static bool gone(const struct model *m, int role)
{
	return m->ever[role] && m->attached[role] == 0;
}

static const struct item *front(const struct model *m)
{
	return m->count ? &m->q[m->head] : NULL;
}

static void push(struct model *m, uint32_t len, uint32_t seed)
{
	struct item *it = &m->q[(m->head + m->count) % QMAX];

	it->len = len;
	it->seed = seed;
	it->seq = m->seq++;
	m->count++;
	m->bytes += len;
}

static void pop(struct model *m)
{
	m->bytes -= m->q[m->head].len;
	m->head = (m->head + 1) % QMAX;
	m->count--;
}

/* ---- sets of acceptable results ----------------------------------------- */


static void expect(const struct ipc_fuzz_want *w, long rc, const char *what)
{
	if (!ipc_fuzz_want_has(w, rc))
		IPC_FUZZ_FAIL("step %u: %s returned %s, the spec says %s", R.step, what,
			      ipc_fuzz_rc(rc), ipc_fuzz_want_str(w));
}

static void expect_one(long want, long rc, const char *what)
{
	struct ipc_fuzz_want w = {.n = 0};

	ipc_fuzz_want_add(&w, want);
	expect(&w, rc, what);
}

/* ---- memory ceiling (unbounded buffers with mem_limit) -------------------
 * ref-shmbuf's accounting (impl/shmbuf/ref_shmbuf.c, docs/ref-shmbuf-design.md):
 * a queued item holds one slot of round8(16 + max_item) bytes whatever its
 * length, and memory is backed and given back in whole chunks (64 KiB,
 * halved while four chunks exceed mem_limit, never below 4 KiB). The chunk
 * being filled and the one being drained may each be partly used, so with q
 * items queued the put of one more needs between (q+1)*slot and
 * (q+1)*slot + 2*chunk bytes:
 *   -ENOMEM is required when (q+1)*slot > mem_limit,
 *   -ENOMEM is allowed only when (q+1)*slot + 2*chunk > mem_limit.
 * A ceiling too small for one item is refused at create (-EINVAL); the
 * second rule still accepts -ENOMEM on an empty buffer whenever
 * mem_limit < 2 chunks, as chunk accounting may. No mem_limit: never -ENOMEM here, since
 * MAX_SLOT_BYTES keeps the queue far below the 1 GiB span. */

#define SLOT_HDR 16u
#define CHUNK_MAX (64u << 10)
#define CHUNK_MIN 4096u
#define MAX_SLOT_BYTES (16u << 20) /* skip puts beyond: memory and time */

static uint64_t slot_bytes(const struct model *m)
{
	return (SLOT_HDR + m->attr.max_item + 7) & ~(uint64_t)7;
}

static uint64_t chunk_bytes(const struct model *m)
{
	uint64_t c = CHUNK_MAX;

	while (c > CHUNK_MIN && c * 4 > m->attr.mem_limit)
		c >>= 1;
	return c;
}

static uint64_t footprint_after_put(const struct model *m)
{
	return (m->count + 1) * slot_bytes(m);
}

/* The least ceiling an unbounded buffer accepts at create (else -EINVAL):
 * one chunk plus one slot, or the chunks one slot may straddle wherever
 * it starts, whichever is more (ref-shmbuf's one_item_bytes()). */
static uint64_t least_mem_limit(const struct model *m)
{
	uint64_t slot = slot_bytes(m), chunk = chunk_bytes(m);
	uint64_t step = slot & (~slot + 1), worst, span;

	if (step > chunk)
		step = chunk;
	worst = chunk - step + slot;
	span = (worst + chunk - 1) / chunk * chunk;
	return span > chunk + slot ? span : chunk + slot;
}

static bool mem_must_refuse(const struct model *m)
{
	return m->attr.mem_limit && footprint_after_put(m) > m->attr.mem_limit;
}

static bool mem_may_refuse(const struct model *m)
{
	return m->attr.mem_limit &&
	       footprint_after_put(m) + 2 * chunk_bytes(m) > m->attr.mem_limit;
}

/* ---- validate ------------------------------------------------------------ */

static void check_validate(void)
{
	for (int i = 0; i < NHANDLES; i++) {
		if (!R.hs[i].h)
			continue;
		expect_one(0, ipc_shmbuf_validate(R.hs[i].h), "validate() after the step");
		return; /* one handle sees the whole shared state */
	}
}

/* ---- handles ------------------------------------------------------------- */

/* The slot asked for, else the next attached one, else -1. */
static int pick(unsigned slot)
{
	for (unsigned i = 0; i < NHANDLES; i++) {
		unsigned s = (slot + i) % NHANDLES;

		if (R.hs[s].h)
			return (int)s;
	}
	return -1;
}

static int free_slot(unsigned slot)
{
	for (unsigned i = 0; i < NHANDLES; i++) {
		unsigned s = (slot + i) % NHANDLES;

		if (!R.hs[s].h)
			return (int)s;
	}
	return -1;
}

static const int role_map[8] = {
	IPC_SHMBUF_PRODUCER, IPC_SHMBUF_CONSUMER, IPC_SHMBUF_PRODUCER, IPC_SHMBUF_CONSUMER,
	IPC_SHMBUF_PRODUCER, IPC_SHMBUF_CONSUMER, 0 /* invalid */,     3 /* invalid */,
};

static bool role_ok(int role)
{
	return role == IPC_SHMBUF_PRODUCER || role == IPC_SHMBUF_CONSUMER;
}

static void op_attach(unsigned arg)
{
	int role = role_map[arg & 7], s = free_slot(arg >> 3);
	struct ipc_shmbuf *h = NULL;
	struct ipc_fuzz_want w = {.n = 0};
	int rc;

	if (s < 0)
		return;
	if (!role_ok(role))
		ipc_fuzz_want_add(&w, IPC_EINVAL);
	if (R.m.unlinked)
		ipc_fuzz_want_add(&w, IPC_ENOENT);
	if (w.n == 0)
		ipc_fuzz_want_add(&w, 0);
	rc = ipc_shmbuf_attach(NAME, role, &h);
	expect(&w, rc, "attach()");
	if (rc != 0)
		return;
	R.hs[s] = (struct handle){.h = h, .role = role};
	R.m.attached[role]++;
	R.m.ever[role] = true;
}

static void op_detach(unsigned arg)
{
	int s = pick(arg & 3);

	if (s < 0)
		return;
	expect_one(0, ipc_shmbuf_detach(R.hs[s].h), "detach()");
	R.m.attached[R.hs[s].role]--;
	R.hs[s].h = NULL;
}

/* ---- put ----------------------------------------------------------------- */

/* Argument errors (no effect whatever the state). EOS-4 says -EPIPE "at
 * once, whatever its timeout", so it is also accepted when it holds too. */
static void want_put_args(struct ipc_fuzz_want *w, int role, const void *item, size_t len)
{
	if (!item && len)
		ipc_fuzz_want_add(w, IPC_EINVAL);
	if (role != IPC_SHMBUF_PRODUCER)
		ipc_fuzz_want_add(w, IPC_EBADF);
	if (len > R.m.attr.max_item)
		ipc_fuzz_want_add(w, IPC_EMSGSIZE);
	if (w->n && gone(&R.m, IPC_SHMBUF_CONSUMER))
		ipc_fuzz_want_add(w, IPC_EPIPE);
}

static void want_put_state(struct ipc_fuzz_want *w)
{
	const struct model *m = &R.m;

	if (gone(m, IPC_SHMBUF_CONSUMER))
		ipc_fuzz_want_add(w, IPC_EPIPE); /* EOS-4 */
	else if (m->attr.capacity && m->count == m->attr.capacity)
		ipc_fuzz_want_add(w, IPC_EAGAIN); /* CAP-1, NB-1 */
	else if (mem_must_refuse(m))
		ipc_fuzz_want_add(w, IPC_ENOMEM); /* UNB-4 */
	else {
		ipc_fuzz_want_add(w, 0);
		if (mem_may_refuse(m))
			ipc_fuzz_want_add(w, IPC_ENOMEM);
	}
}

/* One put through slot s (or a NULL handle when s < 0); true if it queued. */
static bool do_put(int s, size_t len, uint32_t seed, bool null_item)
{
	struct ipc_shmbuf *h = s >= 0 ? R.hs[s].h : NULL;
	uint8_t *item = null_item ? NULL : ipc_fuzz_in_buf(len);
	struct ipc_fuzz_want w = {.n = 0};
	int rc;

	if (R.m.count == QMAX || footprint_after_put(&R.m) > MAX_SLOT_BYTES)
		return false;
	if (!h)
		ipc_fuzz_want_add(&w, IPC_EINVAL);
	else
		want_put_args(&w, R.hs[s].role, item, len);
	if (w.n == 0)
		want_put_state(&w);
	if (item)
		ipc_fuzz_item_fill(item, len, seed, R.m.seq);
	rc = ipc_shmbuf_put(h, item, len, 0);
	expect(&w, rc, "put()");
	if (rc == 0)
		push(&R.m, (uint32_t)len, seed);
	return rc == 0;
}

/* ---- get ----------------------------------------------------------------- */

static void check_bytes(const uint8_t *buf, const struct item *it)
{
	for (size_t i = 0; i < it->len; i++) {
		uint8_t want = ipc_fuzz_item_byte(it->seed, it->seq, i);

		if (buf[i] != want)
			IPC_FUZZ_FAIL("step %u: get() returned item #%u (%u bytes) with byte %zu = "
				      "0x%02x, the put had 0x%02x (ITEM-3, ORD-1)",
				      R.step, it->seq, it->len, i, buf[i], want);
	}
}

static void want_get(struct ipc_fuzz_want *w, int role, const void *buf, size_t cap)
{
	const struct item *it = front(&R.m);

	if (!buf && cap)
		ipc_fuzz_want_add(w, IPC_EINVAL);
	if (role != IPC_SHMBUF_CONSUMER)
		ipc_fuzz_want_add(w, IPC_EBADF);
	if (w->n)
		return;
	if (it)
		ipc_fuzz_want_add(w, it->len > cap ? IPC_EMSGSIZE : (long)it->len); /* ITEM-4 */
	else
		ipc_fuzz_want_add(w, gone(&R.m, IPC_SHMBUF_PRODUCER) ? IPC_EOD : IPC_EAGAIN); /* EOS-1, 3 */
}

static void do_get(int s, size_t cap, bool null_buf)
{
	struct ipc_shmbuf *h = s >= 0 ? R.hs[s].h : NULL;
	uint8_t *buf = null_buf ? NULL : ipc_fuzz_out_buf(cap);
	struct ipc_fuzz_want w = {.n = 0};
	ssize_t rc;

	if (!h)
		ipc_fuzz_want_add(&w, IPC_EINVAL);
	else
		want_get(&w, R.hs[s].role, buf, cap);
	rc = ipc_shmbuf_get(h, buf, cap, 0);
	expect(&w, rc, "get()");
	if (rc >= 0) {
		check_bytes(buf, front(&R.m));
		pop(&R.m);
	}
}

/* ---- operand decoding ---------------------------------------------------- */

/* A length or a size in [0, max_item + 2]: one byte when that range fits. */
static size_t take_len(void)
{
	size_t span = R.m.attr.max_item + 3;
	size_t raw = span <= 256 ? ipc_fuzz_u8(&R.in) : ipc_fuzz_u16(&R.in);

	return raw % span;
}

static size_t clamp_cap(size_t cap)
{
	return cap < IPC_FUZZ_ARENA ? cap : IPC_FUZZ_ARENA;
}

static void op_put(unsigned arg)
{
	size_t len = take_len();
	uint32_t seed = ipc_fuzz_u8(&R.in);
	int s = pick(arg & 3);

	if (s >= 0)
		(void)do_put(s, len, seed, (arg >> 2) == 7 || (len == 0 && (arg & 4)));
}

/* Lengths at the edges: 0, 1, max_item (accepted), max_item + 1 (-EMSGSIZE). */
static void op_put_edge(unsigned arg)
{
	size_t m = R.m.attr.max_item;
	size_t len = (size_t[]){0, 1, m, m + 1}[(arg >> 2) & 3];
	uint32_t seed = ipc_fuzz_u8(&R.in);
	int s = pick(arg & 3);

	if (s >= 0)
		(void)do_put(s, len, seed, len == 0 && (arg & 16));
}

static void op_get(unsigned arg)
{
	size_t cap = take_len();
	int s = pick(arg & 3);

	if (s >= 0)
		do_get(s, cap, ((arg >> 2) == 7 && cap) || (cap == 0 && (arg & 4)));
}

/* Sizes at the edges of the next item: exact, one short, one over, ... */
static void op_get_edge(unsigned arg)
{
	const struct item *it = front(&R.m);
	size_t f = it ? it->len : 0, m = R.m.attr.max_item;
	size_t cap = (size_t[]){f, f ? f - 1 : 0, 0, m, m + 1, 2 * m + 7, 1, f + 1}[(arg >> 2) & 7];
	int s = pick(arg & 3);

	if (s >= 0)
		do_get(s, clamp_cap(cap), false);
}

/* n puts of one length: fills a bounded buffer or reaches the ceiling fast. */
static void op_burst(unsigned arg)
{
	unsigned n = 1 + (arg >> 2) * 4;
	size_t len = take_len() % (R.m.attr.max_item + 1);
	uint32_t seed = ipc_fuzz_u8(&R.in);
	int s = pick(arg & 3);

	for (unsigned i = 0; s >= 0 && i < n; i++)
		if (!do_put(s, len, seed + i, false))
			break;
}

/* ---- names and argument errors ------------------------------------------- */

static void op_unlink(void)
{
	expect_one(R.m.unlinked ? IPC_ENOENT : 0, ipc_shmbuf_unlink(NAME), "unlink()");
	R.m.unlinked = true;
}

/* SEG-2: a second create under the live name fails and changes nothing. */
static void op_create_again(void)
{
	if (!R.m.unlinked)
		expect_one(IPC_EEXIST, ipc_shmbuf_create(NAME, &R.m.attr), "create() of a live name");
}

/* SEG-8: bad arguments fail with -EINVAL and no effect. */
static void op_bad_args(unsigned which)
{
	struct ipc_shmbuf *h = NULL;

	switch (which) {
	case 0:
		expect_one(IPC_EINVAL, ipc_shmbuf_detach(NULL), "detach(NULL)");
		break;
	case 1:
		expect_one(IPC_EINVAL, ipc_shmbuf_attach("", IPC_SHMBUF_PRODUCER, &h),
			   "attach(\"\")");
		break;
	case 2:
		expect_one(IPC_EINVAL, ipc_shmbuf_attach("no-slash", IPC_SHMBUF_CONSUMER, &h),
			   "attach(\"no-slash\")");
		break;
	default:
		expect_one(IPC_EINVAL, ipc_shmbuf_unlink("/a/b"), "unlink(\"/a/b\")");
		break;
	}
}

static void op_misc(unsigned arg)
{
	switch (arg & 7) {
	case 0:
		op_unlink();
		break;
	case 1:
		(void)do_put(-1, 1, 0, false);
		break;
	case 2:
		do_get(-1, 1, false);
		break;
	case 3:
		op_create_again();
		break;
	default:
		op_bad_args((arg >> 3) & 3);
		break;
	}
}

static void step(uint8_t op)
{
	unsigned arg = op >> 3;

	switch (op & 7) {
	case 0: op_attach(arg); break;
	case 1: op_detach(arg); break;
	case 2: op_put(arg); break;
	case 3: op_put_edge(arg); break;
	case 4: op_get(arg); break;
	case 5: op_get_edge(arg); break;
	case 6: op_misc(arg); break;
	default: op_burst(arg); break;
	}
}

/* ---- one input ----------------------------------------------------------- */

static const size_t cap_table[16] = {
	0, 1, 2, 3, 4, 5, 8, 16, 0, 1, 2, 7, 64, 1000, 0, SIZE_MAX /* invalid */,
};

static const size_t big_item_table[16] = {
	255, 256, 257, 511, 512, 1000, 1023, 1024, 4095, 4096, 4097, 8191, 8192, 16384, 65535, 65536,
};

/* Ceilings around an implementation's chunk and page sizes. */
static const size_t limit_table[8] = {0, 0, 256, 1024, 4096, 4097, 16384, 65536};

static void decode_attr(struct ipc_shmbuf_attr *a)
{
	uint8_t c = ipc_fuzz_u8(&R.in), mi = ipc_fuzz_u8(&R.in), ml = ipc_fuzz_u8(&R.in);

	a->capacity = cap_table[c & 15];
	a->max_item = mi < 240 ? mi : big_item_table[mi - 240];
	/* Large rings of large items cost memory and time, not coverage. */
	if (a->capacity >= 64 && a->capacity != SIZE_MAX && a->max_item > 256)
		a->max_item = 256;
	a->mem_limit = a->capacity == 0 ? limit_table[ml & 7] * (1 + (ml >> 6)) : 0;
}

/* Create from the header; false when the attr is invalid (checked here). */
static bool create(void)
{
	struct ipc_shmbuf_attr *a = &R.m.attr;
	struct ipc_fuzz_want w = {.n = 0};
	int rc;

	decode_attr(a);
	if (a->max_item == 0)
		ipc_fuzz_want_add(&w, IPC_EINVAL); /* SEG-8 */
	else if (a->capacity == 0 && a->mem_limit && a->mem_limit < least_mem_limit(&R.m))
		ipc_fuzz_want_add(&w, IPC_EINVAL); /* a ceiling that could never hold an item */
	else if (a->capacity == SIZE_MAX) {
		ipc_fuzz_want_add(&w, IPC_EINVAL); /* CAP-4 */
		ipc_fuzz_want_add(&w, IPC_ENOMEM);
	} else
		ipc_fuzz_want_add(&w, 0);
	rc = ipc_shmbuf_create(NAME, a);
	expect(&w, rc, "create()");
	return rc == 0;
}

/* A fresh consumer takes what is left: every queued item, in order, then
 * IPC_EOD or -EAGAIN as the model says. */
static void drain(void)
{
	struct ipc_shmbuf *h = NULL;

	if (R.m.unlinked)
		return;
	expect_one(0, ipc_shmbuf_attach(NAME, IPC_SHMBUF_CONSUMER, &h), "attach() to drain");
	while (R.m.count) {
		const struct item *it = front(&R.m);
		ssize_t rc = ipc_shmbuf_get(h, ipc_fuzz_out_buf(R.m.attr.max_item),
					    R.m.attr.max_item, 0);

		expect_one(it->len, rc, "get() while draining");
		check_bytes(ipc_fuzz_out_buf(R.m.attr.max_item), it);
		pop(&R.m);
	}
	expect_one(gone(&R.m, IPC_SHMBUF_PRODUCER) ? IPC_EOD : IPC_EAGAIN,
		   ipc_shmbuf_get(h, ipc_fuzz_out_buf(1), 1, 0), "get() after draining");
	expect_one(0, ipc_shmbuf_validate(h), "validate() after draining");
	expect_one(0, ipc_shmbuf_detach(h), "detach() after draining");
}

static void finish(void)
{
	R.step++;
	drain();
	for (int i = 0; i < NHANDLES; i++) {
		if (R.hs[i].h)
			expect_one(0, ipc_shmbuf_detach(R.hs[i].h), "detach() at the end");
		R.hs[i].h = NULL;
	}
	expect_one(R.m.unlinked ? IPC_ENOENT : 0, ipc_shmbuf_unlink(NAME), "unlink() at the end");
}

static void reset(const uint8_t *data, size_t size)
{
	/* Not q[]: 200 KiB per input, and only entries below count are read. */
	memset(&R.m, 0, offsetof(struct model, q));
	memset(R.hs, 0, sizeof(R.hs));
	R.in = (struct ipc_fuzz_in){.p = data, .n = size};
	R.step = 0;
}

static int one(const uint8_t *data, size_t size)
{
	reset(data, size);
	ipc_fuzz_name_release(); /* a previous input that trapped left it */
	if (!create())
		return 0;
	while (ipc_fuzz_more(&R.in) && R.step < MAX_STEPS) {
		R.step++;
		step(ipc_fuzz_u8(&R.in));
		check_validate();
	}
	finish();
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
