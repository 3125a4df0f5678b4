/* SPDX-License-Identifier: MIT */
/*
 * Adoption of a participant slot by a forked child: the parent claims a slot
 * in its own name before fork() (so the child's holding is counted from the
 * first instant), and the child rewrites it to its own identity. The claim
 * protocol of ptab.c is reused: CLAIMING (judged by pid alone), start time,
 * then LIVE, each step a CAS on the exact word, so a reaper that judged the
 * old identity wins or loses cleanly.
 */
#include "core/core.h"

static bool slot_is(uint64_t w, uint32_t token, pid_t pid)
{
	uint32_t st = ipc__part_status(w);

	return (st == IPC_PART_CLAIMING || st == IPC_PART_LIVE) && ipc__part_pid(w) == pid &&
	       (ipc__part_gen(w) & IPC_TOKEN_GEN_MASK) ==
		   (token & IPC_TOKEN_MASK) >> IPC_TOKEN_IDX_BITS;
}

int ipc__ptab_adopt(struct ipc_part *tab, uint32_t idx, uint32_t token, pid_t from)
{
	struct ipc_part *p = &tab[idx % IPC_PART_TABLE];
	/* acquire: pairs with the claimer's release CAS (its start time). */
	uint64_t w = atomic_load_explicit(&p->word, memory_order_acquire);
	pid_t self = ipc__self_pid();
	uint64_t claiming, live;

	if (!slot_is(w, token, from))
		return IPC_ENOENT; /* reaped (the parent died) or never ours */
	claiming =
	    ipc__part_make_word(IPC_PART_CLAIMING, ipc__part_role(w), ipc__part_gen(w), self);
	live = ipc__part_make_word(IPC_PART_LIVE, ipc__part_role(w), ipc__part_gen(w), self);
	if (!atomic_compare_exchange_strong_explicit(&p->word, &w, claiming, memory_order_acq_rel,
						     memory_order_relaxed))
		return IPC_ENOENT;
	atomic_store_explicit(&p->start, ipc__self_start(), memory_order_relaxed);
	/* release: the start time is visible to whoever sees LIVE. A reaper
	 * that wrongly judged the claim dead voids it: the caller claims anew. */
	if (!atomic_compare_exchange_strong_explicit(&p->word, &claiming, live,
						     memory_order_release, memory_order_relaxed))
		return IPC_ENOENT;
	return 0;
}
