/* SPDX-License-Identifier: MIT */
/*
 * Verify that SCM_RIGHTS passes an open file as a new descriptor, without
 * the close-on-exec flag unless MSG_CMSG_CLOEXEC is asked, that a control
 * buffer too small sets MSG_CTRUNC and closes what did not fit (no leak),
 * that descriptors of two sends are not merged, and that a descriptor that
 * is not open is -EBADF with nothing sent.
 * Clauses: SOCKET-SCM-1, SOCKET-SCM-2, SOCKET-SCM-3, SOCKET-SCM-4, SOCKET-SCM-5.
 */
#include <fcntl.h>
#include <unistd.h>

#include "ipct.h"

#define OPS ipct_socket()

static void safe_pipe(int p[2], int flags)
{
	SAFE_RC(pipe2(p, O_CLOEXEC | flags) == 0 ? 0 : -errno);
}

/* Receive 1 byte with room for `room` descriptors: how many came, in fds. */
static size_t recv_fds(struct ipc_socket *s, int *fds, size_t room, int flags, int *msg_flags)
{
	char c;
	size_t n = room;
	EXPECT_RC(OPS->recv_fds(s, &c, 1, fds, &n, flags | MSG_DONTWAIT, msg_flags), 1);
	return n;
}

Test(socket, SOCKET_SCM_1__a_passed_descriptor_is_the_same_open_file)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_SCM_RIGHTS);
	struct ipc_socket *a, *b;
	int p[2], got[1], fl = 0;
	char buf[4];
	ipct_socket_pair(&a, &b);
	safe_pipe(p, 0);
	EXPECT_RC(OPS->send_fds(a, "f", 1, &p[1], 1, MSG_NOSIGNAL), 1);
	cr_assert_eq(recv_fds(b, got, 1, 0, &fl), 1, "no descriptor arrived");
	cr_assert(got[0] != p[1] && !(fl & MSG_CTRUNC), "not a new descriptor (%d)", got[0]);
	close(p[1]);
	EXPECT_RC(write(got[0], "zz", 2), 2);
	EXPECT_RC(read(p[0], buf, sizeof buf), 2);
	close(got[0]);
	close(p[0]);
}

Test(socket, SOCKET_SCM_2__cloexec_only_with_msg_cmsg_cloexec)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_SCM_RIGHTS);
	struct ipc_socket *a, *b;
	int p[2], got[2];
	ipct_socket_pair(&a, &b);
	safe_pipe(p, 0); /* both ends FD_CLOEXEC at the sender */
	EXPECT_RC(OPS->send_fds(a, "1", 1, &p[1], 1, MSG_NOSIGNAL), 1);
	EXPECT_RC(OPS->send_fds(a, "2", 1, &p[1], 1, MSG_NOSIGNAL), 1);
	cr_assert_eq(recv_fds(b, &got[0], 1, 0, NULL), 1, "no descriptor arrived");
	cr_assert_eq(recv_fds(b, &got[1], 1, MSG_CMSG_CLOEXEC, NULL), 1, "no descriptor arrived");
	int f0 = fcntl(got[0], F_GETFD), f1 = fcntl(got[1], F_GETFD);
	cr_assert(f0 >= 0 && !(f0 & FD_CLOEXEC), "FD_CLOEXEC carried over (flags %d)", f0);
	cr_assert(f1 >= 0 && (f1 & FD_CLOEXEC), "MSG_CMSG_CLOEXEC ignored (flags %d)", f1);
	close(got[0]);
	close(got[1]);
	close(p[0]);
	close(p[1]);
}

/* Send 3 pipe write ends, receive with room for `room`: MSG_CTRUNC, at most
 * room descriptors, and every pipe reaches end of file once the test closes
 * its own ends and what it received (a leaked duplicate would keep it open). */
static void ctrunc_case(size_t room)
{
	struct ipc_socket *a, *b;
	int p[3][2], w[3], got[3], fl = 0;
	char c;
	ipct_socket_pair(&a, &b);
	for (int i = 0; i < 3; i++) {
		safe_pipe(p[i], O_NONBLOCK);
		w[i] = p[i][1];
	}
	EXPECT_RC(OPS->send_fds(a, "t", 1, w, 3, MSG_NOSIGNAL), 1);
	size_t n = recv_fds(b, got, room, 0, &fl);
	cr_assert((fl & MSG_CTRUNC) && n <= room, "MSG_CTRUNC %d, %zu descriptors for room %zu",
		  !!(fl & MSG_CTRUNC), n, room);
	for (size_t i = 0; i < n; i++)
		close(got[i]);
	for (int i = 0; i < 3; i++) {
		close(w[i]);
		long rc = read(p[i][0], &c, 1);
		cr_assert_eq(rc, 0, "pipe %d still has a writer (read %ld): a descriptor leaked", i,
			     rc);
		close(p[i][0]);
	}
}

Test(socket, SOCKET_SCM_3__short_control_buffer_sets_ctrunc_and_leaks_nothing)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_SCM_RIGHTS);
	ctrunc_case(1);
	ctrunc_case(0);
}

Test(socket, SOCKET_SCM_4__descriptors_of_two_sends_are_not_merged)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_SCM_RIGHTS);
	struct ipc_socket *a, *b;
	int p[2], got[2];
	char buf[8];
	ipct_socket_pair(&a, &b);
	safe_pipe(p, 0);
	EXPECT_RC(OPS->send_fds(a, "1", 1, &p[0], 1, MSG_NOSIGNAL), 1);
	EXPECT_RC(OPS->send_fds(a, "2", 1, &p[1], 1, MSG_NOSIGNAL), 1);
	for (int i = 0; i < 2; i++) {
		size_t n = 2;
		EXPECT_RC(OPS->recv_fds(b, buf, sizeof buf, got, &n, MSG_DONTWAIT, NULL), 1);
		cr_assert(n == 1 && buf[0] == '1' + i, "recv %d: %zu descriptors, byte %c", i, n,
			  buf[0]);
		close(got[0]);
	}
	close(p[0]);
	close(p[1]);
}

Test(socket, SOCKET_SCM_5__a_descriptor_not_open_is_ebadf_and_sends_nothing)
{
	IPCT_REQUIRE(IPC_SOCKET_CAP_SCM_RIGHTS);
	struct ipc_socket *a, *b;
	int p[2];
	char buf[8];
	ipct_socket_pair(&a, &b);
	safe_pipe(p, 0);
	close(p[1]); /* p[1] is now a number that is not open */
	EXPECT_ERR(OPS->send_fds(a, "x", 1, &p[1], 1, MSG_NOSIGNAL), IPC_EBADF);
	EXPECT_ERR(OPS->recv(b, buf, sizeof buf, MSG_DONTWAIT, NULL), IPC_EAGAIN);
	close(p[0]);
}
