/* SPDX-License-Identifier: MIT */
/*
 * ref-mailbox: the reference mailbox (spec/mailbox.h) on the shared-memory
 * core, meeting every clause of spec/mailbox.md for threads and processes.
 * The mailbox is a POSIX shared-memory segment (ref_mailbox_store.h): one
 * robust mutex orders everything, one futex word wakes every waiter, and a
 * party is a participant slot, so the death of any process is seen as its
 * close. Zero capacity is a rendezvous by offers: a blocking sender queues
 * an offer and waits until a receiver marks it TAKEN, or withdraws it when
 * its wait ends. The one exception is a bounded mailbox's own queue (send,
 * recv): a ref-shmbuf ring at the end of the segment, whose senders and
 * receivers never take the mutex (mb_ring_*). Design: docs/ref-mailbox-design.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox/ref_mailbox.h"
#include "mailbox/ref_mailbox_store.h"

#define MB_VERSION 2u /* 2: the bounded mailbox queue on a ref-shmbuf ring */
#define MB_ROLE    1u /* every party has the same ptab role; its flags say the rest */

/* One side of the mailbox queue's ring (a bounded mailbox): the ring's
 * handle, and a lock that lets one thread of the process at a time use it
 * (a ref-shmbuf handle keeps per-caller state; a mailbox handle may be
 * shared by threads). */
struct mb_ring_end {
	struct ipc_shmbuf *sb;
	_Atomic uint32_t busy; /* 0 free, 1 held, 2 held and a thread waits */
};

struct ipc_mailbox {
	struct mb_view v;
	struct mb_ring_end tx, rx; /* sb NULL: no ring, or not this role */
	uint32_t idx, token, flags, forkgen;
};

static int mb_errno(void)
{
	return errno == ENOENT || errno == EEXIST || errno == EACCES || errno == ENAMETOOLONG
		   ? -errno
	       : errno == ENOMEM || errno == ENOSPC || errno == EMFILE ? IPC_ENOMEM
								       : IPC_EINVAL;
}

/* ---- create / unlink ----------------------------------------------------------------------- */

static void mb_init_mutex(pthread_mutex_t *mu)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(mu, &ma);
	pthread_mutexattr_destroy(&ma);
}

/* The header of a fresh (zero) file: the magic last, so a half-made one
 * never opens. */
static int mb_format(int fd, const struct mb_geom *g)
{
	struct mb_hdr *hdr;
	void *p;

	IPC_GUARD(ipc__shm_grow(fd, 0, g->pool_off));
	p = mmap(NULL, g->pool_off, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	IPC_ENSURE(p != MAP_FAILED, IPC_ENOMEM);
	hdr = p;
	hdr->version = MB_VERSION;
	hdr->hdr_size = (uint32_t)g->pool_off;
	hdr->g = *g;
	mb_init_mutex(&hdr->mu);
	hdr->next_seq = 1;
	hdr->free_head = MB_NONE;
	hdr->mbox = (struct mb_queue){MB_NONE, MB_NONE, 0, 0};
	for (unsigned i = 0; i < MB_PARTIES; i++)
		hdr->inbox[i] = (struct mb_queue){MB_NONE, MB_NONE, 0, 0};
	atomic_thread_fence(memory_order_release);
	hdr->magic = mb_magic();
	munmap(p, g->pool_off);
	return 0;
}

/* The queue's ring first: a header whose magic validates has its ring. */
static int mb_format_all(int fd, const struct mb_geom *g)
{
	struct ipc_shmbuf_attr ra;

	if (ftruncate(fd, (off_t)g->file_size) != 0)
		return IPC_ENOMEM;
	mb_ring_attr(g, &ra);
	if (g->ring_size)
		IPC_GUARD(ipc__shmbuf_format_at(fd, g->ring_off, &ra));
	return mb_format(fd, g);
}

/* ring: the bounded mailbox queue on a ring (ref-mailbox), or in the
 * locked pool with the inboxes (ref-mailbox-locked). */
static int mb_create(const char *name, const struct ipc_mailbox_attr *attr, bool ring)
{
	struct mb_geom g;
	int fd, rc;

	IPC_ENSURE(attr != NULL, IPC_EINVAL);
	IPC_GUARD(ipc__shm_check_name(name));
	IPC_GUARD(mb_geometry(attr, ring, &g));
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC,
		      (mode_t)(attr->mode & 0777));
	if (fd < 0)
		return mb_errno();
	rc = mb_format_all(fd, &g);
	if (rc < 0)
		(void)shm_unlink(name);
	close(fd);
	return rc;
}

