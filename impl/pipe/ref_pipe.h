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

/* The subject "ref-pipe" (impl/registry.c lists it). */
extern const struct ipc_subject ipc__subject_ref_pipe;

#endif
