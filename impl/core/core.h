/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory core of the reference implementations: segments, futexes,
 * time, process liveness, the participant table and the owner-tagged robust
 * lock. Every mechanism built on shared memory (shmbuf, later pipes and
 * mailboxes) uses these pieces; see docs/ref-shmbuf-design.md.
 *
 * Conventions: functions return 0 (or a count) or a negative errno from
 * spec/ipc_errors.h; they never leave errno as the result. Names with `ipc__`
 * are internal to impl/.
 */
#ifndef IPCSPEC_CORE_CORE_H
#define IPCSPEC_CORE_CORE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fiu-local.h>

#include "ipc_errors.h"
#include "core/mutant.h"

/* ---- guard macros ------------------------------------------------------ */

#define IPC_MUST_USE __attribute__((warn_unused_result))
#define IPC_LIKELY(x) __builtin_expect(!!(x), 1)
#define IPC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Return err (a negative errno) unless cond holds. */
#define IPC_ENSURE(cond, err)                                                \
	do {                                                                     \
		if (IPC_UNLIKELY(!(cond)))                                           \
			return (err);                                                    \
	} while (0)

/* Propagate a negative result. */
#define IPC_GUARD(expr)                                                      \
	do {                                                                     \
		int ipc__g_rc = (expr);                                              \
		if (IPC_UNLIKELY(ipc__g_rc < 0))                                     \
			return ipc__g_rc;                                                \
	} while (0)

#define IPC_BAIL(err) return (err)

/* x86 lines are 64 bytes, but the adjacent-line prefetcher pairs them: hot
 * words that two cores write go 128 bytes apart. */
#define IPC_CACHELINE 64
#define IPC_HOTLINE 128

/* ---- time (CLOCK_MONOTONIC, nanoseconds) --------------------------------- */

#define IPC_NS_PER_SEC 1000000000LL
#define IPC_DEADLINE_NEVER INT64_MAX

int64_t ipc__now_ns(void);

/* A relative timeout (-1 infinite, 0 none, > 0 ns) as an absolute deadline:
 * IPC_DEADLINE_NEVER for infinite, 0 for "do not wait". */
int64_t ipc__deadline(int64_t timeout_ns);

/* The code for an expired wait: -EAGAIN for timeout 0, -ETIMEDOUT otherwise. */
static inline int ipc__expired_code(int64_t timeout_ns)
{
	return timeout_ns == 0 ? IPC_EAGAIN : IPC_ETIMEDOUT;
}

/* One pause of a spin loop: no system call, no yield. */
static inline void ipc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* ---- futex (never FUTEX_PRIVATE_FLAG: the words are cross-process) ------- */

/* Sleep while *word == expected, at most until the absolute monotonic
 * deadline. 0 on wake-up, spurious wake-up, value change or signal (callers
 * re-check their condition); -ETIMEDOUT once the deadline passed. */
int ipc__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns);
void ipc__futex_wake(_Atomic uint32_t *word, int count);

/* After a wait ended with -EINTR by a signal handler: would Linux restart
 * the call (SA_RESTART)? sig.c says how it is judged. */
bool ipc__sig_restarts(void);
/* Hold the asynchronous signals between two sleeps of one wait; release says
 * whether a handler fell due meanwhile (then: as if the sleep was
 * interrupted). Never return to the caller with them held. */
void ipc__sig_hold(sigset_t *old);
bool ipc__sig_release(const sigset_t *old);

/* Bump a sequence word and wake every sleeper on it. */
void ipc__futex_bump_wake_all(_Atomic uint32_t *word);

/* ---- segments ------------------------------------------------------------ */

/* 0 when name is a valid shm name: '/' then 1..IPC_NAME_MAX-1 bytes without
 * '/'. -EINVAL or -ENAMETOOLONG otherwise. */
int ipc__shm_check_name(const char *name) IPC_MUST_USE;

/* Create name exclusively with mode 0600, size it to size bytes and back the
 * first backed bytes with memory. *fd_out is the open descriptor. */
int ipc__shm_create(const char *name, size_t size, size_t backed, int *fd_out) IPC_MUST_USE;

/* Open an existing name (never following a symlink); its size in *size. */
int ipc__shm_open(const char *name, int *fd_out, size_t *size) IPC_MUST_USE;

