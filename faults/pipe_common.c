/* SPDX-License-Identifier: MIT */
/* Shared plumbing of the pipe harnesses (see pipe_common.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "pipe_common.h"

/* ref-pipe before impl/registry.c lists it: a weak reference, NULL in a tree
 * without impl/pipe/ref_pipe.c (the harnesses then say they skip it). */
extern const struct ipc_subject ipc__subject_ref_pipe __attribute__((weak));

static const char *const pl_default_subjects[] = {"fd", "native-pipe", "ref-pipe"};

/* "fd": a kernel pipe's two descriptors, moved with ipc_io_* directly. */
static const struct pl_subject pl_fd_subject = {
	"fd",
	IPC_PIPE_CAP_BLOCKING | IPC_PIPE_CAP_NONBLOCK | IPC_PIPE_CAP_CROSS_PROCESS |
		IPC_PIPE_CAP_CAPACITY | IPC_PIPE_CAP_POLL | IPC_PIPE_CAP_FD |
		IPC_PIPE_CAP_SIGPIPE | IPC_PIPE_CAP_PEER_DEATH,
	NULL,
};

/* ---- subjects --------------------------------------------------------------- */

static const struct ipc_subject *pl_find(const char *name)
{
	size_t n;
	const struct ipc_subject *s = ipc_registry_subjects(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].name, name))
			return &s[i];
	if (!strcmp(name, "ref-pipe") && &ipc__subject_ref_pipe != NULL)
		return &ipc__subject_ref_pipe;
	return NULL;
}

void pl_is_pipe_query(int argc, char **argv)
{
	const struct ipc_subject *s;

	if (argc != 3 || strcmp(argv[1], "--is-pipe") != 0)
		return;
	s = pl_find(argv[2]);
	exit(!strcmp(argv[2], "fd") || (s && s->mechanism == IPC_MECH_PIPE) ? 0 : 1);
}

/* The --subject argument, or NULL (fl_init parses the rest). */
static const char *pl_named(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--subject"))
			return argv[i + 1];
	return NULL;
}

static int pl_add(const char *name, int named, struct pl_subject *out)
{
	const struct ipc_subject *s = pl_find(name);

	if (!strcmp(name, "fd")) {
		*out = pl_fd_subject;
		return 1;
	}
	if (s == NULL && !named) {
		fl_info("skip %s: not built into this tree yet", name);
		return 0;
	}
	if (s == NULL) {
		fprintf(stderr, "%s: no bundled subject named '%s'\n", fl_prog, name);
		exit(2);
	}
	if (s->mechanism != IPC_MECH_PIPE) {
		fl_info("skip: %s is not a pipe subject; PASS: 0 violation(s)", name);
		exit(0);
	}
	*out = (struct pl_subject){s->name, s->caps, s->ops};
	return 1;
}

int pl_subjects(int argc, char **argv, struct pl_subject *out)
{
	const char *named = pl_named(argc, argv);
	int n = 0;

	if (named)
		return pl_add(named, 1, out);
	for (size_t i = 0; i < sizeof(pl_default_subjects) / sizeof(*pl_default_subjects); i++)
		n += pl_add(pl_default_subjects[i], 0, &out[n]);
	return n;
}

const char *pl_err(long rc)
{
	static _Thread_local char buf[48];
	const char *n = rc < 0 ? ipc_err_name((int)rc) : NULL;

	if (n)
		return n;
	/* Codes outside the project's table (-EINTR, -ENODATA...) by name. */
	n = rc < 0 && rc > -4096 ? strerrorname_np((int)-rc) : NULL;
	if (n)
		snprintf(buf, sizeof(buf), "-%s", n);
	else
		snprintf(buf, sizeof(buf), "%ld", rc);
	return buf;
}

/* ---- the libfiu POSIX preload ---------------------------------------------- */

int pl_preloaded(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "fiu_posix_preload");
}

