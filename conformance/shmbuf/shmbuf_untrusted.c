/* SPDX-License-Identifier: MIT */
/*
 * Verify that a subject distrusts the shared segment: whatever a corrupt or
 * malicious peer writes over it, timeout-0 operations return only documented
 * results, write nothing outside the caller's buffer and never crash or hang;
 * attaching to garbage fails with -EUCLEAN; validate() accepts every healthy
 * state and rejects garbage.
 * Clauses: SHMBUF-VAL-1, SHMBUF-VAL-2, SHMBUF-VAL-3.
 */
#include <stdlib.h>

#include "ipct.h"

#define VAL_CAP (ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0)
#define VAL_ITEM 24
#define VAL_ROUNDS 200
#define VAL_SEED 0x0badf00du /* fixed: a failure names its round, a rerun repeats it */

/* rand_r() with a fixed seed: a round fails the same way on every run. */
#define val_rand(x) ((uint32_t)rand_r(x))

/* The shared mapping behind h, as a malicious peer sees it. */
static unsigned char *val_segment(struct ipc_shmbuf *h, size_t *len)
{
	void *base = NULL;
	if (ipct_shmbuf()->segment == NULL)
		cr_assert_fail("BROKEN: an untrusted subject without segment()");
	SAFE_RC(ipct_shmbuf()->segment(h, &base, len));
	return base;
}

static void val_garbage(unsigned char *b, size_t len, unsigned *rnd)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)val_rand(rnd);
}

/* Scribble over the segment: random ranges, all 0x00, all 0xff or bit flips. */
static void val_scribble(unsigned char *b, size_t len, unsigned *rnd, uint32_t mode)
{
	for (uint32_t k = 1 + val_rand(rnd) % 8; k > 0; k--) {
		/* Anywhere, or near either end, where headers and items tend to be. */
		size_t span = len < 512 ? len : 512, r = val_rand(rnd) % 3, off = val_rand(rnd);
		off = r == 0 ? off % len : r == 1 ? off % span : len - 1 - off % span;
		size_t n = 1 + val_rand(rnd) % (len - off < 64 ? len - off : 64);
		if (mode == 0)
			val_garbage(b + off, n, rnd);
		else if (mode == 3)
			b[off] ^= (unsigned char)(1u << val_rand(rnd) % 8);
		else
			memset(b, mode == 1 ? 0x00 : 0xff, len);
	}
}

#define VAL_ASSERT_IN(rc, ok, what)                                                  \
	cr_assert(ok, "seed %#x, round %u (scribble %u): %s returned %s, not a documented result", \
		  VAL_SEED, round, mode, what, ipct_rc_text(rc, txt, sizeof txt))

Test(shmbuf, SHMBUF_VAL_1__scribbled_segment_gives_only_documented_results)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_UNTRUSTED | IPC_SHMBUF_CAP_NONBLOCK);
	const struct ipc_shmbuf_ops *ops = ipct_shmbuf();
	unsigned rnd = VAL_SEED;
	char txt[48];
	for (uint32_t round = 0; round < VAL_ROUNDS; round++) {
		const char *name = SAFE_CREATE(VAL_CAP, VAL_ITEM);
		struct ipc_shmbuf *p = NULL, *c = NULL;
		static unsigned char item[VAL_ITEM], buf[1 << 16]; /* more than any item */
		size_t len;
		SAFE_RC(ops->attach(name, IPC_SHMBUF_PRODUCER, &p));
		SAFE_RC(ops->attach(name, IPC_SHMBUF_CONSUMER, &c));
		for (uint32_t k = val_rand(&rnd) % 5; k > 0; k--)
			SAFE_PUT(p, item, val_rand(&rnd) % VAL_ITEM);
		uint32_t mode = val_rand(&rnd) % 4;
		unsigned char *seg = val_segment(c, &len);
		val_scribble(seg, len, &rnd, mode);
		for (int op = 0; op < 6; op++) {
			size_t cap = op == 3 ? 4 : sizeof buf - 64; /* a small buffer too: -EMSGSIZE */
			memset(buf, 0xa5, sizeof buf);
			int64_t t0 = ipct_now_ns();
			long rc = op % 2 ? ops->get(c, buf, cap, 0) : ops->put(p, item, op, 0);
			if (op % 2)
				VAL_ASSERT_IN(rc, (rc >= 0 && rc <= (long)cap && rc <= VAL_ITEM) ||
						 rc == IPC_EOD || rc == IPC_EAGAIN || rc == IPC_EMSGSIZE ||
						 rc == IPC_EUCLEAN, "get");
			else
				VAL_ASSERT_IN(rc, rc == 0 || rc == IPC_EAGAIN || rc == IPC_EPIPE ||
						 rc == IPC_ENOMEM || rc == IPC_EUCLEAN, "put");
			for (size_t i = cap; i < sizeof buf; i++)
				cr_assert(buf[i] == 0xa5, "seed %#x, round %u: get wrote past its buffer "
					  "(byte %zu of %zu)", VAL_SEED, round, i, cap);
			cr_assert(ipct_now_ns() - t0 < IPCT_MS(ipct_scaled_ms(1000)), "seed %#x, round "
				  "%u: a timeout-0 operation waited over 1 s", VAL_SEED, round);
		}
		for (int k = 0; k < 3; k++) { /* validate, then detach both: 0 or -EUCLEAN */
			long rc = k ? ops->detach(k == 1 ? p : c) : ops->validate ? ops->validate(c) : 0;
			VAL_ASSERT_IN(rc, rc == 0 || rc == IPC_EUCLEAN, k ? "detach" : "validate");
		}
		ops->unlink(name); /* at once: 200 segments would crowd /dev/shm */
	}
}

