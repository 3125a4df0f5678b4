/* SPDX-License-Identifier: MIT */
/*
 * ref-shmbuf: a bounded or unbounded MPMC item buffer in a named POSIX
 * shared-memory segment. Between the two sides the ring is SPSC (release
 * publish of tail / head); within a side, an owner-tagged robust lock
 * serialises producers (resp. consumers) and survives kill -9 of its holder.
 * See docs/ref-shmbuf-design.md for the layout, protocol and orderings.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "shmbuf/ref_shmbuf.h"

#define SHMBUF_MAGIC 0x3146554253435049ull /* "IPCSBUF1" little-endian */
#define SHMBUF_SLIP 16         /* slots a streaming producer is let ahead */
#define SHMBUF_SLIP_SPINS 64   /* pauses a consumer waits for that, at most */
#define SHMBUF_SLIP_OFF 64     /* gets without slipping after a failed wait */
#define SHMBUF_VERSION 4u /* 2: sticky lock bits, busy flags; 3: slot seq publishes; 4: fair queue */
#define FAIR_TOKEN_BITS 28 /* a fair_q entry: ticket << 28 | the sleeper's token */
#define SHMBUF_HDR_SIZE 4096u                 /* header + table; the ring starts here */
#define SHMBUF_SLOT_HDR 16u                   /* seq (8), len (4), pad (4) */
#define SHMBUF_UNBOUNDED_SPAN (1ull << 30)    /* virtual span when unbounded */
#define SHMBUF_CHUNK (64u << 10)              /* unbounded backing granule */
#define SHMBUF_MIN_CHUNK 4096u
#define SHMBUF_MAX_BYTES (1ull << 44)         /* larger geometries: -ENOMEM */
#define SHMBUF_SHORT_SLICE_NS 1000000LL       /* sleep slice without membarrier */
#define SHMBUF_SMALL_ITEM 64u                 /* the fast put: items of one line at most */

/* ref-mailbox's bounded queue is this ring (impl/mailbox/ref_mailbox.c), so
 * its lost-wake-up mutant is planted here too. */
#define SHMBUF_LOST_WAKEUP (IPC_MUTANT(LOST_WAKEUP) || IPC_MUTANT(MB_LOST_WAKEUP))

/* Internal "cannot complete now" results, distinct from every error. */
#define SHMBUF_FULL 1
#define SHMBUF_EMPTY 1

/* Immutable after create; attach validates it against a recomputation. */
struct shmbuf_geom {
	uint64_t capacity;   /* items; 0 = unbounded */
	uint64_t max_item;   /* bytes */
	uint64_t mem_limit;  /* unbounded only, else 0 */
	uint64_t slot_size;  /* SHMBUF_SLOT_HDR + max_item, rounded to 8 */
	uint64_t slot_count; /* power of two */
	uint64_t chunk;      /* unbounded backing granule, else 0 */
	uint64_t ring_off;   /* SHMBUF_HDR_SIZE */
	uint64_t ring_span;  /* slot_count * slot_size */
	uint64_t file_size;  /* ring_off + ring_span */
};

struct shmbuf_ident {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	struct shmbuf_geom geom;
};

/* Words written by different parties sit on different (paired) lines. */
struct shmbuf_hdr {
	struct shmbuf_ident id;
	/* Producers only (under prod_lock), plus consumers' PEER_WAIT bit. */
	alignas(IPC_HOTLINE) _Atomic uint32_t prod_lock;
	_Atomic uint64_t alloc_end; /* unbounded: virtual bytes backed so far */
	_Atomic uint8_t prod_busy[IPC_PART_TABLE]; /* per slot: a sticky holder is inside */
	alignas(IPC_HOTLINE) _Atomic uint64_t tail; /* items published */
	alignas(IPC_HOTLINE) _Atomic uint32_t cons_lock;
	_Atomic uint8_t cons_busy[IPC_PART_TABLE];
	alignas(IPC_HOTLINE) _Atomic uint64_t head;    /* items consumed */
	alignas(IPC_HOTLINE) _Atomic uint32_t data_seq; /* consumers sleep here */
	alignas(IPC_HOTLINE) _Atomic uint32_t space_seq; /* producers sleep here */
	/* Read-mostly: read on every put, written on attach/detach/death. */
	alignas(IPC_HOTLINE) _Atomic uint32_t ever_prod;
	_Atomic uint32_t ever_cons;
	_Atomic uint32_t cons_gone; /* hint: no consumer left (verified on use) */
	alignas(IPC_HOTLINE) _Atomic uint64_t last_scan_ns;
	_Atomic uint64_t reclaimed; /* unbounded: virtual bytes punched so far */
	/* Fair consumers only (ipc__shmbuf_set_fair): the sleepers in line. */
	alignas(IPC_HOTLINE) _Atomic uint32_t fair_n; /* entries set: a hint for the fast path */
	_Atomic uint64_t fair_next;                     /* the last ticket given */
	_Atomic uint64_t fair_q[IPC_PART_TABLE];        /* per consumer slot, or 0 */
	alignas(IPC_HOTLINE) struct ipc_part ptab[IPC_PART_TABLE];
};

_Static_assert(sizeof(struct shmbuf_hdr) <= SHMBUF_HDR_SIZE, "header exceeds its page");

struct shmbuf_slot {
	_Atomic uint64_t seq; /* the absolute index of the item: checked on get */
	_Atomic uint32_t len;
	uint32_t pad;
	unsigned char data[];
};

_Static_assert(sizeof(struct shmbuf_slot) == SHMBUF_SLOT_HDR, "slot header size");

struct ipc_shmbuf {
	struct shmbuf_hdr *hdr;
	unsigned char *ring;
	struct shmbuf_geom g; /* private copy: bounds never come from shared memory */
	uint64_t mask;        /* slot_count - 1 */
	uint64_t limit;       /* most items queued: capacity, or slot_count */
	uint64_t cached;      /* producer: a past head; consumer: a past tail */
	int64_t spin_ns;      /* adaptive spin budget before sleeping */
	bool settle;          /* producer: check tail on the next put (settle_tail) */
	uint32_t slip_off;    /* consumer: gets left without slipping (let_producer_slip) */
	uint32_t slip;        /* consumer: SHMBUF_SLIP, or half of a smaller capacity */
	struct ipc_side side; /* our role's lock (sticky state) */
	bool intr;            /* a caught signal ends a wait with -EINTR */
	const _Atomic uint32_t *abort; /* non-zero: a wait ends with -EIDRM (set_abort) */
	bool fair;            /* consumer: sleepers are served in arrival order (set_fair) */
	uint64_t ticket;      /* fair consumer: our place in line during a call, or 0 */
	uint64_t lazy;        /* mutant MB_REDELIVER: head + 1 of an item taken, not released */
	uint64_t off;         /* where the segment starts in fd (0 but for instances) */
	int fd;
	uint32_t role, idx, token, forkgen;
	bool fast_put;        /* a producer of a bounded ring: the fast path may serve */
};

/* A call's wait budget; the deadline is computed only if we must wait, so
 * the fast path reads no clock. */
struct wctx {
	int64_t timeout;
	int64_t deadline;
	bool have_deadline;
	bool spun;
	int64_t defer_since; /* fair consumer: deferring to an older sleeper since, or 0 */
};

static int64_t wctx_deadline(struct wctx *w)
{
	if (!w->have_deadline) {
		w->deadline = ipc__deadline(w->timeout);
		w->have_deadline = true;
	}
	return w->deadline;
}

/* ---- geometry --------------------------------------------------------------- */

static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Unbounded backing granule: 64 KiB, smaller under a tight mem_limit so the
 * limit is counted in reasonably fine steps. */
