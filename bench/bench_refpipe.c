/* SPDX-License-Identifier: MIT */
/*
 * A pipe subject (ref-pipe by default) against the kernel's pipe, both reached
 * through their struct ipc_pipe_ops, between two processes: the parent creates
 * the pipe(s), forks, and each side closes the ends it does not use, as a
 * shell does with pipe(2). See docs/bench.md, "Pipes".
 *
 * Throughput: the parent writes `size` bytes per write for warm-up + trial
 * time, then closes its write end; the child reads with a 64 KiB buffer (as a
 * stream reader does) until end of file. The stream is checked byte-exactly:
 * every 64-byte line starts with its own stream offset, the rest of the line
 * is a fixed pattern (compared in full under --smoke), and the child's byte
 * count must equal what the parent wrote. Ping-pong: a `size`-byte message
 * carrying its sequence number goes out on one pipe and comes back on the
 * other; end of file on the first pipe ends the child.
 *
 * The same code runs a fifo subject (opened through its open(), then used
 * through its pipe view) and a msgpipe subject (one instance per direction,
 * one message per write): see docs/bench.md, "FIFOs and message pipes". And a
 * mailbox subject: one mailbox per direction, one message per write, an empty
 * message for end of file (see docs/bench.md, "Mailboxes").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fifo.h"
#include "ipc_subject.h"
#include "mailbox.h"
#include "msgpipe.h"
#include "pipe.h"

/* Until impl/pipe/ref_pipe.c is built in, this stays NULL (see bench_pipe_find). */
extern const struct ipc_subject ipc__subject_ref_pipe __attribute__((weak));

#define LINE 64
#define KEY 0x5eed5eed00000000ull /* so a stream of zeros never passes */
#define READ_CLOCK_EVERY 64       /* reads between clock reads */
#define WRITE_CLOCK_EVERY 64      /* writes between clock reads */

const struct ipc_subject *bench_subject_find(uint32_t mech, const char *name)
{
	size_t n = 0;
	const struct ipc_subject *list = ipc_registry_subjects(&n);
	for (size_t i = 0; i < n; i++)
		if (list[i].mechanism == mech && list[i].name && strcmp(list[i].name, name) == 0)
			return list[i].ops ? &list[i] : NULL;
	if (mech == IPC_MECH_PIPE && strcmp(name, "ref-pipe") == 0 && &ipc__subject_ref_pipe != NULL)
		return &ipc__subject_ref_pipe;
	return NULL;
}

const struct ipc_subject *bench_pipe_find(const char *name)
{
	return bench_subject_find(IPC_MECH_PIPE, name);
}

/* The pipe view: a FIFO's handles are pipe ends (spec/fifo.h). */
static const struct ipc_pipe_ops *ops_of(const struct ipc_subject *s)
{
	if (s->mechanism == IPC_MECH_FIFO)
		return ((const struct ipc_fifo_ops *)s->ops)->pipe;
	return s->ops;
}

static const struct ipc_msgpipe_ops *msg_ops(const struct ipc_subject *s)
{
	return s->mechanism == IPC_MECH_MSGPIPE ? s->ops : NULL;
}

static const struct ipc_mailbox_ops *mb_ops(const struct ipc_subject *s)
{
	return s->mechanism == IPC_MECH_MAILBOX ? s->ops : NULL;
}

/* ---- one end, whatever the mechanism: a pipe end, a msgpipe instance end, a mailbox ---- */

/* A mailbox's end of file is an empty message: the kernel queues
 * (native-posix-mq, native-sysv-msg) have no end of stream, so every subject
 * gets the same marker, and the benchmark never sends an empty message
 * otherwise. IPC_EOD (ref-mailbox's own end of stream: the writer closed
 * without the marker, after a failure) ends the reader too; its byte count
 * then tells. */
static ssize_t mailbox_read(const struct ipc_mailbox_ops *mb, void *end, void *buf, size_t len)
{
	ssize_t n = mb->recv(end, buf, len, IPC_TIMEOUT_INFINITE);
	return n == IPC_EOD ? 0 : n;
}

