/* SPDX-License-Identifier: MIT */
/*
 * The reference framing (spec/framing.h): CRC-32C, encoder, incremental
 * decoder, and frame endpoints on any byte-stream descriptor. The operations
 * table of the framing-* subjects is made of these functions.
 */
#ifndef IPCSPEC_FRAMING_FRAME_H
#define IPCSPEC_FRAMING_FRAME_H

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "framing.h"

/* CRC-32C of buf, continuing from crc (start with 0). */
uint32_t ipc_framing_crc32c(uint32_t crc, const void *buf, size_t len);

/* The 20-byte header of f: 0, or -EMSGSIZE above IPC_FRAMING_PAYLOAD_LIMIT. */
int ipc_framing_header(const struct ipc_framing_frame *f, unsigned char *hdr);
ssize_t ipc_framing_encode(const struct ipc_framing_frame *f, void *buf, size_t cap);

int ipc_framing_decoder_new(size_t max_payload, const struct ipc_framing_alloc *alloc,
			    struct ipc_framing_decoder **d);
int ipc_framing_decode(struct ipc_framing_decoder *d, const void *buf, size_t len, size_t *used,
		       struct ipc_framing_frame *out);
int ipc_framing_decode_end(struct ipc_framing_decoder *d);
void ipc_framing_decoder_free(struct ipc_framing_decoder *d);

int ipc_framing_tx_open(int fd, struct ipc_framing_tx **tx);
void ipc_framing_tx_close(struct ipc_framing_tx *tx);
ssize_t ipc_framing_send(struct ipc_framing_tx *tx, const struct ipc_framing_frame *f,
			 int64_t timeout_ns);
int ipc_framing_flush(struct ipc_framing_tx *tx, int64_t timeout_ns);

int ipc_framing_rx_open(int fd, size_t max_payload, struct ipc_framing_rx **rx);
void ipc_framing_rx_close(struct ipc_framing_rx *rx);
ssize_t ipc_framing_recv(struct ipc_framing_rx *rx, struct ipc_framing_frame *f,
			 int64_t timeout_ns);

/* Internal test hook, not part of spec/framing.h: the system calls through
 * which tx and rx move and wait for bytes (fcntl and fstat are called
 * directly). They are the system's own unless a test points them at a fake
 * descriptor layer (fuzz/framing_shortio_fuzz.c, which puts them back). */
struct ipc__framing_sys {
	ssize_t (*writev_fn)(int fd, const struct iovec *iov, int n);
	ssize_t (*sendmsg_fn)(int fd, const struct msghdr *m, int flags);
	ssize_t (*send_fn)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*read_fn)(int fd, void *buf, size_t len);
	ssize_t (*recv_fn)(int fd, void *buf, size_t len, int flags);
	int (*poll_fn)(struct pollfd *p, nfds_t n, int timeout_ms);
};
extern struct ipc__framing_sys ipc__framing_sys;

#endif
