/* SPDX-License-Identifier: MIT */
/*
 * ref-pipe: an ordinary pipe in user space. A byte ring in an anonymous
 * shared segment (memfd); between the sides the ring is SPSC (release publish
 * of tail / head), within a side an owner-tagged robust lock, sticky while one
 * thread has the side to itself, serialises writers (resp. readers). Open
 * ends are counted per process in a participant table, so EOF and EPIPE come
 * when the last holder closes, exits or is killed; fork() hands the child its
 * holdings before it exists. See docs/ref-pipe-design.md.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "pipe/ref_pipe.h"

#define PIPE_MAGIC           0x3145504950435049ull /* "IPCPIPE1" little-endian */
#define PIPE_VERSION         1u
#define PIPE_HDR_SIZE        8192u /* header and tables; the ring starts here */
#define PIPE_PAGE            IPC_PIPE_REF_MIN_CAP
#define PIPE_MAX_CAP         IPC_PIPE_REF_MAX_CAP
#define PIPE_FILE_SIZE       (PIPE_HDR_SIZE + PIPE_MAX_CAP) /* reserved once */
#define PIPE_SIZE_LIMIT      (1ull << 31) /* above: -EINVAL (the kernel's round_pipe_size) */
#define PIPE_MAX_RW          0x7ffff000u  /* MAX_RW_COUNT: the kernel's cap on one transfer */
#define PIPE_LOCK_ROLE       1u           /* role of every slot in a lock table */
#define PIPE_SHORT_SLICE_NS  1000000LL    /* sleep slice without membarrier */
#define PIPE_SLICE_NS        (4 * IPC_SLICE_NS) /* with it: see slice_ns */
#define PIPE_LIVE_PERIOD_NS  10000000LL   /* a writer looks for dead readers this often */
#define PIPE_FORK_WAIT_NS    1000000000LL /* fork() waits this long for the child's adoption */
#define PIPE_TL_WAYS         8            /* per-thread cache of lock contexts */
#define PIPE_HOLD_TABLES     4            /* holder tables: 256 (process, kind) holdings */
#define PIPE_STICKY_MAX      1024u        /* an operation moving more lets its lock go */
#define PIPE_STICKY_HOLD_OFF 256u         /* ... and so do the next this many releases */
#define PIPE_YIELD_AFTER_NS  2000LL       /* a spin yields the CPU past this */

enum pipe_kind { PIPE_RD = 0, PIPE_WR = 1 }; /* a holder's role in the table is kind + 1 */
#define PIPE_RDWR 2u /* a handle's kind only (a FIFO opened O_RDWR): both ends at once */

struct pipe_ident {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint64_t max_cap;
	uint64_t file_size;
};

/* One side: its lock word (+ the other side's PEER_WAIT bit) and busy flags,
 * and, on its own line pair, the index it publishes. */
struct pipe_side_mem {
	alignas(IPC_HOTLINE) _Atomic uint32_t lock;
	_Atomic uint8_t busy[IPC_PART_TABLE];
	alignas(IPC_HOTLINE) _Atomic uint64_t index; /* RD: head, WR: tail; bytes, free-running */
};

struct pipe_seq {
	alignas(IPC_HOTLINE) _Atomic uint32_t v;
};

struct pipe_hdr {
	struct pipe_ident id;
	/* Read-mostly: read by every operation, written by resizes and by the
	 * last departure of a kind. gone[k]: no holder of kind k is left (never
	 * cleared: an end without holders cannot be reopened). */
	alignas(IPC_HOTLINE) _Atomic uint32_t cap;
	_Atomic uint32_t gone[2];
	struct pipe_side_mem side[2];
	struct pipe_seq seq[2]; /* [RD] readers sleep on it (data), [WR] writers (room) */
	alignas(IPC_HOTLINE) _Atomic uint64_t last_scan_ns;
	_Atomic uint32_t fork_seq; /* bumped by a child that adopted its holdings */
	/* One slot per process and kind, in the first table with room. */
	alignas(IPC_HOTLINE) struct ipc_part hold[PIPE_HOLD_TABLES][IPC_PART_TABLE];
	struct ipc_part ltab[2][IPC_PART_TABLE]; /* lock tokens of each side */
	/* Named segments only (ref-fifo): opens[k] counts the opens of kind k
	 * ever made (Linux's r_counter / w_counter), the word a blocking open
	 * sleeps on until a partner comes. Zero and unused in an anonymous pipe. */
	alignas(IPC_HOTLINE) _Atomic uint32_t opens[2];
};

_Static_assert(sizeof(struct pipe_hdr) <= PIPE_HDR_SIZE, "header exceeds its pages");

/* A slot of the holder tables. */
struct pipe_hold {
	uint32_t tab, idx, token;
	pid_t pid; /* phantoms: the parent that claimed it */
	bool ok;
};

/* One thread's lock context on one side of one pipe: its token in the side's
 * lock table, its sticky state, its view of the other side's index. */
struct pipe_tctx {
	struct pipe_tctx *next;
	uint64_t owner; /* thread serial */
	struct ipc_side side;
	uint32_t idx;
	uint64_t cached; /* writer: a past head; reader: a past tail */
	int64_t spin_ns; /* adaptive spin budget */
	int64_t live_ns; /* writer: coarse time of its last look for dead readers */
};

/* This process's view of one pipe: the mapping, its handle counts, its
 * holder slots, the lock contexts of its threads. Under reg_lock. */
struct pipe_local {
	struct pipe_local *next;
	struct pipe_hdr *hdr;
	unsigned char *ring;
	uint64_t id; /* unique in the process: key of the thread caches */
	int fd;
	uint32_t nh[2];              /* open handles of each kind */
	struct pipe_hold own[2];     /* our holder slot of each kind (while nh > 0) */
	struct pipe_hold phantom[2]; /* claimed for the child between prepare and fork */
	struct pipe_tctx *ctx[2];
};

struct ipc_pipe {
	struct pipe_local *pl;
	uint32_t kind; /* PIPE_RD, PIPE_WR or PIPE_RDWR */
	_Atomic bool nonblock; /* per handle (spec/pipe.h) */
	/* Named: a read end opened while no writer was there is not hung up
	 * until a writer opens (Linux compares w_counter with the value seen at
	 * open). meet: the partner's open count a blocking open waits past. */
	bool quiet, alone;
	uint32_t quiet_gen, meet_gen;
};

/* One call: what it works on and its wait budget. */
struct pipe_op {
	struct pipe_hdr *hdr;
	unsigned char *ring;
	struct pipe_tctx *ctx;
	uint32_t kind;
	bool nonblock;
	bool spun;
	bool slept; /* a sleep has ended: the next waits hold signals in between */
	bool have_deadline;
	bool rdwr;  /* poll on a read-write handle: both ends' bits */
	bool quiet; /* the handle's quiet flag: no HUP while opens[WR] == quiet_gen */
	uint32_t quiet_gen;
	size_t need; /* free bytes a writer (or poll on a write end) waits for */
	int events;  /* poll: asked bits with ERR and HUP */
	int64_t timeout;
	int64_t deadline;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pipe_local *reg_list;
static uint64_t reg_next_id = 1;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static pthread_key_t reg_key; /* its destructor drops an exiting thread's contexts */
static _Atomic uint64_t thread_serials;
static int fork_errno; /* the caller's errno across fork, under reg_lock */

struct tl_entry {
	uint64_t key; /* pl->id << 1 | kind; 0 = empty */
	struct pipe_tctx *ctx;
};
static __thread struct tl_entry tl_cache[PIPE_TL_WAYS];
static __thread uint64_t tl_serial;

/* ---- small helpers --------------------------------------------------------------------------- */

static bool cap_valid(uint64_t c)
{
	return c >= PIPE_PAGE && c <= PIPE_MAX_CAP && !(c & (c - 1));
}

/* Shared memory: checked on every read. */
static int load_cap(struct pipe_hdr *hdr, uint64_t *cap)
{
	uint64_t c = atomic_load_explicit(&hdr->cap, memory_order_relaxed);

	IPC_ENSURE(cap_valid(c), IPC_EUCLEAN);
	*cap = c;
	return 0;
}

/* F_SETPIPE_SZ's rounding and limits: -EINVAL beyond 2^31, one page at
 * least, a power-of-two number of pages, -EPERM above pipe-max-size. */
static int round_capacity(size_t bytes, uint64_t *cap)
{
	uint64_t c = PIPE_PAGE;

	IPC_ENSURE(bytes <= PIPE_SIZE_LIMIT, IPC_EINVAL);
	while (c < bytes)
		c <<= 1;
	IPC_ENSURE(c <= PIPE_MAX_CAP, IPC_EPERM);
	*cap = c;
	return 0;
}

static void copy_in(unsigned char *ring, uint64_t cap, uint64_t at, const unsigned char *src,
		    size_t n)
{
	size_t pos = (size_t)(at & (cap - 1)), first = n < cap - pos ? n : (size_t)(cap - pos);

	memcpy(ring + pos, src, first);
	if (n > first)
		memcpy(ring, src + first, n - first);
}

static void copy_out(unsigned char *dst, const unsigned char *ring, uint64_t cap, uint64_t at,
		     size_t n)
{
	size_t pos = (size_t)(at & (cap - 1)), first = n < cap - pos ? n : (size_t)(cap - pos);

	memcpy(dst, ring + pos, first);
	if (n > first)
		memcpy(dst + first, ring, n - first);
}

static int64_t coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * IPC_NS_PER_SEC + ts.tv_nsec;
}

