/* SPDX-License-Identifier: MIT */
/* Harness support for the framing mechanism: capability names, setup
 * wrappers and cleanup (endpoints and decoders, then descriptors). */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "ipct.h"

/* The names of the capability bits of spec/framing.h, in bit order. */
const char *const ipct__framing_caps[] = {
    "blocking",
    "nonblock",
    "cross-process",
    "netns",
    NULL,
};

#define IPCT_FRAMING_MAX 64

static int ipct__frm_fds[IPCT_FRAMING_MAX];
static size_t ipct__frm_nfds;
static struct ipc_framing_tx *ipct__frm_tx[IPCT_FRAMING_MAX];
static size_t ipct__frm_ntx;
static struct ipc_framing_rx *ipct__frm_rx[IPCT_FRAMING_MAX];
static size_t ipct__frm_nrx;
static struct ipc_framing_decoder *ipct__frm_dec[IPCT_FRAMING_MAX];
static size_t ipct__frm_ndec;

/* A subject whose pair crosses network namespaces is judged only where they
 * can be made: the first use in a test process makes a pair, and when the
 * environment refuses, the clause is UNSUPPORTED (codec clauses too: such a
 * subject is judged everywhere or nowhere). */
static void ipct__frm_environment(const struct ipc_framing_ops *ops)
{
	static bool checked;
	int fds[2];
	if (checked || !ipct_has(IPC_FRAMING_CAP_NETNS))
		return;
	checked = true;
	ipct__netns_environment(ops->pair(0, fds));
	close(fds[0]);
	close(fds[1]);
}

const struct ipc_framing_ops *ipct_framing(void)
{
	if (ipct_subject()->mechanism != IPC_MECH_FRAMING)
		cr_assert_fail("BROKEN: subject %s is not of this test's mechanism",
			       ipct_subject()->name);
	ipct__frm_environment(ipct_subject()->ops);
	return ipct_subject()->ops;
}

static void ipct__frm_track(void **slots, size_t *n, void *p)
{
	if (*n == IPCT_FRAMING_MAX)
		cr_assert_fail("BROKEN: too many framing objects in one test");
	slots[(*n)++] = p;
}

void ipct_framing_pair(uint32_t flags, int *wr, int *rd)
{
	int fds[2];
	if (ipct__frm_nfds + 2 > IPCT_FRAMING_MAX)
		cr_assert_fail("BROKEN: too many descriptors in one test");
	SAFE_RC(ipct_framing()->pair(flags, fds));
	ipct__frm_fds[ipct__frm_nfds++] = *wr = fds[0];
	ipct__frm_fds[ipct__frm_nfds++] = *rd = fds[1];
}

void ipct_framing_close(int fd)
{
	for (size_t i = 0; i < ipct__frm_nfds; i++)
		if (ipct__frm_fds[i] == fd)
			ipct__frm_fds[i] = -1;
	close(fd);
}

void ipct_framing_keep(int keep)
{
	for (size_t i = 0; i < ipct__frm_nfds; i++)
		if (ipct__frm_fds[i] >= 0 && ipct__frm_fds[i] != keep)
			ipct_framing_close(ipct__frm_fds[i]);
}

struct ipc_framing_tx *ipct_framing_tx(int fd)
{
	struct ipc_framing_tx *tx = NULL;
	SAFE_RC(ipct_framing()->tx_open(fd, &tx));
	ipct__frm_track((void **)ipct__frm_tx, &ipct__frm_ntx, tx);
	return tx;
}

struct ipc_framing_rx *ipct_framing_rx(int fd, size_t max_payload)
{
	struct ipc_framing_rx *rx = NULL;
	SAFE_RC(ipct_framing()->rx_open(fd, max_payload, &rx));
	ipct__frm_track((void **)ipct__frm_rx, &ipct__frm_nrx, rx);
	return rx;
}

struct ipc_framing_decoder *ipct_framing_decoder(size_t max_payload,
						 const struct ipc_framing_alloc *alloc)
{
	struct ipc_framing_decoder *d = NULL;
	SAFE_RC(ipct_framing()->decoder_new(max_payload, alloc, &d));
	ipct__frm_track((void **)ipct__frm_dec, &ipct__frm_ndec, d);
	return d;
}

size_t ipct_framing_encode(uint16_t type, uint16_t flags, size_t len, uint32_t seq, void *buf,
			   size_t cap)
{
	static unsigned char payload[1 << 20];
	if (len > sizeof payload)
		cr_assert_fail("BROKEN: a test frame above %zu bytes", sizeof payload);
	ipct_pattern(payload, len, seq, 0);
	struct ipc_framing_frame f = {type, flags, (uint32_t)len, payload};
	return (size_t)SAFE_RC(ipct_framing()->encode(&f, buf, cap));
}

void ipct_framing_raw(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n, len -= (size_t)n;
			continue;
		}
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			poll(&pf, 1, 1000);
			continue;
		}
		cr_assert_fail("BROKEN: raw write failed: %s", strerror(errno));
	}
}

bool ipct_framing_is(const struct ipc_framing_frame *f, uint16_t type, uint16_t flags, size_t len,
		     uint32_t seq)
{
	return f->type == type && f->flags == flags && f->len == len &&
	       (len == 0 || ipct_pattern_check(f->payload, len, seq, 0) == -1);
}

uint32_t ipct_crc32c(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

/* A thread party still inside a call (stuck) may use the endpoints: leak
 * them, but close the descriptors, which ends its call. */
void ipct__framing_teardown(bool stuck)
{
	const struct ipc_framing_ops *ops = ipct_subject()->ops;
	for (size_t i = 0; i < ipct__frm_ntx && !stuck; i++)
		ops->tx_close(ipct__frm_tx[i]);
	for (size_t i = 0; i < ipct__frm_nrx && !stuck; i++)
		ops->rx_close(ipct__frm_rx[i]);
	for (size_t i = 0; i < ipct__frm_ndec && !stuck; i++)
		ops->decoder_free(ipct__frm_dec[i]);
	for (size_t i = 0; i < ipct__frm_nfds; i++)
		if (ipct__frm_fds[i] >= 0)
			close(ipct__frm_fds[i]);
	ipct__frm_nfds = ipct__frm_ntx = ipct__frm_nrx = ipct__frm_ndec = 0;
}
