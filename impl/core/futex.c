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

int ipc__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns)
{
	struct timespec ts, *tsp = NULL;
	long rc;

	/* Fault point: behave as a spurious wake-up; callers must re-check. */
	fiu_return_on("ipc/futex/wait", 0);
	if (deadline_ns != IPC_DEADLINE_NEVER) {
		if (deadline_ns <= ipc__now_ns())
			return IPC_ETIMEDOUT;
		ts.tv_sec = deadline_ns / IPC_NS_PER_SEC;
		ts.tv_nsec = deadline_ns % IPC_NS_PER_SEC;
		tsp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time; `expected`
	 * is the value the caller checked, never re-loaded here (lost wake-up). */
	rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
	if (rc < 0 && errno == ETIMEDOUT)
		return IPC_ETIMEDOUT;
	return 0;
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

/* xorshift per thread: the busy-wait length needs no quality. */
static uint32_t race_rand(void)
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
		race_busy_wait((int64_t)(race_rand() % 50001u));
		break;
	case 9:
		/* A deterministic death point: the kill -9 campaign's scalpel. */
		kill(getpid(), SIGKILL);
		break;
	default:
		break;
	}
}