static ssize_t end_read(const struct ipc_subject *s, void *end, void *buf, size_t len)
{
	const struct ipc_msgpipe_ops *m = msg_ops(s);
	if (mb_ops(s))
		return mailbox_read(mb_ops(s), end, buf, len);
	if (!m)
		return ops_of(s)->read(end, buf, len);
	ssize_t n = m->recv(end, buf, len);
	return n == IPC_EOD ? 0 : n; /* the benchmark never sends an empty message */
}

/* One write is one message for a msgpipe or a mailbox; a mailbox's send says
 * 0 for the whole message, so it counts as len bytes written. */
static ssize_t end_write(const struct ipc_subject *s, void *end, const void *buf, size_t len)
{
	const struct ipc_msgpipe_ops *m = msg_ops(s);
	if (mb_ops(s)) {
		int rc = mb_ops(s)->send(end, buf, len, IPC_TIMEOUT_INFINITE);
		return rc < 0 ? rc : (ssize_t)len;
	}
	return m ? m->send(end, buf, len) : ops_of(s)->write(end, buf, len);
}

/* A FIFO at a fresh path, opened with each end through the subject's open():
 * the read end non-blocking first (so neither open waits), then made blocking. */
static int fifo_create(const struct ipc_subject *s, char *path, size_t len, void **rd, void **wr)
{
	const struct ipc_fifo_ops *f = s->ops;
	bench_path_new_fn(path, len, f->unlink);
	int rc = f->mkfifo(path, 0600);
	if (rc == 0)
		rc = f->open(path, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK, (struct ipc_pipe **)rd);
	if (rc == 0)
		rc = f->open(path, IPC_FIFO_WRONLY, (struct ipc_pipe **)wr);
	if (rc == 0)
		rc = f->pipe->set_nonblock(*rd, 0);
	return rc;
}

/* One msgpipe instance, made as two unrelated processes make it: the parent
 * creates the name (*srv), the child connects by name (msgpipe_child_end)
 * and the parent accepts once the child is ready (msgpipe_parent_end). An
 * end need not survive fork (ref-msgpipe's do not), so none is made before. */
static int msgpipe_create(const struct ipc_subject *s, char *name, size_t len, void **srv)
{
	const struct ipc_msgpipe_ops *m = s->ops;
	struct ipc_msgpipe_attr attr = {.flags = 0, .max_msg = 0};
	bench_name_new_fn(name, len, m->unlink);
	return m->create(name, &attr, (struct ipc_msgpipe_server **)srv);
}

static int msgpipe_child_end(const struct ipc_subject *s, const char *name, void **end)
{
	struct ipc_msgpipe_attr attr = {.flags = 0, .max_msg = 0};
	return msg_ops(s) ? msg_ops(s)->connect(name, &attr, (struct ipc_msgpipe **)end) : 0;
}

static int msgpipe_server_close(const struct ipc_subject *s, void **srv)
{
	int rc = *srv ? msg_ops(s)->server_close(*srv) : 0;
	*srv = NULL;
	return rc;
}

/* The server's end of the child's instance; the server is closed either way. */
static int msgpipe_parent_end(const struct ipc_subject *s, void **srv, void **end)
{
	if (!*srv)
		return 0;
	int rc = msg_ops(s)->accept(*srv, 1000000000, (struct ipc_msgpipe **)end);
	int r = msgpipe_server_close(s, srv);
	return rc < 0 ? rc : r;
}

/* A mailbox, made the same for every subject: capacity 10 (POSIX mq's
 * msg_max for an unprivileged process), max_msg the message size, mode 0600.
 * Nothing is opened: a ref-mailbox handle belongs to the process that opened
 * it, so each side opens its own by name (mailbox_end) once forked. */
static int mailbox_create(const struct ipc_subject *s, char *name, size_t len, size_t size)
{
	struct ipc_mailbox_attr attr = {
	    .capacity = 10, .max_msg = size, .mode = 0600, .mem_limit = 0};
	bench_name_new_fn(name, len, mb_ops(s)->unlink);
	return mb_ops(s)->create(name, &attr);
}

