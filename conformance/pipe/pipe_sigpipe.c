/* SPDX-License-Identifier: MIT */
/*
 * Verify that a write with every read end closed raises SIGPIPE exactly once
 * per write and fails with -EPIPE when the signal is caught, fails with -EPIPE
 * when it is ignored (unread bytes or not), kills the writer under the default
 * action, and leaves the signal pending when it is blocked.
 * Clauses: PIPE-SIG-1, PIPE-SIG-2, PIPE-SIG-3, PIPE-SIG-4.
 */
#include <signal.h>
#include <time.h>

#include "ipct.h"

#define OPS ipct_pipe()

Test(pipe, PIPE_SIG_1__write_without_reader_raises_one_sigpipe_and_fails_epipe)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_SIGPIPE);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	SAFE_CLOSE(rd);
	ipct_signal_count(SIGPIPE);
	EXPECT_ERR(OPS->write(wr, "x", 1), IPC_EPIPE);
	cr_assert_eq(ipct_signal_caught(SIGPIPE), 1, "one write raised %d SIGPIPE",
		     ipct_signal_caught(SIGPIPE));
	EXPECT_ERR(ipct_pipe_write_pattern(wr, 2 * IPC_PIPE_BUF, 1, 0), IPC_EPIPE);
	cr_assert_eq(ipct_signal_caught(SIGPIPE), 2, "two writes raised %d SIGPIPE",
		     ipct_signal_caught(SIGPIPE));
}

Test(pipe, PIPE_SIG_2__with_sigpipe_ignored_every_write_fails_epipe)
{
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	ipct_signal_ignore(SIGPIPE);
	SAFE_WRITE(wr, "unread", 6);
	SAFE_CLOSE(rd); /* with bytes left in the pipe */
	for (int i = 0; i < 3; i++)
		EXPECT_ERR(OPS->write(wr, "x", 1), IPC_EPIPE);
}

static int default_writer(void *argp)
{
	struct ipc_pipe *wr = argp;
	sigset_t pipe_only;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	ipct_signal_default(SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &pipe_only, NULL);
	ipct_pipe_keep(wr, NULL);
	OPS->write(wr, "x", 1);
	return 1; /* still alive: the write did not kill */
}

Test(pipe, PIPE_SIG_3__default_action_kills_the_writer_with_sigpipe)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_SIGPIPE | IPC_PIPE_CAP_CROSS_PROCESS);
	struct ipc_pipe *rd, *wr;
	SAFE_PIPE(&rd, &wr);
	SAFE_CLOSE(rd);
	int st = ipct_party_wait(ipct_process_start(default_writer, wr), 5000);
	cr_assert_eq(st, 128 + SIGPIPE, "the writer ended with status %d, not killed by "
		     "SIGPIPE (%d)", st, 128 + SIGPIPE);
}

Test(pipe, PIPE_SIG_4__with_sigpipe_blocked_it_stays_pending_and_write_fails_epipe)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_SIGPIPE);
	struct ipc_pipe *rd, *wr;
	sigset_t pipe_only, old, pending;
	struct timespec zero = { 0, 0 };
	SAFE_PIPE(&rd, &wr);
	SAFE_CLOSE(rd);
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	ipct_signal_count(SIGPIPE); /* were it delivered anyway, it would be counted */
	long rc = OPS->write(wr, "x", 1);
	sigpending(&pending);
	int taken = sigtimedwait(&pipe_only, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	EXPECT_ERR(rc, IPC_EPIPE);
	cr_assert(sigismember(&pending, SIGPIPE) && taken == SIGPIPE,
		  "SIGPIPE was not left pending (pending %d, taken %d, delivered %d)",
		  sigismember(&pending, SIGPIPE), taken, ipct_signal_caught(SIGPIPE));
}
