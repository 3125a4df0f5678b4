/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_pipe_ref_create ipc_pipe_ref_close ipc_pipe_ref_read ipc_pipe_ref_write ipc_pipe_ref_set_nonblock ipc_pipe_ref_get_capacity ipc_pipe_ref_set_capacity ipc_pipe_ref_poll ipc_pipe_ref_dup ipc_pipe_ref_validate (through ipc__subject_ref_pipe), native-pipe's ops */
/*
 * Differential fuzzing of the pipe mechanism: ref-pipe (impl/pipe/ref_pipe.c)
 * and the kernel's pipe (native-pipe) run the same operation sequence side by
 * side, in one process and one thread. The input is a program: one byte of
 * pipe attributes, then op bytes (kind | arg << 4) with their operands
 * (docs/fuzzing.md has the table): write, read, close, dup, set_nonblock,
 * get_capacity, set_capacity, poll with timeout 0, zero-length I/O, I/O on
 * the wrong end, a new pipe, drain, fill, bursts of small writes.
 *
 * Each subject has a small model of its own pipe (bytes written and read,
 * capacity, open handles, the mode of each handle), from which the clauses
 * of spec/pipe.md give the set of results allowed for the next call. Where
 * a clause fixes the result the set has one member, and as both subjects
 * start from the same state, that is "both must return the same": counts,
 * errno codes, the bytes read (a function of the stream offset), readiness
 * bits and end of file. Where the clauses leave room (below), each subject
 * is held to the room only, its model follows what it did, and the two
 * states may part until a drain brings them together again.
 *
 * Deliberately not compared (results that may legitimately differ):
 *  - Where the kernel counts pages, not bytes. A pipe is a ring of pages
 *    (slots), and a page partly read stays taken, so with room = C - Q >= n
 *    the kernel may still refuse a write of n <= PIPE_BUF (-EAGAIN), take
 *    less than the room of a larger write, lack POLLOUT, or refuse to shrink
 *    a pipe whose bytes would fit (-EBUSY). PIPE-ATOM-2 ("a write that fits
 *    in that room succeeds in full"), PIPE-POLL-3 and PIPE-CAP-4 ("shrinking
 *    to a size that still holds them succeeds") are held exactly for a
 *    subject whose room is counted in bytes (ref-pipe: byte_room), and only
 *    as far as pages allow for the kernel; docs/fuzzing.md shows the kernel
 *    cases. Fixed and compared for both: an empty pipe takes min(n, C)
 *    (PIPE-CAP-1, ATOM-3), refuses nothing it can hold and gives POLLOUT;
 *    with fewer than n free bytes a write of n <= PIPE_BUF is refused
 *    (ATOM-2) and a larger one takes at most the room (NB-3).
 *  - How much of a write larger than PIPE_BUF a non-empty pipe takes: "what
 *    fits" is not fixed by the clauses (1..room, or -EAGAIN for the kernel).
 *  - POLLOUT on a write end with no reader left (a write would not block:
 *    it fails with -EPIPE; Linux reports OUT when a page is free).
 *  - POLLIN at end of file: PIPE-POLL-5 (HUP alone) is a SHOULD.
 *  - set_capacity above /proc/sys/fs/pipe-max-size: -EPERM unless the caller
 *    has CAP_SYS_RESOURCE (PIPE-CAP-5; the fuzzer usually runs as root); the
 *    same for a create() asking for such a capacity. Between 2^31 and 2^32
 *    -EINVAL or -EPERM; beyond 2^32, -EINVAL (PIPE-CAP-6).
 *  - The default capacity: the subject's own (CAP-1 checks it is >= PIPE_BUF).
 *  - Zero-length I/O on the wrong end: -EBADF (PIPE-END-1) or 0 (END-5).
 * A blocking call is only issued where it cannot block (a read with data
 * or at end of file, a zero-length call (PIPE-END-5), a write into an empty
 * pipe that fits, any write with no reader); everything else goes through
 * non-blocking handles. SIGPIPE
 * is ignored: both subjects must return -EPIPE.
 *
 * After every step ref-pipe's validate() must return 0; after every input
 * the process holds as many descriptors as before it, and periodically no
 * memfd or /dev/shm mapping is left (every pipe is closed between inputs).
 */
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipc_subject.h"
#include "pipe.h"
#include "pipe/ref_pipe.h"

extern const struct ipc_subject ipc__subject_native_pipe;

#define NSUB 2        /* 0: ref-pipe, 1: native-pipe */
#define NH 4          /* handles per end */
#define MAX_STEPS 1024
#define MAX_MOVED ((uint64_t)64 << 20) /* bytes per input: bounds its time */
#define MAX_CAP ((size_t)4 << 20)      /* largest capacity asked for (memory) */
#define MAXW ((size_t)(1u << 20) + 4096) /* longest write or read */
#define PATN 65521u   /* period of the stream's bytes: a prime, no page multiple */
#define RD 0
#define WR 1
#define PB ((size_t)IPC_PIPE_BUF)
#define PAGE ((size_t)4096)