/* This process's end of mailbox name in role flags (IPC_MAILBOX_SEND or
 * RECV); nothing for another mechanism, whose ends exist already. */
static int mailbox_end(const struct ipc_subject *s, const char *name, uint32_t flags, void **end)
{
	return mb_ops(s) ? mb_ops(s)->open(name, flags, (struct ipc_mailbox **)end) : 0;
}

/* Once both processes hold their ends the name can go (the ends keep
 * working), except a mailbox's: its unlink ends every call on it (-EIDRM),
 * so it is removed after the trial, when both sides have closed. */
static void name_attached(const struct ipc_subject *s, const char *name)
{
	if (!mb_ops(s))
		bench_name_done(name);
}

/* A name for create(); registered so the watchdog can unlink it. For a
 * msgpipe, *srv and no end (see msgpipe_create); for a mailbox, no end
 * (mailbox_create), its max_msg is size. */
static int pipe_create(const struct ipc_subject *s, char *name, size_t len, size_t size, void **rd,
		       void **wr, void **srv)
{
	struct ipc_pipe_attr attr = {.flags = 0, .capacity = 0}; /* the subject's default, as a user gets it */
	int (*rm)(const char *);
	int rc;
	if (s->mechanism == IPC_MECH_FIFO) {
		rm = ((const struct ipc_fifo_ops *)s->ops)->unlink;
		rc = fifo_create(s, name, len, rd, wr);
	} else if (s->mechanism == IPC_MECH_MSGPIPE) {
		rm = msg_ops(s)->unlink;
		rc = msgpipe_create(s, name, len, srv);
	} else if (mb_ops(s)) {
		rm = mb_ops(s)->unlink;
		rc = mailbox_create(s, name, len, size);
	} else {
		rm = ops_of(s)->unlink;
		bench_name_new_fn(name, len, rm);
		rc = ops_of(s)->create(name, &attr, (struct ipc_pipe **)rd, (struct ipc_pipe **)wr);
	}
	if (rc < 0) {
		fprintf(stderr, "bench: %s create: %s\n", s->name, ipc_strerror(rc));
		bench_name_forget(name);
		if (rm)
			rm(name); /* whatever a failed create left behind */
		name[0] = 0;
	}
	return rc;
}

static void pipe_close(const struct ipc_subject *s, void **end, int *rc)
{
	if (*end) {
		int r = mb_ops(s)    ? mb_ops(s)->close(*end)
			: msg_ops(s) ? msg_ops(s)->close(*end)
				     : ops_of(s)->close(*end);
		if (r < 0 && *rc == 0)
			*rc = r;
		*end = NULL;
	}
}

/* The writer's last act: close, after the end marker for a mailbox (see
 * mailbox_read). Sent on a failed trial too, so a reader still waiting ends. */
static void writer_close(const struct ipc_subject *s, void **end, int *rc)
{
	if (*end && mb_ops(s)) {
		int r = mb_ops(s)->send(*end, "", 0, IPC_TIMEOUT_INFINITE);
		if (r < 0 && *rc == 0)
			*rc = r;
	}
	pipe_close(s, end, rc);
}