static uint64_t choose_chunk(uint64_t mem_limit)
{
	uint64_t chunk = SHMBUF_CHUNK;

	while (mem_limit && chunk > SHMBUF_MIN_CHUNK && chunk * 4 > mem_limit)
		chunk >>= 1;
	return chunk;
}

static uint64_t unbounded_slots(const struct shmbuf_geom *g)
{
	uint64_t want = SHMBUF_UNBOUNDED_SPAN / g->slot_size;

	if (g->mem_limit / g->slot_size + 1 > want)
		want = g->mem_limit / g->slot_size + 1;
	if (want < 64)
		want = 64;
	/* slot_size is a multiple of 8: chunk/8 slots make the span a whole
	 * number of chunks, so a chunk never straddles the end of the span. */
	if (want < g->chunk / 8)
		want = g->chunk / 8;
	return pow2_at_least(want);
}

/* The least mem_limit under which an empty unbounded buffer always takes an
 * item: one chunk plus one slot, and the chunks an item may span wherever it
 * starts (chunk-aligned accounting: an item straddling a boundary holds both
 * chunks). Below it some or every put would fail with -ENOMEM for ever. */
static uint64_t one_item_bytes(const struct shmbuf_geom *g)
{
	uint64_t step = g->slot_size & (~g->slot_size + 1); /* offsets are multiples of it */
	uint64_t worst, span;

	if (step > g->chunk)
		step = g->chunk;
	worst = g->chunk - step + g->slot_size; /* an item at the last such offset */
	span = (worst + g->chunk - 1) / g->chunk * g->chunk;
	return span > g->chunk + g->slot_size ? span : g->chunk + g->slot_size;
}

static int geometry(uint64_t capacity, uint64_t max_item, uint64_t mem_limit, struct shmbuf_geom *g)
{
	/* Unsupported geometry is -EINVAL (SHMBUF-CAP-4); a supported one too
	 * large for memory is -ENOMEM (here, or when backing it fails). */
	IPC_ENSURE(max_item >= 1 && max_item <= UINT32_MAX - 64, IPC_EINVAL);
	IPC_ENSURE(capacity <= (1ull << 40), IPC_EINVAL);
	IPC_ENSURE(mem_limit <= SHMBUF_MAX_BYTES, IPC_ENOMEM);
	memset(g, 0, sizeof(*g));
	g->capacity = capacity;
	g->max_item = max_item;
	g->slot_size = (SHMBUF_SLOT_HDR + max_item + 7) & ~7ull;
	if (capacity) {
		g->slot_count = pow2_at_least(capacity + (IPC_MUTANT(CAP_OFF_BY_ONE) ? 1 : 0));
	} else {
		g->mem_limit = mem_limit; /* a bounded buffer ignores mem_limit */
		g->chunk = choose_chunk(mem_limit);
		g->slot_count = unbounded_slots(g);
		IPC_ENSURE(!mem_limit || mem_limit >= one_item_bytes(g), IPC_EINVAL);
	}
	IPC_ENSURE(g->slot_count <= SHMBUF_MAX_BYTES / g->slot_size, IPC_ENOMEM);
	g->ring_off = SHMBUF_HDR_SIZE;
	g->ring_span = g->slot_count * g->slot_size;
	g->file_size = g->ring_off + g->ring_span;
	return 0;
}

static int validate_ident(const struct shmbuf_ident *id, size_t file_size)
{
	struct shmbuf_geom want;

	IPC_ENSURE(id->magic == SHMBUF_MAGIC && id->version == SHMBUF_VERSION, IPC_EUCLEAN);
	IPC_ENSURE(id->hdr_size == SHMBUF_HDR_SIZE, IPC_EUCLEAN);
	IPC_ENSURE(geometry(id->geom.capacity, id->geom.max_item, id->geom.mem_limit, &want) == 0,
		   IPC_EUCLEAN);
	IPC_ENSURE(memcmp(&want, &id->geom, sizeof(want)) == 0, IPC_EUCLEAN);
	IPC_ENSURE(file_size >= want.file_size, IPC_EUCLEAN);
	return 0;
}

/* ---- create / unlink ----------------------------------------------------------- */

