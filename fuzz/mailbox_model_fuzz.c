/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_mailbox_ref_create ipc_mailbox_ref_open ipc_mailbox_ref_close
 * ipc_mailbox_ref_unlink ipc_mailbox_ref_send ipc_mailbox_ref_recv ipc_mailbox_ref_self_id
 * ipc_mailbox_ref_send_to ipc_mailbox_ref_recv_from ipc_mailbox_ref_recv_any
 * ipc_mailbox_ref_validate */
/*
 * Differential fuzzing of ref-mailbox against an executable model
 * (spec/mailbox.h, spec/mailbox.md). The input is a program for several
 * parties of one process: up to NH handles opened SEND, RECV or both on one
 * mailbox whose capacity mode comes from the input (zero, bounded n,
 * unbounded, unbounded with mem_limit), closed, reopened, the name unlinked
 * and created again. Every call is one that cannot wait: timeout 0, 1 ns, or
 * -1 only when the model says the call completes at once (NB-4), so one
 * thread runs it all.
 *
 * The model: the mailbox's FIFO, one inbox per party (direct naming), the
 * "ever had a sender / receiver" flags, the capacity rules and ref-mailbox's
 * memory accounting (mem_limit counts queued bytes; the slot pool bounds the
 * number of messages). Every message carries a unique counter (its first
 * bytes, the rest a function of it), so a lost, repeated, reordered or
 * misdelivered message shows. Any result or byte that differs from the
 * model, and any validate() other than 0, is a trap with a message.
 *
 * Input layout (docs/fuzzing.md has the table):
 *   byte 0  mode (bits 0-1) and bounded n (bits 2-7)
 *   byte 1  max_msg
 *   byte 2  mem_limit (mode 3)
 *   then ops: one byte, low 4 bits = kind, high 4 bits = argument
 *   (bits 0-2 the handle slot, bit 3 a variant), then the kind's operands.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "mailbox/ref_mailbox.h"
#include "mailbox/ref_mailbox_store.h" /* the slot layout: -ENOMEM when the pool is full */

#define NH        6            /* handles (parties) at once */
#define QMAX      2048         /* messages per model queue */
#define MAX_STEPS 2048         /* bounds the work of one input */
#define MAX_BURST 32           /* sends of one burst op */
#define SPAN      (1ull << 30) /* ref-mailbox's pool span without mem_limit (MB_SPAN) */

/* ---- the model --------------------------------------------------------------------------- */

struct msg {
	uint32_t seq; /* unique per input: the counter in the message */
	uint32_t len;
	uint64_t from; /* sender's id (direct naming) */
};

struct queue {
	uint32_t n;
	struct msg m[QMAX];
};

struct party {
	struct ipc_mailbox *h;
	uint32_t flags;
	uint64_t id;    /* self_id at open */
	uint64_t last;  /* the id it had when it closed (an id that is not open) */
	size_t max_msg; /* of the mailbox it opened (a stale one keeps its own) */
	bool stale;     /* its mailbox was unlinked: every call is -EIDRM */
};

struct model {
	struct ipc_mailbox_attr attr;
	bool exists; /* the name is there */
	bool ever_send, ever_recv;
	uint32_t seq; /* counter of the next message */
	struct party p[NH];
	struct queue mbox;
	struct queue inbox[NH]; /* per handle slot, while it is a live party */
};

static struct {
	struct model m;
	struct ipc_fuzz_in in;
	unsigned step;
	unsigned long inputs;
	bool trace;
} R;

static const char *NAME;

static bool live(int s)
{
	return R.m.p[s].h && !R.m.p[s].stale;
}

static unsigned count_role(uint32_t flag, int except)
{
	unsigned n = 0;

	for (int s = 0; s < NH; s++)
		n += s != except && live(s) && (R.m.p[s].flags & flag);
	return n;
}

/* The slot of the live party with this id, or -1: what -ESRCH and the
 * end of stream of recv_from are about. */
static int party_of(uint64_t id)
{
	for (int s = 0; s < NH; s++)
		if (live(s) && R.m.p[s].id == id)
			return s;
	return -1;
}

static void q_push(struct queue *q, const struct msg *m)
{
	q->m[q->n++] = *m;
}

static void q_remove(struct queue *q, uint32_t i)
{
	memmove(&q->m[i], &q->m[i + 1], (q->n - i - 1) * sizeof(q->m[0]));
	q->n--;
}