static int write_all(const struct ipc_subject *s, void *wr, const void *buf, size_t len)
{
	for (size_t put = 0; put < len;) {
		ssize_t n = end_write(s, wr, (const char *)buf + put, len - put);
		if (n < 0 && n != -EINTR)
			return (int)n;
		put += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/* Exactly len bytes; 0 at end of file before the first byte, -EPIPE after it. */
static ssize_t read_exact(const struct ipc_subject *s, void *rd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = end_read(s, rd, (char *)buf + got, len - got);
		if (n == 0)
			return got == 0 ? 0 : -EPIPE;
		if (n < 0 && n != -EINTR)
			return n;
		got += n > 0 ? (size_t)n : 0;
	}
	return (ssize_t)got;
}

/* ---- the stream: line stamps --------------------------------------------------- */

static void line_pattern(unsigned char *line)
{
	for (int i = 0; i < LINE; i++)
		line[i] = (unsigned char)(i * 37 + 11);
}

/* A write of size bytes (a multiple of LINE) that starts at stream offset off. */
static inline void stream_stamp(unsigned char *buf, size_t size, uint64_t off)
{
	for (size_t i = 0; i < size; i += LINE) {
		uint64_t v = (off + i) ^ KEY;
		memcpy(buf + i, &v, sizeof v);
	}
}

struct reader_state {
	unsigned char pattern[LINE];
	bool full; /* compare every byte, not only the stamps */
	uint64_t off; /* stream offset of the first unchecked byte */
	uint64_t errors;
};

/* Check the whole lines in buf[0, len); the number of bytes checked. */
static size_t stream_check(struct reader_state *st, const unsigned char *buf, size_t len)
{
	size_t i = 0;
	for (; i + LINE <= len; i += LINE, st->off += LINE) {
		uint64_t v;
		memcpy(&v, buf + i, sizeof v);
		bool bad = v != (st->off ^ KEY);
		if (!bad && st->full)
			bad = memcmp(buf + i + 8, st->pattern + 8, LINE - 8) != 0;
		if (bad && ++st->errors <= 3)
			fprintf(stderr, "bench: reader: line at stream offset %llu carries offset %llu%s\n",
				(unsigned long long)st->off, (unsigned long long)(v ^ KEY),
				v == (st->off ^ KEY) ? " (stamp right, bytes after it wrong)" : "");
	}
	return i;
}

/* ---- throughput ------------------------------------------------------------------ */

struct tput_arg {
	const struct bench_cfg *cfg;
	const struct ipc_subject *s;
	size_t size;
	void *rd, *wr; /* struct ipc_pipe, or struct ipc_msgpipe for msgpipe */
	void *srv;     /* msgpipe: the parent's server until it accepts */
	const char *name;
};

/* What the reader sends back (bench_child_main allows 256 bytes). */
struct tput_result {
	uint64_t bytes;  /* every byte read, to compare with what was written */
	uint64_t window; /* bytes read in the timed window */
	int64_t ns;      /* length of the timed window */
	uint64_t reads, errors;
	int64_t cpu_ns; /* the reader's CPU time, first read to end of file */
};

static int tput_reader_loop(const struct tput_arg *a, unsigned char *buf, struct tput_result *r)
{
	struct reader_state st = {.full = a->cfg->verify_all};
	int64_t first = 0, mark_t = 0;
	uint64_t mark_b = 0;
	size_t have = 0; /* bytes of a partial line kept at the start of buf */

	int64_t cpu0 = bench_thread_cpu_ns();
	line_pattern(st.pattern);
	for (;;) {
		ssize_t n = end_read(a->s, a->rd, buf + have, BENCH_PIPE_READ);
		if (n == 0)
			break;
		if (n < 0) {
			if (n == -EINTR)
				continue;
			return (int)n;
		}
		if (r->reads++ % READ_CLOCK_EVERY == 0) {
			int64_t now = bench_now_ns();
			if (first == 0)
				first = now;
			else if (mark_t == 0 && now - first >= a->cfg->warm_ns)
				mark_t = now, mark_b = r->bytes;
		}
		r->bytes += (uint64_t)n;
		have += (size_t)n;
		size_t done = stream_check(&st, buf, have);
		have -= done;
		if (have)
			memmove(buf, buf + done, have);
	}
	int64_t end = bench_now_ns();
	r->cpu_ns = bench_thread_cpu_ns() - cpu0;
	if (mark_t == 0) /* a run shorter than the warm-up: time all of it */
		mark_t = first, mark_b = 0;
	r->ns = end - mark_t;
	r->window = r->bytes - mark_b;
	r->errors = st.errors + (have != 0); /* the stream ended inside a line */
	return 0;
}

static int tput_reader(void *arg, int ready_fd, void *out, size_t outlen)
{
	struct tput_arg *a = arg;
	struct tput_result *r = out;
	int rc = 0;
	(void)outlen;
	pipe_close(a->s, &a->wr, &rc); /* the child's copy of the write end */
	if (rc == 0)
		rc = msgpipe_child_end(a->s, a->name, &a->rd);
	if (rc == 0)
		rc = mailbox_end(a->s, a->name, IPC_MAILBOX_RECV, &a->rd);
	unsigned char *buf = malloc(BENCH_PIPE_READ + LINE);
	if (rc == 0 && !buf)
		rc = -ENOMEM;
	if (rc == 0)
		rc = bench_child_ready(ready_fd);
	if (rc == 0)
		rc = tput_reader_loop(a, buf, r);
	free(buf);
	pipe_close(a->s, &a->rd, &rc);
	return rc;
}

/* Write for duration_ns; the number of writes, or a negative errno. */
static int64_t tput_writer(const struct tput_arg *a, int64_t duration_ns)
{
	unsigned char *buf = aligned_alloc(LINE, a->size);
	int64_t end = bench_now_ns() + duration_ns, k = 0;
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < a->size; i += LINE)
		line_pattern(buf + i);
	for (;; k++) {
		if (k % WRITE_CLOCK_EVERY == 0 && bench_now_ns() >= end)
			break;
		stream_stamp(buf, a->size, (uint64_t)k * a->size);
		int rc = write_all(a->s, a->wr, buf, a->size);
		if (rc < 0) {
			free(buf);
			return rc;
		}
	}
	free(buf);
	return k;
}

