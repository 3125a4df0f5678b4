/* SPDX-License-Identifier: MIT */
/*
 * Framing (issue 6, deliverable 7): framed messages per second through a
 * framing subject's send / recv (framing-unix-stream, framing-tcp) against
 * raw writes of the same payload over the same transport (the subject's own
 * pair(): an AF_UNIX stream socketpair, a TCP connection on 127.0.0.1), one
 * write(size) per item and a read-exactly loop per item. Two processes,
 * blocking calls, default socket buffers. The framed side pays the 20-byte
 * header, two CRC-32C passes (sender and receiver) and the copy of each
 * payload out of the decoder into the consumer's buffer.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bench_loops.h"
#include "framing.h"
#include "ipc_subject.h"

/* One side of a framed transport, carried in bench_ep.ring. */
struct frm_side {
	const struct ipc_framing_ops *ops;
	struct ipc_framing_tx *tx;
	struct ipc_framing_rx *rx;
};

static int frm_send(struct bench_ep *ep, const void *item, size_t len)
{
	struct frm_side *s = ep->ring;
	struct ipc_framing_frame f = {.type = 1, .len = (uint32_t)len, .payload = item};
	ssize_t n = s->ops->send(s->tx, &f, -1);
	return n < 0 ? (int)n : 0;
}

static ssize_t frm_recv(struct bench_ep *ep, void *buf, size_t len)
{
	struct frm_side *s = ep->ring;
	struct ipc_framing_frame f;
	ssize_t n = s->ops->recv(s->rx, &f, -1);
	if (n < 0)
		return n == IPC_EOD ? -EPIPE : n;
	memcpy(buf, f.payload, (size_t)n < len ? (size_t)n : len);
	return n;
}

struct frm_arg {
	const struct bench_cfg *cfg;
	const struct ipc_framing_ops *ops;
	size_t size;
	bool framed;
	int fds[2]; /* [0] the producer writes, [1] the consumer reads */
};

static int frm_consumer(void *arg, int ready_fd, void *out, size_t outlen)
{
	struct frm_arg *a = arg;
	struct frm_side s = {.ops = a->ops};
	struct bench_ep ep = {.fd = a->fds[1], .ring = &s};
	(void)outlen;
	close(a->fds[0]);
	if (a->framed && a->ops->rx_open(a->fds[1], BENCH_MAX_ITEM, &s.rx) != 0)
		return -ENOMEM;
	int rc = bench_child_ready(ready_fd);
	int64_t cpu0 = bench_thread_cpu_ns();
	if (rc == 0)
		rc = a->framed ? bench_consume(&ep, frm_recv, a->size, a->cfg->warm_ns, out)
			       : bench_consume(&ep, bench_fd_recv, a->size, a->cfg->warm_ns, out);
	/* This side's CPU time, every item: the parent divides the sum. */
	((struct bench_tput *)out)->cpu_ns = (double)(bench_thread_cpu_ns() - cpu0);
	if (s.rx)
		a->ops->rx_close(s.rx);
	return rc;
}

/* The number of items sent (end marker included), *cpu this side's CPU time. */
static int64_t frm_producer(struct frm_arg *a, int64_t *cpu)
{
	struct frm_side s = {.ops = a->ops};
	struct bench_ep ep = {.fd = a->fds[0], .ring = &s};
	int64_t d = a->cfg->warm_ns + a->cfg->trial_ns, sent, cpu0 = bench_thread_cpu_ns();

	if (!a->framed)
		sent = bench_produce(&ep, bench_fd_send, a->size, d);
	else if (a->ops->tx_open(a->fds[0], &s.tx) != 0)
		return -ENOMEM;
	else
		sent = bench_produce(&ep, frm_send, a->size, d);
	*cpu = bench_thread_cpu_ns() - cpu0;
	if (s.tx)
		a->ops->tx_close(s.tx);
	return sent < 0 ? sent : sent + 1;
}

int bench_framing_tput(const struct bench_cfg *cfg, const struct ipc_subject *s, bool framed,
		       size_t size, struct bench_tput *out)
{
	struct frm_arg a = {.cfg = cfg, .ops = s->ops, .size = size, .framed = framed};
	struct bench_child c;
	int64_t sent = 0, cpu = 0;
	int rc = a.ops->pair(0, a.fds);
	if (rc != 0)
		return rc;
	rc = bench_spawn(&c, frm_consumer, &a, sizeof *out);
	close(a.fds[1]);
	if (rc == 0 && (rc = bench_wait_ready(&c)) == 0)
		sent = frm_producer(&a, &cpu), rc = sent < 0 ? (int)sent : 0;
	close(a.fds[0]);
	if (c.pid > 0) {
		int rc2 = bench_reap(&c, out, sizeof *out);
		rc = rc < 0 ? rc : rc2;
	}
	out->cpu_ns = sent > 0 ? (out->cpu_ns + (double)cpu) / (double)sent : 0;
	return rc;
}
