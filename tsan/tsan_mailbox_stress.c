/* SPDX-License-Identifier: MIT */
/*
 * tsan_mailbox_stress: sender and receiver threads on one mailbox subject
 * (ref-mailbox by default), built with -fsanitize=thread so that
 * ThreadSanitizer checks every shared word the subject touches. TSan cannot
 * see across processes, so the parties are threads, each with its own
 * handle (a party of its own, as a process would be); ref-mailbox maps a
 * segment once per process, so every thread sees each word at one address.
 *
 * Every message is a self-checking item (faults/fl_item.h): {magic, producer,
 * seq, len, FNV-1a} and a payload that is a function of (producer, seq).
 * Checked for every message: intact, received exactly once over all
 * receivers (a shared counter per (producer, seq)), and, at each receiver,
 * each producer's messages in increasing seq (a mailbox and an inbox are
 * FIFO and a producer's sends are sequential, so one receiver can never see
 * them out of order). After each run validate() must say 0.
 *
 * Runs, each at capacities 0 (rendezvous), 1, 7 and unbounded where the
 * subject has them:
 *  - indirect 4x4: send / recv, all blocking; receivers end at IPC_EOD when
 *    the last sender closes (end of stream).
 *  - direct 4x4: send_to (receiver seq % 4) / recv_any, all blocking; each
 *    receiver ends after the messages addressed to it, and checks that
 *    recv_any named the true sender.
 *  - mixed 4x4: two senders use send, two send_to; blocking, timed and
 *    non-blocking calls; receivers alternate timed recv, recv_any and
 *    recv_from(one of the direct senders) until everything has arrived.
 *
 * A plain program (Criterion cannot run under TSan), also built without TSan
 * (make tsan-plain). Usage: tsan_mailbox_stress [ITEMS_PER_SENDER [SUBJECT]].
 * Exit 0 when every check passed, 1 on a violation, 3 on a hang (watchdog),
 * 2 on usage; a TSan report exits with TSAN_OPTIONS' exitcode (66 under make
 * tsan).
 */
#include <errno.h>
#include <pthread.h>
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
#include "mailbox.h"

#define NS         4 /* senders */
#define NR         4 /* receivers */
#define MAX_MSG    512
#define WATCHDOG_S 60

enum kind { INDIRECT, DIRECT, MIXED };
static const char *const kind_name[] = {"indirect 4x4 send/recv", "direct 4x4 send_to/recv_any",
					"mixed 4x4, timed and non-blocking"};

static const struct ipc_subject *subj;
static const struct ipc_mailbox_ops *ops;
static _Atomic unsigned violations;
static char g_phase[96] = "start";
/* The run's segment, "/dev/shm/<name>" while it exists: a watchdog or a
 * TSan report ends the program without its unlink, so they remove it. */
static char g_shm[128];

static void drop_name(void)
{
	if (g_shm[0])
		(void)unlink(g_shm); /* async-signal-safe */
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#include <sanitizer/common_interface_defs.h>
#define HAVE_TSAN_DEATH_CB 1
#endif
#endif

struct run {
	enum kind kind;
	size_t cap;
	uint32_t items; /* per sender */
	struct ipc_mailbox *h[NS + NR];
	ipc_mailbox_id id[NS + NR];
	_Atomic uint8_t *seen;
	_Atomic uint64_t received;
	uint64_t total;
};

struct worker {
	struct run *r;
	int idx; /* < NS: sender idx; else receiver idx - NS */
	uint32_t rng;
};

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
	printf("[tsan_mailbox_stress] VIOLATION (%s): %s\n", g_phase, msg);
	fflush(stdout);
}

