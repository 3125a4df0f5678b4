/* SPDX-License-Identifier: MIT */
/*
 * Mechanism "fifo": a named pipe. A FIFO is a name in a file system; every
 * open of that name while any handle is open reaches one pipe, whose bytes
 * obey spec/pipe.md exactly. What is added is the name and the opening:
 * who waits for whom, what persists, what is refused. Clauses: spec/fifo.md.
 * mkfifo(3) and open(2) on Linux are the model.
 *
 *  - Paths are absolute file-system paths. The harness gives every test fresh
 *    ones (under $TMPDIR or /tmp, "<dir>/ipcspec-<run>-…") and removes them
 *    after the test, even when it failed.
 *  - open() returns a struct ipc_pipe handle (spec/pipe.h): reading, writing,
 *    poll, set_nonblock, dup, fd and close all go through ops->pipe, with the
 *    pipe rules. A handle opened IPC_FIFO_RDONLY is a read end, WRONLY a
 *    write end, RDWR both (Linux): it counts as a reader and as a writer.
 *  - ops->pipe with ops->pipe_caps is a complete pipe subject: its create(name, attr, rd, wr)
 *    makes a FIFO at the path the subject derives from the harness name and
 *    opens both ends; its unlink(name) removes that FIFO. This is how the
 *    whole pipe clause group judges a FIFO once open (spec/fifo.md, VIEW).
 *
 * Conventions (spec/ipc_errors.h): 0 or a count on success, a negative errno
 * on failure.
 */
#ifndef IPCSPEC_FIFO_H
#define IPCSPEC_FIFO_H

#include <stdint.h>
#include <sys/types.h>

#include "ipc_errors.h"
#include "pipe.h"

/* Capability bits. A clause needing a missing bit is UNSUPPORTED. */
enum ipc_fifo_cap {
	IPC_FIFO_CAP_BLOCKING_OPEN = 1u << 0, /* a blocking open waits for the other side */
	IPC_FIFO_CAP_NONBLOCK = 1u << 1,      /* IPC_FIFO_NONBLOCK opens; non-blocking I/O */
	IPC_FIFO_CAP_RDWR_OPEN = 1u << 2,     /* IPC_FIFO_RDWR (Linux; POSIX leaves it undefined) */
	IPC_FIFO_CAP_CROSS_PROCESS = 1u << 3, /* opens from different processes meet */
	IPC_FIFO_CAP_FD = 1u << 4,            /* handles are kernel descriptors: pipe->fd() */
	IPC_FIFO_CAP_POLL = 1u << 5,          /* pipe->poll() on opened handles */
	IPC_FIFO_CAP_MODE_BITS = 1u << 6,     /* permission bits: mode & ~umask */
	IPC_FIFO_CAP_PERSISTENCE = 1u << 7,   /* the name outlives every process */
	IPC_FIFO_CAP_TRUNCATE = 1u << 8,      /* truncate() exists (and refuses) */
	IPC_FIFO_CAP_MULTI_WRITER = 1u << 9,  /* several writers, PIPE_BUF atomicity */
};

/* Flags of open(): one access mode, then modifiers. */
#define IPC_FIFO_RDONLY 0x0
#define IPC_FIFO_WRONLY 0x1
#define IPC_FIFO_RDWR 0x2
#define IPC_FIFO_ACCMODE 0x3
#define IPC_FIFO_NONBLOCK 0x4 /* O_NONBLOCK: for the open and for the handle's I/O */
#define IPC_FIFO_TRUNC 0x8    /* O_TRUNC: accepted, and ignored (FIFO-TRUNC-1) */

struct ipc_fifo_ops {
	/* The pipe view: handles from open() are used through it, and its
	 * create() makes a FIFO under a harness name with both ends open
	 * (read end opened first, so neither open waits). */
	const struct ipc_pipe_ops *pipe;
	/* The pipe view's capability bits (IPC_PIPE_CAP_*, spec/pipe.h): what
	 * the pipe clauses may ask of it. The harness reads these two fields
	 * first, whatever follows. */
	uint64_t pipe_caps;

	/* Make a FIFO at path with permission bits mode (filtered by the umask
	 * under IPC_FIFO_CAP_MODE_BITS). -EEXIST when path exists (whatever it
	 * is, left untouched); -ENOENT when a directory on the way is missing;
	 * -EPERM / -EOPNOTSUPP / -EACCES / -EROFS when the file system cannot
	 * or will not hold a FIFO there (nothing is created). */
	int (*mkfifo)(const char *path, uint32_t mode);

	/* Open the FIFO at path (flags above) into *out. Blocking: RDONLY waits
	 * until a writer has it open, WRONLY until a reader does; -EINTR when a
	 * caught signal ends the wait. Non-blocking: RDONLY succeeds at once;
	 * WRONLY with no reader fails -ENXIO. RDWR never waits. -ENOENT when
	 * path does not exist; -EINVAL for unknown flags. */
	int (*open)(const char *path, uint32_t flags, struct ipc_pipe **out);

	/* Remove the name (open handles keep working). -ENOENT if absent. */
	int (*unlink)(const char *path);

	/* IPC_FIFO_CAP_TRUNCATE: truncate(2) on the path; a FIFO has no
	 * length, so -EINVAL. May be NULL without the capability. */
	int (*truncate)(const char *path, off_t len);

	/* The st_mode of path (type and permission bits, as stat(2)), or
	 * -ENOENT when nothing is there. */
	int (*stat_mode)(const char *path, uint32_t *mode);
};

#endif
