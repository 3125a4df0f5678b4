/* SPDX-License-Identifier: MIT */
/*
 * Verify that once every producer has detached, consumers drain what is
 * queued and then get IPC_EOD at once; that the last producer's detach wakes a
 * blocked consumer with IPC_EOD; that there is no IPC_EOD before a producer
 * attached or while one remains; that once every consumer has detached puts
 * fail with -EPIPE at once, and the last consumer's detach wakes a producer.
 * Clauses: SHMBUF-EOS-1, SHMBUF-EOS-2, SHMBUF-EOS-3, SHMBUF-EOS-4, SHMBUF-EOS-5.
 */
#include "ipct.h"

#define EOS_CAP (ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0)

/* Every timeout the subject supports, the ones that could wait last. */
static size_t eos_timeouts(int64_t t[3])
{
	size_t n = 0;
	if (ipct_has(IPC_SHMBUF_CAP_NONBLOCK))
		t[n++] = 0;
	if (ipct_has(IPC_SHMBUF_CAP_TIMED))
		t[n++] = IPCT_MS(ipct_scaled_ms(5000));
	if (ipct_has(IPC_SHMBUF_CAP_BLOCKING))
		t[n++] = IPC_TIMEOUT_INFINITE;
	return n;
}

/* The call returns want, and at once (well before the 5 s timeouts). */
#define EXPECT_AT_ONCE(call, want)                                             \
	do {                                                                       \
		int64_t t0_ = ipct_now_ns();                                           \
		EXPECT_RC(call, want);                                                 \
		int64_t ms_ = (ipct_now_ns() - t0_) / 1000000;                         \
		cr_assert(ms_ < ipct_scaled_ms(1000), "%s waited %lld ms", #call, (long long)ms_); \
	} while (0)

Test(shmbuf, SHMBUF_EOS_1__after_last_producer_detach_drain_then_eod_at_once)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_NONBLOCK);
	const char *name = SAFE_CREATE(EOS_CAP, sizeof(size_t));
	struct ipc_shmbuf *c[2] = { SAFE_CONSUMER(name), SAFE_CONSUMER(name) };
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	size_t got = 0;
	int64_t t[3], n = (int64_t)eos_timeouts(t);
	for (size_t v = 0; v < 3; v++)
		SAFE_PUT(p, &v, sizeof v);
	SAFE_DETACH(p); /* the only producer */
	for (size_t v = 0; v < 3; v++) {
		EXPECT_RC(ipct_shmbuf()->get(c[v % 2], &got, sizeof got, 0), sizeof got);
		cr_assert_eq(got, v, "after the detach, item %zu was %zu", v, got);
	}
	for (int round = 0; round < 3; round++)
		for (int64_t k = 0; k < 2 * n; k++)
			EXPECT_AT_ONCE(ipct_shmbuf()->get(c[k % 2], &got, sizeof got, t[k / 2]), IPC_EOD);
}

struct eos_arg {
	const char *name;
	int role;
	_Atomic long rc; /* 1 until the call returns */
};

/* A party that blocks: a get on the empty buffer, or a put on the full one. */
static int eos_waiter(void *argp)
{
	struct eos_arg *arg = argp;
	struct ipc_shmbuf *h = NULL;
	size_t v = 7;
	if (ipct_shmbuf()->attach(arg->name, arg->role, &h) != 0)
		return 2;
	ipct_party_enter_call();
	arg->rc = arg->role == IPC_SHMBUF_CONSUMER
			  ? ipct_shmbuf()->get(h, &v, sizeof v, IPC_TIMEOUT_INFINITE)
			  : ipct_shmbuf()->put(h, &v, sizeof v, IPC_TIMEOUT_INFINITE);
	ipct_party_leave_call();
	return ipct_shmbuf()->detach(h) == 0 ? 0 : 3;
}