static int init_header(int fd, uint64_t off, const struct shmbuf_geom *g)
{
	struct shmbuf_hdr *hdr;
	void *p;

	fiu_return_on("ipc/shm/map", IPC_ENOMEM);
	p = mmap(NULL, SHMBUF_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		return IPC_ENOMEM;
	hdr = p;
	/* The file is fresh (zero): only the identity needs writing. The magic
	 * goes last so a half-initialised header never validates. */
	hdr->id.version = SHMBUF_VERSION;
	hdr->id.hdr_size = SHMBUF_HDR_SIZE;
	hdr->id.geom = *g;
	atomic_thread_fence(memory_order_release); /* identity before magic */
	hdr->id.magic = SHMBUF_MAGIC;
	munmap(p, SHMBUF_HDR_SIZE);
	return 0;
}

int ipc_shmbuf_create(const char *name, const struct ipc_shmbuf_attr *attr)
{
	struct shmbuf_geom g;
	int fd, rc;

	IPC_ENSURE(attr != NULL, IPC_EINVAL);
	IPC_GUARD(ipc__shm_check_name(name));
	IPC_GUARD(geometry(attr->capacity, attr->max_item, attr->mem_limit, &g));
	/* Bounded: back the whole ring now (never SIGBUS later). Unbounded:
	 * only the header; chunks are backed as producers reach them. */
	IPC_GUARD(ipc__shm_create(name, g.file_size, g.capacity ? g.file_size : SHMBUF_HDR_SIZE, &fd));
	rc = init_header(fd, 0, &g);
	if (rc < 0)
		shm_unlink(name);
	close(fd);
	return rc;
}

int ipc_shmbuf_unlink(const char *name)
{
	return ipc__shm_unlink(name);
}

/* ---- attach / detach ------------------------------------------------------------ */

static int read_ident(int fd, uint64_t off, size_t size, struct shmbuf_geom *g)
{
	struct shmbuf_ident id;

	/* A private copy, read once: later changes to the shared header never
	 * reach our bounds. */
	IPC_ENSURE(size >= SHMBUF_HDR_SIZE, IPC_EUCLEAN);
	IPC_ENSURE(pread(fd, &id, sizeof(id), (off_t)off) == (ssize_t)sizeof(id), IPC_EUCLEAN);
	IPC_GUARD(validate_ident(&id, size));
	*g = id.geom;
	return 0;
}

static void handle_free(struct ipc_shmbuf *h)
{
	if (h->hdr)
		ipc__shm_unmap(h->hdr, h->g.file_size);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

static int handle_map(struct ipc_shmbuf *h, int fd, uint64_t off, size_t size)
{
	void *base;

	h->fd = fd;
	h->off = off;
	IPC_ENSURE(size >= off, IPC_EUCLEAN);
	IPC_GUARD(read_ident(fd, off, size - off, &h->g));
	/* Unbounded backing is counted in file offsets from 0. */
	IPC_ENSURE(off == 0 || h->g.capacity != 0, IPC_EUCLEAN);
	/* Bounded rings are pre-faulted (no page faults on the data path). The
	 * unbounded span is MAP_NORESERVE: backing follows items queued. */
	IPC_GUARD(ipc__shm_map_at(fd, off, h->g.file_size, h->g.capacity != 0, &base));
	h->hdr = base;
	h->ring = (unsigned char *)base + h->g.ring_off;
	h->mask = h->g.slot_count - 1;
	h->limit = h->g.capacity ? h->g.capacity + (IPC_MUTANT(CAP_OFF_BY_ONE) ? 1 : 0)
				 : h->g.slot_count;
	/* A producer held to a few slots can never get SHMBUF_SLIP ahead. */
	h->slip = h->limit >= 2 * SHMBUF_SLIP ? SHMBUF_SLIP : (uint32_t)(h->limit / 2);
	return 0;
}

/* Our side's lock; a new occupant of the slot starts not busy (a previous
 * one may have died inside). Registers for membarrier (sticky locks). */
static void init_side(struct ipc_shmbuf *h)
{
	struct shmbuf_hdr *hdr = h->hdr;
	bool prod = h->role == IPC_SHMBUF_PRODUCER;
	struct ipc_side *s = &h->side;

	(void)ipc__membarrier_register();
	s->lk = prod ? &hdr->prod_lock : &hdr->cons_lock;
	s->busy = prod ? hdr->prod_busy : hdr->cons_busy;
	s->my_busy = &s->busy[h->idx % IPC_PART_TABLE];
	s->tab = hdr->ptab;
	s->token = h->token;
	s->role = h->role;
	atomic_store_explicit(s->my_busy, 0, memory_order_relaxed);
}

/* Record the attachment in the shared flags (after the claim succeeded). */
static void note_attach(struct shmbuf_hdr *hdr, uint32_t role)
{
	if (role == IPC_SHMBUF_PRODUCER) {
		atomic_store_explicit(&hdr->ever_prod, 1, memory_order_release);
	} else {
		atomic_store_explicit(&hdr->ever_cons, 1, memory_order_release);
		atomic_store_explicit(&hdr->cons_gone, 0, memory_order_release);
	}
}

/* Our slot: a new claim, or one held in our name (pre, see
 * ipc__shmbuf_preclaim_at), confirmed as still ours. */
static int claim_slot(struct ipc_shmbuf *h, int role, const struct ipc__shmbuf_slot *pre)
{
	if (!pre)
		return ipc__ptab_claim(h->hdr->ptab, (uint32_t)role, &h->idx, &h->token);
	IPC_ENSURE(pre->idx < IPC_PART_TABLE && (pre->token & ~IPC_TOKEN_MASK) == 0 &&
			   (pre->token & (IPC_PART_TABLE - 1)) == pre->idx,
		   IPC_EUCLEAN);
	if (ipc__ptab_adopt(h->hdr->ptab, pre->idx, pre->token, ipc__self_pid()) < 0)
		return IPC_EPIPE; /* reaped: we were judged dead, the instance is over */
	h->idx = pre->idx;
	h->token = pre->token;
	return 0;
}

/* Attach to the segment at off in fd (the handle owns fd from here on). */
static int attach_fd(int fd, uint64_t off, size_t size, int role,
		     const struct ipc__shmbuf_slot *pre, struct ipc_shmbuf **out)
{
	struct ipc_shmbuf *h = calloc(1, sizeof(*h));
	int rc;

	if (!h) {
		close(fd);
		return IPC_ENOMEM;
	}
	rc = handle_map(h, fd, off, size);
	if (rc == 0)
		rc = claim_slot(h, role, pre);
	if (rc < 0) {
		handle_free(h);
		return rc;
	}
	h->role = (uint32_t)role;
	h->fast_put = role == IPC_SHMBUF_PRODUCER && h->g.capacity != 0;
	h->spin_ns = IPC_SPIN_NS;
	init_side(h);
	h->forkgen = ipc__fork_gen();
	note_attach(h->hdr, h->role);
	*out = h;
	return 0;
}

int ipc_shmbuf_attach(const char *name, int role, struct ipc_shmbuf **out)
{
	size_t size;
	int fd;

	IPC_ENSURE(out != NULL, IPC_EINVAL);
	IPC_ENSURE(role == IPC_SHMBUF_PRODUCER || role == IPC_SHMBUF_CONSUMER, IPC_EINVAL);
	IPC_GUARD(ipc__shm_open(name, &fd, &size));
	return attach_fd(fd, 0, size, role, NULL, out);
}

static bool consumers_gone(struct shmbuf_hdr *hdr)
{
	return atomic_load_explicit(&hdr->ever_cons, memory_order_acquire) &&
	       !ipc__ptab_any(hdr->ptab, IPC_SHMBUF_CONSUMER);
}

static bool producers_gone(struct shmbuf_hdr *hdr)
{
	return atomic_load_explicit(&hdr->ever_prod, memory_order_acquire) &&
	       !ipc__ptab_any(hdr->ptab, IPC_SHMBUF_PRODUCER);
}

/* After participants left or died: refresh the hint, wake both sides so
 * sleepers re-check for end of stream / broken pipe. */
static void after_departure(struct shmbuf_hdr *hdr)
{
	if (consumers_gone(hdr))
		atomic_store_explicit(&hdr->cons_gone, 1, memory_order_release);
	ipc__futex_bump_wake_all(&hdr->data_seq);
	ipc__futex_bump_wake_all(&hdr->space_seq);
}

int ipc_shmbuf_detach(struct ipc_shmbuf *h)
{
	IPC_ENSURE(h != NULL, IPC_EINVAL);
	/* In a forked child the handle is a copy: the attachment is the
	 * parent's. Only the child's own resources are released. */
	if (h->forkgen == ipc__fork_gen()) {
		ipc__side_detach(&h->side); /* a sticky holder lets go */
		ipc__ptab_release(h->hdr->ptab, h->idx, h->token);
		after_departure(h->hdr);
	}
	handle_free(h);
	return 0;
}

/* Reap dead participants, at most once per period: true if any died. */
static bool reap_dead(struct shmbuf_hdr *hdr)
{
	if (ipc__ptab_reap_limited(hdr->ptab, &hdr->last_scan_ns, IPC_SCAN_PERIOD_NS) <= 0)
		return false;
	after_departure(hdr);
	return true;
}

static int check_handle(const struct ipc_shmbuf *h, uint32_t role)
{
	IPC_ENSURE(h != NULL, IPC_EINVAL);
	IPC_ENSURE(h->role == role && h->forkgen == ipc__fork_gen_now(), IPC_EBADF);
	return 0;
}

/* ---- locks ------------------------------------------------------------------------ */

/* Wake the other side's sleepers: bump its sequence word. */
static void wake_peer(struct ipc_shmbuf *h, uint32_t bits)
{
	if (!bits)
		return;
	if (h->role == IPC_SHMBUF_PRODUCER) {
		if (!SHMBUF_LOST_WAKEUP)
			ipc__futex_bump_wake_all(&h->hdr->data_seq);
	} else {
		ipc__futex_bump_wake_all(&h->hdr->space_seq);
	}
}

/* Take our side's lock for one operation. Steady state with one producer
 * and one consumer: the sticky fast entry, no locked instruction. */
static int lock_side(struct ipc_shmbuf *h, struct wctx *w)
{
	uint32_t wake = 0;
	int rc;

	if (IPC_LIKELY(ipc__side_enter_fast(&h->side)))
		return 0;
	/* Not on the sticky fast path: the previous holder may have died after
	 * publishing a slot and before advancing tail (see settle_tail). */
	h->settle = true;
	if (!h->side.sticky && ipc__olock_try(h->side.lk, h->token))
		return 0;
	rc = ipc__side_lock(&h->side, wctx_deadline(w), &wake);
	/* A word we let go had PEER_WAIT: its sleepers re-check. */
	wake_peer(h, wake);
	return rc == IPC_ETIMEDOUT ? ipc__expired_code(w->timeout) : rc;
}

/* End the operation: after the last publishing store. */
static void unlock_side(struct ipc_shmbuf *h)
{
	/* Wake sleepers of the other side even if nothing was published: the
	 * leave cleared their PEER_WAIT bit, they must re-check and re-announce. */
	wake_peer(h, ipc__side_leave(&h->side));
}

static struct shmbuf_slot *slot_at(const struct ipc_shmbuf *h, uint64_t i)
{
	return (struct shmbuf_slot *)(h->ring + (i & h->mask) * h->g.slot_size);
}

/* ---- unbounded backing -------------------------------------------------------------- */

/* Back the chunks [from, to) (virtual offsets, chunk multiples). */
static int grow_chunks(struct ipc_shmbuf *h, uint64_t from, uint64_t to)
{
	uint64_t c;

	for (c = from; c != to; c += h->g.chunk)
		IPC_GUARD(ipc__shm_grow(h->fd, h->g.ring_off + c % h->g.ring_span, h->g.chunk));
	return 0;
}

/* Make sure item `tail` can be written: its bytes are backed, within the
 * span, and within mem_limit. Called under the producers' lock. */
static int ensure_backed(struct ipc_shmbuf *h, uint64_t tail)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint64_t end = (tail + 1) * h->g.slot_size;
	uint64_t alloc = atomic_load_explicit(&hdr->alloc_end, memory_order_relaxed);
	uint64_t recl, want;

	if (IPC_LIKELY(end - alloc > (1ull << 63) || end == alloc)) /* end <= alloc */
		return 0;
	/* acquire: pairs with the consumer's release after punching, so the
	 * chunk we re-enter was punched before we write into it. */
	recl = atomic_load_explicit(&hdr->reclaimed, memory_order_acquire);
	IPC_ENSURE(alloc % h->g.chunk == 0 && recl % h->g.chunk == 0, IPC_EUCLEAN);
	IPC_ENSURE(alloc - recl <= h->g.ring_span && end - alloc <= h->g.ring_span, IPC_EUCLEAN);
	want = end + (h->g.chunk - end % h->g.chunk) % h->g.chunk;
	/* The span is a ring of chunks: never re-enter one not yet reclaimed. */
	IPC_ENSURE(want - recl <= h->g.ring_span, IPC_ENOMEM);
	IPC_ENSURE(!h->g.mem_limit || want - recl <= h->g.mem_limit, IPC_ENOMEM);
	IPC_GUARD(grow_chunks(h, alloc, want));
	atomic_store_explicit(&hdr->alloc_end, want, memory_order_relaxed); /* under the lock */
	return 0;
}

/* Punch the chunks wholly consumed below head. Under the consumers' lock;
 * idempotent, so a consumer that died half-way is finished by the next. */
static void reclaim_chunks(struct ipc_shmbuf *h, uint64_t head)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint64_t recl = atomic_load_explicit(&hdr->reclaimed, memory_order_relaxed);
	uint64_t bytes = head * h->g.slot_size;
	uint64_t target = bytes - bytes % h->g.chunk;

	if (IPC_LIKELY(target - recl - 1 >= h->g.ring_span)) /* nothing, or nonsense */
		return;
	if (recl % h->g.chunk)
		return; /* corrupt: leave it for validate and the producer */
	while (recl != target) {
		uint64_t phys = recl % h->g.ring_span;
		uint64_t len = target - recl < h->g.ring_span - phys ? target - recl
								    : h->g.ring_span - phys;

		ipc__shm_reclaim(h->fd, h->g.ring_off + phys, len);
		recl += len;
	}
	/* release: the punch happens-before the producer sees the chunk free. */
	atomic_store_explicit(&hdr->reclaimed, target, memory_order_release);
}