/* ---- holders: who has which end open --------------------------------------------------------- */

static uint32_t count_holders(struct pipe_hdr *hdr, uint32_t kind)
{
	uint32_t t, i, n = 0;

	for (t = 0; t < PIPE_HOLD_TABLES; t++) {
		for (i = 0; i < IPC_PART_TABLE; i++) {
			uint64_t w =
			    atomic_load_explicit(&hdr->hold[t][i].word, memory_order_acquire);
			uint32_t st = ipc__part_status(w);

			n += (st == IPC_PART_CLAIMING || st == IPC_PART_LIVE) &&
			     ipc__part_role(w) == kind + 1;
		}
	}
	return n;
}

static bool holders_any(struct pipe_hdr *hdr, uint32_t kind)
{
	uint32_t t;

	for (t = 0; t < PIPE_HOLD_TABLES; t++)
		if (ipc__ptab_any(hdr->hold[t], kind + 1))
			return true;
	return false;
}

/* No holder of kind is left. The flag is a hint set only after a scan found
 * none; the table confirms it (a corrupt flag costs a scan, not a false EOF). */
static bool kind_gone(struct pipe_hdr *hdr, uint32_t kind)
{
	/* acquire: pairs with the release store of the flag; what the last
	 * holders published (tail) is visible to the drain that follows. */
	return atomic_load_explicit(&hdr->gone[kind], memory_order_acquire) &&
	       !holders_any(hdr, kind);
}

static bool writers_gone(struct pipe_hdr *hdr)
{
	if (IPC_MUTANT(PIPE_EARLY_EOF))
		return count_holders(hdr, PIPE_WR) <= 1;
	return kind_gone(hdr, PIPE_WR);
}

/* Someone left (closed its last handle of a kind, or was reaped): mark the
 * kinds that have no holder left, wake every sleeper to re-check. */
static void after_departure(struct pipe_hdr *hdr)
{
	uint32_t k;

	/* seq_cst: our slot release (an RMW) before the scan, against another
	 * departer doing the same, so the last of two sees the table empty. */
	atomic_thread_fence(memory_order_seq_cst);
	for (k = 0; k < 2; k++)
		if (!holders_any(hdr, k))
			atomic_store_explicit(&hdr->gone[k], 1, memory_order_release);
	if (!IPC_MUTANT(PIPE_LOST_WAKEUP_ON_CLOSE))
		ipc__futex_bump_wake_all(&hdr->seq[PIPE_RD].v);
	ipc__futex_bump_wake_all(&hdr->seq[PIPE_WR].v);
}

/* Liveness scan now, whatever the period: free the slots of dead processes
 * (holders and lock tokens). For the slow paths whose answer must not lag an
 * exit (PIPE-FORK-2): a non-blocking call about to say -EAGAIN, a poll that
 * finds nothing. Costs a /proc read per live holder. true if a holder died. */
static bool reap_now(struct pipe_hdr *hdr)
{
	uint32_t t;
	int n = 0;

	for (t = 0; t < PIPE_HOLD_TABLES; t++)
		n += ipc__ptab_reap(hdr->hold[t]);
	(void)ipc__ptab_reap(hdr->ltab[PIPE_RD]);
	(void)ipc__ptab_reap(hdr->ltab[PIPE_WR]);
	if (n > 0)
		after_departure(hdr);
	return n > 0;
}

/* The same at most once per period among all processes (a timestamp CAS in
 * the header): for waiters and writers, which look often. */
static bool reap_due(struct pipe_hdr *hdr)
{
	uint64_t now = (uint64_t)ipc__now_ns();
	uint64_t last = atomic_load_explicit(&hdr->last_scan_ns, memory_order_relaxed);

	/* Unsigned: a corrupt stamp in the future means "scan now". */
	if (now - last < (uint64_t)IPC_SCAN_PERIOD_NS)
		return false;
	if (!atomic_compare_exchange_strong_explicit(&hdr->last_scan_ns, &last, now,
						     memory_order_relaxed, memory_order_relaxed))
		return false; /* another scanner won this period */
	return reap_now(hdr);
}

static int hold_claim(struct pipe_hdr *hdr, uint32_t kind, struct pipe_hold *h)
{
	int rc = IPC_EUSERS;

	for (h->tab = 0; h->tab < PIPE_HOLD_TABLES && rc == IPC_EUSERS; h->tab++)
		rc = ipc__ptab_claim(hdr->hold[h->tab], kind + 1, &h->idx, &h->token);
	h->tab--;
	h->ok = rc == 0;
	h->pid = ipc__self_pid();
	return rc;
}

static void hold_release(struct pipe_hdr *hdr, struct pipe_hold *h)
{
	if (!h->ok)
		return;
	ipc__ptab_release(hdr->hold[h->tab % PIPE_HOLD_TABLES], h->idx, h->token);
	h->ok = false;
}

/* ---- thread lock contexts -------------------------------------------------------------------- */

/* Our side of the pipe for one thread; a new slot occupant starts not busy
 * (a previous one may have died inside). Registers for membarrier (sticky). */
static void side_init(struct ipc_side *s, struct pipe_hdr *hdr, uint32_t kind, uint32_t idx,
		      uint32_t token)
{
	(void)ipc__membarrier_register();
	memset(s, 0, sizeof(*s));
	s->lk = &hdr->side[kind].lock;
	s->busy = hdr->side[kind].busy;
	s->my_busy = &s->busy[idx % IPC_PART_TABLE];
	s->tab = hdr->ltab[kind];
	s->token = token;
	s->role = PIPE_LOCK_ROLE;
	atomic_store_explicit(s->my_busy, 0, memory_order_relaxed);
}

static int ctx_new(struct pipe_local *pl, uint32_t kind, struct pipe_tctx **out)
{
	struct pipe_tctx *c = calloc(1, sizeof(*c));
	uint32_t token;
	int rc;

	if (!c)
		return IPC_ENOMEM;
	rc = ipc__ptab_claim(pl->hdr->ltab[kind], PIPE_LOCK_ROLE, &c->idx, &token);
	if (rc < 0) {
		free(c);
		return rc;
	}
	side_init(&c->side, pl->hdr, kind, c->idx, token);
	c->owner = tl_serial;
	c->spin_ns = IPC_SPIN_NS;
	c->next = pl->ctx[kind];
	pl->ctx[kind] = c;
	*out = c;
	return 0;
}

/* ours: the token is this process's (let the lock go, free the slot); a
 * forked child's copies name the parent's tokens and are only freed. */
static void ctx_free(struct pipe_local *pl, uint32_t kind, struct pipe_tctx *c, bool ours)
{
	if (ours) {
		ipc__side_detach(&c->side);
		ipc__ptab_release(pl->hdr->ltab[kind], c->idx, c->side.token);
	}
	free(c);
}

/* Free the contexts of kind whose owner matches (0: all). */
static void ctxs_drop(struct pipe_local *pl, uint32_t kind, uint64_t owner, bool ours)
{
	struct pipe_tctx **pp = &pl->ctx[kind], *c;

	while ((c = *pp) != NULL) {
		if (owner && c->owner != owner) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		ctx_free(pl, kind, c, ours);
	}
}

/* Thread exit: its lock slots go back (a pool of short threads must not
 * fill the tables). TLS is still valid in key destructors. */
static void thread_exit(void *arg)
{
	struct pipe_local *pl;

	(void)arg;
	pthread_mutex_lock(&reg_lock);
	for (pl = reg_list; pl; pl = pl->next) {
		ctxs_drop(pl, PIPE_RD, tl_serial, true);
		ctxs_drop(pl, PIPE_WR, tl_serial, true);
	}
	pthread_mutex_unlock(&reg_lock);
	memset(tl_cache, 0, sizeof(tl_cache));
}

