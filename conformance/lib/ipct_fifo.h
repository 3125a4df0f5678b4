/* SPDX-License-Identifier: MIT */
/*
 * ipct for the fifo mechanism (spec/fifo.h). Included by ipct.h.
 *
 * Paths from ipct_fifo_path() are unlinked by the fixture, and handles opened
 * through ipct_fifo_open() are closed by it, even when the test failed. A
 * forked party inherits those handles as a child inherits descriptors: it
 * calls ipct_fifo_keep() first, which closes the ones it does not use (in
 * its own copy only), or end of file and -ENXIO never come.
 */
#ifndef IPCSPEC_IPCT_FIFO_H
#define IPCSPEC_IPCT_FIFO_H

#include <stdbool.h>

#include "fifo.h"

/* The fifo operations of the subject (BROKEN if it is not a fifo subject). */
const struct ipc_fifo_ops *ipct_fifo(void);
/* A fresh absolute path, $TMPDIR (or /tmp) + ipct_name(); nothing is made. */
const char *ipct_fifo_path(void);
/* A fresh path with a FIFO made there (mode). A file system that cannot
 * hold FIFOs (-EPERM, -EOPNOTSUPP) makes the clause UNSUPPORTED, with the
 * reason; any other failure is BROKEN. */
const char *ipct_fifo_make(uint32_t mode);
/* open() with the handle tracked on success: the subject's return code. */
int ipct_fifo_open(const char *path, uint32_t flags, struct ipc_pipe **out);
/* Setup open: the handle, or BROKEN. */
struct ipc_pipe *ipct_fifo_open_ok(const char *path, uint32_t flags);
/* Setup (IPC_FIFO_CAP_NONBLOCK): open a reader non-blocking, then a writer
 * non-blocking, so neither waits; BROKEN on failure. */
void ipct_fifo_pair(const char *path, struct ipc_pipe **rd, struct ipc_pipe **wr);
/* The pipe view's create() under a fresh harness name (returned), handles
 * tracked; the fixture calls the view's unlink(name) afterwards. */
const char *ipct_fifo_view(uint32_t flags, struct ipc_pipe **rd, struct ipc_pipe **wr);
/* Close a tracked handle (0 or the subject's error); it is forgotten. */
int ipct_fifo_close(struct ipc_pipe *h);
/* In any party: keep a and b (either may be NULL). A forked party closes
 * every other tracked handle it inherited; a thread party closes nothing. */
void ipct_fifo_keep(struct ipc_pipe *a, struct ipc_pipe *b);
/* Called by the fixture: close what the test left open, remove its paths. */
void ipct__fifo_teardown(bool stuck);

#define FIFO ipct_fifo()
#define FIFO_IO ipct_fifo()->pipe

/* A party that keeps rd, reads one byte from it inside a marked call and
 * exits with that byte as its status (255 when the read fails). */
int ipct_fifo_read_byte_party(void *rd);

#endif
