/* SPDX-License-Identifier: MIT */
/*
 * The owner-tagged robust lock, slow paths: spin, sleep in slices, steal from
 * a dead holder; and its biased ("sticky") mode: keep, drop, convert, revoke.
 * The correctness arguments are in docs/ref-shmbuf-design.md, "Sticky side
 * locks"; each ordering below names what it pairs with.
 */
#include "core/core.h"

/* Sleep slice while a sticky holder's cooperation cannot be relied on (no
 * membarrier) or while polling its busy flag: short, so nothing is lost. */
#define OLOCK_POLL_NS 1000000LL
/* Non-sticky operations between two "am I alone?" scans of the table. */
#define OLOCK_PROBE_EVERY 64u

static _Atomic uint8_t *busy_of(struct ipc_side *s, uint32_t token)
{
	return &s->busy[token & (IPC_PART_TABLE - 1)]; /* masked: token is shared data */
}

/* Spin a few microseconds: a holder's critical section is a memcpy. */
static bool spin_acquire(_Atomic uint32_t *lk, uint32_t token)
{
	int64_t end = ipc__now_ns() + IPC_SPIN_NS;
	unsigned i;

	for (i = 1;; i++) {
		ipc__cpu_relax();
		if (ipc__olock_try(lk, token))
			return true;
		if ((i & 63) == 0) {
			if (atomic_load_explicit(lk, memory_order_relaxed) & IPC_OLOCK_STICKY)
				return false; /* kept between operations: revoke, not spin */
			if (ipc__now_ns() > end)
				return false;
		}
	}
}

/* Take the lock from a holder known to be gone, keeping the wait bits (a
 * dead sticky holder's busy flag is reset: it will never clear it). */
static bool steal(struct ipc_side *s, uint32_t v)
{
	uint32_t holder = v & IPC_TOKEN_MASK;

	if (IPC_MUTANT(NO_LOCK_STEAL))
		return false;
	while ((v & IPC_TOKEN_MASK) == holder) {
		/* acquire: whatever the dead holder wrote before dying is seen
		 * (its half-done work is invisible by protocol, not by luck). */
		if (atomic_compare_exchange_weak_explicit(s->lk, &v, (v & IPC_OLOCK_WAIT_BITS) | s->token,
							  memory_order_acquire, memory_order_relaxed)) {
			atomic_store_explicit(busy_of(s, holder), 0, memory_order_relaxed);
			return true;
		}
	}
	return false;
}

/* Try to take a free lock; a sleeper re-sets LOCK_WAIT for those still asleep. */
static bool take_free(_Atomic uint32_t *lk, uint32_t v, uint32_t token, bool slept)
{
	uint32_t nv = (v & IPC_OLOCK_WAIT_BITS) | token | (slept ? IPC_OLOCK_LOCK_WAIT : 0);

	/* acquire: see the previous holder's critical section. */
	return atomic_compare_exchange_strong_explicit(lk, &v, nv, memory_order_acquire,
						       memory_order_relaxed);
}

/* Sleep one slice on lk, after announcing ourselves with LOCK_WAIT. */
static void sleep_slice(_Atomic uint32_t *lk, uint32_t v, int64_t now, int64_t limit)
{
	int64_t until = limit - now > IPC_SLICE_NS ? now + IPC_SLICE_NS : limit;

	if (!(v & IPC_OLOCK_LOCK_WAIT)) {
		/* relaxed: the futex compare, not this RMW, closes the race. */
		if (!atomic_compare_exchange_strong_explicit(lk, &v, v | IPC_OLOCK_LOCK_WAIT,
							     memory_order_relaxed, memory_order_relaxed))
			return;
		v |= IPC_OLOCK_LOCK_WAIT;
	}
	(void)ipc__futex_wait(lk, v, until);
}

/* Sleep at most OLOCK_POLL_NS while lk == v (no bit set: nobody wakes us). */
static void poll_slice(_Atomic uint32_t *lk, uint32_t v, int64_t now, int64_t limit)
{
	int64_t until = limit - now > OLOCK_POLL_NS ? now + OLOCK_POLL_NS : limit;

	(void)ipc__futex_wait(lk, v, until);
}

/* ---- revocation ------------------------------------------------------------ */

/* Wait until the holder's busy flag reads 0 (acquire) or the word leaves v.
 * Spins first (a critical section is a memcpy), then polls in short slices;
 * liveness is the caller's business. true when busy is 0 and lk is still v. */