/* Index of the first message from `from` (any: every sender), or -1. */
static int q_find(const struct queue *q, uint64_t from, bool any)
{
	for (uint32_t i = 0; i < q->n; i++)
		if (any || q->m[i].from == from)
			return (int)i;
	return -1;
}

/* Messages and bytes queued in the mailbox and every live inbox. */
static void totals(uint64_t *count, uint64_t *bytes)
{
	*count = *bytes = 0;
	for (int s = -1; s < NH; s++) {
		const struct queue *q = s < 0 ? &R.m.mbox : &R.m.inbox[s];

		if (s >= 0 && !live(s))
			continue;
		*count += q->n;
		for (uint32_t i = 0; i < q->n; i++)
			*bytes += q->m[i].len;
	}
}

/* ---- results ----------------------------------------------------------------------------- */


/* On a shared machine `make clean-ipc` removes every /dev/shm/ipcspec-*,
 * live ones included: a mismatch says so when the name vanished. */
static const char *name_note(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm%s", NAME);
	return R.m.exists && stat(path, &st) != 0
		   ? " (the name is gone from /dev/shm but was never unlinked here: removed "
		     "from outside, e.g. by make clean-ipc; replay the input to confirm)"
		   : "";
}

static void expect(const struct ipc_fuzz_want *w, long rc, const char *what)
{
	if (R.trace)
		fprintf(stderr, "step %u: %s -> %s (model %s)\n", R.step, what, ipc_fuzz_rc(rc),
			ipc_fuzz_want_str(w));
	if (!ipc_fuzz_want_has(w, rc))
		IPC_FUZZ_FAIL("step %u: %s returned %s, the model says %s%s", R.step, what,
			      ipc_fuzz_rc(rc), ipc_fuzz_want_str(w), name_note());
}

static void expect_one(long code, long rc, const char *what)
{
	struct ipc_fuzz_want w = {.n = 0};

	ipc_fuzz_want_add(&w, code);
	expect(&w, rc, what);
}

/* ---- message bytes ----------------------------------------------------------------------- */

/* The counter in the first four bytes (as many as fit), then bytes that
 * are a function of it: any two messages differ. */
static void msg_fill(uint8_t *dst, uint32_t len, uint32_t seq)
{
	for (uint32_t i = 0; i < len; i++)
		dst[i] = i < 4 ? (uint8_t)(seq >> (8 * i)) : ipc_fuzz_item_byte(0x6d62, seq, i);
}

static void check_bytes(const uint8_t *buf, const struct msg *m, const char *what)
{
	for (uint32_t i = 0; i < m->len; i++) {
		uint8_t want =
		    i < 4 ? (uint8_t)(m->seq >> (8 * i)) : ipc_fuzz_item_byte(0x6d62, m->seq, i);

		if (buf[i] != want)
			IPC_FUZZ_FAIL(
			    "step %u: %s returned message #%u (%u bytes) with byte %u = 0x%02x, "
			    "it was sent with 0x%02x (ORDER-1, ORDER-3, SIZE-4)",
			    R.step, what, m->seq, m->len, i, buf[i], want);
	}
}

/* ---- validate ---------------------------------------------------------------------------- */

/* After every step: one live handle sees the mailbox, one stale handle the
 * unlinked one; both must be consistent. */
static void check_validate(void)
{
	bool seen_live = false, seen_stale = false;

	for (int s = 0; s < NH; s++) {
		bool *seen = R.m.p[s].stale ? &seen_stale : &seen_live;

		if (!R.m.p[s].h || *seen)
			continue;
		*seen = true;
		expect_one(0, ipc_mailbox_ref_validate(R.m.p[s].h), "validate() after the step");
	}
}

/* ---- handles ----------------------------------------------------------------------------- */

/* The slot asked for if open, else the next open one, else -1. */
static int pick(unsigned slot)
{
	for (unsigned i = 0; i < NH; i++) {
		unsigned s = (slot + i) % NH;

		if (R.m.p[s].h)
			return (int)s;
	}
	return -1;
}

static int free_slot(unsigned slot)
{
	for (unsigned i = 0; i < NH; i++) {
		unsigned s = (slot + i) % NH;

		if (!R.m.p[s].h)
			return (int)s;
	}
	return -1;
}

