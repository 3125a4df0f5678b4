/* SPDX-License-Identifier: MIT */
/*
 * The subject under test, reached only through its operations table: blocking
 * put/get (timeout IPC_TIMEOUT_INFINITE), as a user of the API would call it.
 * Every buffer is created under a fresh name and unlinked as soon as every
 * party has attached, so nothing stays in /dev/shm even after a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_loops.h"

static int shm_send(struct bench_ep *ep, const void *item, size_t len)
{
	return ep->ops->put(ep->h, item, len, IPC_TIMEOUT_INFINITE);
}

static ssize_t shm_recv(struct bench_ep *ep, void *buf, size_t len)
{
	return ep->ops->get(ep->h, buf, len, IPC_TIMEOUT_INFINITE);
}

static int shm_create(const struct ipc_shmbuf_ops *ops, size_t size, char *name, size_t len)
{
	struct ipc_shmbuf_attr attr = {.capacity = BENCH_CAPACITY, .max_item = size};
	bench_name_new(name, len, ops);
	int rc = ops->create(name, &attr);
	if (rc < 0) {
		fprintf(stderr, "bench: create %s: %s\n", name, ipc_strerror(rc));
		bench_name_forget(name);
		name[0] = 0;
	}
	return rc;
}

static int shm_attach(struct bench_ep *ep, const struct ipc_shmbuf_ops *ops, const char *name, int role)
{
	ep->ops = ops;
	ep->h = NULL;
	int rc = ops->attach(name, role, &ep->h);
	if (rc < 0)
		fprintf(stderr, "bench: attach %s: %s\n", name, ipc_strerror(rc));
	return rc;
}

static int shm_detach(struct bench_ep *ep)
{
	int rc = ep->h ? ep->ops->detach(ep->h) : 0;
	ep->h = NULL;
	return rc;
}

/* ---- two processes: throughput ------------------------------------------- */

struct shm_arg {
	const struct bench_cfg *cfg;
	const struct ipc_shmbuf_ops *ops;
	size_t size;
	char name[2][64]; /* [0] parent to child, [1] child to parent */
};

static int shm_consumer(void *arg, int ready_fd, void *out, size_t outlen)
{
	struct shm_arg *a = arg;
	struct bench_ep ep;
	(void)outlen;
	int rc = shm_attach(&ep, a->ops, a->name[0], IPC_SHMBUF_CONSUMER);
	if (rc == 0 && (rc = bench_child_ready(ready_fd)) == 0)
		rc = bench_consume(&ep, shm_recv, a->size, a->cfg->warm_ns, out);
	int rc2 = shm_detach(&ep);
	return rc < 0 ? rc : rc2;
}

static int shm_producer(struct shm_arg *a, struct bench_child *c)
{
	struct bench_ep ep;
	int rc = shm_attach(&ep, a->ops, a->name[0], IPC_SHMBUF_PRODUCER);
	if (rc == 0 && (rc = bench_wait_ready(c)) == 0) {
		bench_name_done(a->name[0]);
		int64_t sent = bench_produce(&ep, shm_send, a->size, a->cfg->warm_ns + a->cfg->trial_ns);
		rc = sent < 0 ? (int)sent : 0;
	}
	int rc2 = shm_detach(&ep);
	return rc < 0 ? rc : rc2;
}

int bench_shm_tput(const struct bench_cfg *cfg, const struct ipc_shmbuf_ops *ops, size_t size,
		   struct bench_tput *out)
{
	struct shm_arg a = {.cfg = cfg, .ops = ops, .size = size};
	struct bench_child c;
	int rc = shm_create(ops, size, a.name[0], sizeof a.name[0]);
	if (rc < 0)
		return rc;
	rc = bench_spawn(&c, shm_consumer, &a, sizeof *out);
	if (rc == 0)
		rc = shm_producer(&a, &c);
	if (c.pid > 0) {
		int rc2 = bench_reap(&c, out, sizeof *out);
		rc = rc < 0 ? rc : rc2;
	}
	bench_name_done(a.name[0]); /* if a failure came first */
	return rc;
}

/* ---- one process, two threads: throughput --------------------------------- */

static int shm_pair_produce(struct bench_pair *p)
{
	int64_t sent = bench_produce(&p->prod, shm_send, p->size, p->cfg->warm_ns + p->cfg->trial_ns);
	return sent < 0 ? (int)sent : 0;
}

static int shm_pair_consume(struct bench_pair *p)
{
	return bench_consume(&p->cons, shm_recv, p->size, p->cfg->warm_ns, &p->res);
}

