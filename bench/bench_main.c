/* SPDX-License-Identifier: MIT */
/*
 * ipcspec-bench [--subject NAME] [--pipe-subject NAME] [--mailbox-subject NAME] [--trials N]
 *               [--time S] [--warm S] [--rounds N] [--rtt-budget S]
 *               [--json PATH] [--smoke] [--only WORKLOAD|GROUP] [--size BYTES]
 *
 * Runs every workload at each of its sizes (shmbuf: 8, 64 and 4096 bytes;
 * pipe: writes of 64 B, 4 KiB and 64 KiB, messages of 1 and 64 B; fifo: writes
 * of 64 B and 64 KiB, messages of 64 B; msgpipe: 64 B messages; mailbox:
 * 64 B messages, against native-posix-mq and native-sysv-msg; framing: 64 B
 * and 4 KiB framed messages against raw writes, AF_UNIX stream and TCP), subject
 * and baseline interleaved trial by trial (ABAB...), prints the table and the
 * acceptance ratios, writes JSON. Exit status: 0 when every item arrived in
 * order and every trial ran, 1 otherwise. Timings are reported, never gated on.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fifo.h"
#include "framing.h"
#include "ipc_subject.h"
#include "mailbox.h"
#include "msgpipe.h"
#include "pipe.h"

struct bench_ctx {
	struct bench_cfg cfg;
	const struct ipc_shmbuf_ops *ops;
	const struct ipc_subject *pipe, *native; /* pipe subject; its baseline native-pipe */
	const struct ipc_subject *fifo, *fifo_native; /* ref-fifo, native-fifo */
	const struct ipc_subject *msgpipe, *msgpipe_native; /* ref-msgpipe, native-msgpipe */
	const struct ipc_subject *mailbox;        /* ref-mailbox; its baselines are found by name */
	const struct ipc_subject *framing;        /* framing-unix-stream, for acceptance line (9) */
	const struct ipc_subject *cur, *cur_base; /* subject and baseline of the cell being run */
	int failures; /* trials that failed or delivered a wrong item */
};

typedef int (*bench_trial_fn)(struct bench_ctx *x, size_t size, struct bench_row *row, int t);

/* ---- one trial of each kind, recorded into its row ------------------------- */

static int record_tput(struct bench_row *row, int t, int rc, const struct bench_tput *r)
{
	bool ok = rc == 0 && r->items > 0 && r->ns > 0;
	row->ips[t] = ok ? (double)r->items * 1e9 / (double)r->ns : NAN;
	row->cpu[t] = ok && r->cpu_ns > 0 ? r->cpu_ns : NAN;
	if (rc < 0)
		fprintf(stderr, "bench: %s %s %zu B: %s\n", row->workload, row->subject, row->size, ipc_strerror(rc));
	return rc < 0 || r->errors ? -1 : 0;
}

static int record_rtt(struct bench_row *row, int t, int rc, const struct bench_rtt *r)
{
	row->p50[t] = rc == 0 ? r->p50_ns : NAN;
	row->p99[t] = rc == 0 ? r->p99_ns : NAN;
	row->cpu[t] = rc == 0 && r->cpu_ns > 0 ? r->cpu_ns : NAN;
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

/* The cell's subject (x->cur) and its baseline (x->cur_base), through the
 * same ops calls: pipe, fifo and msgpipe subjects alike. */
static int t_sub_tput(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_pipe_subject_tput(&x->cfg, x->cur, size, &r), &r);
}

static int t_base_tput(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_pipe_subject_tput(&x->cfg, x->cur_base, size, &r), &r);
}

static int t_sub_rtt(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_rtt r = {0};
	return record_rtt(row, t, bench_pipe_subject_rtt(&x->cfg, x->cur, size, &r), &r);
}

static int t_base_rtt(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_rtt r = {0};
	return record_rtt(row, t, bench_pipe_subject_rtt(&x->cfg, x->cur_base, size, &r), &r);
}

/* Framing: the subject framed, the baseline raw, over the subject's pair(). */
static int t_frm_tput(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_framing_tput(&x->cfg, x->cur, true, size, &r), &r);
}

static int t_raw_tput(struct bench_ctx *x, size_t size, struct bench_row *row, int t)
{
	struct bench_tput r = {0};
	return record_tput(row, t, bench_framing_tput(&x->cfg, x->cur, false, size, &r), &r);
}

/* ---- the matrix ------------------------------------------------------------ */

