/* SPDX-License-Identifier: MIT */
/*
 * tcp-veth: the kernel's TCP sockets as tcp-loopback has them (TCP_NODELAY,
 * a remembered port per name), but between two network namespaces joined by
 * a veth link (core/veth.h): a listener is made in namespace B on
 * 10.199.0.2, a connecting socket in namespace A, so every byte crosses a
 * real link between two network stacks, as between two machines. Only the
 * making of sockets differs from tcp-loopback; every operation on a made
 * socket is tcp-loopback's own (socket/native_socket.h). Where the link
 * cannot be made (not root, no network namespaces, no veth), pair(), listen
 * and connect say why (-EPERM, -EOPNOTSUPP) and the harness reports the
 * clauses UNSUPPORTED (IPC_SOCKET_CAP_NETNS).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/veth.h"
#include "ipc_subject.h"
#include "socket.h"
#include "socket/native_socket.h"

extern const struct ipc_subject ipc__subject_tcp_loopback;

static const struct ipc_socket_ops *sv__tcp(void)
{
	return ipc__subject_tcp_loopback.ops;
}

/* ---- names: the port each listened name got (forked parties inherit) ---- */

#define SV_PORTS 64
static struct {
	char name[IPC_NAME_MAX + 1];
	in_port_t port; /* network order; 0 = free slot */
} sv_ports[SV_PORTS];
static pthread_mutex_t sv_ports_lock = PTHREAD_MUTEX_INITIALIZER;

static int sv__find(const char *name)
{
	for (int i = 0; i < SV_PORTS; i++)
		if (sv_ports[i].port != 0 && strcmp(sv_ports[i].name, name) == 0)
			return i;
	return -1;
}

static int sv__remember(const char *name, in_port_t port)
{
	int rc = -EEXIST;
	pthread_mutex_lock(&sv_ports_lock);
	for (int i = 0; sv__find(name) < 0 && i < SV_PORTS; i++) {
		if (sv_ports[i].port != 0)
			continue;
		snprintf(sv_ports[i].name, sizeof sv_ports[i].name, "%s", name);
		sv_ports[i].port = port;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&sv_ports_lock);
	return rc;
}

/* B's address with name's port: 0, or -ENOENT when nobody listened on it. */
static int sv__addr(const char *name, struct sockaddr_in *a)
{
	*a = ipc__veth_addr(IPC_VETH_B);
	pthread_mutex_lock(&sv_ports_lock);
	int i = sv__find(name);
	a->sin_port = i >= 0 ? sv_ports[i].port : 0;
	pthread_mutex_unlock(&sv_ports_lock);
	return i >= 0 ? 0 : -ENOENT;
}

static int sv_unlink(const char *name)
{
	pthread_mutex_lock(&sv_ports_lock);
	int i = sv__find(name);
	if (i >= 0)
		sv_ports[i].port = 0;
	pthread_mutex_unlock(&sv_ports_lock);
	return i >= 0 ? 0 : -ENOENT;
}

/* ---- making sockets: the only part that is not tcp-loopback's ---------- */

static int sv__socket(int side, int nonblock)
{
	int one = 1;
	int fd = ipc__veth_socket(side, AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0));
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int sv__bind_listen(int fd, const char *name)
{
	struct sockaddr_in a = ipc__veth_addr(IPC_VETH_B);
	socklen_t len = sizeof a;

	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -errno;
	return sv__remember(name, a.sin_port);
}

static int sv_listen(const char *name, int nonblock, struct ipc_socket **lst)
{
	int fd = sv__socket(IPC_VETH_B, nonblock);
	if (fd < 0)
		return fd;
	int rc = sv__bind_listen(fd, name);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return ipc__native_socket_wrap(fd, lst);
}