static bool wait_not_busy(struct ipc_side *s, uint32_t v, int64_t limit)
{
	_Atomic uint8_t *b = busy_of(s, v);
	int64_t spin_end = ipc__now_ns() + IPC_SPIN_NS, now;
	unsigned i;

	for (i = 1;; i++) {
		/* acquire: pairs with the holder's release store of busy = 0, so
		 * its critical section happens-before ours. */
		if (atomic_load_explicit(b, memory_order_acquire) == 0)
			return atomic_load_explicit(s->lk, memory_order_relaxed) == v;
		if (atomic_load_explicit(s->lk, memory_order_relaxed) != v)
			return false;
		ipc__cpu_relax();
		if ((i & 63) == 0 && (now = ipc__now_ns()) > spin_end) {
			if (now >= limit)
				return false;
			poll_slice(s->lk, v, now, limit);
			return false; /* the caller re-checks liveness and the deadline */
		}
	}
}

/* After taking the word from a sticky holder: membarrier, then wait until its
 * busy flag is 0. Sound whatever happened before (the word may have left and
 * come back to the value we replaced: ABA): the holder's entry either stored
 * busy = 1 before its barrier point (we see it) or re-reads lk after it (sees
 * our token and backs off). Not bounded by the deadline: we hold the word,
 * and the holder is inside a memcpy; a dead holder is detected per slice. */
static void settle_transfer(struct ipc_side *s, uint32_t holder)
{
	_Atomic uint8_t *b = busy_of(s, holder);
	int64_t checked = ipc__now_ns();

	/* It worked a moment ago (revoke_step): a failure now is transient. */
	while (ipc__membarrier_global() != 0)
		poll_slice(s->lk, atomic_load_explicit(s->lk, memory_order_relaxed), ipc__now_ns(),
			   IPC_DEADLINE_NEVER);
	/* acquire: pairs with the holder's release of busy = 0. */
	while (atomic_load_explicit(b, memory_order_acquire) != 0) {
		int64_t now = ipc__now_ns();

		ipc__cpu_relax();
		if (now - checked < IPC_SPIN_NS)
			continue;
		if (ipc__ptab_owner(s->tab, holder, s->role) != IPC_OWNER_ALIVE) {
			atomic_store_explicit(b, 0, memory_order_relaxed); /* died inside */
			break;
		}
		(void)ipc__futex_wait(s->lk, atomic_load_explicit(s->lk, memory_order_relaxed),
				      now + OLOCK_POLL_NS);
		checked = now;
	}
}

/* One revocation step against a live sticky holder (word v): set REVOKE,
 * membarrier, wait for busy 0, take the word (non-sticky, wait bits kept).
 * 1 = we hold the lock, 0 = look again, or an error. */
static int revoke_step(struct ipc_side *s, uint32_t v, int64_t limit)
{
	uint32_t holder = v & IPC_TOKEN_MASK;

	if (!(v & IPC_OLOCK_REVOKE)) {
		/* A CAS, not fetch_or: REVOKE only ever lands on a sticky word.
		 * relaxed: the membarrier below orders it. */
		if (!atomic_compare_exchange_strong_explicit(s->lk, &v, v | IPC_OLOCK_REVOKE,
							     memory_order_relaxed, memory_order_relaxed))
			return 0;
		v |= IPC_OLOCK_REVOKE;
	}
	/* Pairs with the compiler barrier in ipc__side_enter_fast: W(lk |=
	 * REVOKE) ; membarrier ; R(busy) against W(busy = 1) ; R(lk). If we read
	 * busy 0, the holder's next entry reads REVOKE. Without membarrier we
	 * cannot rely on that: wait for the holder to let go by itself (its next
	 * operation sees REVOKE) or die. */
	if (ipc__membarrier_global() != 0) {
		poll_slice(s->lk, v, ipc__now_ns(), limit);
		return 0;
	}
	if (!wait_not_busy(s, v, limit))
		return 0;
	/* acquire: with the busy acquire above, the holder's critical sections
	 * happen-before ours. Non-sticky: the leave decides. */
	if (!atomic_compare_exchange_strong_explicit(s->lk, &v, (v & IPC_OLOCK_WAIT_BITS) | s->token,
						     memory_order_acquire, memory_order_relaxed))
		return 0;
	settle_transfer(s, holder);
	return 1;
}

/* ---- acquire ---------------------------------------------------------------- */

