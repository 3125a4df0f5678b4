/* SPDX-License-Identifier: MIT */
/*
 * native-msgpipe: the msgpipe mechanism (spec/msgpipe.h) over Unix-domain
 * SOCK_SEQPACKET sockets bound to a path: the name "/ipcspec-…" is the socket
 * file ${TMPDIR:-/tmp}/ipcspec-…, create is bind + listen, connect is
 * connect(2), accept is accept4(2), and each accepted socket pair is one
 * instance. The kernel keeps record boundaries, per-direction order and
 * whole records under concurrent senders; closing (or exiting) ends the peer.
 *
 * Framing, the adapter's own: every message travels as one record of one
 * header byte (MSGPIPE_TAG) followed by the payload. SEQPACKET reads a
 * zero-length record as 0, exactly like end of file, so an empty message
 * would be indistinguishable from the peer's close; with the header byte a
 * record is never empty and a read of 0 is end of data only.
 *
 * Truncation: recv first peeks with MSG_PEEK | MSG_TRUNC (the record's real
 * length) and refuses with -EMSGSIZE, leaving the record queued, when the
 * caller's buffer is smaller; otherwise it takes the record. Peek and take
 * run under a per-handle mutex, so two threads receiving on one handle
 * cannot take each other's record between the two; waiting is done by
 * poll(2) outside the mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/mutant.h"
#include "ipc_subject.h"
#include "msgpipe.h"

#define MSGPIPE_TAG 0x4d          /* 'M': the header byte of every record */
#define MSGPIPE_LIMIT (1u << 16)  /* the largest max_msg: IPC_MSGPIPE_MSG_MIN_LIMIT */
#define MSGPIPE_BACKLOG 64

struct ipc_msgpipe_server {
	int fd;
	uint32_t flags;
	size_t max_msg;
};

struct ipc_msgpipe {
	int fd;
	int nonblock;
	size_t max_msg;
	pthread_mutex_t rx; /* peek + take of one record, in this process */
};

static int np__errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static int np__addr(const char *name, struct sockaddr_un *sa)
{
	const char *dir = getenv("TMPDIR");
	if (name == NULL || name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/') != NULL)
		return -EINVAL;
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s%s", dir && *dir ? dir : "/tmp", name);
	return n < 0 || (size_t)n >= sizeof sa->sun_path ? -ENAMETOOLONG : 0;
}

static int np__attr(const struct ipc_msgpipe_attr *attr, uint32_t *flags, size_t *max)
{
	*flags = attr ? attr->flags : 0;
	*max = attr && attr->max_msg ? attr->max_msg : IPC_MSGPIPE_MSG_DEFAULT;
	return (*flags & ~(uint32_t)IPC_MSGPIPE_NONBLOCK) || *max > MSGPIPE_LIMIT ? -EINVAL : 0;
}

static int np__handle(int fd, uint32_t flags, size_t max, struct ipc_msgpipe **out)
{
	struct ipc_msgpipe *h = calloc(1, sizeof *h);
	if (h == NULL) {
		close(fd);
		return -ENOMEM;
	}
	/* A record must fit the send buffer whole (else EMSGSIZE): make room
	 * for two of the largest, within the kernel's wmem_max. */
	int want = (int)(2 * (max + 64)), have = 0;
	socklen_t sl = sizeof have;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &sl) == 0 && have < want)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
	h->fd = fd;
	h->nonblock = (flags & IPC_MSGPIPE_NONBLOCK) != 0;
	h->max_msg = max;
	pthread_mutex_init(&h->rx, NULL);
	*out = h;
	return 0;
}

/* Both ends start the same way: a valid attr, then the socket address. */
/* Both ends start the same way: a valid attr, the socket address, a socket
 * (with extra type flags). The descriptor, or a negative errno. */
static int np__prepare(const char *name, const struct ipc_msgpipe_attr *attr, int type_flags,
		       struct sockaddr_un *sa, uint32_t *flags, size_t *max)
{
	int rc = np__attr(attr, flags, max);
	if (rc == 0)
		rc = np__addr(name, sa);
	if (rc < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | type_flags, 0);
	return fd < 0 ? np__errno() : fd;
}