int bench_pipe_subject_tput(const struct bench_cfg *cfg, const struct ipc_subject *s, size_t size,
			    struct bench_tput *out)
{
	struct tput_result r = {0};
	struct bench_child c = {.pid = -1};
	char name[256];
	struct tput_arg a = {.cfg = cfg, .s = s, .size = size, .name = name};
	int64_t writes = -1, cpu = 0;
	*out = (struct bench_tput){0};
	if (size % LINE || size == 0)
		return -EINVAL;
	signal(SIGPIPE, SIG_IGN); /* a dead reader is an error to report, not our death */
	int rc = pipe_create(s, name, sizeof name, size, &a.rd, &a.wr, &a.srv);
	if (rc == 0)
		rc = bench_spawn(&c, tput_reader, &a, sizeof r);
	pipe_close(s, &a.rd, &rc); /* the parent's copy of the read end */
	if (rc == 0 && (rc = bench_wait_ready(&c)) == 0)
		rc = msgpipe_parent_end(s, &a.srv, &a.wr);
	if (rc == 0)
		rc = mailbox_end(s, name, IPC_MAILBOX_SEND, &a.wr);
	(void)msgpipe_server_close(s, &a.srv); /* a failed start: no instance to serve */
	if (rc == 0) {
		name_attached(s, name); /* both processes hold their ends */
		cpu = bench_thread_cpu_ns();
		writes = tput_writer(&a, cfg->warm_ns + cfg->trial_ns);
		cpu = bench_thread_cpu_ns() - cpu;
		rc = writes < 0 ? (int)writes : 0;
	}
	writer_close(s, &a.wr, &rc); /* end of file for the reader */
	/* A failed trial: unlink now, so a reader blocked in a mailbox wakes (-EIDRM). */
	if (rc < 0 && name[0])
		bench_name_done(name);
	if (c.pid > 0) {
		int rc2 = bench_reap(&c, &r, sizeof r);
		rc = rc < 0 ? rc : rc2;
	}
	if (name[0])
		bench_name_done(name);
	if (rc == 0 && r.bytes != (uint64_t)writes * size) {
		fprintf(stderr, "bench: %s: %lld writes of %zu B sent, %llu bytes received\n", s->name,
			(long long)writes, size, (unsigned long long)r.bytes);
		r.errors++;
	}
	*out = (struct bench_tput){.items = r.window / size, .ns = r.ns, .errors = r.errors};
	if (writes > 0)
		out->cpu_ns = (double)(cpu + r.cpu_ns) / (double)writes;
	return rc;
}

