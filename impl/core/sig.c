/* SPDX-License-Identifier: MIT */
/* Signals and interrupted waits: what the kernel's restart rule would do. */
#include <pthread.h>
#include <signal.h>

#include "core/core.h"

/* Raised by the faulting instruction itself, so never while the thread
 * sleeps in a futex (sanitizers and debuggers install handlers for them). */
static bool synchronous(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP ||
	       sig == SIGSYS;
}

/* Linux restarts an interrupted read, write, open, accept, send or recv
 * when the handler that ran has SA_RESTART (poll never restarts). A futex
 * wait ended by a handler does not say which signal ran, so: restart when
 * every signal that could have run a handler here (caught, not blocked in
 * this thread) has SA_RESTART; with a mix, answer as if one without it ran.
 * Exact whenever the process's handlers agree, which is the usual case. */
bool ipc__sig_restarts(void)
{
	struct sigaction sa;
	sigset_t blocked;

	if (pthread_sigmask(SIG_BLOCK, NULL, &blocked) != 0)
		return false;
	for (int sig = 1; sig < NSIG; sig++) {
		if (synchronous(sig) || sigismember(&blocked, sig) == 1 || sigaction(sig, NULL, &sa) != 0)
			continue; /* cannot have ended the wait, or reserved by the C library */
		if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
			continue; /* no handler runs (sa_sigaction shares the field) */
		if (!(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

/* A handler runs for a caught signal in this state (not blocked by the
 * caller's mask, a function installed). */
static bool caught(int sig, const sigset_t *mask)
{
	struct sigaction sa;

	if (synchronous(sig) || sigismember(mask, sig) == 1 || sigaction(sig, NULL, &sa) != 0)
		return false;
	return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

/* A futex wait ends with EINTR when a handler runs during it, but nothing
 * tells of one that ran while the thread was between two sleeps (a slice
 * ran out, the peers were scanned, the state re-checked): that signal would
 * be lost, and the call would go on blocking. So the stretch between two
 * sleeps runs with the asynchronous signals held, and a handler that fell
 * due meanwhile is found pending when they are let go. */
void ipc__sig_hold(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	for (int sig = 1; sig < NSIG; sig++)
		if (synchronous(sig)) /* blocked, a fault would kill the process */
			sigdelset(&all, sig);
	pthread_sigmask(SIG_BLOCK, &all, old);
}

/* Undo ipc__sig_hold: true when a caught signal became pending meanwhile
 * (its handler runs as the mask is restored), which the caller treats as an
 * interrupted sleep. */
bool ipc__sig_release(const sigset_t *old)
{
	sigset_t pend;
	bool due = false;

	if (sigpending(&pend) == 0)
		for (int sig = 1; sig < NSIG && !due; sig++)
			due = sigismember(&pend, sig) == 1 && caught(sig, old);
	pthread_sigmask(SIG_SETMASK, old, NULL);
	return due;
}
