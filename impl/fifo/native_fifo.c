/* SPDX-License-Identifier: MIT */
/*
 * native-fifo: the kernel's FIFO (mkfifo + open), wrapped thinly so the fifo
 * clauses reach it. One handle is one descriptor, as in native-pipe; the
 * pipe view's create() makes a FIFO under $TMPDIR (or /tmp) named after the
 * harness name, opens the read end non-blocking (so the open does not wait),
 * then the write end, and sets the asked mode: once open, a FIFO must keep
 * every pipe clause, so the pipe tests judge it unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mutant.h"
#include "fifo.h"
#include "ipc_subject.h"

struct ipc_pipe {
	int fd;
};

static int nfifo__errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static int nfifo__set_nonblock_fd(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return nfifo__errno();
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl) < 0 ? nfifo__errno() : 0;
}

static struct ipc_pipe *nfifo__wrap(int fd)
{
	struct ipc_pipe *p = malloc(sizeof *p);
	if (p != NULL)
		p->fd = fd;
	else
		close(fd);
	return p;
}

/* Mutant FIFO_DATA_SURVIVES: one hidden read-only descriptor per FIFO
 * (device and inode) opened through open(), never closed, so the FIFO stays
 * in use and its bytes outlive the last close of the caller's handles. */
static void nfifo__keep_in_use(int fd, const char *path)
{
	static struct {
		dev_t dev;
		ino_t ino;
	} kept[64];
	static size_t nkept;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return;
	for (size_t i = 0; i < nkept; i++)
		if (kept[i].dev == st.st_dev && kept[i].ino == st.st_ino)
			return;
	if (nkept < sizeof kept / sizeof kept[0] &&
	    open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) >= 0) {
		kept[nkept].dev = st.st_dev;
		kept[nkept++].ino = st.st_ino;
	}
}

/* ---- the fifo operations ------------------------------------------------ */

static int nfifo_mkfifo(const char *path, uint32_t mode)
{
	return mkfifo(path, (mode_t)mode) < 0 ? nfifo__errno() : 0;
}

static int nfifo_open(const char *path, uint32_t flags, struct ipc_pipe **out)
{
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
	if (out == NULL || (flags & ~(IPC_FIFO_ACCMODE | IPC_FIFO_NONBLOCK | IPC_FIFO_TRUNC)) ||
	    (flags & IPC_FIFO_ACCMODE) == IPC_FIFO_ACCMODE)
		return -EINVAL;
	int of = acc[flags & IPC_FIFO_ACCMODE] | O_CLOEXEC;
	of |= (flags & IPC_FIFO_NONBLOCK) ? O_NONBLOCK : 0;
	of |= (flags & IPC_FIFO_TRUNC) ? O_TRUNC : 0;
	int blocking = !(flags & IPC_FIFO_NONBLOCK) && (flags & IPC_FIFO_ACCMODE) != IPC_FIFO_RDWR;
	if (IPC_MUTANT(FIFO_OPEN_NO_BLOCK) && blocking)
		of |= O_NONBLOCK; /* never waits; the handle is made blocking below */
	int fd = open(path, of);
	if (IPC_MUTANT(FIFO_NO_ENXIO) && fd < 0 && errno == ENXIO) {
		/* a reader for a moment, so the open finds one */
		int hidden = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		fd = hidden < 0 ? -1 : open(path, of);
		if (hidden >= 0)
			close(hidden);
	}
	if (fd < 0)
		return nfifo__errno();
	if (IPC_MUTANT(FIFO_OPEN_NO_BLOCK) && blocking)
		(void)nfifo__set_nonblock_fd(fd, 0);
	if (IPC_MUTANT(FIFO_DATA_SURVIVES))
		nfifo__keep_in_use(fd, path);
	return (*out = nfifo__wrap(fd)) == NULL ? -ENOMEM : 0;
}

static int nfifo_unlink(const char *path)
{
	return unlink(path) < 0 ? nfifo__errno() : 0;
}

static int nfifo_truncate(const char *path, off_t len)
{
	return truncate(path, len) < 0 ? nfifo__errno() : 0;
}

static int nfifo_stat_mode(const char *path, uint32_t *mode)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return nfifo__errno();
	*mode = (uint32_t)st.st_mode;
	return 0;
}

/* ---- the pipe view ------------------------------------------------------ */