/* The calling thread's context for (pl, kind), made on first use. */
static int ctx_lookup(struct pipe_local *pl, uint32_t kind, struct pipe_tctx **out)
{
	uint64_t key = pl->id << 1 | kind;
	struct pipe_tctx *c;
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	if (!tl_serial) {
		tl_serial = atomic_fetch_add_explicit(&thread_serials, 1, memory_order_relaxed) + 1;
		(void)pthread_setspecific(reg_key, (void *)1);
	}
	for (c = pl->ctx[kind]; c && c->owner != tl_serial; c = c->next)
		;
	if (!c)
		rc = ctx_new(pl, kind, &c);
	pthread_mutex_unlock(&reg_lock);
	if (rc < 0)
		return rc;
	tl_cache[key % PIPE_TL_WAYS] = (struct tl_entry){.key = key, .ctx = c};
	*out = c;
	return 0;
}

/* ---- fork: the child's holdings exist before the child does ---------------------------------- */

static int phantom_claim(struct pipe_local *pl, uint32_t kind)
{
	fiu_return_on("ipc/pipe/fork", IPC_EUSERS);
	return hold_claim(pl->hdr, kind, &pl->phantom[kind]);
}

/* Before fork: for every kind this process holds, a slot in its own name for
 * the child, so a parent that closes (or exits) right after fork never makes
 * the count drop to zero while the child holds a copy. */
static void fork_prepare(void)
{
	struct pipe_local *pl;
	uint32_t k;

	pthread_mutex_lock(&reg_lock);
	fork_errno = errno;
	for (pl = reg_list; pl; pl = pl->next)
		for (k = 0; k < 2; k++)
			pl->phantom[k].ok = pl->nh[k] && phantom_claim(pl, k) == 0;
	/* glibc runs the parent handlers with _Fork's errno: non-zero = failed. */
	errno = 0;
}

/* Is the phantom still in the parent's name (not yet adopted)? */
static bool phantom_pending(struct pipe_local *pl, uint32_t kind)
{
	struct pipe_hold *ph = &pl->phantom[kind];
	uint64_t w = atomic_load_explicit(
	    &pl->hdr->hold[ph->tab % PIPE_HOLD_TABLES][ph->idx % IPC_PART_TABLE].word,
	    memory_order_acquire);
	uint32_t st = ipc__part_status(w);

	return (st == IPC_PART_CLAIMING || st == IPC_PART_LIVE) && ipc__part_pid(w) == ph->pid &&
	       (ipc__part_gen(w) & IPC_TOKEN_GEN_MASK) == ph->token >> IPC_TOKEN_IDX_BITS;
}

/* Wait (bounded) until the child adopted the phantoms: until then they die
 * with us, so returning from fork() and exiting at once would lose them. */
static void phantoms_await(struct pipe_local *pl, int64_t deadline)
{
	uint32_t k;

	for (k = 0; k < 2; k++) {
		while (pl->phantom[k].ok && ipc__now_ns() < deadline) {
			uint32_t v = atomic_load_explicit(&pl->hdr->fork_seq, memory_order_acquire);

			if (!phantom_pending(pl, k))
				break;
			/* The child bumps fork_seq once it adopted (or could
			 * not): the value change wakes us. Past the deadline
			 * the phantom lives with us until the child adopts it. */
			(void)ipc__futex_wait(&pl->hdr->fork_seq, v, deadline);
		}
	}
}

static void fork_parent(void)
{
	bool failed = errno != 0;
	int64_t deadline = ipc__now_ns() + PIPE_FORK_WAIT_NS;
	struct pipe_local *pl;
	uint32_t k;

	for (pl = reg_list; pl; pl = pl->next) {
		if (!failed)
			phantoms_await(pl, deadline);
		for (k = 0; k < 2; k++) {
			if (failed)
				hold_release(pl->hdr, &pl->phantom[k]);
			pl->phantom[k].ok = false;
		}
	}
	errno = fork_errno;
	pthread_mutex_unlock(&reg_lock);
}

/* In the child: take over the phantom, or claim afresh if it is gone (the
 * parent died before we ran, or prepare could not claim one). */
static void child_hold(struct pipe_local *pl, uint32_t kind)
{
	struct pipe_hold *ph = &pl->phantom[kind], *own = &pl->own[kind];

	if (ph->ok && ipc__ptab_adopt(pl->hdr->hold[ph->tab % PIPE_HOLD_TABLES], ph->idx, ph->token,
				      ph->pid) == 0) {
		*own = *ph;
		own->pid = ipc__self_pid();
	} else {
		(void)hold_claim(pl->hdr, kind, own);
	}
	ph->ok = false;
}

/* The child: only the forking thread exists. The copies of the lock contexts
 * name the parent's tokens: dropped (the thread makes new ones on first use). */
static void fork_child(void)
{
	struct pipe_local *pl;
	uint32_t k;

	for (pl = reg_list; pl; pl = pl->next) {
		for (k = 0; k < 2; k++) {
			ctxs_drop(pl, k, 0, false);
			if (pl->nh[k])
				child_hold(pl, k);
		}
		ipc__futex_bump_wake_all(&pl->hdr->fork_seq);
	}
	memset(tl_cache, 0, sizeof(tl_cache));
	errno = fork_errno;
	pthread_mutex_unlock(&reg_lock);
}

/* exit(): close every end this process holds, as the kernel closes
 * descriptors, so peers see EOF / EPIPE at once rather than at a scan. */
static void exit_release(void)
{
	struct pipe_local *pl;
	uint32_t k;

	pthread_mutex_lock(&reg_lock);
	for (pl = reg_list; pl; pl = pl->next) {
		for (k = 0; k < 2; k++) {
			if (!pl->own[k].ok)
				continue;
			hold_release(pl->hdr, &pl->own[k]);
			after_departure(pl->hdr);
		}
	}
	pthread_mutex_unlock(&reg_lock);
}

static void reg_init(void)
{
	/* proc.c's child handler (fresh pid and start time) is registered
	 * first, so it runs before ours in the child. */
	(void)ipc__fork_gen();
	(void)pthread_key_create(&reg_key, thread_exit);
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
	(void)atexit(exit_release);
}

/* ---- segment --------------------------------------------------------------------------------- */

static void local_free(struct pipe_local *pl)
{
	if (pl->hdr)
		munmap(pl->hdr, PIPE_FILE_SIZE);
	if (pl->fd >= 0)
		close(pl->fd);
	free(pl);
}

/* Reserve the largest ring once (MAP_NORESERVE): resizing never remaps, so
 * no address ever changes under a concurrent reader or writer. */
static int segment_map(struct pipe_local *pl, uint64_t cap)
{
	void *p;

	fiu_return_on("ipc/pipe/create",
		      (long)fiu_failinfo() > 0 ? -(int)(long)fiu_failinfo() : IPC_ENOMEM);
	IPC_GUARD(ipc__memfd_create("ipcspec-pipe", PIPE_FILE_SIZE, PIPE_HDR_SIZE + cap, &pl->fd));
	fiu_return_on("ipc/pipe/map", IPC_ENOMEM);
	p = mmap(NULL, PIPE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, pl->fd,
		 0);
	if (p == MAP_FAILED)
		return IPC_ENOMEM;
	pl->hdr = p;
	pl->ring = (unsigned char *)p + PIPE_HDR_SIZE;
#ifdef MADV_POPULATE_WRITE
	/* Page tables now, not page faults on the data path. Best effort. */
	(void)madvise(p, PIPE_HDR_SIZE + cap, MADV_POPULATE_WRITE);
#endif
	return 0;
}