/* ---- put ---------------------------------------------------------------------------- */

/* The producer's view of head is stale (full by the cache): refresh it. */
static int refresh_head(struct ipc_shmbuf *h, uint64_t tail)
{
	/* acquire: the consumers finished copying out the slots below head
	 * (their release store) before we overwrite them. */
	uint64_t head = atomic_load_explicit(&h->hdr->head, memory_order_acquire);

	IPC_ENSURE(tail - head <= h->limit, IPC_EUCLEAN);
	h->cached = head;
	if (tail - head < h->limit)
		return 0;
	return h->g.capacity ? SHMBUF_FULL : IPC_ENOMEM; /* unbounded never waits */
}

/* A slot's seq holds its index + 1 once published (0, a punched hole or
 * the previous lap's value never match). A producer that died between the
 * seq store and the tail store left a delivered-or-deliverable item at tail:
 * whoever takes the lock next steps tail past it, once. */
static uint64_t settle_tail(struct ipc_shmbuf *h, uint64_t tail)
{
	h->settle = false;
	/* Exact: only a slot written for index tail holds tail + 1. */
	if (h->g.capacity && atomic_load_explicit(&slot_at(h, tail)->seq, memory_order_relaxed) == tail + 1) {
		tail++;
		atomic_store_explicit(&h->hdr->tail, tail, memory_order_release);
	}
	return tail;
}

/* Copy an item of at most SHMBUF_SMALL_ITEM bytes with no call, in 8-byte
 * words (the last one overlapping when len is not a multiple of 8). Not
 * wider: a load no wider than the caller's own recent stores into the item
 * is forwarded from them, where a wider one waits until they reach the
 * cache, behind our previous put's stores. With a producer that writes an
 * 8-byte number at each end of the item, as the bench's does: 22-23 M
 * items/s with 16-byte moves, 27-28 M/s with 8-byte ones (design doc,
 * "Stores per put"). */
static inline void copy_small(unsigned char *d, const unsigned char *s, size_t len)
{
	size_t i;

	if (len >= 8) {
		for (i = 0; i + 8 <= len; i += 8)
			__builtin_memcpy(d + i, s + i, 8);
		if (i < len)
			__builtin_memcpy(d + len - 8, s + len - 8, 8);
	} else if (len >= 4) {
		__builtin_memcpy(d, s, 4);
		__builtin_memcpy(d + len - 4, s + len - 4, 4);
	} else if (len) {
		d[0] = s[0];
		d[len / 2] = s[len / 2];
		d[len - 1] = s[len - 1];
	}
}

/* Write item `tail` into its slot and publish it. */
static inline __attribute__((always_inline)) void publish(struct ipc_shmbuf *h, uint64_t tail,
							  const void *item, size_t len)
{
	struct shmbuf_hdr *hdr = h->hdr;
	struct shmbuf_slot *s = slot_at(h, tail);

	IPC_RACE("ipc/race/put/claimed");
	atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
	if (len <= SHMBUF_SMALL_ITEM)
		copy_small(s->data, item, len);
	else
		memcpy(s->data, item, len);
	IPC_RACE("ipc/race/put/copied");
	/* release: the slot's contents happen-before a consumer's acquire load
	 * of seq (or of tail, stored next) that sees the item. A death before
	 * this line: invisible. The consumer of a bounded ring polls only the
	 * slot, so the tail line stays in our cache while it keeps up. */
	atomic_store_explicit(&s->seq, tail + 1, memory_order_release);
	atomic_store_explicit(&hdr->tail, tail + 1, memory_order_release);
	IPC_RACE("ipc/race/put/published");
}

static int put_locked(struct ipc_shmbuf *h, const void *item, size_t len)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint64_t tail;

	if (IPC_UNLIKELY(atomic_load_explicit(&hdr->cons_gone, memory_order_relaxed)) &&
	    consumers_gone(hdr))
		return IPC_MUTANT(NO_EPIPE) ? 0 : IPC_EPIPE;
	tail = atomic_load_explicit(&hdr->tail, memory_order_relaxed); /* ours, under the lock */
	if (IPC_UNLIKELY(h->settle))
		tail = settle_tail(h, tail);
	if (tail - h->cached >= h->limit) {
		int rc = refresh_head(h, tail); /* SHMBUF_FULL, an error, or 0 */

		if (rc)
			return rc;
	}
	if (!h->g.capacity)
		IPC_GUARD(ensure_backed(h, tail));
	publish(h, tail, item, len);
	return 0;
}

