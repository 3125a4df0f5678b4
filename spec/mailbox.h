/* SPDX-License-Identifier: MIT */
/*
 * Mechanism "mailbox": message passing between processes, in the three axes
 * of the classic model. Clauses: spec/mailbox.md.
 *
 *  - Naming. A mailbox (a "port") has a name; every party that opens the
 *    name may send to it and receive from it: indirect naming, several
 *    senders and receivers (send / recv). The same name is also a post
 *    office for direct naming: every open handle is a party with an id
 *    (self_id) that others address directly: send_to(P) puts a message in
 *    P's own inbox, recv_from(Q) takes only Q's messages from the caller's
 *    inbox and leaves the others queued (symmetric naming), and recv_any
 *    takes any and reports the true sender (asymmetric naming).
 *  - Synchronisation. Every send and receive takes a timeout (spec/README.md):
 *    -1 blocks, 0 never waits (-EAGAIN), > 0 waits at most that long
 *    (-ETIMEDOUT). An operation that can complete at once completes, whatever
 *    the timeout.
 *  - Buffering, fixed at create for the mailbox and every inbox of the post
 *    office: zero capacity (a rendezvous: a send completes only when a
 *    receiver has taken the message; nothing is ever held), bounded n, or
 *    unbounded (a send never waits for room; memory follows what is queued).
 *
 * End of stream: a handle is opened as a sender, a receiver or both. Once
 * every sender of a mailbox has closed (by close or by the exit of its
 * process), receivers drain what is queued and then get IPC_EOD; once every
 * receiver has closed, sends fail with -EPIPE (never a signal). Direct
 * naming: recv_from(Q) gives IPC_EOD once Q has closed and none of Q's
 * messages is left; sending to an id that is not an open party is -ESRCH.
 *
 * Removal: unlink removes the name at once; calls blocked on the mailbox end
 * with -EIDRM, later calls on handles still open fail with -EIDRM, and the
 * name can be created again. Until unlink, the name and its queued messages
 * persist, also when no process has it open (IPC_MAILBOX_CAP_PERSISTENCE).
 *
 * Conventions (spec/ipc_errors.h): 0 or a count on success, a negative errno
 * on failure, with no partial effect: a failed send has queued nothing, a
 * failed receive has taken nothing. IPC_EOD (far below the errnos) is end of
 * data, so an empty message (0) is never mistaken for it.
 */
#ifndef IPCSPEC_MAILBOX_H
#define IPCSPEC_MAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_errors.h"

/* Capability bits. A clause that needs a missing one is UNSUPPORTED. */
enum ipc_mailbox_cap {
	IPC_MAILBOX_CAP_BLOCKING = 1u << 0,      /* timeout -1 waits */
	IPC_MAILBOX_CAP_NONBLOCK = 1u << 1,      /* timeout 0: -EAGAIN at once */
	IPC_MAILBOX_CAP_TIMED = 1u << 2,         /* timeout > 0: -ETIMEDOUT after it */
	IPC_MAILBOX_CAP_ZERO = 1u << 3,          /* capacity 0: rendezvous */
	IPC_MAILBOX_CAP_BOUNDED = 1u << 4,       /* capacity n > 0 */
	IPC_MAILBOX_CAP_UNBOUNDED = 1u << 5,     /* IPC_MAILBOX_UNBOUNDED */
	IPC_MAILBOX_CAP_CROSS_PROCESS = 1u << 6, /* another process opens the name */
	IPC_MAILBOX_CAP_END_OF_STREAM = 1u << 7, /* IPC_EOD and -EPIPE from open counts */
	IPC_MAILBOX_CAP_DIRECT = 1u << 8,        /* self_id, send_to, recv_from, recv_any */
	IPC_MAILBOX_CAP_REMOVE_WAKES = 1u << 9,  /* unlink ends blocked calls with -EIDRM */
	IPC_MAILBOX_CAP_PERSISTENCE = 1u << 10,  /* name and messages outlive every handle */
	IPC_MAILBOX_CAP_PERMISSIONS = 1u << 11,  /* attr.mode is enforced on open */
	IPC_MAILBOX_CAP_PEER_DEATH = 1u << 12,   /* kill -9 of a party counts as its close */
	IPC_MAILBOX_CAP_RESTART = 1u << 13,      /* SA_RESTART restarts a blocked call */
	IPC_MAILBOX_CAP_MEM_LIMIT = 1u << 14,    /* attr.mem_limit bounds an unbounded one */
};