static void header_init(struct pipe_hdr *hdr, uint64_t cap)
{
	/* The file is fresh (zero): identity and capacity, magic last. */
	hdr->id.version = PIPE_VERSION;
	hdr->id.hdr_size = PIPE_HDR_SIZE;
	hdr->id.max_cap = PIPE_MAX_CAP;
	hdr->id.file_size = PIPE_FILE_SIZE;
	atomic_store_explicit(&hdr->cap, (uint32_t)cap, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	hdr->id.magic = PIPE_MAGIC;
}

static int segment_new(uint64_t cap, struct pipe_local **out)
{
	struct pipe_local *pl = calloc(1, sizeof(*pl));
	int rc;

	if (!pl)
		return IPC_ENOMEM;
	pl->fd = -1;
	rc = segment_map(pl, cap);
	if (rc < 0) {
		local_free(pl);
		return rc;
	}
	header_init(pl->hdr, cap);
	*out = pl;
	return 0;
}

/* ---- locks and wake-ups ---------------------------------------------------------------------- */

static inline void wake_other(struct pipe_hdr *hdr, uint32_t kind, uint32_t bits)
{
	if (bits)
		ipc__futex_bump_wake_all(&hdr->seq[kind ^ 1].v);
}

/* The call's side lock. Steady state with one writer thread and one reader
 * thread: the sticky fast entry, no locked instruction, no system call. */
static inline int op_lock(struct pipe_op *op)
{
	struct ipc_side *s = &op->ctx->side;
	uint32_t wake = 0;
	int rc;

	if (IPC_LIKELY(ipc__side_enter_fast(s)))
		return 0;
	if (!s->sticky && ipc__olock_try(s->lk, s->token))
		return 0;
	/* Blocking calls wait for the lock as long as its holder lives (it is
	 * inside a memcpy, or dies and is stolen from); non-blocking 20 ms. */
	rc = ipc__side_lock(s, op->nonblock ? 0 : IPC_DEADLINE_NEVER, &wake);
	wake_other(op->hdr, op->kind, wake);
	return rc == IPC_ETIMEDOUT ? IPC_EAGAIN : rc;
}

/* After the last publishing store. A cleared PEER_WAIT is woken even if
 * nothing was published: its sleepers must re-check and re-announce.
 * Stickiness pays only while the other side rarely sleeps: a sleeper must
 * order itself against a sticky holder with a membarrier (tens of us on a
 * VM). So a large operation (the locked instructions are noise beside its
 * copy) lets the lock go, and so does a holder that finds a sleeper. */
static inline void op_unlock(struct pipe_op *op, size_t moved)
{
	struct ipc_side *s = &op->ctx->side;
	uint32_t bits;

	if (IPC_UNLIKELY(moved > PIPE_STICKY_MAX))
		bits = ipc__side_leave_drop(s, PIPE_STICKY_HOLD_OFF);
	else
		bits = ipc__side_leave(s);
	if (IPC_LIKELY(!bits))
		return;
	if (s->sticky)
		bits |= ipc__side_leave_drop(s, PIPE_STICKY_HOLD_OFF); /* between operations */
	else if (s->probe < PIPE_STICKY_HOLD_OFF)
		s->probe = PIPE_STICKY_HOLD_OFF;
	wake_other(op->hdr, op->kind, bits);
}

static inline int op_begin(struct ipc_pipe *h, uint32_t kind, struct pipe_op *op)
{
	struct pipe_local *pl = h->pl;
	uint64_t key = pl->id << 1 | kind;
	struct tl_entry *e = &tl_cache[key % PIPE_TL_WAYS];

	op->ctx = e->ctx;
	if (IPC_UNLIKELY(e->key != key))
		IPC_GUARD(ctx_lookup(pl, kind, &op->ctx));
	op->hdr = pl->hdr;
	op->ring = pl->ring;
	op->kind = kind;
	op->rdwr = h->kind == PIPE_RDWR;
	op->quiet = h->quiet;
	op->quiet_gen = h->quiet_gen;
	op->nonblock = atomic_load_explicit(&h->nonblock, memory_order_relaxed);
	op->timeout = op->nonblock ? 0 : -1;
	op->spun = false;
	op->slept = false;
	op->have_deadline = false;
	op->need = 1;
	return 0;
}

/* ---- waiting --------------------------------------------------------------------------------- */

static int64_t op_deadline(struct pipe_op *op)
{
	if (!op->have_deadline) {
		op->deadline = ipc__deadline(op->timeout);
		op->have_deadline = true;
	}
	return op->deadline;
}

/* Spin briefly for a condition, once per call, never past the call's
 * deadline. Past the first microseconds the spin yields the CPU between
 * looks: with more runnable threads than CPUs the peer may be waiting for
 * ours, and a pure spin would only delay it. */
static bool spin_until(struct pipe_op *op, bool (*ready)(struct pipe_op *))
{
	int64_t start, end, now;
	unsigned i;

	if (op->spun)
		return false;
	op->spun = true;
	start = ipc__now_ns();
	end = start + op->ctx->spin_ns;
	if (end > op_deadline(op))
		end = op_deadline(op);
	for (i = 1;; i++) {
		if (ready(op))
			return true;
		ipc__cpu_relax();
		if ((i & 31) != 0)
			continue;
		now = ipc__now_ns();
		if (now > end)
			return false;
		if (now - start > PIPE_YIELD_AFTER_NS)
			sched_yield();
	}
}

/* A sleep cut short by a wake-up means a streaming peer: spin longer next
 * time; a long sleep means an idle one: spin little (as ref-shmbuf). */
static void adapt_spin(struct pipe_tctx *c, int64_t slept_ns)
{
	if (slept_ns < IPC_SPIN_ADAPT_NS)
		c->spin_ns = c->spin_ns * 2 > IPC_SPIN_MAX_NS ? IPC_SPIN_MAX_NS : c->spin_ns * 2;
	else
		c->spin_ns = IPC_SPIN_NS;
}

/* Readers sleep unsliced and without the liveness rescue in the mutant. */
static bool unsliced(const struct pipe_op *op)
{
	return IPC_MUTANT(PIPE_LOST_WAKEUP_ON_CLOSE) && op->kind == PIPE_RD;
}

/* A slice of 3/4 to 1 PIPE_SLICE_NS. A futex wait ends with EINTR when a
 * handler runs during it; one that runs as a slice ends (after the timeout
 * fired, before the thread is back in user space) or while the state is
 * re-checked is not seen, and the call goes on blocking. Signals are held
 * over the re-check (ipc__sig_hold), which leaves the moments around the
 * futex call itself: slices four times the core's keep those rare (a death
 * is still noticed within PIPE_SLICE_NS, well inside PIPE-FORK-4's second),
 * and the jitter keeps a caller that signals at round multiples of the
 * slice from hitting them every time. */
static int64_t slice_ns(void)
{
	return PIPE_SLICE_NS - (int64_t)(ipc__rand32() % (uint32_t)(PIPE_SLICE_NS / 4));
}

/* One sleep on seq while it holds v: a slice, then a liveness scan. 0 to
 * re-check, -EINTR, or the expiry code once the deadline passed. */
static int sleep_on(struct pipe_op *op, _Atomic uint32_t *seq, uint32_t v, bool full)
{
	/* Short slices when no membarrier ordered us against a sticky holder:
	 * its wake-up may be missed, so it is only delayed, never lost. */
	int64_t slice = full ? slice_ns() : PIPE_SHORT_SLICE_NS;
	int64_t now = ipc__now_ns(), deadline = op_deadline(op), until;
	int rc;

	if (now >= deadline)
		return ipc__expired_code(op->timeout);
	until = deadline - now > slice && !unsliced(op) ? now + slice : deadline;
	fiu_return_on("ipc/pipe/wait", 0); /* as a spurious wake-up */
	rc = ipc__futex_wait_intr(seq, v, until);
	if (rc != IPC_EINTR) {
		sigset_t old;
		ipc__sig_hold(&old); /* till the next sleep, or out: see ipc__sig_hold */
		if (rc == IPC_ETIMEDOUT && !unsliced(op))
			(void)reap_due(op->hdr); /* a slice passed: are the peers alive? */
		op->slept = true;
		if (ipc__sig_release(&old))
			rc = IPC_EINTR;
	}
	adapt_spin(op->ctx, ipc__now_ns() - now);
	return rc == IPC_EINTR ? IPC_EINTR : 0;
}

/* Wait until ready(op) may hold or someone left: spin, then announce
 * ourselves in the other side's lock word (PEER_WAIT) and sleep on our
 * sequence word. 0 to retry, -EINTR, or the expiry code. */
static int wait_peer(struct pipe_op *op, bool (*ready)(struct pipe_op *))
{
	struct pipe_hdr *hdr = op->hdr;
	_Atomic uint32_t *seq = &hdr->seq[op->kind].v;
	uint32_t v;
	bool full;

	sigset_t old;

	if (spin_until(op, ready))
		return 0;
	if (op->slept) /* between two sleeps: nothing here may hide a handler */
		ipc__sig_hold(&old);
	(void)reap_due(hdr);
	/* acquire: a waker's bump (release) publishes what it did before. */
	v = atomic_load_explicit(seq, memory_order_acquire);
	full = ipc__olock_announce_peer(&hdr->side[op->kind ^ 1].lock); /* + membarrier if sticky */
	if (op->slept && ipc__sig_release(&old))
		return IPC_EINTR;
	if (ready(op))
		return 0;
	return sleep_on(op, seq, v, full);
}

/* Free bytes as seen without a lock (poll, waits): an estimate, clamped; the
 * locked path decides. head before tail: the fill is never under-estimated. */
static uint64_t room_now(struct pipe_op *op)
{
	struct pipe_hdr *hdr = op->hdr;
	uint64_t cap = atomic_load_explicit(&hdr->cap, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&hdr->side[PIPE_RD].index, memory_order_acquire);
	uint64_t used =
	    atomic_load_explicit(&hdr->side[PIPE_WR].index, memory_order_relaxed) - head;

	return cap_valid(cap) && used < cap ? cap - used : 0;
}

static bool data_now(struct pipe_op *op)
{
	struct pipe_hdr *hdr = op->hdr;
	/* acquire: pairs with the writer's release of tail. */
	uint64_t tail = atomic_load_explicit(&hdr->side[PIPE_WR].index, memory_order_acquire);

	return tail != atomic_load_explicit(&hdr->side[PIPE_RD].index, memory_order_relaxed);
}

static bool room_ready(struct pipe_op *op)
{
	return room_now(op) >= op->need || kind_gone(op->hdr, PIPE_RD);
}

static bool data_ready(struct pipe_op *op)
{
	return data_now(op) || writers_gone(op->hdr);
}

/* ---- write ----------------------------------------------------------------------------------- */

/* Free bytes by our cached head: never more than the truth (a past head says
 * "fuller"); 0 when the cache is useless (a resize, another writer). */
static uint64_t room_by_cache(const struct pipe_op *op, uint64_t tail, uint64_t cap)
{
	uint64_t used = tail - op->ctx->cached;

	return used <= cap ? cap - used : 0;
}

static int refresh_head(struct pipe_op *op, uint64_t tail, uint64_t cap, uint64_t *room)
{
	/* acquire: the readers finished copying out the bytes below head
	 * (their release store) before we overwrite them. */
	uint64_t head = atomic_load_explicit(&op->hdr->side[PIPE_RD].index, memory_order_acquire);

	IPC_ENSURE(tail - head <= cap, IPC_EUCLEAN);
	op->ctx->cached = head;
	*room = cap - (tail - head);
	return 0;
}

/* Copy what fits (at least op->need bytes, else nothing) and publish it. */
static int write_locked(struct pipe_op *op, const unsigned char *src, size_t len, size_t *n)
{
	struct pipe_hdr *hdr = op->hdr;
	uint64_t cap, tail, room;

	*n = 0;
	if (IPC_UNLIKELY(atomic_load_explicit(&hdr->gone[PIPE_RD], memory_order_relaxed)) &&
	    kind_gone(hdr, PIPE_RD))
		return IPC_EPIPE;
	IPC_GUARD(load_cap(hdr, &cap));
	tail = atomic_load_explicit(&hdr->side[PIPE_WR].index, memory_order_relaxed); /* ours */
	room = room_by_cache(op, tail, cap);
	if (room < op->need)
		IPC_GUARD(refresh_head(op, tail, cap, &room));
	if (room < op->need)
		return 0;
	*n = len < room ? len : (size_t)room;
	copy_in(op->ring, cap, tail, src, *n);
	IPC_RACE("ipc/race/pipe/write/copied");
	/* release: the bytes happen-before a reader's acquire of tail that
	 * sees them. A death before this store: the bytes were never written. */
	atomic_store_explicit(&hdr->side[PIPE_WR].index, tail + *n, memory_order_release);
	IPC_RACE("ipc/race/pipe/write/published");
	return 0;
}

static int write_step(struct pipe_op *op, const unsigned char *src, size_t len, size_t *n)
{
	int rc;

	*n = 0;
	IPC_GUARD(op_lock(op));
	rc = write_locked(op, src, len, n);
	op_unlock(op, *n);
	return rc;
}

/* The kernel's pipe_write: SIGPIPE to the calling thread, even when the call
 * then returns the bytes it wrote before every reader left. */
static void raise_sigpipe(void)
{
	if (IPC_MUTANT(PIPE_NO_SIGPIPE))
		return;
	(void)syscall(SYS_tgkill, getpid(), gettid(), SIGPIPE);
}

static ssize_t write_end(size_t done, int rc)
{
	if (rc == IPC_EPIPE)
		raise_sigpipe();
	return done ? (ssize_t)done : rc;
}

/* The bytes of the next step: an atomic write is one step (two halves in
 * the mutant); a larger one takes whatever fits, at least one byte. */
static size_t next_step(struct pipe_op *op, bool atomic, size_t done, size_t left)
{
	if (IPC_MUTANT(PIPE_TORN_WRITE) && atomic && left > 1 && done == 0) {
		op->need = left / 2;
		return left / 2;
	}
	op->need = atomic ? left : 1;
	return left;
}

/* Non-blocking and nothing fits: maybe every reader is dead (-EPIPE). */
static int write_would_block(struct pipe_op *op)
{
	if (reap_now(op->hdr) && kind_gone(op->hdr, PIPE_RD))
		return IPC_EPIPE;
	return IPC_EAGAIN;
}

static ssize_t write_loop(struct pipe_op *op, const unsigned char *src, size_t len)
{
	bool atomic = len <= IPC_PIPE_BUF;
	size_t done = 0, n;
	int rc;

	for (;;) {
		size_t step = next_step(op, atomic, done, len - done);

		rc = write_step(op, src + done, step, &n);
		done += n;
		if (rc < 0 || done == len)
			return write_end(done, rc);
		if (IPC_MUTANT(PIPE_TORN_WRITE) && n)
			sched_yield(); /* let another writer in between the halves */
		if (n)
			continue;
		if (op->nonblock)
			return write_end(done, write_would_block(op));
		rc = wait_peer(op, room_ready);
		if (rc == IPC_EINTR && done == 0 && ipc__sig_restarts())
			continue; /* SA_RESTART: as the kernel restarts write(2) */
		if (rc < 0)
			return write_end(done, rc);
	}
}

/* A writer looks for dead readers every PIPE_LIVE_PERIOD_NS (a coarse clock
 * read per call, a scan per period), so a write after the last reader was
 * killed fails with -EPIPE soon, not only once the pipe is full. */
static void writer_live_check(struct pipe_op *op)
{
	int64_t now = coarse_now_ns();

	if (IPC_LIKELY(now - op->ctx->live_ns < PIPE_LIVE_PERIOD_NS))
		return;
	op->ctx->live_ns = now;
	(void)reap_due(op->hdr);
}

ssize_t ipc_pipe_ref_write(struct ipc_pipe *h, const void *buf, size_t len)
{
	struct pipe_op op;

	IPC_ENSURE(h != NULL && h->kind != PIPE_RD, IPC_EBADF);
	if (len == 0)
		return 0; /* Linux: even with no reader, and no SIGPIPE */
	IPC_ENSURE(buf != NULL, -EFAULT);
	IPC_GUARD(op_begin(h, PIPE_WR, &op));
	writer_live_check(&op);
	return write_loop(&op, buf, len > PIPE_MAX_RW ? PIPE_MAX_RW : len);
}

/* ---- read ------------------------------------------------------------------------------------ */

static int refresh_tail(struct pipe_op *op, uint64_t head, uint64_t cap, uint64_t *avail)
{
	/* acquire: pairs with the writer's release of tail; the bytes below
	 * it are written. */
	uint64_t tail = atomic_load_explicit(&op->hdr->side[PIPE_WR].index, memory_order_acquire);

	IPC_ENSURE(tail - head <= cap, IPC_EUCLEAN);
	op->ctx->cached = tail;
	*avail = tail - head;
	return 0;
}

static int read_locked(struct pipe_op *op, unsigned char *dst, size_t len, size_t *n)
{
	struct pipe_hdr *hdr = op->hdr;
	uint64_t cap, head, avail;

	*n = 0;
	IPC_GUARD(load_cap(hdr, &cap));
	head = atomic_load_explicit(&hdr->side[PIPE_RD].index, memory_order_relaxed); /* ours */
	/* The cached tail is a past tail: fewer bytes by it than asked for (a
	 * read returns all there is, as the kernel's), or a nonsense count
	 * (another reader went past it): ask the writers' index. */
	avail = op->ctx->cached - head;
	if (avail < len || avail > cap)
		IPC_GUARD(refresh_tail(op, head, cap, &avail));
	if (!avail)
		return 0;
	*n = len < avail ? len : (size_t)avail;
	copy_out(dst, op->ring, cap, head, *n);
	IPC_RACE("ipc/race/pipe/read/copied");
	/* release: our copy-out happens-before a writer's acquire of head that
	 * lets it overwrite the bytes. */
	atomic_store_explicit(&hdr->side[PIPE_RD].index, head + *n, memory_order_release);
	IPC_RACE("ipc/race/pipe/read/released");
	return 0;
}

static int read_step(struct pipe_op *op, unsigned char *dst, size_t len, size_t *n)
{
	int rc;

	*n = 0;
	IPC_GUARD(op_lock(op));
	rc = read_locked(op, dst, len, n);
	op_unlock(op, *n);
	return rc;
}

/* Empty: is it the end of the stream? Dead writers count as closed. A
 * non-blocking reader is about to answer -EAGAIN: a writer that exited
 * without closing must be seen at once, as the kernel closes its
 * descriptors at exit (a blocking reader sees it within a sleep slice). */
static bool end_of_file(struct pipe_op *op)
{
	if (writers_gone(op->hdr))
		return true;
	if (!op->nonblock)
		return false;
	(void)reap_now(op->hdr);
	return writers_gone(op->hdr);
}

static ssize_t read_loop(struct pipe_op *op, unsigned char *dst, size_t len)
{
	size_t n;

	for (;;) {
		IPC_GUARD(read_step(op, dst, len, &n));
		if (n)
			return (ssize_t)n;
		/* Streaming: the writer is usually a few ns behind. */
		if (!op->nonblock && spin_until(op, data_ready) && data_now(op))
			continue;
		if (end_of_file(op)) {
			/* The last writers left after publishing: drain once. */
			IPC_GUARD(read_step(op, dst, len, &n));
			return (ssize_t)n;
		}
		IPC_ENSURE(!op->nonblock, IPC_EAGAIN);
		int rc = wait_peer(op, data_ready);
		if (rc == IPC_EINTR && ipc__sig_restarts())
			continue; /* SA_RESTART: as the kernel restarts read(2) */
		IPC_GUARD(rc);
	}
}

ssize_t ipc_pipe_ref_read(struct ipc_pipe *h, void *buf, size_t len)
{
	struct pipe_op op;

	IPC_ENSURE(h != NULL && h->kind != PIPE_WR, IPC_EBADF);
	if (len == 0)
		return 0;
	IPC_ENSURE(buf != NULL, -EFAULT);
	IPC_GUARD(op_begin(h, PIPE_RD, &op));
	return read_loop(&op, buf, len > PIPE_MAX_RW ? PIPE_MAX_RW : len);
}

/* ---- poll ------------------------------------------------------------------------------------ */

/* A read end with no writer is hung up, unless it is a named read end opened
 * while no writer was there and none has opened since (Linux: f_pipe !=
 * w_counter), so a reader waiting for its first writer does not see HUP. */
static bool hung_up(struct pipe_op *op)
{
	return writers_gone(op->hdr) &&
	       !(op->quiet && atomic_load_explicit(&op->hdr->opens[PIPE_WR], memory_order_acquire) ==
				  op->quiet_gen);
}

/* Linux's pipe_poll: a read end is IN with data, HUP with no writer; a
 * write end is OUT while a PIPE_BUF write fits (the kernel's "a page slot is
 * free"), ERR with no reader. */
static int poll_mask_rd(struct pipe_op *op)
{
	return (data_now(op) ? IPC_PIPE_IN : 0) | (hung_up(op) ? IPC_PIPE_HUP : 0);
}

static int poll_mask_wr(struct pipe_op *op)
{
	return (room_now(op) >= IPC_PIPE_BUF ? IPC_PIPE_OUT : 0) |
	       (kind_gone(op->hdr, PIPE_RD) ? IPC_PIPE_ERR : 0);
}

static int poll_mask(struct pipe_op *op)
{
	if (op->rdwr)
		return poll_mask_rd(op) | poll_mask_wr(op);
	return op->kind == PIPE_RD ? poll_mask_rd(op) : poll_mask_wr(op);
}

static bool poll_ready(struct pipe_op *op)
{
	return (poll_mask(op) & op->events) != 0;
}

/* A read-write handle's readiness changes on either sequence word; it polls
 * in short naps on the readers' one (rare: only a FIFO opened O_RDWR). */
static int rdwr_nap(struct pipe_op *op)
{
	int64_t now = ipc__now_ns(), deadline = op_deadline(op);
	uint32_t v = atomic_load_explicit(&op->hdr->seq[PIPE_RD].v, memory_order_acquire);
	int rc;

	if (now >= deadline)
		return IPC_ETIMEDOUT;
	if (poll_ready(op))
		return 0;
	rc = ipc__futex_wait_intr(&op->hdr->seq[PIPE_RD].v, v,
				  deadline - now > PIPE_SHORT_SLICE_NS ? now + PIPE_SHORT_SLICE_NS
								       : deadline);
	return rc == IPC_EINTR ? IPC_EINTR : 0;
}

int ipc_pipe_ref_poll(struct ipc_pipe *h, int events, int64_t timeout_ns)
{
	struct pipe_op op;
	int rc;

	IPC_ENSURE(h != NULL, IPC_EBADF);
	IPC_ENSURE(timeout_ns >= -1, IPC_EINVAL);
	IPC_GUARD(op_begin(h, h->kind == PIPE_WR ? PIPE_WR : PIPE_RD, &op));
	op.events = events | IPC_PIPE_ERR | IPC_PIPE_HUP; /* never masked */
	op.timeout = timeout_ns;
	op.need = IPC_PIPE_BUF;
	for (;;) {
		if (poll_ready(&op))
			return poll_mask(&op) & op.events;
		if (timeout_ns == 0)
			return reap_now(op.hdr) ? poll_mask(&op) & op.events : 0;
		rc = op.rdwr ? rdwr_nap(&op) : wait_peer(&op, poll_ready);
		if (rc == IPC_ETIMEDOUT)
			return 0;
		if (rc < 0)
			return rc;
	}
}

/* ---- capacity -------------------------------------------------------------------------------- */

/* A lock token of the other side, for one resize: never sticky. */
struct pipe_tside {
	struct ipc_side side;
	uint32_t idx, kind;
};

static int tside_lock(struct pipe_hdr *hdr, uint32_t kind, struct pipe_tside *t)
{
	uint32_t token, wake = 0;
	int rc;

	IPC_GUARD(ipc__ptab_claim(hdr->ltab[kind], PIPE_LOCK_ROLE, &t->idx, &token));
	side_init(&t->side, hdr, kind, t->idx, token);
	t->side.probe = UINT32_MAX; /* never converts to sticky */
	t->kind = kind;
	rc = ipc__side_lock(&t->side, IPC_DEADLINE_NEVER, &wake);
	wake_other(hdr, kind, wake);
	if (rc < 0)
		ipc__ptab_release(hdr->ltab[kind], t->idx, token);
	return rc;
}

static void tside_unlock(struct pipe_hdr *hdr, struct pipe_tside *t)
{
	wake_other(hdr, t->kind, ipc__side_release(&t->side));
	ipc__ptab_release(hdr->ltab[t->kind], t->idx, t->side.token);
}

/* Both sides, writers' first (the one order every resizer uses; reads and
 * writes hold one side only and never wait while holding it). */
static int both_lock(struct pipe_op *op, struct pipe_tside *t)
{
	int rc;

	if (op->kind == PIPE_WR) {
		IPC_GUARD(op_lock(op));
		rc = tside_lock(op->hdr, PIPE_RD, t);
		if (rc < 0)
			op_unlock(op, 0);
		return rc;
	}
	IPC_GUARD(tside_lock(op->hdr, PIPE_WR, t));
	rc = op_lock(op);
	if (rc < 0)
		tside_unlock(op->hdr, t);
	return rc;
}

static void both_unlock(struct pipe_op *op, struct pipe_tside *t)
{
	if (op->kind == PIPE_WR) {
		tside_unlock(op->hdr, t);
		op_unlock(op, 0);
	} else {
		op_unlock(op, 0);
		tside_unlock(op->hdr, t);
	}
}

/* The queued bytes keep their stream positions; their ring offsets follow
 * the new modulus. */
static int relayout(struct pipe_local *pl, uint64_t old, uint64_t cap, uint64_t head, uint64_t used)
{
	unsigned char *tmp;

	if (!used)
		return 0;
	tmp = malloc(used);
	if (!tmp)
		return IPC_ENOMEM;
	copy_out(tmp, pl->ring, old, head, used);
	copy_in(pl->ring, cap, head, tmp, used);
	free(tmp);
	return 0;
}

static int grow_backing(struct pipe_local *pl, uint64_t old, uint64_t cap)
{
	fiu_return_on("ipc/pipe/grow", IPC_ENOMEM);
	/* Backed now: "memory refused" is -ENOMEM here, never SIGBUS later. */
	return ipc__shm_grow(pl->fd, PIPE_HDR_SIZE + old, cap - old);
}

/* Under both locks: no index moves. */
static int resize_locked(struct pipe_local *pl, uint64_t cap)
{
	struct pipe_hdr *hdr = pl->hdr;
	uint64_t old, head, used;

	IPC_GUARD(load_cap(hdr, &old));
	head = atomic_load_explicit(&hdr->side[PIPE_RD].index, memory_order_relaxed);
	used = atomic_load_explicit(&hdr->side[PIPE_WR].index, memory_order_relaxed) - head;
	IPC_ENSURE(used <= old, IPC_EUCLEAN);
	IPC_ENSURE(used <= cap, IPC_EBUSY);
	if (cap == old)
		return 0;
	if (cap > old)
		IPC_GUARD(grow_backing(pl, old, cap));
	IPC_GUARD(relayout(pl, old, cap, head, used));
	atomic_store_explicit(&hdr->cap, (uint32_t)cap,
			      memory_order_relaxed); /* published by the unlocks */
	if (cap < old)
		ipc__shm_reclaim(pl->fd, PIPE_HDR_SIZE + cap, old - cap);
	ipc__futex_bump_wake_all(&hdr->seq[PIPE_RD].v);
	ipc__futex_bump_wake_all(&hdr->seq[PIPE_WR].v);
	return 0;
}

int ipc_pipe_ref_set_capacity(struct ipc_pipe *h, size_t bytes)
{
	struct pipe_tside t;
	struct pipe_op op;
	uint64_t cap;
	int rc;

	IPC_ENSURE(h != NULL, IPC_EBADF);
	IPC_GUARD(round_capacity(bytes, &cap));
	IPC_GUARD(op_begin(h, h->kind == PIPE_WR ? PIPE_WR : PIPE_RD, &op));
	op.nonblock = false; /* F_SETPIPE_SZ ignores O_NONBLOCK */
	IPC_GUARD(both_lock(&op, &t));
	rc = resize_locked(h->pl, cap);
	both_unlock(&op, &t);
	return rc < 0 ? rc : (int)cap;
}

int ipc_pipe_ref_get_capacity(struct ipc_pipe *h)
{
	uint64_t cap;

	IPC_ENSURE(h != NULL, IPC_EBADF);
	IPC_GUARD(load_cap(h->pl->hdr, &cap));
	return (int)cap;
}

/* ---- handles --------------------------------------------------------------------------------- */

/* Does a handle of kind hk (PIPE_RD, PIPE_WR, PIPE_RDWR) hold end k? */
static bool kind_has(uint32_t hk, uint32_t k)
{
	return hk == k || hk == PIPE_RDWR;
}

static struct ipc_pipe *handle_new(struct pipe_local *pl, uint32_t kind, bool nonblock)
{
	struct ipc_pipe *h = calloc(1, sizeof(*h));

	if (h) {
		h->pl = pl;
		h->kind = kind;
		atomic_init(&h->nonblock, nonblock);
	}
	return h;
}

/* Claim both holder slots and list the pipe, under reg_lock (a concurrent
 * fork sees it whole or not at all). */
static int ends_register(struct pipe_local *pl)
{
	int rc;

	pthread_mutex_lock(&reg_lock);
	rc = hold_claim(pl->hdr, PIPE_RD, &pl->own[PIPE_RD]);
	if (rc == 0)
		rc = hold_claim(pl->hdr, PIPE_WR, &pl->own[PIPE_WR]);
	if (rc == 0) {
		pl->id = reg_next_id++;
		pl->nh[PIPE_RD] = pl->nh[PIPE_WR] = 1;
		pl->next = reg_list;
		reg_list = pl;
	}
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int ipc_pipe_ref_create(const char *name, const struct ipc_pipe_attr *attr, struct ipc_pipe **rd,
			struct ipc_pipe **wr)
{
	uint32_t flags = attr ? attr->flags : 0;
	uint64_t cap = IPC_PIPE_REF_DEFAULT_CAP;
	struct ipc_pipe *r = NULL, *w = NULL;
	struct pipe_local *pl;
	int rc;

	(void)name; /* anonymous: nothing to name, nothing to unlink */
	IPC_ENSURE(rd != NULL && wr != NULL, IPC_EINVAL);
	IPC_ENSURE(!(flags & ~(uint32_t)IPC_PIPE_NONBLOCK), IPC_EINVAL);
	if (attr && attr->capacity)
		IPC_GUARD(round_capacity(attr->capacity, &cap));
	pthread_once(&reg_once, reg_init);
	IPC_GUARD(segment_new(cap, &pl));
	r = handle_new(pl, PIPE_RD, flags & IPC_PIPE_NONBLOCK);
	w = handle_new(pl, PIPE_WR, flags & IPC_PIPE_NONBLOCK);
	rc = r && w ? ends_register(pl) : IPC_ENOMEM;
	if (rc < 0) {
		free(r);
		free(w);
		local_free(pl); /* the slots claimed live in the segment */
		return rc;
	}
	*rd = r;
	*wr = w;
	return 0;
}

/* The process's last handle of kind closed: its lock tokens and its holder
 * slot go; the peers re-check for EOF / EPIPE. */
static void kind_closed(struct pipe_local *pl, uint32_t kind)
{
	ctxs_drop(pl, kind, 0, true);
	if (!pl->own[kind].ok)
		return;
	hold_release(pl->hdr, &pl->own[kind]);
	after_departure(pl->hdr);
}

static void reg_unlink(struct pipe_local *pl)
{
	struct pipe_local **pp;

	for (pp = &reg_list; *pp; pp = &(*pp)->next) {
		if (*pp == pl) {
			*pp = pl->next;
			return;
		}
	}
}

int ipc_pipe_ref_close(struct ipc_pipe *h)
{
	struct pipe_local *pl;
	uint32_t k;
	bool last;

	IPC_ENSURE(h != NULL, IPC_EBADF);
	pl = h->pl;
	pthread_mutex_lock(&reg_lock);
	for (k = 0; k < 2; k++)
		if (kind_has(h->kind, k) && --pl->nh[k] == 0)
			kind_closed(pl, k);
	last = !pl->nh[PIPE_RD] && !pl->nh[PIPE_WR];
	if (last)
		reg_unlink(pl);
	pthread_mutex_unlock(&reg_lock);
	if (last)
		local_free(pl);
	free(h);
	return 0;
}

int ipc_pipe_ref_dup(struct ipc_pipe *h, struct ipc_pipe **out)
{
	struct ipc_pipe *d;
	uint32_t k;

	IPC_ENSURE(h != NULL, IPC_EBADF);
	IPC_ENSURE(out != NULL, IPC_EINVAL);
	/* The copy starts in the original's mode; each then has its own. */
	d = handle_new(h->pl, h->kind, atomic_load_explicit(&h->nonblock, memory_order_relaxed));
	if (!d)
		return IPC_ENOMEM;
	d->quiet = h->quiet; /* one open file description in Linux */
	d->quiet_gen = h->quiet_gen;
	pthread_mutex_lock(&reg_lock);
	for (k = 0; k < 2; k++)
		h->pl->nh[k] += kind_has(h->kind, k);
	pthread_mutex_unlock(&reg_lock);
	*out = d;
	return 0;
}

int ipc_pipe_ref_set_nonblock(struct ipc_pipe *h, int on)
{
	IPC_ENSURE(h != NULL, IPC_EBADF);
	atomic_store_explicit(&h->nonblock, on != 0, memory_order_relaxed);
	return 0;
}

/* ---- validate / segment ---------------------------------------------------------------------- */

static int validate_table(struct ipc_part *tab, uint32_t lo, uint32_t hi)
{
	uint32_t i;

	IPC_GUARD(ipc__ptab_validate(tab));
	for (i = 0; i < IPC_PART_TABLE; i++) {
		uint64_t w = atomic_load_explicit(&tab[i].word, memory_order_relaxed);
		uint32_t st = ipc__part_status(w), role = ipc__part_role(w);

		if (st == IPC_PART_CLAIMING || st == IPC_PART_LIVE)
			IPC_ENSURE(role >= lo && role <= hi, IPC_EUCLEAN);
	}
	return 0;
}

static int validate_ident(const struct pipe_hdr *hdr)
{
	struct pipe_ident id;

	memcpy(&id, &hdr->id, sizeof(id));
	IPC_ENSURE(id.magic == PIPE_MAGIC && id.version == PIPE_VERSION, IPC_EUCLEAN);
	IPC_ENSURE(id.hdr_size == PIPE_HDR_SIZE && id.max_cap == PIPE_MAX_CAP, IPC_EUCLEAN);
	IPC_ENSURE(id.file_size == PIPE_FILE_SIZE, IPC_EUCLEAN);
	return 0;
}

/* For a quiescent pipe: under traffic head and tail are read apart. */
int ipc_pipe_ref_validate(struct ipc_pipe *h)
{
	struct pipe_hdr *hdr;
	uint64_t cap, head, tail;
	uint32_t k;

	IPC_ENSURE(h != NULL, IPC_EBADF);
	hdr = h->pl->hdr;
	IPC_GUARD(validate_ident(hdr));
	IPC_GUARD(load_cap(hdr, &cap));
	head = atomic_load_explicit(&hdr->side[PIPE_RD].index, memory_order_acquire);
	tail = atomic_load_explicit(&hdr->side[PIPE_WR].index, memory_order_acquire);
	IPC_ENSURE(tail - head <= cap, IPC_EUCLEAN);
	for (k = 0; k < 2; k++) {
		IPC_GUARD(ipc__olock_validate(&hdr->side[k].lock, hdr->side[k].busy));
		IPC_GUARD(validate_table(hdr->ltab[k], PIPE_LOCK_ROLE, PIPE_LOCK_ROLE));
		IPC_ENSURE(atomic_load_explicit(&hdr->gone[k], memory_order_relaxed) <= 1,
			   IPC_EUCLEAN);
	}
	for (k = 0; k < PIPE_HOLD_TABLES; k++)
		IPC_GUARD(validate_table(hdr->hold[k], PIPE_RD + 1, PIPE_WR + 1));
	return 0;
}

int ipc_pipe_ref_segment(struct ipc_pipe *h, void **base, size_t *len)
{
	IPC_ENSURE(h != NULL, IPC_EBADF);
	IPC_ENSURE(base != NULL && len != NULL, IPC_EINVAL);
	*base = h->pl->hdr;
	*len = PIPE_FILE_SIZE;
	return 0;
}

/* ---- named segments (ref-fifo) --------------------------------------------------------------- */

/* A fresh, empty file becomes a segment: sized, backed, header written. No
 * end is open yet, so both kinds start gone: a reader finds end of file
 * until a writer opens (Linux, FIFO-IO-3). */
int ipc__pipe_ref_format(int fd)
{
	struct pipe_hdr *hdr;
	void *p;

	if (ftruncate(fd, (off_t)PIPE_FILE_SIZE) != 0)
		return errno > 0 ? -errno : IPC_ENOMEM;
	IPC_GUARD(ipc__shm_grow(fd, 0, PIPE_HDR_SIZE + IPC_PIPE_REF_DEFAULT_CAP));
	p = mmap(NULL, PIPE_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return IPC_ENOMEM;
	hdr = p;
	atomic_store_explicit(&hdr->gone[PIPE_RD], 1, memory_order_relaxed);
	atomic_store_explicit(&hdr->gone[PIPE_WR], 1, memory_order_relaxed);
	header_init(hdr, IPC_PIPE_REF_DEFAULT_CAP); /* magic last */
	munmap(p, PIPE_HDR_SIZE);
	return 0;
}

/* Map fd if it is a formatted segment (size first: mapping past the end of
 * a shorter file would be a SIGBUS at the first look). -EINVAL otherwise. */
static int named_map(int fd, struct pipe_local **out)
{
	struct pipe_local *pl;
	struct stat st;
	void *p;

	if (fstat(fd, &st) != 0)
		return errno > 0 ? -errno : IPC_EINVAL;
	IPC_ENSURE(S_ISREG(st.st_mode) && (uint64_t)st.st_size == PIPE_FILE_SIZE, IPC_EINVAL);
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return IPC_ENOMEM;
	pl->fd = -1; /* the caller's until we succeed */
	p = mmap(NULL, PIPE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		free(pl);
		return IPC_ENOMEM;
	}
	pl->hdr = p;
	pl->ring = (unsigned char *)p + PIPE_HDR_SIZE;
	if (validate_ident(pl->hdr) < 0) {
		local_free(pl);
		return IPC_EINVAL;
	}
#ifdef MADV_POPULATE_WRITE
	/* The file's pages are made writable now (a file system may sleep in
	 * its first-write fault), not inside the first write. Best effort. */
	(void)madvise(p, PIPE_HDR_SIZE + atomic_load_explicit(&pl->hdr->cap, memory_order_relaxed),
		      MADV_POPULATE_WRITE);
#endif
	*out = pl;
	return 0;
}

/* Opens of one file are serialised by flock: the kernel drops it when a
 * holder dies, and the data path never takes it. */
static int named_lock(int fd)
{
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return errno > 0 ? -errno : IPC_EINVAL;
	return 0;
}

/* No end open anywhere (the dead reaped first): the FIFO is not in use and
 * its old bytes go, as the kernel frees the pipe at the last close. head :=
 * tail keeps both indexes monotonic, so no cached index is ever ahead. */
static void named_reset_if_unused(struct pipe_hdr *hdr)
{
	uint64_t tail;

	(void)reap_now(hdr);
	if (holders_any(hdr, PIPE_RD) || holders_any(hdr, PIPE_WR))
		return;
	tail = atomic_load_explicit(&hdr->side[PIPE_WR].index, memory_order_acquire);
	atomic_store_explicit(&hdr->side[PIPE_RD].index, tail, memory_order_release);
}

/* This open's holdings, under reg_lock: claim, clear the gone hint, count
 * the open and wake the blocked openers of the other kind. A departer that
 * scanned before our claim may still set the hint: that costs a scan, never
 * a false EOF (the table confirms). */
static int named_claim(struct pipe_local *pl, uint32_t hk)
{
	uint32_t k;
	int rc = 0;

	for (k = 0; k < 2 && rc == 0; k++)
		if (kind_has(hk, k))
			rc = hold_claim(pl->hdr, k, &pl->own[k]);
	for (k = 0; k < 2; k++) {
		if (rc < 0 || !kind_has(hk, k)) {
			hold_release(pl->hdr, &pl->own[k]);
			continue;
		}
		pl->nh[k] = 1;
		atomic_store_explicit(&pl->hdr->gone[k], 0, memory_order_seq_cst);
		ipc__futex_bump_wake_all(&pl->hdr->opens[k]);
	}
	if (rc < 0)
		return rc;
	pl->id = reg_next_id++;
	pl->next = reg_list;
	reg_list = pl;
	return 0;
}

/* Under the open lock: reset an unused FIFO, refuse a non-blocking writer
 * without reader, note whether the other kind is missing (the open count a
 * blocking open waits past; a reader's HUP stays quiet), claim. The note
 * comes first: once our claim wakes a waiting partner, it may write, close
 * and leave (no lock needed) before we would look, and we would wait for a
 * partner that already came. */
static int named_enter(struct pipe_local *pl, struct ipc_pipe *h)
{
	struct pipe_hdr *hdr = pl->hdr;
	uint32_t other = h->kind ^ 1;
	int rc;

	named_reset_if_unused(hdr);
	if (h->kind == PIPE_WR && atomic_load_explicit(&h->nonblock, memory_order_relaxed) &&
	    !holders_any(hdr, PIPE_RD))
		return IPC_ENXIO;
	if (h->kind != PIPE_RDWR) {
		h->meet_gen = atomic_load_explicit(&hdr->opens[other], memory_order_acquire);
		h->alone = !holders_any(hdr, other);
		h->quiet = h->kind == PIPE_RD && h->alone;
		h->quiet_gen = h->meet_gen;
	}
	pthread_mutex_lock(&reg_lock);
	rc = named_claim(pl, h->kind);
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int ipc__pipe_ref_open_named(int fd, uint32_t ends, bool nonblock, struct ipc_pipe **out)
{
	uint32_t hk = ends == IPC__PIPE_REF_READ ? PIPE_RD
		      : ends == IPC__PIPE_REF_WRITE ? PIPE_WR : PIPE_RDWR;
	struct pipe_local *pl;
	struct ipc_pipe *h;
	int rc;

	IPC_ENSURE(out != NULL && ends >= 1 && ends <= 3, IPC_EINVAL);
	pthread_once(&reg_once, reg_init);
	IPC_GUARD(named_map(fd, &pl));
	h = handle_new(pl, hk, nonblock);
	rc = h ? named_lock(fd) : IPC_ENOMEM;
	if (rc == 0) {
		rc = named_enter(pl, h);
		(void)flock(fd, LOCK_UN);
	}
	if (rc < 0) {
		free(h);
		local_free(pl); /* pl->fd is still -1: fd stays the caller's */
		return rc;
	}
	pl->fd = fd;
	*out = h;
	return 0;
}

/* A blocking open found no partner: sleep until the other kind's open count
 * moves (a partner that opens and closes at once still releases us, as in
 * Linux's wait_for_partner). Sliced: a partner killed between its count and
 * its wake-up delays us a slice, never forever. */
int ipc__pipe_ref_await_partner(struct ipc_pipe *h)
{
	_Atomic uint32_t *word;

	IPC_ENSURE(h != NULL, IPC_EBADF);
	if (!h->alone || h->kind == PIPE_RDWR)
		return 0;
	word = &h->pl->hdr->opens[h->kind ^ 1];
	while (atomic_load_explicit(word, memory_order_acquire) == h->meet_gen)
		if (ipc__futex_wait_intr(word, h->meet_gen, ipc__now_ns() + slice_ns()) == IPC_EINTR &&
		    !ipc__sig_restarts())
			return IPC_EINTR;
	h->alone = false;
	return 0;
}

/* ---- the subject ----------------------------------------------------------------------------- */

static const struct ipc_pipe_ops ref_pipe_ops = IPC_PIPE_REF_OPS(ipc_pipe_ref_create, NULL);

const struct ipc_subject ipc__subject_ref_pipe = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "ref-pipe",
    .mechanism = IPC_MECH_PIPE,
    .caps = IPC_PIPE_REF_CAPS,
    .ops = &ref_pipe_ops,
    .summary = "reference pipe: byte ring in a memfd, sticky robust side locks, "
	       "fork-inherited ends counted per process, kill -9 safe, poll, resizable",
};