void pl_ensure_preload(char **argv)
{
	const char *no = getenv("FL_NO_PRELOAD");

	if (pl_preloaded() || (no && *no == '1') || access(PL_PRELOAD_SO, R_OK) != 0)
		return;
	setenv("LD_PRELOAD", PL_PRELOAD_SO, 1);
	execv("/proc/self/exe", argv);
	perror("re-exec under the libfiu preload");
}

int pl_count_shared_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "/memfd:") != NULL || strstr(line, "/dev/shm/") != NULL;
	fclose(f);
	return n;
}

/* ---- one end ------------------------------------------------------------------- */

ssize_t pl_write_all(const struct pl_end *e, const void *buf, size_t len)
{
	return e->ops ? ipc_io_pipe_write_all(e->ops, e->end, buf, len)
		      : ipc_io_write_all(e->fd, buf, len);
}

ssize_t pl_read_exact(const struct pl_end *e, void *buf, size_t len)
{
	return e->ops ? ipc_io_pipe_read_exact(e->ops, e->end, buf, len)
		      : ipc_io_read_exact(e->fd, buf, len);
}

ssize_t pl_write_resume(const struct pl_end *e, const void *buf, size_t len, size_t *done)
{
	return e->ops ? ipc_io_pipe_write_resume(e->ops, e->end, buf, len, done)
		      : ipc_io_write_resume(e->fd, buf, len, done);
}

ssize_t pl_read_resume(const struct pl_end *e, void *buf, size_t len, size_t *done)
{
	return e->ops ? ipc_io_pipe_read_resume(e->ops, e->end, buf, len, done)
		      : ipc_io_read_resume(e->fd, buf, len, done);
}

