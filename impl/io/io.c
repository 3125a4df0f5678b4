/* SPDX-License-Identifier: MIT */
/*
 * Whole transfers (io.h). One loop serves both transports: a channel is a
 * "move some bytes" function and a "wait until ready" function, over a
 * descriptor or over a pipe subject's operations table.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"

struct ipc__io_chan {
	/* One transfer attempt: a count (0 only at end of file or for a
	 * transport that made no progress) or a negative errno. */
	ssize_t (*move)(const struct ipc__io_chan *c, char *buf, size_t len);
	/* Block until the direction is ready (or looks it): 0 or -errno. A
	 * spurious return is harmless, the caller tries the move again. */
	int (*wait)(const struct ipc__io_chan *c, unsigned *naps);
	int writing;
	int fd;
	const struct ipc_pipe_ops *ops;
	struct ipc_pipe *end;
};

static int ipc__io_errno(void)
{
	/* EWOULDBLOCK may differ from EAGAIN elsewhere: one code for callers. */
	if (errno == EWOULDBLOCK)
		return -EAGAIN;
	return errno > 0 ? -errno : -EIO;
}

/* ---- the loop ------------------------------------------------------------ */

/* What a move that returned 0 means: end of file for a reader (before the
 * range or inside it); for a writer, a transport that took nothing without
 * saying why. Retrying that could spin forever, so it is an I/O error. */
static ssize_t ipc__io_zero(const struct ipc__io_chan *c, size_t done)
{
	if (c->writing)
		return -EIO;
	return done == 0 ? IPC_EOD : -ENODATA;
}

static ssize_t ipc__io_resume(const struct ipc__io_chan *c, char *buf, size_t len, size_t *done)
{
	/* A count above SSIZE_MAX cannot be returned; read/write leave it
	 * implementation-defined anyway. */
	if (done == NULL || *done > len || len > SSIZE_MAX)
		return -EINVAL;
	while (*done < len) {
		size_t want = len - *done;
		ssize_t n = c->move(c, buf + *done, want);

		if (n > 0 && (size_t)n <= want) {
			*done += (size_t)n;
			continue;
		}
		if (n == -EINTR) /* nothing moved: simply try again */
			continue;
		if (n == 0)
			return ipc__io_zero(c, *done);
		/* A count beyond the request would run *done past len: a broken
		 * transport, refused before it can corrupt the caller's buffer. */
		return n < 0 ? n : -EIO;
	}
	return (ssize_t)len;
}

/* The blocking forms: resume, and wait whenever the transport would block. */
static ssize_t ipc__io_all(const struct ipc__io_chan *c, char *buf, size_t len)
{
	size_t done = 0, seen = 0;
	unsigned naps = 0;

	for (;;) {
		ssize_t rc = ipc__io_resume(c, buf, len, &done);

		if (rc != -EAGAIN)
			return rc;
		if (done != seen) /* progress: sleeps start short again */
			seen = done, naps = 0;
		int w = c->wait(c, &naps);
		if (w < 0)
			return w;
	}
}

/* ---- descriptors ----------------------------------------------------------- */

static ssize_t ipc__io_fd_move(const struct ipc__io_chan *c, char *buf, size_t len)
{
	ssize_t n = c->writing ? write(c->fd, buf, len) : read(c->fd, buf, len);

	return n < 0 ? ipc__io_errno() : n;
}

static int ipc__io_fd_wait(const struct ipc__io_chan *c, unsigned *naps)
{
	struct pollfd p = {.fd = c->fd, .events = c->writing ? POLLOUT : POLLIN};

	(void)naps;
	/* POLLERR / POLLHUP / POLLNVAL also end the wait: the next move then
	 * says -EPIPE, end of file or -EBADF. */
	if (poll(&p, 1, -1) < 0 && errno != EINTR)
		return ipc__io_errno();
	return 0;
}

static struct ipc__io_chan ipc__io_fd_chan(int fd, int writing)
{
	return (struct ipc__io_chan){
		.move = ipc__io_fd_move, .wait = ipc__io_fd_wait, .writing = writing, .fd = fd};
}

