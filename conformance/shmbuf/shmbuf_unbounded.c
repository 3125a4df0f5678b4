/* SPDX-License-Identifier: MIT */
/*
 * Verify that an unbounded buffer never makes its producer wait, that its memory follows the
 * items queued (grown while they wait, given back once taken, never exhausted by a long stream
 * with few queued) and that refused memory fails a put at once, harmlessly. Clauses:
 * SHMBUF-UNB-1, -2, -3, -4. Fixture and timeout: the suite's, declared in shmbuf_capacity.c.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "ipct.h"

#define MIB (1024 * 1024)
#define NOW /* a timeout for calls done at once */ (ipct_has(IPC_SHMBUF_CAP_NONBLOCK) ? 0 : \
	ipct_has(IPC_SHMBUF_CAP_TIMED) ? IPCT_MS(1000) : IPC_TIMEOUT_INFINITE)

static unsigned char item[256 * 1024], got[256 * 1024];

/* Put item seq of len bytes (a self-checking one): the subject's result. */
static int put_seq(struct ipc_shmbuf *p, size_t len, uint32_t seq, int64_t tmo)
{
	return ipct_shmbuf()->put(p, item, ipct_item_fill(item, len, 0, seq), tmo);
}

/* The next item got through c is item seq, intact. */
static void expect_seq(struct ipc_shmbuf *c, uint32_t seq)
{
	uint32_t who, s = ~0u;
	ssize_t n = ipct_shmbuf()->get(c, got, sizeof got, NOW);
	cr_assert(n > 0 && ipct_item_check(got, (size_t)n, &who, &s) == 0 && s == seq,
		  "get returned %zd: item %u, where item %u was due", n, s, seq);
}

Test(shmbuf, SHMBUF_UNB_1__producer_never_waits_100000_puts_then_got_in_order)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_UNBOUNDED | IPC_SHMBUF_CAP_NONBLOCK);
	const char *name = ipct_shmbuf_create(0, 16, 0);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	for (uint32_t seq = 0; seq < 100000; seq++) /* timeout 0, and nothing taken */
		EXPECT_OK(put_seq(p, 16, seq, 0));
	for (uint32_t seq = 0; seq < 100000; seq++)
		expect_seq(c, seq);
	EXPECT_ERR(ipct_shmbuf()->get(c, got, sizeof got, 0), IPC_EAGAIN);
}

Test(shmbuf, SHMBUF_UNB_2__stream_of_20_times_the_limit_with_few_queued_never_enomem)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_UNBOUNDED | IPC_SHMBUF_CAP_MEM_LIMIT);
	const size_t limit = MIB, max_item = 16 * 1024;
	const char *name = ipct_shmbuf_create(0, max_item, limit);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	uint64_t streamed = 0;
	uint32_t put = 0, taken = 0;
	char t[48];
	/* At most 4 queued, of sizes from 16 bytes to max_item. */
	while (streamed < 20 * limit) {
		size_t len = 16 + (put * 7919u) % (max_item - 15);
		int rc = put_seq(p, len, put, NOW);
		if (rc != 0)
			cr_assert_fail("put returned %s after %llu bytes streamed, %u queued",
				       ipct_rc_text(rc, t, 48), (unsigned long long)streamed,
				       put - taken);
		streamed += len;
		if (++put - taken == 4)
			expect_seq(c, taken++);
	}
	while (taken < put)
		expect_seq(c, taken++);
}

/* Blocks allocated to the segment's file, in bytes. */
static long long allocated(const char *name)
{
	char path[IPC_NAME_MAX + 16];
	struct stat st;
	snprintf(path, sizeof path, "/dev/shm%s", name);
	if (stat(path, &st) != 0)
		cr_assert_fail("BROKEN: stat %s failed", path);
	return (long long)st.st_blocks * 512;
}

Test(shmbuf, SHMBUF_UNB_3__segment_memory_grows_with_queued_items_and_is_given_back)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_UNBOUNDED | IPC_SHMBUF_CAP_SYSTEM_NAME);
	const size_t len = 64 * 1024, count = 16 * MIB / len;
	const char *name = ipct_shmbuf_create(0, len, 0);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	long long empty = allocated(name);
	for (uint32_t seq = 0; seq < count; seq++)
		SAFE_RC(put_seq(p, len, seq, NOW));
	long long full = allocated(name);
	cr_assert(full - empty >= 12 * MIB, "with 16 MiB queued the segment grew by %lld KiB only",
		  (full - empty) / 1024);
	for (uint32_t seq = 0; seq < count; seq++)
		expect_seq(c, seq);
	long long drained = allocated(name);
	cr_assert(drained - empty <= 2 * MIB, "drained, it holds %lld KiB more than when empty "
		  "(%lld KiB at the peak)", (drained - empty) / 1024, (full - empty) / 1024);
}

struct unb4_arg {
	const char *name;
	_Atomic int rc;
};

/* A producer whose put has an infinite timeout, on a buffer with no memory left. */
static int unb4_producer(void *argp)
{
	struct unb4_arg *a = argp;
	struct ipc_shmbuf *h = NULL;
	if (ipct_shmbuf()->attach(a->name, IPC_SHMBUF_PRODUCER, &h) != 0)
		return 1;
	a->rc = put_seq(h, 4096, 999999, IPC_TIMEOUT_INFINITE);
	return ipct_shmbuf()->detach(h) == 0 ? 0 : 2;
}

Test(shmbuf, SHMBUF_UNB_4__refused_memory_is_enomem_at_once_and_harmless)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_UNBOUNDED | IPC_SHMBUF_CAP_MEM_LIMIT | IPC_SHMBUF_CAP_NONBLOCK);
	const size_t limit = MIB, len = 4096;
	const char *name = ipct_shmbuf_create(0, len, limit);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	uint32_t n = 0, again = 0;
	int put_past_the_limit; /* within the limit's worth of items, at the latest */
	while ((put_past_the_limit = put_seq(p, len, n, 0)) == 0 && n <= limit / len)
		n++;
	EXPECT_ERR(put_past_the_limit, IPC_ENOMEM);
	int64_t t0 = ipct_now_ns(); /* no wait, whatever the timeout */
	EXPECT_ERR(put_seq(p, len, n, 0), IPC_ENOMEM);
	if (ipct_has(IPC_SHMBUF_CAP_TIMED))
		EXPECT_ERR(put_seq(p, len, n, IPCT_MS(2000)), IPC_ENOMEM);
	cr_assert(ipct_now_ns() - t0 < IPCT_MS(ipct_scaled_ms(200)), "refused puts waited");
	if (ipct_has(IPC_SHMBUF_CAP_BLOCKING)) {
		struct unb4_arg *a = ipct_shared(sizeof *a);
		*a = (struct unb4_arg){ name, 1 };
		int st = ipct_party_wait(ipct_party_start(unb4_producer, a), 1000);
		cr_assert(st == 0 && a->rc == IPC_ENOMEM, "a put with infinite timeout gave %d "
			  "(1: still waiting), party status %d: not IPC_ENOMEM at once", a->rc, st);
	}
	for (uint32_t seq = 0; seq < n; seq++)
		expect_seq(c, seq); /* intact, and nothing refused was queued */
	EXPECT_ERR(ipct_shmbuf()->get(c, got, sizeof got, 0), IPC_EAGAIN);
	while (again < n && put_seq(p, len, again, 0) == 0)
		again++;
	/* Memory is given back: most of it, allowing for the subject's granularity. */
	cr_assert(again >= 1 && again >= n / 2, "drained, the buffer took only %u of the %u items "
		  "it held when full", again, n);
}
