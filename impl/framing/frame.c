/* SPDX-License-Identifier: MIT */
/*
 * The reference framing (spec/framing.h, clauses spec/framing.md).
 *
 *  - CRC-32C from Intel's ISA-L (libisal), whose folding code checks a 4 KiB
 *    frame in ~90 ns; slice-by-8 tables when built without it.
 *  - The decoder is a two-state machine (header, payload) that copies what it
 *    is given and never looks ahead: it can be fed one byte at a time or a
 *    whole buffer holding many frames, and *used tells the caller where the
 *    next frame starts. Every refusal is final (no resynchronisation).
 *  - A tx writes header and payload with one call (writev on a pipe; on a
 *    socket one send of the two gathered, up to 8 KiB, else sendmsg) and
 *    keeps its progress; a frame cut off by a full descriptor is finished
 *    from a copy of its rest on the next call, so a negative result never
 *    leaves half a frame behind the caller's back.
 *  - An rx reads into its own buffer (up to 64 KiB per read). A whole valid
 *    frame found there is handed out in place (valid until the next recv);
 *    anything else goes through the decoder, which copies and keeps the
 *    frame in progress across -EAGAIN.
 *  - A blocking AF_UNIX rx that finds nothing retries for about 13 us before
 *    it sleeps: a streaming sender refills the socket within that, and every
 *    sleep makes the sender pay the wake-up. Not on TCP, where a polling
 *    receiver's window updates break up the sender's segments (both
 *    measured: docs/bench.md, "Framing").
 *  - Finite timeouts never block inside the kernel: sockets use MSG_DONTWAIT;
 *    a blocking pipe or FIFO is polled first and then written PIPE_BUF bytes
 *    at a time (a pipe that polls writable takes that much without waiting).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#ifndef IPCSPEC_NO_ISAL
#include <isa-l/crc.h>
#endif

#include "core/mutant.h"
#include "framing/frame.h"
#include "ipc_subject.h"

#define FRM_RX_BUF    (64u << 10)
#define FRM_RX_SPINS  32         /* non-blocking tries before a blocking receive */
#define FRM_TX_GATHER (8u << 10) /* a socket frame up to this size goes as one buffer */

/* ---- CRC-32C ----------------------------------------------------------- */

#ifndef IPCSPEC_NO_ISAL
/* Intel's ISA-L folds the buffer with carry-less multiplies on several
 * streams at once (about 45 bytes/ns here, 6x one crc32 instruction stream),
 * so checking a 4 KiB frame costs ~90 ns on each side, well under the cost of
 * the write that carries it. Its crc32_iscsi is CRC-32C without the final
 * inversion and takes an int length: both adapted here. */
uint32_t ipc_framing_crc32c(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)(uintptr_t)buf;

	crc = ~crc;
	for (size_t k; len > 0; p += k, len -= k) {
		k = len < (size_t)INT_MAX ? len : (size_t)1 << 30;
		crc = crc32_iscsi(p, (int)k, crc);
	}
	return ~crc;
}
#else
/* Without ISA-L (the fuzzing image): slice-by-8, eight lookups per 8 bytes. */
static uint32_t frm__crc_tab[8][256];
static pthread_once_t frm__crc_once = PTHREAD_ONCE_INIT;

static void frm__crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		frm__crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			frm__crc_tab[t][i] = (frm__crc_tab[t - 1][i] >> 8) ^
					     frm__crc_tab[0][frm__crc_tab[t - 1][i] & 0xff];
}

