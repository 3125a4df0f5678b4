/* SPDX-License-Identifier: MIT */
/* Invariants of a side lock word and its busy flags, for validate(). */
#include "core/core.h"

int ipc__olock_validate(_Atomic uint32_t *lk, _Atomic uint8_t *busy)
{
	uint32_t v = atomic_load_explicit(lk, memory_order_relaxed);
	uint32_t i;

	/* STICKY only with a holder; REVOKE only on a sticky word. */
	IPC_ENSURE(!(v & IPC_OLOCK_STICKY) || (v & IPC_TOKEN_MASK), IPC_EUCLEAN);
	IPC_ENSURE(!(v & IPC_OLOCK_REVOKE) || (v & IPC_OLOCK_STICKY), IPC_EUCLEAN);
	for (i = 0; i < IPC_PART_TABLE; i++)
		IPC_ENSURE(atomic_load_explicit(&busy[i], memory_order_relaxed) <= 1, IPC_EUCLEAN);
	return 0;
}