static int put_attempt(struct ipc_shmbuf *h, const void *item, size_t len, struct wctx *w)
{
	int rc;

	IPC_GUARD(lock_side(h, w));
	rc = put_locked(h, item, len);
	unlock_side(h);
	return rc;
}

static bool space_ready(struct ipc_shmbuf *h)
{
	uint64_t tail = atomic_load_explicit(&h->hdr->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&h->hdr->head, memory_order_acquire);

	return tail - head < h->limit || tail - head > h->limit;
}

/* Spin briefly for a condition (no system call), once per call. */
static bool spin_until(struct ipc_shmbuf *h, struct wctx *w, bool (*ready)(struct ipc_shmbuf *))
{
	int64_t end;
	unsigned i;

	if (w->spun)
		return false;
	w->spun = true;
	end = ipc__now_ns() + h->spin_ns;
	for (i = 1;; i++) {
		if (ready(h))
			return true;
		ipc__cpu_relax();
		if ((i & 31) == 0 && ipc__now_ns() > end)
			return false;
	}
}

/* Adapt the spin budget to the peer (T12): a sleep cut short by a wake-up
 * means the peer is streaming, and sleeping costs a wake-up latency each
 * time, so spin longer next time; a long sleep means an idle peer: spin
 * little. Bounded either way. */
static void adapt_spin(struct ipc_shmbuf *h, int64_t slept_ns)
{
	if (slept_ns < IPC_SPIN_ADAPT_NS)
		h->spin_ns = h->spin_ns * 2 > IPC_SPIN_MAX_NS ? IPC_SPIN_MAX_NS : h->spin_ns * 2;
	else
		h->spin_ns = IPC_SPIN_NS;
}

/* Sleep on seq (one slice, or until the deadline in the LOST_WAKEUP mutant). */
static int sleep_on(struct ipc_shmbuf *h, _Atomic uint32_t *seq, uint32_t v, int64_t deadline,
		    int64_t timeout, bool full_slice)
{
	/* A short slice when no membarrier ordered us against a sticky holder:
	 * its wake-up may be missed, so it is only delayed, never lost. */
	int64_t slice = full_slice ? IPC_SLICE_NS : SHMBUF_SHORT_SLICE_NS;
	int64_t now = ipc__now_ns(), until;
	int rc;

	if (now >= deadline)
		return ipc__expired_code(timeout);
	until = deadline - now > slice && !SHMBUF_LOST_WAKEUP ? now + slice : deadline;
	rc = h->intr ? ipc__futex_wait_intr(seq, v, until) : ipc__futex_wait(seq, v, until);
	if (rc == IPC_ETIMEDOUT && h->intr) { /* a handler must not run unseen: ipc__sig_hold */
		sigset_t old;
		ipc__sig_hold(&old);
		(void)reap_dead(h->hdr);
		rc = ipc__sig_release(&old) ? IPC_EINTR : rc;
	} else if (rc == IPC_ETIMEDOUT) {
		(void)reap_dead(h->hdr); /* a slice passed: are the peers alive? */
	}
	adapt_spin(h, ipc__now_ns() - now);
	/* A handler ran: -EINTR, unless SA_RESTART would restart the call. */
	return rc == IPC_EINTR && !ipc__sig_restarts() ? IPC_EINTR : 0;
}

/* The embedding mechanism ended every wait (ipc__shmbuf_set_abort). */
static bool aborted(const struct ipc_shmbuf *h)
{
	return h->abort && atomic_load_explicit(h->abort, memory_order_acquire);
}

/* Wait until a put may succeed: 0 to retry, or the expiry code. */
static int wait_space(struct ipc_shmbuf *h, struct wctx *w)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint32_t v;
	bool full;

	/* Spin first: on a streaming path the consumer frees a slot within
	 * nanoseconds, and the liveness check below reads the clock. */
	if (w->timeout != 0 && spin_until(h, w, space_ready))
		return 0;
	if (reap_dead(hdr))
		return 0; /* a consumer died: maybe -EPIPE now */
	IPC_ENSURE(w->timeout != 0, IPC_EAGAIN);
	/* acquire: a waker's bump (release) publishes what it did before. */
	v = atomic_load_explicit(&hdr->space_seq, memory_order_acquire);
	full = ipc__olock_announce_peer(&hdr->cons_lock); /* + membarrier if sticky */
	if (space_ready(h) || consumers_gone(hdr))
		return 0;
	IPC_ENSURE(!aborted(h), IPC_EIDRM); /* after v: a later abort bumps past it */
	return sleep_on(h, &hdr->space_seq, v, wctx_deadline(w), w->timeout, full);
}

static __attribute__((noinline)) int put_slow(struct ipc_shmbuf *h, const void *item, size_t len,
						int64_t timeout_ns)
{
	struct wctx w = { .timeout = timeout_ns };
	int rc;

	IPC_GUARD(check_handle(h, IPC_SHMBUF_PRODUCER));
	IPC_ENSURE(item != NULL || len == 0, IPC_EINVAL);
	IPC_ENSURE(timeout_ns >= -1, IPC_EINVAL);
	IPC_ENSURE(len <= h->g.max_item, IPC_EMSGSIZE);
	for (;;) {
		rc = put_attempt(h, item, len, &w);
		if (IPC_LIKELY(rc != SHMBUF_FULL))
			return rc;
		IPC_GUARD(wait_space(h, &w));
	}
}

/* The item is published; the leave needs more than the sticky fast step. */
static __attribute__((noinline)) int put_leave(struct ipc_shmbuf *h)
{
	wake_peer(h, ipc__side_leave(&h->side));
	return 0;
}

/* The fast put entered the side and must not go on: leave, then the full path. */
static __attribute__((noinline)) int put_bail(struct ipc_shmbuf *h, const void *item, size_t len,
						int64_t timeout_ns)
{
	(void)put_leave(h);
	return put_slow(h, item, len, timeout_ns);
}

/* The streaming put: a small item, a bounded ring, our side held sticky,
 * room by the cached head, no peer state to act on; anything else takes
 * put_slow. It makes as few stores as it can: a put's stores queue in the
 * store buffer behind the slot line's transfer from the consumer's core,
 * so each store saved lets more puts' transfers overlap (four to eight
 * more stores per put took a put from 18 to 33 ns: design doc, "Stores per
 * put"). So no call but tail calls (no frame to save), no wait context,
 * and the item copied inline. */
int ipc_shmbuf_put(struct ipc_shmbuf *h, const void *item, size_t len, int64_t timeout_ns)
{
	uint64_t tail;

	if (IPC_UNLIKELY(!h || !h->fast_put || len > h->g.max_item || len > SHMBUF_SMALL_ITEM ||
			 (!item && len) || timeout_ns < -1 || h->forkgen != ipc__fork_gen_now() ||
			 !ipc__side_enter_fast(&h->side)))
		return put_slow(h, item, len, timeout_ns);
	tail = atomic_load_explicit(&h->hdr->tail, memory_order_relaxed); /* ours, under the lock */
	if (IPC_UNLIKELY(h->settle || tail - h->cached >= h->limit ||
			 atomic_load_explicit(&h->hdr->cons_gone, memory_order_relaxed)))
		return put_bail(h, item, len, timeout_ns);
	publish(h, tail, item, len);
	if (IPC_LIKELY(ipc__side_leave_try(&h->side)))
		return 0;
	return put_leave(h);
}