ssize_t ipc_io_write_all(int fd, const void *buf, size_t len)
{
	struct ipc__io_chan c = ipc__io_fd_chan(fd, 1);

	/* The loop never writes through buf: dropping const is safe. */
	return ipc__io_all(&c, (char *)(uintptr_t)buf, len);
}

ssize_t ipc_io_read_exact(int fd, void *buf, size_t len)
{
	struct ipc__io_chan c = ipc__io_fd_chan(fd, 0);

	return ipc__io_all(&c, buf, len);
}

ssize_t ipc_io_write_resume(int fd, const void *buf, size_t len, size_t *done)
{
	struct ipc__io_chan c = ipc__io_fd_chan(fd, 1);

	return ipc__io_resume(&c, (char *)(uintptr_t)buf, len, done);
}

ssize_t ipc_io_read_resume(int fd, void *buf, size_t len, size_t *done)
{
	struct ipc__io_chan c = ipc__io_fd_chan(fd, 0);

	return ipc__io_resume(&c, buf, len, done);
}

/* ---- pipe subjects ----------------------------------------------------------- */

static ssize_t ipc__io_pipe_move(const struct ipc__io_chan *c, char *buf, size_t len)
{
	ssize_t n = c->writing ? c->ops->write(c->end, buf, len) : c->ops->read(c->end, buf, len);

	return n == -EWOULDBLOCK ? -EAGAIN : n;
}

/* Without a usable poll, back off: 50 us doubling to 1 ms, so a long wait
 * costs little CPU and a short one little latency. */
static void ipc__io_nap(unsigned *naps)
{
	long us = 50L << (*naps < 5 ? *naps : 5);
	struct timespec ts = {0, (us > 1000 ? 1000 : us) * 1000};

	(*naps)++;
	nanosleep(&ts, NULL); /* an interrupted nap is just a shorter one */
}

static int ipc__io_pipe_wait(const struct ipc__io_chan *c, unsigned *naps)
{
	int rc = -ENOSYS;

	if (c->ops->poll != NULL)
		rc = c->ops->poll(c->end, c->writing ? IPC_PIPE_OUT : IPC_PIPE_IN, -1);
	if (rc == -ENOSYS) {
		ipc__io_nap(naps);
		return 0;
	}
	return rc < 0 && rc != -EINTR ? rc : 0;
}

static struct ipc__io_chan ipc__io_pipe_chan(const struct ipc_pipe_ops *ops, struct ipc_pipe *end,
					     int writing)
{
	return (struct ipc__io_chan){.move = ipc__io_pipe_move, .wait = ipc__io_pipe_wait,
				     .writing = writing, .fd = -1, .ops = ops, .end = end};
}

ssize_t ipc_io_pipe_write_all(const struct ipc_pipe_ops *ops, struct ipc_pipe *end,
			      const void *buf, size_t len)
{
	struct ipc__io_chan c = ipc__io_pipe_chan(ops, end, 1);

	return ipc__io_all(&c, (char *)(uintptr_t)buf, len);
}

ssize_t ipc_io_pipe_read_exact(const struct ipc_pipe_ops *ops, struct ipc_pipe *end, void *buf,
			       size_t len)
{
	struct ipc__io_chan c = ipc__io_pipe_chan(ops, end, 0);

	return ipc__io_all(&c, buf, len);
}

ssize_t ipc_io_pipe_write_resume(const struct ipc_pipe_ops *ops, struct ipc_pipe *end,
				 const void *buf, size_t len, size_t *done)
{
	struct ipc__io_chan c = ipc__io_pipe_chan(ops, end, 1);

	return ipc__io_resume(&c, (char *)(uintptr_t)buf, len, done);
}

ssize_t ipc_io_pipe_read_resume(const struct ipc_pipe_ops *ops, struct ipc_pipe *end, void *buf,
				size_t len, size_t *done)
{
	struct ipc__io_chan c = ipc__io_pipe_chan(ops, end, 0);

	return ipc__io_resume(&c, buf, len, done);
}
