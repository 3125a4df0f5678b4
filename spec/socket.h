/* SPDX-License-Identifier: MIT */
/*
 * Mechanism "socket": connected sockets of one kind (a family and a type),
 * judged on the behaviour a protocol built on them relies on. Clauses:
 * spec/socket.md.
 *
 * The subject is the socket API itself, so the operations are thin: each is
 * one system call (or the few a connect/accept needs) and returns what that
 * call returns, as 0 / a count or a negative errno. In particular recv
 * returns 0 both at the orderly end of a connection and for an empty record
 * (or a zero-length request): that ambiguity is the kernel's, and the clauses
 * state it (SOCKET-REC-4) rather than hide it behind IPC_EOD.
 *
 * Flags are the MSG_* values of <sys/socket.h>: send takes MSG_DONTWAIT and
 * MSG_NOSIGNAL; recv takes MSG_DONTWAIT, MSG_WAITALL, MSG_PEEK, MSG_TRUNC and
 * MSG_CMSG_CLOEXEC, and reports MSG_TRUNC and MSG_CTRUNC in *msg_flags.
 *
 * Names: listen and pair take a fresh harness name (spec/ipc_subject.h); a
 * subject that binds a path makes it ${TMPDIR:-/tmp}<name>, so a killed run's
 * leftovers are found by name. The address stays attached to the name after
 * the listener closes (a Unix socket file stays until unlink; a TCP subject
 * remembers the port), so a later connect is refused, until unlink(name).
 */
#ifndef IPCSPEC_SOCKET_H
#define IPCSPEC_SOCKET_H

#include <poll.h> /* the events of wait() */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ipc_errors.h"

/* Capability bits. A clause needing a missing bit is UNSUPPORTED. */
enum ipc_socket_cap {
	IPC_SOCKET_CAP_STREAM = 1u << 0,     /* a byte stream: no boundaries (SOCK_STREAM) */
	IPC_SOCKET_CAP_RECORDS = 1u << 1,    /* boundaries kept (SOCK_SEQPACKET, SOCK_DGRAM) */
	IPC_SOCKET_CAP_CONNECTED = 1u << 2,  /* connection-oriented: end, EPIPE, shutdown */
	IPC_SOCKET_CAP_DGRAM = 1u << 3,      /* connectionless datagrams (a connected pair) */
	IPC_SOCKET_CAP_LISTEN = 1u << 4,     /* listen / connect / accept by name */
	IPC_SOCKET_CAP_LOCAL_PEER = 1u << 5, /* AF_UNIX: the peer's close/shutdown seen at once */
	IPC_SOCKET_CAP_SCM_RIGHTS = 1u << 6, /* descriptors passed with SCM_RIGHTS */
	IPC_SOCKET_CAP_RESET = 1u << 7,      /* ECONNRESET after a close with unread data */
	IPC_SOCKET_CAP_CROSS_PROCESS = 1u << 8, /* ends usable from a forked process */
	/* A send on a closed connection raises SIGPIPE (POSIX, for stream and
	 * seqpacket). Linux's AF_UNIX SOCK_SEQPACKET only fails with -EPIPE. */
	IPC_SOCKET_CAP_SIGPIPE = 1u << 9,
	/* The ends live in two network namespaces joined by a veth link, which
	 * only a privileged process can make: where it cannot, pair() fails
	 * with -EPERM (not privileged) or -EOPNOTSUPP (no network namespaces or
	 * no veth), and the harness reports every clause UNSUPPORTED
	 * (environment) instead of BROKEN. No clause needs this bit. */
	IPC_SOCKET_CAP_NETNS = 1u << 10,
};

struct ipc_socket; /* one socket (connected end or listener); defined by the subject */

struct ipc_socket_ops {
	/* Two connected ends of one connection, blocking. name is a fresh
	 * harness name the subject may bind (unlink removes it). */
	int (*pair)(const char *name, struct ipc_socket **a, struct ipc_socket **b);

	/* IPC_SOCKET_CAP_LISTEN: listen on name (non-blocking accept when
	 * nonblock). -EEXIST when the name is taken. */
	int (*listen)(const char *name, int nonblock, struct ipc_socket **lst);

	/* Connect a new socket to name: 0 when connected, or (nonblock only)
	 * -EINPROGRESS with *out made, the result then read by connect_result
	 * once wait() reports POLLOUT. -ECONNREFUSED when nobody listens. */
	int (*connect)(const char *name, int nonblock, struct ipc_socket **out);
	/* The pending error of a non-blocking connect (SO_ERROR): 0 or -errno. */
	int (*connect_result)(struct ipc_socket *s);

	/* The next connection: 0 and *out (blocking). A non-blocking listener
	 * with none pending fails with -EAGAIN. */
	int (*accept)(struct ipc_socket *lst, struct ipc_socket **out);

	/* send(2) / recv(2): a count or -errno. */
	ssize_t (*send)(struct ipc_socket *s, const void *buf, size_t len, int flags);
	ssize_t (*recv)(struct ipc_socket *s, void *buf, size_t cap, int flags, int *msg_flags);

	/* IPC_SOCKET_CAP_SCM_RIGHTS: send len bytes (at least 1) with nfds
	 * descriptors in one SCM_RIGHTS message. */
	ssize_t (*send_fds)(struct ipc_socket *s, const void *buf, size_t len, const int *fds,
			    size_t nfds, int flags);
	/* Receive with a control buffer sized for *nfds descriptors (0: no
	 * control buffer at all); *nfds is set to the number received, stored
	 * in fds. What did not fit is reported by MSG_CTRUNC in *msg_flags. */
	ssize_t (*recv_fds)(struct ipc_socket *s, void *buf, size_t cap, int *fds, size_t *nfds,
			    int flags, int *msg_flags);

	/* shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR. */
	int (*shutdown)(struct ipc_socket *s, int how);
	/* poll(2) on s: the revents (0 when timeout_ns passed; -1 waits). */
	int (*wait)(struct ipc_socket *s, short events, int64_t timeout_ns);
	/* O_NONBLOCK on or off. */
	int (*set_nonblock)(struct ipc_socket *s, int on);
	/* Close and free s. */
	int (*close)(struct ipc_socket *s);
	/* Remove name (its path or remembered port). -ENOENT when none. */
	int (*unlink)(const char *name);
};

#endif