enum { MODE_BLOCK = 0, MODE_NB = 1, MODE_UNKNOWN = 2 };

struct end {
	struct ipc_pipe *p;
	uint8_t mode; /* MODE_*: what the harness knows of this handle */
	uint8_t desc; /* handles made by dup() from one another share a desc */
};

struct sub {
	const struct ipc_subject *subj;
	const struct ipc_pipe_ops *ops;
	bool shared_mode; /* set_nonblock reaches the dup()s too (the kernel's O_NONBLOCK) */
	bool byte_room;   /* room is counted in bytes (not kernel pages): ATOM-2, CAP-4 exact */
	bool live;        /* a pipe exists */
	struct end e[2][NH];
	uint64_t wpos, rpos; /* stream offsets: bytes written and read so far */
	size_t cap;
};

static struct sub S[NSUB];
static struct {
	struct ipc_fuzz_in in;
	unsigned step;
	uint64_t moved;  /* bytes written and read by this input */
	unsigned long inputs;
} R;
static const char *NAME;
static size_t PIPE_MAX; /* /proc/sys/fs/pipe-max-size */
static bool TRACE;      /* PIPE_DIFF_TRACE=1: print every call and both results */

static uint8_t PAT[PATN];
/* Separate globals, so each ends at an ASan redzone (see fuzz_common.h). */
static uint8_t wbuf0[MAXW], wbuf1[MAXW], rbuf[MAXW];

static uint64_t queued(const struct sub *s) { return s->wpos - s->rpos; }

static int nopen(int side)
{
	int n = 0;

	for (int i = 0; i < NH; i++)
		n += S[0].e[side][i].p != NULL;
	return n;
}

/* ---- sets of allowed results ---------------------------------------------- */

struct want {
	long v[6];
	int n;
	long lo, hi;     /* also any value in [lo, hi] when lo <= hi */
	const char *why; /* the clause that gives the set */
};

static void want_init(struct want *w, const char *why)
{
	w->n = 0;
	w->lo = 1;
	w->hi = 0;
	w->why = why;
}

static void want_add(struct want *w, long v) { w->v[w->n++] = v; }

static void want_one(struct want *w, long v, const char *why)
{
	want_init(w, why);
	want_add(w, v);
}

static bool want_has(const struct want *w, long r)
{
	for (int i = 0; i < w->n; i++)
		if (w->v[i] == r)
			return true;
	return w->lo <= w->hi && r >= w->lo && r <= w->hi;
}

/* ipc_fuzz_rc() plus the two codes of set_capacity that spec/ipc_errors.h
 * does not list. */
static const char *rcname(long rc)
{
	if (rc == -EPERM)
		return "-EPERM (-1)";
	if (rc == -EBUSY)
		return "-EBUSY (-16)";
	return ipc_fuzz_rc(rc);
}

static const char *want_str(const struct want *w)
{
	static char buf[256];
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < w->n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " or " : "",
					rcname(w->v[i]));
	if (w->lo <= w->hi)
		snprintf(buf + off, sizeof(buf) - off, "%s%ld..%ld", w->n ? " or " : "", w->lo, w->hi);
	return buf;
}

static const char *label(int s) { return S[s].subj->name; }

/* Both results against both sets; the message shows both subjects. */
static void check(const struct want w[NSUB], const long r[NSUB], const char *what)
{
	if (TRACE)
		fprintf(stderr, "step %3u  %-26s %s: %-18s %s: %-18s Q=%llu/%llu C=%zu/%zu\n", R.step,
			what, label(0), rcname(r[0]), label(1), rcname(r[1]),
			(unsigned long long)queued(&S[0]), (unsigned long long)queued(&S[1]), S[0].cap,
			S[1].cap);
	for (int s = 0; s < NSUB; s++) {
		char allowed[256], r0[48], r1[48];

		if (want_has(&w[s], r[s]))
			continue;
		/* One at a time: rcname() has only a few buffers. */
		snprintf(allowed, sizeof(allowed), "%s", want_str(&w[s]));
		snprintf(r0, sizeof(r0), "%s", rcname(r[0]));
		snprintf(r1, sizeof(r1), "%s", rcname(r[1]));
		IPC_FUZZ_FAIL("step %u: %s: %s returned %s, %s returned %s; for %s the spec "
			      "allows %s (%s; Q=%llu C=%zu readers=%d writers=%d)",
			      R.step, what, label(0), r0, label(1), r1, label(s), allowed, w[s].why,
			      (unsigned long long)queued(&S[s]), S[s].cap, nopen(RD), nopen(WR));
	}
}

static void check_one(long want, long got, int s, const char *what, const char *why)
{
	if (got != want)
		IPC_FUZZ_FAIL("step %u: %s: %s returned %s, the spec says %s (%s)", R.step, what,
			      label(s), rcname(got), rcname(want), why);
}

/* ---- the stream's bytes --------------------------------------------------- */

