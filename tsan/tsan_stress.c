/* SPDX-License-Identifier: MIT */
/*
 * tsan_stress: M producer threads x N consumer threads in one process, built
 * with -fsanitize=thread, so that ThreadSanitizer checks every shared word
 * of the subject for data races (TSan cannot see across processes: the
 * segment is shared here between threads, through one mapping).
 *
 * Configurations: capacities 1, 2, 3 and unbounded; blocking, non-blocking
 * and timed mixes; attach/detach churn (threads drop their handle and
 * attach again every few items, while the main thread's own attachments
 * keep the stream open); end of stream (consumers stop at IPC_EOD once the
 * last producer detached). Delivery is checked: every item exactly once,
 * intact, each producer's items in order.
 *
 * A plain program with its own main (Criterion cannot run under TSan).
 * Exit 0 when every check passed, 1 on a violation; a TSan report exits
 * with TSAN_OPTIONS' exitcode (66 under `make tsan`).
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl_item.h"
#include "ipc_subject.h"
#include "shmbuf.h"

#define MAX_THREADS 8

enum mix { MIX_BLOCK, MIX_NONBLOCK, MIX_MIXED };

struct config {
	size_t capacity; /* 0 = unbounded */
	unsigned producers, consumers;
	enum mix mix;
	unsigned churn; /* re-attach every churn items (0 = never) */
};

static const struct config configs[] = {
	{1, 2, 2, MIX_BLOCK, 0},    {1, 3, 1, MIX_MIXED, 50},  {2, 2, 3, MIX_NONBLOCK, 0},
	{2, 3, 3, MIX_MIXED, 37},   {3, 1, 1, MIX_BLOCK, 0},   {3, 4, 2, MIX_MIXED, 0},
	{0, 2, 2, MIX_NONBLOCK, 0}, {0, 3, 2, MIX_MIXED, 41},  {0, 1, 3, MIX_BLOCK, 0},
};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))
#define MAX_ITEM 300

static const struct ipc_shmbuf_ops *ops;
static _Atomic unsigned violations;

struct run {
	const struct config *c;
	char name[96];
	uint32_t items;
	_Atomic uint8_t *recv; /* [producer][seq] */
};

