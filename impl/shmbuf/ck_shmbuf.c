/* SPDX-License-Identifier: MIT */
/*
 * Subject "ck-ring": an adapter over Concurrency Kit's ck_ring (libck-dev),
 * a lock-free ring of pointer-sized values. In-process and non-blocking only:
 * ck_ring has no way to sleep, and its memory is the process's own heap.
 *
 * How variable-size items ride on a ring of pointers, with no malloc per
 * item: a pool of `capacity` fixed slots of max_item bytes, and two MPMC
 * rings of pointer-sized values:
 *
 *   free ring: indices of free slots (starts with all `capacity` of them);
 *   full ring: one value per queued item, encoding (length << 32 | index).
 *
 * put takes a free index (none: -EAGAIN), copies the item into that slot and
 * enqueues its value on the full ring; get dequeues the oldest value, copies
 * the slot out and gives the index back to the free ring. Exactly `capacity`
 * indices exist, so the capacity is exact by construction, under any number
 * of producers and consumers. A ck_ring of s slots holds s - 1 values and s
 * must be a power of two: each ring gets next_pow2(capacity + 1) slots, so
 * neither can ever refuse an index that exists (a refusal is -EUCLEAN).
 *
 * Keeping the length in the value lets get peek at it before taking the item,
 * so an item larger than the caller's buffer stays queued (-EMSGSIZE). ck_ring
 * has no peek, so ipc__ck_take() is ck's own _ck_ring_dequeue_mc() with that
 * test added before its CAS, written with ck's primitives over ck's fields.
 *
 * Names live in a process-local registry (name -> buffer, under a mutex); a
 * buffer lives while it is linked or attached. Detach tracking is per buffer:
 * counts of attached producers / consumers and "ever attached" flags give
 * IPC_EOD and -EPIPE as spec/shmbuf.h defines them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strnlen */
#endif
#include <ck_pr.h>
#include <ck_ring.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ipc_errors.h"
#include "ipc_subject.h"
#include "shmbuf.h"
#include "core/core.h"

_Static_assert(sizeof(uintptr_t) >= 8, "a ring value encodes a 32-bit length and index");

/* ck_ring counts in unsigned int: both rings need next_pow2(n + 1) <= 2^31. */
#define IPC__CK_MAX_CAPACITY ((size_t)1 << 30)
#define IPC__CK_MAX_ITEM ((size_t)UINT32_MAX)

struct ipc__ck_buf {
	struct ck_ring full; /* queued items: (len << 32 | slot), oldest first */
	struct ck_ring free; /* free slot indices */
	ck_ring_buffer_t *full_buf;
	ck_ring_buffer_t *free_buf;
	unsigned char *pool; /* capacity * max_item bytes */
	size_t capacity;
	size_t max_item;
	/* Detach tracking: a count goes up before its flag is set, and readers
	 * load the flag first, so "ever attached and none left" is never seen
	 * while the first attachment is half done. */
	atomic_uint producers;
	atomic_uint consumers;
	atomic_bool producers_ever;
	atomic_bool consumers_ever;
	/* Registry fields, under ipc__ck_registry_lock. */
	struct ipc__ck_buf *next;
	unsigned refs; /* handles, + 1 while the name is linked */
	char name[IPC_NAME_MAX + 1];
};

struct ipc_shmbuf {
	struct ipc__ck_buf *buf;
	int role;
};

static pthread_mutex_t ipc__ck_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipc__ck_buf *ipc__ck_registry;

/* ---- values, sizes, names ---------------------------------------------- */

static void *ipc__ck_value(size_t len, size_t slot)
{
	return (void *)(((uintptr_t)len << 32) | (uintptr_t)slot);
}

static size_t ipc__ck_value_len(uintptr_t v)
{
	return (size_t)(v >> 32);
}

static size_t ipc__ck_value_slot(uintptr_t v)
{
	return (size_t)(v & UINT32_MAX);
}

static unsigned int ipc__ck_ring_size(size_t capacity)
{
	unsigned int s = 2;

	while (s < capacity + 1)
		s <<= 1;
	return s;
}