static void fill(uint8_t *dst, uint64_t pos, size_t len)
{
	while (len) {
		size_t at = (size_t)(pos % PATN), n = PATN - at < len ? PATN - at : len;

		memcpy(dst, PAT + at, n);
		dst += n;
		pos += n;
		len -= n;
	}
}

static void check_bytes(int s, const uint8_t *buf, size_t len)
{
	uint64_t pos = S[s].rpos;

	for (size_t done = 0; done < len;) {
		size_t at = (size_t)(pos % PATN), n = PATN - at < len - done ? PATN - at : len - done;

		if (memcmp(buf + done, PAT + at, n) != 0) {
			size_t i = 0;

			while (buf[done + i] == PAT[at + i])
				i++;
			IPC_FUZZ_FAIL("step %u: %s: read() gave byte 0x%02x at stream offset %llu, the "
				      "writes put 0x%02x there (PIPE-READ-3/DUP-1: each byte once, in order)",
				      R.step, label(s), buf[done + i],
				      (unsigned long long)(pos + i), PAT[at + i]);
		}
		done += n;
		pos += n;
	}
}

/* ---- handles --------------------------------------------------------------- */

/* The slot asked for, else the next open one on that end, else -1. */
static int pick(int side, unsigned slot)
{
	for (unsigned k = 0; k < NH; k++) {
		unsigned i = (slot + k) % NH;

		if (S[0].e[side][i].p)
			return (int)i;
	}
	return -1;
}

static int free_slot(int side)
{
	for (int i = 0; i < NH; i++)
		if (!S[0].e[side][i].p)
			return i;
	return -1;
}

static bool is_nb(int s, int side, int i) { return S[s].e[side][i].mode == MODE_NB; }

/* The Linux rounding of a capacity: pages, a power of two of them, at
 * least one; 0 beyond what F_SETPIPE_SZ takes. */
static size_t round_cap(size_t req)
{
	size_t pages = (req + PAGE - 1) / PAGE, p2 = 1;

	if (req > (size_t)INT_MAX)
		return 0;
	while (p2 < pages)
		p2 <<= 1;
	return p2 * PAGE;
}

/* ---- read and write ----------------------------------------------------- */

static bool read_may_block(int s, int i, size_t len)
{
	return !is_nb(s, RD, i) && len > 0 && queued(&S[s]) == 0 && nopen(WR) > 0;
}

/* PIPE-END-5: zero-length calls return at once, whatever the mode. */
static bool write_may_block(int s, int i, size_t len)
{
	const struct sub *x = &S[s];

	if (is_nb(s, WR, i) || nopen(RD) == 0 || len == 0)
		return false;
	return !(queued(x) == 0 && len <= x->cap);
}

static void want_read(int s, size_t len, struct want *w)
{
	uint64_t q = queued(&S[s]);

	if (len == 0)
		want_one(w, 0, "PIPE-END-5: a zero-length read returns 0 at once");
	else if (q > 0)
		want_one(w, (long)(q < len ? q : len), "PIPE-READ-1/3: a read takes what is queued, up to len");
	else if (nopen(WR) == 0)
		want_one(w, 0, "PIPE-EOF-1/NB-2: empty, every write end closed: 0");
	else
		want_one(w, IPC_EAGAIN, "PIPE-NB-1: a non-blocking read of an empty pipe with a writer");
}

static void want_write(int s, size_t len, struct want *w)
{
	const struct sub *x = &S[s];
	long q = (long)queued(x), room = (long)x->cap - q, n = (long)len;

	if (len == 0) {
		/* No exception for a pipe without reader: Linux returns 0 there too. */
		want_one(w, 0, "PIPE-END-5: a zero-length write returns 0 at once");
	} else if (nopen(RD) == 0) {
		want_one(w, IPC_EPIPE, "PIPE-SIG-2: a write with no reader fails with -EPIPE");
	} else if (q == 0) {
		want_one(w, n < (long)x->cap ? n : (long)x->cap,
			 "PIPE-CAP-1/ATOM-3: an empty pipe takes min(len, capacity)");
	} else if (len <= PB && n > room) {
		want_one(w, IPC_EAGAIN, "PIPE-ATOM-2/NB-3: a write <= PIPE_BUF that does not fit: -EAGAIN");
	} else if (room <= 0) {
		want_one(w, IPC_EAGAIN, "PIPE-NB-3: a non-blocking write to a full pipe: -EAGAIN");
	} else if (len > PB) {
		/* Not fixed: "what fits" (the kernel may also say -EAGAIN). */
		want_one(w, IPC_EAGAIN, "PIPE-NB-3: a large non-blocking write takes some of what fits, "
					"or -EAGAIN");
		w->lo = 1;
		w->hi = n < room ? n : room;
	} else {
		want_one(w, n, "PIPE-ATOM-2: a non-blocking write <= PIPE_BUF that fits the room succeeds");
		if (!x->byte_room)
			want_add(w, IPC_EAGAIN); /* the kernel may lack a free page: see the top */
	}
}

/* The handle for a read or write of len on `side`, else -1: none open,
 * longer than the buffers, or the call could block a subject. */
