/* SPDX-License-Identifier: MIT */
/*
 * ref-fifo: the reference named pipe. The name is a regular file holding a
 * ref-pipe segment (header with a magic, then the ring; impl/pipe/ref_pipe.c,
 * "named segments"), so every open of the path maps the same pipe. What the
 * name adds lives in the segment too: open counts per kind (blocking opens
 * sleep on them), the reset of an unused ring at open, the quiet HUP of a
 * reader that no writer has joined. Opens of one file are serialised by
 * flock; the data path is ref-pipe's, unchanged. No kernel descriptor: the
 * FD clauses are UNSUPPORTED. Design notes: docs/ref-pipe-design.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "fifo.h"
#include "fifo/ref_fifo.h"
#include "pipe/ref_pipe.h"

#define FIFO_MAGIC_LEN 8 /* the segment's magic, "IPCPIPE1" */

static int ipc__fifo_errno(void)
{
	return errno > 0 ? -errno : IPC_EINVAL;
}

/* Does the open file hold a segment? Its first bytes say so (a file we
 * cannot read is not ours to call a FIFO). */
static bool ipc__fifo_is_segment(int fd)
{
	static const char magic[FIFO_MAGIC_LEN] = { 'I', 'P', 'C', 'P', 'I', 'P', 'E', '1' };
	char buf[FIFO_MAGIC_LEN];

	return pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
	       memcmp(buf, magic, sizeof(buf)) == 0;
}

/* ---- the fifo operations ---------------------------------------------------------------------- */

/* Failure point (fault builds only): formatting fails, nothing is named. */
static int ipc__fifo_format(int fd, void *arg)
{
	(void)arg;
	return fiu_fail("ipc/fifo/create") ? IPC_ENOMEM : ipc__pipe_ref_format(fd);
}

/* The umask filters mode as it does mkfifo(3)'s (both ways create with it). */
int ipc_fifo_ref_mkfifo(const char *path, uint32_t mode)
{
	IPC_ENSURE(path != NULL, IPC_EINVAL);
	return ipc__file_create(path, mode, ipc__fifo_format, NULL);
}

static int ipc__fifo_ends(uint32_t flags, uint32_t *ends)
{
	static const uint32_t by_acc[] = { IPC__PIPE_REF_READ, IPC__PIPE_REF_WRITE,
					   IPC__PIPE_REF_READ | IPC__PIPE_REF_WRITE };

	IPC_ENSURE(!(flags & ~(uint32_t)(IPC_FIFO_ACCMODE | IPC_FIFO_NONBLOCK | IPC_FIFO_TRUNC)),
		   IPC_EINVAL);
	IPC_ENSURE((flags & IPC_FIFO_ACCMODE) != IPC_FIFO_ACCMODE, IPC_EINVAL);
	*ends = by_acc[flags & IPC_FIFO_ACCMODE];
	return 0;
}

/* Map the file and open the ends (no wait). The file is opened read-write
 * whatever the end: both sides write the shared header. O_NONBLOCK: a
 * kernel FIFO at the path must not make open(2) wait (it is then refused
 * as not ours). Symlinks are followed, as open(2) follows them. */
static int ipc__fifo_open_ends(const char *path, uint32_t ends, bool nonblock,
			       struct ipc_pipe **out)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC), rc;

	if (fd < 0)
		return ipc__fifo_errno();
	/* Failure point (fault builds only): the mapping fails, no end is opened. */
	rc = fiu_fail("ipc/fifo/map") ? IPC_ENOMEM : ipc__pipe_ref_open_named(fd, ends, nonblock, out);
	if (rc < 0)
		close(fd);
	return rc;
}

/* Did a pending signal (now delivered) have a handler without SA_RESTART?
 * Then the open it interrupted ends with -EINTR, as Linux's would. */
static bool ipc__fifo_caught(const sigset_t *pend, const sigset_t *old)
{
	struct sigaction sa;

	for (int sig = 1; sig < NSIG; sig++) {
		if (sigismember(pend, sig) != 1 || sigismember(old, sig) == 1 ||
		    sigaction(sig, NULL, &sa) != 0)
			continue;
		if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN &&
		    !(sa.sa_flags & SA_RESTART))
			return true;
	}
	return false;
}

/* A blocking open maps, takes the file lock and may fault pages in before
 * it sleeps on the futex: a handler run in that stretch would not end the
 * futex wait. So signals stay blocked until then and a pending one is
 * judged at the unblock (the window left is a few instructions). Faults
 * that must kill stay deliverable. */
static int ipc__fifo_open_blocking(const char *path, uint32_t ends, struct ipc_pipe **out)
{
	sigset_t all, old, pend;
	int rc;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = ipc__fifo_open_ends(path, ends, false, out);
	sigpending(&pend);
	pthread_sigmask(SIG_SETMASK, &old, NULL); /* pending handlers run here */
	if (rc < 0)
		return rc;
	rc = ipc__fifo_caught(&pend, &old) ? IPC_EINTR : ipc__pipe_ref_await_partner(*out);
	if (rc < 0) {
		(void)ipc_pipe_ref_close(*out); /* the partner's count moved: harmless */
		*out = NULL;
	}
	return rc;
}

/* IPC_FIFO_TRUNC is accepted and ignored (a FIFO has no length). */
int ipc_fifo_ref_open(const char *path, uint32_t flags, struct ipc_pipe **out)
{
	uint32_t ends;

	IPC_ENSURE(path != NULL && out != NULL, IPC_EINVAL);
	IPC_GUARD(ipc__fifo_ends(flags, &ends));
	if (flags & IPC_FIFO_NONBLOCK)
		return ipc__fifo_open_ends(path, ends, true, out);
	return ipc__fifo_open_blocking(path, ends, out);
}

