/* SPDX-License-Identifier: MIT */
/*
 * Verify that a write end inherited by a child keeps the end of file away
 * from the parent until the child closes it, after its bytes; and that two
 * pipes carry a long two-way conversation between parent and child, ended by
 * closes in turn.
 * Clauses: PIPE-EOF-5, PIPE-DUPLEX-1.
 */
#include "ipct.h"

#define OPS ipct_pipe()
#define ROUNDS 300
#define MAX_MSG 9001 /* above PIPE_BUF and the one-page capacity */

struct fork_arg {
	struct ipc_pipe *in, *out;
	struct ipct_event *go;
};

static int write_then_close(void *argp)
{
	struct fork_arg *a = argp;
	ipct_pipe_keep(a->out, NULL);
	if (ipct_event_wait(a->go, 5000) != 0)
		return 2;
	if (OPS->write(a->out, "from the child", 14) != 14)
		return 1;
	return ipct_pipe_close(a->out) == 0 ? 0 : 3;
}

Test(pipe, PIPE_EOF_5__write_end_held_by_a_child_keeps_end_of_file_away)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	struct fork_arg *a = ipct_shared(sizeof *a);
	char buf[32];
	SAFE_PIPE(&rd, &wr);
	*a = (struct fork_arg){ .out = wr, .go = ipct_event_new() };
	struct ipct_party *p = ipct_process_start(write_then_close, a);
	SAFE_CLOSE(wr); /* the child's copy is the one writer left */
	SAFE_NONBLOCK(rd, 1);
	EXPECT_ERR(OPS->read(rd, buf, sizeof buf), IPC_EAGAIN);
	ipct_event_set(a->go);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 14);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
}

static size_t msg_len(int round)
{
	return 1 + (size_t)(round * 4099) % MAX_MSG;
}

/* The child's side: read each message whole, send it back inverted. */
static int echo_inverted(void *argp)
{
	struct fork_arg *a = argp;
	static unsigned char buf[MAX_MSG + 1];
	ipct_pipe_keep(a->in, a->out);
	for (int r = 0; r < ROUNDS; r++) {
		size_t len = msg_len(r);
		if (ipct_pipe_read_full(a->in, buf, len) != (ssize_t)len)
			return 1;
		for (size_t i = 0; i < len; i++)
			buf[i] ^= 0x5a;
		if (OPS->write(a->out, buf, len) != (ssize_t)len)
			return 2;
	}
	if (OPS->read(a->in, buf, sizeof buf) != 0)
		return 3; /* the parent's close must end this stream */
	return ipct_pipe_close(a->out) == 0 ? 0 : 4;
}

Test(pipe, PIPE_DUPLEX_1__parent_and_child_converse_over_two_pipes)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *down_rd, *down_wr, *up_rd, *up_wr;
	struct fork_arg *a = ipct_shared(sizeof *a);
	static unsigned char msg[MAX_MSG + 1], back[MAX_MSG + 1];
	SAFE_PIPE(&down_rd, &down_wr);
	SAFE_PIPE(&up_rd, &up_wr);
	*a = (struct fork_arg){ .in = down_rd, .out = up_wr };
	struct ipct_party *p = ipct_process_start(echo_inverted, a);
	SAFE_CLOSE(down_rd);
	SAFE_CLOSE(up_wr);
	for (int r = 0; r < ROUNDS; r++) {
		size_t len = msg_len(r);
		ipct_pattern(msg, len, 20, (uint64_t)r << 16);
		EXPECT_RC(OPS->write(down_wr, msg, len), len);
		EXPECT_RC(ipct_pipe_read_full(up_rd, back, len), len);
		for (size_t i = 0; i < len; i++)
			cr_assert_eq(back[i], msg[i] ^ 0x5a, "round %d: byte %zu of %zu came back wrong",
				     r, i, len);
	}
	SAFE_CLOSE(down_wr);
	EXPECT_RC(OPS->read(up_rd, back, sizeof back), 0);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}