static int np_create(const char *name, const struct ipc_msgpipe_attr *attr,
		     struct ipc_msgpipe_server **srv)
{
	struct sockaddr_un sa;
	uint32_t flags;
	size_t max;
	int rc, fd = np__prepare(name, attr, SOCK_NONBLOCK, &sa, &flags, &max);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		rc = errno == EADDRINUSE ? -EEXIST : np__errno();
		close(fd);
		return rc;
	}
	struct ipc_msgpipe_server *s = malloc(sizeof *s);
	if (listen(fd, MSGPIPE_BACKLOG) != 0 || s == NULL) {
		rc = s == NULL ? -ENOMEM : np__errno();
		unlink(sa.sun_path);
		close(fd);
		free(s);
		return rc;
	}
	*s = (struct ipc_msgpipe_server){ fd, flags, max };
	*srv = s;
	return 0;
}

static int np_server_close(struct ipc_msgpipe_server *srv)
{
	int rc = close(srv->fd) == 0 ? 0 : np__errno();
	free(srv);
	return rc;
}

/* Wait until fd has one of events: 1, 0 when timeout_ns passed, -EINTR. */
static int np__wait(int fd, short events, int64_t timeout_ns)
{
	struct pollfd p = { .fd = fd, .events = events };
	struct timespec ts = { timeout_ns / 1000000000, timeout_ns % 1000000000 };
	int n = ppoll(&p, 1, timeout_ns < 0 ? NULL : &ts, NULL);
	return n < 0 ? np__errno() : n;
}

static int64_t np__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int np_accept(struct ipc_msgpipe_server *srv, int64_t timeout_ns,
		     struct ipc_msgpipe **out)
{
	int64_t deadline = timeout_ns > 0 ? np__now() + timeout_ns : 0;
	for (;;) {
		int fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return np__handle(fd, srv->flags, srv->max_msg, out);
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
			return np__errno();
		if (timeout_ns == 0)
			return -EAGAIN;
		int64_t left = timeout_ns < 0 ? -1 : deadline - np__now();
		if (timeout_ns > 0 && left <= 0)
			return -ETIMEDOUT;
		int rc = np__wait(srv->fd, POLLIN, left);
		if (rc < 0)
			return rc;
	}
}

static int np_connect(const char *name, const struct ipc_msgpipe_attr *attr,
		      struct ipc_msgpipe **out)
{
	struct sockaddr_un sa;
	uint32_t flags;
	size_t max;
	int rc, fd = np__prepare(name, attr, 0, &sa, &flags, &max);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		rc = errno == ECONNREFUSED ? IPC_MSGPIPE_ENOSERVER : np__errno();
		close(fd);
		return rc;
	}
	return np__handle(fd, flags, max, out);
}

static int np_close(struct ipc_msgpipe *h)
{
	int rc = close(h->fd) == 0 ? 0 : np__errno();
	pthread_mutex_destroy(&h->rx);
	free(h);
	return rc;
}

