/* SPDX-License-Identifier: MIT */
/*
 * native sockets: the socket mechanism (spec/socket.h) as the kernel gives
 * it, one subject per kind: unix-stream and unix-seqpacket (AF_UNIX bound to
 * ${TMPDIR:-/tmp}<name>), tcp-loopback (127.0.0.1, an ephemeral port) and the
 * socket pairs socketpair-stream and socketpair-dgram. Every operation is
 * the system call itself; only errno becomes a negative return.
 *
 * TCP remembers the port of each listened name in a small table (forked
 * parties inherit it), so a connect to a name whose listener closed is
 * refused as it is for a Unix socket file left in place. TCP_NODELAY is set
 * on every TCP socket: without it Nagle may hold a small send back until the
 * previous one is acknowledged, and "bytes of completed sends are queued at
 * the peer" (which the clauses rely on) would depend on timing.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc_subject.h"
#include "socket.h"
#include "socket/native_socket.h"

struct ipc_socket {
	int fd;
};

struct ns_kind {
	int domain, type;
	int is_pair; /* socketpair(2) instead of listen + connect */
};

static const struct ns_kind ns_unix_stream = {AF_UNIX, SOCK_STREAM, 0};
static const struct ns_kind ns_unix_seqpacket = {AF_UNIX, SOCK_SEQPACKET, 0};
static const struct ns_kind ns_tcp = {AF_INET, SOCK_STREAM, 0};
static const struct ns_kind ns_pair_stream = {AF_UNIX, SOCK_STREAM, 1};
static const struct ns_kind ns_pair_dgram = {AF_UNIX, SOCK_DGRAM, 1};

static int ns__errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static int ns__wrap(int fd, struct ipc_socket **out)
{
	struct ipc_socket *s = malloc(sizeof *s);
	if (s == NULL) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	*out = s;
	return 0;
}

int ipc__native_socket_wrap(int fd, struct ipc_socket **out)
{
	return ns__wrap(fd, out);
}

/* ---- addresses: a path for AF_UNIX, a remembered port for TCP ----------- */

#define NS_PORTS 64
static struct {
	char name[IPC_NAME_MAX + 1];
	in_port_t port; /* network order; 0 = free slot */
} ns_ports[NS_PORTS];
static pthread_mutex_t ns_ports_lock = PTHREAD_MUTEX_INITIALIZER;

static int ns__port_find(const char *name)
{
	for (int i = 0; i < NS_PORTS; i++)
		if (ns_ports[i].port != 0 && strcmp(ns_ports[i].name, name) == 0)
			return i;
	return -1;
}

static int ns__port_remember(const char *name, in_port_t port)
{
	int rc = -EEXIST;
	pthread_mutex_lock(&ns_ports_lock);
	for (int i = 0; ns__port_find(name) < 0 && i < NS_PORTS; i++) {
		if (ns_ports[i].port != 0)
			continue;
		snprintf(ns_ports[i].name, sizeof ns_ports[i].name, "%s", name);
		ns_ports[i].port = port;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&ns_ports_lock);
	return rc;
}

static int ns__addr(const struct ns_kind *k, const char *name, struct sockaddr_storage *ss,
		    socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (k->domain == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		pthread_mutex_lock(&ns_ports_lock);
		int i = name ? ns__port_find(name) : -1;
		in->sin_port = i >= 0 ? ns_ports[i].port : 0;
		pthread_mutex_unlock(&ns_ports_lock);
		*len = sizeof *in;
		return name == NULL || i >= 0 ? 0 : -ENOENT;
	}
	struct sockaddr_un *un = (struct sockaddr_un *)ss;
	const char *dir = getenv("TMPDIR");
	if (name == NULL || name[0] != '/' || strchr(name + 1, '/') != NULL)
		return -EINVAL;
	un->sun_family = AF_UNIX;
	int n =
	    snprintf(un->sun_path, sizeof un->sun_path, "%s%s", dir && *dir ? dir : "/tmp", name);
	*len = sizeof *un;
	return n < 0 || (size_t)n >= sizeof un->sun_path ? -ENAMETOOLONG : 0;
}