/* The contended loop: liveness once at first and once per slice (a gone
 * holder's lock is stolen), revocation of a live sticky holder, sleeps. */
static int acquire_slow(struct ipc_side *s, int64_t deadline_ns)
{
	int64_t limit, now, checked = -1;
	enum ipc_owner_state st = IPC_OWNER_ALIVE;
	uint32_t st_tok = 0; /* whose liveness st is */
	bool slept = false;

	/* Taking the lock from a live holder (or revoking an idle sticky one)
	 * is not a wait for the condition: a call of any timeout gets at
	 * least the non-blocking grace, as one of timeout 0 does ("an
	 * operation that can complete at once completes, whatever the
	 * timeout"). */
	limit = ipc__now_ns() + IPC_LOCK_NONBLOCK_NS;
	if (deadline_ns > limit)
		limit = deadline_ns;
	for (;;) {
		uint32_t v = atomic_load_explicit(s->lk, memory_order_relaxed);

		if (!(v & IPC_TOKEN_MASK)) {
			if (take_free(s->lk, v, s->token, slept))
				return 0;
			continue;
		}
		now = ipc__now_ns();
		/* Liveness costs system calls: once at first, then per slice;
		 * and before revoking a sticky holder not yet judged. */
		if (checked < 0 || now - checked >= IPC_SLICE_NS ||
		    ((v & IPC_OLOCK_STICKY) && (v & IPC_TOKEN_MASK) != st_tok)) {
			st_tok = v & IPC_TOKEN_MASK;
			st = ipc__ptab_owner(s->tab, st_tok, s->role);
			checked = now;
			IPC_ENSURE(st != IPC_OWNER_BAD, IPC_EUCLEAN);
			if (st == IPC_OWNER_GONE && steal(s, v))
				return 0;
			continue;
		}
		if (now >= limit)
			return IPC_ETIMEDOUT;
		if ((v & IPC_OLOCK_STICKY) && st == IPC_OWNER_ALIVE) {
			int rc = revoke_step(s, v, limit);

			if (rc != 0)
				return rc < 0 ? rc : 0;
			continue;
		}
		if (v & IPC_OLOCK_STICKY)
			poll_slice(s->lk, v, now, limit); /* gone but not stolen (mutant) */
		else
			sleep_slice(s->lk, v, now, limit);
		slept = true;
	}
}

/* Let go of a word we hold (a revoker may take it from us meanwhile: then
 * nothing to do). Reports PEER_WAIT for the caller to wake. */
static void let_go(struct ipc_side *s, uint32_t v, uint32_t *wake)
{
	s->sticky = false;
	while ((v & IPC_TOKEN_MASK) == s->token) {
		/* acq_rel: as the exchange of ipc__olock_release. */
		if (atomic_compare_exchange_weak_explicit(s->lk, &v, 0, memory_order_acq_rel,
							  memory_order_relaxed)) {
			if (v & IPC_OLOCK_LOCK_WAIT)
				ipc__futex_wake(s->lk, 1);
			*wake |= v & IPC_OLOCK_PEER_WAIT;
			return;
		}
	}
}

static bool keepable(const struct ipc_side *s, uint32_t v)
{
	return (v & ~IPC_OLOCK_PEER_WAIT) == (s->token | IPC_OLOCK_STICKY);
}

/* We believed we held the word sticky but the fast entry failed: v has
 * another bit or owner. Keep it (only PEER_WAIT: enter, the leave wakes) or
 * let it go (REVOKE, LOCK_WAIT, not ours). true = entered (busy set). */
static bool sticky_recheck(struct ipc_side *s, uint32_t *wake)
{
	uint32_t v = atomic_load_explicit(s->lk, memory_order_relaxed);

	if (keepable(s, v)) {
		atomic_store_explicit(s->my_busy, 1, memory_order_relaxed);
		/* A real fence on this slow path: W(busy) ; R(lk) (pairs with a
		 * revoker's W(lk) ; membarrier ; R(busy)). */
		atomic_thread_fence(memory_order_seq_cst);
		v = atomic_load_explicit(s->lk, memory_order_relaxed);
		if (keepable(s, v))
			return true;
		/* release: pairs with the revoker's acquire of busy. */
		atomic_store_explicit(s->my_busy, 0, memory_order_release);
	}
	let_go(s, v, wake);
	return false;
}

