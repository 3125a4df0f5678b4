/* SPDX-License-Identifier: MIT */
/*
 * ipcspec-bench [--subject NAME] [--trials N] [--time S] [--warm S]
 *               [--rounds N] [--rtt-budget S] [--json PATH] [--smoke]
 *               [--only WORKLOAD] [--size BYTES]
 *
 * Runs every workload at 8, 64 and 4096 bytes, subject and baseline
 * interleaved trial by trial (ABAB...), prints the table and the acceptance
 * ratios, writes JSON. Exit status: 0 when every item arrived in order and
 * every trial ran, 1 otherwise. Timings are reported, never gated on.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ipc_subject.h"

struct bench_ctx {
	struct bench_cfg cfg;
	const struct ipc_shmbuf_ops *ops;
	int failures; /* trials that failed or delivered a wrong item */
};

typedef int (*bench_trial_fn)(struct bench_ctx *x, size_t size, struct bench_row *row, int t);

/* ---- one trial of each kind, recorded into its row ------------------------- */

static int record_tput(struct bench_row *row, int t, int rc, const struct bench_tput *r)
{
	bool ok = rc == 0 && r->items > 0 && r->ns > 0;
	row->ips[t] = ok ? (double)r->items * 1e9 / (double)r->ns : NAN;
	if (rc < 0)
		fprintf(stderr, "bench: %s %s %zu B: %s\n", row->workload, row->subject, row->size, ipc_strerror(rc));
	return rc < 0 || r->errors ? -1 : 0;
}

static int record_rtt(struct bench_row *row, int t, int rc, const struct bench_rtt *r)
{
	row->p50[t] = rc == 0 ? r->p50_ns : NAN;
	row->p99[t] = rc == 0 ? r->p99_ns : NAN;
	if (rc < 0)
		fprintf(stderr, "bench: %s %s %zu B: %s\n", row->workload, row->subject, row->size, ipc_strerror(rc));
	return rc < 0 || r->errors ? -1 : 0;
}

static int t_shm_tput(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_shm_tput(&x->cfg, x->ops, size, &r), &r);
}

static int t_pipe_tput(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_pipe_tput(&x->cfg, size, &r), &r);
}

static int t_shm_threads(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_shm_tput_threads(&x->cfg, x->ops, size, &r), &r);
}

static int t_ck_tput(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_ck_tput(&x->cfg, size, &r), &r);
}

static int t_shm_rtt(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_rtt r = {0};
	return record_rtt(row, t, bench_shm_rtt(&x->cfg, x->ops, size, &r), &r);
}

static int t_pipe_rtt(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_rtt r = {0};
	return record_rtt(row, t, bench_pipe_rtt(&x->cfg, size, &r), &r);
}

/* ---- the matrix ------------------------------------------------------------ */

static const struct bench_workload {
	const char *name;
	bool rtt, cross_process;
	bench_trial_fn subject;
	const char *baseline;
	bench_trial_fn base;
} workloads[] = {
	{"2proc-throughput", false, true, t_shm_tput, "pipe", t_pipe_tput},
	{"1proc-throughput", false, false, t_shm_threads, "ck_ring", t_ck_tput},
	{"2proc-pingpong", true, true, t_shm_rtt, "pipe", t_pipe_rtt},
};
static const size_t sizes[] = {8, 64, 4096};
#define N_WORK (sizeof workloads / sizeof *workloads)
#define N_SIZES (sizeof sizes / sizeof *sizes)

static void row_init(struct bench_row *r, const char *subject, const struct bench_workload *w, size_t size)
{
	*r = (struct bench_row){.subject = subject, .workload = w->name, .size = size, .is_rtt = w->rtt};
	for (int i = 0; i < BENCH_MAX_TRIALS; i++)
		r->ips[i] = r->p50[i] = r->p99[i] = r->wait[i] = NAN;
}

/* Subject and baseline alternate trial by trial, each under the watchdog. */
static void run_cell(struct bench_ctx *x, const struct bench_workload *w, size_t size, struct bench_row *rows)
{
	fflush(stdout); /* keep the header ahead of the progress dots in a log */
	fprintf(stderr, "bench: %-16s %4zu B ", w->name, size);
	for (int t = 0; t < x->cfg.trials; t++) {
		for (int k = 0; k < 2; k++) {
			int64_t w0 = bench_cpu_wait_us(), t0 = bench_now_ns();
			bench_watchdog_arm();
			int rc = (k == 0 ? w->subject : w->base)(x, size, &rows[k], t);
			bench_watchdog_disarm();
			int64_t w1 = bench_cpu_wait_us(), t1 = bench_now_ns();
			rows[k].wait[t] = w0 < 0 || w1 < 0 ? NAN : (w1 - w0) * 1e3 / (double)(t1 - t0);
			x->failures += rc < 0;
			rows[k].n = t + 1;
			fputc(rc < 0 ? 'X' : '.', stderr);
		}
	}
	fputc('\n', stderr);
}