static int io_handle(int side, unsigned slot, size_t len)
{
	int i = pick(side, slot);

	if (i < 0 || len > MAXW)
		return -1;
	for (int s = 0; s < NSUB; s++)
		if (side == RD ? read_may_block(s, i, len) : write_may_block(s, i, len))
			return -1;
	return i;
}

static void do_write(unsigned slot, size_t len)
{
	int i = io_handle(WR, slot, len);
	struct want w[NSUB];
	const uint8_t *buf[NSUB];
	long r[NSUB];
	char what[64];

	if (i < 0)
		return;
	for (int s = 0; s < NSUB; s++) {
		uint8_t *b = (s == 0 ? wbuf0 : wbuf1) + (MAXW - len);

		want_write(s, len, &w[s]);
		if (s == 1 && S[1].wpos == S[0].wpos)
			b = (uint8_t *)buf[0];
		else
			fill(b, S[s].wpos, len);
		buf[s] = b;
	}
	R.moved += 2 * len;
	for (int s = 0; s < NSUB; s++)
		r[s] = (long)S[s].ops->write(S[s].e[WR][i].p, buf[s], len);
	snprintf(what, sizeof(what), "write(w%d, %zu)", i, len);
	check(w, r, what);
	for (int s = 0; s < NSUB; s++)
		if (r[s] > 0)
			S[s].wpos += (uint64_t)r[s];
}

static void do_read(unsigned slot, size_t len)
{
	int i = io_handle(RD, slot, len);
	struct want w[NSUB];
	long r[NSUB];
	char what[64];

	if (i < 0)
		return;
	snprintf(what, sizeof(what), "read(r%d, %zu)", i, len);
	R.moved += 2 * len;
	for (int s = 0; s < NSUB; s++) {
		uint8_t *b = rbuf + (MAXW - len);

		want_read(s, len, &w[s]);
		r[s] = (long)S[s].ops->read(S[s].e[RD][i].p, b, len);
		if (want_has(&w[s], r[s]) && r[s] > 0) {
			check_bytes(s, b, (size_t)r[s]);
			S[s].rpos += (uint64_t)r[s];
		}
	}
	check(w, r, what);
}

/* ---- one call on a handle of both subjects -------------------------------- */

/* Handle i of `side` (the same slot in both subjects), the operand, and
 * what the call returned to each subject. */
struct call {
	int side, i;
	size_t arg;
	long r[NSUB];
	struct ipc_pipe *out[NSUB]; /* dup()'s new handles */
};

/* Subject s's set of allowed results into *w, then the call on its handle p. */
typedef long (*call_fn)(int s, struct ipc_pipe *p, struct call *c, struct want *w);

/* The call on both subjects, in turn; then both results against both sets. */
static void call_both(struct call *c, call_fn fn, const char *what)
{
	struct want w[NSUB];

	for (int s = 0; s < NSUB; s++)
		c->r[s] = fn(s, S[s].e[c->side][c->i].p, c, &w[s]);
	check(w, c->r, what);
}

/* The handle asked for (pick()) with the operand; i < 0 when that end has none. */
static struct call call_on(int side, unsigned slot, size_t arg)
{
	return (struct call){.side = side, .i = pick(side, slot), .arg = arg};
}

/* I/O with the wrong end (arg: the length): -EBADF whatever the state. */
static long wrong_end_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	size_t len = c->arg;
	uint8_t *b = rbuf + (MAXW - len);

	want_one(w, IPC_EBADF, c->side == RD ? "PIPE-END-1: write on a read end"
					     : "PIPE-END-1: read on a write end");
	if (c->side == RD) {
		fill(b, 0, len);
		return (long)S[s].ops->write(p, b, len);
	}
	return (long)S[s].ops->read(p, b, len);
}

static void do_wrong_end(int side, unsigned slot, size_t len)
{
	struct call c = call_on(side, slot, len);

	if (c.i >= 0)
		call_both(&c, wrong_end_fn, side == RD ? "write() on a read end" : "read() on a write end");
}

/* Zero-length read (arg 0) or write (arg 1) on the wrong end. */
static long zero_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	uint8_t *b = rbuf + (MAXW - 1);

	want_one(w, IPC_EBADF, "PIPE-END-1/END-5: zero-length I/O on the wrong end");
	want_add(w, 0);
	return c->arg ? (long)S[s].ops->write(p, b, 0) : (long)S[s].ops->read(p, b, 0);
}

/* Zero-length read (flag 0) or write (flag 1) on either end. On the wrong
 * end PIPE-END-1 says -EBADF and PIPE-END-5 says 0 (Linux: -EBADF; POSIX
 * lets a zero-length call report the errors it would, or return 0). */
static void do_zero(int side, unsigned slot, int write)
{
	struct call c = call_on(side, slot, (size_t)write);

	if (c.i < 0)
		return;
	if ((write && side == WR) || (!write && side == RD)) {
		if (write)
			do_write(slot, 0);
		else
			do_read(slot, 0);
		return;
	}
	call_both(&c, zero_fn, write ? "write(read end, 0)" : "read(write end, 0)");
}

