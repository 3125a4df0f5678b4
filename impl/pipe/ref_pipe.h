/* SPDX-License-Identifier: MIT */
/*
 * ref-pipe: the reference ordinary pipe, a byte ring in an anonymous shared
 * segment on the shared-memory core. Each function has exactly the contract
 * of the matching operation in spec/pipe.h; the design (fork, death, locks,
 * fault points, mutants) is in docs/ref-pipe-design.md.
 *
 * A handle may be used by several threads at once, like a descriptor, and
 * keeps working in a forked child. Closing a handle while another thread is
 * inside a call on it is not supported (a descriptor would let that call
 * finish). The functions are not async-signal-safe.
 */
#ifndef IPCSPEC_REF_PIPE_H
#define IPCSPEC_REF_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_subject.h"
#include "pipe.h"

/* Capacity limits: the kernel's page, default and pipe-max-size. */
#define IPC_PIPE_REF_MIN_CAP     4096u
#define IPC_PIPE_REF_DEFAULT_CAP 65536u
#define IPC_PIPE_REF_MAX_CAP     (1u << 20)

/* name is ignored: the segment is anonymous (there is nothing to unlink). */
int ipc_pipe_ref_create(const char *name, const struct ipc_pipe_attr *attr, struct ipc_pipe **rd,
			struct ipc_pipe **wr);
int ipc_pipe_ref_close(struct ipc_pipe *end);
ssize_t ipc_pipe_ref_read(struct ipc_pipe *end, void *buf, size_t len);
ssize_t ipc_pipe_ref_write(struct ipc_pipe *end, const void *buf, size_t len);
int ipc_pipe_ref_set_nonblock(struct ipc_pipe *end, int on);
int ipc_pipe_ref_get_capacity(struct ipc_pipe *end);
int ipc_pipe_ref_set_capacity(struct ipc_pipe *end, size_t bytes);
int ipc_pipe_ref_poll(struct ipc_pipe *end, int events, int64_t timeout_ns);
int ipc_pipe_ref_dup(struct ipc_pipe *end, struct ipc_pipe **out);
int ipc_pipe_ref_validate(struct ipc_pipe *end);

/* The shared segment behind end (header, then the ring): for corruption
 * tests and fault harnesses. */
int ipc_pipe_ref_segment(struct ipc_pipe *end, void **base, size_t *len);

/* Named segments, for ref-fifo (impl/fifo/ref_fifo.c): the same pipe in a
 * caller's regular file, opened one end at a time. The caller serialises
 * nothing: opens of one file take flock on it.
 *  - format: a fresh, empty file becomes a segment with no end open.
 *  - open_named: open ends (READ, WRITE or both: RDWR) of the segment in
 *    fd. It resets the ring when no end is open anywhere; -ENXIO for a
 *    non-blocking WRITE with no reader; -EINVAL when fd holds no segment.
 *    On success the handle owns fd (closed with the last handle).
 *  - await_partner: a blocking open's wait for the other kind (no-op when
 *    one was there): 0, or -EINTR when a signal handler ran (then close h). */
#define IPC__PIPE_REF_READ  1u
#define IPC__PIPE_REF_WRITE 2u
int ipc__pipe_ref_format(int fd);
int ipc__pipe_ref_open_named(int fd, uint32_t ends, bool nonblock, struct ipc_pipe **out);
int ipc__pipe_ref_await_partner(struct ipc_pipe *h);

/* The subject "ref-pipe" (impl/registry.c lists it). */
extern const struct ipc_subject ipc__subject_ref_pipe;

/* What ref-pipe claims (no kernel descriptor, so no FD), and its operations
 * table with a given create and unlink: ref-fifo's pipe view is the same
 * code behind another create. */
#define IPC_PIPE_REF_CAPS                                                      \
	(IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK | IPC_PIPE_CAP_CROSS_PROCESS | \
	 IPC_PIPE_CAP_CAPACITY | IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_SIGPIPE |         \
	 IPC_PIPE_CAP_PEER_DEATH | IPC_PIPE_CAP_DUP | IPC_PIPE_CAP_MULTI_WRITER)
#define IPC_PIPE_REF_OPS(create_fn, unlink_fn)                                 \
	{                                                                          \
		.create = create_fn, .close = ipc_pipe_ref_close,                      \
		.read = ipc_pipe_ref_read, .write = ipc_pipe_ref_write,                \
		.set_nonblock = ipc_pipe_ref_set_nonblock,                             \
		.get_capacity = ipc_pipe_ref_get_capacity,                             \
		.set_capacity = ipc_pipe_ref_set_capacity, .poll = ipc_pipe_ref_poll,  \
		.fd = NULL, .dup = ipc_pipe_ref_dup, .unlink = unlink_fn,              \
		.validate = ipc_pipe_ref_validate,                                     \
	}

#endif
