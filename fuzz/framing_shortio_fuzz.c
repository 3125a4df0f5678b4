/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_framing_tx_open ipc_framing_send ipc_framing_flush
 * ipc_framing_tx_close ipc_framing_rx_open ipc_framing_recv
 * ipc_framing_rx_close ipc_framing_decode ipc_framing_decode_end */
/*
 * Frame endpoints (impl/framing/frame.c) over a simulated descriptor that
 * moves bytes as the input says: short writes and reads of any size, EINTR
 * from any call, spurious EAGAIN, a poll interrupted, and, on request, a
 * write or read error or an early end of file (FRAMING-IO-1, INTR-1, INTR-2,
 * NB-1, NB-2, END-3, END-4, SIZE-1, FMT-4 over the transport).
 *
 * The simulation: frame.c moves and waits for bytes through the internal
 * hook ipc__framing_sys (impl/framing/frame.h); this target points it at a
 * fake layer for two real descriptors (a pipe, or an AF_UNIX stream pair, so
 * fstat and fcntl answer as for a real transport and both code paths run)
 * whose bytes go through an in-memory channel of a capacity the input picks.
 * Every call of the fake layer takes one byte of the input as its script:
 * EINTR, a spurious EAGAIN, or a transfer of 1 byte, a few bytes, or as much
 * as fits. After 16 calls in a row that moved nothing it moves what it can,
 * so every loop of frame.c ends. Sender and receiver run in one thread:
 * calls that could wait for ever (timeout -1) are made only when they can
 * complete, the others use timeout 0 or 1 us.
 *
 * What must hold: the stream (every byte the fake accepted) is exactly the
 * encodings of the committed frames, in order (after -EAGAIN or -ETIMEDOUT
 * nothing of the refused frame is in it), plus at most the start of one
 * frame when a transport error cut it, after which the tx is failed for
 * good; send returns the length or a negative errno, never -EINTR or a
 * short count; the receiver gets every committed frame whole, once, in
 * order, and -EAGAIN only while no whole frame has been read, then at the
 * end IPC_EOD (or -ENODATA for a cut frame, -EMSGSIZE for a frame above its
 * max, the injected error), final.
 *
 * Input layout:
 *   byte 0  bits 0-1 transport (0, 2: pipe; 1, 3: AF_UNIX stream), bit 2
 *           O_NONBLOCK, bit 3 close without the last flush, bits 4-7 the
 *           channel's capacity (CAPS)
 *   byte 1  the receiver's max_payload (MAXES, low 4 bits)
 *   then ops, one byte each: low 3 bits the kind, high 5 bits its argument;
 *   the fake layer reads its script bytes from the same input, in between.
 *     0  send one frame: argument = length class, then a length byte
 *     1  recv, timeout 0 (argument bit 0: 1 us)
 *     2  flush, timeout 0 / 1 us / -1 when it can complete
 *     3  recv until -EAGAIN (at most 16)
 *     4  send a burst of 1..8 small frames, timeout 0
 *     5  the next write fails: -EPIPE, -EIO, or 0 bytes (frame.c: -EIO)
 *     6  the next read fails: -ECONNRESET, or 0 bytes (an early end of file)
 *     7  set or clear O_NONBLOCK on both descriptors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "framing/frame.h"
#include "fuzz_common.h"

#define HDR        IPC_FRAMING_HDR_LEN
#define LOG_MAX    (1u << 21) /* bytes of stream per input */
#define CH_MAX     (1u << 18)
#define MAX_FRAMES 4096
#define MAX_OPS    512
#define STALL      16

static const size_t CAPS[16] = {1,   2,    3,    19,    20,    21,     64,     100,
				512, 4095, 4096, 16384, 65536, 100000, 200000, CH_MAX};
static const size_t MAXES[16] = {0,    1,     20,    64,    255,    256,    1000,     4096,
				 8192, 65535, 65536, 70000, 100000, 200000, 1u << 20, 1u << 22};

struct frame {
	uint16_t type, flags;
	uint32_t len, seq;
	size_t start; /* offset of its encoding in the stream */
};

