/* SPDX-License-Identifier: MIT */
/*
 * Mechanism "framing": structured messages (frames) over an unstructured
 * byte stream (pipe, FIFO, AF_UNIX stream socket, TCP). Clauses:
 * spec/framing.md.
 *
 * Frame format, version 1. Every frame is a 20-byte header, then the payload.
 * Multi-byte fields are big-endian (network order), so two machines of any
 * byte order agree:
 *
 *   offset size field
 *        0    2 magic        0x49 0x46 ("IF": ipcspec frame)
 *        2    1 version      1; a receiver refuses any other (-EPROTO)
 *        3    1 reserved     0 in version 1 (anything else: -EBADMSG)
 *        4    4 length       payload bytes, at most the receiver's max_payload
 *        8    2 type         the application's, carried unchanged
 *       10    2 flags        the application's, carried unchanged
 *       12    4 payload_crc  CRC-32C of the payload (0 for an empty payload)
 *       16    4 header_crc   CRC-32C of bytes 0..15
 *
 * The check is CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial
 * value and final xor 0xFFFFFFFF; check value of "123456789" = 0xE3069283),
 * the checksum of iSCSI, SCTP and ext4: it catches every burst of up to 32
 * bits and every 1- to 3-bit error at any frame size allowed here, which a
 * sum or Adler-32 does not; a table-driven software version is portable and
 * fast enough (and many CPUs compute it in one instruction). The header has
 * its own check so a damaged length is refused as soon as the header is in,
 * before it sizes anything or makes the receiver wait for bytes that will
 * never come; the payload's check covers header fields only through the
 * header check. A CRC detects accidents, not attacks: an attacker can forge
 * a valid frame, so a receiver still bounds the length (max_payload).
 *
 * Decoding is incremental: bytes are fed in any split and whole frames come
 * out. Magic and version are judged once the first 3 bytes are in; the rest
 * of the header once its 20 bytes are in (header check, reserved byte, then
 * the length against max_payload, before any allocation); the payload check
 * once the last payload byte is in. Any failure is final: the decoder (and a
 * receiver using it) returns the same error for every later call and never
 * looks for the next frame, because a stream that lost its boundaries cannot
 * be trusted to find them again (a payload may contain a valid header).
 *
 * Conventions (spec/ipc_errors.h): 0 or a count on success, a negative errno
 * on failure; IPC_EOD is a clean end between frames, -ENODATA an end inside a
 * frame, so a truncated frame is never taken for a clean end and an empty
 * payload (0) never for either. Timeouts as in spec/README.md.
 */
#ifndef IPCSPEC_FRAMING_H
#define IPCSPEC_FRAMING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_errors.h"

#define IPC_FRAMING_MAGIC0  0x49
#define IPC_FRAMING_MAGIC1  0x46
#define IPC_FRAMING_VERSION 1
#define IPC_FRAMING_HDR_LEN 20
/* The largest max_payload a receiver may set and the largest payload a
 * sender sends (64 MiB): a bound every subject accepts. */
#define IPC_FRAMING_PAYLOAD_LIMIT (64u << 20)

/* Results of decode() that are not errors. */
#define IPC_FRAMING_MORE  0 /* every byte taken, no whole frame yet */
#define IPC_FRAMING_FRAME 1 /* *out holds a frame */

/* Capability bits. A clause needing a missing bit is UNSUPPORTED. */
enum ipc_framing_cap {
	IPC_FRAMING_CAP_BLOCKING = 1u << 0,      /* pair() makes blocking descriptors */
	IPC_FRAMING_CAP_NONBLOCK = 1u << 1,      /* pair(IPC_FRAMING_NONBLOCK) */
	IPC_FRAMING_CAP_CROSS_PROCESS = 1u << 2, /* a forked child uses an inherited end */
	/* The pair crosses two network namespaces (a veth link), which only a
	 * privileged process can make: where it cannot, pair() fails with
	 * -EPERM (not privileged) or -EOPNOTSUPP (no network namespaces or no
	 * veth), and the harness reports every clause UNSUPPORTED (environment)
	 * instead of BROKEN. No clause needs this bit. */
	IPC_FRAMING_CAP_NETNS = 1u << 3,
};

/* Flags of pair(). */
#define IPC_FRAMING_NONBLOCK 0x1 /* both descriptors O_NONBLOCK */

