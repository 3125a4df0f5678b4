/* SPDX-License-Identifier: MIT */
/*
 * ipct for the pipe mechanism (spec/pipe.h): setup wrappers whose handles the
 * fixture closes after the test, even when it failed. Included by ipct.h.
 *
 * A forked party inherits every handle the test holds, as a child inherits
 * descriptors: it keeps the ends it uses (ipct_pipe_keep) and closes the
 * rest, or EOF and EPIPE never come. Handles it closes are forgotten in its
 * own copy only.
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
/* In any party: keep a and b (either may be NULL). A forked party closes
 * every other handle it inherited; a thread party shares the test's handles
 * and closes nothing. */
void ipct_pipe_keep(struct ipc_pipe *a, struct ipc_pipe *b);
/* Called by the fixture: close what is left, remove the names. */
void ipct__pipe_teardown(bool stuck);

/* ---- byte streams ------------------------------------------------------- */

/* Bytes [off, off+len) of stream number `stream`: each byte depends on its
 * position and stream, so a lost, repeated, reordered or foreign byte shows. */
void ipct_pattern(void *buf, size_t len, uint32_t stream, uint64_t off);
/* Index of the first byte of buf that is not the pattern, or -1. */
long ipct_pattern_check(const void *buf, size_t len, uint32_t stream, uint64_t off);
/* One write call of len pattern bytes (stream, off): what the subject returns. */
ssize_t ipct_pipe_write_pattern(struct ipc_pipe *wr, size_t len, uint32_t stream, uint64_t off);
/* Blocking reads until len bytes or end of file: the bytes read, or the
 * error that came before any byte. */
ssize_t ipct_pipe_read_full(struct ipc_pipe *rd, void *buf, size_t len);

/* Setup through a handle switched to non-blocking for the call and left
 * blocking afterwards (needs IPC_PIPE_CAP_NONBLOCK; BROKEN on any error, so
 * for the test body only, never in a forked party; and never while a party
 * may be inside a call on a copy of that handle, as a forked copy shares the
 * kernel's O_NONBLOCK):
 *  fill:  write pattern bytes until not one more byte fits; the bytes written;
 *  put:   write exactly len pattern bytes (PIPE_BUF at a time), never waiting;
 *  drain: read everything queued (the first cap bytes into buf, which may be
 *         NULL); the bytes read. */
size_t ipct_pipe_fill(struct ipc_pipe *wr, uint32_t stream, uint64_t off);
void ipct_pipe_put(struct ipc_pipe *wr, size_t len, uint32_t stream, uint64_t off);
size_t ipct_pipe_drain(struct ipc_pipe *rd, void *buf, size_t cap);
/* Bytes an empty pipe takes: filled, then drained again (empty afterwards). */
size_t ipct_pipe_room(struct ipc_pipe *rd, struct ipc_pipe *wr);

/* ---- signals ------------------------------------------------------------ */

/* Signals; safe in parties (no Criterion calls). Count deliveries of sig
 * from now on (a handler without SA_RESTART, so a blocked call is
 * interrupted, not restarted); process-wide, per process. */
/* A writer party in a write larger than the pipe: seen asleep, and (with
 * poll) the pipe seen full too, then asleep again. Asleep alone is not
 * enough: the writer may sleep in a page fault before its first byte is
 * in, and a signal or close then meets a call that has not blocked yet. */
void ipct_pipe_wait_writer_blocked(struct ipct_party *p, struct ipc_pipe *wr);

void ipct_signal_count(int sig);
int ipct_signal_caught(int sig);
void ipct_signal_ignore(int sig);
void ipct_signal_default(int sig);
/* The calling thread, for ipct_signal_thread from another party. */
struct ipct_thread_id {
	int pid, tid;
};
struct ipct_thread_id ipct_thread_self(void);
int ipct_signal_thread(struct ipct_thread_id who, int sig);

#define SAFE_PIPE(rd, wr) ipct_pipe_make(0, (rd), (wr))
#define SAFE_PIPE_NONBLOCK(rd, wr) ipct_pipe_make(IPC_PIPE_NONBLOCK, (rd), (wr))
#define SAFE_CLOSE(end) SAFE_RC(ipct_pipe_close(end))
#define SAFE_WRITE(end, buf, len)                                             \
	SAFE_RC(ipct_pipe()->write((end), (buf), (len)))
#define SAFE_READ(end, buf, len) SAFE_RC(ipct_pipe()->read((end), (buf), (len)))
#define SAFE_NONBLOCK(end, on) SAFE_RC(ipct_pipe()->set_nonblock((end), (on)))

#endif