int ipc__shm_unlink(const char *name) IPC_MUST_USE;

/* Back [off, off+len) of fd with memory: -ENOMEM on refusal. */
int ipc__shm_grow(int fd, uint64_t off, uint64_t len) IPC_MUST_USE;

/* Give [off, off+len) back (punch a hole). Failure only keeps the memory. */
void ipc__shm_reclaim(int fd, uint64_t off, uint64_t len);

/* Map fd (len bytes) shared, once per process per file: handles of one
 * process share a mapping (so ThreadSanitizer sees one address per word).
 * populate pre-faults the pages; otherwise the span is MAP_NORESERVE. */
int ipc__shm_map(int fd, size_t len, bool populate, void **base) IPC_MUST_USE;
/* The same for [off, off + len) of fd (off a multiple of the page size):
 * several regions of one file, each mapped once per process. */
int ipc__shm_map_at(int fd, uint64_t off, size_t len, bool populate, void **base) IPC_MUST_USE;
void ipc__shm_unmap(void *base, size_t len);

/* ---- named files (namefile.c) ---------------------------------------------- */

/* Create path exclusively, a regular file of mode (under the umask) that
 * format(fd, arg) fills before the name appears: -EEXIST when path exists
 * (whatever it is), format's error (nothing named), or 0. */
typedef int (*ipc__format_fn)(int fd, void *arg);
int ipc__file_create(const char *path, uint32_t mode, ipc__format_fn format, void *arg) IPC_MUST_USE;

/* The path of a harness name ("/ipcspec-…", one component) under $TMPDIR,
 * else /tmp: -EINVAL for another shape, -ENAMETOOLONG when it does not fit. */
int ipc__tmp_path(const char *name, char *path, size_t len) IPC_MUST_USE;

/* ---- processes ----------------------------------------------------------- */

/* Start time (field 22 of /proc/<pid>/stat) of pid; -ENOENT if gone. */
int ipc__proc_start_time(pid_t pid, uint64_t *start) IPC_MUST_USE;

/* This process: pid and start time, cached, refreshed after fork. */
pid_t ipc__self_pid(void);
uint64_t ipc__self_start(void);

/* Incremented in a child after fork: handles remember the value they were
 * attached under and refuse to work in a child. */
uint32_t ipc__fork_gen(void);

/* The same without registering the fork handler (done by any attach, which
 * precedes every handle): one relaxed load on the data path. */
extern _Atomic uint32_t ipc__fork_generation;
static inline uint32_t ipc__fork_gen_now(void)
{
	return atomic_load_explicit(&ipc__fork_generation, memory_order_relaxed);
}

/* false only when pid is certainly dead: gone, a zombie, or another process
 * reusing the pid (different start time). Unreadable state counts as alive. */
bool ipc__proc_alive(pid_t pid, uint64_t start);

/* ---- participant table (lives in the segment) ----------------------------- */

enum ipc_part_status {
	IPC_PART_FREE = 0,
	IPC_PART_CLAIMING = 1, /* pid known, start time being written */
	IPC_PART_LIVE = 2,
	IPC_PART_BAD = 3, /* never written by us: corruption */
};

/* word: status (bits 0-1), role (2-3), generation (4-31), pid (32-63). One
 * 64-bit CAS claims a slot with its pid, so a claimer that dies at once is
 * still identifiable and reapable. */
struct ipc_part {
	_Atomic uint64_t word;
	_Atomic uint64_t start; /* process start time, 0 while claiming */
};

#define IPC_PART_TABLE 64 /* slots; token index is 6 bits */
#define IPC_TOKEN_IDX_BITS 6
#define IPC_TOKEN_GEN_MASK 0x3FFFFFu /* 22 generation bits in a token */
#define IPC_TOKEN_MASK 0x0FFFFFFFu   /* index + generation */

static inline uint32_t ipc__part_status(uint64_t w) { return (uint32_t)(w & 3u); }
static inline uint32_t ipc__part_role(uint64_t w) { return (uint32_t)((w >> 2) & 3u); }
static inline uint32_t ipc__part_gen(uint64_t w) { return (uint32_t)((w >> 4) & 0x0FFFFFFFu); }
static inline pid_t ipc__part_pid(uint64_t w) { return (pid_t)(uint32_t)(w >> 32); }