/* ---- get ---------------------------------------------------------------------------- */

/* The consumer's view of tail says empty: refresh it. */
static bool slot_published(struct ipc_shmbuf *h, uint64_t i)
{
	return atomic_load_explicit(&slot_at(h, i)->seq, memory_order_acquire) == i + 1;
}

/* Temporal slipping (FastForward): a consumer right behind the producer
 * reads the line the producer is writing, and with slots not aligned to
 * lines each line then crosses between the cores twice. So, while the
 * producer streams, wait (briefly, bounded) until it is SHMBUF_SLIP slots
 * ahead; once such a wait fails, stop waiting for a while: a sparse or
 * ping-pong peer must not pay the wait on every item. */
static void let_producer_slip(struct ipc_shmbuf *h, uint64_t head)
{
	unsigned i;

	if (h->slip_off) {
		h->slip_off--;
		return;
	}
	for (i = 0; i < SHMBUF_SLIP_SPINS; i++) {
		if (slot_published(h, head + h->slip))
			return;
		ipc__cpu_relax();
	}
	h->slip_off = SHMBUF_SLIP_OFF;
}

static int refresh_tail(struct ipc_shmbuf *h, uint64_t head)
{
	/* acquire: pairs with the producer's release of tail; the slots below
	 * it are fully written. */
	uint64_t tail = atomic_load_explicit(&h->hdr->tail, memory_order_acquire);

	/* head one past tail: the slot a dead producer published was taken
	 * before the next producer settled tail (settle_tail). Empty for now. */
	if (tail + 1 == head && h->g.capacity)
		return SHMBUF_EMPTY;
	IPC_ENSURE(tail - head <= h->limit, IPC_EUCLEAN);
	h->cached = tail;
	return tail == head ? SHMBUF_EMPTY : 0;
}

/* Read and check the item at head: its length in *n. */
static int item_at(struct ipc_shmbuf *h, uint64_t head, size_t cap, uint32_t *n)
{
	struct shmbuf_slot *s = slot_at(h, head);

	/* Shared words are read once into locals; the locals are checked and
	 * used, never the shared copy again. */
	IPC_ENSURE(atomic_load_explicit(&s->seq, memory_order_acquire) == head + 1, IPC_EUCLEAN);
	*n = atomic_load_explicit(&s->len, memory_order_relaxed);
	IPC_ENSURE(*n <= h->g.max_item || IPC_MUTANT(UNVALIDATED_LEN), IPC_EUCLEAN);
	IPC_ENSURE(*n <= cap, IPC_EMSGSIZE); /* the item stays queued */
	return 0;
}

static int get_locked(struct ipc_shmbuf *h, void *buf, size_t cap, uint32_t *n)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint64_t head = atomic_load_explicit(&hdr->head, memory_order_relaxed);

	if (IPC_MUTANT(MB_REDELIVER) && h->lazy == head + 1)
		head++; /* the item we took last is released only with this one */
	/* Bounded: the slot itself says whether it is published (acquire:
	 * pairs with the producer's release of seq). Unbounded rings keep to
	 * tail: a probe past the backed chunks would fault pages in. */
	if (h->g.capacity && h->cached - head - 1 >= h->limit && slot_published(h, head)) {
		let_producer_slip(h, head);
		/* Producers publish in index order: with head + SLIP published,
		 * so is every slot before it, and the next gets need no poll. */
		h->cached = head + 1 + (slot_published(h, head + h->slip) ? h->slip : 0);
	}
	if (h->cached - head - 1 >= h->limit) { /* cache says empty (or is stale) */
		int rc = refresh_tail(h, head); /* SHMBUF_EMPTY, an error, or 0 */

		if (rc)
			return rc;
	}
	IPC_GUARD(item_at(h, head, cap, n));
	IPC_RACE("ipc/race/get/claimed");
	if (*n)
		memcpy(buf, slot_at(h, head)->data, *n);
	IPC_RACE("ipc/race/get/copied");
	/* release: our copy-out happens-before a producer's acquire of head
	 * that lets it overwrite the slot. A death after this line loses the
	 * item with the dying consumer (its get never returned). */
	atomic_store_explicit(&hdr->head, head + !IPC_MUTANT(MB_REDELIVER), memory_order_release);
	if (IPC_MUTANT(MB_REDELIVER))
		h->lazy = head + 1;
	IPC_RACE("ipc/race/get/released");
	if (!h->g.capacity)
		reclaim_chunks(h, head + 1);
	return 0;
}

static int get_attempt(struct ipc_shmbuf *h, void *buf, size_t cap, uint32_t *n, struct wctx *w)
{
	int rc;

	IPC_GUARD(lock_side(h, w));
	rc = get_locked(h, buf, cap, n);
	unlock_side(h);
	return rc;
}

static bool data_ready(struct ipc_shmbuf *h)
{
	uint64_t head = atomic_load_explicit(&h->hdr->head, memory_order_relaxed);
	uint64_t tail;

	/* Bounded: the slot at head alone says it (its seq is stored before
	 * tail, so a sleeper's re-check on it is as good as one on tail), and
	 * spinning on it leaves the tail line to the producer. */
	if (h->g.capacity)
		return slot_published(h, head);
	tail = atomic_load_explicit(&h->hdr->tail, memory_order_acquire);
	return tail != head;
}

/* ---- fair consumers ----------------------------------------------------------------- */

/* For ref-mailbox (no receiver starves, MAILBOX-ORDER-5). A fair consumer
 * that must sleep takes a ticket, in line (fair_q, by its slot), and keeps
 * it until its get returns. A put wakes every sleeper; a woken one that
 * finds an item while the holder of an older ticket is still present
 * defers to it, sleeping again instead of competing: the longest sleeper
 * takes the item, as a FIFO wake-one would give it. A running consumer (no
 * ticket) is not held back: only sleepers queue. The line is a hint that
 * can only delay: entries of participants gone are cleared (no system
 * call: the dead count until reaped), and a deferral that lasts two slices
 * (a lying entry, a dead holder) ends. Only the slow path reads the line. */
static void fair_join(struct ipc_shmbuf *h)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint64_t old;

	if (!h->fair || h->ticket)
		return;
	h->ticket = atomic_fetch_add(&hdr->fair_next, 1) + 1;
	old = atomic_exchange(&hdr->fair_q[h->idx % IPC_PART_TABLE],
			      h->ticket << FAIR_TOKEN_BITS | h->token);
	if (!old) /* else a dead predecessor's entry, counted already */
		atomic_fetch_add(&hdr->fair_n, 1);
}

static void fair_leave(struct ipc_shmbuf *h)
{
	struct shmbuf_hdr *hdr = h->hdr;

	h->ticket = 0;
	if (atomic_exchange(&hdr->fair_q[h->idx % IPC_PART_TABLE], 0))
		atomic_fetch_sub(&hdr->fair_n, 1);
	if (data_ready(h)) /* the next in line may be deferring to us */
		ipc__futex_bump_wake_all(&hdr->data_seq);
}

