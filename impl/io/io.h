/* SPDX-License-Identifier: MIT */
/*
 * Whole transfers over a byte stream: write every byte, read exactly so many.
 * The framing protocol and the harnesses move records with these, so a short
 * transfer, a signal or a full / empty non-blocking descriptor never loses,
 * duplicates or reorders a byte. See docs/io.md.
 *
 * Two transports, one loop: a kernel descriptor (ipc_io_*), or one end of a
 * pipe subject reached through its operations table (ipc_io_pipe_*, so the
 * same code runs over native-pipe and ref-pipe).
 *
 * Results (spec/ipc_errors.h: never -1 and errno):
 *   len             every byte moved (len may be 0: nothing is done);
 *   IPC_EOD         read: end of file before the first byte of the range;
 *   -ENODATA        read: end of file inside the range (a truncated record);
 *   -EPIPE          write: no reader is left (SIGPIPE is the caller's affair:
 *                   ignore it or it kills the process first, as with write());
 *   -EAGAIN         resumable forms only: the descriptor would block, the
 *                   progress so far is kept in *done;
 *   another -errno  the transport's own error (-EBADF, -EIO...).
 * EINTR is absorbed everywhere: a signal never cuts a transfer short. A caller
 * that needs cancellation uses a non-blocking descriptor and the resumable
 * forms in its own event loop.
 *
 * On any failure the bytes already moved stay moved: the simple forms say
 * nothing of how many, the resumable forms say exactly (*done).
 */
#ifndef IPCSPEC_IO_IO_H
#define IPCSPEC_IO_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "ipc_errors.h"
#include "pipe.h"

/* ---- kernel descriptors ------------------------------------------------- */

/* Write all len bytes; on a non-blocking descriptor, wait (poll) for room.
 * len, -EPIPE, or the transport's -errno. */
ssize_t ipc_io_write_all(int fd, const void *buf, size_t len);

/* Read exactly len bytes; on a non-blocking descriptor, wait for data.
 * len, IPC_EOD, -ENODATA, or the transport's -errno. */
ssize_t ipc_io_read_exact(int fd, void *buf, size_t len);

/* Resumable forms for event loops: move buf[*done, len) without waiting,
 * add what moved to *done, and return len once *done == len, -EAGAIN when
 * the descriptor would block (call again when it is ready), or the codes
 * above. -EINVAL if *done > len. */
ssize_t ipc_io_write_resume(int fd, const void *buf, size_t len, size_t *done);
ssize_t ipc_io_read_resume(int fd, void *buf, size_t len, size_t *done);

/* ---- pipe subjects (spec/pipe.h) ----------------------------------------- */

/* The same contracts over one end of a pipe subject. A non-blocking end is
 * waited on with ops->poll when the subject has it, otherwise with short
 * sleeps (50 us doubling to 1 ms). */
ssize_t ipc_io_pipe_write_all(const struct ipc_pipe_ops *ops, struct ipc_pipe *end,
			      const void *buf, size_t len);
ssize_t ipc_io_pipe_read_exact(const struct ipc_pipe_ops *ops, struct ipc_pipe *end, void *buf,
			       size_t len);
ssize_t ipc_io_pipe_write_resume(const struct ipc_pipe_ops *ops, struct ipc_pipe *end,
				 const void *buf, size_t len, size_t *done);
ssize_t ipc_io_pipe_read_resume(const struct ipc_pipe_ops *ops, struct ipc_pipe *end, void *buf,
				size_t len, size_t *done);

#endif