struct ipc_framing_frame {
	uint16_t type;
	uint16_t flags;
	uint32_t len;        /* payload bytes */
	const void *payload; /* may be NULL when len is 0 */
};

/* Where a decoder gets its payload memory, so a caller (and a test) sees
 * every allocation: resize(ctx, old, size) as realloc(3), NULL on failure.
 * A decoder never asks for more than its max_payload. */
struct ipc_framing_alloc {
	void *(*resize)(void *ctx, void *old, size_t size);
	void *ctx;
};

struct ipc_framing_decoder; /* defined by the subject */
struct ipc_framing_tx;      /* sends frames on one descriptor */
struct ipc_framing_rx;      /* receives frames from one descriptor */

struct ipc_framing_ops {
	/* (a) A connected pair of byte-stream descriptors of the subject's
	 * transport: bytes written to fds[0] are read from fds[1]. flags:
	 * IPC_FRAMING_NONBLOCK. The caller closes both. */
	int (*pair)(uint32_t flags, int fds[2]);

	/* Encode f (header then payload) into buf: IPC_FRAMING_HDR_LEN + f->len.
	 * -EMSGSIZE when cap is too small or f->len exceeds
	 * IPC_FRAMING_PAYLOAD_LIMIT; buf is then untouched. */
	ssize_t (*encode)(const struct ipc_framing_frame *f, void *buf, size_t cap);

	/* (c) A decoder refusing payloads above max_payload (<=
	 * IPC_FRAMING_PAYLOAD_LIMIT, else -EINVAL); alloc may be NULL. */
	int (*decoder_new)(size_t max_payload, const struct ipc_framing_alloc *alloc,
			   struct ipc_framing_decoder **d);
	/* Take bytes of buf up to the end of the next frame: *used says how
	 * many. IPC_FRAMING_FRAME (*out valid until the next call on d),
	 * IPC_FRAMING_MORE (all len bytes taken), or a final error
	 * (-EBADMSG, -EPROTO, -EMSGSIZE) with *used = the bytes taken. */
	int (*decode)(struct ipc_framing_decoder *d, const void *buf, size_t len, size_t *used,
		      struct ipc_framing_frame *out);
	/* The input has ended: IPC_EOD between frames, -ENODATA inside one, or
	 * the decoder's final error. */
	int (*decode_end)(struct ipc_framing_decoder *d);
	void (*decoder_free)(struct ipc_framing_decoder *d);

	/* (b) Endpoints on a descriptor, which they never close. */
	int (*tx_open)(int fd, struct ipc_framing_tx **tx);
	void (*tx_close)(struct ipc_framing_tx *tx); /* unsent pending bytes are dropped */
	int (*rx_open)(int fd, size_t max_payload, struct ipc_framing_rx **rx);
	void (*rx_close)(struct ipc_framing_rx *rx);

	/* Send one frame: f->len once the frame is committed, that is written
	 * or (only when the descriptor would block mid-frame) its unwritten
	 * rest kept in tx, which the next send or flush writes first. A
	 * negative result commits nothing of f: -EMSGSIZE (len above the
	 * limit), -EAGAIN (timeout 0) or -ETIMEDOUT when not one byte of f
	 * could be written (also while an earlier rest is still pending),
	 * -EPIPE when the reader is gone (never a SIGPIPE on a socket), or the
	 * transport's error. Short writes and EINTR are absorbed. */
	ssize_t (*send)(struct ipc_framing_tx *tx, const struct ipc_framing_frame *f,
			int64_t timeout_ns);
	/* Write the pending rest: 0 once none is left, -EAGAIN / -ETIMEDOUT
	 * with progress kept, or the transport's error. */
	int (*flush)(struct ipc_framing_tx *tx, int64_t timeout_ns);

	/* Receive the next frame: its payload length (0 for an empty one), *f
	 * valid until the next recv or rx_close. IPC_EOD at a clean end
	 * between frames, -ENODATA at an end inside a frame, -EBADMSG, -EPROTO,
	 * -EMSGSIZE for a refused frame: all final (every later call returns
	 * the same). -EAGAIN (timeout 0) and -ETIMEDOUT keep every byte taken
	 * so far: the next call continues the frame. Short reads and EINTR are
	 * absorbed. */
	ssize_t (*recv)(struct ipc_framing_rx *rx, struct ipc_framing_frame *f, int64_t timeout_ns);
};

#endif
