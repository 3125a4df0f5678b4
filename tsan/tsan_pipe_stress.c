/* SPDX-License-Identifier: MIT */
/*
 * tsan_pipe_stress: writer and reader threads on one pipe subject (ref-pipe
 * by default) at a small capacity (set_capacity 4096), built with
 * -fsanitize=thread so that ThreadSanitizer checks every shared word the
 * subject touches (TSan cannot see across processes, so the "processes" are
 * threads here, each with its own handle as a forked child would have).
 *
 * Every write is one self-checking record of at most IPC_PIPE_BUF bytes:
 * {magic, writer, seq, len, FNV-1a sum} and a payload that is a pure function
 * of (writer, seq) (faults/fl_item.h). What each run checks, and why it may:
 *
 *  - "order" runs (W writers x 1 reader). Records of varied length; the one
 *    reader reads pieces of random size and reassembles the byte stream. A
 *    write of <= PIPE_BUF bytes is never interleaved with other data
 *    (PIPE-ATOMIC), so the stream is a concatenation of whole records: any
 *    bad header, length, sum or payload is a torn or interleaved write. A
 *    pipe is one FIFO byte stream and each writer's writes are sequential, so
 *    each writer's records must appear with seq 0, 1, 2... exactly: a gap is
 *    a loss, a repeat a duplicate, anything else a reordering.
 *
 *  - "multi" runs (W writers x R readers). Several readers cannot reassemble
 *    one stream (the rest of a record may go to another reader), so every
 *    record has the same size F and every read asks for exactly F bytes.
 *    Then every read must return exactly one whole record: the stream is
 *    whole F-byte records (atomic writes), a read takes a contiguous prefix
 *    of what is queued, and a pipe read returns fewer bytes than asked only
 *    when fewer are available (POSIX read()); since data arrives a whole
 *    write at a time, what is available is always a multiple of F. A short
 *    read therefore means a write became visible in pieces or two reads
 *    split a record; both are reported. Checked: each record intact, each
 *    (writer, seq) delivered exactly once over all readers, and within each
 *    reader a writer's records in increasing seq (reads are ordered, so one
 *    reader sees any writer's records in stream order). Not checkable:
 *    order across readers (no common clock between two reads' returns).
 *
 *  - "close" runs. Readers blocked on an empty pipe must all wake with end
 *    of file (0) when the last write handle closes, after draining what was
 *    written (PIPE-EOF, last close wakes every waiter). Writers blocked on a
 *    full pipe must all wake with -EPIPE when the last read handle closes,
 *    and a blocked write of <= PIPE_BUF bytes must not report a partial
 *    count. Closes race with each other and with running reads and writes.
 *
 * Handles: a thread uses a dup() of the end (its own handle, like a process
 * that inherited it) or shares one handle with other threads (like threads
 * sharing a descriptor); runs mix both. Modes: blocking, non-blocking
 * (-EAGAIN retried with sched_yield or poll), and mixed (each thread toggles
 * its handle's mode as it goes; a dup may share the mode, as dup(2) shares
 * O_NONBLOCK). -EAGAIN in an all-blocking run and a partial count from any
 * write of <= PIPE_BUF bytes are violations.
 *
 * A plain program with its own main (Criterion cannot run under TSan), also
 * built without TSan (make tsan-plain) for a longer stress at full speed.
 * Usage: tsan_pipe_stress [RECORDS_PER_WRITER [SUBJECT]]. Exit 0 when every
 * check passed, 1 on a violation, 3 on a hang (watchdog), 2 on usage; a TSan
 * report exits with TSAN_OPTIONS' exitcode (66 under make tsan).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl_item.h"
#include "ipc_subject.h"
#include "pipe.h"

/* ref-pipe is linked in when impl/pipe/ref_pipe.c exists (every impl object is). */
extern const struct ipc_subject ipc__subject_ref_pipe __attribute__((weak));

#define CAPACITY 4096
#define MAX_THREADS 8
#define READ_MAX 8192 /* the order reader's largest read */
#define WATCHDOG_S 60 /* per run: a hang is a failure, not a stuck make */
#define WAKE_LIMIT_NS 2000000000LL /* close runs: the last close must wake every waiter within this */