static const uint32_t flag_map[8] = {
    IPC_MAILBOX_SEND, IPC_MAILBOX_RECV, IPC_MAILBOX_SEND | IPC_MAILBOX_RECV,
    IPC_MAILBOX_SEND, IPC_MAILBOX_RECV, IPC_MAILBOX_SEND | IPC_MAILBOX_RECV,
    0 /* invalid */,  4 /* invalid */,
};

/* DIRECT-1: an id is not 0, and differs from every other live party's. */
static void check_new_id(int s)
{
	uint64_t id = 0;

	expect_one(0, ipc_mailbox_ref_self_id(R.m.p[s].h, &id), "self_id() after open");
	if (id == 0)
		IPC_FUZZ_FAIL("step %u: self_id() gave 0 (DIRECT-1)", R.step);
	for (int o = 0; o < NH; o++)
		if (o != s && live(o) && R.m.p[o].id == id)
			IPC_FUZZ_FAIL("step %u: slots %d and %d share the id %llu (DIRECT-1)",
				      R.step, s, o, (unsigned long long)id);
	R.m.p[s].id = id;
}

static void do_open(int s, uint32_t flags)
{
	bool bad_flags = flags == 0 || (flags & ~(IPC_MAILBOX_SEND | IPC_MAILBOX_RECV));
	struct ipc_mailbox *h = NULL;
	struct ipc_fuzz_want w = {.n = 0};
	int rc;

	if (bad_flags)
		ipc_fuzz_want_add(&w, IPC_EINVAL); /* NAME-2 */
	if (!R.m.exists)
		ipc_fuzz_want_add(&w, IPC_ENOENT); /* NAME-1, NAME-6 */
	if (w.n == 0)
		ipc_fuzz_want_add(&w, 0);
	rc = ipc_mailbox_ref_open(NAME, flags, &h);
	expect(&w, rc, "open()");
	if (rc != 0)
		return;
	R.m.p[s] = (struct party){
	    .h = h, .flags = flags, .last = R.m.p[s].last, .max_msg = R.m.attr.max_msg};
	R.m.inbox[s].n = 0;
	R.m.ever_send |= (flags & IPC_MAILBOX_SEND) != 0;
	R.m.ever_recv |= (flags & IPC_MAILBOX_RECV) != 0;
	check_new_id(s);
}

static void op_open(unsigned arg)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	int s = free_slot(arg & 7);

	if (s >= 0)
		do_open(s, flag_map[b & 7]);
}

/* The party leaves: its inbox goes with it (messages it sent stay). */
static void do_close(int s)
{
	expect_one(0, ipc_mailbox_ref_close(R.m.p[s].h), "close()");
	if (!R.m.p[s].stale)
		R.m.p[s].last = R.m.p[s].id;
	R.m.p[s].h = NULL;
	R.m.inbox[s].n = 0;
}

static void op_close(unsigned arg)
{
	int s = pick(arg & 7);

	if (s >= 0)
		do_close(s);
}

/* DIRECT-1: the same id on every call. */
static void op_self_id(unsigned arg)
{
	int s = pick(arg & 7);
	uint64_t id = 0;

	if (s < 0)
		return;
	expect_one(0, ipc_mailbox_ref_self_id(R.m.p[s].h, &id), "self_id()");
	if (id != R.m.p[s].id)
		IPC_FUZZ_FAIL("step %u: self_id() of slot %d gave %llu, at open %llu (DIRECT-1)",
			      R.step, s, (unsigned long long)id, (unsigned long long)R.m.p[s].id);
}

/* ---- operands ---------------------------------------------------------------------------- */

/* A length in [0, max_msg + 2]: one byte when that range fits. */
static uint32_t take_len(void)
{
	size_t span = R.m.attr.max_msg + 3;
	size_t raw = span <= 256 ? ipc_fuzz_u8(&R.in) : ipc_fuzz_u16(&R.in);

	return (uint32_t)(raw % span);
}

/* A receive buffer size around the next message's length f. */
static size_t take_cap(uint32_t f)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	size_t m = R.m.attr.max_msg;

	switch (b & 3) {
	case 0:
		return m; /* always fits */
	case 1:
		return f ? f - 1 : 0; /* one short: SIZE-3 */
	case 2:
		return f; /* exact */
	default:
		return (b >> 2) % (m + 2); /* anything */
	}
}