static int ns__socket(const struct ns_kind *k, int nonblock)
{
	int fd = socket(k->domain, k->type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int one = 1;
	if (fd >= 0 && k->domain == AF_INET)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd < 0 ? ns__errno() : fd;
}

/* ---- connections -------------------------------------------------------- */

static int ns__bind_listen(const struct ns_kind *k, int fd, const char *name)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int rc = ns__addr(k, k->domain == AF_INET ? NULL : name, &ss, &len);
	if (rc == 0 && bind(fd, (struct sockaddr *)&ss, len) != 0)
		rc = errno == EADDRINUSE ? -EEXIST : ns__errno();
	if (rc == 0 && listen(fd, 16) != 0)
		rc = ns__errno();
	if (rc == 0 && k->domain == AF_INET) {
		len = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
			return ns__errno();
		rc = ns__port_remember(name, ((struct sockaddr_in *)&ss)->sin_port);
	}
	return rc;
}

static int ns__listen(const struct ns_kind *k, const char *name, int nonblock,
		      struct ipc_socket **lst)
{
	int fd = ns__socket(k, nonblock);
	if (fd < 0)
		return fd;
	int rc = ns__bind_listen(k, fd, name);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return ns__wrap(fd, lst);
}

static int ns__connect(const struct ns_kind *k, const char *name, int nonblock,
		       struct ipc_socket **out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int rc = ns__addr(k, name, &ss, &len);
	int fd = rc < 0 ? rc : ns__socket(k, nonblock);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return ns__wrap(fd, out);
	rc = ns__errno();
	if (rc == -EINPROGRESS && ns__wrap(fd, out) == 0)
		return -EINPROGRESS;
	if (rc != -EINPROGRESS)
		close(fd);
	return rc;
}

static int ns_connect_result(struct ipc_socket *s)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return ns__errno();
	return -err;
}

static int ns_accept(struct ipc_socket *lst, struct ipc_socket **out)
{
	int fd = accept4(lst->fd, NULL, NULL, SOCK_CLOEXEC);
	int one = 1;
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : ns__errno();
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return ns__wrap(fd, out);
}

static int ns_close(struct ipc_socket *s)
{
	int rc = close(s->fd) == 0 ? 0 : ns__errno();
	free(s);
	return rc;
}

/* A pair through a listener: listen, connect, accept, close the listener
 * (its name stays for the fixture to unlink). */
static int ns__pair(const struct ns_kind *k, const char *name, struct ipc_socket **a,
		    struct ipc_socket **b)
{
	if (k->is_pair) {
		int sv[2];
		if (socketpair(k->domain, k->type | SOCK_CLOEXEC, 0, sv) != 0)
			return ns__errno();
		if (ns__wrap(sv[0], a) < 0) {
			close(sv[1]);
			return -ENOMEM;
		}
		return ns__wrap(sv[1], b) < 0 ? (ns_close(*a), -ENOMEM) : 0;
	}
	struct ipc_socket *lst;
	int rc = ns__listen(k, name, 0, &lst);
	if (rc < 0)
		return rc;
	rc = ns__connect(k, name, 0, a);
	if (rc == 0 && (rc = ns_accept(lst, b)) < 0)
		ns_close(*a);
	ns_close(lst);
	return rc;
}

/* ---- data --------------------------------------------------------------- */

static ssize_t ns_send(struct ipc_socket *s, const void *buf, size_t len, int flags)
{
	ssize_t n = send(s->fd, buf, len, flags);
	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : ns__errno()) : n;
}

static ssize_t ns_recv(struct ipc_socket *s, void *buf, size_t cap, int flags, int *msg_flags)
{
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = recvmsg(s->fd, &m, flags);
	if (msg_flags != NULL)
		*msg_flags = n < 0 ? 0 : m.msg_flags;
	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : ns__errno()) : n;
}

#define NS_MAX_FDS 16