/* Start a waiter of role and check that it blocks. */
static struct ipct_party *eos_blocked(const char *name, int role, struct eos_arg *arg)
{
	*arg = (struct eos_arg){ name, role, 1 };
	struct ipct_party *party = ipct_party_start(eos_waiter, arg);
	ipct_party_wait_blocked(party, 500);
	cr_assert(ipct_party_in_call(party) && arg->rc == 1,
		  "BROKEN: the %s returned %ld instead of blocking",
		  role == IPC_SHMBUF_CONSUMER ? "get" : "put", (long)arg->rc);
	return party;
}

Test(shmbuf, SHMBUF_EOS_2__last_producer_detach_wakes_blocked_consumer_with_eod)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_BLOCKING);
	const char *name = SAFE_CREATE(EOS_CAP, sizeof(size_t));
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	struct eos_arg *arg = ipct_shared(sizeof *arg);
	struct ipct_party *party = eos_blocked(name, IPC_SHMBUF_CONSUMER, arg);
	EXPECT_OK(ipct_shmbuf_detach(p));
	EXPECT_RC(ipct_party_wait(party, 5000), 0);
	EXPECT_ERR(arg->rc, IPC_EOD);
}

Test(shmbuf, SHMBUF_EOS_3__no_eod_before_a_producer_attached_or_while_one_remains)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_NONBLOCK);
	const char *name = SAFE_CREATE(EOS_CAP, sizeof(size_t));
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	size_t v = 5, got = 0;
	EXPECT_ERR(ipct_shmbuf()->get(c, &got, sizeof got, 0), IPC_EAGAIN);
	struct ipc_shmbuf *p1 = SAFE_PRODUCER(name), *p2 = SAFE_PRODUCER(name);
	SAFE_PUT(p1, &v, sizeof v);
	SAFE_DETACH(p1);
	EXPECT_RC(ipct_shmbuf()->get(c, &got, sizeof got, 0), sizeof got);
	EXPECT_ERR(ipct_shmbuf()->get(c, &got, sizeof got, 0), IPC_EAGAIN);
	/* The check above can fail: the last producer's detach does end it. */
	SAFE_DETACH(p2);
	cr_assert_eq(ipct_shmbuf()->get(c, &got, sizeof got, 0), IPC_EOD,
		     "BROKEN: no IPC_EOD even after the last producer detached");
}

Test(shmbuf, SHMBUF_EOS_4__put_after_last_consumer_detach_is_epipe_at_once)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_END_OF_STREAM);
	const char *name = SAFE_CREATE(EOS_CAP, sizeof(size_t));
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	size_t v = 9, got = 0;
	int64_t t[3];
	SAFE_DETACH(c);
	for (size_t k = 0, n = eos_timeouts(t); k < n; k++)
		EXPECT_AT_ONCE(ipct_shmbuf()->put(p, &v, sizeof v, t[k]), IPC_EPIPE);
	/* Nothing was queued: a consumer attaching now finds the buffer empty. */
	c = SAFE_CONSUMER(name);
	if (ipct_has(IPC_SHMBUF_CAP_NONBLOCK))
		EXPECT_ERR(ipct_shmbuf()->get(c, &got, sizeof got, 0), IPC_EAGAIN);
}

Test(shmbuf, SHMBUF_EOS_5__last_consumer_detach_wakes_blocked_producer_with_epipe)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_BLOCKING |
		     IPC_SHMBUF_CAP_BOUNDED);
	const char *name = SAFE_CREATE(1, sizeof(size_t));
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	size_t v = 3;
	SAFE_RC(ipct_shmbuf()->put(p, &v, sizeof v, IPC_TIMEOUT_INFINITE));
	struct eos_arg *arg = ipct_shared(sizeof *arg);
	struct ipct_party *party = eos_blocked(name, IPC_SHMBUF_PRODUCER, arg);
	EXPECT_OK(ipct_shmbuf_detach(c));
	EXPECT_RC(ipct_party_wait(party, 5000), 0);
	EXPECT_ERR(arg->rc, IPC_EPIPE);
}