/* ---- buffers ------------------------------------------------------------ */

static void ipc__ck_buf_free(struct ipc__ck_buf *b)
{
	if (b == NULL)
		return;
	free(b->full_buf);
	free(b->free_buf);
	free(b->pool);
	free(b);
}

static struct ipc__ck_buf *ipc__ck_buf_new(const char *name, size_t capacity, size_t max_item)
{
	unsigned int size = ipc__ck_ring_size(capacity);
	struct ipc__ck_buf *b = calloc(1, sizeof(*b));
	size_t i;

	if (b == NULL)
		return NULL;
	b->full_buf = calloc(size, sizeof(*b->full_buf));
	b->free_buf = calloc(size, sizeof(*b->free_buf));
	b->pool = malloc(capacity * max_item); /* no overflow: both are capped */
	if (b->full_buf == NULL || b->free_buf == NULL || b->pool == NULL) {
		ipc__ck_buf_free(b);
		return NULL;
	}
	ck_ring_init(&b->full, size);
	ck_ring_init(&b->free, size);
	for (i = 0; i < capacity; i++)
		ck_ring_enqueue_mpmc(&b->free, b->free_buf, (void *)(uintptr_t)i);
	b->capacity = capacity;
	b->max_item = max_item;
	b->refs = 1;
	strcpy(b->name, name);
	return b;
}

/* ---- registry (callers hold ipc__ck_registry_lock) ---------------------- */

static struct ipc__ck_buf **ipc__ck_find(const char *name)
{
	struct ipc__ck_buf **p;

	for (p = &ipc__ck_registry; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->name, name) == 0)
			return p;
	return NULL;
}

/* Drop one reference; the last one frees the buffer. */
static void ipc__ck_put_ref(struct ipc__ck_buf *b)
{
	if (--b->refs == 0)
		ipc__ck_buf_free(b);
}

/* ---- create, unlink ----------------------------------------------------- */

static int ipc__ck_attr_check(const struct ipc_shmbuf_attr *attr)
{
	if (attr == NULL || attr->capacity == 0 || attr->max_item == 0)
		return -EINVAL; /* bounded only */
	if (attr->capacity > IPC__CK_MAX_CAPACITY || attr->max_item > IPC__CK_MAX_ITEM ||
	    attr->max_item > SIZE_MAX / attr->capacity)
		return -ENOMEM;
	return 0;
}

static int ipc__ck_create(const char *name, const struct ipc_shmbuf_attr *attr)
{
	struct ipc__ck_buf *b;
	int rc = ipc__shm_check_name(name);

	if (rc == 0)
		rc = ipc__ck_attr_check(attr);
	if (rc != 0)
		return rc;
	b = ipc__ck_buf_new(name, attr->capacity, attr->max_item);
	if (b == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&ipc__ck_registry_lock);
	if (ipc__ck_find(name) != NULL) {
		rc = -EEXIST;
	} else {
		b->next = ipc__ck_registry;
		ipc__ck_registry = b;
	}
	pthread_mutex_unlock(&ipc__ck_registry_lock);
	if (rc != 0)
		ipc__ck_buf_free(b);
	return rc;
}

static int ipc__ck_unlink(const char *name)
{
	struct ipc__ck_buf **p, *b;
	int rc = ipc__shm_check_name(name);

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&ipc__ck_registry_lock);
	p = ipc__ck_find(name);
	if (p == NULL) {
		rc = -ENOENT;
	} else {
		b = *p;
		*p = b->next; /* attached handles keep their reference */
		ipc__ck_put_ref(b);
	}
	pthread_mutex_unlock(&ipc__ck_registry_lock);
	return rc;
}

/* ---- attach, detach ----------------------------------------------------- */

static void ipc__ck_track_attach(struct ipc__ck_buf *b, int role)
{
	if (role == IPC_SHMBUF_PRODUCER) {
		atomic_fetch_add(&b->producers, 1);
		atomic_store(&b->producers_ever, true);
	} else {
		atomic_fetch_add(&b->consumers, 1);
		atomic_store(&b->consumers_ever, true);
	}
}

