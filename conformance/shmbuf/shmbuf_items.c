/* SPDX-License-Identifier: MIT */
/*
 * Verify that an item comes out exactly as it went in, whatever its length (0 and max_item
 * included) and bytes (NULs included), and that refused calls have no effect: items and
 * buffers of the wrong size, a handle used against its role, a timeout-0 call that cannot
 * complete (refused at once). Clauses: SHMBUF-ITEM-1, SHMBUF-ITEM-2, SHMBUF-ITEM-3,
 * SHMBUF-ITEM-4, SHMBUF-ROLE-1, SHMBUF-NB-1. Fixture: the suite's, in shmbuf_capacity.c.
 */
#include "ipct.h"

#define CAP4 (ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4u : 0u) /* unbounded-only: no limit */
#define BIG  8192 /* bytes: the largest item or buffer used here */

static int64_t now_tmo(void) /* a timeout for calls that can complete at once */
{
	return ipct_has(IPC_SHMBUF_CAP_NONBLOCK) ? 0
	       : ipct_has(IPC_SHMBUF_CAP_TIMED) ? IPCT_MS(1000) : IPC_TIMEOUT_INFINITE;
}

/* Item tag: len bytes, a NUL every third one, different for every tag. */
static const unsigned char *item(size_t len, unsigned tag)
{
	static unsigned char b[BIG];
	for (size_t i = 0; i < len; i++)
		b[i] = i % 3 == 1 ? 0 : (unsigned char)(tag * 37 + i * 7 + 1);
	return b;
}

static int put_item(struct ipc_shmbuf *p, size_t len, unsigned tag)
{
	return ipct_shmbuf()->put(p, item(len, tag), len, now_tmo());
}

/* The next get through c, into cap bytes, returns item tag of len bytes, intact. */
static void expect_item(struct ipc_shmbuf *c, size_t cap, size_t len, unsigned tag)
{
	static unsigned char got[BIG];
	memset(got, 0xa5, sizeof got);
	EXPECT_RC(ipct_shmbuf()->get(c, got, cap, now_tmo()), (long)len);
	cr_assert(memcmp(got, item(len, tag), len) == 0, "item %u of %zu bytes came out altered",
		  tag, len);
}

Test(shmbuf, SHMBUF_ITEM_1__max_item_bytes_are_delivered_one_more_is_emsgsize)
{
	static const size_t maxes[] = { 1, 13, 4096 };
	for (size_t k = 0; k < sizeof maxes / sizeof *maxes; k++) {
		size_t m = maxes[k];
		const char *name = SAFE_CREATE(CAP4, m);
		struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
		EXPECT_ERR(put_item(p, m + 1, 1), IPC_EMSGSIZE);
		EXPECT_OK(put_item(p, m, 2));
		EXPECT_ERR(put_item(p, m + 1, 3), IPC_EMSGSIZE);
		SAFE_RC(put_item(p, 1, 4));
		/* The refused items were not queued, whole or cut short. */
		expect_item(c, m + 8, m, 2);
		expect_item(c, m + 8, 1, 4);
	}
}

Test(shmbuf, SHMBUF_ITEM_2__zero_length_item_is_got_as_0_not_eod)
{
	const char *name = SAFE_CREATE(CAP4, 8);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	char b[8];
	EXPECT_OK(ipct_shmbuf()->put(p, NULL, 0, now_tmo()));
	EXPECT_OK(ipct_shmbuf()->put(p, "x", 0, now_tmo()));
	SAFE_RC(put_item(p, 5, 1));
	EXPECT_RC(ipct_shmbuf()->get(c, NULL, 0, now_tmo()), 0);
	EXPECT_RC(ipct_shmbuf()->get(c, b, sizeof b, now_tmo()), 0);
	expect_item(c, 8, 5, 1); /* both empty items were queued, in order */
	if (ipct_has(IPC_SHMBUF_CAP_END_OF_STREAM)) {
		/* The last item before the end of the stream: still 0, then IPC_EOD. */
		SAFE_RC(ipct_shmbuf()->put(p, b, 0, now_tmo()));
		SAFE_DETACH(p);
		EXPECT_RC(ipct_shmbuf()->get(c, b, sizeof b, now_tmo()), 0);
		EXPECT_ERR(ipct_shmbuf()->get(c, b, sizeof b, now_tmo()), IPC_EOD);
	}
}