enum kind { ORDER, MULTI, CLOSE_EOF, CLOSE_EPIPE };
enum mix { BLOCK, NONBLOCK, MIXED };
enum share { OWN, SHARED_W, SHARED_R }; /* which side's threads share one handle */

struct config {
	const char *label;
	enum kind kind;
	unsigned writers, readers;
	enum mix mix;
	enum share share;
	size_t fixed;    /* record size for MULTI / CLOSE runs, 0 = varied */
	unsigned scale;  /* records per writer = base / scale (rounds for CLOSE runs) */
};

static const struct config configs[] = {
	{"order 4x1 blocking", ORDER, 4, 1, BLOCK, OWN, 0, 2},
	{"order 2x1 mixed", ORDER, 2, 1, MIXED, OWN, 0, 2},
	{"order 3x1 non-blocking, shared write handle", ORDER, 3, 1, NONBLOCK, SHARED_W, 0, 4},
	{"multi 4x3 blocking, 200 B, shared read handle", MULTI, 4, 3, BLOCK, SHARED_R, 200, 2},
	{"multi 2x2 mixed, 4096 B, shared write handle", MULTI, 2, 2, MIXED, SHARED_W, IPC_PIPE_BUF, 8},
	{"multi 3x3 non-blocking, 512 B", MULTI, 3, 3, NONBLOCK, OWN, 512, 4},
	{"close: last writer closes, 3 readers blocked", CLOSE_EOF, 2, 3, BLOCK, OWN, 300, 100},
	{"close: last writer closes, readers polling", CLOSE_EOF, 2, 2, NONBLOCK, OWN, 300, 200},
	{"close: last reader closes, 3 writers blocked", CLOSE_EPIPE, 3, 2, BLOCK, OWN, 1000, 100},
	{"close: last reader closes, writers mixed", CLOSE_EPIPE, 3, 2, MIXED, SHARED_W, 1000, 200},
};
#define NCONFIGS (sizeof configs / sizeof *configs)

static const struct ipc_subject *subj;
static const struct ipc_pipe_ops *ops;
static _Atomic unsigned violations;
static const char *volatile g_phase = "start";
static int64_t g_max_wake_ns; /* CLOSE runs: the longest last-close-to-last-wake delay (main only) */

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void violation(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	if (atomic_fetch_add(&violations, 1) >= 20)
		return; /* the first ones say it all */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	printf("[tsan_pipe_stress] VIOLATION (%s): %s\n", g_phase, msg); /* one call: lines stay whole */
	fflush(stdout);
}

static bool has(uint64_t cap)
{
	return (subj->caps & cap) != 0;
}

static void on_alarm(int sig)
{
	static const char a[] = "[tsan_pipe_stress] HANG: no progress within the watchdog in run: ";
	const char *p = g_phase;
	(void)sig;
	if (write(1, a, sizeof a - 1) < 0 || write(1, p, strlen(p)) < 0 || write(1, "\n", 1) < 0) {
	}
	_exit(3);
}

/* ---- records --------------------------------------------------------------------- */

/* Varied lengths: mostly small, some large, some exactly PIPE_BUF. */
static size_t rec_len(uint32_t w, uint32_t seq, size_t fixed)
{
	uint64_t r = fl_mix(((uint64_t)w << 32) | seq);
	if (fixed)
		return fixed;
	if (r % 32 == 0)
		return IPC_PIPE_BUF;
	if (r % 32 < 4)
		return FL_ITEM_HDR + (size_t)((r >> 8) % (IPC_PIPE_BUF - FL_ITEM_HDR));
	return FL_ITEM_HDR + (size_t)((r >> 8) % 233);
}

static uint64_t rec_sum(const struct fl_item_hdr *h, const unsigned char *payload, size_t n)
{
	return fl_fnv(fl_fnv(0xcbf29ce484222325ull, (const unsigned char *)h, 16), payload, n);
}