/* The FIFO's path for a harness name ("/ipcspec-…": one component). */
static int nfifo__path(const char *name, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	if (name == NULL || name[0] != '/' || strchr(name + 1, '/') != NULL)
		return -EINVAL;
	int n = snprintf(path, len, "%s%s", dir && *dir ? dir : "/tmp", name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int nfifo_pipe_create(const char *name, const struct ipc_pipe_attr *attr,
			     struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	char path[4096];
	int fds[2] = { -1, -1 }, rc;
	if (attr == NULL || rd == NULL || wr == NULL || (attr->flags & ~IPC_PIPE_NONBLOCK))
		return -EINVAL;
	*rd = *wr = NULL;
	if ((rc = nfifo__path(name, path, sizeof path)) < 0)
		return rc;
	if (mkfifo(path, 0600) < 0)
		return nfifo__errno();
	if ((fds[0] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    (fds[1] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		rc = nfifo__errno();
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = nfifo__set_nonblock_fd(fds[i], attr->flags & IPC_PIPE_NONBLOCK);
	if (rc == 0 && attr->capacity > 0 && fcntl(fds[1], F_SETPIPE_SZ, (int)attr->capacity) < 0)
		rc = nfifo__errno();
	if (rc == 0) {
		*rd = nfifo__wrap(fds[0]);
		*wr = nfifo__wrap(fds[1]);
		if (*rd != NULL && *wr != NULL)
			return 0;
		free(*rd);
		free(*wr);
		*rd = *wr = NULL;
		return -ENOMEM; /* wrap closed the descriptor it could not hold */
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

static int nfifo_pipe_unlink(const char *name)
{
	char path[4096];
	int rc = nfifo__path(name, path, sizeof path);
	return rc < 0 ? rc : nfifo_unlink(path);
}

static int nfifo_close(struct ipc_pipe *end)
{
	if (end == NULL)
		return -EBADF;
	int rc = close(end->fd) < 0 ? nfifo__errno() : 0;
	free(end);
	return rc;
}

static ssize_t nfifo_read(struct ipc_pipe *end, void *buf, size_t len)
{
	ssize_t n = read(end->fd, buf, len);
	return n < 0 ? nfifo__errno() : n;
}

static ssize_t nfifo_write(struct ipc_pipe *end, const void *buf, size_t len)
{
	ssize_t n = write(end->fd, buf, len);
	return n < 0 ? nfifo__errno() : n;
}

static int nfifo_set_nonblock(struct ipc_pipe *end, int on)
{
	return nfifo__set_nonblock_fd(end->fd, on);
}

static int nfifo_get_capacity(struct ipc_pipe *end)
{
	int n = fcntl(end->fd, F_GETPIPE_SZ);
	return n < 0 ? nfifo__errno() : n;
}

static int nfifo_set_capacity(struct ipc_pipe *end, size_t bytes)
{
	if (bytes > (size_t)INT32_MAX)
		return -EINVAL; /* the kernel takes an int: refuse, never truncate */
	int n = fcntl(end->fd, F_SETPIPE_SZ, (int)bytes);
	return n < 0 ? nfifo__errno() : n;
}

static int nfifo_poll(struct ipc_pipe *end, int events, int64_t timeout_ns)
{
	struct pollfd pfd = { .fd = end->fd, .events = (short)events };
	struct timespec ts = { timeout_ns / 1000000000, timeout_ns % 1000000000 };
	int n = ppoll(&pfd, 1, timeout_ns < 0 ? NULL : &ts, NULL);
	if (n < 0)
		return nfifo__errno();
	return n == 0 ? 0 : pfd.revents & (IPC_PIPE_IN | IPC_PIPE_OUT | IPC_PIPE_ERR | IPC_PIPE_HUP);
}

static int nfifo_fd(struct ipc_pipe *end)
{
	return end->fd;
}

static int nfifo_dup(struct ipc_pipe *end, struct ipc_pipe **out)
{
	int fd = fcntl(end->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return nfifo__errno();
	return (*out = nfifo__wrap(fd)) == NULL ? -ENOMEM : 0;
}

static const struct ipc_pipe_ops nfifo_pipe_ops = {
	.create = nfifo_pipe_create, .close = nfifo_close, .read = nfifo_read,
	.write = nfifo_write, .set_nonblock = nfifo_set_nonblock,
	.get_capacity = nfifo_get_capacity, .set_capacity = nfifo_set_capacity,
	.poll = nfifo_poll, .fd = nfifo_fd, .dup = nfifo_dup,
	.unlink = nfifo_pipe_unlink, .validate = NULL,
};

static const struct ipc_fifo_ops nfifo_ops = {
	.pipe = &nfifo_pipe_ops,
	.pipe_caps = IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK | IPC_PIPE_CAP_CROSS_PROCESS |
		     IPC_PIPE_CAP_CAPACITY | IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_FD |
		     IPC_PIPE_CAP_SIGPIPE | IPC_PIPE_CAP_PEER_DEATH | IPC_PIPE_CAP_DUP |
		     IPC_PIPE_CAP_MULTI_WRITER | IPC_PIPE_CAP_EXIT_CLOSE,
	.mkfifo = nfifo_mkfifo, .open = nfifo_open,
	.unlink = nfifo_unlink, .truncate = nfifo_truncate, .stat_mode = nfifo_stat_mode,
};

const struct ipc_subject ipc__subject_native_fifo = {
	.abi_version = IPC_SUBJECT_ABI_VERSION,
	.struct_size = sizeof(struct ipc_subject),
	.name = "native-fifo",
	.mechanism = IPC_MECH_FIFO,
	.caps = IPC_FIFO_CAP_BLOCKING_OPEN | IPC_FIFO_CAP_NONBLOCK | IPC_FIFO_CAP_RDWR_OPEN |
		IPC_FIFO_CAP_CROSS_PROCESS | IPC_FIFO_CAP_FD | IPC_FIFO_CAP_POLL |
		IPC_FIFO_CAP_MODE_BITS | IPC_FIFO_CAP_PERSISTENCE | IPC_FIFO_CAP_TRUNCATE |
		IPC_FIFO_CAP_MULTI_WRITER,
	.ops = &nfifo_ops,
	.summary = "the kernel's FIFO: mkfifo(3) and open(2) under $TMPDIR or /tmp",
};