/* ---- ping-pong ---------------------------------------------------------------------- */

struct rtt_arg {
	const struct bench_cfg *cfg;
	const struct ipc_subject *s;
	size_t size;
	void *rd[2], *wr[2]; /* [0] parent to child, [1] child to parent */
	void *srv[2];        /* msgpipe: the parent's servers until it accepts */
	char name[2][256];
};

/* The message of round i: its sequence number in the first and the last 8
 * bytes (as many of them as fit), a fixed byte in between. */
static void msg_stamp(unsigned char *m, size_t size, uint64_t i)
{
	unsigned char seq[8];
	memcpy(seq, &i, sizeof seq);
	memset(m, 0xa5, size);
	memcpy(m, seq, size < 8 ? size : 8);
	if (size >= 16)
		memcpy(m + size - 8, seq, 8);
}

static bool msg_ok(const unsigned char *m, size_t size, uint64_t i, unsigned char *want)
{
	msg_stamp(want, size, i);
	return memcmp(m, want, size) == 0;
}

struct rtt_child_result {
	uint64_t rounds, errors;
	int64_t cpu_ns; /* the echo's CPU time */
};

static int rtt_echo(void *arg, int ready_fd, void *out, size_t outlen)
{
	struct rtt_arg *a = arg;
	struct rtt_child_result *r = out;
	unsigned char *buf = malloc(2 * a->size);
	int rc = 0;
	(void)outlen;
	pipe_close(a->s, &a->wr[0], &rc);
	pipe_close(a->s, &a->rd[1], &rc);
	if (rc == 0)
		rc = msgpipe_child_end(a->s, a->name[0], &a->rd[0]);
	if (rc == 0)
		rc = msgpipe_child_end(a->s, a->name[1], &a->wr[1]);
	if (rc == 0)
		rc = mailbox_end(a->s, a->name[0], IPC_MAILBOX_RECV, &a->rd[0]);
	if (rc == 0)
		rc = mailbox_end(a->s, a->name[1], IPC_MAILBOX_SEND, &a->wr[1]);
	if (rc == 0 && !buf)
		rc = -ENOMEM;
	if (rc == 0)
		rc = bench_child_ready(ready_fd);
	int64_t cpu0 = bench_thread_cpu_ns();
	for (uint64_t i = 0; rc == 0; i++) {
		ssize_t n = read_exact(a->s, a->rd[0], buf, a->size);
		if (n <= 0) {
			rc = (int)n; /* 0: end of file, the normal end */
			break;
		}
		if (!msg_ok(buf, a->size, i, buf + a->size) && ++r->errors <= 3)
			fprintf(stderr, "bench: echo: message %llu is wrong\n", (unsigned long long)i);
		rc = write_all(a->s, a->wr[1], buf, a->size);
		r->rounds++;
	}
	r->cpu_ns = bench_thread_cpu_ns() - cpu0;
	free(buf);
	pipe_close(a->s, &a->rd[0], &rc);
	pipe_close(a->s, &a->wr[1], &rc);
	return rc;
}

/* Up to cfg->rounds recorded round trips after cfg->warm_rounds, within the budget. */
static int rtt_ping(struct rtt_arg *a, int64_t *samples, uint64_t *sent, uint64_t *errors)
{
	const struct bench_cfg *cfg = a->cfg;
	unsigned char *m = malloc(3 * a->size);
	int64_t end = INT64_MAX;
	int k = 0, rc = 0;
	if (!m)
		return -ENOMEM;
	for (uint64_t i = 0; k < cfg->rounds; i++) {
		if (i == (uint64_t)cfg->warm_rounds)
			end = bench_now_ns() + cfg->rtt_budget_ns;
		msg_stamp(m, a->size, i);
		int64_t t0 = bench_now_ns();
		rc = write_all(a->s, a->wr[0], m, a->size);
		ssize_t n = rc < 0 ? rc : read_exact(a->s, a->rd[1], m + a->size, a->size);
		int64_t t1 = bench_now_ns();
		*sent = i + 1;
		if (n <= 0) {
			rc = n == 0 ? -EPIPE : (int)n;
			break;
		}
		if (!msg_ok(m + a->size, a->size, i, m + 2 * a->size) && ++*errors <= 3)
			fprintf(stderr, "bench: ping: echo of message %llu is wrong\n", (unsigned long long)i);
		if (i >= (uint64_t)cfg->warm_rounds && (samples[k++] = t1 - t0, t1 >= end))
			break;
	}
	free(m);
	return rc < 0 ? rc : k;
}