/* An id to address: a party's (open, or the one it had: closed), a raw
 * value, 0, or one past the largest live id. */
static uint64_t take_id(void)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	unsigned s = b % 8;

	if (s < NH) {
		const struct party *p = &R.m.p[s];

		return p->h && !p->stale && !(b & 0x80) ? p->id : p->last;
	}
	if (s == 6)
		return ipc_fuzz_u32(&R.in);
	return (b & 0x80) ? 0 : UINT64_MAX;
}

/* Timeout 0 mostly; 1 ns (expired at once: -ETIMEDOUT for -EAGAIN); -1
 * only when the model says the call completes at once (NB-4); -2 invalid
 * (NB-6). */
static int64_t take_timeout(unsigned arg)
{
	if (!(arg & 8))
		return 0;
	switch (ipc_fuzz_u8(&R.in) & 3) {
	case 0:
		return 1;
	case 1:
		return -1;
	case 2:
		return -2;
	default:
		return 0;
	}
}

/* The result of a call that would wait, by its timeout. */
static long would_wait(int64_t timeout)
{
	return timeout == 0 ? IPC_EAGAIN : IPC_ETIMEDOUT;
}

/* ---- send -------------------------------------------------------------------------------- */

/* ref-mailbox's pool (impl/mailbox/ref_mailbox_store.c): the slots every
 * queue shares. An unbounded mailbox refuses a message with -ENOMEM when
 * it would pass mem_limit (UNB-2) or when the pool has no free slot. */
static uint64_t pool_slots(void)
{
	uint64_t slot = (sizeof(struct mb_slot) + R.m.attr.max_msg + 7) & ~7ull;
	uint64_t n = (R.m.attr.mem_limit ? R.m.attr.mem_limit : SPAN) / slot + MB_PARTIES;

	return n < (1u << 22) ? n : (1u << 22);
}

/* The state half of a send into q (after the argument checks). */
static long send_state(const struct queue *q, uint32_t len, int64_t timeout)
{
	size_t cap = R.m.attr.capacity;
	uint64_t count, bytes;

	if (cap == 0) /* ZERO-2: no receiver ever waits here */
		return would_wait(timeout);
	if (cap != IPC_MAILBOX_UNBOUNDED)
		return q->n < cap ? 0 : would_wait(timeout); /* BOUND-1 */
	totals(&count, &bytes);
	if (R.m.attr.mem_limit && bytes + len > R.m.attr.mem_limit)
		return IPC_ENOMEM; /* UNB-2 */
	return count < pool_slots() ? 0 : IPC_ENOMEM;
}

/* Send (to = 0: into the mailbox) from slot s; true if it queued. */
static bool do_send(int s, bool direct, uint64_t to, uint32_t len, int64_t timeout)
{
	const struct party *p = &R.m.p[s];
	struct ipc_fuzz_want w = {.n = 0};
	int dest = direct ? party_of(to) : -1;
	struct queue *q = direct ? (dest >= 0 ? &R.m.inbox[dest] : NULL) : &R.m.mbox;
	uint8_t *buf = ipc_fuzz_in_buf(len);
	bool piped = !direct && R.m.ever_recv && count_role(IPC_MAILBOX_RECV, -1) == 0;
	long state;
	int rc;

	if (q && q->n >= QMAX)
		return false;
	if (timeout < -1)
		ipc_fuzz_want_add(&w, IPC_EINVAL); /* NB-6 */
	if (!(p->flags & IPC_MAILBOX_SEND))
		ipc_fuzz_want_add(&w, IPC_EBADF); /* NAME-10 */
	if (len > p->max_msg)
		ipc_fuzz_want_add(&w, IPC_EMSGSIZE); /* SIZE-1 */
	if (w.n && direct && (to == 0 || dest < 0))
		ipc_fuzz_want_add(&w, IPC_ESRCH); /* unranked against the argument errors */
	if (w.n && (p->stale || piped))
		ipc_fuzz_want_add(&w, p->stale ? IPC_EIDRM : IPC_EPIPE);
	if (w.n == 0) {
		if (p->stale && direct && dest < 0)
			ipc_fuzz_want_add(&w, IPC_ESRCH); /* both hold: unranked */
		if (p->stale)
			state = IPC_EIDRM; /* NAME-7 */
		else if (direct && dest < 0)
			state = IPC_ESRCH; /* DIRECT-5 */
		else if (piped)
			state = IPC_EPIPE; /* EOS-3 */
		else
			state = send_state(q, len, timeout);
		if (timeout == -1 && (state == IPC_EAGAIN || state == IPC_ETIMEDOUT))
			timeout = 0, state = IPC_EAGAIN; /* never wait */
		ipc_fuzz_want_add(&w, state);
	}
	msg_fill(buf, len, R.m.seq);
	rc = direct ? ipc_mailbox_ref_send_to(p->h, to, buf, len, timeout)
		    : ipc_mailbox_ref_send(p->h, buf, len, timeout);
	expect(&w, rc, direct ? "send_to()" : "send()");
	if (rc != 0)
		return false;
	q_push(q, &(struct msg){.seq = R.m.seq++, .len = len, .from = p->id});
	return true;
}

