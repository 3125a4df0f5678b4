/* SPDX-License-Identifier: MIT */
/*
 * An example external subject for ipcspec: "example-queue".
 *
 * Read this file next to README.md: it is the smallest complete adapter. The
 * implementation under test is a plain in-process bounded queue (a pthread
 * mutex, two condition variables on CLOCK_MONOTONIC, a ring of fixed-size
 * slots). The adapter is everything else the harness needs:
 *
 *   - the operations table of spec/shmbuf.h, returning only the negative
 *     codes of spec/ipc_errors.h (never -1, never errno);
 *   - names: the harness passes a unique "/name" and unlinks it after each
 *     test. An in-process queue has no system name, so a small process-local
 *     registry maps names to queues;
 *   - detach tracking, which earns the END_OF_STREAM capability: IPC_EOD once
 *     every producer that attached has detached and the queue is drained,
 *     -EPIPE once every consumer that attached has detached;
 *   - the entry point ipc_subjects_v1(), the only symbol this object exports.
 *
 * Build: make -C examples/adapter   ->   build/libexample_adapter.so
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strnlen, clock_gettime */
#endif
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "ipc_errors.h"
#include "ipc_subject.h"
#include "shmbuf.h"

#define EXQ_EXPORT __attribute__((visibility("default")))

/* ---- the queue ---------------------------------------------------------- */

struct exq_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full;  /* a slot freed, or every consumer left */
	pthread_cond_t not_empty; /* an item queued, or every producer left */
	size_t capacity;          /* slots */
	size_t max_item;          /* bytes per slot */
	size_t head;              /* oldest item */
	size_t count;             /* queued items */
	size_t *lens;             /* length of the item in each slot */
	unsigned char *data;      /* capacity * max_item bytes */
	unsigned producers;       /* attached now */
	unsigned consumers;
	bool producers_ever;      /* attached at least once */
	bool consumers_ever;
	/* registry fields, under exq_registry_lock */
	struct exq_queue *next;
	unsigned refs; /* handles, + 1 while the name is linked */
	char name[IPC_NAME_MAX + 1];
};

/* One attachment: the spec's opaque handle. */
struct ipc_shmbuf {
	struct exq_queue *q;
	int role;
};

static pthread_mutex_t exq_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct exq_queue *exq_registry;

static void exq_queue_free(struct exq_queue *q)
{
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q->lens);
	free(q->data);
	free(q);
}

/* Condition variables that time out on CLOCK_MONOTONIC, as the spec's
 * timeouts are measured: setting the wall clock must not change a wait. */
static int exq_sync_init(struct exq_queue *q)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -ENOMEM;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&q->not_full, &ca);
	if (rc == 0)
		rc = pthread_cond_init(&q->not_empty, &ca);
	pthread_condattr_destroy(&ca);
	if (rc == 0)
		rc = pthread_mutex_init(&q->lock, NULL);
	return rc == 0 ? 0 : -ENOMEM;
}

static struct exq_queue *exq_queue_new(const char *name, size_t capacity, size_t max_item)
{
	struct exq_queue *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->lens = calloc(capacity, sizeof(*q->lens));
	q->data = malloc(capacity * max_item); /* overflow checked by the caller */
	if (q->lens == NULL || q->data == NULL || exq_sync_init(q) != 0) {
		free(q->lens);
		free(q->data);
		free(q);
		return NULL;
	}
	q->capacity = capacity;
	q->max_item = max_item;
	q->refs = 1;
	strcpy(q->name, name);
	return q;
}

/* ---- names and the registry -------------------------------------------- */

/* The harness's names: "/x...", no other '/', at most IPC_NAME_MAX bytes. */
static int exq_name_check(const char *name)
{
	size_t len;

	if (name == NULL)
		return -EINVAL;
	len = strnlen(name, IPC_NAME_MAX + 1);
	if (len > IPC_NAME_MAX)
		return -ENAMETOOLONG;
	if (len < 2 || name[0] != '/' || strchr(name + 1, '/') != NULL)
		return -EINVAL;
	return 0;
}

/* Caller holds exq_registry_lock. */
static struct exq_queue **exq_find(const char *name)
{
	struct exq_queue **p;

	for (p = &exq_registry; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->name, name) == 0)
			return p;
	return NULL;
}

/* Caller holds exq_registry_lock; the last reference frees the queue. */
static void exq_unref(struct exq_queue *q)
{
	if (--q->refs == 0)
		exq_queue_free(q);
}

/* ---- create, unlink ----------------------------------------------------- */

