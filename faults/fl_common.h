/* SPDX-License-Identifier: MIT */
/*
 * Shared plumbing of the fault-injection harnesses: subject lookup, names
 * that `make clean-ipc` can sweep, fd and /dev/shm leak checks, forked peers
 * that die with their parent, deadlines on every wait, a small PRNG.
 *
 * Every harness is a plain program (no Criterion: it forks freely, kills its
 * children and plays with signals) that prints what it exercised and exits
 * non-zero on any violation.
 */
#ifndef IPCSPEC_FAULTS_FL_COMMON_H
#define IPCSPEC_FAULTS_FL_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ipc_subject.h"
#include "shmbuf.h"

#define FL_NAME_PREFIX "ipcspec-flt-"

/* ---- reporting ----------------------------------------------------------- */

/* Program name for messages (set by fl_init). */
extern const char *fl_prog;

void fl_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Record a violation (counted, printed with "VIOLATION"). */
void fl_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned fl_violations(void);

/* "IPC_EAGAIN" or the number, for messages. */
const char *fl_err(long rc);

/* ---- options and subject -------------------------------------------------- */

struct fl_opts {
	const char *subject; /* --subject NAME, default ref-shmbuf */
	unsigned seed;       /* --seed N, default from the clock (printed) */
	bool short_run;      /* --short: the budget of `make test` */
	bool verbose;        /* -v */
	unsigned long count; /* --count N: the program's main size (kills, items), 0 = default */
};

/* Parse the options every harness takes; prints usage and exits 2 on any
 * other. */
void fl_init(int argc, char **argv, struct fl_opts *o);

/* The operations of the named bundled subject, or exit 2. */
const struct ipc_shmbuf_ops *fl_subject(const char *name, uint64_t *caps);

/* ---- names, leaks --------------------------------------------------------- */

/* "/ipcspec-flt-<pid>-<tag>-<n>" into buf (>= 96 bytes); unique per call. */
void fl_name(char *buf, size_t cap, const char *tag);

/* Open file descriptors of this process. */
int fl_count_fds(void);

/* Entries of /dev/shm whose name starts with FL_NAME_PREFIX<pid>-. */
int fl_shm_leftovers(pid_t pid, bool remove);

/* ---- time, randomness ----------------------------------------------------- */

int64_t fl_now_ns(void);

/* A deadline or stall limit scaled by IPCSPEC_TIME_MULTIPLIER (>= 1), the
 * project's one knob for slow machines (valgrind, emulators, loaded CI). */
int64_t fl_scaled_ns(int64_t ns);
void fl_sleep_ns(int64_t ns);

struct fl_rng {
	uint64_t s;
};

void fl_rng_seed(struct fl_rng *r, uint64_t seed);
uint64_t fl_rng_next(struct fl_rng *r);
/* Uniform in [0, n). */
uint64_t fl_rng_below(struct fl_rng *r, uint64_t n);

/* ---- the n-th call of a fault point --------------------------------------- */

/* What fl_nth_cb fails, and what it saw. */
struct fl_nth {
	long n;         /* the call that fails first */
	int persistent; /* fail every call from n on */
	int count_only; /* never fail: just count (race points) */
	long calls, fired;
};

extern struct fl_nth fl_nth;
/* Set only around calls into the subject: a point fires nowhere else. */
extern _Thread_local int fl_nth_armed;

/* The fiu_enable_external() callback of the n-th-call sweeps: while armed,
 * counts the call and fails it as fl_nth says. */
int fl_nth_cb(const char *name, int *failnum, void **failinfo, unsigned *flags);

/* Evaluate expr with the sweep armed; *faulted says whether a point fired. */
#define FL_NTH(faulted, expr)                                                                      \
	({                                                                                         \
		long fired0_ = fl_nth.fired;                                                       \
		fl_nth_armed = 1;                                                                  \
		__typeof__(expr) rc_ = (expr);                                                     \
		fl_nth_armed = 0;                                                                  \
		*(faulted) = fl_nth.fired != fired0_;                                              \
		rc_;                                                                               \
	})

/* ---- signals ---------------------------------------------------------------- */

/* A process-directed SIGALRM every period_ns (< 1 s) into handler, installed
 * without SA_RESTART, so every blocking system call sees EINTR; the timer
 * into *t. 0, or -1 (perror'd) when the timer cannot be made. */
int fl_signal_storm(void (*handler)(int), long period_ns, timer_t *t);

/* ---- processes ------------------------------------------------------------ */

/* Zeroed MAP_SHARED anonymous memory, visible to forked children. */
void *fl_shared_alloc(size_t len);

/* Fork a peer that runs fn(arg) and _exits with its result. The child dies
 * with SIGKILL if the harness dies (PR_SET_PDEATHSIG), so nothing outlives a
 * killed run. -1 on fork failure. */
pid_t fl_spawn(int (*fn)(void *), void *arg);

/* Reap pid, waiting until the absolute deadline: its wait status, or -1 on
 * timeout (the child is left running: the caller reports the hang). */
int fl_reap(pid_t pid, int64_t deadline_ns);

/* Describe a wait status ("exit 0", "signal 9") into a static buffer. */
const char *fl_status(int status);

#endif