/* Is a live sleeper older than us in line? Clears the entries of the dead. */
static bool fair_older(struct ipc_shmbuf *h)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint64_t mine = h->ticket; /* only a sleeper defers */

	if (atomic_load(&hdr->fair_n) == 0)
		return false;
	for (uint32_t i = 0; i < IPC_PART_TABLE; i++) {
		uint64_t e = atomic_load(&hdr->fair_q[i]);
		uint32_t token = (uint32_t)(e & IPC_TOKEN_MASK);

		if (!e || i == h->idx % IPC_PART_TABLE || e >> FAIR_TOKEN_BITS >= mine)
			continue;
		if ((token & (IPC_PART_TABLE - 1)) == i &&
		    ipc__ptab_holds(hdr->ptab, token, IPC_SHMBUF_CONSUMER))
			return true;
		if (atomic_compare_exchange_strong(&hdr->fair_q[i], &e, 0))
			atomic_fetch_sub(&hdr->fair_n, 1);
	}
	return false;
}

/* Should this blocking get, a sleeper's (h->ticket set), leave the item to
 * an older sleeper? Then *v is the data word to sleep on, read before the
 * line (a leaver bumps it). */
static bool fair_defer(struct ipc_shmbuf *h, struct wctx *w, uint32_t *v)
{
	int64_t now;

	if (w->timeout == 0)
		return false;
	*v = atomic_load(&h->hdr->data_seq);
	if (!fair_older(h) || !data_ready(h)) {
		w->defer_since = 0; /* nothing to leave: try, and sleep again if we must */
		return false;
	}
	now = ipc__now_ns();
	if (!w->defer_since)
		w->defer_since = now;
	return now - w->defer_since <= 2 * IPC_SLICE_NS;
}

/* Sleep while an older sleeper takes the item (see fair_defer). */
static int wait_turn(struct ipc_shmbuf *h, struct wctx *w, uint32_t v)
{
	bool full = ipc__olock_announce_peer(&h->hdr->prod_lock);

	IPC_ENSURE(!aborted(h), IPC_EIDRM);
	return sleep_on(h, &h->hdr->data_seq, v, wctx_deadline(w), w->timeout, full);
}

/* Wait until a get may succeed or end: 0 to retry, or the expiry code. */
static int wait_data(struct ipc_shmbuf *h, struct wctx *w)
{
	struct shmbuf_hdr *hdr = h->hdr;
	uint32_t v;
	bool full;

	IPC_ENSURE(w->timeout != 0, IPC_EAGAIN);
	if (spin_until(h, w, data_ready))
		return 0;
	/* acquire: a waker's bump (release) publishes what it did before. */
	v = atomic_load_explicit(&hdr->data_seq, memory_order_acquire);
	full = ipc__olock_announce_peer(&hdr->prod_lock); /* + membarrier if sticky */
	if (data_ready(h) || (producers_gone(hdr) && !IPC_MUTANT(NO_EOD)))
		return 0;
	IPC_ENSURE(!aborted(h), IPC_EIDRM); /* after v: a later abort bumps past it */
	fair_join(h);
	return sleep_on(h, &hdr->data_seq, v, wctx_deadline(w), w->timeout, full);
}

/* Empty: is it the end of the stream? Dead producers count as detached. */
static bool end_of_data(struct ipc_shmbuf *h)
{
	if (IPC_MUTANT(NO_EOD))
		return false;
	(void)reap_dead(h->hdr);
	return producers_gone(h->hdr);
}

static ssize_t get_loop(struct ipc_shmbuf *h, void *buf, size_t cap, struct wctx *w)
{
	uint32_t n = 0, v;
	int rc;

	for (;;) {
		if (IPC_UNLIKELY(h->ticket) && fair_defer(h, w, &v)) {
			IPC_GUARD(wait_turn(h, w, v));
			continue;
		}
		rc = get_attempt(h, buf, cap, &n, w);
		if (IPC_LIKELY(rc != SHMBUF_EMPTY))
			return rc < 0 ? rc : (ssize_t)n;
		/* Streaming: the producer is usually a few ns behind. Spin on
		 * plain loads before the costlier end-of-stream check. */
		if (w->timeout != 0 && spin_until(h, w, data_ready))
			continue;
		if (end_of_data(h)) {
			/* Producers left after publishing: drain what they left. */
			rc = get_attempt(h, buf, cap, &n, w);
			return rc == SHMBUF_EMPTY ? IPC_EOD : rc < 0 ? rc : (ssize_t)n;
		}
		IPC_GUARD(wait_data(h, w));
	}
}

ssize_t ipc_shmbuf_get(struct ipc_shmbuf *h, void *buf, size_t cap, int64_t timeout_ns)
{
	struct wctx w = { .timeout = timeout_ns };
	ssize_t n;

	IPC_GUARD(check_handle(h, IPC_SHMBUF_CONSUMER));
	IPC_ENSURE(buf != NULL || cap == 0, IPC_EINVAL);
	IPC_ENSURE(timeout_ns >= -1, IPC_EINVAL);
	n = get_loop(h, buf, cap, &w);
	if (IPC_UNLIKELY(h->ticket))
		fair_leave(h);
	return n;
}

/* ---- segments in a caller's file (ref-msgpipe) ------------------------------------------ */

static uint64_t page_round(uint64_t n)
{
	return (n + SHMBUF_HDR_SIZE - 1) & ~(uint64_t)(SHMBUF_HDR_SIZE - 1);
}

int ipc__shmbuf_footprint(const struct ipc_shmbuf_attr *attr, uint64_t *size)
{
	struct shmbuf_geom g;

	IPC_ENSURE(attr != NULL && attr->capacity != 0, IPC_EINVAL);
	IPC_GUARD(geometry(attr->capacity, attr->max_item, 0, &g));
	*size = page_round(g.file_size);
	return 0;
}

int ipc__shmbuf_format_at(int fd, uint64_t off, const struct ipc_shmbuf_attr *attr)
{
	struct shmbuf_geom g;

	IPC_ENSURE(attr != NULL && attr->capacity != 0, IPC_EINVAL);
	IPC_ENSURE(off % SHMBUF_HDR_SIZE == 0, IPC_EINVAL);
	IPC_GUARD(geometry(attr->capacity, attr->max_item, 0, &g));
	/* Backed now: a full file system is -ENOMEM here, never SIGBUS later. */
	IPC_GUARD(ipc__shm_grow(fd, off, page_round(g.file_size)));
	return init_header(fd, off, &g);
}

/* The segment's header, mapped for one short step by a party that is not
 * attached (its size is only the header's: the ring is not touched). */