int ipc_mailbox_ref_create(const char *name, const struct ipc_mailbox_attr *attr)
{
	return mb_create(name, attr, true);
}

static int mb_create_locked(const char *name, const struct ipc_mailbox_attr *attr)
{
	return mb_create(name, attr, false);
}

/* Mark the mailbox in fd removed and wake every waiter, the ring's too
 * (its waits check the flag: ipc__shmbuf_set_abort). */
static void mb_mark_removed(int fd)
{
	struct stat st;
	struct mb_geom g;
	struct mb_hdr *hdr;
	void *p = fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(struct mb_hdr)
		      ? mmap(NULL, sizeof(struct mb_hdr), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
		      : MAP_FAILED;

	if (p == MAP_FAILED)
		return;
	hdr = p;
	if (hdr->magic == mb_magic()) {
		atomic_store(&hdr->removed, 1);
		mb_wake_all(hdr);
		memcpy(&g, &hdr->g, sizeof(g)); /* a private copy, checked */
		if (mb_check_geom(&g) == 0 && g.ring_size && (uint64_t)st.st_size >= g.file_size)
			(void)ipc__shmbuf_wake_at(fd, g.ring_off);
	}
	munmap(p, sizeof(struct mb_hdr));
}

int ipc_mailbox_ref_unlink(const char *name)
{
	int fd;

	IPC_GUARD(ipc__shm_check_name(name));
	fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd >= 0) {
		mb_mark_removed(fd);
		close(fd);
	}
	return shm_unlink(name) == 0 ? 0 : mb_errno();
}

/* ---- open / close --------------------------------------------------------------------------- */

/* Map the segment in fd after checking its identity (a private copy). */
static int mb_map(struct mb_view *v, int fd)
{
	struct mb_hdr id;
	struct stat st;
	void *base;

	v->fd = fd;
	IPC_ENSURE(fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(id), IPC_EUCLEAN);
	IPC_ENSURE(pread(fd, &id, sizeof(id), 0) == (ssize_t)sizeof(id), IPC_EUCLEAN);
	IPC_ENSURE(id.magic == mb_magic() && id.version == MB_VERSION, IPC_EUCLEAN);
	IPC_GUARD(mb_check_geom(&id.g));
	IPC_ENSURE((uint64_t)st.st_size >= id.g.file_size && id.hdr_size == id.g.pool_off,
		   IPC_EUCLEAN);
	v->g = id.g;
	IPC_GUARD(ipc__shm_map(fd, v->g.file_size, false, &base));
	v->hdr = base;
	v->pool = (unsigned char *)base + v->g.pool_off;
	return 0;
}

static void mb_handle_free(struct ipc_mailbox *h)
{
	if (h->v.hdr)
		ipc__shm_unmap(h->v.hdr, h->v.g.file_size);
	if (h->v.fd >= 0)
		close(h->v.fd);
	free(h);
}

/* Become a party: a participant slot (liveness) and its flags. */
static int mb_join(struct ipc_mailbox *h, uint32_t flags)
{
	struct mb_hdr *hdr = h->v.hdr;
	int rc;

	IPC_GUARD(mb_lock(&h->v));
	rc = atomic_load(&hdr->removed) ? IPC_EIDRM
					: ipc__ptab_claim(hdr->ptab, MB_ROLE, &h->idx, &h->token);
	if (rc == 0) {
		hdr->party[h->idx] = (struct mb_party){.flags = flags, .token = h->token};
		mb_count_roles(hdr, flags, 1);
		hdr->ever_send |= (flags & IPC_MAILBOX_SEND) != 0;
		hdr->ever_recv |= (flags & IPC_MAILBOX_RECV) != 0;
		mb_wake_seq(hdr); /* an end of stream may be over */
	}
	mb_unlock(&h->v);
	return rc;
}

static int mb_attach_end(struct ipc_mailbox *h, struct mb_ring_end *e, int role)
{
	IPC_GUARD(ipc__shmbuf_attach_at(h->v.fd, h->v.g.ring_off, role, NULL, &e->sb));
	ipc__shmbuf_set_intr(e->sb, true); /* -EINTR unless SA_RESTART, as here */
	ipc__shmbuf_set_abort(e->sb, &h->v.hdr->removed);
	ipc__shmbuf_set_fair(e->sb); /* receivers: none starves (MAILBOX-ORDER-5) */
	return 0;
}

/* A sender is a producer of the ring, a receiver its consumer: the ring's
 * end of stream is then the mailbox's (MAILBOX-EOS-*). */
