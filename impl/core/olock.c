/* SPDX-License-Identifier: MIT */
/* The owner-tagged robust lock: slow path (spin, sleep in slices, steal). */
#include "core/core.h"

/* Spin a few microseconds: a holder's critical section is a memcpy. */
static bool spin_acquire(_Atomic uint32_t *lk, uint32_t token)
{
	int64_t end = ipc__now_ns() + IPC_SPIN_NS;
	unsigned i;

	for (i = 1;; i++) {
		ipc__cpu_relax();
		if (ipc__olock_try(lk, token))
			return true;
		if ((i & 63) == 0 && ipc__now_ns() > end)
			return false;
	}
}

/* Take the lock from a holder known to be gone, keeping the wait bits. */
static bool steal(_Atomic uint32_t *lk, uint32_t v, uint32_t token)
{
	uint32_t holder = v & IPC_TOKEN_MASK;

	if (IPC_MUTANT(NO_LOCK_STEAL))
		return false;
	while ((v & IPC_TOKEN_MASK) == holder) {
		/* acquire: whatever the dead holder wrote before dying is seen
		 * (its half-done work is invisible by protocol, not by luck). */
		if (atomic_compare_exchange_weak_explicit(lk, &v, (v & ~IPC_TOKEN_MASK) | token,
							  memory_order_acquire, memory_order_relaxed))
			return true;
	}
	return false;
}

/* Try to take a free lock; a sleeper re-sets LOCK_WAIT for those still asleep. */
static bool take_free(_Atomic uint32_t *lk, uint32_t v, uint32_t token, bool slept)
{
	uint32_t nv = v | token | (slept ? IPC_OLOCK_LOCK_WAIT : 0);

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

int ipc__olock_acquire(_Atomic uint32_t *lk, uint32_t token, struct ipc_part *tab, uint32_t role,
		       int64_t deadline_ns)
{
	int64_t limit, now, checked = -1;
	bool slept = false;

	if (ipc__olock_try(lk, token) || spin_acquire(lk, token))
		return 0;
	limit = deadline_ns ? deadline_ns : ipc__now_ns() + IPC_LOCK_NONBLOCK_NS;
	for (;;) {
		uint32_t v = atomic_load_explicit(lk, memory_order_relaxed);

		if (!(v & IPC_TOKEN_MASK)) {
			if (take_free(lk, v, token, slept))
				return 0;
			continue;
		}
		now = ipc__now_ns();
		/* Liveness costs system calls: once at first, then per slice. */
		if (checked < 0 || now - checked >= IPC_SLICE_NS) {
			enum ipc_owner_state st = ipc__ptab_owner(tab, v & IPC_TOKEN_MASK, role);

			checked = now;
			IPC_ENSURE(st != IPC_OWNER_BAD, IPC_EUCLEAN);
			if (st == IPC_OWNER_GONE && steal(lk, v, token))
				return 0;
			continue;
		}
		if (now >= limit)
			return IPC_ETIMEDOUT;
		sleep_slice(lk, v, now, limit);
		slept = true;
	}
}