int bench_pipe_subject_rtt(const struct bench_cfg *cfg, const struct ipc_subject *s, size_t size,
			   struct bench_rtt *out)
{
	struct rtt_arg a = {.cfg = cfg, .s = s, .size = size};
	struct rtt_child_result child = {0};
	struct bench_child c = {.pid = -1};
	char(*name)[256] = a.name;
	int64_t *samples = malloc(sizeof *samples * (size_t)cfg->rounds);
	uint64_t sent = 0;
	int64_t cpu = 0;
	*out = (struct bench_rtt){0};
	signal(SIGPIPE, SIG_IGN);
	int rc = samples ? 0 : -ENOMEM, k = 0;
	for (int d = 0; d < 2 && rc == 0; d++)
		rc = pipe_create(s, name[d], sizeof name[d], size, &a.rd[d], &a.wr[d], &a.srv[d]);
	if (rc == 0)
		rc = bench_spawn(&c, rtt_echo, &a, sizeof child);
	pipe_close(s, &a.rd[0], &rc);
	pipe_close(s, &a.wr[1], &rc);
	if (rc == 0 && (rc = bench_wait_ready(&c)) == 0)
		rc = msgpipe_parent_end(s, &a.srv[0], &a.wr[0]);
	if (rc == 0)
		rc = msgpipe_parent_end(s, &a.srv[1], &a.rd[1]);
	if (rc == 0)
		rc = mailbox_end(s, name[0], IPC_MAILBOX_SEND, &a.wr[0]);
	if (rc == 0)
		rc = mailbox_end(s, name[1], IPC_MAILBOX_RECV, &a.rd[1]);
	for (int d = 0; d < 2; d++)
		(void)msgpipe_server_close(s, &a.srv[d]); /* a failed start */
	if (rc == 0) {
		name_attached(s, name[0]);
		name_attached(s, name[1]);
		cpu = bench_thread_cpu_ns();
		k = rtt_ping(&a, samples, &sent, &out->errors);
		cpu = bench_thread_cpu_ns() - cpu;
		rc = k < 0 ? k : 0;
	}
	writer_close(s, &a.wr[0], &rc); /* end of file: the echo ends */
	/* A failed trial: unlink now, so an echo blocked in a mailbox wakes (-EIDRM). */
	for (int d = 0; d < 2 && rc < 0; d++)
		if (name[d][0])
			bench_name_done(name[d]);
	if (c.pid > 0) {
		int rc2 = bench_reap(&c, &child, sizeof child);
		rc = rc < 0 ? rc : rc2;
	}
	pipe_close(s, &a.rd[1], &rc);
	pipe_close(s, &a.rd[0], &rc);
	pipe_close(s, &a.wr[1], &rc);
	for (int d = 0; d < 2; d++)
		if (name[d][0])
			bench_name_done(name[d]);
	if (rc == 0 && k > 0) {
		out->p50_ns = bench_percentile_i64(samples, k, 50);
		out->p99_ns = bench_percentile_i64(samples, k, 99);
		out->cpu_ns = (double)(cpu + child.cpu_ns) / (double)sent; /* every round, warm-up too */
	}
	if (rc == 0 && child.rounds != sent) {
		fprintf(stderr, "bench: %s: %llu messages sent, %llu echoed\n", s->name, (unsigned long long)sent,
			(unsigned long long)child.rounds);
		out->errors++;
	}
	out->errors += child.errors;
	free(samples);
	return rc;
}
