/* SPDX-License-Identifier: MIT */
/*
 * native-pipe*: the kernel's pipe, wrapped thinly so the pipe clauses reach
 * it. One handle is one descriptor; fork() duplicates descriptors and exit
 * closes them, so the kernel does all the counting the clauses talk about.
 *
 * The variants differ only in how a pipe and its mode come to be, which is
 * where kernels and emulations have diverged:
 *   native-pipe            pipe(), then fcntl(O_NONBLOCK) when asked;
 *   native-pipe2           pipe2() with O_CLOEXEC and the asked O_NONBLOCK;
 *   native-pipe2-nonblock  pipe2(O_NONBLOCK), then fcntl clears it when a
 *                          blocking pipe was asked (the reverse path);
 *   native-pipe-small      pipe(), then F_SETPIPE_SZ to one page, so every
 *                          "full pipe" rule runs at a small capacity.
 * The FIFO (mkfifo + open) is its own mechanism: impl/fifo/native_fifo.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc_subject.h"
#include "pipe.h"

struct ipc_pipe {
	int fd;
};

enum native_variant { NATIVE_PIPE, NATIVE_PIPE2, NATIVE_PIPE2_NB, NATIVE_SMALL };

static int native__errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static int native__set_nonblock_fd(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return native__errno();
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl) < 0 ? native__errno() : 0;
}

/* Make the two descriptors the way the variant does, in the asked mode. */
static int native__make(enum native_variant v, int nonblock, int fds[2])
{
	int rc = 0;
	switch (v) {
	case NATIVE_PIPE2:
		return pipe2(fds, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)) < 0 ? native__errno() : 0;
	case NATIVE_PIPE2_NB:
		if (pipe2(fds, O_NONBLOCK) < 0)
			return native__errno();
		break;
	default:
		if (pipe(fds) < 0)
			return native__errno();
	}
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = native__set_nonblock_fd(fds[i], nonblock);
	if (rc == 0 && v == NATIVE_SMALL && fcntl(fds[1], F_SETPIPE_SZ, 4096) < 0)
		rc = native__errno();
	return rc;
}

static struct ipc_pipe *native__wrap(int fd)
{
	struct ipc_pipe *p = malloc(sizeof *p);
	if (p != NULL)
		p->fd = fd;
	return p;
}