static ssize_t np_send(struct ipc_msgpipe *h, const void *buf, size_t len)
{
	unsigned char tag = MSGPIPE_TAG;
	if (len > h->max_msg)
		return -EMSGSIZE;
	if (buf == NULL && len > 0)
		return -EFAULT;
	struct iovec iov[2] = { { &tag, 1 }, { (void *)buf, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n = sendmsg(h->fd, &m, MSG_NOSIGNAL | (h->nonblock ? MSG_DONTWAIT : 0));
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : errno == ECONNRESET ? -EPIPE : np__errno();
	return n == (ssize_t)len + 1 ? (ssize_t)len : -EIO;
}

/* The queued record's payload length, without taking it: >= 0, -EAGAIN,
 * IPC_EOD, or an error. */
static ssize_t np__peek(struct ipc_msgpipe *h)
{
	unsigned char tag;
	struct iovec iov = { &tag, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = recvmsg(h->fd, &m, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : errno == ECONNRESET ? IPC_EOD : np__errno();
	if (n == 0)
		return IPC_EOD; /* a record is never empty: this is the peer's close */
	return tag == MSGPIPE_TAG ? n - 1 : -EPROTO;
}

static ssize_t np_next_size(struct ipc_msgpipe *h)
{
	pthread_mutex_lock(&h->rx);
	ssize_t n = np__peek(h);
	pthread_mutex_unlock(&h->rx);
	return n;
}

static ssize_t np_recv(struct ipc_msgpipe *h, void *buf, size_t cap)
{
	for (;;) {
		if (!h->nonblock) {
			int rc = np__wait(h->fd, POLLIN, -1);
			if (rc < 0)
				return rc;
		}
		pthread_mutex_lock(&h->rx);
		ssize_t len = np__peek(h);
		if (IPC_MUTANT(MSGPIPE_SILENT_TRUNCATION) && len >= 0 && (size_t)len > cap) {
			unsigned char tag; /* SEQPACKET drops what does not fit */
			struct iovec iov[2] = { { &tag, 1 }, { buf, cap } };
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = cap ? 2 : 1 };
			ssize_t n = recvmsg(h->fd, &m, MSG_DONTWAIT);
			len = n < 0 ? np__errno() : (ssize_t)cap;
		} else if (len >= 0 && (size_t)len > cap)
			len = -EMSGSIZE;
		else if (len >= 0) {
			unsigned char tag;
			struct iovec iov[2] = { { &tag, 1 }, { buf, (size_t)len } };
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
			ssize_t n = recvmsg(h->fd, &m, MSG_DONTWAIT);
			len = n == len + 1 ? len : n < 0 ? np__errno() : -EIO;
			/* Mutant MSGPIPE_MERGED: take the queued messages that
			 * still fit into the same buffer, one count for all. */
			for (ssize_t more; IPC_MUTANT(MSGPIPE_MERGED) && len >= 0 &&
			     (more = np__peek(h)) >= 0 && (size_t)(len + more) <= cap;) {
				iov[1] = (struct iovec){ (char *)buf + len, (size_t)more };
				m = (struct msghdr){ .msg_iov = iov, .msg_iovlen = more ? 2 : 1 };
				n = recvmsg(h->fd, &m, MSG_DONTWAIT);
				len = n == more + 1 ? len + more : n < 0 ? np__errno() : -EIO;
			}
		}
		pthread_mutex_unlock(&h->rx);
		if (len != -EAGAIN || h->nonblock)
			return len;
	}
}

static int np_set_nonblock(struct ipc_msgpipe *h, int on)
{
	h->nonblock = on != 0;
	return 0;
}

static int np_unlink(const char *name)
{
	struct sockaddr_un sa;
	int rc = np__addr(name, &sa);
	if (rc < 0)
		return rc;
	return unlink(sa.sun_path) == 0 ? 0 : np__errno();
}

static const struct ipc_msgpipe_ops np_ops = {
	.create = np_create, .server_close = np_server_close, .accept = np_accept,
	.connect = np_connect, .close = np_close, .send = np_send, .recv = np_recv,
	.next_size = np_next_size, .set_nonblock = np_set_nonblock, .unlink = np_unlink,
};

const struct ipc_subject ipc__subject_native_msgpipe = {
	.abi_version = IPC_SUBJECT_ABI_VERSION,
	.struct_size = sizeof(struct ipc_subject),
	.name = "native-msgpipe",
	.mechanism = IPC_MECH_MSGPIPE,
	.caps = IPC_MSGPIPE_CAP_BLOCKING | IPC_MSGPIPE_CAP_NONBLOCK |
		IPC_MSGPIPE_CAP_CROSS_PROCESS | IPC_MSGPIPE_CAP_MULTI_SENDER |
		IPC_MSGPIPE_CAP_NEXT_SIZE | IPC_MSGPIPE_CAP_PEER_DEATH,
	.ops = &np_ops,
	.summary = "AF_UNIX SOCK_SEQPACKET bound to a path, one header byte per message",
};
