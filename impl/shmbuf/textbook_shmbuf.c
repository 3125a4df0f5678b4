/* SPDX-License-Identifier: MIT */
/*
 * Subject "textbook-shmbuf": the bounded buffer of an operating-systems
 * textbook, made cross-process. A POSIX shm segment holds two counting
 * semaphores (empty = free slots, full = queued items), a mutex over the ring
 * indices, and a ring of fixed-size slots {len, data[max_item]}:
 *
 *     put: wait(empty); lock; copy in;  unlock; post(full)
 *     get: wait(full);  lock; copy out; unlock; post(empty)
 *
 * It is a baseline, not a reference: it keeps no record of who is attached
 * (no end of stream), a peer killed while holding the mutex or a semaphore
 * token wedges everyone (no peer-death survival), and it trusts its peers
 * (no UNTRUSTED). It does validate the header on attach, and it bounds every
 * index it reads from shared memory, because that costs nothing.
 *
 * Layout: [struct ipc__tb_hdr, padded to a cache line][slot 0]...[slot n-1].
 * The creator writes the magic last, so an attacher that races a creation in
 * progress sees -EUCLEAN rather than half-initialised semaphores.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sem_clockwait (glibc >= 2.30) */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc_errors.h"
#include "ipc_subject.h"
#include "shmbuf.h"
#include "core/core.h"

#define IPC__TB_MAGIC UINT64_C(0x6b6f6f6274786574) /* "textbook" */
#define IPC__TB_VERSION 1u
#define IPC__TB_ALIGN ((size_t)64)

struct ipc__tb_hdr {
	uint64_t magic; /* written last by create, read first by attach */
	uint32_t version;
	uint32_t hdr_size;
	uint64_t capacity;   /* slots, >= 1 */
	uint64_t max_item;   /* bytes per slot payload, >= 1 */
	uint64_t slot_size;  /* bytes per slot, header included */
	uint64_t total_size; /* bytes of the whole segment */
	sem_t empty;         /* free slots */
	sem_t full;          /* queued items */
	pthread_mutex_t lock; /* guards in, out, count and the slots they name */
	uint64_t in;          /* next slot to fill */
	uint64_t out;         /* oldest queued slot */
	uint64_t count;       /* queued items: lets validate() tell full from empty */
};

struct ipc__tb_slot {
	uint64_t len;
	unsigned char data[];
};

/* One attachment. The geometry is copied out of shared memory at attach, so
 * bounds checks never trust a value a peer could have changed since. */
struct ipc_shmbuf {
	int role;
	struct ipc__tb_hdr *hdr;
	size_t map_len;
	uint64_t capacity;
	uint64_t max_item;
	uint64_t slot_size;
	unsigned char *slots;
};

/* ---- names, errors, geometry ------------------------------------------- */

/* Turn a system errno into one of spec/ipc_errors.h, once, at the boundary. */
static int ipc__tb_errno(int e)
{
	switch (e) {
	case EEXIST:
		return -EEXIST;
	case ENOENT:
		return -ENOENT;
	case ENAMETOOLONG:
		return -ENAMETOOLONG;
	case ENOMEM:
	case ENOSPC:
	case EMFILE:
	case ENFILE:
	case EFBIG:
	case EDQUOT:
		return -ENOMEM;
	default:
		return -EINVAL; /* EACCES, ELOOP...: this name is not usable */
	}
}

static size_t ipc__tb_hdr_size(void)
{
	return (sizeof(struct ipc__tb_hdr) + IPC__TB_ALIGN - 1) & ~(IPC__TB_ALIGN - 1);
}

/* Slot and segment sizes for a geometry; -ENOMEM when they overflow or when
 * the capacity exceeds what a semaphore can count. */
