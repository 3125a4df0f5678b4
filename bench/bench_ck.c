/* SPDX-License-Identifier: MIT */
/*
 * The in-process baseline: Concurrency Kit's ck_ring carrying items by value
 * (CK_RING_PROTOTYPE over a struct of the item size, SPSC enqueue/dequeue),
 * between two threads pinned apart, busy-retrying on full and empty. It is
 * the fastest thing a C programmer can pick off the shelf for one process,
 * and it cannot cross a process boundary or block: the bar for ref-shmbuf's
 * fast path, not a like-for-like competitor.
 */
#include <ck_pr.h>
#include <ck_ring.h>
#include <errno.h>
#include <stdlib.h>

#include "bench_loops.h"

/* One ck_ring instance per item size: the element type fixes the copy size
 * at compile time, exactly as a user of CK_RING_PROTOTYPE would have it. */
#define BENCH_CK_SIZE(N)                                                              \
	struct bench_it##N {                                                          \
		unsigned char b[N];                                                   \
	};                                                                            \
	CK_RING_PROTOTYPE(it##N, bench_it##N)                                         \
	static int ck_send##N(struct bench_ep *ep, const void *item, size_t len)      \
	{                                                                             \
		struct bench_ck_ring *r = ep->ring;                                   \
		(void)len;                                                            \
		while (!ck_ring_enqueue_spsc_it##N(&r->ring, r->buf, (void *)item))   \
			ck_pr_stall();                                                \
		return 0;                                                             \
	}                                                                             \
	static ssize_t ck_recv##N(struct bench_ep *ep, void *buf, size_t len)         \
	{                                                                             \
		struct bench_ck_ring *r = ep->ring;                                   \
		while (!ck_ring_dequeue_spsc_it##N(&r->ring, r->buf, buf))            \
			ck_pr_stall();                                                \
		return (ssize_t)len;                                                  \
	}                                                                             \
	static int ck_produce##N(struct bench_pair *p)                                \
	{                                                                             \
		int64_t sent = bench_produce(&p->prod, ck_send##N, N, p->cfg->warm_ns + p->cfg->trial_ns); \
		return sent < 0 ? (int)sent : 0;                                      \
	}                                                                             \
	static int ck_consume##N(struct bench_pair *p)                                \
	{                                                                             \
		return bench_consume(&p->cons, ck_recv##N, N, p->cfg->warm_ns, &p->res); \
	}

/* The ring header is cache-line padded inside; the struct and the slots get
 * their own lines so nothing else shares them. */
struct bench_ck_ring {
	struct ck_ring ring __attribute__((aligned(128)));
	void *buf;
};

BENCH_CK_SIZE(8)
BENCH_CK_SIZE(64)
BENCH_CK_SIZE(4096)

static int ck_pick(struct bench_pair *p, size_t size)
{
	switch (size) {
	case 8:
		p->produce = ck_produce8, p->consume = ck_consume8;
		return 0;
	case 64:
		p->produce = ck_produce64, p->consume = ck_consume64;
		return 0;
	case 4096:
		p->produce = ck_produce4096, p->consume = ck_consume4096;
		return 0;
	}
	return -EINVAL;
}

int bench_ck_tput(const struct bench_cfg *cfg, size_t size, struct bench_tput *out)
{
	struct bench_pair p = {.cfg = cfg, .size = size};
	struct bench_ck_ring *r = aligned_alloc(128, sizeof *r);
	void *buf = aligned_alloc(4096, BENCH_CAPACITY * size);
	int rc = r && buf ? ck_pick(&p, size) : -ENOMEM;
	if (rc == 0) {
		/* A power of two; ck_ring keeps one slot free, so it holds 1023. */
		ck_ring_init(&r->ring, BENCH_CAPACITY);
		r->buf = buf;
		p.prod.ring = p.cons.ring = r;
		rc = bench_run_pair(&p);
	}
	*out = p.res;
	free(buf);
	free(r);
	return rc;
}