static void on_alarm(int sig)
{
	static const char a[] = "[tsan_mailbox_stress] HANG: no end within the watchdog in run: ";
	(void)sig;
	drop_name();
	if (write(1, a, sizeof a - 1) < 0 || write(1, g_phase, strlen(g_phase)) < 0 ||
	    write(1, "\n", 1) < 0) {
	}
	_exit(3);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t rnd(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 17;
	w->rng ^= w->rng << 5;
	return w->rng;
}

/* ---- senders ------------------------------------------------------------------------------- */

/* Blocking in the first two runs; the mixed run also times out and polls. */
static int64_t timeout_of(struct worker *w)
{
	if (w->r->kind != MIXED)
		return -1;
	switch (rnd(w) % 4) {
	case 0:
		return 0;
	case 1:
		return 1000000;
	default:
		return -1;
	}
}

/* The mixed run's senders 2 and 3 (and every direct sender) name a receiver. */
static bool sends_direct(const struct run *r, int s)
{
	return r->kind == DIRECT || (r->kind == MIXED && s >= 2);
}

static void *sender(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	struct ipc_mailbox *h = r->h[w->idx];
	unsigned char buf[MAX_MSG];

	for (uint32_t seq = 0; seq < r->items; seq++) {
		size_t len = fl_item_make(buf, (uint32_t)w->idx, seq, MAX_MSG);
		ipc_mailbox_id to = r->id[NS + seq % NR];
		int rc;

		do {
			int64_t t = timeout_of(w);
			rc = sends_direct(r, w->idx) ? ops->send_to(h, to, buf, len, t)
						     : ops->send(h, buf, len, t);
		} while (rc == -EAGAIN || rc == -ETIMEDOUT);
		if (rc != 0) {
			violation("sender %d seq %u -> %d", w->idx, seq, rc);
			break;
		}
	}
	ops->close(h); /* the last sender's close is the end of stream (INDIRECT) */
	r->h[w->idx] = NULL;
	return NULL;
}

/* ---- receivers ----------------------------------------------------------------------------- */

/* One message: intact, once over all receivers, in order at this receiver. */
static void check(struct run *r, const unsigned char *buf, long n, uint32_t *next,
		  ipc_mailbox_id from)
{
	struct fl_item_hdr hd;
	int c = fl_item_check(buf, (size_t)n, MAX_MSG, &hd);

	if (c != 0 || hd.producer >= NS || hd.seq >= r->items) {
		violation("a torn or invented message (%s): %ld bytes, producer %u seq %u",
			  fl_item_why(c), n, hd.producer, hd.seq);
		return;
	}
	if (atomic_fetch_add(&r->seen[hd.producer * r->items + hd.seq], 1) != 0)
		violation("producer %u seq %u received twice", hd.producer, hd.seq);
	if (hd.seq < next[hd.producer])
		violation("producer %u seq %u after seq %u at one receiver", hd.producer, hd.seq,
			  next[hd.producer] - 1);
	next[hd.producer] = hd.seq + 1;
	if (from && from != r->id[hd.producer])
		violation("producer %u seq %u reported from id %llu, sent by %llu", hd.producer,
			  hd.seq, (unsigned long long)from, (unsigned long long)r->id[hd.producer]);
	atomic_fetch_add(&r->received, 1);
}

/* Messages addressed to receiver k in a direct run. */
static uint64_t direct_share(const struct run *r, int k)
{
	uint64_t per = r->items / NR + ((uint32_t)k < r->items % NR);

	return per * NS;
}

static long mixed_recv(struct worker *w, struct ipc_mailbox *h, unsigned char *buf,
		       ipc_mailbox_id *from)
{
	struct run *r = w->r;
	int64_t t = rnd(w) % 3 ? 1000000 : 0;

	*from = 0;
	switch (rnd(w) % 3) {
	case 0:
		return ops->recv(h, buf, MAX_MSG, t);
	case 1:
		return ops->recv_any(h, from, buf, MAX_MSG, t);
	default:
		*from = r->id[2 + rnd(w) % 2];
		return ops->recv_from(h, *from, buf, MAX_MSG, t);
	}
}

static void *receiver(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	struct ipc_mailbox *h = r->h[w->idx];
	unsigned char buf[MAX_MSG];
	uint32_t next[NS] = {0};
	uint64_t got = 0, want = direct_share(r, w->idx - NS);

	for (;;) {
		ipc_mailbox_id from = 0;
		long n;

		if (r->kind == INDIRECT)
			n = ops->recv(h, buf, MAX_MSG, -1);
		else if (r->kind == DIRECT)
			n = got == want ? IPC_EOD : ops->recv_any(h, &from, buf, MAX_MSG, -1);
		else if (atomic_load(&r->received) == r->total)
			n = IPC_EOD;
		else
			n = mixed_recv(w, h, buf, &from);
		/* Mixed: IPC_EOD from recv_from(Q) says Q closed, not the end. */
		if (n == IPC_EOD && r->kind == MIXED && atomic_load(&r->received) != r->total)
			continue;
		if (n == IPC_EOD)
			break;
		if (n == -EAGAIN || n == -ETIMEDOUT)
			continue;
		if (n < 0) {
			violation("receiver %d -> %ld", w->idx - NS, n);
			break;
		}
		check(r, buf, n, next, from);
		got++;
	}
	return NULL;
}

/* ---- runs ---------------------------------------------------------------------------------- */

static const char *capname(size_t cap)
{
	static char buf[32];

	if (cap == IPC_MAILBOX_UNBOUNDED)
		return "unbounded";
	snprintf(buf, sizeof buf, "capacity %zu", cap);
	return buf;
}

/* Create, and open every party up front (ids known before any thread runs). */
static int setup(struct run *r, const char *name, struct ipc_mailbox **mine)
{
	struct ipc_mailbox_attr attr = {r->cap, MAX_MSG, 0600, 0};
	int rc = ops->create(name, &attr);

	if (rc != 0) {
		violation("create %s -> %d", name, rc);
		return rc;
	}
	for (int i = 0; i < NS + NR && rc == 0; i++) {
		rc = ops->open(name, i < NS ? IPC_MAILBOX_SEND : IPC_MAILBOX_RECV, &r->h[i]);
		if (rc == 0 && ops->self_id)
			rc = ops->self_id(r->h[i], &r->id[i]);
	}
	if (rc == 0) /* main's party: validate() afterwards; never a sender or receiver */
		rc = ops->open(name, IPC_MAILBOX_RECV, mine);
	if (rc != 0)
		violation("open on %s -> %d", name, rc);
	return rc;
}

static void run_one(enum kind kind, size_t cap, uint32_t items, int idx)
{
	struct run r = {.kind = kind, .cap = cap, .items = items, .total = (uint64_t)NS * items};
	struct worker w[NS + NR];
	pthread_t t[NS + NR];
	struct ipc_mailbox *mine = NULL;
	char name[96];
	int64_t t0 = now_ns();
	unsigned before = atomic_load(&violations);

	snprintf(g_phase, sizeof g_phase, "%s, %s", kind_name[kind], capname(cap));
	snprintf(name, sizeof name, "/ipcspec-tsan-%d-mb-%d", (int)getpid(), idx);
	r.seen = calloc(r.total, 1);
	snprintf(g_shm, sizeof g_shm, "/dev/shm%s", name);
	alarm(WATCHDOG_S);
	if (setup(&r, name, &mine) == 0) {
		for (int i = 0; i < NS + NR; i++) {
			w[i] = (struct worker){&r, i, 2463534242u + (uint32_t)(i * 7919 + idx)};
			pthread_create(&t[i], NULL, i < NS ? sender : receiver, &w[i]);
		}
		for (int i = 0; i < NS + NR; i++)
			pthread_join(t[i], NULL);
		for (uint64_t i = 0; i < r.total; i++)
			if (atomic_load(&r.seen[i]) != 1)
				violation("producer %llu seq %llu received %u times",
					  (unsigned long long)(i / items),
					  (unsigned long long)(i % items), atomic_load(&r.seen[i]));
		int rc = ops->validate ? ops->validate(mine) : 0;
		if (rc != 0)
			violation("validate() -> %d after the run", rc);
	}
	alarm(0);
	for (int i = NS; i < NS + NR; i++)
		if (r.h[i])
			ops->close(r.h[i]);
	if (mine)
		ops->close(mine);
	ops->unlink(name);
	g_shm[0] = 0;
	free((void *)r.seen);
	printf("[tsan_mailbox_stress] %-36s %-12s %6u items/sender, %.2f s%s\n", kind_name[kind],
	       capname(cap), items, (now_ns() - t0) / 1e9,
	       atomic_load(&violations) != before ? "  FAILED" : "");
	fflush(stdout);
}

static const struct ipc_subject *find_subject(const char *name)
{
	size_t n;
	const struct ipc_subject *s = ipc_registry_subjects(&n);

	for (size_t i = 0; i < n; i++)
		if (s[i].mechanism == IPC_MECH_MAILBOX && !strcmp(s[i].name, name))
			return &s[i];
	return NULL;
}

/* Every kind and capacity the subject has, base items per sender (scaled). */
static int run_subject(const char *name, uint32_t base)
{
	const uint64_t need = IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_END_OF_STREAM;
	size_t caps[4];
	int nc = 0;

	subj = find_subject(name);
	if (!subj) {
		printf("[tsan_mailbox_stress] no mailbox subject %s in this build\n", name);
		return 2;
	}
	if ((subj->caps & need) != need) {
		printf("[tsan_mailbox_stress] SKIP: %s lacks blocking calls or end of stream\n",
		       name);
		return 0;
	}
	ops = subj->ops;
	if (subj->caps & IPC_MAILBOX_CAP_ZERO)
		caps[nc++] = 0;
	if (subj->caps & IPC_MAILBOX_CAP_BOUNDED)
		caps[nc++] = 1, caps[nc++] = 7;
	if (subj->caps & IPC_MAILBOX_CAP_UNBOUNDED)
		caps[nc++] = IPC_MAILBOX_UNBOUNDED;
	printf("[tsan_mailbox_stress] subject %s, %d senders x %d receivers, messages <= %d "
	       "bytes\n",
	       name, NS, NR, MAX_MSG);
	for (int k = INDIRECT; k <= MIXED; k++) {
		if (k != INDIRECT && !(subj->caps & IPC_MAILBOX_CAP_DIRECT)) {
			printf("[tsan_mailbox_stress] %s UNSUPPORTED (no direct naming)\n",
			       kind_name[k]);
			continue;
		}
		/* A rendezvous per message, or 1 ms timeouts (mixed): fewer. */
		uint32_t div = k == MIXED ? 8 : 2;
		for (int c = 0; c < nc; c++)
			run_one((enum kind)k, caps[c], base / (caps[c] == 0 ? 2 * div : div) + 1,
				k * 8 + c);
	}
	return 0;
}

/* Default: ref-mailbox (a bounded mailbox's queue on a ring) and
 * ref-mailbox-locked (the same queue under the post office's mutex). */
int main(int argc, char **argv)
{
	uint32_t base = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 2000;
	const char *names[] = {argc > 2 ? argv[2] : "ref-mailbox", "ref-mailbox-locked"};
	int rc = 0;

	signal(SIGALRM, on_alarm);
#ifdef HAVE_TSAN_DEATH_CB
	__sanitizer_set_death_callback(drop_name);
#endif
	if (base < NR)
		base = NR;
	for (int i = 0; i < (argc > 2 ? 1 : 2) && rc == 0; i++)
		rc = run_subject(names[i], base);
	if (rc)
		return rc;
	printf("[tsan_mailbox_stress] %s: %u violation(s)\n", violations ? "FAIL" : "PASS",
	       atomic_load(&violations));
	return violations ? 1 : 0;
}