static int ipc__tb_geometry(uint64_t capacity, uint64_t max_item,
			    uint64_t *slot_size, uint64_t *total)
{
	uint64_t slot, span;

	if (capacity > SEM_VALUE_MAX || max_item > UINT64_MAX / 2)
		return -ENOMEM;
	slot = (sizeof(struct ipc__tb_slot) + max_item + 7) & ~UINT64_C(7);
	if (__builtin_mul_overflow(slot, capacity, &span) ||
	    __builtin_add_overflow(span, ipc__tb_hdr_size(), total) ||
	    *total > (uint64_t)SIZE_MAX || *total > (uint64_t)INT64_MAX)
		return -ENOMEM;
	*slot_size = slot;
	return 0;
}

static struct ipc__tb_slot *ipc__tb_slot_at(const struct ipc_shmbuf *h, uint64_t i)
{
	return (struct ipc__tb_slot *)(h->slots + i * h->slot_size);
}

/* ---- waiting ------------------------------------------------------------ */

/* now + timeout_ns on CLOCK_MONOTONIC, saturating instead of overflowing. */
static void ipc__tb_deadline(int64_t timeout_ns, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ns / 1000000000;
	ts->tv_nsec += timeout_ns % 1000000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Take one token: 0, -EAGAIN, -ETIMEDOUT, or -EUCLEAN for a broken semaphore.
 * sem_clockwait tries the token before looking at the clock, so a token that
 * is there is taken whatever the timeout. EINTR restarts with the same
 * absolute deadline, so signals never stretch a timed wait. */
static int ipc__tb_sem_take(sem_t *sem, int64_t timeout_ns)
{
	struct timespec deadline;
	int rc;

	if (timeout_ns > 0)
		ipc__tb_deadline(timeout_ns, &deadline);
	do {
		if (timeout_ns == 0)
			rc = sem_trywait(sem);
		else if (timeout_ns < 0)
			rc = sem_wait(sem);
		else
			rc = sem_clockwait(sem, CLOCK_MONOTONIC, &deadline);
	} while (rc != 0 && errno == EINTR);
	if (rc == 0)
		return 0;
	if (errno == EAGAIN)
		return -EAGAIN;
	return errno == ETIMEDOUT ? -ETIMEDOUT : -EUCLEAN;
}

static int ipc__tb_lock(struct ipc_shmbuf *h)
{
	/* A default mutex only fails when its bytes were overwritten. */
	return pthread_mutex_lock(&h->hdr->lock) == 0 ? 0 : -EUCLEAN;
}

static void ipc__tb_unlock(struct ipc_shmbuf *h)
{
	pthread_mutex_unlock(&h->hdr->lock);
}

/* ---- create, unlink ----------------------------------------------------- */

static int ipc__tb_attr_check(const struct ipc_shmbuf_attr *attr)
{
	if (attr == NULL || attr->capacity == 0 || attr->max_item == 0)
		return -EINVAL; /* bounded only: capacity 0 would mean unbounded */
	return 0;
}

/* Process-shared semaphores and mutex, then the magic that publishes them. */
static int ipc__tb_init_hdr(struct ipc__tb_hdr *hdr, const struct ipc_shmbuf_attr *attr,
			    uint64_t slot_size, uint64_t total)
{
	pthread_mutexattr_t ma;
	int rc;

	hdr->version = IPC__TB_VERSION;
	hdr->hdr_size = (uint32_t)ipc__tb_hdr_size();
	hdr->capacity = attr->capacity;
	hdr->max_item = attr->max_item;
	hdr->slot_size = slot_size;
	hdr->total_size = total;
	if (sem_init(&hdr->empty, 1, (unsigned)attr->capacity) != 0 ||
	    sem_init(&hdr->full, 1, 0) != 0)
		return -ENOMEM;
	if (pthread_mutexattr_init(&ma) != 0)
		return -ENOMEM;
	rc = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutex_init(&hdr->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (rc != 0)
		return -ENOMEM;
	__atomic_store_n(&hdr->magic, IPC__TB_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/* Size the new segment and reserve its memory now: a full tmpfs then fails
 * here with -ENOMEM instead of raising SIGBUS in a later put. */
static int ipc__tb_fill_new(int fd, const struct ipc_shmbuf_attr *attr)
{
	uint64_t slot_size, total;
	void *base;
	int rc;

	rc = ipc__tb_geometry(attr->capacity, attr->max_item, &slot_size, &total);
	if (rc != 0)
		return rc;
	if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)total) != 0)
		return ipc__tb_errno(errno);
	rc = posix_fallocate(fd, 0, (off_t)total);
	if (rc != 0)
		return rc == EINVAL || rc == EOPNOTSUPP ? 0 : ipc__tb_errno(rc);
	base = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return ipc__tb_errno(errno);
	rc = ipc__tb_init_hdr(base, attr, slot_size, total);
	munmap(base, (size_t)total);
	return rc;
}

static int ipc__tb_create(const char *name, const struct ipc_shmbuf_attr *attr)
{
	int rc, fd;

	rc = ipc__shm_check_name(name);
	if (rc == 0)
		rc = ipc__tb_attr_check(attr);
	if (rc != 0)
		return rc;
	/* O_EXCL fails on any existing name, a symlink included; glibc adds
	 * O_NOFOLLOW itself, we say it too. 0600: only our user may attach. */
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ipc__tb_errno(errno);
	rc = ipc__tb_fill_new(fd, attr);
	close(fd);
	if (rc != 0)
		shm_unlink(name); /* leave nothing behind on failure */
	return rc;
}

static int ipc__tb_unlink(const char *name)
{
	int rc = ipc__shm_check_name(name);

	if (rc != 0)
		return rc;
	return shm_unlink(name) == 0 ? 0 : ipc__tb_errno(errno);
}

/* ---- attach, detach ----------------------------------------------------- */

/* The header must describe exactly the segment we mapped. */
static int ipc__tb_hdr_check(const struct ipc__tb_hdr *hdr, size_t map_len)
{
	uint64_t slot_size, total;

	if (__atomic_load_n(&hdr->magic, __ATOMIC_ACQUIRE) != IPC__TB_MAGIC ||
	    hdr->version != IPC__TB_VERSION || hdr->hdr_size != ipc__tb_hdr_size() ||
	    hdr->capacity == 0 || hdr->max_item == 0)
		return -EUCLEAN;
	if (ipc__tb_geometry(hdr->capacity, hdr->max_item, &slot_size, &total) != 0 ||
	    hdr->slot_size != slot_size || hdr->total_size != total || total != map_len)
		return -EUCLEAN;
	return 0;
}

/* Map the whole segment: -ENOENT if missing, -EUCLEAN if it cannot be ours. */
static int ipc__tb_map(const char *name, void **base, size_t *len)
{
	struct stat st;
	int fd, rc = 0;

	fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ELOOP ? -EUCLEAN : ipc__tb_errno(errno);
	if (fstat(fd, &st) != 0)
		rc = ipc__tb_errno(errno);
	else if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct ipc__tb_hdr) ||
		 (uint64_t)st.st_size > SIZE_MAX)
		rc = -EUCLEAN;
	if (rc == 0) {
		*len = (size_t)st.st_size;
		*base = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (*base == MAP_FAILED)
			rc = ipc__tb_errno(errno);
	}
	close(fd);
	return rc;
}

