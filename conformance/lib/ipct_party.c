/* SPDX-License-Identifier: MIT */
/* Parties (forked processes or threads) and the events that order them. */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipct.h"
#include "ipct_internal.h"

/* The part of a party that both sides see, in MAP_SHARED memory. */
struct ipct_party_shared {
	_Atomic int32_t tid;
	_Atomic uint32_t in_call;
	_Atomic uint32_t done; /* 1: fn returned; 2: the leak check too */
};

struct ipct_party {
	bool is_process;
	bool finished;
	int status;
	pid_t pid;
	pthread_t thread;
	ipct_party_fn fn;
	void *arg;
	struct ipct_party_shared *sh;
};

static __thread struct ipct_party_shared *ipct__self;

/* LeakSanitizer's check, when the build has it: _exit() skips the atexit one. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static int ipct__run_party(struct ipct_party *p)
{
	ipct__self = p->sh;
	atomic_store(&p->sh->tid, (int32_t)syscall(SYS_gettid));
	int status = p->fn(p->arg) & 0xff;
	atomic_store(&p->sh->done, 1);
	return status;
}

static void *ipct__thread_main(void *arg)
{
	struct ipct_party *p = arg;
	p->status = ipct__run_party(p);
	return NULL;
}

static struct ipct_party *ipct__party_new(ipct_party_fn fn, void *arg)
{
	struct ipct_party *p = calloc(1, sizeof *p);
	if (p == NULL)
		cr_assert_fail("BROKEN: out of memory for a party");
	p->fn = fn;
	p->arg = arg;
	p->sh = ipct_shared(sizeof *p->sh);
	ipct__track_party(p);
	return p;
}

static volatile sig_atomic_t ipct__exit_status;

static void ipct__leak_check_stuck(int sig)
{
	static const char msg[] = "ipcspec: a child's leak check was stuck on an allocator "
				  "lock held at fork by another thread; skipped\n";
	ssize_t n = write(2, msg, sizeof msg - 1); /* all a handler may do: write, _exit */
	(void)n, (void)sig;
	_exit(ipct__exit_status);
}

/* A forked child's leak check (ASan builds), bounded: clang 14's ASan takes
 * no allocator lock around fork, so a child forked while one of Criterion's
 * threads held it would wait forever in LSan's LockAllocator (seen about
 * once in 100 runs of a forking test). ipct_asan_fork.c now holds those
 * locks across fork; the thread registry's, which the check also takes,
 * stays unguarded. A check takes milliseconds; one still running after 2 s
 * is that deadlock, and the child exits with its status. */
static int ipct__leak_check(int status)
{
	if (!__lsan_do_recoverable_leak_check)
		return status;
	struct sigaction sa = { .sa_handler = ipct__leak_check_stuck };
	sigset_t alrm;
	ipct__exit_status = status;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigaction(SIGALRM, &sa, NULL);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	alarm(2);
	if (__lsan_do_recoverable_leak_check())
		status = IPCT_STATUS_LEAK;
	alarm(0);
	return status;
}

struct ipct_party *ipct_process_start(ipct_party_fn fn, void *arg)
{
	struct ipct_party *p = ipct__party_new(fn, arg);
	pid_t parent = getpid();
	p->is_process = true;
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0)
		cr_assert_fail("BROKEN: fork: %s", strerror(errno));
	if (p->pid == 0) {
		/* Never outlive the worker, and never return into Criterion. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int status = ipct__leak_check(ipct__run_party(p));
		atomic_store(&p->sh->done, 2);
		_exit(status);
	}
	atomic_store(&p->sh->tid, p->pid);
	return p;
}

struct ipct_party *ipct_thread_start(ipct_party_fn fn, void *arg)
{
	struct ipct_party *p = ipct__party_new(fn, arg);
	p->pid = getpid();
	if (pthread_create(&p->thread, NULL, ipct__thread_main, p) != 0)
		cr_assert_fail("BROKEN: pthread_create failed");
	return p;
}

struct ipct_party *ipct_party_start(ipct_party_fn fn, void *arg)
{
	if (ipct_cross_process())
		return ipct_process_start(fn, arg);
	return ipct_thread_start(fn, arg);
}

static int ipct__status_of(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	return 128 + WTERMSIG(ws);
}

/* Without a pidfd (old kernels, valgrind): poll the child's state until the
 * deadline; the pause only paces the polling. */
static void ipct__poll_child(pid_t pid, int64_t deadline)
{
	struct timespec pause_ts = { 0, 500000 };
	siginfo_t si;
	while (ipct_now_ns() < deadline) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid)
			return;
		/* Polling the child's state, not synchronising: the deadline bounds us. */
		nanosleep(&pause_ts, NULL);
	}
}

