/* SPDX-License-Identifier: MIT */
/*
 * ipct for the msgpipe mechanism (spec/msgpipe.h): setup wrappers whose
 * servers and handles the fixture closes after the test, even when it
 * failed, and whose names it unlinks. Included by ipct.h.
 *
 * Cross-process tests fork with ipct_process_start(): the child inherits the
 * test's descriptors; a child that connects by name makes its own instance.
 */
#ifndef IPCSPEC_IPCT_MSGPIPE_H
#define IPCSPEC_IPCT_MSGPIPE_H

#include <stdbool.h>

#include "msgpipe.h"

const struct ipc_msgpipe_ops *ipct_msgpipe(void);

/* A fresh name that the fixture unlinks after the test (for names a test
 * creates or connects to itself). */
const char *ipct_msgpipe_name(void);
/* Create a server on a fresh name with flags and max_msg (0: default);
 * BROKEN on failure. Returns the name. */
const char *ipct_msgpipe_listen(uint32_t flags, size_t max_msg, struct ipc_msgpipe_server **srv);
/* Connect to name (BROKEN on failure); the fixture closes the handle. */
struct ipc_msgpipe *ipct_msgpipe_connect(const char *name, uint32_t flags);
/* Accept within a few seconds (BROKEN on failure or timeout). */
struct ipc_msgpipe *ipct_msgpipe_accept(struct ipc_msgpipe_server *srv);
/* A server, one client connected and accepted: *cli and *srv_end are the
 * two ends of one instance. Returns the name. */
const char *ipct_msgpipe_instance(uint32_t flags, size_t max_msg, struct ipc_msgpipe_server **srv,
				  struct ipc_msgpipe **cli, struct ipc_msgpipe **srv_end);
/* Close what was made here (the subject's result); it is forgotten. */
int ipct_msgpipe_close(struct ipc_msgpipe *h);
int ipct_msgpipe_server_close(struct ipc_msgpipe_server *srv);

/* Called by the fixture: close what the test left open, remove its names. */
void ipct__msgpipe_teardown(bool stuck);

#define SAFE_SEND(h, buf, len) SAFE_RC(ipct_msgpipe()->send((h), (buf), (len)))
#define SAFE_RECV(h, buf, cap) SAFE_RC(ipct_msgpipe()->recv((h), (buf), (cap)))

#endif