static struct {
	/* the fake descriptor layer */
	int pipefd[2], sockfd[2]; /* real, never read or written */
	int wfd, rfd;
	uint8_t ch[CH_MAX]; /* the channel: a ring */
	size_t cap, head, count;
	bool wclosed;   /* the writer's end is closed: reads at empty give 0 */
	int werr, rerr; /* injected: the next write / read fails (0: no) */
	unsigned stall;
	struct ipc_fuzz_in in; /* ops and scripts */
	bool scripted;         /* false: move what can move, no EINTR */
	/* the model */
	uint8_t log[LOG_MAX]; /* every byte the fake accepted */
	size_t loglen;
	uint8_t payload[1u << 20];
	struct frame f[MAX_FRAMES];
	size_t nf;         /* committed frames */
	size_t committed;  /* the end of the last committed frame's encoding */
	bool tx_failed;    /* a transport error cut the stream */
	int tx_error;      /* and send / flush now return it */
	bool partial;      /* f[nf] is the frame whose start the cut left */
	size_t readn;      /* bytes handed to the rx */
	bool eof_seen;     /* a read gave 0 */
	bool early_eof;    /* injected, before the writer closed */
	int injected_rerr; /* a read error was handed to the rx */
	size_t got;        /* frames the receiver has had */
	int rx_final;      /* 0, or the final result the rx gave */
	size_t max;
	uint32_t seq;
	struct ipc_framing_tx *tx;
	struct ipc_framing_rx *rx;
} R;

static struct ipc__framing_sys real_sys;

/* ---- the fake layer
 * ------------------------------------------------------------------- */

static bool ours(int fd)
{
	return R.wfd >= 0 && (fd == R.wfd || fd == R.rfd);
}

/* How many of want bytes (room for them: can) to move, or -1 with errno. */
static ssize_t decide(size_t want, size_t can)
{
	size_t n = want < can ? want : can;
	uint8_t b;

	if (!R.scripted || R.stall >= STALL || !ipc_fuzz_more(&R.in))
		goto honest;
	b = ipc_fuzz_u8(&R.in);
	switch (b & 7) {
	case 0:
		R.stall++;
		errno = EINTR;
		return -1;
	case 1:
		R.stall++;
		errno = EAGAIN;
		return -1;
	case 2:
		n = n < 1 ? n : 1;
		break;
	case 3:
		n = n < (size_t)(b >> 3) + 1 ? n : (size_t)(b >> 3) + 1;
		break;
	case 4:
		n = n < ((size_t)(b >> 3) + 1) * 61 ? n : ((size_t)(b >> 3) + 1) * 61;
		break;
	default:
		break;
	}
honest:
	if (n == 0 && want > 0) {
		R.stall++;
		errno = EAGAIN;
		return -1;
	}
	if (n > 0)
		R.stall = 0;
	return (ssize_t)n;
}

static ssize_t fake_write(const struct iovec *iov, size_t niov)
{
	size_t want = 0, done = 0;

	for (size_t i = 0; i < niov; i++)
		want += iov[i].iov_len;
	if (R.werr) {
		int e = R.werr;
		R.werr = 0;
		if (e == -1)
			return 0; /* "nothing taken" */
		errno = e;
		return -1;
	}
	ssize_t n = decide(want, R.cap - R.count);
	if (n <= 0)
		return n;
	if (R.loglen + (size_t)n > LOG_MAX)
		IPC_FUZZ_FAIL("the stream outgrew the log: the harness sends too much");
	for (size_t i = 0; i < niov && done < (size_t)n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t k = iov[i].iov_len < (size_t)n - done ? iov[i].iov_len : (size_t)n - done;
		for (size_t j = 0; j < k; j++)
			R.ch[(R.head + R.count + j) % CH_MAX] = p[j];
		memcpy(R.log + R.loglen, p, k);
		R.count += k, R.loglen += k, done += k;
	}
	return n;
}