static int ipc__ck_attach(const char *name, int role, struct ipc_shmbuf **out)
{
	struct ipc__ck_buf **p;
	struct ipc_shmbuf *h;
	int rc;

	if (out == NULL || (role != IPC_SHMBUF_PRODUCER && role != IPC_SHMBUF_CONSUMER))
		return -EINVAL;
	rc = ipc__shm_check_name(name);
	if (rc != 0)
		return rc;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&ipc__ck_registry_lock);
	p = ipc__ck_find(name);
	if (p != NULL) {
		h->buf = *p;
		h->buf->refs++;
		ipc__ck_track_attach(h->buf, role);
	}
	pthread_mutex_unlock(&ipc__ck_registry_lock);
	if (p == NULL) {
		free(h);
		return -ENOENT;
	}
	h->role = role;
	*out = h;
	return 0;
}

static int ipc__ck_detach(struct ipc_shmbuf *h)
{
	struct ipc__ck_buf *b;

	if (h == NULL)
		return -EINVAL;
	b = h->buf;
	atomic_fetch_sub(h->role == IPC_SHMBUF_PRODUCER ? &b->producers : &b->consumers, 1);
	pthread_mutex_lock(&ipc__ck_registry_lock);
	ipc__ck_put_ref(b);
	pthread_mutex_unlock(&ipc__ck_registry_lock);
	free(h);
	return 0;
}

/* ---- put, get ----------------------------------------------------------- */

/* Every consumer (producer) that ever attached has detached. */
static bool ipc__ck_ended(atomic_bool *ever, atomic_uint *count)
{
	return atomic_load(ever) && atomic_load(count) == 0;
}

/* Common argument checks. A timeout other than 0 is accepted only for an
 * operation that completes at once (the spec's rule); see ipc__ck_no_wait. */
static int ipc__ck_args(const struct ipc_shmbuf *h, const void *p, size_t n,
			int64_t timeout_ns, int role)
{
	if (h == NULL || (p == NULL && n > 0) || timeout_ns < IPC_TIMEOUT_INFINITE)
		return -EINVAL;
	return h->role != role ? -EBADF : 0;
}

/* ck_ring cannot sleep: an operation that would have to wait is refused,
 * -EAGAIN for timeout 0 as the spec says, -EINVAL for a wait we cannot honour
 * (this subject lacks BLOCKING and TIMED). */
static int ipc__ck_no_wait(int64_t timeout_ns)
{
	return timeout_ns == 0 ? -EAGAIN : -EINVAL;
}

static int ipc__ck_put(struct ipc_shmbuf *h, const void *item, size_t len, int64_t timeout_ns)
{
	struct ipc__ck_buf *b;
	void *slot;
	int rc = ipc__ck_args(h, item, len, timeout_ns, IPC_SHMBUF_PRODUCER);

	if (rc != 0)
		return rc;
	b = h->buf;
	if (len > b->max_item)
		return -EMSGSIZE;
	if (ipc__ck_ended(&b->consumers_ever, &b->consumers))
		return -EPIPE;
	if (!ck_ring_dequeue_mpmc(&b->free, b->free_buf, &slot))
		return ipc__ck_no_wait(timeout_ns); /* all capacity slots are taken */
	if (len > 0)
		memcpy(b->pool + (uintptr_t)slot * b->max_item, item, len);
	/* The enqueue's store fence publishes the copy before the value. */
	if (!ck_ring_enqueue_mpmc(&b->full, b->full_buf, ipc__ck_value(len, (uintptr_t)slot)))
		return -EUCLEAN; /* cannot happen: the ring has room for every index */
	return 0;
}

