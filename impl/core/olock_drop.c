/* SPDX-License-Identifier: MIT */
/*
 * Ending an operation without keeping the side lock sticky. A sticky holder
 * saves two locked instructions per operation, but whoever sleeps waiting
 * for its side then pays a membarrier (tens of microseconds on a VM) to order
 * itself against the holder's plain stores. A caller whose operations are
 * large (the locked instructions are noise beside the copy) and whose peer
 * sleeps often lets go instead; see docs/ref-pipe-design.md, "Stickiness".
 */
#include "core/core.h"

/* Let go of a word we hold: the same protocol as olock.c's release of a
 * revoked or contended sticky word. A revoker may take the word once busy is
 * 0: then it is not ours and nothing is left to do. */
static uint32_t drop_word(struct ipc_side *s)
{
	uint32_t v = atomic_load_explicit(s->lk, memory_order_relaxed);

	while ((v & IPC_TOKEN_MASK) == s->token) {
		/* acq_rel: as the exchange of ipc__olock_release (publishes the
		 * critical section; orders the read of PEER_WAIT). */
		if (atomic_compare_exchange_weak_explicit(s->lk, &v, 0, memory_order_acq_rel,
							  memory_order_relaxed)) {
			if (v & IPC_OLOCK_LOCK_WAIT)
				ipc__futex_wake(s->lk, 1);
			return v & IPC_OLOCK_PEER_WAIT;
		}
	}
	return v & IPC_OLOCK_PEER_WAIT; /* not ours: a spurious wake at worst */
}

uint32_t ipc__side_leave_drop(struct ipc_side *s, uint32_t hold_off)
{
	/* Not sticky for the next hold_off releases (want_sticky's countdown). */
	if (s->probe < hold_off)
		s->probe = hold_off;
	if (!s->sticky)
		return ipc__side_release(s);
	s->sticky = false;
	/* release: our critical section happens-before a revoker's acquire of
	 * busy 0; from here on the word may be taken from us. */
	atomic_store_explicit(s->my_busy, 0, memory_order_release);
	return drop_word(s);
}
