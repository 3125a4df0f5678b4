/* SPDX-License-Identifier: MIT */
/* Time, futex wait/wake and race points of the shared-memory core. */
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

int64_t ipc__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * IPC_NS_PER_SEC + ts.tv_nsec;
}

int64_t ipc__deadline(int64_t timeout_ns)
{
	int64_t now;

	if (timeout_ns < 0)
		return IPC_DEADLINE_NEVER;
	if (timeout_ns == 0)
		return 0;
	if (IPC_MUTANT(TIMEOUT_IGNORED))
		return IPC_DEADLINE_NEVER;
	now = ipc__now_ns();
	/* Saturate: a huge timeout is as good as infinite. */
	return timeout_ns > IPC_DEADLINE_NEVER - now ? IPC_DEADLINE_NEVER : now + timeout_ns;
}

/* The one FUTEX_WAIT of the core: 0 on a wake-up or value change,
 * -ETIMEDOUT, or -EINTR when a signal handler ran. The fault point makes it
 * behave as a spurious wake-up; callers must re-check. */
static int futex__wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns)
{
	struct timespec ts, *tsp = NULL;
	long rc;

	fiu_return_on("ipc/futex/wait", 0);
	if (deadline_ns != IPC_DEADLINE_NEVER) {
		if (deadline_ns <= ipc__now_ns())
			return IPC_ETIMEDOUT;
		ts.tv_sec = deadline_ns / IPC_NS_PER_SEC;
		ts.tv_nsec = deadline_ns % IPC_NS_PER_SEC;
		tsp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time; `expected`
	 * is the value the caller checked, never re-loaded here (lost wake-up).
	 * With a timeout the kernel restarts the wait only when no handler ran;
	 * a handler, SA_RESTART or not, ends it with EINTR. */
	rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
	if (rc == 0)
		return 0;
	if (errno == ETIMEDOUT)
		return IPC_ETIMEDOUT;
	return errno == EINTR ? IPC_EINTR : 0;
}

int ipc__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns)
{
	int rc = futex__wait(word, expected, deadline_ns);
	return rc == IPC_EINTR ? 0 : rc; /* a signal is a spurious wake-up here */
}

/* For waits that must end with -EINTR when a handler ran (a blocked pipe
 * read, like read(2)). */
int ipc__futex_wait_intr(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns)
{
	return futex__wait(word, expected, deadline_ns);
}

void ipc__futex_wake(_Atomic uint32_t *word, int count)
{
	syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

void ipc__futex_bump_wake_all(_Atomic uint32_t *word)
{
	/* release: a sleeper that reads the new value (acquire) also sees what
	 * the waker wrote before (published items, freed participant slots). */
	atomic_fetch_add_explicit(word, 1, memory_order_release);
	ipc__futex_wake(word, INT32_MAX);
}

/* xorshift per thread: busy-wait lengths and sleep jitter need no quality. */
uint32_t ipc__rand32(void)
{
	static _Thread_local uint32_t x;

	if (x == 0)
		x = (uint32_t)ipc__now_ns() | 1u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static void race_busy_wait(int64_t ns)
{
	int64_t end = ipc__now_ns() + ns;

	while (ipc__now_ns() < end)
		ipc__cpu_relax();
}

void ipc__race_point(const char *name)
{
	long mode = (long)fiu_failinfo();

	(void)name;
	switch (mode) {
	case 1:
		sched_yield();
		break;
	case 2:
		race_busy_wait((int64_t)(ipc__rand32() % 50001u));
		break;
	case 9:
		/* A deterministic death point: the kill -9 campaign's scalpel. */
		kill(getpid(), SIGKILL);
		break;
	default:
		break;
	}
}