int ipc_fifo_ref_unlink(const char *path)
{
	IPC_ENSURE(path != NULL, IPC_EINVAL);
	return unlink(path) < 0 ? ipc__fifo_errno() : 0;
}

/* A FIFO has no length: -EINVAL for ours (nothing cut); anything else is
 * not a FIFO of ours and gets truncate(2) itself. (O_NONBLOCK in the
 * look: a kernel FIFO at the path must not make it wait.) */
int ipc_fifo_ref_truncate(const char *path, off_t len)
{
	int fd;
	bool ours;

	IPC_ENSURE(path != NULL, IPC_EINVAL);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ipc__fifo_errno();
	ours = ipc__fifo_is_segment(fd);
	close(fd);
	if (ours)
		return IPC_EINVAL;
	return truncate(path, len) < 0 ? ipc__fifo_errno() : 0;
}

/* Our FIFOs are regular files underneath: report them as S_IFIFO with their
 * permission bits; anything else as stat(2) sees it. */
int ipc_fifo_ref_stat_mode(const char *path, uint32_t *mode)
{
	struct stat st;
	int fd;

	IPC_ENSURE(path != NULL && mode != NULL, IPC_EINVAL);
	if (stat(path, &st) < 0)
		return ipc__fifo_errno();
	*mode = (uint32_t)st.st_mode;
	if (!S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0; /* unreadable: not known to be ours */
	if (ipc__fifo_is_segment(fd))
		*mode = (uint32_t)((st.st_mode & ~(mode_t)S_IFMT) | S_IFIFO);
	close(fd);
	return 0;
}

/* ---- the pipe view ---------------------------------------------------------------------------- */

/* Both ends of a FIFO just made: the reader non-blocking first (so neither
 * open waits), then the writer; then the asked mode and capacity. */
static int ipc__fifo_open_pair(const char *path, const struct ipc_pipe_attr *attr,
			       struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	int nb = (attr->flags & IPC_PIPE_NONBLOCK) != 0, rc;

	IPC_GUARD(ipc_fifo_ref_open(path, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK, rd));
	rc = ipc_fifo_ref_open(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK, wr);
	if (rc == 0)
		rc = ipc_pipe_ref_set_nonblock(*rd, nb);
	if (rc == 0)
		rc = ipc_pipe_ref_set_nonblock(*wr, nb);
	if (rc == 0 && attr->capacity > 0)
		rc = ipc_pipe_ref_set_capacity(*wr, attr->capacity);
	if (rc >= 0)
		return 0;
	if (*wr)
		(void)ipc_pipe_ref_close(*wr);
	(void)ipc_pipe_ref_close(*rd);
	*rd = *wr = NULL;
	return rc;
}

int ipc_fifo_ref_pipe_create(const char *name, const struct ipc_pipe_attr *attr,
			     struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	char path[4096];
	int rc;

	IPC_ENSURE(attr != NULL && rd != NULL && wr != NULL, IPC_EINVAL);
	IPC_ENSURE(!(attr->flags & ~(uint32_t)IPC_PIPE_NONBLOCK), IPC_EINVAL);
	*rd = *wr = NULL;
	IPC_GUARD(ipc__tmp_path(name, path, sizeof(path)));
	IPC_GUARD(ipc_fifo_ref_mkfifo(path, 0600));
	rc = ipc__fifo_open_pair(path, attr, rd, wr);
	if (rc < 0)
		(void)unlink(path); /* ours: made just above */
	return rc;
}

int ipc_fifo_ref_pipe_unlink(const char *name)
{
	char path[4096];

	IPC_GUARD(ipc__tmp_path(name, path, sizeof(path)));
	return ipc_fifo_ref_unlink(path);
}

static const struct ipc_pipe_ops ipc__fifo_ref_pipe_ops =
	IPC_PIPE_REF_OPS(ipc_fifo_ref_pipe_create, ipc_fifo_ref_pipe_unlink);

static const struct ipc_fifo_ops ipc__fifo_ref_ops = {
    .pipe = &ipc__fifo_ref_pipe_ops,
    /* ref-pipe's claims (it has no FD): the pipe clauses judge the same code. */
    .pipe_caps = IPC_PIPE_REF_CAPS,
    .mkfifo = ipc_fifo_ref_mkfifo,
    .open = ipc_fifo_ref_open,
    .unlink = ipc_fifo_ref_unlink,
    .truncate = ipc_fifo_ref_truncate,
    .stat_mode = ipc_fifo_ref_stat_mode,
};

const struct ipc_subject ipc__subject_ref_fifo = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "ref-fifo",
    .mechanism = IPC_MECH_FIFO,
    .caps = IPC_FIFO_CAP_BLOCKING_OPEN | IPC_FIFO_CAP_NONBLOCK | IPC_FIFO_CAP_RDWR_OPEN |
	    IPC_FIFO_CAP_CROSS_PROCESS | IPC_FIFO_CAP_POLL | IPC_FIFO_CAP_MODE_BITS |
	    IPC_FIFO_CAP_PERSISTENCE | IPC_FIFO_CAP_TRUNCATE | IPC_FIFO_CAP_MULTI_WRITER,
    .ops = &ipc__fifo_ref_ops,
    .summary = "reference FIFO: a ref-pipe segment in a regular file named by the path, "
	       "flock-serialised opens, blocking opens on open counts",
};