Test(shmbuf, SHMBUF_VAL_2__attach_to_garbage_segment_is_euclean)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_UNTRUSTED);
	unsigned rnd = VAL_SEED;
	for (int round = 0; round < 5; round++) {
		const char *name = SAFE_CREATE(VAL_CAP, VAL_ITEM);
		struct ipc_shmbuf *h = SAFE_PRODUCER(name), *h2 = NULL;
		size_t len;
		unsigned char *b = val_segment(h, &len);
		val_garbage(b, len, &rnd);
		EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_CONSUMER, &h2), IPC_EUCLEAN);
		ipct_shmbuf_detach(h); /* its result does not matter: the segment is garbage */
	}
}

Test(shmbuf, SHMBUF_VAL_3__validate_accepts_healthy_buffer_rejects_garbage)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_UNTRUSTED);
	cr_assert(ipct_shmbuf()->validate != NULL, "an untrusted subject has no validate()");
	const int64_t now = ipct_has(IPC_SHMBUF_CAP_NONBLOCK) ? 0 : IPC_TIMEOUT_INFINITE;
	const char *name = SAFE_CREATE(VAL_CAP, VAL_ITEM);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	unsigned char item[VAL_ITEM] = { 1, 2, 3 }, buf[VAL_ITEM];
	unsigned rnd = VAL_SEED;
	size_t len;
	EXPECT_OK(ipct_shmbuf()->validate(c));
	/* Wrap-arounds, zero-length and full-size items, a refused small get, a
	 * second producer coming and going: validate() after every step. */
	for (size_t i = 0; i < 40; i++) {
		if (i % 10 == 5)
			SAFE_DETACH(SAFE_PRODUCER(name));
		SAFE_RC(ipct_shmbuf()->put(p, item, (i * 7) % (VAL_ITEM + 1), now));
		SAFE_RC(ipct_shmbuf()->put(p, item, VAL_ITEM, now));
		EXPECT_OK(ipct_shmbuf()->validate(p));
		long n = ipct_shmbuf()->get(c, buf, 1, now); /* an item of 0 or 1 byte, else -EMSGSIZE */
		EXPECT_OK(ipct_shmbuf()->validate(c));
		SAFE_RC(ipct_shmbuf()->get(c, buf, sizeof buf, now));
		if (n < 0)
			SAFE_RC(ipct_shmbuf()->get(c, buf, sizeof buf, now));
		EXPECT_OK(ipct_shmbuf()->validate(c));
	}
	EXPECT_OK(ipct_shmbuf()->validate(p));
	unsigned char *b = val_segment(c, &len);
	val_garbage(b, len, &rnd);
	EXPECT_ERR(ipct_shmbuf()->validate(c), IPC_EUCLEAN);
	EXPECT_ERR(ipct_shmbuf()->validate(p), IPC_EUCLEAN);
}