/* ---- handles: close, dup, mode ------------------------------------------ */

static long close_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	long rc;

	want_one(w, 0, "ipc_pipe_ops.close: close() of an open handle");
	rc = S[s].ops->close(p);
	S[s].e[c->side][c->i].p = NULL;
	return rc;
}

static void do_close(int side, unsigned slot)
{
	struct call c = call_on(side, slot, 0);

	if (c.i >= 0)
		call_both(&c, close_fn, side == RD ? "close(read end)" : "close(write end)");
}

static long dup_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	long rc;

	want_one(w, 0, "PIPE-DUP-1: dup() of an open handle");
	rc = S[s].ops->dup(p, &c->out[s]);
	if (rc == 0 && c->out[s] == NULL)
		IPC_FUZZ_FAIL("step %u: %s: dup() returned 0 and no handle", R.step, label(s));
	return rc;
}

static void do_dup(int side, unsigned slot)
{
	struct call c = call_on(side, slot, 0);
	int j = free_slot(side);

	if (c.i < 0 || j < 0)
		return;
	call_both(&c, dup_fn, side == RD ? "dup(read end)" : "dup(write end)");
	for (int s = 0; s < NSUB; s++) {
		const struct end *from = &S[s].e[side][c.i];

		S[s].e[side][j] = (struct end){.p = c.out[s], .mode = from->mode, .desc = from->desc};
	}
}

/* A dup() shares the open file description, and with it O_NONBLOCK, on the
 * kernel; whether ref-pipe's dup()s share the mode is left open, so the
 * harness forgets the mode of a sibling it cannot be sure of. */
static void set_mode(int s, int side, int i, uint8_t mode)
{
	struct end *e = S[s].e[side];

	for (int k = 0; k < NH; k++) {
		if (!e[k].p || k == i || e[k].desc != e[i].desc || e[k].mode == mode)
			continue;
		e[k].mode = S[s].shared_mode ? mode : MODE_UNKNOWN;
	}
	e[i].mode = mode;
}

/* set_nonblock(arg). */
static long nonblock_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	long rc;

	want_one(w, 0, "PIPE-NB-5: set_nonblock() of an open handle");
	rc = S[s].ops->set_nonblock(p, (int)c->arg);
	set_mode(s, c->side, c->i, c->arg ? MODE_NB : MODE_BLOCK);
	return rc;
}

static void do_nonblock(int side, unsigned slot, int on)
{
	struct call c = call_on(side, slot, (size_t)on);

	if (c.i >= 0)
		call_both(&c, nonblock_fn, on ? "set_nonblock(1)" : "set_nonblock(0)");
}

/* ---- capacity -------------------------------------------------------------- */

static long get_capacity_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	(void)c;
	want_one(w, (long)S[s].cap, "PIPE-CAP-1/CAP-2: get_capacity() on either end reports the capacity in force");
	return S[s].ops->get_capacity(p);
}

static void do_get_capacity(int side, unsigned slot)
{
	struct call c = call_on(side, slot, 0);

	if (c.i >= 0)
		call_both(&c, get_capacity_fn, "get_capacity()");
}

static void want_set_capacity(int s, size_t req, struct want *w)
{
	size_t rc = round_cap(req), q = (size_t)queued(&S[s]);

	if (req > ((size_t)1 << 32)) {
		want_one(w, IPC_EINVAL, "PIPE-CAP-6: a size beyond any limit: -EINVAL");
		return;
	}
	want_init(w, "PIPE-CAP-2/CAP-4: rounded up to a power-of-two number of pages; -EBUSY "
		     "below the bytes queued");
	if (rc == 0) { /* 2^31 .. 2^32: past F_SETPIPE_SZ's int, or the subject's limit */
		want_add(w, IPC_EINVAL);
		want_add(w, -EPERM);
		return;
	}
	if (rc >= q)
		want_add(w, (long)rc);
	/* -EBUSY: required when rc < q; allowed for the kernel whenever it
	 * shrinks a pipe holding data (it counts occupied pages, not bytes). */
	if (q > rc || (!S[s].byte_room && q > 0 && rc < S[s].cap))
		want_add(w, -EBUSY);
	if (rc > PIPE_MAX)
		want_add(w, -EPERM); /* PIPE-CAP-5: above the limit, without CAP_SYS_RESOURCE */
}

/* set_capacity(arg). */
static long set_capacity_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	want_set_capacity(s, c->arg, w);
	return S[s].ops->set_capacity(p, c->arg);
}

static void do_set_capacity(int side, unsigned slot, size_t req)
{
	struct call c = call_on(side, slot, req);
	char what[64];

	if (c.i < 0)
		return;
	snprintf(what, sizeof(what), "set_capacity(%zu)", req);
	call_both(&c, set_capacity_fn, what);
	for (int s = 0; s < NSUB; s++)
		if (c.r[s] > 0)
			S[s].cap = (size_t)c.r[s];
}

