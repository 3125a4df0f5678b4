/* SPDX-License-Identifier: MIT */
/*
 * Verify that a positive timeout bounds recv on an empty stream and send on
 * a full one (-ETIMEDOUT, never sooner than asked) and leaves the stream
 * intact, and that an infinite recv blocks until a frame comes, then returns
 * it whole.
 * Clauses: FRAMING-TIME-1, FRAMING-TIME-2.
 */
#include "ipct.h"

#define OPS        ipct_framing()
#define PARTY_OPS  ((const struct ipc_framing_ops *)ipct_subject()->ops)
#define LEN        4000
#define FILL_LIMIT 100000

/* Call the expression, expect -ETIMEDOUT after at least ms, at most 5 s. */
#define EXPECT_TIMEOUT(call, ms)                                                                   \
	do {                                                                                       \
		int64_t t0_ = ipct_now_ns();                                                       \
		EXPECT_ERR(call, IPC_ETIMEDOUT);                                                   \
		int64_t dt_ = ipct_now_ns() - t0_;                                                 \
		cr_assert(dt_ >= IPCT_MS(ms), "timed out after %lld ns", (long long)dt_);          \
		cr_assert(dt_ < IPCT_MS(ipct_scaled_ms(5000)), "took %lld ns", (long long)dt_);    \
	} while (0)

struct rx_arg {
	int fd;
	uint32_t count; /* frames of LEN bytes, seq 0.., then EOD */
};

static int receiver(void *argp)
{
	struct rx_arg *a = argp;
	struct ipc_framing_rx *rx;
	struct ipc_framing_frame f;
	if (PARTY_OPS->rx_open(a->fd, LEN, &rx) < 0)
		return 255;
	ipct_party_enter_call();
	uint32_t i = 0;
	for (; i < a->count; i++)
		if (PARTY_OPS->recv(rx, &f, -1) != LEN || !ipct_framing_is(&f, 2, 0, LEN, i))
			break;
	int ok = i == a->count && PARTY_OPS->recv(rx, &f, -1) == IPC_EOD;
	ipct_party_leave_call();
	PARTY_OPS->rx_close(rx);
	return ok ? 0 : 1;
}

Test(framing, FRAMING_TIME_1__a_positive_timeout_bounds_the_wait)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	static unsigned char payload[LEN];
	struct ipc_framing_frame f = {2, 0, LEN, payload};
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, LEN);
	EXPECT_TIMEOUT(OPS->recv(rx, &f, IPCT_MS(50)), 50);
	struct ipc_framing_tx *tx = ipct_framing_tx(wr);
	struct rx_arg a = {rd, 0};
	ssize_t rc;
	while (ipct_pattern(payload, LEN, a.count, 0), f.payload = payload,
	       (rc = OPS->send(tx, &f, 0)) == LEN && a.count < FILL_LIMIT)
		a.count++;
	cr_assert_eq(rc, IPC_EAGAIN, "BROKEN: filling ended with %ld", (long)rc);
	EXPECT_TIMEOUT(OPS->send(tx, &f, IPCT_MS(50)), 50);
	struct ipct_party *p = ipct_thread_start(receiver, &a);
	EXPECT_RC(OPS->flush(tx, -1), 0);
	ipct_framing_close(wr);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}

Test(framing, FRAMING_TIME_2__an_infinite_recv_blocks_until_a_frame_comes)
{
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	static unsigned char payload[LEN];
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	struct rx_arg a = {rd, 1};
	struct ipct_party *p = ipct_thread_start(receiver, &a);
	cr_assert(ipct_party_wait_blocked(p, 5000), "recv did not block on an empty stream");
	ipct_pattern(payload, LEN, 0, 0);
	struct ipc_framing_frame f = {2, 0, LEN, payload};
	SAFE_RC(OPS->send(ipct_framing_tx(wr), &f, -1));
	ipct_framing_close(wr);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}