static int exq_create(const char *name, const struct ipc_shmbuf_attr *attr)
{
	struct exq_queue *q;
	int rc = exq_name_check(name);

	if (rc != 0)
		return rc;
	/* Bounded only (capacity 0 would mean unbounded: not claimed). */
	if (attr == NULL || attr->capacity == 0 || attr->max_item == 0)
		return -EINVAL;
	if (attr->max_item > SIZE_MAX / attr->capacity)
		return -ENOMEM;
	q = exq_queue_new(name, attr->capacity, attr->max_item);
	if (q == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&exq_registry_lock);
	if (exq_find(name) != NULL) {
		rc = -EEXIST;
	} else {
		q->next = exq_registry;
		exq_registry = q;
	}
	pthread_mutex_unlock(&exq_registry_lock);
	if (rc != 0)
		exq_queue_free(q);
	return rc;
}

static int exq_unlink(const char *name)
{
	struct exq_queue **p, *q;
	int rc = exq_name_check(name);

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&exq_registry_lock);
	p = exq_find(name);
	if (p == NULL) {
		rc = -ENOENT;
	} else {
		q = *p;
		*p = q->next; /* attached handles keep the queue alive */
		exq_unref(q);
	}
	pthread_mutex_unlock(&exq_registry_lock);
	return rc;
}

/* ---- attach, detach ----------------------------------------------------- */

static void exq_track(struct exq_queue *q, int role, int delta)
{
	bool producer = role == IPC_SHMBUF_PRODUCER;
	unsigned *count = producer ? &q->producers : &q->consumers;

	pthread_mutex_lock(&q->lock);
	*count += delta;
	if (delta > 0)
		*(producer ? &q->producers_ever : &q->consumers_ever) = true;
	else if (*count == 0) /* the last one left: wake every waiter of the other side */
		pthread_cond_broadcast(producer ? &q->not_empty : &q->not_full);
	pthread_mutex_unlock(&q->lock);
}

static int exq_attach(const char *name, int role, struct ipc_shmbuf **out)
{
	struct exq_queue **p;
	struct ipc_shmbuf *h;
	int rc;

	if (out == NULL || (role != IPC_SHMBUF_PRODUCER && role != IPC_SHMBUF_CONSUMER))
		return -EINVAL;
	rc = exq_name_check(name);
	if (rc != 0)
		return rc;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&exq_registry_lock);
	p = exq_find(name);
	if (p != NULL) {
		h->q = *p;
		h->q->refs++;
		exq_track(h->q, role, +1);
	}
	pthread_mutex_unlock(&exq_registry_lock);
	if (p == NULL) {
		free(h);
		return -ENOENT;
	}
	h->role = role;
	*out = h;
	return 0;
}

static int exq_detach(struct ipc_shmbuf *h)
{
	if (h == NULL)
		return -EINVAL;
	exq_track(h->q, h->role, -1);
	pthread_mutex_lock(&exq_registry_lock);
	exq_unref(h->q);
	pthread_mutex_unlock(&exq_registry_lock);
	free(h);
	return 0;
}

/* ---- waiting ------------------------------------------------------------ */