static ssize_t fake_read(void *buf, size_t len)
{
	if (R.rerr) {
		int e = R.rerr;
		R.rerr = 0;
		if (e == -1) {
			R.eof_seen = R.early_eof = true;
			return 0;
		}
		R.injected_rerr = -e;
		errno = e;
		return -1;
	}
	if (R.count == 0 && R.wclosed && len > 0) {
		R.eof_seen = true;
		return 0;
	}
	ssize_t n = decide(len, R.count);
	if (n <= 0)
		return n;
	for (size_t j = 0; j < (size_t)n; j++)
		((uint8_t *)buf)[j] = R.ch[(R.head + j) % CH_MAX];
	R.head = (R.head + (size_t)n) % CH_MAX, R.count -= (size_t)n, R.readn += (size_t)n;
	return n;
}

static ssize_t sys_writev(int fd, const struct iovec *iov, int n)
{
	if (!ours(fd))
		return real_sys.writev_fn(fd, iov, n);
	if (fd != R.wfd)
		IPC_FUZZ_FAIL("a write on the read end");
	return fake_write(iov, (size_t)n);
}

static ssize_t sys_sendmsg(int fd, const struct msghdr *m, int flags)
{
	if (!ours(fd))
		return real_sys.sendmsg_fn(fd, m, flags);
	if (fd != R.wfd || !(flags & MSG_NOSIGNAL))
		IPC_FUZZ_FAIL("sendmsg on fd %d flags %#x: a write end without MSG_NOSIGNAL", fd,
			      flags);
	return fake_write(m->msg_iov, m->msg_iovlen);
}

static ssize_t sys_send(int fd, const void *buf, size_t len, int flags)
{
	if (!ours(fd))
		return real_sys.send_fn(fd, buf, len, flags);
	if (fd != R.wfd || !(flags & MSG_NOSIGNAL))
		IPC_FUZZ_FAIL("send on fd %d flags %#x: a write end without MSG_NOSIGNAL", fd,
			      flags);
	struct iovec one = {(void *)(uintptr_t)buf, len};
	return fake_write(&one, 1);
}

static ssize_t sys_read(int fd, void *buf, size_t len)
{
	if (!ours(fd))
		return real_sys.read_fn(fd, buf, len);
	if (fd != R.rfd)
		IPC_FUZZ_FAIL("a read on the write end");
	return fake_read(buf, len);
}

static ssize_t sys_recv(int fd, void *buf, size_t len, int flags)
{
	if (!ours(fd))
		return real_sys.recv_fn(fd, buf, len, flags);
	if (fd != R.rfd)
		IPC_FUZZ_FAIL("a recv on the write end");
	return fake_read(buf, len);
}

static int sys_poll(struct pollfd *p, nfds_t n, int ms)
{
	if (n != 1 || !ours(p->fd))
		return real_sys.poll_fn(p, n, ms);
	if (R.scripted && R.stall < STALL && ipc_fuzz_more(&R.in) &&
	    (ipc_fuzz_u8(&R.in) & 7) == 0) {
		R.stall++;
		errno = EINTR;
		return -1;
	}
	p->revents = 0;
	if (p->fd == R.wfd && (p->events & POLLOUT) && R.count < R.cap)
		p->revents |= POLLOUT;
	if (p->fd == R.rfd && (p->events & POLLIN) && (R.count > 0 || R.wclosed))
		p->revents |= POLLIN;
	if (p->fd == R.rfd && R.wclosed)
		p->revents |= POLLHUP;
	if (p->revents)
		return 1;
	if (ms < 0)
		IPC_FUZZ_FAIL("a wait for ever on fd %d (events %#x): the harness let a call "
			      "block that nothing can wake",
			      p->fd, p->events);
	R.stall++;
	return 0; /* "timed out": frame.c looks at its clock and tries again */
}

/* ---- the model
 * ------------------------------------------------------------------------ */

static void fill_payload(const struct frame *f)
{
	ipc_fuzz_item_fill(R.payload, f->len, 0x5eed, f->seq);
}

static bool frame_whole_in(size_t k, size_t upto)
{
	return k < R.nf && R.f[k].start + HDR + R.f[k].len <= upto;
}