static int with_header(int fd, uint64_t off, struct shmbuf_hdr **hdr)
{
	void *p;

	IPC_ENSURE(off % SHMBUF_HDR_SIZE == 0, IPC_EINVAL);
	p = mmap(NULL, SHMBUF_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	IPC_ENSURE(p != MAP_FAILED, IPC_ENOMEM);
	*hdr = p;
	if (((struct shmbuf_hdr *)p)->id.magic != SHMBUF_MAGIC) {
		munmap(p, SHMBUF_HDR_SIZE);
		return IPC_EUCLEAN;
	}
	return 0;
}

int ipc__shmbuf_preclaim_at(int fd, uint64_t off, int role, pid_t pid, uint64_t start,
			    struct ipc__shmbuf_slot *slot)
{
	struct shmbuf_hdr *hdr;
	int rc;

	IPC_ENSURE(role == IPC_SHMBUF_PRODUCER || role == IPC_SHMBUF_CONSUMER, IPC_EINVAL);
	IPC_GUARD(with_header(fd, off, &hdr));
	rc = ipc__ptab_claim_as(hdr->ptab, (uint32_t)role, pid, start, &slot->idx, &slot->token);
	if (rc == 0)
		note_attach(hdr, (uint32_t)role);
	munmap(hdr, SHMBUF_HDR_SIZE);
	return rc;
}

int ipc__shmbuf_attach_at(int fd, uint64_t off, int role, const struct ipc__shmbuf_slot *pre,
			  struct ipc_shmbuf **out)
{
	struct stat st;
	int own;

	IPC_ENSURE(out != NULL && off % SHMBUF_HDR_SIZE == 0, IPC_EINVAL);
	IPC_ENSURE(role == IPC_SHMBUF_PRODUCER || role == IPC_SHMBUF_CONSUMER, IPC_EINVAL);
	IPC_ENSURE(fstat(fd, &st) == 0 && st.st_size >= 0, IPC_EUCLEAN);
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	IPC_ENSURE(own >= 0, IPC_EMFILE);
	return attach_fd(own, off, (size_t)st.st_size, role, pre, out);
}

void ipc__shmbuf_set_intr(struct ipc_shmbuf *h, bool on)
{
	h->intr = on;
}

void ipc__shmbuf_set_abort(struct ipc_shmbuf *h, const _Atomic uint32_t *flag)
{
	h->abort = flag;
}

void ipc__shmbuf_set_fair(struct ipc_shmbuf *h)
{
	h->fair = h->role == IPC_SHMBUF_CONSUMER;
}

int ipc__shmbuf_wake_at(int fd, uint64_t off)
{
	struct shmbuf_hdr *hdr;

	IPC_GUARD(with_header(fd, off, &hdr));
	ipc__futex_bump_wake_all(&hdr->data_seq);
	ipc__futex_bump_wake_all(&hdr->space_seq);
	munmap(hdr, SHMBUF_HDR_SIZE);
	return 0;
}

/* The length of the item at head, left queued. */
static int peek_locked(struct ipc_shmbuf *h, uint32_t *n)
{
	uint64_t head = atomic_load_explicit(&h->hdr->head, memory_order_relaxed);

	if (h->cached - head - 1 >= h->limit && !(h->g.capacity && slot_published(h, head))) {
		int rc = refresh_tail(h, head); /* SHMBUF_EMPTY, an error, or 0 */

		if (rc)
			return rc;
	}
	return item_at(h, head, UINT32_MAX, n);
}

ssize_t ipc__shmbuf_peek(struct ipc_shmbuf *h)
{
	struct wctx w = { .timeout = 0 };
	uint32_t n = 0;
	int rc;

	IPC_GUARD(check_handle(h, IPC_SHMBUF_CONSUMER));
	IPC_GUARD(lock_side(h, &w));
	rc = peek_locked(h, &n);
	unlock_side(h);
	if (rc == SHMBUF_EMPTY && end_of_data(h)) {
		/* Producers left after publishing: what they left comes first. */
		IPC_GUARD(lock_side(h, &w));
		rc = peek_locked(h, &n);
		unlock_side(h);
		if (rc == SHMBUF_EMPTY)
			return IPC_EOD;
	}
	return rc == SHMBUF_EMPTY ? IPC_EAGAIN : rc < 0 ? rc : (ssize_t)n;
}

/* ---- validate / segment --------------------------------------------------------------- */

static int validate_items(struct ipc_shmbuf *h, uint64_t head, uint64_t tail)
{
	uint64_t i;

	for (i = head; i != tail; i++) {
		struct shmbuf_slot *s = slot_at(h, i);

		IPC_ENSURE(atomic_load_explicit(&s->seq, memory_order_relaxed) == i + 1, IPC_EUCLEAN);
		IPC_ENSURE(atomic_load_explicit(&s->len, memory_order_relaxed) <= h->g.max_item,
			   IPC_EUCLEAN);
	}
	return 0;
}

static int validate_backing(struct ipc_shmbuf *h, uint64_t head, uint64_t tail)
{
	uint64_t alloc = atomic_load_explicit(&h->hdr->alloc_end, memory_order_acquire);
	uint64_t recl = atomic_load_explicit(&h->hdr->reclaimed, memory_order_acquire);

	IPC_ENSURE(alloc % h->g.chunk == 0 && recl % h->g.chunk == 0, IPC_EUCLEAN);
	IPC_ENSURE(alloc - recl <= h->g.ring_span, IPC_EUCLEAN);
	IPC_ENSURE(head * h->g.slot_size - recl <= h->g.ring_span, IPC_EUCLEAN);
	IPC_ENSURE(tail == 0 || alloc - tail * h->g.slot_size <= h->g.ring_span, IPC_EUCLEAN);
	return 0;
}


int ipc_shmbuf_validate(struct ipc_shmbuf *h)
{
	struct shmbuf_hdr *hdr;
	struct shmbuf_ident id;
	uint64_t head, tail;

	IPC_ENSURE(h != NULL, IPC_EINVAL);
	hdr = h->hdr;
	memcpy(&id, &hdr->id, sizeof(id));
	IPC_ENSURE(id.magic == SHMBUF_MAGIC && id.version == SHMBUF_VERSION, IPC_EUCLEAN);
	IPC_ENSURE(id.hdr_size == SHMBUF_HDR_SIZE, IPC_EUCLEAN);
	IPC_ENSURE(memcmp(&id.geom, &h->g, sizeof(h->g)) == 0, IPC_EUCLEAN);
	IPC_GUARD(ipc__olock_validate(&hdr->prod_lock, hdr->prod_busy));
	IPC_GUARD(ipc__olock_validate(&hdr->cons_lock, hdr->cons_busy));
	IPC_GUARD(ipc__ptab_validate(hdr->ptab));
	head = atomic_load_explicit(&hdr->head, memory_order_acquire);
	tail = atomic_load_explicit(&hdr->tail, memory_order_acquire);
	if (h->g.capacity && tail + 1 == head)
		return 0; /* a dead producer's last slot, taken before tail settled */
	IPC_ENSURE(tail - head <= h->limit, IPC_EUCLEAN);
	if (!h->g.capacity)
		IPC_GUARD(validate_backing(h, head, tail));
	return validate_items(h, head, tail);
}

int ipc_shmbuf_segment(struct ipc_shmbuf *h, void **base, size_t *len)
{
	IPC_ENSURE(h != NULL && base != NULL && len != NULL, IPC_EINVAL);
	*base = h->hdr;
	*len = h->g.file_size;
	return 0;
}

/* ---- the subject ---------------------------------------------------------------------- */

static const struct ipc_shmbuf_ops ref_shmbuf_ops = {
	.create = ipc_shmbuf_create,
	.attach = ipc_shmbuf_attach,
	.detach = ipc_shmbuf_detach,
	.unlink = ipc_shmbuf_unlink,
	.put = ipc_shmbuf_put,
	.get = ipc_shmbuf_get,
	.validate = ipc_shmbuf_validate,
	.segment = ipc_shmbuf_segment,
};

const struct ipc_subject ipc__subject_ref_shmbuf = {
	.abi_version = IPC_SUBJECT_ABI_VERSION,
	.struct_size = sizeof(struct ipc_subject),
	.name = "ref-shmbuf",
	.mechanism = IPC_MECH_SHMBUF,
	.caps = IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_NONBLOCK | IPC_SHMBUF_CAP_TIMED |
		IPC_SHMBUF_CAP_BOUNDED | IPC_SHMBUF_CAP_UNBOUNDED | IPC_SHMBUF_CAP_CROSS_PROCESS |
		IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_END_OF_STREAM | IPC_SHMBUF_CAP_PEER_DEATH |
		IPC_SHMBUF_CAP_UNTRUSTED | IPC_SHMBUF_CAP_SYSTEM_NAME | IPC_SHMBUF_CAP_MEM_LIMIT,
	.ops = &ref_shmbuf_ops,
	.summary = "reference shared-memory ring: MPMC via owner-tagged robust locks, "
		   "spin-then-futex waits, kill -9 safe, unbounded via fallocate/punch-hole",
};