static ssize_t ns_send_fds(struct ipc_socket *s, const void *buf, size_t len, const int *fds,
			   size_t nfds, int flags)
{
	union {
		char b[CMSG_SPACE(NS_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	if (nfds == 0 || nfds > NS_MAX_FDS)
		return -EINVAL;
	struct iovec iov = {(void *)buf, len};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.b,
			   .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	ssize_t n = sendmsg(s->fd, &m, flags);
	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : ns__errno()) : n;
}

/* Descriptors of every SCM_RIGHTS message in m, up to room of them; any
 * beyond room is closed, so the caller never holds one it cannot see (the
 * control buffer is sized exactly, so the kernel should give none). */
static size_t ns__take_fds(struct msghdr *m, int *fds, size_t room)
{
	size_t got = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < room)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	return got;
}

static ssize_t ns_recv_fds(struct ipc_socket *s, void *buf, size_t cap, int *fds, size_t *nfds,
			   int flags, int *msg_flags)
{
	union {
		char b[CMSG_SPACE(NS_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	/* CMSG_LEN, not CMSG_SPACE: room for exactly *nfds descriptors, as the
	 * caller asked (CMSG_SPACE pads, and the kernel fills the padding). */
	size_t room = *nfds < NS_MAX_FDS ? *nfds : NS_MAX_FDS;
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = room ? ctl.b : NULL,
			   .msg_controllen = room ? CMSG_LEN(room * sizeof(int)) : 0};
	ssize_t n = recvmsg(s->fd, &m, flags);
	*nfds = 0;
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : ns__errno();
	*nfds = ns__take_fds(&m, fds, room);
	if (msg_flags != NULL)
		*msg_flags = m.msg_flags;
	return n;
}

/* ---- control ------------------------------------------------------------ */

static int ns_shutdown(struct ipc_socket *s, int how)
{
	return shutdown(s->fd, how) == 0 ? 0 : ns__errno();
}

static int ns_wait(struct ipc_socket *s, short events, int64_t timeout_ns)
{
	struct pollfd p = {.fd = s->fd, .events = events};
	struct timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
	int n = ppoll(&p, 1, timeout_ns < 0 ? NULL : &ts, NULL);
	return n < 0 ? ns__errno() : n == 0 ? 0 : p.revents;
}

static int ns_set_nonblock(struct ipc_socket *s, int on)
{
	int fl = fcntl(s->fd, F_GETFL);
	if (fl < 0 || fcntl(s->fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) != 0)
		return ns__errno();
	return 0;
}

static int ns__unlink(const struct ns_kind *k, const char *name)
{
	if (k->domain == AF_INET) {
		pthread_mutex_lock(&ns_ports_lock);
		int i = ns__port_find(name);
		if (i >= 0)
			ns_ports[i].port = 0;
		pthread_mutex_unlock(&ns_ports_lock);
		return i >= 0 ? 0 : -ENOENT;
	}
	struct sockaddr_storage ss;
	socklen_t len;
	int rc = ns__addr(k, name, &ss, &len);
	if (rc < 0)
		return rc;
	return unlink(((struct sockaddr_un *)&ss)->sun_path) == 0 ? 0 : ns__errno();
}

/* ---- one operations table per kind -------------------------------------- */

#define NS_KIND_OPS(id, kind)                                                                      \
	static int id##_pair(const char *n, struct ipc_socket **a, struct ipc_socket **b)          \
	{                                                                                          \
		return ns__pair(&kind, n, a, b);                                                   \
	}                                                                                          \
	static int id##_listen(const char *n, int nb, struct ipc_socket **l)                       \
	{                                                                                          \
		return ns__listen(&kind, n, nb, l);                                                \
	}                                                                                          \
	static int id##_connect(const char *n, int nb, struct ipc_socket **o)                      \
	{                                                                                          \
		return ns__connect(&kind, n, nb, o);                                               \
	}                                                                                          \
	static int id##_unlink(const char *n)                                                      \
	{                                                                                          \
		return ns__unlink(&kind, n);                                                       \
	}                                                                                          \
	static const struct ipc_socket_ops id##_ops = {                                            \
	    .pair = id##_pair,                                                                     \
	    .listen = id##_listen,                                                                 \
	    .connect = id##_connect,                                                               \
	    .connect_result = ns_connect_result,                                                   \
	    .accept = ns_accept,                                                                   \
	    .send = ns_send,                                                                       \
	    .recv = ns_recv,                                                                       \
	    .send_fds = ns_send_fds,                                                               \
	    .recv_fds = ns_recv_fds,                                                               \
	    .shutdown = ns_shutdown,                                                               \
	    .wait = ns_wait,                                                                       \
	    .set_nonblock = ns_set_nonblock,                                                       \
	    .close = ns_close,                                                                     \
	    .unlink = id##_unlink,                                                                 \
	}

NS_KIND_OPS(ns_us, ns_unix_stream);
NS_KIND_OPS(ns_usp, ns_unix_seqpacket);
NS_KIND_OPS(ns_tcp_lo, ns_tcp);
NS_KIND_OPS(ns_ps, ns_pair_stream);
NS_KIND_OPS(ns_pd, ns_pair_dgram);

#define NS_SUBJECT(sym, nm, c, o, sum)                                                             \
	const struct ipc_subject sym = {.abi_version = IPC_SUBJECT_ABI_VERSION,                    \
					.struct_size = sizeof(struct ipc_subject),                 \
					.name = nm,                                                \
					.mechanism = IPC_MECH_SOCKET,                              \
					.caps = (c) | IPC_SOCKET_CAP_CROSS_PROCESS,                \
					.ops = &o,                                                 \
					.summary = sum}

#define NS_UNIX_CONN                                                                               \
	(IPC_SOCKET_CAP_CONNECTED | IPC_SOCKET_CAP_LOCAL_PEER | IPC_SOCKET_CAP_SCM_RIGHTS |        \
	 IPC_SOCKET_CAP_RESET)

NS_SUBJECT(ipc__subject_unix_stream, "unix-stream",
	   IPC_SOCKET_CAP_STREAM | IPC_SOCKET_CAP_LISTEN | IPC_SOCKET_CAP_SIGPIPE | NS_UNIX_CONN,
	   ns_us_ops, "AF_UNIX SOCK_STREAM bound to a path under $TMPDIR");
/* No SIGPIPE: Linux's unix_dgram_sendmsg, which SEQPACKET uses, never raises it. */
NS_SUBJECT(ipc__subject_unix_seqpacket, "unix-seqpacket",
	   IPC_SOCKET_CAP_RECORDS | IPC_SOCKET_CAP_LISTEN | NS_UNIX_CONN, ns_usp_ops,
	   "AF_UNIX SOCK_SEQPACKET bound to a path under $TMPDIR");
NS_SUBJECT(ipc__subject_tcp_loopback, "tcp-loopback",
	   IPC_SOCKET_CAP_STREAM | IPC_SOCKET_CAP_LISTEN | IPC_SOCKET_CAP_CONNECTED |
	       IPC_SOCKET_CAP_RESET | IPC_SOCKET_CAP_SIGPIPE,
	   ns_tcp_lo_ops, "TCP over 127.0.0.1, ephemeral ports, TCP_NODELAY");
NS_SUBJECT(ipc__subject_socketpair_stream, "socketpair-stream",
	   IPC_SOCKET_CAP_STREAM | IPC_SOCKET_CAP_SIGPIPE | NS_UNIX_CONN, ns_ps_ops,
	   "socketpair(AF_UNIX, SOCK_STREAM)");
NS_SUBJECT(ipc__subject_socketpair_dgram, "socketpair-dgram",
	   IPC_SOCKET_CAP_RECORDS | IPC_SOCKET_CAP_DGRAM | IPC_SOCKET_CAP_LOCAL_PEER |
	       IPC_SOCKET_CAP_SCM_RIGHTS,
	   ns_pd_ops, "socketpair(AF_UNIX, SOCK_DGRAM): reliable datagrams, no connection");
