/* SPDX-License-Identifier: MIT */
/*
 * Shared plumbing of the pipe harnesses (pipe_io, pipe_eintr, pipe_kill,
 * pipe_nth_sweep): which pipe subjects to run, one end of a pipe whatever
 * carries it, and a checksummed byte stream moved with the whole-transfer
 * helpers of impl/io, checked byte by byte at the reader.
 *
 * The stream is a function of (seed, offset), so the reader regenerates the
 * bytes it expects at any offset: a lost, duplicated or reordered byte is a
 * mismatch at an exact offset, not just a wrong total.
 */
#ifndef IPCSPEC_FAULTS_PIPE_COMMON_H
#define IPCSPEC_FAULTS_PIPE_COMMON_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "fl_common.h"
#include "pipe.h"

/* ---- subjects --------------------------------------------------------------- */

struct pl_subject {
	const char *name;
	uint64_t caps;
	const struct ipc_pipe_ops *ops; /* NULL: "fd", kernel descriptors through ipc_io_* */
};

#define PL_MAX_SUBJECTS 8

/* The pipe subjects a harness runs: the one named by --subject, else "fd"
 * (a kernel pipe moved with ipc_io_* on its descriptors), native-pipe and
 * ref-pipe (skipped, with a line saying so, when it is not built). A
 * --subject of another mechanism prints a skip line and exits 0; an unknown
 * name exits 2. */
int pl_subjects(int argc, char **argv, struct pl_subject *out);

/* `prog --is-pipe NAME`: exit 0 if NAME is a bundled pipe subject, 1 if not
 * (faults/run.sh routes SUBJECT= with it). Returns if argv asks nothing. */
void pl_is_pipe_query(int argc, char **argv);

/* "IPC_EAGAIN", "-ENODATA", "-EINTR" or the number, for messages. */
const char *pl_err(long rc);

/* ---- the libfiu POSIX preload ------------------------------------------------ */

#define PL_PRELOAD_SO "/usr/lib/fiu/fiu_posix_preload.so"

/* Re-execute this program under the preload (which wraps read, write,
 * malloc...) unless it is already there or FL_NO_PRELOAD=1. */
void pl_ensure_preload(char **argv);
int pl_preloaded(void);

/* Mappings of shared memory (memfd, /dev/shm) in this process. */
int pl_count_shared_maps(void);

/* ---- one end ------------------------------------------------------------------- */

/* Either a kernel descriptor (ops == NULL) or a handle of a pipe subject. */
struct pl_end {
	const struct ipc_pipe_ops *ops;
	struct ipc_pipe *end;
	int fd;
};

ssize_t pl_write_all(const struct pl_end *e, const void *buf, size_t len);
ssize_t pl_read_exact(const struct pl_end *e, void *buf, size_t len);
ssize_t pl_write_resume(const struct pl_end *e, const void *buf, size_t len, size_t *done);
ssize_t pl_read_resume(const struct pl_end *e, void *buf, size_t len, size_t *done);
int pl_set_nonblock(const struct pl_end *e, int on);
void pl_close(struct pl_end *e);

/* Make a pipe: two kernel descriptors ("fd") or the subject's create with
 * name and capacity (0 = default). 0 or a negative errno. */
int pl_make(const struct pl_subject *s, const char *name, size_t capacity, int nonblock,
	    struct pl_end *rd, struct pl_end *wr);

/* ---- the stream ------------------------------------------------------------------ */

void pl_stream_fill(uint64_t seed, uint64_t off, void *buf, size_t len);
/* Index of the first byte of buf that differs from the stream at off, or len. */
size_t pl_stream_check(uint64_t seed, uint64_t off, const void *buf, size_t len);

/* Hook around every transfer call of a stream side (e.g. to arm libfiu
 * points only inside the helpers, never around the harness's own I/O). */
struct pl_hooks {
	void (*before)(void);
	void (*after)(void);
};

/* One side of a stream. */
struct pl_xfer {
	uint64_t seed;          /* stream content (the chunk sizes use seed ^ role) */
	uint64_t total;         /* bytes; PL_UNTIL_EOF: until end of file / -EPIPE */
	size_t max_chunk;       /* each call moves 1..max_chunk bytes */
	unsigned pct_resume;    /* % of chunks moved with the resumable form + own waits */
	unsigned pause_every;   /* pause pause_ns every ~n chunks (the peer blocks), 0 never */
	int64_t pause_ns;
	int64_t give_up_ns;     /* absolute: own wait loops past this are a hang */
	_Atomic uint64_t *progress; /* optional, shared: bytes moved, after each chunk */
	const struct pl_hooks *hooks;
	const char *what;       /* for messages */
	/* out */
	uint64_t moved;         /* bytes moved (counted by the reader as checked) */
	long end_rc;            /* the result that ended it: 0, IPC_EOD, -EPIPE... */
	uint64_t calls;         /* helper calls made */
};

#define PL_UNTIL_EOF UINT64_MAX
#define PL_MAX_CHUNK (256 * 1024)

/* Writer: total bytes, then return 0; PL_UNTIL_EOF: until a write fails
 * (its code in end_rc). A violation (fl_violation) returns 1. */
int pl_write_stream(const struct pl_end *e, struct pl_xfer *x);

/* Reader: every byte checked against the stream. With a known total, the last
 * request straddles the end of the stream: it must say -ENODATA having
 * delivered exactly the rest, and a read after it IPC_EOD. With
 * PL_UNTIL_EOF, reads until end of file (end_rc = IPC_EOD or -ENODATA) or
 * an error. 0, or 1 after a violation. */
int pl_read_stream(const struct pl_end *e, struct pl_xfer *x);

#endif
