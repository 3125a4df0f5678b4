/* SPDX-License-Identifier: MIT */
/*
 * ipct for the framing mechanism (spec/framing.h): setup wrappers whose
 * descriptors, endpoints and decoders the fixture closes after the test,
 * even when it failed. Included by ipct.h.
 *
 * A forked party (ipct_process_start) inherits every descriptor: it keeps
 * the one it uses and closes the others with ipct_framing_keep, or the end
 * of stream never comes.
 */
#ifndef IPCSPEC_IPCT_FRAMING_H
#define IPCSPEC_IPCT_FRAMING_H

#include <stdbool.h>

#include "framing.h"

const struct ipc_framing_ops *ipct_framing(void);

/* A connected pair of the subject's transport (flags: IPC_FRAMING_NONBLOCK);
 * bytes written to *wr are read from *rd. BROKEN on failure. */
void ipct_framing_pair(uint32_t flags, int *wr, int *rd);
/* Close a descriptor made here (the end of stream of a test); forgotten. */
void ipct_framing_close(int fd);
/* In a forked party: close every tracked descriptor but keep. */
void ipct_framing_keep(int keep);
struct ipc_framing_tx *ipct_framing_tx(int fd);
struct ipc_framing_rx *ipct_framing_rx(int fd, size_t max_payload);
struct ipc_framing_decoder *ipct_framing_decoder(size_t max_payload,
						 const struct ipc_framing_alloc *alloc);
/* Encode a frame of len pattern bytes (stream seq) into buf: its size. */
size_t ipct_framing_encode(uint16_t type, uint16_t flags, size_t len, uint32_t seq, void *buf,
			   size_t cap);
/* Write len raw bytes to fd, waiting as needed (BROKEN on error). */
void ipct_framing_raw(int fd, const void *buf, size_t len);
/* Does f carry len pattern bytes of stream seq, type and flags? */
bool ipct_framing_is(const struct ipc_framing_frame *f, uint16_t type, uint16_t flags, size_t len,
		     uint32_t seq);
/* CRC-32C computed bit by bit: the tests' own, independent of the subject's. */
uint32_t ipct_crc32c(const void *buf, size_t len);

/* Called by the fixture: close what the test left open. */
void ipct__framing_teardown(bool stuck);

#endif
