/* SPDX-License-Identifier: MIT */
/*
 * Producer and consumer processes over a shared scoreboard, for the
 * multi-process harnesses (race_stress, kill_campaign, eintr_storm).
 *
 * A producer incarnation `id` puts items (id, 0), (id, 1), ... and records
 * in done[id] how many puts have returned 0: after a SIGKILL, items below
 * done[id] must arrive exactly once; item done[id] (a put in flight, or one
 * that returned just before the kill) at most once; none above it.
 * A consumer checks every item (fl_item.h), checks that each producer's
 * items come in order, and counts deliveries in recv[id][seq].
 */
#ifndef IPCSPEC_FAULTS_FL_PEER_H
#define IPCSPEC_FAULTS_FL_PEER_H

#include <stdatomic.h>
#include <stdint.h>

#include "fl_common.h"

#define FL_MAX_PEERS 2048 /* incarnations per board, both roles */

struct fl_board {
	_Atomic uint32_t violations; /* reported by children (they may be killed) */
	_Atomic int stop;            /* producers: put no more, detach, exit */
	uint32_t maxseq;             /* items per producer incarnation, at most */
	_Atomic uint64_t progress[FL_MAX_PEERS]; /* operations completed */
	_Atomic uint32_t done[FL_MAX_PEERS];     /* producer: puts returned 0 */
	_Atomic uint32_t sigs[FL_MAX_PEERS];     /* eintr_storm: signals taken in an op */
	uint8_t is_prod[FL_MAX_PEERS];           /* parent: id is a producer incarnation */
	uint8_t killed[FL_MAX_PEERS];            /* parent: id died by SIGKILL */
	_Atomic uint8_t recv[];                  /* [FL_MAX_PEERS][maxseq] deliveries */
};

struct fl_board *fl_board_new(uint32_t maxseq);
void fl_board_reset(struct fl_board *b);

/* What one peer process does. */
struct fl_peer {
	struct fl_board *b;
	const struct ipc_shmbuf_ops *ops;
	const char *name;   /* the segment, attached by name in the child */
	uint32_t id;        /* incarnation: index into the board */
	int role;           /* IPC_SHMBUF_PRODUCER or _CONSUMER */
	size_t max_item;
	uint64_t seed;      /* the child's PRNG (timeouts, sizes of waits) */
	uint32_t items;     /* producer: how many to put (stop may end it sooner) */
	int pct_block;      /* % of operations with timeout -1; */
	int pct_nonblock;   /* % with timeout 0; the rest are timed (0.1-5 ms) */
	int64_t give_up_ns; /* absolute: a retry loop past this is a hang */
	unsigned slow_every; /* consumer/producer: pause every n items (0 = never) */
	void (*setup)(struct fl_peer *p); /* in the child, before attach */
	int eintr_tracking; /* count signals that land inside an operation */
};

/* Child bodies for fl_spawn: 0 on success, 1 on a violation, 4 on a hang. */
int fl_producer(void *peer);
int fl_consumer(void *peer);

/* Record a violation seen in a child (printed and counted on the board). */
void fl_peer_violation(struct fl_board *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Signals that arrived while an operation was in progress (eintr_storm). */
void fl_peer_signal_hit(void);

/* Reap n peers (pids[i] runs peers[i]); a child that ends badly is a
 * violation. When no operation completes anywhere for stall_s seconds, the
 * stragglers are reported with their progress and killed: a hang. */
void fl_reap_peers(struct fl_board *b, struct fl_peer *peers, unsigned n, pid_t *pids, int stall_s);

/* After the run: exactly-once delivery for every producer incarnation. A
 * killed producer's last item is optional; at most consumer_kills items
 * whose put returned may be missing (each killed consumer may take one with
 * it). The number of violations (also reported); deliveries in *delivered. */
unsigned fl_board_check(struct fl_board *b, unsigned consumer_kills, uint64_t *delivered);

#endif