/* Fill rows (2 per workload and size); the number of rows filled. */
static int run_all(struct bench_ctx *x, const struct ipc_subject *s, struct bench_row *rows)
{
	int n = 0;
	for (size_t i = 0; i < N_WORK; i++) {
		const struct bench_workload *w = &workloads[i];
		if (w->cross_process && !(s->caps & IPC_SHMBUF_CAP_CROSS_PROCESS)) {
			printf("note: %s lacks CROSS_PROCESS: %s skipped\n", s->name, w->name);
			continue;
		}
		if (x->cfg.only && strcmp(x->cfg.only, w->name) != 0)
			continue;
		for (size_t j = 0; j < N_SIZES; j++, n += 2) {
			if (x->cfg.size && x->cfg.size != sizes[j]) {
				n -= 2;
				continue;
			}
			row_init(&rows[n], s->name, w, sizes[j]);
			row_init(&rows[n + 1], w->baseline, w, sizes[j]);
			rows[n].base = &rows[n + 1];
			run_cell(x, w, sizes[j], &rows[n]);
		}
	}
	return n;
}

/* ---- set-up ---------------------------------------------------------------- */

static const struct ipc_subject *find_subject(const char *name)
{
	size_t n = 0;
	const struct ipc_subject *list = ipc_registry_subjects(&n);
	for (size_t i = 0; i < n; i++) {
		const struct ipc_subject *s = &list[i];
		if (s->abi_version == IPC_SUBJECT_ABI_VERSION && s->mechanism == IPC_MECH_SHMBUF && s->name &&
		    strcmp(s->name, name) == 0)
			return s->ops ? s : NULL;
	}
	fprintf(stderr, "bench: no shmbuf subject named %s; the registry has:", name);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %s", list[i].name);
	fputc('\n', stderr);
	return NULL;
}

static void cfg_smoke(struct bench_cfg *c)
{
	c->trials = 2; /* two, so the median and ratio code runs too */
	c->trial_ns = 20000000;
	c->warm_ns = 5000000;
	c->rounds = 500;
	c->warm_rounds = 50;
	c->rtt_budget_ns = 50000000;
}

static int parse_args(int argc, char **argv, struct bench_cfg *c)
{
	*c = (struct bench_cfg){.subject = "ref-shmbuf", .json = NULL, .trials = 5, .trial_ns = 300000000,
				.warm_ns = 50000000, .rounds = 20000, .warm_rounds = 1000, .rtt_budget_ns = 500000000};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = strcmp(a, "--smoke") != 0;
		if (takes && !v)
			return -1;
		if (!strcmp(a, "--smoke"))
			cfg_smoke(c);
		else if (!strcmp(a, "--subject"))
			c->subject = v;
		else if (!strcmp(a, "--json"))
			c->json = *v ? v : NULL;
		else if (!strcmp(a, "--trials"))
			c->trials = atoi(v);
		else if (!strcmp(a, "--time"))
			c->trial_ns = (int64_t)(atof(v) * 1e9);
		else if (!strcmp(a, "--warm"))
			c->warm_ns = (int64_t)(atof(v) * 1e9);
		else if (!strcmp(a, "--rounds"))
			c->rounds = atoi(v);
		else if (!strcmp(a, "--only"))
			c->only = v;
		else if (!strcmp(a, "--size"))
			c->size = (size_t)atol(v);
		else if (!strcmp(a, "--rtt-budget"))
			c->rtt_budget_ns = (int64_t)(atof(v) * 1e9);
		else
			return -1;
		i += takes;
	}
	bool ok = c->trials >= 1 && c->trials <= BENCH_MAX_TRIALS && c->trial_ns > 0 && c->warm_ns >= 0 &&
		  c->rounds >= 1 && c->rtt_budget_ns > 0;
	return ok ? 0 : -1;
}

static void print_cfg(const struct bench_cfg *c, const struct ipc_subject *s)
{
	printf("ipcspec-bench: subject %s (%s)\n", s->name, s->summary ? s->summary : "");
	printf("  %d trials per cell, subject and baseline interleaved; throughput: %.0f ms timed after %.0f ms "
	       "warm-up; ping-pong: up to %d round trips (or %.0f ms) after %d warm-up; capacity %d items\n",
	       c->trials, c->trial_ns / 1e6, c->warm_ns / 1e6, c->rounds, c->rtt_budget_ns / 1e6, c->warm_rounds,
	       BENCH_CAPACITY);
	bench_print_env();
}

int main(int argc, char **argv)
{
	static struct bench_row rows[2 * N_WORK * N_SIZES];
	struct bench_ctx x = {0};
	if (parse_args(argc, argv, &x.cfg) < 0) {
		fprintf(stderr, "usage: %s [--subject NAME] [--trials N] [--time S] [--warm S] [--rounds N] "
				"[--rtt-budget S] [--json PATH] [--smoke] [--only WORKLOAD] [--size BYTES]\n", argv[0]);
		return 2;
	}
	bench_ncpus(); /* before pinning: remember which CPUs we may use */
	const struct ipc_subject *s = find_subject(x.cfg.subject);
	if (!s)
		return 1;
	x.ops = s->ops;
	print_cfg(&x.cfg, s);
	bench_pin(0); /* this process is always the producer / pinger */
	int n = run_all(&x, s, rows);
	bench_print_table(rows, n);
	bench_print_noise(rows, n);
	bench_print_acceptance(rows, n, s->name);
	if (x.cfg.json && bench_write_json(x.cfg.json, rows, n) == 0)
		printf("\nwrote %s\n", x.cfg.json);
	int left = bench_shm_leftovers();
	x.failures += left > 0;
	if (x.failures)
		printf("\nFAILED: %d trial(s) failed or delivered a wrong item; %d object(s) left in /dev/shm\n",
		       x.failures, left);
	return x.failures ? 1 : 0;
}
