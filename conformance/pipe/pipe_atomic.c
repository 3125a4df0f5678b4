/* SPDX-License-Identifier: MIT */
/*
 * Verify that writes of at most PIPE_BUF bytes are atomic: concurrent
 * writers' records are never interleaved; a non-blocking one is all or
 * nothing; a blocking one waits whole when less room is free. A non-blocking
 * write above PIPE_BUF into an empty pipe is partial, and -EAGAIN when full.
 * Clauses: PIPE-ATOM-1, PIPE-ATOM-2, PIPE-ATOM-3, PIPE-ATOM-4.
 */
#include <stdlib.h>

#include "ipct.h"

#define OPS ipct_pipe()
#define WRITERS 4
#define RECORDS 600 /* per writer */

struct atom_arg {
	struct ipc_pipe *wr;
	uint32_t id;
	size_t len;
	_Atomic long rc; /* 1 until the (last) write returns */
};

/* Record seq of a writer: every fifth is PIPE_BUF bytes, the rest 16 to PIPE_BUF - 1. */
static size_t record_len(uint32_t id, uint32_t seq)
{
	return seq % 5 == 0 ? IPC_PIPE_BUF : 16 + (seq * 7919u + id * 104729u) % (IPC_PIPE_BUF - 16);
}

static int record_writer(void *argp)
{
	struct atom_arg *a = argp;
	unsigned char rec[IPC_PIPE_BUF];
	ipct_pipe_keep(a->wr, NULL);
	for (uint32_t seq = 0; seq < RECORDS; seq++) {
		size_t len = ipct_item_fill(rec, record_len(a->id, seq), a->id, seq);
		a->rc = OPS->write(a->wr, rec, len);
		if (a->rc != (long)len)
			return 1;
	}
	if (ipct_cross_process())
		ipct_pipe_close(a->wr);
	return 0;
}

Test(pipe, PIPE_ATOM_1__concurrent_writes_up_to_pipe_buf_never_interleave)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_MULTI_WRITER | IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *rd, *wr;
	struct atom_arg *a = ipct_shared(WRITERS * sizeof *a);
	struct ipct_party *p[WRITERS];
	uint32_t next[WRITERS] = { 0 }, id, seq;
	unsigned char rec[IPC_PIPE_BUF];
	struct ipct_item_hdr h;
	SAFE_PIPE(&rd, &wr);
	for (uint32_t i = 0; i < WRITERS; i++) {
		a[i] = (struct atom_arg){ .wr = wr, .id = i };
		p[i] = ipct_party_start(record_writer, &a[i]);
	}
	for (int k = 0; k < WRITERS * RECORDS; k++) {
		EXPECT_RC(ipct_pipe_read_full(rd, &h, sizeof h), sizeof h);
		cr_assert(h.len >= sizeof h && h.len <= IPC_PIPE_BUF,
			  "record %d: a header of length %u: a torn record", k, h.len);
		memcpy(rec, &h, sizeof h);
		EXPECT_RC(ipct_pipe_read_full(rd, rec + sizeof h, h.len - sizeof h), h.len - sizeof h);
		cr_assert(ipct_item_check(rec, h.len, &id, &seq) == 0 && id < WRITERS,
			  "record %d (%u bytes) is torn: another writer's bytes inside", k, h.len);
		cr_assert_eq(seq, next[id], "writer %u: record %u came where %u was due", id, seq,
			     next[id]);
		next[id]++;
	}
	for (int i = 0; i < WRITERS; i++)
		cr_assert(ipct_party_wait(p[i], 5000) == 0, "writer %d failed (write returned %ld)",
			  i, (long)a[i].rc);
	SAFE_CLOSE(wr);
	EXPECT_RC(OPS->read(rd, rec, sizeof rec), 0); /* no stray bytes after the records */
}

Test(pipe, PIPE_ATOM_2__nonblocking_write_up_to_pipe_buf_is_all_or_nothing)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_room(rd, wr);
	ipct_pipe_put(wr, cap - 100, 6, 0); /* 100 bytes free */
	SAFE_NONBLOCK(wr, 1);
	EXPECT_ERR(ipct_pipe_write_pattern(wr, IPC_PIPE_BUF, 9, 0), IPC_EAGAIN);
	EXPECT_ERR(ipct_pipe_write_pattern(wr, 101, 9, 0), IPC_EAGAIN);
	EXPECT_RC(ipct_pipe_write_pattern(wr, 50, 6, cap - 100), 50);
	unsigned char *buf = malloc(cap + 1);
	size_t got = ipct_pipe_drain(rd, buf, cap + 1);
	long bad = ipct_pattern_check(buf, got < cap - 50 ? got : cap - 50, 6, 0);
	free(buf);
	cr_assert(got == cap - 50 && bad == -1,
		  "drained %zu bytes, expected %zu; first foreign byte at %ld", got, cap - 50, bad);
}

Test(pipe, PIPE_ATOM_3__nonblocking_write_above_pipe_buf_is_partial_then_eagain)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	size_t cap = ipct_pipe_room(rd, wr), len = cap + IPC_PIPE_BUF + 1;
	SAFE_NONBLOCK(wr, 1);
	ssize_t k = ipct_pipe_write_pattern(wr, len, 8, 0);
	cr_assert(k >= IPC_PIPE_BUF && (size_t)k < len,
		  "a %zu-byte write into the empty pipe (capacity %zu) returned %ld", len, cap, (long)k);
	size_t more = ipct_pipe_fill(wr, 8, (size_t)k);
	SAFE_NONBLOCK(wr, 1);
	EXPECT_ERR(ipct_pipe_write_pattern(wr, len, 9, 0), IPC_EAGAIN);
	unsigned char *buf = malloc(len + cap);
	size_t got = ipct_pipe_drain(rd, buf, len + cap);
	long bad = ipct_pattern_check(buf, got, 8, 0);
	free(buf);
	cr_assert(got == (size_t)k + more && bad == -1,
		  "write returned %ld and %zu more fitted, but %zu bytes were queued (bad byte %ld)",
		  (long)k, more, got, bad);
}
