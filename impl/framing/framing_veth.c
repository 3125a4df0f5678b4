/* SPDX-License-Identifier: MIT */
/*
 * framing-veth: the reference framing (framing/frame.h) over TCP between two
 * network namespaces joined by a veth link (core/veth.h), so every frame
 * crosses a real link between two network stacks, with its 1500-byte MTU
 * (TCP segments of 1448 bytes), ARP and TCP on both ends, as between two
 * machines. The listener is made in namespace B, the connecting socket in
 * namespace A; both descriptors stay usable from the test's process and its
 * forked peers. Where the link cannot be made (not root, no network
 * namespaces, no veth), pair() says why (-EPERM, -EOPNOTSUPP) and the
 * harness reports the clauses UNSUPPORTED (IPC_FRAMING_CAP_NETNS).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/veth.h"
#include "framing/frame.h"
#include "ipc_subject.h"

#define FV_BUF (64 << 10) /* the kernel doubles it for its bookkeeping */

static int fv__nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* Fixed buffers, where TCP would tune them: with tuning, a sender that met
 * a full stream gets room again tens of milliseconds later (the receiver's
 * delayed ACK frees what it had in flight, then the send buffer grows), so
 * "full" would be a moment, not a state a timeout can be judged on. The
 * receiver's is set on the listener, so the accepted socket has it from its
 * first segment. */
static int fv__buffer(int fd, int opt)
{
	int size = FV_BUF;
	return setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size) < 0 ? -errno : 0;
}

/* Listen in B on a port the kernel picks; connect from A; accept. */
static int fv__connect(int lst, int fds[2])
{
	struct sockaddr_in a = ipc__veth_addr(IPC_VETH_B);
	socklen_t al = sizeof a;

	if (fv__buffer(lst, SO_RCVBUF) < 0 || bind(lst, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(lst, 1) < 0 || getsockname(lst, (struct sockaddr *)&a, &al) < 0)
		return -errno;
	fds[0] = ipc__veth_socket(IPC_VETH_A, AF_INET, SOCK_STREAM);
	if (fds[0] < 0)
		return fds[0];
	if (fv__buffer(fds[0], SO_SNDBUF) < 0 ||
	    connect(fds[0], (struct sockaddr *)&a, sizeof a) < 0 ||
	    (fds[1] = accept4(lst, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		int rc = -errno;
		close(fds[0]);
		return rc;
	}
	return 0;
}

static int fv__pair(uint32_t flags, int fds[2])
{
	if (flags & ~(uint32_t)IPC_FRAMING_NONBLOCK)
		return -EINVAL;
	int lst = ipc__veth_socket(IPC_VETH_B, AF_INET, SOCK_STREAM);
	if (lst < 0)
		return lst;
	int rc = fv__connect(lst, fds);
	close(lst);
	if (rc < 0 || !(flags & IPC_FRAMING_NONBLOCK))
		return rc;
	if ((rc = fv__nonblock(fds[0])) < 0 || (rc = fv__nonblock(fds[1])) < 0)
		close(fds[0]), close(fds[1]);
	return rc;
}

static const struct ipc_framing_ops fv__ops = {
    .pair = fv__pair,
    .encode = ipc_framing_encode,
    .decoder_new = ipc_framing_decoder_new,
    .decode = ipc_framing_decode,
    .decode_end = ipc_framing_decode_end,
    .decoder_free = ipc_framing_decoder_free,
    .tx_open = ipc_framing_tx_open,
    .tx_close = ipc_framing_tx_close,
    .rx_open = ipc_framing_rx_open,
    .rx_close = ipc_framing_rx_close,
    .send = ipc_framing_send,
    .flush = ipc_framing_flush,
    .recv = ipc_framing_recv,
};

const struct ipc_subject ipc__subject_framing_veth = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "framing-veth",
    .mechanism = IPC_MECH_FRAMING,
    .caps = IPC_FRAMING_CAP_BLOCKING | IPC_FRAMING_CAP_NONBLOCK | IPC_FRAMING_CAP_CROSS_PROCESS |
	    IPC_FRAMING_CAP_NETNS,
    .ops = &fv__ops,
    .summary = "the reference framing (v1, CRC-32C) over TCP between two network namespaces "
	       "joined by veth (root only)",
};