/* ---- readiness ------------------------------------------------------------ */

static void want_poll(int s, int side, int events, struct want *w)
{
	const struct sub *x = &S[s];
	uint64_t q = queued(x);
	int base = 0;
	bool out_loose = false;

	if (side == RD) {
		if ((events & IPC_PIPE_IN) && q > 0)
			base |= IPC_PIPE_IN;
		if (nopen(WR) == 0)
			base |= IPC_PIPE_HUP;
	} else {
		if (nopen(RD) == 0)
			base |= IPC_PIPE_ERR;
		if (events & IPC_PIPE_OUT) {
			if (nopen(RD) == 0)
				out_loose = true; /* a write would not block (-EPIPE); Linux: when a page is free */
			else if (q == 0 || (x->byte_room && x->cap - q >= PB))
				base |= IPC_PIPE_OUT;
			else if (x->cap - q >= PB)
				out_loose = true; /* the kernel may lack a free page */
		}
	}
	want_one(w, base, "PIPE-POLL-1..7: IN iff bytes queued (read end), HUP iff no writer, "
			  "ERR iff no reader (write end), OUT iff PIPE_BUF bytes fit");
	if (out_loose)
		want_add(w, base | IPC_PIPE_OUT);
	/* PIPE-POLL-5 is a SHOULD: at end of file POLLIN may join POLLHUP. */
	if (side == RD && (events & IPC_PIPE_IN) && q == 0 && nopen(WR) == 0)
		want_add(w, base | IPC_PIPE_IN);
}

/* poll(arg: the events, timeout 0). */
static long poll_fn(int s, struct ipc_pipe *p, struct call *c, struct want *w)
{
	want_poll(s, c->side, (int)c->arg, w);
	return S[s].ops->poll(p, (int)c->arg, 0);
}

static void do_poll(int side, unsigned slot, uint8_t ev)
{
	static const int evs[4] = {0, IPC_PIPE_IN, IPC_PIPE_OUT, IPC_PIPE_IN | IPC_PIPE_OUT};
	int events = evs[ev & 3];
	struct call c;
	char what[64];

	if (ev & 4)
		events |= IPC_PIPE_ERR | IPC_PIPE_HUP; /* asked or not, they are reported */
	c = call_on(side, slot, (size_t)events);
	if (c.i < 0)
		return;
	snprintf(what, sizeof(what), "poll(%s%d, 0x%x, 0)", side == RD ? "r" : "w", c.i, events);
	call_both(&c, poll_fn, what);
}

/* ---- pipe life ---------------------------------------------------------- */

static void validate(void)
{
	const struct sub *x = &S[0];

	if (!x->live || !x->ops->validate)
		return;
	for (int side = 0; side < 2; side++)
		for (int i = 0; i < NH; i++)
			if (x->e[side][i].p) {
				check_one(0, x->ops->validate(x->e[side][i].p), 0, "validate() after the step",
					  "validate() holds on a pipe used only through the API");
				return;
			}
}

/* Read everything left through a non-blocking read end, then the end of
 * file or -EAGAIN; close every handle; remove the name. */
static void finish_pipe(void)
{
	int i = pick(RD, 0);

	if (S[0].live && S[1].live && i >= 0) {
		do_nonblock(RD, (unsigned)i, 1);
		for (int k = 0; k < 64 && (queued(&S[0]) || queued(&S[1])); k++)
			do_read((unsigned)i, MAXW);
		do_read((unsigned)i, MAXW);
		for (int s = 0; s < NSUB; s++)
			if (queued(&S[s]))
				IPC_FUZZ_FAIL("step %u: %s: %llu bytes written and never read back", R.step,
					      label(s), (unsigned long long)queued(&S[s]));
	}
	for (int s = 0; s < NSUB; s++) {
		for (int side = 0; side < 2; side++)
			for (int k = 0; k < NH; k++)
				if (S[s].e[side][k].p) {
					check_one(0, S[s].ops->close(S[s].e[side][k].p), s, "close() at the end",
						  "ipc_pipe_ops.close");
					S[s].e[side][k].p = NULL;
				}
		if (S[s].live && S[s].ops->unlink) {
			int rc = S[s].ops->unlink(NAME);

			if (rc != 0 && rc != IPC_ENOENT)
				check_one(0, rc, s, "unlink(name) after the pipe", "ipc_pipe_ops.unlink");
		}
		S[s].live = false;
	}
}

static const size_t create_cap[8] = {0, 0, 0, 4096, 8192, 1, 65537, (1u << 20) + 1};

