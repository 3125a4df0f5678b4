/* SPDX-License-Identifier: MIT */
/* The participant table: who is attached, as what, and are they alive. */
#include "core/core.h"

static uint64_t part_word(uint32_t status, uint32_t role, uint32_t gen, pid_t pid)
{
	return (uint64_t)status | (uint64_t)(role & 3u) << 2 | (uint64_t)(gen & 0x0FFFFFFFu) << 4 |
	       (uint64_t)(uint32_t)pid << 32;
}

/* The next generation of a slot; its low 22 bits (the token's) are never 0,
 * so a token is never 0 (0 means "unlocked"). */
static uint32_t next_gen(uint32_t gen)
{
	gen = (gen + 1) & 0x0FFFFFFFu;
	if ((gen & IPC_TOKEN_GEN_MASK) == 0)
		gen = (gen + 1) & 0x0FFFFFFFu;
	return gen;
}

static bool part_present(uint64_t w)
{
	uint32_t st = ipc__part_status(w);

	return st == IPC_PART_CLAIMING || st == IPC_PART_LIVE;
}

static bool try_claim(struct ipc_part *p, uint32_t role, pid_t pid, uint64_t start,
		      uint32_t *gen_out)
{
	uint64_t w = atomic_load_explicit(&p->word, memory_order_relaxed);
	uint32_t gen = next_gen(ipc__part_gen(w));

	if (ipc__part_status(w) != IPC_PART_FREE)
		return false;
	/* One CAS records the pid with the claim: a claimer killed right after
	 * is identifiable, hence reapable. acq_rel: orders against the release
	 * of the previous owner and publishes the claim. */
	uint64_t claiming = part_word(IPC_PART_CLAIMING, role, gen, pid);

	if (!atomic_compare_exchange_strong_explicit(&p->word, &w, claiming, memory_order_acq_rel,
						     memory_order_relaxed))
		return false;
	atomic_store_explicit(&p->start, start, memory_order_relaxed);
	/* A CAS, not a store: a reaper that wrongly judged the claim dead has
	 * freed (and maybe re-issued) the slot; then this claim is void.
	 * release: the start time is visible to whoever sees LIVE. */
	if (!atomic_compare_exchange_strong_explicit(&p->word, &claiming,
						     part_word(IPC_PART_LIVE, role, gen, pid),
						     memory_order_release, memory_order_relaxed))
		return false;
	*gen_out = gen;
	return true;
}

int ipc__ptab_claim(struct ipc_part *tab, uint32_t role, uint32_t *idx, uint32_t *token)
{
	return ipc__ptab_claim_as(tab, role, ipc__self_pid(), ipc__self_start(), idx, token);
}

int ipc__ptab_claim_as(struct ipc_part *tab, uint32_t role, pid_t pid, uint64_t start,
		       uint32_t *idx, uint32_t *token)
{
	uint32_t i, gen;
	int pass;

	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < IPC_PART_TABLE; i++) {
			if (try_claim(&tab[i], role, pid, start, &gen)) {
				*idx = i;
				*token = i | (gen & IPC_TOKEN_GEN_MASK) << IPC_TOKEN_IDX_BITS;
				return 0;
			}
		}
		/* Full: dead participants may be holding slots. Scan again even if
		 * our reap freed none: another attacher may have reaped them between
		 * our scan and our reap (the kill campaign saw -EUSERS with a
		 * handful of live parties, about one full run in eight). */
		if (ipc__ptab_reap(tab) == 0 && pass > 0)
			break;
	}
	return IPC_EUSERS;
}

void ipc__ptab_release(struct ipc_part *tab, uint32_t idx, uint32_t token)
{
	struct ipc_part *p = &tab[idx % IPC_PART_TABLE];
	uint64_t w = atomic_load_explicit(&p->word, memory_order_relaxed);

	if ((ipc__part_gen(w) & IPC_TOKEN_GEN_MASK) != token >> IPC_TOKEN_IDX_BITS)
		return; /* not ours any more (reaped by a confused or hostile peer) */
	/* release: everything this participant published happens-before a
	 * scanner's acquire load that sees the slot free (end of stream). */
	atomic_compare_exchange_strong_explicit(&p->word, &w,
						part_word(IPC_PART_FREE, 0, ipc__part_gen(w), 0),
						memory_order_release, memory_order_relaxed);
}