int bench_shm_tput_threads(const struct bench_cfg *cfg, const struct ipc_shmbuf_ops *ops, size_t size,
			   struct bench_tput *out)
{
	struct bench_pair p = {.cfg = cfg, .size = size, .produce = shm_pair_produce, .consume = shm_pair_consume};
	char name[64];
	int rc = shm_create(ops, size, name, sizeof name);
	if (rc < 0)
		return rc;
	rc = shm_attach(&p.prod, ops, name, IPC_SHMBUF_PRODUCER);
	if (rc == 0)
		rc = shm_attach(&p.cons, ops, name, IPC_SHMBUF_CONSUMER);
	bench_name_done(name);
	if (rc == 0)
		rc = bench_run_pair(&p);
	int rc2 = shm_detach(&p.prod);
	int rc3 = shm_detach(&p.cons);
	*out = p.res;
	return rc < 0 ? rc : rc2 < 0 ? rc2 : rc3;
}

/* ---- two processes: ping-pong (one buffer each way) ----------------------- */

static int shm_ponger(void *arg, int ready_fd, void *out, size_t outlen)
{
	struct shm_arg *a = arg;
	struct bench_ep in = {0}, back = {0};
	struct bench_rtt *r = out;
	(void)outlen;
	int rc = shm_attach(&in, a->ops, a->name[0], IPC_SHMBUF_CONSUMER);
	if (rc == 0)
		rc = shm_attach(&back, a->ops, a->name[1], IPC_SHMBUF_PRODUCER);
	if (rc == 0 && (rc = bench_child_ready(ready_fd)) == 0)
		rc = bench_pong(&in, &back, shm_send, shm_recv, a->size, &r->errors);
	int rc2 = shm_detach(&in);
	int rc3 = shm_detach(&back);
	return rc < 0 ? rc : rc2 < 0 ? rc2 : rc3;
}

static int shm_pinger_run(struct shm_arg *a, struct bench_ep *to, struct bench_ep *in, struct bench_rtt *out)
{
	const struct bench_cfg *cfg = a->cfg;
	int64_t *s = malloc(sizeof *s * (size_t)cfg->rounds);
	if (!s)
		return -ENOMEM;
	int n = bench_ping(to, in, shm_send, shm_recv, a->size, cfg->warm_rounds, cfg->rounds, cfg->rtt_budget_ns, s,
			   &out->errors);
	if (n > 0) {
		out->p50_ns = bench_percentile_i64(s, n, 50);
		out->p99_ns = bench_percentile_i64(s, n, 99);
	}
	free(s);
	return n < 0 ? n : 0;
}

static int shm_pinger(struct shm_arg *a, struct bench_child *c, struct bench_rtt *out)
{
	struct bench_ep to = {0}, in = {0};
	int rc = shm_attach(&to, a->ops, a->name[0], IPC_SHMBUF_PRODUCER);
	if (rc == 0)
		rc = shm_attach(&in, a->ops, a->name[1], IPC_SHMBUF_CONSUMER);
	if (rc == 0 && (rc = bench_wait_ready(c)) == 0) {
		bench_name_done(a->name[0]);
		bench_name_done(a->name[1]);
		rc = shm_pinger_run(a, &to, &in, out);
	}
	int rc2 = shm_detach(&to);
	int rc3 = shm_detach(&in);
	return rc < 0 ? rc : rc2 < 0 ? rc2 : rc3;
}

int bench_shm_rtt(const struct bench_cfg *cfg, const struct ipc_shmbuf_ops *ops, size_t size,
		  struct bench_rtt *out)
{
	struct shm_arg a = {.cfg = cfg, .ops = ops, .size = size};
	struct bench_rtt child = {0};
	struct bench_child c = {.pid = -1};
	*out = (struct bench_rtt){0};
	int rc = shm_create(ops, size, a.name[0], sizeof a.name[0]);
	if (rc == 0)
		rc = shm_create(ops, size, a.name[1], sizeof a.name[1]);
	if (rc == 0)
		rc = bench_spawn(&c, shm_ponger, &a, sizeof child);
	if (rc == 0)
		rc = shm_pinger(&a, &c, out);
	if (c.pid > 0) {
		int rc2 = bench_reap(&c, &child, sizeof child);
		rc = rc < 0 ? rc : rc2;
	}
	bench_name_done(a.name[0]);
	bench_name_done(a.name[1]);
	out->errors += child.errors;
	return rc;
}
