/* SPDX-License-Identifier: MIT */
/*
 * The baseline a user would pick instead of a shared-memory buffer: a kernel
 * pipe, one write(size) per item and a read-exactly loop per item, blocking,
 * default pipe size. No batching: that is the per-item cost a user pays.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_loops.h"

/* One whole item on a descriptor (raw pipes and sockets: bench_framing.c too). */
int bench_fd_send(struct bench_ep *ep, const void *item, size_t len)
{
	for (size_t put = 0; put < len;) {
		ssize_t n = write(ep->fd, (const char *)item + put, len - put);
		if (n < 0 && errno != EINTR)
			return -errno;
		put += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/* Exactly len bytes: a pipe may hand an item over in pieces. */
ssize_t bench_fd_recv(struct bench_ep *ep, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(ep->fd, (char *)buf + got, len - got);
		if (n == 0)
			return -EPIPE;
		if (n < 0 && errno != EINTR)
			return -errno;
		got += n > 0 ? (size_t)n : 0;
	}
	return (ssize_t)len;
}

/* ---- throughput ------------------------------------------------------------ */

struct pipe_arg {
	const struct bench_cfg *cfg;
	size_t size;
	int fd[2][2]; /* [0] parent to child, [1] child to parent (ping-pong) */
};

static int pipe_consumer(void *arg, int ready_fd, void *out, size_t outlen)
{
	struct pipe_arg *a = arg;
	struct bench_ep ep = {.fd = a->fd[0][0]};
	(void)outlen;
	close(a->fd[0][1]);
	int rc = bench_child_ready(ready_fd);
	return rc < 0 ? rc : bench_consume(&ep, bench_fd_recv, a->size, a->cfg->warm_ns, out);
}

int bench_pipe_tput(const struct bench_cfg *cfg, size_t size, struct bench_tput *out)
{
	struct pipe_arg a = {.cfg = cfg, .size = size};
	struct bench_child c;
	if (pipe(a.fd[0]) != 0)
		return -errno;
	int rc = bench_spawn(&c, pipe_consumer, &a, sizeof *out);
	close(a.fd[0][0]);
	if (rc == 0 && (rc = bench_wait_ready(&c)) == 0) {
		struct bench_ep ep = {.fd = a.fd[0][1]};
		int64_t sent = bench_produce(&ep, bench_fd_send, size, cfg->warm_ns + cfg->trial_ns);
		rc = sent < 0 ? (int)sent : 0;
	}
	close(a.fd[0][1]);
	if (c.pid > 0) {
		int rc2 = bench_reap(&c, out, sizeof *out);
		rc = rc < 0 ? rc : rc2;
	}
	return rc;
}

/* ---- ping-pong ------------------------------------------------------------- */

static int pipe_ponger(void *arg, int ready_fd, void *out, size_t outlen)
{
	struct pipe_arg *a = arg;
	struct bench_ep in = {.fd = a->fd[0][0]}, back = {.fd = a->fd[1][1]};
	struct bench_rtt *r = out;
	(void)outlen;
	close(a->fd[0][1]), close(a->fd[1][0]);
	int rc = bench_child_ready(ready_fd);
	return rc < 0 ? rc : bench_pong(&in, &back, bench_fd_send, bench_fd_recv, a->size, &r->errors);
}

static int pipe_pinger(const struct bench_cfg *cfg, struct pipe_arg *a, struct bench_rtt *out)
{
	struct bench_ep to = {.fd = a->fd[0][1]}, in = {.fd = a->fd[1][0]};
	int64_t *s = malloc(sizeof *s * (size_t)cfg->rounds);
	if (!s)
		return -ENOMEM;
	int n = bench_ping(&to, &in, bench_fd_send, bench_fd_recv, a->size, cfg->warm_rounds, cfg->rounds, cfg->rtt_budget_ns,
			   s, &out->errors);
	if (n > 0) {
		out->p50_ns = bench_percentile_i64(s, n, 50);
		out->p99_ns = bench_percentile_i64(s, n, 99);
	}
	free(s);
	return n < 0 ? n : 0;
}

int bench_pipe_rtt(const struct bench_cfg *cfg, size_t size, struct bench_rtt *out)
{
	struct pipe_arg a = {.cfg = cfg, .size = size};
	struct bench_rtt child = {0};
	struct bench_child c;
	*out = (struct bench_rtt){0};
	if (pipe(a.fd[0]) != 0 || pipe(a.fd[1]) != 0)
		return -errno; /* at start-up only: a leaked pipe does not matter */
	int rc = bench_spawn(&c, pipe_ponger, &a, sizeof child);
	close(a.fd[0][0]), close(a.fd[1][1]);
	if (rc == 0 && (rc = bench_wait_ready(&c)) == 0)
		rc = pipe_pinger(cfg, &a, out);
	close(a.fd[0][1]), close(a.fd[1][0]);
	if (c.pid > 0) {
		int rc2 = bench_reap(&c, &child, sizeof child);
		rc = rc < 0 ? rc : rc2;
	}
	out->errors += child.errors;
	return rc;
}