static void create_pipe(uint8_t attr_byte)
{
	struct ipc_pipe_attr a = {.flags = attr_byte & 1, .capacity = create_cap[(attr_byte >> 1) & 7]};
	struct ipc_pipe *rd[NSUB] = {NULL, NULL}, *wr[NSUB] = {NULL, NULL};
	struct want w[NSUB];
	long r[NSUB];

	if ((attr_byte >> 4) == 15)
		a.flags |= 0x80000000u; /* an unknown flag */
	for (int s = 0; s < NSUB; s++) {
		want_one(&w[s], 0, "ipc_pipe_ops.create: create() with a valid attr");
		if (a.flags & ~IPC_PIPE_NONBLOCK)
			want_one(&w[s], IPC_EINVAL, "ipc_pipe_ops.create: unknown flags: -EINVAL");
		else if (round_cap(a.capacity) > PIPE_MAX)
			want_add(&w[s], -EPERM); /* PIPE-CAP-5, without CAP_SYS_RESOURCE */
		r[s] = S[s].ops->create(NAME, &a, &rd[s], &wr[s]);
	}
	check(w, r, "create()");
	for (int s = 0; s < NSUB; s++) {
		uint8_t mode = a.flags & IPC_PIPE_NONBLOCK ? MODE_NB : MODE_BLOCK;
		long cap;

		if (r[s] != 0)
			continue;
		S[s].live = true;
		S[s].e[RD][0] = (struct end){.p = rd[s], .mode = mode, .desc = 0};
		S[s].e[WR][0] = (struct end){.p = wr[s], .mode = mode, .desc = 1};
		S[s].wpos = S[s].rpos = 0;
		cap = S[s].ops->get_capacity(rd[s]);
		if (cap < (long)PB || (a.capacity && cap != (long)round_cap(a.capacity)))
			IPC_FUZZ_FAIL("step %u: %s: capacity %s after create(capacity %zu) (PIPE-CAP-1/2)",
				      R.step, label(s), rcname(cap), a.capacity);
		S[s].cap = (size_t)cap;
	}
	if (r[0] != r[1]) /* one refused a capacity the other took: nothing to compare */
		finish_pipe();
}

/* ---- operand decoding ----------------------------------------------------- */

static const size_t len_table[64] = {
	0, 1, 2, 3, 7, 255, 256, 257, 511, 512, 513, 1023, 1024, 2048, 4094, 4095,
	4096, 4097, 4098, 6000, 8191, 8192, 8193, 12287, 12288, 12289, 16383, 16384, 16385, 32767,
	32768, 32769, 61440, 61441, 65535, 65536, 65537, 65538, 69632, 69633, 98304, 131071,
	131072, 131073, 196608, 262143, 262144, 262145, 393216, 524287, 524288, 524289, 786432,
	1048575, 1048576, 1048577, 100, 200, 300, 1000, 2000, 3000, 5000, 10000,
};

/* 0..127 as is; 128..191 in KiB steps (odd: + 1); 192..255 from the table. */
static size_t take_len(void)
{
	uint8_t b = ipc_fuzz_u8(&R.in);

	if (b < 128)
		return b;
	if (b < 192)
		return (size_t)(b - 127) * 1024 + (b & 1);
	return len_table[b - 192];
}

static size_t clamp(long v) { return v < 0 ? 0 : (size_t)v > MAXW ? MAXW : (size_t)v; }

/* Lengths relative to ref-pipe's state: room, room +- 1, a page boundary... */
static size_t write_edge(unsigned k)
{
	long q = (long)queued(&S[0]), c = (long)S[0].cap, room = c - q, pb = (long)PB;
	const long v[16] = {room, room + 1, room - 1, pb, pb + 1, pb - 1, c, c + 1,
			    1, room - pb, pb - q % pb, 2 * pb, c - 1, room + pb, pb - q % pb + 1, 0};

	return clamp(v[k & 15]);
}

static size_t read_edge(unsigned k)
{
	long q = (long)queued(&S[0]), c = (long)S[0].cap, pb = (long)PB;
	const long v[16] = {q, q + 1, q - 1, 1, pb, pb + 1, q / 2, c,
			    (long)MAXW, q % pb, pb - 1, 2 * pb, q - pb, c + 1, 3, 0};

	return clamp(v[k & 15]);
}

static size_t take_capacity(void)
{
	static const size_t t[24] = {
		0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 12288, 16384, 32768, 65535, 65536, 65537,
		131072, 262144, 524288, 1048575, 1048576, 1048577, 4u << 20,
		(size_t)INT_MAX + 1, (size_t)1 << 40, SIZE_MAX,
	};
	uint8_t b = ipc_fuzz_u8(&R.in);
	long q = (long)queued(&S[0]), c = (long)S[0].cap;

	if ((b & 31) < 24)
		return t[b & 31];
	const long rel[8] = {q - 1, q, q + 1, c - 1, c / 2, c * 2, q - (long)PAGE, q + (long)PAGE};

	return rel[b & 7] < 0 ? 0 : (size_t)rel[b & 7] > MAX_CAP ? MAX_CAP : (size_t)rel[b & 7];
}

/* ---- one step ------------------------------------------------------------- */

enum kind {
	K_WRITE, K_READ, K_CLOSE, K_DUP, K_NONBLOCK, K_GETCAP, K_SETCAP, K_POLL,
	K_ZERO, K_WRONG, K_RECREATE, K_DRAIN, K_FILL, K_BURST, K_WRITE_EDGE, K_READ_EDGE,
};