/* Claim a free slot for role (1..3) for this process: its index and lock
 * token (never 0). -EUSERS when full (after reaping the dead once). */
int ipc__ptab_claim(struct ipc_part *tab, uint32_t role, uint32_t *idx, uint32_t *token) IPC_MUST_USE;

/* The same in the name of another live process (pid, start): a slot held
 * for it until it adopts the slot (ipc__ptab_adopt with from = its own pid
 * confirms it) or dies and is reaped. */
int ipc__ptab_claim_as(struct ipc_part *tab, uint32_t role, pid_t pid, uint64_t start,
		       uint32_t *idx, uint32_t *token) IPC_MUST_USE;

/* Free the caller's own slot (detach). */
void ipc__ptab_release(struct ipc_part *tab, uint32_t idx, uint32_t token);

/* Is a participant of role claiming or live (without liveness system calls)? */
bool ipc__ptab_any(struct ipc_part *tab, uint32_t role);

/* Check every live participant and free the dead ones: the number reaped.
 * Costs system calls: call it on slow paths only. */
int ipc__ptab_reap(struct ipc_part *tab);

/* Rate-limited ipc__ptab_reap: at most one scan per period among all
 * processes, using *last_ns (in the segment) as the shared timestamp. */
int ipc__ptab_reap_limited(struct ipc_part *tab, _Atomic uint64_t *last_ns, int64_t period_ns);

enum ipc_owner_state {
	IPC_OWNER_ALIVE = 0, /* the token names a live participant */
	IPC_OWNER_GONE = 1,  /* freed, reused, or dead (now reaped) */
	IPC_OWNER_BAD = 2,   /* names a participant of another role: corruption */
};

/* What is the holder of token? Reaps it when it is dead. */
enum ipc_owner_state ipc__ptab_owner(struct ipc_part *tab, uint32_t token, uint32_t role);

/* Does token still name a present participant of role? No system call: a
 * dead one counts until it is reaped. */
bool ipc__ptab_holds(struct ipc_part *tab, uint32_t token, uint32_t role);

/* Invariants of the table: 0 or -EUCLEAN. */
int ipc__ptab_validate(struct ipc_part *tab) IPC_MUST_USE;

/* ---- membarrier (membar.c) ------------------------------------------------ */

/* Register this process for MEMBARRIER_CMD_GLOBAL_EXPEDITED (once; again in a
 * forked child): true if it may hold a side lock sticky. Thread-safe. */
bool ipc__membarrier_register(void);
bool ipc__membarrier_registered(void);
void ipc__membarrier_forked(void);

/* A full memory barrier on every CPU running a registered process (GLOBAL_
 * EXPEDITED), else on every CPU (GLOBAL, slow): 0, or -1 if neither works
 * (then no sticky holder's cooperation may be relied on). */
int ipc__membarrier_global(void);

/* ---- owner-tagged robust lock ---------------------------------------------
 * A 32-bit word: the holder's token (bits 0-27, 0 = free), STICKY (the holder
 * keeps the lock between operations and enters with compiler barriers only),
 * REVOKE (a same-role contender asks a sticky holder to let go), LOCK_WAIT
 * (a contender may sleep on the word) and PEER_WAIT (the other side of the
 * buffer sleeps until this side publishes). A non-sticky release is one
 * exchange, whose returned bits say whether anyone must be woken.
 * docs/ref-shmbuf-design.md, "Owner-tagged lock" and "Sticky side locks".
 */
#define IPC_OLOCK_STICKY (1u << 28)
#define IPC_OLOCK_REVOKE (1u << 29)
#define IPC_OLOCK_LOCK_WAIT (1u << 30)
#define IPC_OLOCK_PEER_WAIT (1u << 31)
#define IPC_OLOCK_WAIT_BITS (IPC_OLOCK_LOCK_WAIT | IPC_OLOCK_PEER_WAIT)

/* One side (producers or consumers) of a buffer, as one handle sees it. */
struct ipc_side {
	_Atomic uint32_t *lk;      /* the side's lock word */
	_Atomic uint8_t *busy;     /* IPC_PART_TABLE flags: a sticky holder is inside */
	_Atomic uint8_t *my_busy;  /* &busy[our slot] */
	struct ipc_part *tab;      /* participant table */
	uint32_t token, role;
	bool sticky;               /* we hold lk sticky (between operations too) */
	uint32_t probe;            /* operations until the next "alone?" check */
};

