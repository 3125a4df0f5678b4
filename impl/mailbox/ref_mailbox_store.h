/* SPDX-License-Identifier: MIT */
/*
 * ref-mailbox's shared state (the "post office"), shared by ref_mailbox.c
 * (the operations) and ref_mailbox_store.c (slots, queues, repair). Design:
 * docs/ref-mailbox-design.md.
 *
 * One POSIX shared-memory segment per mailbox: a header (geometry, a robust
 * process-shared mutex, one futex sequence word, the queues, the parties)
 * and a pool of fixed-size message slots. Every change happens under the
 * mutex. A slot's state is the truth and the queues are derived from it: a
 * holder killed at any instruction leaves states from which mb_repair()
 * rebuilds every queue, counter and the free list.
 */
#ifndef IPCSPEC_REF_MAILBOX_STORE_H
#define IPCSPEC_REF_MAILBOX_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "mailbox.h"
#include "shmbuf/ref_shmbuf.h"

#define MB_PARTIES   IPC_PART_TABLE /* parties at once (64) */
#define MB_NONE      UINT32_MAX     /* no slot */
#define MB_DEST_MBOX MB_PARTIES     /* dest of an indirect message; else the party index */
#define MB_CHUNK     (64u << 10)    /* the pool is backed in chunks as it grows */

enum mb_slot_state {
	MB_FREE = 0,    /* on the free list (or above the high-water mark) */
	MB_QUEUED = 1,  /* in its destination's queue */
	MB_TAKEN = 2,   /* a rendezvous offer a receiver took: its sender collects it */
	MB_REFUSED = 3, /* an offer nobody will take (receiver gone): its sender collects it */
};

/* Immutable after create; open checks it against a recomputation. */
struct mb_geom {
	uint64_t capacity; /* 0, n, or IPC_MAILBOX_UNBOUNDED */
	uint64_t max_msg;
	uint64_t mem_limit;
	uint64_t slot_size;  /* sizeof(struct mb_slot) + max_msg, rounded to 8 */
	uint64_t slot_count; /* the pool */
	uint64_t pool_off;   /* the header's size, a multiple of the page */
	uint64_t ring_off;   /* the mailbox queue's ring (bounded n), page-aligned; or 0 */
	uint64_t ring_size;  /* its footprint (ipc__shmbuf_footprint); 0: no ring */
	uint64_t file_size;
};

struct mb_queue {
	uint32_t head, tail; /* slot indices, MB_NONE when empty */
	uint32_t count;      /* messages queued, offers included */
	uint32_t offers;     /* rendezvous offers among them */
};

struct mb_party {
	uint32_t flags;     /* IPC_MAILBOX_SEND | IPC_MAILBOX_RECV; 0 = no party */
	uint32_t token;     /* its ptab token: the id others address it by */
	uint32_t wait_mbox; /* its threads blocked in recv */
	uint32_t wait_any;  /* ... in recv_any */
	uint32_t wait_from; /* ... in recv_from */
	uint32_t from;      /* the id the last recv_from waits for */
};

struct mb_hdr {
	uint64_t magic;
	uint32_t version, hdr_size;
	struct mb_geom g;
	pthread_mutex_t mu;        /* robust, process-shared */
	_Atomic uint32_t seq;      /* futex: bumped on every change a waiter may await */
	_Atomic uint32_t mbox_seq; /* futex of recv on the mailbox: one waiter per message */
	_Atomic uint32_t removed;  /* unlink ran: every call fails with -EIDRM */
	uint32_t ever_send, ever_recv;
	uint32_t n_send, n_recv;           /* open parties with each role (derived) */
	uint32_t mbox_waiters, seq_waiters; /* threads asleep on each word: 0 = no wake call */
	uint64_t next_seq;       /* order stamp of the next message */
	uint64_t mem_used;       /* bytes of queued messages (mem_limit) */
	uint32_t free_head, hwm; /* free list; slots ever used: [0, hwm) */
	uint64_t backed;         /* pool bytes backed so far */
	_Atomic uint64_t last_scan_ns;
	struct mb_queue mbox;
	struct mb_queue inbox[MB_PARTIES];
	struct mb_party party[MB_PARTIES];
	struct ipc_part ptab[MB_PARTIES];
};