static size_t rec_make(unsigned char *b, uint32_t w, uint32_t seq, size_t fixed)
{
	size_t len = rec_len(w, seq, fixed);
	struct fl_item_hdr h = {FL_ITEM_MAGIC, w, seq, (uint32_t)len, 0};
	fl_fill_payload(b + FL_ITEM_HDR, len - FL_ITEM_HDR, w, seq);
	h.sum = rec_sum(&h, b + FL_ITEM_HDR, len - FL_ITEM_HDR);
	memcpy(b, &h, sizeof h);
	return len;
}

/* The header at b, if it can start a record of this run (else NULL + why). */
static const char *rec_head(const unsigned char *b, unsigned writers, uint32_t items, size_t fixed,
			    struct fl_item_hdr *h)
{
	memcpy(h, b, sizeof *h);
	if (h->magic != FL_ITEM_MAGIC)
		return "bad magic";
	if (h->producer >= writers || h->seq >= items)
		return "writer or seq out of range";
	if (h->len != rec_len(h->producer, h->seq, fixed))
		return "wrong length";
	return NULL;
}

static const char *rec_body(const unsigned char *b, const struct fl_item_hdr *h)
{
	if (rec_sum(h, b + FL_ITEM_HDR, h->len - FL_ITEM_HDR) != h->sum)
		return "bad checksum";
	if (!fl_payload_matches(b + FL_ITEM_HDR, h->len - FL_ITEM_HDR, h->producer, h->seq))
		return "payload differs";
	return NULL;
}

/* ---- one run's shared state ------------------------------------------------------------ */

struct run {
	const struct config *c;
	uint32_t items; /* records per writer */
	struct ipc_pipe *rd, *wr; /* the originals (main's), or the shared ones */
	bool rd_shared, wr_shared; /* some thread uses the original: main closes it only after the joins */
	_Atomic uint8_t *seen;    /* MULTI: [writer][seq] deliveries */
	_Atomic uint64_t bytes_read, bytes_written;
	_Atomic unsigned epipes;
	_Atomic int64_t last_close_ns, last_wake_ns; /* CLOSE runs: the last close, the last waiter's return */
	uint32_t next[MAX_THREADS]; /* ORDER: the one reader's expected seq per writer */
	bool joined[MAX_THREADS];
};

struct worker {
	struct run *r;
	unsigned id;
	unsigned seed;
	struct ipc_pipe *h;
	bool writer;
	bool own;      /* a private handle (dup), closed by the thread itself */
	bool nonblock; /* this thread's current idea of its handle's mode */
};

static struct ipc_pipe *dup_or_share(struct ipc_pipe *h, bool *own)
{
	struct ipc_pipe *d = NULL;
	int rc;
	*own = false;
	if (!has(IPC_PIPE_CAP_DUP))
		return h;
	if ((rc = ops->dup(h, &d)) != 0) {
		violation("dup -> %d", rc);
		return h;
	}
	*own = true;
	return d;
}

static void set_mode(struct worker *w, bool nonblock)
{
	if (!has(IPC_PIPE_CAP_NONBLOCK) || w->nonblock == nonblock)
		return;
	int rc = ops->set_nonblock(w->h, nonblock);
	if (rc != 0)
		violation("set_nonblock(%d) -> %d", nonblock, rc);
	w->nonblock = nonblock;
}

/* MIXED: flip this thread's mode now and then. */
static void maybe_toggle(struct worker *w)
{
	if (w->r->c->mix == MIXED && rand_r(&w->seed) % 16 == 0)
		set_mode(w, !w->nonblock);
}

/* After -EAGAIN: yield, or wait for readiness when the subject can poll. */
static void backoff(struct worker *w, int events)
{
	if (has(IPC_PIPE_CAP_POLL) && rand_r(&w->seed) % 2) {
		int rc = ops->poll(w->h, events, 1000000);
		if (rc < 0)
			violation("poll -> %d", rc);
	} else {
		sched_yield();
	}
}

/* -EAGAIN is fine unless no handle of this pipe was ever non-blocking (a
 * dup may share its mode with the original, as dup(2) shares O_NONBLOCK). */
static void check_eagain(struct worker *w, const char *op)
{
	if (w->r->c->mix == BLOCK)
		violation("%s on a blocking handle -> -EAGAIN", op);
}