/* Called after every send and flush: the stream never holds a byte of a
 * frame that is not committed, unless a transport error cut it. */
static void check_stream_bound(const char *what, long rc)
{
	if (!R.tx_failed && R.loglen > R.committed)
		IPC_FUZZ_FAIL("%s gave %s and the stream holds %zu bytes past the committed "
			      "frames (%zu)",
			      what, ipc_fuzz_rc(rc), R.loglen - R.committed, R.committed);
}

static bool transport_error(long rc)
{
	return rc == IPC_EPIPE || rc == -EIO;
}

/* A negative result of send or flush. */
static void tx_error(const char *what, long rc, size_t before)
{
	if (R.tx_failed) {
		if (rc != R.tx_error)
			IPC_FUZZ_FAIL("%s after the tx failed with %s: %s", what,
				      ipc_fuzz_rc(R.tx_error), ipc_fuzz_rc(rc));
		if (R.loglen != before)
			IPC_FUZZ_FAIL("%s wrote after the tx failed", what);
		return;
	}
	if (rc == IPC_EAGAIN || rc == IPC_ETIMEDOUT) {
		check_stream_bound(what, rc);
		return;
	}
	if (!transport_error(rc))
		IPC_FUZZ_FAIL("%s gave %s: not a documented result", what, ipc_fuzz_rc(rc));
	if (R.loglen == R.committed)
		return; /* nothing of the frame went out: the tx goes on */
	R.tx_failed = true, R.tx_error = (int)rc;
	if (R.loglen > R.committed) { /* the start of the refused frame is out */
		R.partial = true;
		R.f[R.nf].start = R.committed;
	}
}

static int64_t pick_timeout(uint8_t arg, size_t need)
{
	switch (arg % 3) {
	case 0:
		return 0;
	case 1:
		return 1000;
	default: /* -1 only when it can complete: room for what is pending and need */
		return !R.tx_failed && R.cap - R.count >= R.committed - R.loglen + need ? -1 : 0;
	}
}

static uint32_t pick_len(uint8_t arg)
{
	uint8_t b = ipc_fuzz_u8(&R.in);

	switch (arg & 3) {
	case 0:
		return b & 31;
	case 1:
		return b;
	case 2:
		return (uint32_t)b << 4 | (arg >> 2);
	default: { /* around max, the channel and the rx's 64 KiB buffer */
		int64_t v;
		switch (b & 3) {
		case 0:
			v = (int64_t)R.max + (b >> 2) % 3 - 1;
			break;
		case 1:
			v = (int64_t)R.cap + (b >> 2) % 41 - 20;
			break;
		case 2:
			v = 65536 - HDR - 2 + (b >> 2) % 5;
			break;
		default:
			v = (int64_t)b << 12;
			break;
		}
		return v < 0 ? 0 : (uint32_t)v;
	}
	}
}

static void send_one(uint32_t len, int64_t timeout)
{
	struct frame *w;
	size_t before = R.loglen;
	ssize_t rc;

	/* At most 64 channels' worth, so moving a frame takes few calls. */
	if (len > R.cap * 64 + 300)
		len = (uint32_t)(len % (R.cap * 64 + 301));
	if (len > (1u << 20))
		len = len % (1u << 20);
	if (R.nf + 2 >= MAX_FRAMES || R.committed + HDR + len > LOG_MAX / 2 || R.partial)
		return;
	if (timeout < 0 && !(R.cap - R.count >= R.committed - R.loglen + HDR + len))
		timeout = 0;
	w = &R.f[R.nf];
	*w = (struct frame){(uint16_t)R.seq, (uint16_t)(R.seq * 7), len, R.seq, R.committed};
	R.seq++;
	fill_payload(w);
	struct ipc_framing_frame f = {w->type, w->flags, len, len ? R.payload : NULL};
	rc = ipc_framing_send(R.tx, &f, timeout);
	if (rc == (ssize_t)len) {
		if (R.tx_failed)
			IPC_FUZZ_FAIL("send committed a frame after the tx failed");
		R.nf++, R.committed += HDR + len;
		check_stream_bound("send", rc);
		return;
	}
	if (rc >= 0)
		IPC_FUZZ_FAIL("send of %u bytes returned %zd (a short count)", len, rc);
	if (rc == IPC_EINTR)
		IPC_FUZZ_FAIL("send returned -EINTR (INTR-1)");
	if (timeout < 0 && (rc == IPC_EAGAIN || rc == IPC_ETIMEDOUT))
		IPC_FUZZ_FAIL("send with no timeout gave %s", ipc_fuzz_rc(rc));
	if (timeout == 0 && rc == IPC_ETIMEDOUT)
		IPC_FUZZ_FAIL("send with timeout 0 gave -ETIMEDOUT");
	tx_error("send", rc, before);
}