/* The absolute CLOCK_MONOTONIC deadline of a relative timeout (> 0). */
static struct timespec exq_deadline(int64_t timeout_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ns / 1000000000;
	ts.tv_nsec += timeout_ns % 1000000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* One wait on cv, lock held: 0 to look again, else -EAGAIN / -ETIMEDOUT.
 * The caller re-checks its condition after every return (spurious wakeups),
 * so the deadline is computed once, before the first wait. */
static int exq_wait(struct exq_queue *q, pthread_cond_t *cv, int64_t timeout_ns,
		    const struct timespec *deadline)
{
	if (timeout_ns == 0)
		return -EAGAIN;
	if (timeout_ns < 0)
		return pthread_cond_wait(cv, &q->lock) == 0 ? 0 : -EINVAL;
	return pthread_cond_timedwait(cv, &q->lock, deadline) == ETIMEDOUT ? -ETIMEDOUT : 0;
}

/* ---- put, get ----------------------------------------------------------- */

static int exq_args(const struct ipc_shmbuf *h, const void *p, size_t n,
		    int64_t timeout_ns, int role)
{
	if (h == NULL || (p == NULL && n > 0) || timeout_ns < IPC_TIMEOUT_INFINITE)
		return -EINVAL;
	return h->role != role ? -EBADF : 0;
}

/* Lock held. 0 when the put can go ahead, -EPIPE when it never can, else
 * the result of waiting (-EAGAIN, -ETIMEDOUT) once the deadline is spent. */
static int exq_wait_room(struct exq_queue *q, int64_t timeout_ns)
{
	struct timespec deadline;
	int rc = 0;

	if (timeout_ns > 0)
		deadline = exq_deadline(timeout_ns);
	for (;;) {
		if (q->consumers_ever && q->consumers == 0)
			return -EPIPE;
		if (q->count < q->capacity)
			return 0; /* checked before any wait: ready means done */
		if (rc != 0)
			return rc;
		rc = exq_wait(q, &q->not_full, timeout_ns, &deadline);
	}
}

static int exq_put(struct ipc_shmbuf *h, const void *item, size_t len, int64_t timeout_ns)
{
	struct exq_queue *q;
	size_t slot;
	int rc = exq_args(h, item, len, timeout_ns, IPC_SHMBUF_PRODUCER);

	if (rc != 0)
		return rc;
	q = h->q;
	if (len > q->max_item)
		return -EMSGSIZE;
	pthread_mutex_lock(&q->lock);
	rc = exq_wait_room(q, timeout_ns);
	if (rc == 0) {
		slot = (q->head + q->count) % q->capacity;
		if (len > 0)
			memcpy(q->data + slot * q->max_item, item, len);
		q->lens[slot] = len;
		q->count++;
		pthread_cond_signal(&q->not_empty);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* Lock held. 0 when an item is queued, IPC_EOD when none ever will be, else
 * -EAGAIN / -ETIMEDOUT. Items still queued are delivered before IPC_EOD. */
static int exq_wait_item(struct exq_queue *q, int64_t timeout_ns)
{
	struct timespec deadline;
	int rc = 0;

	if (timeout_ns > 0)
		deadline = exq_deadline(timeout_ns);
	for (;;) {
		if (q->count > 0)
			return 0;
		if (q->producers_ever && q->producers == 0)
			return IPC_EOD;
		if (rc != 0)
			return rc;
		rc = exq_wait(q, &q->not_empty, timeout_ns, &deadline);
	}
}

/* Lock held, an item queued: copy it out unless buf is too small, in which
 * case it stays queued for a caller with a larger buffer. */
static ssize_t exq_take(struct exq_queue *q, void *buf, size_t cap)
{
	size_t len = q->lens[q->head];

	if (len > cap)
		return -EMSGSIZE;
	if (len > 0)
		memcpy(buf, q->data + q->head * q->max_item, len);
	q->head = (q->head + 1) % q->capacity;
	q->count--;
	pthread_cond_signal(&q->not_full);
	return (ssize_t)len;
}

static ssize_t exq_get(struct ipc_shmbuf *h, void *buf, size_t cap, int64_t timeout_ns)
{
	struct exq_queue *q;
	ssize_t rc = exq_args(h, buf, cap, timeout_ns, IPC_SHMBUF_CONSUMER);

	if (rc != 0)
		return rc;
	q = h->q;
	pthread_mutex_lock(&q->lock);
	rc = exq_wait_item(q, timeout_ns);
	if (rc == 0)
		rc = exq_take(q, buf, cap);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* ---- the subject and the entry point ----------------------------------- */

static const struct ipc_shmbuf_ops exq_ops = {
	.create = exq_create,
	.attach = exq_attach,
	.detach = exq_detach,
	.unlink = exq_unlink,
	.put = exq_put,
	.get = exq_get,
	.validate = NULL, /* optional */
	.segment = NULL,  /* only for IPC_SHMBUF_CAP_UNTRUSTED */
};

static const struct ipc_subject exq_subjects[] = {
	{
		.abi_version = IPC_SUBJECT_ABI_VERSION,
		.struct_size = sizeof(struct ipc_subject),
		.name = "example-queue",
		.mechanism = IPC_MECH_SHMBUF,
		.caps = IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_NONBLOCK |
			IPC_SHMBUF_CAP_TIMED | IPC_SHMBUF_CAP_BOUNDED |
			IPC_SHMBUF_CAP_MPMC | IPC_SHMBUF_CAP_END_OF_STREAM,
		.ops = &exq_ops,
		.summary = "example adapter: in-process bounded queue (mutex + two condvars)",
	},
};

/* The one exported symbol: the harness dlsym()s IPC_SUBJECT_ENTRY. */
EXQ_EXPORT const struct ipc_subject *ipc_subjects_v1(size_t *count)
{
	if (count != NULL)
		*count = sizeof(exq_subjects) / sizeof(exq_subjects[0]);
	return exq_subjects;
}
