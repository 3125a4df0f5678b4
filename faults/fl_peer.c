/* SPDX-License-Identifier: MIT */
/* Producer and consumer processes over a shared scoreboard (fl_peer.h). */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "fl_item.h"
#include "fl_peer.h"

static struct fl_peer *cur;           /* this child's peer (for the signal hook) */
static volatile sig_atomic_t in_op;   /* an operation is in progress */

struct fl_board *fl_board_new(uint32_t maxseq)
{
	struct fl_board *b =
		fl_shared_alloc(sizeof(*b) + (size_t)FL_MAX_PEERS * maxseq * sizeof(b->recv[0]));

	b->maxseq = maxseq;
	return b;
}

void fl_board_reset(struct fl_board *b)
{
	uint32_t maxseq = b->maxseq;

	memset(b, 0, sizeof(*b) + (size_t)FL_MAX_PEERS * maxseq * sizeof(b->recv[0]));
	b->maxseq = maxseq;
}

void fl_peer_violation(struct fl_board *b, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The first ones say it all; the counter says how many. */
	if (atomic_fetch_add(&b->violations, 1) < 20)
		printf("[%s] VIOLATION (pid %d, peer %u): %s\n", fl_prog, (int)getpid(),
		       cur ? cur->id : 0, msg);
	fflush(stdout);
}

void fl_peer_signal_hit(void)
{
	if (in_op && cur)
		atomic_fetch_add_explicit(&cur->b->sigs[cur->id], 1, memory_order_relaxed);
}

/* ---- timeouts ------------------------------------------------------------- */

static int64_t pick_timeout(const struct fl_peer *p, struct fl_rng *r)
{
	uint64_t x = fl_rng_below(r, 100);

	if (x < (uint64_t)p->pct_block)
		return IPC_TIMEOUT_INFINITE;
	if (x < (uint64_t)(p->pct_block + p->pct_nonblock))
		return 0;
	return 100000 + (int64_t)fl_rng_below(r, 4900000);
}

/* Is rc the documented "not now" answer for timeout t? Early timeouts are a
 * violation: the lower bound of a timeout is strict. */
static int not_now(struct fl_peer *p, long rc, int64_t t, int64_t started)
{
	if (t == 0 && rc == IPC_EAGAIN)
		return 1;
	if (t > 0 && rc == IPC_ETIMEDOUT) {
		int64_t took = fl_now_ns() - started;

		if (took < t)
			fl_peer_violation(p->b, "-ETIMEDOUT after %lld ns, timeout was %lld ns",
					  (long long)took, (long long)t);
		return 1;
	}
	return 0;
}

static void pause_sometimes(struct fl_peer *p, struct fl_rng *r, uint32_t n)
{
	int64_t end;

	if (!p->slow_every || n % p->slow_every != p->slow_every - 1)
		return;
	/* Busy, not asleep: the other side must block, and signals still land. */
	end = fl_now_ns() + (int64_t)fl_rng_below(r, 2000000);
	while (fl_now_ns() < end)
		;
}

/* ---- producer ------------------------------------------------------------- */

/* One put, retried while the buffer is full: 0, 4 (hang) or the error. */
static int put_retry(struct fl_peer *p, struct ipc_shmbuf *h, const void *buf, size_t len,
		     struct fl_rng *r)
{
	for (;;) {
		int64_t t = pick_timeout(p, r), t0 = fl_now_ns();
		int rc;

		in_op = 1;
		rc = p->ops->put(h, buf, len, t);
		in_op = 0;
		if (rc == 0 || !not_now(p, rc, t, t0))
			return rc;
		if (fl_now_ns() > p->give_up_ns) {
			fl_peer_violation(p->b, "hang: a put still refused at the deadline");
			return 4;
		}
		if (t == 0)
			sched_yield();
	}
}