static int sv_connect(const char *name, int nonblock, struct ipc_socket **out)
{
	struct sockaddr_in a;
	int rc = sv__addr(name, &a);
	int fd = rc < 0 ? rc : sv__socket(IPC_VETH_A, nonblock);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return ipc__native_socket_wrap(fd, out);
	rc = -errno;
	if (rc != -EINPROGRESS)
		close(fd);
	else if (ipc__native_socket_wrap(fd, out) < 0)
		rc = -ENOMEM;
	return rc;
}

/* listen, connect, accept, close the listener (its name stays for the
 * fixture to unlink), as tcp-loopback does. */
static int sv_pair(const char *name, struct ipc_socket **a, struct ipc_socket **b)
{
	struct ipc_socket *lst;
	int rc = sv_listen(name, 0, &lst);
	if (rc < 0)
		return rc;
	rc = sv_connect(name, 0, a);
	if (rc == 0 && (rc = sv__tcp()->accept(lst, b)) < 0)
		sv__tcp()->close(*a);
	sv__tcp()->close(lst);
	return rc;
}

/* ---- every other operation is tcp-loopback's ---------------------------- */

static int sv_connect_result(struct ipc_socket *s)
{
	return sv__tcp()->connect_result(s);
}

static int sv_accept(struct ipc_socket *lst, struct ipc_socket **out)
{
	return sv__tcp()->accept(lst, out);
}

static ssize_t sv_send(struct ipc_socket *s, const void *buf, size_t len, int flags)
{
	return sv__tcp()->send(s, buf, len, flags);
}

static ssize_t sv_recv(struct ipc_socket *s, void *buf, size_t cap, int flags, int *msg_flags)
{
	return sv__tcp()->recv(s, buf, cap, flags, msg_flags);
}

static ssize_t sv_send_fds(struct ipc_socket *s, const void *buf, size_t len, const int *fds,
			   size_t nfds, int flags)
{
	return sv__tcp()->send_fds(s, buf, len, fds, nfds, flags);
}

static ssize_t sv_recv_fds(struct ipc_socket *s, void *buf, size_t cap, int *fds, size_t *nfds,
			   int flags, int *msg_flags)
{
	return sv__tcp()->recv_fds(s, buf, cap, fds, nfds, flags, msg_flags);
}

static int sv_shutdown(struct ipc_socket *s, int how)
{
	return sv__tcp()->shutdown(s, how);
}

static int sv_wait(struct ipc_socket *s, short events, int64_t timeout_ns)
{
	return sv__tcp()->wait(s, events, timeout_ns);
}

static int sv_set_nonblock(struct ipc_socket *s, int on)
{
	return sv__tcp()->set_nonblock(s, on);
}

static int sv_close(struct ipc_socket *s)
{
	return sv__tcp()->close(s);
}

static const struct ipc_socket_ops sv_ops = {
    .pair = sv_pair,
    .listen = sv_listen,
    .connect = sv_connect,
    .connect_result = sv_connect_result,
    .accept = sv_accept,
    .send = sv_send,
    .recv = sv_recv,
    .send_fds = sv_send_fds,
    .recv_fds = sv_recv_fds,
    .shutdown = sv_shutdown,
    .wait = sv_wait,
    .set_nonblock = sv_set_nonblock,
    .close = sv_close,
    .unlink = sv_unlink,
};

const struct ipc_subject ipc__subject_tcp_veth = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "tcp-veth",
    .mechanism = IPC_MECH_SOCKET,
    .caps = IPC_SOCKET_CAP_STREAM | IPC_SOCKET_CAP_LISTEN | IPC_SOCKET_CAP_CONNECTED |
	    IPC_SOCKET_CAP_RESET | IPC_SOCKET_CAP_SIGPIPE | IPC_SOCKET_CAP_CROSS_PROCESS |
	    IPC_SOCKET_CAP_NETNS,
    .ops = &sv_ops,
    .summary = "TCP between two network namespaces joined by veth (10.199.0.1 to .2), "
	       "ephemeral ports, TCP_NODELAY (root only)",
};
