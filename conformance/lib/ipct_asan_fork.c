/* SPDX-License-Identifier: MIT */
/* Fork-safe allocator for ASan builds of the runner.
 *
 * clang 14's ASan takes no lock of its own around fork() (LLVM 18 added
 * one). A process forked while another thread was inside the allocator, or
 * inside the stack depot that records where each block came from, inherits
 * that lock held by a thread that does not exist in it, and its first
 * allocation of the same kind waits forever. The runner is multi-threaded
 * (Criterion's messaging threads allocate as tests report) and forks a
 * worker per test and a process per party, so a party now and then hung
 * until its wait timed out and the clause failed (a loop of 500 forks beside
 * four allocating threads: 4 children hung; with these handlers, none).
 *
 * The handlers do what the newer runtime does: take the allocator's and the
 * depot's locks before the fork, release them in both processes after. They
 * are registered from a constructor, before any other handler of this
 * program, so their prepare step runs last and their release runs first:
 * no other handler allocates while the locks are held. The symbols are the
 * runtime's own (C++ names, weak): outside an ASan build they are absent and
 * nothing is registered. */
#include <pthread.h>

#if defined(__SANITIZE_ADDRESS__)
#define IPCT__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IPCT__ASAN 1
#endif
#endif

#ifdef IPCT__ASAN
void ipct__asan_lock(void) __asm__("_ZN6__asan18asan_mz_force_lockEv") __attribute__((weak));
void ipct__asan_unlock(void) __asm__("_ZN6__asan20asan_mz_force_unlockEv") __attribute__((weak));
void ipct__depot_lock(void) __asm__("_ZN11__sanitizer17StackDepotLockAllEv") __attribute__((weak));
void ipct__depot_unlock(void) __asm__("_ZN11__sanitizer19StackDepotUnlockAllEv")
    __attribute__((weak));

static void ipct__fork_prepare(void)
{
	ipct__asan_lock();
	ipct__depot_lock();
}

static void ipct__fork_after(void)
{
	ipct__depot_unlock();
	ipct__asan_unlock();
}

__attribute__((constructor(101))) static void ipct__asan_fork_init(void)
{
	if (ipct__asan_lock && ipct__asan_unlock && ipct__depot_lock && ipct__depot_unlock)
		(void)pthread_atfork(ipct__fork_prepare, ipct__fork_after, ipct__fork_after);
}
#endif