int ipc__side_lock(struct ipc_side *s, int64_t deadline_ns, uint32_t *wake)
{
	if (s->sticky && sticky_recheck(s, wake))
		return 0;
	if (ipc__olock_try(s->lk, s->token) || spin_acquire(s->lk, s->token))
		return 0;
	return acquire_slow(s, deadline_ns);
}

/* ---- leave ------------------------------------------------------------------- */

uint32_t ipc__side_leave_slow(struct ipc_side *s, uint32_t v)
{
	uint32_t wake = v & IPC_OLOCK_PEER_WAIT; /* read after our publish: wake */

	/* release: our critical section happens-before a revoker's acquire of
	 * busy 0. From here on the word may be taken from us. */
	atomic_store_explicit(s->my_busy, 0, memory_order_release);
	if (!keepable(s, v)) {
		/* REVOKE or LOCK_WAIT: hand over now. Not ours (taken by a
		 * revoker that waited for our busy 0, or by a stealer that thought
		 * us dead) or corrupt: nothing of ours to clear. */
		let_go(s, v, &wake);
		return wake;
	}
	/* Only PEER_WAIT. acq_rel: clear the announcement we answer; an RMW, so
	 * a concurrent REVOKE or announcement is kept (seen next entry). */
	(void)atomic_fetch_and_explicit(s->lk, ~IPC_OLOCK_PEER_WAIT, memory_order_acq_rel);
	return wake;
}

/* Are we the only present participant of our role? (No system call.) */
static bool alone(struct ipc_side *s)
{
	uint32_t i, n = 0;

	for (i = 0; i < IPC_PART_TABLE; i++) {
		uint64_t w = atomic_load_explicit(&s->tab[i].word, memory_order_relaxed);
		uint32_t st = ipc__part_status(w);

		if ((st == IPC_PART_CLAIMING || st == IPC_PART_LIVE) && ipc__part_role(w) == s->role)
			n++;
	}
	return n == 1;
}

/* Should this non-sticky holder keep the lock? Only a registered process
 * (revokers and sleepers rely on membarrier reaching it), only when it is
 * alone in its role (checked every OLOCK_PROBE_EVERY operations). A wrong
 * guess costs a revocation, never correctness. */
static bool want_sticky(struct ipc_side *s)
{
	if (!ipc__membarrier_registered())
		return false;
	if (s->probe) {
		s->probe--;
		return false;
	}
	s->probe = OLOCK_PROBE_EVERY - 1;
	return alone(s);
}

uint32_t ipc__side_release(struct ipc_side *s)
{
	uint32_t v = atomic_load_explicit(s->lk, memory_order_relaxed);
	const uint32_t bad = IPC_OLOCK_LOCK_WAIT | IPC_OLOCK_STICKY | IPC_OLOCK_REVOKE;

	if ((v & IPC_TOKEN_MASK) == s->token && !(v & bad) && want_sticky(s) &&
	    atomic_compare_exchange_strong_explicit(s->lk, &v, s->token | IPC_OLOCK_STICKY,
						    memory_order_acq_rel, memory_order_relaxed)) {
		/* acq_rel, like the exchange it replaces: our critical section is
		 * published, and a PEER_WAIT announced before it is seen (and
		 * cleared: we wake). Later announcements meet a sticky word and
		 * use membarrier. */
		s->sticky = true;
		return v & IPC_OLOCK_PEER_WAIT;
	}
	return ipc__olock_release(s->lk);
}

void ipc__side_detach(struct ipc_side *s)
{
	uint32_t wake = 0; /* PEER_WAIT: the detach wakes both sides anyway */

	let_go(s, atomic_load_explicit(s->lk, memory_order_relaxed), &wake);
}

/* ---- the other side's sleepers ---------------------------------------------------- */

bool ipc__olock_announce_peer(_Atomic uint32_t *lk)
{
	/* acq_rel: either the holder's next RMW (release, convert to sticky)
	 * sees the bit, or this RMW reads from it and the caller's re-check
	 * sees what it published. */
	uint32_t old = atomic_fetch_or_explicit(lk, IPC_OLOCK_PEER_WAIT, memory_order_acq_rel);

	if (!(old & IPC_OLOCK_STICKY))
		return true;
	/* A sticky holder publishes with W(tail) ; R(lk) and compiler barriers
	 * only (ipc__side_leave): W(lk |= PEER_WAIT) ; membarrier ; R(tail)
	 * makes sure one of us sees the other. */
	return ipc__membarrier_global() == 0;
}
