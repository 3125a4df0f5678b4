/* SPDX-License-Identifier: MIT */
/*
 * The measured loops, shared by every transport. They are always_inline and
 * take the transport's send/recv as constants, so each transport gets its own
 * copy with direct (inlined) calls: the loop adds no indirect call of its own
 * and every transport pays exactly the same bookkeeping per item.
 *
 * An item is `size` bytes: its sequence number in the first 8 bytes and, from
 * 16 bytes up, again in the last 8, so a torn copy is caught too.
 */
#ifndef IPCSPEC_BENCH_LOOPS_H
#define IPCSPEC_BENCH_LOOPS_H

#include <stdio.h>
#include <string.h>

#include "bench.h"

#define BENCH_INLINE static inline __attribute__((always_inline))
#define BENCH_CLOCK_EVERY 64 /* items between clock reads: keeps them off the profile */

typedef int (*bench_send_fn)(struct bench_ep *ep, const void *item, size_t len);
typedef ssize_t (*bench_recv_fn)(struct bench_ep *ep, void *buf, size_t len);

BENCH_INLINE void bench_item_stamp(unsigned char *item, size_t size, uint64_t seq)
{
	memcpy(item, &seq, sizeof seq);
	if (size >= 2 * sizeof seq)
		memcpy(item + size - sizeof seq, &seq, sizeof seq);
}

/* The item's sequence number, or BENCH_STOP - 1 when head and tail differ
 * (never a valid number, so the caller counts it as a mismatch). */
BENCH_INLINE uint64_t bench_item_seq(const unsigned char *item, size_t size)
{
	uint64_t head, tail;
	memcpy(&head, item, sizeof head);
	if (size < 2 * sizeof head)
		return head;
	memcpy(&tail, item + size - sizeof tail, sizeof tail);
	return head == tail ? head : BENCH_STOP - 1;
}

/* Count a bad item; describe the first few, since one is enough to debug. */
static inline void bench_item_bad(uint64_t *errors, const char *who, uint64_t got, uint64_t want, ssize_t len)
{
	if (++*errors <= 3)
		fprintf(stderr, "bench: %s: item %llu has sequence %llu, length %zd\n", who,
			(unsigned long long)want, (unsigned long long)got, len);
}

/* Send numbered items for duration_ns, then the end marker. The number of
 * items sent, or a negative errno from send. */
BENCH_INLINE int64_t bench_produce(struct bench_ep *ep, bench_send_fn send, size_t size, int64_t duration_ns)
{
	unsigned char item[BENCH_MAX_ITEM] __attribute__((aligned(64))) = {0};
	int64_t end = bench_now_ns() + duration_ns;
	uint64_t seq = 0;
	int rc;

	for (;; seq++) {
		if (seq % BENCH_CLOCK_EVERY == 0 && bench_now_ns() >= end)
			break;
		bench_item_stamp(item, size, seq);
		rc = send(ep, item, size);
		if (rc < 0)
			return rc;
	}
	bench_item_stamp(item, size, BENCH_STOP);
	rc = send(ep, item, size);
	return rc < 0 ? rc : (int64_t)seq;
}

/* Receive and check items up to the end marker. The timed window opens
 * warm_ns after the first item (caches, page faults and the peer's start-up
 * are behind us by then) and closes at the end marker; both ends are seen by
 * this side, so the rate is the rate at which items actually arrived. */
BENCH_INLINE int bench_consume(struct bench_ep *ep, bench_recv_fn recv, size_t size, int64_t warm_ns,
			       struct bench_tput *out)
{
	unsigned char buf[BENCH_MAX_ITEM] __attribute__((aligned(64)));
	uint64_t want = 0, mark_n = 0;
	int64_t first = 0, mark_t = 0;

	*out = (struct bench_tput){0};
	for (;;) {
		ssize_t n = recv(ep, buf, size);
		if (n < 0)
			return (int)n;
		uint64_t seq = bench_item_seq(buf, size);
		if (seq == BENCH_STOP)
			break;
		if ((size_t)n != size || seq != want) {
			bench_item_bad(&out->errors, "consumer", seq, want, n);
			if (seq != BENCH_STOP - 1) /* resynchronise on a whole item */
				want = seq;
		}
		if (++want % BENCH_CLOCK_EVERY == 1) {
			int64_t now = bench_now_ns();
			if (first == 0)
				first = now;
			else if (mark_t == 0 && now - first >= warm_ns)
				mark_t = now, mark_n = want;
		}
	}
	if (mark_t == 0) /* a run shorter than the warm-up: time all of it */
		mark_t = first, mark_n = 1;
	out->ns = bench_now_ns() - mark_t;
	out->items = want - mark_n;
	return 0;
}

/* Ping-pong: send item i, wait for its echo, record the round trip. Records
 * at most cap samples after warm round trips, and stops recording once
 * budget_ns has passed (a slow transport still gets a bounded trial). The
 * number of samples, or a negative errno. */
BENCH_INLINE int bench_ping(struct bench_ep *out, struct bench_ep *in, bench_send_fn send, bench_recv_fn recv,
			    size_t size, int warm, int cap, int64_t budget_ns, int64_t *samples, uint64_t *errors)
{
	unsigned char item[BENCH_MAX_ITEM] __attribute__((aligned(64))) = {0};
	unsigned char buf[BENCH_MAX_ITEM] __attribute__((aligned(64)));
	int64_t end = INT64_MAX;
	int k = 0;

	for (uint64_t i = 0; k < cap; i++) {
		if (i == (uint64_t)warm)
			end = bench_now_ns() + budget_ns;
		bench_item_stamp(item, size, i);
		int64_t t0 = bench_now_ns();
		int rc = send(out, item, size);
		ssize_t n = rc < 0 ? rc : recv(in, buf, size);
		int64_t t1 = bench_now_ns();
		if (n < 0)
			return (int)n;
		if ((size_t)n != size || bench_item_seq(buf, size) != i)
			bench_item_bad(errors, "pinger", bench_item_seq(buf, size), i, n);
		if (i >= (uint64_t)warm && (samples[k++] = t1 - t0, t1 >= end))
			break;
	}
	bench_item_stamp(item, size, BENCH_STOP);
	int rc = send(out, item, size);
	return rc < 0 ? rc : k;
}

/* The other side of bench_ping: check and echo every item until the end
 * marker (which is not echoed). */
BENCH_INLINE int bench_pong(struct bench_ep *in, struct bench_ep *out, bench_send_fn send, bench_recv_fn recv,
			    size_t size, uint64_t *errors)
{
	unsigned char buf[BENCH_MAX_ITEM] __attribute__((aligned(64)));

	for (uint64_t want = 0;; want++) {
		ssize_t n = recv(in, buf, size);
		if (n < 0)
			return (int)n;
		uint64_t seq = bench_item_seq(buf, size);
		if (seq == BENCH_STOP)
			return 0;
		if ((size_t)n != size || seq != want) {
			bench_item_bad(errors, "ponger", seq, want, n);
			if (seq != BENCH_STOP - 1)
				want = seq;
		}
		int rc = send(out, buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
}

#endif
