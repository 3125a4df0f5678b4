/* SPDX-License-Identifier: MIT */
/*
 * Verify that a send on a shut writing side fails with -EPIPE, raising
 * exactly one SIGPIPE per call unless MSG_NOSIGNAL is given, that a send
 * after the peer's close fails (at once on a Unix socket, by the second send
 * over TCP), and that SIGPIPE's default action kills the sender.
 * Clauses: SOCKET-EPIPE-1, SOCKET-EPIPE-2, SOCKET-EPIPE-3, SOCKET-EPIPE-4,
 * SOCKET-EPIPE-5.
 */
#include <signal.h>

#include "ipct.h"

#define OPS       ipct_socket()
#define CHILD_OPS ((const struct ipc_socket_ops *)ipct_subject()->ops)

Test(socket, SOCKET_EPIPE_1__nosignal_send_after_shut_wr_is_epipe_without_signal)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	SAFE_RC(OPS->shutdown(a, SHUT_WR));
	ipct_signal_count(SIGPIPE);
	for (int i = 0; i < 3; i++)
		EXPECT_ERR(OPS->send(a, "x", 1, MSG_NOSIGNAL), IPC_EPIPE);
	cr_assert_eq(ipct_signal_caught(SIGPIPE), 0, "MSG_NOSIGNAL sends raised %d SIGPIPE",
		     ipct_signal_caught(SIGPIPE));
}

Test(socket, SOCKET_EPIPE_2__plain_send_after_shut_wr_raises_one_sigpipe_per_call)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED | IPC_SOCKET_CAP_SIGPIPE);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	SAFE_RC(OPS->shutdown(a, SHUT_WR));
	ipct_signal_count(SIGPIPE);
	EXPECT_ERR(OPS->send(a, "x", 1, 0), IPC_EPIPE);
	cr_assert_eq(ipct_signal_caught(SIGPIPE), 1, "one send raised %d SIGPIPE",
		     ipct_signal_caught(SIGPIPE));
	EXPECT_ERR(OPS->send(a, "xy", 2, 0), IPC_EPIPE);
	cr_assert_eq(ipct_signal_caught(SIGPIPE), 2, "two sends raised %d SIGPIPE",
		     ipct_signal_caught(SIGPIPE));
}

static bool is_closed_error(long rc)
{
	return rc == IPC_EPIPE || rc == IPC_ECONNRESET;
}

Test(socket, SOCKET_EPIPE_3__send_after_peer_close_fails_by_the_second_send)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	ipct_signal_ignore(SIGPIPE);
	SAFE_RC(ipct_socket_close(b));
	long first = OPS->send(a, "x", 1, MSG_NOSIGNAL);
	long second = is_closed_error(first) ? first : OPS->send(a, "x", 1, MSG_NOSIGNAL);
	cr_assert(is_closed_error(second), "sends after the peer's close returned %ld then %ld",
		  first, second);
	for (int i = 0; i < 3; i++) {
		long rc = OPS->send(a, "x", 1, MSG_NOSIGNAL);
		cr_assert(is_closed_error(rc), "a later send returned %ld", rc);
	}
}

Test(socket, SOCKET_EPIPE_4__unix_first_send_after_peer_close_is_epipe)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED | IPC_SOCKET_CAP_LOCAL_PEER);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	SAFE_RC(ipct_socket_close(b));
	EXPECT_ERR(OPS->send(a, "x", 1, MSG_NOSIGNAL), IPC_EPIPE);
}

static int default_sender(void *argp)
{
	sigset_t pipe_only;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	ipct_signal_default(SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &pipe_only, NULL);
	CHILD_OPS->send(argp, "x", 1, 0);
	return 1; /* still alive: the send did not kill */
}

Test(socket, SOCKET_EPIPE_5__default_action_kills_the_sender)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_CONNECTED | IPC_SOCKET_CAP_SIGPIPE |
		     IPC_SOCKET_CAP_CROSS_PROCESS);
	struct ipc_socket *a, *b;
	ipct_socket_pair(&a, &b);
	SAFE_RC(OPS->shutdown(a, SHUT_WR));
	int st = ipct_party_wait(ipct_process_start(default_sender, a), 5000);
	cr_assert_eq(st, 128 + SIGPIPE,
		     "the sender ended with status %d, not killed by SIGPIPE (%d)", st,
		     128 + SIGPIPE);
}