bool ipc__ptab_any(struct ipc_part *tab, uint32_t role)
{
	uint32_t i;

	for (i = 0; i < IPC_PART_TABLE; i++) {
		/* acquire: pairs with the release in ipc__ptab_release. */
		uint64_t w = atomic_load_explicit(&tab[i].word, memory_order_acquire);

		if (part_present(w) && ipc__part_role(w) == role)
			return true;
	}
	return false;
}

/* Free p if the participant recorded in w is dead: true if we freed it. */
static bool reap_one(struct ipc_part *p, uint64_t w)
{
	/* While claiming, start may still be the previous occupant's: judge
	 * by the pid alone. Once LIVE (acquire-loaded by the caller), start is
	 * this participant's. */
	uint64_t start = ipc__part_status(w) == IPC_PART_LIVE
				 ? atomic_load_explicit(&p->start, memory_order_relaxed)
				 : 0;

	if (ipc__proc_alive(ipc__part_pid(w), start))
		return false;
	/* The CAS on the exact word makes the reaper unique and ignores a slot
	 * re-claimed since w was read (start may then be the new owner's). */
	return atomic_compare_exchange_strong_explicit(
		&p->word, &w, part_word(IPC_PART_FREE, 0, ipc__part_gen(w), 0),
		memory_order_acq_rel, memory_order_relaxed);
}

int ipc__ptab_reap(struct ipc_part *tab)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < IPC_PART_TABLE; i++) {
		uint64_t w = atomic_load_explicit(&tab[i].word, memory_order_acquire);

		if (part_present(w) && reap_one(&tab[i], w))
			n++;
	}
	return n;
}

int ipc__ptab_reap_limited(struct ipc_part *tab, _Atomic uint64_t *last_ns, int64_t period_ns)
{
	uint64_t now = (uint64_t)ipc__now_ns();
	uint64_t last = atomic_load_explicit(last_ns, memory_order_relaxed);

	/* Unsigned difference: a corrupt timestamp in the future means "scan
	 * now", never "never scan". */
	if (now - last < (uint64_t)period_ns)
		return 0;
	if (!atomic_compare_exchange_strong_explicit(last_ns, &last, now, memory_order_relaxed,
						     memory_order_relaxed))
		return 0; /* another scanner won this period */
	return ipc__ptab_reap(tab);
}

enum ipc_owner_state ipc__ptab_owner(struct ipc_part *tab, uint32_t token, uint32_t role)
{
	struct ipc_part *p = &tab[token & (IPC_PART_TABLE - 1)];
	uint64_t w = atomic_load_explicit(&p->word, memory_order_acquire);

	if (!part_present(w) ||
	    (ipc__part_gen(w) & IPC_TOKEN_GEN_MASK) != (token & IPC_TOKEN_MASK) >> IPC_TOKEN_IDX_BITS)
		return IPC_OWNER_GONE;
	if (ipc__part_role(w) != role)
		return IPC_OWNER_BAD;
	if (reap_one(p, w))
		return IPC_OWNER_GONE;
	/* Either alive, or another reaper freed it just now. */
	return atomic_load_explicit(&p->word, memory_order_acquire) == w ? IPC_OWNER_ALIVE
									  : IPC_OWNER_GONE;
}

bool ipc__ptab_holds(struct ipc_part *tab, uint32_t token, uint32_t role)
{
	uint64_t w = atomic_load_explicit(&tab[token & (IPC_PART_TABLE - 1)].word,
					  memory_order_acquire);

	return part_present(w) && ipc__part_role(w) == role &&
	       (ipc__part_gen(w) & IPC_TOKEN_GEN_MASK) ==
		   (token & IPC_TOKEN_MASK) >> IPC_TOKEN_IDX_BITS;
}

int ipc__ptab_validate(struct ipc_part *tab)
{
	uint32_t i;

	for (i = 0; i < IPC_PART_TABLE; i++) {
		uint64_t w = atomic_load_explicit(&tab[i].word, memory_order_acquire);

		IPC_ENSURE(ipc__part_status(w) != IPC_PART_BAD, IPC_EUCLEAN);
		if (part_present(w)) {
			IPC_ENSURE(ipc__part_pid(w) > 0, IPC_EUCLEAN);
			IPC_ENSURE(ipc__part_role(w) != 0, IPC_EUCLEAN);
		}
	}
	return 0;
}