/* Write one record: 0, -EPIPE (reported to the caller), or another error (a violation). */
static int write_rec(struct worker *w, const unsigned char *b, size_t len)
{
	for (;;) {
		maybe_toggle(w);
		ssize_t n = ops->write(w->h, b, len);
		if (n == (ssize_t)len) {
			atomic_fetch_add(&w->r->bytes_written, len);
			return 0;
		}
		if (n == -EAGAIN) {
			check_eagain(w, "write");
			backoff(w, IPC_PIPE_OUT);
			continue;
		}
		if (n == -EPIPE)
			return -EPIPE;
		if (n >= 0)
			violation("write of %zu <= PIPE_BUF bytes returned %zd (%s)", len, n,
				  w->nonblock ? "non-blocking" : "blocking");
		else
			violation("write -> %zd", n);
		return -EIO;
	}
}

/* Read up to len: a count, 0 at end of file, or < 0 on an error (a violation). */
static ssize_t read_some(struct worker *w, unsigned char *b, size_t len)
{
	for (;;) {
		maybe_toggle(w);
		ssize_t n = ops->read(w->h, b, len);
		if (n >= 0) {
			atomic_fetch_add(&w->r->bytes_read, (uint64_t)n);
			return n;
		}
		if (n == -EAGAIN) {
			check_eagain(w, "read");
			backoff(w, IPC_PIPE_IN);
			continue;
		}
		violation("read -> %zd", n);
		return n;
	}
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void mark_max(_Atomic int64_t *v, int64_t t)
{
	int64_t old = atomic_load(v);
	while (old < t && !atomic_compare_exchange_weak(v, &old, t)) {
	}
}

/* CLOSE runs: is this close one that must wake the other side's waiters? */
static void mark_close(struct run *r, bool write_end)
{
	if ((r->c->kind == CLOSE_EOF && write_end) || (r->c->kind == CLOSE_EPIPE && !write_end))
		mark_max(&r->last_close_ns, now_ns()); /* before the call: its own cost counts */
}

static void worker_close(struct worker *w)
{
	if (w->own) {
		mark_close(w->r, w->writer);
		int rc = ops->close(w->h);
		if (rc != 0)
			violation("close -> %d", rc);
		w->own = false;
	}
}

/* ---- writers ------------------------------------------------------------------------------ */

static void *writer_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	unsigned char *b = malloc(IPC_PIPE_BUF);
	uint32_t n = r->c->kind == CLOSE_EPIPE ? UINT32_MAX : r->items; /* CLOSE_EPIPE: until EPIPE */

	set_mode(w, r->c->mix == NONBLOCK);
	for (uint32_t seq = 0; b && seq < n; seq++) {
		size_t len = rec_make(b, w->id, seq % r->items, r->c->fixed);
		int rc = write_rec(w, b, len);
		if (rc == -EPIPE) {
			if (r->c->kind != CLOSE_EPIPE)
				violation("writer %u: -EPIPE with readers open", w->id);
			atomic_fetch_add(&r->epipes, 1);
			mark_max(&r->last_wake_ns, now_ns());
			/* Once every reader is gone, every later write fails too. */
			if ((rc = (int)ops->write(w->h, b, len)) != -EPIPE)
				violation("writer %u: write after -EPIPE -> %d", w->id, rc);
			break;
		}
		if (rc != 0)
			break;
	}
	free(b);
	worker_close(w);
	return NULL;
}

/* ---- readers ------------------------------------------------------------------------------- */

/* ORDER: one reader reassembles the stream from reads of random size. */
static void parse(struct run *r, unsigned char *buf, size_t *have, bool *broken)
{
	size_t at = 0;
	struct fl_item_hdr h;
	while (!*broken && *have - at >= FL_ITEM_HDR) {
		const char *why = rec_head(buf + at, r->c->writers, r->items, 0, &h);
		if (!why && *have - at < h.len)
			break; /* the rest of the record is still to come */
		if (!why)
			why = rec_body(buf + at, &h);
		if (why) {
			violation("stream byte %llu: %s (writer %u seq %u len %u): a torn or interleaved write",
				  (unsigned long long)(atomic_load(&r->bytes_read) - *have + at), why, h.producer,
				  h.seq, h.len);
			*broken = true; /* no way to find the next record: drain to the end */
			break;
		}
		if (h.seq != r->next[h.producer])
			violation("writer %u: record %u arrived when %u was due (%s)", h.producer, h.seq,
				  r->next[h.producer], h.seq < r->next[h.producer] ? "duplicate or reordered" : "lost");
		r->next[h.producer] = h.seq + 1;
		at += h.len;
	}
	if (*broken)
		at = *have;
	memmove(buf, buf + at, *have - at);
	*have -= at;
}

