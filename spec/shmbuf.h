/* SPDX-License-Identifier: MIT */
/*
 * Mechanism "shmbuf": a producer-consumer buffer in a named region of shared
 * memory. One process creates the segment by name; producers and consumers
 * (possibly in other processes) attach by name. Clauses: spec/shmbuf.md.
 *
 * Conventions (spec/ipc_errors.h): every operation returns 0 or a count on
 * success and a negative errno on failure, with no partial effect.
 *
 * Timeouts are relative durations in nanoseconds, measured on CLOCK_MONOTONIC:
 *   IPC_TIMEOUT_INFINITE (-1)  block until the operation can complete;
 *   0                          never wait: -EAGAIN when it cannot complete now;
 *   > 0                        wait at most that long: -ETIMEDOUT after it.
 * An operation that can complete at once completes, whatever the timeout.
 */
#ifndef IPCSPEC_SHMBUF_H
#define IPCSPEC_SHMBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_errors.h"

#define IPC_TIMEOUT_INFINITE ((int64_t)-1)

/* Capability bits: what a subject supports. A clause that needs a missing
 * capability is reported UNSUPPORTED, never FAIL and never PASS. */
enum ipc_shmbuf_cap {
	IPC_SHMBUF_CAP_BLOCKING = 1u << 0,      /* timeout -1 waits */
	IPC_SHMBUF_CAP_NONBLOCK = 1u << 1,      /* timeout 0 gives -EAGAIN */
	IPC_SHMBUF_CAP_TIMED = 1u << 2,         /* timeout > 0 gives -ETIMEDOUT */
	IPC_SHMBUF_CAP_BOUNDED = 1u << 3,       /* capacity n > 0 */
	IPC_SHMBUF_CAP_UNBOUNDED = 1u << 4,     /* capacity 0: the producer never waits */
	IPC_SHMBUF_CAP_CROSS_PROCESS = 1u << 5, /* attach from another process */
	IPC_SHMBUF_CAP_MPMC = 1u << 6,          /* several producers and consumers at once */
	IPC_SHMBUF_CAP_END_OF_STREAM = 1u << 7, /* IPC_EOD and -EPIPE from detach tracking */
	IPC_SHMBUF_CAP_PEER_DEATH = 1u << 8,    /* survives kill -9 of any participant */
	IPC_SHMBUF_CAP_UNTRUSTED = 1u << 9,     /* validates shared memory; has segment() */
	IPC_SHMBUF_CAP_SYSTEM_NAME = 1u << 10,  /* the name is a POSIX shm name (/dev/shm) */
	IPC_SHMBUF_CAP_MEM_LIMIT = 1u << 11,    /* honours attr.mem_limit (unbounded) */
};

enum ipc_shmbuf_role {
	IPC_SHMBUF_PRODUCER = 1,
	IPC_SHMBUF_CONSUMER = 2,
};

struct ipc_shmbuf_attr {
	size_t capacity;  /* items; 0 = unbounded */
	size_t max_item;  /* largest item in bytes, >= 1 */
	size_t mem_limit; /* unbounded only (ignored when bounded): ceiling on memory for queued items, 0 = none */
};

struct ipc_shmbuf; /* a handle: one attachment, defined by the subject */

struct ipc_shmbuf_ops {
	/* Create the named segment, exclusively: -EEXIST if the name exists (a
	 * symlink included), -EINVAL for a bad attr or name, -ENAMETOOLONG,
	 * -ENOMEM. The creator is not attached: it attaches like anyone else. */
	int (*create)(const char *name, const struct ipc_shmbuf_attr *attr);

	/* Attach to a named segment as producer or consumer: -ENOENT if missing,
	 * -EINVAL for a bad role, -EUCLEAN if the segment fails validation,
	 * -EUSERS when the participant table is full. */
	int (*attach)(const char *name, int role, struct ipc_shmbuf **out);

	/* End this attachment and free the handle. The last producer to detach
	 * ends the stream; the last consumer makes later puts fail with -EPIPE. */
	int (*detach)(struct ipc_shmbuf *h);

	/* Remove the name; attached handles keep working. -ENOENT if missing. */
	int (*unlink)(const char *name);

	/* Append one item of len bytes (0 <= len <= max_item). 0 on success;
	 * -EAGAIN / -ETIMEDOUT when full; -EPIPE once every consumer detached;
	 * -EMSGSIZE when len > max_item; -ENOMEM when an unbounded buffer's memory
	 * is refused; -EBADF on a consumer handle; -EUCLEAN on corruption. */
	int (*put)(struct ipc_shmbuf *h, const void *item, size_t len, int64_t timeout_ns);

	/* Take the oldest item into buf (cap bytes). Its length on success (0 is a
	 * valid length); IPC_EOD once every producer detached and nothing is left;
	 * -EAGAIN / -ETIMEDOUT when empty; -EMSGSIZE when cap is too small (the item
	 * stays queued); -EBADF on a producer handle; -EUCLEAN on corruption. */
	ssize_t (*get)(struct ipc_shmbuf *h, void *buf, size_t cap, int64_t timeout_ns);

	/* Optional (may be NULL): check the invariants of the shared state.
	 * 0 when they hold, -EUCLEAN when they do not. */
	int (*validate)(struct ipc_shmbuf *h);

	/* Optional (IPC_SHMBUF_CAP_UNTRUSTED): the shared mapping behind h, so
	 * that tests can play a corrupt or malicious peer. */
	int (*segment)(struct ipc_shmbuf *h, void **base, size_t *len);
};

#endif