#define N_SIZES_MAX 3
static const struct bench_workload {
	const char *name, *group; /* --only takes either */
	uint32_t mech;            /* whose subject: --subject, --pipe-subject, or the ref- one */
	bool rtt, cross_process;
	bench_trial_fn subject;
	const char *baseline; /* NULL: no reference yet, the subject runs alone */
	bench_trial_fn base;
	size_t sizes[N_SIZES_MAX]; /* 0 ends the list */
} workloads[] = {
	{"2proc-throughput", "shmbuf", IPC_MECH_SHMBUF, false, true, t_shm_tput, "pipe", t_pipe_tput, {8, 64, 4096}},
	{"1proc-throughput", "shmbuf", IPC_MECH_SHMBUF, false, false, t_shm_threads, "ck_ring", t_ck_tput, {8, 64, 4096}},
	{"2proc-pingpong", "shmbuf", IPC_MECH_SHMBUF, true, true, t_shm_rtt, "pipe", t_pipe_rtt, {8, 64, 4096}},
	{"pipe-throughput", "pipe", IPC_MECH_PIPE, false, true, t_sub_tput, "native-pipe", t_base_tput,
	 {64, 4096, 65536}},
	{"pipe-pingpong", "pipe", IPC_MECH_PIPE, true, true, t_sub_rtt, "native-pipe", t_base_rtt, {1, 64}},
	{"fifo-throughput", "fifo", IPC_MECH_FIFO, false, true, t_sub_tput, "native-fifo", t_base_tput, {64, 65536}},
	{"fifo-pingpong", "fifo", IPC_MECH_FIFO, true, true, t_sub_rtt, "native-fifo", t_base_rtt, {64}},
	{"msgpipe-throughput", "msgpipe", IPC_MECH_MSGPIPE, false, true, t_sub_tput, "native-msgpipe", t_base_tput,
	 {64, 4096}},
	{"msgpipe-pingpong", "msgpipe", IPC_MECH_MSGPIPE, true, true, t_sub_rtt, "native-msgpipe", t_base_rtt, {64}},
	/* ref-mailbox against two kernel queues: each pair of rows is its own
	 * interleaved cell, so every ratio is taken trial by trial. */
	{"mailbox-throughput", "mailbox", IPC_MECH_MAILBOX, false, true, t_sub_tput, "native-posix-mq", t_base_tput,
	 {64}},
	{"mailbox-pingpong", "mailbox", IPC_MECH_MAILBOX, true, true, t_sub_rtt, "native-posix-mq", t_base_rtt, {64}},
	{"mailbox-sysv-throughput", "mailbox", IPC_MECH_MAILBOX, false, true, t_sub_tput, "native-sysv-msg",
	 t_base_tput, {64}},
	{"mailbox-sysv-pingpong", "mailbox", IPC_MECH_MAILBOX, true, true, t_sub_rtt, "native-sysv-msg", t_base_rtt,
	 {64}},
	/* The baseline is raw write / read-exactly over the same subject's
	 * transport: a name for the row, not a registry subject. */
	{"framing-unix", "framing", IPC_MECH_FRAMING, false, true, t_frm_tput, "raw-unix-stream", t_raw_tput,
	 {64, 4096}},
	{"framing-tcp", "framing", IPC_MECH_FRAMING, false, true, t_frm_tput, "raw-tcp", t_raw_tput, {64, 4096}},
};
#define N_WORK (sizeof workloads / sizeof *workloads)

static void row_init(struct bench_row *r, const char *subject, const struct bench_workload *w, size_t size)
{
	*r = (struct bench_row){.subject = subject, .workload = w->name, .size = size, .is_rtt = w->rtt,
				.no_ref = !w->baseline};
	for (int i = 0; i < BENCH_MAX_TRIALS; i++)
		r->ips[i] = r->p50[i] = r->p99[i] = r->wait[i] = r->cpu[i] = NAN;
}