static void op_send(unsigned arg)
{
	int s = pick(arg & 7);
	uint32_t len = take_len();
	int64_t timeout = take_timeout(arg);

	if (s >= 0)
		(void)do_send(s, false, 0, len, timeout);
}

static void op_send_to(unsigned arg)
{
	int s = pick(arg & 7);
	uint64_t to = take_id();
	uint32_t len = take_len();
	int64_t timeout = take_timeout(arg);

	if (s >= 0)
		(void)do_send(s, true, to, len, timeout);
}

/* Lengths at the edges: 0, 1, max_msg, max_msg + 1. */
static void op_send_edge(unsigned arg)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	uint32_t m = (uint32_t)R.m.attr.max_msg;
	uint32_t len = (uint32_t[]){0, 1, m, m + 1}[b & 3];
	int s = pick(arg & 7);

	if (s < 0)
		return;
	if (arg & 8)
		(void)do_send(s, true, R.m.p[(b >> 2) % NH].id, len, 0);
	else
		(void)do_send(s, false, 0, len, 0);
}

/* n sends of one length: fills a bounded queue or reaches mem_limit. */
static void op_burst(unsigned arg)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	uint32_t len = take_len() % (uint32_t)(R.m.attr.max_msg + 1);
	unsigned n = 1 + (b & (MAX_BURST - 1));
	uint64_t to = (arg & 8) ? R.m.p[(b >> 5) % NH].id : 0;
	int s = pick(arg & 7);

	for (unsigned i = 0; s >= 0 && i < n; i++)
		if (!do_send(s, arg & 8, to, len, 0))
			break;
}

/* ---- receive ----------------------------------------------------------------------------- */

enum rkind { RK_MBOX, RK_FROM, RK_ANY };

static const char *const rk_name[] = {"recv()", "recv_from()", "recv_any()"};

/* Nothing will ever come (EOS-1, DIRECT-7, recv_any's rule). */
static bool ended(int s, enum rkind k, uint64_t from)
{
	if (k == RK_FROM)
		return party_of(from) < 0;
	if (k == RK_ANY)
		return count_role(IPC_MAILBOX_SEND | IPC_MAILBOX_RECV, s) == 0;
	return R.m.ever_send && count_role(IPC_MAILBOX_SEND, -1) == 0;
}

struct recv_call {
	int s;
	enum rkind k;
	uint64_t from; /* RK_FROM */
	size_t cap;
	bool null_buf;
	int64_t timeout;
};

/* The message a receive would take (index in q), or -1. */
static int next_msg(const struct recv_call *c, struct queue **q)
{
	*q = c->k == RK_MBOX ? &R.m.mbox : &R.m.inbox[c->s];
	return q_find(*q, c->from, c->k != RK_FROM);
}

