/* SPDX-License-Identifier: MIT */
/*
 * ref-mailbox's store: geometry, the robust lock and its repair, message
 * slots, queues and parties. Everything here runs under the mailbox lock
 * (mb_lock), except the geometry. See ref_mailbox_store.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailbox/ref_mailbox_store.h"

#define MB_MAGIC         0x31584f424c49414dull /* "MAILBOX1" */
#define MB_PAGE          4096u
#define MB_MAX_MSG       (1u << 20)   /* the largest max_msg */
#define MB_ZERO_SLOTS    256u         /* offers in flight, zero capacity */
#define MB_SPAN          (1ull << 30) /* the unbounded pool's virtual span */
#define MB_MAX_SLOTS     (1u << 22)
#define MB_RING_MAX      (4u << 20)   /* the largest mailbox-queue ring (backed whole) */
#define MB_LOCK_SPINS    256u       /* trylock attempts before sleeping on the lock */
#define MB_LOCK_CHECK_NS 100000000L /* a lock held this long: is its owner alive? */

/* ---- geometry ------------------------------------------------------------------------------- */

static uint64_t mb_pool_slots(const struct ipc_mailbox_attr *a, uint64_t slot_size, bool ring)
{
	uint64_t n;

	if (a->capacity == 0)
		return MB_ZERO_SLOTS;
	if (a->capacity != IPC_MAILBOX_UNBOUNDED) /* every inbox full, and the mailbox */
		n = a->capacity * (MB_PARTIES + !ring);
	else
		n = (a->mem_limit ? a->mem_limit : MB_SPAN) / slot_size + MB_PARTIES;
	return n < MB_MAX_SLOTS ? n : MB_MAX_SLOTS;
}

void mb_ring_attr(const struct mb_geom *g, struct ipc_shmbuf_attr *ra)
{
	*ra = (struct ipc_shmbuf_attr){
	    .capacity = g->capacity + IPC_MUTANT(MB_CAP_OFF_BY_ONE), .max_item = g->max_msg};
}

/* The footprint of the mailbox queue's ring, or 0 when it has none (not
 * asked for, not bounded, or too big to back whole). */
static uint64_t mb_ring_size(const struct mb_geom *g, bool ring)
{
	struct ipc_shmbuf_attr ra;
	uint64_t size;

	if (!ring || g->capacity == 0 || g->capacity == IPC_MAILBOX_UNBOUNDED)
		return 0;
	mb_ring_attr(g, &ra);
	if (ipc__shmbuf_footprint(&ra, &size) != 0 || size > MB_RING_MAX)
		return 0;
	return size;
}

int mb_geometry(const struct ipc_mailbox_attr *a, bool ring, struct mb_geom *g)
{
	IPC_ENSURE(a != NULL && a->max_msg >= 1 && a->max_msg <= MB_MAX_MSG, IPC_EINVAL);
	IPC_ENSURE(a->capacity == IPC_MAILBOX_UNBOUNDED || a->capacity <= (1u << 16), IPC_EINVAL);
	memset(g, 0, sizeof(*g));
	g->capacity = a->capacity;
	g->max_msg = a->max_msg;
	g->mem_limit = a->capacity == IPC_MAILBOX_UNBOUNDED ? a->mem_limit : 0;
	g->slot_size = (sizeof(struct mb_slot) + a->max_msg + 7) & ~7ull;
	g->ring_size = mb_ring_size(g, ring);
	g->slot_count = mb_pool_slots(a, g->slot_size, g->ring_size != 0);
	g->pool_off = (sizeof(struct mb_hdr) + MB_PAGE - 1) & ~(uint64_t)(MB_PAGE - 1);
	g->file_size = g->pool_off + g->slot_count * g->slot_size;
	if (g->ring_size) { /* after the pool, on a page of its own */
		g->ring_off = (g->file_size + MB_PAGE - 1) & ~(uint64_t)(MB_PAGE - 1);
		g->file_size = g->ring_off + g->ring_size;
	}
	return 0;
}