static int native__create(enum native_variant v, const char *name,
			  const struct ipc_pipe_attr *attr, struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	int fds[2] = { -1, -1 };
	(void)name; /* a pipe has no name */
	if (attr == NULL || rd == NULL || wr == NULL || (attr->flags & ~IPC_PIPE_NONBLOCK))
		return -EINVAL;
	*rd = *wr = NULL;
	int rc = native__make(v, attr->flags & IPC_PIPE_NONBLOCK, fds);
	if (rc == 0 && attr->capacity > 0)
		rc = fcntl(fds[1], F_SETPIPE_SZ, (int)attr->capacity) < 0 ? native__errno() : 0;
	if (rc == 0 && ((*rd = native__wrap(fds[0])) == NULL || (*wr = native__wrap(fds[1])) == NULL))
		rc = -ENOMEM;
	if (rc < 0) {
		free(*rd);
		*rd = NULL;
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	return rc;
}

/* One create per variant: the ops table has no room for a variant argument. */
#define NATIVE_CREATE(fn, variant)                                             \
	static int fn(const char *name, const struct ipc_pipe_attr *attr,           \
		      struct ipc_pipe **rd, struct ipc_pipe **wr)                       \
	{                                                                          \
		return native__create(variant, name, attr, rd, wr);                    \
	}

NATIVE_CREATE(native_pipe_create, NATIVE_PIPE)
NATIVE_CREATE(native_pipe2_create, NATIVE_PIPE2)
NATIVE_CREATE(native_pipe2_nb_create, NATIVE_PIPE2_NB)
NATIVE_CREATE(native_small_create, NATIVE_SMALL)

static int native_close(struct ipc_pipe *end)
{
	if (end == NULL)
		return -EBADF;
	int rc = close(end->fd) < 0 ? native__errno() : 0;
	free(end);
	return rc;
}

static ssize_t native_read(struct ipc_pipe *end, void *buf, size_t len)
{
	ssize_t n = read(end->fd, buf, len);
	return n < 0 ? native__errno() : n;
}

static ssize_t native_write(struct ipc_pipe *end, const void *buf, size_t len)
{
	ssize_t n = write(end->fd, buf, len);
	return n < 0 ? native__errno() : n;
}

static int native_set_nonblock(struct ipc_pipe *end, int on)
{
	return native__set_nonblock_fd(end->fd, on);
}

static int native_get_capacity(struct ipc_pipe *end)
{
	int n = fcntl(end->fd, F_GETPIPE_SZ);
	return n < 0 ? native__errno() : n;
}

static int native_set_capacity(struct ipc_pipe *end, size_t bytes)
{
	if (bytes > (size_t)INT32_MAX)
		return -EINVAL; /* the kernel takes an int: refuse, never truncate */
	int n = fcntl(end->fd, F_SETPIPE_SZ, (int)bytes);
	return n < 0 ? native__errno() : n;
}

static int native_poll(struct ipc_pipe *end, int events, int64_t timeout_ns)
{
	struct pollfd pfd = { .fd = end->fd, .events = (short)events };
	struct timespec ts = { timeout_ns / 1000000000, timeout_ns % 1000000000 };
	int n = ppoll(&pfd, 1, timeout_ns < 0 ? NULL : &ts, NULL);
	if (n < 0)
		return native__errno();
	return n == 0 ? 0 : pfd.revents & (IPC_PIPE_IN | IPC_PIPE_OUT | IPC_PIPE_ERR | IPC_PIPE_HUP);
}

static int native_fd(struct ipc_pipe *end)
{
	return end->fd;
}

static int native_dup(struct ipc_pipe *end, struct ipc_pipe **out)
{
	int fd = fcntl(end->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return native__errno();
	if ((*out = native__wrap(fd)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

#define NATIVE_OPS(create_fn, unlink_fn)                                       \
	{                                                                          \
		.create = create_fn, .close = native_close, .read = native_read,       \
		.write = native_write, .set_nonblock = native_set_nonblock,            \
		.get_capacity = native_get_capacity,                                   \
		.set_capacity = native_set_capacity, .poll = native_poll,              \
		.fd = native_fd, .dup = native_dup, .unlink = unlink_fn,               \
		.validate = NULL,                                                      \
	}

static const struct ipc_pipe_ops native_pipe_ops = NATIVE_OPS(native_pipe_create, NULL);
static const struct ipc_pipe_ops native_pipe2_ops = NATIVE_OPS(native_pipe2_create, NULL);
static const struct ipc_pipe_ops native_pipe2_nb_ops = NATIVE_OPS(native_pipe2_nb_create, NULL);
static const struct ipc_pipe_ops native_small_ops = NATIVE_OPS(native_small_create, NULL);

#define NATIVE_CAPS                                                            \
	(IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK | IPC_PIPE_CAP_CROSS_PROCESS |  \
	 IPC_PIPE_CAP_CAPACITY | IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_FD |              \
	 IPC_PIPE_CAP_SIGPIPE | IPC_PIPE_CAP_PEER_DEATH | IPC_PIPE_CAP_DUP |        \
	 IPC_PIPE_CAP_MULTI_WRITER | IPC_PIPE_CAP_EXIT_CLOSE)

#define NATIVE_SUBJECT(sym, label, ops_, text)                                 \
	const struct ipc_subject sym = {                                           \
		.abi_version = IPC_SUBJECT_ABI_VERSION,                                \
		.struct_size = sizeof(struct ipc_subject),                             \
		.name = label, .mechanism = IPC_MECH_PIPE, .caps = NATIVE_CAPS,         \
		.ops = &ops_, .summary = text,                                         \
	}

NATIVE_SUBJECT(ipc__subject_native_pipe, "native-pipe", native_pipe_ops,
	       "the kernel's pipe(2); O_NONBLOCK through fcntl");
NATIVE_SUBJECT(ipc__subject_native_pipe2, "native-pipe2", native_pipe2_ops,
	       "the kernel's pipe2(2) with O_CLOEXEC and O_NONBLOCK as asked");
NATIVE_SUBJECT(ipc__subject_native_pipe2_nonblock, "native-pipe2-nonblock",
	       native_pipe2_nb_ops, "pipe2(O_NONBLOCK), cleared by fcntl for blocking use");
NATIVE_SUBJECT(ipc__subject_native_pipe_small, "native-pipe-small", native_small_ops,
	       "the kernel's pipe(2) shrunk to one page with F_SETPIPE_SZ");