static void want_recv(struct ipc_fuzz_want *w, struct recv_call *c, int i, const struct queue *q)
{
	const struct party *p = &R.m.p[c->s];
	long state;

	if (c->timeout < -1 || (c->null_buf && c->cap))
		ipc_fuzz_want_add(w, IPC_EINVAL); /* NB-6 */
	if (!(p->flags & IPC_MAILBOX_RECV))
		ipc_fuzz_want_add(w, IPC_EBADF); /* NAME-10 */
	if (w->n && p->stale)
		ipc_fuzz_want_add(w, IPC_EIDRM);
	if (w->n)
		return;
	if (p->stale)
		state = IPC_EIDRM; /* NAME-7 */
	else if (i >= 0)
		state = q->m[i].len > c->cap ? IPC_EMSGSIZE : (long)q->m[i].len; /* SIZE-3 */
	else if (ended(c->s, c->k, c->from))
		state = IPC_EOD; /* EOS-1, DIRECT-7 */
	else
		state = would_wait(c->timeout); /* NB-1, ZERO-4 */
	if (c->timeout == -1 && (state == IPC_EAGAIN || state == IPC_ETIMEDOUT))
		c->timeout = 0, state = IPC_EAGAIN; /* never wait */
	ipc_fuzz_want_add(w, state);
}

static void do_recv(struct recv_call *c)
{
	uint8_t *buf = c->null_buf ? NULL : ipc_fuzz_out_buf(c->cap);
	struct ipc_mailbox *h = R.m.p[c->s].h;
	struct ipc_fuzz_want w = {.n = 0};
	struct queue *q;
	int i = next_msg(c, &q);
	uint64_t sender = 0;
	ssize_t rc;

	want_recv(&w, c, i, q);
	if (c->k == RK_MBOX)
		rc = ipc_mailbox_ref_recv(h, buf, c->cap, c->timeout);
	else if (c->k == RK_FROM)
		rc = ipc_mailbox_ref_recv_from(h, c->from, buf, c->cap, c->timeout);
	else
		rc = ipc_mailbox_ref_recv_any(h, &sender, buf, c->cap, c->timeout);
	expect(&w, rc, rk_name[c->k]);
	if (rc < 0)
		return;
	check_bytes(buf, &q->m[i], rk_name[c->k]);
	if (c->k == RK_ANY && sender != q->m[i].from)
		IPC_FUZZ_FAIL(
		    "step %u: recv_any() said message #%u came from %llu, it came from %llu "
		    "(DIRECT-4)",
		    R.step, q->m[i].seq, (unsigned long long)sender,
		    (unsigned long long)q->m[i].from);
	q_remove(q, (uint32_t)i);
}

/* Decode and run one receive of kind k from the handle in arg. */
static void op_recv(unsigned arg, enum rkind k)
{
	struct recv_call c = {.s = pick(arg & 7), .k = k};
	struct queue *q;
	int i;

	if (k == RK_FROM)
		c.from = take_id();
	c.timeout = take_timeout(arg);
	if (c.s < 0) {
		(void)take_cap(0);
		return;
	}
	i = next_msg(&c, &q);
	c.cap = take_cap(i >= 0 ? q->m[i].len : 0);
	c.null_buf = c.cap == 0 && (arg & 8);
	do_recv(&c);
}

/* Receive until the model says nothing is left: drains a queue fast. */
static void op_drain(unsigned arg)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	struct recv_call c = {.s = pick(arg & 7), .k = (enum rkind)(b % 3)};
	struct queue *q;

	if (c.s < 0)
		return;
	if (c.k == RK_FROM)
		c.from = R.m.p[(b >> 2) % NH].id;
	for (int n = 0; n < QMAX; n++) {
		int i = next_msg(&c, &q);

		c.cap = R.m.attr.max_msg;
		do_recv(&c);
		if (i < 0 || R.m.p[c.s].stale || !(R.m.p[c.s].flags & IPC_MAILBOX_RECV))
			break;
	}
}

/* ---- names ------------------------------------------------------------------------------- */

/* NAME-6, NAME-7: the name goes; open handles keep a dead mailbox. */
static void do_unlink(void)
{
	expect_one(R.m.exists ? 0 : IPC_ENOENT, ipc_mailbox_ref_unlink(NAME), "unlink()");
	if (!R.m.exists)
		return;
	R.m.exists = false;
	for (int s = 0; s < NH; s++) {
		R.m.p[s].stale |= R.m.p[s].h != NULL;
		R.m.inbox[s].n = 0;
	}
	R.m.mbox.n = 0;
}

static const size_t big_msg[16] = {
    255, 256, 257, 511, 512, 1000, 1023, 1024, 2048, 4095, 4096, 4097, 8191, 8192, 1, 64,
};
static const size_t big_cap[4] = {100, 1000, 65536, 7};
static const size_t limits[8] = {1, 10, 64, 100, 256, 1000, 4096, 65536};