int mb_check_geom(const struct mb_geom *g)
{
	struct ipc_mailbox_attr a = {
	    .capacity = g->capacity, .max_msg = g->max_msg, .mem_limit = g->mem_limit};
	struct mb_geom want;

	/* A geometry we would refuse to create is a corrupt one here. */
	IPC_ENSURE(mb_geometry(&a, g->ring_size != 0, &want) == 0, IPC_EUCLEAN);
	return memcmp(&want, g, sizeof(want)) == 0 ? 0 : IPC_EUCLEAN;
}

/* ---- the lock -------------------------------------------------------------------------------- */

/* A lock word naming a thread that does not exist, yet not marked dead by
 * the kernel: forged by a corrupt peer, it would hold every call for ever.
 * glibc keeps the owner's thread id in the word's low 30 bits (the futex's
 * FUTEX_TID_MASK); /proc/<tid> exists for every thread of the namespace. */
static bool mb_owner_gone(pthread_mutex_t *mu)
{
	unsigned w = __atomic_load_n((unsigned *)(void *)mu, __ATOMIC_RELAXED);
	pid_t tid = (pid_t)(w & 0x3fffffffu);
	char path[32];

	if (tid == 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d", (int)tid);
	return access(path, F_OK) != 0 && errno == ENOENT;
}

/* The lock with a dead holder: repair, then make it usable again. */
static int mb_recover(struct mb_view *v)
{
	/* The holder died inside: the states are the truth, rebuild the rest. */
	mb_repair(v);
	pthread_mutex_consistent(&v->hdr->mu);
	return 0;
}

/* Critical sections are a few hundred ns: spin on trylock first, since a
 * contended robust mutex otherwise sleeps in the kernel at once, and each
 * hand-off between two processes then costs two system calls and a
 * wake-up. */
static int mb_lock_spin(struct mb_view *v)
{
	for (unsigned i = 0; i < MB_LOCK_SPINS; i++) {
		int rc = pthread_mutex_trylock(&v->hdr->mu);

		if (rc == 0)
			return 0;
		if (rc == EOWNERDEAD)
			return mb_recover(v);
		if (rc != EBUSY)
			return IPC_EUCLEAN;
		ipc__cpu_relax();
	}
	return 1;
}

int mb_lock(struct mb_view *v)
{
	int spun = mb_lock_spin(v);

	if (spun <= 0)
		return spun;
	for (;;) {
		struct timespec ts;
		int rc;

		clock_gettime(CLOCK_REALTIME, &ts); /* the cadence of the owner check only */
		ts.tv_nsec += MB_LOCK_CHECK_NS;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		rc = pthread_mutex_timedlock(&v->hdr->mu, &ts);
		if (rc == EOWNERDEAD)
			return mb_recover(v);
		if (rc == 0)
			return 0;
		if (rc != ETIMEDOUT || mb_owner_gone(&v->hdr->mu))
			return IPC_EUCLEAN;
	}
}

void mb_unlock(struct mb_view *v)
{
	pthread_mutex_unlock(&v->hdr->mu);
}

/* ---- slots ----------------------------------------------------------------------------------- */

/* Back the pool up to slot idx (inclusive): -ENOMEM rather than SIGBUS later. */
static int mb_back(struct mb_view *v, uint32_t idx)
{
	struct mb_hdr *hdr = v->hdr;
	uint64_t need = ((uint64_t)idx + 1) * v->g.slot_size;

	if (need <= hdr->backed)
		return 0;
	need = (need + MB_CHUNK - 1) / MB_CHUNK * MB_CHUNK;
	if (need > v->g.slot_count * v->g.slot_size)
		need = v->g.slot_count * v->g.slot_size;
	IPC_GUARD(ipc__shm_grow(v->fd, v->g.pool_off + hdr->backed, need - hdr->backed));
	hdr->backed = need;
	return 0;
}

int mb_alloc(struct mb_view *v, uint32_t *idx)
{
	struct mb_hdr *hdr = v->hdr;
	uint32_t i = hdr->free_head;

	if (i != MB_NONE) {
		IPC_ENSURE(i < hdr->hwm && hdr->hwm <= v->g.slot_count, IPC_EUCLEAN);
		IPC_ENSURE(mb_slot(v, i)->state == MB_FREE, IPC_EUCLEAN);
		hdr->free_head = mb_slot(v, i)->next;
	} else {
		IPC_ENSURE(hdr->hwm < v->g.slot_count, IPC_EAGAIN);
		i = hdr->hwm;
		IPC_GUARD(mb_back(v, i));
		hdr->hwm = i + 1;
	}
	*idx = i;
	return 0;
}

/* Nothing queued, nothing in flight: give the pool's memory back. */
static bool mb_pool_idle(struct mb_view *v)
{
	struct mb_hdr *hdr = v->hdr;

	if (hdr->mbox.count)
		return false;
	for (unsigned i = 0; i < MB_PARTIES; i++)
		if (hdr->inbox[i].count)
			return false;
	for (uint32_t i = 0; i < mb_hwm(v); i++)
		if (mb_slot(v, i)->state != MB_FREE)
			return false; /* an offer's sender has yet to collect it */
	return true;
}

static void mb_shrink(struct mb_view *v)
{
	struct mb_hdr *hdr = v->hdr;

	if (hdr->backed <= MB_CHUNK || !mb_pool_idle(v))
		return;
	ipc__shm_reclaim(v->fd, v->g.pool_off + MB_CHUNK, hdr->backed - MB_CHUNK);
	hdr->backed = MB_CHUNK;
	hdr->free_head = MB_NONE;
	hdr->hwm = 0;
}

void mb_free(struct mb_view *v, uint32_t idx)
{
	struct mb_slot *s = mb_slot(v, idx);

	if (s->state == MB_FREE)
		return; /* a corrupt queue named it twice: a free list never loops */
	s->state = MB_FREE;
	s->next = v->hdr->free_head;
	v->hdr->free_head = idx;
	if (v->g.capacity == IPC_MAILBOX_UNBOUNDED && v->hdr->mbox.count == 0)
		mb_shrink(v);
}

/* ---- queues ---------------------------------------------------------------------------------- */

struct mb_queue *mb_queue_of(struct mb_view *v, uint32_t dest)
{
	return dest == MB_DEST_MBOX ? &v->hdr->mbox : &v->hdr->inbox[dest % MB_PARTIES];
}

/* Link a slot whose contents and state are written (QUEUED) at its tail. */
int mb_push(struct mb_view *v, uint32_t idx)
{
	struct mb_slot *s = mb_slot(v, idx);
	struct mb_queue *q = mb_queue_of(v, s->dest);
	uint32_t tail = q->tail;

	/* The tail comes from shared memory: it must name a queued slot. */
	IPC_ENSURE(tail == MB_NONE ||
		       (tail < mb_hwm(v) && tail != idx && mb_slot(v, tail)->state == MB_QUEUED),
		   IPC_EUCLEAN);
	s->next = MB_NONE;
	if (tail == MB_NONE)
		q->head = idx;
	else
		mb_slot(v, tail)->next = idx;
	q->tail = idx;
	q->count++;
	q->offers += s->offer != 0;
	v->hdr->mem_used += s->len;
	return 0;
}

/* The first slot of q sent by `from` (any: every sender), and its
 * predecessor. Bounded walk: a corrupt link ends it. */
uint32_t mb_find(struct mb_view *v, struct mb_queue *q, uint64_t from, bool any, uint32_t *prev)
{
	uint32_t i = q->head, p = MB_NONE;

	for (uint64_t n = 0; i != MB_NONE && i < mb_hwm(v) && n <= v->g.slot_count; n++) {
		if (any || mb_slot(v, i)->from == from) {
			*prev = p;
			return i;
		}
		p = i;
		i = mb_slot(v, i)->next;
	}
	return MB_NONE;
}

/* Is slot idx in q? Its predecessor in *prev (MB_NONE at the head). */
bool mb_locate(struct mb_view *v, struct mb_queue *q, uint32_t idx, uint32_t *prev)
{
	uint32_t i = q->head, p = MB_NONE;

	for (uint64_t n = 0; i != MB_NONE && i < mb_hwm(v) && n <= v->g.slot_count; n++) {
		if (i == idx) {
			*prev = p;
			return true;
		}
		p = i;
		i = mb_slot(v, i)->next;
	}
	return false;
}

void mb_unlink(struct mb_view *v, struct mb_queue *q, uint32_t idx, uint32_t prev)
{
	struct mb_slot *s = mb_slot(v, idx);

	if (prev == MB_NONE)
		q->head = s->next;
	else
		mb_slot(v, prev)->next = s->next;
	if (q->tail == idx)
		q->tail = prev;
	q->count--;
	q->offers -= s->offer != 0;
	v->hdr->mem_used -= s->len;
}

/* ---- parties --------------------------------------------------------------------------------- */

/* The index of the open party with this id, or -1. */
int mb_party_of(struct mb_view *v, uint64_t id)
{
	uint32_t idx = (uint32_t)(id & (MB_PARTIES - 1));
	/* acquire: pairs with the claimer's release. */
	uint64_t w = atomic_load_explicit(&v->hdr->ptab[idx].word, memory_order_acquire);
	uint32_t gen = (uint32_t)(id >> IPC_TOKEN_IDX_BITS);

	if (id == 0 || id > IPC_TOKEN_MASK || ipc__part_status(w) != IPC_PART_LIVE ||
	    (ipc__part_gen(w) & IPC_TOKEN_GEN_MASK) != gen || v->hdr->party[idx].token != id)
		return -1;
	return v->hdr->party[idx].flags ? (int)idx : -1;
}

/* A party of flags joins (d = 1) or leaves (-1). */
void mb_count_roles(struct mb_hdr *hdr, uint32_t flags, int d)
{
	if (flags & IPC_MAILBOX_SEND)
		hdr->n_send += (uint32_t)d;
	if (flags & IPC_MAILBOX_RECV)
		hdr->n_recv += (uint32_t)d;
}

/* Parties with flag open, but the one at index except (-1: none). */
uint32_t mb_count_role(struct mb_view *v, uint32_t flag, int except)
{
	uint32_t n = 0;

	for (int i = 0; i < (int)MB_PARTIES; i++)
		if (i != except && (v->hdr->party[i].flags & flag) &&
		    mb_party_of(v, v->hdr->party[i].token) == i)
			n++;
	return n;
}

/* An offer nobody will take: its sender is told (REFUSED), or, gone
 * itself, its slot is freed. */
static void mb_refuse(struct mb_view *v, uint32_t idx)
{
	struct mb_slot *s = mb_slot(v, idx);

	if (mb_party_of(v, s->from) >= 0) {
		s->state = MB_REFUSED;
	} else {
		mb_free(v, idx);
	}
}

/* Empty a queue: messages are freed, offers refused. */
static void mb_drain(struct mb_view *v, struct mb_queue *q)
{
	uint32_t prev, i;

	/* Bounded, and only queued slots: a corrupt queue (a loop, a slot
	 * named twice) ends the drain instead of freeing or spinning. */
	for (uint64_t n = 0; n <= v->g.slot_count && (i = mb_find(v, q, 0, true, &prev)) != MB_NONE;
	     n++) {
		bool offer = mb_slot(v, i)->offer != 0;

		if (mb_slot(v, i)->state != MB_QUEUED)
			break;
		mb_unlink(v, q, i, prev);
		if (offer)
			mb_refuse(v, i);
		else
			mb_free(v, i);
	}
	q->head = q->tail = MB_NONE;
	q->count = q->offers = 0;
}

/* Offers sent by the party at idx (it left while one of its threads
 * waited, or it died): withdrawn from every queue. */
static void mb_withdraw_offers(struct mb_view *v, uint64_t id)
{
	for (uint32_t d = 0; d <= MB_PARTIES; d++) {
		struct mb_queue *q = mb_queue_of(v, d);
		uint32_t prev, i;

		for (uint64_t n = 0; n <= v->g.slot_count && q->offers &&
				     (i = mb_find(v, q, id, false, &prev)) != MB_NONE &&
				     mb_slot(v, i)->offer && mb_slot(v, i)->state == MB_QUEUED;
		     n++) {
			mb_unlink(v, q, i, prev);
			mb_free(v, i);
		}
	}
}

/* The party leaves (close, or reaped after its death): its inbox goes,
 * its offers go, and a last receiver's leaving refuses the mailbox's offers. */
void mb_party_leave(struct mb_view *v, uint32_t idx)
{
	struct mb_hdr *hdr = v->hdr;
	uint64_t id = hdr->party[idx].token;

	if (IPC_MUTANT(MB_REDELIVER) && hdr->party[idx].from != 0 &&
	    hdr->party[idx].from - 1 < mb_hwm(v)) {
		struct mb_slot *s = mb_slot(v, hdr->party[idx].from - 1);

		s->state = MB_QUEUED; /* the planted bug: delivered again */
		(void)mb_push(v, hdr->party[idx].from - 1);
	}
	mb_count_roles(hdr, hdr->party[idx].flags, -1);
	hdr->party[idx].flags = 0;
	mb_drain(v, &hdr->inbox[idx]);
	mb_withdraw_offers(v, id);
	if (hdr->mbox.offers && hdr->n_recv == 0)
		mb_drain(v, &hdr->mbox);
	/* Collected by nobody: offers of this party already taken or refused. */
	for (uint32_t i = 0; i < mb_hwm(v); i++) {
		struct mb_slot *s = mb_slot(v, i);

		if ((s->state == MB_TAKEN || s->state == MB_REFUSED) && s->from == id)
			mb_free(v, i);
	}
	memset(&hdr->party[idx], 0, sizeof(hdr->party[idx]));
	mb_wake_all(hdr);
}

/* Dead parties (their process is gone) leave: true if any did. */
bool mb_reap(struct mb_view *v)
{
	struct mb_hdr *hdr = v->hdr;
	bool any = false;

	(void)ipc__ptab_reap(hdr->ptab);
	for (uint32_t i = 0; i < MB_PARTIES; i++) {
		if (hdr->party[i].flags && mb_party_of(v, hdr->party[i].token) != (int)i) {
			mb_party_leave(v, i);
			any = true;
		}
	}
	return any;
}

/* ---- repair and validation ------------------------------------------------------------------- */

/* Insert slot i into its queue in seq order (repair only: queues are short
 * enough, and repair is rare). */
static void mb_insert_sorted(struct mb_view *v, uint32_t i)
{
	struct mb_slot *s = mb_slot(v, i);
	struct mb_queue *q = mb_queue_of(v, s->dest);
	uint32_t p = MB_NONE, c = q->head;

	while (c != MB_NONE && mb_slot(v, c)->seq < s->seq)
		p = c, c = mb_slot(v, c)->next;
	s->next = c;
	if (p == MB_NONE)
		q->head = i;
	else
		mb_slot(v, p)->next = i;
	if (c == MB_NONE)
		q->tail = i;
	q->count++;
	q->offers += s->offer != 0;
	v->hdr->mem_used += s->len;
}

static void mb_reset_queues(struct mb_hdr *hdr)
{
	hdr->mbox = (struct mb_queue){MB_NONE, MB_NONE, 0, 0};
	for (unsigned i = 0; i < MB_PARTIES; i++)
		hdr->inbox[i] = (struct mb_queue){MB_NONE, MB_NONE, 0, 0};
	hdr->mem_used = 0;
	hdr->free_head = MB_NONE;
}

/* After a holder died inside the lock: every queue, counter and the free
 * list are rebuilt from the slots' states (a half-made slot is FREE or a
 * whole QUEUED one; a message copied out by a dying receiver is either
 * still QUEUED, and delivered again to a live one, or FREE). */
void mb_repair(struct mb_view *v)
{
	struct mb_hdr *hdr = v->hdr;

	if (hdr->hwm > v->g.slot_count)
		hdr->hwm = (uint32_t)v->g.slot_count;
	mb_reset_queues(hdr);
	for (uint32_t i = hdr->hwm; i-- > 0;) {
		struct mb_slot *s = mb_slot(v, i);

		if (s->state == MB_QUEUED && (s->dest <= MB_DEST_MBOX) && s->len <= v->g.max_msg) {
			mb_insert_sorted(v, i);
		} else if (s->state != MB_TAKEN && s->state != MB_REFUSED) {
			s->state = MB_FREE;
			s->next = hdr->free_head;
			hdr->free_head = i;
		}
	}
	/* Role counts are derived: recount (wait counts belong to live
	 * sleepers, who take theirs back; a dead one's party is reaped). */
	hdr->n_send = hdr->n_recv = 0;
	for (unsigned i = 0; i < MB_PARTIES; i++)
		mb_count_roles(hdr, hdr->party[i].flags, 1);
	(void)mb_reap(v);
	mb_wake_all(hdr); /* waiters re-count themselves */
}

static int mb_validate_queue(struct mb_view *v, struct mb_queue *q, uint32_t dest)
{
	uint32_t i = q->head, n = 0, offers = 0, last = MB_NONE;
	uint64_t seq = 0;

	for (; i != MB_NONE; last = i, i = mb_slot(v, i)->next) {
		struct mb_slot *s;

		IPC_ENSURE(i < v->hdr->hwm && n < q->count, IPC_EUCLEAN);
		s = mb_slot(v, i);
		IPC_ENSURE(s->state == MB_QUEUED && s->dest == dest && s->len <= v->g.max_msg,
			   IPC_EUCLEAN);
		IPC_ENSURE(n == 0 || s->seq > seq, IPC_EUCLEAN);
		seq = s->seq;
		offers += s->offer != 0;
		n++;
	}
	IPC_ENSURE(n == q->count && offers == q->offers && q->tail == last, IPC_EUCLEAN);
	return 0;
}

int mb_validate_locked(struct mb_view *v)
{
	struct mb_hdr *hdr = v->hdr;
	uint32_t n = 0;

	IPC_ENSURE(hdr->magic == MB_MAGIC && memcmp(&hdr->g, &v->g, sizeof(v->g)) == 0,
		   IPC_EUCLEAN);
	IPC_ENSURE(hdr->hwm <= v->g.slot_count, IPC_EUCLEAN);
	IPC_GUARD(ipc__ptab_validate(hdr->ptab));
	IPC_GUARD(mb_validate_queue(v, &hdr->mbox, MB_DEST_MBOX));
	/* With a ring the mailbox queue is there: nothing may wait in the pool. */
	IPC_ENSURE(!v->g.ring_size || hdr->mbox.count == 0, IPC_EUCLEAN);
	for (uint32_t d = 0; d < MB_PARTIES; d++)
		IPC_GUARD(mb_validate_queue(v, &hdr->inbox[d], d));
	for (uint32_t i = hdr->free_head; i != MB_NONE; i = mb_slot(v, i)->next, n++)
		IPC_ENSURE(i < hdr->hwm && n < hdr->hwm && mb_slot(v, i)->state == MB_FREE,
			   IPC_EUCLEAN);
	return 0;
}

uint64_t mb_magic(void)
{
	return MB_MAGIC;
}