static int ipc__tb_attach(const char *name, int role, struct ipc_shmbuf **out)
{
	struct ipc_shmbuf *h;
	void *base = NULL;
	size_t len = 0;
	int rc;

	if (out == NULL || (role != IPC_SHMBUF_PRODUCER && role != IPC_SHMBUF_CONSUMER))
		return -EINVAL;
	rc = ipc__shm_check_name(name);
	if (rc == 0)
		rc = ipc__tb_map(name, &base, &len);
	if (rc != 0)
		return rc;
	rc = ipc__tb_hdr_check(base, len);
	h = rc == 0 ? calloc(1, sizeof(*h)) : NULL;
	if (h == NULL) {
		munmap(base, len);
		return rc != 0 ? rc : -ENOMEM;
	}
	h->role = role;
	h->hdr = base;
	h->map_len = len;
	h->capacity = h->hdr->capacity;
	h->max_item = h->hdr->max_item;
	h->slot_size = h->hdr->slot_size;
	h->slots = (unsigned char *)base + ipc__tb_hdr_size();
	*out = h;
	return 0;
}

/* No detach tracking: this only unmaps. */
static int ipc__tb_detach(struct ipc_shmbuf *h)
{
	if (h == NULL)
		return -EINVAL;
	munmap(h->hdr, h->map_len);
	free(h);
	return 0;
}

