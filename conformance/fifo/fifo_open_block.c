/* SPDX-License-Identifier: MIT */
/*
 * Verify that a blocking open waits for the other side: read-only until a
 * writer opens, write-only until a reader does, and that a caught signal ends
 * either wait with -EINTR, leaving the FIFO usable.
 * Clauses: FIFO-OPEN-1, FIFO-OPEN-2, FIFO-OPEN-3.
 */
#include <signal.h>

#include "ipct.h"

struct opener_arg {
	const char *path;
	uint32_t flags; /* IPC_FIFO_RDONLY or IPC_FIFO_WRONLY, blocking */
	struct ipct_thread_id who;
	_Atomic int rc; /* 1 until the open returns */
	char got[4];    /* a reader's first 4 bytes */
};

/* Open blocking, then read 4 bytes (a reader) or write "ping" (a writer). */
static int opener(void *argp)
{
	struct opener_arg *a = argp;
	struct ipc_pipe *h = NULL;
	ipct_fifo_keep(NULL, NULL);
	a->who = ipct_thread_self();
	ipct_party_enter_call();
	int rc = FIFO->open(a->path, a->flags, &h);
	a->rc = rc;
	ipct_party_leave_call();
	if (rc != 0)
		return 0;
	size_t done = 0;
	while (done < 4) {
		ssize_t n = a->flags == IPC_FIFO_RDONLY ? FIFO_IO->read(h, a->got + done, 4 - done)
							: FIFO_IO->write(h, &"ping"[done], 4 - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	FIFO_IO->close(h);
	return done == 4 ? 0 : 1;
}

/* Start a party opening path with flags and see it wait. */
static struct opener_arg *start_waiting(const char *path, uint32_t flags, struct ipct_party **p)
{
	struct opener_arg *a = ipct_shared(sizeof *a);
	*a = (struct opener_arg){ .path = path, .flags = flags, .rc = 1 };
	*p = ipct_party_start(opener, a);
	cr_assert(ipct_party_wait_blocked(*p, 2000) && a->rc == 1,
		  "the %s open returned %d instead of waiting for the other side",
		  flags == IPC_FIFO_RDONLY ? "read-only" : "write-only", (int)a->rc);
	return a;
}

/* A party's blocking open waits; ours for the other side meets it. */
static void meet(const char *path, uint32_t party_flags)
{
	struct ipct_party *p;
	struct opener_arg *a = start_waiting(path, party_flags, &p);
	struct ipc_pipe *h = ipct_fifo_open_ok(path, party_flags ^ IPC_FIFO_WRONLY);
	char buf[4];
	if (party_flags == IPC_FIFO_RDONLY)
		EXPECT_RC(FIFO_IO->write(h, "ping", 4), 4);
	else
		EXPECT_RC(FIFO_IO->read(h, buf, 4), 4);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
	EXPECT_OK(a->rc);
	if (party_flags == IPC_FIFO_RDONLY)
		cr_assert(memcmp(a->got, "ping", 4) == 0, "the reader got %.4s", a->got);
	else
		cr_assert(memcmp(buf, "ping", 4) == 0, "the reader got %.4s", buf);
	SAFE_RC(ipct_fifo_close(h));
}

Test(fifo, FIFO_OPEN_1__blocking_read_only_open_waits_for_a_writer)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_BLOCKING_OPEN);
	meet(ipct_fifo_make(0600), IPC_FIFO_RDONLY);
}

Test(fifo, FIFO_OPEN_2__blocking_write_only_open_waits_for_a_reader)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_BLOCKING_OPEN);
	meet(ipct_fifo_make(0600), IPC_FIFO_WRONLY);
}

Test(fifo, FIFO_OPEN_3__a_caught_signal_ends_a_waiting_open_with_eintr)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_BLOCKING_OPEN);
	const char *path = ipct_fifo_make(0600);
	static const uint32_t dirs[] = { IPC_FIFO_RDONLY, IPC_FIFO_WRONLY };
	ipct_signal_count(SIGUSR1); /* the party inherits or shares the handler */
	for (int i = 0; i < 2; i++) {
		struct ipct_party *p;
		struct opener_arg *a = start_waiting(path, dirs[i], &p);
		SAFE_RC(ipct_signal_thread(a->who, SIGUSR1));
		EXPECT_RC(ipct_party_wait(p, 5000), 0);
		EXPECT_ERR(a->rc, IPC_EINTR);
	}
	meet(path, IPC_FIFO_RDONLY); /* the FIFO still works */
	meet(path, IPC_FIFO_WRONLY);
}
