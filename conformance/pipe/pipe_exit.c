/* SPDX-License-Identifier: MIT */
/*
 * Verify that a child's exit closes the handles it inherited, with no close
 * call: the parent reads what the child wrote, then the end of file; once the
 * child is reaped, a non-blocking read sees that end at once, and a write
 * after the only reader's exit fails with -EPIPE at once, room or not (a
 * kernel's exit-close), or within a second whatever the subject.
 * Clauses: PIPE-FORK-1, PIPE-FORK-2, PIPE-FORK-3, PIPE-FORK-4.
 */
#include <signal.h>

#include "ipct.h"

#define OPS ipct_pipe()

struct exit_arg {
	struct ipc_pipe *keep;
	struct ipct_event *go; /* NULL: do not wait */
};

/* Hold the read end until told, then exit without reading or closing. */
static int hold_then_exit(void *argp)
{
	struct exit_arg *a = argp;
	ipct_pipe_keep(a->keep, NULL);
	return ipct_event_wait(a->go, 5000) == 0 ? 0 : 2;
}

/* Write through the kept write end (when told, if go) and exit without closing. */
static int write_then_exit(void *argp)
{
	struct exit_arg *a = argp;
	ipct_pipe_keep(a->keep, NULL);
	if (a->go != NULL && ipct_event_wait(a->go, 5000) != 0)
		return 2;
	return OPS->write(a->keep, "from the child", 14) == 14 ? 0 : 1;
}

Test(pipe, PIPE_FORK_1__child_writes_through_inherited_end_and_exit_closes_it)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CROSS_PROCESS);
	struct ipc_pipe *rd, *wr;
	struct exit_arg *a = ipct_shared(sizeof *a);
	char buf[32];
	SAFE_PIPE(&rd, &wr);
	*a = (struct exit_arg){ .keep = wr };
	struct ipct_party *p = ipct_process_start(write_then_exit, a);
	SAFE_CLOSE(wr);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_RC(ipct_pipe_read_full(rd, buf, sizeof buf), 14); /* 14, then the end of file */
	cr_assert(memcmp(buf, "from the child", 14) == 0, "the parent read %.14s", buf);
}

Test(pipe, PIPE_FORK_2__reaped_writer_child_is_end_of_file_for_a_nonblocking_read)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	struct exit_arg *a = ipct_shared(sizeof *a);
	char buf[32];
	SAFE_PIPE(&rd, &wr);
	*a = (struct exit_arg){ .keep = wr, .go = ipct_event_new() };
	struct ipct_party *p = ipct_process_start(write_then_exit, a);
	SAFE_CLOSE(wr);
	SAFE_NONBLOCK(rd, 1);
	EXPECT_ERR(OPS->read(rd, buf, sizeof buf), IPC_EAGAIN); /* the child is alive */
	ipct_event_set(a->go);
	EXPECT_RC(ipct_party_wait(p, 5000), 0); /* exited and reaped */
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 14);
	EXPECT_RC(OPS->read(rd, buf, sizeof buf), 0);
}

/* A child that holds the only read end until told to exit; SIGPIPE ignored. */
static struct ipct_party *start_only_reader(struct exit_arg *a, struct ipc_pipe **wr)
{
	struct ipc_pipe *rd;
	SAFE_PIPE(&rd, wr);
	*a = (struct exit_arg){ .keep = rd, .go = ipct_event_new() };
	struct ipct_party *p = ipct_process_start(hold_then_exit, a);
	SAFE_CLOSE(rd); /* the child's copy is the one reader left */
	ipct_signal_ignore(SIGPIPE);
	return p;
}

Test(pipe, PIPE_FORK_3__after_the_reader_child_is_reaped_a_write_fails_epipe)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_EXIT_CLOSE);
	struct ipc_pipe *wr;
	struct exit_arg *a = ipct_shared(sizeof *a);
	struct ipct_party *p = start_only_reader(a, &wr);
	EXPECT_RC(OPS->write(wr, "x", 1), 1); /* the child is alive */
	ipct_event_set(a->go);
	EXPECT_RC(ipct_party_wait(p, 5000), 0); /* exited and reaped, never read */
	EXPECT_ERR(OPS->write(wr, "y", 1), IPC_EPIPE);
	EXPECT_ERR(OPS->write(wr, "z", 1), IPC_EPIPE);
}

Test(pipe, PIPE_FORK_4__after_the_reader_child_is_reaped_writes_fail_epipe_within_a_second)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_BLOCKING);
	struct ipc_pipe *wr;
	struct exit_arg *a = ipct_shared(sizeof *a);
	struct ipct_party *p = start_only_reader(a, &wr);
	ipct_event_set(a->go);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	/* Blocking writes: one that fills the pipe must be released too. */
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(1000));
	ssize_t rc = 1;
	while (rc == 1 && ipct_now_ns() < deadline)
		rc = OPS->write(wr, "y", 1);
	EXPECT_ERR(rc, IPC_EPIPE);
}
