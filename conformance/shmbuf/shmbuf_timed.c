/* SPDX-License-Identifier: MIT */
/*
 * Verify that timed operations honour their timeout: a timed get on an empty
 * or put on a full buffer fails with -ETIMEDOUT no earlier than the timeout
 * and within a generous bound after it, has no effect, a timed get returns an
 * item put before its deadline, and an operation that can complete at once
 * does so whatever its timeout, 1 ns included.
 * Clauses: SHMBUF-TMO-1, SHMBUF-TMO-2, SHMBUF-TMO-3, SHMBUF-TMO-4, SHMBUF-TMO-5.
 */
#include "ipct.h"

#define LONG IPCT_MS(ipct_scaled_ms(5000)) /* a timeout never reached on success */

/* Odd values on purpose: a subject that rounds to milliseconds or seconds
 * returns before the lower bound. */
static const int64_t timeouts[] = { 1, 1500000, IPCT_MS(20) + 1, IPCT_MS(150) };

/* The call returns -ETIMEDOUT, no earlier than timeout, within a bound after. */
#define EXPECT_TIMES_OUT(call, timeout)                                        \
	do {                                                                       \
		int64_t t0_ = ipct_now_ns();                                           \
		EXPECT_ERR(call, IPC_ETIMEDOUT);                                       \
		int64_t el_ = ipct_now_ns() - t0_;                                     \
		cr_assert(el_ >= (timeout), "timed out after %lld ns, before its timeout of %lld ns", \
			  (long long)el_, (long long)(timeout));                       \
		cr_assert(el_ <= (timeout) + IPCT_MS(ipct_scaled_ms(1000)),            \
			  "timed out %lld ms after its timeout of %lld ns",             \
			  (long long)((el_ - (timeout)) / 1000000), (long long)(timeout)); \
	} while (0)

Test(shmbuf, SHMBUF_TMO_1__timed_get_on_empty_times_out_within_bounds)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_TIMED);
	const char *name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0, sizeof(size_t));
	SAFE_PRODUCER(name); /* attached throughout: the stream stays open */
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	size_t got;
	for (size_t i = 0; i < sizeof timeouts / sizeof *timeouts; i++)
		EXPECT_TIMES_OUT(ipct_shmbuf()->get(c, &got, sizeof got, timeouts[i]), timeouts[i]);
}

Test(shmbuf, SHMBUF_TMO_2__timed_put_on_full_times_out_within_bounds)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_TIMED | IPC_SHMBUF_CAP_BOUNDED);
	const char *name = SAFE_CREATE(2, sizeof(size_t));
	SAFE_CONSUMER(name); /* attached throughout: puts never see -EPIPE */
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	size_t v = 1;
	for (int i = 0; i < 2; i++)
		SAFE_RC(ipct_shmbuf()->put(p, &v, sizeof v, LONG));
	for (size_t i = 0; i < sizeof timeouts / sizeof *timeouts; i++)
		EXPECT_TIMES_OUT(ipct_shmbuf()->put(p, &v, sizeof v, timeouts[i]), timeouts[i]);
}

struct tmo3_arg {
	const char *name;
	_Atomic long rc; /* 1 until the get returns */
	size_t item;
};

static int tmo3_consumer(void *argp)
{
	struct tmo3_arg *arg = argp;
	struct ipc_shmbuf *c = NULL;
	if (ipct_shmbuf()->attach(arg->name, IPC_SHMBUF_CONSUMER, &c) != 0)
		return 2;
	ipct_party_enter_call();
	arg->rc = ipct_shmbuf()->get(c, &arg->item, sizeof arg->item, IPCT_MS(5000));
	ipct_party_leave_call();
	return ipct_shmbuf()->detach(c) == 0 ? 0 : 3;
}

Test(shmbuf, SHMBUF_TMO_3__timed_get_returns_item_put_before_deadline)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_TIMED);
	const char *name = SAFE_CREATE(ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0, sizeof(size_t));
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	struct tmo3_arg *arg = ipct_shared(sizeof *arg);
	arg->name = name;
	arg->rc = 1;
	struct ipct_party *party = ipct_party_start(tmo3_consumer, arg);
	ipct_party_wait_blocked(party, 500);
	cr_assert(ipct_party_in_call(party) && arg->rc == 1,
		  "timed get on an empty buffer returned %ld instead of waiting", (long)arg->rc);
	size_t item = 0x7100e3;
	SAFE_RC(ipct_shmbuf()->put(p, &item, sizeof item, LONG));
	/* Well before its 5 s timeout: the put, not the deadline, ends the wait. */
	int st = ipct_party_wait(party, 2500);
	cr_assert(st == 0, "the consumer %s (status %d)",
		  st == -ETIMEDOUT ? "was still waiting 2.5 s after the put" : "failed", st);
	EXPECT_RC(arg->rc, sizeof item);
	cr_assert_eq(arg->item, item, "the timed get returned %#zx, not the item put", arg->item);
}

Test(shmbuf, SHMBUF_TMO_4__timed_out_put_and_get_leave_contents_unchanged)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_TIMED | IPC_SHMBUF_CAP_BOUNDED);
	const char *name = SAFE_CREATE(3, sizeof(size_t));
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	size_t v, got = 0;
	for (v = 1; v <= 3; v++)
		SAFE_RC(ipct_shmbuf()->put(p, &v, sizeof v, LONG));
	v = 99;
	EXPECT_ERR(ipct_shmbuf()->put(p, &v, sizeof v, IPCT_MS(30)), IPC_ETIMEDOUT);
	for (v = 1; v <= 3; v++) {
		EXPECT_RC(ipct_shmbuf()->get(c, &got, sizeof got, LONG), sizeof got);
		cr_assert_eq(got, v, "after a timed-out put, item %zu was %zu", v, got);
	}
	/* The timed-out put queued nothing, so the buffer is now empty. */
	EXPECT_ERR(ipct_shmbuf()->get(c, &got, sizeof got, IPCT_MS(30)), IPC_ETIMEDOUT);
	/* The timed-out get took nothing: neither a later item nor a slot. */
	for (v = 4; v <= 6; v++)
		EXPECT_OK(ipct_shmbuf()->put(p, &v, sizeof v, IPCT_MS(30)));
	for (v = 4; v <= 6; v++) {
		EXPECT_RC(ipct_shmbuf()->get(c, &got, sizeof got, IPCT_MS(30)), sizeof got);
		cr_assert_eq(got, v, "after a timed-out get, item %zu was %zu", v, got);
	}
	EXPECT_ERR(ipct_shmbuf()->get(c, &got, sizeof got, IPCT_MS(30)), IPC_ETIMEDOUT);
}

Test(shmbuf, SHMBUF_TMO_5__operation_that_can_complete_does_so_with_1ns_timeout)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_TIMED);
	const size_t cap = ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0;
	const char *name = SAFE_CREATE(cap, sizeof(size_t));
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	size_t got = 0;
	/* Up to the last free slot, then down to the last queued item. */
	for (size_t v = 0; v < (cap ? cap : 4); v++)
		EXPECT_OK(ipct_shmbuf()->put(p, &v, sizeof v, 1));
	for (size_t v = 0; v < (cap ? cap : 4); v++) {
		EXPECT_RC(ipct_shmbuf()->get(c, &got, sizeof got, 1), sizeof got);
		cr_assert_eq(got, v, "item %zu was %zu", v, got);
	}
}