static void decode_attr(struct ipc_mailbox_attr *a, uint8_t c, uint8_t mm, uint8_t ml)
{
	unsigned n = c >> 2;

	a->max_msg = mm < 240 ? (size_t)mm + 1 : big_msg[mm - 240];
	a->mode = 0600;
	a->mem_limit = 0;
	switch (c & 3) {
	case 0:
		a->capacity = 0;
		break;
	case 1:
		a->capacity = n < 60 ? n + 1 : big_cap[n - 60];
		break;
	case 2:
		a->capacity = IPC_MAILBOX_UNBOUNDED;
		break;
	default:
		a->capacity = IPC_MAILBOX_UNBOUNDED;
		a->mem_limit = limits[ml & 7] * (1 + (ml >> 6));
		break;
	}
	/* Large pools of large messages cost memory and time, not coverage. */
	if (a->capacity >= 1000 && a->capacity != IPC_MAILBOX_UNBOUNDED && a->max_msg > 256)
		a->max_msg = 256;
}

/* A new mailbox under the name: every ever-flag and queue starts empty. */
static bool do_create(uint8_t c, uint8_t mm, uint8_t ml)
{
	struct ipc_mailbox_attr a;
	int rc;

	decode_attr(&a, c, mm, ml);
	rc = ipc_mailbox_ref_create(NAME, &a);
	expect_one(R.m.exists ? IPC_EEXIST : 0, rc, "create()"); /* NAME-1 */
	if (rc != 0)
		return false;
	R.m.attr = a;
	R.m.exists = true;
	R.m.ever_send = R.m.ever_recv = false;
	R.m.mbox.n = 0;
	return true;
}

/* Unlink if there, then create with new attributes (the mode may change). */
static void op_recreate(unsigned arg)
{
	uint8_t c = ipc_fuzz_u8(&R.in), mm = ipc_fuzz_u8(&R.in);

	if (R.m.exists && !(arg & 8))
		do_unlink();
	(void)do_create(c, mm, ipc_fuzz_u8(&R.in));
}

/* Argument errors: NAME-1 (create over a live name), NAME-2, NULL handles. */
static void op_bad_args(unsigned arg)
{
	struct ipc_mailbox_attr a = R.m.attr;
	struct ipc_mailbox *h = NULL;

	switch (arg & 7) {
	case 0: /* NAME-1 / NAME-2: a live name is -EEXIST, max_msg 0 -EINVAL */
		a.max_msg = (arg & 8) ? 0 : a.max_msg;
		if (a.max_msg == 0) {
			struct ipc_fuzz_want w = {.n = 0};

			ipc_fuzz_want_add(&w, IPC_EINVAL);
			if (R.m.exists)
				ipc_fuzz_want_add(&w, IPC_EEXIST);
			expect(&w, ipc_mailbox_ref_create(NAME, &a), "create(max_msg 0)");
		} else if (R.m.exists) {
			expect_one(IPC_EEXIST, ipc_mailbox_ref_create(NAME, &a),
				   "create() of a live name");
		}
		break;
	case 1:
		expect_one(IPC_EINVAL, ipc_mailbox_ref_close(NULL), "close(NULL)");
		break;
	case 2:
		expect_one(IPC_EINVAL, ipc_mailbox_ref_send(NULL, "", 0, 0), "send(NULL)");
		break;
	case 3:
		expect_one(IPC_EINVAL, ipc_mailbox_ref_recv(NULL, NULL, 0, 0), "recv(NULL)");
		break;
	case 4:
		expect_one(IPC_EINVAL, ipc_mailbox_ref_open("no-slash", IPC_MAILBOX_SEND, &h),
			   "open(\"no-slash\")");
		break;
	case 5:
		expect_one(IPC_EINVAL, ipc_mailbox_ref_unlink("/a/b"), "unlink(\"/a/b\")");
		break;
	default:
		expect_one(IPC_EINVAL, ipc_mailbox_ref_validate(NULL), "validate(NULL)");
		break;
	}
}

/* Every handle closed (persistence: NAME-5), then reopened as it was. */
static void op_reopen_all(void)
{
	uint32_t flags[NH] = {0};

	for (int s = 0; s < NH; s++) {
		if (!R.m.p[s].h)
			continue;
		flags[s] = R.m.p[s].flags;
		do_close(s);
	}
	for (int s = 0; s < NH; s++)
		if (flags[s])
			do_open(s, flags[s]);
}