static void order_reader(struct worker *w)
{
	struct run *r = w->r;
	unsigned char *buf = malloc(IPC_PIPE_BUF + READ_MAX);
	size_t have = 0;
	bool broken = false;
	for (;;) {
		size_t want = 1 + (size_t)rand_r(&w->seed) % (rand_r(&w->seed) % 4 ? 512 : READ_MAX);
		ssize_t n = read_some(w, buf + have, want);
		if (n <= 0)
			break;
		have += (size_t)n;
		parse(r, buf, &have, &broken);
	}
	if (have && !broken)
		violation("end of file inside a record (%zu bytes of it)", have);
	free(buf);
}

/* MULTI: every read asks for exactly one record. */
static void multi_reader(struct worker *w)
{
	struct run *r = w->r;
	const struct config *c = r->c;
	unsigned char *buf = malloc(c->fixed);
	int64_t last[MAX_THREADS];
	struct fl_item_hdr h;
	for (unsigned i = 0; i < MAX_THREADS; i++)
		last[i] = -1;
	for (;;) {
		ssize_t n = read_some(w, buf, c->fixed);
		if (n <= 0)
			break;
		if ((size_t)n != c->fixed) {
			violation("reader %u: a read of %zu returned %zd: short read of a whole-record stream", w->id,
				  c->fixed, n);
			continue;
		}
		const char *why = rec_head(buf, c->writers, r->items, c->fixed, &h);
		if (!why)
			why = rec_body(buf, &h);
		if (why) {
			violation("reader %u: %s (writer %u seq %u)", w->id, why, h.producer, h.seq);
			continue;
		}
		if ((int64_t)h.seq <= last[h.producer])
			violation("reader %u: writer %u's record %u after its record %lld", w->id, h.producer, h.seq,
				  (long long)last[h.producer]);
		last[h.producer] = h.seq;
		atomic_fetch_add(&r->seen[(size_t)h.producer * r->items + h.seq], 1);
	}
	free(buf);
}

/* CLOSE runs: read whole records until end of file (CLOSE_EOF), or read a
 * little and close early (CLOSE_EPIPE: the reader's close races the writes). */
static void close_reader(struct worker *w)
{
	struct run *r = w->r;
	unsigned char *buf = malloc(r->c->fixed);
	unsigned stop = r->c->kind == CLOSE_EPIPE ? (unsigned)rand_r(&w->seed) % 4 : UINT32_MAX;
	for (unsigned k = 0; k < stop; k++) {
		ssize_t n = read_some(w, buf, r->c->fixed);
		if (n == 0)
			mark_max(&r->last_wake_ns, now_ns());
		if (n <= 0)
			break;
	}
	free(buf);
}

static void *reader_main(void *arg)
{
	struct worker *w = arg;
	set_mode(w, w->r->c->mix == NONBLOCK);
	switch (w->r->c->kind) {
	case ORDER: order_reader(w); break;
	case MULTI: multi_reader(w); break;
	default: close_reader(w); break;
	}
	worker_close(w);
	return NULL;
}

/* ---- one run ------------------------------------------------------------------------------------ */

static int make_pipe(struct run *r, int idx)
{
	char name[96];
	struct ipc_pipe_attr attr = {0, 0};
	snprintf(name, sizeof name, "/ipcspec-tsan-pipe-%d-%d", (int)getpid(), idx);
	int rc = ops->create(name, &attr, &r->rd, &r->wr);
	if (ops->unlink)
		ops->unlink(name); /* the handles keep working, nothing stays behind */
	if (rc != 0) {
		violation("create -> %d", rc);
		return rc;
	}
	if (has(IPC_PIPE_CAP_CAPACITY) && (rc = ops->set_capacity(r->wr, CAPACITY)) != CAPACITY)
		violation("set_capacity(%d) -> %d", CAPACITY, rc);
	return 0;
}