static void flush(int64_t timeout)
{
	size_t before = R.loglen;
	int rc = ipc_framing_flush(R.tx, timeout);

	if (rc == 0) {
		if (R.tx_failed || R.loglen != R.committed)
			IPC_FUZZ_FAIL("flush gave 0 with %zu of %zu committed bytes out%s",
				      R.loglen, R.committed, R.tx_failed ? " (tx failed)" : "");
		return;
	}
	if (rc > 0 || rc == IPC_EINTR)
		IPC_FUZZ_FAIL("flush gave %s", ipc_fuzz_rc(rc));
	if (timeout < 0 && (rc == IPC_EAGAIN || rc == IPC_ETIMEDOUT))
		IPC_FUZZ_FAIL("flush with no timeout gave %s", ipc_fuzz_rc(rc));
	tx_error("flush", rc, before);
}

/* What the rx must say at the end of the bytes it read (eof_seen). */
static int expected_end(void)
{
	size_t k = R.got;
	size_t start = k < R.nf || (k == R.nf && R.partial) ? R.f[k].start : R.loglen;
	uint32_t len = k < R.nf || (k == R.nf && R.partial) ? R.f[k].len : 0;

	if (R.readn == start)
		return IPC_EOD;
	if (len > R.max && R.readn >= start + HDR)
		return IPC_EMSGSIZE;
	return IPC_ENODATA;
}

/* One recv and its judgement. Returns true when the rx is final. */
static bool recv_one(int64_t timeout)
{
	struct ipc_framing_frame out;
	size_t before = R.readn;
	ssize_t rc = ipc_framing_recv(R.rx, &out, timeout);
	size_t k = R.got;
	bool have_k = k < R.nf || (k == R.nf && R.partial);
	const struct frame *w = have_k ? &R.f[k] : NULL;

	if (R.rx_final) {
		if (rc != R.rx_final || R.readn != before)
			IPC_FUZZ_FAIL("recv after the final %s gave %s%s", ipc_fuzz_rc(R.rx_final),
				      ipc_fuzz_rc(rc), R.readn != before ? " and read on" : "");
		return true;
	}
	if (rc >= 0) {
		if (!frame_whole_in(k, R.readn))
			IPC_FUZZ_FAIL("recv gave a frame of %zd bytes: frame %zu is not whole in "
				      "the %zu bytes read",
				      rc, k, R.readn);
		if (w->len > R.max)
			IPC_FUZZ_FAIL("recv gave frame %zu of %u bytes, max %zu", k, w->len, R.max);
		fill_payload(w);
		if ((size_t)rc != w->len || out.len != w->len || out.type != w->type ||
		    out.flags != w->flags ||
		    (w->len && (out.payload == NULL || memcmp(out.payload, R.payload, w->len))))
			IPC_FUZZ_FAIL(
			    "frame %zu: %zd bytes type %u flags %u, sent %u bytes type %u "
			    "flags %u (or the payload differs)",
			    k, rc, out.type, out.flags, w->len, w->type, w->flags);
		R.got++;
		return false;
	}
	if (rc == IPC_EAGAIN || rc == IPC_ETIMEDOUT) {
		if (timeout < 0 || (timeout == 0 && rc == IPC_ETIMEDOUT))
			IPC_FUZZ_FAIL("recv with timeout %lld gave %s", (long long)timeout,
				      ipc_fuzz_rc(rc));
		if (R.eof_seen)
			IPC_FUZZ_FAIL("recv gave %s after the end of file", ipc_fuzz_rc(rc));
		if (w && w->len <= R.max && frame_whole_in(k, R.readn))
			IPC_FUZZ_FAIL("recv gave %s with frame %zu whole in the bytes read (NB-1)",
				      ipc_fuzz_rc(rc), k);
		if (w && w->len > R.max && R.readn >= w->start + HDR)
			IPC_FUZZ_FAIL("recv gave %s with the header of oversize frame %zu read",
				      ipc_fuzz_rc(rc), k);
		return false;
	}
	if (rc == IPC_EINTR)
		IPC_FUZZ_FAIL("recv returned -EINTR (INTR-2)");
	if (R.injected_rerr && rc == R.injected_rerr) {
		R.rx_final = (int)rc;
		return true;
	}
	if (rc == IPC_EMSGSIZE) {
		if (!w || w->len <= R.max || R.readn < w->start + HDR)
			IPC_FUZZ_FAIL("recv gave -EMSGSIZE for frame %zu (%u bytes, max %zu)", k,
				      w ? w->len : 0, R.max);
		R.rx_final = (int)rc;
		return true;
	}
	if ((rc == IPC_EOD || rc == IPC_ENODATA) && R.eof_seen) {
		if (rc != expected_end())
			IPC_FUZZ_FAIL(
			    "recv at the end after %zu frames and %zu bytes: %s, expected "
			    "%s (END-3, END-4)",
			    R.got, R.readn, ipc_fuzz_rc(rc), ipc_fuzz_rc(expected_end()));
		R.rx_final = (int)rc;
		return true;
	}
	IPC_FUZZ_FAIL("recv gave %s after %zu frames, %zu bytes read", ipc_fuzz_rc(rc), R.got,
		      R.readn);
}