static void step(uint8_t op)
{
	unsigned arg = op >> 4;

	switch (op & 15) {
	case 0:
		op_open(arg);
		break;
	case 1:
		op_close(arg);
		break;
	case 2:
	case 3:
		op_send(arg);
		break;
	case 4:
		op_send_to(arg);
		break;
	case 5:
	case 6:
		op_recv(arg, RK_MBOX);
		break;
	case 7:
		op_recv(arg, RK_FROM);
		break;
	case 8:
		op_recv(arg, RK_ANY);
		break;
	case 9:
		op_self_id(arg);
		break;
	case 10:
		op_send_edge(arg);
		break;
	case 11:
		op_burst(arg);
		break;
	case 12:
		op_drain(arg);
		break;
	case 13:
		(arg & 8) ? op_reopen_all() : do_unlink();
		break;
	case 14:
		op_recreate(arg);
		break;
	default:
		op_bad_args(arg);
		break;
	}
}

/* ---- one input --------------------------------------------------------------------------- */

/* The end: each live receiver's inbox and then the mailbox are drained
 * through the model, every handle closed, the name unlinked. */
static void finish(void)
{
	R.step++;
	for (int s = 0; s < NH; s++)
		if (live(s) && (R.m.p[s].flags & IPC_MAILBOX_RECV))
			for (int n = 0; n < QMAX && R.m.inbox[s].n; n++)
				do_recv(&(struct recv_call){
				    .s = s, .k = RK_ANY, .cap = R.m.attr.max_msg});
	if (R.m.exists) {
		int s = free_slot(0);

		if (s < 0)
			do_close(s = 0);
		do_open(s, IPC_MAILBOX_RECV);
		for (int n = 0; n < QMAX && R.m.mbox.n; n++)
			do_recv(&(struct recv_call){.s = s, .k = RK_MBOX, .cap = R.m.attr.max_msg});
		do_recv(&(struct recv_call){.s = s, .k = RK_MBOX, .cap = 1});
	}
	check_validate();
	for (int s = 0; s < NH; s++)
		if (R.m.p[s].h)
			do_close(s);
	do_unlink();
}

/* Nothing of the input may outlive it: descriptors, the name, mappings. */
static void check_leaks(int fds)
{
	char line[512], path[128];
	struct stat st;

	if (ipc_fuzz_count_fds() != fds)
		IPC_FUZZ_FAIL("descriptor leak: %d open before the input, %d after", fds,
			      ipc_fuzz_count_fds());
	snprintf(path, sizeof(path), "/dev/shm%s", NAME);
	if (stat(path, &st) == 0)
		IPC_FUZZ_FAIL("%s is still there after unlink", path);
	if (++R.inputs % 64 == 1 && ipc_fuzz_mapped(NAME, line, sizeof(line)))
		IPC_FUZZ_FAIL("every handle is closed but this is still mapped: %s", line);
}

static int one(const uint8_t *data, size_t size)
{
	int fds = ipc_fuzz_count_fds();
	uint8_t c, mm, ml;

	memset(&R.m, 0, offsetof(struct model, mbox)); /* the queues: only n is read */
	R.m.mbox.n = 0;
	for (int s = 0; s < NH; s++)
		R.m.inbox[s].n = 0;
	R.in = (struct ipc_fuzz_in){.p = data, .n = size};
	R.step = 0;
	ipc_fuzz_name_release(); /* a previous input that trapped left it */
	c = ipc_fuzz_u8(&R.in), mm = ipc_fuzz_u8(&R.in), ml = ipc_fuzz_u8(&R.in);
	if (do_create(c, mm, ml))
		while (ipc_fuzz_more(&R.in) && R.step < MAX_STEPS) {
			R.step++;
			step(ipc_fuzz_u8(&R.in));
			check_validate();
		}
	finish();
	check_leaks(fds);
	return 0;
}

static void init(void)
{
	NAME = ipc_fuzz_name_init();
	R.trace = getenv("MAILBOX_MODEL_TRACE") != NULL;
}

static void cleanup(void)
{
	ipc_fuzz_name_release();
}

IPC_FUZZ_TARGET(init, one, cleanup)