static int attach_or_report(struct fl_peer *p, struct ipc_shmbuf **h)
{
	int rc = p->ops->attach(p->name, p->role, h);

	if (rc != 0)
		fl_peer_violation(p->b, "attach as %s -> %s",
				  p->role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer", fl_err(rc));
	return rc;
}

static int detach_or_report(struct fl_peer *p, struct ipc_shmbuf *h)
{
	int rc = p->ops->detach(h);

	if (rc != 0)
		fl_peer_violation(p->b, "detach -> %s", fl_err(rc));
	return rc ? 1 : 0;
}

static int produce(struct fl_peer *p, struct ipc_shmbuf *h, unsigned char *buf, struct fl_rng *r)
{
	for (uint32_t seq = 0; seq < p->items && seq < p->b->maxseq; seq++) {
		size_t len;
		int rc;

		if (atomic_load(&p->b->stop))
			break;
		len = fl_item_make(buf, p->id, seq, p->max_item);
		rc = put_retry(p, h, buf, len, r);
		if (rc == 4)
			return 4;
		if (rc != 0) {
			fl_peer_violation(p->b, "put of item %u -> %s", seq, fl_err(rc));
			return 1;
		}
		/* release: the parent reads done[] after our death or exit. */
		atomic_store_explicit(&p->b->done[p->id], seq + 1, memory_order_release);
		atomic_fetch_add_explicit(&p->b->progress[p->id], 1, memory_order_relaxed);
		pause_sometimes(p, r, seq);
	}
	return 0;
}

int fl_producer(void *arg)
{
	struct fl_peer *p = arg;
	struct ipc_shmbuf *h;
	struct fl_rng r;
	unsigned char *buf = malloc(p->max_item);
	int rc;

	cur = p;
	fl_rng_seed(&r, p->seed);
	if (p->setup)
		p->setup(p);
	if (!buf || attach_or_report(p, &h) != 0)
		return 1;
	rc = produce(p, h, buf, &r);
	if (rc == 4)
		return 4; /* leave the handle: the parent reports the hang */
	rc |= detach_or_report(p, h);
	free(buf);
	return rc;
}

/* ---- consumer ------------------------------------------------------------- */

/* One get, retried while the buffer is empty: a length, IPC_EOD, an error,
 * or INT32_MIN for a hang. */
static ssize_t get_retry(struct fl_peer *p, struct ipc_shmbuf *h, void *buf, struct fl_rng *r)
{
	for (;;) {
		int64_t t = pick_timeout(p, r), t0 = fl_now_ns();
		ssize_t rc;

		in_op = 1;
		rc = p->ops->get(h, buf, p->max_item, t);
		in_op = 0;
		if (rc >= 0 || rc == IPC_EOD || !not_now(p, rc, t, t0))
			return rc;
		if (fl_now_ns() > p->give_up_ns) {
			fl_peer_violation(p->b, "hang: a get still empty at the deadline");
			return INT32_MIN;
		}
		if (t == 0)
			sched_yield();
	}
}

/* Check one delivered item and count it. */
static void take(struct fl_peer *p, const void *buf, size_t n, int64_t *last)
{
	struct fl_item_hdr hd = {0};
	int bad = fl_item_check(buf, n, p->max_item, &hd);

	if (bad) {
		fl_peer_violation(p->b, "torn or altered item (%s, %zu bytes, says %u/%u)",
				  fl_item_why(bad), n, hd.producer, hd.seq);
		return;
	}
	if (hd.producer >= FL_MAX_PEERS || !p->b->is_prod[hd.producer] || hd.seq >= p->b->maxseq) {
		fl_peer_violation(p->b, "item from nowhere: producer %u seq %u", hd.producer, hd.seq);
		return;
	}
	if ((int64_t)hd.seq <= last[hd.producer])
		fl_peer_violation(p->b, "producer %u: item %u after item %lld (order or duplicate)",
				  hd.producer, hd.seq, (long long)last[hd.producer]);
	last[hd.producer] = hd.seq;
	atomic_fetch_add_explicit(&p->b->recv[(size_t)hd.producer * p->b->maxseq + hd.seq], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&p->b->progress[p->id], 1, memory_order_relaxed);
}

static int consume(struct fl_peer *p, struct ipc_shmbuf *h, unsigned char *buf, int64_t *last,
		   struct fl_rng *r)
{
	for (uint32_t n = 0;; n++) {
		ssize_t rc = get_retry(p, h, buf, r);

		if (rc == IPC_EOD)
			return 0;
		if (rc == INT32_MIN)
			return 4;
		if (rc < 0) {
			fl_peer_violation(p->b, "get -> %s", fl_err(rc));
			return 1;
		}
		take(p, buf, (size_t)rc, last);
		pause_sometimes(p, r, n);
	}
}

int fl_consumer(void *arg)
{
	struct fl_peer *p = arg;
	struct ipc_shmbuf *h;
	struct fl_rng r;
	unsigned char *buf = malloc(p->max_item);
	int64_t *last = malloc(sizeof(int64_t) * FL_MAX_PEERS);
	int rc;

	cur = p;
	fl_rng_seed(&r, p->seed);
	if (p->setup)
		p->setup(p);
	if (!buf || !last || attach_or_report(p, &h) != 0)
		return 1;
	for (int i = 0; i < FL_MAX_PEERS; i++)
		last[i] = -1;
	rc = consume(p, h, buf, last, &r);
	if (rc == 4)
		return 4;
	rc |= detach_or_report(p, h);
	free(buf);
	free(last);
	return rc;
}

/* ---- reaping, with a watchdog ------------------------------------------------ */

static uint64_t progress_sum(struct fl_board *b, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += atomic_load_explicit(&b->progress[i], memory_order_relaxed);
	return sum;
}

/* Reap children that ended; 1 once all have. */
static int reap_ended(struct fl_peer *peers, unsigned n, pid_t *pids, int *done)
{
	int all = 1;

	for (unsigned i = 0; i < n; i++) {
		int st;

		if (!done[i] && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
			done[i] = 1;
			if (st != 0)
				fl_violation("%s %u: %s", peers[i].role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer",
					     i, fl_status(st));
		}
		all &= done[i];
	}
	return all;
}

/* A stall of the whole stream is a hang: report every peer's progress and
 * kill the stragglers (a lost wake-up shows up here, not as a timeout). */
static void hang(struct fl_board *b, struct fl_peer *peers, unsigned n, pid_t *pids, int *done,
		 int stall_s)
{
	fl_violation("hang: no operation completed for %d s; unfinished peers:", stall_s);
	for (unsigned i = 0; i < n; i++) {
		if (done[i])
			continue;
		fl_info("  %s %u: progress %llu", peers[i].role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer",
			i, (unsigned long long)atomic_load(&b->progress[i]));
		kill(pids[i], SIGKILL);
		fl_reap(pids[i], fl_now_ns() + 5000000000LL);
	}
}

void fl_reap_peers(struct fl_board *b, struct fl_peer *peers, unsigned n, pid_t *pids, int stall_s)
{
	int done[64] = {0};
	uint64_t last = 0;
	int64_t moved = fl_now_ns();

	while (!reap_ended(peers, n, pids, done)) {
		uint64_t sum = progress_sum(b, n);

		if (sum != last)
			last = sum, moved = fl_now_ns();
		else if (fl_now_ns() - moved > fl_scaled_ns(stall_s * 1000000000LL))
			return hang(b, peers, n, pids, done, stall_s);
		fl_sleep_ns(1000000);
	}
}

/* ---- the verdict ---------------------------------------------------------- */

struct tally {
	uint64_t delivered, missing, dups, phantoms;
};

static void check_producer(struct fl_board *b, uint32_t id, struct tally *t)
{
	uint32_t done = atomic_load(&b->done[id]);

	for (uint32_t s = 0; s < b->maxseq; s++) {
		unsigned c = atomic_load(&b->recv[(size_t)id * b->maxseq + s]);
		/* A killed producer's next item may have been put (or half put). */
		int optional = s == done && b->killed[id];

		t->delivered += c;
		if (c > 1 && t->dups++ < 5)
			printf("[%s] VIOLATION: item %u/%u delivered %u times\n", fl_prog, id, s, c);
		if (s < done && c == 0 && t->missing++ < 3)
			printf("[%s] missing: item %u/%u (its put returned; a killed consumer may have taken it)\n",
			       fl_prog, id, s);
		if (s >= done && c > 0 && !optional && t->phantoms++ < 5)
			printf("[%s] VIOLATION: item %u/%u delivered but never put (done %u)\n",
			       fl_prog, id, s, done);
	}
}

unsigned fl_board_check(struct fl_board *b, unsigned consumer_kills, uint64_t *delivered)
{
	struct tally t = {0};
	unsigned bad;

	for (uint32_t id = 0; id < FL_MAX_PEERS; id++)
		if (b->is_prod[id])
			check_producer(b, id, &t);
	bad = (unsigned)(t.dups + t.phantoms);
	if (t.missing > consumer_kills) {
		printf("[%s] VIOLATION: %llu item(s) whose put returned are missing; %u consumer "
		       "kill(s) excuse at most %u\n", fl_prog, (unsigned long long)t.missing,
		       consumer_kills, consumer_kills);
		bad++;
	}
	if (t.missing || consumer_kills)
		printf("[%s]   delivery: %llu items, %llu missing (at most %u excused by consumer "
		       "kills), %llu duplicated, %llu never put\n", fl_prog,
		       (unsigned long long)t.delivered, (unsigned long long)t.missing, consumer_kills,
		       (unsigned long long)t.dups, (unsigned long long)t.phantoms);
	*delivered = t.delivered;
	return bad;
}