/* The stream is exactly the committed frames' encodings (FMT-2 at the
 * byte level), then the start of the cut frame. */
static void check_log(void)
{
	uint8_t h[HDR];
	size_t n = R.nf + (R.partial ? 1 : 0), at = 0;

	for (size_t k = 0; k < n; k++) {
		const struct frame *w = &R.f[k];
		struct ipc_framing_frame f = {w->type, w->flags, w->len, R.payload};
		size_t len = HDR + w->len, have = R.loglen - at < len ? R.loglen - at : len;

		fill_payload(w);
		ipc_framing_header(&f, h);
		if (w->start != at || memcmp(R.log + at, h, have < HDR ? have : HDR) != 0 ||
		    (have > HDR && memcmp(R.log + at + HDR, R.payload, have - HDR) != 0))
			IPC_FUZZ_FAIL("the stream at %zu is not frame %zu's encoding", at, k);
		if (have < len && k + 1 != n)
			IPC_FUZZ_FAIL("frame %zu is cut in the middle of the stream", k);
		at += have;
	}
	if (at != R.loglen)
		IPC_FUZZ_FAIL("the stream holds %zu bytes, the frames %zu", R.loglen, at);
}

/* ---- one input
 * ------------------------------------------------------------------------ */

static void set_nonblock(bool on)
{
	for (int i = 0; i < 2; i++) {
		int fd = i ? R.rfd : R.wfd, fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
			IPC_FUZZ_FAIL("fcntl: %s", strerror(errno));
	}
}