/* Start writers then readers, each with its own dup or the shared original. */
static void start(struct run *r, struct worker *w, pthread_t *t)
{
	const struct config *c = r->c;
	for (unsigned i = 0; i < c->writers + c->readers; i++) {
		bool writer = i < c->writers;
		bool shared = writer ? c->share == SHARED_W : c->share == SHARED_R;
		struct ipc_pipe *orig = writer ? r->wr : r->rd;
		w[i] = (struct worker){.r = r, .id = writer ? i : i - c->writers, .seed = 777u * (i + 1), .writer = writer};
		w[i].h = shared ? orig : dup_or_share(orig, &w[i].own);
		if (!w[i].own)
			*(writer ? &r->wr_shared : &r->rd_shared) = true;
		pthread_create(&t[i], NULL, writer ? writer_main : reader_main, &w[i]);
	}
}

static void close_orig(struct run *r, struct ipc_pipe **h, const char *what)
{
	if (*h) {
		mark_close(r, h == &r->wr);
		int rc = ops->close(*h);
		if (rc != 0)
			violation("close of the %s -> %d", what, rc);
		*h = NULL;
	}
}

static void join(struct run *r, pthread_t *t, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		if (!r->joined[i])
			pthread_join(t[i], NULL), r->joined[i] = true;
}

/* ORDER and MULTI: writers finish, the last write handle closes, readers
 * drain to end of file; then every record must have arrived exactly once. */
static void run_stream(struct run *r, struct worker *w, pthread_t *t)
{
	const struct config *c = r->c;
	start(r, w, t);
	if (!r->wr_shared)
		close_orig(r, &r->wr, "write end"); /* the writers' dups keep it open */
	join(r, t, 0, c->writers);
	close_orig(r, &r->wr, "shared write end"); /* now end of file */
	join(r, t, c->writers, c->writers + c->readers); /* main's read end stays open: it does not delay EOF */
	for (unsigned p = 0; c->kind == ORDER && p < c->writers; p++)
		if (r->next[p] != r->items)
			violation("writer %u: %u of %u records arrived", p, r->next[p], r->items);
	for (size_t i = 0; c->kind == MULTI && i < (size_t)c->writers * r->items; i++) {
		unsigned k = atomic_load(&r->seen[i]);
		if (k != 1)
			violation("writer %zu record %zu delivered %u times", i / r->items, i % r->items, k);
	}
	if (ops->validate && ops->validate(r->rd) != 0)
		violation("validate() != 0 after the run");
	close_orig(r, &r->rd, "read end");
}

/* CLOSE_EOF: readers block on an empty pipe; the writers write a few records
 * and close at about the same time; every reader must see end of file, and
 * every byte written must have been read. CLOSE_EPIPE: writers fill the pipe
 * and block; the readers (and then main) close; every writer must get -EPIPE. */
static void run_close(struct run *r, struct worker *w, pthread_t *t)
{
	const struct config *c = r->c;
	struct timespec pause = {0, 2000000}; /* let the threads block */
	int64_t wake;
	start(r, w, t);
	nanosleep(&pause, NULL);
	if (c->kind == CLOSE_EOF) {
		if (r->wr_shared)
			join(r, t, 0, c->writers);
		close_orig(r, &r->wr, "write end"); /* races the writers' own last closes */
		join(r, t, 0, c->writers + c->readers);
		if (atomic_load(&r->bytes_read) != atomic_load(&r->bytes_written))
			violation("%llu bytes written, %llu read before end of file",
				  (unsigned long long)r->bytes_written, (unsigned long long)r->bytes_read);
		close_orig(r, &r->rd, "read end");
	} else {
		if (r->rd_shared)
			join(r, t, c->writers, c->writers + c->readers);
		close_orig(r, &r->rd, "read end"); /* races the readers' own closes */
		join(r, t, c->writers, c->writers + c->readers);
		join(r, t, 0, c->writers);
		if (atomic_load(&r->epipes) != c->writers)
			violation("%u of %u writers got -EPIPE", r->epipes, c->writers);
		close_orig(r, &r->wr, "write end");
	}
	wake = atomic_load(&r->last_wake_ns) - atomic_load(&r->last_close_ns);
	if (atomic_load(&r->last_wake_ns) && wake > g_max_wake_ns)
		g_max_wake_ns = wake;
	if (wake > WAKE_LIMIT_NS)
		violation("the last waiter returned %.0f ms after the last close", wake / 1e6);
}


