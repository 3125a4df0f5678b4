/* SPDX-License-Identifier: MIT */
/*
 * Verify that a bounded buffer holds exactly its capacity: n items go in
 * without waiting, the next one is refused (timeout 0) or waits (blocking)
 * until a consumer makes room, and unsupported capacities are refused.
 * Clauses: SHMBUF-CAP-1, SHMBUF-CAP-2, SHMBUF-CAP-3, SHMBUF-CAP-4.
 */
#include "ipct.h"

IPCT_SUITE(shmbuf, 30);

/* Fill a fresh buffer of capacity n with timeout-0 puts; returns the producer. */
static struct ipc_shmbuf *fill(const char *name, size_t n)
{
	struct ipc_shmbuf *p = SAFE_PRODUCER(name);
	for (size_t i = 0; i < n; i++)
		EXPECT_OK(ipct_shmbuf()->put(p, &i, sizeof i, 0));
	return p;
}

Test(shmbuf, SHMBUF_CAP_1__accepts_exactly_capacity_items_then_eagain)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_BOUNDED | IPC_SHMBUF_CAP_NONBLOCK);
	static const size_t caps[] = { 1, 3, 64, 1000 };
	for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
		const char *name = SAFE_CREATE(caps[k], sizeof(size_t));
		struct ipc_shmbuf *c = SAFE_CONSUMER(name);
		struct ipc_shmbuf *p = fill(name, caps[k]);
		size_t extra = 12345, got = 0;
		EXPECT_ERR(ipct_shmbuf()->put(p, &extra, sizeof extra, 0), IPC_EAGAIN);
		for (size_t i = 0; i < caps[k]; i++)
			EXPECT_RC(ipct_shmbuf()->get(c, &got, sizeof got, 0), sizeof got);
		/* The refused item must not have been queued behind the others. */
		EXPECT_ERR(ipct_shmbuf()->get(c, &got, sizeof got, 0), IPC_EAGAIN);
	}
}

Test(shmbuf, SHMBUF_CAP_2__one_get_from_full_makes_room_for_exactly_one)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_BOUNDED | IPC_SHMBUF_CAP_NONBLOCK);
	const char *name = SAFE_CREATE(4, sizeof(size_t));
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	struct ipc_shmbuf *p = fill(name, 4);
	size_t v = 7;
	EXPECT_RC(ipct_shmbuf()->get(c, &v, sizeof v, 0), sizeof v);
	EXPECT_OK(ipct_shmbuf()->put(p, &v, sizeof v, 0));
	EXPECT_ERR(ipct_shmbuf()->put(p, &v, sizeof v, 0), IPC_EAGAIN);
}

struct cap3_arg {
	const char *name;
	_Atomic int put_rc;
};

static int cap3_producer(void *argp)
{
	struct cap3_arg *arg = argp;
	struct ipc_shmbuf *p = NULL;
	size_t last = 99;
	if (ipct_shmbuf()->attach(arg->name, IPC_SHMBUF_PRODUCER, &p) != 0)
		return 2;
	ipct_party_enter_call();
	arg->put_rc = ipct_shmbuf()->put(p, &last, sizeof last, IPC_TIMEOUT_INFINITE);
	ipct_party_leave_call();
	return ipct_shmbuf()->detach(p) == 0 ? 0 : 3;
}

Test(shmbuf, SHMBUF_CAP_3__blocking_put_on_full_waits_for_a_get)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_BOUNDED | IPC_SHMBUF_CAP_BLOCKING);
	const char *name = SAFE_CREATE(2, sizeof(size_t));
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	struct ipc_shmbuf *p = fill(name, 2);
	struct cap3_arg *arg = ipct_shared(sizeof *arg);
	arg->name = name;
	arg->put_rc = 1;
	struct ipct_party *party = ipct_party_start(cap3_producer, arg);
	ipct_party_wait_blocked(party, 500);
	cr_assert(ipct_party_in_call(party) && arg->put_rc == 1,
		  "put on a full buffer returned %d instead of blocking", arg->put_rc);
	size_t got = 0;
	for (size_t want = 0; want < 3; want++) {
		EXPECT_RC(ipct_shmbuf()->get(c, &got, sizeof got, IPC_TIMEOUT_INFINITE), sizeof got);
		cr_assert_eq(got, want == 2 ? 99 : want, "item %zu was %zu", want, got);
	}
	EXPECT_RC(ipct_party_wait(party, 5000), 0);
	EXPECT_OK(arg->put_rc);
	(void)p;
}

Test(shmbuf, SHMBUF_CAP_4__unsupported_capacity_is_einval_supported_range_works)
{
	struct ipc_shmbuf_attr attr = { 0, 8, 0 };
	if (!ipct_has(IPC_SHMBUF_CAP_UNBOUNDED))
		EXPECT_ERR(ipct_shmbuf()->create(ipct_name(), &attr), IPC_EINVAL);
	if (!ipct_has(IPC_SHMBUF_CAP_BOUNDED))
		return;
	for (size_t n = 1; n <= 1024; n = n * 2 + 1) {
		attr.capacity = n;
		EXPECT_OK(ipct_shmbuf()->create(ipct_name(), &attr));
	}
}