static int mb_attach_ring(struct ipc_mailbox *h)
{
	if (!h->v.g.ring_size)
		return 0;
	if (h->flags & IPC_MAILBOX_SEND)
		IPC_GUARD(mb_attach_end(h, &h->tx, IPC_SHMBUF_PRODUCER));
	if (h->flags & IPC_MAILBOX_RECV)
		IPC_GUARD(mb_attach_end(h, &h->rx, IPC_SHMBUF_CONSUMER));
	return 0;
}

int ipc_mailbox_ref_open(const char *name, uint32_t flags, struct ipc_mailbox **out)
{
	struct ipc_mailbox *h;
	int fd, rc;

	IPC_ENSURE(out != NULL, IPC_EINVAL);
	IPC_ENSURE(flags != 0 && !(flags & ~(IPC_MAILBOX_SEND | IPC_MAILBOX_RECV)), IPC_EINVAL);
	IPC_GUARD(ipc__shm_check_name(name));
	fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return mb_errno();
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return IPC_ENOMEM;
	}
	h->flags = flags;
	h->forkgen = ipc__fork_gen();
	rc = mb_map(&h->v, fd);
	if (rc == 0)
		rc = mb_join(h, flags);
	if (rc < 0) {
		mb_handle_free(h);
		return rc;
	}
	rc = mb_attach_ring(h);
	if (rc < 0) {
		(void)ipc_mailbox_ref_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

int ipc_mailbox_ref_close(struct ipc_mailbox *h)
{
	IPC_ENSURE(h != NULL, IPC_EINVAL);
	/* The ring first: its end of stream comes with the party's leaving. In
	 * a forked child a ring handle is a copy too: detach only frees it. */
	if (h->tx.sb)
		(void)ipc_shmbuf_detach(h->tx.sb);
	if (h->rx.sb)
		(void)ipc_shmbuf_detach(h->rx.sb);
	h->tx.sb = h->rx.sb = NULL;
	/* In a forked child the handle is a copy: the party is the parent's. */
	if (h->forkgen == ipc__fork_gen() && mb_lock(&h->v) == 0) {
		if (mb_party_of(&h->v, h->token) == (int)h->idx)
			mb_party_leave(&h->v, h->idx);
		mb_unlock(&h->v);
		ipc__ptab_release(h->v.hdr->ptab, h->idx, h->token);
	}
	mb_handle_free(h);
	return 0;
}

/* ---- waiting -------------------------------------------------------------------------------- */

#define MB_BLOCK (IPC_EOD - 1) /* internal: cannot complete now */

/* A call's wait: the deadline is computed only if it must wait. */
struct mb_wait {
	int64_t timeout, deadline;
	bool have_deadline;
	bool unlocked; /* the lock could not be taken back (then it is not held) */
};

static int mb_check(const struct ipc_mailbox *h, uint32_t role, int64_t timeout)
{
	IPC_ENSURE(h != NULL && timeout >= -1, IPC_EINVAL);
	IPC_ENSURE(h->forkgen == ipc__fork_gen_now() && (h->flags & role), IPC_EBADF);
	return 0;
}

/* Dead parties leave, at most once per scan period among all processes. */
static void mb_reap_due(struct mb_view *v)
{
	if (ipc__ptab_reap_limited(v->hdr->ptab, &v->hdr->last_scan_ns, IPC_SCAN_PERIOD_NS) > 0)
		(void)mb_reap(v);
}

/* Spin (no system call) until word leaves seq: true if it did. */
static bool mb_spin(_Atomic uint32_t *word, uint32_t seq, int64_t deadline)
{
	int64_t end = ipc__now_ns() + IPC_SPIN_NS;

	if (end > deadline)
		end = deadline;
	for (unsigned i = 0;; i++) {
		if (atomic_load_explicit(word, memory_order_acquire) != seq)
			return true;
		ipc__cpu_relax();
		if ((i & 63) == 63 && ipc__now_ns() >= end)
			return false;
	}
}

/* Sleep on word while it holds seq, counted among its sleepers (so a waker
 * makes the wake call only when someone sleeps; the count moves under the
 * lock, as the wakers read it). Entered and left under the lock. */
static int mb_sleep(struct ipc_mailbox *h, _Atomic uint32_t *word, uint32_t seq, int64_t until,
		    struct mb_wait *w)
{
	struct mb_hdr *hdr = h->v.hdr;
	uint32_t *n = word == &hdr->mbox_seq ? &hdr->mbox_waiters : &hdr->seq_waiters;
	int rc;

	sigset_t old;
	(*n)++;
	mb_unlock(&h->v);
	rc = ipc__futex_wait_intr(word, seq, until);
	/* A handler that runs while we take the lock back would go unseen and
	 * the call would sleep on: signals wait till then (ipc__sig_hold). */
	ipc__sig_hold(&old);
	int lrc = mb_lock(&h->v);
	if (ipc__sig_release(&old) && rc != IPC_EINTR)
		rc = IPC_EINTR;
	if (lrc < 0) {
		w->unlocked = true;
		return IPC_EUCLEAN;
	}
	if (*n) /* a repair may have recounted */
		(*n)--;
	return rc;
}

/* One wait, the lock let go meanwhile: 0 to re-check, -EINTR, or the
 * expiry code. Changes bump the word under the lock: none is missed. */
static int mb_wait_on(struct ipc_mailbox *h, _Atomic uint32_t *word, struct mb_wait *w)
{
	uint32_t seq = atomic_load_explicit(word, memory_order_acquire);
	int64_t now = ipc__now_ns(), until;
	bool moved;
	int rc;

	if (!w->have_deadline) {
		w->deadline = ipc__deadline(w->timeout);
		w->have_deadline = true;
	}
	if (now >= w->deadline)
		return ipc__expired_code(w->timeout);
	until = w->deadline - now > IPC_SLICE_NS && !IPC_MUTANT(MB_LOST_WAKEUP) ? now + IPC_SLICE_NS
										: w->deadline;
	/* Streaming: the other side acts within microseconds; spinning on the
	 * word first spares both sides the futex calls and the wake-up. */
	mb_unlock(&h->v);
	moved = !IPC_MUTANT(MB_LOST_WAKEUP) && mb_spin(word, seq, w->deadline);
	if (mb_lock(&h->v) < 0) {
		w->unlocked = true;
		return IPC_EUCLEAN;
	}
	if (moved || atomic_load_explicit(word, memory_order_acquire) != seq)
		return 0;
	rc = mb_sleep(h, word, seq, until, w);
	if (w->unlocked)
		return rc;
	if (rc == IPC_EINTR && !ipc__sig_restarts())
		return IPC_EINTR;
	if (rc == IPC_ETIMEDOUT)
		(void)mb_reap(&h->v); /* a slice passed: are the others alive? */
	return 0;
}

static int mb_wait(struct ipc_mailbox *h, struct mb_wait *w)
{
	return mb_wait_on(h, &h->v.hdr->seq, w);
}

/* ---- send ----------------------------------------------------------------------------------- */

struct mb_msg {
	const void *buf;
	size_t len;
	uint64_t to; /* 0: the mailbox; else a party's id */
};

/* A message for dest is queued: on the mailbox, wake one receiver, the
 * longest waiting (futex wake order), so none starves (MAILBOX-ORDER-5);
 * an inbox's receivers are its owner's threads: wake them all. */
static void mb_wake_receivers(struct mb_hdr *hdr, uint32_t dest)
{
	if (dest != MB_DEST_MBOX) {
		mb_wake_seq(hdr);
		return;
	}
	atomic_fetch_add_explicit(&hdr->mbox_seq, 1, memory_order_release);
	if (hdr->mbox_waiters)
		ipc__futex_wake(&hdr->mbox_seq, 1);
}

/* Write a message (or an offer) for dest into a slot and queue it. */
static int mb_place(struct ipc_mailbox *h, uint32_t dest, const struct mb_msg *m, bool offer,
		    uint32_t *slot)
{
	struct mb_hdr *hdr = h->v.hdr;
	struct mb_slot *s;
	uint32_t i;
	int rc = mb_alloc(&h->v, &i);

	if (rc == IPC_EAGAIN && h->v.g.capacity == IPC_MAILBOX_UNBOUNDED)
		rc = IPC_ENOMEM; /* the pool is the memory ceiling */
	IPC_GUARD(rc);
	s = mb_slot(&h->v, i);
	if (m->len)
		memcpy(s->data, m->buf, m->len);
	s->len = (uint32_t)m->len;
	s->from = h->token;
	s->dest = dest;
	s->offer = offer;
	s->seq = hdr->next_seq++;
	s->state = MB_QUEUED; /* from here a repair keeps it */
	rc = mb_push(&h->v, i);
	if (rc < 0) {
		s->state = MB_REFUSED; /* not queued: back to the free list */
		mb_free(&h->v, i);
		return rc;
	}
	if (!IPC_MUTANT(MB_LOST_WAKEUP))
		mb_wake_receivers(hdr, dest);
	*slot = i;
	return 0;
}

/* Receivers of dest blocked right now, as a sender `from` sees them. */
static uint32_t mb_waiting(struct mb_view *v, uint32_t dest, uint64_t from)
{
	struct mb_party *p = v->hdr->party;
	uint32_t n = 0;

	if (dest != MB_DEST_MBOX)
		return p[dest].wait_any + (p[dest].from == from ? p[dest].wait_from : 0);
	for (unsigned i = 0; i < MB_PARTIES; i++)
		n += p[i].wait_mbox;
	return n;
}

#define MB_OFFERED 1 /* a rendezvous offer is queued: wait for it to be taken */

/* 0 (queued), MB_OFFERED, MB_BLOCK, or an error. */
static int mb_try_deliver(struct ipc_mailbox *h, const struct mb_msg *m, bool can_wait,
			  uint32_t *slot)
{
	struct mb_hdr *hdr = h->v.hdr;
	int dest = MB_DEST_MBOX;
	struct mb_queue *q;

	IPC_ENSURE(!atomic_load(&hdr->removed), IPC_EIDRM);
	if (m->to) {
		dest = mb_party_of(&h->v, m->to);
		IPC_ENSURE(dest >= 0, IPC_ESRCH);
	} else if (hdr->ever_recv && hdr->n_recv == 0) {
		return IPC_EPIPE;
	}
	q = mb_queue_of(&h->v, (uint32_t)dest);
	if (h->v.g.capacity == 0 && !can_wait) /* only into a waiting receiver's hands */
		return mb_waiting(&h->v, (uint32_t)dest, h->token) > q->count
			   ? mb_place(h, (uint32_t)dest, m, false, slot)
			   : MB_BLOCK;
	if (h->v.g.capacity == 0) {
		IPC_GUARD(mb_place(h, (uint32_t)dest, m, !IPC_MUTANT(MB_ZERO_EARLY_RETURN), slot));
		return IPC_MUTANT(MB_ZERO_EARLY_RETURN) ? 0 : MB_OFFERED;
	}
	if (h->v.g.capacity != IPC_MAILBOX_UNBOUNDED)
		return q->count < h->v.g.capacity + IPC_MUTANT(MB_CAP_OFF_BY_ONE)
			   ? mb_place(h, (uint32_t)dest, m, false, slot)
			   : MB_BLOCK;
	IPC_ENSURE(!h->v.g.mem_limit || hdr->mem_used + m->len <= h->v.g.mem_limit, IPC_ENOMEM);
	return mb_place(h, (uint32_t)dest, m, false, slot);
}

/* The wait of a rendezvous ended with rc: withdraw the offer unless a
 * receiver took it meanwhile (then the send succeeded). */
static int mb_withdraw(struct ipc_mailbox *h, uint32_t i, int rc)
{
	struct mb_slot *s = mb_slot(&h->v, i);
	struct mb_queue *q;
	uint32_t prev;

	if (s->state == MB_TAKEN)
		rc = 0;
	if (s->state == MB_QUEUED) {
		q = mb_queue_of(&h->v, s->dest);
		if (mb_locate(&h->v, q, i, &prev))
			mb_unlink(&h->v, q, i, prev);
	}
	mb_free(&h->v, i);
	mb_wake_seq(h->v.hdr);
	return rc;
}

/* A blocking sender's rendezvous: its offer at slot i, stamped seq, is
 * taken (0), refused (the receivers or the addressee left), or withdrawn
 * when the wait ends. */
static int mb_await_offer(struct ipc_mailbox *h, const struct mb_msg *m, uint32_t i, uint64_t seq,
			  struct mb_wait *w)
{
	for (;;) {
		struct mb_slot *s = mb_slot(&h->v, i);
		int rc;

		IPC_ENSURE(s->seq == seq && s->from == h->token, IPC_EUCLEAN);
		if (s->state == MB_TAKEN || s->state == MB_REFUSED) {
			rc = s->state == MB_TAKEN ? 0 : m->to ? IPC_ESRCH : IPC_EPIPE;
			mb_free(&h->v, i);
			return rc;
		}
		rc = atomic_load(&h->v.hdr->removed) ? IPC_EIDRM : mb_wait(h, w);
		if (rc < 0)
			return w->unlocked ? rc : mb_withdraw(h, i, rc);
	}
}

/* ---- the mailbox queue's ring ----------------------------------------------------------------- */

/* One thread of this process at a time on a ring end. A thread that finds
 * it busy waits as a blocked call would: deadline, signals. */
static int mb_end_lock(struct mb_ring_end *e, int64_t timeout)
{
	uint32_t free_ = 0;
	int64_t deadline;

	if (IPC_LIKELY(atomic_compare_exchange_strong_explicit(
		&e->busy, &free_, 1, memory_order_acquire, memory_order_relaxed)))
		return 0;
	IPC_ENSURE(timeout != 0, IPC_EAGAIN);
	deadline = ipc__deadline(timeout);
	while (atomic_exchange_explicit(&e->busy, 2, memory_order_acquire) != 0) {
		int rc = ipc__futex_wait_intr(&e->busy, 2, deadline);

		if (rc == IPC_ETIMEDOUT)
			return ipc__expired_code(timeout);
		if (rc == IPC_EINTR && !ipc__sig_restarts())
			return IPC_EINTR;
	}
	return 0;
}

static void mb_end_unlock(struct mb_ring_end *e)
{
	if (atomic_exchange_explicit(&e->busy, 0, memory_order_release) == 2)
		ipc__futex_wake(&e->busy, 1);
}

static bool mb_removed(const struct ipc_mailbox *h)
{
	return atomic_load_explicit(&h->v.hdr->removed, memory_order_acquire) != 0;
}

/* send on a bounded mailbox: a put on its ring, never the post office's
 * lock. Capacity, order, end of stream and waits are the ring's. */
static int mb_ring_send(struct ipc_mailbox *h, const void *buf, size_t len, int64_t timeout)
{
	int rc;

	IPC_ENSURE(!mb_removed(h), IPC_EIDRM);
	IPC_GUARD(mb_end_lock(&h->tx, timeout));
	rc = ipc_shmbuf_put(h->tx.sb, buf, len, timeout);
	mb_end_unlock(&h->tx);
	return rc;
}

static ssize_t mb_ring_recv(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout)
{
	ssize_t n;

	IPC_ENSURE(!mb_removed(h), IPC_EIDRM);
	IPC_GUARD(mb_end_lock(&h->rx, timeout));
	n = ipc_shmbuf_get(h->rx.sb, buf, cap, timeout);
	mb_end_unlock(&h->rx);
	return n;
}

/* ---- send, the post office's way ------------------------------------------------------------ */

static int mb_deliver(struct ipc_mailbox *h, const struct mb_msg *m, int64_t timeout)
{
	struct mb_wait w = {.timeout = timeout};
	uint32_t slot = MB_NONE;
	int rc;

	IPC_GUARD(mb_check(h, IPC_MAILBOX_SEND, timeout));
	IPC_ENSURE(m->buf != NULL || m->len == 0, IPC_EINVAL);
	IPC_ENSURE(m->len <= h->v.g.max_msg, IPC_EMSGSIZE);
	if (m->to == 0 && h->tx.sb)
		return mb_ring_send(h, m->buf, m->len, timeout);
	IPC_GUARD(mb_lock(&h->v));
	for (;;) {
		rc = mb_try_deliver(h, m, timeout != 0, &slot);
		if (rc == MB_OFFERED)
			rc = mb_await_offer(h, m, slot, mb_slot(&h->v, slot)->seq, &w);
		if (rc != MB_BLOCK)
			break;
		if (timeout == 0) {
			rc = IPC_EAGAIN;
			break;
		}
		mb_reap_due(&h->v); /* full: the receivers may be dead */
		rc = mb_wait(h, &w);
		if (rc < 0)
			break;
	}
	if (!w.unlocked)
		mb_unlock(&h->v);
	return rc;
}

int ipc_mailbox_ref_send(struct ipc_mailbox *h, const void *msg, size_t len, int64_t timeout_ns)
{
	struct mb_msg m = {.buf = msg, .len = len, .to = 0};

	return mb_deliver(h, &m, timeout_ns);
}

int ipc_mailbox_ref_send_to(struct ipc_mailbox *h, ipc_mailbox_id to, const void *msg, size_t len,
			    int64_t timeout_ns)
{
	struct mb_msg m = {.buf = msg, .len = len, .to = to};

	IPC_ENSURE(to != 0, IPC_ESRCH);
	return mb_deliver(h, &m, timeout_ns);
}

/* ---- receive -------------------------------------------------------------------------------- */

enum mb_kind { MB_W_MBOX, MB_W_ANY, MB_W_FROM };

struct mb_want {
	enum mb_kind kind;
	uint64_t from; /* MB_W_FROM */
	void *buf;
	size_t cap;
	uint64_t *sender; /* out, may be NULL */
};

/* Nothing will ever come: no sender left (mailbox), the addressee's peer
 * closed (recv_from), nobody else open (recv_any). */
static bool mb_ended(struct ipc_mailbox *h, const struct mb_want *want)
{
	struct mb_hdr *hdr = h->v.hdr;

	if (want->kind == MB_W_FROM)
		return mb_party_of(&h->v, want->from) < 0;
	if (want->kind == MB_W_ANY)
		return mb_count_role(&h->v, IPC_MAILBOX_SEND | IPC_MAILBOX_RECV, (int)h->idx) == 0;
	return hdr->ever_send && hdr->n_send == 0;
}

/* Mutant MB_REDELIVER only: the slot stays out of every queue, owned by
 * the receiver (its party's `from` field), and mb_party_leave queues it
 * again: a message delivered twice once its first receiver is gone. */
static void mb_keep_for_redelivery(struct ipc_mailbox *h, uint32_t i)
{
	struct mb_party *p = &h->v.hdr->party[h->idx];

	if (p->from != 0 && p->from - 1 < mb_hwm(&h->v))
		mb_free(&h->v, p->from - 1);
	mb_slot(&h->v, i)->state = MB_TAKEN;
	p->from = i + 1;
}

/* The first matching message: its length, IPC_EOD, MB_BLOCK or an error. */
static ssize_t mb_try_take(struct ipc_mailbox *h, const struct mb_want *want)
{
	struct mb_hdr *hdr = h->v.hdr;
	struct mb_queue *q = want->kind == MB_W_MBOX ? &hdr->mbox : &hdr->inbox[h->idx];
	uint32_t prev, i, len;
	struct mb_slot *s;

	IPC_ENSURE(!atomic_load(&hdr->removed), IPC_EIDRM);
	i = mb_find(&h->v, q, want->from, want->kind != MB_W_FROM || IPC_MUTANT(MB_FROM_TAKES_ANY),
		    &prev);
	if (i == MB_NONE)
		return mb_ended(h, want) ? IPC_EOD : MB_BLOCK;
	s = mb_slot(&h->v, i);
	len = s->len;
	IPC_ENSURE(s->state == MB_QUEUED && len <= h->v.g.max_msg, IPC_EUCLEAN);
	IPC_ENSURE(len <= want->cap, IPC_EMSGSIZE); /* it stays first */
	if (len)
		memcpy(want->buf, s->data, len);
	if (want->sender)
		*want->sender = s->from;
	mb_unlink(&h->v, q, i, prev);
	if (s->offer)
		s->state = MB_TAKEN; /* its sender frees it */
	else if (IPC_MUTANT(MB_REDELIVER) && want->kind == MB_W_MBOX)
		mb_keep_for_redelivery(h, i);
	else
		mb_free(&h->v, i);
	mb_wake_seq(hdr);
	return len;
}

/* Count this thread among the receivers waiting (zero-capacity hand-offs
 * look at the counts). */
static void mb_count_waiter(struct ipc_mailbox *h, const struct mb_want *want, int d)
{
	struct mb_party *p = &h->v.hdr->party[h->idx];

	if (want->kind == MB_W_MBOX)
		p->wait_mbox += (uint32_t)d;
	else if (want->kind == MB_W_ANY)
		p->wait_any += (uint32_t)d;
	else {
		p->wait_from += (uint32_t)d;
		p->from = (uint32_t)want->from;
	}
}

static ssize_t mb_receive(struct ipc_mailbox *h, const struct mb_want *want, int64_t timeout)
{
	struct mb_wait w = {.timeout = timeout};
	ssize_t n;

	IPC_GUARD(mb_check(h, IPC_MAILBOX_RECV, timeout));
	IPC_ENSURE(want->buf != NULL || want->cap == 0, IPC_EINVAL);
	if (want->kind == MB_W_MBOX && h->rx.sb)
		return mb_ring_recv(h, want->buf, want->cap, timeout);
	IPC_GUARD(mb_lock(&h->v));
	for (;;) {
		n = mb_try_take(h, want);
		if (n == MB_BLOCK) {
			mb_reap_due(&h->v); /* empty: are the senders alive? */
			n = mb_try_take(h, want);
		}
		if (n != MB_BLOCK)
			break;
		if (timeout == 0) {
			n = IPC_EAGAIN;
			break;
		}
		mb_count_waiter(h, want, 1);
		int rc = mb_wait_on(
		    h, want->kind == MB_W_MBOX ? &h->v.hdr->mbox_seq : &h->v.hdr->seq, &w);
		if (w.unlocked)
			return rc;
		mb_count_waiter(h, want, -1);
		/* A sender may have counted on us as we gave up: take what came. */
		if (rc < 0 && (n = mb_try_take(h, want)) == MB_BLOCK)
			n = rc;
		if (rc < 0)
			break;
	}
	mb_unlock(&h->v);
	return n;
}

ssize_t ipc_mailbox_ref_recv(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout_ns)
{
	struct mb_want want = {.kind = MB_W_MBOX, .buf = buf, .cap = cap};

	return mb_receive(h, &want, timeout_ns);
}

ssize_t ipc_mailbox_ref_recv_from(struct ipc_mailbox *h, ipc_mailbox_id from, void *buf, size_t cap,
				  int64_t timeout_ns)
{
	struct mb_want want = {.kind = MB_W_FROM, .from = from, .buf = buf, .cap = cap};

	return mb_receive(h, &want, timeout_ns);
}

ssize_t ipc_mailbox_ref_recv_any(struct ipc_mailbox *h, ipc_mailbox_id *from, void *buf, size_t cap,
				 int64_t timeout_ns)
{
	struct mb_want want = {.kind = MB_W_ANY, .buf = buf, .cap = cap, .sender = from};

	return mb_receive(h, &want, timeout_ns);
}

int ipc_mailbox_ref_self_id(struct ipc_mailbox *h, ipc_mailbox_id *id)
{
	IPC_ENSURE(h != NULL && id != NULL, IPC_EINVAL);
	IPC_ENSURE(h->forkgen == ipc__fork_gen_now(), IPC_EBADF);
	*id = h->token;
	return 0;
}

int ipc_mailbox_ref_validate(struct ipc_mailbox *h)
{
	int rc;

	IPC_ENSURE(h != NULL, IPC_EINVAL);
	IPC_GUARD(mb_lock(&h->v));
	rc = mb_validate_locked(&h->v);
	mb_unlock(&h->v);
	IPC_GUARD(rc);
	if (h->tx.sb || h->rx.sb)
		rc = ipc_shmbuf_validate(h->tx.sb ? h->tx.sb : h->rx.sb);
	return rc;
}

/* ---- the subject ---------------------------------------------------------------------------- */

#define REF_MAILBOX_CAPS                                                                           \
	(IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_NONBLOCK | IPC_MAILBOX_CAP_TIMED |             \
	 IPC_MAILBOX_CAP_ZERO | IPC_MAILBOX_CAP_BOUNDED | IPC_MAILBOX_CAP_UNBOUNDED |              \
	 IPC_MAILBOX_CAP_CROSS_PROCESS | IPC_MAILBOX_CAP_END_OF_STREAM | IPC_MAILBOX_CAP_DIRECT |  \
	 IPC_MAILBOX_CAP_REMOVE_WAKES | IPC_MAILBOX_CAP_PERSISTENCE | IPC_MAILBOX_CAP_PERMISSIONS | \
	 IPC_MAILBOX_CAP_PEER_DEATH | IPC_MAILBOX_CAP_RESTART | IPC_MAILBOX_CAP_MEM_LIMIT)

/* Both subjects share every operation but create (the ring or not). */
#define REF_MAILBOX_OPS(create_fn)                                                                 \
	{                                                                                          \
	    .create = create_fn, .open = ipc_mailbox_ref_open, .close = ipc_mailbox_ref_close,      \
	    .unlink = ipc_mailbox_ref_unlink, .send = ipc_mailbox_ref_send,                          \
	    .recv = ipc_mailbox_ref_recv, .self_id = ipc_mailbox_ref_self_id,                       \
	    .send_to = ipc_mailbox_ref_send_to, .recv_from = ipc_mailbox_ref_recv_from,             \
	    .recv_any = ipc_mailbox_ref_recv_any, .validate = ipc_mailbox_ref_validate,             \
	}

static const struct ipc_mailbox_ops mb_ops = REF_MAILBOX_OPS(ipc_mailbox_ref_create);

const struct ipc_subject ipc__subject_ref_mailbox = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "ref-mailbox",
    .mechanism = IPC_MECH_MAILBOX,
    .caps = REF_MAILBOX_CAPS,
    .ops = &mb_ops,
    .summary = "reference post office: a bounded mailbox's queue on a ref-shmbuf ring (a lock per "
	       "side), the rest under a robust mutex, queues rebuilt from slot states after a "
	       "holder's death; rendezvous by offers",
};

/* The same reference with its bounded mailbox queue kept in the locked pool
 * (as before the ring): the path a mailbox too big for a ring takes
 * (MB_RING_MAX), held to every clause on small ones too. */
static const struct ipc_mailbox_ops mb_locked_ops = REF_MAILBOX_OPS(mb_create_locked);

const struct ipc_subject ipc__subject_ref_mailbox_locked = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "ref-mailbox-locked",
    .mechanism = IPC_MECH_MAILBOX,
    .caps = REF_MAILBOX_CAPS,
    .ops = &mb_locked_ops,
    .summary = "ref-mailbox with its bounded mailbox queue in the locked pool, as a mailbox too "
	       "big for a ring has it: every call takes the post office's robust mutex",
};
