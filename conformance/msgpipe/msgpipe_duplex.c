/* SPDX-License-Identifier: MIT */
/*
 * Verify that both directions of one instance flow at once, each keeping
 * its order, and that concurrent senders on one handle never split or mix
 * messages (self-checking items: a torn or merged message fails its check).
 * Clauses: MSGPIPE-DUPLEX-1, MSGPIPE-DUPLEX-2.
 */
#include "ipct.h"

#define OPS ipct_msgpipe()
#define DUPLEX_N 3000 /* per direction, up to 3 KiB each: megabytes */
#define SENDERS 4
#define PER_SENDER 600

struct flow {
	struct ipc_msgpipe *h;
	uint32_t stream;
	_Atomic long bad; /* index of the first bad message + 1, 0 when none */
};

static size_t flow_len(uint32_t i)
{
	return 16 + (i * 2654435761u) % 3000u;
}

static int flow_send(void *argp)
{
	struct flow *f = argp;
	unsigned char buf[3100];
	for (uint32_t i = 0; i < DUPLEX_N; i++) {
		ipct_item_fill(buf, flow_len(i), f->stream, i);
		if (OPS->send(f->h, buf, flow_len(i)) != (ssize_t)flow_len(i))
			return 1;
	}
	return 0;
}

static int flow_recv(void *argp)
{
	struct flow *f = argp;
	unsigned char buf[3100];
	for (uint32_t i = 0; i < DUPLEX_N; i++) {
		uint32_t who, seq;
		ssize_t n = OPS->recv(f->h, buf, sizeof buf);
		if (n != (ssize_t)flow_len(i) || ipct_item_check(buf, (size_t)n, &who, &seq) != 0 ||
		    who != f->stream || seq != i) {
			f->bad = i + 1;
			return 1;
		}
	}
	return 0;
}

Test(msgpipe, MSGPIPE_DUPLEX_1__both_directions_flow_at_once)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	struct flow up_tx = { cli, 1, 0 }, up_rx = { end, 1, 0 };
	struct flow down_tx = { end, 2, 0 }, down_rx = { cli, 2, 0 };
	struct ipct_party *p[4] = {
		ipct_thread_start(flow_send, &up_tx), ipct_thread_start(flow_send, &down_tx),
		ipct_thread_start(flow_recv, &up_rx), ipct_thread_start(flow_recv, &down_rx),
	};
	const char *what[4] = { "client send", "server send", "server recv", "client recv" };
	for (int i = 0; i < 4; i++) {
		int st = ipct_party_wait(p[i], 20000);
		cr_assert(st == 0, "%s: %s (up: bad message %ld, down: bad message %ld)", what[i],
			  st == -ETIMEDOUT ? "stuck" : "failed", (long)up_rx.bad - 1,
			  (long)down_rx.bad - 1);
	}
}

struct sender {
	struct ipc_msgpipe *h;
	uint32_t id;
};

static int many_send(void *argp)
{
	struct sender *s = argp;
	unsigned char buf[IPC_MSGPIPE_MSG_DEFAULT];
	for (uint32_t i = 0; i < PER_SENDER; i++) {
		size_t len = 16 + (i * 7919u + s->id * 131u) % (sizeof buf - 15);
		ipct_item_fill(buf, len, s->id, i);
		if (OPS->send(s->h, buf, len) != (ssize_t)len)
			return 1;
	}
	return 0;
}

Test(msgpipe, MSGPIPE_DUPLEX_2__concurrent_senders_on_one_handle_keep_messages_whole)
{
	IPCT_REQUIRE(IPC_MSGPIPE_CAP_MULTI_SENDER | IPC_MSGPIPE_CAP_BLOCKING);
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end;
	unsigned char buf[2 * IPC_MSGPIPE_MSG_DEFAULT];
	uint32_t next[SENDERS] = { 0 };
	struct sender s[SENDERS];
	struct ipct_party *p[SENDERS];
	ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	for (uint32_t i = 0; i < SENDERS; i++) {
		s[i] = (struct sender){ cli, i };
		p[i] = ipct_thread_start(many_send, &s[i]);
	}
	for (int k = 0; k < SENDERS * PER_SENDER; k++) {
		uint32_t who = SENDERS, seq = 0;
		ssize_t n = OPS->recv(end, buf, sizeof buf);
		cr_assert(n >= 0 && ipct_item_check(buf, (size_t)n, &who, &seq) == 0 && who < SENDERS,
			  "message %d (recv returned %ld) is torn or mixed", k, (long)n);
		cr_assert(seq == next[who], "sender %u: message %u arrived, expected %u", who, seq,
			  next[who]);
		next[who]++;
	}
	for (int i = 0; i < SENDERS; i++)
		EXPECT_RC(ipct_party_wait(p[i], 5000), 0);
}
