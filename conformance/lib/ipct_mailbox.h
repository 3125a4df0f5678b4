/* SPDX-License-Identifier: MIT */
/*
 * ipct for the mailbox mechanism (spec/mailbox.h): setup wrappers whose
 * handles the fixture closes after the test, even when it failed, and whose
 * names it unlinks. Included by ipct.h.
 *
 * Cross-process tests fork with ipct_process_start(): a child opens the
 * name itself (handles are not assumed to survive fork) and closes what it
 * opened before it returns.
 */
#ifndef IPCSPEC_IPCT_MAILBOX_H
#define IPCSPEC_IPCT_MAILBOX_H

#include <stdbool.h>

#include "mailbox.h"

const struct ipc_mailbox_ops *ipct_mailbox(void);

/* A fresh name that the fixture unlinks after the test. */
const char *ipct_mailbox_name(void);
/* Create a mailbox on a fresh name: capacity (0, n or
 * IPC_MAILBOX_UNBOUNDED), max_msg (0: 4096), mode 0600, no mem_limit;
 * UNSUPPORTED when the subject lacks that capacity's capability, BROKEN on
 * another failure. Returns the name. */
const char *ipct_mailbox_create(size_t capacity, size_t max_msg);
/* The same with a whole attr (mode, mem_limit). */
const char *ipct_mailbox_create_attr(const struct ipc_mailbox_attr *attr);
/* Open name with flags (BROKEN on failure); the fixture closes the handle. */
struct ipc_mailbox *ipct_mailbox_open(const char *name, uint32_t flags);
/* Close a handle made here (the subject's result); it is forgotten. */
int ipct_mailbox_close(struct ipc_mailbox *h);
/* The party's id (BROKEN on failure). */
ipc_mailbox_id ipct_mailbox_id(struct ipc_mailbox *h);

/* Called by the fixture: close what the test left open, remove its names. */
void ipct__mailbox_teardown(bool stuck);

#define IPCT_MAILBOX_BOTH (IPC_MAILBOX_SEND | IPC_MAILBOX_RECV)

/* Setup steps: the call must succeed (BROKEN otherwise). */
#define SAFE_MB_SEND(h, msg, len) SAFE_RC(ipct_mailbox()->send((h), (msg), (len), -1))
#define SAFE_MB_RECV(h, buf, cap) SAFE_RC(ipct_mailbox()->recv((h), (buf), (cap), -1))

#endif