static int one(const uint8_t *data, size_t size)
{
	uint8_t b0, b1;
	int rc;

	R.in = (struct ipc_fuzz_in){data, size};
	b0 = ipc_fuzz_u8(&R.in), b1 = ipc_fuzz_u8(&R.in);
	R.wfd = (b0 & 1) ? R.sockfd[0] : R.pipefd[1];
	R.rfd = (b0 & 1) ? R.sockfd[1] : R.pipefd[0];
	R.cap = CAPS[b0 >> 4], R.max = MAXES[b1 & 15];
	R.head = R.count = 0, R.wclosed = false, R.werr = R.rerr = 0, R.stall = 0;
	R.loglen = R.nf = R.committed = R.readn = R.got = 0, R.seq = 0;
	R.tx_failed = R.partial = R.eof_seen = R.early_eof = false;
	R.tx_error = R.injected_rerr = R.rx_final = 0;
	R.scripted = true;
	set_nonblock(b0 & 4);
	if ((rc = ipc_framing_tx_open(R.wfd, &R.tx)) != 0 ||
	    (rc = ipc_framing_rx_open(R.rfd, R.max, &R.rx)) != 0)
		IPC_FUZZ_FAIL("tx_open / rx_open: %s", ipc_fuzz_rc(rc));

	for (unsigned step = 0; step < MAX_OPS && ipc_fuzz_more(&R.in); step++) {
		uint8_t op = ipc_fuzz_u8(&R.in), arg = op >> 3;

		switch (op & 7) {
		case 0: {
			uint32_t len = pick_len(arg);
			send_one(len, pick_timeout(arg >> 3, HDR + (size_t)len));
			break;
		}
		case 1:
			recv_one(arg & 1 ? 1000 : 0);
			break;
		case 2:
			flush(pick_timeout(arg, 0));
			break;
		case 3:
			for (int i = 0; i < 16; i++) {
				size_t got = R.got;
				if (recv_one(0) || R.got == got)
					break;
			}
			break;
		case 4:
			for (unsigned i = 0; i <= (arg & 7u); i++)
				send_one((uint32_t)(arg >> 3) * 3 + i, 0);
			break;
		case 5:
			R.werr = (const int[]){EPIPE, EIO, -1, EPIPE}[arg & 3];
			break;
		case 6:
			R.rerr = arg & 1 ? -1 : ECONNRESET;
			break;
		default:
			set_nonblock(arg & 1);
			break;
		}
	}

	/* The end: everything moves, the writer finishes (or not) and closes. */
	R.scripted = false, R.werr = 0, R.rerr = 0;
	/* Flush the pending rest, the rx making room while it reads. */
	for (unsigned i = 0; !(b0 & 8) && !R.tx_failed && R.loglen < R.committed; i++) {
		bool fits = R.cap - R.count >= R.committed - R.loglen;
		flush(fits ? -1 : 0);
		if (fits && R.loglen != R.committed)
			IPC_FUZZ_FAIL("flush(-1) left %zu bytes", R.committed - R.loglen);
		if (R.loglen == R.committed || R.rx_final || R.eof_seen)
			break; /* done, or nobody reads any more */
		if (i > 100000)
			IPC_FUZZ_FAIL("the rest of a frame would not go out: %zu bytes",
				      R.committed - R.loglen);
		recv_one(0);
	}
	ipc_framing_tx_close(R.tx);
	R.wclosed = true;
	check_log();
	for (size_t i = 0; i < R.nf + 3 && !recv_one(-1); i++)
		;
	if (!R.rx_final)
		IPC_FUZZ_FAIL("the rx gave no final result after the writer closed");
	if (R.rx_final == IPC_EOD && R.got != R.nf && !R.early_eof)
		IPC_FUZZ_FAIL("IPC_EOD after %zu of %zu frames", R.got, R.nf);
	recv_one(0); /* final: the same again */
	ipc_framing_rx_close(R.rx);
	R.tx = NULL, R.rx = NULL;
	return 0;
}

static void init(void)
{
	if (pipe2(R.pipefd, O_CLOEXEC) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, R.sockfd) != 0)
		IPC_FUZZ_FAIL("pipe2 / socketpair: %s", strerror(errno));
	R.wfd = R.rfd = -1;
	real_sys = ipc__framing_sys;
	ipc__framing_sys = (struct ipc__framing_sys){sys_writev, sys_sendmsg, sys_send,
						     sys_read,   sys_recv,    sys_poll};
}

static void cleanup(void)
{
	ipc__framing_sys = real_sys;
	close(R.pipefd[0]), close(R.pipefd[1]), close(R.sockfd[0]), close(R.sockfd[1]);
}

IPC_FUZZ_TARGET(init, one, cleanup)
