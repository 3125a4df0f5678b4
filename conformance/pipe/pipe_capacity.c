/* SPDX-License-Identifier: MIT */
/*
 * Verify that the capacity reported is the same on both ends and true (an
 * empty pipe takes exactly that), that set_capacity rounds as Linux does and
 * returns what it set, that a changed capacity is what the pipe then holds,
 * that shrinking below the queued bytes is -EBUSY and absurd sizes -EINVAL,
 * both without any effect.
 * Clauses: PIPE-CAP-1, PIPE-CAP-2, PIPE-CAP-3, PIPE-CAP-4, PIPE-CAP-6.
 */
#include <stdint.h>

#include "ipct.h"

#define OPS ipct_pipe()

Test(pipe, PIPE_CAP_1__capacity_is_the_same_on_both_ends_and_true)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CAPACITY | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	int cap = OPS->get_capacity(rd);
	EXPECT_RC(OPS->get_capacity(wr), cap);
	cr_assert(cap >= IPC_PIPE_BUF, "capacity %d is below PIPE_BUF", cap);
	EXPECT_RC(ipct_pipe_room(rd, wr), cap);
}

Test(pipe, PIPE_CAP_2__set_capacity_rounds_to_power_of_two_pages)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CAPACITY);
	struct ipc_pipe *rd, *wr;
	const size_t ask[] = { 0, 4096, 5000, 65537, 4097 };
	const int want[] = { 4096, 4096, 8192, 131072, 8192 };
	SAFE_PIPE(&rd, &wr);
	for (int i = 0; i < 5; i++) {
		struct ipc_pipe *setter = i % 2 ? rd : wr;
		int rc = OPS->set_capacity(setter, ask[i]);
		cr_assert_eq(rc, want[i], "set_capacity(%s end, %zu) returned %d, expected %d",
			     i % 2 ? "read" : "write", ask[i], rc, want[i]);
		EXPECT_RC(OPS->get_capacity(rd), want[i]);
		EXPECT_RC(OPS->get_capacity(wr), want[i]);
	}
}

Test(pipe, PIPE_CAP_3__a_changed_capacity_is_what_the_pipe_holds)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CAPACITY | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	const size_t ask[] = { 3 * 4096, 4096, 65536, 8192 }; /* grow and shrink */
	SAFE_PIPE(&rd, &wr);
	for (int i = 0; i < 4; i++) {
		int cap = OPS->set_capacity(i % 2 ? rd : wr, ask[i]);
		cr_assert(cap >= (int)ask[i], "set_capacity(%zu) returned %d", ask[i], cap);
		EXPECT_RC(ipct_pipe_room(rd, wr), cap);
	}
}

Test(pipe, PIPE_CAP_4__shrinking_below_the_queued_bytes_is_ebusy)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CAPACITY);
	struct ipc_pipe *rd, *wr;
	unsigned char buf[5000];
	SAFE_PIPE(&rd, &wr);
	int cap = (int)SAFE_RC(OPS->set_capacity(wr, 16384));
	SAFE_RC(ipct_pipe_write_pattern(wr, 5000, 2, 0));
	EXPECT_ERR(OPS->set_capacity(rd, 4096), IPC_EBUSY);
	EXPECT_RC(OPS->get_capacity(wr), cap);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, 5000), 5000);
	cr_assert_eq(ipct_pattern_check(buf, 5000, 2, 0), -1, "the refused shrink changed the bytes");
	SAFE_RC(ipct_pipe_write_pattern(wr, 100, 2, 5000));
	EXPECT_RC(OPS->set_capacity(rd, 4096), 4096); /* the 100 bytes still fit */
	EXPECT_RC(ipct_pipe_read_full(rd, buf, 100), 100);
	cr_assert_eq(ipct_pattern_check(buf, 100, 2, 5000), -1, "the shrink changed the bytes");
}

Test(pipe, PIPE_CAP_6__sizes_beyond_any_limit_are_einval_without_effect)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CAPACITY);
	struct ipc_pipe *rd, *wr;
	const size_t ask[] = { (size_t)1 << 40, SIZE_MAX, ((size_t)1 << 32) + 4096 };
	SAFE_PIPE(&rd, &wr);
	int cap = (int)SAFE_RC(OPS->get_capacity(wr));
	for (int i = 0; i < 3; i++) {
		int rc = OPS->set_capacity(wr, ask[i]);
		cr_assert_eq(rc, IPC_EINVAL, "set_capacity(%#zx) returned %d, not IPC_EINVAL", ask[i], rc);
		EXPECT_RC(OPS->get_capacity(rd), cap);
	}
}