int pl_set_nonblock(const struct pl_end *e, int on)
{
	int fl;

	if (e->ops)
		return e->ops->set_nonblock(e->end, on);
	fl = fcntl(e->fd, F_GETFL);
	if (fl < 0 || fcntl(e->fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

void pl_close(struct pl_end *e)
{
	if (e->ops && e->end)
		e->ops->close(e->end);
	else if (!e->ops && e->fd >= 0)
		close(e->fd);
	e->end = NULL;
	e->fd = -1;
}

/* The harness's own wait in a resumable loop: bounded, so a broken helper
 * shows as a hang report, not a hung harness. */
static void pl_wait(const struct pl_end *e, int writing)
{
	int ev = writing ? IPC_PIPE_OUT : IPC_PIPE_IN;
	struct pollfd p = {.fd = e->fd, .events = (short)ev};

	if (!e->ops)
		poll(&p, 1, 100);
	else if (!e->ops->poll || e->ops->poll(e->end, ev, 100000000) == -ENOSYS)
		fl_sleep_ns(100000);
}

int pl_make(const struct pl_subject *s, const char *name, size_t capacity, int nonblock,
	    struct pl_end *rd, struct pl_end *wr)
{
	struct ipc_pipe_attr attr = {nonblock ? IPC_PIPE_NONBLOCK : 0, 0};
	int fds[2];

	*rd = *wr = (struct pl_end){NULL, NULL, -1};
	if (s->ops == NULL) {
		if (pipe2(fds, nonblock ? O_NONBLOCK : 0) < 0)
			return -errno;
		if (capacity)
			fcntl(fds[1], F_SETPIPE_SZ, (int)capacity);
		rd->fd = fds[0], wr->fd = fds[1];
		return 0;
	}
	if (s->caps & IPC_PIPE_CAP_CAPACITY)
		attr.capacity = capacity;
	rd->ops = wr->ops = s->ops;
	return s->ops->create(name, &attr, &rd->end, &wr->end);
}

/* ---- the stream ------------------------------------------------------------------ */

static uint64_t pl_mix(uint64_t x)
{
	/* splitmix64's finaliser: every 8-byte word of the stream differs. */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void pl_stream_fill(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t i = 0;

	while (i < len) {
		uint64_t o = off + i, w = pl_mix((o >> 3) ^ (seed * 0xd1342543de82ef95ull));

		for (unsigned k = o & 7; k < 8 && i < len; k++, i++)
			p[i] = (unsigned char)(w >> (8 * k));
	}
}

size_t pl_stream_check(uint64_t seed, uint64_t off, const void *buf, size_t len)
{
	unsigned char want[4096];
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i += sizeof(want)) {
		size_t n = len - i < sizeof(want) ? len - i : sizeof(want);

		pl_stream_fill(seed, off + i, want, n);
		if (memcmp(want, p + i, n) == 0)
			continue;
		for (size_t k = 0; k < n; k++)
			if (want[k] != p[i + k])
				return i + k;
	}
	return len;
}

/* ---- moving it ------------------------------------------------------------------- */

static ssize_t pl_call(struct pl_xfer *x, const struct pl_end *e, int writing, int resume,
		       void *buf, size_t len, size_t *done)
{
	ssize_t rc;

	if (x->hooks)
		x->hooks->before();
	if (resume)
		rc = writing ? pl_write_resume(e, buf, len, done) : pl_read_resume(e, buf, len, done);
	else
		rc = writing ? pl_write_all(e, buf, len) : pl_read_exact(e, buf, len);
	if (x->hooks)
		x->hooks->after();
	x->calls++;
	return rc;
}

/* Resumable form in the harness's own event loop: progress must be kept
 * across -EAGAIN and never run backwards or past len. */
static ssize_t pl_resume_loop(struct pl_xfer *x, const struct pl_end *e, int writing, void *buf,
			      size_t len, size_t *done)
{
	for (;;) {
		size_t before = *done;
		ssize_t rc = pl_call(x, e, writing, 1, buf, len, done);

		if (*done < before || *done > len) {
			fl_violation("%s: resumable progress went from %zu to %zu (len %zu)", x->what,
				     before, *done, len);
			return -EIO;
		}
		if (rc != -EAGAIN)
			return rc;
		if (fl_now_ns() > x->give_up_ns) {
			fl_violation("%s: hang: no end after %zu of %zu bytes", x->what, *done, len);
			return -ETIMEDOUT;
		}
		pl_wait(e, writing);
	}
}

static ssize_t pl_chunk(struct pl_xfer *x, struct fl_rng *r, const struct pl_end *e, int writing,
			void *buf, size_t len, size_t *done, int force_resume)
{
	*done = 0;
	if (force_resume || fl_rng_below(r, 100) < x->pct_resume)
		return pl_resume_loop(x, e, writing, buf, len, done);
	return pl_call(x, e, writing, 0, buf, len, done);
}

static void pl_maybe_pause(const struct pl_xfer *x, struct fl_rng *r)
{
	if (x->pause_every && fl_rng_below(r, x->pause_every) == 0)
		fl_sleep_ns(x->pause_ns / 2 + (int64_t)fl_rng_below(r, (uint64_t)x->pause_ns + 1));
}

static void pl_publish(struct pl_xfer *x)
{
	if (x->progress)
		atomic_store(x->progress, x->moved);
}

static int pl_write_chunks(const struct pl_end *e, struct pl_xfer *x, unsigned char *buf)
{
	struct fl_rng r;

	if (x->max_chunk == 0 || x->max_chunk > PL_MAX_CHUNK)
		x->max_chunk = PL_MAX_CHUNK;
	fl_rng_seed(&r, x->seed ^ 0x77726974ull);
	x->moved = 0, x->end_rc = 0, x->calls = 0;
	while (x->moved < x->total) {
		size_t n = 1 + fl_rng_below(&r, x->max_chunk), done;

		if (x->total - x->moved < n)
			n = (size_t)(x->total - x->moved);
		pl_stream_fill(x->seed, x->moved, buf, n);
		ssize_t rc = pl_chunk(x, &r, e, 1, buf, n, &done, 0);
		if (rc != (ssize_t)n) {
			x->end_rc = rc;
			if (x->total == PL_UNTIL_EOF && rc < 0)
				return 0; /* the caller judges the code (-EPIPE expected) */
			fl_violation("%s: write of %zu bytes at offset %llu -> %s", x->what, n,
				     (unsigned long long)x->moved, pl_err(rc));
			return 1;
		}
		x->moved += n;
		pl_publish(x);
		pl_maybe_pause(x, &r);
	}
	return 0;
}

/* Check got bytes at the reader's offset and count them. */
static int pl_accept(struct pl_xfer *x, const unsigned char *buf, size_t got)
{
	size_t bad = pl_stream_check(x->seed, x->moved, buf, got);

	if (bad != got) {
		fl_violation("%s: byte %llu of the stream is 0x%02x, not the one written (lost, "
			     "duplicated or reordered data)", x->what,
			     (unsigned long long)(x->moved + bad), buf[bad]);
		return 1;
	}
	x->moved += got;
	pl_publish(x);
	return 0;
}

/* With a known total: the request that straddles the end must deliver the
 * rest and say -ENODATA; the next one IPC_EOD. */
static int pl_read_tail(struct pl_xfer *x, const struct pl_end *e, struct fl_rng *r,
			unsigned char *buf)
{
	size_t left = (size_t)(x->total - x->moved), n = left + 1 + fl_rng_below(r, 64), done;
	ssize_t rc = pl_chunk(x, r, e, 0, buf, n, &done, 1);

	if (pl_accept(x, buf, done))
		return 1;
	x->end_rc = rc;
	if (rc != -ENODATA || done != left) {
		fl_violation("%s: read of %zu bytes over the last %zu -> %s after %zu bytes, "
			     "expected -ENODATA after %zu", x->what, n, left, pl_err(rc), done, left);
		return 1;
	}
	rc = pl_chunk(x, r, e, 0, buf, 1 + fl_rng_below(r, 16), &done, 0);
	if (rc != IPC_EOD) {
		fl_violation("%s: read at end of file -> %s, expected IPC_EOD", x->what, pl_err(rc));
		return 1;
	}
	return 0;
}

static int pl_read_chunks(const struct pl_end *e, struct pl_xfer *x, unsigned char *buf)
{
	int until_eof = x->total == PL_UNTIL_EOF;
	struct fl_rng r;

	if (x->max_chunk == 0 || x->max_chunk > PL_MAX_CHUNK)
		x->max_chunk = PL_MAX_CHUNK;
	fl_rng_seed(&r, x->seed ^ 0x72656164ull);
	x->moved = 0, x->end_rc = 0, x->calls = 0;
	for (;;) {
		size_t n = 1 + fl_rng_below(&r, x->max_chunk), done;

		if (!until_eof && x->total - x->moved <= n)
			return pl_read_tail(x, e, &r, buf);
		/* Until EOF the count of a short final read matters: resumable. */
		ssize_t rc = pl_chunk(x, &r, e, 0, buf, n, &done, until_eof);
		if (rc == (ssize_t)n)
			done = n;
		if (pl_accept(x, buf, done))
			return 1;
		if (rc == (ssize_t)n) {
			pl_maybe_pause(x, &r);
			continue;
		}
		x->end_rc = rc;
		if (until_eof && ((rc == IPC_EOD && done == 0) || (rc == -ENODATA && done > 0)))
			return 0;
		fl_violation("%s: read of %zu bytes at offset %llu -> %s (%zu moved)", x->what, n,
			     (unsigned long long)(x->moved - done), pl_err(rc), done);
		return 1;
	}
}

/* Buffers on the heap: two streams may run in two threads of one process. */
int pl_write_stream(const struct pl_end *e, struct pl_xfer *x)
{
	unsigned char *buf = malloc(PL_MAX_CHUNK);
	int rc;

	if (buf == NULL) {
		fl_violation("%s: no memory for the stream buffer", x->what);
		return 1;
	}
	rc = pl_write_chunks(e, x, buf);
	free(buf);
	return rc;
}

int pl_read_stream(const struct pl_end *e, struct pl_xfer *x)
{
	unsigned char *buf = malloc(PL_MAX_CHUNK + 64);
	int rc;

	if (buf == NULL) {
		fl_violation("%s: no memory for the stream buffer", x->what);
		return 1;
	}
	rc = pl_read_chunks(e, x, buf);
	free(buf);
	return rc;
}
