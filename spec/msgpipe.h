/* SPDX-License-Identifier: MIT */
/*
 * Mechanism "msgpipe": a full-duplex, message-oriented named pipe (the
 * Windows named pipe in message mode, in POSIX terms). Clauses:
 * spec/msgpipe.md.
 *
 *  - A server creates the name (create); every client that connects to the
 *    name gets its own instance, a private two-way channel whose other end
 *    the server takes with accept. Messages sent on one instance are received
 *    only on the other end of that instance, never on another instance.
 *  - A message is the unit: one send is one message, one recv takes exactly
 *    one whole message, and boundaries are kept in each direction. A message
 *    may be empty (0 bytes); an empty message is not end of data.
 *  - Both directions of an instance flow at once and independently; each
 *    keeps the order of its messages.
 *  - The name stays until unlink() removes it, also after the server closed:
 *    a closed server leaves a name that refuses connections
 *    (IPC_MSGPIPE_ENOSERVER) and that a second create cannot take (-EEXIST).
 *  - End of data (IPC_EOD) is reported to one end once the other end of its
 *    instance is closed (by close or by the exit of the process holding it)
 *    and every message it sent has been received.
 *
 * Truncation: a recv whose buffer is smaller than the next message fails
 * with -EMSGSIZE and leaves the message queued, whole; the caller learns its
 * size with next_size() and receives it with a buffer large enough. Chosen
 * over "truncated count plus a flag" because it is the project-wide rule
 * (spec/ipc_errors.h: a negative return has no partial effect): nothing is
 * ever lost silently, nor lost loudly, and a retry needs no special path.
 *
 * Several threads may send and receive on one handle at once (a recv takes
 * one whole message or none); closing a handle while another thread is
 * inside a call on it is undefined, as for descriptors. A caught signal
 * (handler without SA_RESTART) ends a blocked accept, send or recv with
 * -EINTR and no effect.
 *
 * Conventions (spec/ipc_errors.h): 0 or a count on success, a negative errno
 * on failure; IPC_EOD (far below the errnos) is end of data, so a recv of an
 * empty message (0) is never mistaken for it. Timeouts as in spec/README.md.
 */
#ifndef IPCSPEC_MSGPIPE_H
#define IPCSPEC_MSGPIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_errors.h"

/* Capability bits. A clause needing a missing bit is UNSUPPORTED. */
enum ipc_msgpipe_cap {
	IPC_MSGPIPE_CAP_BLOCKING = 1u << 0,      /* handles can block (the default mode) */
	IPC_MSGPIPE_CAP_NONBLOCK = 1u << 1,      /* set_nonblock() and IPC_MSGPIPE_NONBLOCK */
	IPC_MSGPIPE_CAP_CROSS_PROCESS = 1u << 2, /* a client in another process connects by name */
	IPC_MSGPIPE_CAP_MULTI_SENDER = 1u << 3,  /* concurrent senders on one handle */
	IPC_MSGPIPE_CAP_NEXT_SIZE = 1u << 4,     /* next_size() */
	IPC_MSGPIPE_CAP_PEER_DEATH = 1u << 5,    /* kill -9 of a holder closes its handles */
};

/* connect() to a name that exists but that no server listens on (its server
 * closed; the name stays until unlink). The errno of connect(2) on a Unix
 * socket path with no listener; -ENOENT is kept for "no such name". */
#define IPC_MSGPIPE_ENOSERVER (-ECONNREFUSED)

/* Flags of create() and connect(). */
#define IPC_MSGPIPE_NONBLOCK 0x1 /* handles made by connect / accept start non-blocking */

/* Default max_msg, and the largest max_msg every subject accepts. */
#define IPC_MSGPIPE_MSG_DEFAULT 4096
#define IPC_MSGPIPE_MSG_MIN_LIMIT 65536

struct ipc_msgpipe_attr {
	uint32_t flags; /* IPC_MSGPIPE_NONBLOCK */
	/* The largest message a handle made from this attr sends, in bytes; 0 =
	 * IPC_MSGPIPE_MSG_DEFAULT. For create: every instance the server
	 * accepts; for connect: the client's handle. A subject takes at least
	 * IPC_MSGPIPE_MSG_MIN_LIMIT; above its own limit create / connect fail
	 * with -EINVAL. */
	size_t max_msg;
};

struct ipc_msgpipe_server; /* a created name, listening; defined by the subject */
struct ipc_msgpipe;        /* one end of one instance; defined by the subject */

struct ipc_msgpipe_ops {
	/* Create name (a fresh harness name, see spec/ipc_subject.h) and listen
	 * on it. -EEXIST when the name exists (a live server's or one left by a
	 * closed server), -EINVAL for unknown flags or max_msg above the
	 * subject's limit, -ENAMETOOLONG when the name does not fit. */
	int (*create)(const char *name, const struct ipc_msgpipe_attr *attr,
		      struct ipc_msgpipe_server **srv);

	/* Stop listening and free srv. The name stays. Instances already
	 * accepted are not affected; clients connected but not yet accepted
	 * get IPC_EOD (their instance will never be served). */
	int (*server_close)(struct ipc_msgpipe_server *srv);

	/* Take the next connected client's instance: 0 and *out. Waits up to
	 * timeout_ns for one (-1 infinite, 0 never: -EAGAIN; else -ETIMEDOUT);
	 * a client already connected is taken at once. */
	int (*accept)(struct ipc_msgpipe_server *srv, int64_t timeout_ns,
		      struct ipc_msgpipe **out);

	/* Connect to name: 0 and *out, a new instance, at once, even before the
	 * server accepts it (messages sent wait for the server). -ENOENT when
	 * no such name exists, IPC_MSGPIPE_ENOSERVER when it exists and no
	 * server listens, -EINVAL for bad attr. */
	int (*connect)(const char *name, const struct ipc_msgpipe_attr *attr,
		       struct ipc_msgpipe **out);

	/* Close one end and free it; the other end then gets IPC_EOD. */
	int (*close)(struct ipc_msgpipe *h);

	/* Send one message of len bytes (0 is allowed): len. -EMSGSIZE when len
	 * exceeds the handle's max_msg (nothing is sent), -EAGAIN when
	 * non-blocking and the message does not fit now (all or nothing),
	 * -EPIPE when the other end is closed (never a SIGPIPE). Blocking: waits
	 * until the whole message fits. */
	ssize_t (*send)(struct ipc_msgpipe *h, const void *buf, size_t len);

	/* Receive one whole message into buf: its length (0 for an empty one).
	 * -EMSGSIZE when cap is smaller than the message, which stays queued;
	 * -EAGAIN when non-blocking and none is queued; IPC_EOD when none is
	 * queued and the other end is closed (again on every later call).
	 * Blocking: waits for a message or for the end of data. */
	ssize_t (*recv)(struct ipc_msgpipe *h, void *buf, size_t cap);

	/* IPC_MSGPIPE_CAP_NEXT_SIZE: the length of the next message, which stays
	 * queued; never waits: -EAGAIN when none is queued, IPC_EOD as recv. */
	ssize_t (*next_size)(struct ipc_msgpipe *h);

	/* Switch this handle between blocking (on = 0) and non-blocking. */
	int (*set_nonblock)(struct ipc_msgpipe *h, int on);

	/* Remove name. Instances and a live server keep working; new connects
	 * then fail with -ENOENT and create may take the name again. -ENOENT
	 * when there is no such name. */
	int (*unlink)(const char *name);
};

#endif
