/* SPDX-License-Identifier: MIT */
/*
 * ipcspec-bench: throughput and ping-pong latency of a shmbuf subject
 * (ref-shmbuf by default) against what a user would pick instead (a kernel
 * pipe, Concurrency Kit's ck_ring). See docs/bench.md.
 *
 * Every measurement is also a correctness run: each item carries a sequence
 * number that the receiving side checks.
 */
#ifndef IPCSPEC_BENCH_H
#define IPCSPEC_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmbuf.h"

#define BENCH_MAX_TRIALS 31
#define BENCH_MAX_ITEM 4096
#define BENCH_CAPACITY 1024 /* items, for every ring and buffer */
#define BENCH_STOP UINT64_MAX /* the sequence number of the end marker */
#define BENCH_WATCHDOG_S 30   /* a trial that hangs longer is a failure */

/* What one run does; set from the command line. */
struct bench_cfg {
	const char *subject; /* shmbuf subject under test, "ref-shmbuf" */
	const char *pipe_subject; /* pipe subject under test, "ref-pipe" */
	const char *mailbox_subject; /* mailbox subject under test, "ref-mailbox" */
	const char *json;    /* output path, NULL for none */
	const char *only;    /* run only this workload, NULL for all */
	size_t size;         /* run only this item size, 0 for all */
	int trials;
	int64_t trial_ns; /* timed part of a throughput trial */
	int64_t warm_ns;  /* untimed start of a throughput trial */
	int rounds;       /* ping-pong round trips recorded per trial */
	int warm_rounds;  /* ping-pong round trips before recording */
	int64_t rtt_budget_ns; /* stop recording round trips after this */
	bool verify_all;       /* pipe streams: compare every byte, not only the stamps */
};

/* The outcome of one throughput trial, measured by the consumer. */
struct bench_tput {
	uint64_t items;  /* items counted in the timed window */
	int64_t ns;      /* length of the timed window */
	uint64_t errors; /* sequence or length mismatches */
	double cpu_ns;   /* CPU time (user + sys) of both sides per item; <= 0: not measured */
};

/* The outcome of one ping-pong trial. */
struct bench_rtt {
	double p50_ns, p99_ns;
	uint64_t errors;
	double cpu_ns; /* CPU time of both sides per round trip; <= 0: not measured */
};

/* One direction of one transport, as the generic loops see it. */
struct bench_ep {
	const struct ipc_shmbuf_ops *ops; /* shmbuf */
	struct ipc_shmbuf *h;
	int fd;     /* pipe */
	void *ring; /* ck_ring: a struct bench_ck_ring */
};

/* ---- bench_sys.c: clock, placement, watchdog, names ---------------------- */
int64_t bench_now_ns(void);
int64_t bench_thread_cpu_ns(void); /* user + sys time of the calling thread */
int bench_pin(int which); /* 0 = producer CPU, 1 = consumer CPU */
int bench_ncpus(void);
void bench_watchdog_arm(void);
void bench_watchdog_disarm(void);
void bench_watch_child(pid_t pid);
void bench_name_new(char *buf, size_t len, const struct ipc_shmbuf_ops *ops);
/* The same for any mechanism: unlink (may be NULL) removes what create made. */
void bench_name_new_fn(char *buf, size_t len, int (*unlink)(const char *name));
/* A file-system path under $TMPDIR (or /tmp), registered the same way. */
void bench_path_new_fn(char *buf, size_t len, int (*unlink)(const char *path));
void bench_name_done(const char *name);
void bench_name_forget(const char *name);
int bench_shm_leftovers(void);   /* in /dev/shm, /dev/mqueue, $TMPDIR (or /tmp) */
int64_t bench_cpu_wait_us(void); /* /proc/pressure/cpu "some" total, -1 if absent */
void bench_print_env(void);

/* ---- bench_proc.c: a forked peer with a ready and a result channel ------- */
struct bench_child {
	pid_t pid;
	int ready_fd;  /* parent reads one byte once the child is set up */
	int result_fd; /* parent reads the child's result struct */
};
/* Run body(arg, out, outlen) in a child pinned to the consumer CPU; the
 * child writes its result (outlen bytes) and exits 0 on success. */
typedef int (*bench_child_fn)(void *arg, int ready_fd, void *out, size_t outlen);
int bench_spawn(struct bench_child *c, bench_child_fn body, void *arg, size_t outlen);
int bench_child_ready(int ready_fd); /* called by the child */
int bench_wait_ready(struct bench_child *c);
int bench_reap(struct bench_child *c, void *out, size_t outlen);