static void step(uint8_t op)
{
	unsigned arg = op >> 4, slot = (arg >> 1) & 3, flag = arg >> 3;
	int side = arg & 1;

	if (op % 16 == K_RECREATE) {
		finish_pipe();
		create_pipe(ipc_fuzz_u8(&R.in));
		return;
	}
	if (!S[0].live)
		return; /* until the next K_RECREATE */
	switch ((enum kind)(op % 16)) {
	case K_WRITE: do_write(slot, take_len()); break;
	case K_READ: do_read(slot, take_len()); break;
	case K_CLOSE: do_close(side, slot); break;
	case K_DUP: do_dup(side, slot); break;
	case K_NONBLOCK: do_nonblock(side, slot, (int)flag); break;
	case K_GETCAP: do_get_capacity(side, slot); break;
	case K_SETCAP: do_set_capacity(side, slot, take_capacity()); break;
	case K_POLL: do_poll(side, slot, ipc_fuzz_u8(&R.in)); break;
	case K_ZERO: do_zero(side, slot, (int)flag); break;
	case K_WRONG: do_wrong_end(side, slot, flag ? PB + 1 : 1); break;
	case K_DRAIN:
		for (int k = 0; k < 8 && (queued(&S[0]) || queued(&S[1])); k++)
			do_read(slot, MAXW);
		break;
	case K_FILL: {
		size_t len = take_len();

		for (int k = 0; k < 64 && pick(WR, slot) >= 0; k++) {
			uint64_t before = S[0].wpos + S[1].wpos;

			do_write(slot, len ? len : 1);
			if (S[0].wpos + S[1].wpos == before)
				break; /* both refused (or the write was skipped) */
		}
		break;
	}
	case K_BURST: {
		uint8_t b = ipc_fuzz_u8(&R.in);

		for (unsigned k = 0; k <= (b >> 5u); k++)
			do_write(slot, (b & 31u) + 1 + flag * PB);
		break;
	}
	case K_WRITE_EDGE: do_write(slot, write_edge(ipc_fuzz_u8(&R.in))); break;
	case K_READ_EDGE: do_read(slot, read_edge(ipc_fuzz_u8(&R.in))); break;
	default: break;
	}
}

/* ---- leaks -------------------------------------------------------------- */


/* Mappings of pipe memory once every pipe is closed: there must be none. */
static void check_mappings(void)
{
	char line[512];

	if (ipc_fuzz_mapped("memfd:", line, sizeof line) ||
	    ipc_fuzz_mapped("/dev/shm/", line, sizeof line))
		IPC_FUZZ_FAIL("every pipe is closed but this is still mapped: %s", line);
}

/* ---- one input ------------------------------------------------------------ */

static int one(const uint8_t *data, size_t size)
{
	int fds = ipc_fuzz_count_fds();

	R.in = (struct ipc_fuzz_in){.p = data, .n = size};
	R.step = 0;
	ipc_fuzz_name_release(); /* a previous input that trapped left it */
	create_pipe(ipc_fuzz_u8(&R.in));
	R.moved = 0;
	while (ipc_fuzz_more(&R.in) && R.step < MAX_STEPS && R.moved < MAX_MOVED) {
		R.step++;
		step(ipc_fuzz_u8(&R.in));
		validate();
	}
	R.step++;
	finish_pipe();
	if (ipc_fuzz_count_fds() != fds)
		IPC_FUZZ_FAIL("descriptor leak: %d open before the input, %d after", fds, ipc_fuzz_count_fds());
	if (++R.inputs % 256 == 1)
		check_mappings();
	return 0;
}

static size_t read_pipe_max(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	unsigned long v = 1048576;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 1048576;
		fclose(f);
	}
	return v;
}

static void init(void)
{
	const uint64_t need = IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK | IPC_PIPE_CAP_CAPACITY |
			      IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_DUP;
	uint32_t x = 0x2545F491u;

	signal(SIGPIPE, SIG_IGN); /* both subjects must return -EPIPE */
	TRACE = getenv("PIPE_DIFF_TRACE") != NULL;
	NAME = ipc_fuzz_name_init();
	PIPE_MAX = read_pipe_max();
	for (size_t i = 0; i < PATN; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		PAT[i] = (uint8_t)(x >> 11);
	}
	S[0].subj = &ipc__subject_ref_pipe;
	S[1].subj = &ipc__subject_native_pipe;
	for (int s = 0; s < NSUB; s++) {
		S[s].ops = S[s].subj->ops;
		/* The kernel shares O_NONBLOCK between dup()s and counts pages;
		 * ref-pipe is a byte ring (its dup()s' mode is left open). */
		S[s].shared_mode = s == 1;
		S[s].byte_room = s == 0;
		if ((S[s].subj->caps & need) != need) {
			fprintf(stderr, "pipe_diff: %s lacks a capability the harness drives\n", label(s));
			abort();
		}
	}
}

static void cleanup(void)
{
	ipc_fuzz_name_release();
}

IPC_FUZZ_TARGET(init, one, cleanup)
