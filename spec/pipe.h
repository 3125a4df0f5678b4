/* SPDX-License-Identifier: MIT */
/*
 * Mechanism "pipe": an ordinary pipe, a one-way byte stream between a read end
 * and a write end, shared by a parent and the children it forks. Clauses:
 * spec/pipe.md. The kernel's pipe(2) is the model; a subject need not be made
 * of file descriptors, but every end handle behaves like one:
 *
 *  - A handle is one open end. With IPC_PIPE_CAP_CROSS_PROCESS, fork()
 *    duplicates every handle the process holds (the child's copy counts as
 *    another open end of the same kind, exactly like an inherited
 *    descriptor) and a process that exits closes every handle it held. With
 *    IPC_PIPE_CAP_PEER_DEATH, a process killed by a signal (kill -9) does too.
 *  - dup() makes another handle on the same end (IPC_PIPE_CAP_DUP); close()
 *    ends one handle. End of file comes when every write handle, in every
 *    process, is closed; -EPIPE when every read handle is.
 *  - Blocking mode belongs to a handle and to the handles copied from it: the
 *    kernel keeps O_NONBLOCK in the open file description, which dup() and
 *    fork() share, and a subject may either share it the same way or keep it
 *    per handle. Clauses rely only on the two ends being independent.
 *  - Several threads may use one handle at once, as they may one descriptor.
 *    Closing a handle while another thread is blocked in a call on it is
 *    undefined (as for descriptors: the kernel's answer is racy too).
 *  - A process that exits without closing closes its handles: a kernel at
 *    that instant (IPC_PIPE_CAP_EXIT_CLOSE), a user-space subject within a
 *    bounded time, by checking its peers' liveness (PIPE-FORK-4).
 *  - A signal handler interrupting a blocked read, write or poll ends it with
 *    -EINTR, or with the partial count of a write that moved bytes; whether
 *    SA_RESTART restarts it is the subject's choice (the kernel honours it).
 *
 * Conventions (spec/ipc_errors.h): 0 or a count on success, a negative errno
 * on failure; read returns 0 at end of file (a pipe has no zero-length items,
 * so 0 is unambiguous here, unlike shmbuf's IPC_EOD).
 */
#ifndef IPCSPEC_PIPE_H
#define IPCSPEC_PIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_errors.h"

/* Capability bits. A clause needing a missing bit is UNSUPPORTED. */
enum ipc_pipe_cap {
	IPC_PIPE_CAP_BLOCKING = 1u << 0,      /* handles can block (the default mode) */
	IPC_PIPE_CAP_NONBLOCK = 1u << 1,      /* set_nonblock() and IPC_PIPE_NONBLOCK */
	IPC_PIPE_CAP_CROSS_PROCESS = 1u << 2, /* handles survive fork() as inherited ends */
	IPC_PIPE_CAP_CAPACITY = 1u << 3,      /* get_capacity() / set_capacity() */
	IPC_PIPE_CAP_POLL = 1u << 4,          /* poll() readiness */
	IPC_PIPE_CAP_FD = 1u << 5,            /* each end is a kernel descriptor: fd() */
	IPC_PIPE_CAP_SIGPIPE = 1u << 6,       /* a write with no reader raises SIGPIPE */
	IPC_PIPE_CAP_PEER_DEATH = 1u << 7,    /* kill -9 of a holder closes its ends */
	IPC_PIPE_CAP_DUP = 1u << 8,           /* dup(): several handles on one end */
	IPC_PIPE_CAP_MULTI_WRITER = 1u << 9,  /* concurrent writers (PIPE_BUF atomicity) */
	/* A process's exit closes its handles at that instant, so the very next
	 * write after the last reader's exit fails. Only a kernel has this: it
	 * closes descriptors as part of exit. A user-space subject learns of an
	 * exit without close by a liveness check, within a bounded delay
	 * (PIPE-FORK-4), without a system call on every write. */
	IPC_PIPE_CAP_EXIT_CLOSE = 1u << 10,
};

/* Atomicity limit: a write of at most this many bytes is never interleaved
 * with another writer's data (POSIX requires >= 512; Linux has 4096). */
#define IPC_PIPE_BUF 4096