struct worker {
	struct run *r;
	uint32_t id;
	unsigned seed;
};

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void violation(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&violations, 1) >= 20)
		return; /* the first ones say it all */
	printf("[tsan_stress] VIOLATION: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* -1 / 0 / 1 ms by the configured mix; rand_r keeps threads independent. */
static int64_t pick_timeout(const struct config *c, unsigned *seed)
{
	switch (c->mix) {
	case MIX_BLOCK: return -1;
	case MIX_NONBLOCK: return 0;
	default: break;
	}
	int r = rand_r(seed) % 3;
	return r == 0 ? -1 : r == 1 ? 0 : 1000000;
}

static struct ipc_shmbuf *attach(struct run *r, int role)
{
	struct ipc_shmbuf *h = NULL;
	int rc = ops->attach(r->name, role, &h);

	if (rc != 0) {
		violation("attach as %s -> %d", role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer", rc);
		return NULL;
	}
	return h;
}

/* Drop the handle and attach again: churn in the participant table. */
static struct ipc_shmbuf *churn(struct run *r, struct ipc_shmbuf *h, int role, uint32_t n)
{
	if (!r->c->churn || n % r->c->churn != r->c->churn - 1)
		return h;
	if (ops->detach(h) != 0)
		violation("detach (churn) failed");
	return attach(r, role);
}

static int put_one(struct run *r, struct ipc_shmbuf *h, const void *buf, size_t len, unsigned *s)
{
	for (;;) {
		int64_t t = pick_timeout(r->c, s);
		int rc = ops->put(h, buf, len, t);

		if (rc == 0)
			return 0;
		if ((t == 0 && rc == IPC_EAGAIN) || (t > 0 && rc == IPC_ETIMEDOUT)) {
			sched_yield();
			continue;
		}
		violation("put -> %d (timeout %lld)", rc, (long long)t);
		return rc;
	}
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	unsigned char buf[MAX_ITEM];
	struct ipc_shmbuf *h = attach(r, IPC_SHMBUF_PRODUCER);

	for (uint32_t seq = 0; h && seq < r->items; seq++) {
		size_t len = fl_item_make(buf, w->id, seq, MAX_ITEM);

		if (put_one(r, h, buf, len, &w->seed) != 0)
			break;
		h = churn(r, h, IPC_SHMBUF_PRODUCER, seq);
	}
	if (h && ops->detach(h) != 0)
		violation("producer detach failed");
	return NULL;
}

/* A length, IPC_EOD, or an unexpected error (reported). */
static ssize_t get_one(struct run *r, struct ipc_shmbuf *h, void *buf, unsigned *s)
{
	for (;;) {
		int64_t t = pick_timeout(r->c, s);
		ssize_t rc = ops->get(h, buf, MAX_ITEM, t);

		if (rc >= 0 || rc == IPC_EOD)
			return rc;
		if ((t == 0 && rc == IPC_EAGAIN) || (t > 0 && rc == IPC_ETIMEDOUT)) {
			sched_yield();
			continue;
		}
		violation("get -> %zd (timeout %lld)", rc, (long long)t);
		return rc;
	}
}

static void record(struct run *r, const void *buf, size_t n, int64_t *last)
{
	struct fl_item_hdr hd;
	int bad = fl_item_check(buf, n, MAX_ITEM, &hd);

	if (bad || hd.producer >= r->c->producers || hd.seq >= r->items) {
		violation("torn item: %s, producer %u seq %u", fl_item_why(bad), hd.producer, hd.seq);
		return;
	}
	if ((int64_t)hd.seq <= last[hd.producer])
		violation("producer %u: item %u after item %lld", hd.producer, hd.seq, (long long)last[hd.producer]);
	last[hd.producer] = hd.seq;
	atomic_fetch_add(&r->recv[(size_t)hd.producer * r->items + hd.seq], 1);
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	unsigned char buf[MAX_ITEM];
	int64_t last[MAX_THREADS];
	struct ipc_shmbuf *h = attach(r, IPC_SHMBUF_CONSUMER);

	for (int i = 0; i < MAX_THREADS; i++)
		last[i] = -1;
	for (uint32_t n = 0; h; n++) {
		ssize_t rc = get_one(r, h, buf, &w->seed);

		if (rc < 0)
			break; /* IPC_EOD, or an error already reported */
		record(r, buf, (size_t)rc, last);
		h = churn(r, h, IPC_SHMBUF_CONSUMER, n);
	}
	if (h && ops->detach(h) != 0)
		violation("consumer detach failed");
	return NULL;
}

static void check(struct run *r)
{
	size_t n = (size_t)r->c->producers * r->items;

	for (size_t i = 0; i < n; i++) {
		unsigned c = atomic_load(&r->recv[i]);

		if (c != 1)
			violation("item %zu/%zu delivered %u times", i / r->items, i % r->items, c);
	}
}

/* The main thread's attachments keep the stream open while threads churn:
 * its producer detaches once every producer thread is done (end of stream),
 * its consumer once every consumer thread is done. */
static void run_threads(struct run *r, struct worker *w, pthread_t *t)
{
	const struct config *c = r->c;
	unsigned n = c->producers + c->consumers;
	struct ipc_shmbuf *ap = attach(r, IPC_SHMBUF_PRODUCER), *ac = attach(r, IPC_SHMBUF_CONSUMER);

	for (unsigned i = 0; i < n; i++) {
		w[i] = (struct worker){r, i < c->producers ? i : i - c->producers, 12345u + i};
		pthread_create(&t[i], NULL, i < c->producers ? producer : consumer, &w[i]);
	}
	for (unsigned i = 0; i < c->producers; i++)
		pthread_join(t[i], NULL);
	if (ap)
		ops->detach(ap);
	for (unsigned i = c->producers; i < n; i++)
		pthread_join(t[i], NULL);
	if (ac && ops->validate && ops->validate(ac) != 0)
		violation("validate() != 0 after the run");
	if (ac)
		ops->detach(ac);
}

static void run_config(const struct config *c, uint32_t items, int idx)
{
	static const char *mixes[] = {"blocking", "non-blocking", "mixed"};
	struct ipc_shmbuf_attr attr = {c->capacity, MAX_ITEM, 0};
	struct run r = {c, "", items, calloc((size_t)c->producers * items, 1)};
	struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	struct timespec a, b;

	snprintf(r.name, sizeof(r.name), "/ipcspec-tsan-%d-%d", (int)getpid(), idx);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (!r.recv || ops->create(r.name, &attr) != 0) {
		violation("create failed");
		return;
	}
	run_threads(&r, w, t);
	ops->unlink(r.name);
	check(&r);
	free((void *)r.recv);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("[tsan_stress] capacity %zu, %u x %u, %s%s: %u items, %.2f s\n", c->capacity,
	       c->producers, c->consumers, mixes[c->mix], c->churn ? ", churn" : "",
	       c->producers * items, (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	fflush(stdout);
}

static const struct ipc_shmbuf_ops *find_subject(const char *name)
{
	size_t n;
	const struct ipc_subject *s = ipc_registry_subjects(&n);

	for (size_t i = 0; i < n; i++)
		if (s[i].mechanism == IPC_MECH_SHMBUF && !strcmp(s[i].name, name))
			return s[i].ops;
	fprintf(stderr, "tsan_stress: no subject %s\n", name);
	exit(2);
}

int main(int argc, char **argv)
{
	uint32_t items = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 2000;

	ops = find_subject(argc > 2 ? argv[2] : "ref-shmbuf");
	for (size_t i = 0; i < NCONFIGS; i++)
		run_config(&configs[i], items, (int)i);
	printf("[tsan_stress] %s: %u violation(s)\n", violations ? "FAIL" : "PASS",
	       atomic_load(&violations));
	return violations ? 1 : 0;
}