/* attr.capacity for an unbounded mailbox. */
#define IPC_MAILBOX_UNBOUNDED SIZE_MAX

/* Flags of open(). */
#define IPC_MAILBOX_SEND 0x1u /* counts as a sender (end of stream) */
#define IPC_MAILBOX_RECV 0x2u /* counts as a receiver */

struct ipc_mailbox_attr {
	size_t capacity;  /* messages: 0 zero, n bounded, IPC_MAILBOX_UNBOUNDED */
	size_t max_msg;   /* largest message in bytes, >= 1 */
	uint32_t mode;    /* permission bits of the name, e.g. 0600 (under the umask) */
	size_t mem_limit; /* unbounded only: ceiling on queued bytes, 0 = none */
};

typedef uint64_t ipc_mailbox_id; /* a party's id; 0 is never one */

struct ipc_mailbox; /* an open handle (a party); defined by the subject */

struct ipc_mailbox_ops {
	/* Create name exclusively: -EEXIST if it exists, -EINVAL for a bad attr
	 * (max_msg 0, a capacity the subject does not support is -EOPNOTSUPP),
	 * -ENAMETOOLONG, -ENOMEM. Nothing is opened. */
	int (*create)(const char *name, const struct ipc_mailbox_attr *attr);

	/* Open name as a party (flags: SEND, RECV, or both): -ENOENT if missing,
	 * -EACCES if the mode refuses this process, -EINVAL for bad flags. */
	int (*open)(const char *name, uint32_t flags, struct ipc_mailbox **out);

	/* Close the handle and free it (the party leaves: end of stream). */
	int (*close)(struct ipc_mailbox *h);

	/* Remove name (see the header comment): -ENOENT if missing. */
	int (*unlink)(const char *name);

	/* Indirect naming: one message of len bytes (0 allowed) into the
	 * mailbox. 0 on success; -EAGAIN / -ETIMEDOUT; -EPIPE when no receiver
	 * is left; -EMSGSIZE when len > max_msg; -ENOMEM when an unbounded
	 * mailbox's memory is refused; -EBADF on a handle opened without SEND;
	 * -EIDRM after unlink; -EINTR. */
	int (*send)(struct ipc_mailbox *h, const void *msg, size_t len, int64_t timeout_ns);

	/* The oldest message, into buf (cap bytes): its length. IPC_EOD once no
	 * sender is left and nothing is queued; -EAGAIN / -ETIMEDOUT; -EMSGSIZE
	 * when cap is smaller than the message (it stays queued, first); -EBADF
	 * without RECV; -EIDRM; -EINTR. */
	ssize_t (*recv)(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout_ns);

	/* Direct naming (IPC_MAILBOX_CAP_DIRECT; NULL otherwise). */
	int (*self_id)(struct ipc_mailbox *h, ipc_mailbox_id *id);
	/* As send, into the inbox of party `to`: -ESRCH when `to` is not an open
	 * party of this mailbox. */
	int (*send_to)(struct ipc_mailbox *h, ipc_mailbox_id to, const void *msg, size_t len,
		       int64_t timeout_ns);
	/* As recv, from the caller's inbox, only messages sent by `from`, oldest
	 * first; the others stay queued in their order. IPC_EOD once `from` has
	 * closed and none of its messages is left. */
	ssize_t (*recv_from)(struct ipc_mailbox *h, ipc_mailbox_id from, void *buf, size_t cap,
			     int64_t timeout_ns);
	/* As recv, from the caller's inbox, any sender: *from is the sender's
	 * id. IPC_EOD when the inbox is empty and no other party is open. */
	ssize_t (*recv_any)(struct ipc_mailbox *h, ipc_mailbox_id *from, void *buf, size_t cap,
			    int64_t timeout_ns);

	/* Optional (may be NULL): check the invariants of the shared state:
	 * 0, or -EUCLEAN when they do not hold. */
	int (*validate)(struct ipc_mailbox *h);
};

#endif