/* Take the oldest value if its item fits in cap bytes: 0, -EAGAIN (empty) or
 * -EMSGSIZE (it does not fit, and stays queued). The loop is ck 0.7's
 * _ck_ring_dequeue_mc with the length test before the CAS. The value read at
 * c_head is trusted only once c_head is seen unchanged after it (by the CAS,
 * or by the re-read): the full ring never holds more values than it has
 * slots, so a slot is reused only after c_head has moved past it. */
static int ipc__ck_take(struct ipc__ck_buf *b, size_t cap, uintptr_t *out)
{
	struct ck_ring *r = &b->full;
	unsigned int c = ck_pr_load_uint(&r->c_head);
	uintptr_t v;

	for (;;) {
		ck_pr_fence_load();
		if (c == ck_pr_load_uint(&r->p_tail))
			return -EAGAIN;
		ck_pr_fence_load();
		v = (uintptr_t)ck_pr_load_ptr(&b->full_buf[c & r->mask].value);
		if (ipc__ck_value_len(v) > cap) {
			unsigned int seen = c;

			ck_pr_fence_load();
			c = ck_pr_load_uint(&r->c_head);
			if (c == seen)
				return -EMSGSIZE;
			continue;
		}
		ck_pr_fence_store_atomic();
		if (ck_pr_cas_uint_value(&r->c_head, c, c + 1, &c))
			break;
	}
	*out = v;
	return 0;
}

/* Empty: end of data if every producer is gone. Their puts returned before
 * their detach, so one more look after seeing none left is conclusive. */
static int ipc__ck_take_or_eod(struct ipc__ck_buf *b, size_t cap, uintptr_t *v)
{
	int rc = ipc__ck_take(b, cap, v);

	if (rc != -EAGAIN || !ipc__ck_ended(&b->producers_ever, &b->producers))
		return rc;
	rc = ipc__ck_take(b, cap, v);
	return rc == -EAGAIN ? IPC_EOD : rc;
}

static ssize_t ipc__ck_get(struct ipc_shmbuf *h, void *buf, size_t cap, int64_t timeout_ns)
{
	struct ipc__ck_buf *b;
	uintptr_t v;
	size_t len, slot;
	int rc = ipc__ck_args(h, buf, cap, timeout_ns, IPC_SHMBUF_CONSUMER);

	if (rc != 0)
		return rc;
	b = h->buf;
	rc = ipc__ck_take_or_eod(b, cap, &v);
	if (rc != 0)
		return rc == -EAGAIN ? ipc__ck_no_wait(timeout_ns) : rc;
	len = ipc__ck_value_len(v);
	slot = ipc__ck_value_slot(v);
	if (slot >= b->capacity || len > b->max_item)
		return -EUCLEAN;
	if (len > 0)
		memcpy(buf, b->pool + slot * b->max_item, len);
	/* Only now may a producer reuse the slot. */
	if (!ck_ring_enqueue_mpmc(&b->free, b->free_buf, (void *)slot))
		return -EUCLEAN; /* cannot happen: the ring has room for every index */
	return (ssize_t)len;
}

/* ---- the subject -------------------------------------------------------- */

static const struct ipc_shmbuf_ops ipc__ck_ops = {
	.create = ipc__ck_create,
	.attach = ipc__ck_attach,
	.detach = ipc__ck_detach,
	.unlink = ipc__ck_unlink,
	.put = ipc__ck_put,
	.get = ipc__ck_get,
	.validate = NULL, /* ck_ring_valid() is only safe with no concurrent use */
	.segment = NULL,
};

const struct ipc_subject ipc__subject_ck_ring = {
	.abi_version = IPC_SUBJECT_ABI_VERSION,
	.struct_size = sizeof(struct ipc_subject),
	.name = "ck-ring",
	.mechanism = IPC_MECH_SHMBUF,
	.caps = IPC_SHMBUF_CAP_NONBLOCK | IPC_SHMBUF_CAP_BOUNDED | IPC_SHMBUF_CAP_MPMC |
		IPC_SHMBUF_CAP_END_OF_STREAM,
	.ops = &ipc__ck_ops,
	.summary = "Concurrency Kit ck_ring (MPMC) over a slot pool, in-process, non-blocking",
};