Test(shmbuf, SHMBUF_ITEM_3__every_length_up_to_max_item_comes_back_exactly)
{
	const size_t m = 300;
	const char *name = SAFE_CREATE(CAP4, m);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	/* Three at a time, so that lengths meet in every slot of a small ring. */
	for (size_t len = 0; len <= m; len += 3) {
		size_t n = len + 3 <= m + 1 ? 3 : m + 1 - len;
		for (size_t i = 0; i < n; i++)
			EXPECT_OK(put_item(p, len + i, (unsigned)(len + i)));
		for (size_t i = 0; i < n; i++)
			expect_item(c, m, len + i, (unsigned)(len + i));
	}
}

Test(shmbuf, SHMBUF_ITEM_4__get_into_a_small_buffer_is_emsgsize_and_keeps_the_item)
{
	const char *name = SAFE_CREATE(CAP4, 64);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	unsigned char b[16];
	SAFE_RC(put_item(p, 10, 1));
	SAFE_RC(put_item(p, 3, 2));
	EXPECT_ERR(ipct_shmbuf()->get(c, b, 9, now_tmo()), IPC_EMSGSIZE);
	EXPECT_ERR(ipct_shmbuf()->get(c, b, 5, now_tmo()), IPC_EMSGSIZE); /* not the next one */
	EXPECT_ERR(ipct_shmbuf()->get(c, NULL, 0, now_tmo()), IPC_EMSGSIZE);
	expect_item(c, 10, 10, 1);
	expect_item(c, 5, 3, 2);
}

Test(shmbuf, SHMBUF_ROLE_1__put_via_consumer_and_get_via_producer_are_ebadf_with_no_effect)
{
	const char *name = SAFE_CREATE(CAP4, 16);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	unsigned char b[16];
	SAFE_RC(put_item(p, 16, 1));
	EXPECT_ERR(put_item(c, 16, 2), IPC_EBADF);
	EXPECT_ERR(ipct_shmbuf()->get(p, b, sizeof b, now_tmo()), IPC_EBADF);
	expect_item(c, 16, 16, 1); /* the get via the producer took nothing */
	SAFE_RC(put_item(p, 4, 3));
	expect_item(c, 16, 4, 3); /* the put via the consumer queued nothing */
	EXPECT_ERR(ipct_shmbuf()->get(p, b, sizeof b, now_tmo()), IPC_EBADF); /* empty too */
	EXPECT_ERR(put_item(c, 0, 4), IPC_EBADF);
}

Test(shmbuf, SHMBUF_NB_1__timeout_0_that_cannot_complete_is_eagain_at_once_with_no_effect)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_NONBLOCK);
	const char *name = SAFE_CREATE(CAP4, 8);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	unsigned char b[8];
	unsigned n = ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 1;
	int64_t t0 = ipct_now_ns(), t_get, t_put = 0;
	EXPECT_ERR(ipct_shmbuf()->get(c, b, sizeof b, 0), IPC_EAGAIN);
	t_get = ipct_now_ns() - t0;
	for (unsigned i = 0; i < n; i++)
		SAFE_RC(put_item(p, 8, i));
	if (ipct_has(IPC_SHMBUF_CAP_BOUNDED)) { /* now full */
		t0 = ipct_now_ns();
		EXPECT_ERR(ipct_shmbuf()->put(p, item(8, 99), 8, 0), IPC_EAGAIN);
		t_put = ipct_now_ns() - t0;
	}
	/* Nothing was taken by the refused get, nor added by the refused put. */
	for (unsigned i = 0; i < n; i++)
		expect_item(c, 8, 8, i);
	EXPECT_ERR(ipct_shmbuf()->get(c, b, sizeof b, 0), IPC_EAGAIN);
	cr_assert(t_get < IPCT_MS(ipct_scaled_ms(100)) && t_put < IPCT_MS(ipct_scaled_ms(100)),
		  "refused timeout-0 calls waited: get %lld ms, put %lld ms",
		  (long long)t_get / 1000000, (long long)t_put / 1000000);
}