/* Subject and baseline alternate trial by trial, each under the watchdog. */
static void run_cell(struct bench_ctx *x, const struct bench_workload *w, size_t size, struct bench_row *rows)
{
	fflush(stdout); /* keep the header ahead of the progress dots in a log */
	fprintf(stderr, "bench: %-23s %4zu B ", w->name, size);
	for (int t = 0; t < x->cfg.trials; t++) {
		for (int k = 0; k < (w->base ? 2 : 1); k++) {
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

/* framing-unix runs framing-unix-stream, framing-tcp framing-tcp. */
static const struct ipc_subject *framing_subject(struct bench_ctx *x, const struct bench_workload *w)
{
	const char *name = strcmp(w->name, "framing-unix") == 0 ? "framing-unix-stream" : w->name;
	const struct ipc_subject *s = bench_subject_find(IPC_MECH_FRAMING, name);
	if (!s) {
		printf("note: %s not in this build: %s skipped\n", name, w->name);
		return NULL;
	}
	if (!(s->caps & IPC_FRAMING_CAP_CROSS_PROCESS)) {
		printf("note: %s lacks CROSS_PROCESS: %s skipped\n", s->name, w->name);
		return NULL;
	}
	x->cur = s, x->cur_base = NULL;
	return s;
}

/* The subject of workload w, or NULL (with a note) when it cannot run. */
static const struct ipc_subject *workload_subject(struct bench_ctx *x, const struct ipc_subject *s,
						  const struct bench_workload *w)
{
	static const struct {
		uint32_t mech;
		uint64_t cross; /* the mechanism's CROSS_PROCESS bit */
	} mechs[] = {{IPC_MECH_PIPE, IPC_PIPE_CAP_CROSS_PROCESS},
		     {IPC_MECH_FIFO, IPC_FIFO_CAP_CROSS_PROCESS},
		     {IPC_MECH_MSGPIPE, IPC_MSGPIPE_CAP_CROSS_PROCESS},
		     {IPC_MECH_MAILBOX, IPC_MAILBOX_CAP_CROSS_PROCESS}};
	const struct ipc_subject *sub[] = {x->pipe, x->fifo, x->msgpipe, x->mailbox};
	if (w->mech == IPC_MECH_FRAMING)
		return framing_subject(x, w);
	for (size_t i = 0; i < sizeof mechs / sizeof *mechs; i++) {
		if (w->mech != mechs[i].mech)
			continue;
		/* By the workload's name: a mechanism may have several baselines. */
		const struct ipc_subject *base =
		    w->baseline ? bench_subject_find(w->mech, w->baseline) : NULL;
		if (!sub[i] || (w->baseline && !base))
			return NULL; /* said once, at start-up */
		if (w->cross_process && !(sub[i]->caps & mechs[i].cross)) {
			printf("note: %s lacks CROSS_PROCESS: %s skipped\n", sub[i]->name, w->name);
			return NULL;
		}
		x->cur = sub[i], x->cur_base = base;
		return sub[i];
	}
	if (w->cross_process && !(s->caps & IPC_SHMBUF_CAP_CROSS_PROCESS)) {
		printf("note: %s lacks CROSS_PROCESS: %s skipped\n", s->name, w->name);
		return NULL;
	}
	return s;
}

/* Fill rows (2 per workload and size, 1 without a baseline); the number of rows filled. */
static int run_all(struct bench_ctx *x, const struct ipc_subject *s, struct bench_row *rows)
{
	int n = 0;
	for (size_t i = 0; i < N_WORK; i++) {
		const struct bench_workload *w = &workloads[i];
		if (x->cfg.only && strcmp(x->cfg.only, w->name) != 0 && strcmp(x->cfg.only, w->group) != 0)
			continue;
		const struct ipc_subject *ws = workload_subject(x, s, w);
		if (!ws)
			continue;
		for (size_t j = 0; j < N_SIZES_MAX && w->sizes[j]; j++) {
			if (x->cfg.size && x->cfg.size != w->sizes[j])
				continue;
			row_init(&rows[n], ws->name, w, w->sizes[j]);
			if (w->baseline) {
				row_init(&rows[n + 1], w->baseline, w, w->sizes[j]);
				rows[n].base = &rows[n + 1];
			}
			run_cell(x, w, w->sizes[j], &rows[n]);
			n += w->baseline ? 2 : 1;
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
	c->verify_all = true;
}

static int parse_args(int argc, char **argv, struct bench_cfg *c)
{
	*c = (struct bench_cfg){.subject = "ref-shmbuf", .pipe_subject = "ref-pipe",
				.mailbox_subject = "ref-mailbox", .json = NULL, .trials = 5,
				.trial_ns = 300000000, .warm_ns = 50000000, .rounds = 20000, .warm_rounds = 1000,
				.rtt_budget_ns = 500000000};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = strcmp(a, "--smoke") != 0;
		if (takes && !v)
			return -1;
		if (!strcmp(a, "--smoke"))
			cfg_smoke(c);
		else if (!strcmp(a, "--subject"))
			c->subject = v;
		else if (!strcmp(a, "--pipe-subject"))
			c->pipe_subject = v;
		else if (!strcmp(a, "--mailbox-subject"))
			c->mailbox_subject = v;
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

static void print_cfg(const struct bench_cfg *c, const struct ipc_subject *s, const struct ipc_subject *p)
{
	printf("ipcspec-bench: subject %s (%s)\n", s->name, s->summary ? s->summary : "");
	if (p)
		printf("  pipe subject %s (%s) against native-pipe; stream reads of up to %d B; %s\n", p->name,
		       p->summary ? p->summary : "", BENCH_PIPE_READ,
		       c->verify_all ? "every byte checked" : "every 64-byte line's offset stamp checked");
	printf("  %d trials per cell, subject and baseline interleaved; throughput: %.0f ms timed after %.0f ms "
	       "warm-up; ping-pong: up to %d round trips (or %.0f ms) after %d warm-up; capacity %d items\n",
	       c->trials, c->trial_ns / 1e6, c->warm_ns / 1e6, c->rounds, c->rtt_budget_ns / 1e6, c->warm_rounds,
	       BENCH_CAPACITY);
	bench_print_env();
}

int main(int argc, char **argv)
{
	static struct bench_row rows[2 * N_WORK * N_SIZES_MAX];
	struct bench_ctx x = {0};
	if (parse_args(argc, argv, &x.cfg) < 0) {
		fprintf(stderr, "usage: %s [--subject NAME] [--pipe-subject NAME] [--mailbox-subject NAME] [--trials N] [--time S] [--warm S] "
				"[--rounds N] [--rtt-budget S] [--json PATH] [--smoke] "
				"[--only WORKLOAD|shmbuf|pipe|fifo|msgpipe|mailbox|framing] "
				"[--size BYTES]\n", argv[0]);
		return 2;
	}
	bench_ncpus(); /* before pinning: remember which CPUs we may use */
	const struct ipc_subject *s = find_subject(x.cfg.subject);
	if (!s)
		return 1;
	x.ops = s->ops;
	x.pipe = bench_pipe_find(x.cfg.pipe_subject);
	x.native = bench_pipe_find("native-pipe");
	if (!x.pipe || !x.native)
		printf("note: no pipe subject named %s in this build (ref-pipe lives in impl/pipe/ref_pipe.c): "
		       "the pipe workloads are skipped\n", x.pipe ? "native-pipe" : x.cfg.pipe_subject);
	x.fifo = bench_subject_find(IPC_MECH_FIFO, "ref-fifo");
	x.fifo_native = bench_subject_find(IPC_MECH_FIFO, "native-fifo");
	x.msgpipe = bench_subject_find(IPC_MECH_MSGPIPE, "ref-msgpipe");
	x.msgpipe_native = bench_subject_find(IPC_MECH_MSGPIPE, "native-msgpipe");
	if (!x.fifo || !x.fifo_native)
		printf("note: ref-fifo or native-fifo not in this build: the fifo workloads are skipped\n");
	if (!x.msgpipe || !x.msgpipe_native)
		printf("note: ref-msgpipe or native-msgpipe not in this build: the msgpipe workloads are skipped\n");
	x.mailbox = bench_subject_find(IPC_MECH_MAILBOX, x.cfg.mailbox_subject);
	if (!x.mailbox || !bench_subject_find(IPC_MECH_MAILBOX, "native-posix-mq") ||
	    !bench_subject_find(IPC_MECH_MAILBOX, "native-sysv-msg"))
		printf("note: %s, native-posix-mq or native-sysv-msg not in this build: "
		       "their mailbox workloads are skipped\n", x.cfg.mailbox_subject);
	x.framing = bench_subject_find(IPC_MECH_FRAMING, "framing-unix-stream");
	print_cfg(&x.cfg, s, x.pipe);
	bench_pin(0); /* this process is always the producer / pinger */
	int n = run_all(&x, s, rows);
	bench_print_table(rows, n);
	bench_print_noise(rows, n);
	bench_print_acceptance(rows, n, s->name, x.pipe ? x.pipe->name : NULL,
			       x.mailbox ? x.mailbox->name : NULL, x.framing ? x.framing->name : NULL);
	if (x.cfg.json && bench_write_json(x.cfg.json, rows, n) == 0)
		printf("\nwrote %s\n", x.cfg.json);
	int left = bench_shm_leftovers();
	x.failures += left > 0;
	if (x.failures)
		printf("\nFAILED: %d trial(s) failed or delivered a wrong item; "
		       "%d object(s) of the run left behind\n",
		       x.failures, left);
	return x.failures ? 1 : 0;
}
