/* SPDX-License-Identifier: MIT */
/* The side-by-side table, the acceptance ratios and build/reports/bench.json. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

double bench_row_metric(const struct bench_row *r, int trial)
{
	return r->is_rtt ? r->p50[trial] : r->ips[trial];
}

/* Ratios are taken trial by trial: subject and baseline of trial i ran back
 * to back, so they saw the same machine state; a ratio of two medians would
 * mix trials minutes apart on a host that drifts 5-10x. */
int bench_ratios(const struct bench_row *r, double *ratios)
{
	if (!r->base)
		return 0;
	for (int i = 0; i < r->n; i++)
		ratios[i] = bench_row_metric(r, i) / bench_row_metric(r->base, i);
	return r->n;
}

/* 12.3M-style items/s, or "-" for NaN. */
static const char *fmt_rate(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3gM", v / 1e6);
	return buf;
}

static const char *fmt_ns(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static void print_ratio(const struct bench_row *r)
{
	double q[BENCH_MAX_TRIALS];
	int n = bench_ratios(r, q);
	if (n == 0) {
		printf(r->no_ref ? "  (no reference yet)\n" : "  (baseline)\n");
		return;
	}
	printf("  %.3g [%.3g-%.3g] vs %s\n", bench_median(q, n), bench_min(q, n), bench_max(q, n), r->base->subject);
}

/* Megabytes (1e6 B) per second: items/s times the item size. */
static const char *fmt_mbps(char *buf, size_t len, double ips, size_t size)
{
	if (isnan(ips))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", ips * (double)size / 1e6);
	return buf;
}

static void print_row(const struct bench_row *r)
{
	char a[32], b[32], c[32], d[32], f[100];
	double *m = r->is_rtt ? (double *)r->p50 : (double *)r->ips;
	printf("%-23s %5zu  %-16s", r->workload, r->size, r->subject);
	if (r->is_rtt) {
		snprintf(f, sizeof f, "[%s-%s]", fmt_ns(b, sizeof b, bench_min(m, r->n)),
			 fmt_ns(c, sizeof c, bench_max(m, r->n)));
		printf(" %-26s %7s %8s %13s %8s", "-", "-", fmt_ns(a, sizeof a, bench_median(m, r->n)), f,
		       fmt_ns(d, sizeof d, bench_median(r->p99, r->n)));
	} else {
		snprintf(f, sizeof f, "%s [%s-%s]", fmt_rate(a, sizeof a, bench_median(m, r->n)),
			 fmt_rate(b, sizeof b, bench_min(m, r->n)), fmt_rate(c, sizeof c, bench_max(m, r->n)));
		printf(" %-26s %7s %8s %13s %8s", f, fmt_mbps(d, sizeof d, bench_median(m, r->n), r->size), "-", "",
		       "-");
	}
	double cpu = bench_median(r->cpu, r->n);
	if (isnan(cpu))
		printf(" %8s", "-");
	else
		printf(" %8.0f", cpu);
	double wmax = bench_max(r->wait, r->n);
	if (isnan(wmax))
		printf(" %6s", "-");
	else
		printf(" %5.1f%%", 100 * wmax);
	print_ratio(r);
}

void bench_print_table(const struct bench_row *rows, int n)
{
	printf("\n%-23s %5s  %-16s %-26s %7s %8s %13s %8s %8s %6s  %s\n", "workload", "size", "subject",
	       "items/s median [min-max]", "MB/s", "p50 ns", "[min-max]", "p99 ns", "cpu ns", "wait",
	       "ratio median [min-max]");
	for (int i = 0; i < n; i++) {
		if (i > 0 && strcmp(rows[i].workload, rows[i - 1].workload) != 0)
			printf("\n");
		print_row(&rows[i]);
	}
}

#define BENCH_NOISY 0.05 /* a trial whose CPU wait exceeds 5% of its time */

/* Trials that shared a CPU with someone else: their figures measure the
 * scheduler, not the transport. Reported so a reader knows what to distrust. */
int bench_print_noise(const struct bench_row *rows, int n)
{
	int noisy = 0, total = 0;
	for (int i = 0; i < n; i++)
		for (int t = 0; t < rows[i].n; t++, total++)
			noisy += rows[i].wait[t] > BENCH_NOISY;
	printf("\ncpu ns = CPU time (user + sys) of both sides per item or round trip, median over the trials "
	       "(all but the shmbuf workloads): what a spinning wait costs.\n");
	printf("wait = the largest share of a trial during which some task waited for a CPU "
	       "(/proc/pressure/cpu); 0%% on a quiet machine.\n");
	if (noisy)
		printf("warning: %d of %d trials ran on a contended machine (wait > %.0f%%): "
		       "another process was competing for the two CPUs; rerun on a quiet machine.\n",
		       noisy, total, 100 * BENCH_NOISY);
	return noisy;
}

static const struct bench_row *find_row(const struct bench_row *rows, int n, const char *workload,
				       const char *subject, size_t size)
{
	for (int i = 0; subject && i < n; i++)
		if (rows[i].size == size && rows[i].base && strcmp(rows[i].workload, workload) == 0 &&
		    strcmp(rows[i].subject, subject) == 0)
			return &rows[i];
	return NULL;
}

/* One acceptance line: the median per-trial ratio, its range, and in how
 * many trials the target was met. Reported, never gated on. */
static void print_goal(const struct bench_row *r, const char *label, double target, bool at_least)
{
	double q[BENCH_MAX_TRIALS];
	int n = r ? bench_ratios(r, q) : 0, met = 0;
	if (n == 0) {
		printf("  %-50s not measured\n", label);
		return;
	}
	for (int i = 0; i < n; i++)
		met += at_least ? q[i] >= target : q[i] <= target;
	double med = bench_median(q, n);
	bool ok = at_least ? med >= target : med <= target;
	printf("  %-50s %8.3g  [%.3g-%.3g]  target %s %g  %s (%d/%d trials)\n", label, med, bench_min(q, n),
	       bench_max(q, n), at_least ? ">=" : "<=", target, ok ? "met" : "MISSED", met, n);
}

void bench_print_acceptance(const struct bench_row *rows, int n, const char *subject,
			    const char *pipe, const char *mailbox, const char *framing)
{
	char l[9][96];
	const char *mb = mailbox ? mailbox : "(no mailbox subject)";
	const char *p = pipe ? pipe : "(no pipe subject)";
	snprintf(l[0], sizeof l[0], "(1) 64 B 2-proc items/s %s / pipe", subject);
	snprintf(l[1], sizeof l[1], "(2) 64 B 1-proc items/s %s / ck_ring", subject);
	snprintf(l[2], sizeof l[2], "(3) 64 B ping-pong p50 %s / pipe", subject);
	snprintf(l[3], sizeof l[3], "(4) 64 B writes/s %s / native-pipe", p);
	snprintf(l[4], sizeof l[4], "(5) 64 KiB writes/s %s / native-pipe", p);
	snprintf(l[5], sizeof l[5], "(6) 64 B ping-pong p50 %s / native-pipe", p);
	snprintf(l[6], sizeof l[6], "(7) 64 B 2-proc msgs/s %s / posix-mq", mb);
	snprintf(l[7], sizeof l[7], "(8) 64 B ping-pong p50 %s / posix-mq", mb);
	snprintf(l[8], sizeof l[8], "(9) 4 KiB msgs/s %s / raw writes",
		 framing ? framing : "(no framing subject)");
	printf("\nacceptance ratios (per-trial ratio: median [min-max]):\n");
	print_goal(find_row(rows, n, "2proc-throughput", subject, 64), l[0], 10, true);
	print_goal(find_row(rows, n, "1proc-throughput", subject, 64), l[1], 0.8, true);
	print_goal(find_row(rows, n, "2proc-pingpong", subject, 64), l[2], 0.2, false);
	print_goal(find_row(rows, n, "pipe-throughput", pipe, 64), l[3], 3, true);
	print_goal(find_row(rows, n, "pipe-throughput", pipe, 65536), l[4], 1, true);
	print_goal(find_row(rows, n, "pipe-pingpong", pipe, 64), l[5], 0.2, false);
	print_goal(find_row(rows, n, "mailbox-throughput", mailbox, 64), l[6], 10, true);
	print_goal(find_row(rows, n, "mailbox-pingpong", mailbox, 64), l[7], 0.1, false);
	print_goal(find_row(rows, n, "framing-unix", framing, 4096), l[8], 0.9, true);
}

/* ---- JSON (plain stdio: a fresh machine has no python) -------------------- */

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.0f", v);
}

/* Names are [a-z0-9_-] by contract, but escape anyway. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
	}
	fputc('"', f);
}

static void json_row(FILE *f, const struct bench_row *r)
{
	fputs("  {\"subject\": ", f);
	json_str(f, r->subject);
	fputs(", \"workload\": ", f);
	json_str(f, r->workload);
	fprintf(f, ", \"size\": %zu, \"items_per_sec\": ", r->size);
	json_num(f, r->is_rtt ? NAN : bench_median(r->ips, r->n));
	fputs(", \"p50_ns\": ", f);
	json_num(f, r->is_rtt ? bench_median(r->p50, r->n) : NAN);
	fputs(", \"p99_ns\": ", f);
	json_num(f, r->is_rtt ? bench_median(r->p99, r->n) : NAN);
	fputs("}", f);
}

int bench_write_json(const char *path, const struct bench_row *rows, int n)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fputs("[\n", f);
	for (int i = 0; i < n; i++) {
		json_row(f, &rows[i]);
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputs("]\n", f);
	return fclose(f) == 0 ? 0 : -1;
}