/* Readiness bits for poll(): the values of <poll.h>. */
#define IPC_PIPE_IN 0x001  /* POLLIN: a read would not block */
#define IPC_PIPE_OUT 0x004 /* POLLOUT: a write of PIPE_BUF bytes would not block */
#define IPC_PIPE_ERR 0x008 /* POLLERR: write end, every reader is gone */
#define IPC_PIPE_HUP 0x010 /* POLLHUP: read end, every writer is gone */

/* Flags of create(). */
#define IPC_PIPE_NONBLOCK 0x1 /* both ends start non-blocking (pipe2 O_NONBLOCK) */

struct ipc_pipe_attr {
	uint32_t flags;  /* IPC_PIPE_NONBLOCK */
	size_t capacity; /* bytes; 0 = the subject's default (set_capacity rules) */
};

struct ipc_pipe; /* one open end, defined by the subject */

struct ipc_pipe_ops {
	/* Make a pipe: *rd is its read end, *wr its write end. name is a fresh
	 * name from the harness (unique per test, see spec/ipc_subject.h) that a
	 * subject may use for a backing object; the harness calls unlink(name)
	 * after the test when unlink is not NULL. -EINVAL for unknown flags,
	 * -EMFILE / -ENFILE / -ENOMEM when out of resources. */
	int (*create)(const char *name, const struct ipc_pipe_attr *attr,
		      struct ipc_pipe **rd, struct ipc_pipe **wr);

	/* Close one handle and free it. */
	int (*close)(struct ipc_pipe *end);

	/* Read up to len bytes: the count (possibly fewer than len: whatever is
	 * there), 0 at end of file, -EAGAIN (non-blocking, empty, a writer
	 * open), -EINTR (interrupted before any byte), -EBADF on a write end. */
	ssize_t (*read)(struct ipc_pipe *end, void *buf, size_t len);

	/* Write len bytes: the count written. len 0 returns 0 at once, even
	 * with no reader and without SIGPIPE (as Linux does). Blocking: all of them (unless a
	 * signal interrupts after some). Non-blocking: len <= IPC_PIPE_BUF is all
	 * or -EAGAIN; above, whatever fits or -EAGAIN. -EPIPE when no read end
	 * is open (after SIGPIPE, with IPC_PIPE_CAP_SIGPIPE); -EBADF on a read
	 * end. */
	ssize_t (*write)(struct ipc_pipe *end, const void *buf, size_t len);

	/* Switch this handle between blocking (on = 0) and non-blocking. */
	int (*set_nonblock)(struct ipc_pipe *end, int on);

	/* IPC_PIPE_CAP_CAPACITY: the capacity in bytes; set_capacity rounds up
	 * (to a power-of-two number of pages on Linux, 0 to one page) and
	 * returns the result (never 0: F_SETPIPE_SZ returns the new size),
	 * -EINVAL for sizes beyond any limit, -EBUSY when the data queued would
	 * not fit (counted in the subject's own granularity: Linux counts the
	 * pages in use, so a shrink may be refused while fewer bytes are
	 * queued), -EPERM above the subject's limit (the kernel's
	 * /proc/sys/fs/pipe-max-size, unless the caller has CAP_SYS_RESOURCE;
	 * ref-pipe's fixed reservation, whatever the caller). */
	int (*get_capacity)(struct ipc_pipe *end);
	int (*set_capacity)(struct ipc_pipe *end, size_t bytes);

	/* IPC_PIPE_CAP_POLL: the readiness bits (IPC_PIPE_*) of this end among
	 * events (IPC_PIPE_ERR and IPC_PIPE_HUP are reported even if not asked
	 * for), waiting up to timeout_ns (-1 infinite, 0 none) for one. 0 when
	 * none became ready in time. */
	int (*poll)(struct ipc_pipe *end, int events, int64_t timeout_ns);

	/* IPC_PIPE_CAP_FD: the kernel descriptor behind the handle (still owned
	 * by the handle), for lseek / fstat clauses. */
	int (*fd)(struct ipc_pipe *end);

	/* IPC_PIPE_CAP_DUP: another handle on the same end. */
	int (*dup)(struct ipc_pipe *end, struct ipc_pipe **out);

	/* Optional (may be NULL): remove what create() made under name. */
	int (*unlink)(const char *name);

	/* Optional (may be NULL): check the invariants of the shared state.
	 * 0 when they hold, -EUCLEAN when they do not. */
	int (*validate)(struct ipc_pipe *end);
};

#endif