static uint32_t frm__le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t ipc_framing_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t(*t)[256] = frm__crc_tab;

	pthread_once(&frm__crc_once, frm__crc_init);
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t a = crc ^ frm__le32(p), b = frm__le32(p + 4);
		crc = t[7][a & 0xff] ^ t[6][(a >> 8) & 0xff] ^ t[5][(a >> 16) & 0xff] ^
		      t[4][a >> 24] ^ t[3][b & 0xff] ^ t[2][(b >> 8) & 0xff] ^
		      t[1][(b >> 16) & 0xff] ^ t[0][b >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
#endif

/* ---- encoder ------------------------------------------------------------ */

static void frm__put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t frm__get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int ipc_framing_header(const struct ipc_framing_frame *f, unsigned char *hdr)
{
	if (f->len > IPC_FRAMING_PAYLOAD_LIMIT)
		return -EMSGSIZE;
	hdr[0] = IPC_FRAMING_MAGIC0, hdr[1] = IPC_FRAMING_MAGIC1;
	hdr[2] = IPC_FRAMING_VERSION, hdr[3] = 0;
	frm__put32(hdr + 4, f->len);
	hdr[8] = (unsigned char)(f->type >> 8), hdr[9] = (unsigned char)f->type;
	hdr[10] = (unsigned char)(f->flags >> 8), hdr[11] = (unsigned char)f->flags;
	frm__put32(hdr + 12, f->len ? ipc_framing_crc32c(0, f->payload, f->len) : 0);
	frm__put32(hdr + 16, ipc_framing_crc32c(0, hdr, 16));
	return 0;
}

ssize_t ipc_framing_encode(const struct ipc_framing_frame *f, void *buf, size_t cap)
{
	if (f->len > IPC_FRAMING_PAYLOAD_LIMIT || cap < IPC_FRAMING_HDR_LEN + (size_t)f->len)
		return -EMSGSIZE;
	if (f->len > 0 && f->payload == NULL)
		return -EFAULT;
	ipc_framing_header(f, buf);
	if (f->len > 0)
		memmove((unsigned char *)buf + IPC_FRAMING_HDR_LEN, f->payload, f->len);
	return IPC_FRAMING_HDR_LEN + (ssize_t)f->len;
}

/* ---- decoder ------------------------------------------------------------ */

struct ipc_framing_decoder {
	size_t max;
	struct ipc_framing_alloc alloc;
	int error;      /* 0, or the final result (an error, or IPC_EOD after end) */
	int in_payload; /* else in a header */
	size_t have;    /* bytes of the current header or payload */
	unsigned char hdr[IPC_FRAMING_HDR_LEN];
	struct ipc_framing_frame cur;
	uint32_t payload_crc;
	unsigned char *buf;
	size_t cap;
};

static void *frm__realloc(void *ctx, void *old, size_t size)
{
	(void)ctx;
	return realloc(old, size);
}

int ipc_framing_decoder_new(size_t max_payload, const struct ipc_framing_alloc *alloc,
			    struct ipc_framing_decoder **d)
{
	if (max_payload > IPC_FRAMING_PAYLOAD_LIMIT || d == NULL)
		return -EINVAL;
	struct ipc_framing_decoder *n = calloc(1, sizeof *n);
	if (n == NULL)
		return -ENOMEM;
	n->max = max_payload;
	n->alloc = alloc && alloc->resize ? *alloc : (struct ipc_framing_alloc){frm__realloc, NULL};
	*d = n;
	return 0;
}

void ipc_framing_decoder_free(struct ipc_framing_decoder *d)
{
	if (d == NULL)
		return;
	if (d->buf != NULL)
		d->alloc.resize(d->alloc.ctx, d->buf, 0);
	free(d);
}

/* Magic and version, judged as soon as their 3 bytes are in, so a peer of
 * another protocol is told at once rather than after a header it does not
 * send. */
static int frm__check_start(const unsigned char *h)
{
	if (h[0] != IPC_FRAMING_MAGIC0 || h[1] != IPC_FRAMING_MAGIC1)
		return -EBADMSG;
	return h[2] == IPC_FRAMING_VERSION ? 0 : -EPROTO;
}

/* A whole header: its check first, so no field of a damaged header is
 * believed; then the length against max, before any memory is asked for. */
static int frm__check_header(struct ipc_framing_decoder *d)
{
	const unsigned char *h = d->hdr;

	if (frm__get32(h + 16) != ipc_framing_crc32c(0, h, 16) || h[3] != 0)
		return -EBADMSG;
	d->cur.len = frm__get32(h + 4);
	d->cur.type = (uint16_t)(h[8] << 8 | h[9]);
	d->cur.flags = (uint16_t)(h[10] << 8 | h[11]);
	d->payload_crc = frm__get32(h + 12);
	if (d->cur.len > d->max && !IPC_MUTANT(FRAMING_LEN_UNCHECKED))
		return -EMSGSIZE;
	if (d->cur.len > d->cap) {
		void *p = d->alloc.resize(d->alloc.ctx, d->buf, d->cur.len);
		if (p == NULL)
			return -ENOMEM;
		d->buf = p, d->cap = d->cur.len;
	}
	if (IPC_MUTANT(FRAMING_LEN_UNCHECKED) && d->cur.len > d->max)
		return -EMSGSIZE; /* checked, but only after the length sized the buffer */
	return 0;
}

static int frm__fail(struct ipc_framing_decoder *d, int rc)
{
	d->error = rc;
	return rc;
}

/* The current frame is whole: check its payload, hand it out, restart. */
static int frm__emit(struct ipc_framing_decoder *d, struct ipc_framing_frame *out)
{
	uint32_t crc = d->cur.len ? ipc_framing_crc32c(0, d->buf, d->cur.len) : 0;

	if (crc != d->payload_crc)
		return frm__fail(d, -EBADMSG);
	*out = d->cur;
	out->payload = d->cur.len ? d->buf : NULL;
	d->in_payload = 0, d->have = 0;
	return IPC_FRAMING_FRAME;
}

/* Copy header bytes; the first copy stops at 3 bytes for frm__check_start. */
static int frm__take_header(struct ipc_framing_decoder *d, const unsigned char *p, size_t len,
			    size_t *n)
{
	size_t stop = d->have < 3 ? 3 : IPC_FRAMING_HDR_LEN;
	size_t k = stop - d->have < len ? stop - d->have : len;

	memcpy(d->hdr + d->have, p, k);
	d->have += k, *n += k;
	if (d->have < stop)
		return 0;
	int rc = stop == 3 ? frm__check_start(d->hdr) : frm__check_header(d);
	if (rc < 0)
		return frm__fail(d, rc);
	if (stop == IPC_FRAMING_HDR_LEN)
		d->in_payload = 1, d->have = 0;
	return 0;
}

int ipc_framing_decode(struct ipc_framing_decoder *d, const void *buf, size_t len, size_t *used,
		       struct ipc_framing_frame *out)
{
	const unsigned char *p = buf;
	size_t n = 0;
	int rc = 0;

	*used = 0;
	if (d->error)
		return d->error;
	while (rc == 0) {
		if (!d->in_payload) {
			if (n == len)
				break;
			rc = frm__take_header(d, p + n, len - n, &n);
			continue;
		}
		size_t k = d->cur.len - d->have < len - n ? d->cur.len - d->have : len - n;
		if (k > 0) /* an empty payload has no buffer at all */
			memcpy(d->buf + d->have, p + n, k);
		d->have += k, n += k;
		if (d->have == d->cur.len)
			rc = frm__emit(d, out);
		else
			break;
	}
	if (IPC_MUTANT(FRAMING_ONE_READ) && rc == 0)
		d->in_payload = 0, d->have = 0; /* "a read holds whole frames": drop the piece */
	*used = n;
	return rc;
}

/* A whole valid frame at buf, the decoder between frames: hand its payload
 * out in place (no copy, no allocation). 0 when anything is amiss or
 * missing, so the copying path takes it and reports exactly as it would. */
static int frm__decode_whole(struct ipc_framing_decoder *d, const unsigned char *h, size_t len,
			     size_t *used, struct ipc_framing_frame *out)
{
	if (d->error || d->in_payload || d->have || len < IPC_FRAMING_HDR_LEN ||
	    frm__check_start(h) != 0 || h[3] != 0)
		return 0;
	uint32_t plen = frm__get32(h + 4);
	if (plen > d->max || plen > len - IPC_FRAMING_HDR_LEN ||
	    frm__get32(h + 16) != ipc_framing_crc32c(0, h, 16))
		return 0;
	const unsigned char *payload = h + IPC_FRAMING_HDR_LEN;
	if (frm__get32(h + 12) != (plen ? ipc_framing_crc32c(0, payload, plen) : 0))
		return 0;
	*out = (struct ipc_framing_frame){.len = plen,
					  .type = (uint16_t)(h[8] << 8 | h[9]),
					  .flags = (uint16_t)(h[10] << 8 | h[11]),
					  .payload = plen ? payload : NULL};
	*used = IPC_FRAMING_HDR_LEN + (size_t)plen;
	return IPC_FRAMING_FRAME;
}

int ipc_framing_decode_end(struct ipc_framing_decoder *d)
{
	if (!d->error)
		d->error = (d->in_payload || d->have > 0) && !IPC_MUTANT(FRAMING_CUT_IS_EOD)
			       ? -ENODATA
			       : IPC_EOD;
	return d->error;
}

/* ---- waiting and moving bytes ------------------------------------------- */

struct ipc__framing_sys ipc__framing_sys = {writev, sendmsg, send, read, recv, poll};

static int64_t frm__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t frm__deadline(int64_t timeout_ns)
{
	return timeout_ns < 0 ? -1 : frm__now() + timeout_ns;
}

/* Wait for ev until deadline (-1: forever); signals are absorbed. 0 when
 * ready (or hung up / in error: the next move says which), -ETIMEDOUT. */
static int frm__wait(int fd, short ev, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = ev};

	for (;;) {
		int ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - frm__now();
			if (left <= 0)
				return -ETIMEDOUT;
			ms = (int)((left + 999999) / 1000000); /* never wake early */
		}
		int r = ipc__framing_sys.poll_fn(&p, 1, ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* After a move said -EAGAIN: wait for room or data, within the timeout. */
static int frm__wait_more(int fd, short ev, int64_t timeout_ns, int64_t deadline)
{
	return timeout_ns == 0 ? -EAGAIN : frm__wait(fd, ev, deadline);
}

static int frm__errno(void)
{
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static int frm__is_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int frm__is_unix(int fd)
{
	int domain = 0;
	socklen_t len = sizeof domain;
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

/* A blocking non-socket descriptor under a finite timeout: move only what
 * poll promises (0: would block), so the kernel never holds us past it. */
static ssize_t frm__limit(int fd, short ev, size_t len)
{
	int fl = fcntl(fd, F_GETFL);
	struct pollfd p = {.fd = fd, .events = ev};

	if (fl < 0)
		return frm__errno();
	if (fl & O_NONBLOCK)
		return (ssize_t)len;
	if (ipc__framing_sys.poll_fn(&p, 1, 0) < 0)
		return frm__errno();
	if (p.revents == 0)
		return 0;
	return ev == POLLOUT && len > PIPE_BUF ? PIPE_BUF : (ssize_t)len;
}

/* ---- tx ---------------------------------------------------------------- */

struct ipc_framing_tx {
	int fd, is_sock;
	int error; /* final: a frame was cut by a transport error */
	unsigned char *pend;
	size_t pend_off, pend_len, pend_cap;
	unsigned char gather[FRM_TX_GATHER];
};

int ipc_framing_tx_open(int fd, struct ipc_framing_tx **tx)
{
	if (fd < 0 || tx == NULL)
		return -EBADF;
	*tx = calloc(1, sizeof **tx);
	if (*tx == NULL)
		return -ENOMEM;
	(*tx)->fd = fd, (*tx)->is_sock = frm__is_socket(fd);
	return 0;
}

void ipc_framing_tx_close(struct ipc_framing_tx *tx)
{
	if (tx != NULL)
		free(tx->pend);
	free(tx);
}

/* A socket write that never raises SIGPIPE. One buffer goes through send;
 * header and payload of a small frame are gathered into one buffer, because
 * sendmsg's copy-in of a two-entry vector costs more than copying a few KiB
 * (measured: docs/bench.md, "Framing"); larger frames use sendmsg. */
static ssize_t frm__send_sock(struct ipc_framing_tx *tx, const struct iovec *iov, int n, int flags)
{
	size_t total = iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0);
	ssize_t r;

	flags |= MSG_NOSIGNAL;
	if (n == 1) {
		r = ipc__framing_sys.send_fn(tx->fd, iov[0].iov_base, total, flags);
	} else if (total <= sizeof tx->gather) {
		memcpy(tx->gather, iov[0].iov_base, iov[0].iov_len);
		memcpy(tx->gather + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
		r = ipc__framing_sys.send_fn(tx->fd, tx->gather, total, flags);
	} else {
		struct msghdr m = {.msg_iov = (struct iovec *)(uintptr_t)iov,
				   .msg_iovlen = (size_t)n};
		r = ipc__framing_sys.sendmsg_fn(tx->fd, &m, flags);
	}
	return r < 0 ? frm__errno() : r;
}

/* One write of the bytes iov[0..n) (n is 1 or 2) describe; dontwait under
 * finite timeouts. */
static ssize_t frm__writev(struct ipc_framing_tx *tx, struct iovec *iov, int n, int dontwait)
{
	ssize_t r;

	if (tx->is_sock)
		return frm__send_sock(tx, iov, n, dontwait ? MSG_DONTWAIT : 0);
	if (dontwait) {
		size_t total = iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0);
		ssize_t lim = frm__limit(tx->fd, POLLOUT, total);
		if (lim <= 0)
			return lim == 0 ? -EAGAIN : lim;
		if ((size_t)lim < iov[0].iov_len)
			iov[0].iov_len = (size_t)lim, n = 1;
		else if (n > 1 && (size_t)lim < total)
			iov[1].iov_len = (size_t)lim - iov[0].iov_len;
	}
	r = ipc__framing_sys.writev_fn(tx->fd, iov, n);
	return r < 0 ? frm__errno() : r;
}

/* Write a[done..) then b: the count written, -EINTR, -EAGAIN or an error. */
static ssize_t frm__move2(struct ipc_framing_tx *tx, const unsigned char *a, size_t alen,
			  const void *b, size_t blen, size_t done, int dontwait)
{
	struct iovec iov[2];
	int n = 0;

	if (done < alen)
		iov[n++] = (struct iovec){(void *)(a + done), alen - done};
	if (blen > 0)
		iov[n++] = (struct iovec){(char *)(uintptr_t)b + (done > alen ? done - alen : 0),
					  blen - (done > alen ? done - alen : 0)};
	ssize_t r = frm__writev(tx, iov, n, dontwait);
	return r == 0 ? -EIO : r; /* nothing taken, no reason: never spin */
}

static int frm__tx_fail(struct ipc_framing_tx *tx, int rc)
{
	tx->error = rc;
	return rc;
}

static int frm__flush_until(struct ipc_framing_tx *tx, int64_t timeout_ns, int64_t deadline)
{
	while (tx->pend_off < tx->pend_len) {
		ssize_t r = frm__move2(tx, tx->pend + tx->pend_off, tx->pend_len - tx->pend_off,
				       NULL, 0, 0, timeout_ns >= 0);
		if (r > 0) {
			tx->pend_off += (size_t)r;
			continue;
		}
		if (r == -EAGAIN)
			r = frm__wait_more(tx->fd, POLLOUT, timeout_ns, deadline);
		if (r == -EAGAIN || r == -ETIMEDOUT)
			return (int)r;
		if (r < 0 && r != -EINTR)
			return frm__tx_fail(tx, (int)r);
	}
	tx->pend_off = tx->pend_len = 0;
	return 0;
}

int ipc_framing_flush(struct ipc_framing_tx *tx, int64_t timeout_ns)
{
	if (tx->error)
		return tx->error;
	return frm__flush_until(tx, timeout_ns, frm__deadline(timeout_ns));
}

/* The descriptor is full mid-frame: keep the rest, so the frame is committed
 * and the next send or flush finishes it before anything else. */
static int frm__stash(struct ipc_framing_tx *tx, const unsigned char *hdr, const void *payload,
		      size_t len, size_t done)
{
	size_t rest = IPC_FRAMING_HDR_LEN + len - done;

	if (rest > tx->pend_cap) {
		unsigned char *p = realloc(tx->pend, rest);
		if (p == NULL)
			return frm__tx_fail(tx, -ENOMEM); /* half a frame is out */
		tx->pend = p, tx->pend_cap = rest;
	}
	size_t h = done < IPC_FRAMING_HDR_LEN ? IPC_FRAMING_HDR_LEN - done : 0;
	memcpy(tx->pend, hdr + (IPC_FRAMING_HDR_LEN - h), h);
	if (rest > h)
		memcpy(tx->pend + h, (const unsigned char *)payload + (len - (rest - h)), rest - h);
	tx->pend_off = 0, tx->pend_len = rest;
	return 0;
}

ssize_t ipc_framing_send(struct ipc_framing_tx *tx, const struct ipc_framing_frame *f,
			 int64_t timeout_ns)
{
	unsigned char hdr[IPC_FRAMING_HDR_LEN];
	int64_t deadline = frm__deadline(timeout_ns);
	size_t done = 0;

	if (f->len > 0 && f->payload == NULL)
		return -EFAULT;
	if (ipc_framing_header(f, hdr) < 0)
		return -EMSGSIZE;
	if (tx->error)
		return tx->error;
	int rc = frm__flush_until(tx, timeout_ns, deadline);
	if (rc < 0)
		return rc;
	while (done < IPC_FRAMING_HDR_LEN + (size_t)f->len) {
		ssize_t r = frm__move2(tx, hdr, IPC_FRAMING_HDR_LEN, f->payload, f->len, done,
				       timeout_ns >= 0);
		if (r > 0) {
			done += IPC_MUTANT(FRAMING_SHORT_WRITE)
				    ? IPC_FRAMING_HDR_LEN + f->len - done
				    : (size_t)r;
			continue;
		}
		if (r == -EAGAIN)
			r = frm__wait_more(tx->fd, POLLOUT, timeout_ns, deadline);
		if ((r == -EAGAIN || r == -ETIMEDOUT) && done == 0)
			return r; /* nothing of f went out */
		if (r == -EAGAIN || r == -ETIMEDOUT) {
			rc = frm__stash(tx, hdr, f->payload, f->len, done);
			return rc < 0 ? rc : (ssize_t)f->len;
		}
		if (r < 0 && r != -EINTR)
			return done ? frm__tx_fail(tx, (int)r) : r;
	}
	return f->len;
}

/* ---- rx ---------------------------------------------------------------- */

struct ipc_framing_rx {
	int fd, is_sock, spin;
	int error; /* final: IPC_EOD, -ENODATA, a refused frame, a transport error */
	int eof;
	struct ipc_framing_decoder *dec;
	size_t off, fill;
	unsigned char buf[FRM_RX_BUF];
};

int ipc_framing_rx_open(int fd, size_t max_payload, struct ipc_framing_rx **rx)
{
	if (fd < 0 || rx == NULL)
		return -EBADF;
	struct ipc_framing_rx *r = calloc(1, sizeof *r);
	if (r == NULL)
		return -ENOMEM;
	int rc = ipc_framing_decoder_new(max_payload, NULL, &r->dec);
	if (rc < 0) {
		free(r);
		return rc;
	}
	r->fd = fd, r->is_sock = frm__is_socket(fd);
	r->spin = r->is_sock && frm__is_unix(fd);
	*rx = r;
	return 0;
}

void ipc_framing_rx_close(struct ipc_framing_rx *rx)
{
	if (rx != NULL)
		ipc_framing_decoder_free(rx->dec);
	free(rx);
}

/* Up to FRM_RX_SPINS non-blocking receives (about 13 us here): the bytes
 * read, an error, or -EAGAIN. A count, not a clock, so that a run against a
 * scripted descriptor layer (the fuzz target) is reproducible. */
static ssize_t frm__recv_spin(struct ipc_framing_rx *rx)
{
	for (int i = 0; i < FRM_RX_SPINS; i++) {
		ssize_t r = ipc__framing_sys.recv_fn(rx->fd, rx->buf, sizeof rx->buf, MSG_DONTWAIT);
		if (r >= 0)
			return r;
		if (frm__errno() != -EAGAIN)
			return frm__errno();
	}
	return -EAGAIN;
}

static ssize_t frm__read(struct ipc_framing_rx *rx, int64_t timeout_ns)
{
	int dontwait = timeout_ns >= 0;
	ssize_t r;

	if (rx->is_sock) {
		if (timeout_ns < 0 && rx->spin && (r = frm__recv_spin(rx)) != -EAGAIN)
			return r;
		r = ipc__framing_sys.recv_fn(rx->fd, rx->buf, sizeof rx->buf,
					     dontwait ? MSG_DONTWAIT : 0);
		return r < 0 ? frm__errno() : r;
	}
	if (dontwait) {
		ssize_t lim = frm__limit(rx->fd, POLLIN, sizeof rx->buf);
		if (lim <= 0)
			return lim == 0 ? -EAGAIN : lim;
	}
	r = ipc__framing_sys.read_fn(rx->fd, rx->buf, sizeof rx->buf);
	return r < 0 ? frm__errno() : r;
}

static ssize_t frm__rx_fail(struct ipc_framing_rx *rx, int rc)
{
	rx->error = rc;
	return rc;
}

ssize_t ipc_framing_recv(struct ipc_framing_rx *rx, struct ipc_framing_frame *f, int64_t timeout_ns)
{
	int64_t deadline = frm__deadline(timeout_ns);

	while (!rx->error) {
		if (rx->off < rx->fill) {
			size_t used, left = rx->fill - rx->off;
			int rc = frm__decode_whole(rx->dec, rx->buf + rx->off, left, &used, f);
			if (rc == 0)
				rc = ipc_framing_decode(rx->dec, rx->buf + rx->off, left, &used, f);
			rx->off += used;
			if (rc == IPC_FRAMING_FRAME)
				return f->len;
			if (rc < 0)
				return frm__rx_fail(rx, rc);
		}
		if (rx->eof)
			return frm__rx_fail(rx, ipc_framing_decode_end(rx->dec));
		rx->off = rx->fill = 0;
		ssize_t r = frm__read(rx, timeout_ns);
		if (r > 0)
			rx->fill = (size_t)r;
		else if (r == 0)
			rx->eof = 1;
		else if (r == -EAGAIN &&
			 (r = frm__wait_more(rx->fd, POLLIN, timeout_ns, deadline)) < 0)
			return r; /* the decoder keeps the frame in progress */
		else if (r < 0 && r != -EINTR)
			return frm__rx_fail(rx, (int)r);
	}
	return rx->error;
}

/* ---- the subjects: one transport each ----------------------------------- */

static int frm__nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static int frm__pair_done(int fds[2], uint32_t flags)
{
	if ((flags & IPC_FRAMING_NONBLOCK) && (frm__nonblock(fds[0]) || frm__nonblock(fds[1]))) {
		int rc = -errno;
		close(fds[0]), close(fds[1]);
		return rc;
	}
	return 0;
}

static int frm__pair_pipe(uint32_t flags, int fds[2])
{
	int p[2];
	if (flags & ~(uint32_t)IPC_FRAMING_NONBLOCK)
		return -EINVAL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fds[0] = p[1], fds[1] = p[0]; /* fds[0] writes, fds[1] reads */
	return frm__pair_done(fds, flags);
}

static int frm__pair_unix(uint32_t flags, int fds[2])
{
	if (flags & ~(uint32_t)IPC_FRAMING_NONBLOCK)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	return frm__pair_done(fds, flags);
}

/* Loopback only, on a port the kernel picks: nothing leaves the machine. */
static int frm__tcp_connect(int lst, int fds[2])
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;

	if (bind(lst, (struct sockaddr *)&a, sizeof a) < 0 || listen(lst, 1) < 0 ||
	    getsockname(lst, (struct sockaddr *)&a, &al) < 0)
		return -errno;
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0)
		return -errno;
	if (connect(fds[0], (struct sockaddr *)&a, sizeof a) < 0 ||
	    (fds[1] = accept4(lst, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		int rc = -errno;
		close(fds[0]);
		return rc;
	}
	return 0;
}

static int frm__pair_tcp(uint32_t flags, int fds[2])
{
	if (flags & ~(uint32_t)IPC_FRAMING_NONBLOCK)
		return -EINVAL;
	int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lst < 0)
		return -errno;
	int rc = frm__tcp_connect(lst, fds);
	close(lst);
	return rc < 0 ? rc : frm__pair_done(fds, flags);
}

#define FRM_OPS(pairfn)                                                                            \
	{                                                                                          \
		.pair = pairfn, .encode = ipc_framing_encode,                                      \
		.decoder_new = ipc_framing_decoder_new, .decode = ipc_framing_decode,              \
		.decode_end = ipc_framing_decode_end, .decoder_free = ipc_framing_decoder_free,    \
		.tx_open = ipc_framing_tx_open, .tx_close = ipc_framing_tx_close,                  \
		.rx_open = ipc_framing_rx_open, .rx_close = ipc_framing_rx_close,                  \
		.send = ipc_framing_send, .flush = ipc_framing_flush, .recv = ipc_framing_recv,    \
	}

static const struct ipc_framing_ops frm__ops_pipe = FRM_OPS(frm__pair_pipe);
static const struct ipc_framing_ops frm__ops_unix = FRM_OPS(frm__pair_unix);
static const struct ipc_framing_ops frm__ops_tcp = FRM_OPS(frm__pair_tcp);

#define FRM_CAPS                                                                                   \
	(IPC_FRAMING_CAP_BLOCKING | IPC_FRAMING_CAP_NONBLOCK | IPC_FRAMING_CAP_CROSS_PROCESS)

const struct ipc_subject ipc__subject_framing_pipe = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "framing-pipe",
    .mechanism = IPC_MECH_FRAMING,
    .caps = FRM_CAPS,
    .ops = &frm__ops_pipe,
    .summary = "the reference framing (v1, CRC-32C) over a kernel pipe",
};

const struct ipc_subject ipc__subject_framing_unix_stream = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "framing-unix-stream",
    .mechanism = IPC_MECH_FRAMING,
    .caps = FRM_CAPS,
    .ops = &frm__ops_unix,
    .summary = "the reference framing (v1, CRC-32C) over an AF_UNIX stream socketpair",
};

const struct ipc_subject ipc__subject_framing_tcp = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "framing-tcp",
    .mechanism = IPC_MECH_FRAMING,
    .caps = FRM_CAPS,
    .ops = &frm__ops_tcp,
    .summary = "the reference framing (v1, CRC-32C) over TCP on 127.0.0.1 (ephemeral port)",
};