/* ---- put, get ----------------------------------------------------------- */

static bool ipc__tb_bad_timeout(int64_t timeout_ns)
{
	return timeout_ns < 0 && timeout_ns != IPC_TIMEOUT_INFINITE;
}

static int ipc__tb_put_args(const struct ipc_shmbuf *h, const void *item, size_t len,
			    int64_t timeout_ns)
{
	if (h == NULL || (item == NULL && len > 0) || ipc__tb_bad_timeout(timeout_ns))
		return -EINVAL;
	if (h->role != IPC_SHMBUF_PRODUCER)
		return -EBADF;
	return len > h->max_item ? -EMSGSIZE : 0;
}

/* Under the lock, holding an empty token: copy the item into slot `in`. */
static int ipc__tb_push(struct ipc_shmbuf *h, const void *item, size_t len)
{
	struct ipc__tb_hdr *hdr = h->hdr;
	struct ipc__tb_slot *slot;

	if (hdr->in >= h->capacity || hdr->count >= h->capacity)
		return -EUCLEAN;
	slot = ipc__tb_slot_at(h, hdr->in);
	slot->len = len;
	if (len > 0)
		memcpy(slot->data, item, len);
	hdr->in = (hdr->in + 1) % h->capacity;
	hdr->count++;
	return 0;
}

static int ipc__tb_put(struct ipc_shmbuf *h, const void *item, size_t len, int64_t timeout_ns)
{
	int rc = ipc__tb_put_args(h, item, len, timeout_ns);

	if (rc == 0)
		rc = ipc__tb_sem_take(&h->hdr->empty, timeout_ns);
	if (rc != 0)
		return rc;
	rc = ipc__tb_lock(h);
	if (rc == 0) {
		rc = ipc__tb_push(h, item, len);
		ipc__tb_unlock(h);
	}
	/* On failure the token goes back: the semaphores keep counting slots. */
	sem_post(rc == 0 ? &h->hdr->full : &h->hdr->empty);
	return rc;
}

static int ipc__tb_get_args(const struct ipc_shmbuf *h, const void *buf, size_t cap,
			    int64_t timeout_ns)
{
	if (h == NULL || (buf == NULL && cap > 0) || ipc__tb_bad_timeout(timeout_ns))
		return -EINVAL;
	return h->role != IPC_SHMBUF_CONSUMER ? -EBADF : 0;
}

/* Under the lock, holding a full token: the oldest item into buf, its length
 * peeked first so an item too large for buf stays queued (-EMSGSIZE). */
static ssize_t ipc__tb_pop(struct ipc_shmbuf *h, void *buf, size_t cap)
{
	struct ipc__tb_hdr *hdr = h->hdr;
	struct ipc__tb_slot *slot;
	uint64_t len;

	if (hdr->out >= h->capacity || hdr->count == 0 || hdr->count > h->capacity)
		return -EUCLEAN;
	slot = ipc__tb_slot_at(h, hdr->out);
	len = slot->len;
	if (len > h->max_item)
		return -EUCLEAN;
	if (len > cap)
		return -EMSGSIZE;
	if (len > 0)
		memcpy(buf, slot->data, len);
	hdr->out = (hdr->out + 1) % h->capacity;
	hdr->count--;
	return (ssize_t)len;
}