/* Uncontended acquire: one CAS, acquire ordering (the holder then sees what
 * the previous holder wrote before releasing). Keeps only the wait bits. */
static inline bool ipc__olock_try(_Atomic uint32_t *lk, uint32_t token)
{
	uint32_t v = atomic_load_explicit(lk, memory_order_relaxed);

	if (v & IPC_TOKEN_MASK)
		return false;
	/* acquire: pairs with the release half of ipc__olock_release. */
	return atomic_compare_exchange_strong_explicit(lk, &v, (v & IPC_OLOCK_WAIT_BITS) | token,
						       memory_order_acquire, memory_order_relaxed);
}

/* Release; returns the wait bits that were set (the caller wakes the peer for
 * PEER_WAIT; LOCK_WAIT is handled here). acq_rel: the release half publishes
 * the critical section; the acquire half orders the read of PEER_WAIT after a
 * peer's announcement (see the design doc, "lost wake-ups"). */
static inline uint32_t ipc__olock_release(_Atomic uint32_t *lk)
{
	uint32_t old = atomic_exchange_explicit(lk, 0, memory_order_acq_rel);

	if (IPC_UNLIKELY(old & IPC_OLOCK_LOCK_WAIT))
		ipc__futex_wake(lk, 1);
	return old & IPC_OLOCK_PEER_WAIT;
}

/* Announce a sleeper of the other side (before its final re-check). true if
 * the caller may sleep a full slice; false if it must sleep in short slices
 * (the holder is sticky and no membarrier could order us against it). */
bool ipc__olock_announce_peer(_Atomic uint32_t *lk);

/* Sticky fast entry: true if we hold the side sticky and may run the critical
 * section (busy set). No locked instruction, no system call. */
static inline bool ipc__side_enter_fast(struct ipc_side *s)
{
	const uint32_t want = s->token | IPC_OLOCK_STICKY;

	if (!s->sticky || atomic_load_explicit(s->lk, memory_order_relaxed) != want)
		return false;
	atomic_store_explicit(s->my_busy, 1, memory_order_relaxed);
	/* Compiler barrier only: W(busy) ; R(lk) becomes ordered when a revoker
	 * runs membarrier after writing lk (pairs with revoke_*() in olock.c).
	 * Any other bit (REVOKE, PEER_WAIT, LOCK_WAIT) or owner: slow path. */
	atomic_signal_fence(memory_order_seq_cst);
	if (IPC_LIKELY(atomic_load_explicit(s->lk, memory_order_relaxed) == want))
		return true;
	/* release: nothing done; pairs with the revoker's acquire of busy. */
	atomic_store_explicit(s->my_busy, 0, memory_order_release);
	return false;
}

/* Take the side's lock for one operation after the fast entry failed: drops
 * or keeps stickiness, revokes a sticky holder, steals from a dead one.
 * 0, -ETIMEDOUT (deadline passed) or -EUCLEAN; *wake gets PEER_WAIT if the
 * caller must wake the other side (a word we let go had it set). */
int ipc__side_lock(struct ipc_side *s, int64_t deadline_ns, uint32_t *wake) IPC_MUST_USE;

uint32_t ipc__side_leave_slow(struct ipc_side *s, uint32_t v);
uint32_t ipc__side_release(struct ipc_side *s);

/* End an operation, after its last publishing store: PEER_WAIT if the other
 * side must be woken. A sticky holder keeps the lock: one relaxed load and
 * one release store, no locked instruction. The _try form does only that
 * and says false, having done nothing, when ipc__side_leave must run. */
static inline bool ipc__side_leave_try(struct ipc_side *s)
{
	if (!s->sticky)
		return false;
	/* Compiler barrier only: W(tail/head) ; R(lk) becomes ordered when a
	 * sleeper runs membarrier after setting PEER_WAIT (pairs with
	 * ipc__olock_announce_peer): either we see PEER_WAIT, or the sleeper's
	 * re-check sees what we published. */
	atomic_signal_fence(memory_order_seq_cst);
	if (IPC_UNLIKELY(atomic_load_explicit(s->lk, memory_order_relaxed) !=
			 (s->token | IPC_OLOCK_STICKY)))
		return false;
	/* release: our critical section happens-before a revoker's acquire
	 * load that sees busy 0. */
	atomic_store_explicit(s->my_busy, 0, memory_order_release);
	return true;
}