static void ipct__read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

const char *ipct_party_describe(struct ipct_party *p, char *buf, size_t len)
{
	static const char *phase[] = { "in its function", "in the leak check", "exiting" };
	char path[64], stat[256], wchan[64];
	uint32_t done = atomic_load(&p->sh->done);
	snprintf(path, sizeof path, "/proc/%d/stat", (int)p->pid);
	ipct__read_line(path, stat, sizeof stat);
	snprintf(path, sizeof path, "/proc/%d/wchan", (int)p->pid);
	ipct__read_line(path, wchan, sizeof wchan);
	char *st = strrchr(stat, ')');
	snprintf(buf, len, "pid %d %s, state %c, wchan %s", (int)p->pid, phase[done < 3 ? done : 2],
		 st && st[1] ? st[2] : '?', wchan[0] ? wchan : "-");
	return buf;
}

/* A child past its deadline: say where it is before it is killed, so a rare
 * timeout in CI names its cause. */
static void ipct__report_stuck(struct ipct_party *p)
{
	char what[160];
	fprintf(stderr, "ipcspec: a party timed out: %s\n", ipct_party_describe(p, what, sizeof what));
	ipct_party_backtrace(p);
}

void ipct_party_backtrace(struct ipct_party *p)
{
	char cmd[200];
	if (!p->is_process || p->finished || access("/usr/bin/gdb", X_OK) != 0)
		return;
	fflush(NULL);
	/* bounded: a party that cannot be attached (valgrind, ptrace refused)
	 * costs at most 20 s, and only on a failure */
	snprintf(cmd, sizeof cmd, "timeout 20 gdb -q -batch -nx -p %d -ex 'thread apply all bt 16' "
		 "</dev/null 2>/dev/null | grep -E '^(#|Thread)' >&2", (int)p->pid);
	if (system(cmd) == -1)
		fprintf(stderr, "ipcspec: no backtrace: %s\n", strerror(errno));
}

void ipct_party_dump(struct ipct_party *const *p, size_t n, const char *what)
{
	char where[160];
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "ipcspec: party %zu of %zu (%s): %s\n", i + 1, n, what,
			ipct_party_describe(p[i], where, sizeof where));
		ipct_party_backtrace(p[i]);
	}
}

/* Wait for a child with a pidfd, so no polling and no sleeping is needed. */
static int ipct__wait_process(struct ipct_party *p, int64_t deadline)
{
	int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	int64_t left = deadline - ipct_now_ns();
	if (fd >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		while (left > 0 && poll(&pfd, 1, (int)(left / 1000000) + 1) < 0 &&
		       errno == EINTR)
			left = deadline - ipct_now_ns();
		close(fd);
	} else {
		ipct__poll_child(p->pid, deadline);
	}
	int ws = 0;
	pid_t r = waitpid(p->pid, &ws, WNOHANG);
	if (r == 0) {
		ipct__report_stuck(p);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &ws, 0);
		return -ETIMEDOUT;
	}
	return r == p->pid ? ipct__status_of(ws) : -ECHILD;
}