struct mb_slot {
	uint32_t state;
	uint32_t next;
	uint64_t seq;  /* order stamp: queues are sorted by it */
	uint64_t from; /* sender's id */
	uint32_t dest; /* MB_DEST_MBOX or a party index */
	uint32_t len;
	uint32_t offer; /* a rendezvous offer (its sender waits for TAKEN) */
	uint32_t pad;
	unsigned char data[];
};

/* One process's view: private copies of every bound. */
struct mb_view {
	struct mb_hdr *hdr;
	unsigned char *pool;
	struct mb_geom g;
	int fd;
};

static inline struct mb_slot *mb_slot(const struct mb_view *v, uint32_t i)
{
	return (struct mb_slot *)(v->pool + (uint64_t)i * v->g.slot_size);
}

/* Slots ever used, bounded by the private geometry: a corrupt high-water
 * mark never takes a walk outside the pool. */
static inline uint32_t mb_hwm(const struct mb_view *v)
{
	uint32_t hwm = v->hdr->hwm;

	return hwm < v->g.slot_count ? hwm : (uint32_t)v->g.slot_count;
}

/* ring: put a bounded mailbox queue on a ref-shmbuf ring when its footprint
 * is at most MB_RING_MAX (the ring is backed whole at create). */
int mb_geometry(const struct ipc_mailbox_attr *attr, bool ring, struct mb_geom *g);
int mb_check_geom(const struct mb_geom *g);
void mb_ring_attr(const struct mb_geom *g, struct ipc_shmbuf_attr *ra);

/* Lock (repairing after a dead holder) and unlock. */
int mb_lock(struct mb_view *v);
void mb_unlock(struct mb_view *v);
void mb_repair(struct mb_view *v);

/* Slots and queues (under the lock). alloc: -EAGAIN when the pool is full,
 * -ENOMEM when backing fails. take: the first slot of q that match accepts
 * (NULL: any), unlinked, or MB_NONE. */
int mb_alloc(struct mb_view *v, uint32_t *idx);
void mb_free(struct mb_view *v, uint32_t idx);
struct mb_queue *mb_queue_of(struct mb_view *v, uint32_t dest);
int mb_push(struct mb_view *v, uint32_t idx);
uint32_t mb_find(struct mb_view *v, struct mb_queue *q, uint64_t from, bool any, uint32_t *prev);
bool mb_locate(struct mb_view *v, struct mb_queue *q, uint32_t idx, uint32_t *prev);
void mb_unlink(struct mb_view *v, struct mb_queue *q, uint32_t idx, uint32_t prev);

/* Parties: open? (by id); what a party's leaving does; reap the dead. */
int mb_party_of(struct mb_view *v, uint64_t id);
void mb_party_leave(struct mb_view *v, uint32_t idx);
bool mb_reap(struct mb_view *v);
uint32_t mb_count_role(struct mb_view *v, uint32_t flag, int except);
void mb_count_roles(struct mb_hdr *hdr, uint32_t flags, int d);

int mb_validate_locked(struct mb_view *v);

/* A change that waiters on seq may await: the wake system call only when
 * someone sleeps (the count moves under the lock, as the sleepers do). */
static inline void mb_wake_seq(struct mb_hdr *hdr)
{
	atomic_fetch_add_explicit(&hdr->seq, 1, memory_order_release);
	if (hdr->seq_waiters)
		ipc__futex_wake(&hdr->seq, INT32_MAX);
}

/* Wake every waiter, of both words (a party left, removal, repair). */
static inline void mb_wake_all(struct mb_hdr *hdr)
{
	ipc__futex_bump_wake_all(&hdr->mbox_seq);
	ipc__futex_bump_wake_all(&hdr->seq);
}
uint64_t mb_magic(void);

#endif