static void run_config(const struct config *c, uint32_t base, int idx)
{
	struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	uint32_t items = base / c->scale ? base / c->scale : 1;
	unsigned before = atomic_load(&violations);
	int64_t t0 = now_ns();
	char wake[64] = "";

	if (c->writers > 1 && !has(IPC_PIPE_CAP_MULTI_WRITER)) {
		printf("[tsan_pipe_stress] %-48s UNSUPPORTED (no MULTI_WRITER)\n", c->label);
		return;
	}
	g_phase = c->label;
	alarm(WATCHDOG_S);
	if (c->kind == CLOSE_EOF || c->kind == CLOSE_EPIPE) {
		g_max_wake_ns = 0;
		for (uint32_t round = 0; round < items; round++) {
			struct run r = {.c = c, .items = 3 + round % 5}; /* CLOSE_EOF: records per writer */
			if (make_pipe(&r, idx) == 0)
				run_close(&r, w, t);
		}
	} else {
		struct run r = {.c = c, .items = items};
		if (c->kind == MULTI)
			r.seen = calloc((size_t)c->writers * items, 1);
		if (make_pipe(&r, idx) == 0)
			run_stream(&r, w, t);
		free((void *)r.seen);
	}
	alarm(0);
	if (c->kind >= CLOSE_EOF)
		snprintf(wake, sizeof wake, ", waiters woke <= %.2f ms after last close", g_max_wake_ns / 1e6);
	printf("[tsan_pipe_stress] %-48s %6u %s, %.2f s%s%s\n", c->label, items,
	       c->kind >= CLOSE_EOF ? "rounds" : "records/writer", (now_ns() - t0) / 1e9, wake,
	       atomic_load(&violations) != before ? "  FAILED" : "");
	fflush(stdout);
}

static const struct ipc_subject *find_subject(const char *name)
{
	size_t n;
	const struct ipc_subject *s = ipc_registry_subjects(&n);
	for (size_t i = 0; i < n; i++)
		if (s[i].mechanism == IPC_MECH_PIPE && !strcmp(s[i].name, name))
			return &s[i];
	if (!strcmp(name, "ref-pipe") && &ipc__subject_ref_pipe != NULL)
		return &ipc__subject_ref_pipe;
	return NULL;
}

int main(int argc, char **argv)
{
	uint32_t base = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 2000;
	const char *name = argc > 2 ? argv[2] : "ref-pipe";

	subj = find_subject(name);
	if (!subj) {
		/* Until impl/pipe/ref_pipe.c exists: say so, do not fail make tsan. */
		printf("[tsan_pipe_stress] SKIP: no pipe subject %s in this build\n", name);
		return strcmp(name, "ref-pipe") == 0 ? 0 : 2;
	}
	if (!has(IPC_PIPE_CAP_BLOCKING)) {
		printf("[tsan_pipe_stress] SKIP: %s cannot block\n", name);
		return 0;
	}
	ops = subj->ops;
	signal(SIGPIPE, SIG_IGN); /* a write with no reader: -EPIPE, counted */
	signal(SIGALRM, on_alarm);
	printf("[tsan_pipe_stress] subject %s, capacity %d, records <= %d bytes\n", name, CAPACITY, IPC_PIPE_BUF);
	for (size_t i = 0; i < NCONFIGS; i++)
		run_config(&configs[i], base, (int)i);
	printf("[tsan_pipe_stress] %s: %u violation(s)\n", violations ? "FAIL" : "PASS", atomic_load(&violations));
	return violations ? 1 : 0;
}
