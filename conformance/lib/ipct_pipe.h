/* SPDX-License-Identifier: MIT */
/*
 * ipct for the pipe mechanism (spec/pipe.h): setup wrappers whose handles the
 * fixture closes after the test, even when it failed. Included by ipct.h.
 *
 * A forked party inherits every handle the test holds, as a child inherits
 * descriptors: it closes the ends it does not use (ipct_pipe_close), or EOF
 * never comes. Handles it closes are forgotten in its own copy only.
 */
#ifndef IPCSPEC_IPCT_PIPE_H
#define IPCSPEC_IPCT_PIPE_H

#include "pipe.h"

/* Make a pipe with flags (IPC_PIPE_NONBLOCK); BROKEN on failure. */
void ipct_pipe_make(uint32_t flags, struct ipc_pipe **rd, struct ipc_pipe **wr);
/* Close a handle made here (0 or the subject's error); it is forgotten. */
int ipct_pipe_close(struct ipc_pipe *end);
/* Another handle on the same end (IPC_PIPE_CAP_DUP); BROKEN on failure. */
struct ipc_pipe *ipct_pipe_dup(struct ipc_pipe *end);
/* In a forked party: close every tracked handle but keep (may be NULL). */
void ipct_pipe_close_others(struct ipc_pipe *keep);
/* Called by the fixture: close what is left, remove the names. */
void ipct__pipe_teardown(bool stuck);

#define SAFE_PIPE(rd, wr) ipct_pipe_make(0, (rd), (wr))
#define SAFE_PIPE_NONBLOCK(rd, wr) ipct_pipe_make(IPC_PIPE_NONBLOCK, (rd), (wr))
#define SAFE_CLOSE(end) SAFE_RC(ipct_pipe_close(end))
#define SAFE_WRITE(end, buf, len)                                             \
	SAFE_RC(ipct_pipe()->write((end), (buf), (len)))
#define SAFE_READ(end, buf, len) SAFE_RC(ipct_pipe()->read((end), (buf), (len)))

#endif