static inline uint32_t ipc__side_leave(struct ipc_side *s)
{
	if (IPC_LIKELY(ipc__side_leave_try(s)))
		return 0;
	if (!s->sticky)
		return ipc__side_release(s);
	atomic_signal_fence(memory_order_seq_cst); /* as in ipc__side_leave_try */
	return ipc__side_leave_slow(s, atomic_load_explicit(s->lk, memory_order_relaxed));
}

/* Detach: let go of the lock if we hold it (sticky); wakes lock sleepers. */
void ipc__side_detach(struct ipc_side *s);

/* ---- fault and race points ------------------------------------------------ */

/* Act on the failinfo of an enabled race point: 1 sched_yield, 2 busy-wait
 * 0-50 us, 9 SIGKILL this process. Called only through IPC_RACE. */
void ipc__race_point(const char *name);

#define IPC_RACE(name) fiu_do_on(name, ipc__race_point(name))

/* Spin this long before sleeping (at first; a handle adapts it between
 * IPC_SPIN_NS and IPC_SPIN_MAX_NS: sleeps shorter than IPC_SPIN_ADAPT_NS
 * double it, longer ones reset it), and sleep at most a slice at a time. */
#define IPC_SPIN_NS 10000LL
#define IPC_SPIN_MAX_NS 200000LL
#define IPC_SPIN_ADAPT_NS 1000000LL
#define IPC_SLICE_NS 50000000LL
/* Liveness scans at most this often (non-blocking callers). */
#define IPC_SCAN_PERIOD_NS 10000000LL
/* A non-blocking caller waits this long at most for a contended lock. */
#define IPC_LOCK_NONBLOCK_NS 20000000LL

/* ---- additions for ref-pipe (appended; impl/core/memfd.c, futex.c,
 * ptab_adopt.c, olock_drop.c, olock_check.c; docs/ref-pipe-design.md) ------ */

/* A participant word (the layout of struct ipc_part.word). */
static inline uint64_t ipc__part_make_word(uint32_t status, uint32_t role, uint32_t gen, pid_t pid)
{
	return (uint64_t)status | (uint64_t)(role & 3u) << 2 | (uint64_t)(gen & 0x0FFFFFFFu) << 4 |
	       (uint64_t)(uint32_t)pid << 32;
}

/* An anonymous segment (memfd, close-on-exec) of size bytes whose first
 * backed bytes are backed now, sealed against shrinking and growing.
 * -EMFILE / -ENFILE (descriptor limits) or -ENOMEM. */
int ipc__memfd_create(const char *tag, size_t size, size_t backed, int *fd_out) IPC_MUST_USE;

/* ipc__futex_wait, but a signal handler that ran ends the wait with -EINTR
 * (a wake-up, a value change or a spurious return is 0; -ETIMEDOUT). */
int ipc__futex_wait_intr(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns);
/* A per-thread xorshift: for jitter and race-widening delays, not quality. */
uint32_t ipc__rand32(void);

/* In a forked child: take over the slot (idx, token) that process `from`
 * (the parent) claimed for it before fork, as this process. 0, or -ENOENT
 * when the slot is no longer that claim (then claim a fresh one). */
int ipc__ptab_adopt(struct ipc_part *tab, uint32_t idx, uint32_t token, pid_t from) IPC_MUST_USE;

/* End an operation (like ipc__side_leave) but let the lock go, sticky or
 * not, and keep it non-sticky for the next hold_off releases: for callers
 * whose peer would otherwise pay a membarrier per sleep (olock_drop.c). A
 * sticky holder may also call it between operations (busy is 0 then).
 * PEER_WAIT if the other side must be woken. */
uint32_t ipc__side_leave_drop(struct ipc_side *s, uint32_t hold_off);

/* A side lock word and its busy flags hold their invariants: 0 or -EUCLEAN. */
int ipc__olock_validate(_Atomic uint32_t *lk, _Atomic uint8_t *busy) IPC_MUST_USE;

#endif