static ssize_t ipc__tb_get(struct ipc_shmbuf *h, void *buf, size_t cap, int64_t timeout_ns)
{
	ssize_t rc = ipc__tb_get_args(h, buf, cap, timeout_ns);

	if (rc == 0)
		rc = ipc__tb_sem_take(&h->hdr->full, timeout_ns);
	if (rc != 0)
		return rc;
	rc = ipc__tb_lock(h);
	if (rc == 0) {
		rc = ipc__tb_pop(h, buf, cap);
		ipc__tb_unlock(h);
	}
	/* Item left queued (-EMSGSIZE, -EUCLEAN): its full token goes back. */
	sem_post(rc >= 0 ? &h->hdr->empty : &h->hdr->full);
	return rc;
}

/* ---- validate ----------------------------------------------------------- */

static bool ipc__tb_sem_in_range(sem_t *sem, uint64_t max)
{
	int v;

	return sem_getvalue(sem, &v) == 0 && v >= 0 && (uint64_t)v <= max;
}

/* Under the lock: indices, count and queued lengths agree with the geometry
 * this handle attached with. Tokens in flight make the semaphores lag the
 * count, so each is only checked to lie in [0, capacity]. */
static int ipc__tb_check_locked(struct ipc_shmbuf *h)
{
	struct ipc__tb_hdr *hdr = h->hdr;
	uint64_t i;

	if (ipc__tb_hdr_check(hdr, h->map_len) != 0 || hdr->capacity != h->capacity ||
	    hdr->max_item != h->max_item)
		return -EUCLEAN;
	if (hdr->in >= h->capacity || hdr->out >= h->capacity || hdr->count > h->capacity ||
	    (hdr->out + hdr->count) % h->capacity != hdr->in)
		return -EUCLEAN;
	for (i = 0; i < hdr->count; i++)
		if (ipc__tb_slot_at(h, (hdr->out + i) % h->capacity)->len > h->max_item)
			return -EUCLEAN;
	if (!ipc__tb_sem_in_range(&hdr->empty, h->capacity) ||
	    !ipc__tb_sem_in_range(&hdr->full, h->capacity))
		return -EUCLEAN;
	return 0;
}

static int ipc__tb_validate(struct ipc_shmbuf *h)
{
	int rc;

	if (h == NULL)
		return -EINVAL;
	rc = ipc__tb_lock(h);
	if (rc != 0)
		return rc;
	rc = ipc__tb_check_locked(h);
	ipc__tb_unlock(h);
	return rc;
}

/* ---- the subject -------------------------------------------------------- */

static const struct ipc_shmbuf_ops ipc__tb_ops = {
	.create = ipc__tb_create,
	.attach = ipc__tb_attach,
	.detach = ipc__tb_detach,
	.unlink = ipc__tb_unlink,
	.put = ipc__tb_put,
	.get = ipc__tb_get,
	.validate = ipc__tb_validate,
	.segment = NULL, /* not UNTRUSTED: no corrupt-peer tests */
};

const struct ipc_subject ipc__subject_textbook_shmbuf = {
	.abi_version = IPC_SUBJECT_ABI_VERSION,
	.struct_size = sizeof(struct ipc_subject),
	.name = "textbook-shmbuf",
	.mechanism = IPC_MECH_SHMBUF,
	.caps = IPC_SHMBUF_CAP_BLOCKING | IPC_SHMBUF_CAP_NONBLOCK | IPC_SHMBUF_CAP_TIMED |
		IPC_SHMBUF_CAP_BOUNDED | IPC_SHMBUF_CAP_CROSS_PROCESS | IPC_SHMBUF_CAP_MPMC |
		IPC_SHMBUF_CAP_SYSTEM_NAME,
	.ops = &ipc__tb_ops,
	.summary = "textbook bounded buffer: process-shared semaphores and a mutex over shm slots",
};