/* ---- bench_threads.c: a producer and a consumer thread in this process --- */
struct bench_pair {
	const struct bench_cfg *cfg;
	size_t size;
	struct bench_ep prod, cons;
	int (*produce)(struct bench_pair *p); /* runs pinned to the producer CPU */
	int (*consume)(struct bench_pair *p); /* fills res; consumer CPU */
	struct bench_tput res;
	int prod_rc, cons_rc;
	pthread_barrier_t start;
};
/* Run both sides at once; 0 when both succeeded. */
int bench_run_pair(struct bench_pair *p);

/* ---- bench_stats.c -------------------------------------------------------- */
double bench_median(const double *v, int n);
double bench_min(const double *v, int n);
double bench_max(const double *v, int n);
double bench_percentile_i64(int64_t *v, int n, double p); /* sorts v */

/* ---- transports: one trial each; < 0 on an API or system error ------------ */
int bench_pipe_tput(const struct bench_cfg *cfg, size_t size, struct bench_tput *out);
int bench_pipe_rtt(const struct bench_cfg *cfg, size_t size, struct bench_rtt *out);
int bench_shm_tput(const struct bench_cfg *cfg, const struct ipc_shmbuf_ops *ops, size_t size,
		   struct bench_tput *out);
int bench_shm_tput_threads(const struct bench_cfg *cfg, const struct ipc_shmbuf_ops *ops, size_t size,
			   struct bench_tput *out);
int bench_shm_rtt(const struct bench_cfg *cfg, const struct ipc_shmbuf_ops *ops, size_t size,
		  struct bench_rtt *out);
int bench_ck_tput(const struct bench_cfg *cfg, size_t size, struct bench_tput *out);

/* ---- bench_refpipe.c: a pipe subject against native-pipe, through the ops ---- */
#define BENCH_PIPE_READ 65536 /* the stream reader's buffer: a reader of a stream reads big */
struct ipc_subject;
/* The pipe subject called name: the registry's, else (for "ref-pipe") the
 * weak ipc__subject_ref_pipe; NULL when it is not built in. */
const struct ipc_subject *bench_pipe_find(const char *name);
/* The registry's subject of mechanism mech called name (ref-pipe as above).
 * The two functions below also take a fifo subject (opened through its
 * open(), used through its pipe view), a msgpipe subject (one instance
 * per direction, one message per write; size must then be 64) and a mailbox
 * subject (one mailbox per direction, max_msg = size, an empty message ends). */
const struct ipc_subject *bench_subject_find(uint32_t mech, const char *name);
int bench_pipe_subject_tput(const struct bench_cfg *cfg, const struct ipc_subject *s, size_t size,
			    struct bench_tput *out);
int bench_pipe_subject_rtt(const struct bench_cfg *cfg, const struct ipc_subject *s, size_t size,
			   struct bench_rtt *out);

/* ---- bench_framing.c: a framing subject's send/recv against raw writes ---- */
/* One throughput trial over s's transport (its pair()): framed through its
 * send / recv, or (framed false) raw write(size) / read-exactly. */
int bench_framing_tput(const struct bench_cfg *cfg, const struct ipc_subject *s, bool framed,
		       size_t size, struct bench_tput *out);

/* ---- bench_report.c ------------------------------------------------------- */
struct bench_row {
	const char *subject, *workload, *baseline; /* baseline NULL for a baseline row */
	size_t size;
	int n;                      /* trials */
	bool is_rtt;
	bool no_ref;                /* no reference subject of its mechanism exists yet */
	double ips[BENCH_MAX_TRIALS]; /* items/s per trial (throughput) */
	double p50[BENCH_MAX_TRIALS], p99[BENCH_MAX_TRIALS]; /* ns (ping-pong) */
	double wait[BENCH_MAX_TRIALS]; /* share of the trial some task waited for a CPU */
	double cpu[BENCH_MAX_TRIALS];  /* CPU ns of both sides per item or round trip (NaN: not measured) */
	const struct bench_row *base; /* the baseline row, for the ratio */
};
double bench_row_metric(const struct bench_row *r, int trial); /* items/s or p50 */
int bench_ratios(const struct bench_row *r, double *ratios); /* per trial */
void bench_print_table(const struct bench_row *rows, int n);
int bench_print_noise(const struct bench_row *rows, int n); /* contended trials */
/* mailbox: the mailbox subject (ref-mailbox), NULL when not built in. */
void bench_print_acceptance(const struct bench_row *rows, int n, const char *subject,
			    const char *pipe, const char *mailbox, const char *framing);
int bench_write_json(const char *path, const struct bench_row *rows, int n);

/* Raw descriptor transport of one whole item (bench_pipe.c): write-all and
 * read-exactly, EINTR retried; -EPIPE at end of file. */
int bench_fd_send(struct bench_ep *ep, const void *item, size_t len);
ssize_t bench_fd_recv(struct bench_ep *ep, void *buf, size_t len);

#endif
