/* SPDX-License-Identifier: MIT */
/*
 * Verify that a caught signal (no SA_RESTART) ends a recv blocked on an
 * empty mailbox and a send blocked on a full one with -EINTR, neither taking
 * nor queuing a message, and that with SA_RESTART a blocked recv goes on
 * waiting and returns the message sent after the handler ran.
 * Clauses: MAILBOX-INTR-1, MAILBOX-INTR-2, MAILBOX-INTR-3.
 */
#include <signal.h>

#include "ipct.h"

#define OPS ipct_mailbox()

/* Start c blocked, signal its thread: what the call returned. */
static long interrupt(struct ipct_mailbox_call *c)
{
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: the %s returned %ld instead of blocking",
		  c->send ? "send" : "recv", (long)c->rc);
	SAFE_RC(ipct_signal_thread(c->who, SIGUSR1));
	return ipct_mailbox_call_result(c);
}

static void expect_msg(struct ipc_mailbox *rx, const char *want)
{
	char buf[64];
	EXPECT_RC(OPS->recv(rx, buf, sizeof buf, ipct_mailbox_at_once()), strlen(want));
	cr_assert(memcmp(buf, want, strlen(want)) == 0, "received \"%.*s\", expected \"%s\"",
		  (int)strlen(want), buf, want);
}

Test(mailbox, MAILBOX_INTR_1__a_signal_ends_a_blocked_recv_with_eintr)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BLOCKING);
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	ipct_signal_count(SIGUSR1);
	EXPECT_ERR(interrupt(ipct_mailbox_recv_thread(rx, -1)), IPC_EINTR);
	cr_assert_eq(ipct_signal_caught(SIGUSR1), 1, "BROKEN: the handler did not run");
	SAFE_RC(OPS->send(tx, "late", 4, ipct_mailbox_at_once()));
	expect_msg(rx, "late");
}

Test(mailbox, MAILBOX_INTR_2__a_signal_ends_a_blocked_send_with_eintr_queuing_nothing)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_BOUNDED);
	const char *name = ipct_mailbox_create(2, 5); /* full: n messages of max_msg */
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	SAFE_RC(OPS->send(tx, "one..", 5, ipct_mailbox_at_once()));
	SAFE_RC(OPS->send(tx, "two..", 5, ipct_mailbox_at_once()));
	ipct_signal_count(SIGUSR1);
	EXPECT_ERR(interrupt(ipct_mailbox_send_thread(tx, "intr!", 5, -1)), IPC_EINTR);
	expect_msg(rx, "one..");
	expect_msg(rx, "two..");
	SAFE_RC(OPS->send(tx, "three", 5, ipct_mailbox_at_once()));
	expect_msg(rx, "three"); /* not the interrupted message */
}

static struct ipct_event *handled;

static void on_signal(int sig)
{
	(void)sig;
	ipct_event_set(handled); /* an atomic store and a futex wake: signal-safe */
}

Test(mailbox, MAILBOX_INTR_3__with_sa_restart_a_blocked_recv_is_restarted)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_RESTART);
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	handled = ipct_event_new();
	SAFE_RC(sigaction(SIGUSR1, &sa, NULL));
	struct ipct_mailbox_call *c = ipct_mailbox_recv_thread(rx, -1);
	cr_assert(ipct_mailbox_call_blocks(c), "BROKEN: recv returned %ld instead of blocking",
		  (long)c->rc);
	SAFE_RC(ipct_signal_thread(c->who, SIGUSR1));
	SAFE_RC(ipct_event_wait(handled, 2000));
	cr_assert(ipct_mailbox_call_blocks(c),
		  "after the SA_RESTART handler, recv returned %ld "
		  "instead of waiting on",
		  (long)c->rc);
	SAFE_RC(OPS->send(tx, "after", 5, -1));
	EXPECT_RC(ipct_mailbox_call_result(c), 5);
	cr_assert(memcmp(c->buf, "after", 5) == 0, "the restarted recv got \"%.5s\"",
		  (char *)c->buf);
}