static int ipct__wait_thread(struct ipct_party *p, int64_t deadline)
{
	struct timespec ts = { .tv_sec = deadline / 1000000000,
			       .tv_nsec = deadline % 1000000000 };
	if (pthread_clockjoin_np(p->thread, NULL, CLOCK_MONOTONIC, &ts) != 0)
		return -ETIMEDOUT;
	return p->status;
}

int ipct_party_wait(struct ipct_party *p, int64_t timeout_ms)
{
	if (p->finished)
		return p->status;
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(timeout_ms));
	int rc = p->is_process ? ipct__wait_process(p, deadline)
			       : ipct__wait_thread(p, deadline);
	if (rc == -ETIMEDOUT && !p->is_process)
		return rc; /* a thread cannot be killed: the test fails, the fixture leaks it */
	p->finished = true;
	p->status = rc;
	return rc;
}

void ipct_party_kill(struct ipct_party *p)
{
	if (!p->is_process)
		cr_assert_fail("BROKEN: only a process party can be killed");
	if (!p->finished)
		kill(p->pid, SIGKILL);
}

bool ipct__party_finished(struct ipct_party *p)
{
	return p->finished;
}

bool ipct__party_is_process(struct ipct_party *p)
{
	return p->is_process;
}

void ipct_party_enter_call(void)
{
	if (ipct__self != NULL)
		atomic_store(&ipct__self->in_call, 1);
}

void ipct_party_leave_call(void)
{
	if (ipct__self != NULL)
		atomic_store(&ipct__self->in_call, 0);
}

bool ipct_party_in_call(struct ipct_party *p)
{
	return atomic_load(&p->sh->in_call) != 0;
}

/* State letter of a thread from /proc: 'S' or 'D' means asleep in the kernel. */
static char ipct__thread_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return '?';
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *end = strrchr(buf, ')');
	return (end != NULL && end[1] == ' ') ? end[2] : '?';
}

bool ipct_party_wait_blocked(struct ipct_party *p, int64_t timeout_ms)
{
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(timeout_ms));
	while (ipct_now_ns() < deadline) {
		int32_t tid = atomic_load(&p->sh->tid);
		if (atomic_load(&p->sh->done))
			return false;
		if (tid > 0 && atomic_load(&p->sh->in_call)) {
			char st = ipct__thread_state(p->pid, tid);
			if (st == 'S' || st == 'D')
				return true;
		}
		/* Polling /proc, not synchronising: the deadline is what bounds us. */
		struct timespec pause_ts = { 0, 200000 };
		nanosleep(&pause_ts, NULL);
	}
	return false;
}

/* ---- events ------------------------------------------------------------- */

struct ipct_event *ipct_event_new(void)
{
	return ipct_shared(sizeof(struct ipct_event));
}

void ipct_event_set(struct ipct_event *e)
{
	atomic_store(&e->state, 1);
	syscall(SYS_futex, &e->state, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

int ipct_event_wait(struct ipct_event *e, int64_t timeout_ms)
{
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(timeout_ms));
	while (atomic_load(&e->state) == 0) {
		int64_t left = deadline - ipct_now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		struct timespec ts = { left / 1000000000, left % 1000000000 };
		syscall(SYS_futex, &e->state, FUTEX_WAIT, 0, &ts, NULL, 0);
	}
	return 0;
}

int ipct_event_wait_progress(struct ipct_event *e, _Atomic uint32_t *progress, int64_t stall_ms,
			     int64_t timeout_ms)
{
	int64_t slice = stall_ms / 4 > 0 ? stall_ms / 4 : 1; /* scaled by ipct_event_wait */
	int64_t end = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(timeout_ms));
	int64_t stall = IPCT_MS(ipct_scaled_ms(stall_ms));
	uint32_t seen = atomic_load(progress);
	int64_t moved = ipct_now_ns();
	while (ipct_event_wait(e, slice) != 0) {
		int64_t now = ipct_now_ns();
		uint32_t cur = atomic_load(progress);
		if (cur != seen) {
			seen = cur;
			moved = now;
		}
		if (now - moved >= stall || now >= end)
			return -ETIMEDOUT;
	}
	return 0;
}
